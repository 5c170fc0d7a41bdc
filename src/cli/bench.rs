//! `anchorscope bench`: performance figures, each printed next to its reference.
//!
//! Benchmarks print numbers; they are never timing assertions in tests.

use crate::assign::MaxIouAssigner;
use crate::data::synthetic::{SyntheticConfig, generate};
use crate::geometry::{Box4, max_iou_stats};
use anyhow::Result;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;
use std::time::Instant;

/// Arguments of `anchorscope bench`.
#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
    /// Repetitions per timed figure (the median is reported).
    #[arg(long, default_value_t = 15)]
    pub reps: usize,
    /// Fewer repetitions of the slow figures (software GPU).
    #[arg(long)]
    pub quick: bool,
    /// Time the GPU training step even on a software adapter (lavapipe: seconds per step).
    /// On a hardware adapter it is always timed.
    #[arg(long)]
    pub gpu_step: bool,
    /// Only the CPU training step figures: the forward + backward, the step beside
    /// PyTorch's, its stages and the app trainer's rate (for measuring a CPU change).
    #[arg(long)]
    pub cpu_step: bool,
}

/// One benchmark figure and its reference.
#[derive(Debug, Serialize)]
pub struct Figure {
    /// What was measured.
    pub name: String,
    /// The measured value.
    pub value: f64,
    /// Unit of `value` (and of `reference`).
    pub unit: String,
    /// The reference figure, when there is one.
    pub reference: Option<f64>,
    /// Where the reference comes from.
    pub reference_label: String,
}

impl Figure {
    /// A figure with no reference beside it.
    pub fn new(name: impl Into<String>, value: f64, unit: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value,
            unit: unit.into(),
            reference: None,
            reference_label: String::new(),
        }
    }

    fn line(&self) -> String {
        match self.reference {
            Some(r) => {
                let ratio = if self.unit.ends_with("/s") {
                    self.value / r
                } else {
                    r / self.value
                };
                format!(
                    "{:<48} {:>10.3} {:<9} reference {:>8.3} {} ({}): {:.1}x",
                    self.name, self.value, self.unit, r, self.unit, self.reference_label, ratio
                )
            }
            None => format!("{:<48} {:>10.3} {}", self.name, self.value, self.unit),
        }
    }
}

/// Median wall time in milliseconds of `reps` runs of `f` (after one warm-up run).
fn median_ms(reps: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut t: Vec<f64> = (0..reps.max(1))
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

/// Random anchors and GTs shaped like a detector's: `n` anchors of 16 to 256 px and `m` GTs
/// on an 800 x 800 image.
pub fn random_boxes(n: usize, seed: u64) -> Vec<Box4> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let w = rng.random_range(16.0f32..256.0);
            let h = rng.random_range(16.0f32..256.0);
            let x = rng.random_range(-w / 2.0..800.0 - w / 2.0);
            let y = rng.random_range(-h / 2.0..800.0 - h / 2.0);
            [x, y, x + w, y + h]
        })
        .collect()
}

/// Median ms of a full training step (synthetic `shapes` batch 8 generated on the fly, flip,
/// forward, focal + smooth L1 objective, backward, clipping, SGD) after 2 warm-up steps, on
/// the backend `gpu` selects (None: the CPU); also returns the backend's name.
pub fn train_step_ms_on(
    gpu: Option<crate::train::BackendChoice>,
    steps: usize,
) -> Result<(f64, String), String> {
    let ds = crate::data::SyntheticDataset::preset("shapes", 0).ok_or("no shapes preset")?;
    let cfg = crate::train::TrainConfig::default();
    let mut t = crate::train::Trainer::new(
        cfg,
        &crate::model::ModelConfig::default(),
        std::sync::Arc::new(ds),
    )?;
    let name = match gpu {
        Some(choice) => t.set_backend(choice)?,
        None => "cpu".into(),
    };
    for _ in 0..2 {
        t.train_step()?;
    }
    let mut ms: Vec<f64> = (0..steps.max(1))
        .map(|_| t.train_step().map(|r| r.metrics.step_ms))
        .collect::<Result<_, _>>()?;
    ms.sort_by(f64::total_cmp);
    Ok((ms[ms.len() / 2], name))
}

/// Runs the benchmarks and prints the figures.
pub fn run(args: &BenchArgs) -> Result<()> {
    let mut figures = Vec::new();
    if args.cpu_step {
        push_cpu_step_figures(args, &mut figures);
        return print_figures(args, &figures);
    }
    let threads = rayon::current_num_threads();

    let anchors = random_boxes(100_000, 1);
    let gts = random_boxes(50, 2);
    let ms = median_ms(args.reps, || {
        std::hint::black_box(max_iou_stats(&anchors, &gts));
    });
    figures.push(Figure {
        name: format!("fused max-IoU, 100,000 anchors x 50 GT ({threads} threads)"),
        value: ms,
        unit: "ms".into(),
        reference: Some(53.0),
        reference_label: "torchvision box_iou + max".into(),
    });
    let assigner = MaxIouAssigner::default();
    let ms = median_ms(args.reps, || {
        std::hint::black_box(assigner.assign(&anchors, &gts));
    });
    figures.push(Figure {
        name: "MaxIoU assign incl. low-quality pass, 100k x 50".into(),
        value: ms,
        unit: "ms".into(),
        reference: Some(53.0),
        reference_label: "torchvision box_iou + max".into(),
    });

    figures.extend(super::bench_data::figures(args.reps)?);

    let cfg = SyntheticConfig::default();
    let n = 200;
    let ms = median_ms(3, || {
        for i in 0..n {
            std::hint::black_box(generate(&cfg, 7, i));
        }
    });
    figures.push(Figure::new(
        "synthetic `shapes` scenes 256x256, 1 thread",
        n as f64 / (ms / 1e3),
        "scenes/s",
    ));
    let ms = median_ms(3, || {
        (0..n).into_par_iter().for_each(|i| {
            std::hint::black_box(generate(&cfg, 7, i));
        });
    });
    figures.push(Figure::new(
        format!("synthetic `shapes` scenes 256x256, {threads} threads"),
        n as f64 / (ms / 1e3),
        "scenes/s",
    ));

    push_cpu_step_figures(args, &mut figures);
    #[cfg(feature = "gpu")]
    gpu_step_figure(args, &mut figures);
    #[cfg(feature = "app")]
    super::bench_ui::push_app_figures(args.quick, &mut figures);
    super::bench_eval::push_figures(&mut figures, args.quick);
    print_figures(args, &figures)
}

/// Prints the figures, one line each or as JSON (`--json`).
fn print_figures(args: &BenchArgs, figures: &[Figure]) -> Result<()> {
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "figures": figures }))?
        );
    } else {
        for f in figures {
            println!("{}", f.line());
        }
    }
    Ok(())
}

/// The CPU training step (batch 8 at 256 x 256, default model): beside PyTorch's step
/// measured in this run, stage by stage, and the app trainer's rate (bench_cpu_step.rs).
fn push_cpu_step_figures(args: &BenchArgs, figures: &mut Vec<Figure>) {
    let t = crate::model::bench_step(
        &crate::model::ModelConfig::default(),
        8,
        256,
        if args.quick { 2 } else { 5 },
    );
    figures.push(Figure::new(
        "CPU model forward + backward, batch 8 at 256x256 (best)",
        t.total_ms,
        "ms",
    ));
    let (rounds, k) = if args.quick { (2, 3) } else { (6, 5) };
    match super::bench_cpu_step::side_by_side(rounds, k) {
        Ok(f) => figures.extend(f),
        Err(e) => eprintln!("bench: training step: {e}"),
    }
    match super::bench_cpu_step::stages(if args.quick { 3 } else { 10 }) {
        Ok(f) => figures.extend(f),
        Err(e) => eprintln!("bench: step stages: {e}"),
    }
    match super::bench_cpu_step::app_trainer(if args.quick { 3 } else { 10 }) {
        Ok(f) => figures.push(f),
        Err(e) => eprintln!("bench: app trainer: {e}"),
    }
}

/// The GPU full training step (always on a hardware adapter; with `--gpu-step` also on a
/// software one).
#[cfg(feature = "gpu")]
fn gpu_step_figure(args: &BenchArgs, figures: &mut Vec<Figure>) {
    let hardware_gpu = crate::backend::gpu::GpuContext::new().is_ok_and(|c| !c.is_software());
    if hardware_gpu || args.gpu_step {
        let steps = if args.quick || !hardware_gpu { 3 } else { 20 };
        match train_step_ms_on(Some(crate::train::BackendChoice::Gpu), steps) {
            Ok((ms, name)) => figures.push(Figure::new(
                format!("GPU full training step, median, on {name}"),
                ms,
                "ms",
            )),
            Err(e) => eprintln!("bench: GPU training step: {e}"),
        }
    }
}
