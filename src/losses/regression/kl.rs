//! KL loss (He et al. 2019, "Bounding Box Regression with Uncertainty", Softer-NMS).
//!
//! The prediction carries a log-variance `a = ln(sigma^2)` per coordinate. Per coordinate,
//! with `d = pred - target`: `e^(-a) * smoothL1(d, beta) + a / 2` (beta 1 as in the paper:
//! `e^(-a) d^2/2 + a/2` for `|d| < 1`, `e^(-a)(|d| - 1/2) + a/2` otherwise); summed over 4.
//!
//! Row layout (the one place where rows are not 4 long): `pred` is
//! `[x1, y1, x2, y2, a1, a2, a3, a4]` and the gradient row has the same 8 entries:
//! `[dL/dx1 .. dL/dy2, dL/da1 .. dL/da4]`.

use super::elementwise::smooth_l1;

/// Number of entries in a KL prediction row and in its gradient row.
pub const KL_ROW_LEN: usize = 8;

/// KL loss of one box; `pred` has 8 entries (4 coordinates, then 4 log-variances), `grad`
/// receives 8 entries in the same layout. Default `beta = 1.0`.
pub fn kl(pred: &[f64], target: &[f64; 4], beta: f64, grad: &mut [f64]) -> f64 {
    let mut total = 0.0;
    for k in 0..4 {
        let a = pred[4 + k];
        let w = (-a).exp();
        let (s, ds) = smooth_l1(pred[k] - target[k], beta);
        total += w * s + 0.5 * a;
        grad[k] = w * ds;
        grad[4 + k] = 0.5 - w * s;
    }
    total
}
