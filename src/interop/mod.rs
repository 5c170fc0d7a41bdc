//! A run's settings for other frameworks (`anchorscope export-config`): an MMDetection 3
//! RetinaNet config ([`mmdet`]) or Detectron2 config keys ([`detectron2`]). Each writes the
//! assigner, sampler and losses with their parameters under the framework's own names, and
//! lists in comments what it has no equivalent for.
//!
//! Above `train` (it reads [`RunSettings`]), below the command line.

pub mod detectron2;
pub mod mmdet;
pub mod py;

pub use detectron2::detectron2_config;
pub use mmdet::mmdet_config;

use crate::train::hard_positives::HardPositives;
use crate::train::run::RunSettings;

/// A target framework.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// MMDetection 3 (a Python config file).
    Mmdet,
    /// Detectron2 (a YAML config).
    Detectron2,
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "mmdet" => Ok(Self::Mmdet),
            "detectron2" => Ok(Self::Detectron2),
            other => Err(format!("--format {other}: expected mmdet or detectron2")),
        }
    }
}

/// The config text of `settings` in `format`; `origin` names the settings file.
pub fn export(settings: &RunSettings, format: Format, origin: &str) -> String {
    match format {
        Format::Mmdet => mmdet_config(settings, origin),
        Format::Detectron2 => detectron2_config(settings, origin),
    }
}

/// The comment line for the hard-positive augmentation when it is on (neither framework
/// ships it: A-Fast-RCNN's ASDN / ASTN are networks trained beside the detector).
fn hard_positives_note(hp: &HardPositives) -> Option<String> {
    if !hp.enabled() {
        return None;
    }
    let mut parts = Vec::new();
    if hp.occlude {
        parts.push(format!(
            "occlusion of the loss-raising patch ({} of the box side)",
            hp.patch
        ));
    }
    if hp.rotate_deg > 0.0 {
        parts.push(format!("rotation up to {} degrees", hp.rotate_deg));
    }
    Some(format!(
        "hard_positives: {} of each positive box, every {} step(s) (anchorscope's ASDN / ASTN-style augmentation; no equivalent)",
        parts.join(" and "),
        hp.every
    ))
}

#[cfg(test)]
mod tests;
