//! Elementwise kernels (`shaders/elementwise.wgsl`) and nearest 2x upsampling
//! (`shaders/resize.wgsl`): the twins of `cpu::elementwise` and `cpu::resize`.
//! Each `record_*` function records into an encoder; the plain functions submit and wait.

use super::buffer::GpuTensor;
use super::context::{GpuContext, Kernel, WG_1D, grid_1d};

/// Length and scalar of an elementwise kernel; keep in sync with `ElemParams` in
/// shaders/elementwise.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
struct ElemParams {
    len: u32,
    alpha: f32,
    _pad: [u32; 2],
}

/// Plane count and input size of a resize; keep in sync with `ResizeParams` in
/// shaders/resize.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
struct ResizeParams {
    planes: u32,
    h: u32,
    w: u32,
    _pad: u32,
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

fn resize_params(small: [usize; 4]) -> ResizeParams {
    let u = |v: usize| u32::try_from(v).expect("size fits u32");
    ResizeParams {
        planes: u(small[0] * small[1]),
        h: u(small[2]),
        w: u(small[3]),
        _pad: 0,
    }
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
    let p = resize_params(x.shape);
    let k = &ctx.kernels.upsample2x_forward;
    let groups = grid_1d(y.len(), WG_1D);
    ctx.dispatch(
        enc,
        k,
        bytemuck::bytes_of(&p),
        &[&x.buffer, &y.buffer],
        groups,
    );
}

/// Records the backward of 2x upsampling: `dx += ` the sum of each 2x2 block of `dy`.
pub fn record_upsample2x_backward(
    ctx: &GpuContext,
    enc: &mut wgpu::CommandEncoder,
    dy: &GpuTensor,
    dx: &GpuTensor,
) {
    assert_eq!(dy.shape, upsampled(dx.shape), "gpu upsample2x: dy shape");
    let p = resize_params(dx.shape);
    let k = &ctx.kernels.upsample2x_backward;
    let groups = grid_1d(dx.len(), WG_1D);
    ctx.dispatch(
        enc,
        k,
        bytemuck::bytes_of(&p),
        &[&dy.buffer, &dx.buffer],
        groups,
    );
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

/// Convenience: nearest 2x upsampling as a new tensor.
pub fn upsample2x_forward(ctx: &GpuContext, x: &GpuTensor) -> GpuTensor {
    let y = GpuTensor::zeros(ctx, upsampled(x.shape));
    run(ctx, |e| record_upsample2x_forward(ctx, e, x, &y));
    y
}
