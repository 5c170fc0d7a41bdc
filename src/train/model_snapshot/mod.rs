//! A model behind a view: the parameters of a live run (streamed by the trainer thread), of a
//! checkpoint file, or none (the untrained prior), and the head outputs they give on one image.
//!
//! `inspect`, the app's worker and the trainer thread share this type, so the image view, the
//! hover read-out, the overlays and the loss-aware samplers all score anchors with the same
//! model, and say which one it is ([`ModelSource`]).

#[cfg(test)]
mod tests;

use crate::anchors::AnchorConfig;
use crate::losses::classification::prior_bias;
use crate::model::{Model, ModelConfig, flatten_outputs};
use crate::train::checkpoint::{Checkpoint, NamedTensor};
use crate::train::config::TrainConfig;
use crate::train::input::images_to_tensor;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where the scores of a view come from.
#[derive(Clone, Debug, PartialEq)]
pub enum ModelSource {
    /// The untrained model: every logit the prior bias, every delta 0.
    Prior,
    /// The latest parameters of the run training in the app.
    Live,
    /// A checkpoint file.
    Checkpoint(PathBuf),
}

impl ModelSource {
    /// `prior`, `live` or `checkpoint` (the `"source"` of `inspect --json`).
    pub fn key(&self) -> &'static str {
        match self {
            Self::Prior => "prior",
            Self::Live => "live",
            Self::Checkpoint(_) => "checkpoint",
        }
    }
}

/// The settings a run's detector is built with: `base` with the classes, anchors per
/// location and prior of the run's config (what [`crate::train::Trainer::new`] builds).
pub fn run_model_config(base: &ModelConfig, cfg: &TrainConfig) -> ModelConfig {
    let mut mc = base.clone();
    mc.num_classes = cfg.num_classes;
    mc.num_anchors = cfg.lab.anchors.anchors_per_location();
    mc.prior_prob = cfg.lab.prior_prob;
    mc
}

/// A model's parameters at some step, with the settings it was built and trained with.
#[derive(Clone, Debug)]
pub struct ModelSnapshot {
    /// Where it comes from.
    pub source: ModelSource,
    /// Training steps done.
    pub step: u64,
    /// The detector's settings.
    pub model: ModelConfig,
    /// The run's settings (its losses are the ones the hard samplers rank by).
    pub train: TrainConfig,
    /// Parameters in [`Model::params`] order.
    pub params: Arc<Vec<NamedTensor>>,
}

/// One image's head outputs and the model that gave them.
#[derive(Clone, Debug)]
pub struct ModelOutputs {
    /// Where the outputs come from.
    pub source: ModelSource,
    /// Steps of that model (0 for the prior).
    pub step: u64,
    /// Logits `[A][C]`.
    pub logits: Vec<f32>,
    /// Deltas `[A][4]`.
    pub deltas: Vec<f32>,
}

impl ModelOutputs {
    /// The untrained prior for `anchors` anchors and `classes` classes.
    pub fn prior(anchors: usize, classes: usize, prior_prob: f64) -> Self {
        Self {
            source: ModelSource::Prior,
            step: 0,
            logits: vec![prior_bias(prior_prob) as f32; anchors * classes],
            deltas: vec![0.0; anchors * 4],
        }
    }

    /// A one-line description for captions and the status bar (a checkpoint by its folder
    /// and file name).
    pub fn caption(&self) -> String {
        match &self.source {
            ModelSource::Prior => "scores: untrained prior".into(),
            ModelSource::Live => format!("scores: live run, step {}", self.step),
            ModelSource::Checkpoint(p) => {
                // with its folder: every run of a sweep has a checkpoint.safetensors
                let part =
                    |p: Option<&std::ffi::OsStr>| p.map(|n| n.to_string_lossy().into_owned());
                let dir = part(p.parent().and_then(|d| d.file_name()));
                let name = match (dir, part(p.file_name())) {
                    (Some(dir), Some(file)) => format!("{dir}/{file}"),
                    (_, file) => file.unwrap_or_default(),
                };
                format!("scores: checkpoint {name}, step {}", self.step)
            }
        }
    }
}

impl ModelSnapshot {
    /// The snapshot of a checkpoint file: its parameters, step, run config and model config
    /// (files without a model config get the default detector with the run's classes and
    /// anchors, and the balanced pyramid when the file has its tensors). Errors are one line
    /// naming the file.
    pub fn from_checkpoint(path: &Path) -> Result<Self, String> {
        let ck = Checkpoint::load(path).map_err(|e| e.to_string())?;
        let origin = path.display().to_string();
        let train = if ck.config_toml.trim().is_empty() {
            return Err(format!("{origin}: the checkpoint has no run config"));
        } else {
            TrainConfig::from_toml(&ck.config_toml, &format!("{origin}: config"))?
        };
        let model = if ck.model_toml.trim().is_empty() {
            let base = ModelConfig {
                balanced_fpn: ck.params.iter().any(|t| t.name.starts_with("bfp.")),
                ..ModelConfig::default()
            };
            run_model_config(&base, &train)
        } else {
            toml::from_str(&ck.model_toml)
                .map_err(|e| format!("{origin}: model config: {}", e.message().trim()))?
        };
        let snap = Self {
            source: ModelSource::Checkpoint(path.to_path_buf()),
            step: ck.step,
            model,
            train,
            params: Arc::new(ck.params),
        };
        snap.build().map_err(|e| format!("{origin}: {e}"))?;
        Ok(snap)
    }

    /// Checks that the snapshot scores the anchors of `anchors` for `classes` classes; the
    /// error (one line) names the mismatch: classes, anchors per location or pyramid strides.
    pub fn fits(&self, anchors: &AnchorConfig, classes: usize) -> Result<(), String> {
        let m = &self.model;
        if m.num_classes != classes {
            return Err(format!(
                "the model has {} classes, the dataset {classes}",
                m.num_classes
            ));
        }
        let apl = anchors.anchors_per_location();
        if m.num_anchors != apl {
            return Err(format!(
                "the model has {} anchors per location, the anchor settings {apl}",
                m.num_anchors
            ));
        }
        if m.strides() != anchors.strides {
            return Err(format!(
                "the model's pyramid strides {:?} differ from the anchor strides {:?}",
                m.strides(),
                anchors.strides
            ));
        }
        Ok(())
    }

    /// The detector with these parameters on the CPU backend. Refuses parameters that do not
    /// match the model config: a missing or extra tensor (e.g. a balanced pyramid the config
    /// does not have), or a shape.
    pub fn build(&self) -> Result<Model, String> {
        let mut model = Model::new(&self.model, 0)?;
        let bfp = |n: &str| n.starts_with("bfp.");
        let has_bfp = self.params.iter().any(|t| bfp(&t.name));
        if has_bfp != self.model.balanced_fpn {
            return Err(if has_bfp {
                "the parameters have a balanced feature pyramid, the model has none".into()
            } else {
                "the parameters have no balanced feature pyramid, the model has one".into()
            });
        }
        if self.params.len() != model.params().count() {
            return Err(format!(
                "{} parameter tensors, the model has {}",
                self.params.len(),
                model.params().count()
            ));
        }
        for p in model.params_mut() {
            let t = self
                .params
                .iter()
                .find(|t| t.name == p.name)
                .ok_or_else(|| format!("no tensor `{}`", p.name))?;
            if t.shape != p.shape {
                return Err(format!(
                    "tensor `{}` has shape {:?}, the model needs {:?}",
                    p.name, t.shape, p.shape
                ));
            }
            p.value.data.copy_from_slice(&t.data);
        }
        Ok(model)
    }

    /// The head outputs on one image (CPU forward pass).
    pub fn outputs(&self, image: &image::RgbImage) -> Result<ModelOutputs, String> {
        let mut model = self.build()?;
        let out = model.forward(&images_to_tensor(&[image]));
        let (logits, deltas) = flatten_outputs(&out);
        Ok(ModelOutputs {
            source: self.source.clone(),
            step: self.step,
            logits,
            deltas,
        })
    }
}

/// Why a run with settings `cfg` and detector `model` cannot continue from `snap` (one
/// line), or `None` when it can: the detector (balanced pyramid, pyramid levels, classes,
/// anchors per location, widths), the anchors, the classes and the optimizer must match.
pub fn resume_mismatch(
    snap: &ModelSnapshot,
    cfg: &TrainConfig,
    model: &ModelConfig,
) -> Option<String> {
    let (a, b) = (&snap.model, model);
    let yes = |v: bool| if v { "has" } else { "has no" };
    if a.balanced_fpn != b.balanced_fpn {
        return Some(format!(
            "the checkpoint's model {} balanced feature pyramid, this run's {} one",
            yes(a.balanced_fpn),
            yes(b.balanced_fpn)
        ));
    }
    if a.strides() != b.strides() {
        return Some(format!(
            "the checkpoint's pyramid strides are {:?}, this run's {:?}",
            a.strides(),
            b.strides()
        ));
    }
    if a.num_classes != b.num_classes || snap.train.num_classes != cfg.num_classes {
        return Some(format!(
            "the checkpoint has {} classes, this run {}",
            a.num_classes, b.num_classes
        ));
    }
    if a.num_anchors != b.num_anchors {
        return Some(format!(
            "the checkpoint has {} anchors per location, this run {}",
            a.num_anchors, b.num_anchors
        ));
    }
    if a != b {
        return Some("the checkpoint's model settings differ from this run's [model]".into());
    }
    if snap.train.lab.anchors != cfg.lab.anchors {
        return Some(
            "the checkpoint's anchor settings differ from this run's [lab.anchors]".into(),
        );
    }
    if snap.train.optimizer != cfg.optimizer {
        return Some(format!(
            "the checkpoint was trained with {:?}, this run uses {:?}",
            snap.train.optimizer, cfg.optimizer
        ));
    }
    None
}
