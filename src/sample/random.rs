//! Uniform random sampling (MMDetection `RandomSampler`).

use super::{SampleContext, SampleResult, expected_neg, expected_pos, random_choice};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Picks `min(#pos, int(num * pos_fraction))` positives and then
/// `min(#neg, num - picked positives)` negatives uniformly at random (without replacement);
/// `neg_pos_ub >= 0` also caps negatives at `int(neg_pos_ub * max(1, picked positives))`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RandomSampler {
    /// Total samples wanted.
    pub num: usize,
    /// Fraction of `num` reserved for positives.
    pub pos_fraction: f32,
    /// Upper bound on negatives per picked positive; negative means none.
    pub neg_pos_ub: f32,
}

impl Default for RandomSampler {
    /// Faster R-CNN's RPN: 256 samples, half positives, no ratio cap.
    fn default() -> Self {
        Self {
            num: 256,
            pos_fraction: 0.5,
            neg_pos_ub: -1.0,
        }
    }
}

impl RandomSampler {
    /// Faster R-CNN's second stage: 512 samples, a quarter positives.
    pub fn rcnn() -> Self {
        Self {
            num: 512,
            pos_fraction: 0.25,
            neg_pos_ub: -1.0,
        }
    }

    /// Samples positives and negatives uniformly; weight 1 for every pick.
    pub fn sample(&self, ctx: &SampleContext) -> SampleResult {
        let mut rng = ctx.rng();
        let pos = self.sample_pos(ctx, &mut rng);
        let neg = random_neg(
            ctx,
            expected_neg(self.num, pos.len(), self.neg_pos_ub),
            &mut rng,
        );
        SampleResult::hard(ctx.len(), pos, neg)
    }

    /// The random positives (`min(#pos, int(num * pos_fraction))` of them).
    pub(crate) fn sample_pos(&self, ctx: &SampleContext, rng: &mut ChaCha8Rng) -> Vec<usize> {
        random_choice(
            &ctx.assign.positives(),
            expected_pos(self.num, self.pos_fraction),
            rng,
        )
    }
}

/// `min(#neg, k)` negatives uniformly at random.
pub(crate) fn random_neg(ctx: &SampleContext, k: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
    random_choice(&ctx.assign.negatives(), k, rng)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assign::AssignResult;

    #[test]
    fn counts_and_ratio_cap() {
        // 10 positives, 1000 negatives, 5 ignored
        let mut labels = vec![0; 1015];
        labels[..10].fill(1);
        labels[1010..].fill(-1);
        let assign = AssignResult::from_labels(labels, vec![0.0; 1015]);
        let anchors = vec![[0.0; 4]; 1015];
        let ctx = SampleContext::new(&assign, &anchors, &[]);
        let r = RandomSampler::default().sample(&ctx);
        assert_eq!((r.num_pos(), r.num_neg()), (10, 246));
        let capped = RandomSampler {
            neg_pos_ub: 3.0,
            ..RandomSampler::default()
        };
        assert_eq!(capped.sample(&ctx).num_neg(), 30);
        let r = RandomSampler {
            num: 8,
            pos_fraction: 0.25,
            neg_pos_ub: -1.0,
        }
        .sample(&ctx);
        assert_eq!((r.num_pos(), r.num_neg()), (2, 6));
        assert!(r.pos.iter().all(|&i| i < 10) && r.neg.iter().all(|&i| (10..1010).contains(&i)));
        assert_eq!(r.weights.iter().filter(|&&w| w == 1.0).count(), 8);
        // no positive: the cap uses max(1, 0) = 1
        let assign = AssignResult::from_labels(vec![0; 50], vec![0.0; 50]);
        let anchors = vec![[0.0; 4]; 50];
        let ctx = SampleContext::new(&assign, &anchors, &[]);
        assert_eq!(capped.sample(&ctx).num_neg(), 3);
    }
}
