//! Winograd convolution for the stride-1, pad-1 3x3 layers (the FPN outputs and both heads:
//! most of a training step's FLOPs), forward and both backward passes.
//!
//! With `U[xi] = (G g G^T)[xi]` (`[cout, cin]` per frequency `xi`), `V[xi] = (B^T d B)[xi]`
//! (`[cin, tiles]`, every tile of every image) and `M[xi] = U[xi] V[xi]`, the output tiles are
//! `A^T M A` (`transform.rs`). The backward passes are the exact transposes of that
//! computation: `dM = A dY A^T`, `dU[xi] = dM[xi] V[xi]^T` (then `dW += G^T dU G`) and
//! `dV[xi] = U[xi]^T dM[xi]` (then `dX += B dV B^T`, overlapping tiles added). So one
//! convolution is `alpha^2` GEMMs whose inner or outer dimension is the batch's tile count,
//! one per frequency: each runs single-threaded on one rayon task, and every transform task
//! owns its output plane, so results are the same bits for any thread count.
//!
//! Error: the transforms scale values by up to 5 (F(4x4)), so the rounding error is a few
//! times the direct convolution's; `tests.rs` bounds it against a direct f64 convolution.

#[cfg(test)]
mod tests;
mod transform;

use super::gemm::{Mat, Parallelism, matmul, with_scratch};
use super::im2col::Dims;
use crate::backend::cpu::ConvGeom;
use crate::backend::tensor::Tensor;
use rayon::prelude::*;
use std::cell::RefCell;
use std::sync::atomic::{AtomicU8, Ordering};
use transform::{F2, F4};
use transform::{Grid, Tile, analysis, synthesis, weights, weights_backward};

/// Fewest input and output channels for which the Winograd path is taken: below that the
/// transforms cost more than the products save (and the direct path stays the reference
/// of the tiny models' finite-difference tests).
pub(crate) const MIN_CHANNELS: usize = 16;

/// The tile size the thread-count test runs.
#[cfg(test)]
type Chosen = transform::F4;

/// Which algorithm the eligible 3x3 convolutions use (a switch for A/B measurements in one
/// process). The default is [`WinogradTile::Off`]: on the 2-core reference machine
/// (2026-12-01, `winograd_ab` in `tests.rs`, CPU time of the same work) the model's forward +
/// backward took about 25% more CPU time with F(4x4) than with im2col + GEMM, and F(2x2) more
/// still: the GEMMs shrink as expected, but these transforms (scalar gathers per plane, a
/// tile's values spread over `alpha^2` rows) cost more than the saved products on 8 x 64 x
/// 32 x 32 maps. Vectorising the transforms across channels is the next step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WinogradTile {
    /// im2col + GEMM, like every other convolution.
    Off = 0,
    /// F(2x2, 3x3).
    F2 = 1,
    /// F(4x4, 3x3).
    F4 = 2,
}

static TILE: AtomicU8 = AtomicU8::new(WinogradTile::Off as u8);

/// Sets the algorithm of the eligible convolutions (for benchmarks; results differ by
/// rounding only).
pub fn set_winograd_tile(t: WinogradTile) {
    TILE.store(t as u8, Ordering::Relaxed);
}

fn tile() -> WinogradTile {
    match TILE.load(Ordering::Relaxed) {
        0 => WinogradTile::Off,
        1 => WinogradTile::F2,
        _ => WinogradTile::F4,
    }
}

thread_local! {
    static WG_U: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    static WG_V: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    static WG_M: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    static WG_D: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Whether [`forward`] / [`backward`] handle this convolution: it is [`eligible`] and the
/// switch is on.
pub(crate) fn applies(d: &Dims) -> bool {
    tile() != WinogradTile::Off && eligible(d)
}

/// A stride-1, pad-1 3x3 convolution with enough channels.
fn eligible(d: &Dims) -> bool {
    d.kh == 3
        && d.kw == 3
        && d.g == ConvGeom::new(1, 1)
        && d.cin >= MIN_CHANNELS
        && d.cout >= MIN_CHANNELS
        && d.n * d.h * d.w > 0
}

/// `y = conv(x, w) + b` (y already shaped `[N, Cout, H, W]`).
pub(crate) fn forward(x: &Tensor, w: &Tensor, b: Option<&[f32]>, d: &Dims, y: &mut Tensor) {
    match tile() {
        WinogradTile::F2 => forward_t::<F2>(x, w, b, d, y),
        _ => forward_t::<F4>(x, w, b, d, y),
    }
}

/// Backward: `dx +=` (when given), `dw +=`, `db +=` (when given).
pub(crate) fn backward(
    x: &Tensor,
    w: &Tensor,
    dy: &Tensor,
    d: &Dims,
    dx: Option<&mut Tensor>,
    dw: &mut Tensor,
    db: Option<&mut [f32]>,
) {
    match tile() {
        WinogradTile::F2 => backward_t::<F2>(x, w, dy, d, dx, dw, db),
        _ => backward_t::<F4>(x, w, dy, d, dx, dw, db),
    }
}

/// Rows `rows` of frequency `xi` of a `[rows][A^2][nt]` buffer, as a `rows x nt` matrix.
fn freq<'a>(buf: &'a [f32], xi: usize, rows: usize, nt: usize, a2: usize) -> Mat<'a> {
    Mat {
        data: &buf[xi * nt..],
        rows,
        cols: nt,
        rs: a2 * nt,
        cs: 1,
    }
}

/// Per-plane scratch of a transform task: the padded plane and the 1-D stage buffer.
fn plane_scratch(g: &Grid) -> (Vec<f32>, Vec<f32>) {
    (vec![0.0; g.plen()], Vec::new())
}

/// `v[ci][xi][tile] = (B^T d B)[xi]` for every tile of every image.
fn input_transform<T: Tile>(x: &Tensor, d: &Dims, g: &Grid, v: &mut [f32]) {
    let (a2, tpi, hw) = (T::A * T::A, g.tiles(), d.h * d.w);
    let nt = d.n * tpi;
    v.par_chunks_mut(a2 * nt).enumerate().for_each_init(
        || plane_scratch(g),
        |(p, r), (ci, vc)| {
            for i in 0..d.n {
                g.pad_into(&x.data[(i * d.cin + ci) * hw..][..hw], 1, p);
                analysis::<T>(p, g, T::BT, T::A, vc, nt, i * tpi, r);
            }
        },
    );
}

fn forward_t<T: Tile>(x: &Tensor, w: &Tensor, b: Option<&[f32]>, d: &Dims, y: &mut Tensor) {
    let g = Grid::new(d.h, d.w, T::M);
    let (a2, tpi, hw, cin, cout) = (T::A * T::A, g.tiles(), d.h * d.w, d.cin, d.cout);
    let nt = d.n * tpi;
    with_scratch(&WG_U, a2 * cout * cin, |u| {
        weights::<T>(&w.data, cout, cin, u);
        with_scratch(&WG_V, cin * a2 * nt, |v| {
            input_transform::<T>(x, d, &g, v);
            // m[xi][co][tile] = U[xi] V[xi].
            with_scratch(&WG_M, a2 * cout * nt, |m| {
                m.par_chunks_mut(cout * nt)
                    .enumerate()
                    .for_each(|(xi, dst)| {
                        let ux = Mat::row_major(&u[xi * cout * cin..][..cout * cin], cout, cin);
                        matmul(
                            dst,
                            nt,
                            false,
                            ux,
                            freq(v, xi, cin, nt, a2),
                            Parallelism::None,
                        );
                    });
                let m = &*m;
                y.data.par_chunks_mut(hw).enumerate().for_each_init(
                    || plane_scratch(&g),
                    |(p, q), (pi, yp)| {
                        let (i, co) = (pi / cout, pi % cout);
                        p.fill(0.0);
                        synthesis::<T>(m, cout * nt, co * nt + i * tpi, &g, T::AM, T::M, p, q);
                        let bias = b.map_or(0.0, |b| b[co]);
                        g.unpad(p, 0, yp, |dst, src| {
                            for (o, s) in dst.iter_mut().zip(src) {
                                *o = s + bias;
                            }
                        });
                    },
                );
            });
        });
    });
}

fn backward_t<T: Tile>(
    x: &Tensor,
    w: &Tensor,
    dy: &Tensor,
    d: &Dims,
    dx: Option<&mut Tensor>,
    dw: &mut Tensor,
    db: Option<&mut [f32]>,
) {
    let g = Grid::new(d.h, d.w, T::M);
    let (a2, tpi, hw, cin, cout, n) = (T::A * T::A, g.tiles(), d.h * d.w, d.cin, d.cout, d.n);
    let nt = n * tpi;
    // dm[co][xi][tile] = (A dY A^T)[xi]; per channel, the per-image sums of dY (for db).
    with_scratch(&WG_M, cout * a2 * nt, |dm| {
        let sums: Vec<Vec<f32>> = dm
            .par_chunks_mut(a2 * nt)
            .enumerate()
            .map_init(
                || plane_scratch(&g),
                |(p, r), (co, dmc)| {
                    (0..n)
                        .map(|i| {
                            let plane = &dy.data[(i * cout + co) * hw..][..hw];
                            g.pad_into(plane, 0, p);
                            analysis::<T>(p, &g, T::AM, T::M, dmc, nt, i * tpi, r);
                            plane.iter().sum()
                        })
                        .collect()
                },
            )
            .collect();
        if let Some(db) = db {
            assert_eq!(db.len(), cout, "conv2d: db length");
            // Image by image, as the direct path adds its per-image partials.
            for i in 0..n {
                for (o, s) in db.iter_mut().zip(&sums) {
                    *o += s[i];
                }
            }
        }
        let dm = &*dm;
        // dU[xi] = dM[xi] V[xi]^T, then dW += G^T dU G.
        with_scratch(&WG_V, cin * a2 * nt, |v| {
            input_transform::<T>(x, d, &g, v);
            let v = &*v;
            with_scratch(&WG_D, a2 * cout * cin, |du| {
                du.par_chunks_mut(cout * cin)
                    .enumerate()
                    .for_each(|(xi, dst)| {
                        let (a, b) = (freq(dm, xi, cout, nt, a2), freq(v, xi, cin, nt, a2).t());
                        matmul(dst, cin, false, a, b, Parallelism::None);
                    });
                weights_backward::<T>(du, cout, cin, &mut dw.data);
            });
        });
        let Some(dx) = dx else { return };
        // dV[xi] = U[xi]^T dM[xi], then dX += B dV B^T.
        with_scratch(&WG_U, a2 * cout * cin, |u| {
            weights::<T>(&w.data, cout, cin, u);
            let u = &*u;
            with_scratch(&WG_V, a2 * cin * nt, |dv| {
                dv.par_chunks_mut(cin * nt)
                    .enumerate()
                    .for_each(|(xi, dst)| {
                        let ux = Mat::row_major(&u[xi * cout * cin..][..cout * cin], cout, cin).t();
                        matmul(
                            dst,
                            nt,
                            false,
                            ux,
                            freq(dm, xi, cout, nt, a2),
                            Parallelism::None,
                        );
                    });
                let dv = &*dv;
                dx.data.par_chunks_mut(hw).enumerate().for_each_init(
                    || plane_scratch(&g),
                    |(p, q), (pi, dxp)| {
                        let (i, ci) = (pi / cin, pi % cin);
                        p.fill(0.0);
                        synthesis::<T>(dv, cin * nt, ci * nt + i * tpi, &g, T::BT, T::A, p, q);
                        g.unpad(p, 1, dxp, |dst, src| {
                            for (o, s) in dst.iter_mut().zip(src) {
                                *o += s;
                            }
                        });
                    },
                );
            });
        });
    });
}
