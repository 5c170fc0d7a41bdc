//! The GPU side of a training run: the model, its optimizer state and the step's buffers on
//! a [`GpuBackend`]. The [`crate::train::Trainer`] keeps the CPU copy for checkpoints and
//! moves state across with [`GpuEngine::pull`] / [`GpuEngine::push`].
//!
//! Two ways through a step:
//! - fused ([`GpuEngine::fused_step`]): per-anchor targets (assignment and a sampler that
//!   does not look at losses, computed on the CPU) go up; forward, the loss kernels,
//!   backward and clipping run on the GPU; ONE small readback (5 loss sums and the squared
//!   gradient norm) decides whether the optimizer step is recorded;
//! - hybrid ([`GpuEngine::forward`] + [`GpuEngine::backward_clip`]): the head outputs come
//!   back to the CPU objective (any loss, any sampler), its gradients go up. Used for the
//!   configurations the loss kernels do not cover (loss-aware samplers, GHM-C, QFL, the IoU
//!   family, guided weighting) and for evaluation.

use std::sync::Arc;

use crate::backend::Backend;
use crate::backend::{AdamWConfig, SgdConfig};
use crate::backend::gpu::loss::GpuAnchorTargets;
use crate::backend::gpu::{GpuBackend, GpuContext, GpuTensor};
use crate::backend::head_loss::{AnchorTargets, HeadLevel, HeadLossSpec, PARTIALS_PER_ANCHOR};
use crate::backend::tensor::Tensor;
use crate::model::{HeadOutputs, Model};
use crate::train::config::{OptimizerKind, TrainConfig};
use crate::train::trainer::OptimState;

/// The model on the GPU with its optimizer state and reusable step buffers.
pub struct GpuEngine {
    be: GpuBackend,
    model: Model<GpuTensor, GpuTensor>,
    /// SGD velocity or AdamW first moments, per parameter.
    m: Vec<GpuTensor>,
    /// AdamW second moments (allocated on the first AdamW step).
    v: Vec<GpuTensor>,
    input: GpuTensor,
    out: HeadOutputs<GpuTensor>,
    grads: HeadOutputs<GpuTensor>,
    sumsq: GpuTensor,
    /// Fused step: the uploaded targets, per-anchor loss partials, and the read-back sums.
    targets: Option<GpuAnchorTargets>,
    partials: GpuTensor,
    sums: GpuTensor,
}

/// What a fused step reads back: the loss sums of [`record_loss_sums`] and the squared
/// gradient norm.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FusedSums {
    /// Sum of sampler-weighted classification losses over positive-target elements.
    pub cls_pos: f64,
    /// The same over negative-target elements.
    pub cls_neg: f64,
    /// Sum of weighted regression losses.
    pub reg: f64,
    /// Anchors with a non-finite logit.
    pub nonfinite_cls: f64,
    /// Anchors with a non-finite delta.
    pub nonfinite_reg: f64,
    /// Squared global gradient norm before clipping.
    pub grad_sumsq: f64,
}

impl GpuEngine {
    /// Copies `model` and `opt` onto the GPU of `ctx`.
    pub fn new(ctx: Arc<GpuContext>, model: &Model, opt: &OptimState) -> Self {
        let mut be = GpuBackend::new(ctx);
        let gm = model.to_backend(&mut be);
        let mut e = Self {
            input: be.zeros([0; 4]),
            sumsq: be.zeros([1, 1, 1, 1]),
            m: Vec::new(),
            v: Vec::new(),
            out: HeadOutputs::default(),
            grads: HeadOutputs::default(),
            targets: None,
            partials: be.zeros([1, 1, 1, 1]),
            sums: be.zeros([1, 1, 1, PARTIALS_PER_ANCHOR + 1]),
            model: gm,
            be,
        };
        e.push(model, opt);
        e
    }

    /// The adapter's name (for logs and the UI).
    pub fn adapter(&self) -> String {
        let i = &self.be.ctx.info;
        format!("{} ({:?})", i.name, i.backend)
    }

    /// Uploads parameter values and optimizer state from the CPU copy.
    pub fn push(&mut self, model: &Model, opt: &OptimState) {
        model.upload_values_to(&mut self.be, &mut self.model);
        let up = |be: &mut GpuBackend, bufs: &[Vec<f32>]| -> Vec<GpuTensor> {
            bufs.iter()
                .map(|b| {
                    let t = be.zeros([1, 1, 1, b.len()]);
                    if !b.is_empty() {
                        be.write(&t, b);
                    }
                    t
                })
                .collect()
        };
        self.m = up(&mut self.be, &opt.m);
        self.v = up(&mut self.be, &opt.v);
    }

    /// Downloads parameter values and optimizer state into the CPU copy.
    pub fn pull(&mut self, model: &mut Model, opt: &mut OptimState) {
        model.copy_values_from(&mut self.be, &self.model);
        let down = |be: &mut GpuBackend, bufs: &[GpuTensor]| -> Vec<Vec<f32>> {
            bufs.iter()
                .map(|t| {
                    if t.is_empty() {
                        Vec::new()
                    } else {
                        be.download(t).data
                    }
                })
                .collect()
        };
        opt.m = down(&mut self.be, &self.m);
        opt.v = down(&mut self.be, &self.v);
    }

    /// Forward on a batch; the head outputs come back to the CPU.
    pub fn forward(&mut self, x: &Tensor) -> HeadOutputs {
        self.be.upload(x, &mut self.input);
        self.model
            .forward_on(&mut self.be, &self.input, &mut self.out);
        let be = &mut self.be;
        HeadOutputs {
            cls: self.out.cls.iter().map(|t| be.download(t)).collect(),
            reg: self.out.reg.iter().map(|t| be.download(t)).collect(),
        }
    }

    /// Backward from gradients of the head outputs of the last [`GpuEngine::forward`]
    /// computed on the CPU, then gradient clipping (`clip` <= 0: none). Returns the gradient
    /// norm before clipping (one readback).
    pub fn backward_clip(&mut self, d: &HeadOutputs, clip: f64) -> f64 {
        let be = &mut self.be;
        let up = |be: &mut GpuBackend, src: &[Tensor], dst: &mut Vec<GpuTensor>| {
            dst.truncate(src.len());
            while dst.len() < src.len() {
                dst.push(be.zeros([0; 4]));
            }
            for (s, d) in src.iter().zip(dst.iter_mut()) {
                be.upload(s, d);
            }
        };
        up(be, &d.cls, &mut self.grads.cls);
        up(be, &d.reg, &mut self.grads.reg);
        self.backward_from_grads(clip)
    }

    /// Zeroes the parameter gradients, back-propagates `self.grads`, clips, reads the norm.
    fn backward_from_grads(&mut self, clip: f64) -> f64 {
        let be = &mut self.be;
        self.model.zero_grad_on(be);
        self.model.backward_on(be, &self.grads);
        self.clip_and_read_norm(clip)
    }

    fn clip_and_read_norm(&mut self, clip: f64) -> f64 {
        let max = if clip > 0.0 {
            clip as f32
        } else {
            f32::INFINITY
        };
        let mut g: Vec<&mut GpuTensor> = self.model.params_mut().map(|p| &mut p.grad).collect();
        self.be.clip_grad_norm(&mut g, max, &mut self.sumsq);
        (self.be.download(&self.sumsq).data[0] as f64).sqrt()
    }

    /// A fused step up to the optimizer: uploads `x` and `targets`, runs forward, the loss
    /// kernels of `spec` (gradients scaled by `gc` / `gr`), backward and clipping, and reads
    /// back the sums (one small readback).
    pub fn fused_step(
        &mut self,
        x: &Tensor,
        spec: &HeadLossSpec,
        targets: &AnchorTargets,
        scale: (f32, f32),
        clip: f64,
    ) -> FusedSums {
        let be = &mut self.be;
        be.upload(x, &mut self.input);
        be.set_targets(targets, &mut self.targets);
        self.model.forward_on(be, &self.input, &mut self.out);
        let (a, c) = (
            self.model.config().num_anchors,
            self.model.config().num_classes,
        );
        let t = self.targets.as_ref().expect("targets uploaded");
        let mut level_start = 0;
        for l in 0..self.out.cls.len() {
            for dst in [&mut self.grads.cls, &mut self.grads.reg] {
                while dst.len() <= l {
                    dst.push(be.zeros([0; 4]));
                }
            }
            let [_, _, h, w] = self.out.cls[l].shape;
            let level = HeadLevel {
                a,
                c,
                h,
                w,
                level_start,
                anchors_per_image: targets.anchors_per_image,
            };
            let (gc, gr) = (&mut self.grads.cls[l], &mut self.grads.reg[l]);
            let (oc, or) = (&self.out.cls[l], &self.out.reg[l]);
            be.head_loss(spec, &level, oc, or, t, gc, gr, &mut self.partials, scale);
            level_start += h * w * a;
        }
        assert_eq!(
            level_start, targets.anchors_per_image,
            "fused step: anchors per image"
        );
        be.loss_sums(&self.partials, targets.len(), &mut self.sums, 0);
        self.model.zero_grad_on(be);
        self.model.backward_on(be, &self.grads);
        let max = if clip > 0.0 {
            clip as f32
        } else {
            f32::INFINITY
        };
        let mut g: Vec<&mut GpuTensor> = self.model.params_mut().map(|p| &mut p.grad).collect();
        be.clip_grad_norm(&mut g, max, &mut self.sumsq);
        let (_, enc) = be.recorder();
        let at = (PARTIALS_PER_ANCHOR * 4) as u64;
        enc.copy_buffer_to_buffer(&self.sumsq.buffer, 0, &self.sums.buffer, at, 4);
        let s = be.download(&self.sums).data;
        let f = |i: usize| s[i] as f64;
        FusedSums {
            cls_pos: f(0),
            cls_neg: f(1),
            reg: f(2),
            nonfinite_cls: f(3),
            nonfinite_reg: f(4),
            grad_sumsq: f(5),
        }
    }

    /// Records the optimizer step for step number `t` (from 1) and submits it.
    pub fn optimizer_step(&mut self, cfg: &TrainConfig, lr: f32, t: u32) {
        let be = &mut self.be;
        for (k, p) in self.model.params_mut().enumerate() {
            match cfg.optimizer {
                OptimizerKind::Sgd => {
                    let c = SgdConfig {
                        lr,
                        momentum: cfg.momentum as f32,
                        weight_decay: cfg.weight_decay as f32,
                    };
                    be.sgd_step(&mut p.value, &p.grad, &mut self.m[k], &c);
                }
                OptimizerKind::Adamw => {
                    if self.v[k].len() != p.len() {
                        self.v[k] = be.zeros([1, 1, 1, p.len()]);
                    }
                    let c = AdamWConfig {
                        lr,
                        beta1: cfg.adam_betas[0] as f32,
                        beta2: cfg.adam_betas[1] as f32,
                        eps: cfg.adam_eps as f32,
                        weight_decay: cfg.weight_decay as f32,
                    };
                    be.adamw_step(&mut p.value, &p.grad, &mut self.m[k], &mut self.v[k], t, &c);
                }
            }
        }
        be.flush();
    }
}
