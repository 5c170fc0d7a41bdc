//! Global gradient L2 norm and clipping by it, over many flat buffers.

use rayon::prelude::*;

const CHUNK: usize = 1 << 14;

/// Sum of squares of one buffer in f64, chunked in a fixed way (deterministic).
fn sum_sq(x: &[f32]) -> f64 {
    let parts: Vec<f64> = x
        .par_chunks(CHUNK)
        .map(|c| c.iter().map(|&v| v as f64 * v as f64).sum())
        .collect();
    parts.iter().sum()
}

/// Global L2 norm of all gradient buffers together (accumulated in f64).
pub fn grad_norm(grads: &[&[f32]]) -> f32 {
    grads.iter().map(|g| sum_sq(g)).sum::<f64>().sqrt() as f32
}

/// Scales all buffers so their global L2 norm is at most `max_norm` (PyTorch
/// `clip_grad_norm_`: factor `max_norm / (norm + 1e-6)` when below 1). Returns the norm
/// before clipping; a non-finite norm leaves the buffers untouched.
pub fn clip_grad_norm(grads: &mut [&mut [f32]], max_norm: f32) -> f32 {
    let norm = grads.iter().map(|g| sum_sq(g)).sum::<f64>().sqrt();
    let coef = max_norm as f64 / (norm + 1e-6);
    if norm.is_finite() && coef < 1.0 {
        for g in grads.iter_mut() {
            super::elementwise::scale_inplace(g, coef as f32);
        }
    }
    norm as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::cpu::test_support::check_grad;

    #[test]
    fn norm_and_clip() {
        let a = vec![3.0f32, 0.0];
        let b = vec![4.0f32; 1];
        assert_eq!(grad_norm(&[&a, &b]), 5.0);
        let (mut a2, mut b2) = (a.clone(), b.clone());
        let n = clip_grad_norm(&mut [&mut a2, &mut b2], 1.0);
        assert_eq!(n, 5.0);
        assert!((a2[0] - 0.6).abs() < 1e-6 && (b2[0] - 0.8).abs() < 1e-6);
        // no change below the threshold
        let (mut a3, mut b3) = (a.clone(), b.clone());
        clip_grad_norm(&mut [&mut a3, &mut b3], 10.0);
        assert_eq!((a3, b3), (a, b));
    }

    #[test]
    fn norm_gradient_is_x_over_norm() {
        let x: Vec<f32> = (0..20).map(|i| (i as f32 * 0.37).sin()).collect();
        let n = grad_norm(&[&x]);
        let g: Vec<f32> = x.iter().map(|v| v / n).collect();
        check_grad("norm", &x, &g, 1e-3, 2e-3, |v| grad_norm(&[v]) as f64);
    }

    #[test]
    fn big_buffer_deterministic() {
        let x: Vec<f32> = (0..100_003)
            .map(|i| ((i * 7919) % 1000) as f32 * 1e-3)
            .collect();
        assert_eq!(grad_norm(&[&x]).to_bits(), grad_norm(&[&x]).to_bits());
    }
}
