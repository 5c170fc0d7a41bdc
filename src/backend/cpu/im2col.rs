//! im2col / col2im over a band of output rows, and the sizes of one convolution.

use super::conv::{ConvGeom, conv2d_out_size};
use super::gemm::Parallelism;
use crate::backend::tensor::Tensor;
use std::ops::Range;

/// Sizes of one convolution, checked once.
#[derive(Clone, Copy)]
pub(crate) struct Dims {
    pub n: usize,
    pub cin: usize,
    pub h: usize,
    pub w: usize,
    pub cout: usize,
    pub kh: usize,
    pub kw: usize,
    pub ho: usize,
    pub wo: usize,
    pub g: ConvGeom,
}

impl Dims {
    pub(crate) fn new(x: &Tensor, w: &Tensor, g: ConvGeom) -> Self {
        let [n, cin, h, wd] = x.shape;
        let [cout, wcin, kh, kw] = w.shape;
        assert_eq!(
            cin, wcin,
            "conv2d: input has {cin} channels, weight expects {wcin}"
        );
        let (ho, wo) = conv2d_out_size(h, wd, kh, kw, g);
        Self {
            n,
            cin,
            h,
            w: wd,
            cout,
            kh,
            kw,
            ho,
            wo,
            g,
        }
    }
    /// GEMM inner dimension: `Cin * kh * kw`.
    pub(crate) fn k(&self) -> usize {
        self.cin * self.kh * self.kw
    }
    pub(crate) fn hw(&self) -> usize {
        self.ho * self.wo
    }
    /// 1x1, stride 1, no padding: the image itself is the im2col matrix.
    pub fn pointwise(&self) -> bool {
        self.kh == 1 && self.kw == 1 && self.g.stride == 1 && self.g.pad == 0
    }
    /// Parallel over images with serial GEMMs, or serial over images with a parallel GEMM.
    pub fn par_images(&self) -> bool {
        self.n >= rayon::current_num_threads()
    }
    pub fn gemm_par(&self) -> Parallelism {
        if self.par_images() {
            Parallelism::None
        } else {
            Parallelism::Rayon(0)
        }
    }
}

/// Output positions `ox` in `[lo, hi)` read an input column inside `[0, w_in)` for kernel tap `k`.
fn valid_range(k: usize, w_in: usize, w_out: usize, s: usize, p: usize) -> (usize, usize) {
    let lo = if k >= p { 0 } else { (p - k).div_ceil(s) };
    let hi = if w_in + p > k {
        w_out.min((w_in - 1 + p - k) / s + 1)
    } else {
        0
    };
    (lo.min(hi), hi)
}

/// Floats of im2col buffer per band: small enough to stay in L2 (tuned by measurement).
pub(crate) const BAND_FLOATS: usize = 1 << 17;

impl Dims {
    /// Output rows per band, so that one band's im2col matrix fits [`BAND_FLOATS`].
    pub fn band_rows(&self) -> usize {
        if self.pointwise() {
            self.ho.max(1)
        } else {
            (BAND_FLOATS / (self.k() * self.wo).max(1)).clamp(1, self.ho.max(1))
        }
    }
    /// The bands of output rows, in order.
    pub fn bands(&self) -> impl Iterator<Item = Range<usize>> + use<> {
        let (r, ho) = (self.band_rows(), self.ho);
        (0..ho.div_ceil(r)).map(move |b| b * r..((b + 1) * r).min(ho))
    }
}

/// One image as [`im2col`] reads it: the `[Cin, H, W]` planes themselves, or for stride 2
/// each row split once into its even and odd columns (`[Cin][H][2][ceil(W/2)]`), so that
/// every tap of the unfolding is a contiguous copy rather than a strided gather (the gathers
/// made im2col about half of the first backbone layers' forward).
pub(crate) struct Unfoldable<'a>(&'a [f32]);

/// Floats of scratch [`unfoldable`] needs for one image.
pub(crate) fn unfoldable_len(d: &Dims) -> usize {
    if d.g.stride == 2 {
        d.cin * d.h * 2 * d.w.div_ceil(2)
    } else {
        0
    }
}

/// Prepares image `x` (`[Cin, H, W]`) for [`im2col`], splitting it into `buf` (at least
/// [`unfoldable_len`] floats) for stride 2.
pub(crate) fn unfoldable<'a>(x: &'a [f32], d: &Dims, buf: &'a mut [f32]) -> Unfoldable<'a> {
    if d.g.stride != 2 {
        return Unfoldable(x);
    }
    let (w, half) = (d.w, d.w.div_ceil(2));
    let buf = &mut buf[..unfoldable_len(d)];
    for (xr, dst) in x.chunks_exact(w).zip(buf.chunks_exact_mut(2 * half)) {
        let (ev, od) = dst.split_at_mut(half);
        for ((pair, e), o) in xr.chunks_exact(2).zip(ev.iter_mut()).zip(od.iter_mut()) {
            *e = pair[0];
            *o = pair[1];
        }
        if w % 2 == 1 {
            ev[half - 1] = xr[w - 1];
            od[half - 1] = 0.0;
        }
    }
    Unfoldable(buf)
}

/// Where output column `ox` of tap `kx` reads in a row split into even and odd columns:
/// lane `parity`, index `ox + shift`, with `2 (ox + shift) + parity = 2 ox + kx - pad`.
fn stride2_lane(kx: usize, pad: usize) -> (usize, isize) {
    let q = kx as isize - pad as isize;
    (q.rem_euclid(2) as usize, q.div_euclid(2))
}

/// Unfolds output rows `rows` of one image into `col` `[Cin*kh*kw, rows.len()*Wo]`
/// (row-major).
pub(crate) fn im2col(x: &Unfoldable<'_>, d: &Dims, rows: Range<usize>, col: &mut [f32]) {
    if d.g.stride == 1 && d.wo == d.w {
        return im2col_same(x.0, d, rows, col);
    }
    let (s, p, np) = (d.g.stride, d.g.pad, rows.len() * d.wo);
    let half = d.w.div_ceil(2);
    for ci in 0..d.cin {
        for ky in 0..d.kh {
            for kx in 0..d.kw {
                let r = (ci * d.kh + ky) * d.kw + kx;
                let row = &mut col[r * np..(r + 1) * np];
                let (lo, hi) = valid_range(kx, d.w, d.wo, s, p);
                let (parity, shift) = stride2_lane(kx, p);
                for (oy, out) in rows.clone().zip(row.chunks_exact_mut(d.wo)) {
                    let iy = (oy * s + ky).wrapping_sub(p);
                    if iy >= d.h {
                        out.fill(0.0);
                        continue;
                    }
                    out[..lo].fill(0.0);
                    out[hi..].fill(0.0);
                    if s == 1 {
                        let xr = &x.0[(ci * d.h + iy) * d.w..][..d.w];
                        let ix0 = lo + kx - p;
                        out[lo..hi].copy_from_slice(&xr[ix0..ix0 + hi - lo]);
                    } else if s == 2 {
                        let lane = &x.0[((ci * d.h + iy) * 2 + parity) * half..][..half];
                        let i0 = (lo as isize + shift) as usize;
                        out[lo..hi].copy_from_slice(&lane[i0..i0 + hi - lo]);
                    } else {
                        let xr = &x.0[(ci * d.h + iy) * d.w..][..d.w];
                        for (ox, o) in out[lo..hi].iter_mut().enumerate() {
                            *o = xr[(ox + lo) * s + kx - p];
                        }
                    }
                }
            }
        }
    }
}

/// [`im2col`] for stride 1 with the output as wide as the input (the FPN outputs and the
/// heads): the rows of one tap over a band are consecutive input rows shifted by
/// `kx - pad`, so each tap is one copy of the whole band, then the few columns that fall in
/// the padding are zeroed (at 8 to 32 columns, one copy per output row cost more than the
/// copying itself).
fn im2col_same(x: &[f32], d: &Dims, rows: Range<usize>, col: &mut [f32]) {
    let (p, w, np) = (d.g.pad, d.w, rows.len() * d.wo);
    let plane = d.h * w;
    for ci in 0..d.cin {
        let xc = &x[ci * plane..][..plane];
        for ky in 0..d.kh {
            // Output rows whose input row iy = oy + ky - p lies inside the plane.
            let a = rows.start.max(p.saturating_sub(ky));
            let b = rows.end.min((d.h + p).saturating_sub(ky)).max(a);
            for kx in 0..d.kw {
                let r = (ci * d.kh + ky) * d.kw + kx;
                let row = &mut col[r * np..(r + 1) * np];
                let (j0, j1) = ((a - rows.start) * w, (b - rows.start) * w);
                row[..j0].fill(0.0);
                row[j1..].fill(0.0);
                if a == b {
                    continue;
                }
                // dst[j] = xc[src0 + j] for j in j0..j1, clipped to the plane.
                let src0 = ((a + ky - p) * w) as isize + kx as isize - p as isize - j0 as isize;
                let lo = j0.max((-src0).max(0) as usize);
                let hi = j1.min((plane as isize - src0).max(0) as usize);
                if lo < hi {
                    let s0 = (src0 + lo as isize) as usize;
                    row[lo..hi].copy_from_slice(&xc[s0..s0 + hi - lo]);
                }
                row[j0..lo].fill(0.0);
                row[hi..j1].fill(0.0);
                // The columns of each row that read the padding.
                let (vlo, vhi) = valid_range(kx, w, d.wo, 1, p);
                for out in row[j0..j1].chunks_exact_mut(w) {
                    out[..vlo].fill(0.0);
                    out[vhi..].fill(0.0);
                }
            }
        }
    }
}

/// Folds `col` `[Cin*kh*kw, rows.len()*Wo]` back onto one image, accumulating (`+=`) into `dx`.
pub(crate) fn col2im(col: &[f32], d: &Dims, rows: Range<usize>, dx: &mut [f32]) {
    let (s, p, np) = (d.g.stride, d.g.pad, rows.len() * d.wo);
    for ci in 0..d.cin {
        let xc = &mut dx[ci * d.h * d.w..(ci + 1) * d.h * d.w];
        for ky in 0..d.kh {
            for kx in 0..d.kw {
                let r = (ci * d.kh + ky) * d.kw + kx;
                let row = &col[r * np..(r + 1) * np];
                let (lo, hi) = valid_range(kx, d.w, d.wo, s, p);
                for (oy, inp) in rows.clone().zip(row.chunks_exact(d.wo)) {
                    let iy = (oy * s + ky).wrapping_sub(p);
                    if iy >= d.h {
                        continue;
                    }
                    let xr = &mut xc[iy * d.w..(iy + 1) * d.w];
                    if s == 1 {
                        let ix0 = lo + kx - p;
                        for (o, &v) in xr[ix0..ix0 + hi - lo].iter_mut().zip(&inp[lo..hi]) {
                            *o += v;
                        }
                    } else {
                        for (ox, &v) in inp[lo..hi].iter().enumerate() {
                            xr[(ox + lo) * s + kx - p] += v;
                        }
                    }
                }
            }
        }
    }
}

/// [`col2im`] for stride 2 into a split buffer (`[Cin][H][2][ceil(W/2)]`, the layout of
/// [`unfoldable`]): every tap is a contiguous add; [`merge_split`] then adds the buffer onto
/// the image once.
pub(crate) fn col2im_split(col: &[f32], d: &Dims, rows: Range<usize>, split: &mut [f32]) {
    assert_eq!(d.g.stride, 2, "col2im_split: stride 2 only");
    let (p, np, half) = (d.g.pad, rows.len() * d.wo, d.w.div_ceil(2));
    for ci in 0..d.cin {
        for ky in 0..d.kh {
            for kx in 0..d.kw {
                let r = (ci * d.kh + ky) * d.kw + kx;
                let row = &col[r * np..(r + 1) * np];
                let (lo, hi) = valid_range(kx, d.w, d.wo, 2, p);
                let (parity, shift) = stride2_lane(kx, p);
                for (oy, inp) in rows.clone().zip(row.chunks_exact(d.wo)) {
                    let iy = (oy * 2 + ky).wrapping_sub(p);
                    if iy >= d.h {
                        continue;
                    }
                    let lane = &mut split[((ci * d.h + iy) * 2 + parity) * half..][..half];
                    let i0 = (lo as isize + shift) as usize;
                    for (o, &v) in lane[i0..i0 + hi - lo].iter_mut().zip(&inp[lo..hi]) {
                        *o += v;
                    }
                }
            }
        }
    }
}

/// `dx += split`, interleaving the even and odd columns back (the inverse of [`unfoldable`]).
pub(crate) fn merge_split(split: &[f32], d: &Dims, dx: &mut [f32]) {
    let (w, half) = (d.w, d.w.div_ceil(2));
    for (xr, src) in dx.chunks_exact_mut(w).zip(split.chunks_exact(2 * half)) {
        let (ev, od) = src.split_at(half);
        for ((pair, e), o) in xr.chunks_exact_mut(2).zip(ev).zip(od) {
            pair[0] += e;
            pair[1] += o;
        }
        if w % 2 == 1 {
            xr[w - 1] += ev[half - 1];
        }
    }
}
