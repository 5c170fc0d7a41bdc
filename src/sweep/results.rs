//! The results table of a sweep: one row a run, written as `results.csv` (every number in
//! its shortest round-trip form) and `results.md` (rounded, for reading).
//!
//! Columns: `run`, one per varied setting (its dotted key), `ap`, `ap50`, `ap75`, `aps`,
//! `apm`, `apl`, `ar100` (COCO stats 0-5 and 8 of the run's `eval.json`), `loss_cls`,
//! `loss_reg`, `share_pos` (the last row of its `metrics.csv`), `steps` and `seconds`
//! (training time, from `eval.json`). A COCO stat of -1 (no ground truth in that area
//! range) stays -1 in the CSV and is `-` in the Markdown.

use crate::train::StepMetrics;
use crate::train::run::read_eval_file;
use anyhow::{Result, anyhow};
use std::path::Path;

/// Names of the figure columns after the settings, in order.
pub const FIGURE_COLUMNS: [&str; 12] = [
    "ap",
    "ap50",
    "ap75",
    "aps",
    "apm",
    "apl",
    "ar100",
    "loss_cls",
    "loss_reg",
    "share_pos",
    "steps",
    "seconds",
];

/// Indices into the 12 COCO stats of the AP / AR columns.
const STAT_INDEX: [usize; 7] = [0, 1, 2, 3, 4, 5, 8];

/// One finished run.
#[derive(Clone, Debug, PartialEq)]
pub struct ResultRow {
    /// The run's name (its folder).
    pub run: String,
    /// The label of each varied setting, in column order.
    pub settings: Vec<String>,
    /// AP, AP50, AP75, APs, APm, APl, AR100.
    pub stats: [f64; 7],
    /// Last step's classification loss (NaN when no step was trained).
    pub loss_cls: f64,
    /// Last step's regression loss.
    pub loss_reg: f64,
    /// Last step's share of the classification loss from positives.
    pub share_pos: f64,
    /// Steps trained.
    pub steps: u64,
    /// Training time in seconds.
    pub seconds: f64,
}

impl ResultRow {
    /// The row of the run in `dir` (its `eval.json` and `metrics.csv`).
    pub fn read(dir: &Path, run: &str, settings: Vec<String>) -> Result<Self> {
        let ev = read_eval_file(&dir.join("eval.json"))?;
        let last = StepMetrics::last_in_file(&dir.join("metrics.csv")).map_err(|e| anyhow!(e))?;
        let nan = f64::NAN;
        Ok(Self {
            run: run.to_string(),
            settings,
            stats: STAT_INDEX.map(|i| ev.stats[i]),
            loss_cls: last.as_ref().map_or(nan, |m| m.loss_cls),
            loss_reg: last.as_ref().map_or(nan, |m| m.loss_reg),
            share_pos: last.as_ref().map_or(nan, |m| m.share_pos),
            steps: ev.steps,
            seconds: ev.train_seconds,
        })
    }
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// `results.csv`: the header, then one line a row.
pub fn to_csv(setting_columns: &[String], rows: &[ResultRow]) -> String {
    let header: Vec<String> = std::iter::once("run".to_string())
        .chain(setting_columns.iter().cloned())
        .chain(FIGURE_COLUMNS.iter().map(|s| s.to_string()))
        .collect();
    let mut out = header
        .iter()
        .map(|h| csv_field(h))
        .collect::<Vec<_>>()
        .join(",");
    out.push('\n');
    for r in rows {
        let mut cells: Vec<String> = vec![csv_field(&r.run)];
        cells.extend(r.settings.iter().map(|s| csv_field(s)));
        cells.extend(r.stats.iter().map(|x| x.to_string()));
        cells.extend([r.loss_cls, r.loss_reg, r.share_pos].map(|x| x.to_string()));
        cells.push(r.steps.to_string());
        cells.push(r.seconds.to_string());
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

/// A Markdown table cell: `|` escaped.
fn md_cell(s: &str) -> String {
    s.replace('|', "\\|")
}

/// A COCO stat to 3 decimals, `-` for -1 (no ground truth in that range).
fn md_stat(x: f64) -> String {
    if x < 0.0 {
        "-".into()
    } else {
        format!("{x:.3}")
    }
}

/// A loss or share to 4 decimals (`-` when not finite: no step trained).
fn md_loss(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.4}")
    } else {
        "-".into()
    }
}

/// `results.md`: a Markdown table, the stats to 3 decimals, losses to 4, seconds to 1.
pub fn to_markdown(setting_columns: &[String], rows: &[ResultRow]) -> String {
    let header: Vec<String> = std::iter::once("run".to_string())
        .chain(setting_columns.iter().cloned())
        .chain(FIGURE_COLUMNS.iter().map(|s| s.to_string()))
        .collect();
    let line = |cells: &[String]| format!("| {} |\n", cells.join(" | "));
    let mut out = line(&header.iter().map(|h| md_cell(h)).collect::<Vec<_>>());
    let rule: Vec<String> = header
        .iter()
        .enumerate()
        .map(|(i, _)| {
            if i <= setting_columns.len() {
                "---"
            } else {
                "---:"
            }
            .to_string()
        })
        .collect();
    out.push_str(&line(&rule));
    for r in rows {
        let mut cells = vec![md_cell(&r.run)];
        cells.extend(r.settings.iter().map(|s| md_cell(s)));
        cells.extend(r.stats.iter().map(|&x| md_stat(x)));
        cells.extend([r.loss_cls, r.loss_reg, r.share_pos].map(md_loss));
        cells.push(r.steps.to_string());
        cells.push(format!("{:.1}", r.seconds));
        out.push_str(&line(&cells));
    }
    out
}

/// Writes `text` to `dir/name` through a temporary file renamed into place, so a killed
/// sweep never leaves a half-written table.
pub fn write_atomic(dir: &Path, name: &str, text: &str) -> Result<()> {
    let tmp = dir.join(format!("{name}.tmp"));
    std::fs::write(&tmp, text).map_err(|e| anyhow!("{}: cannot write: {e}", tmp.display()))?;
    std::fs::rename(&tmp, dir.join(name))
        .map_err(|e| anyhow!("{}: cannot write {name}: {e}", dir.display()))
}
