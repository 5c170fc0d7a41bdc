//! 2-D convolution (NCHW, any kernel size, stride, zero padding) by im2col + GEMM; optionally
//! (by default where the CPU has AVX-512 or AVX2 + FMA; `set_winograd_tile`) by Winograd's
//! minimal filtering for the stride-1, pad-1 3x3 layers with at least
//! `winograd::MIN_CHANNELS` channels in and out (`winograd/`).
//!
//! Per image, the output rows are processed in bands whose im2col matrix (`[Cin*kh*kw, pixels]`,
//! pixels contiguous) stays in L2 (`im2col.rs`); each band is one `gemm` call. Images
//! run in parallel with rayon (one single-threaded GEMM each); with fewer images than threads
//! the GEMM itself runs in parallel instead. Weight and bias gradients are summed per image
//! first and reduced in image order, so results are bitwise identical run to run and for any
//! thread count (tested).
//!
//! Tuning notes (measured, see `bench.rs` and the commit message): bands of 128K floats beat
//! whole-image im2col by about 10-20% on the P3 shapes; a transposed product (`Y^T = col^T W^T`)
//! for few output channels was not better once banded; the weight gradient as
//! `dW^T = col dY^T` is 1.2-1.5x faster than `dW = dY col^T`. About 80% of the time is inside
//! `gemm`, so the GEMM kernel is the remaining lever (see `gemm.rs`).

use super::elementwise::{relu_inplace, relu_mask_inplace, zero_inplace};
use super::gemm::{Mat, SCRATCH_A, SCRATCH_B, SCRATCH_C, matmul, with_scratch};
use super::im2col::{Dims, col2im, col2im_split, im2col, merge_split, unfoldable, unfoldable_len};
use super::winograd::{self, InputGrad};
pub use crate::backend::conv_geom::{ConvGeom, conv2d_out_size};
use crate::backend::tensor::Tensor;
use rayon::prelude::*;

/// `y = conv(x, w) + b`; `x` is `[N, Cin, H, W]`, `w` is `[Cout, Cin, kh, kw]`, `b` has `Cout` values.
pub fn conv2d_forward(x: &Tensor, w: &Tensor, b: Option<&[f32]>, g: ConvGeom) -> Tensor {
    let mut y = Tensor::default();
    conv2d_forward_into(x, w, b, g, &mut y);
    y
}

/// The pixels `p0..p0 + cols` of a `[rows, hw]` row-major plane stack, as a matrix view.
fn band<'a>(data: &'a [f32], rows: usize, hw: usize, p0: usize, cols: usize) -> Mat<'a> {
    Mat {
        data: &data[p0..],
        rows,
        cols,
        rs: hw,
        cs: 1,
    }
}

/// Like [`conv2d_forward`], writing into `y` (resized as needed, memory reused).
pub fn conv2d_forward_into(x: &Tensor, w: &Tensor, b: Option<&[f32]>, g: ConvGeom, y: &mut Tensor) {
    forward_into(x, w, b, g, false, y);
}

/// [`conv2d_forward_into`] and then an in-place ReLU (`y = max(y, 0)`), the same bits; the
/// Winograd path applies the ReLU in its output copy.
pub fn conv2d_forward_relu_into(
    x: &Tensor,
    w: &Tensor,
    b: Option<&[f32]>,
    g: ConvGeom,
    y: &mut Tensor,
) {
    forward_into(x, w, b, g, true, y);
}

fn forward_into(
    x: &Tensor,
    w: &Tensor,
    b: Option<&[f32]>,
    g: ConvGeom,
    relu: bool,
    y: &mut Tensor,
) {
    let d = Dims::new(x, w, g);
    if let Some(b) = b {
        assert_eq!(b.len(), d.cout, "conv2d: bias length");
    }
    y.reshape_for([d.n, d.cout, d.ho, d.wo]);
    if winograd::applies(&d) {
        winograd::forward(x, w, b, relu, &d, y);
        return;
    }
    conv_gemm(x, w, &d, Some(b), y);
    if relu {
        relu_inplace(&mut y.data);
    }
}

/// `y = conv(x, w) + b` by im2col + GEMM (`init = Some(b)`), or `y += conv(x, w)`
/// (`init = None`); `y` already has its shape.
fn conv_gemm(x: &Tensor, w: &Tensor, d: &Dims, init: Option<Option<&[f32]>>, y: &mut Tensor) {
    let d = *d;
    let (hw, k, par, cout) = (d.hw(), d.k(), d.gemm_par(), d.cout);
    let wm = Mat::row_major(&w.data, cout, k);
    let one = |(i, yn): (usize, &mut [f32])| {
        let xn = x.image(i);
        let cols = if d.pointwise() {
            0
        } else {
            k * d.band_rows() * d.wo
        };
        with_scratch(&SCRATCH_A, cols, |col| {
            with_scratch(&SCRATCH_C, unfoldable_len(&d), |split| {
                let src = unfoldable(xn, &d, split);
                for rows in d.bands() {
                    let (p0, np) = (rows.start * d.wo, rows.len() * d.wo);
                    let colm = if d.pointwise() {
                        band(xn, k, hw, p0, np)
                    } else {
                        im2col(&src, &d, rows, col);
                        Mat::row_major(&col[..k * np], k, np)
                    };
                    if let Some(b) = init {
                        for (c, yc) in yn.chunks_exact_mut(hw).enumerate() {
                            yc[p0..p0 + np].fill(b.map_or(0.0, |b| b[c]));
                        }
                    }
                    matmul(&mut yn[p0..], hw, true, wm, colm, par);
                }
            });
        });
    };
    let len = cout * hw;
    if len == 0 {
        return;
    }
    if d.par_images() {
        y.data.par_chunks_mut(len).enumerate().for_each(one);
    } else {
        y.data.chunks_mut(len).enumerate().for_each(one);
    }
}

/// Whether the input gradient of this convolution is computed as a forward convolution of
/// `dy` (see [`input_grad_as_conv`]) rather than by `W^T dY` and col2im: stride 1, a
/// kernel of more than one tap, padding that keeps the size, and fewer output channels than
/// input channels. Measured on the model's shapes (2026-12-03, `conv_layer_times`, medians of
/// 31 alternating runs): the heads' output convolutions 64->27 and 64->36 at P3 take 16% and
/// 11% less backward time; with as many or more output channels (64->64, 64->128) the
/// col2im path is as fast or faster.
fn dx_as_conv(d: &Dims) -> bool {
    d.g.stride == 1 && !d.pointwise() && d.kh == d.kw && 2 * d.g.pad + 1 == d.kh && d.cout < d.cin
}

/// `dx += conv(dy, w')` with `w'[ci][co][ky][kx] = w[co][ci][kh-1-ky][kw-1-kx]`: for a
/// stride-1 "same" convolution the input gradient is itself such a convolution (the
/// transpose of a correlation is the correlation with the flipped kernel). Its GEMM's
/// inner dimension is `Cout kh kw` rather than `Cout`, and nothing is scattered.
fn input_grad_as_conv(w: &Tensor, dy: &Tensor, d: &Dims, dx: &mut Tensor) {
    let wt = flipped_transpose(w);
    let dt = Dims::new(dy, &wt, d.g);
    conv_gemm(dy, &wt, &dt, None, dx);
}

/// `w'[ci][co] = flip(w[co][ci])` (both spatial axes reversed): the kernel whose stride-1
/// forward convolution is the input gradient of a stride-1 "same" convolution with `w`.
pub(super) fn flipped_transpose(w: &Tensor) -> Tensor {
    let [cout, cin, kh, kw] = w.shape;
    let mut wt = Tensor::zeros([cin, cout, kh, kw]);
    for co in 0..cout {
        for ci in 0..cin {
            let src = &w.data[(co * cin + ci) * kh * kw..][..kh * kw];
            let dst = &mut wt.data[(ci * cout + co) * kh * kw..][..kh * kw];
            for (o, v) in dst.iter_mut().zip(src.iter().rev()) {
                *o = *v;
            }
        }
    }
    wt
}

/// Backward of [`conv2d_forward`]: ACCUMULATES (`+=`) into `dx` (when given), `dw` and `db`
/// (when given). `dy` is the gradient of the output. Zero the buffers yourself beforehand.
pub fn conv2d_backward(
    x: &Tensor,
    w: &Tensor,
    dy: &Tensor,
    g: ConvGeom,
    dx: Option<&mut Tensor>,
    dw: &mut Tensor,
    db: Option<&mut [f32]>,
) {
    backward(x, w, dy, g, dx.map(InputGrad::Add), dw, db);
}

/// Backward of [`conv2d_forward`] through the in-place ReLU whose output is the input `x`:
/// WRITES `dx` (resized to `x`'s shape) as the input gradient where `x > 0` and 0 elsewhere,
/// ACCUMULATES into `dw` and `db`. The same bits as zeroing `dx`, [`conv2d_backward`] and
/// `relu_mask_inplace(x, dx)`; the Winograd path masks in its output copy, so `dx` is
/// neither zeroed nor read.
pub fn conv2d_backward_relu_input(
    x: &Tensor,
    w: &Tensor,
    dy: &Tensor,
    g: ConvGeom,
    dx: &mut Tensor,
    dw: &mut Tensor,
    db: Option<&mut [f32]>,
) {
    dx.reshape_for(x.shape);
    backward(x, w, dy, g, Some(InputGrad::MaskedByInput(dx)), dw, db);
}

/// Backward with the input gradient stored as `dx` says: by Winograd where it applies,
/// else by im2col + GEMM (the masked store as zeroing, accumulating and masking).
fn backward(
    x: &Tensor,
    w: &Tensor,
    dy: &Tensor,
    g: ConvGeom,
    dx: Option<InputGrad>,
    dw: &mut Tensor,
    db: Option<&mut [f32]>,
) {
    let d = Dims::new(x, w, g);
    assert_eq!(dy.shape, [d.n, d.cout, d.ho, d.wo], "conv2d: dy shape");
    assert_eq!(dw.shape, w.shape, "conv2d: dw shape");
    if let Some(InputGrad::Add(t) | InputGrad::MaskedByInput(t)) = &dx {
        assert_eq!(t.shape, x.shape, "conv2d: dx shape");
    }
    if winograd::applies(&d) {
        winograd::backward(x, w, dy, &d, dx, dw, db);
        return;
    }
    match dx {
        Some(InputGrad::MaskedByInput(t)) => {
            zero_inplace(&mut t.data);
            backward_gemm(x, w, dy, &d, Some(&mut *t), dw, db);
            relu_mask_inplace(&x.data, &mut t.data);
        }
        Some(InputGrad::Add(t)) => backward_gemm(x, w, dy, &d, Some(t), dw, db),
        None => backward_gemm(x, w, dy, &d, None, dw, db),
    }
}

/// [`conv2d_backward`] by im2col + GEMM (`dx +=` when given).
fn backward_gemm(
    x: &Tensor,
    w: &Tensor,
    dy: &Tensor,
    d: &Dims,
    dx: Option<&mut Tensor>,
    dw: &mut Tensor,
    db: Option<&mut [f32]>,
) {
    let d = *d;
    let dx = match dx {
        Some(t) if dx_as_conv(&d) => {
            input_grad_as_conv(w, dy, &d, t);
            None
        }
        other => other,
    };
    let (hw, k, par, cout) = (d.hw(), d.k(), d.gemm_par(), d.cout);
    let wm = Mat::row_major(&w.data, cout, k);
    let plen = cout * k + cout;
    let want_dx = dx.is_some();
    let mut dx_imgs: Vec<Option<&mut [f32]>> = match dx {
        Some(t) => {
            let l = t.image_len().max(1);
            t.data.chunks_mut(l).map(Some).collect()
        }
        None => (0..d.n).map(|_| None).collect(),
    };
    if d.n == 0 || plen == 0 {
        return;
    }
    with_scratch(&SCRATCH_B, d.n * plen, |partials| {
        let one = |(i, (part, dxn)): (usize, (&mut [f32], &mut Option<&mut [f32]>))| {
            let (dyn_, xn) = (dy.image(i), x.image(i));
            let (dwp, dbp) = part.split_at_mut(cout * k);
            for (c, v) in dbp.iter_mut().enumerate() {
                *v = dyn_[c * hw..(c + 1) * hw].iter().sum();
            }
            let np_max = d.band_rows() * d.wo;
            let cols = if d.pointwise() { 0 } else { k * np_max };
            let dcols = if want_dx && !d.pointwise() {
                k * np_max
            } else {
                0
            };
            with_scratch(&SCRATCH_A, cols + dcols + k * cout, |buf| {
                let (col, rest) = buf.split_at_mut(cols);
                let (dcol, dwt) = rest.split_at_mut(dcols);
                // Stride 2: the input gradient is summed in the split layout, merged once.
                let split_dx = want_dx && d.g.stride == 2;
                let dlen = if split_dx { unfoldable_len(&d) } else { 0 };
                with_scratch(&SCRATCH_C, unfoldable_len(&d) + dlen, |split| {
                    let (split, dsplit) = split.split_at_mut(unfoldable_len(&d));
                    dsplit.fill(0.0);
                    let src = unfoldable(xn, &d, split);
                    for (bi, rows) in d.bands().enumerate() {
                        let (p0, np) = (rows.start * d.wo, rows.len() * d.wo);
                        let dym = band(dyn_, cout, hw, p0, np);
                        let colm = if d.pointwise() {
                            band(xn, k, hw, p0, np)
                        } else {
                            im2col(&src, &d, rows.clone(), col);
                            Mat::row_major(&col[..k * np], k, np)
                        };
                        // dW^T = col dY^T: measured 1.2-1.5x faster than dW = dY col^T.
                        matmul(dwt, cout, bi > 0, colm, dym.t(), par);
                        match dxn {
                            Some(dxn) if d.pointwise() => {
                                matmul(&mut dxn[p0..], hw, true, wm.t(), dym, par)
                            }
                            Some(dxn) => {
                                matmul(&mut dcol[..k * np], np, false, wm.t(), dym, par);
                                if split_dx {
                                    col2im_split(&dcol[..k * np], &d, rows, dsplit);
                                } else {
                                    col2im(&dcol[..k * np], &d, rows, dxn);
                                }
                            }
                            None => {}
                        }
                    }
                    if let (true, Some(dxn)) = (split_dx, dxn.as_deref_mut()) {
                        merge_split(dsplit, &d, dxn);
                    }
                });
                for (c, row) in dwp.chunks_exact_mut(k).enumerate() {
                    for (r, v) in row.iter_mut().enumerate() {
                        *v = dwt[r * cout + c];
                    }
                }
            });
        };
        if d.par_images() {
            partials
                .par_chunks_mut(plen)
                .zip(dx_imgs.par_iter_mut())
                .enumerate()
                .for_each(one);
        } else {
            partials
                .chunks_mut(plen)
                .zip(dx_imgs.iter_mut())
                .enumerate()
                .for_each(one);
        }
        // Reduce in image order: deterministic whatever thread ran which image.
        let partials = &*partials;
        dw.data
            .par_chunks_mut(1024)
            .enumerate()
            .for_each(|(ci, chunk)| {
                let (off, cl) = (ci * 1024, chunk.len());
                for p in partials.chunks_exact(plen) {
                    for (o, v) in chunk.iter_mut().zip(&p[off..off + cl]) {
                        *o += v;
                    }
                }
            });
        if let Some(db) = db {
            assert_eq!(db.len(), cout, "conv2d: db length");
            for p in partials.chunks_exact(plen) {
                for (o, v) in db.iter_mut().zip(&p[cout * k..]) {
                    *o += v;
                }
            }
        }
    });
}

#[cfg(test)]
#[path = "tests_conv.rs"]
mod tests;
