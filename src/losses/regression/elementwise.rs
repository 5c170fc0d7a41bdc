//! Elementwise regression losses: L1, L2, smooth L1 and balanced L1.
//!
//! Each scalar function takes one coordinate difference `d = pred - target` and returns
//! `(value, d value / d d)`. The per-box loss is the sum over the 4 coordinates, so the
//! gradient with respect to `pred` is the per-coordinate derivative.
//!
//! At `d = 0` every loss uses the zero subgradient for `|d|` (`sign(0) = 0`): L1 and a
//! balanced L1 with `beta != 1` have a kink there; the others are smooth and their slope is 0.

/// `sign(d)` with `sign(0) = 0`: the subgradient of `|d|` used at the kink.
#[inline]
fn sign0(d: f64) -> f64 {
    if d > 0.0 {
        1.0
    } else if d < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// L1: `|d|`, derivative `sign(d)` (0 at `d = 0`).
#[inline]
pub fn l1(d: f64) -> (f64, f64) {
    (d.abs(), sign0(d))
}

/// L2: `d^2` (no factor 1/2, as `torch.nn.MSELoss`), derivative `2 d`.
#[inline]
pub fn l2(d: f64) -> (f64, f64) {
    (d * d, 2.0 * d)
}

/// Smooth L1 (MMDetection, Fast R-CNN): `0.5 d^2 / beta` if `|d| < beta`, else `|d| - 0.5 beta`.
/// `beta = 0` gives exactly L1.
#[inline]
pub fn smooth_l1(d: f64, beta: f64) -> (f64, f64) {
    let a = d.abs();
    if a < beta {
        (0.5 * a * a / beta, d / beta)
    } else {
        (a - 0.5 * beta, sign0(d))
    }
}

/// Balanced L1 (Libra R-CNN, MMDetection `balanced_l1_loss`), with `b = e^(gamma/alpha) - 1`:
/// `|d| < beta`: `alpha/b (b|d| + 1) ln(b|d|/beta + 1) - alpha |d|`;
/// otherwise `gamma |d| + gamma/b - alpha beta`.
/// Requires `alpha > 0`, `gamma > 0`, `beta > 0`.
#[inline]
pub fn balanced_l1(d: f64, alpha: f64, gamma: f64, beta: f64) -> (f64, f64) {
    let b = (gamma / alpha).exp() - 1.0;
    let a = d.abs();
    if a < beta {
        let value = alpha / b * (b * a + 1.0) * (b * a / beta + 1.0).ln() - alpha * a;
        // d/da: alpha ln(b a/beta + 1) + alpha (b a + 1)/(b a + beta) - alpha
        let slope =
            alpha * (b * a / beta + 1.0).ln() + alpha * (b * a + 1.0) / (b * a + beta) - alpha;
        (value, sign0(d) * slope)
    } else {
        (gamma * a + gamma / b - alpha * beta, sign0(d) * gamma)
    }
}

/// Applies a scalar loss to the 4 coordinates of `pred - target`; returns the sum and the
/// gradient with respect to `pred`.
#[inline]
pub fn per_box(
    pred: &[f64],
    target: &[f64; 4],
    f: impl Fn(f64) -> (f64, f64),
    grad: &mut [f64],
) -> f64 {
    let mut total = 0.0;
    for ((g, p), t) in grad[..4].iter_mut().zip(&pred[..4]).zip(target) {
        let (v, d) = f(p - t);
        total += v;
        *g = d;
    }
    total
}
