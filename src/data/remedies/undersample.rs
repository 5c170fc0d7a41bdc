//! Undersampling the frequent classes: an image is a candidate when it has objects and every
//! one of its object classes is frequent (in at least `frequent` of the images); a seeded
//! `keep` fraction of the candidates (rounded to the nearest image) is kept, every other image
//! always. The kept images stay in their order.

use super::IndexView;
use crate::data::{DataError, Dataset};
use crate::losses::classification::eql_class_freq;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// `[data.undersample]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UndersampleConfig {
    /// Fraction of the candidate images kept, in [0, 1].
    pub keep: f64,
    /// A class is frequent when at least this fraction of the images contain it, in (0, 1].
    pub frequent: f64,
    /// Seed of the choice.
    pub seed: u64,
}

impl Default for UndersampleConfig {
    /// Keep half of the images made only of classes in at least 25% of the images.
    fn default() -> Self {
        Self {
            keep: 0.5,
            frequent: 0.25,
            seed: 0,
        }
    }
}

impl UndersampleConfig {
    /// Checks the values; the error names the field.
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.keep) {
            return Err(format!(
                "[data.undersample] keep must be in [0, 1], got {}",
                self.keep
            ));
        }
        if !(self.frequent > 0.0 && self.frequent <= 1.0) {
            return Err(format!(
                "[data.undersample] frequent must be in (0, 1], got {}",
                self.frequent
            ));
        }
        Ok(())
    }

    /// `undersampling: keep 50% of the images of frequent classes (>= 25% of images), seed 0`.
    pub fn describe(&self) -> String {
        format!(
            "undersampling: keep {:.0}% of the images of only frequent classes (in >= {:.0}% of images), seed {}",
            100.0 * self.keep,
            100.0 * self.frequent,
            self.seed
        )
    }
}

/// The candidates (images whose object classes are all frequent) of `images`, each given by
/// its object classes.
pub fn undersample_candidates(
    images: &[Vec<usize>],
    num_classes: usize,
    frequent: f64,
) -> Vec<usize> {
    let freq = eql_class_freq(images.iter().map(Vec::as_slice), num_classes);
    let is_frequent = |c: usize| freq.get(c).is_some_and(|&f| f >= frequent);
    (0..images.len())
        .filter(|&i| !images[i].is_empty() && images[i].iter().all(|&c| is_frequent(c)))
        .collect()
}

/// The indices of the images kept, in order.
pub fn undersample_keep(
    images: &[Vec<usize>],
    num_classes: usize,
    cfg: &UndersampleConfig,
) -> Vec<usize> {
    let mut cand = undersample_candidates(images, num_classes, cfg.frequent);
    let keep = (cfg.keep * cand.len() as f64).round() as usize;
    cand.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(cfg.seed));
    let mut dropped = vec![false; images.len()];
    for &i in &cand[keep.min(cand.len())..] {
        dropped[i] = true;
    }
    (0..images.len()).filter(|&i| !dropped[i]).collect()
}

/// `inner` without the undersampled images.
pub fn undersample(
    inner: Arc<dyn Dataset>,
    cfg: &UndersampleConfig,
) -> Result<IndexView, DataError> {
    cfg.validate().map_err(|reason| DataError::Config {
        field: "[data.undersample]".into(),
        reason,
    })?;
    let images = super::image_classes(inner.as_ref())?;
    let kept = undersample_keep(&images, inner.class_names().len(), cfg);
    Ok(IndexView::new(inner, kept))
}
