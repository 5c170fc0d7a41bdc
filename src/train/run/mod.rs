//! A training run into a folder, shared by `anchorscope train` and `anchorscope sweep`:
//! open the data ([`open_data`]), then [`train_into_folder`] writes `config.toml`,
//! `metrics.csv`, `checkpoint.safetensors` and, last, the held-out evaluation
//! (`val_gt.json`, `detections.json`, `eval.json`). Progress goes to a [`RunObserver`]
//! (the command line's progress bar); nothing here prints.

mod config_file;
mod eval_files;

pub use config_file::{RunSettings, parse_run_config_data};
pub use eval_files::{EvalRecord, read_eval_file, write_eval_files};

use crate::data::{Dataset, DatasetSpec, SyntheticDataset};
use crate::eval::{EvalSummary, HeldOutEval};
use crate::train::{BackendChoice, MetricsWriter, StepMetrics, Trainer};
use anyhow::{Context, Result, anyhow, bail};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// The training and held-out images of a run.
#[derive(Clone)]
pub struct RunData {
    /// The SPEC they come from.
    pub spec: DatasetSpec,
    /// Training images.
    pub train: Arc<dyn Dataset>,
    /// Held-out images (the evaluation).
    pub held_out: Arc<dyn Dataset>,
    /// Foreground classes of the dataset.
    pub num_classes: usize,
    /// For a file dataset: its validation report summary, then the split and input size.
    pub notes: Vec<String>,
}

/// Opens the data of `spec` and sets `settings.train.num_classes` from it: a synthetic
/// preset with `eval_images` held-out scenes, or a file dataset's train / validation split
/// at the `[data]` input size.
pub fn open_data(
    spec: &DatasetSpec,
    settings: &mut RunSettings,
    eval_images: usize,
) -> Result<RunData> {
    let cfg = &mut settings.train;
    match spec {
        DatasetSpec::Synthetic { preset, seed } => {
            let ds = SyntheticDataset::preset(preset, *seed)
                .ok_or_else(|| anyhow!("unknown preset {preset}"))?;
            cfg.num_classes = ds.config.num_classes();
            let val = ds.held_out(eval_images.max(1));
            Ok(RunData {
                spec: spec.clone(),
                train: Arc::new(ds.with_len(10_000_000)),
                held_out: Arc::new(val),
                num_classes: cfg.num_classes,
                notes: Vec::new(),
            })
        }
        other => {
            let d = &settings.data;
            let v = d.open_for_training(other, cfg.seed)?;
            cfg.num_classes = v.train.class_names().len();
            let notes = vec![
                format!("{}: {}", v.dataset.name(), v.dataset.report().summary()),
                format!(
                    "{} training images, {} held out ({}), input {} x {} ({:?})",
                    v.train.len(),
                    v.held_out.len(),
                    v.held_out.name(),
                    d.width,
                    d.height,
                    d.resize
                ),
            ];
            Ok(RunData {
                spec: spec.clone(),
                train: v.train,
                held_out: v.held_out,
                num_classes: cfg.num_classes,
                notes,
            })
        }
    }
}

/// Where and how a run trains.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The run folder (created if missing).
    pub out: PathBuf,
    /// Compute backend.
    pub backend: BackendChoice,
    /// Held-out images for the evaluation.
    pub eval_images: usize,
    /// Evaluate (and checkpoint) every N steps as well as at the end (0: only at the end).
    pub eval_every: u64,
    /// Continue from this checkpoint (parameters, optimizer state, step); `metrics.csv` is
    /// appended to.
    pub resume: Option<PathBuf>,
}

/// What a run reports when it starts.
#[derive(Clone, Debug)]
pub struct RunStarted {
    /// Parameters of the detector.
    pub params: usize,
    /// The backend it trains on, in words.
    pub backend: String,
    /// The step it starts from (0, or the checkpoint's).
    pub start_step: u64,
}

/// Receives a run's progress (all methods default to doing nothing).
pub trait RunObserver {
    /// The trainer is built and about to take its first step.
    fn started(&mut self, _info: &RunStarted) {}
    /// One step is done (its `metrics.csv` row is written).
    fn step(&mut self, _m: &StepMetrics) {}
    /// An intermediate evaluation (`eval_every`) after `step`, `seconds` into the run.
    fn evaluated(&mut self, _step: u64, _summary: &EvalSummary, _seconds: f64) {}
    /// The run is about to fail (a diverged step).
    fn failing(&mut self) {}
}

/// What a finished run gives.
pub struct RunOutcome {
    /// The final held-out evaluation.
    pub eval: HeldOutEval,
    /// Steps done.
    pub steps: u64,
    /// Training time in seconds (without the final evaluation).
    pub seconds: f64,
    /// The last step's figures (none when nothing was left to train).
    pub last: Option<StepMetrics>,
}

/// Trains `settings` (already validated, `num_classes` set by [`open_data`]) on `data` into
/// `opts.out`. A diverged step is an error naming the loss and the last good checkpoint.
pub fn train_into_folder(
    settings: &RunSettings,
    data: &RunData,
    opts: &RunOptions,
    obs: &mut dyn RunObserver,
) -> Result<RunOutcome> {
    let cfg = &settings.train;
    let out = &opts.out;
    std::fs::create_dir_all(out).with_context(|| format!("{}: cannot create", out.display()))?;
    // a folder being (re)trained holds no finished evaluation
    let _ = std::fs::remove_file(out.join("eval.json"));
    std::fs::write(out.join("config.toml"), settings.to_toml()?)
        .with_context(|| format!("{}: cannot write config.toml", out.display()))?;
    let csv = out.join("metrics.csv");
    let mut metrics = if opts.resume.is_some() {
        MetricsWriter::append(&csv, &cfg.lab.anchors.strides)
    } else {
        MetricsWriter::create(&csv, &cfg.lab.anchors.strides)
    }
    .map_err(|e| anyhow!(e))?;
    let mut trainer =
        Trainer::new(cfg.clone(), &settings.model, data.train.clone()).map_err(|e| anyhow!(e))?;
    if let Some(p) = &opts.resume {
        trainer.load(p).map_err(|e| anyhow!(e))?;
    }
    let backend = trainer
        .set_backend(opts.backend)
        .map_err(|e| anyhow!("--backend {}: {e}", opts.backend.name()))?;
    obs.started(&RunStarted {
        params: trainer.model().param_count(),
        backend,
        start_step: trainer.step,
    });
    let ckpt = out.join("checkpoint.safetensors");
    let started = Instant::now();
    let mut last = None;
    while trainer.step < cfg.steps {
        let m = trainer.train_step().map_err(|e| anyhow!(e))?.metrics;
        metrics.write(&m).map_err(|e| anyhow!(e))?;
        if let Some(what) = m.divergence() {
            obs.failing();
            bail!(
                "diverged at step {}: {what} is not finite (loss_cls {}, loss_reg {}, grad_norm {}); the last good checkpoint is {}",
                m.step,
                m.loss_cls,
                m.loss_reg,
                m.grad_norm,
                if ckpt.exists() {
                    ckpt.display().to_string()
                } else {
                    "none".into()
                }
            );
        }
        obs.step(&m);
        last = Some(m);
        let every = opts.eval_every;
        if every > 0 && trainer.step % every == 0 && trainer.step < cfg.steps {
            trainer.save(&ckpt).map_err(|e| anyhow!(e))?;
            let ev = trainer
                .evaluate(data.held_out.as_ref(), opts.eval_images)
                .map_err(|e| anyhow!(e))?;
            obs.evaluated(trainer.step, &ev.summary, started.elapsed().as_secs_f64());
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    trainer.save(&ckpt).map_err(|e| anyhow!(e))?;
    let eval = trainer
        .evaluate(data.held_out.as_ref(), opts.eval_images)
        .map_err(|e| anyhow!(e))?;
    let record = EvalRecord {
        dataset: data.spec.to_string(),
        eval_images: opts.eval_images,
        steps: trainer.step,
        train_seconds: seconds,
        stats: eval.summary.stats,
    };
    write_eval_files(out, &eval, &record)?;
    Ok(RunOutcome {
        eval,
        steps: trainer.step,
        seconds,
        last,
    })
}
