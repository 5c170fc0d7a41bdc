//! A tiny writer of Python literals for MMDetection's config files: `dict(key=value, ...)`,
//! lists, strings, numbers, booleans and `None`, pretty-printed with 4-space indents.

/// A Python value of a config file.
#[derive(Clone, Debug, PartialEq)]
pub enum Py {
    /// `dict(k=v, ...)` in insertion order.
    Dict(Vec<(String, Py)>),
    /// `[a, b]`.
    List(Vec<Py>),
    /// `'text'`.
    Str(String),
    /// A float, always with a decimal point or exponent (`2.0`, `1e-05`).
    Float(f64),
    /// An integer.
    Int(i64),
    /// `True` / `False`.
    Bool(bool),
    /// `None`.
    None,
}

/// `dict(...)` from pairs.
pub fn dict<const N: usize>(pairs: [(&str, Py); N]) -> Py {
    Py::Dict(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

/// A `'string'`.
pub fn s(x: &str) -> Py {
    Py::Str(x.to_string())
}

/// A float.
pub fn f(x: f64) -> Py {
    Py::Float(x)
}

/// A float from an f32 setting, in its shortest decimal form (0.4, not 0.4000000059604645).
pub fn f32v(x: f32) -> Py {
    Py::Float(x.to_string().parse().unwrap_or(x as f64))
}

/// An integer.
pub fn i(x: i64) -> Py {
    Py::Int(x)
}

impl Py {
    /// Adds (or replaces) `key` of a dict; other values are left as they are.
    pub fn set(&mut self, key: &str, v: Py) {
        if let Py::Dict(d) = self {
            match d.iter_mut().find(|(k, _)| k == key) {
                Some(e) => e.1 = v,
                None => d.push((key.to_string(), v)),
            }
        }
    }

    /// The Python text, nested dicts on their own lines indented by `indent` levels.
    pub fn render(&self, indent: usize) -> String {
        match self {
            Py::Dict(d) if d.is_empty() => "dict()".into(),
            Py::Dict(d) => {
                let pad = "    ".repeat(indent + 1);
                let flat: Vec<String> = d
                    .iter()
                    .map(|(k, v)| format!("{k}={}", v.render(indent + 1)))
                    .collect();
                let one = format!("dict({})", flat.join(", "));
                if one.len() <= 72 && !one.contains('\n') {
                    one
                } else {
                    let body: Vec<String> = flat.iter().map(|x| format!("{pad}{x}")).collect();
                    format!("dict(\n{},\n{})", body.join(",\n"), "    ".repeat(indent))
                }
            }
            Py::List(l) => {
                let items: Vec<String> = l.iter().map(|v| v.render(indent + 1)).collect();
                let one = format!("[{}]", items.join(", "));
                if one.len() <= 72 && !one.contains('\n') {
                    one
                } else {
                    let pad = "    ".repeat(indent + 1);
                    let body: Vec<String> = items.iter().map(|x| format!("{pad}{x}")).collect();
                    format!("[\n{},\n{}]", body.join(",\n"), "    ".repeat(indent))
                }
            }
            Py::Str(x) => format!("'{}'", x.replace('\\', "\\\\").replace('\'', "\\'")),
            Py::Float(x) if x.is_nan() => "float('nan')".into(),
            Py::Float(x) if x.is_infinite() => if *x > 0.0 {
                "float('inf')"
            } else {
                "float('-inf')"
            }
            .into(),
            Py::Float(x) => {
                let t = format!("{x:?}");
                if t.contains(['.', 'e', 'E']) {
                    t
                } else {
                    format!("{t}.0")
                }
            }
            Py::Int(x) => x.to_string(),
            Py::Bool(b) => if *b { "True" } else { "False" }.into(),
            Py::None => "None".into(),
        }
    }
}
