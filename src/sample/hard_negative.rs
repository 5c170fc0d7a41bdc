//! SSD hard negative mining.

use super::{SampleContext, SampleResult, random_choice, top_by_loss};
use serde::{Deserialize, Serialize};

/// SSD's online hard negative mining: every positive, and the
/// `min(floor(neg_pos_ratio * #pos), #neg)` negatives with the largest loss (ties: in the
/// seeded order of [`super::tie_key`], never by index). With no positive no negative is kept, as in SSD (MMDetection's `SSDHead`
/// and torchvision's `SSD` both compute `ratio * num_pos` negatives, i.e. zero).
/// Without losses every negative looks equally hard: they are then drawn at random.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HardNegativeSampler {
    /// Negatives kept per positive.
    pub neg_pos_ratio: f32,
}

impl Default for HardNegativeSampler {
    /// SSD: 3 negatives per positive.
    fn default() -> Self {
        Self { neg_pos_ratio: 3.0 }
    }
}

impl HardNegativeSampler {
    /// All positives plus the hardest negatives; weight 1 for every pick.
    pub fn sample(&self, ctx: &SampleContext) -> SampleResult {
        let pos = ctx.assign.positives();
        let neg = ctx.assign.negatives();
        let k = ((self.neg_pos_ratio.max(0.0) as f64 * pos.len() as f64) as usize).min(neg.len());
        let neg = match ctx.losses {
            Some(l) => top_by_loss(&neg, l, k, ctx.seed),
            None => random_choice(&neg, k, &mut ctx.rng()),
        };
        SampleResult::hard(ctx.len(), pos, neg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assign::AssignResult;

    #[test]
    fn keeps_the_top_loss_negatives() {
        // anchors 0, 1 positive; 2..10 negative; 10 ignored (huge loss, never picked)
        let mut labels = vec![0; 11];
        labels[0] = 1;
        labels[1] = 2;
        labels[10] = -1;
        let assign = AssignResult::from_labels(labels, vec![0.0; 11]);
        let anchors = vec![[0.0; 4]; 11];
        let losses = [9.0, 9.0, 0.1, 0.7, 0.3, 0.7, 0.05, 0.9, 0.2, 0.6, 99.0];
        let ctx = SampleContext {
            losses: Some(&losses),
            ..SampleContext::new(&assign, &anchors, &[])
        };
        let r = HardNegativeSampler::default().sample(&ctx);
        assert_eq!(r.pos, vec![0, 1]);
        // six hardest negatives: 0.9 (7), 0.7 (3), 0.7 (5), 0.6 (9), 0.3 (4), 0.2 (8)
        assert_eq!(r.neg, vec![3, 4, 5, 7, 8, 9]);
        // ratio 1.5 -> 3 negatives: 0.9 and both at 0.7
        let r = HardNegativeSampler { neg_pos_ratio: 1.5 }.sample(&ctx);
        assert_eq!(r.neg, vec![3, 5, 7]);
        assert_eq!(r.weights[10], 0.0);
        // more wanted than available: every negative
        assert_eq!(
            HardNegativeSampler {
                neg_pos_ratio: 100.0
            }
            .sample(&ctx)
            .num_neg(),
            8
        );
    }

    #[test]
    fn equal_losses_are_not_picked_by_index() {
        // one positive, 40 negatives of equal loss (the untrained prior): 3 picks
        let mut labels = vec![0; 41];
        labels[0] = 1;
        let assign = AssignResult::from_labels(labels, vec![0.0; 41]);
        let anchors = vec![[0.0; 4]; 41];
        let losses = vec![0.5f32; 41];
        let pick = |seed| {
            let ctx = SampleContext {
                losses: Some(&losses),
                seed,
                ..SampleContext::new(&assign, &anchors, &[])
            };
            HardNegativeSampler::default().sample(&ctx).neg
        };
        assert_ne!(pick(1), vec![1, 2, 3]);
        assert_ne!(pick(1), pick(2));
        assert_eq!(pick(1), pick(1));
    }

    #[test]
    fn no_positive_no_negative() {
        let assign = AssignResult::from_labels(vec![0; 5], vec![0.0; 5]);
        let anchors = vec![[0.0; 4]; 5];
        let r = HardNegativeSampler::default().sample(&SampleContext::new(&assign, &anchors, &[]));
        assert!(r.pos.is_empty() && r.neg.is_empty());
        assert!(r.weights.iter().all(|&w| w == 0.0));
    }
}
