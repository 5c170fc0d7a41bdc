//! Winograd minimal filtering F(m x m, 3 x 3) (Lavin and Gray 2016): the tile constants and
//! the per-plane transforms.
//!
//! A tile of `m x m` outputs reads an `alpha x alpha` input patch (`alpha = m + 2`). With
//! `B^T` (`alpha x alpha`), `G` (`alpha x 3`) and `A^T` (`m x alpha`):
//! `Y = A^T [(G g G^T) . (B^T d B)] A`, where `.` is the elementwise product over the
//! `alpha^2` "frequencies". Summed over input channels, each frequency is one matrix
//! product (`mod.rs`). Every transform here is a pair of 1-D transforms (rows, then columns)
//! applied to one tile whose values are [`Lanes`] of 16 channels (channels-last data):
//! [`to_freqs_lanes`] (the input transform `B^T P B`, and `A dY A^T`, the weight gradient's
//! transform of the output gradient) and [`output_lanes`] (`A^T X A`).

use std::mem::MaybeUninit;

/// One Winograd tile size: `m` outputs per tile and axis, and its matrices (row-major; the
/// written-out 1-D transforms implement them, which the tests check, so outside the tests
/// only `G` is read).
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) trait Tile: Sync {
    /// Outputs per tile and axis.
    const M: usize;
    /// Input patch per tile and axis, `M + 2`.
    const A: usize;
    /// `B^T`, `[A][A]`.
    const BT: &'static [f32];
    /// `G`, `[A][3]`.
    const G: &'static [f32];
    /// `A` (the transpose of `A^T`), `[A][M]`.
    const AM: &'static [f32];
    /// `A^T`, `[M][A]`.
    const AT: &'static [f32];
    /// [`to_freqs_lanes`] with `B^T` at this tile size.
    fn input(src: &[f32], p: Place, dst: &mut [f32], dst_at: usize, fs: usize);
    /// [`output_lanes`] at this tile size.
    fn output(src: &[f32], src_at: usize, fs: usize, dst: &mut [f32], p: Place);
    /// [`to_freqs_lanes`] with `A` at this tile size.
    fn grad(src: &[f32], p: Place, dst: &mut [f32], dst_at: usize, fs: usize);
}

/// The transforms of a tile type with `A` and `M` as constants.
macro_rules! tile_transforms {
    ($a:literal, $m:literal, $bt:ty, $at:ty, $am:ty) => {
        #[inline(always)]
        fn input(src: &[f32], p: Place, dst: &mut [f32], dst_at: usize, fs: usize) {
            to_freqs_lanes::<$a, $a, $bt>(src, p, dst, dst_at, fs)
        }
        #[inline(always)]
        fn output(src: &[f32], src_at: usize, fs: usize, dst: &mut [f32], p: Place) {
            output_lanes::<$a, $m, $at>(src, src_at, fs, dst, p)
        }
        #[inline(always)]
        fn grad(src: &[f32], p: Place, dst: &mut [f32], dst_at: usize, fs: usize) {
            to_freqs_lanes::<$m, $a, $am>(src, p, dst, dst_at, fs)
        }
    };
}

/// F(2x2, 3x3): 16 multiplications per 2x2 outputs instead of 36.
pub(crate) struct F2;

impl Tile for F2 {
    tile_transforms!(4, 2, F2Bt, F2At, F2A);
    const M: usize = 2;
    const A: usize = 4;
    #[rustfmt::skip]
    const BT: &'static [f32] = &[
        1.0, 0.0, -1.0, 0.0,
        0.0, 1.0, 1.0, 0.0,
        0.0, -1.0, 1.0, 0.0,
        0.0, 1.0, 0.0, -1.0,
    ];
    #[rustfmt::skip]
    const G: &'static [f32] = &[
        1.0, 0.0, 0.0,
        0.5, 0.5, 0.5,
        0.5, -0.5, 0.5,
        0.0, 0.0, 1.0,
    ];
    #[rustfmt::skip]
    const AM: &'static [f32] = &[
        1.0, 0.0,
        1.0, 1.0,
        1.0, -1.0,
        0.0, -1.0,
    ];
    #[rustfmt::skip]
    const AT: &'static [f32] = &[
        1.0, 1.0, 1.0, 0.0,
        0.0, 1.0, -1.0, -1.0,
    ];
}

/// F(4x4, 3x3) with the points 0, +-1, +-2, infinity: 36 multiplications per 4x4 outputs
/// instead of 144.
pub(crate) struct F4;

impl Tile for F4 {
    tile_transforms!(6, 4, F4Bt, F4At, F4A);
    const M: usize = 4;
    const A: usize = 6;
    #[rustfmt::skip]
    const BT: &'static [f32] = &[
        4.0, 0.0, -5.0, 0.0, 1.0, 0.0,
        0.0, -4.0, -4.0, 1.0, 1.0, 0.0,
        0.0, 4.0, -4.0, -1.0, 1.0, 0.0,
        0.0, -2.0, -1.0, 2.0, 1.0, 0.0,
        0.0, 2.0, -1.0, -2.0, 1.0, 0.0,
        0.0, 4.0, 0.0, -5.0, 0.0, 1.0,
    ];
    #[rustfmt::skip]
    const G: &'static [f32] = &[
        1.0 / 4.0, 0.0, 0.0,
        -1.0 / 6.0, -1.0 / 6.0, -1.0 / 6.0,
        -1.0 / 6.0, 1.0 / 6.0, -1.0 / 6.0,
        1.0 / 24.0, 1.0 / 12.0, 1.0 / 6.0,
        1.0 / 24.0, -1.0 / 12.0, 1.0 / 6.0,
        0.0, 0.0, 1.0,
    ];
    #[rustfmt::skip]
    const AM: &'static [f32] = &[
        1.0, 0.0, 0.0, 0.0,
        1.0, 1.0, 1.0, 1.0,
        1.0, -1.0, 1.0, -1.0,
        1.0, 2.0, 4.0, 8.0,
        1.0, -2.0, 4.0, -8.0,
        0.0, 0.0, 0.0, 1.0,
    ];
    #[rustfmt::skip]
    const AT: &'static [f32] = &[
        1.0, 1.0, 1.0, 1.0, 1.0, 0.0,
        0.0, 1.0, -1.0, 2.0, -2.0, 0.0,
        0.0, 1.0, 1.0, 4.0, 4.0, 0.0,
        0.0, 1.0, -1.0, 8.0, -8.0, 1.0,
    ];
}

/// Sixteen channels of one value: one AVX-512 register, two AVX2 ones (the transforms below
/// are written on them so that, compiled for either, every step is one or two vector
/// instructions).
pub(crate) type Lanes = [f32; 16];

/// `a + c b` lane by lane.
#[inline(always)]
fn madd(a: &Lanes, c: f32, b: &Lanes) -> Lanes {
    let mut o = *a;
    for (o, b) in o.iter_mut().zip(b) {
        *o += c * b;
    }
    o
}

/// `a + b` lane by lane.
#[inline(always)]
fn add(a: &Lanes, b: &Lanes) -> Lanes {
    madd(a, 1.0, b)
}

/// `a - b` lane by lane.
#[inline(always)]
fn sub(a: &Lanes, b: &Lanes) -> Lanes {
    let mut o = *a;
    for (o, b) in o.iter_mut().zip(b) {
        *o -= b;
    }
    o
}

/// A 1-D transform of `I` lane vectors into `O` (a type, so that the 2-D functions below
/// call it statically and it is inlined into the SIMD code that uses it).
pub(crate) trait OneD<const I: usize, const O: usize> {
    /// The transform.
    fn apply(x: &[Lanes; I]) -> [Lanes; O];
}

/// Implements [`OneD`] for a unit type by a written-out function.
macro_rules! one_d {
    ($name:ident, $f:ident, $i:literal, $o:literal) => {
        pub(crate) struct $name;
        impl OneD<$i, $o> for $name {
            #[inline(always)]
            fn apply(x: &[Lanes; $i]) -> [Lanes; $o] {
                $f(x)
            }
        }
    };
}
one_d!(F2Bt, f2_bt, 4, 4);
one_d!(F2At, f2_at, 4, 2);
one_d!(F2A, f2_a, 2, 4);
one_d!(F4Bt, f4_bt, 6, 6);
one_d!(F4At, f4_at, 6, 4);
one_d!(F4A, f4_a, 4, 6);

/// The 1-D transforms of F(2x2, 3x3), written out (`B^T`, `A^T` and `A` above; the test
/// `one_d_transforms_are_the_matrices` checks them against the matrices).
#[inline(always)]
fn f2_bt(d: &[Lanes; 4]) -> [Lanes; 4] {
    [
        sub(&d[0], &d[2]),
        add(&d[1], &d[2]),
        sub(&d[2], &d[1]),
        sub(&d[1], &d[3]),
    ]
}
#[inline(always)]
fn f2_at(m: &[Lanes; 4]) -> [Lanes; 2] {
    [
        add(&add(&m[0], &m[1]), &m[2]),
        sub(&sub(&m[1], &m[2]), &m[3]),
    ]
}
#[inline(always)]
fn f2_a(d: &[Lanes; 2]) -> [Lanes; 4] {
    [
        d[0],
        add(&d[0], &d[1]),
        sub(&d[0], &d[1]),
        sub(&[0.0; 16], &d[1]),
    ]
}

/// The 1-D transforms of F(4x4, 3x3), written out (see [`f2_bt`]).
#[inline(always)]
fn f4_bt(d: &[Lanes; 6]) -> [Lanes; 6] {
    let d42 = madd(&d[4], -4.0, &d[2]);
    let d31 = madd(&d[3], -4.0, &d[1]);
    let d4_2 = sub(&d[4], &d[2]);
    let d3_1 = sub(&d[3], &d[1]);
    [
        madd(&madd(&d[4], 4.0, &d[0]), -5.0, &d[2]),
        add(&d42, &d31),
        sub(&d42, &d31),
        madd(&d4_2, 2.0, &d3_1),
        madd(&d4_2, -2.0, &d3_1),
        madd(&madd(&d[5], 4.0, &d[1]), -5.0, &d[3]),
    ]
}
#[inline(always)]
fn f4_at(m: &[Lanes; 6]) -> [Lanes; 4] {
    let (s12, d12) = (add(&m[1], &m[2]), sub(&m[1], &m[2]));
    let (s34, d34) = (add(&m[3], &m[4]), sub(&m[3], &m[4]));
    [
        add(&add(&m[0], &s12), &s34),
        madd(&d12, 2.0, &d34),
        madd(&s12, 4.0, &s34),
        add(&madd(&d12, 8.0, &d34), &m[5]),
    ]
}
#[inline(always)]
fn f4_a(d: &[Lanes; 4]) -> [Lanes; 6] {
    let (s02, s13) = (add(&d[0], &d[2]), add(&d[1], &d[3]));
    let (q02, q13) = (madd(&d[0], 4.0, &d[2]), madd(&d[1], 4.0, &d[3]));
    [
        d[0],
        add(&s02, &s13),
        sub(&s02, &s13),
        madd(&q02, 2.0, &q13),
        madd(&q02, -2.0, &q13),
        d[3],
    ]
}

/// The 16 lanes at `s[at..]`.
#[inline(always)]
pub(crate) fn load(s: &[f32], at: usize) -> Lanes {
    s[at..at + 16].try_into().expect("16 lanes")
}

/// Stores 16 lanes at `s[at..]`.
#[inline(always)]
pub(crate) fn store(s: &mut [f32], at: usize, v: Lanes) {
    s[at..at + 16].copy_from_slice(&v);
}

/// Where one tile's values lie in a buffer: value `(i, j)` at `at + i rs + j cs`.
#[derive(Clone, Copy)]
pub(crate) struct Place {
    pub at: usize,
    pub rs: usize,
    pub cs: usize,
}

impl Place {
    #[inline(always)]
    fn of(&self, i: usize, j: usize) -> usize {
        self.at + i * self.rs + j * self.cs
    }
}

/// The rows of a per-tile intermediate, each written by a 1-D transform. The intermediates
/// are built in `MaybeUninit` because zero-initialising them compiled to a `memset` call per
/// tile (2.3 KB and 1.5 KB for F(4x4), 2% of a training step's samples in `perf`): the
/// optimiser did not see that every row is overwritten.
///
/// # Safety
/// Every element of `rows` must have been written.
#[inline(always)]
unsafe fn assume_rows_init<R, const N: usize>(rows: &[MaybeUninit<R>; N]) -> &[R; N] {
    // SAFETY: `MaybeUninit<R>` has the layout of `R`, and the caller wrote every element.
    unsafe { &*(rows as *const [MaybeUninit<R>; N] as *const [R; N]) }
}

/// A tile's values to its frequencies, one 1-D transform `R` on the rows, then on the
/// columns: frequency `a O + b` (`a, b < O`) of `R P R^T` to `dst[dst_at + (a O + b) fs..]`,
/// from the `I x I` values at `p` in `src`. The input transform is `R = B^T` (`I = O = A`),
/// the weight gradient's transform of `dY` is `R = A` (`I = M`, `O = A`).
#[inline(always)]
pub(crate) fn to_freqs_lanes<const I: usize, const O: usize, R: OneD<I, O>>(
    src: &[f32],
    p: Place,
    dst: &mut [f32],
    dst_at: usize,
    fs: usize,
) {
    // t[i] = R applied to row i, then to each column.
    let mut t = [const { MaybeUninit::<[Lanes; O]>::uninit() }; I];
    for (i, ti) in t.iter_mut().enumerate() {
        let mut row = [[0.0f32; 16]; I];
        for (j, r) in row.iter_mut().enumerate() {
            *r = load(src, p.of(i, j));
        }
        ti.write(R::apply(&row));
    }
    // SAFETY: the loop above wrote every row.
    let t = unsafe { assume_rows_init(&t) };
    for b in 0..O {
        let mut col = [[0.0f32; 16]; I];
        for (i, c) in col.iter_mut().enumerate() {
            *c = t[i][b];
        }
        for (a, v) in R::apply(&col).iter().enumerate() {
            store(dst, dst_at + (a * O + b) * fs, *v);
        }
    }
}

/// Output transform of one tile: `(A^T X A)[i][j]` (`i, j < M`) to place `p` of `dst`, from
/// the frequencies at `src[src_at + xi fs..]`; `at` is `A^T`, `[M][A]`.
#[inline(always)]
pub(crate) fn output_lanes<const A: usize, const M: usize, At: OneD<A, M>>(
    src: &[f32],
    src_at: usize,
    fs: usize,
    dst: &mut [f32],
    p: Place,
) {
    // s[a] = A^T-transform of frequency row a, then each column.
    let mut s = [const { MaybeUninit::<[Lanes; M]>::uninit() }; A];
    for (a, sa) in s.iter_mut().enumerate() {
        let mut row = [[0.0f32; 16]; A];
        for (b, r) in row.iter_mut().enumerate() {
            *r = load(src, src_at + (a * A + b) * fs);
        }
        sa.write(At::apply(&row));
    }
    // SAFETY: the loop above wrote every row.
    let s = unsafe { assume_rows_init(&s) };
    for j in 0..M {
        let mut col = [[0.0f32; 16]; A];
        for (a, c) in col.iter_mut().enumerate() {
            *c = s[a][j];
        }
        for (i, v) in At::apply(&col).iter().enumerate() {
            store(dst, p.of(i, j), *v);
        }
    }
}

/// `u[xi] = (G g G^T)[xi]` (`A^2` values) for `L` 3x3 kernels `g` at once, one per lane:
/// `g[tap][lane]`, `u[xi][lane]`.
#[inline(always)]
pub(crate) fn weight_freqs_lanes<T: Tile, const L: usize>(g: &[[f32; L]; 9], u: &mut [[f32; L]]) {
    let (a_n, gm) = (T::A, T::G);
    let mut t = [[0.0f32; L]; 18];
    for a in 0..a_n {
        for s in 0..3 {
            for r in 0..3 {
                let c = gm[a * 3 + r];
                if c != 0.0 {
                    for l in 0..L {
                        t[a * 3 + s][l] += c * g[r * 3 + s][l];
                    }
                }
            }
        }
    }
    for a in 0..a_n {
        for b in 0..a_n {
            let o = &mut u[a * a_n + b];
            *o = [0.0; L];
            for s in 0..3 {
                let c = gm[b * 3 + s];
                if c != 0.0 {
                    for l in 0..L {
                        o[l] += c * t[a * 3 + s][l];
                    }
                }
            }
        }
    }
}

/// Backward of [`weight_freqs_lanes`] for 16 kernels, one per lane:
/// `d[r s] = sum_ab G[a][r] G[b][s] du[a A + b]`.
#[inline(always)]
pub(crate) fn weight_freqs_backward_lanes<T: Tile>(du: &[Lanes], d: &mut [Lanes; 9]) {
    let (a_n, gm) = (T::A, T::G);
    // t[a][s] = sum_b du[a][b] G[b][s].
    let mut t = [[0.0f32; 16]; 18];
    for a in 0..a_n {
        for s in 0..3 {
            let ta = &mut t[a * 3 + s];
            for b in 0..a_n {
                let c = gm[b * 3 + s];
                if c != 0.0 {
                    for (o, v) in ta.iter_mut().zip(&du[a * a_n + b]) {
                        *o += c * v;
                    }
                }
            }
        }
    }
    for r in 0..3 {
        for s in 0..3 {
            let o = &mut d[r * 3 + s];
            *o = [0.0; 16];
            for a in 0..a_n {
                let c = gm[a * 3 + r];
                if c != 0.0 {
                    for (o, v) in o.iter_mut().zip(&t[a * 3 + s]) {
                        *o += c * v;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `f(e_k)[o]` for unit vectors `e_k` (lane 0) is the matrix `c[o][k]`.
    fn columns<const K: usize, const O: usize>(f: impl Fn(&[Lanes; K]) -> [Lanes; O]) -> Vec<f32> {
        let mut c = vec![0.0; O * K];
        for k in 0..K {
            let mut e = [[0.0f32; 16]; K];
            e[k] = [1.0; 16];
            for (o, v) in f(&e).iter().enumerate() {
                assert!(v.iter().all(|x| *x == v[0]), "lanes differ");
                c[o * K + k] = v[0];
            }
        }
        c
    }

    fn transpose(m: &[f32], rows: usize, cols: usize) -> Vec<f32> {
        (0..cols * rows)
            .map(|i| m[(i % rows) * cols + i / rows])
            .collect()
    }

    #[test]
    fn one_d_transforms_are_the_matrices() {
        assert_eq!(columns(f2_bt), F2::BT);
        assert_eq!(columns(f2_at), F2::AT);
        assert_eq!(columns(f2_a), F2::AM);
        assert_eq!(columns(f4_bt), F4::BT);
        assert_eq!(columns(f4_at), F4::AT);
        assert_eq!(columns(f4_a), F4::AM);
        assert_eq!(transpose(F2::AM, 4, 2), F2::AT);
        assert_eq!(transpose(F4::AM, 6, 4), F4::AT);
    }
}
