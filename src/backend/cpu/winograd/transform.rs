//! Winograd minimal filtering F(m x m, 3 x 3) (Lavin and Gray 2016): the tile constants and
//! the per-plane transforms.
//!
//! A tile of `m x m` outputs reads an `alpha x alpha` input patch (`alpha = m + 2`). With
//! `B^T` (`alpha x alpha`), `G` (`alpha x 3`) and `A^T` (`m x alpha`):
//! `Y = A^T [(G g G^T) . (B^T d B)] A`, where `.` is the elementwise product over the
//! `alpha^2` "frequencies". Summed over input channels, each frequency is one GEMM
//! (`mod.rs`). Every transform here is a pair of 1-D transforms (rows, then columns) with a
//! coefficient matrix `c` of shape `[alpha][k]` (frequency, tap), applied to one plane:
//! - [`analysis`]: `out[a][b] = sum_ij c[a][i] c[b][j] P[i][j]` per tile (input transform with
//!   `c = B^T`, k = alpha; transpose of the output transform with `c = A`, k = m);
//! - [`synthesis`]: `P[i][j] += sum_ab c[a][i] c[b][j] v[a][b]` per tile, tiles overlapping
//!   (output transform with `c = A`; transpose of the input transform with `c = B^T`).

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

/// The tiling of one `h x w` plane and its zero-padded copy (`(nty M + 2) x (ntx M + 2)`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Grid {
    pub w: usize,
    pub m: usize,
    pub nty: usize,
    pub ntx: usize,
}

impl Grid {
    pub fn new(h: usize, w: usize, m: usize) -> Self {
        Self {
            w,
            m,
            nty: h.div_ceil(m),
            ntx: w.div_ceil(m),
        }
    }
    /// Tiles per plane.
    pub fn tiles(&self) -> usize {
        self.nty * self.ntx
    }
    /// Width of the padded plane.
    pub fn pw(&self) -> usize {
        self.ntx * self.m + 2
    }
    /// Floats of the padded plane.
    pub fn plen(&self) -> usize {
        (self.nty * self.m + 2) * self.pw()
    }
    /// Copies `x` (`h x w`) into the zeroed padded plane `p` at row and column offset `off`.
    pub fn pad_into(&self, x: &[f32], off: usize, p: &mut [f32]) {
        p.fill(0.0);
        let pw = self.pw();
        for (r, row) in x.chunks_exact(self.w).enumerate() {
            let o = (r + off) * pw + off;
            p[o..o + self.w].copy_from_slice(row);
        }
    }
    /// `f(dst_row, padded_row)` for the plane's rows inside the padded plane at offset `off`.
    pub fn unpad(
        &self,
        p: &[f32],
        off: usize,
        y: &mut [f32],
        mut f: impl FnMut(&mut [f32], &[f32]),
    ) {
        let pw = self.pw();
        for (r, row) in y.chunks_exact_mut(self.w).enumerate() {
            let o = (r + off) * pw + off;
            f(row, &p[o..o + self.w]);
        }
    }
}

/// `acc[..] += cv * src[..]` (vectorised over the tiles of a plane).
#[inline(always)]
fn axpy(acc: &mut [f32], cv: f32, src: &[f32]) {
    for (d, s) in acc.iter_mut().zip(src) {
        *d += cv * s;
    }
}

/// `out[(a A + b) ts + t0 + tile] = sum_ij c[a][i] c[b][j] p[ty M + i][tx M + j]` for every
/// tile of the padded plane `p`; `c` is `[A][k]`. The patches are gathered first so that
/// both 1-D stages run over all tiles of the plane at once (long vectors). `r` is scratch.
#[allow(clippy::too_many_arguments)]
pub(crate) fn analysis<T: Tile>(
    p: &[f32],
    g: &Grid,
    c: &[f32],
    k: usize,
    out: &mut [f32],
    ts: usize,
    t0: usize,
    r: &mut Vec<f32>,
) {
    let (m, a_n, ntx, nt, pw) = (T::M, T::A, g.ntx, g.tiles(), g.pw());
    r.resize((k * k + a_n * k) * nt, 0.0);
    let (gat, t1) = r.split_at_mut(k * k * nt);
    // gat[i][j][tile] = p[ty M + i][tx M + j].
    for i in 0..k {
        for j in 0..k {
            let dst = &mut gat[(i * k + j) * nt..][..nt];
            for (ty, d) in dst.chunks_exact_mut(ntx).enumerate() {
                let row = &p[(ty * m + i) * pw + j..];
                for (tx, d) in d.iter_mut().enumerate() {
                    *d = row[tx * m];
                }
            }
        }
    }
    // t1[a][j] = sum_i c[a][i] gat[i][j].
    for a in 0..a_n {
        for j in 0..k {
            let dst = &mut t1[(a * k + j) * nt..][..nt];
            dst.fill(0.0);
            for i in 0..k {
                let cv = c[a * k + i];
                if cv != 0.0 {
                    axpy(dst, cv, &gat[(i * k + j) * nt..][..nt]);
                }
            }
        }
    }
    // out[a][b] = sum_j c[b][j] t1[a][j].
    for a in 0..a_n {
        for b in 0..a_n {
            let dst = &mut out[(a * a_n + b) * ts + t0..][..nt];
            dst.fill(0.0);
            for j in 0..k {
                let cv = c[b * k + j];
                if cv != 0.0 {
                    axpy(dst, cv, &t1[(a * k + j) * nt..][..nt]);
                }
            }
        }
    }
}

/// `p[ty M + i][tx M + j] += sum_ab c[a][i] c[b][j] v[(a A + b) ts + t0 + tile]` for every
/// tile; `c` is `[A][k]`, `p` the padded plane. Both 1-D stages run over all tiles of the
/// plane at once, then the tiles are scattered (added where they overlap). `q` is scratch.
#[allow(clippy::too_many_arguments)]
pub(crate) fn synthesis<T: Tile>(
    v: &[f32],
    ts: usize,
    t0: usize,
    g: &Grid,
    c: &[f32],
    k: usize,
    p: &mut [f32],
    q: &mut Vec<f32>,
) {
    let (m, a_n, ntx, nt, pw) = (T::M, T::A, g.ntx, g.tiles(), g.pw());
    q.resize((k * a_n + 1) * nt, 0.0);
    let (t1, z) = q.split_at_mut(k * a_n * nt);
    // t1[i][b] = sum_a c[a][i] v[a][b].
    for i in 0..k {
        for b in 0..a_n {
            let dst = &mut t1[(i * a_n + b) * nt..][..nt];
            dst.fill(0.0);
            for a in 0..a_n {
                let cv = c[a * k + i];
                if cv != 0.0 {
                    axpy(dst, cv, &v[(a * a_n + b) * ts + t0..][..nt]);
                }
            }
        }
    }
    // z = sum_b c[b][j] t1[i][b], scattered to p[ty M + i][tx M + j].
    for i in 0..k {
        for j in 0..k {
            z.fill(0.0);
            for b in 0..a_n {
                let cv = c[b * k + j];
                if cv != 0.0 {
                    axpy(z, cv, &t1[(i * a_n + b) * nt..][..nt]);
                }
            }
            for (ty, zr) in z.chunks_exact(ntx).enumerate() {
                let row = &mut p[(ty * m + i) * pw + j..];
                for (tx, v) in zr.iter().enumerate() {
                    row[tx * m] += v;
                }
            }
        }
    }
}

/// `u[(a A + b) cout cin + co cin + ci] = (G g G^T)[a][b]` for the weights `w`
/// `[cout, cin, 3, 3]`.
pub(crate) fn weights<T: Tile>(w: &[f32], cout: usize, cin: usize, u: &mut [f32]) {
    let (a_n, gm) = (T::A, T::G);
    let plane = cout * cin;
    for (oc, g) in w.chunks_exact(9).enumerate() {
        // t = G g: [A][3].
        let mut t = [0.0f32; 18];
        for a in 0..a_n {
            for s in 0..3 {
                t[a * 3 + s] = (0..3).map(|r| gm[a * 3 + r] * g[r * 3 + s]).sum();
            }
        }
        for a in 0..a_n {
            for b in 0..a_n {
                let v: f32 = (0..3).map(|s| t[a * 3 + s] * gm[b * 3 + s]).sum();
                u[(a * a_n + b) * plane + oc] = v;
            }
        }
    }
}

/// Backward of [`weights`]: `dw[co][ci][r][s] += sum_ab G[a][r] G[b][s] du[a][b]`.
pub(crate) fn weights_backward<T: Tile>(du: &[f32], cout: usize, cin: usize, dw: &mut [f32]) {
    let (a_n, gm) = (T::A, T::G);
    let plane = cout * cin;
    for (oc, d) in dw.chunks_exact_mut(9).enumerate() {
        // t[a][s] = sum_b du[a][b] G[b][s].
        let mut t = [0.0f32; 18];
        for a in 0..a_n {
            for s in 0..3 {
                t[a * 3 + s] = (0..a_n)
                    .map(|b| du[(a * a_n + b) * plane + oc] * gm[b * 3 + s])
                    .sum();
            }
        }
        for r in 0..3 {
            for s in 0..3 {
                d[r * 3 + s] += (0..a_n).map(|a| gm[a * 3 + r] * t[a * 3 + s]).sum::<f32>();
            }
        }
    }
}
