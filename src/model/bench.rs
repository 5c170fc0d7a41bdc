//! Timing of one forward + backward of the detector (batch 8 at 256x256 by default), for
//! `anchorscope bench` and for tuning. The full PyTorch step of
//! `tests/reference/torch_reference.py --threads 2` (forward, backward and SGD) took about
//! 80-85 ms on the 2-core machine the project is developed on.

use super::{HeadOutputs, Model, ModelConfig};
use crate::backend::tensor::Tensor;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

/// Milliseconds of one training step's model passes (best of the repetitions).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepTiming {
    /// Forward, best of the repetitions.
    pub forward_ms: f64,
    /// Backward (including `zero_grad`), best of the repetitions.
    pub backward_ms: f64,
    /// Best forward + backward of one repetition.
    pub total_ms: f64,
}

/// Times forward and backward of a model built from `config` on a random batch of `batch`
/// images of `size x size` (one warm-up pass, then the best of `reps`), with output
/// gradients of ones scaled by 1e-3.
pub fn bench_step(config: &ModelConfig, batch: usize, size: usize, reps: usize) -> StepTiming {
    let mut model = Model::new(config, 0).expect("valid model config");
    let rng = &mut ChaCha8Rng::seed_from_u64(1);
    let x = Tensor::randn([batch, config.in_channels, size, size], 1.0, rng);
    let mut out = HeadOutputs::default();
    let mut grads = HeadOutputs::default();
    let mut best = StepTiming {
        forward_ms: f64::INFINITY,
        backward_ms: f64::INFINITY,
        total_ms: f64::INFINITY,
    };
    for rep in 0..=reps.max(1) {
        let t0 = Instant::now();
        model.forward_into(&x, &mut out);
        let t1 = Instant::now();
        if rep == 0 {
            grads = out.zeros_like();
            for t in grads.cls.iter_mut().chain(&mut grads.reg) {
                t.data.fill(1e-3);
            }
        }
        model.zero_grad();
        model.backward(&grads);
        let t2 = Instant::now();
        if rep > 0 {
            let (f, b) = ((t1 - t0).as_secs_f64() * 1e3, (t2 - t1).as_secs_f64() * 1e3);
            best.forward_ms = best.forward_ms.min(f);
            best.backward_ms = best.backward_ms.min(b);
            best.total_ms = best.total_ms.min(f + b);
        }
    }
    best
}
