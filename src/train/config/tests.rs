use super::*;
use crate::sample::OhemSampler;

#[test]
fn toml_round_trip_default_and_custom() {
    let mut custom = TrainConfig {
        sampler: SamplerConfig::Ohem(OhemSampler::default()),
        cls_loss: ClsLoss::GhmC {
            bins: 30,
            momentum: 0.75,
        },
        reg_loss: RegLoss::Giou { eps: 1e-7 },
        normalizer: Normalizer::ema_default(),
        optimizer: OptimizerKind::Adamw,
        schedule: LrSchedule::Step {
            milestones: vec![10, 20],
            gamma: 0.5,
        },
        ..TrainConfig::default()
    };
    custom.lab.seed = 7;
    for cfg in [TrainConfig::default(), custom] {
        let text = cfg.to_toml().unwrap();
        let back = TrainConfig::from_toml(&text, "x.toml").unwrap();
        assert_eq!(back, cfg, "{text}");
    }
}

#[test]
fn partial_toml_and_errors() {
    let cfg = TrainConfig::from_toml(
        "lr = 0.02\noptimizer = \"adamw\"\n[cls_loss]\nname = \"focal\"\ngamma = 1.0\n",
        "a.toml",
    )
    .unwrap();
    assert_eq!(cfg.lr, 0.02);
    assert_eq!(cfg.optimizer, OptimizerKind::Adamw);
    assert_eq!(
        cfg.cls_loss,
        ClsLoss::Focal {
            alpha: 0.25,
            gamma: 1.0
        }
    );
    assert_eq!(cfg.batch, 8);
    let e = TrainConfig::from_toml("lrr = 1.0\n", "b.toml").unwrap_err();
    assert!(e.starts_with("b.toml: line 1") && e.contains("lrr"), "{e}");
    let e = TrainConfig::from_toml("batch = 0\n", "c.toml").unwrap_err();
    assert_eq!(e, "c.toml: batch must be >= 1");
    let e = TrainConfig::from_toml("[reg_loss]\nname = \"kl\"\n", "d.toml").unwrap_err();
    assert!(e.contains("kl"), "{e}");
}

#[test]
fn learning_rate_schedule() {
    let cfg = TrainConfig {
        lr: 0.1,
        warmup_steps: 10,
        warmup_factor: 0.1,
        steps: 110,
        schedule: LrSchedule::Cosine { final_factor: 0.0 },
        ..TrainConfig::default()
    };
    assert!((cfg.lr_at(0) - 0.01).abs() < 1e-12);
    assert!((cfg.lr_at(5) - 0.055).abs() < 1e-12);
    assert!((cfg.lr_at(10) - 0.1).abs() < 1e-12);
    assert!((cfg.lr_at(60) - 0.05).abs() < 1e-12);
    assert!(cfg.lr_at(110).abs() < 1e-12);
    let step = TrainConfig {
        warmup_steps: 0,
        schedule: LrSchedule::Step {
            milestones: vec![5, 8],
            gamma: 0.1,
        },
        ..cfg.clone()
    };
    assert!((step.lr_at(4) - 0.1).abs() < 1e-12);
    assert!((step.lr_at(5) - 0.01).abs() < 1e-12);
    assert!((step.lr_at(9) - 0.001).abs() < 1e-12);
    let constant = TrainConfig {
        schedule: LrSchedule::Constant,
        ..cfg
    };
    assert_eq!(constant.lr_at(100), 0.1);
}
