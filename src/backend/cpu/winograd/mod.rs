//! Winograd convolution for the stride-1, pad-1 3x3 layers (the FPN outputs and both heads:
//! most of a training step's FLOPs), forward and both backward passes.
//!
//! With `U[xi] = (G g G^T)[xi]` (`[cout, cin]` per frequency `xi`), `V[xi] = (B^T d B)[xi]`
//! (`[tiles, cin]`) and `M[xi] = V[xi] U[xi]^T`, the output tiles are `A^T M A`
//! (`transform.rs`). The input gradient of a stride-1 "same" convolution is the forward
//! convolution of `dY` with the flipped, transposed kernel, so it runs the same code; the
//! weight gradient is `dU[xi] = dM[xi]^T V[xi]` with `dM = A dY A^T`, then `dW += G^T dU G`.
//!
//! Layout: the input (and `dY`) is copied once into a zero-padded channels-last buffer, so a
//! tile's values are vectors over channels and the transforms are contiguous multiply-adds
//! whatever the plane size. Tiles of the whole batch are cut into blocks small enough that a
//! block's `V` and `M` (`alpha^2 x tiles x channels`) stay in L2; a block is one rayon task
//! doing its transforms and its `alpha^2` single-threaded GEMMs. Forward tasks own their
//! output tiles; the weight gradient is summed per fixed group of blocks and the groups are
//! added in order, so results are the same bits for any thread count.
//!
//! Error: the transforms scale values by up to 5 (F(4x4)), so the rounding error is a few
//! times the direct convolution's; `tests.rs` bounds it against a direct f64 convolution.

#[cfg(test)]
mod tests;
mod transform;

use super::conv::flipped_transpose;
use super::gemm::{Mat, Parallelism, matmul, with_scratch};
use super::im2col::Dims;
use crate::backend::cpu::ConvGeom;
use crate::backend::tensor::Tensor;
use rayon::prelude::*;
use std::cell::RefCell;
use std::sync::atomic::{AtomicU8, Ordering};
use transform::{F2, F4};
use transform::{Tile, analysis, synthesis, weight_freqs_backward};

/// Fewest input and output channels for which the Winograd path is taken: below that the
/// transforms cost more than the products save (and the direct path stays the reference
/// of the tiny models' finite-difference tests).
pub(crate) const MIN_CHANNELS: usize = 16;

/// The tile size the thread-count test runs.
#[cfg(test)]
type Chosen = transform::F4;

/// Which algorithm the eligible 3x3 convolutions use (a switch for A/B measurements in one
/// process). The default is [`WinogradTile::Off`]. Measured on the 2-core machine
/// (2026-12-03, `conv_layer_times` in `../tests_conv.rs`, best of 15, batch 8): this
/// channels-last, L2-blocked F(4x4) takes 2.09 ms forward / 5.48 ms backward on a 64->64
/// layer at 32 x 32 (the plane-vectorised version before it: 3.38 / 6.51; at 8 x 8 0.30 /
/// 0.73 against 1.84 / 3.10), but im2col + GEMM takes 1.67 / 3.73, at about 350 GFLOP/s,
/// near the two cores' peak. What is left: the copies into and out of channels-last (about a
/// third of the forward at 32 x 32) and the small per-block GEMMs (M = 28 tiles, K = 64 at
/// 130-200 GFLOP/s). Keeping the heads channels-last from one layer to the next, so the
/// copies vanish, is the next step; until then the whole model's forward + backward is
/// slower with it (`winograd_ab`: 72.8 ms off, 100.8 ms F(4x4), 95.3 ms F(2x2)).
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
    static WG_IN: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    static WG_OUT: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    static WG_V: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    static WG_M: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    static WG_T: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
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

/// The tiling of a batch of `h x w` planes and the padded channels-last copy of its input:
/// `[n][hp][wp][c]` with the data at row and column 1.
#[derive(Clone, Copy)]
struct Grid {
    n: usize,
    h: usize,
    w: usize,
    ntx: usize,
    tpi: usize,
    hp: usize,
    wp: usize,
}

impl Grid {
    fn new<T: Tile>(d: &Dims) -> Self {
        let (nty, ntx) = (d.h.div_ceil(T::M), d.w.div_ceil(T::M));
        Self {
            n: d.n,
            h: d.h,
            w: d.w,
            ntx,
            tpi: nty * ntx,
            hp: nty * T::M + 2,
            wp: ntx * T::M + 2,
        }
    }
    fn tiles(&self) -> usize {
        self.n * self.tpi
    }
    /// Image, first padded row and first padded column of tile `t`.
    fn tile(&self, t: usize, m: usize) -> (usize, usize, usize) {
        let (i, r) = (t / self.tpi, t % self.tpi);
        (i, (r / self.ntx) * m, (r % self.ntx) * m)
    }
}

/// Floats of one block's `V` (or `M`): with `M` beside it, about half of a 1 MiB L2.
const BLOCK_FLOATS: usize = 1 << 17;

/// Tiles per block for `a2` frequencies and up to `c` channels.
fn block_tiles(a2: usize, c: usize) -> usize {
    (BLOCK_FLOATS / (a2 * c.max(1))).clamp(4, 256)
}

/// Copies NCHW `src` (`c` channels) into the zeroed padded channels-last buffer `dst`.
fn to_channels_last(src: &[f32], c: usize, g: &Grid, dst: &mut [f32]) {
    const B: usize = 16;
    let (h, w, plane) = (g.h, g.w, g.hp * g.wp * c);
    dst[..g.n * plane]
        .par_chunks_mut(plane)
        .enumerate()
        .for_each(|(i, d)| {
            d.fill(0.0);
            let s = &src[i * c * h * w..][..c * h * w];
            for y in 0..h {
                let row = &mut d[((y + 1) * g.wp + 1) * c..][..w * c];
                // 16 x 16 blocks: 16 short reads, 16 short writes, all in L1.
                for c0 in (0..c).step_by(B) {
                    let c1 = (c0 + B).min(c);
                    for x0 in (0..w).step_by(B) {
                        let x1 = (x0 + B).min(w);
                        for ch in c0..c1 {
                            let sr = &s[(ch * h + y) * w..][x0..x1];
                            for (x, v) in (x0..x1).zip(sr) {
                                row[x * c + ch] = *v;
                            }
                        }
                    }
                }
            }
        });
}

/// The frequencies of every kernel, frequency-major: `u[xi][co][ci]` for `w`
/// `[cout, cin, 3, 3]` (each frequency's `[cout, cin]` matrix contiguous, as the GEMMs read
/// it). Sixteen kernels at a time, one per vector lane.
fn kernel_freqs<T: Tile>(w: &[f32], u: &mut [f32]) {
    const L: usize = 16;
    let a2 = T::A * T::A;
    let kernels = w.len() / 9;
    let u = SyncPtr(u.as_mut_ptr());
    (0..kernels.div_ceil(L)).into_par_iter().for_each(|c| {
        let (k0, nk) = (c * L, L.min(kernels - c * L));
        let mut g = [[0.0f32; L]; 9];
        for (l, kern) in w[k0 * 9..(k0 + nk) * 9].chunks_exact(9).enumerate() {
            for (r, v) in kern.iter().enumerate() {
                g[r][l] = *v;
            }
        }
        let mut f = [[0.0f32; L]; 64];
        transform::weight_freqs_lanes::<T, L>(&g, &mut f);
        for (xi, fx) in f.iter().take(a2).enumerate() {
            // SAFETY: chunk `c` alone writes kernels k0..k0 + nk of each frequency's row.
            unsafe {
                let dst = std::slice::from_raw_parts_mut(u.get().add(xi * kernels + k0), nk);
                dst.copy_from_slice(&fx[..nk]);
            }
        }
    });
}

/// A raw pointer the parallel writers of disjoint ranges share.
#[derive(Clone, Copy)]
struct SyncPtr(*mut f32);
impl SyncPtr {
    fn get(self) -> *mut f32 {
        self.0
    }
}
unsafe impl Send for SyncPtr {}
unsafe impl Sync for SyncPtr {}

/// `v[xi][j][..cin] = (B^T d B)[xi]` for tiles `tiles` (the `j`-th of them) of the padded
/// channels-last input `xl`; `tb` tiles per frequency row of `v`. `tmp` is scratch.
fn input_tiles<T: Tile>(
    xl: &[f32],
    g: &Grid,
    cin: usize,
    tiles: std::ops::Range<usize>,
    tb: usize,
    v: &mut [f32],
    tmp: &mut Vec<f32>,
) {
    let plane = g.hp * g.wp * cin;
    for (j, t) in tiles.enumerate() {
        let (i, r0, c0) = g.tile(t, T::M);
        let base = &xl[i * plane..][..plane];
        let patch = |a: usize, b: usize| &base[((r0 + a) * g.wp + c0 + b) * cin..][..cin];
        analysis::<T>(patch, T::BT, T::A, cin, &mut v[j * cin..], tb * cin, tmp);
    }
}

/// Output tiles `ot` (`[tiles][M][M][cout]`) of the convolution of the padded channels-last
/// input `xl` (`cin` channels) with the kernel frequencies `u`.
fn tiles_forward<T: Tile>(
    xl: &[f32],
    g: &Grid,
    cin: usize,
    cout: usize,
    u: &[f32],
    ot: &mut [f32],
) {
    let (a_n, m) = (T::A, T::M);
    let (a2, mm) = (a_n * a_n, m * m);
    let tb = block_tiles(a2, cin.max(cout));
    ot[..g.tiles() * mm * cout]
        .par_chunks_mut(tb * mm * cout)
        .enumerate()
        .for_each(|(bi, out)| {
            let (t0, nb) = (bi * tb, out.len() / (mm * cout));
            with_scratch(&WG_V, a2 * tb * cin, |v| {
                with_scratch(&WG_M, a2 * tb * cout, |mbuf| {
                    WG_T.with(|t| {
                        let tmp = &mut t.borrow_mut();
                        input_tiles::<T>(xl, g, cin, t0..t0 + nb, tb, v, tmp);
                        for xi in 0..a2 {
                            let ux =
                                Mat::row_major(&u[xi * cout * cin..][..cout * cin], cout, cin).t();
                            let vx = Mat::row_major(&v[xi * tb * cin..][..nb * cin], nb, cin);
                            matmul(
                                &mut mbuf[xi * tb * cout..],
                                cout,
                                false,
                                vx,
                                ux,
                                Parallelism::None,
                            );
                        }

                        for (j, o) in out.chunks_exact_mut(mm * cout).enumerate() {
                            synthesis::<T>(
                                &mbuf[j * cout..],
                                tb * cout,
                                T::AM,
                                m,
                                cout,
                                tmp,
                                |r, c, z| o[(r * m + c) * cout..][..cout].copy_from_slice(z),
                            );
                        }
                    })
                })
            })
        });
}

/// Writes the output tiles `ot` into NCHW `y` (`y = tile + bias`, or `y += tile` when
/// `bias` is `None`).
fn store_tiles<T: Tile>(
    ot: &[f32],
    g: &Grid,
    cout: usize,
    bias: Option<Option<&[f32]>>,
    y: &mut [f32],
) {
    const B: usize = 16;
    let (m, hw) = (T::M, g.h * g.w);
    y.par_chunks_mut(cout * hw).enumerate().for_each(|(i, yi)| {
        for yy in 0..g.h {
            let (ty, r) = (yy / m, yy % m);
            // The row's pixels as [x][cout] slices of their tiles.
            let px = |x: usize| {
                let t = i * g.tpi + ty * g.ntx + x / m;
                &ot[((t * m + r) * m + x % m) * cout..][..cout]
            };
            for c0 in (0..cout).step_by(B) {
                let c1 = (c0 + B).min(cout);
                for x0 in (0..g.w).step_by(B) {
                    let x1 = (x0 + B).min(g.w);
                    for co in c0..c1 {
                        let dst = &mut yi[co * hw + yy * g.w..][x0..x1];
                        match bias {
                            Some(b) => {
                                let bv = b.map_or(0.0, |b| b[co]);
                                for (x, o) in (x0..x1).zip(dst) {
                                    *o = px(x)[co] + bv;
                                }
                            }
                            None => {
                                for (x, o) in (x0..x1).zip(dst) {
                                    *o += px(x)[co];
                                }
                            }
                        }
                    }
                }
            }
        }
    });
}

/// `y = conv(x, w) + b` (`bias = Some(b)`) or `y += conv(x, w)` (`bias = None`).
fn conv_into<T: Tile>(
    x: &Tensor,
    w: &Tensor,
    d: &Dims,
    bias: Option<Option<&[f32]>>,
    y: &mut Tensor,
) {
    let g = Grid::new::<T>(d);
    let (a2, mm, cin, cout) = (T::A * T::A, T::M * T::M, d.cin, d.cout);
    with_scratch(&WG_IN, g.n * g.hp * g.wp * cin, |xl| {
        to_channels_last(&x.data, cin, &g, xl);
        with_scratch(&WG_OUT, g.tiles() * mm * cout + a2 * cout * cin, |buf| {
            let (ot, u) = buf.split_at_mut(g.tiles() * mm * cout);
            kernel_freqs::<T>(&w.data, u);
            tiles_forward::<T>(xl, &g, cin, cout, u, ot);
            store_tiles::<T>(ot, &g, cout, bias, &mut y.data);
        });
    });
}

fn forward_t<T: Tile>(x: &Tensor, w: &Tensor, b: Option<&[f32]>, d: &Dims, y: &mut Tensor) {
    conv_into::<T>(x, w, d, Some(b), y);
}

/// Groups of blocks whose weight gradients are summed separately (then in order): fixed, so
/// the sum's order does not depend on the thread count.
const DW_GROUPS: usize = 8;

fn backward_t<T: Tile>(
    x: &Tensor,
    w: &Tensor,
    dy: &Tensor,
    d: &Dims,
    dx: Option<&mut Tensor>,
    dw: &mut Tensor,
    db: Option<&mut [f32]>,
) {
    let (cout, hw) = (d.cout, d.h * d.w);
    if let Some(db) = db {
        assert_eq!(db.len(), cout, "conv2d: db length");
        // Per image, then image by image, as the direct path adds its per-image partials.
        let sums: Vec<f32> = dy
            .data
            .par_chunks(hw)
            .map(|p| p.iter().sum::<f32>())
            .collect();
        for si in sums.chunks_exact(cout) {
            for (o, s) in db.iter_mut().zip(si) {
                *o += s;
            }
        }
    }
    weight_grad::<T>(x, dy, d, dw);
    if let Some(dx) = dx {
        let wt = flipped_transpose(w);
        let dt = Dims::new(dy, &wt, d.g);
        conv_into::<T>(dy, &wt, &dt, None, dx);
    }
}

/// `dw += dL/dw` from `dU[xi] = sum over tiles of dM[xi]^T V[xi]`.
fn weight_grad<T: Tile>(x: &Tensor, dy: &Tensor, d: &Dims, dw: &mut Tensor) {
    let g = Grid::new::<T>(d);
    let (a_n, m) = (T::A, T::M);
    let (a2, cin, cout) = (a_n * a_n, d.cin, d.cout);
    let tb = block_tiles(a2, cin.max(cout));
    let blocks = g.tiles().div_ceil(tb);
    let per_group = blocks.div_ceil(DW_GROUPS);
    let (xplane, dplane, uplane) = (g.hp * g.wp * cin, g.hp * g.wp * cout, cout * cin);
    let groups = blocks.div_ceil(per_group);
    let mut du = vec![0.0f32; groups * a2 * uplane];
    with_scratch(&WG_IN, g.n * xplane, |xl| {
        to_channels_last(&x.data, cin, &g, xl);
        with_scratch(&WG_OUT, g.n * dplane, |dl| {
            to_channels_last(&dy.data, cout, &g, dl);
            let (xl, dl) = (&*xl, &*dl);
            du.par_chunks_mut(a2 * uplane)
                .enumerate()
                .for_each(|(gi, dug)| {
                    with_scratch(&WG_V, a2 * tb * cin, |v| {
                        with_scratch(&WG_M, a2 * tb * cout, |dm| {
                            WG_T.with(|t| {
                                let tmp = &mut t.borrow_mut();
                                let first = gi * per_group;
                                for bi in first..(first + per_group).min(blocks) {
                                    let t0 = bi * tb;
                                    let nb = tb.min(g.tiles() - t0);
                                    input_tiles::<T>(xl, &g, cin, t0..t0 + nb, tb, v, tmp);
                                    for j in 0..nb {
                                        let (i, r0, c0) = g.tile(t0 + j, m);
                                        let db = &dl[i * dplane..][..dplane];
                                        let dpatch = |a: usize, b: usize| {
                                            &db[((r0 + 1 + a) * g.wp + c0 + 1 + b) * cout..][..cout]
                                        };
                                        analysis::<T>(
                                            dpatch,
                                            T::AM,
                                            m,
                                            cout,
                                            &mut dm[j * cout..],
                                            tb * cout,
                                            tmp,
                                        );
                                    }
                                    for xi in 0..a2 {
                                        let dmx = Mat::row_major(
                                            &dm[xi * tb * cout..][..nb * cout],
                                            nb,
                                            cout,
                                        );
                                        let vx = Mat::row_major(
                                            &v[xi * tb * cin..][..nb * cin],
                                            nb,
                                            cin,
                                        );
                                        let dst = &mut dug[xi * uplane..][..uplane];
                                        matmul(
                                            dst,
                                            cin,
                                            bi > first,
                                            dmx.t(),
                                            vx,
                                            Parallelism::None,
                                        );
                                    }
                                }
                            })
                        })
                    })
                });
        });
    });
    let du = &du;
    dw.data
        .par_chunks_mut(9 * 64)
        .enumerate()
        .for_each(|(ci0, chunk)| {
            for (k, dk) in chunk.chunks_exact_mut(9).enumerate() {
                let oc = ci0 * 64 + k;
                weight_freqs_backward::<T>(
                    |xi| (0..groups).map(|gi| du[(gi * a2 + xi) * uplane + oc]).sum(),
                    dk,
                );
            }
        });
}
