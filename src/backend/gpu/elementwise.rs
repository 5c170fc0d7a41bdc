//! Elementwise kernels (`shaders/elementwise.wgsl`), the twins of `cpu::elementwise` and of
//! the CPU backend's `relu_mask_inplace`, and buffer copies. Each `record_*` function records into
//! an encoder; the plain functions submit and wait. The 2x upsampling kernels now live in
//! [`super::resize`] and are re-exported here under their old paths.

use super::buffer::GpuTensor;
use super::context::{GpuContext, Kernel, WG_1D, grid_1d};
pub use super::resize::{
    record_upsample2x_backward, record_upsample2x_forward, upsample2x_forward,
};

/// Length and scalar of an elementwise kernel: `ElemParams` of shaders/elementwise.wgsl (layout checked
/// by `tests_layout`).
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub(super) struct ElemParams {
    pub(super) len: u32,
    pub(super) alpha: f32,
    pub(super) _pad: [u32; 2],
}

fn elem(
    ctx: &GpuContext,
    enc: &mut wgpu::CommandEncoder,
    k: &Kernel,
    len: usize,
    alpha: f32,
    bufs: &[&wgpu::Buffer],
) {
    let p = ElemParams {
        len: u32::try_from(len).expect("buffer length fits u32"),
        alpha,
        _pad: [0; 2],
    };
    ctx.dispatch(enc, k, bytemuck::bytes_of(&p), bufs, grid_1d(len, WG_1D));
}

fn same_len(a: &GpuTensor, b: &GpuTensor, what: &str) {
    assert_eq!(a.len(), b.len(), "gpu {what}: lengths differ");
}

/// Records `y = max(x, 0)`.
pub fn record_relu(ctx: &GpuContext, enc: &mut wgpu::CommandEncoder, x: &GpuTensor, y: &GpuTensor) {
    same_len(x, y, "relu");
    let k = &ctx.kernels.relu;
    elem(ctx, enc, k, x.len(), 0.0, &[&x.buffer, &y.buffer]);
}

/// Records `x = max(x, 0)` in place.
pub fn record_relu_inplace(ctx: &GpuContext, enc: &mut wgpu::CommandEncoder, x: &GpuTensor) {
    let k = &ctx.kernels.relu_inplace;
    elem(ctx, enc, k, x.len(), 0.0, &[&x.buffer]);
}

/// Records ReLU backward from the OUTPUT `y`: `dx += dy` where `y > 0`.
pub fn record_relu_backward(
    ctx: &GpuContext,
    enc: &mut wgpu::CommandEncoder,
    y: &GpuTensor,
    dy: &GpuTensor,
    dx: &GpuTensor,
) {
    same_len(y, dy, "relu_backward");
    same_len(y, dx, "relu_backward");
    let k = &ctx.kernels.relu_backward;
    elem(
        ctx,
        enc,
        k,
        y.len(),
        0.0,
        &[&y.buffer, &dy.buffer, &dx.buffer],
    );
}

/// Records `dy = y > 0 ? dy : 0` in place (the backward of a ReLU whose gradient is
/// propagated in place, as the CPU backend's `relu_mask_inplace`).
pub fn record_relu_mask_inplace(
    ctx: &GpuContext,
    enc: &mut wgpu::CommandEncoder,
    y: &GpuTensor,
    dy: &GpuTensor,
) {
    same_len(y, dy, "relu_mask_inplace");
    let k = &ctx.kernels.relu_mask_inplace;
    elem(ctx, enc, k, y.len(), 0.0, &[&y.buffer, &dy.buffer]);
}

/// Records `y = a + b`.
pub fn record_add(
    ctx: &GpuContext,
    enc: &mut wgpu::CommandEncoder,
    a: &GpuTensor,
    b: &GpuTensor,
    y: &GpuTensor,
) {
    same_len(a, b, "add");
    same_len(a, y, "add");
    let k = &ctx.kernels.add;
    elem(
        ctx,
        enc,
        k,
        a.len(),
        0.0,
        &[&a.buffer, &b.buffer, &y.buffer],
    );
}

/// Records `dst += alpha * src` (`alpha = 1`: accumulate, the backward of add).
pub fn record_add_scaled(
    ctx: &GpuContext,
    enc: &mut wgpu::CommandEncoder,
    dst: &GpuTensor,
    src: &GpuTensor,
    alpha: f32,
) {
    same_len(dst, src, "add_scaled");
    let k = &ctx.kernels.add_scaled;
    elem(ctx, enc, k, dst.len(), alpha, &[&src.buffer, &dst.buffer]);
}

/// Records `x *= alpha` in place.
pub fn record_scale(ctx: &GpuContext, enc: &mut wgpu::CommandEncoder, x: &GpuTensor, alpha: f32) {
    let k = &ctx.kernels.scale;
    elem(ctx, enc, k, x.len(), alpha, &[&x.buffer]);
}

/// Records a copy of `src`'s values into `dst` (same length; a plain buffer copy).
pub fn record_copy(enc: &mut wgpu::CommandEncoder, src: &GpuTensor, dst: &GpuTensor) {
    same_len(src, dst, "copy");
    if !src.is_empty() {
        let bytes = (src.len() * std::mem::size_of::<f32>()) as u64;
        enc.copy_buffer_to_buffer(&src.buffer, 0, &dst.buffer, 0, bytes);
    }
}

/// Runs one `record_*` call in its own submission and waits (tests, one-off use).
pub fn run(ctx: &GpuContext, f: impl FnOnce(&mut wgpu::CommandEncoder)) {
    let mut enc = ctx.encoder();
    f(&mut enc);
    ctx.submit_wait(enc);
}

/// Convenience: `max(x, 0)` as a new tensor.
pub fn relu(ctx: &GpuContext, x: &GpuTensor) -> GpuTensor {
    let y = GpuTensor::zeros(ctx, x.shape);
    run(ctx, |e| record_relu(ctx, e, x, &y));
    y
}

/// Convenience: `a + b` as a new tensor.
pub fn add(ctx: &GpuContext, a: &GpuTensor, b: &GpuTensor) -> GpuTensor {
    let y = GpuTensor::zeros(ctx, a.shape);
    run(ctx, |e| record_add(ctx, e, a, b, &y));
    y
}
