//! The evaluation files of a run folder: `val_gt.json`, `detections.json` and `eval.json`,
//! written last (and `eval.json` atomically), so a folder with a readable `eval.json` holds a
//! finished run.

use crate::eval::HeldOutEval;
use anyhow::{Context, Result, anyhow};
use std::path::Path;

/// What a run's `eval.json` says (the fields a sweep's results table reads).
#[derive(Clone, Debug, PartialEq)]
pub struct EvalRecord {
    /// The dataset SPEC the run trained on.
    pub dataset: String,
    /// Held-out images asked for (`--eval-images`).
    pub eval_images: usize,
    /// Training steps done.
    pub steps: u64,
    /// Training time in seconds (without the final evaluation).
    pub train_seconds: f64,
    /// The 12 COCO stats in pycocotools' order ([`crate::eval::STAT_NAMES`]).
    pub stats: [f64; 12],
}

/// Writes DIR/val_gt.json, DIR/detections.json and then DIR/eval.json (through a temporary
/// file renamed into place) of a held-out evaluation.
pub fn write_eval_files(out: &Path, ev: &HeldOutEval, record: &EvalRecord) -> Result<()> {
    let write = |name: &str, text: String| {
        std::fs::write(out.join(name), text)
            .with_context(|| format!("{}: cannot write {name}", out.display()))
    };
    write("val_gt.json", serde_json::to_string(&ev.gt)?)?;
    write("detections.json", serde_json::to_string(&ev.dets)?)?;
    let eval = serde_json::json!({
        "dataset": record.dataset,
        "held_out_images": ev.gt.images.len(),
        "eval_images": record.eval_images,
        "steps": record.steps,
        "train_seconds": record.train_seconds,
        "stats": ev.summary.stats,
        "stat_names": crate::eval::STAT_NAMES,
        "per_class": ev.summary.per_class,
        "ap": ev.summary.ap(),
        "ap50": ev.summary.ap50(),
        "ap75": ev.summary.ap75(),
        "note": "pycocotools' COCOeval (bbox) of val_gt.json and detections.json",
    });
    write("eval.json.tmp", serde_json::to_string_pretty(&eval)?)?;
    std::fs::rename(out.join("eval.json.tmp"), out.join("eval.json"))
        .with_context(|| format!("{}: cannot write eval.json", out.display()))
}

/// Reads a run's `eval.json`; errors name the file and the missing or malformed field.
pub fn read_eval_file(path: &Path) -> Result<EvalRecord> {
    let p = path.display();
    let text = std::fs::read_to_string(path).with_context(|| format!("{p}: cannot read"))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| anyhow!("{p}: not JSON: {e}"))?;
    let field = |k: &str| v.get(k).ok_or_else(|| anyhow!("{p}: no field '{k}'"));
    let uint = |k: &str| {
        field(k)?
            .as_u64()
            .ok_or_else(|| anyhow!("{p}: '{k}' must be a non-negative integer"))
    };
    let stats: Vec<f64> = field("stats")?
        .as_array()
        .and_then(|a| a.iter().map(|x| x.as_f64()).collect())
        .ok_or_else(|| anyhow!("{p}: 'stats' must be an array of numbers"))?;
    let stats: [f64; 12] = stats
        .try_into()
        .map_err(|s: Vec<f64>| anyhow!("{p}: 'stats' has {} values, not 12", s.len()))?;
    Ok(EvalRecord {
        dataset: field("dataset")?
            .as_str()
            .ok_or_else(|| anyhow!("{p}: 'dataset' must be a string"))?
            .to_string(),
        eval_images: uint("eval_images")? as usize,
        steps: uint("steps")?,
        train_seconds: field("train_seconds")?
            .as_f64()
            .ok_or_else(|| anyhow!("{p}: 'train_seconds' must be a number"))?,
        stats,
    })
}
