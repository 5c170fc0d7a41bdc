//! Small helpers for the UI and the trainer: the prior bias of the classification layer, the
//! focal weight of one anchor, and the share of the total loss carried by negatives and
//! positives.

use super::ce::ce;
use super::ghm::{GhmCState, ghm_bin, ghm_bin_weights};
use super::loss::ClsLoss;
use super::stable::logit;

/// The initial bias of the final classification layer so that every anchor starts with
/// foreground probability `pi` (RetinaNet, Lin et al. 2017, section 4.1):
/// `b = -ln((1 - pi) / pi)`, i.e. [`logit`]`(pi)`, for `pi` in `(0, 1)`.
pub fn prior_bias(pi: f64) -> f64 {
    logit(pi)
}

/// The focal weight of one anchor, `alpha_t * (1 - p_t)^gamma` (what the UI colours by).
pub fn focal_weight(p_t: f64, alpha_t: f64, gamma: f64) -> f64 {
    alpha_t * (1.0 - p_t).powf(gamma)
}

/// How many times CE exceeds focal loss (no alpha) at `p_t`: `CE / FL = 1 / (1 - p_t)^gamma`
/// (100 at p_t = 0.9 and about 977 at 0.968 for gamma 2; infinite at p_t = 1).
pub fn ce_over_focal(p_t: f64, gamma: f64) -> f64 {
    1.0 / (1.0 - p_t).powf(gamma)
}

/// The shares `(share_neg, share_pos)` of the total loss carried by `n_neg` negatives that
/// all have probability `p_t_neg` of their true label and `n_pos` positives at `p_t_pos`
/// (both in `(0, 1)`); the shares sum to 1.
///
/// Positives have target 1 (soft-target losses included). GHM-C weights come from the two
/// groups' bins (fresh state: momentum scales both weights alike). Under EQL the negatives are
/// background anchors and the positives' own classes, so every EQL weight is 1 (plain CE).
/// Errors on `p_t` outside `(0, 1)`, no anchors at all, or a total loss of zero.
pub fn loss_shares(
    n_neg: u64,
    p_t_neg: f64,
    n_pos: u64,
    p_t_pos: f64,
    loss: &ClsLoss,
) -> Result<(f64, f64), String> {
    loss.validate()?;
    for (what, p_t) in [("p_t_neg", p_t_neg), ("p_t_pos", p_t_pos)] {
        if !(p_t > 0.0 && p_t < 1.0) {
            return Err(format!("loss_shares: {what} must be in (0, 1), got {p_t}"));
        }
    }
    if n_neg == 0 && n_pos == 0 {
        return Err("loss_shares: no anchors (n_neg and n_pos are both 0)".into());
    }
    // A negative with p_t has p = 1 - p_t, so its logit is -logit(p_t).
    let (x_neg, x_pos) = (-logit(p_t_neg), logit(p_t_pos));
    let (v_neg, v_pos) = match loss {
        ClsLoss::GhmC { bins, momentum } => {
            // Gradient norms: |p - 0| = 1 - p_t for negatives, |p - 1| = 1 - p_t for positives.
            let (b_neg, b_pos) = (ghm_bin(1.0 - p_t_neg, *bins), ghm_bin(1.0 - p_t_pos, *bins));
            let mut counts = vec![0.0; *bins];
            counts[b_neg] += n_neg as f64;
            counts[b_pos] += n_pos as f64;
            let tot = (n_neg + n_pos) as f64;
            let w = ghm_bin_weights(&counts, tot, *momentum, &mut GhmCState::default());
            (w[b_neg] * ce(x_neg, 0.0).0, w[b_pos] * ce(x_pos, 1.0).0)
        }
        ClsLoss::Eql { .. } => (ce(x_neg, 0.0).0, ce(x_pos, 1.0).0),
        _ => {
            let value = |x, y| loss.pointwise(x, y).map_or(0.0, |vg| vg.0);
            (value(x_neg, 0.0), value(x_pos, 1.0))
        }
    };
    let (t_neg, t_pos) = (n_neg as f64 * v_neg, n_pos as f64 * v_pos);
    let total = t_neg + t_pos;
    if !(total > 0.0 && total.is_finite()) {
        return Err(format!(
            "loss_shares: total loss is {total}, shares undefined"
        ));
    }
    Ok((t_neg / total, t_pos / total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prior_bias_matches_reference() {
        // RetinaNet's prior (Lin et al. 2017, section 4.1): -ln(0.99 / 0.01) = -ln 99
        assert_eq!(format!("{:.5}", prior_bias(0.01)), "-4.59512");
        assert_eq!(prior_bias(0.5), 0.0);
    }

    #[test]
    fn focal_weight_values() {
        assert!((focal_weight(0.9, 1.0, 2.0) - 0.01).abs() < 1e-15);
        assert!((focal_weight(0.5, 0.25, 2.0) - 0.0625).abs() < 1e-15);
        assert_eq!(focal_weight(0.3, 0.75, 0.0), 0.75);
    }

    /// The focal-loss discussion's contribution example (CE and FL, Lin et al. 2017, eq. 5,
    /// evaluated on it): 1,000,000 negatives at p_t 0.99, 10 positives at
    /// p_t 0.01. CE: negatives carry 99.54%; FL (gamma 2, alpha 0.25): positives 93.74%.
    #[test]
    fn shares_match_reference_example() {
        let (neg, pos) = loss_shares(1_000_000, 0.99, 10, 0.01, &ClsLoss::Ce).unwrap();
        assert_eq!(format!("{:.2}", 100.0 * neg), "99.54");
        assert!((neg + pos - 1.0).abs() < 1e-12);
        let fl = ClsLoss::Focal {
            alpha: 0.25,
            gamma: 2.0,
        };
        let (neg, pos) = loss_shares(1_000_000, 0.99, 10, 0.01, &fl).unwrap();
        assert_eq!(format!("{:.2}", 100.0 * pos), "93.74");
        assert!((neg + pos - 1.0).abs() < 1e-12);
    }

    #[test]
    fn shares_for_batch_dependent_losses() {
        // EQL reduces to CE here.
        let eql = ClsLoss::default_for("eql").unwrap();
        let a = loss_shares(1000, 0.9, 10, 0.2, &eql).unwrap();
        let b = loss_shares(1000, 0.9, 10, 0.2, &ClsLoss::Ce).unwrap();
        assert!((a.0 - b.0).abs() < 1e-15);
        // GHM-C: each group's weighted total is N / n_valid (times its mean CE), so with
        // the groups in different bins the totals are in the ratio of their CE.
        for momentum in [0.0, 0.75] {
            let ghm = ClsLoss::GhmC { bins: 10, momentum };
            let (neg, _) = loss_shares(1000, 0.99, 10, 0.01, &ghm).unwrap();
            let (c_neg, c_pos) = (-(0.99f64.ln()), -(0.01f64.ln()));
            assert!((neg - c_neg / (c_neg + c_pos)).abs() < 1e-12, "{neg}");
        }
    }

    #[test]
    fn shares_reject_bad_input() {
        assert!(loss_shares(10, 1.0, 1, 0.5, &ClsLoss::Ce).is_err());
        assert!(loss_shares(10, 0.5, 1, 0.0, &ClsLoss::Ce).is_err());
        assert!(loss_shares(10, f64::NAN, 1, 0.5, &ClsLoss::Ce).is_err());
        assert!(loss_shares(0, 0.5, 0, 0.5, &ClsLoss::Ce).is_err());
    }
}
