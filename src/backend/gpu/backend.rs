//! [`GpuBackend`]: the [`Backend`] over [`GpuTensor`]s. Ops are recorded into one pending
//! command encoder; it is submitted when something is read back ([`Backend::download`]),
//! before any upload (so queued writes cannot overtake recorded reads), or on
//! [`GpuBackend::flush`]. A training step therefore costs a few submissions and one small
//! readback.

use std::sync::Arc;

use super::buffer::GpuTensor;
use super::context::GpuContext;
use super::conv::{record_conv2d_backward, record_conv2d_forward};
use super::elementwise::{
    record_add_scaled, record_relu_inplace, record_relu_mask_inplace, record_scale,
};
use super::loss::{
    GpuAnchorTargets, GpuLossSpec, loss_partials_len, record_head_loss, record_loss_sums,
};
use super::optim::{record_adamw_step, record_sgd_step};
use super::reduce::{partials_len, record_clip_scale, record_grad_sumsq};
use super::resize::{
    record_max_pool_add, record_max_pool_backward, record_nearest_add, record_nearest_backward,
};
use crate::backend::Backend;
use crate::backend::head_loss::{AnchorTargets, HeadLevel, HeadLossSpec, PARTIALS_PER_ANCHOR};
use crate::backend::tensor::Tensor;
use crate::backend::{AdamWConfig, SgdConfig};
use crate::backend::{ConvGeom, conv2d_out_size};

/// The wgpu backend: a shared [`GpuContext`], the pending encoder and reduction scratch.
pub struct GpuBackend {
    /// Device, queue and pipelines.
    pub ctx: Arc<GpuContext>,
    enc: Option<wgpu::CommandEncoder>,
    partials: GpuTensor,
    sums: GpuTensor,
}

impl GpuBackend {
    /// A backend on `ctx`.
    pub fn new(ctx: Arc<GpuContext>) -> Self {
        let partials = GpuTensor::zeros_flat(&ctx, 1);
        let sums = GpuTensor::zeros_flat(&ctx, 1);
        Self {
            ctx,
            enc: None,
            partials,
            sums,
        }
    }

    /// The pending encoder and the context, for recording kernels that are not backend ops
    /// (the loss kernels).
    pub fn recorder(&mut self) -> (&GpuContext, &mut wgpu::CommandEncoder) {
        let ctx = &self.ctx;
        (ctx, self.enc.get_or_insert_with(|| ctx.encoder()))
    }

    /// Submits the recorded work without waiting for it.
    pub fn flush(&mut self) {
        if let Some(enc) = self.enc.take() {
            self.ctx.queue.submit([enc.finish()]);
        }
    }

    /// Submits the recorded work and waits until the GPU is idle.
    pub fn finish(&mut self) {
        self.flush();
        self.ctx.wait();
    }

    /// Writes `data` into `dst` from its start (flushes first: see the module doc).
    pub fn write(&mut self, dst: &GpuTensor, data: &[f32]) {
        self.flush();
        dst.write(&self.ctx, data);
    }
}

/// Bytes a tensor of `shape` needs.
fn bytes(shape: [usize; 4]) -> u64 {
    (shape.iter().product::<usize>().max(1) * 4) as u64
}

impl Backend for GpuBackend {
    type Buf = GpuTensor;
    type Idx = GpuTensor;
    type Targets = GpuAnchorTargets;

    fn name(&self) -> &'static str {
        "gpu"
    }

    fn device_name(&self) -> String {
        let i = &self.ctx.info;
        format!("gpu: {} ({:?})", i.name, i.backend)
    }

    fn runs_loss_kernels(&self) -> bool {
        true
    }

    fn submit(&mut self) {
        self.flush();
    }

    fn zeros(&mut self, shape: [usize; 4]) -> GpuTensor {
        GpuTensor::zeros(&self.ctx, shape)
    }

    fn empty_idx(&mut self) -> GpuTensor {
        GpuTensor::zeros(&self.ctx, [0; 4])
    }

    fn shape(b: &GpuTensor) -> [usize; 4] {
        b.shape
    }

    fn resize(&mut self, b: &mut GpuTensor, shape: [usize; 4]) {
        if b.buffer.size() < bytes(shape) {
            *b = GpuTensor::zeros(&self.ctx, shape);
        }
        b.shape = shape;
    }

    fn zero(&mut self, b: &mut GpuTensor) {
        let (_, enc) = self.recorder();
        b.zero(enc);
    }

    fn copy(&mut self, src: &GpuTensor, dst: &mut GpuTensor) {
        self.resize(dst, src.shape);
        let (_, enc) = self.recorder();
        enc.copy_buffer_to_buffer(&src.buffer, 0, &dst.buffer, 0, bytes(src.shape));
    }

    fn copy_range(
        &mut self,
        src: &GpuTensor,
        src_at: usize,
        dst: &mut GpuTensor,
        at: usize,
        len: usize,
    ) {
        let (_, enc) = self.recorder();
        let b = |i: usize| (i * 4) as u64;
        enc.copy_buffer_to_buffer(&src.buffer, b(src_at), &dst.buffer, b(at), b(len));
    }

    fn upload(&mut self, t: &Tensor, dst: &mut GpuTensor) {
        self.resize(dst, t.shape);
        self.write(dst, &t.data);
    }

    fn download(&mut self, b: &GpuTensor) -> Tensor {
        self.flush();
        b.download(&self.ctx)
    }

    fn conv2d_forward(
        &mut self,
        x: &GpuTensor,
        w: &GpuTensor,
        b: Option<&GpuTensor>,
        g: ConvGeom,
        y: &mut GpuTensor,
    ) {
        let [n, _, h, wd] = x.shape;
        let (ho, wo) = conv2d_out_size(h, wd, w.shape[2], w.shape[3], g);
        self.resize(y, [n, w.shape[0], ho, wo]);
        let (ctx, enc) = self.recorder();
        record_conv2d_forward(ctx, enc, x, w, b, g, y);
    }

    fn conv2d_backward(
        &mut self,
        x: &GpuTensor,
        w: &GpuTensor,
        dy: &GpuTensor,
        g: ConvGeom,
        dx: Option<&mut GpuTensor>,
        dw: &mut GpuTensor,
        db: &mut GpuTensor,
    ) {
        let (ctx, enc) = self.recorder();
        record_conv2d_backward(ctx, enc, x, w, dy, g, dx.map(|d| &*d), dw, Some(db));
    }

    fn relu_inplace(&mut self, x: &mut GpuTensor) {
        let (ctx, enc) = self.recorder();
        record_relu_inplace(ctx, enc, x);
    }

    fn relu_mask(&mut self, y: &GpuTensor, dy: &mut GpuTensor) {
        let (ctx, enc) = self.recorder();
        record_relu_mask_inplace(ctx, enc, y, dy);
    }

    fn add_scaled(&mut self, dst: &mut GpuTensor, src: &GpuTensor, alpha: f32) {
        assert_eq!(dst.shape, src.shape, "gpu add_scaled: shapes");
        let (ctx, enc) = self.recorder();
        record_add_scaled(ctx, enc, dst, src, alpha);
    }

    fn scale(&mut self, x: &mut GpuTensor, alpha: f32) {
        let (ctx, enc) = self.recorder();
        record_scale(ctx, enc, x, alpha);
    }

    fn nearest_add(&mut self, x: &GpuTensor, dst: &mut GpuTensor, alpha: f32) {
        let (ctx, enc) = self.recorder();
        record_nearest_add(ctx, enc, x, dst, alpha);
    }

    fn nearest_backward(&mut self, dy: &GpuTensor, dx: &mut GpuTensor) {
        let (ctx, enc) = self.recorder();
        record_nearest_backward(ctx, enc, dy, dx);
    }

    fn max_pool_add(
        &mut self,
        x: &GpuTensor,
        dst: &mut GpuTensor,
        alpha: f32,
        idx: &mut GpuTensor,
    ) {
        self.resize(idx, dst.shape);
        let (ctx, enc) = self.recorder();
        record_max_pool_add(ctx, enc, x, dst, alpha, idx);
    }

    fn max_pool_backward(&mut self, dy: &GpuTensor, idx: &GpuTensor, dx: &mut GpuTensor) {
        let (ctx, enc) = self.recorder();
        record_max_pool_backward(ctx, enc, dy, idx, dx);
    }

    fn set_targets(&mut self, t: &AnchorTargets, dst: &mut Option<GpuAnchorTargets>) {
        self.flush();
        match dst {
            Some(g) => g.upload(&self.ctx, t),
            None => *dst = Some(GpuAnchorTargets::new(&self.ctx, t)),
        }
    }

    fn loss_partials_len(&self, n_anchors: usize) -> usize {
        loss_partials_len(n_anchors)
    }

    fn head_loss(
        &mut self,
        spec: &HeadLossSpec,
        level: &HeadLevel,
        cls: &GpuTensor,
        reg: &GpuTensor,
        targets: &GpuAnchorTargets,
        grad_cls: &mut GpuTensor,
        grad_reg: &mut GpuTensor,
        partials: &mut GpuTensor,
        (gc, gr): (f32, f32),
    ) {
        self.resize(grad_cls, cls.shape);
        self.resize(grad_reg, reg.shape);
        let len = loss_partials_len(targets.n_images * targets.anchors_per_image);
        if partials.len() < len {
            self.resize(partials, [1, 1, 1, len]);
        }
        let s = &GpuLossSpec::of(spec);
        let (ctx, enc) = self.recorder();
        let t = targets;
        record_head_loss(
            ctx, enc, s, level, cls, reg, t, grad_cls, grad_reg, partials, gc, gr,
        );
    }

    fn loss_sums(&mut self, partials: &GpuTensor, n: usize, out: &mut GpuTensor, offset: usize) {
        if out.len() < offset + PARTIALS_PER_ANCHOR {
            self.resize(out, [1, 1, 1, offset + PARTIALS_PER_ANCHOR]);
        }
        let (ctx, enc) = self.recorder();
        record_loss_sums(ctx, enc, partials, n, out, offset);
    }

    fn clip_grad_norm(
        &mut self,
        grads: &mut [&mut GpuTensor],
        max_norm: f32,
        sumsq: &mut GpuTensor,
    ) {
        let longest = grads.iter().map(|g| g.len()).max().unwrap_or(0);
        let ctx = self.ctx.clone();
        let grow = |t: &mut GpuTensor, len: usize| {
            if t.len() < len {
                *t = GpuTensor::zeros_flat(&ctx, len);
            }
        };
        grow(&mut self.partials, partials_len(longest));
        grow(&mut self.sums, grads.len().max(1));
        self.resize(sumsq, [1, 1, 1, 1]);
        let enc = self.enc.get_or_insert_with(|| ctx.encoder());
        let views: Vec<&GpuTensor> = grads.iter().map(|g| &**g).collect();
        record_grad_sumsq(&ctx, enc, &views, &self.partials, &self.sums, sumsq);
        if max_norm.is_finite() {
            for g in grads.iter() {
                record_clip_scale(&ctx, enc, g, sumsq, 0, max_norm);
            }
        }
    }

    fn sgd_step(&mut self, p: &mut GpuTensor, g: &GpuTensor, v: &mut GpuTensor, cfg: &SgdConfig) {
        let (ctx, enc) = self.recorder();
        record_sgd_step(ctx, enc, p, g, v, cfg);
    }

    fn adamw_step(
        &mut self,
        p: &mut GpuTensor,
        g: &GpuTensor,
        m: &mut GpuTensor,
        v: &mut GpuTensor,
        t: u32,
        cfg: &AdamWConfig,
    ) {
        let (ctx, enc) = self.recorder();
        record_adamw_step(ctx, enc, p, g, m, v, t, cfg);
    }
}
