//! Sigmoid classification losses (CE, balanced CE, focal, FL*, GHM-C, QFL, varifocal, EQL).
//!
//! Everything is per element (one logit `x` per anchor and class) and unreduced: each loss
//! gives a value and its derivative with respect to `x`, in `f64`, stable for any finite logit.
//! Reduction (sum, divided by `max(1, num_pos)` or an EMA) is left to the caller.
//!
//! Conventions:
//! - `p = sigmoid(x)`; `p_t = p` for a positive, `1 - p` for a negative; `alpha_t = alpha` for
//!   a positive and `1 - alpha` for a negative (a negative `alpha` disables it).
//! - Hard-target losses take targets exactly 0 or 1; QFL and varifocal take a soft target
//!   (IoU quality) in `[0, 1]`.
//! - Each gradient is the true derivative of the value returned, treating as constant only
//!   what the reference treats as constant: the GHM-C and EQL weights. The focal, QFL and
//!   varifocal modulating factors are differentiated (not detached in MMDetection).
//! - EQL elements are laid out row-major `N x C`.

mod ce;
mod eql;
mod focal;
mod ghm;
mod helpers;
mod loss;
mod params;
mod quality;
pub mod relative;
pub mod stable;

pub use ce::{alpha_t, balanced_ce, ce, weighted_ce};
pub use eql::{EQL_LAMBDA, eql_class_freq, eql_weights};
pub use focal::{FOCAL_ALPHA, FOCAL_GAMMA, FOCAL_STAR_BETA, FOCAL_STAR_GAMMA, focal, focal_star};
pub use ghm::{GHM_BINS, GHM_MOMENTUM, GhmCState, ghm_bin, ghm_bin_weights, ghm_c_weights};
pub use helpers::{ce_over_focal, focal_weight, loss_shares, prior_bias};
pub use loss::{CLS_LOSS_NAMES, ClsLoss, ClsLossState, ClsOutput};
pub use params::BALANCED_CE_ALPHA;
pub use quality::{QFL_BETA, VARIFOCAL_ALPHA, VARIFOCAL_GAMMA, qfl, varifocal};
pub use relative::row_gradient_weights;

#[cfg(test)]
mod tests_gradcheck;
#[cfg(test)]
mod tests_params;
