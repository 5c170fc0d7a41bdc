//! Crossing a grid: the `[grid]` table (or each `[[grid]]` table) of a sweep file, flattened
//! to axes (dotted key, values), crossed into points, each point merged into the base table.
//!
//! Order (documented, tested): the axes of one grid are sorted by their dotted key (TOML
//! tables carry no order here) and crossed row-major, so the first key varies slowest and
//! the last fastest; the points of several `[[grid]]` tables follow one another in file order.
//! Everything works on plain TOML values: the run's settings are parsed afterwards by the
//! training config parser, which names what is wrong.

use toml::{Table, Value};

/// One varied setting: its dotted key (`model.balanced_fpn`) and the values it takes.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    /// Dotted key path into the run's settings.
    pub key: String,
    /// The values, in file order.
    pub values: Vec<Value>,
}

/// One grid point: for each axis of its grid, the key and the value it takes.
pub type Point = Vec<(String, Value)>;

/// The axes of one grid table: every array leaf is an axis (tables are walked into, so
/// `model.balanced_fpn = [false, true]` and `[grid.model] balanced_fpn = [...]` are the same
/// axis). Errors name `origin` and the key: a leaf that is not an array, an empty array.
pub fn axes(grid: &Table, origin: &str) -> Result<Vec<Axis>, String> {
    let mut out = Vec::new();
    walk(grid, "", origin, &mut out)?;
    if out.is_empty() {
        return Err(format!("{origin}: the grid has no key to vary"));
    }
    Ok(out)
}

fn walk(t: &Table, prefix: &str, origin: &str, out: &mut Vec<Axis>) -> Result<(), String> {
    for (k, v) in t {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            Value::Table(sub) => walk(sub, &key, origin, out)?,
            Value::Array(values) if values.is_empty() => {
                return Err(format!(
                    "{origin}: [grid] {key}: no values (an empty array)"
                ));
            }
            Value::Array(values) => out.push(Axis {
                key,
                values: values.clone(),
            }),
            other => {
                return Err(format!(
                    "{origin}: [grid] {key}: must be an array of the values to try, got {other}"
                ));
            }
        }
    }
    Ok(())
}

/// The points of crossed axes, row-major: the first axis varies slowest.
pub fn cross(axes: &[Axis]) -> Vec<Point> {
    let mut points: Vec<Point> = vec![Vec::new()];
    for a in axes {
        points = points
            .into_iter()
            .flat_map(|p| {
                a.values.iter().map(move |v| {
                    let mut q = p.clone();
                    q.push((a.key.clone(), v.clone()));
                    q
                })
            })
            .collect();
    }
    points
}

/// Sets `key` (dotted) to `value` in `table`, creating sub-tables on the way; a value already
/// there is replaced whole (a loss table of the grid does not inherit the base loss's
/// parameters). Errs when a key on the way holds a non-table value.
pub fn set_path(table: &mut Table, key: &str, value: Value) -> Result<(), String> {
    let mut parts: Vec<&str> = key.split('.').collect();
    let last = parts.pop().unwrap_or(key);
    let mut t = table;
    let mut walked = String::new();
    for p in parts {
        if !walked.is_empty() {
            walked.push('.');
        }
        walked.push_str(p);
        let entry = t
            .entry(p.to_string())
            .or_insert_with(|| Value::Table(Table::new()));
        t = match entry {
            Value::Table(sub) => sub,
            other => {
                return Err(format!(
                    "{key}: {walked} is {}, not a table",
                    other.type_str()
                ));
            }
        };
    }
    t.insert(last.to_string(), value);
    Ok(())
}

/// The value at dotted `key` in `table`, if any.
pub fn get_path<'a>(table: &'a Table, key: &str) -> Option<&'a Value> {
    let mut parts = key.split('.');
    let mut v = table.get(parts.next()?)?;
    for p in parts {
        v = v.as_table()?.get(p)?;
    }
    Some(v)
}

/// `base` with every (key, value) of `point` set, in order.
pub fn merge(base: &Table, point: &Point) -> Result<Table, String> {
    let mut t = base.clone();
    for (k, v) in point {
        set_path(&mut t, k, v.clone())?;
    }
    Ok(t)
}
