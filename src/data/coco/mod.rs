//! COCO detection annotations (`instances_*.json`) parsed from memory.
//!
//! Conventions: `bbox` is `[x, y, width, height]` from the top-left corner in continuous pixel
//! coordinates, so the box is `[x, y, x + width, y + height]` (`xyxy`, no `+1`, as pycocotools
//! and torchvision read it). `iscrowd: 1` boxes become ignore regions. Classes are the
//! categories in increasing id order. Image files are `IMAGES_DIR/file_name` (by default the
//! folder holding the JSON file).
//!
//! Python's `json` writes `NaN` and `Infinity`, which are not JSON; they are read as
//! "not finite" so that only the record holding one is dropped ([`Code::NonFinite`]).

mod nonfinite;
#[cfg(test)]
mod tests;

use super::files::{RawBox, RawImage, Split};
use super::report::{Code, Report};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// The result of parsing one COCO file.
#[derive(Clone, Debug, Default)]
pub struct CocoFile {
    /// Category names in increasing id order.
    pub classes: Vec<String>,
    /// Category id of each class.
    pub category_ids: Vec<i64>,
    /// The images with their boxes.
    pub images: Vec<RawImage>,
    /// Number of annotation records in the file (kept or not).
    pub annotations: usize,
    /// The record of the image each annotation record names (`annotation id 7` ->
    /// `image id 3`), so a problem of a dropped annotation links to its image.
    pub annotation_images: HashMap<String, String>,
}

/// A JSON value read as a number: finite, not finite, or not a number at all.
enum Num {
    Finite(f64),
    NonFinite,
    Wrong,
}

fn num(v: Option<&Value>) -> Num {
    match v {
        Some(Value::Number(n)) => match n.as_f64() {
            Some(x) if x.is_finite() => Num::Finite(x),
            _ => Num::NonFinite,
        },
        Some(Value::String(s)) if nonfinite::is_marker(s) => Num::NonFinite,
        _ => Num::Wrong,
    }
}

/// An integer id (a JSON integer; `3.0`, `"3"` and missing ids are wrong).
fn int_id(v: Option<&Value>) -> Option<i64> {
    match v {
        Some(Value::Number(n)) => n.as_i64(),
        _ => None,
    }
}

fn describe(v: Option<&Value>) -> &'static str {
    match v {
        None => "missing",
        Some(Value::Null) => "null",
        Some(Value::Bool(_)) => "a boolean",
        Some(Value::Number(_)) => "a non-integer number",
        Some(Value::String(_)) => "a string",
        Some(Value::Array(_)) => "an array",
        Some(Value::Object(_)) => "an object",
    }
}

/// Parses COCO JSON text. `path` names the file in the report; image files are resolved
/// against `images_dir`. A file that is not a JSON object gives `Err` after reporting
/// [`Code::FileMalformed`].
pub fn parse(
    text: &str,
    path: &Path,
    images_dir: &Path,
    report: &mut Report,
) -> Result<CocoFile, ()> {
    let clean = nonfinite::mark(text);
    let root: Value = match serde_json::from_str(&clean) {
        Ok(v) => v,
        Err(e) => {
            let rec = format!("line {}", e.line());
            report.push(
                Code::FileMalformed,
                path,
                rec,
                format!("not JSON: {e}; file dropped"),
            );
            return Err(());
        }
    };
    let Value::Object(root) = root else {
        report.push(
            Code::FileMalformed,
            path,
            "",
            "the top level is not a JSON object; file dropped",
        );
        return Err(());
    };
    let mut out = CocoFile::default();
    let cats = categories(&root, path, report);
    let cat_index: HashMap<i64, usize> = cats
        .iter()
        .enumerate()
        .map(|(i, (id, _))| (*id, i))
        .collect();
    out.category_ids = cats.iter().map(|c| c.0).collect();
    out.classes = cats.into_iter().map(|c| c.1).collect();
    let (mut images, by_id) = images_of(&root, path, images_dir, report);
    let anns = array(&root, "annotations", path, report);
    out.annotations = anns.len();
    let mut seen = HashSet::new();
    for (k, a) in anns.iter().enumerate() {
        let Some(a) = a.as_object() else {
            report.push(
                Code::FieldType,
                path,
                format!("annotation index {k}"),
                "not an object; dropped",
            );
            continue;
        };
        let id = int_id(a.get("id"));
        let rec = match id {
            Some(id) => format!("annotation id {id}"),
            None => format!("annotation index {k}"),
        };
        if let Some(&img) = int_id(a.get("image_id")).and_then(|i| by_id.get(&i)) {
            let image_rec: &RawImage = &images[img];
            out.annotation_images
                .insert(rec.clone(), image_rec.record.clone());
        }
        if let Some(b) = annotation(a, id, &rec, path, &cat_index, &by_id, &mut seen, report) {
            images[b.0].boxes.push(b.1);
        }
    }
    out.images = images;
    Ok(out)
}

/// The array at `root[key]`; missing or not an array is reported and read as empty.
fn array<'a>(
    root: &'a Map<String, Value>,
    key: &str,
    path: &Path,
    report: &mut Report,
) -> &'a [Value] {
    match root.get(key) {
        Some(Value::Array(a)) => a,
        v => {
            let what = describe(v);
            report.push(
                Code::FieldType,
                path,
                key,
                format!("`{key}` is {what}, expected an array; read as empty"),
            );
            &[]
        }
    }
}

fn categories(root: &Map<String, Value>, path: &Path, report: &mut Report) -> Vec<(i64, String)> {
    let mut cats: Vec<(i64, String)> = Vec::new();
    let mut seen = HashSet::new();
    for (k, c) in array(root, "categories", path, report).iter().enumerate() {
        let id = int_id(c.get("id"));
        let rec = id.map_or(format!("category index {k}"), |id| {
            format!("category id {id}")
        });
        let (Some(id), Some(name)) = (id, c.get("name").and_then(Value::as_str)) else {
            let what = if id.is_none() {
                "`id` is not an integer"
            } else {
                "`name` is not a string"
            };
            report.push(
                Code::FieldType,
                path,
                rec,
                format!("{what}; category dropped"),
            );
            continue;
        };
        if !seen.insert(id) {
            report.push(
                Code::IdDuplicate,
                path,
                rec,
                "repeated category id; the later one dropped",
            );
            continue;
        }
        cats.push((id, name.to_string()));
    }
    cats.sort_by_key(|c| c.0);
    cats
}

fn images_of(
    root: &Map<String, Value>,
    path: &Path,
    images_dir: &Path,
    report: &mut Report,
) -> (Vec<RawImage>, HashMap<i64, usize>) {
    let mut images = Vec::new();
    let mut by_id = HashMap::new();
    for (k, im) in array(root, "images", path, report).iter().enumerate() {
        let id = int_id(im.get("id"));
        let rec = id.map_or(format!("image index {k}"), |id| format!("image id {id}"));
        let Some(id) = id else {
            let what = describe(im.get("id"));
            report.push(
                Code::FieldType,
                path,
                rec,
                format!("`id` is {what}, expected an integer; image dropped"),
            );
            continue;
        };
        let Some(file) = im.get("file_name").and_then(Value::as_str) else {
            let what = describe(im.get("file_name"));
            report.push(
                Code::FieldType,
                path,
                rec,
                format!("`file_name` is {what}, expected a string; image dropped"),
            );
            continue;
        };
        if by_id.contains_key(&id) {
            report.push(
                Code::IdDuplicate,
                path,
                rec,
                "repeated image id; the later one dropped",
            );
            continue;
        }
        let dim = |key: &str, report: &mut Report| match num(im.get(key)) {
            Num::Finite(x) if x >= 1.0 && x.fract() == 0.0 && x <= u32::MAX as f64 => {
                Some(x as u32)
            }
            Num::NonFinite => {
                report.push(
                    Code::NonFinite,
                    path,
                    rec.clone(),
                    format!("`{key}` is not finite; size taken from the image"),
                );
                None
            }
            _ if im.get(key).is_none() => None,
            _ => {
                report.push(
                    Code::FieldType,
                    path,
                    rec.clone(),
                    format!("`{key}` is not a positive integer; size taken from the image"),
                );
                None
            }
        };
        let (w, h) = (dim("width", report), dim("height", report));
        if im.get("width").is_none() || im.get("height").is_none() {
            report.push(
                Code::SizeMissing,
                path,
                rec.clone(),
                "no `width` / `height`; size taken from the image",
            );
        }
        by_id.insert(id, images.len());
        images.push(RawImage {
            file: join(images_dir, file),
            ann_file: path.to_path_buf(),
            record: rec,
            declared: w.zip(h),
            boxes: Vec::new(),
            split: Split::Train,
        });
    }
    (images, by_id)
}

/// An image path inside `dir`; `file_name` uses `/` separators.
fn join(dir: &Path, file_name: &str) -> PathBuf {
    let mut p = dir.to_path_buf();
    for part in file_name.split(['/', '\\']).filter(|s| !s.is_empty()) {
        p.push(part);
    }
    p
}

#[allow(clippy::too_many_arguments)]
fn annotation(
    a: &Map<String, Value>,
    id: Option<i64>,
    rec: &str,
    path: &Path,
    cat_index: &HashMap<i64, usize>,
    by_id: &HashMap<i64, usize>,
    seen: &mut HashSet<i64>,
    report: &mut Report,
) -> Option<(usize, RawBox)> {
    let mut bad = |code: Code, msg: String| {
        report.push(code, path, rec, msg);
        None
    };
    let Some(id) = id else {
        let what = describe(a.get("id"));
        return bad(
            Code::FieldType,
            format!("`id` is {what}, expected an integer; dropped"),
        );
    };
    if !seen.insert(id) {
        return bad(
            Code::IdDuplicate,
            "repeated annotation id; the later one dropped".into(),
        );
    }
    let Some(image_id) = int_id(a.get("image_id")) else {
        let what = describe(a.get("image_id"));
        return bad(
            Code::FieldType,
            format!("`image_id` is {what}, expected an integer; dropped"),
        );
    };
    let Some(cat) = int_id(a.get("category_id")) else {
        let what = describe(a.get("category_id"));
        return bad(
            Code::FieldType,
            format!("`category_id` is {what}, expected an integer; dropped"),
        );
    };
    let mut xywh = [0.0f64; 4];
    match a.get("bbox") {
        Some(Value::Array(v)) if v.len() == 4 => {
            for (k, x) in v.iter().enumerate() {
                match num(Some(x)) {
                    Num::Finite(x) => xywh[k] = x,
                    Num::NonFinite => {
                        return bad(
                            Code::NonFinite,
                            "`bbox` holds NaN or Infinity; dropped".into(),
                        );
                    }
                    Num::Wrong => {
                        return bad(Code::FieldType, "`bbox` is not 4 numbers; dropped".into());
                    }
                }
            }
        }
        _ => return bad(Code::FieldType, "`bbox` is not 4 numbers; dropped".into()),
    }
    let crowd = match a.get("iscrowd") {
        None => false,
        Some(v) => match v.as_i64() {
            Some(0) => false,
            Some(1) => true,
            _ => return bad(Code::FieldType, "`iscrowd` is not 0 or 1; dropped".into()),
        },
    };
    let Some(&img) = by_id.get(&image_id) else {
        return bad(
            Code::ImageIdUnknown,
            format!("image_id {image_id} is not an image; dropped"),
        );
    };
    let Some(&class) = cat_index.get(&cat) else {
        return bad(
            Code::ClassUnknown,
            format!("category_id {cat} is not a category; dropped"),
        );
    };
    if xywh[2] <= 0.0 || xywh[3] <= 0.0 {
        return bad(
            Code::BoxDegenerate,
            format!("width {} x height {}; dropped", xywh[2], xywh[3]),
        );
    }
    if id == 0 {
        report.push(
            Code::AnnotationIdZero,
            path,
            rec,
            "annotation id 0 (pycocotools treats id 0 as unmatched); kept",
        );
    }
    let [x, y, w, h] = xywh.map(|v| v as f32);
    Some((
        img,
        RawBox {
            bbox: [x, y, x + w, y + h],
            class,
            ignore: crowd,
            record: rec.to_string(),
            normalized: false,
        },
    ))
}
