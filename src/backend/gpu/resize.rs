//! Resizing kernels (`shaders/resize.wgsl`), the twins of `cpu::resize`: nearest 2x
//! upsampling (FPN top-down path), nearest resize to any size and adaptive max pooling (the
//! balanced feature pyramid's rescaling). The forward kernels of the pyramid ACCUMULATE a
//! scaled result into `dst` (`dst += alpha * resize(x)`), so averaging levels needs no
//! temporaries; backward kernels accumulate into `dx` as deterministic gathers (no atomics).

use super::buffer::GpuTensor;
use super::context::{GpuContext, Kernel, WG_1D, grid_1d};
use super::elementwise::run;

/// Plane count, input and output sizes and scale of a resize: `ResizeParams` of
/// shaders/resize.wgsl (layout checked by `tests_layout`).
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub(super) struct ResizeParams {
    pub(super) planes: u32,
    pub(super) h: u32,
    pub(super) w: u32,
    pub(super) oh: u32,
    pub(super) ow: u32,
    pub(super) alpha: f32,
    pub(super) _pad: [u32; 2],
}

impl ResizeParams {
    /// The parameters of a resize from `input [N, C, h, w]` to `output [N, C, oh, ow]`.
    fn new(input: [usize; 4], output: [usize; 4], alpha: f32) -> Self {
        assert_eq!(input[..2], output[..2], "gpu resize: N and C differ");
        let u = |v: usize| u32::try_from(v).expect("size fits u32");
        Self {
            planes: u(input[0] * input[1]),
            h: u(input[2]),
            w: u(input[3]),
            oh: u(output[2]),
            ow: u(output[3]),
            alpha,
            _pad: [0; 2],
        }
    }
}

/// Records one resize kernel over `threads` invocations (skipped when either size is empty).
fn dispatch(
    ctx: &GpuContext,
    enc: &mut wgpu::CommandEncoder,
    k: &Kernel,
    p: ResizeParams,
    bufs: &[&wgpu::Buffer],
    threads: usize,
) {
    if p.h * p.w == 0 || p.oh * p.ow == 0 {
        return;
    }
    let groups = grid_1d(threads, WG_1D);
    ctx.dispatch(enc, k, bytemuck::bytes_of(&p), bufs, groups);
}

fn upsampled(s: [usize; 4]) -> [usize; 4] {
    [s[0], s[1], 2 * s[2], 2 * s[3]]
}

/// Records nearest 2x upsampling: `y [N, C, 2H, 2W]` from `x [N, C, H, W]`.
pub fn record_upsample2x_forward(
    ctx: &GpuContext,
    enc: &mut wgpu::CommandEncoder,
    x: &GpuTensor,
    y: &GpuTensor,
) {
    assert_eq!(y.shape, upsampled(x.shape), "gpu upsample2x: y shape");
    let p = ResizeParams::new(x.shape, y.shape, 1.0);
    let k = &ctx.kernels.upsample2x_forward;
    dispatch(ctx, enc, k, p, &[&x.buffer, &y.buffer], y.len());
}

/// Records the backward of 2x upsampling: `dx += ` the sum of each 2x2 block of `dy`.
pub fn record_upsample2x_backward(
    ctx: &GpuContext,
    enc: &mut wgpu::CommandEncoder,
    dy: &GpuTensor,
    dx: &GpuTensor,
) {
    assert_eq!(dy.shape, upsampled(dx.shape), "gpu upsample2x: dy shape");
    let p = ResizeParams::new(dx.shape, dy.shape, 1.0);
    let k = &ctx.kernels.upsample2x_backward;
    dispatch(ctx, enc, k, p, &[&dy.buffer, &dx.buffer], dx.len());
}

/// Convenience: nearest 2x upsampling as a new tensor.
pub fn upsample2x_forward(ctx: &GpuContext, x: &GpuTensor) -> GpuTensor {
    let y = GpuTensor::zeros(ctx, upsampled(x.shape));
    run(ctx, |e| record_upsample2x_forward(ctx, e, x, &y));
    y
}

/// Records `dst += alpha * nearest_resize(x)` to `dst`'s size (same N and C, any sizes up
/// or down), with the index rule of `cpu::resize::interpolate_nearest_forward`:
/// `src = min(o * n_in / n_out, n_in - 1)`.
pub fn record_nearest_add(
    ctx: &GpuContext,
    enc: &mut wgpu::CommandEncoder,
    x: &GpuTensor,
    dst: &GpuTensor,
    alpha: f32,
) {
    let p = ResizeParams::new(x.shape, dst.shape, alpha);
    let k = &ctx.kernels.nearest_add;
    dispatch(ctx, enc, k, p, &[&x.buffer, &dst.buffer], dst.len());
}

/// Records the backward of a nearest resize from `dx`'s size to `dy`'s size:
/// `dx += ` the sum of the `dy` pixels each input pixel was copied to (as
/// `cpu::resize::interpolate_nearest_backward`, summed in the same order).
pub fn record_nearest_backward(
    ctx: &GpuContext,
    enc: &mut wgpu::CommandEncoder,
    dy: &GpuTensor,
    dx: &GpuTensor,
) {
    let p = ResizeParams::new(dx.shape, dy.shape, 1.0);
    let k = &ctx.kernels.nearest_backward;
    dispatch(ctx, enc, k, p, &[&dy.buffer, &dx.buffer], dx.len());
}

/// Records `dst += alpha * adaptive_max_pool(x)` to `dst`'s size (the bins and first-maximum
/// tie-breaking of `cpu::resize::adaptive_max_pool_forward`) and writes each winner's index
/// inside its `h * w` plane into `idx` as `u32` bits (one per `dst` element, the meaning of
/// the CPU's `Vec<u32>`; read them back with `f32::to_bits`).
pub fn record_max_pool_add(
    ctx: &GpuContext,
    enc: &mut wgpu::CommandEncoder,
    x: &GpuTensor,
    dst: &GpuTensor,
    alpha: f32,
    idx: &GpuTensor,
) {
    assert_eq!(idx.len(), dst.len(), "gpu max_pool: index length");
    let p = ResizeParams::new(x.shape, dst.shape, alpha);
    let k = &ctx.kernels.max_pool_add;
    let bufs = [&x.buffer, &dst.buffer, &idx.buffer];
    dispatch(ctx, enc, k, p, &bufs, dst.len());
}

/// Records the backward of [`record_max_pool_add`] (with `alpha = 1`): `dx += ` each `dy`
/// routed to its winner in `idx`, as a gather over the (possibly overlapping) windows that
/// contain each input pixel, summed in the order of `cpu::resize::adaptive_max_pool_backward`.
pub fn record_max_pool_backward(
    ctx: &GpuContext,
    enc: &mut wgpu::CommandEncoder,
    dy: &GpuTensor,
    idx: &GpuTensor,
    dx: &GpuTensor,
) {
    assert_eq!(idx.len(), dy.len(), "gpu max_pool: index length");
    let p = ResizeParams::new(dx.shape, dy.shape, 1.0);
    let k = &ctx.kernels.max_pool_backward;
    let bufs = [&dy.buffer, &idx.buffer, &dx.buffer];
    dispatch(ctx, enc, k, p, &bufs, dx.len());
}
