//! Trainer tests: determinism and learning on the CPU, and one step on the GPU backend
//! against the CPU.

use super::*;
#[cfg(feature = "gpu")]
use crate::train::backend_choice::BackendChoice;

fn tiny() -> (TrainConfig, ModelConfig, Arc<dyn Dataset>) {
    let mut cfg = TrainConfig {
        batch: 2,
        warmup_steps: 0,
        ..TrainConfig::default()
    };
    cfg.lab.anchors.strides = vec![8, 16, 32];
    (cfg, ModelConfig::default(), tiny_dataset())
}

/// 50 synthetic 64 x 64 scenes.
fn tiny_dataset() -> Arc<dyn Dataset> {
    let c = crate::data::SyntheticConfig {
        width: 64,
        height: 64,
        size_range: [12.0, 40.0],
        ..Default::default()
    };
    Arc::new(crate::data::SyntheticDataset::new(c, 1).with_len(50))
}

#[test]
fn steps_are_finite_deterministic_and_learn() {
    let (cfg, mc, ds) = tiny();
    let mut a = Trainer::new(cfg.clone(), &mc, ds.clone()).unwrap();
    let mut b = Trainer::new(cfg, &mc, ds).unwrap();
    let mut first = None;
    let mut last = 0.0;
    for _ in 0..15 {
        let ra = a.train_step().unwrap();
        let rb = b.train_step().unwrap();
        for (name, grad) in a.grads() {
            assert!(
                grad.data.iter().all(|g| g.is_finite()),
                "{name} has non-finite grads"
            );
        }
        assert_eq!(ra.metrics.divergence(), None, "{:?}", ra.metrics);
        assert_eq!(
            ra.metrics.loss_total, rb.metrics.loss_total,
            "deterministic"
        );
        first.get_or_insert(ra.metrics.loss_total);
        last = ra.metrics.loss_total;
    }
    assert!(last < first.unwrap(), "loss {first:?} -> {last}");
}

/// The parameters of a trainer, flattened per parameter.
#[cfg(feature = "gpu")]
fn values(t: &mut Trainer) -> Vec<(String, Vec<f32>)> {
    t.model()
        .params()
        .map(|p| (p.name.clone(), p.value.data.clone()))
        .collect()
}

/// Runs three steps on the CPU and on the GPU backend from the same start and compares the
/// losses, the gradient norm and each parameter's update (on the GPU step 0 takes the
/// hybrid path, steps 1 and 2 the fused one where the configuration allows). None when no adapter (unless
/// `ANCHORSCOPE_REQUIRE_GPU=1`, then it fails).
#[cfg(feature = "gpu")]
fn gpu_matches_cpu(cfg: TrainConfig, mc: ModelConfig) -> Option<u64> {
    let ds = tiny_dataset();
    let mut cpu = Trainer::new(cfg.clone(), &mc, ds.clone()).unwrap();
    let mut gpu = Trainer::new(cfg, &mc, ds).unwrap();
    match gpu.set_backend(BackendChoice::Gpu) {
        Ok(name) => eprintln!("gpu backend: {name}"),
        Err(e) => {
            crate::backend::gpu::skip_without_gpu(e);
            return None;
        }
    }
    let before = values(&mut cpu);
    let close = |a: f64, b: f64, what: &str| {
        assert!(
            (a - b).abs() <= (2e-3 * (a.abs() + b.abs())).max(1e-5),
            "{what}: cpu {a} vs gpu {b}"
        );
    };
    for _ in 0..3 {
        let a = cpu.train_step().unwrap().metrics;
        let fused_before = gpu.fused_steps();
        let b = gpu.train_step().unwrap().metrics;
        let fused = gpu.fused_steps() > fused_before;
        assert_eq!(a.divergence(), None);
        assert_eq!((a.num_pos, a.num_neg), (b.num_pos, b.num_neg), "counts");
        // per level: the same positives on both paths; the losses on the host path (the
        // CPU's, the GPU's hybrid steps), none on a fused step
        assert_eq!(a.levels.len(), b.levels.len());
        for (la, lb) in a.levels.iter().zip(&b.levels) {
            assert_eq!(
                (la.stride, la.num_pos),
                (lb.stride, lb.num_pos),
                "level counts"
            );
            assert!(la.loss_cls.is_some() && la.loss_reg.is_some());
            if fused {
                assert_eq!(
                    (lb.loss_cls, lb.loss_reg),
                    (None, None),
                    "fused: not measured"
                );
            } else {
                close(la.loss_cls.unwrap(), lb.loss_cls.unwrap(), "level loss_cls");
                close(la.loss_reg.unwrap(), lb.loss_reg.unwrap(), "level loss_reg");
            }
        }
        close(a.loss_cls, b.loss_cls, "loss_cls");
        close(a.loss_reg, b.loss_reg, "loss_reg");
        close(a.loss_total, b.loss_total, "loss_total");
        close(a.grad_norm, b.grad_norm, "grad_norm");
    }
    let (after_cpu, after_gpu) = (values(&mut cpu), values(&mut gpu));
    for ((name, p0), ((_, pc), (_, pg))) in before.iter().zip(after_cpu.iter().zip(&after_gpu)) {
        // Compare the updates (after - before), relative to the update's size.
        let (mut diff, mut norm) = (0.0f64, 0.0f64);
        for ((&b, &c), &g) in p0.iter().zip(pc).zip(pg) {
            let (uc, ug) = ((c - b) as f64, (g - b) as f64);
            diff += (uc - ug).powi(2);
            norm += uc.powi(2);
        }
        assert!(
            diff.sqrt() <= 5e-3 * norm.sqrt() + 1e-7,
            "{name}: update differs by {} (update norm {})",
            diff.sqrt(),
            norm.sqrt()
        );
    }
    Some(gpu.fused_steps())
}

#[cfg(feature = "gpu")]
#[test]
fn one_gpu_step_matches_the_cpu_default_config() {
    let (cfg, mc, _) = tiny();
    if let Some(fused) = gpu_matches_cpu(cfg, mc) {
        assert_eq!(fused, 2, "steps 1 and 2 take the fused path");
    }
}

#[cfg(feature = "gpu")]
#[test]
fn one_gpu_step_matches_the_cpu_balanced_pyramid_adamw_ohem() {
    let (mut cfg, mut mc, _) = tiny();
    mc.balanced_fpn = true;
    cfg.optimizer = OptimizerKind::Adamw;
    cfg.lr = 1e-3;
    cfg.sampler = crate::sample::SamplerConfig::Ohem(Default::default());
    if let Some(fused) = gpu_matches_cpu(cfg, mc) {
        assert_eq!(
            fused, 0,
            "OHEM needs the losses on the CPU: hybrid steps only"
        );
    }
}
