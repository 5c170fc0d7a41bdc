//! Running a sweep: each run in its own folder, one after another on the same data and
//! seed; `results.csv` and `results.md` rewritten after every run, so a stopped sweep
//! (Ctrl-C, a killed process) keeps the finished ones. With `resume` a run whose folder
//! holds a complete `eval.json` for the same data, evaluation size and steps, and whose
//! `config.toml` is the one it would write, is not trained again.

use super::plan::{PlannedRun, SweepPlan};
use super::results::{ResultRow, to_csv, to_markdown, write_atomic};
use crate::data::DataConfig;
use crate::train::BackendChoice;
use crate::train::run::{
    RunData, RunObserver, RunOptions, RunSettings, open_data, read_eval_file, train_into_folder,
};
use anyhow::{Context, Result, anyhow, bail};
use std::path::{Path, PathBuf};

/// Where and how a sweep runs.
#[derive(Clone, Debug)]
pub struct SweepOptions {
    /// The sweep's folder: one sub-folder a run, `results.csv`, `results.md`, `sweep.toml`.
    pub out: PathBuf,
    /// Compute backend of every run.
    pub backend: BackendChoice,
    /// Skip runs already complete in `out` (else `out` must not hold a sweep yet).
    pub resume: bool,
}

/// Receives a sweep's progress; each run's steps go to the [`RunObserver`] methods.
pub trait SweepObserver: RunObserver {
    /// Which runs will train (indices into the plan) and how many steps that is in all.
    fn planned(&mut self, _plan: &SweepPlan, _todo: &[usize], _steps: u64) {}
    /// Run `index` is complete in its folder and is not trained again.
    fn skipped(&mut self, _index: usize, _run: &PlannedRun) {}
    /// Run `index` starts training.
    fn run_started(&mut self, _index: usize, _run: &PlannedRun) {}
    /// Run `index` finished with this row.
    fn run_finished(&mut self, _index: usize, _row: &ResultRow) {}
    /// Run `index` failed (the sweep goes on with the next one).
    fn run_failed(&mut self, _index: usize, _run: &PlannedRun, _error: &str) {}
}

/// What a sweep gives: the rows of the finished runs, and the failed runs with their error.
#[derive(Clone, Debug, Default)]
pub struct SweepOutcome {
    /// One row a finished (trained or skipped) run, in plan order.
    pub rows: Vec<ResultRow>,
    /// `(run name, error)` of each failed run.
    pub failed: Vec<(String, String)>,
}

/// One run ready to train: its resolved settings (classes set from the data) and data.
struct Prepared {
    settings: RunSettings,
    data: RunData,
}

/// Opens each run's data (shared between runs with the same `[data]` and seed).
fn prepare(plan: &SweepPlan) -> Result<Vec<Prepared>> {
    let mut cache: Vec<((DataConfig, u64), RunData)> = Vec::new();
    let mut out = Vec::with_capacity(plan.runs.len());
    for run in &plan.runs {
        let mut settings = run.settings.clone();
        let key = (settings.data.clone(), settings.train.seed);
        let data = match cache.iter().find(|(k, _)| *k == key) {
            Some((_, d)) => {
                settings.train.num_classes = d.num_classes;
                d.clone()
            }
            None => {
                let d = open_data(&plan.dataset, &mut settings, plan.eval_images)
                    .with_context(|| format!("{}: run {}", plan.origin, run.name))?;
                cache.push((key, d.clone()));
                d
            }
        };
        settings
            .train
            .validate()
            .map_err(|e| anyhow!("{}: run {}: {e}", plan.origin, run.name))?;
        out.push(Prepared { settings, data });
    }
    Ok(out)
}

/// Whether `dir` holds this run finished: a readable `eval.json` of the same dataset,
/// evaluation size and steps, and the `config.toml` it would write.
pub fn is_complete(dir: &Path, settings: &RunSettings, plan: &SweepPlan) -> bool {
    let Ok(ev) = read_eval_file(&dir.join("eval.json")) else {
        return false;
    };
    let same_config = match (
        std::fs::read_to_string(dir.join("config.toml")),
        settings.to_toml(),
    ) {
        (Ok(have), Ok(want)) => have == want,
        _ => false,
    };
    same_config
        && ev.dataset == plan.dataset.to_string()
        && ev.eval_images == plan.eval_images
        && ev.steps == settings.train.steps
}

/// Runs every run of `plan` not already complete (with `resume`) into `opts.out`.
pub fn run_sweep(
    plan: &SweepPlan,
    opts: &SweepOptions,
    obs: &mut dyn SweepObserver,
) -> Result<SweepOutcome> {
    let out = &opts.out;
    let prepared = prepare(plan)?;
    if !opts.resume {
        let taken = std::iter::once("results.csv".to_string())
            .chain(plan.runs.iter().map(|r| r.name.clone()))
            .find(|n| out.join(n).exists());
        if let Some(n) = taken {
            bail!(
                "{}: already holds {n} of a sweep; pass --resume to continue it, or choose another --out",
                out.display()
            );
        }
    }
    std::fs::create_dir_all(out).with_context(|| format!("{}: cannot create", out.display()))?;
    write_atomic(out, "sweep.toml", &plan.text)?;
    let done: Vec<bool> = plan
        .runs
        .iter()
        .zip(&prepared)
        .map(|(r, p)| opts.resume && is_complete(&out.join(&r.name), &p.settings, plan))
        .collect();
    let todo: Vec<usize> = (0..plan.runs.len()).filter(|&i| !done[i]).collect();
    let steps = todo.iter().map(|&i| prepared[i].settings.train.steps).sum();
    obs.planned(plan, &todo, steps);
    let mut outcome = SweepOutcome::default();
    for (i, (run, p)) in plan.runs.iter().zip(&prepared).enumerate() {
        let dir = out.join(&run.name);
        let result = if done[i] {
            obs.skipped(i, run);
            Ok(())
        } else {
            obs.run_started(i, run);
            let ro = RunOptions {
                out: dir.clone(),
                backend: opts.backend,
                eval_images: plan.eval_images,
                eval_every: 0,
                resume: None,
            };
            train_into_folder(&p.settings, &p.data, &ro, obs).map(|_| ())
        };
        match result.and_then(|()| ResultRow::read(&dir, &run.name, run.labels.clone())) {
            Ok(row) => {
                obs.run_finished(i, &row);
                outcome.rows.push(row);
            }
            Err(e) => {
                let msg = format!("{e:#}").replace('\n', " ");
                obs.run_failed(i, run, &msg);
                outcome.failed.push((run.name.clone(), msg));
            }
        }
        write_tables(out, plan, &outcome)?;
    }
    Ok(outcome)
}

/// Writes `results.csv` and `results.md` (failed runs listed under the Markdown table).
fn write_tables(out: &Path, plan: &SweepPlan, o: &SweepOutcome) -> Result<()> {
    write_atomic(out, "results.csv", &to_csv(&plan.columns, &o.rows))?;
    let mut md = format!(
        "Sweep `{}` on `{}`, {} held-out images per run.\n\n",
        plan.origin, plan.dataset, plan.eval_images
    );
    md.push_str(&to_markdown(&plan.columns, &o.rows));
    for (name, e) in &o.failed {
        md.push_str(&format!("\nFailed: `{name}`: {e}\n"));
    }
    write_atomic(out, "results.md", &md)
}
