//! Backward pass: from the gradients of the head outputs to every parameter's gradient.

use super::HeadOutputs;
use super::forward::{ensure_len, refine_level};
use super::net::{Acts, Model, Scratch};
use super::param::Conv;
use crate::backend::cpu::elementwise::{accumulate, scale_inplace};
use crate::backend::cpu::resize::{adaptive_max_pool_backward, interpolate_nearest_backward};
use crate::backend::tensor::Tensor;
use rayon::prelude::*;

/// Backward of an in-place ReLU, in place: `dy = 0` where the output `y <= 0`.
/// (The CPU ops' `relu_backward` accumulates into a third buffer; masking in place saves
/// a buffer and a zeroing pass.)
pub fn relu_mask_inplace(y: &[f32], dy: &mut [f32]) {
    assert_eq!(y.len(), dy.len(), "relu_mask_inplace: lengths");
    dy.par_chunks_mut(1 << 15)
        .zip(y.par_chunks(1 << 15))
        .for_each(|(d, y)| {
            // A select rather than a conditional store: this vectorises.
            for (d, &y) in d.iter_mut().zip(y) {
                *d = if y > 0.0 { *d } else { 0.0 };
            }
        });
}

/// Resizes `t` to `shape` and zeroes it.
fn zeroed(t: &mut Tensor, shape: [usize; 4]) -> &mut Tensor {
    t.reshape_for(shape);
    t.zero_();
    t
}

/// One head on one level: ACCUMULATES its parameter gradients and `dx` (its input's).
fn head_backward(
    convs: &mut [Conv],
    x: &Tensor,
    hidden: &[Tensor],
    dout: &Tensor,
    tmp: &mut [Tensor; 2],
    dx: &mut Tensor,
) {
    // `src`: which scratch buffer holds the current gradient (None: `dout`).
    let mut src: Option<usize> = None;
    for j in (1..=hidden.len()).rev() {
        let h = &hidden[j - 1];
        let (t0, t1) = tmp.split_at_mut(1);
        let (held, out, dst) = match src {
            Some(0) => (&t0[0], &mut t1[0], 1),
            _ => (&t1[0], &mut t0[0], 0),
        };
        let dy = if src.is_some() { held } else { dout };
        zeroed(out, h.shape);
        convs[j].backward(h, dy, Some(out));
        relu_mask_inplace(&h.data, &mut out.data);
        src = Some(dst);
    }
    let dy = src.map_or(dout, |k| &tmp[k]);
    convs[0].backward(x, dy, Some(dx));
}

impl Model {
    /// Backward from `d`, the gradients of the loss with respect to the outputs of the last
    /// [`Model::forward`] (same shapes). ACCUMULATES into every parameter's `grad`; call
    /// [`Model::zero_grad`] first. The shared heads collect the gradients of all levels.
    pub fn backward(&mut self, d: &HeadOutputs) {
        let a = &self.acts;
        assert!(a.ready, "model: backward before forward");
        let nl = self.lateral.len();
        assert!(
            d.cls.len() == nl && d.reg.len() == nl,
            "model: gradients for {} levels, the model has {nl}",
            d.cls.len()
        );
        let s = &mut self.scratch;
        ensure_len(&mut s.dfeat, nl);
        for l in 0..nl {
            let feat = a.feats.get(l).unwrap_or(&a.pyr[l]);
            let (cls_out, reg_out) = (&self.cls[self.cls.len() - 1], &self.reg[self.reg.len() - 1]);
            let want = |c: &Conv| [feat.n(), c.cout(), feat.h(), feat.w()];
            assert_eq!(d.cls[l].shape, want(cls_out), "model: cls gradient shape");
            assert_eq!(d.reg[l].shape, want(reg_out), "model: reg gradient shape");
            let df = zeroed(&mut s.dfeat[l], feat.shape);
            head_backward(&mut self.cls, feat, &a.cls_h[l], &d.cls[l], &mut s.dh, df);
            head_backward(&mut self.reg, feat, &a.reg_h[l], &d.reg[l], &mut s.dh, df);
        }
        if let Some(refine) = &mut self.refine {
            balanced_backward(refine, a, s);
        }
        // dfeat now holds dL/dP_l. FPN outputs, then laterals and the top-down path.
        ensure_len(&mut s.dinner, nl);
        for l in 0..nl {
            let di = zeroed(&mut s.dinner[l], a.inner[l].shape);
            self.output[l].backward(&a.inner[l], &s.dfeat[l], Some(di));
        }
        let ns = self.backbone.len();
        ensure_len(&mut s.dstage, ns);
        for i in 0..ns {
            zeroed(&mut s.dstage[i], a.stages[i].shape);
        }
        let first = self.config.first_level - 1;
        for l in 0..nl {
            let (lo, hi) = s.dinner.split_at_mut(l + 1);
            let dst = &mut s.dstage[first + l];
            self.lateral[l].backward(&a.stages[first + l], &lo[l], Some(dst));
            if let Some(coarse) = hi.first_mut() {
                interpolate_nearest_backward(&lo[l], coarse);
            }
        }
        for i in (0..ns).rev() {
            let (lo, hi) = s.dstage.split_at_mut(i);
            relu_mask_inplace(&a.stages[i].data, &mut hi[0].data);
            let x = if i == 0 { &a.input } else { &a.stages[i - 1] };
            self.backbone[i].backward(x, &hi[0], lo.last_mut());
        }
    }
}

/// Backward of the balanced pyramid: turns `s.dfeat` from the gradients of the head inputs
/// into the gradients of the FPN outputs `P_l`, accumulating the refine conv's gradients.
fn balanced_backward(refine: &mut Conv, a: &Acts, s: &mut Scratch) {
    let nl = a.pyr.len();
    let r = refine_level(nl);
    // Scatter: head input l = P_l + resize_l(refined).
    let dr = zeroed(&mut s.drefined, a.refined.shape);
    for l in 0..nl {
        let df = &s.dfeat[l];
        if l < r {
            interpolate_nearest_backward(df, dr);
        } else if l == r {
            accumulate(&mut dr.data, &df.data);
        } else {
            adaptive_max_pool_backward(df, &a.scatter_idx[l], dr);
        }
    }
    relu_mask_inplace(&a.refined.data, &mut dr.data);
    let db = zeroed(&mut s.dbsf, a.bsf.shape);
    refine.backward(&a.bsf, dr, Some(db));
    // Gather: bsf = mean_l resize_l(P_l).
    scale_inplace(&mut db.data, 1.0 / nl as f32);
    for l in 0..nl {
        let df = &mut s.dfeat[l];
        if l < r {
            adaptive_max_pool_backward(db, &a.gather_idx[l], df);
        } else if l == r {
            accumulate(&mut df.data, &db.data);
        } else {
            interpolate_nearest_backward(db, df);
        }
    }
}
