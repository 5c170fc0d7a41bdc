//! The ultralytics `data.yaml`: `path` (the dataset root, relative to the YAML file's folder;
//! default that folder), `train`, `val` and optional `test` (each a folder of images, a `.txt`
//! list of image paths, or a list of those, relative to the root), `names` (a list, or a map
//! from 0-based class to name) and optional `nc`.

use crate::data::files::Split;
use crate::data::report::{Code, Report};
use serde_norway::Value;
use std::path::{Path, PathBuf};

/// A parsed `data.yaml`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DataYaml {
    /// The dataset root.
    pub root: PathBuf,
    /// Image sources of each split (folders or list files), resolved against the root.
    pub splits: Vec<(Split, Vec<PathBuf>)>,
    /// Class names, class `k` is `names[k]`.
    pub names: Vec<String>,
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Parses `data.yaml` text; `path` is the file (for the report and to resolve `path:`).
pub fn parse(text: &str, path: &Path, report: &mut Report) -> Result<DataYaml, ()> {
    let doc: Value = match serde_norway::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            let rec = e
                .location()
                .map(|l| format!("line {}", l.line()))
                .unwrap_or_default();
            let msg = e.to_string().replace('\n', " ");
            report.push(
                Code::FileMalformed,
                path,
                rec,
                format!("not YAML: {msg}; file dropped"),
            );
            return Err(());
        }
    };
    let Value::Mapping(map) = doc else {
        report.push(
            Code::FileMalformed,
            path,
            "",
            "the top level is not a mapping; file dropped",
        );
        return Err(());
    };
    let get = |k: &str| map.get(Value::String(k.into()));
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let root = match get("path") {
        None | Some(Value::Null) => dir.clone(),
        Some(v) => match scalar(v) {
            Some(p) => dir.join(p),
            None => {
                report.push(
                    Code::FieldType,
                    path,
                    "path",
                    "`path` is not a string; the YAML file's folder is used",
                );
                dir.clone()
            }
        },
    };
    let mut splits = Vec::new();
    for (key, split) in [
        ("train", Split::Train),
        ("val", Split::Val),
        ("test", Split::Test),
    ] {
        let srcs = match get(key) {
            None | Some(Value::Null) => continue,
            Some(Value::Sequence(items)) => items.iter().map(scalar).collect::<Option<Vec<_>>>(),
            Some(v) => scalar(v).map(|s| vec![s]),
        };
        match srcs {
            Some(s) => splits.push((split, s.into_iter().map(|p| root.join(p)).collect())),
            None => report.push(
                Code::FieldType,
                path,
                key,
                format!("`{key}` is not a path or a list of paths; split dropped"),
            ),
        }
    }
    let names = names(get("names"), path, report);
    if let Some(nc) = get("nc") {
        match nc.as_u64() {
            Some(n) if n as usize == names.len() => {}
            Some(n) => report.push(
                Code::NamesMismatch,
                path,
                "nc",
                format!(
                    "nc is {n} but there are {} names; the names win",
                    names.len()
                ),
            ),
            None => report.push(
                Code::FieldType,
                path,
                "nc",
                "`nc` is not a non-negative integer; ignored",
            ),
        }
    }
    if names.is_empty() {
        report.push(
            Code::FieldType,
            path,
            "names",
            "no class names; file dropped",
        );
        return Err(());
    }
    Ok(DataYaml {
        root,
        splits,
        names,
    })
}

fn names(v: Option<&Value>, path: &Path, report: &mut Report) -> Vec<String> {
    match v {
        Some(Value::Sequence(items)) => items
            .iter()
            .enumerate()
            .map(|(k, n)| {
                scalar(n).unwrap_or_else(|| {
                    report.push(
                        Code::FieldType,
                        path,
                        format!("names[{k}]"),
                        "not a string; named `class{k}`",
                    );
                    format!("class{k}")
                })
            })
            .collect(),
        Some(Value::Mapping(m)) => {
            let mut pairs: Vec<(usize, String)> = Vec::new();
            for (k, n) in m {
                let key = k.as_u64().filter(|&i| i < 100_000);
                match (key, scalar(n)) {
                    (Some(i), Some(n)) => pairs.push((i as usize, n)),
                    _ => {
                        let kk = scalar(k).unwrap_or_else(|| "?".into());
                        report.push(
                            Code::FieldType,
                            path,
                            format!("names[{kk}]"),
                            "not `INDEX: NAME`; dropped",
                        );
                    }
                }
            }
            let n = pairs.iter().map(|p| p.0 + 1).max().unwrap_or(0);
            let mut out: Vec<String> = (0..n).map(|k| format!("class{k}")).collect();
            for (i, name) in pairs {
                out[i] = name;
            }
            out
        }
        None => Vec::new(),
        Some(_) => {
            report.push(
                Code::FieldType,
                path,
                "names",
                "`names` is not a list or a map",
            );
            Vec::new()
        }
    }
}
