//! Gradient norm and clipping on the GPU (`shaders/reduce.wgsl`), the twins of `cpu::norm`.
//!
//! Deterministic two-pass sums of squares: fixed chunks of [`CHUNK`] values per workgroup
//! into partial sums, then one workgroup over the partials into a slot of a small `sums`
//! buffer; the global norm sums the slots the same way. Clipping reads the norm from the GPU,
//! so a whole step needs no readback (download the total only for the metrics).

use super::buffer::GpuTensor;
use super::context::{GpuContext, grid_1d};

/// Values per workgroup in the first pass (`CHUNK` of shaders/reduce_common.wgsl; checked by
/// `tests_layout`).
pub const CHUNK: usize = 4096;
/// Threads per workgroup of the reduce kernels (`WG` of shaders/reduce_common.wgsl; checked by
/// `tests_layout`).
pub(super) const WG: u32 = 256;

/// Length, output slot and clipping threshold: `ReduceParams` of shaders/reduce.wgsl (layout
/// checked by `tests_layout`).
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub(super) struct ReduceParams {
    pub(super) len: u32,
    pub(super) slot: u32,
    pub(super) max_norm: f32,
    pub(super) _pad: u32,
}

fn params(len: usize, slot: usize, max_norm: f32) -> ReduceParams {
    ReduceParams {
        len: u32::try_from(len).expect("buffer length fits u32"),
        slot: slot as u32,
        max_norm,
        _pad: 0,
    }
}

/// Floats the `partials` scratch buffer needs for a buffer of `len` values.
pub fn partials_len(len: usize) -> usize {
    len.div_ceil(CHUNK).max(1)
}

/// Records `sums[slot] = sum of x^2` (overwrites the slot). `partials` is scratch of at least
/// [`partials_len`]`(x.len())` floats.
pub fn record_sum_squares(
    ctx: &GpuContext,
    enc: &mut wgpu::CommandEncoder,
    x: &GpuTensor,
    partials: &GpuTensor,
    sums: &GpuTensor,
    slot: usize,
) {
    let parts = partials_len(x.len());
    assert!(
        partials.len() >= parts,
        "gpu sum_squares: partials too short"
    );
    assert!(slot < sums.len(), "gpu sum_squares: slot out of range");
    let k = &ctx.kernels;
    let p = params(x.len(), slot, 0.0);
    let bufs = [&x.buffer, &partials.buffer];
    ctx.dispatch(
        enc,
        &k.sumsq_partials,
        bytemuck::bytes_of(&p),
        &bufs,
        [parts as u32, 1, 1],
    );
    record_reduce_sum(ctx, enc, partials, parts, sums, slot);
}

/// Records `dst[slot] = sum of src[0..len]` in one workgroup (fixed order).
pub fn record_reduce_sum(
    ctx: &GpuContext,
    enc: &mut wgpu::CommandEncoder,
    src: &GpuTensor,
    len: usize,
    dst: &GpuTensor,
    slot: usize,
) {
    assert!(
        len <= src.len() && slot < dst.len(),
        "gpu reduce_sum: ranges"
    );
    let p = params(len, slot, 0.0);
    let bufs = [&src.buffer, &dst.buffer];
    let k = &ctx.kernels.reduce_sum;
    ctx.dispatch(enc, k, bytemuck::bytes_of(&p), &bufs, [1, 1, 1]);
}

/// Records the global sum of squares of all `grads` into `total[0]`: one slot of `sums`
/// (at least `grads.len()` floats) per buffer, then their sum. `partials` must hold
/// [`partials_len`] of the longest buffer.
pub fn record_grad_sumsq(
    ctx: &GpuContext,
    enc: &mut wgpu::CommandEncoder,
    grads: &[&GpuTensor],
    partials: &GpuTensor,
    sums: &GpuTensor,
    total: &GpuTensor,
) {
    for (i, g) in grads.iter().enumerate() {
        record_sum_squares(ctx, enc, g, partials, sums, i);
    }
    record_reduce_sum(ctx, enc, sums, grads.len(), total, 0);
}

/// Records clipping of `x` by the norm `sqrt(sumsq[slot])`: `x *= max_norm / (norm + 1e-6)`
/// when that factor is below 1 and the norm is finite (PyTorch `clip_grad_norm_`).
pub fn record_clip_scale(
    ctx: &GpuContext,
    enc: &mut wgpu::CommandEncoder,
    x: &GpuTensor,
    sumsq: &GpuTensor,
    slot: usize,
    max_norm: f32,
) {
    assert!(slot < sumsq.len(), "gpu clip: slot out of range");
    let p = params(x.len(), slot, max_norm);
    let bufs = [&sumsq.buffer, &x.buffer];
    let k = &ctx.kernels.clip_scale;
    ctx.dispatch(enc, k, bytemuck::bytes_of(&p), &bufs, grid_1d(x.len(), WG));
}

/// Convenience: the global L2 norm of `grads` (one submission and a readback).
pub fn grad_norm(ctx: &GpuContext, grads: &[&GpuTensor]) -> f32 {
    let longest = grads.iter().map(|g| g.len()).max().unwrap_or(0);
    let partials = GpuTensor::zeros_flat(ctx, partials_len(longest));
    let sums = GpuTensor::zeros_flat(ctx, grads.len());
    let total = GpuTensor::zeros_flat(ctx, 1);
    let mut enc = ctx.encoder();
    record_grad_sumsq(ctx, &mut enc, grads, &partials, &sums, &total);
    ctx.submit_wait(enc);
    total.download_vec(ctx)[0].sqrt()
}
