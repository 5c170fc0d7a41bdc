//! Reading a ground-truth file and a results file for evaluation, with one-line errors that
//! name the file and the record (`annotations[17] (id 42): missing field `bbox``), and the
//! checks pycocotools leaves to asserts or exceptions: an image id the GT lacks, duplicate
//! ids, boxes that are not finite or have a negative size, scores that are not finite.

use super::records::{GtFile, ResultRecord};
use serde::de::DeserializeOwned;
use std::collections::HashSet;
use std::path::Path;

/// An evaluation input that cannot be used: one line naming the file and the record.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct EvalError(pub String);

fn read_text(path: &Path) -> Result<String, EvalError> {
    std::fs::read_to_string(path)
        .map_err(|e| EvalError(format!("{}: cannot read: {e}", path.display())))
}

/// The first record of `array` (named `what`) that does not deserialize as `T`.
fn first_bad_record<T: DeserializeOwned>(array: &serde_json::Value, what: &str) -> Option<String> {
    let items = array.as_array()?;
    items.iter().enumerate().find_map(|(i, v)| {
        serde_json::from_value::<T>(v.clone()).err().map(|e| {
            let id = v
                .get("id")
                .map(|id| format!(" (id {id})"))
                .unwrap_or_default();
            format!("{what}[{i}]{id}: {e}")
        })
    })
}

/// Why `text` does not parse as `T`: the failing record where one can be named, else serde's
/// message with its line and column.
/// A check that names the first bad record of a list.
type RecordCheck = fn(&serde_json::Value, &str) -> Option<String>;

fn locate(text: &str, err: serde_json::Error, records: &[(&str, RecordCheck)]) -> String {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else {
        return format!("not valid JSON: {err}");
    };
    for (key, check) in records {
        let array = if key.is_empty() {
            Some(&value)
        } else {
            value.get(*key)
        };
        if let Some(a) = array {
            if !key.is_empty() && !a.is_array() {
                return format!("`{key}` must be a list");
            }
            if let Some(msg) = check(a, key) {
                return msg;
            }
        }
    }
    err.to_string()
}

/// Parses and checks a ground-truth file's text; `origin` names it in errors.
pub fn parse_gt(text: &str, origin: &str) -> Result<(GtFile, Vec<String>), EvalError> {
    let gt: GtFile = serde_json::from_str(text).map_err(|e| {
        let msg = locate(
            text,
            e,
            &[
                ("images", first_bad_record::<super::records::GtImage>),
                (
                    "annotations",
                    first_bad_record::<super::records::GtAnnotation>,
                ),
                (
                    "categories",
                    first_bad_record::<super::records::CategoryRecord>,
                ),
            ],
        );
        EvalError(format!("{origin}: {msg}"))
    })?;
    let warnings = check_gt(&gt).map_err(|m| EvalError(format!("{origin}: {m}")))?;
    Ok((gt, warnings))
}

/// Checks ids, references and boxes of a ground truth; warnings for what evaluates anyway.
pub fn check_gt(gt: &GtFile) -> Result<Vec<String>, String> {
    let mut warnings = Vec::new();
    let mut images = HashSet::new();
    for (i, im) in gt.images.iter().enumerate() {
        if !images.insert(im.id) {
            return Err(format!("images[{i}]: duplicate image id {}", im.id));
        }
    }
    let mut cats = HashSet::new();
    for (i, c) in gt.categories.iter().enumerate() {
        if !cats.insert(c.id) {
            return Err(format!("categories[{i}]: duplicate category id {}", c.id));
        }
    }
    let mut ids = HashSet::new();
    for (i, a) in gt.annotations.iter().enumerate() {
        let at = format!("annotations[{i}] (id {})", a.id);
        if !images.contains(&a.image_id) {
            return Err(format!("{at}: image_id {} is not in `images`", a.image_id));
        }
        if !cats.contains(&a.category_id) {
            return Err(format!(
                "{at}: category_id {} is not in `categories`",
                a.category_id
            ));
        }
        check_box(&a.bbox).map_err(|m| format!("{at}: {m}"))?;
        if let Some(area) = a.area
            && !(area.is_finite() && area >= 0.0)
        {
            return Err(format!("{at}: area {area} is not a finite size"));
        }
        if a.id == 0 {
            warnings.push(format!(
                "{at}: annotation id 0 reads as \"unmatched\" inside pycocotools; its results may differ there"
            ));
        }
        if !ids.insert(a.id) {
            return Err(format!("{at}: duplicate annotation id {}", a.id));
        }
    }
    Ok(warnings)
}

fn check_box(b: &[f64; 4]) -> Result<(), String> {
    if b.iter().any(|v| !v.is_finite()) {
        return Err(format!("bbox {b:?} is not finite"));
    }
    if b[2] < 0.0 || b[3] < 0.0 {
        return Err(format!("bbox {b:?} has a negative width or height"));
    }
    Ok(())
}

/// Parses and checks a results file's text against `gt` (named `gt_origin` in errors).
pub fn parse_results(
    text: &str,
    origin: &str,
    gt: &GtFile,
    gt_origin: &str,
) -> Result<(Vec<ResultRecord>, Vec<String>), EvalError> {
    let dets: Vec<ResultRecord> = serde_json::from_str(text).map_err(|e| {
        let msg = match serde_json::from_str::<serde_json::Value>(text) {
            Ok(v) if !v.is_array() => {
                "expected a JSON list of detections ({\"image_id\", \"category_id\", \"bbox\", \"score\"})".to_string()
            }
            _ => locate(text, e, &[("", first_bad_record::<ResultRecord>)]),
        };
        EvalError(format!("{origin}: {msg}"))
    })?;
    let warnings =
        check_results(&dets, gt, gt_origin).map_err(|m| EvalError(format!("{origin}: {m}")))?;
    Ok((dets, warnings))
}

/// Checks detections against a ground truth: unknown images are errors (pycocotools asserts),
/// unknown classes a warning (they never match), an empty list a warning.
pub fn check_results(
    dets: &[ResultRecord],
    gt: &GtFile,
    gt_origin: &str,
) -> Result<Vec<String>, String> {
    let images: HashSet<u64> = gt.images.iter().map(|im| im.id).collect();
    let cats: HashSet<u64> = gt.categories.iter().map(|c| c.id).collect();
    let mut warnings = Vec::new();
    if dets.is_empty() {
        warnings.push(
            "no detections: every AP and AR is 0 (pycocotools raises IndexError here)".into(),
        );
    }
    let mut unknown_cats = 0usize;
    for (i, d) in dets.iter().enumerate() {
        if !images.contains(&d.image_id) {
            return Err(format!(
                "[{i}]: image_id {} is not in {gt_origin}",
                d.image_id
            ));
        }
        check_box(&d.bbox).map_err(|m| format!("[{i}]: {m}"))?;
        if !d.score.is_finite() {
            return Err(format!("[{i}]: score {} is not finite", d.score));
        }
        if !cats.contains(&d.category_id) {
            unknown_cats += 1;
        }
    }
    if unknown_cats > 0 {
        warnings.push(format!(
            "{unknown_cats} detection(s) have a category_id not in {gt_origin}; they never match"
        ));
    }
    Ok(warnings)
}

/// Reads and checks a ground-truth file.
pub fn read_gt(path: &Path) -> Result<(GtFile, Vec<String>), EvalError> {
    let origin = path.display().to_string();
    parse_gt(&read_text(path)?, &origin)
}

/// Reads and checks a results file against `gt`, read from `gt_path`.
pub fn read_results(
    path: &Path,
    gt: &GtFile,
    gt_path: &Path,
) -> Result<(Vec<ResultRecord>, Vec<String>), EvalError> {
    let origin = path.display().to_string();
    parse_results(
        &read_text(path)?,
        &origin,
        gt,
        &gt_path.display().to_string(),
    )
}
