//! Names of the runs of a sweep and labels of the values they vary.
//!
//! A run is called `NN-PART_PART...`: its number in the sweep (zero-padded, at least two
//! digits), then one part per axis of its grid point: `gamma2` for `cls_loss.gamma = 2.0`,
//! `lr0.01` (floats to at most 4 decimals), `balanced_fpn` / `no-balanced_fpn` for a boolean, and for a table its `name`
//! or `kind` then each other parameter (`focal-alpha0.25-gamma2`). Characters other than
//! ASCII letters, digits, `.`, `-` and `_` become `-`, so a name is a safe folder name.

use toml::Value;

/// Longest name (without the number) kept; the number keeps names unique.
const MAX_NAME: usize = 100;

/// A number in its shortest form: `2` for 2.0, `0.25`, `1e-5`.
pub fn number(x: f64) -> String {
    if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// A value as the results table shows it: scalars as they are, a table as its `name` /
/// `kind` followed by `key=value` of its other entries, an array as `[a b]`.
pub fn label(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Integer(i) => i.to_string(),
        Value::Float(f) => number(*f),
        Value::Boolean(b) => b.to_string(),
        Value::Datetime(d) => d.to_string(),
        Value::Array(a) => format!("[{}]", a.iter().map(label).collect::<Vec<_>>().join(" ")),
        Value::Table(t) => {
            let head = tag(t);
            let rest = t
                .iter()
                .filter(|(k, _)| head.is_none_or(|(hk, _)| hk != k.as_str()))
                .map(|(k, v)| match v {
                    Value::Table(_) => format!("{k}={{{}}}", label(v)),
                    _ => format!("{k}={}", label(v)),
                });
            head.map(|(_, h)| h.to_string())
                .into_iter()
                .chain(rest)
                .collect::<Vec<_>>()
                .join(" ")
        }
    }
}

/// A table's `name` or `kind` entry (the tag of losses and samplers).
fn tag(t: &toml::Table) -> Option<(&'static str, &str)> {
    ["name", "kind"]
        .into_iter()
        .find_map(|k| t.get(k).and_then(Value::as_str).map(|s| (k, s)))
}

/// The part of a run name for `key = value`.
pub fn name_part(key: &str, v: &Value) -> String {
    let leaf = key.rsplit('.').next().unwrap_or(key);
    let raw = match v {
        Value::Boolean(true) => leaf.to_string(),
        Value::Boolean(false) => format!("no-{leaf}"),
        Value::Table(t) => {
            let head = tag(t);
            head.map(|(_, h)| h.to_string())
                .into_iter()
                .chain(
                    t.iter()
                        .filter(|(k, _)| head.is_none_or(|(hk, _)| hk != k.as_str()))
                        .map(|(k, v)| format!("{k}{}", name_value(v))),
                )
                .collect::<Vec<_>>()
                .join("-")
        }
        Value::String(s) => s.clone(),
        other => format!("{leaf}{}", name_value(other)),
    };
    sanitize(&raw)
}

/// A value in a name: floats to at most 4 decimals (`0.1111` for 1/9; `1e-5` stays), the
/// rest as [`label`].
fn name_value(v: &Value) -> String {
    match v {
        Value::Float(x) if x.abs() >= 1e-3 || *x == 0.0 => {
            let s = format!("{x:.4}");
            let s = s.trim_end_matches('0').trim_end_matches('.');
            s.to_string()
        }
        other => label(other),
    }
}

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// The name of run `index` of `total` at the grid point `point`.
pub fn run_name(index: usize, total: usize, point: &[(String, Value)]) -> String {
    let width = total.saturating_sub(1).to_string().len().max(2);
    let mut parts = point
        .iter()
        .map(|(k, v)| name_part(k, v))
        .collect::<Vec<_>>()
        .join("_");
    if parts.len() > MAX_NAME {
        parts.truncate(MAX_NAME);
    }
    if parts.is_empty() {
        format!("{index:0width$}")
    } else {
        format!("{index:0width$}-{parts}")
    }
}
