//! Focal loss FL (Lin et al. 2017) and its variant FL* (RetinaNet paper, appendix A).
//!
//! Both take a hard target `y` in {0, 1} (positive when `y > 0.5`) and return
//! `(value, d value / d x)`.

use super::ce::alpha_t;
use super::stable::{logistic, sigmoid, softplus};

/// Default `alpha` of the focal loss (RetinaNet, torchvision, MMDetection).
pub const FOCAL_ALPHA: f64 = 0.25;
/// Default `gamma` of the focal loss.
pub const FOCAL_GAMMA: f64 = 2.0;
/// Default `gamma` of FL* (the RetinaNet paper's appendix uses gamma 2, beta 1).
pub const FOCAL_STAR_GAMMA: f64 = 2.0;
/// Default `beta` of FL*.
pub const FOCAL_STAR_BETA: f64 = 1.0;

/// `+1` for a positive target, `-1` for a negative: `x_t = sign * x`.
fn sign(y: f64) -> f64 {
    if y > 0.5 { 1.0 } else { -1.0 }
}

/// Focal loss `FL = -alpha_t (1 - p_t)^gamma ln(p_t)`; `alpha < 0` disables `alpha_t`.
///
/// The modulating factor is differentiated too (as in torchvision and MMDetection, where it
/// is not detached): `dFL/dx = s alpha_t (1 - p_t)^gamma (gamma p_t ln(p_t) + p_t - 1)`
/// with `s = +1` for a positive and `-1` for a negative.
pub fn focal(x: f64, y: f64, alpha: f64, gamma: f64) -> (f64, f64) {
    let s = sign(y);
    let a = alpha_t(alpha, y);
    // p_t, 1 - p_t without cancellation, and -ln(p_t) (finite even where p_t underflows).
    let (p_t, q, ce) = logistic(s * x);
    let m = pow_modulator(q, gamma);
    let value = a * m * ce;
    let grad = -s * a * m * (gamma * p_t * ce + q);
    (value, grad)
}

/// `q^gamma`, by multiplication for the small integer `gamma` everyone uses (0, 1, 2, 3...),
/// `powf` otherwise.
fn pow_modulator(q: f64, gamma: f64) -> f64 {
    if gamma == 2.0 {
        q * q
    } else if gamma.fract() == 0.0 && (0.0..=16.0).contains(&gamma) {
        q.powi(gamma as i32)
    } else {
        q.powf(gamma)
    }
}

/// FL* `= -ln(sigmoid(gamma x_t + beta)) / gamma` with `x_t = x` for a positive and `-x` for a
/// negative; `gamma > 0`. Gradient: `-s sigmoid(-(gamma x_t + beta))`.
pub fn focal_star(x: f64, y: f64, gamma: f64, beta: f64) -> (f64, f64) {
    let s = sign(y);
    let z = gamma * s * x + beta;
    (softplus(-z) / gamma, -s * sigmoid(-z))
}

#[cfg(test)]
mod tests {
    use super::super::ce::ce;
    use super::super::stable::logit;
    use super::*;

    /// Focal through `logistic` and `pow_modulator` agrees with the separate stable
    /// functions and `powf` (within the rounding of powi vs powf).
    #[test]
    fn focal_matches_the_separate_stable_forms() {
        let reference = |x: f64, y: f64, alpha: f64, gamma: f64| {
            let s = sign(y);
            let a = alpha_t(alpha, y);
            let (p_t, q, ce) = (sigmoid(s * x), sigmoid(-s * x), softplus(-s * x));
            let m = q.powf(gamma);
            (a * m * ce, -s * a * m * (gamma * p_t * ce + q))
        };
        let xs = [
            -800.0, -40.0, -4.6, -1.0, -1e-9, -0.0, 0.0, 1e-9, 0.3, 2.0, 37.0, 800.0,
        ];
        for &x in &xs {
            for y in [0.0, 1.0] {
                for (alpha, gamma) in [
                    (0.25, 2.0),
                    (0.5, 0.0),
                    (-1.0, 1.0),
                    (0.75, 5.0),
                    (0.25, 0.5),
                ] {
                    let (v, g) = focal(x, y, alpha, gamma);
                    let (rv, rg) = reference(x, y, alpha, gamma);
                    let close =
                        |a: f64, b: f64| a == b || (a - b).abs() <= 4e-16 * a.abs().max(b.abs());
                    assert!(
                        close(v, rv) && close(g, rg),
                        "x {x} y {y} gamma {gamma}: {v} {g} vs {rv} {rg}"
                    );
                }
            }
        }
    }

    /// Focal vs CE (Lin et al. 2017, eq. 5, evaluated by hand): (1-p_t)^2 and the CE/FL ratio (gamma 2,
    /// no alpha), for positives and negatives alike.
    #[test]
    fn focal_matches_reference_table() {
        let rows = [
            (0.9, 0.01, 100.0, 0.5),
            (0.968, 0.001024, 976.6, 0.05),
            (0.5, 0.25, 4.0, 0.5),
        ];
        for (p_t, modulator, ratio, ratio_tol) in rows {
            for (x, y) in [(logit(p_t), 1.0), (logit(1.0 - p_t), 0.0)] {
                let (c, _) = ce(x, y);
                let (fl, _) = focal(x, y, -1.0, 2.0);
                assert!(((fl / c) - modulator).abs() < 1e-9, "p_t {p_t}: {}", fl / c);
                assert!(
                    ((c / fl) - ratio).abs() < ratio_tol,
                    "p_t {p_t}: ratio {}",
                    c / fl
                );
            }
        }
        // 976.6 to one decimal.
        let (c, _) = ce(logit(0.968), 1.0);
        let (fl, _) = focal(logit(0.968), 1.0, -1.0, 2.0);
        assert_eq!(format!("{:.1}", c / fl), "976.6");
    }

    #[test]
    fn focal_with_alpha_at_half_matches_reference() {
        // p_t = 0.5, positive (alpha_t = 0.25): 0.25 * 0.25 * ln 2 = 0.0433217.
        let (fl, _) = focal(0.0, 1.0, 0.25, 2.0);
        assert!((fl - 0.0433217).abs() < 5e-8, "{fl}");
    }

    /// The derivative of FL (Lin et al. 2017, eq. 5, differentiated by hand): dFL/dx (y = 1, alpha omitted) = (1-p)^gamma (gamma p ln p + p - 1).
    #[test]
    fn focal_derivative_matches_reference_formula() {
        for gamma in [0.0, 0.5, 1.0, 2.0, 5.0] {
            for x in [-4.0, -1.0, 0.0, 0.7, 3.0] {
                let p = sigmoid(x);
                let want = (1.0 - p).powf(gamma) * (gamma * p * p.ln() + p - 1.0);
                let (_, got) = focal(x, 1.0, -1.0, gamma);
                assert!(
                    (got - want).abs() < 1e-12,
                    "gamma {gamma} x {x}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn focal_gamma_zero_is_balanced_ce() {
        let (c, gc) = ce(1.3, 0.0);
        let (fl, gfl) = focal(1.3, 0.0, 0.25, 0.0);
        assert!((fl - 0.75 * c).abs() < 1e-15 && (gfl - 0.75 * gc).abs() < 1e-15);
    }

    #[test]
    fn focal_star_values() {
        // gamma 1, beta 0 is plain CE.
        for (x, y) in [(0.4, 1.0), (0.4, 0.0), (-2.0, 1.0)] {
            let (c, gc) = ce(x, y);
            let (f, gf) = focal_star(x, y, 1.0, 0.0);
            assert!((f - c).abs() < 1e-14 && (gf - gc).abs() < 1e-14);
        }
        // Defaults gamma 2, beta 1 at x = 0: -ln(sigmoid(1)) / 2.
        let (f, _) = focal_star(0.0, 1.0, FOCAL_STAR_GAMMA, FOCAL_STAR_BETA);
        assert!((f - softplus(-1.0) / 2.0).abs() < 1e-15);
    }
}
