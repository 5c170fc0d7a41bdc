//! Hard-positive generation (Wang et al., "A-Fast-RCNN: Hard Positive Generation via
//! Adversary for Object Detection", CVPR 2017), as an optional augmentation of a step's batch
//! before the step runs on it; off by default (then the batch is untouched).
//!
//! - Rotation ([`rotate`], the ASTN idea): the pixels inside each positive box turn by a
//!   random angle in `[-rotate_deg, rotate_deg]` about the box centre; the box is unchanged.
//! - Occlusion ([`occlude`], the ASDN idea): a pre-pass (forward, the run's configured
//!   objective with only its classification part back-propagated, backward to the input
//!   image) gives `g = dL_cls/dx`; inside each positive box the patch ([`patch`]) whose
//!   filling with grey most raises the first-order estimate of the loss is filled. ASDN
//!   learns its masks with a network; here the gradient picks them directly.
//!
//! Rotation runs first, so the occlusion's pre-pass sees the image the step trains on. The
//! pre-pass always takes the host objective (on any backend); the step after it may still
//! take a backend's fused path. Randomness comes from the step's seed (the run's seed and
//! the step number): two runs with the same settings augment identically. Crowd / ignore
//! boxes are never augmented.

pub mod occlude;
pub mod patch;
pub mod rotate;
#[cfg(test)]
mod tests;

use crate::anchors::Anchors;
use crate::data::Sample;
use crate::train::config::TrainConfig;
use crate::train::engine::StepEngine;
use crate::train::objective::ObjectiveState;
use serde::{Deserialize, Serialize};

/// The hard-positive settings (TOML table `[hard_positives]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HardPositives {
    /// Occlude in each positive box the patch that most raises the classification loss.
    pub occlude: bool,
    /// The patch's width and height as a fraction of the box's, in (0, 1] (ASDN: 1/3).
    pub patch: f32,
    /// Largest rotation of a positive box's pixels, degrees in [0, 180] (0: no rotation).
    pub rotate_deg: f32,
    /// Augment the steps whose number is a multiple of this (1: every step).
    pub every: u64,
}

impl Default for HardPositives {
    fn default() -> Self {
        Self {
            occlude: false,
            patch: 1.0 / 3.0,
            rotate_deg: 0.0,
            every: 1,
        }
    }
}

impl HardPositives {
    /// Checks value ranges; the error names the key (`hard_positives.patch ...`).
    pub fn validate(&self) -> Result<(), String> {
        if !(self.patch.is_finite() && self.patch > 0.0 && self.patch <= 1.0) {
            return Err(format!(
                "hard_positives.patch must be in (0, 1], got {}",
                self.patch
            ));
        }
        if !(self.rotate_deg.is_finite() && (0.0..=180.0).contains(&self.rotate_deg)) {
            return Err(format!(
                "hard_positives.rotate_deg must be in [0, 180], got {}",
                self.rotate_deg
            ));
        }
        if self.every == 0 {
            return Err("hard_positives.every must be >= 1".into());
        }
        Ok(())
    }

    /// Whether anything is switched on.
    pub fn enabled(&self) -> bool {
        self.occlude || self.rotate_deg > 0.0
    }

    /// Whether step `step` (0-based) is augmented.
    pub fn active(&self, step: u64) -> bool {
        self.enabled() && step.is_multiple_of(self.every)
    }
}

/// What the occlusion's pre-pass runs on: the run's engine (its current parameters), its
/// anchors, settings and objective state (read, not advanced).
pub struct PrePass<'a> {
    /// The step engine of the run.
    pub engine: &'a mut dyn StepEngine,
    /// The anchors of the training image size.
    pub anchors: &'a Anchors,
    /// The run's settings (objective and `hard_positives`).
    pub cfg: &'a TrainConfig,
    /// The objective's state (copied for the pre-pass).
    pub obj: &'a ObjectiveState,
}

/// What one augmentation did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Augmented {
    /// Boxes whose pixels were rotated.
    pub rotated: usize,
    /// Boxes in which a patch was occluded.
    pub occluded: usize,
}

/// Augments `batch` in place with `pre.cfg.hard_positives` (rotation, then occlusion);
/// `seed` is the step's seed.
pub fn augment(batch: &mut [Sample], pre: PrePass, seed: u64) -> Result<Augmented, String> {
    let hp = &pre.cfg.hard_positives;
    let mut done = Augmented::default();
    if hp.rotate_deg > 0.0 {
        done.rotated = rotate::rotate_batch(batch, hp.rotate_deg, seed);
    }
    if hp.occlude {
        done.occluded = occlude::occlude_batch(batch, pre, seed)?;
    }
    Ok(done)
}
