//! Properties shared by every sampler.

use super::*;
use crate::assign::MaxIouAssigner;
use proptest::prelude::*;

/// Every sampler kind with small `num` so that the caps bind.
fn configs(num: usize, pos_fraction: f32, neg_pos_ub: f32) -> Vec<SamplerConfig> {
    vec![
        SamplerConfig::None,
        SamplerConfig::Random(RandomSampler {
            num,
            pos_fraction,
            neg_pos_ub,
        }),
        SamplerConfig::HardNegative(HardNegativeSampler { neg_pos_ratio: 2.5 }),
        SamplerConfig::Ohem(OhemSampler {
            num,
            pos_fraction,
            neg_pos_ub,
        }),
        SamplerConfig::IouBalanced(IouBalancedNegSampler {
            num,
            pos_fraction,
            neg_pos_ub,
            ..Default::default()
        }),
        SamplerConfig::IouBalanced(IouBalancedNegSampler {
            num,
            pos_fraction,
            neg_pos_ub,
            floor_thr: 0.1,
            floor_fraction: 0.3,
            ..IouBalancedNegSampler::libra()
        }),
        SamplerConfig::InstanceBalanced(InstanceBalancedPosSampler {
            num,
            pos_fraction,
            neg_pos_ub,
        }),
        SamplerConfig::Pisa(PisaSampler {
            num,
            pos_fraction,
            neg_pos_ub,
            ..Default::default()
        }),
        SamplerConfig::Pisa(PisaSampler::retinanet()),
    ]
}

/// Expected (positives, negatives) picked by `cfg`.
fn expected_counts(cfg: &SamplerConfig, n_pos: usize, n_neg: usize) -> (usize, usize) {
    let capped = |num: usize, pf: f32, ub: f32| {
        let p = n_pos.min(expected_pos(num, pf));
        (p, n_neg.min(expected_neg(num, p, ub)))
    };
    match cfg {
        SamplerConfig::None => (n_pos, n_neg),
        SamplerConfig::Random(s) => capped(s.num, s.pos_fraction, s.neg_pos_ub),
        SamplerConfig::HardNegative(s) => (
            n_pos,
            n_neg.min((s.neg_pos_ratio as f64 * n_pos as f64) as usize),
        ),
        SamplerConfig::Ohem(s) => capped(s.num, s.pos_fraction, s.neg_pos_ub),
        SamplerConfig::IouBalanced(s) => capped(s.num, s.pos_fraction, s.neg_pos_ub),
        SamplerConfig::InstanceBalanced(s) => capped(s.num, s.pos_fraction, s.neg_pos_ub),
        SamplerConfig::Pisa(s) if s.dense => (n_pos, n_neg),
        SamplerConfig::Pisa(s) => capped(s.num, s.pos_fraction, s.neg_pos_ub),
    }
}

/// A scene: anchors on a grid, GTs at random, assigned by RetinaNet's MaxIoU.
fn arb_scene() -> impl Strategy<Value = (Vec<Box4>, Vec<Box4>, Vec<usize>)> {
    let gts = proptest::collection::vec(
        (
            0.0f32..90.0,
            0.0f32..90.0,
            4.0f32..40.0,
            4.0f32..40.0,
            0usize..3,
        ),
        0..6,
    );
    (4usize..14, gts).prop_map(|(side, g)| {
        let step = 100.0 / side as f32;
        let mut anchors = Vec::new();
        for y in 0..side {
            for x in 0..side {
                let (cx, cy) = (x as f32 * step, y as f32 * step);
                for s in [8.0, 16.0] {
                    anchors.push([cx - s, cy - s * 0.75, cx + s, cy + s * 0.75]);
                }
            }
        }
        let boxes = g
            .iter()
            .map(|&(x, y, w, h, _)| [x, y, x + w, y + h])
            .collect();
        let classes = g.iter().map(|t| t.4).collect();
        (anchors, boxes, classes)
    })
}

fn losses_for(n: usize, seed: u64) -> Vec<f32> {
    (0..n)
        .map(|i| ((i as u64 * 2_654_435_761 + seed * 97) % 1000) as f32 / 1000.0)
        .collect()
}

proptest! {
    #[test]
    fn picks_are_valid_counted_and_reproducible(
        (anchors, gts, classes) in arb_scene(),
        num in 1usize..300,
        pos_fraction in 0.05f32..0.95,
        neg_pos_ub in prop_oneof![Just(-1.0f32), 0.0f32..5.0],
        with_extras in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let assign = MaxIouAssigner::default().assign(&anchors, &gts);
        let n = assign.len();
        let losses = losses_for(n, seed);
        let scores: Vec<f32> = losses.iter().map(|l| 1.0 - l).collect();
        let mut ctx = SampleContext { gt_classes: &classes, seed, ..SampleContext::new(&assign, &anchors, &gts) };
        if with_extras {
            ctx.losses = Some(&losses);
            ctx.scores = Some(&scores);
        }
        for cfg in configs(num, pos_fraction, neg_pos_ub) {
            let r = cfg.sample(&ctx);
            let name = cfg.name();
            prop_assert_eq!(r.weights.len(), n);
            prop_assert!(r.pos.windows(2).all(|w| w[0] < w[1]), "{} pos not sorted/unique", name);
            prop_assert!(r.neg.windows(2).all(|w| w[0] < w[1]), "{} neg not sorted/unique", name);
            prop_assert!(r.pos.iter().all(|&i| assign.labels[i] > 0), "{} picked a non-positive", name);
            prop_assert!(r.neg.iter().all(|&i| assign.labels[i] == 0), "{} picked a non-negative", name);
            let exp = expected_counts(&cfg, assign.num_pos(), assign.num_neg());
            prop_assert_eq!((r.num_pos(), r.num_neg()), exp, "{}", name);
            for (i, &w) in r.weights.iter().enumerate() {
                let picked = r.pos.binary_search(&i).is_ok() || r.neg.binary_search(&i).is_ok();
                prop_assert!(w.is_finite() && w >= 0.0);
                prop_assert_eq!(picked, w > 0.0, "{} weight {} at {}", name, w, i);
                if assign.labels[i] < 0 {
                    prop_assert_eq!(w, 0.0);
                }
            }
            prop_assert_eq!(cfg.sample(&ctx), r, "{} not reproducible", name);
        }
    }
}

#[test]
fn different_seeds_differ() {
    // 200 positives and 2000 negatives: far more candidates than slots
    let mut labels = vec![0; 2200];
    for (i, l) in labels.iter_mut().take(200).enumerate() {
        *l = 1 + (i % 4) as i32;
    }
    let ious: Vec<f32> = (0..2200)
        .map(|i| {
            if i < 200 {
                0.7
            } else {
                (i % 40) as f32 / 100.0
            }
        })
        .collect();
    let assign = AssignResult::from_labels(labels, ious);
    let anchors: Vec<Box4> = (0..2200)
        .map(|i| [i as f32, 0.0, i as f32 + 5.0, 5.0])
        .collect();
    let gts = [[0.0, 0.0, 5.0, 5.0]; 4];
    let samplers = [
        SamplerConfig::Random(RandomSampler::default()),
        SamplerConfig::IouBalanced(IouBalancedNegSampler::libra()),
        SamplerConfig::InstanceBalanced(InstanceBalancedPosSampler::default()),
        SamplerConfig::Pisa(PisaSampler::default()),
        SamplerConfig::Ohem(OhemSampler::default()),
    ];
    for cfg in samplers {
        let a = cfg.sample(&SampleContext {
            seed: 1,
            ..SampleContext::new(&assign, &anchors, &gts)
        });
        let b = cfg.sample(&SampleContext {
            seed: 2,
            ..SampleContext::new(&assign, &anchors, &gts)
        });
        assert_ne!(a, b, "{}", cfg.name());
        assert_eq!(a.num_pos() + a.num_neg(), b.num_pos() + b.num_neg());
    }
}

#[test]
fn none_keeps_every_non_ignored_anchor() {
    let assign = AssignResult::from_labels(vec![1, 0, -1, 2, 0], vec![0.6, 0.1, 0.45, 0.7, 0.0]);
    let anchors = vec![[0.0; 4]; 5];
    let r = SamplerConfig::default().sample(&SampleContext::new(&assign, &anchors, &[]));
    assert_eq!((r.pos, r.neg), (vec![0, 3], vec![1, 4]));
    assert_eq!(r.weights, vec![1.0, 1.0, 0.0, 1.0, 1.0]);
}

#[test]
fn config_serde_round_trip() {
    for cfg in configs(64, 0.25, 3.0) {
        let s = serde_json::to_string(&cfg).unwrap();
        let back: SamplerConfig = serde_json::from_str(&s).unwrap();
        assert_eq!(back, cfg, "{s}");
    }
    let c: SamplerConfig = serde_json::from_str(r#"{"kind":"none"}"#).unwrap();
    assert_eq!(c, SamplerConfig::None);
    let c: SamplerConfig = serde_json::from_str(r#"{"kind":"random","num":128}"#).unwrap();
    assert_eq!(
        c,
        SamplerConfig::Random(RandomSampler {
            num: 128,
            ..Default::default()
        })
    );
    let c: SamplerConfig = serde_json::from_str(r#"{"kind":"pisa","hlr":{"k":1.0}}"#).unwrap();
    let SamplerConfig::Pisa(p) = c else {
        panic!("expected pisa")
    };
    assert_eq!((p.hlr.k, p.hlr.score_thr, p.num), (1.0, 0.05, 512));
}
