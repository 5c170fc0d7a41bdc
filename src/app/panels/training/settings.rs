//! The Training tab's persisted settings and the [`TrainConfig`] they describe.

use crate::app::state::SamplerChoice;
use crate::config::LabConfig;
use crate::losses::classification::ClsLoss;
use crate::losses::regression::RegLoss;
use crate::losses::weighting::ObjectiveWeighting;
use crate::model::ModelConfig;
use crate::sample::SamplerConfig;
use crate::train::hard_positives::HardPositives;
use crate::train::{BackendChoice, DetectConfig, LrSchedule, OptimizerKind, TrainConfig};
use serde::{Deserialize, Serialize};

/// Classification losses offered for training (names as [`ClsLoss::default_for`] takes).
pub const TRAIN_CLS_LOSSES: &[(&str, &str)] = &[
    ("ce", "CE"),
    ("balanced_ce", "Balanced CE"),
    ("focal", "Focal"),
    ("focal_star", "FL*"),
    ("ghm_c", "GHM-C"),
    ("qfl", "QFL"),
];

/// Regression losses offered for training (names as [`RegLoss::default_for`] takes).
pub const TRAIN_REG_LOSSES: &[(&str, &str)] = &[
    ("smooth_l1", "Smooth L1"),
    ("l1", "L1"),
    ("balanced_l1", "Balanced L1"),
    ("giou", "GIoU"),
    ("diou", "DIoU"),
    ("ciou", "CIoU"),
];

/// Settings of the Training tab (persisted with the app state).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainingSettings {
    /// Classification loss.
    pub cls_loss: ClsLoss,
    /// Sampler; `None`: every non-ignored anchor (RetinaNet).
    pub sampler: Option<SamplerChoice>,
    /// Regression loss.
    pub reg_loss: RegLoss,
    /// Base learning rate.
    pub lr: f64,
    /// SGD or AdamW.
    pub optimizer: OptimizerKind,
    /// SGD momentum.
    pub momentum: f64,
    /// AdamW `beta1`, `beta2`.
    pub adam_betas: [f64; 2],
    /// Objective weighting (w_cls, w_reg, guided).
    pub weighting: ObjectiveWeighting,
    /// Images per step.
    pub batch: usize,
    /// Linear warm-up steps.
    pub warmup_steps: u64,
    /// Seed of a new run.
    pub seed: u64,
    /// Loss curves on a log10 axis.
    pub log_scale: bool,
    /// Exponential smoothing of the curves, 0 (none) to 0.99.
    pub smoothing: f64,
    /// Score threshold of the drawn detections.
    pub score_thr: f32,
    /// NMS IoU threshold of the drawn detections.
    pub nms_iou: f32,
    /// Libra R-CNN's balanced feature pyramid in the model of new runs.
    pub balanced_fpn: bool,
    /// Draw the live model's detections on the image.
    pub show_detections: bool,
    /// Compute backend of the run (auto: the GPU on a hardware adapter, else the CPU).
    pub backend: BackendChoice,
    /// Hard-positive generation (occlusion, rotation of positives).
    pub hard_positives: HardPositives,
}

impl Default for TrainingSettings {
    fn default() -> Self {
        let t = TrainConfig::default();
        Self {
            cls_loss: t.cls_loss,
            sampler: None,
            reg_loss: t.reg_loss,
            lr: t.lr,
            optimizer: t.optimizer,
            momentum: t.momentum,
            adam_betas: t.adam_betas,
            weighting: t.weighting,
            batch: 4,
            warmup_steps: 50,
            seed: 0,
            log_scale: true,
            smoothing: 0.6,
            score_thr: 0.3,
            nms_iou: 0.5,
            show_detections: true,
            balanced_fpn: false,
            backend: BackendChoice::Auto,
            hard_positives: HardPositives::default(),
        }
    }
}

impl TrainingSettings {
    /// The run's configuration: these settings on top of the lab's anchors, assigner and
    /// sampler parameters; a constant rate after the warm-up (runs are open-ended).
    pub fn train_config(&self, lab: &LabConfig, num_classes: usize) -> TrainConfig {
        let s = &lab.samplers;
        let sampler = match self.sampler {
            None => SamplerConfig::None,
            Some(SamplerChoice::Random) => SamplerConfig::Random(s.random.clone()),
            Some(SamplerChoice::HardNegative) => {
                SamplerConfig::HardNegative(s.hard_negative.clone())
            }
            Some(SamplerChoice::Ohem) => SamplerConfig::Ohem(s.ohem.clone()),
            Some(SamplerChoice::IouBalanced) => SamplerConfig::IouBalanced(s.iou_balanced.clone()),
            Some(SamplerChoice::InstanceBalanced) => {
                SamplerConfig::InstanceBalanced(s.instance_balanced.clone())
            }
            Some(SamplerChoice::Pisa) => SamplerConfig::Pisa(s.pisa.clone()),
        };
        TrainConfig {
            lab: lab.clone(),
            sampler,
            cls_loss: self.cls_loss.clone(),
            reg_loss: self.reg_loss,
            weighting: self.weighting,
            lr: self.lr,
            optimizer: self.optimizer,
            momentum: self.momentum,
            adam_betas: self.adam_betas,
            batch: self.batch.max(1),
            warmup_steps: self.warmup_steps,
            schedule: LrSchedule::Constant,
            steps: 1_000_000_000,
            seed: self.seed,
            num_classes: num_classes.max(1),
            hard_positives: self.hard_positives.clone(),
            ..TrainConfig::default()
        }
    }

    /// The detector of a new run: the default tiny RetinaNet with the balanced pyramid when
    /// chosen and the pyramid levels the anchor strides need.
    pub fn model_config(&self, lab: &LabConfig) -> Result<ModelConfig, String> {
        ModelConfig {
            balanced_fpn: self.balanced_fpn,
            ..ModelConfig::default()
        }
        .for_strides(&lab.anchors.strides)
    }

    /// Detection settings of the preview.
    pub fn detect(&self) -> DetectConfig {
        DetectConfig {
            score_thr: self.score_thr,
            nms_iou: self.nms_iou,
            ..DetectConfig::default()
        }
    }

    /// A short description of the loss setting, e.g. `focal g=2 a=0.25`.
    pub fn loss_label(&self) -> String {
        let cls = match &self.cls_loss {
            ClsLoss::Focal { alpha, gamma } => format!("focal g={gamma} a={alpha}"),
            ClsLoss::FocalStar { gamma, beta } => format!("FL* g={gamma} b={beta}"),
            ClsLoss::BalancedCe { alpha } => format!("balanced CE a={alpha}"),
            ClsLoss::Qfl { beta } => format!("QFL b={beta}"),
            ClsLoss::GhmC { bins, .. } => format!("GHM-C {bins} bins"),
            ClsLoss::Ce => "CE".to_string(),
            other => other.name().replace('_', " "),
        };
        match self.sampler {
            Some(s) => format!("{cls}, {}", s.label()),
            None => cls,
        }
    }
}
