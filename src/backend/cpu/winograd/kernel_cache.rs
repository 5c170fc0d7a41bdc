//! The kernel frequencies of the last few weights, found again by their exact contents.
//!
//! The heads' convolutions share their weights over the pyramid levels, so one training
//! step transforms the same kernel at P3 and at P4, forward and (flipped) backward. Each
//! such transform costs about as much as a sixth of a P4 forward (`winograd_phase_times`).
//! An entry is used only when the weight tensor has the same shape and the same bits as
//! the one its frequencies were computed from, so the frequencies are the ones a fresh
//! computation would give, bit for bit, whatever was cached.

use super::Tile;
use crate::backend::tensor::Tensor;
use std::sync::{Arc, Mutex};

/// Most entries kept: the heads' six convolutions (a step uses each at two levels with
/// five others in between) and a few more.
const CAPACITY: usize = 12;

/// A weight tensor's bits and its kernel frequencies.
pub(super) struct Entry {
    alpha: usize,
    coutp: usize,
    shape: [usize; 4],
    weights: Vec<f32>,
    /// The frequencies, laid out as `kernel_freqs_into` writes them.
    pub u: Vec<f32>,
}

impl Entry {
    fn holds(&self, alpha: usize, coutp: usize, w: &Tensor) -> bool {
        self.alpha == alpha
            && self.coutp == coutp
            && self.shape == w.shape
            && bytemuck::cast_slice::<f32, u8>(&self.weights)
                == bytemuck::cast_slice::<f32, u8>(&w.data)
    }
}

/// Most recently used first.
static CACHE: Mutex<Vec<Arc<Entry>>> = Mutex::new(Vec::new());

/// The frequencies of `w` for tile `T` with `coutp` padded output channels: from the cache
/// when `w` is bit for bit a tensor seen lately, else computed (in parallel) and kept.
pub(super) fn kernel_freqs<T: Tile>(w: &Tensor, coutp: usize) -> Arc<Entry> {
    let alpha = T::A;
    let mut recycled = None;
    {
        let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = cache.iter().position(|e| e.holds(alpha, coutp, w)) {
            let e = cache.remove(i);
            cache.insert(0, e.clone());
            return e;
        }
        if cache.len() >= CAPACITY {
            recycled = cache.pop().and_then(|e| Arc::try_unwrap(e).ok());
        }
    }
    // An evicted entry's buffers are reused when nobody holds it any more.
    let (mut weights, mut u) = recycled.map_or((Vec::new(), Vec::new()), |e| (e.weights, e.u));
    weights.clear();
    weights.extend_from_slice(&w.data);
    u.resize(alpha * alpha * w.shape[1] * coutp, 0.0);
    super::kernel_freqs_into::<T>(w, coutp, &mut u);
    let e = Arc::new(Entry {
        alpha,
        coutp,
        shape: w.shape,
        weights,
        u,
    });
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    cache.insert(0, e.clone());
    cache.truncate(CAPACITY);
    e
}

#[cfg(test)]
mod tests {
    use super::super::{F2, F4, padded};
    use super::*;

    fn weights(cout: usize, cin: usize, seed: u32) -> Tensor {
        let mut w = Tensor::zeros([cout, cin, 3, 3]);
        for (i, v) in w.data.iter_mut().enumerate() {
            *v = ((i as u32).wrapping_mul(2654435761).wrapping_add(seed) % 1000) as f32 / 500.0
                - 1.0;
        }
        w
    }

    fn fresh<T: Tile>(w: &Tensor, coutp: usize) -> Vec<f32> {
        super::super::kernel_freqs::<T>(w, coutp)
    }

    /// Hits, misses after a change of one weight, other tiles and shapes, evictions: the
    /// frequencies are always those of a fresh computation.
    #[test]
    fn cached_frequencies_equal_fresh_ones() {
        let a = weights(32, 16, 1);
        let mut b = a.clone();
        b.data[17] += 1e-6;
        let c = weights(20, 16, 3);
        let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        for round in 0..3 {
            for w in [&a, &b, &c, &a] {
                let cp = padded(w.shape[0]);
                assert_eq!(
                    bits(&kernel_freqs::<F4>(w, cp).u),
                    bits(&fresh::<F4>(w, cp))
                );
                assert_eq!(
                    bits(&kernel_freqs::<F2>(w, cp).u),
                    bits(&fresh::<F2>(w, cp))
                );
            }
            // Fill the cache with other kernels so the next round starts from misses.
            if round == 1 {
                for s in 0..CAPACITY as u32 + 1 {
                    let w = weights(16, 16, 100 + s);
                    assert_eq!(
                        bits(&kernel_freqs::<F4>(&w, 16).u),
                        bits(&fresh::<F4>(&w, 16))
                    );
                }
            }
        }
    }
}
