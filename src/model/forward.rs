//! Forward pass: backbone, FPN, optional balanced pyramid, shared heads on every level,
//! written once against [`Backend`].

use super::HeadOutputs;
use super::net::{Acts, Model};
use super::param::Conv;
use crate::backend::Backend;
use crate::backend::cpu::Cpu;
use crate::backend::tensor::Tensor;

/// `y = relu(conv(x))`.
fn conv_relu<B: Backend>(be: &mut B, conv: &Conv<B::Buf>, x: &B::Buf, y: &mut B::Buf) {
    conv.forward_relu_on(be, x, y);
}

/// Makes `v` hold exactly `n` entries (new ones from `make`, extras dropped; buffers reused).
pub(super) fn ensure_with<T>(v: &mut Vec<T>, n: usize, mut make: impl FnMut() -> T) {
    v.truncate(n);
    while v.len() < n {
        v.push(make());
    }
}

/// Makes `v` hold exactly `n` tensors of `be` (new ones empty).
pub(super) fn ensure_bufs<B: Backend>(be: &mut B, v: &mut Vec<B::Buf>, n: usize) {
    ensure_with(v, n, || be.zeros([0; 4]));
}

/// One head on one level: hidden convs with ReLU (kept in `hidden`), then the output conv.
fn head_forward<B: Backend>(
    be: &mut B,
    convs: &[Conv<B::Buf>],
    x: &B::Buf,
    hidden: &mut Vec<B::Buf>,
    out: &mut B::Buf,
) {
    let n = convs.len() - 1;
    ensure_bufs(be, hidden, n);
    for (j, conv) in convs[..n].iter().enumerate() {
        let (done, rest) = hidden.split_at_mut(j);
        conv_relu(be, conv, done.last().unwrap_or(x), &mut rest[0]);
    }
    convs[n].forward_on(be, hidden.last().unwrap_or(x), out);
}

impl Model {
    /// Runs the model on a batch `[N, C, H, W]` on the CPU: per-level logits
    /// `[N, A*C, H_l, W_l]` and box deltas `[N, A*4, H_l, W_l]`. Keeps the activations that
    /// [`Model::backward`] needs.
    pub fn forward(&mut self, x: &Tensor) -> HeadOutputs {
        let mut out = HeadOutputs::default();
        self.forward_into(x, &mut out);
        out
    }

    /// Like [`Model::forward`], writing into `out` (its buffers reused).
    pub fn forward_into(&mut self, x: &Tensor, out: &mut HeadOutputs) {
        self.forward_on(&mut Cpu, x, out);
    }
}

impl<T, I> Model<T, I> {
    /// [`Model::forward`] on backend `be`: `x` is the batch on that backend, `out` receives
    /// the head outputs (its buffers reused).
    pub fn forward_on<B: Backend<Buf = T, Idx = I>>(
        &mut self,
        be: &mut B,
        x: &T,
        out: &mut HeadOutputs<T>,
    ) {
        self.forward_marked_on(be, x, out, &mut |_| {});
    }

    /// [`Model::forward_on`], calling `mark` after each layer group ("backbone", "fpn",
    /// "heads"): the hook of the per-stage timings of `anchorscope bench`.
    pub fn forward_marked_on<B: Backend<Buf = T, Idx = I>>(
        &mut self,
        be: &mut B,
        x: &T,
        out: &mut HeadOutputs<T>,
        mark: &mut dyn FnMut(&'static str),
    ) {
        be.copy(x, &mut self.acts.input);
        self.forward_held_on(be, out, mark);
    }

    /// [`Model::forward_on`] taking the batch by swapping buffers with `x` instead of
    /// copying it (the model keeps its input for the backward pass): `x` comes back holding
    /// the buffer of an earlier batch.
    pub fn forward_swapping_on<B: Backend<Buf = T, Idx = I>>(
        &mut self,
        be: &mut B,
        x: &mut T,
        out: &mut HeadOutputs<T>,
    ) {
        std::mem::swap(x, &mut self.acts.input);
        self.forward_held_on(be, out, &mut |_| {});
    }

    /// The forward pass from the batch already in the model's input buffer.
    fn forward_held_on<B: Backend<Buf = T, Idx = I>>(
        &mut self,
        be: &mut B,
        out: &mut HeadOutputs<T>,
        mark: &mut dyn FnMut(&'static str),
    ) {
        let a = &mut self.acts;
        let xc = B::shape(&a.input)[1];
        assert_eq!(
            xc, self.config.in_channels,
            "model: input has {xc} channels, the model expects {}",
            self.config.in_channels
        );
        // Backbone: C_i = relu(conv_i(C_{i-1})), stride 2 each.
        ensure_bufs(be, &mut a.stages, self.backbone.len());
        for (i, conv) in self.backbone.iter().enumerate() {
            let (done, rest) = a.stages.split_at_mut(i);
            conv_relu(be, conv, done.last().unwrap_or(&a.input), &mut rest[0]);
        }
        mark("backbone");
        // FPN, top-down: inner_l = lateral_l(C) + nearest(inner_{l+1}); P_l = output_l(inner_l).
        let nl = self.lateral.len();
        let first = self.config.first_level - 1;
        ensure_bufs(be, &mut a.inner, nl);
        ensure_bufs(be, &mut a.pyr, nl);
        for l in (0..nl).rev() {
            let (lo, hi) = a.inner.split_at_mut(l + 1);
            let inner = &mut lo[l];
            self.lateral[l].forward_on(be, &a.stages[first + l], inner);
            if let Some(coarse) = hi.first() {
                be.nearest_add(coarse, inner, 1.0);
            }
            self.output[l].forward_on(be, inner, &mut a.pyr[l]);
        }
        if let Some(refine) = &self.refine {
            balanced_forward(be, refine, a);
        } else {
            a.feats.clear();
        }
        mark("fpn");
        ensure_bufs(be, &mut out.cls, nl);
        ensure_bufs(be, &mut out.reg, nl);
        ensure_with(&mut a.cls_h, nl, Vec::new);
        ensure_with(&mut a.reg_h, nl, Vec::new);
        for l in 0..nl {
            let feat = a.feats.get(l).unwrap_or(&a.pyr[l]);
            head_forward(be, &self.cls, feat, &mut a.cls_h[l], &mut out.cls[l]);
            head_forward(be, &self.reg, feat, &mut a.reg_h[l], &mut out.reg[l]);
        }
        a.ready = true;
        mark("heads");
    }
}

/// The level the balanced pyramid rescales to: the middle one (P4 of P3-P5).
pub(super) fn refine_level(levels: usize) -> usize {
    levels / 2
}

/// Libra R-CNN's Balanced Feature Pyramid (MMDetection `BFP`, `refine_type="conv"`):
/// gather (adaptive max pool finer levels, nearest-resize coarser ones to the refine level),
/// average, refine by `relu(conv3x3)` (MMDetection's `ConvModule` default has the ReLU),
/// scatter back (nearest up to finer levels, adaptive max pool down to coarser) and add.
fn balanced_forward<B: Backend>(be: &mut B, refine: &Conv<B::Buf>, a: &mut Acts<B::Buf, B::Idx>) {
    let nl = a.pyr.len();
    let r = refine_level(nl);
    be.resize(&mut a.bsf, B::shape(&a.pyr[r]));
    be.zero(&mut a.bsf);
    ensure_with(&mut a.gather_idx, nl, || be.empty_idx());
    ensure_with(&mut a.scatter_idx, nl, || be.empty_idx());
    let inv = 1.0 / nl as f32;
    for l in 0..nl {
        let p = &a.pyr[l];
        if l < r {
            be.max_pool_add(p, &mut a.bsf, inv, &mut a.gather_idx[l]);
        } else if l == r {
            be.add_scaled(&mut a.bsf, p, inv);
        } else {
            be.nearest_add(p, &mut a.bsf, inv);
        }
    }
    conv_relu(be, refine, &a.bsf, &mut a.refined);
    ensure_bufs(be, &mut a.feats, nl);
    for l in 0..nl {
        let p = &a.pyr[l];
        let feat = &mut a.feats[l];
        be.copy(p, feat);
        if l < r {
            be.nearest_add(&a.refined, feat, 1.0);
        } else if l == r {
            be.add_scaled(feat, &a.refined, 1.0);
        } else {
            be.max_pool_add(&a.refined, feat, 1.0, &mut a.scatter_idx[l]);
        }
    }
}
