//! Per-anchor training targets for the GPU loss kernels: [`AnchorTargets`] (see
//! [`crate::backend::head_loss`]) packed into [`TARGET_WORDS`] 32-bit words per anchor and uploaded by [`GpuAnchorTargets`].

use super::buffer::GpuTensor;
use super::context::GpuContext;
pub use crate::backend::head_loss::{AnchorTargets, NEGATIVE_LABEL};

/// 32-bit words per anchor in the packed targets: label (`i32`), classification weight,
/// regression weight, 4 target deltas, one unused word. Checked against `TARGET_WORDS` of shaders/loss.wgsl by `tests_layout`.
pub const TARGET_WORDS: usize = 8;

impl AnchorTargets {
    /// The packed form the kernels read: [`TARGET_WORDS`] words per anchor. Panics when a
    /// vector's length differs from [`AnchorTargets::len`].
    pub fn pack(&self) -> Vec<u32> {
        let n = self.len();
        assert!(
            self.labels.len() == n
                && self.cls_weights.len() == n
                && self.reg_weights.len() == n
                && self.reg_targets.len() == n,
            "anchor targets: every vector must hold n_images * anchors_per_image = {n} entries"
        );
        let mut out = Vec::with_capacity(n * TARGET_WORDS);
        for i in 0..n {
            out.push(self.labels[i] as u32);
            out.push(self.cls_weights[i].to_bits());
            out.push(self.reg_weights[i].to_bits());
            out.extend(self.reg_targets[i].iter().map(|t| t.to_bits()));
            out.push(0);
        }
        out
    }
}

/// [`AnchorTargets`] on the GPU; [`GpuAnchorTargets::upload`] reuses the buffer while the
/// batch size and anchor count stay the same.
pub struct GpuAnchorTargets {
    /// The packed words (stored in a flat tensor of `len * TARGET_WORDS` values).
    pub words: GpuTensor,
    /// Images in the batch.
    pub n_images: usize,
    /// Anchors per image.
    pub anchors_per_image: usize,
}

impl GpuAnchorTargets {
    /// Uploads `t` into a new buffer.
    pub fn new(ctx: &GpuContext, t: &AnchorTargets) -> Self {
        let mut g = Self {
            words: GpuTensor::zeros_flat(ctx, t.len() * TARGET_WORDS),
            n_images: t.n_images,
            anchors_per_image: t.anchors_per_image,
        };
        g.upload(ctx, t);
        g
    }

    /// Overwrites the targets with `t` (queued before the next submission), reallocating
    /// only when the anchor count changed.
    pub fn upload(&mut self, ctx: &GpuContext, t: &AnchorTargets) {
        let words = t.pack();
        if self.words.len() != words.len() {
            self.words = GpuTensor::zeros_flat(ctx, words.len());
        }
        (self.n_images, self.anchors_per_image) = (t.n_images, t.anchors_per_image);
        if !words.is_empty() {
            let bytes: &[u8] = bytemuck::cast_slice(&words);
            ctx.queue.write_buffer(&self.words.buffer, 0, bytes);
        }
    }
}
