//! A plain 4-D tensor of `f32` in NCHW layout, shared by the backends.

use rand::Rng;
use rand_distr::{Distribution, Normal};

/// A dense `f32` tensor of shape `[N, C, H, W]`, stored row-major (NCHW).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Tensor {
    /// `[N, C, H, W]`: batch, channels, height, width.
    pub shape: [usize; 4],
    /// The values, `N * C * H * W` of them, `W` fastest.
    pub data: Vec<f32>,
}

impl Tensor {
    /// A tensor of zeros.
    pub fn zeros(shape: [usize; 4]) -> Self {
        Self {
            shape,
            data: vec![0.0; shape.iter().product()],
        }
    }

    /// A tensor holding `data`; panics when the length does not match the shape.
    pub fn from_vec(shape: [usize; 4], data: Vec<f32>) -> Self {
        assert_eq!(
            data.len(),
            shape.iter().product::<usize>(),
            "tensor data length does not match shape {shape:?}"
        );
        Self { shape, data }
    }

    /// A tensor of independent normal samples with mean 0 and standard deviation `std`.
    pub fn randn(shape: [usize; 4], std: f32, rng: &mut impl Rng) -> Self {
        let normal = Normal::new(0.0f32, std).expect("finite, non-negative std");
        let data = (0..shape.iter().product::<usize>())
            .map(|_| normal.sample(rng))
            .collect();
        Self { shape, data }
    }

    /// Batch size `N`.
    pub fn n(&self) -> usize {
        self.shape[0]
    }

    /// Channels `C`.
    pub fn c(&self) -> usize {
        self.shape[1]
    }

    /// Height `H`.
    pub fn h(&self) -> usize {
        self.shape[2]
    }

    /// Width `W`.
    pub fn w(&self) -> usize {
        self.shape[3]
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when the tensor holds no elements.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Elements per image (`C * H * W`).
    pub fn image_len(&self) -> usize {
        self.shape[1] * self.shape[2] * self.shape[3]
    }

    /// The `C * H * W` values of image `n`.
    pub fn image(&self, n: usize) -> &[f32] {
        let l = self.image_len();
        &self.data[n * l..(n + 1) * l]
    }

    /// The `C * H * W` values of image `n`, mutable.
    pub fn image_mut(&mut self, n: usize) -> &mut [f32] {
        let l = self.image_len();
        &mut self.data[n * l..(n + 1) * l]
    }

    /// Sets every element to zero (gradients accumulate; zeroing is explicit).
    pub fn zero_(&mut self) {
        self.data.fill(0.0);
    }

    /// Resizes to `shape` (contents unspecified afterwards, but reused memory).
    pub fn reshape_for(&mut self, shape: [usize; 4]) {
        self.shape = shape;
        self.data.resize(shape.iter().product(), 0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn shape_helpers() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let mut t = Tensor::randn([2, 3, 4, 5], 1.0, &mut rng);
        assert_eq!(t.len(), 120);
        assert_eq!(t.image_len(), 60);
        assert_eq!(t.image(1)[0], t.data[60]);
        t.zero_();
        assert!(t.data.iter().all(|&v| v == 0.0));
        assert_eq!(Tensor::zeros([1, 1, 2, 2]).data.len(), 4);
    }
}
