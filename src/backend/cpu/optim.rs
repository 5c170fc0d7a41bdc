//! Optimizer steps over flat parameter buffers: SGD with momentum and weight decay
//! (PyTorch `torch.optim.SGD` semantics) and AdamW (`torch.optim.AdamW`).

pub use crate::backend::optim_config::{AdamWConfig, SgdConfig};
use rayon::prelude::*;

const CHUNK: usize = 1 << 14;

/// One SGD step: `g' = g + wd*p; v = momentum*v + g'; p -= lr*v`. `velocity` starts at zero
/// (then the first step gives `v = g'`, as PyTorch does).
pub fn sgd_step(params: &mut [f32], grads: &[f32], velocity: &mut [f32], cfg: &SgdConfig) {
    assert!(
        params.len() == grads.len() && grads.len() == velocity.len(),
        "sgd: lengths"
    );
    let c = *cfg;
    params
        .par_chunks_mut(CHUNK)
        .zip(grads.par_chunks(CHUNK).zip(velocity.par_chunks_mut(CHUNK)))
        .for_each(|(p, (g, v))| {
            for ((p, &g), v) in p.iter_mut().zip(g).zip(v) {
                let g = g + c.weight_decay * *p;
                *v = c.momentum * *v + g;
                *p -= c.lr * *v;
            }
        });
}

/// One AdamW step; `step` counts from 1 (bias correction). `m` and `v` start at zero.
pub fn adamw_step(
    params: &mut [f32],
    grads: &[f32],
    m: &mut [f32],
    v: &mut [f32],
    step: u32,
    cfg: &AdamWConfig,
) {
    assert!(step >= 1, "adamw: step counts from 1");
    let n = params.len();
    assert!(
        grads.len() == n && m.len() == n && v.len() == n,
        "adamw: lengths"
    );
    let c = *cfg;
    let bc1 = 1.0 - (c.beta1 as f64).powi(step as i32);
    let bc2 = 1.0 - (c.beta2 as f64).powi(step as i32);
    let step_size = (c.lr as f64 / bc1) as f32;
    let bc2_sqrt = bc2.sqrt() as f32;
    let decay = 1.0 - c.lr * c.weight_decay;
    params
        .par_chunks_mut(CHUNK)
        .zip(grads.par_chunks(CHUNK))
        .zip(m.par_chunks_mut(CHUNK).zip(v.par_chunks_mut(CHUNK)))
        .for_each(|((p, g), (m, v))| {
            for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m).zip(v) {
                *p *= decay;
                *m = c.beta1 * *m + (1.0 - c.beta1) * g;
                *v = c.beta2 * *v + (1.0 - c.beta2) * g * g;
                *p -= step_size * *m / (v.sqrt() / bc2_sqrt + c.eps);
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sgd_two_steps_by_hand() {
        let cfg = SgdConfig {
            lr: 0.1,
            momentum: 0.9,
            weight_decay: 0.01,
        };
        let (mut p, mut v) = (vec![1.0f32], vec![0.0f32]);
        sgd_step(&mut p, &[0.5], &mut v, &cfg);
        // g' = 0.5 + 0.01 = 0.51, v = 0.51, p = 1 - 0.051
        assert!((p[0] - 0.949).abs() < 1e-6, "{}", p[0]);
        sgd_step(&mut p, &[0.5], &mut v, &cfg);
        // g' = 0.5 + 0.00949, v = 0.9*0.51 + 0.50949 = 0.96849, p = 0.949 - 0.096849
        assert!((v[0] - 0.96849).abs() < 1e-6);
        assert!((p[0] - 0.852151).abs() < 1e-6, "{}", p[0]);
    }

    #[test]
    fn adamw_two_steps_by_hand() {
        let cfg = AdamWConfig {
            lr: 0.1,
            weight_decay: 0.01,
            ..Default::default()
        };
        let (mut p, mut m, mut v) = (vec![1.0f32], vec![0.0f32], vec![0.0f32]);
        adamw_step(&mut p, &[0.5], &mut m, &mut v, 1, &cfg);
        // p = 0.999 - 0.1 * (0.5 / 0.5)
        assert!((p[0] - 0.899).abs() < 1e-6, "{}", p[0]);
        adamw_step(&mut p, &[-0.25], &mut m, &mut v, 2, &cfg);
        // m = 0.02, v = 3.1225e-4, m^ = 0.02/0.19, v^ = 3.1225e-4/0.001999
        // (1 - beta2) is inexact in f32 (relative error 1.3e-5), as in PyTorch
        assert!((m[0] - 0.02).abs() < 1e-7 && (v[0] / 3.1225e-4 - 1.0).abs() < 1e-4);
        assert!((p[0] - 0.871_467_4).abs() < 2e-6, "{}", p[0]);
    }

    #[test]
    fn large_buffers_match_scalar_loop() {
        let n = 50_000;
        let p0: Vec<f32> = (0..n).map(|i| (i as f32 * 0.1).sin()).collect();
        let g: Vec<f32> = (0..n).map(|i| (i as f32 * 0.3).cos()).collect();
        let cfg = SgdConfig::default();
        let (mut p, mut v) = (p0.clone(), vec![0.0; n]);
        sgd_step(&mut p, &g, &mut v, &cfg);
        let i = 12_345;
        let want = p0[i] - cfg.lr * (g[i] + cfg.weight_decay * p0[i]);
        assert!((p[i] - want).abs() < 1e-7);
    }
}
