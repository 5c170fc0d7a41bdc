//! Per-anchor detection losses on the GPU (`shaders/loss.wgsl`), the twins of
//! `ClsLoss::pointwise` and `RegLoss::eval_one_into` for the losses that are purely
//! elementwise: a training step computes values and gradients straight from the head maps.
//!
//! [`record_head_loss`] runs once per pyramid level: it reads the level's classification and
//! box maps and the step's [`GpuAnchorTargets`], overwrites the level's gradient maps, and
//! writes [`PARTIALS_PER_ANCHOR`] partial values per anchor. [`record_loss_sums`] then sums
//! the partial columns in a fixed order (no atomics) into 5 floats on the GPU, so only those
//! need a readback. Losses [`HeadLossSpec::new`] rejects stay on the host objective.

use super::buffer::GpuTensor;
use super::context::{GpuContext, WG_1D, grid_1d};
pub use super::loss_targets::{AnchorTargets, GpuAnchorTargets, NEGATIVE_LABEL, TARGET_WORDS};
use crate::backend::head_loss::HeadLossSpec;
use crate::losses::classification::ClsLoss;
use crate::losses::regression::RegLoss;

pub use crate::backend::head_loss::{HeadLevel, PARTIALS_PER_ANCHOR};
/// Anchors per workgroup in the first pass of [`record_loss_sums`] (`CHUNK` of
/// shaders/reduce_common.wgsl; checked by `tests_layout`).
pub const SUM_CHUNK: usize = 4096;

/// Kind codes, as in shaders/loss.wgsl (checked by `tests_layout`).
pub(super) const CLS_FOCAL: u32 = 0;
const CLS_FOCAL_STAR: u32 = 1;
pub(super) const REG_L1: u32 = 0;
pub(super) const REG_L2: u32 = 1;
pub(super) const REG_SMOOTH_L1: u32 = 2;
const REG_BALANCED_L1: u32 = 3;

/// A classification and a regression loss that the GPU kernels support, with their
/// parameters in the form the shader takes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GpuLossSpec {
    cls_kind: u32,
    cls_params: [f32; 4],
    reg_kind: u32,
    reg_params: [f32; 4],
    reg_const: f32,
}

impl GpuLossSpec {
    /// `Some` when [`HeadLossSpec::new`] covers both losses (the kernels run exactly those).
    pub fn new(cls: &ClsLoss, reg: &RegLoss) -> Option<GpuLossSpec> {
        HeadLossSpec::new(cls, reg).map(|s| Self::of(&s))
    }

    /// The shader form of a covered pair of losses.
    pub fn of(spec: &HeadLossSpec) -> GpuLossSpec {
        let (cls_kind, cls_params) = match spec.cls {
            ClsLoss::Ce => (CLS_FOCAL, [-1.0, 0.0, 0.0, 0.0]),
            ClsLoss::BalancedCe { alpha } => (CLS_FOCAL, [alpha as f32, 0.0, 0.0, 0.0]),
            ClsLoss::Focal { alpha, gamma } => (CLS_FOCAL, [alpha as f32, gamma as f32, 0.0, 0.0]),
            ClsLoss::FocalStar { gamma, beta } => {
                (CLS_FOCAL_STAR, [gamma as f32, beta as f32, 0.0, 0.0])
            }
            _ => unreachable!("HeadLossSpec::new admits only the covered losses"),
        };
        let (reg_kind, reg_params, reg_const) = match spec.reg {
            RegLoss::L1 => (REG_L1, [0.0; 4], 0.0),
            RegLoss::L2 => (REG_L2, [0.0; 4], 0.0),
            RegLoss::SmoothL1 { beta } => (REG_SMOOTH_L1, [beta as f32, 0.0, 0.0, 0.0], 0.0),
            RegLoss::BalancedL1 { alpha, gamma, beta } => {
                let b = (gamma / alpha).exp() - 1.0;
                let params = [alpha as f32, gamma as f32, beta as f32, b as f32];
                (REG_BALANCED_L1, params, (gamma / b - alpha * beta) as f32)
            }
            _ => unreachable!("HeadLossSpec::new admits only the covered losses"),
        };
        GpuLossSpec {
            cls_kind,
            cls_params,
            reg_kind,
            reg_params,
            reg_const,
        }
    }
}

/// Shapes, loss kinds and parameters of `head_loss`: `LossParams` of shaders/loss.wgsl (layout checked
/// by `tests_layout`).
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub(super) struct LossParams {
    pub(super) a: u32,
    pub(super) c: u32,
    pub(super) h: u32,
    pub(super) w: u32,
    pub(super) level_start: u32,
    pub(super) anchors_per_image: u32,
    pub(super) n_images: u32,
    pub(super) cls_kind: u32,
    pub(super) reg_kind: u32,
    pub(super) gc: f32,
    pub(super) gr: f32,
    pub(super) reg_const: f32,
    pub(super) cls_p: [f32; 4],
    pub(super) reg_p: [f32; 4],
}

/// Sizes of the partial sums: `SumParams` of shaders/loss.wgsl (layout checked by `tests_layout`).
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub(super) struct SumParams {
    pub(super) n_anchors: u32,
    pub(super) chunks: u32,
    pub(super) offset: u32,
    pub(super) _pad: u32,
}

fn to_u32(v: usize, what: &str) -> u32 {
    u32::try_from(v).unwrap_or_else(|_| panic!("gpu loss: {what} does not fit u32"))
}

/// Floats the `partials` buffer needs for `n_anchors_total` anchors (all images): 5 per
/// anchor plus the scratch that [`record_loss_sums`] uses at its end.
pub fn loss_partials_len(n_anchors_total: usize) -> usize {
    let chunks = n_anchors_total.div_ceil(SUM_CHUNK).max(1);
    PARTIALS_PER_ANCHOR * (n_anchors_total + chunks)
}

/// Records the losses of one level's anchors. Per anchor, with element target 1 for class
/// `k == label` and 0 otherwise, it OVERWRITES `grad_cls_map` with `gc * cls_weight * dL/dx`
/// and `grad_reg_map` with `gr * reg_weight * dL/dd` (same layouts as the head maps), and
/// writes `partials[(img * anchors_per_image + anchor) * 5 + j]`: j = 0 the sum of
/// `cls_weight * value` over positive-target elements, 1 over negative-target elements,
/// 2 `reg_weight * ` the box loss, 3 (4) `1.0` when one of its logits (deltas) is not finite.
/// A zero weight or a non-finite input gives zero values and gradients for that part.
/// `partials` needs at least [`loss_partials_len`] floats to be summed afterwards.
#[allow(clippy::too_many_arguments)]
pub fn record_head_loss(
    ctx: &GpuContext,
    enc: &mut wgpu::CommandEncoder,
    spec: &GpuLossSpec,
    level: &HeadLevel,
    cls_map: &GpuTensor,
    reg_map: &GpuTensor,
    targets: &GpuAnchorTargets,
    grad_cls_map: &GpuTensor,
    grad_reg_map: &GpuTensor,
    partials: &GpuTensor,
    gc: f32,
    gr: f32,
) {
    let HeadLevel { a, c, h, w, .. } = *level;
    let n = cls_map.shape[0];
    assert_eq!(
        cls_map.shape,
        [n, a * c, h, w],
        "gpu head loss: class map shape"
    );
    assert_eq!(
        reg_map.shape,
        [n, a * 4, h, w],
        "gpu head loss: box map shape"
    );
    assert_eq!(
        grad_cls_map.len(),
        cls_map.len(),
        "gpu head loss: class grad length"
    );
    assert_eq!(
        grad_reg_map.len(),
        reg_map.len(),
        "gpu head loss: box grad length"
    );
    let apl = level.anchors_per_image;
    assert!(
        targets.n_images == n && targets.anchors_per_image == apl,
        "gpu head loss: targets are for {} x {} anchors, maps for {n} x {apl}",
        targets.n_images,
        targets.anchors_per_image
    );
    assert!(
        level.level_start + h * w * a <= apl,
        "gpu head loss: level runs past anchors_per_image"
    );
    assert!(
        partials.len() >= n * apl * PARTIALS_PER_ANCHOR,
        "gpu head loss: partials too short"
    );
    let p = LossParams {
        a: to_u32(a, "A"),
        c: to_u32(c, "C"),
        h: to_u32(h, "H"),
        w: to_u32(w, "W"),
        level_start: to_u32(level.level_start, "level_start"),
        anchors_per_image: to_u32(apl, "anchors_per_image"),
        n_images: to_u32(n, "N"),
        cls_kind: spec.cls_kind,
        reg_kind: spec.reg_kind,
        gc,
        gr,
        reg_const: spec.reg_const,
        cls_p: spec.cls_params,
        reg_p: spec.reg_params,
    };
    to_u32(n * apl * TARGET_WORDS, "target words");
    let bufs = [
        &cls_map.buffer,
        &reg_map.buffer,
        &targets.words.buffer,
        &grad_cls_map.buffer,
        &grad_reg_map.buffer,
        &partials.buffer,
    ];
    let k = &ctx.kernels.head_loss;
    let grid = grid_1d(n * h * w * a, WG_1D);
    ctx.dispatch(enc, k, bytemuck::bytes_of(&p), &bufs, grid);
}

/// Records the sums of the 5 partial columns of `n_anchors_total` anchors into
/// `out[offset..offset + 5]` (overwritten), in a fixed order: per chunk of [`SUM_CHUNK`]
/// anchors into the scratch end of `partials` (at least [`loss_partials_len`] floats), then
/// per column. Columns 3 and 4 count the anchors with non-finite logits and deltas.
pub fn record_loss_sums(
    ctx: &GpuContext,
    enc: &mut wgpu::CommandEncoder,
    partials: &GpuTensor,
    n_anchors_total: usize,
    out: &GpuTensor,
    offset: usize,
) {
    assert!(
        partials.len() >= loss_partials_len(n_anchors_total),
        "gpu loss sums: partials too short"
    );
    assert!(
        offset + PARTIALS_PER_ANCHOR <= out.len(),
        "gpu loss sums: out too short"
    );
    let chunks = n_anchors_total.div_ceil(SUM_CHUNK).max(1);
    assert!(
        chunks <= 65_535,
        "gpu loss sums: too many anchors for one dispatch"
    );
    let p = SumParams {
        n_anchors: to_u32(n_anchors_total, "anchor count"),
        chunks: to_u32(chunks, "chunk count"),
        offset: to_u32(offset, "offset"),
        _pad: 0,
    };
    let k = &ctx.kernels;
    let cols = PARTIALS_PER_ANCHOR as u32;
    let params = bytemuck::bytes_of(&p);
    let first = [&partials.buffer];
    ctx.dispatch(
        enc,
        &k.loss_sum_partials,
        params,
        &first,
        [p.chunks, cols, 1],
    );
    let second = [&partials.buffer, &out.buffer];
    ctx.dispatch(enc, &k.loss_sum_final, params, &second, [cols, 1, 1]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsupported_losses_have_no_gpu_spec() {
        let ok_cls = ClsLoss::Ce;
        for name in ["ghm_c", "qfl", "varifocal", "eql"] {
            let cls = ClsLoss::default_for(name).unwrap();
            assert!(GpuLossSpec::new(&cls, &RegLoss::L1).is_none(), "{name}");
        }
        for name in ["iou", "bounded_iou", "giou", "diou", "ciou", "kl"] {
            let reg = RegLoss::default_for(name).unwrap();
            assert!(GpuLossSpec::new(&ok_cls, &reg).is_none(), "{name}");
        }
        let bad = ClsLoss::FocalStar {
            gamma: 0.0,
            beta: 1.0,
        };
        assert!(
            GpuLossSpec::new(&bad, &RegLoss::L1).is_none(),
            "invalid parameters"
        );
        assert!(GpuLossSpec::new(&ok_cls, &RegLoss::L1).is_some());
    }
}
