//! The loss a hard sampler ranks by, defined once: training, `inspect` and the app call
//! [`RankingLoss::anchor_losses`] and [`anchor_scores`] on the model's head outputs.
//!
//! An anchor's ranking loss is its classification loss summed over the classes (hard
//! targets: 1 at a positive's GT class, 0 elsewhere) under the configured loss, plus, for a
//! positive, the configured regression loss of its predicted deltas against its GT. GHM-C
//! and EQL, whose weights depend on the batch or the dataset, rank by plain CE. Ignored
//! anchors get 0 (no sampler picks them).

use crate::assign::AssignResult;
use crate::geometry::{Box4, DeltaCoder};
use crate::losses::classification::stable::sigmoid;
use crate::losses::classification::{ClsLoss, ce};
use crate::losses::regression::RegLoss;

/// The losses an anchor is ranked by (the run's classification and regression losses).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RankingLoss {
    /// Classification loss.
    pub cls: ClsLoss,
    /// Regression loss of positives.
    pub reg: RegLoss,
    /// Delta coder between anchors and boxes.
    pub coder: DeltaCoder,
}

/// One image's head outputs: logits `[A][C]` and deltas `[A][4]`, anchors in generator order.
#[derive(Clone, Copy, Debug)]
pub struct HeadView<'a> {
    /// Classification logits, `A x C`.
    pub logits: &'a [f32],
    /// Box deltas, `A x 4`.
    pub deltas: &'a [f32],
    /// Classes `C`.
    pub num_classes: usize,
}

fn row4(d: &[f32], a: usize) -> [f32; 4] {
    [d[4 * a], d[4 * a + 1], d[4 * a + 2], d[4 * a + 3]]
}

impl RankingLoss {
    /// Classification loss of one anchor summed over its classes; `target` is the GT class
    /// of a positive (`None` for a negative).
    pub fn cls_loss(&self, x: &[f32], target: Option<usize>) -> f64 {
        x.iter()
            .enumerate()
            .map(|(k, &v)| {
                let y = if target == Some(k) { 1.0 } else { 0.0 };
                self.cls
                    .pointwise(v as f64, y)
                    .unwrap_or_else(|| ce(v as f64, y))
                    .0
            })
            .sum()
    }

    /// Regression loss of one anchor's deltas `d` against `gt` (value only). Elementwise
    /// losses compare the deltas with `coder.encode(anchor, gt)`; the IoU family compares
    /// the decoded box with the GT box.
    pub fn reg_loss(&self, anchor: &Box4, d: &[f32; 4], gt: &Box4) -> f64 {
        let mut g = vec![0.0; self.reg.pred_len()];
        if self.reg.works_on_boxes() {
            let pred = self.coder.decode(anchor, d).map(f64::from);
            self.reg.eval_one_into(&pred, &gt.map(f64::from), &mut g)
        } else {
            let target = self.coder.encode(anchor, gt).map(f64::from);
            self.reg.eval_one_into(&d.map(f64::from), &target, &mut g)
        }
    }

    /// The ranking loss of every anchor (0 for ignored ones).
    pub fn anchor_losses(
        &self,
        anchors: &[Box4],
        assign: &AssignResult,
        gt_boxes: &[Box4],
        gt_classes: &[usize],
        head: HeadView,
    ) -> Vec<f32> {
        let c = head.num_classes;
        (0..anchors.len())
            .map(|a| {
                let label = assign.labels[a];
                if label < 0 {
                    return 0.0;
                }
                let x = &head.logits[a * c..(a + 1) * c];
                if label == 0 {
                    return self.cls_loss(x, None) as f32;
                }
                let g = assign.matched_gt[a] as usize;
                let k = gt_classes.get(g).copied().unwrap_or(0);
                let d = row4(head.deltas, a);
                (self.cls_loss(x, Some(k)) + self.reg_loss(&anchors[a], &d, &gt_boxes[g])) as f32
            })
            .collect()
    }
}

/// The sampler score of every anchor: a positive's GT-class probability, otherwise the
/// largest class probability (PISA's Score-HLR and CARL read these).
pub fn anchor_scores(assign: &AssignResult, gt_classes: &[usize], head: HeadView) -> Vec<f32> {
    let c = head.num_classes;
    (0..assign.labels.len())
        .map(|a| {
            let x = &head.logits[a * c..(a + 1) * c];
            if assign.labels[a] > 0 {
                let g = assign.matched_gt[a] as usize;
                let k = gt_classes.get(g).copied().unwrap_or(0);
                sigmoid(x[k] as f64) as f32
            } else {
                max_prob(x)
            }
        })
        .collect()
}

/// The largest class probability of one anchor's logits.
pub fn max_prob(x: &[f32]) -> f32 {
    x.iter().map(|&v| sigmoid(v as f64)).fold(0.0, f64::max) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranking_loss_by_hand() {
        // anchor 0 positive (GT 0, class 1), anchor 1 negative, anchor 2 ignored
        let assign = AssignResult::from_labels(vec![1, 0, -1], vec![0.6, 0.1, 0.45]);
        let anchors = [[0.0, 0.0, 10.0, 10.0]; 3];
        let gt = [[1.0, 0.0, 11.0, 10.0]];
        let logits = [0.0f32, 2.0, -1.0, 1.0, 5.0, 5.0];
        let deltas = [0.0f32; 12];
        let r = RankingLoss {
            cls: ClsLoss::Ce,
            reg: RegLoss::L1,
            coder: DeltaCoder::default(),
        };
        let head = HeadView {
            logits: &logits,
            deltas: &deltas,
            num_classes: 2,
        };
        let l = r.anchor_losses(&anchors, &assign, &gt, &[1], head);
        // positive: CE(0, y=0) = ln 2, CE(2, y=1) = ln(1 + e^-2); L1 of target dx = 0.1
        let pos = 2f64.ln() + (1.0 + (-2f64).exp()).ln() + 0.1;
        // negative: CE(-1, 0) = ln(1 + e^-1), CE(1, 0) = ln(1 + e)
        let neg = (1.0 + (-1f64).exp()).ln() + (1.0 + 1f64.exp()).ln();
        assert!((l[0] as f64 - pos).abs() < 1e-5, "{} vs {pos}", l[0]);
        assert!((l[1] as f64 - neg).abs() < 1e-5, "{} vs {neg}", l[1]);
        assert_eq!(l[2], 0.0);
        let s = anchor_scores(&assign, &[1], head);
        assert!((s[0] - 1.0 / (1.0 + (-2f32).exp())).abs() < 1e-6);
        assert!((s[1] - 1.0 / (1.0 + (-1f32).exp())).abs() < 1e-6);
    }
}
