//! [`TrainConfig`]: every setting of a training run, one serde struct loadable from TOML.
//!
//! Anchors, assigner and sampler parameters come from [`LabConfig`] (table `[lab]`), so the
//! inspector and the trainer read the same settings. Every field has a default.

use crate::config::LabConfig;
use crate::geometry::DeltaCoder;
use crate::losses::classification::ClsLoss;
use crate::losses::regression::RegLoss;
use crate::losses::weighting::{Normalizer, ObjectiveWeighting};
use crate::sample::SamplerConfig;
use crate::train::hard_positives::HardPositives;
use serde::{Deserialize, Serialize};

/// The optimizer (its state lives with the backend).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptimizerKind {
    /// SGD with momentum and (coupled, L2) weight decay.
    #[default]
    Sgd,
    /// AdamW (decoupled weight decay).
    Adamw,
}

/// The learning-rate schedule after warm-up (serde: `{ kind = "cosine", ... }`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LrSchedule {
    /// The base rate throughout.
    Constant,
    /// Cosine decay from the base rate to `base * final_factor` at the last step.
    Cosine {
        /// Rate at the last step as a fraction of the base rate.
        #[serde(default)]
        final_factor: f64,
    },
    /// Multiply by `gamma` at each milestone step (Detectron: 0.1 at 2/3 and 8/9 of the run).
    Step {
        /// Steps at which the rate drops.
        milestones: Vec<u64>,
        /// Factor applied at each milestone.
        #[serde(default = "step_gamma")]
        gamma: f64,
    },
}

fn step_gamma() -> f64 {
    0.1
}

impl Default for LrSchedule {
    fn default() -> Self {
        LrSchedule::Cosine { final_factor: 0.0 }
    }
}

/// Settings of a training run. TOML: top-level keys plus tables `[lab]`, `[sampler]`,
/// `[cls_loss]`, `[reg_loss]`, `[coder]`, `[weighting]`, `[normalizer]`, `[schedule]`,
/// `[hard_positives]`.
///
/// Default regression loss: smooth L1 with `beta = 1/9` on the deltas (Detectron's
/// RetinaNet). Near zero it is quadratic, so the box gradient fades as a box converges instead
/// of keeping L1's constant `+-1` kick, which matters at the high learning rate and tiny
/// batches of the synthetic runs; beyond `1/9` it is exactly L1 (torchvision's choice). The
/// comparison with plain L1 on `synthetic:shapes` is still to be measured with the model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Anchors, assigner and the samplers' parameters.
    pub lab: LabConfig,
    /// The sampler used in training (default none: every non-ignored anchor, RetinaNet).
    pub sampler: SamplerConfig,
    /// Classification loss (default focal, alpha 0.25, gamma 2).
    pub cls_loss: ClsLoss,
    /// Regression loss (default smooth L1, beta 1/9).
    pub reg_loss: RegLoss,
    /// Box delta coder.
    pub coder: DeltaCoder,
    /// Objective weighting (w_cls, w_reg, guided).
    pub weighting: ObjectiveWeighting,
    /// What the summed losses are divided by.
    pub normalizer: Normalizer,
    /// `sgd` or `adamw`.
    pub optimizer: OptimizerKind,
    /// Base learning rate.
    pub lr: f64,
    /// SGD momentum.
    pub momentum: f64,
    /// Weight decay (SGD: L2 added to the gradient; AdamW: decoupled).
    pub weight_decay: f64,
    /// AdamW `beta1`, `beta2`.
    pub adam_betas: [f64; 2],
    /// AdamW epsilon.
    pub adam_eps: f64,
    /// Linear warm-up steps from `lr * warmup_factor` to `lr`.
    pub warmup_steps: u64,
    /// Starting fraction of the rate during warm-up (Detectron: 0.001).
    pub warmup_factor: f64,
    /// Schedule after warm-up.
    pub schedule: LrSchedule,
    /// Largest global gradient L2 norm (0 or less: no clipping).
    pub grad_clip: f64,
    /// Images per step.
    pub batch: usize,
    /// Training steps.
    pub steps: u64,
    /// Seed of initialisation, data order, flips and samplers.
    pub seed: u64,
    /// Probability of a horizontal flip per image.
    pub hflip: f64,
    /// Number of foreground classes (the classification head's width).
    pub num_classes: usize,
    /// Hard-positive generation (occlusion and rotation of positives; off by default).
    pub hard_positives: HardPositives,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            lab: LabConfig::default(),
            sampler: SamplerConfig::None,
            cls_loss: ClsLoss::default(),
            reg_loss: RegLoss::SmoothL1 { beta: 1.0 / 9.0 },
            coder: DeltaCoder::default(),
            weighting: ObjectiveWeighting::default(),
            normalizer: Normalizer::NumPos,
            optimizer: OptimizerKind::Sgd,
            lr: 0.01,
            momentum: 0.9,
            weight_decay: 1e-4,
            adam_betas: [0.9, 0.999],
            adam_eps: 1e-8,
            warmup_steps: 100,
            warmup_factor: 0.001,
            schedule: LrSchedule::default(),
            grad_clip: 10.0,
            batch: 8,
            steps: 2000,
            seed: 0,
            hflip: 0.5,
            num_classes: 3,
            hard_positives: HardPositives::default(),
        }
    }
}

impl TrainConfig {
    /// Parses TOML text and validates it; `origin` names the file in errors (one line).
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, String> {
        let cfg: TrainConfig = crate::config::parse_toml(text, origin)?;
        cfg.validate().map_err(|e| format!("{origin}: {e}"))?;
        Ok(cfg)
    }

    /// The config as TOML text (what `train` writes to `config.toml` and checkpoints keep),
    /// f32 settings in their shortest form.
    pub fn to_toml(&self) -> Result<String, String> {
        toml_text(self)
    }

    /// Checks value ranges; the error names the field.
    pub fn validate(&self) -> Result<(), String> {
        self.lab.validate()?;
        self.hard_positives.validate()?;
        self.cls_loss
            .validate()
            .map_err(|e| format!("cls_loss: {e}"))?;
        if matches!(self.reg_loss, RegLoss::Kl { .. }) {
            return Err(
                "reg_loss: kl needs a variance head, which the detector does not have".into(),
            );
        }
        let pos = |v: f64| v.is_finite() && v > 0.0;
        let unit = |v: f64| (0.0..=1.0).contains(&v);
        let checks: [(bool, &str); 10] = [
            (pos(self.lr), "lr must be finite and > 0"),
            (
                (0.0..1.0).contains(&self.momentum),
                "momentum must be in [0, 1)",
            ),
            (
                self.weight_decay.is_finite() && self.weight_decay >= 0.0,
                "weight_decay must be >= 0",
            ),
            (
                self.adam_betas.iter().all(|b| (0.0..1.0).contains(b)),
                "adam_betas must be in [0, 1)",
            ),
            (pos(self.adam_eps), "adam_eps must be > 0"),
            (
                self.warmup_factor > 0.0 && self.warmup_factor <= 1.0,
                "warmup_factor must be in (0, 1]",
            ),
            (self.grad_clip.is_finite(), "grad_clip must be finite"),
            (self.batch >= 1, "batch must be >= 1"),
            (unit(self.hflip), "hflip must be in [0, 1]"),
            (self.num_classes >= 1, "num_classes must be >= 1"),
        ];
        if let Some((_, msg)) = checks.iter().find(|(ok, _)| !ok) {
            return Err((*msg).to_string());
        }
        if let ClsLoss::Eql { class_freq, .. } = &self.cls_loss
            && class_freq.len() != self.num_classes
        {
            return Err(format!(
                "cls_loss: eql has {} class frequencies but num_classes is {}",
                class_freq.len(),
                self.num_classes
            ));
        }
        match &self.schedule {
            LrSchedule::Cosine { final_factor } if !(0.0..=1.0).contains(final_factor) => {
                Err("schedule.final_factor must be in [0, 1]".into())
            }
            LrSchedule::Step { gamma, .. } if !pos(*gamma) => {
                Err("schedule.gamma must be finite and > 0".into())
            }
            _ => Ok(()),
        }
    }

    /// The learning rate at `step` (0-based): linear warm-up from `lr * warmup_factor`, then
    /// the schedule over the remaining steps.
    pub fn lr_at(&self, step: u64) -> f64 {
        let base = match &self.schedule {
            LrSchedule::Constant => self.lr,
            LrSchedule::Cosine { final_factor } => {
                let span = self.steps.saturating_sub(self.warmup_steps).max(1) as f64;
                let t = (step.saturating_sub(self.warmup_steps) as f64 / span).min(1.0);
                let f = final_factor
                    + (1.0 - final_factor) * 0.5 * (1.0 + (std::f64::consts::PI * t).cos());
                self.lr * f
            }
            LrSchedule::Step { milestones, gamma } => {
                let n = milestones.iter().filter(|&&m| step >= m).count();
                self.lr * gamma.powi(n as i32)
            }
        };
        if step < self.warmup_steps {
            let a = step as f64 / self.warmup_steps as f64;
            base * (self.warmup_factor * (1.0 - a) + a)
        } else {
            base
        }
    }
}

mod floats;
pub use floats::toml_text;

#[cfg(test)]
mod tests;
