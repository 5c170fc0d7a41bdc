//! Winograd convolution for the stride-1, pad-1 3x3 layers (the FPN outputs and both heads:
//! most of a training step's FLOPs), forward and both backward passes.
//!
//! With `U[xi] = (G g G^T)[xi]` (`[cin, cout]` per frequency `xi`), `V[xi] = (B^T d B)[xi]`
//! (`[tiles, cin]`) and `M[xi] = V[xi] U[xi]`, the output tiles are `A^T M A`
//! (`transform.rs`). The input gradient of a stride-1 "same" convolution is the forward
//! convolution of `dY` with the flipped, transposed kernel, so it runs the same code; the
//! weight gradient is `dU[xi] = dM[xi]^T V[xi]` with `dM = A dY A^T`, then `dW += G^T dU G`.
//!
//! Layout: the input (and `dY`) is copied once into a zero-padded channels-last buffer
//! (channels padded to whole 16-lane vectors), so a tile's values are vectors over channels
//! and every transform step is one vector operation whatever the plane size. The outputs
//! are written channels-last too and copied back to NCHW once, adding the bias, applying
//! the forward's ReLU or the backward's ReLU mask on the way (`layout.rs`). Kernel
//! frequencies are kept for the last few weights and found again by their bits
//! (`kernel_cache.rs`): the heads' shared weights are transformed once per step and
//! direction, not once per level. Tile rows of the whole batch are cut into blocks whose
//! `V` and `M` (`alpha^2 x tiles x channels`) stay in L2; a block is one rayon task doing
//! its transforms and its `alpha^2` products (`product.rs`).
//! Forward tasks own their output rows; the weight gradient is summed per fixed group of
//! blocks and the groups are added in order, so results are the same bits for any thread
//! count.
//!
//! Error: the transforms scale values by up to 5 (F(4x4)), so the rounding error is a few
//! times the direct convolution's; `tests.rs` bounds it against a direct f64 convolution.

mod kernel_cache;
mod layout;
mod product;
#[cfg(test)]
mod tests;
mod transform;

use super::conv::flipped_transpose;
use super::gemm::with_scratch;
use super::im2col::Dims;
use crate::backend::cpu::ConvGeom;
use crate::backend::tensor::Tensor;
use layout::{Store, from_channels_last, to_channels_last};
use product::{Product, Simd};
use rayon::prelude::*;
use std::cell::RefCell;
use std::sync::atomic::{AtomicU8, Ordering};
use transform::{F2, F4, Place, Tile, load, weight_freqs_backward_lanes, weight_freqs_lanes};

/// Fewest input and output channels for which the Winograd path is taken: below that the
/// transforms cost more than the products save (and the direct path stays the reference
/// of the tiny models' finite-difference tests).
pub(crate) const MIN_CHANNELS: usize = 16;

/// The tile size the thread-count test runs.
#[cfg(test)]
type Chosen = transform::F4;

/// Which algorithm the eligible 3x3 convolutions use: by default F(4x4) on CPUs with AVX-512
/// or AVX2 + FMA and im2col + GEMM elsewhere; `ANCHORSCOPE_WINOGRAD=off|f2|f4` or
/// [`set_winograd_tile`] choose (A/B measurements in one process). Measured on 2-core AMD
/// EPYC machines (2026-12-03, batch 8, the model's forward + backward, `winograd_ab`,
/// alternating): with AVX-512 164.5 ms off, 135.4 ms F(2x2), 129.7 ms F(4x4); with AVX2 only
/// 205.1, 163.3 and 126.3 ms. Per layer (`conv_layer_times`, AVX-512) 64 -> 64 at 32 x 32
/// forward 4.4 -> 2.6 ms, backward 9.7 -> 4.6 ms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WinogradTile {
    /// im2col + GEMM, like every other convolution.
    Off = 0,
    /// F(2x2, 3x3).
    F2 = 1,
    /// F(4x4, 3x3).
    F4 = 2,
}

/// Not set yet: [`tile`] then takes `ANCHORSCOPE_WINOGRAD` (`off`, `f2`, `f4`) or the default.
const UNSET: u8 = u8::MAX;

static TILE: AtomicU8 = AtomicU8::new(UNSET);

/// Sets the algorithm of the eligible convolutions (for benchmarks; results differ by
/// rounding only).
pub fn set_winograd_tile(t: WinogradTile) {
    TILE.store(t as u8, Ordering::Relaxed);
}

fn tile() -> WinogradTile {
    match TILE.load(Ordering::Relaxed) {
        0 => WinogradTile::Off,
        1 => WinogradTile::F2,
        2 => WinogradTile::F4,
        _ => {
            let t = match std::env::var("ANCHORSCOPE_WINOGRAD").as_deref() {
                Ok("off") => WinogradTile::Off,
                Ok("f2") => WinogradTile::F2,
                Ok("f4") => WinogradTile::F4,
                _ => default_tile(),
            };
            set_winograd_tile(t);
            t
        }
    }
}

/// The algorithm when nothing chose one: F(4x4) where the CPU has AVX-512 or AVX2 + FMA
/// (measured faster with both, see `WinogradTile`), im2col + GEMM elsewhere (the portable
/// products are plain loops, not measured against the GEMM crate's kernels).
fn default_tile() -> WinogradTile {
    match Simd::detect() {
        Simd::Portable => WinogradTile::Off,
        #[cfg(target_arch = "x86_64")]
        Simd::Avx512 | Simd::Avx2 => WinogradTile::F4,
    }
}

thread_local! {
    static WG_IN: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    static WG_DY: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    static WG_OUT: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    static WG_V: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    static WG_M: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    static WG_DU: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    static WG_UC: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Whether [`forward`] / [`backward`] handle this convolution: it is [`eligible`] and the
/// switch is on.
pub(crate) fn applies(d: &Dims) -> bool {
    tile() != WinogradTile::Off && eligible(d)
}

/// Fewest pixels per plane for which the Winograd path is taken: measured on the model's
/// 64 -> 64 layers (`conv_layer_times`, 2026-12-03), F(4x4) is about 2x faster at 32 x 32
/// and 16 x 16 and no faster at 8 x 8, where the fixed costs (kernel frequencies, copies,
/// the weight gradient's sums) weigh as much as the products.
pub(crate) const MIN_PIXELS: usize = 16 * 16;

/// A stride-1, pad-1 3x3 convolution with enough channels and pixels.
fn eligible(d: &Dims) -> bool {
    d.kh == 3
        && d.kw == 3
        && d.g == ConvGeom::new(1, 1)
        && d.cin >= MIN_CHANNELS
        && d.cout >= MIN_CHANNELS
        && d.h * d.w >= MIN_PIXELS
        && d.n > 0
}

/// `y = conv(x, w) + b`, then `y = max(y, 0)` when `relu` (y already shaped
/// `[N, Cout, H, W]`).
pub(crate) fn forward(
    x: &Tensor,
    w: &Tensor,
    b: Option<&[f32]>,
    relu: bool,
    d: &Dims,
    y: &mut Tensor,
) {
    let store = if relu {
        Store::BiasRelu(b)
    } else {
        Store::Bias(b)
    };
    match tile() {
        WinogradTile::F2 => forward_t::<F2>(x, w, store, d, y),
        _ => forward_t::<F4>(x, w, store, d, y),
    }
}

/// How the backward pass stores the input gradient `g`.
pub(crate) enum InputGrad<'a> {
    /// `dx += g`.
    Add(&'a mut Tensor),
    /// `dx = g` where the convolution's input `x` (a ReLU's output) is positive, else 0:
    /// the bits of zeroing `dx`, adding `g` and applying the ReLU's backward mask.
    MaskedByInput(&'a mut Tensor),
}

/// Backward: the input gradient stored as `dx` says (when given), `dw +=`, `db +=` (when
/// given).
pub(crate) fn backward(
    x: &Tensor,
    w: &Tensor,
    dy: &Tensor,
    d: &Dims,
    dx: Option<InputGrad>,
    dw: &mut Tensor,
    db: Option<&mut [f32]>,
) {
    match tile() {
        WinogradTile::F2 => backward_t::<F2>(x, w, dy, d, dx, dw, db),
        _ => backward_t::<F4>(x, w, dy, d, dx, dw, db),
    }
}

/// `c` rounded up to whole 16-lane vectors.
fn padded(c: usize) -> usize {
    c.div_ceil(16) * 16
}

/// The tiling of a batch of `h x w` planes: `nty x ntx` tiles of `m x m` outputs per image;
/// the padded channels-last input is `[n][hp][wp][c]` with the data at row and column 1, the
/// channels-last output `[n][nty m][ntx m][c]`.
#[derive(Clone, Copy)]
struct Grid {
    n: usize,
    h: usize,
    w: usize,
    m: usize,
    nty: usize,
    ntx: usize,
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
            m: T::M,
            nty,
            ntx,
            hp: nty * T::M + 2,
            wp: ntx * T::M + 2,
        }
    }
    /// The tiles of tile rows `rows` in order: image, first row and first column of each
    /// (the output's coordinates, and the padded input's of its patch).
    fn tiles(&self, rows: std::ops::Range<usize>) -> impl Iterator<Item = (usize, usize, usize)> {
        let (nty, ntx, m) = (self.nty, self.ntx, self.m);
        rows.flat_map(move |tr| (0..ntx).map(move |tx| (tr / nty, (tr % nty) * m, tx * m)))
    }
    /// Tile rows of the whole batch.
    fn rows(&self) -> usize {
        self.n * self.nty
    }
    /// Tile rows per block of about `most` tiles, at least 8 blocks where there are enough
    /// tiles. Depends on the shape only (the weight gradient's sums follow the blocks).
    fn rows_per_block(&self, most: usize) -> usize {
        let target = (self.rows() * self.ntx / 8).clamp(8, most);
        (target / self.ntx).max(1)
    }
    /// Floats of the channels-last output.
    fn out_len(&self, c: usize) -> usize {
        self.rows() * self.m * self.ntx * self.m * c
    }
}

/// Floats from one frequency's block of `tb` tiles (`c` channels each) to the next: one
/// vector more than the data, so that the 36 frequencies of a tile, touched together by the
/// transforms, do not all map to one L1 set (a 4 KiB stride would).
fn freq_stride(tb: usize, c: usize) -> usize {
    tb * c + 16
}

/// Most tiles per forward block (measured on the 64 -> 64 layers at 32 x 32: 16 and 32 are
/// about equal, 48 slower; the block's `V` and `M` stay in L2).
const FORWARD_TILES: usize = 16;

/// Most tiles per weight-gradient block: the products' inner dimension, so longer is better
/// while `V` and `dM` stay in L2.
const WEIGHT_TILES: usize = 32;

/// The frequencies of input channel `ci`'s kernels of `w` (`[cout, cin, 3, 3]`):
/// `uc[xi][co]` (`alpha^2 coutp` floats; the padding columns come out zero, as the lanes
/// past `cout` transform zero kernels). Sixteen output channels at a time, one per lane.
#[inline(always)]
fn channel_freqs_body<T: Tile>(w: &Tensor, ci: usize, coutp: usize, uc: &mut [f32]) {
    let [cout, cin, _, _] = w.shape;
    let a2 = T::A * T::A;
    let mut f = [[0.0f32; 16]; 64];
    for co0 in (0..cout).step_by(16) {
        let mut g = [[0.0f32; 16]; 9];
        for (l, co) in (co0..(co0 + 16).min(cout)).enumerate() {
            for (r, v) in w.data[(co * cin + ci) * 9..][..9].iter().enumerate() {
                g[r][l] = *v;
            }
        }
        weight_freqs_lanes::<T, 16>(&g, &mut f);
        for (xi, fx) in f.iter().take(a2).enumerate() {
            uc[xi * coutp + co0..][..16].copy_from_slice(fx);
        }
    }
}

/// The frequencies of every kernel of `w` (`[cout, cin, 3, 3]`) into `u` (`alpha^2 cin
/// coutp` floats), frequency-major: `u[xi][ci][co]`, each frequency's `[cin, coutp]`
/// matrix contiguous (the products' `B`), the padding columns zero. Two parallel passes
/// (each output written by one task, so the result is the same for any thread count):
/// per input channel into a channel-major buffer, then per frequency into `u`. Done
/// serially, this was 20% of the main thread's samples in a training step (`perf`).
fn kernel_freqs_into<T: Tile>(w: &Tensor, coutp: usize, u: &mut [f32]) {
    let cin = w.shape[1];
    let a2 = T::A * T::A;
    let simd = Simd::detect();
    with_scratch(&WG_UC, cin * a2 * coutp, |uc| {
        uc.par_chunks_mut(a2 * coutp)
            .enumerate()
            .for_each(|(ci, ucc)| channel_freqs_simd::<T>(simd, w, ci, coutp, ucc));
        let uc = &*uc;
        u[..a2 * cin * coutp]
            .par_chunks_mut(cin * coutp)
            .enumerate()
            .for_each(|(xi, ux)| {
                for (ci, row) in ux.chunks_exact_mut(coutp).enumerate() {
                    row.copy_from_slice(&uc[(ci * a2 + xi) * coutp..][..coutp]);
                }
            });
    });
}

/// [`kernel_freqs_into`] a new buffer.
#[cfg(test)]
fn kernel_freqs<T: Tile>(w: &Tensor, coutp: usize) -> Vec<f32> {
    let mut u = vec![0.0f32; T::A * T::A * w.shape[1] * coutp];
    kernel_freqs_into::<T>(w, coutp, &mut u);
    u
}

/// `v[xi fs + j cp..][..cp] = (B^T d B)[xi]` for the `j`-th tile of tile rows `rows` of
/// the padded channels-last `xl` (`cp` channels).
#[inline(always)]
fn input_tiles<T: Tile>(
    xl: &[f32],
    g: &Grid,
    cp: usize,
    rows: std::ops::Range<usize>,
    fs: usize,
    v: &mut [f32],
) {
    let plane = g.hp * g.wp * cp;
    for (j, (i, r0, c0)) in g.tiles(rows).enumerate() {
        let base = &xl[i * plane..][..plane];
        for q in (0..cp).step_by(16) {
            let p = Place {
                at: (r0 * g.wp + c0) * cp + q,
                rs: g.wp * cp,
                cs: cp,
            };
            T::input(base, p, v, j * cp + q, fs);
        }
    }
}

/// The shapes and buffers of one convolution's tile products.
struct Conv<'a> {
    simd: Simd,
    g: Grid,
    cin: usize,
    cinp: usize,
    coutp: usize,
    /// Kernel frequencies `[xi][cin][coutp]`.
    u: &'a [f32],
}

/// One forward block: output tile rows `rows` (`out` is their channels-last output); `v`
/// and `mbuf` are scratch for the block's input and output frequencies.
#[inline(always)]
fn forward_block<T: Tile>(
    c: &Conv,
    xl: &[f32],
    rows: std::ops::Range<usize>,
    out: &mut [f32],
    v: &mut [f32],
    mbuf: &mut [f32],
) {
    let (a2, g, cp, cop) = (T::A * T::A, &c.g, c.cinp, c.coutp);
    let tb = rows.len() * g.ntx;
    let wq = g.ntx * T::M;
    input_tiles::<T>(xl, g, cp, rows, freq_stride(tb, cp), v);
    let p = Product {
        m: tb,
        n: cop,
        k: c.cin,
        a_rs: cp,
        a_cs: 1,
        b_rs: cop,
        c_rs: cop,
        accumulate: false,
    };
    for xi in 0..a2 {
        p.run(
            c.simd,
            &v[xi * freq_stride(tb, cp)..][..tb * cp],
            &c.u[xi * c.cin * cop..][..c.cin * cop],
            &mut mbuf[xi * freq_stride(tb, cop)..][..tb * cop],
        );
    }
    for j in 0..tb {
        let (rr, tx) = (j / g.ntx, j % g.ntx);
        for q in (0..cop).step_by(16) {
            let p = Place {
                at: (rr * T::M * wq + tx * T::M) * cop + q,
                rs: wq * cop,
                cs: cop,
            };
            T::output(mbuf, j * cop + q, freq_stride(tb, cop), out, p);
        }
    }
}

/// The channels-last output `yl` of the convolution of the padded channels-last `xl`.
fn tiles_forward<T: Tile>(c: &Conv, xl: &[f32], yl: &mut [f32]) {
    let g = &c.g;
    let rpb = g.rows_per_block(FORWARD_TILES);
    let row_len = T::M * g.ntx * T::M * c.coutp;
    yl[..g.out_len(c.coutp)]
        .par_chunks_mut(rpb * row_len)
        .enumerate()
        .for_each(|(bi, out)| {
            let rows = bi * rpb..bi * rpb + out.len() / row_len;
            let (a2, tb) = (T::A * T::A, rows.len() * g.ntx);
            with_scratch(&WG_V, a2 * freq_stride(tb, c.cinp), |v| {
                with_scratch(&WG_M, a2 * freq_stride(tb, c.coutp), |m| {
                    forward_block_simd::<T>(c.simd, c, xl, rows, out, v, m)
                })
            });
        });
}

/// `conv(x, w)` stored into `y` as `store` says (`+ b`, `+=`, or masked), from the
/// padded channels-last input `xl` (`d.cin` channels padded).
fn conv_from_channels_last<T: Tile>(
    xl: &[f32],
    w: &Tensor,
    d: &Dims,
    store: Store,
    y: &mut Tensor,
) {
    let g = Grid::new::<T>(d);
    let coutp = padded(d.cout);
    let freqs = kernel_cache::kernel_freqs::<T>(w, coutp);
    let c = Conv {
        simd: Simd::detect(),
        g,
        cin: d.cin,
        cinp: padded(d.cin),
        coutp,
        u: &freqs.u,
    };
    with_scratch(&WG_OUT, g.out_len(coutp), |yl| {
        tiles_forward::<T>(&c, xl, yl);
        from_channels_last(c.simd, yl, d.cout, coutp, &g, store, &mut y.data);
    });
}

fn forward_t<T: Tile>(x: &Tensor, w: &Tensor, store: Store, d: &Dims, y: &mut Tensor) {
    let g = Grid::new::<T>(d);
    let cp = padded(d.cin);
    with_scratch(&WG_IN, g.n * g.hp * g.wp * cp, |xl| {
        to_channels_last(Simd::detect(), &x.data, d.cin, cp, &g, xl);
        conv_from_channels_last::<T>(xl, w, d, store, y);
    });
}

/// Most groups of blocks whose weight gradients are summed separately (then in order); a
/// group has at least 4 blocks where there are that many (each group's sum is a full
/// `alpha^2 cout cin` buffer to add). Fixed by the shape, so the sum's order does not depend
/// on the thread count.
const DW_GROUPS: usize = 8;

fn backward_t<T: Tile>(
    x: &Tensor,
    w: &Tensor,
    dy: &Tensor,
    d: &Dims,
    dx: Option<InputGrad>,
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
    let g = Grid::new::<T>(d);
    let coutp = padded(cout);
    with_scratch(&WG_DY, g.n * g.hp * g.wp * coutp, |dyl| {
        to_channels_last(Simd::detect(), &dy.data, cout, coutp, &g, dyl);
        weight_grad::<T>(x, dyl, d, dw);
        if let Some(dx) = dx {
            let wt = flipped_transpose(w);
            let dt = Dims::new(dy, &wt, d.g);
            match dx {
                InputGrad::Add(dx) => conv_from_channels_last::<T>(dyl, &wt, &dt, Store::Add, dx),
                InputGrad::MaskedByInput(dx) => {
                    let store = Store::MaskedByPositive(&x.data);
                    conv_from_channels_last::<T>(dyl, &wt, &dt, store, dx)
                }
            }
        }
    });
}

/// One weight-gradient block: `dug[xi] (+)= dM[xi]^T V[xi]` over tile rows `rows`; `v`
/// and `dm` are scratch for the block's frequencies.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn weight_block<T: Tile>(
    c: &Conv,
    cout: usize,
    xl: &[f32],
    dyl: &[f32],
    rows: std::ops::Range<usize>,
    accumulate: bool,
    dug: &mut [f32],
    v: &mut [f32],
    dm: &mut [f32],
) {
    let (a2, g, cp, cop) = (T::A * T::A, &c.g, c.cinp, c.coutp);
    let tb = rows.len() * g.ntx;
    let dplane = g.hp * g.wp * cop;
    input_tiles::<T>(xl, g, cp, rows.clone(), freq_stride(tb, cp), v);
    for (j, (i, r0, c0)) in g.tiles(rows).enumerate() {
        let base = &dyl[i * dplane..][..dplane];
        for q in (0..cop).step_by(16) {
            // The tile's outputs: one row and column in from its padded patch.
            let p = Place {
                at: ((r0 + 1) * g.wp + c0 + 1) * cop + q,
                rs: g.wp * cop,
                cs: cop,
            };
            T::grad(base, p, dm, j * cop + q, freq_stride(tb, cop));
        }
    }
    let p = Product {
        m: cout,
        n: cp,
        k: tb,
        a_rs: 1,
        a_cs: cop,
        b_rs: cp,
        c_rs: cp,
        accumulate,
    };
    for xi in 0..a2 {
        p.run(
            c.simd,
            &dm[xi * freq_stride(tb, cop)..][..tb * cop],
            &v[xi * freq_stride(tb, cp)..][..tb * cp],
            &mut dug[xi * cout * cp..][..cout * cp],
        );
    }
}

/// Defines `$name::<T>(simd, args)`: `$body::<T>(args)` compiled for the instruction set
/// `simd` names (the body is `#[inline(always)]`, so each wrapper gets its own copy, and
/// `Simd` values are only made for instruction sets the CPU has).
macro_rules! simd_entry {
    ($name:ident => $body:ident($($p:ident: $t:ty),* $(,)?)) => {
        #[allow(clippy::too_many_arguments)]
        fn $name<T: Tile>(simd: Simd, $($p: $t),*) {
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f")]
            #[allow(clippy::too_many_arguments)]
            unsafe fn avx512<T: Tile>($($p: $t),*) {
                $body::<T>($($p),*)
            }
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,fma")]
            #[allow(clippy::too_many_arguments)]
            unsafe fn avx2<T: Tile>($($p: $t),*) {
                $body::<T>($($p),*)
            }
            match simd {
                #[cfg(target_arch = "x86_64")]
                // SAFETY: `Simd::Avx512` is only made where the CPU has AVX-512F.
                Simd::Avx512 => unsafe { avx512::<T>($($p),*) },
                #[cfg(target_arch = "x86_64")]
                // SAFETY: `Simd::Avx2` is only made where the CPU has AVX2 and FMA.
                Simd::Avx2 => unsafe { avx2::<T>($($p),*) },
                Simd::Portable => $body::<T>($($p),*),
            }
        }
    };
}

simd_entry!(channel_freqs_simd => channel_freqs_body(
    w: &Tensor,
    ci: usize,
    coutp: usize,
    uc: &mut [f32],
));
simd_entry!(forward_block_simd => forward_block(
    c: &Conv,
    xl: &[f32],
    rows: std::ops::Range<usize>,
    out: &mut [f32],
    v: &mut [f32],
    mbuf: &mut [f32],
));
simd_entry!(weight_block_simd => weight_block(
    c: &Conv,
    cout: usize,
    xl: &[f32],
    dyl: &[f32],
    rows: std::ops::Range<usize>,
    accumulate: bool,
    dug: &mut [f32],
    v: &mut [f32],
    dm: &mut [f32],
));

/// `dw += dL/dw` from `dU[xi] = sum over tiles of dM[xi]^T V[xi]`; `dyl` is the padded
/// channels-last output gradient.
fn weight_grad<T: Tile>(x: &Tensor, dyl: &[f32], d: &Dims, dw: &mut Tensor) {
    let g = Grid::new::<T>(d);
    let (a2, cin, cout) = (T::A * T::A, d.cin, d.cout);
    let cp = padded(cin);
    let c = Conv {
        simd: Simd::detect(),
        g,
        cin,
        cinp: cp,
        coutp: padded(cout),
        u: &[],
    };
    let rpb = g.rows_per_block(WEIGHT_TILES);
    let blocks = g.rows().div_ceil(rpb);
    let per_group = blocks.div_ceil((blocks / 4).clamp(1, DW_GROUPS));
    let groups = blocks.div_ceil(per_group);
    let uplane = cout * cp;
    // Every group's first block overwrites its part: no zeroing needed.
    with_scratch(&WG_DU, groups * a2 * uplane, |du| {
        with_scratch(&WG_IN, g.n * g.hp * g.wp * cp, |xl| {
            to_channels_last(c.simd, &x.data, cin, cp, &g, xl);
            let xl = &*xl;
            du.par_chunks_mut(a2 * uplane)
                .enumerate()
                .for_each(|(gi, dug)| {
                    let first = gi * per_group;
                    let tb = rpb * g.ntx;
                    with_scratch(&WG_V, a2 * freq_stride(tb, cp), |v| {
                        with_scratch(&WG_M, a2 * freq_stride(tb, c.coutp), |dm| {
                            for bi in first..(first + per_group).min(blocks) {
                                let rows = bi * rpb..((bi + 1) * rpb).min(g.rows());
                                let acc = bi > first;
                                weight_block_simd::<T>(
                                    c.simd, &c, cout, xl, dyl, rows, acc, dug, v, dm,
                                );
                            }
                        })
                    });
                });
        });
        // The groups in order, then each kernel's G^T dU G, 16 input channels at a time.
        let (total, rest) = du.split_at_mut(a2 * uplane);
        for part in rest.chunks_exact(a2 * uplane) {
            total
                .par_chunks_mut(4096)
                .zip(part.par_chunks(4096))
                .for_each(|(o, p)| o.iter_mut().zip(p).for_each(|(o, p)| *o += p));
        }
        let total = &*total;
        dw.data
            .par_chunks_mut(cin * 9)
            .enumerate()
            .for_each(|(co, dwc)| {
                for q in (0..cin).step_by(16) {
                    let mut du = [[0.0f32; 16]; 36];
                    for (xi, v) in du.iter_mut().take(a2).enumerate() {
                        *v = load(total, xi * uplane + co * cp + q);
                    }
                    let mut d = [[0.0f32; 16]; 9];
                    weight_freqs_backward_lanes::<T>(&du[..a2], &mut d);
                    for (l, ci) in (q..(q + 16).min(cin)).enumerate() {
                        for (tap, dt) in d.iter().enumerate() {
                            dwc[ci * 9 + tap] += dt[l];
                        }
                    }
                }
            });
    });
}
