//! How strongly a loss pushes each logit compared with CE: the gradient weight
//! `|dL/dx| / |dCE/dx|`, with `dCE/dx = sigmoid(x) - y` (binary CE on the same target).
//!
//! Focal loss gives a weight near `alpha_t (1 - p_t)^gamma` for a well-classified anchor (the
//! factor differentiated, not detached: see the module doc of the losses); GHM-C gives its
//! bin weight, EQL its class weight, CE 1. An anchor's weight sums over its classes:
//! `sum_c |dL/dx_c| / sum_c |dCE/dx_c|` (0 when CE's gradient vanishes).

use super::stable::sigmoid;
use super::{ClsLoss, ClsLossState};

/// The gradient weight of each row of `c` elements (`logits`, `targets` row-major `N x C`).
/// GHM-C's bins are the rows' own gradient norms (a fresh state, no moving average).
pub fn row_gradient_weights(
    loss: &ClsLoss,
    logits: &[f64],
    targets: &[f64],
    c: usize,
) -> Result<Vec<f64>, String> {
    let c = c.max(1);
    let out = loss.eval_with_state(logits, targets, &mut ClsLossState::default())?;
    Ok((0..logits.len() / c)
        .map(|r| {
            let (mut num, mut den) = (0.0, 0.0);
            for k in r * c..(r + 1) * c {
                num += out.grad[k].abs();
                den += (sigmoid(logits[k]) - targets[k]).abs();
            }
            if den > 0.0 { num / den } else { 0.0 }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Central finite difference of `loss` at one element.
    fn fd(loss: &ClsLoss, x: f64, y: f64) -> f64 {
        let h = 1e-5;
        let v = |x: f64| loss.eval(&[x], &[y]).unwrap().values[0];
        (v(x + h) - v(x - h)) / (2.0 * h)
    }

    #[test]
    fn weights_are_gradient_ratios_by_finite_differences() {
        let losses = [
            ClsLoss::Ce,
            ClsLoss::BalancedCe { alpha: 0.75 },
            ClsLoss::Focal {
                alpha: 0.25,
                gamma: 2.0,
            },
            ClsLoss::FocalStar {
                gamma: 2.0,
                beta: 1.0,
            },
            ClsLoss::Qfl { beta: 2.0 },
            ClsLoss::Varifocal {
                alpha: 0.75,
                gamma: 2.0,
            },
        ];
        for loss in &losses {
            for (x, y) in [(-4.59512, 0.0), (-4.59512, 1.0), (1.3, 1.0), (0.7, 0.0)] {
                let w = row_gradient_weights(loss, &[x], &[y], 1).unwrap()[0];
                let ce = fd(&ClsLoss::Ce, x, y);
                let want = fd(loss, x, y).abs() / ce.abs();
                assert!(
                    (w - want).abs() <= 1e-4 * want.max(1e-3),
                    "{}: x {x} y {y}: {w} vs {want}",
                    loss.name()
                );
            }
        }
        // CE is 1 against itself; a row sums its classes
        let w = row_gradient_weights(&ClsLoss::Ce, &[0.2, -1.0, 3.0], &[1.0, 0.0, 0.0], 3);
        assert!((w.unwrap()[0] - 1.0).abs() < 1e-12);
    }

    #[test]
    fn ce_over_focal_matches_the_values_and_the_losses() {
        use crate::losses::classification::{ce, ce_over_focal, focal};
        // CE / FL for gamma 2: 1 / (1 - p_t)^2 = 100 at 0.9, 976.5625 at 0.968
        assert!((ce_over_focal(0.9, 2.0) - 100.0).abs() < 1e-9);
        assert!((ce_over_focal(0.968, 2.0) - 976.5625).abs() < 1e-6);
        // and it is the ratio of the two losses (alpha off) at a positive's logit
        for p_t in [0.3f64, 0.9, 0.968] {
            let x = (p_t / (1.0 - p_t)).ln();
            let r = ce(x, 1.0).0 / focal(x, 1.0, -1.0, 2.0).0;
            assert!((r - ce_over_focal(p_t, 2.0)).abs() < 1e-6 * r, "{p_t}: {r}");
        }
    }

    #[test]
    fn focal_weight_at_the_prior() {
        // a negative at the prior: p = 0.01; FL = -(1 - alpha) p^2 ln(1 - p)
        // dFL/dx = (1 - alpha) p^2 [2 (1 - p) (-ln(1 - p)) + p]  (chain rule, dp/dx = p(1 - p))
        // dCE/dx = p, so the weight is (1 - alpha) p [2 (1 - p) (-ln(1 - p)) + p]
        let p: f64 = 0.01;
        let x = (p / (1.0 - p)).ln();
        let fl = ClsLoss::Focal {
            alpha: 0.25,
            gamma: 2.0,
        };
        let w = row_gradient_weights(&fl, &[x], &[0.0], 1).unwrap()[0];
        let want = 0.75 * p * (2.0 * (1.0 - p) * -(1.0 - p).ln() + p);
        assert!((w - want).abs() < 1e-9, "{w} vs {want}");
    }

    #[test]
    fn ghm_weights_come_from_the_rows_own_gradient_norms() {
        // REFERENCE value: 100 elements, 90 with g < 0.1 and 10 with g >= 0.9, 10 bins:
        // weights N / (n_bin * valid bins) = 100 / (90 * 2) and 100 / (10 * 2)
        let mut logits = vec![-5.0; 90];
        logits.extend(vec![5.0; 10]);
        let targets = vec![0.0; 100];
        let loss = ClsLoss::GhmC {
            bins: 10,
            momentum: 0.0,
        };
        let w = row_gradient_weights(&loss, &logits, &targets, 1).unwrap();
        assert!((w[0] - 100.0 / 180.0).abs() < 1e-9, "{}", w[0]);
        assert!((w[99] - 5.0).abs() < 1e-9, "{}", w[99]);
    }
}
