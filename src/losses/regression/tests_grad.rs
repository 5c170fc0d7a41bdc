//! Analytical gradients against central finite differences on seeded random inputs.
//!
//! Samples within `KINK` of a non-differentiable point are skipped (|d| = 0 or beta, edges
//! that coincide, an intersection that just closes, ratio cross-overs, IoU = 0.5 when gated).

use super::iou_family::ciou_with_alpha;
use super::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const H: f64 = 1e-6;
const KINK: f64 = 1e-4;
const SAMPLES: usize = 3000;

/// Central difference of `f` in every coordinate of `x`.
fn numeric(x: &[f64], f: impl Fn(&[f64]) -> f64) -> Vec<f64> {
    (0..x.len())
        .map(|k| {
            let (mut hi, mut lo) = (x.to_vec(), x.to_vec());
            hi[k] += H;
            lo[k] -= H;
            (f(&hi) - f(&lo)) / (2.0 * H)
        })
        .collect()
}

fn assert_grad_close(what: &str, x: &[f64], t: &[f64; 4], analytic: &[f64], num: &[f64]) {
    for (k, (a, n)) in analytic.iter().zip(num).enumerate() {
        let tol = 1e-6 + 1e-5 * a.abs().max(n.abs());
        assert!(
            (a - n).abs() <= tol,
            "{what}: d/dx{k} analytic {a} vs numeric {n}, pred {x:?}, target {t:?}"
        );
    }
}

fn random_box(rng: &mut ChaCha8Rng) -> [f64; 4] {
    let x = rng.random_range(0.0..10.0);
    let y = rng.random_range(0.0..10.0);
    let w = rng.random_range(0.3..6.0);
    let h = rng.random_range(0.3..6.0);
    [x, y, x + w, y + h]
}

/// True when an IoU-family pair is near a kink of intersection or enclosing box.
fn near_box_kink(p: &[f64; 4], t: &[f64; 4]) -> bool {
    let iw = p[2].min(t[2]) - p[0].max(t[0]);
    let ih = p[3].min(t[3]) - p[1].max(t[1]);
    (0..4).any(|k| (p[k] - t[k]).abs() < KINK) || iw.abs() < KINK || ih.abs() < KINK
}

/// True when a bounded-IoU pair is near one of that loss's kinks.
fn near_bounded_kink(p: &[f64; 4], t: &[f64; 4], beta: f64, eps: f64) -> bool {
    let mut comps = Vec::new();
    for (a, b) in [(0, 2), (1, 3)] {
        let d = 0.5 * (t[a] + t[b]) - 0.5 * (p[a] + p[b]);
        let (st, sp) = (t[b] - t[a], p[b] - p[a]);
        let f = (st - 2.0 * d.abs()) / (st + 2.0 * d.abs() + eps);
        let (r1, r2) = (st / (sp + eps), sp / (st + eps));
        if d.abs() < KINK || f.abs() < KINK || (r1 - r2).abs() < KINK {
            return true;
        }
        comps.push(1.0 - f.max(0.0));
        comps.push(1.0 - r1.min(r2));
    }
    comps.iter().any(|l| (l - beta).abs() < KINK)
}

/// Elementwise losses (and KL's coordinates) on 4 random differences in [-3, 3].
#[test]
fn elementwise_gradients_match_finite_differences() {
    let losses = [
        RegLoss::L1,
        RegLoss::L2,
        RegLoss::SmoothL1 { beta: 1.0 },
        RegLoss::SmoothL1 { beta: 0.1 },
        RegLoss::SmoothL1 { beta: 0.0 },
        RegLoss::BalancedL1 {
            alpha: 0.5,
            gamma: 1.5,
            beta: 1.0,
        },
        RegLoss::BalancedL1 {
            alpha: 1.0,
            gamma: 1.0,
            beta: 0.5,
        },
    ];
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for loss in losses {
        let beta = match loss {
            RegLoss::SmoothL1 { beta } | RegLoss::BalancedL1 { beta, .. } => beta,
            _ => 0.0,
        };
        let mut checked = 0;
        for _ in 0..SAMPLES {
            let t: [f64; 4] = std::array::from_fn(|_| rng.random_range(-5.0..5.0));
            let p: Vec<f64> = t.iter().map(|x| x + rng.random_range(-3.0..3.0)).collect();
            if p.iter().zip(&t).any(|(a, b)| {
                let d = (a - b).abs();
                d < KINK || (d - beta).abs() < KINK
            }) {
                continue;
            }
            let (_, g) = loss.eval_one(&p, &t);
            let n = numeric(&p, |x| loss.eval_one(x, &t).0);
            assert_grad_close(loss.name(), &p, &t, &g, &n);
            checked += 1;
        }
        assert!(
            checked > SAMPLES * 9 / 10,
            "{loss:?}: only {checked} checked"
        );
    }
}

/// IoU, GIoU, DIoU and CIoU (both conventions) on random pairs, about half of them disjoint.
#[test]
fn iou_family_gradients_match_finite_differences() {
    let losses = [
        RegLoss::Iou {
            mode: IouMode::Linear,
            eps: 1e-6,
        },
        RegLoss::Iou {
            mode: IouMode::Log,
            eps: 1e-6,
        },
        RegLoss::Iou {
            mode: IouMode::Square,
            eps: 1e-6,
        },
        RegLoss::Giou { eps: 1e-7 },
        RegLoss::Diou { eps: 1e-7 },
        RegLoss::Ciou {
            eps: 1e-7,
            gated: false,
        },
        RegLoss::Ciou {
            eps: 1e-7,
            gated: true,
        },
    ];
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for loss in losses {
        let (mut checked, mut disjoint, mut pred_outside) = (0, 0, 0);
        let mut gated_active = 0;
        for _ in 0..SAMPLES {
            let t = random_box(&mut rng);
            // every third pair is a small perturbation of the target (high IoU)
            let p = if rng.random_range(0..3) == 0 {
                std::array::from_fn(|k| t[k] + rng.random_range(-0.4..0.4))
            } else {
                random_box(&mut rng)
            };
            if p[2] <= p[0] || p[3] <= p[1] || near_box_kink(&p, &t) {
                continue;
            }
            let iou = {
                let lin = RegLoss::Iou {
                    mode: IouMode::Linear,
                    eps: 1e-12,
                };
                1.0 - lin.eval_one(&p, &t).0
            };
            let (_, g) = loss.eval_one(&p, &t);
            let n = match loss {
                RegLoss::Ciou { eps, gated } => {
                    if gated && (iou - 0.5).abs() < KINK {
                        continue;
                    }
                    // alpha is a constant in backward: differentiate with alpha held fixed
                    let (_, _, alpha) = ciou_with_alpha(&p, &t, eps, gated, None);
                    if gated && alpha > 0.0 {
                        gated_active += 1;
                    }
                    numeric(&p, |x| {
                        let b = [x[0], x[1], x[2], x[3]];
                        ciou_with_alpha(&b, &t, eps, gated, Some(alpha)).0
                    })
                }
                _ => numeric(&p, |x| loss.eval_one(x, &t).0),
            };
            assert_grad_close(loss.name(), &p, &t, &g, &n);
            checked += 1;
            if p[2].min(t[2]) <= p[0].max(t[0]) || p[3].min(t[3]) <= p[1].max(t[1]) {
                disjoint += 1;
            }
            if p[0] < t[0] || p[2] > t[2] {
                pred_outside += 1;
            }
        }
        assert!(checked > SAMPLES / 2, "{loss:?}: only {checked} checked");
        assert!(
            disjoint > SAMPLES / 10,
            "{loss:?}: only {disjoint} disjoint pairs"
        );
        assert!(pred_outside > SAMPLES / 10 && pred_outside < checked);
        if matches!(loss, RegLoss::Ciou { gated: true, .. }) {
            assert!(
                gated_active > 50,
                "only {gated_active} pairs with IoU > 0.5"
            );
        }
    }
}

/// Bounded IoU, default and custom parameters.
#[test]
fn bounded_iou_gradients_match_finite_differences() {
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    for (beta, eps) in [(0.2, 1e-3), (0.5, 0.0)] {
        let loss = RegLoss::BoundedIou { beta, eps };
        let mut checked = 0;
        for _ in 0..SAMPLES {
            let t = random_box(&mut rng);
            let p: [f64; 4] = if rng.random_range(0..2) == 0 {
                std::array::from_fn(|k| t[k] + rng.random_range(-0.5..0.5))
            } else {
                random_box(&mut rng)
            };
            if p[2] <= p[0] || p[3] <= p[1] || near_bounded_kink(&p, &t, beta, eps) {
                continue;
            }
            let (_, g) = loss.eval_one(&p, &t);
            let n = numeric(&p, |x| loss.eval_one(x, &t).0);
            assert_grad_close("bounded_iou", &p, &t, &g, &n);
            checked += 1;
        }
        assert!(checked > SAMPLES / 2, "only {checked} checked");
    }
}

/// KL loss: 8 inputs (coordinates and log-variances), 8 gradient entries.
#[test]
fn kl_gradients_match_finite_differences() {
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    for beta in [1.0, 0.3] {
        let loss = RegLoss::Kl { beta };
        let mut checked = 0;
        for _ in 0..SAMPLES {
            let t: [f64; 4] = std::array::from_fn(|_| rng.random_range(-5.0..5.0));
            let mut p: Vec<f64> = t.iter().map(|x| x + rng.random_range(-3.0..3.0)).collect();
            p.extend((0..4).map(|_| rng.random_range(-2.0..2.0)));
            if (0..4).any(|k| {
                let d = (p[k] - t[k]).abs();
                d < KINK || (d - beta).abs() < KINK
            }) {
                continue;
            }
            let (_, g) = loss.eval_one(&p, &t);
            assert_eq!(g.len(), 8);
            let n = numeric(&p, |x| loss.eval_one(x, &t).0);
            assert_grad_close("kl", &p, &t, &g, &n);
            checked += 1;
        }
        assert!(checked > SAMPLES * 9 / 10);
    }
}
