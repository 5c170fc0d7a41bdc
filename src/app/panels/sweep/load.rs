//! Reading a sweep folder (on the tab's loader thread, never the UI thread): its `sweep.toml`
//! gives the runs in order and the varied settings; each run's folder gives its row of the
//! results table (`eval.json` + `metrics.csv`, as `results.csv` has it) and its curves.

use crate::sweep::{Overrides, ResultRow, SweepPlan};
use crate::train::StepMetrics;
use crate::train::metrics::CSV_HEADER;
use std::path::{Path, PathBuf};

/// One run of an opened sweep.
#[derive(Clone, Debug)]
pub struct SweepRun {
    /// Its name (its folder under the sweep).
    pub name: String,
    /// Its folder.
    pub dir: PathBuf,
    /// The label of each varied setting, in column order.
    pub labels: Vec<String>,
    /// Its results-table row (`None` until the run has finished: no `eval.json` yet).
    pub row: Option<ResultRow>,
    /// Every step of its `metrics.csv` (empty when it has not started).
    pub metrics: Vec<StepMetrics>,
    /// What could not be read of it (one line naming the file).
    pub problem: Option<String>,
}

impl SweepRun {
    /// True when the run has finished (its checkpoint and evaluation files are there).
    pub fn finished(&self) -> bool {
        self.row.is_some()
    }
}

/// An opened sweep folder.
#[derive(Clone, Debug)]
pub struct SweepData {
    /// The folder.
    pub dir: PathBuf,
    /// The dataset SPEC every run trained on.
    pub dataset: String,
    /// Held-out images of each run's evaluation.
    pub eval_images: usize,
    /// The varied settings (dotted keys), the table's columns after `run`.
    pub columns: Vec<String>,
    /// The runs, in plan order.
    pub runs: Vec<SweepRun>,
}

impl SweepData {
    /// Runs that have finished.
    pub fn finished(&self) -> usize {
        self.runs.iter().filter(|r| r.finished()).count()
    }
}

/// Reads the sweep in `dir`; the error is one line naming the file.
pub fn load_sweep(dir: &Path) -> Result<SweepData, String> {
    if !dir.is_dir() {
        return Err(format!("{}: not a folder", dir.display()));
    }
    let toml_path = dir.join("sweep.toml");
    let text = std::fs::read_to_string(&toml_path).map_err(|e| {
        format!(
            "{}: cannot read ({e}); is this a folder `anchorscope sweep` wrote?",
            toml_path.display()
        )
    })?;
    let origin = toml_path.display().to_string();
    let plan = SweepPlan::parse(&text, &origin, &Overrides::default())
        .map_err(|e| format!("{e:#}").replace('\n', " "))?;
    let runs = plan
        .runs
        .iter()
        .map(|r| load_run(&dir.join(&r.name), &r.name, r.labels.clone()))
        .collect();
    Ok(SweepData {
        dir: dir.to_path_buf(),
        dataset: plan.dataset.to_string(),
        eval_images: plan.eval_images,
        columns: plan.columns,
        runs,
    })
}

/// One run's folder: its row when `eval.json` is there, and its curves.
fn load_run(dir: &Path, name: &str, labels: Vec<String>) -> SweepRun {
    let mut run = SweepRun {
        name: name.to_string(),
        dir: dir.to_path_buf(),
        labels,
        row: None,
        metrics: Vec::new(),
        problem: None,
    };
    let csv = dir.join("metrics.csv");
    if !csv.is_file() {
        return run; // not started
    }
    let finished = dir.join("eval.json").is_file();
    match read_metrics(&csv, finished) {
        Ok(m) => run.metrics = m,
        Err(e) => run.problem = Some(e),
    }
    if finished && run.problem.is_none() {
        match ResultRow::read(dir, name, run.labels.clone()) {
            Ok(row) => run.row = Some(row),
            Err(e) => run.problem = Some(format!("{e:#}").replace('\n', " ")),
        }
    }
    run
}

/// Every step of a `metrics.csv`; errors name the file and the line. In a run still
/// training (`finished` false) a bad last line is one being written, and is left out.
pub fn read_metrics(path: &Path, finished: bool) -> Result<Vec<StepMetrics>, String> {
    let p = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{p}: cannot read: {e}"))?;
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .collect();
    let Some(((_, header), rows)) = lines.split_first() else {
        return Err(format!("{p}: empty (no metrics.csv header)"));
    };
    if !header.starts_with(CSV_HEADER) {
        return Err(format!("{p}: line 1: not a metrics.csv header"));
    }
    let mut out = Vec::with_capacity(rows.len());
    for (k, (i, l)) in rows.iter().enumerate() {
        match StepMetrics::from_csv_row(header, l) {
            Ok(m) => out.push(m),
            Err(_) if !finished && k + 1 == rows.len() => break,
            Err(e) => return Err(format!("{p}: line {}: {e}", i + 1)),
        }
    }
    Ok(out)
}
