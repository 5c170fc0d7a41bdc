use super::*;
use crate::anchors::AnchorConfig;
use crate::losses::regression::RegLoss;
use crate::losses::weighting::Normalizer;
use crate::sample::{OhemSampler, SamplerConfig};

const GTS: [Box4; 2] = [[6.0, 6.0, 26.0, 24.0], [20.0, 14.0, 38.0, 36.0]];
const CLASSES: [usize; 2] = [0, 1];

/// 5 x 5 cells x 9 anchors (sizes 16 to 25) on a 40 x 40 image, 2 classes.
fn setup(reg_loss: RegLoss) -> (Anchors, TrainConfig) {
    let mut cfg = TrainConfig {
        reg_loss,
        num_classes: 2,
        ..TrainConfig::default()
    };
    cfg.lab.anchors = AnchorConfig {
        strides: vec![8],
        octave_base_scale: 2.0,
        ..AnchorConfig::default()
    };
    (cfg.lab.anchors.generate(40, 40), cfg)
}

/// Deterministic pseudo-random numbers in `[lo, hi)`.
fn noise(n: usize, seed: u64, lo: f32, hi: f32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            lo + (hi - lo) * ((s >> 40) as f32 / (1u64 << 24) as f32)
        })
        .collect()
}

fn gt() -> ImageGt<'static> {
    ImageGt {
        boxes: &GTS,
        classes: &CLASSES,
        ignore: &[],
    }
}

fn run(anchors: &Anchors, cfg: &TrainConfig, logits: &[f32], deltas: &[f32]) -> ObjectiveOutput {
    let mut state = ObjectiveState::new(cfg);
    image_objective(anchors, gt(), logits, deltas, cfg, &mut state, 0).unwrap()
}

/// Central differences of the total w.r.t. a few logits and the deltas of a few positives.
fn check_fd(reg_loss: RegLoss) {
    let (anchors, cfg) = setup(reg_loss);
    let n = anchors.len();
    let logits = noise(n * 2, 1, -4.0, 1.0);
    let deltas = noise(n * 4, 2, -0.3, 0.3);
    let base = run(&anchors, &cfg, &logits, &deltas);
    assert!(
        base.num_pos >= 2 && base.loss_reg > 0.0,
        "{} positives",
        base.num_pos
    );
    let assign = cfg.lab.assigner.assign(&anchors, &GTS);
    let pos = assign.positives();
    let neg = assign.negatives();
    let picks = [
        pos[0] * 2,
        pos[0] * 2 + 1,
        pos[pos.len() - 1] * 2,
        neg[0] * 2,
        neg[neg.len() / 2] * 2 + 1,
    ];
    // small steps for the deltas: GIoU has kinks where a box edge crosses a GT edge
    let fd = |x: &[f32], i: usize, h: f32, f: &dyn Fn(&[f32]) -> f64| {
        let (mut p, mut m) = (x.to_vec(), x.to_vec());
        p[i] += h;
        m[i] -= h;
        (f(&p) - f(&m)) / (p[i] as f64 - m[i] as f64)
    };
    for &i in &picks {
        let num = fd(&logits, i, 1e-2, &|l| run(&anchors, &cfg, l, &deltas).total);
        let g = base.grad_logits[i] as f64;
        assert!(
            (num - g).abs() <= 1e-3 * (1e-2 + num.abs()) + 1e-6,
            "logit {i}: fd {num} vs {g}"
        );
    }
    let mut checked = 0;
    for &a in [pos[0], pos[1], pos[pos.len() - 1]].iter() {
        for k in 0..4 {
            let i = a * 4 + k;
            let num = fd(&deltas, i, 1e-3, &|d| run(&anchors, &cfg, &logits, d).total);
            let g = base.grad_deltas[i] as f64;
            assert!(
                (num - g).abs() <= 2e-3 * (1e-2 + num.abs()) + 1e-5,
                "delta {i}: fd {num} vs {g}"
            );
            checked += usize::from(g != 0.0);
        }
    }
    assert!(checked >= 8, "too many zero delta gradients");
    // negatives get no box gradient
    assert!(
        neg.iter()
            .all(|&a| base.grad_deltas[a * 4..a * 4 + 4].iter().all(|&g| g == 0.0))
    );
}

#[test]
fn finite_differences_focal_smooth_l1() {
    check_fd(RegLoss::SmoothL1 { beta: 1.0 / 9.0 });
}

#[test]
fn finite_differences_focal_giou() {
    check_fd(RegLoss::Giou { eps: 1e-7 });
}

#[test]
fn batch_sums_images_in_order_and_is_deterministic() {
    let (anchors, cfg) = setup(RegLoss::L1);
    let n = anchors.len();
    let logits = noise(2 * n * 2, 3, -5.0, 2.0);
    let deltas = noise(2 * n * 4, 4, -0.5, 0.5);
    let gts = [
        gt(),
        ImageGt {
            boxes: &GTS[..1],
            classes: &CLASSES[..1],
            ignore: &[],
        },
    ];
    let mut state = ObjectiveState::new(&cfg);
    let b = batch_objective(&anchors, &gts, &logits, &deltas, &cfg, &mut state, 9).unwrap();
    let b2 = batch_objective(&anchors, &gts, &logits, &deltas, &cfg, &mut state, 9).unwrap();
    assert_eq!(b, b2);
    let mut sum_cls = 0.0;
    let mut sum_reg = 0.0;
    let mut num_pos = 0;
    for (i, g) in gts.iter().enumerate() {
        let o = image_objective(
            &anchors,
            *g,
            &logits[i * n * 2..(i + 1) * n * 2],
            &deltas[i * n * 4..(i + 1) * n * 4],
            &cfg,
            &mut ObjectiveState::new(&cfg),
            image_seed(9, i),
        )
        .unwrap();
        sum_cls += o.loss_cls * o.divisor;
        sum_reg += o.loss_reg * o.divisor;
        num_pos += o.num_pos;
    }
    assert_eq!(b.num_pos, num_pos);
    assert!((b.loss_cls - sum_cls / num_pos as f64).abs() < 1e-9);
    assert!((b.loss_reg - sum_reg / num_pos as f64).abs() < 1e-9);
    assert!((b.cls_loss_pos + b.cls_loss_neg - b.loss_cls).abs() < 1e-12);
    assert_eq!(b.p_t_pos.len(), num_pos);
    assert!(b.share_pos() > 0.0 && b.share_pos() < 1.0);
}

#[test]
fn ce_negatives_dominate_focal_positives_share() {
    // untrained head at the prior: negatives carry the CE loss, focal shifts it to positives
    let (_, mut cfg) = setup(RegLoss::L1);
    cfg.lab.anchors = AnchorConfig::default();
    let anchors = cfg.lab.anchors.generate(256, 256);
    let n = anchors.len();
    let logits = vec![-4.59512f32; n * 2];
    let deltas = vec![0.0f32; n * 4];
    let focal = run(&anchors, &cfg, &logits, &deltas);
    cfg.cls_loss = ClsLoss::Ce;
    let ce = run(&anchors, &cfg, &logits, &deltas);
    assert!(
        ce.share_pos() < 0.5 && focal.share_pos() > 0.5,
        "{} {}",
        ce.share_pos(),
        focal.share_pos()
    );
}

#[test]
fn samplers_ghm_ema_and_soft_targets_run() {
    let (anchors, mut cfg) = setup(RegLoss::Ciou {
        eps: 1e-7,
        gated: false,
    });
    let n = anchors.len();
    let logits = noise(n * 2, 5, -4.0, 1.0);
    let deltas = noise(n * 4, 6, -0.3, 0.3);
    cfg.sampler = SamplerConfig::Ohem(OhemSampler {
        num: 32,
        pos_fraction: 0.25,
        neg_pos_ub: -1.0,
    });
    let o = run(&anchors, &cfg, &logits, &deltas);
    assert!(o.num_pos + o.num_neg_used <= 32 && o.num_neg_used > 0);
    let nonzero_rows = (0..n)
        .filter(|&a| o.grad_logits[a * 2..a * 2 + 2].iter().any(|&g| g != 0.0))
        .count();
    assert_eq!(nonzero_rows, o.num_pos + o.num_neg_used);
    cfg.sampler = SamplerConfig::Pisa(crate::sample::PisaSampler::retinanet());
    cfg.cls_loss = ClsLoss::GhmC {
        bins: 10,
        momentum: 0.75,
    };
    cfg.normalizer = Normalizer::ema_default();
    let mut state = ObjectiveState::new(&cfg);
    let o = image_objective(&anchors, gt(), &logits, &deltas, &cfg, &mut state, 0).unwrap();
    assert!(o.total.is_finite() && o.loss_cls > 0.0);
    assert!(!state.cls.ghm_c.acc_sum.is_empty() && state.normalizer.steps == 1);
    cfg.cls_loss = ClsLoss::Qfl { beta: 2.0 };
    let o = run(&anchors, &cfg, &logits, &deltas);
    assert!(o.total.is_finite() && o.pred_iou_pos.len() == o.num_pos);
}

#[test]
fn non_finite_inputs_name_the_component() {
    let (anchors, cfg) = setup(RegLoss::L1);
    let n = anchors.len();
    let mut logits = vec![-2.0f32; n * 2];
    let mut deltas = vec![0.0f32; n * 4];
    logits[5] = f32::NAN;
    let o = run(&anchors, &cfg, &logits, &deltas);
    assert!(o.loss_cls.is_nan() && o.loss_reg == 0.0 && o.grad_logits.iter().all(|&g| g == 0.0));
    logits[5] = 0.0;
    deltas[3] = f32::INFINITY;
    let o = run(&anchors, &cfg, &logits, &deltas);
    assert!(o.loss_reg.is_nan() && o.loss_cls == 0.0);
    let bad = ImageGt {
        boxes: &GTS,
        classes: &[0, 2],
        ignore: &[],
    };
    let e = image_objective(
        &anchors,
        bad,
        &logits,
        &deltas,
        &cfg,
        &mut ObjectiveState::new(&cfg),
        0,
    );
    assert!(e.unwrap_err().contains("class 2"));
}
