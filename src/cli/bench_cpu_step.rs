//! The CPU training step in `anchorscope bench`: timed side by side with PyTorch's step on
//! the same model (`tests/reference/torch_reference.py --serve`, alternating rounds of steps
//! in one run) when python3 with torch is importable, a per-stage breakdown of the step, and
//! the app trainer's steps per second (batch 4, all cores but one).

use super::bench::Figure;
use crate::backend::cpu::Cpu;
use crate::backend::cpu::norm::clip_grad_norm;
use crate::backend::cpu::optim::{SgdConfig, sgd_step};
use crate::data::{Dataset, SyntheticDataset};
use crate::model::{Model, ModelConfig, flatten_outputs, unflatten_outputs_into};
use crate::train::input::{hflip, images_to_tensor};
use crate::train::{ImageGt, ObjectiveState, TrainConfig, Trainer, batch_objective};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

/// PyTorch 2.15's step (`torch_reference.py --threads 2`) as measured on 2026-12-01 on the
/// project's 2-core machine (issue 13), printed when torch cannot run here.
pub const TORCH_REFERENCE_MS: f64 = 80.0;

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn figure(name: String, value: f64, unit: &str, reference: Option<(f64, String)>) -> Figure {
    let (reference, reference_label) = match reference {
        Some((r, l)) => (Some(r), l),
        None => (None, String::new()),
    };
    Figure {
        name,
        value,
        unit: unit.into(),
        reference,
        reference_label,
    }
}

/// `tests/reference/torch_reference.py`: `$ANCHORSCOPE_TORCH_REFERENCE`, the source tree the
/// binary was built from, or the working directory.
fn script_path() -> Option<PathBuf> {
    let rel = "tests/reference/torch_reference.py";
    std::env::var_os("ANCHORSCOPE_TORCH_REFERENCE")
        .map(PathBuf::from)
        .into_iter()
        .chain([
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel),
            PathBuf::from(rel),
        ])
        .find(|p| p.is_file())
}

/// A running `torch_reference.py --serve`.
struct TorchServer {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    version: String,
}

impl TorchServer {
    fn start(threads: usize) -> Result<Self, String> {
        let script = script_path().ok_or("tests/reference/torch_reference.py not found")?;
        let mut child = Command::new("python3")
            .arg(&script)
            .args(["--serve", "--threads", &threads.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("python3: {e}"))?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        let mut s = Self {
            child,
            stdin,
            stdout,
            version: String::new(),
        };
        let ready = s.read_json()?;
        s.version = ready["ready"]["torch"]
            .as_str()
            .ok_or("python3 with torch (and torchvision) is not importable")?
            .to_string();
        Ok(s)
    }

    fn read_json(&mut self) -> Result<serde_json::Value, String> {
        let mut line = String::new();
        self.stdout
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        serde_json::from_str(&line).map_err(|_| "python3 with torch is not importable".into())
    }

    /// Milliseconds of each of `k` PyTorch steps.
    fn steps(&mut self, k: usize) -> Result<Vec<f64>, String> {
        writeln!(self.stdin, "{k}").map_err(|e| e.to_string())?;
        let v = self.read_json()?;
        let ms = v["ms"].as_array().ok_or("torch_reference.py: bad answer")?;
        Ok(ms.iter().filter_map(|m| m.as_f64()).collect())
    }
}

impl Drop for TorchServer {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "0");
        let _ = self.child.wait();
    }
}

/// The default training run on `shapes` at batch `batch`.
fn trainer(batch: usize) -> Result<Trainer, String> {
    let ds = SyntheticDataset::preset("shapes", 0).ok_or("no shapes preset")?;
    let cfg = TrainConfig {
        batch,
        ..TrainConfig::default()
    };
    Trainer::new(cfg, &ModelConfig::default(), Arc::new(ds))
}

/// The full CPU step (median ms) and, when torch runs here, PyTorch's, in `rounds`
/// alternating rounds of `k` steps each.
pub fn side_by_side(rounds: usize, k: usize) -> Result<Vec<Figure>, String> {
    let threads = rayon::current_num_threads();
    let mut t = trainer(8)?;
    for _ in 0..2 {
        t.train_step()?;
    }
    let name = format!("CPU full training step, batch 8, {threads} threads, median");
    let mut ours = Vec::new();
    let mut server = match TorchServer::start(threads) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("bench: PyTorch side by side skipped: {e}");
            for _ in 0..rounds * k {
                ours.push(t.train_step()?.metrics.step_ms);
            }
            let m = median(&mut ours);
            // Machines of the same kind have measured PyTorch's step at 80 to 300 ms, so a ratio
            // against this figure says little: the label says so.
            let label = "PyTorch 2.15 step, 2 threads, measured 2026-12-01 on another machine \
                         (install torch for a same-run figure)"
                .to_string();
            return Ok(vec![
                figure(name, m, "ms", Some((TORCH_REFERENCE_MS, label))),
                figure(
                    "CPU step time / PyTorch's (against the 2026-12-01 figure, not this run)"
                        .into(),
                    m / TORCH_REFERENCE_MS,
                    "x",
                    None,
                ),
            ]);
        }
    };
    let mut torch = Vec::new();
    for _ in 0..rounds {
        for _ in 0..k {
            ours.push(t.train_step()?.metrics.step_ms);
        }
        torch.extend(server.steps(k)?);
    }
    let (m, tm) = (median(&mut ours), median(&mut torch));
    let label = format!("PyTorch {} step, alternating in this run", server.version);
    Ok(vec![
        figure(name, m, "ms", Some((tm, label))),
        figure(
            format!(
                "PyTorch {} step ({threads} threads), median",
                server.version
            ),
            tm,
            "ms",
            None,
        ),
        figure(
            "CPU step time / PyTorch's (same run; target <= 0.8)".into(),
            m / tm,
            "x",
            None,
        ),
    ])
}

/// Median milliseconds of each stage of the CPU step (the trainer's step, written out stage
/// by stage with the default settings: batch 8 of `shapes`, focal + smooth L1, SGD).
pub fn stages(steps: usize) -> Result<Vec<Figure>, String> {
    let cfg = TrainConfig::default();
    let ds = SyntheticDataset::preset("shapes", 0).ok_or("no shapes preset")?;
    let mut mc = ModelConfig::default();
    mc.num_classes = cfg.num_classes;
    mc.num_anchors = cfg.lab.anchors.anchors_per_location();
    let mut model = Model::new(&mc, cfg.seed)?;
    let anchors = cfg.lab.anchors.generate(256, 256);
    let mut obj = ObjectiveState::new(&cfg);
    let mut mom: Vec<Vec<f32>> = model.params().map(|p| vec![0.0; p.len()]).collect();
    let (mut out, mut grads) = (Default::default(), None);
    let rng = &mut ChaCha8Rng::seed_from_u64(3);
    let mut rows: Vec<(&'static str, Vec<f64>)> = Vec::new();
    for step in 0..steps + 2 {
        let mut marks: Vec<(&'static str, Instant)> = vec![("", Instant::now())];
        let picks: Vec<(usize, bool)> = (0..cfg.batch)
            .map(|_| {
                (
                    rng.random_range(0..ds.len()),
                    rng.random::<f64>() < cfg.hflip,
                )
            })
            .collect();
        let batch: Vec<_> = (picks.par_iter())
            .map(|&(i, flip)| {
                let mut s = ds.load(i).expect("synthetic scene");
                if flip {
                    hflip(&mut s);
                }
                s
            })
            .collect();
        let x = images_to_tensor(&batch.iter().map(|s| &s.image).collect::<Vec<_>>());
        marks.push(("scene generation + flips", Instant::now()));
        model.forward_marked_on(&mut Cpu, &x, &mut out, &mut |s| {
            marks.push((fwd_name(s), Instant::now()))
        });
        let (logits, deltas) = flatten_outputs(&out);
        let gts: Vec<ImageGt> = batch.iter().map(ImageGt::of).collect();
        let o = batch_objective(
            &anchors,
            &gts,
            &logits,
            &deltas,
            &cfg,
            &mut obj,
            step as u64,
        )?;
        marks.push(("assignment + loss", Instant::now()));
        let g = grads.get_or_insert_with(|| out.zeros_like());
        unflatten_outputs_into(&o.grad_logits, &o.grad_deltas, g);
        model.zero_grad();
        model.backward_marked_on(&mut Cpu, g, &mut |s| {
            marks.push((bwd_name(s), Instant::now()))
        });
        let mut gs: Vec<&mut [f32]> = (model.params_mut())
            .map(|p| p.grad.data.as_mut_slice())
            .collect();
        clip_grad_norm(&mut gs, cfg.grad_clip as f32);
        marks.push(("clipping", Instant::now()));
        let sgd = SgdConfig {
            lr: cfg.lr_at(step as u64) as f32,
            momentum: cfg.momentum as f32,
            weight_decay: cfg.weight_decay as f32,
        };
        for (p, m) in model.params_mut().zip(&mut mom) {
            sgd_step(&mut p.value.data, &p.grad.data, m, &sgd);
        }
        marks.push(("SGD", Instant::now()));
        if step < 2 {
            continue; // warm-up
        }
        let total = (marks[marks.len() - 1].1 - marks[0].1).as_secs_f64() * 1e3;
        for (j, w) in marks.windows(2).enumerate() {
            if rows.len() <= j {
                rows.push((w[1].0, Vec::new()));
            }
            rows[j].1.push((w[1].1 - w[0].1).as_secs_f64() * 1e3);
        }
        if rows.len() == marks.len() - 1 {
            rows.push(("total (sum of the stages)", Vec::new()));
        }
        rows[marks.len() - 1].1.push(total);
    }
    Ok(rows
        .into_iter()
        .map(|(name, mut v)| {
            figure(
                format!("  CPU step stage: {name}"),
                median(&mut v),
                "ms",
                None,
            )
        })
        .collect())
}

fn fwd_name(s: &'static str) -> &'static str {
    match s {
        "backbone" => "forward backbone",
        "fpn" => "forward FPN",
        _ => "forward heads",
    }
}

fn bwd_name(s: &'static str) -> &'static str {
    match s {
        "heads" => "backward heads (incl. zero_grad)",
        "fpn" => "backward FPN",
        _ => "backward backbone",
    }
}

/// Steps per second of the app's trainer: batch 4 in a rayon pool of all cores but one.
pub fn app_trainer(steps: usize) -> Result<Figure, String> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = cores.saturating_sub(1).max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| e.to_string())?;
    let mut v = pool.install(|| -> Result<Vec<f64>, String> {
        let mut t = trainer(4)?;
        for _ in 0..2 {
            t.train_step()?;
        }
        (0..steps.max(1))
            .map(|_| t.train_step().map(|r| r.metrics.step_ms))
            .collect()
    })?;
    let m = median(&mut v);
    Ok(figure(
        format!("app trainer (batch 4, {threads} of {cores} cores), steps per second"),
        1e3 / m,
        "steps/s",
        None,
    ))
}
