//! Optimizer steps over flat GPU buffers (`shaders/optim.wgsl`), the twins of `cpu::optim`:
//! SGD with momentum and L2 weight decay, and AdamW with host-side bias corrections.

use super::buffer::GpuTensor;
use super::context::{GpuContext, WG_1D, grid_1d};
use crate::backend::{AdamWConfig, SgdConfig};

/// SGD settings of one step: `SgdParams` of shaders/optim.wgsl (layout checked by `tests_layout`).
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub(super) struct SgdParams {
    pub(super) len: u32,
    pub(super) lr: f32,
    pub(super) momentum: f32,
    pub(super) weight_decay: f32,
}

/// AdamW settings of one step: `AdamWParams` of shaders/optim.wgsl (layout checked by `tests_layout`).
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub(super) struct AdamWParams {
    pub(super) len: u32,
    pub(super) beta1: f32,
    pub(super) beta2: f32,
    pub(super) eps: f32,
    pub(super) step_size: f32,
    pub(super) bc2_sqrt: f32,
    pub(super) decay: f32,
    pub(super) _pad: u32,
}

fn len_u32(p: &GpuTensor) -> u32 {
    u32::try_from(p.len()).expect("buffer length fits u32")
}

/// Records one SGD step: `g' = g + wd*p; v = momentum*v + g'; p -= lr*v`.
pub fn record_sgd_step(
    ctx: &GpuContext,
    enc: &mut wgpu::CommandEncoder,
    params: &GpuTensor,
    grads: &GpuTensor,
    velocity: &GpuTensor,
    cfg: &SgdConfig,
) {
    assert!(
        params.len() == grads.len() && grads.len() == velocity.len(),
        "gpu sgd: lengths"
    );
    let p = SgdParams {
        len: len_u32(params),
        lr: cfg.lr,
        momentum: cfg.momentum,
        weight_decay: cfg.weight_decay,
    };
    let bufs = [&params.buffer, &grads.buffer, &velocity.buffer];
    let groups = grid_1d(params.len(), WG_1D);
    ctx.dispatch(
        enc,
        &ctx.kernels.sgd_step,
        bytemuck::bytes_of(&p),
        &bufs,
        groups,
    );
}

/// Records one AdamW step; `step` counts from 1 (bias correction), `m` and `v` start at zero.
#[allow(clippy::too_many_arguments)]
pub fn record_adamw_step(
    ctx: &GpuContext,
    enc: &mut wgpu::CommandEncoder,
    params: &GpuTensor,
    grads: &GpuTensor,
    m: &GpuTensor,
    v: &GpuTensor,
    step: u32,
    cfg: &AdamWConfig,
) {
    assert!(step >= 1, "gpu adamw: step counts from 1");
    let n = params.len();
    assert!(
        grads.len() == n && m.len() == n && v.len() == n,
        "gpu adamw: lengths"
    );
    let bc1 = 1.0 - (cfg.beta1 as f64).powi(step as i32);
    let bc2 = 1.0 - (cfg.beta2 as f64).powi(step as i32);
    let p = AdamWParams {
        len: len_u32(params),
        beta1: cfg.beta1,
        beta2: cfg.beta2,
        eps: cfg.eps,
        step_size: (cfg.lr as f64 / bc1) as f32,
        bc2_sqrt: bc2.sqrt() as f32,
        decay: 1.0 - cfg.lr * cfg.weight_decay,
        _pad: 0,
    };
    let bufs = [&params.buffer, &grads.buffer, &m.buffer, &v.buffer];
    let groups = grid_1d(n, WG_1D);
    ctx.dispatch(
        enc,
        &ctx.kernels.adamw_step,
        bytemuck::bytes_of(&p),
        &bufs,
        groups,
    );
}
