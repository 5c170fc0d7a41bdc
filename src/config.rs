//! The lab's settings: anchors, assigner and samplers, as one serde struct loadable from TOML.
//!
//! Every field has a default (`#[serde(default)]`); unknown keys are rejected so a typo in a
//! config file is an error that names the key instead of a silently ignored setting.

use crate::anchors::AnchorConfig;
use crate::assign::AssignerConfig;
use crate::sample::{
    HardNegativeSampler, InstanceBalancedPosSampler, IouBalancedNegSampler, OhemSampler,
    PisaSampler, RandomSampler,
};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Parameters of every sampler (the app and `inspect` show them side by side).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SamplerSettings {
    /// Random sampling (num, pos_fraction, neg_pos_ub).
    pub random: RandomSampler,
    /// Hard-negative mining (SSD, neg:pos 3).
    pub hard_negative: HardNegativeSampler,
    /// Online hard example mining.
    pub ohem: OhemSampler,
    /// IoU-balanced negatives (Libra R-CNN).
    pub iou_balanced: IouBalancedNegSampler,
    /// Instance-balanced positives (Libra R-CNN), random negatives.
    pub instance_balanced: InstanceBalancedPosSampler,
    /// Prime sample attention.
    pub pisa: PisaSampler,
}

/// Settings for anchors, assignment and sampling.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LabConfig {
    /// Anchor generator.
    pub anchors: AnchorConfig,
    /// Assigner (MaxIoU or ATSS).
    pub assigner: AssignerConfig,
    /// Sampler parameters.
    pub samplers: SamplerSettings,
    /// Seed of the random samplers.
    pub seed: u64,
    /// Prior foreground probability of the untrained classifier (RetinaNet: 0.01).
    pub prior_prob: f64,
    /// Anchors whose IoF with an ignore region (crowd / difficult box) exceeds this are
    /// ignored (MMDetection's `ignore_iof_thr`; <= 0 turns it off).
    pub ignore_iof_thr: f32,
}

impl Default for LabConfig {
    fn default() -> Self {
        Self {
            anchors: AnchorConfig::default(),
            assigner: AssignerConfig::default(),
            samplers: SamplerSettings::default(),
            seed: 0,
            prior_prob: 0.01,
            ignore_iof_thr: crate::assign::DEFAULT_IGNORE_IOF_THR,
        }
    }
}

/// Deserialises TOML text, with a one-line error `ORIGIN: line L: message` (the line of the
/// error's span when it has one); shared by every TOML settings file.
pub fn parse_toml<T: serde::de::DeserializeOwned>(text: &str, origin: &str) -> Result<T, String> {
    toml::from_str(text).map_err(|e: toml::de::Error| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].lines().count().max(1));
        let msg = e.message().trim().replace('\n', " ");
        match line {
            Some(l) => format!("{origin}: line {l}: {msg}"),
            None => format!("{origin}: {msg}"),
        }
    })
}

impl LabConfig {
    /// Parses TOML text; `origin` names the file in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, String> {
        let cfg: LabConfig = parse_toml(text, origin)?;
        cfg.validate().map_err(|e| format!("{origin}: {e}"))?;
        Ok(cfg)
    }

    /// Reads and parses a TOML file.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        Self::from_toml(&text, &path.display().to_string())
    }

    /// Assigns `anchors` to the boxes of a sample: crowd boxes are ignore regions.
    pub fn assign_sample(
        &self,
        anchors: &crate::anchors::Anchors,
        gts: &[crate::geometry::Box4],
        ignore: &[crate::geometry::Box4],
    ) -> crate::assign::AssignResult {
        crate::assign::assign_ignoring(&self.assigner, anchors, gts, ignore, self.ignore_iof_thr)
    }

    /// Checks value ranges; the error names the field.
    pub fn validate(&self) -> Result<(), String> {
        self.anchors.validate()?;
        if !(self.prior_prob > 0.0 && self.prior_prob < 1.0) {
            return Err(format!(
                "prior_prob must be in (0, 1), got {}",
                self.prior_prob
            ));
        }
        Ok(())
    }
}
