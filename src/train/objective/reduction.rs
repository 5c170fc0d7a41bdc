//! The objective's reduction, written once for both ways through a step (the host objective
//! and the backend's loss kernels): the normaliser's divisor, the division of the loss sums,
//! the weighting, the gradient factors and what a non-finite input does.

use super::ObjectiveOutput;
use crate::losses::classification::ClsLoss;
use crate::losses::weighting::{NormalizerState, WeightedObjective};
use crate::train::TrainConfig;

/// A step's loss sums before normalisation (sampler weights applied).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LossSums {
    /// Classification loss over positive-target elements.
    pub cls_pos: f64,
    /// Classification loss over negative-target elements.
    pub cls_neg: f64,
    /// Regression loss over the picked positives.
    pub reg: f64,
}

/// A step's divisors. The normaliser's next state is held until [`Reduction::commit`], so a
/// step that diverges leaves it unchanged.
#[derive(Clone, Debug, PartialEq)]
pub struct Reduction {
    /// The normaliser's divisor for this step's picked positives.
    pub divisor: f64,
    /// The classification divisor: `divisor`, except GHM-C's element count (its weights
    /// already average over the `N` picked elements, as MMDetection's `GHMC` ignores
    /// `avg_factor`).
    pub cls_divisor: f64,
    next: NormalizerState,
}

impl Reduction {
    /// The divisors for `num_pos` picked positives and `cls_elements` classification
    /// elements, from the normaliser state `state`.
    pub fn new(
        cfg: &TrainConfig,
        state: &NormalizerState,
        num_pos: usize,
        cls_elements: usize,
    ) -> Self {
        let mut next = state.clone();
        let divisor = cfg.normalizer.step(&mut next, num_pos as f64);
        let cls_divisor = if matches!(cfg.cls_loss, ClsLoss::GhmC { .. }) {
            cls_elements.max(1) as f64
        } else {
            divisor
        };
        Self {
            divisor,
            cls_divisor,
            next,
        }
    }

    /// The factors `(d total / d cls_sum, d total / d reg_sum)` under the weighting `w`.
    pub fn grad_scale(&self, w: &WeightedObjective) -> (f64, f64) {
        (w.cls_factor / self.cls_divisor, w.reg_factor / self.divisor)
    }

    /// Writes the normalised losses, their total and the divisor into `out`; returns the
    /// weighting (whose factors scale the gradients, see [`Reduction::grad_scale`]).
    pub fn apply(
        &self,
        cfg: &TrainConfig,
        sums: &LossSums,
        out: &mut ObjectiveOutput,
    ) -> WeightedObjective {
        out.divisor = self.divisor;
        out.cls_loss_pos = sums.cls_pos / self.cls_divisor;
        out.cls_loss_neg = sums.cls_neg / self.cls_divisor;
        out.loss_cls = out.cls_loss_pos + out.cls_loss_neg;
        out.loss_reg = sums.reg / self.divisor;
        let w = cfg.weighting.combine(out.loss_cls, out.loss_reg);
        out.total = w.total;
        w
    }

    /// Advances the normaliser state to this step's.
    pub fn commit(self, state: &mut NormalizerState) {
        *state = self.next;
    }
}

/// A step with a non-finite logit (delta): `loss_cls` (`loss_reg`) is NaN, so
/// [`crate::train::metrics::divergence`] names the component, and the total is NaN.
pub fn mark_diverged(out: &mut ObjectiveOutput, nonfinite_cls: bool, nonfinite_reg: bool) {
    out.loss_cls = if nonfinite_cls { f64::NAN } else { 0.0 };
    out.loss_reg = if nonfinite_reg { f64::NAN } else { 0.0 };
    out.total = f64::NAN;
}
