//! Known values (worked from the formulas of the papers and MMDetection / torchvision functions
//! named at each assertion; see tests/reference/README.md, "Regression losses"), parameter
//! parsing, serde and checked evaluation.

use super::elementwise::{balanced_l1, l1, l2, smooth_l1};
use super::*;
use serde_json::json;

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

fn value(loss: &RegLoss, pred: [f64; 4], target: [f64; 4]) -> f64 {
    loss.eval_one(&pred, &target).0
}

#[test]
fn elementwise_values() {
    assert_eq!(l1(-0.3), (0.3, -1.0));
    assert_eq!(l1(0.0), (0.0, 0.0));
    assert_eq!(l2(-0.5), (0.25, -1.0));
    // smooth L1 (Fast R-CNN; MMDetection smooth_l1_loss), beta 1: 0.5 d^2 inside, |d| - 0.5 outside
    assert!(close(smooth_l1(0.5, 1.0).0, 0.125, 1e-15));
    assert!(close(smooth_l1(-0.5, 1.0).1, -0.5, 1e-15));
    assert!(close(smooth_l1(2.0, 1.0).0, 1.5, 1e-15));
    assert_eq!(smooth_l1(-2.0, 1.0).1, -1.0);
    // beta 0.1 (Detectron2 RetinaNet): 0.05 -> 0.5*0.0025/0.1
    assert!(close(smooth_l1(0.05, 0.1).0, 0.0125, 1e-15));
    assert!(close(smooth_l1(0.3, 0.1).0, 0.25, 1e-15));
    // beta 0 is L1
    for d in [-2.0, -0.1, 0.0, 0.7] {
        assert_eq!(smooth_l1(d, 0.0), l1(d));
    }
    // continuity at beta
    let (lo, hi) = (smooth_l1(1.0 - 1e-12, 1.0).0, smooth_l1(1.0, 1.0).0);
    assert!(close(lo, hi, 1e-11));
}

#[test]
fn balanced_l1_reference_values() {
    // Libra R-CNN's balanced L1 (MMDetection balanced_l1_loss, alpha 0.5, gamma 1.5, beta 1),
    // evaluated from the formula: b = e^3 - 1 and the four values below.
    let b = (1.5f64 / 0.5).exp() - 1.0;
    assert!(close(b, 19.085537, 1e-6));
    for (d, want) in [
        (0.1, 0.031353),
        (0.5, 0.400568),
        (1.0, 1.078594),
        (2.0, 2.578594),
    ] {
        let (v, g) = balanced_l1(d, 0.5, 1.5, 1.0);
        assert!(close(v, want, 5e-7), "L({d}) = {v}, want {want}");
        let (vn, gn) = balanced_l1(-d, 0.5, 1.5, 1.0);
        assert_eq!(v, vn);
        assert_eq!(g, -gn);
    }
    // slope at beta is gamma = 1.5 from both sides (the loss is C1 there)
    let below = balanced_l1(1.0 - 1e-12, 0.5, 1.5, 1.0).1;
    let above = balanced_l1(1.0, 0.5, 1.5, 1.0).1;
    assert!(close(below, 1.5, 1e-9), "{below}");
    assert_eq!(above, 1.5);
    // |d| = 0: value 0, zero subgradient (also for beta != 1, where there is a kink)
    assert_eq!(balanced_l1(0.0, 0.5, 1.5, 1.0), (0.0, 0.0));
    assert_eq!(balanced_l1(0.0, 0.5, 1.5, 0.5).1, 0.0);
    // the box loss sums 4 coordinates
    let loss = RegLoss::default_for("balanced_l1").unwrap();
    let v = value(&loss, [0.1, -0.5, 1.0, 2.0], [0.0; 4]);
    assert!(close(v, 0.031353 + 0.400568 + 1.078594 + 2.578594, 2e-6));
}

#[test]
fn iou_family_reference_values() {
    let giou = RegLoss::default_for("giou").unwrap();
    let diou = RegLoss::default_for("diou").unwrap();
    let lin = RegLoss::Iou {
        mode: IouMode::Linear,
        eps: 1e-6,
    };
    let a = [0.0, 0.0, 2.0, 2.0];
    let b = [1.0, 1.0, 3.0, 3.0];
    assert!(close(value(&lin, a, b), 1.0 - 1.0 / 7.0, 1e-12));
    // GIoU (torchvision generalized_box_iou_loss): 1 - 1/7 + (9 - 7)/9
    assert!(close(value(&giou, a, b), 1.079365, 1e-6));
    // DIoU (torchvision distance_box_iou_loss): 1 - 1/7 + 2/18
    assert!(close(value(&diou, a, b), 0.968254, 1e-6));
    let c = [0.0, 0.0, 1.0, 1.0];
    let d = [2.0, 0.0, 3.0, 1.0];
    // disjoint boxes: GIoU 1 + (3 - 2)/3, DIoU 1 + 4/10 (same torchvision functions)
    assert!(close(value(&giou, c, d), 1.333333, 1e-6));
    assert!(close(value(&diou, c, d), 1.4, 1e-6));
    assert!(close(value(&lin, c, d), 1.0 - 1e-6, 1e-12));

    // CIoU (torchvision complete_box_iou_loss; MMDetection ciou_loss when gated): IoU 1/3,
    // v = 4/pi^2 (atan 0.5 - atan 2)^2
    let p = [0.0, 0.0, 4.0, 2.0];
    let t = [0.0, 0.0, 2.0, 4.0];
    let v = 4.0 / (std::f64::consts::PI.powi(2)) * (0.5f64.atan() - 2f64.atan()).powi(2);
    assert!(close(v, 0.167826, 1e-6));
    assert!(close(value(&lin, p, t), 2.0 / 3.0, 1e-12));
    let tv = RegLoss::default_for("ciou").unwrap();
    assert!(
        close(value(&tv, p, t), 0.762918, 1e-6),
        "{}",
        value(&tv, p, t)
    );
    let mm = RegLoss::from_json("ciou", &json!({"gated": true})).unwrap();
    assert!(
        close(value(&mm, p, t), 0.729167, 1e-6),
        "{}",
        value(&mm, p, t)
    );
}

#[test]
fn iou_modes_and_clamp() {
    let a = [0.0, 0.0, 2.0, 2.0];
    let b = [1.0, 1.0, 3.0, 3.0];
    let iou: f64 = 1.0 / 7.0;
    let log = RegLoss::default_for("iou").unwrap();
    assert_eq!(
        log,
        RegLoss::Iou {
            mode: IouMode::Log,
            eps: 1e-6
        }
    );
    assert!(close(value(&log, a, b), -iou.ln(), 1e-12));
    let sq = RegLoss::Iou {
        mode: IouMode::Square,
        eps: 1e-6,
    };
    assert!(close(value(&sq, a, b), 1.0 - iou * iou, 1e-12));
    // disjoint boxes: IoU clamped at eps, zero gradient
    let (v, g) = log.eval_one(&[0.0, 0.0, 1.0, 1.0], &[2.0, 0.0, 3.0, 1.0]);
    assert!(close(v, -(1e-6f64).ln(), 1e-9));
    assert_eq!(g, vec![0.0; 4]);
}

#[test]
fn identical_boxes_have_zero_gradient() {
    let b = [1.0, 2.0, 4.0, 7.0];
    for name in ["iou", "giou", "diou", "ciou"] {
        let loss = RegLoss::default_for(name).unwrap();
        let (v, g) = loss.eval_one(&b, &b);
        assert!(v.abs() < 1e-6, "{name}: {v}");
        // not exactly 0 only through the 1e-7 eps in the denominators
        assert!(g.iter().all(|x| x.abs() < 1e-8), "{name}: {g:?}");
    }
    let (v, g) = RegLoss::default_for("bounded_iou")
        .unwrap()
        .eval_one(&b, &b);
    assert!(v < 1e-6 && g.iter().all(|x| x.abs() < 1e-3), "{v} {g:?}");
}

#[test]
fn bounded_iou_values() {
    let loss = RegLoss::default_for("bounded_iou").unwrap();
    // same size, centre shifted by 1 in x on a width-4 target: l_x = 1 - 2/(6 + eps)
    let (eps, beta) = (1e-3, 0.2);
    let lx: f64 = 1.0 - 2.0 / (6.0 + eps);
    let lw: f64 = 1.0 - 4.0 / (4.0 + eps); // both ratios equal: 4 / 4.001
    let s = |l: f64| {
        if l < beta {
            0.5 * l * l / beta
        } else {
            l - 0.5 * beta
        }
    };
    let want = s(lx) + 3.0 * s(lw); // l_y = l_w: centred, equal heights
    let got = value(&loss, [1.0, 0.0, 5.0, 4.0], [0.0, 0.0, 4.0, 4.0]);
    assert!(close(got, want, 1e-12), "{got} {want}");
}

#[test]
fn kl_values_and_layout() {
    let loss = RegLoss::default_for("kl").unwrap();
    assert_eq!(loss.pred_len(), 8);
    // a = 0 reduces to smooth L1 (beta 1)
    let (v, g) = loss.eval_one(&[0.5, 0.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0], &[0.0; 4]);
    assert!(close(v, 0.125 + 1.5, 1e-15));
    assert_eq!(g.len(), 8);
    assert!(close(g[0], 0.5, 1e-15) && close(g[2], 1.0, 1e-15));
    assert!(close(g[4], 0.5 - 0.125, 1e-15) && close(g[5], 0.5, 1e-15));
    // e^(-0.3) * 0.125 + 0.15 on one coordinate, a/2 on the others
    let (v, _) = loss.eval_one(&[0.5, 0.0, 0.0, 0.0, 0.3, 0.0, 0.0, 0.0], &[0.0; 4]);
    assert!(close(v, 0.24260227758521474, 1e-12));
    // optimal a for a fixed error: dL/da = 0 at e^(-a) s = 1/2
    let s: f64 = 1.5;
    let a = (2.0 * s).ln();
    let (_, g) = loss.eval_one(&[2.0, 0.0, 0.0, 0.0, a, 0.0, 0.0, 0.0], &[0.0; 4]);
    assert!(g[4].abs() < 1e-12);
}

#[test]
fn names_defaults_and_serde() {
    for &name in REG_LOSS_NAMES {
        let loss = RegLoss::default_for(name).unwrap();
        assert_eq!(loss.name(), name);
        let text = serde_json::to_string(&loss).unwrap();
        let back: RegLoss = serde_json::from_str(&text).unwrap();
        assert_eq!(back, loss, "{text}");
        // serde with no parameters gives the same defaults as from_json
        let bare: RegLoss = serde_json::from_value(json!({ "name": name })).unwrap();
        assert_eq!(bare, loss, "{name}");
        assert_eq!(loss.pred_len(), if name == "kl" { 8 } else { 4 });
    }
    assert_eq!(RegLoss::default(), RegLoss::L1);
    assert_eq!(
        RegLoss::default_for("balanced_l1"),
        Some(RegLoss::BalancedL1 {
            alpha: 0.5,
            gamma: 1.5,
            beta: 1.0
        })
    );
    assert_eq!(
        RegLoss::default_for("bounded_iou"),
        Some(RegLoss::BoundedIou {
            beta: 0.2,
            eps: 1e-3
        })
    );
    assert_eq!(
        RegLoss::default_for("ciou"),
        Some(RegLoss::Ciou {
            eps: 1e-7,
            gated: false
        })
    );
    assert_eq!(
        RegLoss::default_for("smooth_l1"),
        Some(RegLoss::SmoothL1 { beta: 1.0 })
    );
    assert_eq!(RegLoss::default_for("nope"), None);
    let s = serde_json::to_value(RegLoss::Iou {
        mode: IouMode::Square,
        eps: 1e-6,
    })
    .unwrap();
    assert_eq!(s, json!({"name": "iou", "mode": "square", "eps": 1e-6}));
}

#[test]
fn from_json_parameters_and_errors() {
    let l = RegLoss::from_json("smooth_l1", &json!({"beta": 0})).unwrap();
    assert_eq!(l, RegLoss::SmoothL1 { beta: 0.0 });
    let l = RegLoss::from_json("iou", &json!({"mode": "linear", "eps": 1e-4})).unwrap();
    assert_eq!(
        l,
        RegLoss::Iou {
            mode: IouMode::Linear,
            eps: 1e-4
        }
    );
    let l = RegLoss::from_json("balanced_l1", &json!({"gamma": 2})).unwrap();
    assert_eq!(
        l,
        RegLoss::BalancedL1 {
            alpha: 0.5,
            gamma: 2.0,
            beta: 1.0
        }
    );
    assert!(RegLoss::from_json("l2", &json!({})).is_ok());

    let err = |name: &str, p: serde_json::Value| RegLoss::from_json(name, &p).unwrap_err();
    let e = err("huber", json!({}));
    assert!(
        e.contains("huber") && e.contains("smooth_l1") && e.contains("kl"),
        "{e}"
    );
    let e = err("smooth_l1", json!({"delta": 1}));
    assert!(e.contains("smooth_l1") && e.contains("delta"), "{e}");
    let e = err("l1", json!({"beta": 1}));
    assert!(e.contains("'l1'") && e.contains("beta"), "{e}");
    let e = err("smooth_l1", json!({"beta": "1"}));
    assert!(e.contains("beta") && e.contains("number"), "{e}");
    let e = err("smooth_l1", json!({"beta": -1}));
    assert!(e.contains("beta") && e.contains(">= 0"), "{e}");
    let e = err("balanced_l1", json!({"alpha": 0}));
    assert!(e.contains("balanced_l1") && e.contains("alpha"), "{e}");
    let e = err("iou", json!({"mode": "cubic"}));
    assert!(e.contains("mode") && e.contains("cubic"), "{e}");
    let e = err("iou", json!({"eps": 0}));
    assert!(e.contains("eps"), "{e}");
    let e = err("ciou", json!({"gated": 1}));
    assert!(e.contains("ciou") && e.contains("gated"), "{e}");
    let e = err("giou", json!([1, 2]));
    assert!(e.contains("giou") && e.contains("object"), "{e}");
    for e in [
        err("kl", json!({"beta": null})),
        err("bounded_iou", json!({"beta": 0})),
    ] {
        assert!(!e.contains('\n') && e.contains("beta"), "{e}");
    }
}

#[test]
fn eval_checks_inputs() {
    let l1 = RegLoss::L1;
    let out = l1.eval(&[vec![1.0, -2.0, 0.0, 0.5]], &[[0.0; 4]]).unwrap();
    assert_eq!(out.values, vec![3.5]);
    assert_eq!(out.grad, vec![vec![1.0, -1.0, 0.0, 1.0]]);
    let e = l1.eval(&[vec![0.0; 4]], &[]).unwrap_err();
    assert!(e.contains("1 prediction rows but 0 target rows"), "{e}");
    let e = l1.eval(&[vec![0.0; 3]], &[[0.0; 4]]).unwrap_err();
    assert!(e.contains("row 0") && e.contains("expected 4"), "{e}");
    let e = l1
        .eval(&[vec![0.0, f64::NAN, 0.0, 0.0]], &[[0.0; 4]])
        .unwrap_err();
    assert!(e.contains("non-finite"), "{e}");
    let e = l1
        .eval(&[vec![0.0; 4]], &[[0.0, 0.0, f64::INFINITY, 0.0]])
        .unwrap_err();
    assert!(e.contains("non-finite"), "{e}");
    let kl = RegLoss::default_for("kl").unwrap();
    let e = kl.eval(&[vec![0.0; 4]], &[[0.0; 4]]).unwrap_err();
    assert!(e.contains("expected 8"), "{e}");
    assert_eq!(
        kl.eval(&[vec![0.0; 8]], &[[0.0; 4]]).unwrap().grad[0].len(),
        8
    );
    let giou = RegLoss::default_for("giou").unwrap();
    let e = giou
        .eval(&[vec![2.0, 0.0, 1.0, 1.0]], &[[0.0, 0.0, 1.0, 1.0]])
        .unwrap_err();
    assert!(e.contains("inverted") && e.contains("prediction"), "{e}");
    // elementwise losses take any numbers (deltas), inverted or not
    assert!(l1.eval(&[vec![2.0, 0.0, 1.0, 1.0]], &[[0.0; 4]]).is_ok());
    assert!(giou.eval(&[], &[]).unwrap().values.is_empty());
}

#[test]
fn degenerate_boxes_stay_finite() {
    let zero = [1.0, 1.0, 1.0, 1.0];
    let t = [0.0, 0.0, 2.0, 2.0];
    for &name in REG_LOSS_NAMES.iter().filter(|n| **n != "kl") {
        for gated in [false, true] {
            let loss = match RegLoss::default_for(name).unwrap() {
                RegLoss::Ciou { eps, .. } => RegLoss::Ciou { eps, gated },
                l => l,
            };
            for (p, q) in [(zero, t), (t, zero), (zero, zero)] {
                let (v, g) = loss.eval_one(&p, &q);
                assert!(
                    v.is_finite() && g.iter().all(|x| x.is_finite()),
                    "{name} {p:?} {q:?}"
                );
            }
        }
    }
}
