//! The command line (clap): `gui` (the default), `loss`, `inspect`, `bench`, `bench-ui`,
//! `train`, `eval`, `check`, `export`, `sweep`, `export-config`.
//!
//! Every command returns an error on bad input; [`main`] prints it as one line on stderr
//! (`anchorscope: error: ...`) and exits with status 2. Nothing the user owns is ever written.

mod bench;
mod bench_cpu_step;
mod bench_data;
mod bench_eval;
#[cfg(feature = "app")]
mod bench_ui;
#[cfg(feature = "app")]
mod bench_ui_training;
mod check;
mod eval;
mod export;
mod export_config;
mod inspect;
mod loss;
mod sweep;
mod train;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "anchorscope",
    version,
    about = "A desktop lab for imbalance in object detection",
    long_about = "A desktop lab for imbalance in object detection: anchors, assigners, samplers, \
                  losses and a small trainable detector. Without a command it opens the app."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Open the desktop app (the default).
    #[cfg(feature = "app")]
    Gui(crate::app::GuiArgs),
    /// Evaluate named losses and their gradients on given inputs (JSON in, JSON out).
    Loss(loss::LossArgs),
    /// Anchors, assignment, sampler picks and IoU histograms for one image.
    Inspect(inspect::InspectArgs),
    /// Print the performance figures, each next to its reference.
    Bench(bench::BenchArgs),
    /// UI frame time (p50 / p95 / max) of the headless app while a run trains.
    #[cfg(feature = "app")]
    BenchUi(bench_ui_training::BenchUiArgs),
    /// Train the detector headless; writes metrics, config, checkpoint and evaluation.
    Train(train::TrainArgs),
    /// COCO evaluation of a results file against a ground truth (pycocotools' 12 stats).
    Eval(eval::EvalArgs),
    /// Validate a COCO, VOC or YOLO dataset: every problem with its file and record.
    Check(check::CheckArgs),
    /// Write a dataset after the `[data]` remedies (tiling, merging, re-sampling) as new COCO files.
    Export(export::ExportArgs),
    /// Train a grid of settings (a TOML file or a preset), one run a folder, one results table.
    Sweep(sweep::SweepArgs),
    /// A settings file as an MMDetection 3 or Detectron2 config (assigner, sampler, losses).
    ExportConfig(export_config::ExportConfigArgs),
}

/// Without a command: the desktop app (or, built without the `app` feature, an error).
fn open_app() -> anyhow::Result<()> {
    #[cfg(feature = "app")]
    return crate::app::run(crate::app::GuiArgs::default());
    #[cfg(not(feature = "app"))]
    anyhow::bail!("built without the `app` feature: give a command (see --help)")
}

/// Runs the command line and returns the process exit status.
pub fn main() -> i32 {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let cli = Cli::parse();
    let result = match cli.command {
        None => open_app(),
        #[cfg(feature = "app")]
        Some(Command::Gui(args)) => crate::app::run(args),
        Some(Command::Loss(args)) => loss::run(&args),
        Some(Command::Inspect(args)) => inspect::run(&args),
        Some(Command::Bench(args)) => bench::run(&args),
        #[cfg(feature = "app")]
        Some(Command::BenchUi(args)) => bench_ui_training::run(&args),
        Some(Command::Train(args)) => train::run(&args),
        Some(Command::Eval(args)) => eval::run(&args),
        Some(Command::Check(args)) => check::run(&args),
        Some(Command::Export(args)) => export::run(&args),
        Some(Command::Sweep(args)) => sweep::run(&args),
        Some(Command::ExportConfig(args)) => export_config::run(&args),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            let msg = format!("{e:#}").replace('\n', " ");
            eprintln!("anchorscope: error: {msg}");
            2
        }
    }
}
