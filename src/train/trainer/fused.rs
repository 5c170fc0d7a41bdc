//! The fused step: targets on the host, losses, backward, clipping and the optimizer on the
//! backend's loss kernels, one small readback ([`crate::train::engine`]).

use super::{StepReport, Trainer};
use crate::backend::head_loss::HeadLossSpec;
use crate::backend::tensor::Tensor;
use crate::train::metrics::StepMetrics;
use crate::train::objective::{
    ImageGt, LossSums, ObjectiveOutput, Reduction, batch_targets, level_slots, mark_diverged,
    targets_suffice,
};
use std::time::Instant;

/// Every this many steps a run on loss kernels takes the host objective even when the fused
/// path would do, so the histograms of `p_t` (which need the logits on the host) keep coming.
pub const DETAIL_EVERY: u64 = 10;

impl Trainer {
    /// The loss kernels' spec when this step can be fused (a backend that runs its loss
    /// kernels, a configuration the kernels and [`targets_suffice`] cover, not a detail step).
    pub(super) fn fused_spec(&self) -> Option<HeadLossSpec> {
        let fusable = self.engine.runs_loss_kernels()
            && targets_suffice(&self.cfg)
            && !self.step.is_multiple_of(DETAIL_EVERY);
        fusable
            .then(|| HeadLossSpec::new(&self.cfg.cls_loss, &self.cfg.reg_loss))
            .flatten()
    }

    /// One fused step (see the module doc); same metrics and semantics as the host step: a
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
        let r = Reduction::new(&self.cfg, &self.obj.normalizer, bt.num_pos, 0);
        // Plain weighting (guided is never fused): the factors do not depend on the losses.
        let (gc, gr) = r.grad_scale(&self.cfg.weighting.combine(1.0, 1.0));
        let scale = (gc as f32, gr as f32);
        let sums = (self.engine).loss_kernel_step(x, spec, &bt.targets, scale, self.cfg.grad_clip);
        // The kernels reduce the losses on the device: per level only the positives are known.
        let mut levels = level_slots(&self.anchors);
        for (l, k) in levels.iter_mut().zip(&bt.pos_level) {
            l.num_pos = *k;
        }
        let mut o = ObjectiveOutput {
            levels,
            num_pos: bt.num_pos,
            num_neg_used: bt.num_neg,
            iou_pos: bt.iou_pos,
            iou_picked_neg: bt.iou_picked_neg,
            ..ObjectiveOutput::default()
        };
        if sums.nonfinite_cls > 0.0 || sums.nonfinite_reg > 0.0 {
            // As the host objective: the bad component is NaN, the normaliser unchanged.
            mark_diverged(&mut o, sums.nonfinite_cls > 0.0, sums.nonfinite_reg > 0.0);
        } else {
            let s = LossSums {
                cls_pos: sums.cls_pos,
                cls_neg: sums.cls_neg,
                reg: sums.reg,
            };
            r.apply(&self.cfg, &s, &mut o);
            r.commit(&mut self.obj.normalizer);
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
