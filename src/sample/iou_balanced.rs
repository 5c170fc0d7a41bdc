//! IoU-balanced negative sampling (Libra R-CNN, MMDetection `IoUBalancedNegSampler`).

use super::instance_balanced::instance_balanced_pos;
use super::random::RandomSampler;
use super::{
    SampleContext, SampleResult, expected_neg, expected_pos, random_choice, sorted_difference,
};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Libra R-CNN's IoU-balanced negatives, with MMDetection's conventions:
/// - positives are random as in [`RandomSampler`] (or instance-balanced with
///   `instance_balanced_pos`, Libra R-CNN's full recipe);
/// - when there are more negatives than wanted, `int(n * (1 - floor_fraction))` of them are
///   drawn from the negatives above the floor through `num_bins` IoU bins of width
///   `(max_iou - floor) / num_bins`, `max_iou` taken over **all** anchors (positives
///   included), each bin `[lo, hi)` giving at most `int(n' / num_bins)` at random and the
///   shortfall filled at random from the other above-floor negatives; the rest comes at random
///   from the negatives below the floor, and any remaining shortfall from all negatives;
/// - `floor_thr < 0` (MMDetection allows only -1) puts every negative in the IoU-sampled set
///   with the floor reset to 0 for the bin edges; `floor_thr == 0` splits at IoU 0 exactly.
///
/// One MMDetection quirk is not copied: it stores the reset floor (0) in the sampler, so its
/// second call onwards behaves as `floor_thr = 0`; this sampler is stateless.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IouBalancedNegSampler {
    /// Total samples wanted.
    pub num: usize,
    /// Fraction of `num` reserved for positives.
    pub pos_fraction: f32,
    /// Upper bound on negatives per picked positive; negative means none.
    pub neg_pos_ub: f32,
    /// IoU floor below which negatives are sampled uniformly; -1: no floor.
    pub floor_thr: f32,
    /// Fraction of the negatives drawn from below the floor.
    pub floor_fraction: f32,
    /// Number of IoU bins (1: plain random above the floor).
    pub num_bins: usize,
    /// Sample positives per GT (`InstanceBalancedPosSampler`) instead of uniformly.
    pub instance_balanced_pos: bool,
}

impl Default for IouBalancedNegSampler {
    /// Libra R-CNN's negatives: 512 samples, a quarter positives, no floor, 3 bins.
    fn default() -> Self {
        Self {
            num: 512,
            pos_fraction: 0.25,
            neg_pos_ub: -1.0,
            floor_thr: -1.0,
            floor_fraction: 0.0,
            num_bins: 3,
            instance_balanced_pos: false,
        }
    }
}

impl IouBalancedNegSampler {
    /// Libra R-CNN's full sampler: instance-balanced positives and IoU-balanced negatives.
    pub fn libra() -> Self {
        Self {
            instance_balanced_pos: true,
            ..Self::default()
        }
    }

    /// Samples positives, then IoU-balanced negatives; weight 1 for every pick.
    pub fn sample(&self, ctx: &SampleContext) -> SampleResult {
        let mut rng = ctx.rng();
        let k = expected_pos(self.num, self.pos_fraction);
        let pos = if self.instance_balanced_pos {
            instance_balanced_pos(ctx, k, &mut rng)
        } else {
            let r = RandomSampler {
                num: self.num,
                pos_fraction: self.pos_fraction,
                neg_pos_ub: -1.0,
            };
            r.sample_pos(ctx, &mut rng)
        };
        let k = expected_neg(self.num, pos.len(), self.neg_pos_ub);
        let neg = self.sample_neg(ctx, k, &mut rng);
        SampleResult::hard(ctx.len(), pos, neg)
    }

    /// `min(#neg, k)` IoU-balanced negatives.
    fn sample_neg(&self, ctx: &SampleContext, k: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
        let neg = ctx.assign.negatives();
        if neg.len() <= k {
            return neg;
        }
        let iou = &ctx.assign.max_iou;
        let keep = |f: &dyn Fn(f32) -> bool| -> Vec<usize> {
            neg.iter().copied().filter(|&i| f(iou[i])).collect()
        };
        let thr = self.floor_thr;
        // (floor used for the bin edges, negatives below the floor, negatives IoU-sampled)
        let (floor, floor_set, iou_set) = if thr > 0.0 {
            (thr, keep(&|v| (0.0..thr).contains(&v)), keep(&|v| v >= thr))
        } else if thr == 0.0 {
            (0.0, keep(&|v| v == 0.0), keep(&|v| v > 0.0))
        } else {
            (0.0, Vec::new(), keep(&|v| v > thr))
        };
        let k_iou = (k as f64 * (1.0 - self.floor_fraction as f64)).max(0.0) as usize;
        let iou_sampled = if iou_set.len() > k_iou {
            if self.num_bins >= 2 {
                let max_iou = iou.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let (bins, extra) =
                    self.sample_via_interval(iou, max_iou, floor, &iou_set, k_iou, rng);
                bins.into_iter().flatten().chain(extra).collect()
            } else {
                random_choice(&iou_set, k_iou, rng)
            }
        } else {
            iou_set
        };
        let floor_sampled = random_choice(&floor_set, k.saturating_sub(iou_sampled.len()), rng);
        let mut picked: Vec<usize> = floor_sampled.into_iter().chain(iou_sampled).collect();
        if picked.len() < k {
            let rest = sorted_difference(&neg, &picked);
            picked.extend(random_choice(&rest, k - picked.len(), rng));
        }
        picked
    }

    /// MMDetection's `sample_via_interval`: per-bin random picks, then the random fill from
    /// the rest of `pool` (sorted). Returns `(picks of each bin, fill)`.
    fn sample_via_interval(
        &self,
        iou: &[f32],
        max_iou: f32,
        floor: f32,
        pool: &[usize],
        k: usize,
        rng: &mut ChaCha8Rng,
    ) -> (Vec<Vec<usize>>, Vec<usize>) {
        let width = (max_iou - floor) / self.num_bins as f32;
        let per_bin = k / self.num_bins;
        let bins: Vec<Vec<usize>> = (0..self.num_bins)
            .map(|b| {
                let lo = floor + b as f32 * width;
                let hi = floor + (b + 1) as f32 * width;
                let members: Vec<usize> = pool
                    .iter()
                    .copied()
                    .filter(|&i| iou[i] >= lo && iou[i] < hi)
                    .collect();
                random_choice(&members, per_bin, rng)
            })
            .collect();
        let taken: usize = bins.iter().map(Vec::len).sum();
        let extra = if taken < k {
            let all: Vec<usize> = bins.iter().flatten().copied().collect();
            random_choice(&sorted_difference(pool, &all), k - taken, rng)
        } else {
            Vec::new()
        };
        (bins, extra)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assign::AssignResult;

    /// 128 positives at IoU 0.9; 200 negatives in [0, 0.3) and 200 in [0.3, 0.5).
    fn reference_case() -> AssignResult {
        let mut labels = vec![1; 128];
        let mut ious = vec![0.9; 128];
        for i in 0..400 {
            labels.push(0);
            ious.push(if i < 200 {
                i as f32 * 0.0014
            } else {
                0.3 + (i - 200) as f32 * 0.000_95
            });
        }
        AssignResult::from_labels(labels, ious)
    }

    #[test]
    fn reference_bins() {
        // Libra R-CNN's rule (MMDetection IoUBalancedNegSampler, num_bins 3, bin width
        // max_iou / 3), worked by hand: 384 negatives wanted, max_iou 0.9, negatives below 0.5: bins
        // [0, .3), [.3, .6), [.6, .9); the top bin is empty so its 128 slots are filled at random
        let assign = reference_case();
        let anchors = vec![[0.0; 4]; assign.len()];
        let ctx = SampleContext::new(&assign, &anchors, &[]);
        let s = IouBalancedNegSampler::default();
        let iou_set = assign.negatives();
        let (bins, extra) =
            s.sample_via_interval(&assign.max_iou, 0.9, 0.0, &iou_set, 384, &mut ctx.rng());
        let sizes: Vec<usize> = bins.iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![128, 128, 0]);
        assert_eq!(extra.len(), 128);
        assert!(bins[0].iter().all(|&i| assign.max_iou[i] < 0.3));
        assert!(bins[1].iter().all(|&i| assign.max_iou[i] >= 0.3));
        let r = s.sample(&ctx);
        assert_eq!((r.num_pos(), r.num_neg()), (128, 384));
        let low = r.neg.iter().filter(|&&i| assign.max_iou[i] < 0.3).count();
        assert!(low >= 128 && r.num_neg() - low >= 128);
        assert!(r.neg.iter().all(|&i| assign.labels[i] == 0));
    }

    #[test]
    fn floor_modes() {
        let assign = reference_case();
        let anchors = vec![[0.0; 4]; assign.len()];
        let ctx = SampleContext::new(&assign, &anchors, &[]);
        // floor at 0.3 with half the negatives from below it
        let s = IouBalancedNegSampler {
            floor_thr: 0.3,
            floor_fraction: 0.5,
            ..Default::default()
        };
        let r = s.sample(&ctx);
        assert_eq!(r.num_neg(), 384);
        let below = r.neg.iter().filter(|&&i| assign.max_iou[i] < 0.3).count();
        assert_eq!(below, 192);
        // floor 0: anchor 128 (IoU exactly 0) is the only floor negative
        let s = IouBalancedNegSampler {
            floor_thr: 0.0,
            floor_fraction: 0.5,
            num_bins: 1,
            ..Default::default()
        };
        let r = s.sample(&ctx);
        assert_eq!(r.num_neg(), 384);
        assert!(r.neg.contains(&128));
    }
}
