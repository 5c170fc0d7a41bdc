//! Sigmoid cross-entropy: plain, alpha-balanced and with a constant per-element weight.
//!
//! Every elementwise function returns `(value, d value / d x)` for one logit `x`.

use super::stable::{bce, sigmoid};

/// The class-balance factor `alpha_t`: `alpha` for a positive (`y = 1`), `1 - alpha` for a
/// negative; a negative `alpha` disables the weighting (`alpha_t = 1`), as in torchvision and
/// MMDetection. A target counts as positive when `y > 0.5`.
pub fn alpha_t(alpha: f64, y: f64) -> f64 {
    if alpha < 0.0 {
        1.0
    } else if y > 0.5 {
        alpha
    } else {
        1.0 - alpha
    }
}

/// Binary cross-entropy `CE = -ln(p_t)` on logit `x` and target `y`, with its gradient
/// `p - y`. Also valid for a soft target `y` in `[0, 1]`.
pub fn ce(x: f64, y: f64) -> (f64, f64) {
    (bce(x, y), sigmoid(x) - y)
}

/// Alpha-balanced cross-entropy `alpha_t * CE` (hard target `y` in {0, 1}).
pub fn balanced_ce(x: f64, y: f64, alpha: f64) -> (f64, f64) {
    weighted_ce(x, y, alpha_t(alpha, y))
}

/// Cross-entropy times a weight `w` that is a constant in the backward pass (GHM-C, EQL):
/// value `w * CE`, gradient `w * (p - y)`.
pub fn weighted_ce(x: f64, y: f64, w: f64) -> (f64, f64) {
    let (v, g) = ce(x, y);
    (w * v, w * g)
}

#[cfg(test)]
mod tests {
    use super::super::stable::logit;
    use super::*;

    /// CE = -ln(p_t), evaluated by hand (the CE column of the focal vs CE table in
    /// tests/reference/README.md; 0.6931472 is ln 2, pinned to 7 decimals).
    #[test]
    #[allow(clippy::approx_constant)]
    fn ce_matches_reference_table() {
        for (p_t, want) in [(0.9, 0.1053605), (0.968, 0.0325232), (0.5, 0.6931472)] {
            // Positive with p = p_t, and negative with p = 1 - p_t: both have CE = -ln(p_t).
            let (pos, _) = ce(logit(p_t), 1.0);
            let (neg, _) = ce(logit(1.0 - p_t), 0.0);
            assert!((pos - want).abs() < 5e-8, "p_t {p_t}: {pos} vs {want}");
            assert!((neg - want).abs() < 5e-8, "p_t {p_t}: {neg} vs {want}");
        }
    }

    #[test]
    fn ce_gradient_is_p_minus_y() {
        let (_, g) = ce(0.0, 1.0);
        assert_eq!(g, -0.5);
        let (_, g) = ce(0.0, 0.0);
        assert_eq!(g, 0.5);
    }

    #[test]
    fn balanced_ce_weights_by_alpha_t() {
        let (c, gc) = ce(0.3, 1.0);
        let (b, gb) = balanced_ce(0.3, 1.0, 0.25);
        assert!((b - 0.25 * c).abs() < 1e-15 && (gb - 0.25 * gc).abs() < 1e-15);
        let (c, _) = ce(0.3, 0.0);
        let (b, _) = balanced_ce(0.3, 0.0, 0.25);
        assert!((b - 0.75 * c).abs() < 1e-15);
        assert_eq!(alpha_t(-1.0, 0.0), 1.0);
        assert_eq!(alpha_t(-1.0, 1.0), 1.0);
    }
}
