//! Box regression losses (L1 to CIoU, balanced L1, bounded IoU, KL), per box, in f64.
//!
//! Every loss gives the unreduced value of each box and its gradient w.r.t. the prediction.
//! Reduction and normalisation (e.g. by the number of positives) are left to the caller,
//! see [`crate::losses::weighting`].
//!
//! Inputs, per box:
//! - elementwise losses (`l1`, `l2`, `smooth_l1`, `balanced_l1`): any 4 numbers (deltas or
//!   boxes); the value is the sum over the 4 coordinates of the loss of `d = pred - target`;
//! - IoU family (`iou`, `bounded_iou`, `giou`, `diou`, `ciou`): `xyxy` boxes, no `+1`;
//! - `kl`: 8-number prediction rows `[x1, y1, x2, y2, a1, a2, a3, a4]` (coordinates, then
//!   log-variances), 4-number targets, 8-number gradient rows (see [`kl`]).
//!
//! [`RegLoss`] is the serde-able selection with the defaults of the papers and MMDetection /
//! torchvision functions named on each variant (`tests/reference/README.md`); build one from
//! a name and JSON parameters with [`RegLoss::from_json`].

pub mod bounded_iou;
pub mod elementwise;
pub mod iou_family;
pub mod kl;
mod params;

#[cfg(test)]
mod tests_grad;
#[cfg(test)]
mod tests_values;

pub use iou_family::IouMode;
pub use kl::KL_ROW_LEN;

use serde::{Deserialize, Serialize};

/// Names accepted by [`RegLoss::from_json`], in display order.
pub const REG_LOSS_NAMES: &[&str] = &[
    "l1",
    "l2",
    "smooth_l1",
    "balanced_l1",
    "iou",
    "bounded_iou",
    "giou",
    "diou",
    "ciou",
    "kl",
];

/// A regression loss with its parameters. Serialised as `{"name": "smooth_l1", "beta": 1.0}`;
/// missing parameters take the defaults shown on each variant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum RegLoss {
    /// `|d|` summed over 4 coordinates; the default (torchvision's and MMDetection's RetinaNet).
    #[default]
    L1,
    /// `d^2` summed over 4 coordinates (no factor 1/2).
    L2,
    /// Smooth L1; `beta` 1.0 (MMDetection); 0 means L1.
    SmoothL1 {
        /// Transition point between the quadratic and linear parts.
        #[serde(default = "params::one")]
        beta: f64,
    },
    /// Balanced L1 (Libra R-CNN); `alpha` 0.5, `gamma` 1.5, `beta` 1.0.
    BalancedL1 {
        /// Gradient scale of inliers.
        #[serde(default = "params::half")]
        alpha: f64,
        /// Gradient of outliers (slope for `|d| >= beta`).
        #[serde(default = "params::one_and_half")]
        gamma: f64,
        /// Transition point.
        #[serde(default = "params::one")]
        beta: f64,
    },
    /// IoU loss; `mode` log (MMDetection), `eps` 1e-6 (lower clamp of IoU).
    Iou {
        /// Linear `1-IoU`, log `-ln IoU` or square `1-IoU^2`.
        #[serde(default)]
        mode: IouMode,
        /// Lower clamp of IoU.
        #[serde(default = "params::eps_iou")]
        eps: f64,
    },
    /// Bounded IoU loss; `beta` 0.2, `eps` 1e-3.
    BoundedIou {
        /// Smooth L1 transition point on each component.
        #[serde(default = "params::beta_bounded")]
        beta: f64,
        /// Added to denominators.
        #[serde(default = "params::eps_bounded")]
        eps: f64,
    },
    /// GIoU loss (torchvision); `eps` 1e-7.
    Giou {
        /// Added to denominators.
        #[serde(default = "params::eps_torchvision")]
        eps: f64,
    },
    /// DIoU loss (torchvision); `eps` 1e-7.
    Diou {
        /// Added to denominators.
        #[serde(default = "params::eps_torchvision")]
        eps: f64,
    },
    /// CIoU loss; `eps` 1e-7; `gated` false = torchvision, true = MMDetection (alpha 0 when
    /// IoU <= 0.5).
    Ciou {
        /// Added to denominators.
        #[serde(default = "params::eps_torchvision")]
        eps: f64,
        /// MMDetection convention (see [`iou_family::ciou`]).
        #[serde(default)]
        gated: bool,
    },
    /// KL loss (predicted log-variance); `beta` 1.0 for the smooth L1 inside.
    Kl {
        /// Smooth L1 transition point.
        #[serde(default = "params::one")]
        beta: f64,
    },
}

/// Per-box values and gradients of a regression loss.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RegOutput {
    /// Unreduced loss of each box.
    pub values: Vec<f64>,
    /// d value / d pred for each box: 4 entries, 8 for `kl`.
    pub grad: Vec<Vec<f64>>,
}

impl RegLoss {
    /// The loss's name as in [`REG_LOSS_NAMES`].
    pub fn name(&self) -> &'static str {
        match self {
            RegLoss::L1 => "l1",
            RegLoss::L2 => "l2",
            RegLoss::SmoothL1 { .. } => "smooth_l1",
            RegLoss::BalancedL1 { .. } => "balanced_l1",
            RegLoss::Iou { .. } => "iou",
            RegLoss::BoundedIou { .. } => "bounded_iou",
            RegLoss::Giou { .. } => "giou",
            RegLoss::Diou { .. } => "diou",
            RegLoss::Ciou { .. } => "ciou",
            RegLoss::Kl { .. } => "kl",
        }
    }

    /// The loss with default parameters, by name; `None` for an unknown name.
    pub fn default_for(name: &str) -> Option<RegLoss> {
        RegLoss::from_json(name, &serde_json::Value::Null).ok()
    }

    /// Length of a prediction row and of a gradient row: 8 for `kl`, 4 otherwise.
    pub fn pred_len(&self) -> usize {
        match self {
            RegLoss::Kl { .. } => KL_ROW_LEN,
            _ => 4,
        }
    }

    /// Whether the inputs must be decoded `xyxy` boxes (IoU family) rather than any 4 numbers.
    pub fn works_on_boxes(&self) -> bool {
        matches!(
            self,
            RegLoss::Iou { .. }
                | RegLoss::BoundedIou { .. }
                | RegLoss::Giou { .. }
                | RegLoss::Diou { .. }
                | RegLoss::Ciou { .. }
        )
    }

    /// Loss of one box; writes (overwrites, not accumulates) d loss / d pred into `grad`.
    ///
    /// The fast path for the trainer: no checks beyond the lengths, no allocation.
    /// Panics if `pred.len()` or `grad.len()` differs from [`RegLoss::pred_len`].
    #[inline]
    pub fn eval_one_into(&self, pred: &[f64], target: &[f64; 4], grad: &mut [f64]) -> f64 {
        let n = self.pred_len();
        assert!(
            pred.len() == n && grad.len() == n,
            "{}: rows must have {n} entries",
            self.name()
        );
        let b = [pred[0], pred[1], pred[2], pred[3]];
        let boxed = |(v, g): (f64, [f64; 4]), grad: &mut [f64]| {
            grad.copy_from_slice(&g);
            v
        };
        match *self {
            RegLoss::L1 => elementwise::per_box(pred, target, elementwise::l1, grad),
            RegLoss::L2 => elementwise::per_box(pred, target, elementwise::l2, grad),
            RegLoss::SmoothL1 { beta } => {
                elementwise::per_box(pred, target, |d| elementwise::smooth_l1(d, beta), grad)
            }
            RegLoss::BalancedL1 { alpha, gamma, beta } => elementwise::per_box(
                pred,
                target,
                |d| elementwise::balanced_l1(d, alpha, gamma, beta),
                grad,
            ),
            RegLoss::Iou { mode, eps } => boxed(iou_family::iou(&b, target, mode, eps), grad),
            RegLoss::BoundedIou { beta, eps } => {
                boxed(bounded_iou::bounded_iou(&b, target, beta, eps), grad)
            }
            RegLoss::Giou { eps } => boxed(iou_family::giou(&b, target, eps), grad),
            RegLoss::Diou { eps } => boxed(iou_family::diou(&b, target, eps), grad),
            RegLoss::Ciou { eps, gated } => boxed(iou_family::ciou(&b, target, eps, gated), grad),
            RegLoss::Kl { beta } => kl::kl(pred, target, beta, grad),
        }
    }

    /// Loss of one box and its gradient (4 entries, 8 for `kl`). Panics on a wrong row length.
    pub fn eval_one(&self, pred: &[f64], target: &[f64; 4]) -> (f64, Vec<f64>) {
        let mut grad = vec![0.0; self.pred_len()];
        let v = self.eval_one_into(pred, target, &mut grad);
        (v, grad)
    }

    /// Checked evaluation of many boxes: errors (one line) on a count mismatch, a wrong row
    /// length, a non-finite number, or, for the IoU family, an inverted box (`x2 < x1` or
    /// `y2 < y1`).
    pub fn eval(&self, pred: &[Vec<f64>], target: &[[f64; 4]]) -> Result<RegOutput, String> {
        let name = self.name();
        if pred.len() != target.len() {
            return Err(format!(
                "{name}: {} prediction rows but {} target rows",
                pred.len(),
                target.len()
            ));
        }
        let n = self.pred_len();
        for (i, (p, t)) in pred.iter().zip(target).enumerate() {
            if p.len() != n {
                return Err(format!(
                    "{name}: prediction row {i} has {} numbers, expected {n}",
                    p.len()
                ));
            }
            if let Some(x) = p.iter().chain(t.iter()).find(|x| !x.is_finite()) {
                return Err(format!("{name}: row {i} holds a non-finite number ({x})"));
            }
            if self.works_on_boxes() {
                for (what, b) in [("prediction", &p[..4]), ("target", &t[..])] {
                    if b[2] < b[0] || b[3] < b[1] {
                        return Err(format!(
                            "{name}: row {i}: {what} box {b:?} is inverted (x2 < x1 or y2 < y1)"
                        ));
                    }
                }
            }
        }
        let mut out = RegOutput {
            values: Vec::with_capacity(pred.len()),
            grad: Vec::with_capacity(pred.len()),
        };
        for (p, t) in pred.iter().zip(target) {
            let (v, g) = self.eval_one(p, t);
            out.values.push(v);
            out.grad.push(g);
        }
        Ok(out)
    }
}
