//! [`ClsLoss`]: one variant per classification loss with its parameters, evaluated on a batch
//! of logits and targets into unreduced values and gradients.

use serde::{Deserialize, Serialize};

use super::ce::{balanced_ce, ce, weighted_ce};
use super::eql::eql_weights;
use super::focal::{FOCAL_ALPHA, FOCAL_GAMMA, focal, focal_star};
use super::ghm::{GhmCState, ghm_c_weights};
use super::quality::{qfl, varifocal};

/// The names accepted by [`ClsLoss::from_json`], in display order.
pub const CLS_LOSS_NAMES: &[&str] = &[
    "ce",
    "balanced_ce",
    "focal",
    "focal_star",
    "ghm_c",
    "qfl",
    "varifocal",
    "eql",
];

/// A sigmoid classification loss and its parameters (see each elementwise function for the
/// formula). Serialises as a flat object `{"name": "focal", "alpha": 0.25, "gamma": 2.0}`,
/// and deserialises through [`ClsLoss::from_json`] (defaults filled in, values checked).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(into = "serde_json::Value", try_from = "serde_json::Value")]
pub enum ClsLoss {
    /// Binary cross-entropy.
    Ce,
    /// Alpha-balanced CE, `alpha_t * CE` (default alpha 0.75, the best value for CE in the
    /// RetinaNet paper's Table 1a).
    BalancedCe {
        /// Weight of the positives (negatives get `1 - alpha`), in `[0, 1]`.
        alpha: f64,
    },
    /// Focal loss (defaults alpha 0.25, gamma 2).
    Focal {
        /// Weight of the positives; negative disables alpha weighting.
        alpha: f64,
        /// Focusing parameter, `>= 0`.
        gamma: f64,
    },
    /// FL* (defaults gamma 2, beta 1).
    FocalStar {
        /// Scale of `x_t`, `> 0`.
        gamma: f64,
        /// Shift of `gamma x_t`.
        beta: f64,
    },
    /// GHM-C (defaults 10 bins, momentum 0).
    GhmC {
        /// Number of gradient-norm bins, `>= 1`.
        bins: usize,
        /// Moving-average momentum of the bin counts, in `[0, 1)`.
        momentum: f64,
    },
    /// Quality focal loss on a soft target (default beta 2).
    Qfl {
        /// Exponent of `|y - p|`, `>= 0`.
        beta: f64,
    },
    /// Varifocal loss on a soft target (defaults alpha 0.75, gamma 2).
    Varifocal {
        /// Weight of the negatives, `>= 0`.
        alpha: f64,
        /// Exponent of `p` on the negatives, `>= 0`.
        gamma: f64,
    },
    /// Equalization loss on `N x C` row-major elements (default lambda 0.00177).
    Eql {
        /// Frequency threshold below which a class is rare.
        lambda: f64,
        /// One frequency in `[0, 1]` per class; its length is the number of classes.
        class_freq: Vec<f64>,
    },
}

impl Default for ClsLoss {
    /// Focal loss with alpha 0.25 and gamma 2 (RetinaNet).
    fn default() -> Self {
        ClsLoss::Focal {
            alpha: FOCAL_ALPHA,
            gamma: FOCAL_GAMMA,
        }
    }
}

/// Unreduced per-element loss values and their derivatives with respect to the logits.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ClsOutput {
    /// Loss of each element.
    pub values: Vec<f64>,
    /// d(value_i) / d(logit_i) of each element.
    pub grad: Vec<f64>,
}

/// State that a loss keeps between training steps (today only GHM-C's moving average).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ClsLossState {
    /// GHM-C bin counts' moving average (used when `momentum > 0`).
    pub ghm_c: GhmCState,
}

impl ClsLoss {
    /// The loss's name, one of [`CLS_LOSS_NAMES`].
    pub fn name(&self) -> &'static str {
        match self {
            ClsLoss::Ce => "ce",
            ClsLoss::BalancedCe { .. } => "balanced_ce",
            ClsLoss::Focal { .. } => "focal",
            ClsLoss::FocalStar { .. } => "focal_star",
            ClsLoss::GhmC { .. } => "ghm_c",
            ClsLoss::Qfl { .. } => "qfl",
            ClsLoss::Varifocal { .. } => "varifocal",
            ClsLoss::Eql { .. } => "eql",
        }
    }

    /// True for the losses that take a soft target in `[0, 1]` (QFL, varifocal); the others
    /// take hard targets 0 or 1.
    pub fn soft_targets(&self) -> bool {
        matches!(self, ClsLoss::Qfl { .. } | ClsLoss::Varifocal { .. })
    }

    /// `(value, gradient)` of one element for the losses that are purely elementwise
    /// (all but GHM-C and EQL, whose weights depend on the batch).
    pub fn pointwise(&self, x: f64, y: f64) -> Option<(f64, f64)> {
        Some(match *self {
            ClsLoss::Ce => ce(x, y),
            ClsLoss::BalancedCe { alpha } => balanced_ce(x, y, alpha),
            ClsLoss::Focal { alpha, gamma } => focal(x, y, alpha, gamma),
            ClsLoss::FocalStar { gamma, beta } => focal_star(x, y, gamma, beta),
            ClsLoss::Qfl { beta } => qfl(x, y, beta),
            ClsLoss::Varifocal { alpha, gamma } => varifocal(x, y, alpha, gamma),
            ClsLoss::GhmC { .. } | ClsLoss::Eql { .. } => return None,
        })
    }

    /// Evaluates the loss on `logits` and `targets` (same length) with a fresh state.
    pub fn eval(&self, logits: &[f64], targets: &[f64]) -> Result<ClsOutput, String> {
        self.eval_with_state(logits, targets, &mut ClsLossState::default())
    }

    /// Evaluates the loss, reading and updating `state` (GHM-C with momentum); the state is
    /// left untouched when the inputs are rejected.
    pub fn eval_with_state(
        &self,
        logits: &[f64],
        targets: &[f64],
        state: &mut ClsLossState,
    ) -> Result<ClsOutput, String> {
        self.validate()?;
        self.check_inputs(logits, targets)?;
        let weights = match self {
            ClsLoss::GhmC { bins, momentum } => {
                ghm_c_weights(logits, targets, *bins, *momentum, &mut state.ghm_c)
            }
            ClsLoss::Eql { lambda, class_freq } => eql_weights(targets, class_freq, *lambda)?,
            _ => Vec::new(),
        };
        let mut out = ClsOutput {
            values: Vec::with_capacity(logits.len()),
            grad: Vec::with_capacity(logits.len()),
        };
        for (i, (&x, &y)) in logits.iter().zip(targets).enumerate() {
            let (v, g) = match self.pointwise(x, y) {
                Some(vg) => vg,
                None => weighted_ce(x, y, weights[i]),
            };
            out.values.push(v);
            out.grad.push(g);
        }
        Ok(out)
    }

    /// Checks lengths, finiteness, the target range and (EQL) the `N x C` layout.
    fn check_inputs(&self, logits: &[f64], targets: &[f64]) -> Result<(), String> {
        let name = self.name();
        if logits.len() != targets.len() {
            return Err(format!(
                "{name}: {} logits but {} targets",
                logits.len(),
                targets.len()
            ));
        }
        if let Some(i) = logits.iter().position(|x| !x.is_finite()) {
            return Err(format!("{name}: logit {i} is not finite ({})", logits[i]));
        }
        for (i, &y) in targets.iter().enumerate() {
            if !y.is_finite() {
                return Err(format!("{name}: target {i} is not finite ({y})"));
            }
            if self.soft_targets() {
                if !(0.0..=1.0).contains(&y) {
                    return Err(format!("{name}: target {i} is {y}, outside [0, 1]"));
                }
            } else if y != 0.0 && y != 1.0 {
                return Err(format!(
                    "{name}: target {i} is {y}; this loss takes hard targets 0 or 1"
                ));
            }
        }
        if let ClsLoss::Eql { class_freq, .. } = self
            && !logits.len().is_multiple_of(class_freq.len())
        {
            return Err(format!(
                "eql: {} logits is not a multiple of num_classes {} (rows are N x C)",
                logits.len(),
                class_freq.len()
            ));
        }
        Ok(())
    }
}
