//! The fused GPU step: targets on the CPU, losses, backward, clipping and the optimizer on
//! the GPU, one small readback ([`crate::train::gpu_engine`]).

use super::{StepReport, Trainer};
use crate::backend::head_loss::HeadLossSpec;
use crate::backend::tensor::Tensor;
use crate::train::metrics::StepMetrics;
use crate::train::objective::{ImageGt, ObjectiveOutput, batch_targets, targets_suffice};
use std::time::Instant;

/// Every this many steps a GPU run takes the hybrid path even when the fused one would do,
/// so the histograms of `p_t` (which need the logits on the CPU) keep coming.
pub const DETAIL_EVERY: u64 = 10;

impl Trainer {
    /// The loss kernels' spec when this step can be fused (GPU backend, a configuration the
    /// kernels and [`targets_suffice`] cover, not a detail step).
    pub(super) fn fused_spec(&self) -> Option<HeadLossSpec> {
        let fusable = self.gpu.is_some()
            && targets_suffice(&self.cfg)
            && !self.step.is_multiple_of(DETAIL_EVERY);
        fusable
            .then(|| HeadLossSpec::new(&self.cfg.cls_loss, &self.cfg.reg_loss))
            .flatten()
    }

    /// One fused step (see the module doc); same metrics and semantics as the CPU step: a
    /// non-finite loss or gradient leaves the parameters unchanged.
    pub(super) fn fused_step(
        &mut self,
        t0: Instant,
        x: &Tensor,
        gts: &[ImageGt],
        seed: u64,
        spec: &HeadLossSpec,
    ) -> Result<StepReport, String> {
        let bt = batch_targets(&self.anchors, gts, &self.cfg, seed)?;
        let saved = self.obj.normalizer;
        let divisor = self
            .cfg
            .normalizer
            .step(&mut self.obj.normalizer, bt.num_pos as f64);
        // Plain weighting (guided is never fused): the factors do not depend on the losses.
        let w = self.cfg.weighting.combine(1.0, 1.0);
        let scale = (
            (w.cls_factor / divisor) as f32,
            (w.reg_factor / divisor) as f32,
        );
        let g = self.gpu.as_mut().expect("fused steps run on the GPU");
        let sums = g.fused_step(x, spec, &bt.targets, scale, self.cfg.grad_clip);
        let mut o = ObjectiveOutput {
            num_pos: bt.num_pos,
            num_neg_used: bt.num_neg,
            divisor,
            iou_pos: bt.iou_pos,
            iou_picked_neg: bt.iou_picked_neg,
            ..ObjectiveOutput::default()
        };
        if sums.nonfinite_cls > 0.0 || sums.nonfinite_reg > 0.0 {
            // As the CPU objective: the bad component is NaN, the normaliser unchanged.
            self.obj.normalizer = saved;
            o.loss_cls = if sums.nonfinite_cls > 0.0 {
                f64::NAN
            } else {
                0.0
            };
            o.loss_reg = if sums.nonfinite_reg > 0.0 {
                f64::NAN
            } else {
                0.0
            };
            o.total = f64::NAN;
        } else {
            o.cls_loss_pos = sums.cls_pos / divisor;
            o.cls_loss_neg = sums.cls_neg / divisor;
            o.loss_cls = o.cls_loss_pos + o.cls_loss_neg;
            o.loss_reg = sums.reg / divisor;
            o.total = self.cfg.weighting.combine(o.loss_cls, o.loss_reg).total;
        }
        let lr = self.cfg.lr_at(self.step);
        let mut metrics = StepMetrics {
            grad_norm: sums.grad_sumsq.sqrt(),
            ..StepMetrics::of_objective(self.step, &o, lr)
        };
        if metrics.divergence().is_none() {
            self.optimizer_step(lr as f32);
        } else if o.total.is_nan() {
            metrics.grad_norm = 0.0;
        }
        self.step += 1;
        self.fused_steps += 1;
        metrics.step_ms = t0.elapsed().as_secs_f64() * 1e3;
        Ok(StepReport {
            metrics,
            objective: o,
        })
    }
}
