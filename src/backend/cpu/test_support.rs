//! Test helpers: seeded random tensors and central finite differences.

use crate::backend::tensor::Tensor;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// A seeded random tensor with standard deviation 1.
pub fn rand_tensor(shape: [usize; 4], seed: u64) -> Tensor {
    Tensor::randn(shape, 1.0, &mut ChaCha8Rng::seed_from_u64(seed))
}

/// `sum(a * b)` in f64: the scalar "loss" whose gradient with respect to `a` is `b`.
pub fn dot(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(&x, &y)| x as f64 * y as f64).sum()
}

/// Checks `analytic` against central differences of `loss` at `x`, every coordinate.
/// `|num - ana| <= tol * max(1, |num|)`.
pub fn check_grad(
    name: &str,
    x: &[f32],
    analytic: &[f32],
    h: f32,
    tol: f64,
    loss: impl Fn(&[f32]) -> f64,
) {
    assert_eq!(x.len(), analytic.len(), "{name}: gradient length");
    let mut xp = x.to_vec();
    let mut worst = 0.0f64;
    for i in 0..x.len() {
        xp[i] = x[i] + h;
        let lp = loss(&xp);
        xp[i] = x[i] - h;
        let lm = loss(&xp);
        xp[i] = x[i];
        let num = (lp - lm) / (2.0 * h as f64);
        let ana = analytic[i] as f64;
        let err = (num - ana).abs() / num.abs().max(1.0);
        worst = worst.max(err);
        assert!(
            err <= tol,
            "{name}[{i}]: finite difference {num} vs analytic {ana}"
        );
    }
    assert!(worst.is_finite(), "{name}: non-finite");
}
