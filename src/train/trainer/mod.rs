//! One training run: batches of (optionally flipped, optionally hard-positive augmented:
//! [`crate::train::hard_positives`]) images, forward, objective, backward,
//! gradient clipping, optimizer step, through the [`StepEngine`] of the run's backend (the
//! one step of [`crate::train::engine`]); evaluation on a held-out split ([`infer`]);
//! checkpoints ([`persist`]). The trainer thread and `anchorscope train` drive it step by
//! step.
//!
//! The parameters live in the engine between steps; the host copy (`model`, `opt`) is
//! brought up to date only when something reads it ([`Trainer::model`]), and pushed back
//! before the next step when something changed it ([`Trainer::model_mut`]).

mod fused;
mod infer;
mod persist;
mod placement;
#[cfg(test)]
mod tests;

use crate::anchors::Anchors;
use crate::backend::cpu::Cpu;
use crate::data::{Dataset, Sample};
use crate::model::{HeadOutputs, Model, ModelConfig, flatten_outputs, unflatten_outputs_into};
use crate::train::config::{OptimizerKind, TrainConfig};
pub use crate::train::engine::OptimState;
use crate::train::engine::{BoxedEngine, Engine};
use crate::train::hard_positives::{self, PrePass};
use crate::train::input::{hflip, images_to_tensor};
use crate::train::metrics::StepMetrics;
use crate::train::objective::{ImageGt, ObjectiveOutput, ObjectiveState, batch_objective};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::sync::Arc;
use std::time::Instant;

/// The settings a step's batch depends on (a prefetched batch is used only if they match).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct BatchKey {
    step: u64,
    batch: usize,
    seed: u64,
    hflip: u64,
}

/// Loads the batch of `key.step`: images drawn at random (seeded by seed and step), each
/// flipped with probability `hflip`; in parallel (rayon) or on the calling thread.
fn load_batch(
    train: &Arc<dyn Dataset>,
    size: (u32, u32),
    key: BatchKey,
    parallel: bool,
) -> Result<Vec<Sample>, String> {
    let mut rng =
        ChaCha8Rng::seed_from_u64(key.seed ^ (key.step + 1).wrapping_mul(0xA24B_AED4_963E_E407));
    let p_flip = f64::from_bits(key.hflip);
    let picks: Vec<(usize, bool)> = (0..key.batch)
        .map(|_| {
            (
                rng.random_range(0..train.len()),
                rng.random::<f64>() < p_flip,
            )
        })
        .collect();
    let one = |&(i, flip): &(usize, bool)| {
        let mut s = train.load(i).map_err(|e| e.to_string())?;
        if s.size() != size {
            return Err(format!(
                "{}: image {i} is {:?}, the training size is {size:?}",
                train.name(),
                s.size(),
            ));
        }
        if flip {
            hflip(&mut s);
        }
        Ok(s)
    };
    if parallel {
        picks.par_iter().map(one).collect()
    } else {
        picks.iter().map(one).collect()
    }
}

/// What one step produced.
#[derive(Clone, Debug)]
pub struct StepReport {
    /// The step's figures (also a `metrics.csv` row).
    pub metrics: StepMetrics,
    /// The objective's details (IoU and p_t samples for the histograms).
    pub objective: ObjectiveOutput,
}

/// A training run.
pub struct Trainer {
    /// Settings (may change between steps).
    pub cfg: TrainConfig,
    /// The detector (the host copy: see the module doc).
    model: Model,
    /// Optimizer state (the host copy).
    opt: OptimState,
    obj: ObjectiveState,
    train: Arc<dyn Dataset>,
    anchors: Anchors,
    size: (u32, u32),
    /// Steps done.
    pub step: u64,
    grads: Option<HeadOutputs>,
    /// The step on the run's backend (the CPU unless [`Trainer::set_backend`] moved it).
    engine: BoxedEngine,
    /// The engine holds newer parameters than `model` / `opt`.
    host_stale: bool,
    /// `model` / `opt` were changed and must go to the engine before the next step.
    engine_stale: bool,
    /// Steps that took the fused path (the backend's loss kernels).
    fused_steps: u64,
    /// The next step's batch, loading on a background thread.
    prefetch: Option<(
        BatchKey,
        std::thread::JoinHandle<Result<Vec<Sample>, String>>,
    )>,
}

impl Trainer {
    /// A fresh model for `cfg` on `train` (every image must have the first image's size).
    pub fn new(
        cfg: TrainConfig,
        model_cfg: &ModelConfig,
        train: Arc<dyn Dataset>,
    ) -> Result<Self, String> {
        cfg.validate()?;
        if train.is_empty() {
            return Err(format!("{}: the training set is empty", train.name()));
        }
        let mc = crate::train::model_snapshot::run_model_config(model_cfg, &cfg);
        let strides = mc.strides();
        if strides != cfg.lab.anchors.strides {
            return Err(format!(
                "the model's pyramid strides {strides:?} differ from the anchor strides {:?}",
                cfg.lab.anchors.strides
            ));
        }
        let model = Model::new(&mc, cfg.seed)?;
        let first = train.load(0).map_err(|e| e.to_string())?;
        let size = first.size();
        let anchors = cfg.lab.anchors.generate(size.0, size.1);
        let n = model.params().count();
        let opt = OptimState {
            m: model.params().map(|p| vec![0.0; p.len()]).collect(),
            v: if cfg.optimizer == OptimizerKind::Adamw {
                model.params().map(|p| vec![0.0; p.len()]).collect()
            } else {
                vec![Vec::new(); n]
            },
        };
        let obj = ObjectiveState::new(&cfg);
        let engine = Box::new(Engine::new(Cpu, &model, &opt));
        Ok(Self {
            cfg,
            model,
            opt,
            obj,
            train,
            anchors,
            size,
            step: 0,
            grads: None,
            engine,
            host_stale: false,
            engine_stale: false,
            fused_steps: 0,
            prefetch: None,
        })
    }

    /// The anchors of the training image size.
    pub fn anchors(&self) -> &Anchors {
        &self.anchors
    }

    /// What the batch of the current step depends on.
    fn batch_key(&self) -> BatchKey {
        BatchKey {
            step: self.step,
            batch: self.cfg.batch,
            seed: self.cfg.seed,
            hflip: self.cfg.hflip.to_bits(),
        }
    }

    /// The batch of the current step: the one prefetched during the last step when its
    /// settings still hold, else loaded now. Then starts loading the next step's batch on a
    /// background thread (scene generation overlaps the step's compute; same scenes either
    /// way, as a batch depends only on its key).
    fn batch(&mut self) -> Result<Vec<Sample>, String> {
        let key = self.batch_key();
        let batch = match self.prefetch.take() {
            Some((k, h)) if k == key => {
                h.join().unwrap_or_else(|_| Err("prefetch panicked".into()))
            }
            _ => load_batch(&self.train, self.size, key, true),
        };
        let next = BatchKey {
            step: key.step + 1,
            ..key
        };
        let (train, size) = (self.train.clone(), self.size);
        self.prefetch = std::thread::Builder::new()
            .name("anchorscope-prefetch".into())
            .spawn(move || load_batch(&train, size, next, false))
            .ok()
            .map(|h| (next, h));
        batch
    }

    /// One training step. A non-finite loss or gradient leaves the parameters unchanged and
    /// is reported in `metrics.divergence()`.
    pub fn train_step(&mut self) -> Result<StepReport, String> {
        let t0 = Instant::now();
        self.sync_engine();
        let mut batch = self.batch()?;
        let seed = self.cfg.seed ^ self.step.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        if self.cfg.hard_positives.active(self.step) {
            let pre = PrePass {
                engine: &mut *self.engine,
                anchors: &self.anchors,
                cfg: &self.cfg,
                obj: &self.obj,
            };
            hard_positives::augment(&mut batch, pre, seed)?;
        }
        let imgs: Vec<&image::RgbImage> = batch.iter().map(|s| &s.image).collect();
        let x = images_to_tensor(&imgs);
        let gts: Vec<ImageGt> = batch.iter().map(ImageGt::of).collect();
        if let Some(spec) = self.fused_spec() {
            return self.fused_step(t0, &x, &gts, seed, &spec);
        }
        let out = self.engine.forward(&x);
        let (logits, deltas) = flatten_outputs(&out);
        let o = batch_objective(
            &self.anchors,
            &gts,
            &logits,
            &deltas,
            &self.cfg,
            &mut self.obj,
            seed,
        )?;
        let lr = self.cfg.lr_at(self.step);
        let mut metrics = StepMetrics::of_objective(self.step, &o, lr);
        if metrics.divergence().is_none() {
            let grads = self.grads.get_or_insert_with(|| out.zeros_like());
            unflatten_outputs_into(&o.grad_logits, &o.grad_deltas, grads);
            metrics.grad_norm = self.engine.backward_clip(grads, self.cfg.grad_clip);
            if metrics.divergence().is_none() {
                self.optimizer_step(lr as f32);
            }
        }
        self.step += 1;
        metrics.step_ms = t0.elapsed().as_secs_f64() * 1e3;
        Ok(StepReport {
            metrics,
            objective: o,
        })
    }

    fn optimizer_step(&mut self, lr: f32) {
        let t = (self.step + 1).min(u32::MAX as u64) as u32;
        self.engine.optimizer_step(&self.cfg, lr, t);
        self.host_stale = true;
    }

    /// Each parameter's name and gradient after the last step (read from the engine).
    pub fn grads(&mut self) -> Vec<(String, crate::backend::tensor::Tensor)> {
        self.engine.grads()
    }
}
