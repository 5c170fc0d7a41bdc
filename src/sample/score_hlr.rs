//! Score-HLR negative sampling (PISA's ISR-N), MMDetection's `ScoreHLRSampler`.

use super::pisa::normalise;
use super::random_choice;
use crate::geometry::{Box4, nms_match};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Score-HLR settings (MMDetection `ScoreHLRSampler` defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScoreHlr {
    /// Exponent of the weight mapping.
    pub k: f32,
    /// Bias of the weight mapping.
    pub bias: f32,
    /// Negatives scoring at most this are "invalid" (random fill only).
    pub score_thr: f32,
    /// IoU (>=) at which NMS-match groups two boxes.
    pub iou_thr: f32,
}

impl Default for ScoreHlr {
    /// k 0.5, bias 0, score threshold 0.05, grouping IoU 0.5.
    fn default() -> Self {
        Self {
            k: 0.5,
            bias: 0.0,
            score_thr: 0.05,
            iou_thr: 0.5,
        }
    }
}

/// Score-HLR negatives (MMDetection `ScoreHLRSampler._sample_neg`). Of the negatives `neg`,
/// the "valid" ones score above `score_thr` (`scores`: the max foreground score; without
/// scores none is valid). Valid negatives are grouped by NMS-match on their boxes; their
/// Score-HLR ranks them by (rank inside the group, then score descending; ties: lower index).
/// The top `min(#valid, n)` of that order are picked (`n = min(#neg, num_expected)`), the
/// shortfall is drawn at random from the invalid ones. Weights: `(U - rank) / U` with
/// `U = max(n, #valid)`, the random picks taking the smallest HLR weight, mapped through
/// `(bias + (1 - bias) w)^k` and rescaled so `sum(loss * w) = sum(loss)` over the picks.
/// With no valid negative, `n` random negatives at weight 1. Returns `(picks, weights)`.
pub fn score_hlr(
    neg: &[usize],
    num_expected: usize,
    scores: Option<&[f32]>,
    boxes: &[Box4],
    losses: Option<&[f32]>,
    p: &ScoreHlr,
    rng: &mut ChaCha8Rng,
) -> (Vec<usize>, Vec<f32>) {
    let n = num_expected.min(neg.len());
    let (valid, invalid): (Vec<usize>, Vec<usize>) = match scores {
        Some(s) => neg.iter().partition(|&&i| s[i] > p.score_thr),
        None => (Vec::new(), neg.to_vec()),
    };
    if valid.is_empty() || n == 0 {
        let picks = random_choice(neg, n, rng);
        let w = vec![1.0; picks.len()];
        return (picks, w);
    }
    let s = scores.expect("valid negatives have scores");
    let vb: Vec<Box4> = valid.iter().map(|&i| boxes[i]).collect();
    let vs: Vec<f32> = valid.iter().map(|&i| s[i]).collect();
    let mut in_group = vec![0usize; valid.len()];
    for g in nms_match(&vb, &vs, p.iou_thr) {
        for (r, &j) in g.iter().enumerate() {
            in_group[j] = r;
        }
    }
    let mut order: Vec<usize> = (0..valid.len()).collect();
    order.sort_by(|&a, &b| {
        in_group[a]
            .cmp(&in_group[b])
            .then(vs[b].total_cmp(&vs[a]))
            .then(valid[a].cmp(&valid[b]))
    });
    let num_hlr = valid.len().min(n);
    let up = n.max(valid.len()) as f32;
    let mut picks: Vec<usize> = order[..num_hlr].iter().map(|&j| valid[j]).collect();
    let mut w: Vec<f32> = (0..num_hlr).map(|r| (up - r as f32) / up).collect();
    let w_min = w[num_hlr - 1];
    let rand = random_choice(&invalid, n - num_hlr, rng);
    w.extend(std::iter::repeat_n(w_min, rand.len()));
    picks.extend(rand);
    w.iter_mut()
        .for_each(|x| *x = (p.bias + (1.0 - p.bias) * *x).powf(p.k));
    normalise(&picks, &mut w, losses);
    (picks, w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn close(a: &[f32], b: &[f32]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-5)
    }

    #[test]
    fn nms_match_groups() {
        let boxes = [
            [0.0, 0.0, 10.0, 10.0],
            [0.0, 0.0, 10.0, 5.0],
            [1.0, 0.0, 11.0, 10.0],
            [30.0, 0.0, 40.0, 10.0],
        ];
        // box 1 has IoU exactly 0.5 with box 0: grouped (>=)
        assert_eq!(
            nms_match(&boxes, &[0.9, 0.8, 0.95, 0.1], 0.5),
            vec![vec![2, 0], vec![1], vec![3]]
        );
        assert_eq!(
            nms_match(&boxes, &[0.9, 0.8, 0.7, 0.1], 0.5),
            vec![vec![0, 1, 2], vec![3]]
        );
    }

    #[test]
    fn score_hlr_hand_values() {
        // negatives 0..5: A (0.9) and A' (0.6) overlap, B (0.7) apart, C invalid (0.01)
        let boxes = [
            [0.0, 0.0, 10.0, 10.0],
            [1.0, 0.0, 11.0, 10.0],
            [40.0, 0.0, 50.0, 10.0],
            [80.0, 0.0, 90.0, 10.0],
        ];
        let scores = [0.9, 0.6, 0.7, 0.01];
        let p = ScoreHlr::default();
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        // HLR order: A (group rank 0, 0.9), B (0, 0.7), A' (1); two wanted, U = max(2, 3) = 3
        let (picks, w) = score_hlr(&[0, 1, 2, 3], 2, Some(&scores), &boxes, None, &p, &mut rng);
        assert_eq!(picks, vec![0, 2]);
        let raw = [1.0f32, (2.0f32 / 3.0).sqrt()];
        let ratio = 2.0 / (raw[0] + raw[1]);
        assert!(close(&w, &raw.map(|x| x * ratio)), "{w:?}");
        // four wanted: the three valid, then the invalid one at the smallest HLR weight
        let (picks, w) = score_hlr(&[0, 1, 2, 3], 4, Some(&scores), &boxes, None, &p, &mut rng);
        assert_eq!(picks, vec![0, 2, 1, 3]);
        let raw = [1.0f32, 0.75f32.sqrt(), 0.5f32.sqrt(), 0.5f32.sqrt()];
        let ratio = 4.0 / raw.iter().sum::<f32>();
        assert!(close(&w, &raw.map(|x| x * ratio)), "{w:?}");
        // no scores: random, weight 1
        let (picks, w) = score_hlr(&[0, 1, 2, 3], 2, None, &boxes, None, &p, &mut rng);
        assert_eq!((picks.len(), w), (2, vec![1.0, 1.0]));
    }
}
