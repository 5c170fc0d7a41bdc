//! [`Cpu`]: the [`Backend`] over plain [`Tensor`]s, running each op at once (rayon + gemm).

use super::conv::{
    ConvGeom, conv2d_backward, conv2d_backward_relu_input, conv2d_forward_into,
    conv2d_forward_relu_into,
};
use super::elementwise::{
    add_scaled, relu_inplace, relu_mask_inplace, scale_inplace, zero_inplace,
};
use super::norm::clip_grad_norm;
use super::optim::{AdamWConfig, SgdConfig, adamw_step, sgd_step};
use super::resize::{
    adaptive_max_pool_backward, adaptive_max_pool_forward, interpolate_nearest_backward,
    interpolate_nearest_forward,
};
use crate::backend::Backend;
use crate::backend::head_loss::{
    AnchorTargets, HeadLevel, HeadLossSpec, PARTIALS_PER_ANCHOR, head_loss_cpu, loss_sums_cpu,
};
use crate::backend::tensor::Tensor;

/// The CPU backend: the reference every GPU kernel is tested against. Deterministic for a
/// fixed input whatever the thread count.
#[derive(Clone, Copy, Debug, Default)]
pub struct Cpu;

impl Backend for Cpu {
    type Buf = Tensor;
    type Idx = Vec<u32>;
    type Targets = AnchorTargets;

    fn name(&self) -> &'static str {
        "cpu"
    }

    fn runs_loss_kernels(&self) -> bool {
        false
    }

    fn zeros(&mut self, shape: [usize; 4]) -> Tensor {
        Tensor::zeros(shape)
    }

    fn empty_idx(&mut self) -> Vec<u32> {
        Vec::new()
    }

    fn shape(b: &Tensor) -> [usize; 4] {
        b.shape
    }

    fn resize(&mut self, b: &mut Tensor, shape: [usize; 4]) {
        b.reshape_for(shape);
    }

    fn zero(&mut self, b: &mut Tensor) {
        zero_inplace(&mut b.data);
    }

    fn copy(&mut self, src: &Tensor, dst: &mut Tensor) {
        dst.shape = src.shape;
        dst.data.clone_from(&src.data);
    }

    fn copy_range(&mut self, src: &Tensor, src_at: usize, dst: &mut Tensor, at: usize, len: usize) {
        dst.data[at..at + len].copy_from_slice(&src.data[src_at..src_at + len]);
    }

    fn upload(&mut self, t: &Tensor, dst: &mut Tensor) {
        self.copy(t, dst);
    }

    fn download(&mut self, b: &Tensor) -> Tensor {
        b.clone()
    }

    fn conv2d_forward(
        &mut self,
        x: &Tensor,
        w: &Tensor,
        b: Option<&Tensor>,
        g: ConvGeom,
        y: &mut Tensor,
    ) {
        conv2d_forward_into(x, w, b.map(|b| b.data.as_slice()), g, y);
    }

    fn conv2d_forward_relu(
        &mut self,
        x: &Tensor,
        w: &Tensor,
        b: Option<&Tensor>,
        g: ConvGeom,
        y: &mut Tensor,
    ) {
        conv2d_forward_relu_into(x, w, b.map(|b| b.data.as_slice()), g, y);
    }

    fn conv2d_backward(
        &mut self,
        x: &Tensor,
        w: &Tensor,
        dy: &Tensor,
        g: ConvGeom,
        dx: Option<&mut Tensor>,
        dw: &mut Tensor,
        db: &mut Tensor,
    ) {
        conv2d_backward(x, w, dy, g, dx, dw, Some(&mut db.data));
    }

    fn conv2d_backward_relu_input(
        &mut self,
        x: &Tensor,
        w: &Tensor,
        dy: &Tensor,
        g: ConvGeom,
        dx: &mut Tensor,
        dw: &mut Tensor,
        db: &mut Tensor,
    ) {
        conv2d_backward_relu_input(x, w, dy, g, dx, dw, Some(&mut db.data));
    }

    fn relu_inplace(&mut self, x: &mut Tensor) {
        relu_inplace(&mut x.data);
    }

    fn relu_mask(&mut self, y: &Tensor, dy: &mut Tensor) {
        relu_mask_inplace(&y.data, &mut dy.data);
    }

    fn add_scaled(&mut self, dst: &mut Tensor, src: &Tensor, alpha: f32) {
        assert_eq!(dst.shape, src.shape, "add_scaled: shapes");
        add_scaled(&mut dst.data, &src.data, alpha);
    }

    fn scale(&mut self, x: &mut Tensor, alpha: f32) {
        scale_inplace(&mut x.data, alpha);
    }

    fn nearest_add(&mut self, x: &Tensor, dst: &mut Tensor, alpha: f32) {
        let r = interpolate_nearest_forward(x, dst.h(), dst.w());
        self.add_scaled(dst, &r, alpha);
    }

    fn nearest_backward(&mut self, dy: &Tensor, dx: &mut Tensor) {
        interpolate_nearest_backward(dy, dx);
    }

    fn max_pool_add(&mut self, x: &Tensor, dst: &mut Tensor, alpha: f32, idx: &mut Vec<u32>) {
        let (r, i) = adaptive_max_pool_forward(x, dst.h(), dst.w());
        *idx = i;
        self.add_scaled(dst, &r, alpha);
    }

    fn max_pool_backward(&mut self, dy: &Tensor, idx: &Vec<u32>, dx: &mut Tensor) {
        adaptive_max_pool_backward(dy, idx, dx);
    }

    fn set_targets(&mut self, t: &AnchorTargets, dst: &mut Option<AnchorTargets>) {
        *dst = Some(t.clone());
    }

    fn loss_partials_len(&self, n_anchors: usize) -> usize {
        n_anchors * PARTIALS_PER_ANCHOR
    }

    fn head_loss(
        &mut self,
        spec: &HeadLossSpec,
        level: &HeadLevel,
        cls: &Tensor,
        reg: &Tensor,
        targets: &AnchorTargets,
        grad_cls: &mut Tensor,
        grad_reg: &mut Tensor,
        partials: &mut Tensor,
        scale: (f32, f32),
    ) {
        let len = self.loss_partials_len(targets.len());
        if partials.len() < len {
            partials.reshape_for([1, 1, 1, len]);
        }
        let p = &mut partials.data;
        head_loss_cpu(spec, level, cls, reg, targets, grad_cls, grad_reg, p, scale);
    }

    fn loss_sums(&mut self, partials: &Tensor, n_anchors: usize, out: &mut Tensor, offset: usize) {
        if out.len() < offset + PARTIALS_PER_ANCHOR {
            out.reshape_for([1, 1, 1, offset + PARTIALS_PER_ANCHOR]);
        }
        let s = loss_sums_cpu(&partials.data, n_anchors);
        for (o, v) in out.data[offset..].iter_mut().zip(s) {
            *o = v as f32;
        }
    }

    fn clip_grad_norm(&mut self, grads: &mut [&mut Tensor], max_norm: f32, sumsq: &mut Tensor) {
        let mut g: Vec<&mut [f32]> = grads.iter_mut().map(|t| t.data.as_mut_slice()).collect();
        let norm = clip_grad_norm(&mut g, max_norm);
        sumsq.reshape_for([1, 1, 1, 1]);
        sumsq.data[0] = norm * norm;
    }

    fn sgd_step(&mut self, p: &mut Tensor, g: &Tensor, v: &mut Tensor, cfg: &SgdConfig) {
        sgd_step(&mut p.data, &g.data, &mut v.data, cfg);
    }

    fn adamw_step(
        &mut self,
        p: &mut Tensor,
        g: &Tensor,
        m: &mut Tensor,
        v: &mut Tensor,
        t: u32,
        cfg: &AdamWConfig,
    ) {
        adamw_step(&mut p.data, &g.data, &mut m.data, &mut v.data, t, cfg);
    }
}
