//! The training step over the [`Backend`] trait, written once for every backend: the model,
//! its optimizer state and the step's buffers live on a backend `B` ([`Engine<B>`]); the
//! [`crate::train::Trainer`] keeps a host copy for checkpoints and moves state across with
//! [`StepEngine::pull`] / [`StepEngine::push`].
//!
//! Two ways through a step, chosen by what the backend offers
//! ([`Backend::runs_loss_kernels`]) and what the configuration needs:
//! - with the backend's loss kernels ([`StepEngine::loss_kernel_step`]): per-anchor targets
//!   (assignment and a sampler that does not look at losses, computed on the host) go to the
//!   backend; forward, the loss kernels, backward and clipping run there; ONE small readback
//!   (5 loss sums and the squared gradient norm) decides whether the optimizer step runs;
//! - with the host objective ([`StepEngine::forward`] + [`StepEngine::backward_clip`]): the
//!   head outputs come to the host objective (any loss, any sampler), its gradients go back.
//!   The CPU backend always takes this path (its objective is the reference); the GPU takes
//!   it for the configurations its loss kernels do not cover and for evaluation.

use crate::backend::head_loss::{AnchorTargets, HeadLevel, HeadLossSpec, PARTIALS_PER_ANCHOR};
use crate::backend::tensor::Tensor;
use crate::backend::{AdamWConfig, Backend, SgdConfig};
use crate::model::{HeadOutputs, Model};
use crate::train::config::{OptimizerKind, TrainConfig};

/// Optimizer state on the host, one buffer per parameter (same order as `Model::params`).
#[derive(Clone, Debug, Default)]
pub struct OptimState {
    /// SGD momentum buffers, or AdamW first moments.
    pub m: Vec<Vec<f32>>,
    /// AdamW second moments (empty for SGD).
    pub v: Vec<Vec<f32>>,
}

/// What a step with the loss kernels reads back: the loss sums of
/// [`Backend::loss_sums`] and the squared gradient norm.
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

/// A training step on some backend, as the trainer drives it (object safe, so a run can
/// move between backends).
pub trait StepEngine {
    /// "cpu", or "gpu: " and the adapter's name.
    fn device_name(&self) -> String;
    /// See [`Backend::runs_loss_kernels`].
    fn runs_loss_kernels(&self) -> bool;
    /// Uploads parameter values and optimizer state from the host copy.
    fn push(&mut self, model: &Model, opt: &OptimState);
    /// Downloads parameter values and optimizer state into the host copy.
    fn pull(&mut self, model: &mut Model, opt: &mut OptimState);
    /// Forward on a batch; the head outputs come to the host.
    fn forward(&mut self, x: &Tensor) -> HeadOutputs;
    /// Backward from host gradients of the head outputs of the last [`StepEngine::forward`],
    /// then gradient clipping (`clip` <= 0: none). Returns the norm before clipping.
    fn backward_clip(&mut self, d: &HeadOutputs, clip: f64) -> f64;
    /// Backward from host gradients of the head outputs of the last [`StepEngine::forward`]
    /// down to the input: returns the gradient with respect to the input batch (the
    /// parameter gradients are overwritten too; the next step zeroes them).
    fn input_grad(&mut self, d: &HeadOutputs) -> Tensor;
    /// A step up to the optimizer with the backend's loss kernels: uploads `x` and `targets`,
    /// runs forward, the loss kernels of `spec` (gradients scaled by `scale`), backward and
    /// clipping, and reads back the sums (one small readback).
    fn loss_kernel_step(
        &mut self,
        x: &Tensor,
        spec: &HeadLossSpec,
        targets: &AnchorTargets,
        scale: (f32, f32),
        clip: f64,
    ) -> FusedSums;
    /// The optimizer step for step number `t` (from 1) at learning rate `lr`.
    fn optimizer_step(&mut self, cfg: &TrainConfig, lr: f32, t: u32);
    /// Each parameter's name and current gradient (for checks).
    fn grads(&mut self) -> Vec<(String, Tensor)>;
}

/// A step engine on any backend, owned by a trainer that rayon shares between threads.
pub type BoxedEngine = Box<dyn StepEngine + Send + Sync>;

/// The model on backend `B` with its optimizer state and reusable step buffers.
pub struct Engine<B: Backend> {
    be: B,
    model: Model<B::Buf, B::Idx>,
    /// SGD velocity or AdamW first moments, per parameter.
    m: Vec<B::Buf>,
    /// AdamW second moments (allocated on the first AdamW step).
    v: Vec<B::Buf>,
    input: B::Buf,
    out: HeadOutputs<B::Buf>,
    grads: HeadOutputs<B::Buf>,
    sumsq: B::Buf,
    /// Loss-kernel step: the uploaded targets, per-anchor loss partials, and the sums.
    targets: Option<B::Targets>,
    partials: B::Buf,
    sums: B::Buf,
}

/// Elements of a buffer of shape `shape`.
fn numel(shape: [usize; 4]) -> usize {
    shape.iter().product()
}

impl<B: Backend> Engine<B> {
    /// Copies `model` and `opt` onto `be`.
    pub fn new(mut be: B, model: &Model, opt: &OptimState) -> Self {
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

    /// Zeroes the parameter gradients, back-propagates `self.grads`, clips, reads the norm.
    fn backward_from_grads(&mut self, clip: f64) -> f64 {
        self.model.zero_grad_on(&mut self.be);
        self.model.backward_on(&mut self.be, &self.grads);
        self.clip_grads(clip);
        (self.be.download(&self.sumsq).data[0] as f64).sqrt()
    }

    /// Clips the gradients' global norm to `clip` (<= 0: no clipping); the squared norm
    /// before clipping goes to `self.sumsq`.
    fn clip_grads(&mut self, clip: f64) {
        let max = if clip > 0.0 {
            clip as f32
        } else {
            f32::INFINITY
        };
        let mut g: Vec<&mut B::Buf> = self.model.params_mut().map(|p| &mut p.grad).collect();
        self.be.clip_grad_norm(&mut g, max, &mut self.sumsq);
    }
}

/// Host tensors into backend buffers (`dst` grown or shrunk to `src`'s length).
fn upload_all<B: Backend>(be: &mut B, src: &[Tensor], dst: &mut Vec<B::Buf>) {
    dst.truncate(src.len());
    while dst.len() < src.len() {
        dst.push(be.zeros([0; 4]));
    }
    for (s, d) in src.iter().zip(dst.iter_mut()) {
        be.upload(s, d);
    }
}

/// Flat host buffers (possibly empty) into backend buffers of the same lengths.
fn upload_flat<B: Backend>(be: &mut B, bufs: &[Vec<f32>]) -> Vec<B::Buf> {
    bufs.iter()
        .map(|b| {
            let mut t = be.zeros([1, 1, 1, b.len()]);
            if !b.is_empty() {
                be.upload(&Tensor::from_vec([1, 1, 1, b.len()], b.clone()), &mut t);
            }
            t
        })
        .collect()
}

/// Backend buffers into flat host buffers (an empty buffer stays empty).
fn download_flat<B: Backend>(be: &mut B, bufs: &[B::Buf]) -> Vec<Vec<f32>> {
    bufs.iter()
        .map(|t| {
            if numel(B::shape(t)) == 0 {
                Vec::new()
            } else {
                be.download(t).data
            }
        })
        .collect()
}

impl<B: Backend> StepEngine for Engine<B> {
    fn device_name(&self) -> String {
        self.be.device_name()
    }

    fn runs_loss_kernels(&self) -> bool {
        self.be.runs_loss_kernels()
    }

    fn push(&mut self, model: &Model, opt: &OptimState) {
        model.upload_values_to(&mut self.be, &mut self.model);
        self.m = upload_flat(&mut self.be, &opt.m);
        self.v = upload_flat(&mut self.be, &opt.v);
    }

    fn pull(&mut self, model: &mut Model, opt: &mut OptimState) {
        model.copy_values_from(&mut self.be, &self.model);
        opt.m = download_flat(&mut self.be, &self.m);
        opt.v = download_flat(&mut self.be, &self.v);
    }

    fn forward(&mut self, x: &Tensor) -> HeadOutputs {
        self.be.upload(x, &mut self.input);
        self.model
            .forward_swapping_on(&mut self.be, &mut self.input, &mut self.out);
        let be = &mut self.be;
        HeadOutputs {
            cls: self.out.cls.iter().map(|t| be.download(t)).collect(),
            reg: self.out.reg.iter().map(|t| be.download(t)).collect(),
        }
    }

    fn backward_clip(&mut self, d: &HeadOutputs, clip: f64) -> f64 {
        upload_all(&mut self.be, &d.cls, &mut self.grads.cls);
        upload_all(&mut self.be, &d.reg, &mut self.grads.reg);
        self.backward_from_grads(clip)
    }

    fn input_grad(&mut self, d: &HeadOutputs) -> Tensor {
        upload_all(&mut self.be, &d.cls, &mut self.grads.cls);
        upload_all(&mut self.be, &d.reg, &mut self.grads.reg);
        self.model.zero_grad_on(&mut self.be);
        let dx = self.model.backward_with_input_on(&mut self.be, &self.grads);
        self.be.download(dx)
    }

    fn loss_kernel_step(
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
            let [_, _, h, w] = B::shape(&self.out.cls[l]);
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
            "loss-kernel step: anchors per image"
        );
        be.loss_sums(&self.partials, targets.len(), &mut self.sums, 0);
        self.model.zero_grad_on(&mut self.be);
        self.model.backward_on(&mut self.be, &self.grads);
        self.clip_grads(clip);
        let be = &mut self.be;
        be.copy_range(&self.sumsq, 0, &mut self.sums, PARTIALS_PER_ANCHOR, 1);
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

    fn optimizer_step(&mut self, cfg: &TrainConfig, lr: f32, t: u32) {
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
                    if numel(B::shape(&self.v[k])) != p.len() {
                        // Switched from SGD mid-run: the second moments start at zero.
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
        be.submit();
    }

    fn grads(&mut self) -> Vec<(String, Tensor)> {
        let be = &mut self.be;
        self.model
            .params()
            .map(|p| (p.name.clone(), be.download(&p.grad)))
            .collect()
    }
}
