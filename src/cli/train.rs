//! `anchorscope train`: headless training with a progress bar (plain lines when stdout is not
//! a terminal); writes DIR/metrics.csv, DIR/config.toml, DIR/checkpoint.safetensors and
//! the held-out split's evaluation: DIR/val_gt.json (its COCO ground truth), DIR/detections.json
//! (the final model's detections, COCO results format) and DIR/eval.json (the 12 COCO stats and
//! per-class AP of those two files, which `anchorscope eval` or pycocotools reproduce).

use crate::data::{DataConfig, Dataset, DatasetSpec, SyntheticDataset};
use crate::model::ModelConfig;
use crate::train::config::toml_text;
use crate::train::model_snapshot::{resume_mismatch, run_model_config};
use crate::train::{BackendChoice, MetricsWriter, ModelSnapshot, TrainConfig, Trainer};
use anyhow::{Context, Result, anyhow, bail};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

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

/// Splits a run config into the training settings, the `[model]` and the `[data]` tables.
pub fn parse_run_config_data(
    text: &str,
    origin: &str,
) -> Result<(TrainConfig, ModelConfig, DataConfig)> {
    let mut table: toml::Table =
        toml::from_str(text).map_err(|e| anyhow!("{origin}: {}", e.message()))?;
    let data = match table.remove("data") {
        Some(v) => v
            .try_into::<DataConfig>()
            .map_err(|e| anyhow!("{origin}: [data]: {}", e.message()))?,
        None => DataConfig::default(),
    };
    data.validate().map_err(|e| anyhow!("{origin}: {e}"))?;
    let rest = toml::to_string(&table)?;
    let (t, m) = parse_run_config(&rest, origin)?;
    Ok((t, m, data))
}

/// Splits a run config into the training settings and the `[model]` table.
pub fn parse_run_config(text: &str, origin: &str) -> Result<(TrainConfig, ModelConfig)> {
    let mut table: toml::Table =
        toml::from_str(text).map_err(|e| anyhow!("{origin}: {}", e.message()))?;
    let model = match table.remove("model") {
        Some(v) => v
            .try_into::<ModelConfig>()
            .map_err(|e| anyhow!("{origin}: [model]: {}", e.message()))?,
        None => ModelConfig::default(),
    };
    let rest = toml::to_string(&table)?;
    let train = TrainConfig::from_toml(&rest, origin).map_err(|e| anyhow!(e))?;
    Ok((train, model))
}

/// Runs `anchorscope train`.
pub fn run(args: &TrainArgs) -> Result<()> {
    let resumed = match &args.resume {
        Some(p) => Some(ModelSnapshot::from_checkpoint(p).map_err(|e| anyhow!(e))?),
        None => None,
    };
    let (mut cfg, model_cfg, data_cfg) = match (&args.config, &resumed) {
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
        (None, None) => (
            TrainConfig::default(),
            ModelConfig::default(),
            DataConfig::default(),
        ),
    };
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
    let (train, held_out): (Arc<dyn Dataset>, Arc<dyn Dataset>) = match &spec {
        DatasetSpec::Synthetic { preset, seed } => {
            let ds = SyntheticDataset::preset(preset, *seed)
                .ok_or_else(|| anyhow!("unknown preset {preset}"))?;
            cfg.num_classes = ds.config.num_classes();
            let val = ds.held_out(args.eval_images.max(1));
            (Arc::new(ds.with_len(10_000_000)), Arc::new(val))
        }
        other => {
            let v = data_cfg.open_for_training(other, cfg.seed)?;
            eprintln!("{}: {}", v.dataset.name(), v.dataset.report().summary());
            cfg.num_classes = v.train.class_names().len();
            println!(
                "{} training images, {} held out ({}), input {} x {} ({:?})",
                v.train.len(),
                v.held_out.len(),
                v.held_out.name(),
                data_cfg.width,
                data_cfg.height,
                data_cfg.resize
            );
            (v.train, v.held_out)
        }
    };
    cfg.validate().map_err(|e| anyhow!(e))?;
    if let (Some(snap), Some(p)) = (&resumed, &args.resume) {
        let built = run_model_config(&model_cfg, &cfg);
        resume_mismatch(snap, &cfg, &built).map_or(Ok(()), |e| {
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
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("{}: cannot create", args.out.display()))?;
    let mut full = toml::Table::try_from(&cfg)?;
    full.insert("model".into(), toml::Value::try_from(&model_cfg)?);
    full.insert("data".into(), toml::Value::try_from(&data_cfg)?);
    std::fs::write(
        args.out.join("config.toml"),
        toml_text(&full).map_err(|e| anyhow!(e))?,
    )
    .with_context(|| format!("{}: cannot write config.toml", args.out.display()))?;
    let csv = args.out.join("metrics.csv");
    let mut metrics = if args.resume.is_some() {
        MetricsWriter::append(&csv, &cfg.lab.anchors.strides)
    } else {
        MetricsWriter::create(&csv, &cfg.lab.anchors.strides)
    }
    .map_err(|e| anyhow!(e))?;
    let mut trainer = Trainer::new(cfg.clone(), &model_cfg, train).map_err(|e| anyhow!(e))?;
    if let Some(p) = &args.resume {
        trainer.load(p).map_err(|e| anyhow!(e))?;
    }
    let backend_name = trainer
        .set_backend(backend)
        .map_err(|e| anyhow!("--backend {}: {e}", args.backend))?;
    let ckpt = args.out.join("checkpoint.safetensors");
    let tty = std::io::stdout().is_terminal();
    let bar = if tty {
        let b = indicatif::ProgressBar::new(cfg.steps);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{elapsed_precise} [{bar:30}] {pos}/{len} steps, ETA {eta} {msg}",
            )
            .expect("progress template")
            .progress_chars("=> "),
        );
        Some(b)
    } else {
        None
    };
    let started = Instant::now();
    println!(
        "training {} parameters on {} ({} images/step, {} steps, backend {}, {} CPU threads)",
        trainer.model().param_count(),
        spec,
        cfg.batch,
        cfg.steps,
        backend_name,
        rayon::current_num_threads()
    );
    if let Some(b) = &bar {
        b.set_position(trainer.step.min(cfg.steps));
    }
    while trainer.step < cfg.steps {
        let r = trainer.train_step().map_err(|e| anyhow!(e))?;
        let m = &r.metrics;
        metrics.write(m).map_err(|e| anyhow!(e))?;
        if let Some(what) = m.divergence() {
            if let Some(b) = &bar {
                b.abandon();
            }
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
        let line = format!(
            "loss {:.4} (cls {:.4}, reg {:.4}) pos {} lr {:.4} {:.0} ms",
            m.loss_total, m.loss_cls, m.loss_reg, m.num_pos, m.lr, m.step_ms
        );
        match &bar {
            Some(b) => {
                b.set_message(line);
                b.inc(1);
            }
            None if m.step % 50 == 0 => println!("step {} {line}", m.step),
            None => {}
        }
        if args.eval_every > 0 && trainer.step % args.eval_every == 0 && trainer.step < cfg.steps {
            trainer.save(&ckpt).map_err(|e| anyhow!(e))?;
            let ap = trainer
                .evaluate(held_out.as_ref(), args.eval_images)
                .map_err(|e| anyhow!(e))?;
            let msg = format!(
                "step {}: AP {:.3}, AP50 {:.3}, AP75 {:.3} ({:.0} s)",
                trainer.step,
                ap.summary.ap(),
                ap.summary.ap50(),
                ap.summary.ap75(),
                started.elapsed().as_secs_f64()
            );
            match &bar {
                Some(b) => b.println(msg),
                None => println!("{msg}"),
            }
        }
    }
    if let Some(b) = &bar {
        b.finish();
    }
    let train_s = started.elapsed().as_secs_f64();
    trainer.save(&ckpt).map_err(|e| anyhow!(e))?;
    let ap = trainer
        .evaluate(held_out.as_ref(), args.eval_images)
        .map_err(|e| anyhow!(e))?;
    write_eval_files(&args.out, &ap, &spec.to_string(), trainer.step, train_s)?;
    println!(
        "done: {} steps in {:.0} s; held-out AP {:.3}, AP50 {:.3}, AP75 {:.3}; wrote {}",
        trainer.step,
        train_s,
        ap.summary.ap(),
        ap.summary.ap50(),
        ap.summary.ap75(),
        args.out.display()
    );
    for c in &ap.summary.per_class {
        println!(
            "  {:<12} AP {:.3}  AP50 {:.3}  ({} GT)",
            c.name, c.ap, c.ap50, c.num_gt
        );
    }
    Ok(())
}

/// Writes DIR/val_gt.json, DIR/detections.json and DIR/eval.json of a held-out evaluation.
fn write_eval_files(
    out: &std::path::Path,
    ev: &crate::eval::HeldOutEval,
    dataset: &str,
    steps: u64,
    train_s: f64,
) -> Result<()> {
    let write = |name: &str, text: String| {
        std::fs::write(out.join(name), text)
            .with_context(|| format!("{}: cannot write {name}", out.display()))
    };
    write("val_gt.json", serde_json::to_string(&ev.gt)?)?;
    write("detections.json", serde_json::to_string(&ev.dets)?)?;
    let eval = serde_json::json!({
        "dataset": dataset,
        "held_out_images": ev.gt.images.len(),
        "steps": steps,
        "train_seconds": train_s,
        "stats": ev.summary.stats,
        "stat_names": crate::eval::STAT_NAMES,
        "per_class": ev.summary.per_class,
        "ap": ev.summary.ap(),
        "ap50": ev.summary.ap50(),
        "ap75": ev.summary.ap75(),
        "note": "pycocotools' COCOeval (bbox) of val_gt.json and detections.json",
    });
    write("eval.json", serde_json::to_string_pretty(&eval)?)
}
