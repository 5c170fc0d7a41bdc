//! `anchorscope eval --gt GT.json --dt RESULTS.json [--json]`: COCO box evaluation of any
//! detector's results. Prints pycocotools' 12 summary lines and each class's AP, or with
//! `--json` `{"stats": [12], "per_class": [...], "tide": {...}}`. Warnings go to stderr.

use crate::eval::{CocoEvaluation, files};
use anyhow::{Result, anyhow};
use std::path::PathBuf;

/// Arguments of `anchorscope eval`.
#[derive(clap::Args, Debug)]
pub struct EvalArgs {
    /// Ground truth, COCO format (`images`, `annotations`, `categories`).
    #[arg(long)]
    pub gt: PathBuf,
    /// Detections, COCO results format (a list of `image_id`, `category_id`, `bbox`, `score`).
    #[arg(long)]
    pub dt: PathBuf,
    /// Print JSON instead of the summary lines.
    #[arg(long)]
    pub json: bool,
}

/// Evaluates `dt` against `gt`: the report as JSON, and the warnings.
pub fn evaluate_files(
    gt: &std::path::Path,
    dt: &std::path::Path,
) -> Result<(CocoEvaluation, Vec<String>)> {
    let (gt_file, mut warnings) = files::read_gt(gt).map_err(|e| anyhow!(e))?;
    let (dets, w) = files::read_results(dt, &gt_file, gt).map_err(|e| anyhow!(e))?;
    warnings.extend(w);
    let ev = CocoEvaluation::new(&gt_file, &dets).map_err(|e| anyhow!(e))?;
    Ok((ev, warnings))
}

/// The `--json` document of an evaluation.
pub fn report_json(ev: &CocoEvaluation) -> Result<serde_json::Value> {
    let t = ev.tide().map_err(|e| anyhow!(e))?;
    Ok(serde_json::json!({
        "stats": ev.stats(),
        "per_class": ev.per_class(),
        "tide": {
            "cls": t.cls, "loc": t.loc, "both": t.both,
            "dupe": t.dupe, "bkg": t.bkg, "miss": t.miss,
        },
    }))
}

/// Runs `anchorscope eval`.
pub fn run(args: &EvalArgs) -> Result<()> {
    let (ev, warnings) = evaluate_files(&args.gt, &args.dt)?;
    for w in &warnings {
        eprintln!("anchorscope: warning: {w}");
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report_json(&ev)?)?);
        return Ok(());
    }
    for line in ev.summary_lines() {
        println!("{line}");
    }
    println!();
    println!(
        "{:<16} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>7}",
        "class", "AP", "AP50", "AP75", "APs", "APm", "APl", "AR100", "GT"
    );
    for c in ev.per_class() {
        println!(
            "{:<16} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>7}",
            c.name, c.ap, c.ap50, c.ap75, c.aps, c.apm, c.apl, c.ar100, c.num_gt
        );
    }
    Ok(())
}
