//! PISA, prime sample attention (Cao et al. 2020), following MMDetection's `isr_p` and
//! `carl_loss` (mmdet/models/losses/pisa_loss.py); negatives in `score_hlr.rs`.

use super::random::RandomSampler;
use super::score_hlr::{ScoreHlr, score_hlr};
use super::{SampleContext, SampleResult, expected_neg};
use crate::assign::AssignResult;
use crate::geometry::{Box4, iou};
use serde::{Deserialize, Serialize};

/// PISA sampling and reweighting.
/// - Positives: all of them (`dense`) or `int(num * pos_fraction)` at random, weighted by
///   ISR-P ([`isr_p`]).
/// - Negatives: `dense` keeps every negative at weight 1 (MMDetection's PISA RetinaNet has no
///   negative reweighting); otherwise Score-HLR ([`score_hlr`], MMDetection's
///   `ScoreHLRSampler`, used by PISA Faster R-CNN) picks and weights them.
/// - CARL (`carl_k`, `carl_bias`) weights the positives' regression loss: see [`Self::carl`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PisaSampler {
    /// Total samples wanted (ignored when `dense`).
    pub num: usize,
    /// Fraction of `num` reserved for positives (ignored when `dense`).
    pub pos_fraction: f32,
    /// Upper bound on negatives per picked positive; negative means none.
    pub neg_pos_ub: f32,
    /// Keep every positive and negative (one-stage PISA); only positives are reweighted.
    pub dense: bool,
    /// ISR-P exponent `k`.
    pub isr_k: f32,
    /// ISR-P bias.
    pub isr_bias: f32,
    /// Score-HLR settings for the negatives.
    pub hlr: ScoreHlr,
    /// CARL exponent `k`.
    pub carl_k: f32,
    /// CARL bias.
    pub carl_bias: f32,
}

impl Default for PisaSampler {
    /// PISA Faster R-CNN: 512 samples, a quarter positives, ISR-P k=2 bias 0, Score-HLR
    /// defaults, CARL k=1 bias 0.2.
    fn default() -> Self {
        Self {
            num: 512,
            pos_fraction: 0.25,
            neg_pos_ub: -1.0,
            dense: false,
            isr_k: 2.0,
            isr_bias: 0.0,
            hlr: ScoreHlr::default(),
            carl_k: 1.0,
            carl_bias: 0.2,
        }
    }
}

impl PisaSampler {
    /// PISA RetinaNet: dense, ISR-P on the positives, CARL on their regression loss.
    pub fn retinanet() -> Self {
        Self {
            dense: true,
            ..Self::default()
        }
    }

    /// Picks and weights positives (ISR-P) and negatives (Score-HLR or dense).
    pub fn sample(&self, ctx: &SampleContext) -> SampleResult {
        let mut rng = ctx.rng();
        let pos = if self.dense {
            ctx.assign.positives()
        } else {
            let r = RandomSampler {
                num: self.num,
                pos_fraction: self.pos_fraction,
                neg_pos_ub: -1.0,
            };
            r.sample_pos(ctx, &mut rng)
        };
        let pos_w = isr_p(
            &pos,
            ctx.assign,
            ctx.gts,
            ctx.gt_classes,
            ctx.boxes(),
            ctx.losses,
            self.isr_k,
            self.isr_bias,
        );
        let (neg, neg_w) = if self.dense {
            let neg = ctx.assign.negatives();
            let w = vec![1.0; neg.len()];
            (neg, w)
        } else {
            let k = expected_neg(self.num, pos.len(), self.neg_pos_ub);
            score_hlr(
                &ctx.assign.negatives(),
                k,
                ctx.scores,
                ctx.boxes(),
                ctx.losses,
                &self.hlr,
                &mut rng,
            )
        };
        SampleResult::weighted(ctx.len(), pos, pos_w, neg, neg_w)
    }

    /// CARL weights for the positives' scores, with this sampler's `carl_k` and `carl_bias`.
    pub fn carl(&self, pos_scores: &[f32]) -> Vec<f32> {
        carl_weights(pos_scores, self.carl_k, self.carl_bias)
    }
}

/// Multiplies `w` so that `sum(loss * w)` equals `sum(loss)` over the same entries (uniform
/// losses without `losses`); left unchanged when the weighted sum is not positive.
pub(crate) fn normalise(idx: &[usize], w: &mut [f32], losses: Option<&[f32]>) {
    let (orig, new) = idx
        .iter()
        .zip(w.iter())
        .fold((0.0f64, 0.0f64), |(o, n), (&i, &wi)| {
            let l = losses.map_or(1.0, |l| l[i] as f64);
            (o + l, n + l * wi as f64)
        });
    if new > 0.0 && new.is_finite() && orig.is_finite() {
        let ratio = (orig / new) as f32;
        w.iter_mut().for_each(|x| *x *= ratio);
    }
}

/// ISR-P (importance-based sample reweighting, positives), MMDetection's `isr_p`. For each
/// positive `pos[j]`, the IoU of its box (`boxes`: predictions or anchors) with its GT; within
/// each GT the positives are ranked by IoU (local rank); within each class they are ranked by
/// (local rank, then IoU descending) (IoU-HLR `r`; ties: lower anchor index first). Weight
/// `(bias + (1 - bias) * (max_n - r) / max_n)^k`, `max_n` = the largest number of positives of
/// one class, then rescaled so that `sum(loss * w) = sum(loss)` over the positives. Returns
/// one weight per entry of `pos`.
#[allow(clippy::too_many_arguments)]
pub fn isr_p(
    pos: &[usize],
    assign: &AssignResult,
    gts: &[Box4],
    gt_classes: &[usize],
    boxes: &[Box4],
    losses: Option<&[f32]>,
    k: f32,
    bias: f32,
) -> Vec<f32> {
    let n = pos.len();
    if n == 0 {
        return Vec::new();
    }
    let gt: Vec<usize> = pos.iter().map(|&i| assign.matched_gt[i] as usize).collect();
    let cls: Vec<usize> = gt
        .iter()
        .map(|&g| gt_classes.get(g).copied().unwrap_or(0))
        .collect();
    let ious: Vec<f32> = pos
        .iter()
        .zip(&gt)
        .map(|(&i, &g)| iou(&boxes[i], &gts[g]))
        .collect();
    let by_iou = |a: &usize, b: &usize| ious[*b].total_cmp(&ious[*a]).then(pos[*a].cmp(&pos[*b]));
    // local rank within each GT
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|a, b| gt[*a].cmp(&gt[*b]).then_with(|| by_iou(a, b)));
    let mut local = vec![0usize; n];
    for (p, &j) in order.iter().enumerate() {
        local[j] = if p > 0 && gt[order[p - 1]] == gt[j] {
            local[order[p - 1]] + 1
        } else {
            0
        };
    }
    // global rank within each class
    order.sort_by(|a, b| {
        cls[*a]
            .cmp(&cls[*b])
            .then(local[*a].cmp(&local[*b]))
            .then_with(|| by_iou(a, b))
    });
    let mut rank = vec![0usize; n];
    let mut max_n = 0;
    for (p, &j) in order.iter().enumerate() {
        rank[j] = if p > 0 && cls[order[p - 1]] == cls[j] {
            rank[order[p - 1]] + 1
        } else {
            0
        };
        max_n = max_n.max(rank[j] + 1);
    }
    let mut w: Vec<f32> = rank
        .iter()
        .map(|&r| {
            let lin = (max_n - r) as f32 / max_n as f32;
            (bias + (1.0 - bias) * lin).powf(k)
        })
        .collect();
    normalise(pos, &mut w, losses);
    w
}

/// CARL weights (classification-aware regression loss): `w = (bias + (1 - bias) s)^k` for
/// each positive's score `s`, rescaled so the weights sum to the number of positives.
pub fn carl_weights(scores: &[f32], k: f32, bias: f32) -> Vec<f32> {
    let mut w: Vec<f32> = scores
        .iter()
        .map(|&s| (bias + (1.0 - bias) * s).powf(k))
        .collect();
    let sum: f64 = w.iter().map(|&x| x as f64).sum();
    if sum > 0.0 {
        let ratio = (scores.len() as f64 / sum) as f32;
        w.iter_mut().for_each(|x| *x *= ratio);
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: &[f32], b: &[f32]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-5)
    }

    /// GT 0 with positives at IoU 0.9 (anchor 0) and 0.5 (anchor 1); GT 1 with 0.8 (anchor 2).
    fn isr_case() -> (AssignResult, Vec<Box4>, Vec<Box4>) {
        let gts = vec![[0.0, 0.0, 10.0, 10.0], [20.0, 0.0, 30.0, 10.0]];
        let anchors = vec![
            [0.0, 0.0, 10.0, 9.0],
            [0.0, 0.0, 10.0, 5.0],
            [20.0, 0.0, 30.0, 8.0],
            [50.0, 50.0, 60.0, 60.0],
        ];
        (
            AssignResult::from_labels(vec![1, 1, 2, 0], vec![0.9, 0.5, 0.8, 0.0]),
            anchors,
            gts,
        )
    }

    #[test]
    fn isr_p_hand_values() {
        let (assign, anchors, gts) = isr_case();
        // one class: local ranks 0, 1, 0 -> IoU-HLR 0 (0.9), 2 (0.5), 1 (0.8); max_n = 3
        let w = isr_p(&[0, 1, 2], &assign, &gts, &[0, 0], &anchors, None, 2.0, 0.0);
        let raw = [1.0f32, 1.0 / 9.0, 4.0 / 9.0];
        let ratio = 3.0 / raw.iter().sum::<f32>();
        assert!(close(&w, &raw.map(|x| x * ratio)), "{w:?}");
        // two classes: each ranks alone, max_n = 2
        let w = isr_p(&[0, 1, 2], &assign, &gts, &[0, 1], &anchors, None, 2.0, 0.0);
        let raw = [1.0f32, 0.25, 1.0];
        let ratio = 3.0 / raw.iter().sum::<f32>();
        assert!(close(&w, &raw.map(|x| x * ratio)), "{w:?}");
        // with losses: the weighted loss sum equals the plain one
        let losses = [0.2, 1.5, 0.7, 3.0];
        let w = isr_p(
            &[0, 1, 2],
            &assign,
            &gts,
            &[0, 0],
            &anchors,
            Some(&losses),
            2.0,
            0.0,
        );
        let new: f32 = w.iter().zip(&losses).map(|(a, b)| a * b).sum();
        assert!((new - 2.4).abs() < 1e-5);
        // bias 1: every weight 1
        let w = isr_p(&[0, 1, 2], &assign, &gts, &[0, 0], &anchors, None, 2.0, 1.0);
        assert!(close(&w, &[1.0; 3]));
    }

    #[test]
    fn carl_values() {
        // (0.2 + 0.8 s): 0.6 and 1.0, normalised to sum 2
        assert!(close(&carl_weights(&[0.5, 1.0], 1.0, 0.2), &[0.75, 1.25]));
        assert!(carl_weights(&[], 1.0, 0.2).is_empty());
        assert!(close(
            &PisaSampler::default().carl(&[0.3, 0.3, 0.3]),
            &[1.0; 3]
        ));
    }

    #[test]
    fn sampler_dense_and_sampled() {
        let (assign, anchors, gts) = isr_case();
        let ctx = SampleContext {
            gt_classes: &[0, 0],
            ..SampleContext::new(&assign, &anchors, &gts)
        };
        let r = PisaSampler::retinanet().sample(&ctx);
        assert_eq!((r.pos.clone(), r.neg.clone()), (vec![0, 1, 2], vec![3]));
        assert_eq!(r.weights[3], 1.0);
        assert!(r.weights[0] > r.weights[2] && r.weights[2] > r.weights[1]);
        let r = PisaSampler {
            num: 4,
            pos_fraction: 0.5,
            ..Default::default()
        }
        .sample(&ctx);
        assert_eq!((r.num_pos(), r.num_neg()), (2, 1));
    }
}
