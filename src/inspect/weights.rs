//! Each anchor's weight under a classification loss relative to CE (the loss-weight overlay):
//! [`crate::losses::classification::row_gradient_weights`] on the inspection's model outputs.

use super::Inspection;
use crate::geometry::iou;
use crate::losses::classification::{ClsLoss, row_gradient_weights};

/// Per-anchor gradient weight `|dL/dx| / |dCE/dx|` of `loss` under the inspection's model
/// (summed over classes). Targets: 1 at a positive's GT class (QFL and varifocal: the IoU of
/// its predicted box with the GT), 0 elsewhere. Ignored anchors get 0 and stay out of GHM-C's
/// bins. EQL with a frequency list of another length than the classes gives all zeros.
pub fn loss_weights(ins: &Inspection, loss: &ClsLoss) -> Vec<f32> {
    let nc = ins.class_names.len().max(1);
    let n = ins.anchors.len();
    let rows: Vec<usize> = (0..n).filter(|&i| ins.assign.labels[i] >= 0).collect();
    let mut logits = Vec::with_capacity(rows.len() * nc);
    let mut targets = Vec::with_capacity(rows.len() * nc);
    for &i in &rows {
        let label = ins.assign.labels[i];
        let gt = (label > 0).then(|| (label - 1) as usize);
        let cls = gt.and_then(|g| ins.sample.classes.get(g).copied());
        let y = match gt {
            Some(g) if loss.soft_targets() => {
                let d = &ins.model.deltas[4 * i..4 * i + 4];
                let pred = ins
                    .ranking
                    .coder
                    .decode(&ins.anchors.boxes[i], &[d[0], d[1], d[2], d[3]]);
                (iou(&pred, &ins.sample.boxes[g]) as f64).clamp(0.0, 1.0)
            }
            _ => 1.0,
        };
        for c in 0..nc {
            logits.push(ins.model.logits[i * nc + c] as f64);
            targets.push(if cls == Some(c) { y } else { 0.0 });
        }
    }
    let mut out = vec![0.0f32; n];
    if let Ok(w) = row_gradient_weights(loss, &logits, &targets, nc) {
        for (&i, w) in rows.iter().zip(w) {
            out[i] = w as f32;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn focal_weights_under_the_prior() {
        let s = crate::data::synthetic::generate(&Default::default(), 0, 0);
        let names = vec!["disc".into(), "rectangle".into(), "triangle".into()];
        let ins = crate::inspect::inspect_sample(s, names, &Default::default());
        let fl = ClsLoss::Focal {
            alpha: 0.25,
            gamma: 2.0,
        };
        let w = loss_weights(&ins, &fl);
        let i_pos = ins.assign.labels.iter().position(|&l| l > 0).unwrap();
        let i_neg = ins.assign.labels.iter().position(|&l| l == 0).unwrap();
        let i_ign = ins.assign.labels.iter().position(|&l| l < 0).unwrap();
        // a negative: 3 classes at p = 0.01, each with (1 - alpha) p [2 (1 - p)(-ln(1 - p)) + p]
        let p: f64 = 0.01;
        let neg = 0.75 * p * (2.0 * (1.0 - p) * -(1.0 - p).ln() + p);
        assert!(
            (w[i_neg] as f64 - neg).abs() < 1e-7,
            "{} vs {neg}",
            w[i_neg]
        );
        // a positive: its class at p_t = 0.01 dominates: about alpha (1 - p_t)^2 (the
        // -gamma p_t ln p_t term adds 2 * 0.01 * 4.6 = 9%)
        assert!(w[i_pos] > 0.2 && w[i_pos] < 0.3, "{}", w[i_pos]);
        assert_eq!(w[i_ign], 0.0);
        // CE against itself: 1 for every non-ignored anchor
        let ce = loss_weights(&ins, &ClsLoss::Ce);
        assert!((ce[i_pos] - 1.0).abs() < 1e-6 && (ce[i_neg] - 1.0).abs() < 1e-6);
        // every loss of the overlay gives weights, and they differ from CE's somewhere
        for name in crate::losses::classification::CLS_LOSS_NAMES {
            let mut l = ClsLoss::default_for(name).unwrap();
            if let ClsLoss::Eql { class_freq, .. } = &mut l {
                *class_freq = vec![0.5, 0.3, 0.001];
            }
            let w = loss_weights(&ins, &l);
            assert!(w.iter().all(|x| x.is_finite() && *x >= 0.0), "{name}");
            if *name != "ce" {
                assert!(
                    w.iter().zip(&ce).any(|(a, b)| (a - b).abs() > 1e-3),
                    "{name} weights equal CE's"
                );
            }
        }
    }
}
