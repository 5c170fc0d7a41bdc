//! Backward pass: from the gradients of the head outputs to every parameter's gradient,
//! written once against [`Backend`].

use super::HeadOutputs;
use super::forward::{ensure_bufs, refine_level};
use super::net::{Acts, Model, Scratch};
use super::param::Conv;
use crate::backend::Backend;
use crate::backend::cpu::Cpu;
use crate::backend::tensor::Tensor;

/// Resizes `t` to `shape` and zeroes it.
fn zeroed<'a, B: Backend>(be: &mut B, t: &'a mut B::Buf, shape: [usize; 4]) -> &'a mut B::Buf {
    be.resize(t, shape);
    be.zero(t);
    t
}

/// One head on one level: ACCUMULATES its parameter gradients and `dx` (its input's).
fn head_backward<B: Backend>(
    be: &mut B,
    convs: &mut [Conv<B::Buf>],
    x: &B::Buf,
    hidden: &[B::Buf],
    dout: &B::Buf,
    tmp: &mut [B::Buf; 2],
    dx: &mut B::Buf,
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
        convs[j].backward_relu_input_on(be, h, dy, out);
        src = Some(dst);
    }
    let dy = src.map_or(dout, |k| &tmp[k]);
    convs[0].backward_on(be, x, dy, Some(dx));
}

impl Model {
    /// Backward on the CPU from `d`, the gradients of the loss with respect to the outputs
    /// of the last [`Model::forward`] (same shapes). ACCUMULATES into every parameter's
    /// `grad`; call [`Model::zero_grad`] first. The shared heads collect all levels' gradients.
    pub fn backward(&mut self, d: &HeadOutputs) {
        self.backward_on(&mut Cpu, d);
    }

    /// [`Model::backward`], also computing the gradient of the loss with respect to the
    /// input batch of the last forward (same shape), which it returns.
    pub fn backward_with_input(&mut self, d: &HeadOutputs) -> &Tensor {
        self.backward_with_input_on(&mut Cpu, d)
    }
}

impl<T, I> Model<T, I> {
    /// [`Model::backward`] on backend `be`.
    pub fn backward_on<B: Backend<Buf = T, Idx = I>>(&mut self, be: &mut B, d: &HeadOutputs<T>) {
        self.backward_marked_on(be, d, &mut |_| {});
    }

    /// [`Model::backward_on`], calling `mark` after each layer group ("heads", "fpn",
    /// "backbone"): the hook of the per-stage timings of `anchorscope bench`.
    pub fn backward_marked_on<B: Backend<Buf = T, Idx = I>>(
        &mut self,
        be: &mut B,
        d: &HeadOutputs<T>,
        mark: &mut dyn FnMut(&'static str),
    ) {
        self.backward_impl(be, d, mark, false);
    }

    /// [`Model::backward_with_input`] on backend `be`: the input gradient is written (not
    /// accumulated) into a scratch buffer of the model, returned until the next backward.
    pub fn backward_with_input_on<B: Backend<Buf = T, Idx = I>>(
        &mut self,
        be: &mut B,
        d: &HeadOutputs<T>,
    ) -> &T {
        self.backward_impl(be, d, &mut |_| {}, true);
        &self.scratch.dinput
    }

    /// The backward pass; `want_input`: the first backbone conv also writes the input's
    /// gradient into `scratch.dinput` (otherwise it is skipped, as nothing reads it).
    fn backward_impl<B: Backend<Buf = T, Idx = I>>(
        &mut self,
        be: &mut B,
        d: &HeadOutputs<T>,
        mark: &mut dyn FnMut(&'static str),
        want_input: bool,
    ) {
        let a = &self.acts;
        assert!(a.ready, "model: backward before forward");
        let nl = self.lateral.len();
        assert!(
            d.cls.len() == nl && d.reg.len() == nl,
            "model: gradients for {} levels, the model has {nl}",
            d.cls.len()
        );
        let s = &mut self.scratch;
        ensure_bufs(be, &mut s.dfeat, nl);
        for l in 0..nl {
            let feat = a.feats.get(l).unwrap_or(&a.pyr[l]);
            let (cls_out, reg_out) = (&self.cls[self.cls.len() - 1], &self.reg[self.reg.len() - 1]);
            let fs = B::shape(feat);
            let want = |c: &Conv<T>| [fs[0], c.cout(), fs[2], fs[3]];
            assert_eq!(
                B::shape(&d.cls[l]),
                want(cls_out),
                "model: cls gradient shape"
            );
            assert_eq!(
                B::shape(&d.reg[l]),
                want(reg_out),
                "model: reg gradient shape"
            );
            let df = zeroed(be, &mut s.dfeat[l], fs);
            head_backward(
                be,
                &mut self.cls,
                feat,
                &a.cls_h[l],
                &d.cls[l],
                &mut s.dh,
                df,
            );
            head_backward(
                be,
                &mut self.reg,
                feat,
                &a.reg_h[l],
                &d.reg[l],
                &mut s.dh,
                df,
            );
        }
        if let Some(refine) = &mut self.refine {
            balanced_backward(be, refine, a, s);
        }
        mark("heads");
        // dfeat now holds dL/dP_l. FPN outputs, then laterals and the top-down path.
        ensure_bufs(be, &mut s.dinner, nl);
        for l in 0..nl {
            let di = zeroed(be, &mut s.dinner[l], B::shape(&a.inner[l]));
            self.output[l].backward_on(be, &a.inner[l], &s.dfeat[l], Some(di));
        }
        let ns = self.backbone.len();
        ensure_bufs(be, &mut s.dstage, ns);
        for i in 0..ns {
            zeroed(be, &mut s.dstage[i], B::shape(&a.stages[i]));
        }
        let first = self.config.first_level - 1;
        for l in 0..nl {
            let (lo, hi) = s.dinner.split_at_mut(l + 1);
            let dst = &mut s.dstage[first + l];
            self.lateral[l].backward_on(be, &a.stages[first + l], &lo[l], Some(dst));
            if let Some(coarse) = hi.first_mut() {
                be.nearest_backward(&lo[l], coarse);
            }
        }
        mark("fpn");
        for i in (0..ns).rev() {
            let (lo, hi) = s.dstage.split_at_mut(i);
            be.relu_mask(&a.stages[i], &mut hi[0]);
            let x = if i == 0 { &a.input } else { &a.stages[i - 1] };
            let dx = match lo.last_mut() {
                None if want_input => Some(zeroed(be, &mut s.dinput, B::shape(x))),
                other => other,
            };
            self.backbone[i].backward_on(be, x, &hi[0], dx);
        }
        mark("backbone");
    }
}

/// Backward of the balanced pyramid: turns `s.dfeat` from the gradients of the head inputs
/// into the gradients of the FPN outputs `P_l`, accumulating the refine conv's gradients.
fn balanced_backward<B: Backend>(
    be: &mut B,
    refine: &mut Conv<B::Buf>,
    a: &Acts<B::Buf, B::Idx>,
    s: &mut Scratch<B::Buf>,
) {
    let nl = a.pyr.len();
    let r = refine_level(nl);
    // Scatter: head input l = P_l + resize_l(refined).
    let dr = zeroed(be, &mut s.drefined, B::shape(&a.refined));
    for l in 0..nl {
        let df = &s.dfeat[l];
        if l < r {
            be.nearest_backward(df, dr);
        } else if l == r {
            be.add_scaled(dr, df, 1.0);
        } else {
            be.max_pool_backward(df, &a.scatter_idx[l], dr);
        }
    }
    be.relu_mask(&a.refined, dr);
    let db = zeroed(be, &mut s.dbsf, B::shape(&a.bsf));
    refine.backward_on(be, &a.bsf, dr, Some(db));
    // Gather: bsf = mean_l resize_l(P_l).
    be.scale(db, 1.0 / nl as f32);
    for l in 0..nl {
        let df = &mut s.dfeat[l];
        if l < r {
            be.max_pool_backward(db, &a.gather_idx[l], df);
        } else if l == r {
            be.add_scaled(df, db, 1.0);
        } else {
            be.nearest_backward(db, df);
        }
    }
}
