//! Instance-balanced positive sampling (MMDetection `InstanceBalancedPosSampler`).

use super::random::random_neg;
use super::{
    SampleContext, SampleResult, expected_neg, expected_pos, random_choice, sorted_difference,
};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Positives balanced over GT instances: when there are more positives than wanted (`n`),
/// each GT that has positives keeps at most `round(n / #such GTs) + 1` of them at random
/// (`round`: half to even, as Python), a shortfall is filled at random from the other
/// positives and an excess is cut at random to `n`. Negatives are uniform at random. (The fill
/// differs from MMDetection in one bug fix: MMDetection's set difference compares tensors by
/// identity, so its fill can repeat a picked positive.)
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InstanceBalancedPosSampler {
    /// Total samples wanted.
    pub num: usize,
    /// Fraction of `num` reserved for positives.
    pub pos_fraction: f32,
    /// Upper bound on negatives per picked positive; negative means none.
    pub neg_pos_ub: f32,
}

impl Default for InstanceBalancedPosSampler {
    /// 512 samples, a quarter positives (Libra R-CNN's R-CNN stage).
    fn default() -> Self {
        Self {
            num: 512,
            pos_fraction: 0.25,
            neg_pos_ub: -1.0,
        }
    }
}

impl InstanceBalancedPosSampler {
    /// Instance-balanced positives, random negatives; weight 1 for every pick.
    pub fn sample(&self, ctx: &SampleContext) -> SampleResult {
        let mut rng = ctx.rng();
        let pos = instance_balanced_pos(ctx, expected_pos(self.num, self.pos_fraction), &mut rng);
        let neg = random_neg(
            ctx,
            expected_neg(self.num, pos.len(), self.neg_pos_ub),
            &mut rng,
        );
        SampleResult::hard(ctx.len(), pos, neg)
    }
}

/// `min(#pos, k)` positives balanced over GTs (see [`InstanceBalancedPosSampler`]).
pub(crate) fn instance_balanced_pos(
    ctx: &SampleContext,
    k: usize,
    rng: &mut ChaCha8Rng,
) -> Vec<usize> {
    let pos = ctx.assign.positives();
    if pos.len() <= k {
        return pos;
    }
    let mut by_gt: std::collections::BTreeMap<i32, Vec<usize>> = Default::default();
    for &i in &pos {
        by_gt.entry(ctx.assign.labels[i]).or_default().push(i);
    }
    let per_gt = (k as f64 / by_gt.len() as f64).round_ties_even() as usize + 1;
    let mut picked: Vec<usize> = by_gt
        .values()
        .flat_map(|inds| random_choice(inds, per_gt, rng))
        .collect();
    if picked.len() < k {
        let rest = sorted_difference(&pos, &picked);
        picked.extend(random_choice(&rest, k - picked.len(), rng));
    } else if picked.len() > k {
        picked = random_choice(&picked, k, rng);
    }
    picked
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assign::AssignResult;

    fn ctx_for(labels: Vec<i32>) -> (AssignResult, Vec<[f32; 4]>) {
        let n = labels.len();
        (
            AssignResult::from_labels(labels, vec![0.0; n]),
            vec![[0.0; 4]; n],
        )
    }

    #[test]
    fn quota_then_fill() {
        // GT 0: 100 positives, GT 1: 10, GT 2: 5; 30 wanted -> quota round(10) + 1 = 11
        let mut labels = vec![1; 100];
        labels.extend([2; 10]);
        labels.extend([3; 5]);
        labels.extend([0; 200]);
        let (assign, anchors) = ctx_for(labels);
        let ctx = SampleContext::new(&assign, &anchors, &[]);
        let s = InstanceBalancedPosSampler {
            num: 120,
            pos_fraction: 0.25,
            neg_pos_ub: -1.0,
        };
        let r = s.sample(&ctx);
        // 11 + 10 + 5 = 26, then 4 more from GT 0's remaining positives
        let per_gt = |r: &SampleResult| {
            let mut c = [0; 3];
            r.pos
                .iter()
                .for_each(|&i| c[assign.labels[i] as usize - 1] += 1);
            c
        };
        assert_eq!(per_gt(&r), [15, 10, 5]);
        assert_eq!(r.num_neg(), 90);
    }

    #[test]
    fn quota_then_cut() {
        // two GTs with 100 positives each, 31 wanted: quota round(15.5) + 1 = 17 each, cut to 31
        let mut labels = vec![1; 100];
        labels.extend([2; 100]);
        let (assign, anchors) = ctx_for(labels);
        let ctx = SampleContext::new(&assign, &anchors, &[]);
        let s = InstanceBalancedPosSampler {
            num: 31,
            pos_fraction: 1.0,
            neg_pos_ub: -1.0,
        };
        let r = s.sample(&ctx);
        assert_eq!(r.num_pos(), 31);
        let first = r.pos.iter().filter(|&&i| i < 100).count();
        assert!((14..=17).contains(&first), "{first}");
    }
}
