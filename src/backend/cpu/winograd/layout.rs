//! The copies between NCHW tensors and the Winograd code's channels-last buffers: 16 x 16
//! blocks (16 channels x 16 pixels of one row), transposed in registers where the block is
//! whole (with AVX-512 as one 16 x 16 transpose, with AVX2 as four 8 x 8 ones), element by
//! element otherwise.

use super::Grid;
use super::product::Simd;
use rayon::prelude::*;

/// Lanes per block side.
const B: usize = 16;

/// Copies NCHW `src` (`c` channels) into the padded channels-last buffer `dst`
/// (`[n][hp][wp][cp]`, the data at row and column 1; the border and the channels past `c`
/// are set to zero).
pub(super) fn to_channels_last(
    simd: Simd,
    src: &[f32],
    c: usize,
    cp: usize,
    g: &Grid,
    dst: &mut [f32],
) {
    let (h, w, plane) = (g.h, g.w, g.hp * g.wp * cp);
    dst[..g.n * plane]
        .par_chunks_mut(plane)
        .enumerate()
        .for_each(|(i, d)| {
            let s = &src[i * c * h * w..][..c * h * w];
            let row_len = g.wp * cp;
            d[..row_len].fill(0.0);
            d[(h + 1) * row_len..].fill(0.0);
            for y in 0..h {
                let row = &mut d[(y + 1) * row_len..][..row_len];
                row[..cp].fill(0.0);
                row[(w + 1) * cp..].fill(0.0);
                let data = &mut row[cp..(w + 1) * cp];
                if cp > c {
                    data.fill(0.0);
                }
                for c0 in (0..c).step_by(B) {
                    for x0 in (0..w).step_by(B) {
                        let whole = c0 + B <= c && x0 + B <= w;
                        let at = y * w + x0;
                        let in_registers = whole
                            && block_to_channels_last(
                                simd,
                                &s[c0 * h * w + at..][..(B - 1) * h * w + B],
                                h * w,
                                &mut data[x0 * cp + c0..][..(B - 1) * cp + B],
                                cp,
                            );
                        if !in_registers {
                            for ch in c0..(c0 + B).min(c) {
                                let sr = &s[ch * h * w + at..][..B.min(w - x0)];
                                for (x, v) in sr.iter().enumerate() {
                                    data[(x0 + x) * cp + ch] = *v;
                                }
                            }
                        }
                    }
                }
            }
        });
}

/// How [`from_channels_last`] stores each value `v` of the channels-last buffer into `y`.
#[derive(Clone, Copy)]
pub(super) enum Store<'a> {
    /// `y = v + b[channel]` (`v + 0` without a bias).
    Bias(Option<&'a [f32]>),
    /// `y = max(v + b[channel], 0)`: the bits of [`Store::Bias`] and then an in-place ReLU.
    BiasRelu(Option<&'a [f32]>),
    /// `y += v`.
    Add,
    /// `y = v + 0` where `relu_out > 0`, else `0` (`relu_out` laid out as `y`): bit for bit
    /// what zeroing `y`, adding `v` and then the ReLU's backward mask give.
    MaskedByPositive(&'a [f32]),
}

impl<'a> Store<'a> {
    /// The bias the store adds, if any.
    fn bias(self) -> Option<&'a [f32]> {
        match self {
            Store::Bias(b) | Store::BiasRelu(b) => b,
            _ => None,
        }
    }

    /// This store for image `i` of `len` values each (the mask cut to that image).
    fn image(self, i: usize, len: usize) -> Self {
        match self {
            Store::MaskedByPositive(m) => Store::MaskedByPositive(&m[i * len..][..len]),
            s => s,
        }
    }

    /// The store of the block at `at` (`extent` values of the image), whose channels'
    /// biases are `bv`.
    fn block<'b>(self, bv: &'b [f32; B], at: usize, extent: usize) -> BlockStore<'b>
    where
        'a: 'b,
    {
        match self {
            Store::Bias(_) => BlockStore::Bias(bv),
            Store::BiasRelu(_) => BlockStore::BiasRelu(bv),
            Store::Add => BlockStore::Add,
            Store::MaskedByPositive(m) => BlockStore::Masked(&m[at..][..extent]),
        }
    }

    /// The stored value at index `at` of the image: `old` is what `y` holds there, `bias`
    /// its channel's bias.
    fn one(self, old: f32, v: f32, bias: f32, at: usize) -> f32 {
        match self {
            Store::Bias(_) => v + bias,
            Store::BiasRelu(_) => (v + bias).max(0.0),
            Store::Add => old + v,
            Store::MaskedByPositive(m) if m[at] > 0.0 => v + 0.0,
            Store::MaskedByPositive(_) => 0.0,
        }
    }
}

/// Writes the channels-last output `yl` (`[n][nty m][ntx m][cp]`) into NCHW `y` (`c`
/// channels) as `store` says.
pub(super) fn from_channels_last(
    simd: Simd,
    yl: &[f32],
    c: usize,
    cp: usize,
    g: &Grid,
    store: Store,
    y: &mut [f32],
) {
    let (h, w, hw) = (g.h, g.w, g.h * g.w);
    let (wq, plane) = (g.ntx * g.m, g.nty * g.m * g.ntx * g.m * cp);
    if let Store::MaskedByPositive(m) = store {
        assert_eq!(m.len(), y.len(), "from_channels_last: mask length");
    }
    y.par_chunks_mut(c * hw).enumerate().for_each(|(i, yi)| {
        let src = &yl[i * plane..][..plane];
        let store = store.image(i, c * hw);
        let b = store.bias();
        for yy in 0..h {
            let row = &src[yy * wq * cp..][..wq * cp];
            for c0 in (0..c).step_by(B) {
                let mut bv = [0.0f32; B];
                if let Some(b) = b {
                    for (o, v) in bv.iter_mut().zip(&b[c0..(c0 + B).min(c)]) {
                        *o = *v;
                    }
                }
                for x0 in (0..w).step_by(B) {
                    let whole = c0 + B <= c && x0 + B <= w;
                    let at = yy * w + x0;
                    let extent = (B - 1) * hw + B;
                    let in_registers = whole
                        && block_from_channels_last(
                            simd,
                            &row[x0 * cp + c0..][..(B - 1) * cp + B],
                            cp,
                            &mut yi[c0 * hw + at..][..extent],
                            hw,
                            store.block(&bv, c0 * hw + at, extent),
                        );
                    if !in_registers {
                        for co in c0..(c0 + B).min(c) {
                            let dst = &mut yi[co * hw + at..][..B.min(w - x0)];
                            for (x, o) in dst.iter_mut().enumerate() {
                                let v = row[(x0 + x) * cp + co];
                                *o = store.one(*o, v, bv[co - c0], co * hw + at + x);
                            }
                        }
                    }
                }
            }
        }
    });
}

/// What one block's store does with each value `v` (see [`Store`]): `d = v + bias[ch]`,
/// `d = max(v + bias[ch], 0)`, `d += v`, or `d = v + 0` where the mask (laid out as `d`)
/// is positive and `0` elsewhere.
#[derive(Clone, Copy)]
enum BlockStore<'a> {
    Bias(&'a [f32; B]),
    BiasRelu(&'a [f32; B]),
    Add,
    Masked(&'a [f32]),
}

/// `d[x ds + ch] = s[ch ss + x]` for one whole 16 x 16 block, transposed in registers;
/// `false` (nothing written) where `simd` has no such kernel.
fn block_to_channels_last(simd: Simd, s: &[f32], ss: usize, d: &mut [f32], ds: usize) -> bool {
    assert!(s.len() > (B - 1) * ss + B - 1 && d.len() > (B - 1) * ds + B - 1);
    match simd {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `Simd::Avx512` means the CPU has AVX-512F; the block's extent was checked.
        Simd::Avx512 => unsafe { avx512::block_to_channels_last(s, ss, d, ds) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `Simd::Avx2` means the CPU has AVX2; the block's extent was checked.
        Simd::Avx2 => unsafe { avx2::block_to_channels_last(s, ss, d, ds) },
        Simd::Portable => return false,
    }
    true
}

/// `d[ch ds + x] (= bias[ch] +| +=) s[x ss + ch]` for one whole 16 x 16 block, transposed in
/// registers; `false` (nothing written) where `simd` has no such kernel.
fn block_from_channels_last(
    simd: Simd,
    s: &[f32],
    ss: usize,
    d: &mut [f32],
    ds: usize,
    store: BlockStore,
) -> bool {
    assert!(s.len() > (B - 1) * ss + B - 1 && d.len() > (B - 1) * ds + B - 1);
    if let BlockStore::Masked(m) = store {
        assert!(m.len() >= d.len(), "block_from_channels_last: mask extent");
    }
    match simd {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as in `block_to_channels_last` (the mask has `d`'s extent).
        Simd::Avx512 => unsafe { avx512::block_from_channels_last(s, ss, d, ds, store) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as in `block_to_channels_last` (the mask has `d`'s extent).
        Simd::Avx2 => unsafe { avx2::block_from_channels_last(s, ss, d, ds, store) },
        Simd::Portable => return false,
    }
    true
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    /// The 16 x 16 transpose of `r` (row `i` of the result is column `i` of `r`):
    /// unpack pairs of rows, then pairs of pairs, then 128-bit lanes twice.
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn transpose(r: [__m512; 16]) -> [__m512; 16] {
        let lo = |a, b| _mm512_unpacklo_ps(a, b);
        let hi = |a, b| _mm512_unpackhi_ps(a, b);
        let lo2 = |a: __m512, b: __m512| {
            _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(a), _mm512_castps_pd(b)))
        };
        let hi2 = |a: __m512, b: __m512| {
            _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(a), _mm512_castps_pd(b)))
        };
        let mut t = [_mm512_setzero_ps(); 16];
        for p in 0..8 {
            t[2 * p] = lo(r[2 * p], r[2 * p + 1]);
            t[2 * p + 1] = hi(r[2 * p], r[2 * p + 1]);
        }
        // u[4q + j]: column 4k + j of rows 4q..4q+4 in 128-bit lane k.
        let mut u = [_mm512_setzero_ps(); 16];
        for q in 0..4 {
            let b = 4 * q;
            u[b] = lo2(t[b], t[b + 2]);
            u[b + 1] = hi2(t[b], t[b + 2]);
            u[b + 2] = lo2(t[b + 1], t[b + 3]);
            u[b + 3] = hi2(t[b + 1], t[b + 3]);
        }
        let mut v = [_mm512_setzero_ps(); 16];
        for j in 0..4 {
            v[j] = _mm512_shuffle_f32x4::<0x88>(u[j], u[j + 4]);
            v[j + 4] = _mm512_shuffle_f32x4::<0xdd>(u[j], u[j + 4]);
            v[j + 8] = _mm512_shuffle_f32x4::<0x88>(u[j + 8], u[j + 12]);
            v[j + 12] = _mm512_shuffle_f32x4::<0xdd>(u[j + 8], u[j + 12]);
        }
        let mut o = [_mm512_setzero_ps(); 16];
        for j in 0..8 {
            o[j] = _mm512_shuffle_f32x4::<0x88>(v[j], v[j + 8]);
            o[j + 8] = _mm512_shuffle_f32x4::<0xdd>(v[j], v[j + 8]);
        }
        o
    }

    /// `d[x ds + ch] = s[ch ss + x]` for a 16 x 16 block.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn block_to_channels_last(s: &[f32], ss: usize, d: &mut [f32], ds: usize) {
        // SAFETY: the caller sized both slices for the whole block.
        unsafe {
            let r: [__m512; 16] =
                std::array::from_fn(|ch| _mm512_loadu_ps(s.as_ptr().add(ch * ss)));
            for (x, v) in transpose(r).iter().enumerate() {
                _mm512_storeu_ps(d.as_mut_ptr().add(x * ds), *v);
            }
        }
    }

    /// `d[ch ds + x] (= bias[ch] +| +=| = masked) s[x ss + ch]` for a 16 x 16 block.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn block_from_channels_last(
        s: &[f32],
        ss: usize,
        d: &mut [f32],
        ds: usize,
        store: super::BlockStore,
    ) {
        use super::BlockStore;
        // SAFETY: the caller sized all slices for the whole block.
        unsafe {
            let r: [__m512; 16] = std::array::from_fn(|x| _mm512_loadu_ps(s.as_ptr().add(x * ss)));
            let zero = _mm512_setzero_ps();
            for (ch, v) in transpose(r).iter().enumerate() {
                let p = d.as_mut_ptr().add(ch * ds);
                let out = match store {
                    BlockStore::Add => _mm512_add_ps(_mm512_loadu_ps(p), *v),
                    BlockStore::Bias(bias) => _mm512_add_ps(_mm512_set1_ps(bias[ch]), *v),
                    // `max(s, 0)` returns its second operand for a NaN or a zero `s`: 0.
                    BlockStore::BiasRelu(bias) => {
                        _mm512_max_ps(_mm512_add_ps(_mm512_set1_ps(bias[ch]), *v), zero)
                    }
                    BlockStore::Masked(m) => {
                        let keep = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(
                            _mm512_loadu_ps(m.as_ptr().add(ch * ds)),
                            zero,
                        );
                        _mm512_maskz_mov_ps(keep, _mm512_add_ps(zero, *v))
                    }
                };
                _mm512_storeu_ps(p, out);
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    /// The 8 x 8 transpose of `r` (row `i` of the result is column `i` of `r`): unpack
    /// pairs of rows, shuffle pairs of pairs, then swap 128-bit halves.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn transpose(r: [__m256; 8]) -> [__m256; 8] {
        let mut t = [_mm256_setzero_ps(); 8];
        for p in 0..4 {
            t[2 * p] = _mm256_unpacklo_ps(r[2 * p], r[2 * p + 1]);
            t[2 * p + 1] = _mm256_unpackhi_ps(r[2 * p], r[2 * p + 1]);
        }
        // u[4h + j]: columns j and j + 4 of rows 4h..4h+4, in the two halves.
        let mut u = [_mm256_setzero_ps(); 8];
        for h in 0..2 {
            let b = 4 * h;
            u[b] = _mm256_shuffle_ps::<0x44>(t[b], t[b + 2]);
            u[b + 1] = _mm256_shuffle_ps::<0xee>(t[b], t[b + 2]);
            u[b + 2] = _mm256_shuffle_ps::<0x44>(t[b + 1], t[b + 3]);
            u[b + 3] = _mm256_shuffle_ps::<0xee>(t[b + 1], t[b + 3]);
        }
        let mut o = [_mm256_setzero_ps(); 8];
        for j in 0..4 {
            o[j] = _mm256_permute2f128_ps::<0x20>(u[j], u[j + 4]);
            o[j + 4] = _mm256_permute2f128_ps::<0x31>(u[j], u[j + 4]);
        }
        o
    }

    /// `d[x ds + ch] = s[ch ss + x]` for a 16 x 16 block.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn block_to_channels_last(s: &[f32], ss: usize, d: &mut [f32], ds: usize) {
        // SAFETY: the caller sized both slices for the whole block.
        unsafe {
            for ch0 in [0, 8] {
                for x0 in [0, 8] {
                    let sp = s.as_ptr().add(ch0 * ss + x0);
                    let r: [__m256; 8] = std::array::from_fn(|ch| _mm256_loadu_ps(sp.add(ch * ss)));
                    let dp = d.as_mut_ptr().add(x0 * ds + ch0);
                    for (x, v) in transpose(r).iter().enumerate() {
                        _mm256_storeu_ps(dp.add(x * ds), *v);
                    }
                }
            }
        }
    }

    /// `d[ch ds + x] (= bias[ch] +| +=| = masked) s[x ss + ch]` for a 16 x 16 block.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn block_from_channels_last(
        s: &[f32],
        ss: usize,
        d: &mut [f32],
        ds: usize,
        store: super::BlockStore,
    ) {
        use super::BlockStore;
        // SAFETY: the caller sized all slices for the whole block.
        unsafe {
            let zero = _mm256_setzero_ps();
            for x0 in [0, 8] {
                for ch0 in [0, 8] {
                    let sp = s.as_ptr().add(x0 * ss + ch0);
                    let r: [__m256; 8] = std::array::from_fn(|x| _mm256_loadu_ps(sp.add(x * ss)));
                    for (k, v) in transpose(r).iter().enumerate() {
                        let ch = ch0 + k;
                        let p = d.as_mut_ptr().add(ch * ds + x0);
                        let out = match store {
                            BlockStore::Add => _mm256_add_ps(_mm256_loadu_ps(p), *v),
                            BlockStore::Bias(bias) => _mm256_add_ps(_mm256_set1_ps(bias[ch]), *v),
                            BlockStore::BiasRelu(bias) => {
                                _mm256_max_ps(_mm256_add_ps(_mm256_set1_ps(bias[ch]), *v), zero)
                            }
                            BlockStore::Masked(m) => {
                                let keep = _mm256_cmp_ps::<_CMP_GT_OQ>(
                                    _mm256_loadu_ps(m.as_ptr().add(ch * ds + x0)),
                                    zero,
                                );
                                _mm256_and_ps(keep, _mm256_add_ps(zero, *v))
                            }
                        };
                        _mm256_storeu_ps(p, out);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::cpu::winograd::transform::{F2, F4, Tile};

    fn grid<T: Tile>(n: usize, h: usize, w: usize) -> Grid {
        let (nty, ntx) = (h.div_ceil(T::M), w.div_ceil(T::M));
        Grid {
            n,
            h,
            w,
            m: T::M,
            nty,
            ntx,
            hp: nty * T::M + 2,
            wp: ntx * T::M + 2,
        }
    }

    /// Both copies element by element against the index formulas, on whole and partial
    /// blocks (the in-register transpose and the scalar edge), with bias and accumulation.
    #[test]
    fn copies_match_the_index_formulas() {
        for simd in Simd::all_available() {
            copies_match_with(simd);
        }
    }

    fn copies_match_with(simd: Simd) {
        for &(n, c, h, w, f4) in &[
            (2usize, 32usize, 16usize, 32usize, true),
            (1, 20, 5, 17, false),
            (1, 48, 8, 8, true),
        ] {
            let g = if f4 {
                grid::<F4>(n, h, w)
            } else {
                grid::<F2>(n, h, w)
            };
            let cp = c.div_ceil(16) * 16;
            let src: Vec<f32> = (0..n * c * h * w).map(|i| i as f32 * 0.5 - 3.0).collect();
            let mut dst = vec![7.0f32; n * g.hp * g.wp * cp];
            to_channels_last(simd, &src, c, cp, &g, &mut dst);
            for i in 0..n {
                for r in 0..g.hp {
                    for q in 0..g.wp {
                        for ch in 0..cp {
                            let got = dst[((i * g.hp + r) * g.wp + q) * cp + ch];
                            let inside = (1..=h).contains(&r) && (1..=w).contains(&q) && ch < c;
                            let want = if inside {
                                src[((i * c + ch) * h + r - 1) * w + q - 1]
                            } else {
                                0.0
                            };
                            assert_eq!(got, want, "{simd:?} to channels-last at {i} {r} {q} {ch}");
                        }
                    }
                }
            }
            let (hq, wq) = (g.nty * g.m, g.ntx * g.m);
            let yl: Vec<f32> = (0..n * hq * wq * cp)
                .map(|i| {
                    if i % 17 == 3 {
                        -0.0
                    } else {
                        (i % 113) as f32 - 50.0
                    }
                })
                .collect();
            let bias: Vec<f32> = (0..c).map(|k| k as f32 * 0.25).collect();
            let mut y = vec![0.0f32; n * c * h * w];
            from_channels_last(simd, &yl, c, cp, &g, Store::Bias(Some(&bias)), &mut y);
            let y0 = y.clone();
            from_channels_last(simd, &yl, c, cp, &g, Store::Add, &mut y);
            // A ReLU output with positive, zero, negative and NaN values; the mask store
            // against zeroing, accumulating and masking.
            let relu_out: Vec<f32> = (0..y.len())
                .map(|i| match i % 5 {
                    0 => 1.5,
                    1 => 0.0,
                    2 => -0.0,
                    3 => f32::NAN,
                    _ => -2.0 + (i % 7) as f32,
                })
                .collect();
            // Bias and ReLU against the bias store and then the in-place ReLU (a -0.0 bias
            // meets the -0.0 values of `yl`).
            let mut bias_z = bias.clone();
            bias_z[1] = -0.0;
            let mut relu = vec![9.0f32; y.len()];
            from_channels_last(
                simd,
                &yl,
                c,
                cp,
                &g,
                Store::BiasRelu(Some(&bias_z)),
                &mut relu,
            );
            let mut want_relu = vec![9.0f32; y.len()];
            from_channels_last(
                simd,
                &yl,
                c,
                cp,
                &g,
                Store::Bias(Some(&bias_z)),
                &mut want_relu,
            );
            crate::backend::cpu::elementwise::relu_inplace(&mut want_relu);
            let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&relu), bits(&want_relu), "{simd:?} bias + ReLU store");
            let mut masked = vec![9.0f32; y.len()];
            from_channels_last(
                simd,
                &yl,
                c,
                cp,
                &g,
                Store::MaskedByPositive(&relu_out),
                &mut masked,
            );
            let mut want = vec![0.0f32; y.len()];
            from_channels_last(simd, &yl, c, cp, &g, Store::Add, &mut want);
            crate::backend::cpu::elementwise::relu_mask_inplace(&relu_out, &mut want);
            assert_eq!(bits(&masked), bits(&want), "{simd:?} masked store");
            for i in 0..n {
                for ch in 0..c {
                    for r in 0..h {
                        for q in 0..w {
                            let at = ((i * c + ch) * h + r) * w + q;
                            let v = yl[((i * hq + r) * wq + q) * cp + ch];
                            assert_eq!(y0[at], v + bias[ch], "{simd:?} from channels-last at {at}");
                            assert_eq!(y[at], y0[at] + v, "accumulated at {at}");
                        }
                    }
                }
            }
        }
    }
}
