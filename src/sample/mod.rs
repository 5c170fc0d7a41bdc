//! Hard samplers: which anchors take part in the loss, and with what weight.
//!
//! Every sampler reads a [`SampleContext`] (the assignment plus optional per-anchor losses,
//! scores and predicted boxes) and returns a [`SampleResult`]: sorted positive and negative
//! indices and a per-anchor weight (0 for anchors not picked). Samplers are deterministic:
//! all randomness comes from a `ChaCha8Rng` seeded with [`SampleContext::seed`], drawn
//! positives first, then negatives.
//!
//! Common conventions (MMDetection's `BaseSampler`): expected positives =
//! `int(num * pos_fraction)`; expected negatives = `num - picked positives`, capped at
//! `int(neg_pos_ub * max(1, picked positives))` when `neg_pos_ub >= 0`. MMDetection's
//! `add_gt_as_proposals` does not apply to anchors and is not modelled. Ignored anchors
//! (label -1) are never picked.

mod hard_negative;
mod instance_balanced;
mod iou_balanced;
mod ohem;
mod pisa;
mod random;
pub mod ranking;
mod score_hlr;

pub use hard_negative::HardNegativeSampler;
pub use instance_balanced::InstanceBalancedPosSampler;
pub use iou_balanced::IouBalancedNegSampler;
pub use ohem::OhemSampler;
pub use pisa::{PisaSampler, carl_weights, isr_p};
pub use random::RandomSampler;
pub use score_hlr::{ScoreHlr, score_hlr};

use crate::assign::AssignResult;
use crate::geometry::Box4;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Everything a sampler may look at for one image.
#[derive(Clone, Copy, Debug)]
pub struct SampleContext<'a> {
    /// The assignment of every anchor.
    pub assign: &'a AssignResult,
    /// The anchors (same order as the assignment).
    pub anchors: &'a [Box4],
    /// The GT boxes.
    pub gts: &'a [Box4],
    /// Class of each GT (0-based); missing entries count as class 0.
    pub gt_classes: &'a [usize],
    /// Per-anchor classification (+ regression) loss, for OHEM, hard negative mining and PISA.
    pub losses: Option<&'a [f32]>,
    /// Per-anchor score: of the target class for positives, the max class score otherwise.
    pub scores: Option<&'a [f32]>,
    /// Decoded predicted boxes; `None` means the anchors themselves.
    pub pred_boxes: Option<&'a [Box4]>,
    /// Seed of the sampler's random generator.
    pub seed: u64,
}

impl<'a> SampleContext<'a> {
    /// A context without losses, scores or predictions, seed 0.
    pub fn new(assign: &'a AssignResult, anchors: &'a [Box4], gts: &'a [Box4]) -> Self {
        Self {
            assign,
            anchors,
            gts,
            gt_classes: &[],
            losses: None,
            scores: None,
            pred_boxes: None,
            seed: 0,
        }
    }

    /// Number of anchors.
    pub fn len(&self) -> usize {
        self.assign.len()
    }

    /// True when there are no anchors.
    pub fn is_empty(&self) -> bool {
        self.assign.is_empty()
    }

    /// Predicted boxes, or the anchors when there are none.
    pub fn boxes(&self) -> &'a [Box4] {
        self.pred_boxes.unwrap_or(self.anchors)
    }

    /// Class of GT `g` (0 when `gt_classes` has no entry for it).
    pub fn class_of(&self, g: usize) -> usize {
        self.gt_classes.get(g).copied().unwrap_or(0)
    }

    /// The random generator of this context.
    pub(crate) fn rng(&self) -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(self.seed)
    }

    /// Checks that the optional per-anchor slices have one entry per anchor.
    pub(crate) fn check(&self) {
        let n = self.len();
        assert_eq!(self.anchors.len(), n, "SampleContext: one anchor per label");
        for (name, len) in [
            ("losses", self.losses.map(<[f32]>::len)),
            ("scores", self.scores.map(<[f32]>::len)),
            ("pred_boxes", self.pred_boxes.map(<[Box4]>::len)),
        ] {
            if let Some(len) = len {
                assert_eq!(len, n, "SampleContext: {name} needs one entry per anchor");
            }
        }
    }
}

/// The anchors picked by a sampler and their loss weights.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SampleResult {
    /// Picked positive anchors, ascending.
    pub pos: Vec<usize>,
    /// Picked negative anchors, ascending.
    pub neg: Vec<usize>,
    /// Per-anchor weight: 0 when not picked, 1 for hard picks, real values for PISA.
    pub weights: Vec<f32>,
}

impl SampleResult {
    /// Hard picks with weight 1; the indices are sorted.
    pub fn hard(num_anchors: usize, pos: Vec<usize>, neg: Vec<usize>) -> Self {
        let pos_w = vec![1.0; pos.len()];
        let neg_w = vec![1.0; neg.len()];
        Self::weighted(num_anchors, pos, pos_w, neg, neg_w)
    }

    /// Picks with one weight each (`pos_w[i]` belongs to `pos[i]`); the indices are sorted.
    pub fn weighted(
        num_anchors: usize,
        mut pos: Vec<usize>,
        pos_w: Vec<f32>,
        mut neg: Vec<usize>,
        neg_w: Vec<f32>,
    ) -> Self {
        assert_eq!(
            pos.len(),
            pos_w.len(),
            "SampleResult: one weight per positive"
        );
        assert_eq!(
            neg.len(),
            neg_w.len(),
            "SampleResult: one weight per negative"
        );
        let mut weights = vec![0.0; num_anchors];
        for (&i, w) in pos.iter().zip(pos_w).chain(neg.iter().zip(neg_w)) {
            weights[i] = w;
        }
        pos.sort_unstable();
        neg.sort_unstable();
        Self { pos, neg, weights }
    }

    /// Number of picked positives.
    pub fn num_pos(&self) -> usize {
        self.pos.len()
    }

    /// Number of picked negatives.
    pub fn num_neg(&self) -> usize {
        self.neg.len()
    }
}

/// Which sampler to run (serde: `{"kind": "random", ...}`). Default: none.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SamplerConfig {
    /// No sampling (RetinaNet): every positive and negative anchor, weight 1.
    #[default]
    None,
    /// Uniform random sampling (Faster R-CNN).
    Random(RandomSampler),
    /// SSD hard negative mining.
    HardNegative(HardNegativeSampler),
    /// Online hard example mining.
    Ohem(OhemSampler),
    /// Libra R-CNN IoU-balanced negatives.
    IouBalanced(IouBalancedNegSampler),
    /// Instance-balanced positives.
    InstanceBalanced(InstanceBalancedPosSampler),
    /// Prime sample attention (ISR-P and Score-HLR weights).
    Pisa(PisaSampler),
}

impl SamplerConfig {
    /// Runs the chosen sampler.
    pub fn sample(&self, ctx: &SampleContext) -> SampleResult {
        ctx.check();
        match self {
            Self::None => {
                SampleResult::hard(ctx.len(), ctx.assign.positives(), ctx.assign.negatives())
            }
            Self::Random(s) => s.sample(ctx),
            Self::HardNegative(s) => s.sample(ctx),
            Self::Ohem(s) => s.sample(ctx),
            Self::IouBalanced(s) => s.sample(ctx),
            Self::InstanceBalanced(s) => s.sample(ctx),
            Self::Pisa(s) => s.sample(ctx),
        }
    }

    /// Short display name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::None => "None",
            Self::Random(_) => "Random",
            Self::HardNegative(_) => "Hard negative mining",
            Self::Ohem(_) => "OHEM",
            Self::IouBalanced(_) => "IoU-balanced",
            Self::InstanceBalanced(_) => "Instance-balanced",
            Self::Pisa(_) => "PISA",
        }
    }
}

/// `int(num * pos_fraction)`.
pub(crate) fn expected_pos(num: usize, pos_fraction: f32) -> usize {
    (num as f64 * pos_fraction as f64).max(0.0) as usize
}

/// `num - picked_pos`, capped at `int(neg_pos_ub * max(1, picked_pos))` when `neg_pos_ub >= 0`.
pub(crate) fn expected_neg(num: usize, picked_pos: usize, neg_pos_ub: f32) -> usize {
    let n = num.saturating_sub(picked_pos);
    if neg_pos_ub >= 0.0 {
        n.min((neg_pos_ub as f64 * picked_pos.max(1) as f64) as usize)
    } else {
        n
    }
}

/// `k` elements of `pool` uniformly without replacement (all of them when `k >= len`).
pub(crate) fn random_choice(pool: &[usize], k: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
    if k >= pool.len() {
        return pool.to_vec();
    }
    rand::seq::index::sample(rng, pool.len(), k)
        .into_iter()
        .map(|i| pool[i])
        .collect()
}

/// The `k` elements of `pool` with the largest loss. Ties are broken by [`tie_key`] of the
/// seed, never by anchor index: equal losses (the untrained prior gives every negative the
/// same one) are then picked in a seeded random order instead of the image's top-left corner.
pub(crate) fn top_by_loss(pool: &[usize], losses: &[f32], k: usize, seed: u64) -> Vec<usize> {
    let mut v = pool.to_vec();
    v.sort_by(|&a, &b| {
        losses[b]
            .total_cmp(&losses[a])
            .then(tie_key(seed, a).cmp(&tie_key(seed, b)))
            .then(a.cmp(&b))
    });
    v.truncate(k);
    v
}

/// A seeded pseudo-random key of index `i` (SplitMix64 of `seed ^ i`) that orders ties.
pub fn tie_key(seed: u64, i: usize) -> u64 {
    let mut z =
        (seed ^ (i as u64).wrapping_mul(0xD1B5_4A32_D192_ED03)).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The elements of sorted `all` that are not in sorted `picked`.
pub(crate) fn sorted_difference(all: &[usize], picked: &[usize]) -> Vec<usize> {
    let mut p = picked.to_vec();
    p.sort_unstable();
    all.iter()
        .copied()
        .filter(|i| p.binary_search(i).is_err())
        .collect()
}

#[cfg(test)]
mod tests;
