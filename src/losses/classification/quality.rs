//! Losses with a soft (IoU-quality) target `y` in `[0, 1]`: Quality Focal Loss (GFL, Li et al.
//! 2020) and Varifocal Loss (VarifocalNet, Zhang et al. 2021).
//!
//! Both return `(value, d value / d x)`. As in MMDetection, the modulating factors depend on
//! `p` and are not detached, so the gradient differentiates them too.

use super::stable::{bce, sigmoid, softplus};

/// Default `beta` of the quality focal loss.
pub const QFL_BETA: f64 = 2.0;
/// Default `alpha` of the varifocal loss (weight of the negatives).
pub const VARIFOCAL_ALPHA: f64 = 0.75;
/// Default `gamma` of the varifocal loss.
pub const VARIFOCAL_GAMMA: f64 = 2.0;

/// Quality focal loss `|y - p|^beta * BCE(x, y)` with `beta >= 0`.
///
/// Gradient: `beta |d|^(beta-1) sign(d) p (1-p) BCE + |d|^beta d` with `d = p - y`; where
/// `d = 0` exactly the first term is taken as 0 (its limit for `beta > 1`).
pub fn qfl(x: f64, y: f64, beta: f64) -> (f64, f64) {
    let p = sigmoid(x);
    let d = p - y;
    let ad = d.abs();
    let ce = bce(x, y);
    let m = ad.powf(beta);
    let value = m * ce;
    let dm = if ad > 0.0 {
        beta * ad.powf(beta - 1.0) * d.signum() * p * sigmoid(-x)
    } else {
        0.0
    };
    (value, dm * ce + m * d)
}

/// Varifocal loss (MMDetection `VarifocalLoss`, `iou_weighted = True`):
/// a positive (`y > 0`) gives `y * BCE(x, y)`, gradient `y (p - y)`; a negative (`y = 0`)
/// gives `alpha p^gamma BCE(x, 0)`, gradient `alpha p^gamma (gamma (1-p) softplus(x) + p)`.
pub fn varifocal(x: f64, y: f64, alpha: f64, gamma: f64) -> (f64, f64) {
    if y > 0.0 {
        (y * bce(x, y), y * (sigmoid(x) - y))
    } else {
        let p = sigmoid(x);
        let sp = softplus(x); // BCE(x, 0)
        let w = alpha * p.powf(gamma);
        (w * sp, w * (gamma * sigmoid(-x) * sp + p))
    }
}

#[cfg(test)]
mod tests {
    use super::super::stable::logit;
    use super::*;

    #[test]
    fn qfl_vanishes_when_p_equals_the_quality() {
        let (v, g) = qfl(logit(0.7), 0.7, QFL_BETA);
        assert!(v.abs() < 1e-25 && g.abs() < 1e-12, "{v} {g}");
    }

    #[test]
    fn qfl_with_hard_positive_is_focal_without_alpha() {
        let x = 0.4;
        let p = sigmoid(x);
        let (v, _) = qfl(x, 1.0, 2.0);
        assert!((v - (1.0 - p).powi(2) * -p.ln()).abs() < 1e-14);
    }

    #[test]
    fn qfl_beta_zero_is_bce() {
        let (v, g) = qfl(0.3, 0.6, 0.0);
        assert!((v - bce(0.3, 0.6)).abs() < 1e-15);
        assert!((g - (sigmoid(0.3) - 0.6)).abs() < 1e-15);
    }

    #[test]
    fn varifocal_weights_positives_by_quality_and_negatives_by_alpha_p_gamma() {
        let (v, g) = varifocal(0.5, 0.8, VARIFOCAL_ALPHA, VARIFOCAL_GAMMA);
        assert!((v - 0.8 * bce(0.5, 0.8)).abs() < 1e-15);
        assert!((g - 0.8 * (sigmoid(0.5) - 0.8)).abs() < 1e-15);
        let p = sigmoid(0.5);
        let (v, _) = varifocal(0.5, 0.0, VARIFOCAL_ALPHA, VARIFOCAL_GAMMA);
        assert!((v - 0.75 * p * p * -(1.0 - p).ln()).abs() < 1e-14);
    }
}
