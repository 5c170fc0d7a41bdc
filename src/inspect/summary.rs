//! The numbers of one overlay setting on an inspection (what the compare view sets side by
//! side): positives, the sampler's picks and the share of the classification loss from
//! positives under a loss.

use super::Inspection;
use crate::losses::classification::ClsLoss;

/// The figures of one view of an inspection.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ViewNumbers {
    /// Positive anchors of the assignment.
    pub positives: usize,
    /// Positives the sampler picked.
    pub picked_pos: usize,
    /// Negatives the sampler picked.
    pub picked_neg: usize,
    /// Share of the classification loss from positive elements (target > 0) over the picked
    /// anchors, each row weighted by its sampler weight.
    pub pos_share: f64,
}

/// The figures of sampler `sampler` (a key of [`Inspection::sampler`]) and loss `loss` under
/// the inspection's model. Targets as in training: 1 at a positive's GT class, 0 elsewhere
/// (QFL and varifocal take the loss on hard targets here). A loss that cannot be evaluated
/// (EQL without one frequency per class) gives a share of 0.
pub fn view_numbers(ins: &Inspection, sampler: &str, loss: &ClsLoss) -> ViewNumbers {
    let nc = ins.class_names.len().max(1);
    let picks = ins.sampler(sampler);
    let (mut logits, mut targets, mut w) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..ins.anchors.len() {
        let weight = picks.map_or(1.0, |r| r.weights[i]) as f64;
        let label = ins.assign.labels[i];
        if weight <= 0.0 || label < 0 {
            continue;
        }
        let cls = (label > 0)
            .then(|| ins.sample.classes.get((label - 1) as usize).copied())
            .flatten();
        for c in 0..nc {
            logits.push(ins.model.logits[i * nc + c] as f64);
            targets.push(if cls == Some(c) { 1.0 } else { 0.0 });
            w.push(weight);
        }
    }
    let (mut pos, mut neg) = (0.0, 0.0);
    if let Ok(o) = loss.eval(&logits, &targets) {
        for ((v, y), w) in o.values.iter().zip(&targets).zip(&w) {
            if *y > 0.0 { pos += w * v } else { neg += w * v }
        }
    }
    ViewNumbers {
        positives: ins.assign.num_pos(),
        picked_pos: picks.map_or(0, |r| r.num_pos()),
        picked_neg: picks.map_or(0, |r| r.num_neg()),
        pos_share: if pos + neg > 0.0 {
            pos / (pos + neg)
        } else {
            0.0
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ce_share_under_the_prior_by_hand() {
        let s = crate::data::synthetic::generate(&Default::default(), 0, 0);
        let names = vec!["disc".into(), "rectangle".into(), "triangle".into()];
        let ins = crate::inspect::inspect_sample(s, names, &Default::default());
        let n = view_numbers(&ins, "none", &ClsLoss::Ce);
        // every anchor at p = 0.01: a positive element costs -ln 0.01, a negative -ln 0.99;
        // P positives have 1 positive and 2 negative elements, N negatives 3 negative ones
        let (p, q) = (ins.assign.num_pos() as f64, ins.assign.num_neg() as f64);
        let (lp, ln) = (-(0.01f64.ln()), -(0.99f64.ln()));
        let want = p * lp / (p * lp + (2.0 * p + 3.0 * q) * ln);
        assert!(
            (n.pos_share - want).abs() < 1e-4,
            "{} vs {want}",
            n.pos_share
        );
        assert_eq!((n.positives, n.picked_pos), (ins.assign.num_pos(), 0));
        // focal loss moves the share to the positives; OHEM's picks are counted
        let fl = view_numbers(&ins, "ohem", &ClsLoss::default());
        let ohem = ins.sampler("ohem").unwrap();
        assert_eq!(
            (fl.picked_pos, fl.picked_neg),
            (ohem.num_pos(), ohem.num_neg())
        );
        let all_fl = view_numbers(&ins, "none", &ClsLoss::default());
        assert!(all_fl.pos_share > n.pos_share);
    }
}
