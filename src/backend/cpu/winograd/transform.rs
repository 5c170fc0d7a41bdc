//! Winograd minimal filtering F(m x m, 3 x 3) (Lavin and Gray 2016): the tile constants and
//! the per-plane transforms.
//!
//! A tile of `m x m` outputs reads an `alpha x alpha` input patch (`alpha = m + 2`). With
//! `B^T` (`alpha x alpha`), `G` (`alpha x 3`) and `A^T` (`m x alpha`):
//! `Y = A^T [(G g G^T) . (B^T d B)] A`, where `.` is the elementwise product over the
//! `alpha^2` "frequencies". Summed over input channels, each frequency is one GEMM
//! (`mod.rs`). Every transform here is a pair of 1-D transforms (rows, then columns) with a
//! coefficient matrix `c` of shape `[alpha][k]` (frequency, tap), applied to one tile whose
//! values are vectors over channels (channels-last data, so every step is a contiguous
//! multiply-add over all channels at once, whatever the plane size):
//! - [`analysis`]: `out[a][b] = sum_ij c[a][i] c[b][j] P[i][j]` (input transform with
//!   `c = B^T`, k = alpha; transpose of the output transform with `c = A`, k = m);
//! - [`synthesis`]: `P[i][j] = sum_ab c[a][i] c[b][j] v[a][b]` (output transform with
//!   `c = A`, k = m).

/// One Winograd tile size: `m` outputs per tile and axis, and its matrices (row-major).
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
}

/// F(2x2, 3x3): 16 multiplications per 2x2 outputs instead of 36.
pub(crate) struct F2;

impl Tile for F2 {
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
}

/// F(4x4, 3x3) with the points 0, +-1, +-2, infinity: 36 multiplications per 4x4 outputs
/// instead of 144.
pub(crate) struct F4;

impl Tile for F4 {
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
}

/// `acc[..] += cv * src[..]` over the channels.
#[inline(always)]
fn axpy(acc: &mut [f32], cv: f32, src: &[f32]) {
    for (d, s) in acc.iter_mut().zip(src) {
        *d += cv * s;
    }
}

/// `out[(a A + b) fs ..][..l] = sum_ij c[a][i] c[b][j] P(i, j)` for one tile, where `P(i, j)`
/// is the tile's `k x k` value vectors (length `l`) and `c` is `[A][k]`. `t1` is scratch.
#[allow(clippy::too_many_arguments)]
#[inline]
pub(crate) fn analysis<'p, T: Tile>(
    patch: impl Fn(usize, usize) -> &'p [f32],
    c: &[f32],
    k: usize,
    l: usize,
    out: &mut [f32],
    fs: usize,
    t1: &mut Vec<f32>,
) {
    let a_n = T::A;
    t1.clear();
    t1.resize(a_n * k * l, 0.0);
    // t1[a][j] = sum_i c[a][i] P(i, j).
    for i in 0..k {
        for j in 0..k {
            let src = &patch(i, j)[..l];
            for a in 0..a_n {
                let cv = c[a * k + i];
                if cv != 0.0 {
                    axpy(&mut t1[(a * k + j) * l..][..l], cv, src);
                }
            }
        }
    }
    // out[a][b] = sum_j c[b][j] t1[a][j].
    for a in 0..a_n {
        for b in 0..a_n {
            let dst = &mut out[(a * a_n + b) * fs..][..l];
            dst.fill(0.0);
            for j in 0..k {
                let cv = c[b * k + j];
                if cv != 0.0 {
                    axpy(dst, cv, &t1[(a * k + j) * l..][..l]);
                }
            }
        }
    }
}

/// `emit(i, j, sum_ab c[a][i] c[b][j] v[(a A + b) fs ..][..l])` for `i, j < k`: one tile's
/// `k x k` value vectors from its `A x A` frequency vectors; `c` is `[A][k]`. `s1` is scratch.
#[inline]
pub(crate) fn synthesis<T: Tile>(
    v: &[f32],
    fs: usize,
    c: &[f32],
    k: usize,
    l: usize,
    s1: &mut Vec<f32>,
    mut emit: impl FnMut(usize, usize, &[f32]),
) {
    let a_n = T::A;
    s1.clear();
    s1.resize((k * a_n + 1) * l, 0.0);
    let (s1, z) = s1.split_at_mut(k * a_n * l);
    // s1[i][b] = sum_a c[a][i] v[a][b].
    for a in 0..a_n {
        for b in 0..a_n {
            let src = &v[(a * a_n + b) * fs..][..l];
            for i in 0..k {
                let cv = c[a * k + i];
                if cv != 0.0 {
                    axpy(&mut s1[(i * a_n + b) * l..][..l], cv, src);
                }
            }
        }
    }
    for i in 0..k {
        for j in 0..k {
            z.fill(0.0);
            for b in 0..a_n {
                let cv = c[b * k + j];
                if cv != 0.0 {
                    axpy(z, cv, &s1[(i * a_n + b) * l..][..l]);
                }
            }
            emit(i, j, z);
        }
    }
}

/// `u[xi] = (G g G^T)[xi]` (`A^2` values) for `L` 3x3 kernels `g` at once, one per lane:
/// `g[tap][lane]`, `u[xi][lane]`.
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

/// Backward of [`weight_freqs_lanes`] for one kernel: `d[r][s] += sum_ab G[a][r] G[b][s] du(a A + b)`.
pub(crate) fn weight_freqs_backward<T: Tile>(du: impl Fn(usize) -> f32, d: &mut [f32]) {
    let (a_n, gm) = (T::A, T::G);
    // t[a][s] = sum_b du[a][b] G[b][s].
    let mut t = [0.0f32; 18];
    for a in 0..a_n {
        for s in 0..3 {
            t[a * 3 + s] = (0..a_n).map(|b| du(a * a_n + b) * gm[b * 3 + s]).sum();
        }
    }
    for r in 0..3 {
        for s in 0..3 {
            d[r * 3 + s] += (0..a_n).map(|a| gm[a * 3 + r] * t[a * 3 + s]).sum::<f32>();
        }
    }
}
