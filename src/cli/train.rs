//! `anchorscope train`: headless training with a progress bar (plain lines when stdout is not
//! a terminal); writes DIR/metrics.csv, DIR/config.toml, DIR/checkpoint.safetensors and
//! the held-out split's evaluation: DIR/val_gt.json (its COCO ground truth), DIR/detections.json
//! (the final model's detections, COCO results format) and DIR/eval.json (the 12 COCO stats and
//! per-class AP of those two files, which `anchorscope eval` or pycocotools reproduce).

use crate::data::{DataConfig, DatasetSpec};
use crate::eval::EvalSummary;
use crate::train::model_snapshot::{resume_mismatch, run_model_config};
use crate::train::run::{
    RunObserver, RunOptions, RunSettings, RunStarted, open_data, parse_run_config_data,
    train_into_folder,
};
use crate::train::{BackendChoice, ModelSnapshot, StepMetrics};
use anyhow::{Context, Result, anyhow, bail};
use std::io::IsTerminal;
use std::path::PathBuf;

/// Arguments of `anchorscope train`.
#[derive(clap::Args, Debug)]
pub struct TrainArgs {
    /// Dataset SPEC (default `synthetic:shapes@0`; synthetic scenes are generated on the fly):
    /// `coco:ANNOTATIONS.json[:IMAGES_DIR]`, `voc:DIR`, `yolo:DATA.yaml` train on the train
    /// split at the `[data]` input size and evaluate on the validation split (or a seeded 10%).
    #[arg(long)]
    pub dataset: Option<String>,
    /// TOML file: training settings at the top level, the model under `[model]`.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Number of steps (overrides the config).
    #[arg(long)]
    pub steps: Option<u64>,
    /// Images per batch (overrides the config).
    #[arg(long)]
    pub batch: Option<usize>,
    /// Compute backend: auto, cpu or gpu.
    #[arg(long, default_value = "auto")]
    pub backend: String,
    /// Seed (overrides the config).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Output folder.
    #[arg(long, default_value = "anchorscope-run")]
    pub out: PathBuf,
    /// Held-out images for the evaluation.
    #[arg(long, default_value_t = 200)]
    pub eval_images: usize,
    /// Evaluate (and checkpoint) every N steps as well as at the end (0: only at the end).
    #[arg(long, default_value_t = 0)]
    pub eval_every: u64,
    /// Resume from a checkpoint (parameters, optimizer state and step); `--steps` counts the
    /// total, so training continues up to it.
    #[arg(long)]
    pub resume: Option<PathBuf>,
}

/// Runs `anchorscope train`.
pub fn run(args: &TrainArgs) -> Result<()> {
    let resumed = match &args.resume {
        Some(p) => Some(ModelSnapshot::from_checkpoint(p).map_err(|e| anyhow!(e))?),
        None => None,
    };
    let (train, model, data) = match (&args.config, &resumed) {
        (Some(p), _) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("{}: cannot read", p.display()))?;
            parse_run_config_data(&text, &p.display().to_string())?
        }
        // a resumed run keeps the checkpoint's settings and model (the checkpoint does not
        // carry the [data] section: the default input size)
        (None, Some(snap)) => (
            snap.train.clone(),
            snap.model.clone(),
            DataConfig::default(),
        ),
        (None, None) => Default::default(),
    };
    let mut settings = RunSettings { train, model, data };
    let cfg = &mut settings.train;
    if let Some(s) = args.steps {
        cfg.steps = s;
    }
    if let Some(b) = args.batch {
        cfg.batch = b;
    }
    if let Some(s) = args.seed {
        cfg.seed = s;
    }
    let backend: BackendChoice = args.backend.parse().map_err(|e: String| anyhow!(e))?;
    let spec = DatasetSpec::parse(args.dataset.as_deref().unwrap_or("synthetic:shapes@0"))?;
    let data = open_data(&spec, &mut settings, args.eval_images)?;
    if let Some((report, split)) = data.notes.split_first() {
        eprintln!("{report}");
        for l in split {
            println!("{l}");
        }
    }
    let cfg = &settings.train;
    cfg.validate().map_err(|e| anyhow!(e))?;
    if let (Some(snap), Some(p)) = (&resumed, &args.resume) {
        let built = run_model_config(&settings.model, cfg);
        resume_mismatch(snap, cfg, &built).map_or(Ok(()), |e| {
            Err(anyhow!("{}: cannot resume: {e}", p.display()))
        })?;
        if cfg.steps <= snap.step {
            bail!(
                "{}: the checkpoint is at step {}; --steps {} counts the total, so nothing is left to train",
                p.display(),
                snap.step,
                cfg.steps
            );
        }
    }
    let opts = RunOptions {
        out: args.out.clone(),
        backend,
        eval_images: args.eval_images,
        eval_every: args.eval_every,
        resume: args.resume.clone(),
    };
    let mut bar = TrainBar::new(cfg.steps, std::io::stdout().is_terminal(), &spec, cfg.batch);
    let done = train_into_folder(&settings, &data, &opts, &mut bar)?;
    bar.finish();
    let ap = &done.eval.summary;
    println!(
        "done: {} steps in {:.0} s; held-out AP {:.3}, AP50 {:.3}, AP75 {:.3}; wrote {}",
        done.steps,
        done.seconds,
        ap.ap(),
        ap.ap50(),
        ap.ap75(),
        args.out.display()
    );
    for c in &ap.per_class {
        println!(
            "  {:<12} AP {:.3}  AP50 {:.3}  ({} GT)",
            c.name, c.ap, c.ap50, c.num_gt
        );
    }
    Ok(())
}

/// The progress of one `train` run: a bar on a terminal, a line every 50 steps otherwise.
struct TrainBar {
    bar: Option<indicatif::ProgressBar>,
    header: String,
    steps: u64,
}

impl TrainBar {
    fn new(steps: u64, tty: bool, spec: &DatasetSpec, batch: usize) -> Self {
        let bar = tty.then(|| {
            let b = indicatif::ProgressBar::new(steps);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{elapsed_precise} [{bar:30}] {pos}/{len} steps, ETA {eta} {msg}",
                )
                .expect("progress template")
                .progress_chars("=> "),
            );
            b
        });
        Self {
            bar,
            header: format!("on {spec} ({batch} images/step, {steps} steps"),
            steps,
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish();
        }
    }

    fn say(&self, msg: String) {
        match &self.bar {
            Some(b) => b.println(msg),
            None => println!("{msg}"),
        }
    }
}

impl RunObserver for TrainBar {
    fn started(&mut self, info: &RunStarted) {
        self.say(format!(
            "training {} parameters {}, backend {}, {} CPU threads)",
            info.params,
            self.header,
            info.backend,
            rayon::current_num_threads()
        ));
        if let Some(b) = &self.bar {
            b.set_position(info.start_step.min(self.steps));
        }
    }

    fn step(&mut self, m: &StepMetrics) {
        let line = format!(
            "loss {:.4} (cls {:.4}, reg {:.4}) pos {} lr {:.4} {:.0} ms",
            m.loss_total, m.loss_cls, m.loss_reg, m.num_pos, m.lr, m.step_ms
        );
        match &self.bar {
            Some(b) => {
                b.set_message(line);
                b.inc(1);
            }
            None if m.step.is_multiple_of(50) => println!("step {} {line}", m.step),
            None => {}
        }
    }

    fn evaluated(&mut self, step: u64, ap: &EvalSummary, seconds: f64) {
        self.say(format!(
            "step {step}: AP {:.3}, AP50 {:.3}, AP75 {:.3} ({seconds:.0} s)",
            ap.ap(),
            ap.ap50(),
            ap.ap75(),
        ));
    }

    fn failing(&mut self) {
        if let Some(b) = &self.bar {
            b.abandon();
        }
    }
}
