//! CARL (PISA's classification-aware regression loss) in training: each picked positive's
//! regression loss is multiplied by `(bias + (1 - bias) s)^k` of its classification score
//! `s` (its GT class's probability), the weights rescaled to sum to the number of picked
//! positives ([`crate::sample::carl_weights`]). It applies when the run samples with PISA,
//! with the sampler's `carl_k` and `carl_bias`.
//!
//! Convention: the weights are held constant in backward (no gradient into the score);
//! MMDetection's `carl_loss` also back-propagates through the score.

use crate::sample::{SampleResult, SamplerConfig, carl_weights};

/// The CARL factor of each picked positive (in `picks.pos` order), or `None` when the
/// sampler is not PISA. `scores` are the sampler scores of every anchor.
pub fn carl_factors(
    sampler: &SamplerConfig,
    picks: &SampleResult,
    scores: Option<&[f32]>,
) -> Option<Vec<f64>> {
    let (SamplerConfig::Pisa(p), Some(s)) = (sampler, scores) else {
        return None;
    };
    let pos_scores: Vec<f32> = picks.pos.iter().map(|&a| s[a]).collect();
    let w = carl_weights(&pos_scores, p.carl_k, p.carl_bias);
    Some(w.into_iter().map(f64::from).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::PisaSampler;

    #[test]
    fn carl_factors_by_hand() {
        // positives 1, 3, 4 with scores 0.9, 0.5, 0.1; k = 1, bias = 0.2:
        // raw 0.2 + 0.8 s = 0.92, 0.60, 0.28 (sum 1.8), rescaled by 3 / 1.8
        let picks = SampleResult::hard(6, vec![1, 3, 4], vec![0]);
        let scores = [0.0, 0.9, 0.0, 0.5, 0.1, 0.0];
        let pisa = SamplerConfig::Pisa(PisaSampler::retinanet());
        let f = carl_factors(&pisa, &picks, Some(&scores)).unwrap();
        let want = [0.92 / 0.6, 1.0, 0.28 / 0.6];
        for (a, b) in f.iter().zip(want) {
            assert!((a - b).abs() < 1e-6, "{f:?}");
        }
        // k = 2: (0.8464, 0.36, 0.0784) / 1.2848 * 3
        let sq = SamplerConfig::Pisa(PisaSampler {
            carl_k: 2.0,
            ..PisaSampler::retinanet()
        });
        let f = carl_factors(&sq, &picks, Some(&scores)).unwrap();
        assert!((f[0] - 0.8464 * 3.0 / 1.2848).abs() < 1e-5, "{f:?}");
        // other samplers: no CARL
        assert!(carl_factors(&SamplerConfig::None, &picks, Some(&scores)).is_none());
    }
}
