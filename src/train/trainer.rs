//! One training run on the CPU backend: batches of (optionally flipped) images, forward,
//! objective, backward, gradient clipping, optimizer step; evaluation on a held-out split;
//! checkpoints. The trainer thread and `anchorscope train` drive it step by step.

use crate::anchors::Anchors;
use crate::backend::cpu::norm::clip_grad_norm;
use crate::backend::cpu::optim::{AdamWConfig, SgdConfig, adamw_step, sgd_step};
use crate::backend::tensor::Tensor;
use crate::data::{Dataset, Sample};
use crate::model::{HeadOutputs, Model, ModelConfig, flatten_outputs, unflatten_outputs_into};
use crate::train::checkpoint::{Checkpoint, NamedTensor};
use crate::train::config::{OptimizerKind, TrainConfig};
use crate::train::detect::{DetectConfig, Detection, detect};
use crate::train::eval::{ApSummary, EvalImage, evaluate};
use crate::train::metrics::StepMetrics;
use crate::train::objective::{ImageGt, ObjectiveOutput, ObjectiveState, batch_objective};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

/// Input normalisation: `(pixel / 255 - MEAN) / STD` on every channel.
const MEAN: f32 = 0.5;
const STD: f32 = 0.25;

/// Converts RGB images of one size to a normalised `[N, 3, H, W]` tensor.
pub fn images_to_tensor(images: &[&image::RgbImage]) -> Tensor {
    let (w, h) = images[0].dimensions();
    let (w, h) = (w as usize, h as usize);
    let mut t = Tensor::zeros([images.len(), 3, h, w]);
    t.data
        .par_chunks_mut(3 * h * w)
        .zip(images)
        .for_each(|(dst, img)| {
            for (i, p) in img.pixels().enumerate() {
                for c in 0..3 {
                    dst[c * h * w + i] = (p.0[c] as f32 / 255.0 - MEAN) / STD;
                }
            }
        });
    t
}

/// Mirrors a sample left-right (image and boxes).
pub fn hflip(s: &mut Sample) {
    image::imageops::flip_horizontal_in_place(&mut s.image);
    let w = s.image.width() as f32;
    for b in &mut s.boxes {
        *b = [w - b[2], b[1], w - b[0], b[3]];
    }
}

/// Optimizer state, one buffer per parameter (same order as `Model::params`).
#[derive(Clone, Debug, Default)]
pub struct OptimState {
    /// SGD momentum buffers, or AdamW first moments.
    pub m: Vec<Vec<f32>>,
    /// AdamW second moments (empty for SGD).
    pub v: Vec<Vec<f32>>,
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
    /// The detector.
    pub model: Model,
    /// Optimizer state.
    pub opt: OptimState,
    obj: ObjectiveState,
    train: Arc<dyn Dataset>,
    anchors: Anchors,
    size: (u32, u32),
    /// Steps done.
    pub step: u64,
    grads: Option<HeadOutputs>,
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
        let mut mc = model_cfg.clone();
        mc.num_classes = cfg.num_classes;
        mc.num_anchors = cfg.lab.anchors.anchors_per_location();
        mc.prior_prob = cfg.lab.prior_prob;
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
        })
    }

    /// The anchors of the training image size.
    pub fn anchors(&self) -> &Anchors {
        &self.anchors
    }

    /// Loads the batch of step `step`: images drawn at random (seeded by seed and step),
    /// each flipped with probability `hflip`.
    fn batch(&self) -> Result<Vec<Sample>, String> {
        let mut rng = ChaCha8Rng::seed_from_u64(
            self.cfg.seed ^ (self.step + 1).wrapping_mul(0xA24B_AED4_963E_E407),
        );
        let picks: Vec<(usize, bool)> = (0..self.cfg.batch)
            .map(|_| {
                (
                    rng.random_range(0..self.train.len()),
                    rng.random::<f64>() < self.cfg.hflip,
                )
            })
            .collect();
        picks
            .par_iter()
            .map(|&(i, flip)| {
                let mut s = self.train.load(i).map_err(|e| e.to_string())?;
                if s.size() != self.size {
                    return Err(format!(
                        "{}: image {i} is {:?}, the training size is {:?}",
                        self.train.name(),
                        s.size(),
                        self.size
                    ));
                }
                if flip {
                    hflip(&mut s);
                }
                Ok(s)
            })
            .collect()
    }

    /// One training step. A non-finite loss or gradient leaves the parameters unchanged and
    /// is reported in `metrics.divergence()`.
    pub fn train_step(&mut self) -> Result<StepReport, String> {
        let t0 = Instant::now();
        let batch = self.batch()?;
        let imgs: Vec<&image::RgbImage> = batch.iter().map(|s| &s.image).collect();
        let x = images_to_tensor(&imgs);
        let out = self.model.forward(&x);
        let (logits, deltas) = flatten_outputs(&out);
        let gts: Vec<ImageGt> = batch
            .iter()
            .map(|s| ImageGt {
                boxes: &s.boxes,
                classes: &s.classes,
            })
            .collect();
        let seed = self.cfg.seed ^ self.step.wrapping_mul(0x9E37_79B9_7F4A_7C15);
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
        let mut metrics = StepMetrics {
            step: self.step,
            loss_total: o.total,
            loss_cls: o.loss_cls,
            loss_reg: o.loss_reg,
            num_pos: o.num_pos,
            num_neg: o.num_neg_used,
            share_pos: o.share_pos(),
            grad_norm: 0.0,
            lr,
            step_ms: 0.0,
        };
        if metrics.divergence().is_none() {
            let grads = self.grads.get_or_insert_with(|| out.zeros_like());
            unflatten_outputs_into(&o.grad_logits, &o.grad_deltas, grads);
            self.model.zero_grad();
            self.model.backward(grads);
            let mut g: Vec<&mut [f32]> = self
                .model
                .params_mut()
                .map(|p| p.grad.data.as_mut_slice())
                .collect();
            let clip = if self.cfg.grad_clip > 0.0 {
                self.cfg.grad_clip as f32
            } else {
                f32::INFINITY
            };
            metrics.grad_norm = clip_grad_norm(&mut g, clip) as f64;
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
        let cfg = &self.cfg;
        let t = (self.step + 1).min(u32::MAX as u64) as u32;
        for (k, p) in self.model.params_mut().enumerate() {
            match cfg.optimizer {
                OptimizerKind::Sgd => sgd_step(
                    &mut p.value.data,
                    &p.grad.data,
                    &mut self.opt.m[k],
                    &SgdConfig {
                        lr,
                        momentum: cfg.momentum as f32,
                        weight_decay: cfg.weight_decay as f32,
                    },
                ),
                OptimizerKind::Adamw => adamw_step(
                    &mut p.value.data,
                    &p.grad.data,
                    &mut self.opt.m[k],
                    &mut self.opt.v[k],
                    t,
                    &AdamWConfig {
                        lr,
                        beta1: cfg.adam_betas[0] as f32,
                        beta2: cfg.adam_betas[1] as f32,
                        eps: cfg.adam_eps as f32,
                        weight_decay: cfg.weight_decay as f32,
                    },
                ),
            }
        }
    }

    /// Per-anchor class probabilities `[anchors][C]` and detections for one image.
    pub fn predict(
        &mut self,
        image: &image::RgbImage,
        det: &DetectConfig,
    ) -> (Vec<f32>, Vec<Detection>) {
        let x = images_to_tensor(&[image]);
        let out = self.model.forward(&x);
        let (logits, deltas) = flatten_outputs(&out);
        let dets = detect(
            &self.anchors,
            &logits,
            &deltas,
            self.cfg.num_classes,
            &self.cfg.coder,
            self.size,
            det,
        );
        let probs = logits.iter().map(|&x| 1.0 / (1.0 + (-x).exp())).collect();
        (probs, dets)
    }

    /// AP on the first `n` images of `ds` (batches of `cfg.batch`).
    pub fn evaluate(&mut self, ds: &dyn Dataset, n: usize) -> Result<ApSummary, String> {
        let n = n.min(ds.len());
        let det_cfg = DetectConfig::default();
        let mut samples = Vec::with_capacity(n);
        let mut dets = Vec::with_capacity(n);
        let bs = self.cfg.batch.max(1);
        for start in (0..n).step_by(bs) {
            let chunk: Vec<Sample> = (start..(start + bs).min(n))
                .into_par_iter()
                .map(|i| ds.load(i).map_err(|e| e.to_string()))
                .collect::<Result<_, _>>()?;
            let imgs: Vec<&image::RgbImage> = chunk.iter().map(|s| &s.image).collect();
            let out = self.model.forward(&images_to_tensor(&imgs));
            let (logits, deltas) = flatten_outputs(&out);
            let (a, c) = (self.anchors.len(), self.cfg.num_classes);
            for k in 0..chunk.len() {
                dets.push(detect(
                    &self.anchors,
                    &logits[k * a * c..(k + 1) * a * c],
                    &deltas[k * a * 4..(k + 1) * a * 4],
                    c,
                    &self.cfg.coder,
                    self.size,
                    &det_cfg,
                ));
            }
            samples.extend(chunk);
        }
        let images: Vec<EvalImage> = samples
            .iter()
            .zip(&dets)
            .map(|(s, d)| EvalImage {
                gt_boxes: &s.boxes,
                gt_classes: &s.classes,
                dets: d,
            })
            .collect();
        Ok(evaluate(&images, self.cfg.num_classes))
    }

    /// The run as a checkpoint (parameters, optimizer state, step, config).
    pub fn checkpoint(&self) -> Result<Checkpoint, String> {
        let params = self
            .model
            .params()
            .map(|p| NamedTensor {
                name: p.name.clone(),
                shape: p.shape.clone(),
                data: p.value.data.clone(),
            })
            .collect();
        let mut optimizer = Vec::new();
        for (p, (m, v)) in self.model.params().zip(self.opt.m.iter().zip(&self.opt.v)) {
            optimizer.push(NamedTensor {
                name: format!("{}.m", p.name),
                shape: p.shape.clone(),
                data: m.clone(),
            });
            if !v.is_empty() {
                optimizer.push(NamedTensor {
                    name: format!("{}.v", p.name),
                    shape: p.shape.clone(),
                    data: v.clone(),
                });
            }
        }
        Ok(Checkpoint {
            params,
            optimizer,
            step: self.step,
            config_toml: self.cfg.to_toml()?,
        })
    }

    /// Writes a checkpoint atomically.
    pub fn save(&self, path: &Path) -> Result<(), String> {
        self.checkpoint()?.save(path).map_err(|e| e.to_string())
    }

    /// Loads parameters and optimizer state from a checkpoint of the same model.
    pub fn load(&mut self, path: &Path) -> Result<(), String> {
        let ck = Checkpoint::load(path).map_err(|e| e.to_string())?;
        for (k, p) in self.model.params_mut().enumerate() {
            let t = ck
                .params
                .iter()
                .find(|t| t.name == p.name)
                .ok_or_else(|| format!("{}: no tensor {}", path.display(), p.name))?;
            if t.shape != p.shape || t.data.len() != p.value.data.len() {
                return Err(format!(
                    "{}: tensor {} has shape {:?}, the model needs {:?}",
                    path.display(),
                    p.name,
                    t.shape,
                    p.shape
                ));
            }
            p.value.data.copy_from_slice(&t.data);
            if let Some(m) = ck
                .optimizer
                .iter()
                .find(|t| t.name == format!("{}.m", p.name))
            {
                self.opt.m[k].copy_from_slice(&m.data);
            }
            if let Some(v) = ck
                .optimizer
                .iter()
                .find(|t| t.name == format!("{}.v", p.name))
                && !self.opt.v[k].is_empty()
            {
                self.opt.v[k].copy_from_slice(&v.data);
            }
        }
        self.step = ck.step;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> (TrainConfig, ModelConfig, Arc<dyn Dataset>) {
        let mut cfg = TrainConfig {
            batch: 2,
            warmup_steps: 0,
            ..TrainConfig::default()
        };
        cfg.lab.anchors.strides = vec![8, 16, 32];
        let ds = SyntheticDatasetForTests::new();
        (cfg, ModelConfig::default(), ds)
    }

    struct SyntheticDatasetForTests;
    impl SyntheticDatasetForTests {
        fn new() -> Arc<dyn Dataset> {
            let mut c = crate::data::SyntheticConfig::default();
            c.width = 64;
            c.height = 64;
            c.size_range = [12.0, 40.0];
            Arc::new(crate::data::SyntheticDataset::new(c, 1).with_len(50))
        }
    }

    #[test]
    fn steps_are_finite_deterministic_and_learn() {
        let (cfg, mc, ds) = tiny();
        let mut a = Trainer::new(cfg.clone(), &mc, ds.clone()).unwrap();
        let mut b = Trainer::new(cfg, &mc, ds).unwrap();
        let mut first = None;
        let mut last = 0.0;
        for _ in 0..15 {
            let ra = a.train_step().unwrap();
            let rb = b.train_step().unwrap();
            for p in a.model.params() {
                assert!(
                    p.grad.data.iter().all(|g| g.is_finite()),
                    "{} has non-finite grads",
                    p.name
                );
            }
            assert_eq!(ra.metrics.divergence(), None, "{:?}", ra.metrics);
            assert_eq!(
                ra.metrics.loss_total, rb.metrics.loss_total,
                "deterministic"
            );
            first.get_or_insert(ra.metrics.loss_total);
            last = ra.metrics.loss_total;
        }
        assert!(last < first.unwrap(), "loss {first:?} -> {last}");
    }
}
