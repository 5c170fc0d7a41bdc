//! Elementwise ops: ReLU, add, scaled add, each with its backward.

use crate::backend::tensor::Tensor;
use rayon::prelude::*;

/// Elements per rayon task: large enough that scheduling costs little.
const CHUNK: usize = 1 << 15;

/// `y = max(x, 0)`.
pub fn relu_forward(x: &Tensor) -> Tensor {
    let mut y = x.clone();
    relu_inplace(&mut y.data);
    y
}

/// `x = 0` in parallel (the backward pass zeroes its gradient buffers once a step:
/// `Tensor::zero_` on the calling thread was 1% of a step's samples while the other core
/// waited).
pub fn zero_inplace(x: &mut [f32]) {
    x.par_chunks_mut(CHUNK).for_each(|c| c.fill(0.0));
}

/// `x = max(x, 0)` in place.
pub fn relu_inplace(x: &mut [f32]) {
    x.par_chunks_mut(CHUNK)
        .for_each(|c| c.iter_mut().for_each(|v| *v = v.max(0.0)));
}

/// Backward of an in-place ReLU, in place: `dy = 0` where the output `y <= 0`.
/// ([`relu_backward`] accumulates into a third buffer; masking in place saves
/// a buffer and a zeroing pass.)
pub fn relu_mask_inplace(y: &[f32], dy: &mut [f32]) {
    assert_eq!(y.len(), dy.len(), "relu_mask_inplace: lengths");
    dy.par_chunks_mut(CHUNK)
        .zip(y.par_chunks(CHUNK))
        .for_each(|(d, y)| {
            // A select rather than a conditional store: this vectorises.
            for (d, &y) in d.iter_mut().zip(y) {
                *d = if y > 0.0 { *d } else { 0.0 };
            }
        });
}

/// ReLU backward from the OUTPUT `y` (so in-place ReLU works): `dx += dy` where `y > 0`.
pub fn relu_backward(y: &[f32], dy: &[f32], dx: &mut [f32]) {
    assert!(
        y.len() == dy.len() && dy.len() == dx.len(),
        "relu_backward: lengths"
    );
    dx.par_chunks_mut(CHUNK)
        .zip(y.par_chunks(CHUNK).zip(dy.par_chunks(CHUNK)))
        .for_each(|(dx, (y, dy))| {
            for ((d, &y), &g) in dx.iter_mut().zip(y).zip(dy) {
                if y > 0.0 {
                    *d += g;
                }
            }
        });
}

/// `y = a + b` (same shapes). Backward: `da += dy` and `db += dy`, see [`accumulate`].
pub fn add_forward(a: &Tensor, b: &Tensor) -> Tensor {
    assert_eq!(a.shape, b.shape, "add: shapes differ");
    let mut y = a.clone();
    accumulate(&mut y.data, &b.data);
    y
}

/// `dst += src`: the backward of add (and of any identity branch).
pub fn accumulate(dst: &mut [f32], src: &[f32]) {
    add_scaled(dst, src, 1.0);
}

/// `dst += alpha * src` (averaging levels in the balanced pyramid; its own backward with `dy`).
pub fn add_scaled(dst: &mut [f32], src: &[f32], alpha: f32) {
    assert_eq!(dst.len(), src.len(), "add_scaled: lengths");
    dst.par_chunks_mut(CHUNK)
        .zip(src.par_chunks(CHUNK))
        .for_each(|(d, s)| {
            for (d, &s) in d.iter_mut().zip(s) {
                *d += alpha * s;
            }
        });
}

/// `x *= alpha` in place.
pub fn scale_inplace(x: &mut [f32], alpha: f32) {
    x.par_chunks_mut(CHUNK)
        .for_each(|c| c.iter_mut().for_each(|v| *v *= alpha));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::cpu::test_support::{check_grad, dot, rand_tensor};

    #[test]
    fn relu_gradient() {
        let mut x = rand_tensor([2, 3, 5, 5], 1);
        // keep inputs away from the kink at 0
        x.data.iter_mut().for_each(|v| {
            if v.abs() < 0.05 {
                *v += 0.1
            }
        });
        let r = rand_tensor(x.shape, 2);
        let y = relu_forward(&x);
        let mut dx = vec![0.0; x.len()];
        relu_backward(&y.data, &r.data, &mut dx);
        check_grad("relu", &x.data, &dx, 1e-2, 1e-3, |v| {
            dot(
                &relu_forward(&Tensor::from_vec(x.shape, v.to_vec())).data,
                &r.data,
            )
        });
        assert!(y.data.iter().all(|&v| v >= 0.0));
    }

    #[test]
    fn add_and_scaled_add() {
        let a = rand_tensor([2, 3, 4, 4], 3);
        let b = rand_tensor([2, 3, 4, 4], 4);
        let y = add_forward(&a, &b);
        assert_eq!(y.data[7], a.data[7] + b.data[7]);
        let r = rand_tensor(a.shape, 5);
        let mut da = vec![0.0; a.len()];
        accumulate(&mut da, &r.data);
        check_grad("add", &a.data, &da, 1e-2, 1e-3, |v| {
            dot(
                &add_forward(&Tensor::from_vec(a.shape, v.to_vec()), &b).data,
                &r.data,
            )
        });
        let mut z = a.data.clone();
        add_scaled(&mut z, &b.data, 0.5);
        scale_inplace(&mut z, 2.0);
        assert!((z[3] - (2.0 * a.data[3] + b.data[3])).abs() < 1e-6);
    }
}
