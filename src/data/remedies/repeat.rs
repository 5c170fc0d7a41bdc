//! Repeat-factor oversampling (LVIS, Gupta et al. 2019): with `f_c` the fraction of the
//! images that contain class `c` and `t` the threshold, class `c`'s factor is
//! `r_c = max(1, sqrt(t / f_c))` and an image's factor is the largest over its object classes
//! (1 for an image without objects; ignore regions do not count).
//!
//! Rounding: MMDetection's `ClassBalancedDataset` (the default, `rounding = "ceil"`) repeats
//! image `i` `ceil(r_i)` times, once, deterministically. `rounding = "stochastic"` is
//! Detectron2's `RepeatFactorTrainingSampler`: `floor(r_i)` copies plus one more with
//! probability `r_i - floor(r_i)`, drawn here once with `seed` (Detectron2 redraws every epoch).

use super::IndexView;
use crate::data::{DataError, Dataset};
use crate::losses::classification::eql_class_freq;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// How a fractional repeat factor becomes a number of copies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    /// `ceil(r)` (MMDetection's `ClassBalancedDataset`).
    #[default]
    Ceil,
    /// `floor(r)` + 1 with probability `frac(r)` (Detectron2), drawn once with the seed.
    Stochastic,
}

/// `[data.repeat_factor]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RepeatFactorConfig {
    /// The threshold `t`, in (0, 1]: classes in under this fraction of the images are repeated.
    pub threshold: f64,
    /// `ceil` (MMDetection) or `stochastic` (Detectron2).
    pub rounding: Rounding,
    /// Seed of the stochastic rounding.
    pub seed: u64,
}

impl Default for RepeatFactorConfig {
    /// LVIS's `t = 0.001`, MMDetection's rounding.
    fn default() -> Self {
        Self {
            threshold: 0.001,
            rounding: Rounding::Ceil,
            seed: 0,
        }
    }
}

impl RepeatFactorConfig {
    /// Checks the values; the error names the field.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.threshold > 0.0 && self.threshold <= 1.0) {
            return Err(format!(
                "[data.repeat_factor] threshold must be in (0, 1], got {}",
                self.threshold
            ));
        }
        Ok(())
    }

    /// `repeat factors t = 0.001 (ceil)`.
    pub fn describe(&self) -> String {
        let r = match self.rounding {
            Rounding::Ceil => "ceil".to_string(),
            Rounding::Stochastic => format!("stochastic, seed {}", self.seed),
        };
        format!("repeat factors t = {} ({r})", self.threshold)
    }
}

/// Each image's repeat factor `r_i = max over its classes c of max(1, sqrt(t / f_c))`, the
/// images given by their object classes.
pub fn repeat_factors(images: &[Vec<usize>], num_classes: usize, t: f64) -> Vec<f64> {
    let freq = eql_class_freq(images.iter().map(Vec::as_slice), num_classes);
    let r_c: Vec<f64> = freq
        .iter()
        .map(|&f| {
            if f > 0.0 {
                (t / f).sqrt().max(1.0)
            } else {
                1.0
            }
        })
        .collect();
    images
        .iter()
        .map(|cs| {
            cs.iter()
                .filter_map(|&c| r_c.get(c))
                .fold(1.0f64, |a, &b| a.max(b))
        })
        .collect()
}

/// The number of copies of each image for `factors`.
pub fn repeat_counts(factors: &[f64], rounding: Rounding, seed: u64) -> Vec<usize> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    factors
        .iter()
        .map(|&r| match rounding {
            Rounding::Ceil => r.ceil().max(1.0) as usize,
            Rounding::Stochastic => {
                let base = r.floor();
                base as usize + usize::from(rng.random::<f64>() < r - base)
            }
        })
        .collect()
}

/// `inner` with every image repeated by its repeat factor (copies next to each other).
pub fn oversample(
    inner: Arc<dyn Dataset>,
    cfg: &RepeatFactorConfig,
) -> Result<IndexView, DataError> {
    cfg.validate().map_err(|reason| DataError::Config {
        field: "[data.repeat_factor]".into(),
        reason,
    })?;
    let images = super::image_classes(inner.as_ref())?;
    let factors = repeat_factors(&images, inner.class_names().len(), cfg.threshold);
    let counts = repeat_counts(&factors, cfg.rounding, cfg.seed);
    let index = counts
        .iter()
        .enumerate()
        .flat_map(|(i, &n)| std::iter::repeat_n(i, n))
        .collect();
    Ok(IndexView::new(inner, index))
}
