//! Gradients against central finite differences, extreme logits, and input validation of
//! [`ClsLoss::eval`].

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;

const H: f64 = 1e-5;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * a.abs().max(b.abs()) + 1e-9
}

/// Random logits in [-6, 6] with hard or soft targets.
fn batch(seed: u64, n: usize, soft: bool) -> (Vec<f64>, Vec<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let logits = (0..n).map(|_| rng.random_range(-6.0..6.0)).collect();
    let targets = (0..n)
        .map(|_| match (soft, rng.random::<f64>()) {
            (false, u) => (u < 0.3) as u8 as f64,
            // Soft: a third exact negatives (varifocal's other branch), the rest in (0, 1].
            (true, u) if u < 0.33 => 0.0,
            (true, _) => 1.0 - rng.random::<f64>(),
        })
        .collect();
    (logits, targets)
}

/// Checks `eval`'s gradient of a pointwise loss by moving every logit at once.
fn check_pointwise(loss: &ClsLoss, seed: u64) {
    let (x, y) = batch(seed, 200, loss.soft_targets());
    let out = loss.eval(&x, &y).unwrap();
    let shift = |d: f64| x.iter().map(|v| v + d).collect::<Vec<_>>();
    let plus = loss.eval(&shift(H), &y).unwrap().values;
    let minus = loss.eval(&shift(-H), &y).unwrap().values;
    for i in 0..x.len() {
        let fd = (plus[i] - minus[i]) / (2.0 * H);
        assert!(
            close(out.grad[i], fd),
            "{loss:?} x {} y {}: grad {} vs finite difference {fd}",
            x[i],
            y[i],
            out.grad[i]
        );
    }
}

/// Checks a loss `w * BCE` whose weights `w` are held fixed.
fn check_weighted(out: &ClsOutput, w: &[f64], x: &[f64], y: &[f64]) {
    for i in 0..x.len() {
        let f = |x: f64| w[i] * stable::bce(x, y[i]);
        assert!((out.values[i] - f(x[i])).abs() <= 1e-12 * (1.0 + out.values[i].abs()));
        let fd = (f(x[i] + H) - f(x[i] - H)) / (2.0 * H);
        assert!(
            close(out.grad[i], fd),
            "element {i}: {} vs {fd}",
            out.grad[i]
        );
    }
}

#[test]
fn pointwise_gradients_match_finite_differences() {
    let mut losses = vec![ClsLoss::Ce];
    for alpha in [0.1, 0.25, 0.75] {
        losses.push(ClsLoss::BalancedCe { alpha });
    }
    for alpha in [-1.0, 0.25, 0.5] {
        for gamma in [0.0, 0.5, 1.0, 2.0, 5.0] {
            losses.push(ClsLoss::Focal { alpha, gamma });
        }
    }
    for gamma in [0.5, 1.0, 2.0, 3.0] {
        for beta in [-1.0, 0.0, 1.0, 2.0] {
            losses.push(ClsLoss::FocalStar { gamma, beta });
        }
    }
    for beta in [0.0, 1.5, 2.0, 3.0] {
        losses.push(ClsLoss::Qfl { beta });
    }
    for alpha in [0.25, 0.75, 1.0] {
        for gamma in [0.5, 1.0, 2.0, 3.0] {
            losses.push(ClsLoss::Varifocal { alpha, gamma });
        }
    }
    for (seed, loss) in losses.iter().enumerate() {
        check_pointwise(loss, seed as u64);
    }
}

#[test]
fn ghm_c_gradient_matches_finite_differences_with_weights_fixed() {
    for (seed, (bins, momentum)) in [(10, 0.0), (30, 0.75), (1, 0.0), (5, 0.5)]
        .into_iter()
        .enumerate()
    {
        let (x, y) = batch(100 + seed as u64, 300, false);
        let loss = ClsLoss::GhmC { bins, momentum };
        let out = loss.eval(&x, &y).unwrap();
        let w = ghm_c_weights(&x, &y, bins, momentum, &mut GhmCState::default());
        check_weighted(&out, &w, &x, &y);
    }
}

#[test]
fn eql_gradient_matches_finite_differences_with_weights_fixed() {
    let class_freq = vec![0.3, 0.0005, 0.05, 0.001];
    let lambda = EQL_LAMBDA;
    let (x, _) = batch(200, 4 * 50, false);
    // One positive class per foreground row, every third row background.
    let mut rng = ChaCha8Rng::seed_from_u64(201);
    let mut y = vec![0.0; x.len()];
    for r in 0..50 {
        if r % 3 != 0 {
            y[4 * r + rng.random_range(0..4)] = 1.0;
        }
    }
    let loss = ClsLoss::Eql {
        lambda,
        class_freq: class_freq.clone(),
    };
    let out = loss.eval(&x, &y).unwrap();
    let w = eql_weights(&y, &class_freq, lambda).unwrap();
    assert!(w.contains(&0.0), "some rare negatives are dropped");
    check_weighted(&out, &w, &x, &y);
}

fn all_losses() -> Vec<ClsLoss> {
    let mut v: Vec<ClsLoss> = CLS_LOSS_NAMES
        .iter()
        .map(|n| ClsLoss::default_for(n).unwrap())
        .collect();
    v.push(ClsLoss::Focal {
        alpha: -1.0,
        gamma: 0.5,
    });
    v.push(ClsLoss::Qfl { beta: 0.5 });
    v.push(ClsLoss::Varifocal {
        alpha: 0.75,
        gamma: 0.5,
    });
    v.push(ClsLoss::GhmC {
        bins: 30,
        momentum: 0.75,
    });
    v.push(ClsLoss::Eql {
        lambda: 0.01,
        class_freq: vec![0.5, 0.001],
    });
    v
}

#[test]
fn extreme_logits_give_finite_values_and_gradients() {
    for loss in all_losses() {
        let ys: &[f64] = if loss.soft_targets() {
            &[0.0, 0.5, 1.0, 1e-9]
        } else {
            &[0.0, 1.0]
        };
        let mut x = Vec::new();
        let mut y = Vec::new();
        for &xv in &[-1000.0, -100.0, -30.0, 0.0, 30.0, 100.0, 1000.0] {
            for &yv in ys {
                x.extend([xv, xv]);
                y.extend([yv, yv]);
            }
        }
        let out = loss.eval(&x, &y).unwrap();
        for i in 0..x.len() {
            let (v, g) = (out.values[i], out.grad[i]);
            assert!(
                v.is_finite() && g.is_finite(),
                "{loss:?} x {} y {}: {v} {g}",
                x[i],
                y[i]
            );
            assert!(
                v >= 0.0,
                "{loss:?} x {} y {}: negative loss {v}",
                x[i],
                y[i]
            );
        }
    }
}

#[test]
fn eval_agrees_with_the_elementwise_functions() {
    let (x, y) = batch(7, 50, false);
    let out = ClsLoss::Focal {
        alpha: 0.25,
        gamma: 2.0,
    }
    .eval(&x, &y)
    .unwrap();
    for i in 0..x.len() {
        assert_eq!((out.values[i], out.grad[i]), focal(x[i], y[i], 0.25, 2.0));
    }
}

#[test]
fn eval_with_state_accumulates_ghm_counts() {
    let loss = ClsLoss::GhmC {
        bins: 10,
        momentum: 0.75,
    };
    let (x, y) = batch(9, 100, false);
    let mut state = ClsLossState::default();
    let first = loss.eval_with_state(&x, &y, &mut state).unwrap();
    assert_eq!(state.ghm_c.acc_sum.len(), 10);
    let second = loss.eval_with_state(&x, &y, &mut state).unwrap();
    assert_ne!(
        first.values, second.values,
        "the moving average changes the weights"
    );
    // Stateless eval is a fresh state every time.
    assert_eq!(loss.eval(&x, &y).unwrap(), first);
    // A rejected input leaves the state alone.
    let before = state.clone();
    assert!(loss.eval_with_state(&x, &y[1..], &mut state).is_err());
    assert_eq!(state, before);
}

#[test]
fn eval_rejects_bad_inputs() {
    let focal = ClsLoss::default();
    let err = focal.eval(&[0.0, 1.0], &[1.0]).unwrap_err();
    assert!(
        err.starts_with("focal:") && err.contains("2 logits but 1 targets"),
        "{err}"
    );
    assert!(
        focal
            .eval(&[f64::NAN], &[1.0])
            .unwrap_err()
            .contains("logit 0 is not finite")
    );
    assert!(focal.eval(&[f64::INFINITY], &[1.0]).is_err());
    assert!(focal.eval(&[0.0], &[f64::NAN]).is_err());
    assert!(
        focal
            .eval(&[0.0], &[0.5])
            .unwrap_err()
            .contains("hard targets")
    );
    let qfl = ClsLoss::default_for("qfl").unwrap();
    assert!(qfl.eval(&[0.0, 0.0], &[0.5, 1.0]).is_ok());
    assert!(
        qfl.eval(&[0.0], &[1.5])
            .unwrap_err()
            .contains("outside [0, 1]")
    );
    assert!(qfl.eval(&[0.0], &[-0.1]).is_err());
    let eql = ClsLoss::Eql {
        lambda: 0.01,
        class_freq: vec![0.5, 0.001, 0.2],
    };
    assert!(eql.eval(&[0.0; 6], &[0.0; 6]).is_ok());
    assert!(
        eql.eval(&[0.0; 4], &[0.0; 4])
            .unwrap_err()
            .contains("multiple of num_classes 3")
    );
    // Parameters built directly are checked too.
    let bad = ClsLoss::Focal {
        alpha: 0.25,
        gamma: -1.0,
    };
    assert!(bad.eval(&[0.0], &[1.0]).unwrap_err().contains("'gamma'"));
    // Empty input is fine.
    assert_eq!(focal.eval(&[], &[]).unwrap(), ClsOutput::default());
}
