//! Forward pass: backbone, FPN, optional balanced pyramid, shared heads on every level.

use super::HeadOutputs;
use super::net::Model;
use super::param::Conv;
use crate::backend::cpu::elementwise::{accumulate, add_scaled, relu_inplace};
use crate::backend::cpu::resize::{adaptive_max_pool_forward, interpolate_nearest_forward};
use crate::backend::tensor::Tensor;

/// `y = relu(conv(x))`.
fn conv_relu(conv: &Conv, x: &Tensor, y: &mut Tensor) {
    conv.forward(x, y);
    relu_inplace(&mut y.data);
}

/// Makes `v` hold exactly `n` entries (defaults added, extras dropped; buffers reused).
pub(super) fn ensure_len<T: Default>(v: &mut Vec<T>, n: usize) {
    v.resize_with(n, T::default);
}

/// One head on one level: hidden convs with ReLU (kept in `hidden`), then the output conv.
fn head_forward(convs: &[Conv], x: &Tensor, hidden: &mut Vec<Tensor>, out: &mut Tensor) {
    let n = convs.len() - 1;
    ensure_len(hidden, n);
    for (j, conv) in convs[..n].iter().enumerate() {
        let (done, rest) = hidden.split_at_mut(j);
        conv_relu(conv, done.last().unwrap_or(x), &mut rest[0]);
    }
    convs[n].forward(hidden.last().unwrap_or(x), out);
}

impl Model {
    /// Runs the model on a batch `[N, C, H, W]`: per-level logits `[N, A*C, H_l, W_l]` and
    /// box deltas `[N, A*4, H_l, W_l]`. Keeps the activations that [`Model::backward`] needs.
    pub fn forward(&mut self, x: &Tensor) -> HeadOutputs {
        let mut out = HeadOutputs::default();
        self.forward_into(x, &mut out);
        out
    }

    /// Like [`Model::forward`], writing into `out` (its buffers reused).
    pub fn forward_into(&mut self, x: &Tensor, out: &mut HeadOutputs) {
        assert_eq!(
            x.c(),
            self.config.in_channels,
            "model: input has {} channels, the model expects {}",
            x.c(),
            self.config.in_channels
        );
        let a = &mut self.acts;
        a.input.shape = x.shape;
        a.input.data.clone_from(&x.data);
        // Backbone: C_i = relu(conv_i(C_{i-1})), stride 2 each.
        ensure_len(&mut a.stages, self.backbone.len());
        for (i, conv) in self.backbone.iter().enumerate() {
            let (done, rest) = a.stages.split_at_mut(i);
            conv_relu(conv, done.last().unwrap_or(&a.input), &mut rest[0]);
        }
        // FPN, top-down: inner_l = lateral_l(C) + nearest(inner_{l+1}); P_l = output_l(inner_l).
        let nl = self.lateral.len();
        let first = self.config.first_level - 1;
        ensure_len(&mut a.inner, nl);
        ensure_len(&mut a.pyr, nl);
        for l in (0..nl).rev() {
            let (lo, hi) = a.inner.split_at_mut(l + 1);
            let inner = &mut lo[l];
            self.lateral[l].forward(&a.stages[first + l], inner);
            if let Some(coarse) = hi.first() {
                let up = interpolate_nearest_forward(coarse, inner.h(), inner.w());
                accumulate(&mut inner.data, &up.data);
            }
            self.output[l].forward(inner, &mut a.pyr[l]);
        }
        if let Some(refine) = &self.refine {
            balanced_forward(refine, a);
        } else {
            a.feats.clear();
        }
        ensure_len(&mut out.cls, nl);
        ensure_len(&mut out.reg, nl);
        ensure_len(&mut a.cls_h, nl);
        ensure_len(&mut a.reg_h, nl);
        for l in 0..nl {
            let feat = a.feats.get(l).unwrap_or(&a.pyr[l]);
            head_forward(&self.cls, feat, &mut a.cls_h[l], &mut out.cls[l]);
            head_forward(&self.reg, feat, &mut a.reg_h[l], &mut out.reg[l]);
        }
        a.ready = true;
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
fn balanced_forward(refine: &Conv, a: &mut super::net::Acts) {
    let nl = a.pyr.len();
    let r = refine_level(nl);
    let (hr, wr) = (a.pyr[r].h(), a.pyr[r].w());
    let [n, f, _, _] = a.pyr[r].shape;
    a.bsf.reshape_for([n, f, hr, wr]);
    a.bsf.zero_();
    ensure_len(&mut a.gather_idx, nl);
    ensure_len(&mut a.scatter_idx, nl);
    let inv = 1.0 / nl as f32;
    for l in 0..nl {
        let p = &a.pyr[l];
        if l < r {
            let (g, idx) = adaptive_max_pool_forward(p, hr, wr);
            a.gather_idx[l] = idx;
            add_scaled(&mut a.bsf.data, &g.data, inv);
        } else if l == r {
            add_scaled(&mut a.bsf.data, &p.data, inv);
        } else {
            let g = interpolate_nearest_forward(p, hr, wr);
            add_scaled(&mut a.bsf.data, &g.data, inv);
        }
    }
    conv_relu(refine, &a.bsf, &mut a.refined);
    ensure_len(&mut a.feats, nl);
    for l in 0..nl {
        let p = &a.pyr[l];
        let feat = &mut a.feats[l];
        feat.shape = p.shape;
        feat.data.clone_from(&p.data);
        if l < r {
            let res = interpolate_nearest_forward(&a.refined, p.h(), p.w());
            accumulate(&mut feat.data, &res.data);
        } else if l == r {
            accumulate(&mut feat.data, &a.refined.data);
        } else {
            let (res, idx) = adaptive_max_pool_forward(&a.refined, p.h(), p.w());
            a.scatter_idx[l] = idx;
            accumulate(&mut feat.data, &res.data);
        }
    }
}
