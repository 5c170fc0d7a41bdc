//! Online hard example mining (MMDetection `OHEMSampler`).

use super::{SampleContext, SampleResult, expected_neg, expected_pos, random_choice, top_by_loss};
use serde::{Deserialize, Serialize};

/// OHEM: the same counts as [`super::RandomSampler`], but when there are more candidates than
/// slots the ones with the largest loss win (ties: in the seeded order of
/// [`super::tie_key`], never by index). The loss is the head's
/// loss of each anchor under its assigned target, computed without gradients
/// ([`SampleContext::losses`]). Without losses every candidate looks equally hard: the picks
/// are then uniform at random.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OhemSampler {
    /// Total samples wanted.
    pub num: usize,
    /// Fraction of `num` reserved for positives.
    pub pos_fraction: f32,
    /// Upper bound on negatives per picked positive; negative means none.
    pub neg_pos_ub: f32,
}

impl Default for OhemSampler {
    /// MMDetection's OHEM R-CNN: 512 samples, a quarter positives.
    fn default() -> Self {
        Self {
            num: 512,
            pos_fraction: 0.25,
            neg_pos_ub: -1.0,
        }
    }
}

impl OhemSampler {
    /// The hardest positives, then the hardest negatives; weight 1 for every pick.
    pub fn sample(&self, ctx: &SampleContext) -> SampleResult {
        let mut rng = ctx.rng();
        let mut pick = |pool: Vec<usize>, k: usize| match ctx.losses {
            Some(l) if pool.len() > k => top_by_loss(&pool, l, k, ctx.seed),
            _ => random_choice(&pool, k, &mut rng),
        };
        let pos = pick(
            ctx.assign.positives(),
            expected_pos(self.num, self.pos_fraction),
        );
        let k = expected_neg(self.num, pos.len(), self.neg_pos_ub);
        let neg = pick(ctx.assign.negatives(), k);
        SampleResult::hard(ctx.len(), pos, neg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assign::AssignResult;

    #[test]
    fn top_k_by_loss() {
        // 6 positives (0..6), 10 negatives (6..16), 1 ignored (16)
        let mut labels = vec![0; 17];
        labels[..6].fill(1);
        labels[16] = -1;
        let assign = AssignResult::from_labels(labels, vec![0.0; 17]);
        let anchors = vec![[0.0; 4]; 17];
        let losses: Vec<f32> = (0..17).map(|i| ((i * 7) % 17) as f32).collect();
        let ctx = SampleContext {
            losses: Some(&losses),
            ..SampleContext::new(&assign, &anchors, &[])
        };
        let s = OhemSampler {
            num: 8,
            pos_fraction: 0.25,
            neg_pos_ub: -1.0,
        };
        let r = s.sample(&ctx);
        // positives' losses 0,7,14,4,11,1 -> top 2: anchors 2 (14) and 4 (11)
        assert_eq!(r.pos, vec![2, 4]);
        // negatives' losses (6..16): 8,15,5,12,2,9,16,6,13,3 -> top 6: 16,15,13,12,9,8
        assert_eq!(r.neg, vec![6, 7, 9, 11, 12, 14]);
        // fewer positives than slots: all of them, and negatives fill the rest
        let r = OhemSampler {
            num: 12,
            pos_fraction: 0.75,
            neg_pos_ub: -1.0,
        }
        .sample(&ctx);
        assert_eq!((r.num_pos(), r.num_neg()), (6, 6));
    }
}
