//! Objective weighting (w_cls, w_reg, guided loss) and loss normalisers (num_pos, EMA).
//!
//! CARL's per-positive regression weights live with the samplers, not here.

use serde::{Deserialize, Serialize};

/// How the classification and regression losses are combined into one objective.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ObjectiveWeighting {
    /// Weight of the classification loss (ignored when `guided`).
    pub w_cls: f64,
    /// Weight of the regression loss.
    pub w_reg: f64,
    /// Guided loss (Zhang et al.): scale `L_cls` by `w_reg * L_reg / L_cls`.
    pub guided: bool,
}

impl Default for ObjectiveWeighting {
    fn default() -> Self {
        ObjectiveWeighting {
            w_cls: 1.0,
            w_reg: 1.0,
            guided: false,
        }
    }
}

/// The combined objective and the factor applied to each component.
///
/// `cls_factor` and `reg_factor` are also the gradient scales: backpropagate
/// `cls_factor * dL_cls` and `reg_factor * dL_reg` (the factors are constants in backward).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct WeightedObjective {
    /// `cls_factor * L_cls + reg_factor * L_reg`.
    pub total: f64,
    /// Factor multiplying `L_cls` and its gradient.
    pub cls_factor: f64,
    /// Factor multiplying `L_reg` and its gradient.
    pub reg_factor: f64,
}

impl ObjectiveWeighting {
    /// Combines the (already normalised) classification and regression losses.
    ///
    /// - plain: `total = w_cls L_cls + w_reg L_reg`, factors `(w_cls, w_reg)`;
    /// - guided: `cls_factor = w_reg L_reg / L_cls`, held constant in backward (no gradient
    ///   flows into `L_reg` or `L_cls` through the ratio), so the classification gradient is
    ///   `dL_cls` times that ratio and the regression gradient is `w_reg dL_reg`; the value is
    ///   `2 w_reg L_reg`. `w_cls` is not used. When `L_cls` is not positive and finite the
    ///   ratio is undefined and `cls_factor` is 0.
    pub fn combine(&self, l_cls: f64, l_reg: f64) -> WeightedObjective {
        let cls_factor = if self.guided {
            if l_cls > 0.0 && l_cls.is_finite() {
                self.w_reg * l_reg / l_cls
            } else {
                0.0
            }
        } else {
            self.w_cls
        };
        let reg_factor = self.w_reg;
        WeightedObjective {
            total: cls_factor * l_cls + reg_factor * l_reg,
            cls_factor,
            reg_factor,
        }
    }
}

/// What the summed losses are divided by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Normalizer {
    /// `max(1, num_pos)` of the current batch (torchvision, MMDetection).
    #[default]
    NumPos,
    /// Detectron2: an exponential moving average of `max(1, num_pos)`, starting at `start`:
    /// `ema = momentum * ema + (1 - momentum) * max(1, num_pos)`, updated before use.
    Ema {
        /// Weight of the previous value (0.9).
        #[serde(default = "ema_momentum")]
        momentum: f64,
        /// Initial value (100).
        #[serde(default = "ema_start")]
        start: f64,
    },
}

fn ema_momentum() -> f64 {
    0.9
}

fn ema_start() -> f64 {
    100.0
}

impl Normalizer {
    /// Detectron2's defaults: momentum 0.9, start 100.
    pub fn ema_default() -> Self {
        Normalizer::Ema {
            momentum: ema_momentum(),
            start: ema_start(),
        }
    }

    /// A fresh state for this normaliser (before the first step).
    pub fn new_state(&self) -> NormalizerState {
        let value = match *self {
            Normalizer::NumPos => 1.0,
            Normalizer::Ema { start, .. } => start,
        };
        NormalizerState { value, steps: 0 }
    }

    /// Advances one training step with this batch's number of positives (summed over the
    /// batch; may be fractional for soft weights) and returns the divisor for this step.
    pub fn step(&self, state: &mut NormalizerState, num_pos: f64) -> f64 {
        let n = num_pos.max(1.0);
        state.value = match *self {
            Normalizer::NumPos => n,
            Normalizer::Ema { momentum, .. } => momentum * state.value + (1.0 - momentum) * n,
        };
        state.steps += 1;
        state.value
    }
}

/// Running state of a [`Normalizer`], kept by the trainer across steps.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct NormalizerState {
    /// The divisor returned by the last step (the EMA value, or the start before any step).
    pub value: f64,
    /// Number of steps taken.
    pub steps: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_weighting() {
        let w = ObjectiveWeighting::default();
        assert_eq!(
            w,
            ObjectiveWeighting {
                w_cls: 1.0,
                w_reg: 1.0,
                guided: false
            }
        );
        let o = w.combine(0.8, 0.3);
        assert!((o.total - 1.1).abs() < 1e-15);
        let w = ObjectiveWeighting {
            w_cls: 2.0,
            w_reg: 0.5,
            guided: false,
        };
        let o = w.combine(0.8, 0.3);
        assert_eq!((o.cls_factor, o.reg_factor), (2.0, 0.5));
        assert!((o.total - 1.75).abs() < 1e-15);
    }

    #[test]
    fn guided_loss_matches_regression_scale() {
        let w = ObjectiveWeighting {
            w_cls: 7.0,
            w_reg: 2.0,
            guided: true,
        };
        // L_cls 0.05 (focal, tiny), L_reg 0.4: cls scaled to w_reg * L_reg = 0.8
        let o = w.combine(0.05, 0.4);
        assert!((o.cls_factor - 16.0).abs() < 1e-12);
        assert_eq!(o.reg_factor, 2.0);
        assert!((o.cls_factor * 0.05 - 0.8).abs() < 1e-12);
        assert!((o.total - 1.6).abs() < 1e-12);
        // the classification gradient scale follows the ratio; w_cls is ignored
        let o2 = ObjectiveWeighting { w_cls: 1.0, ..w }.combine(0.05, 0.4);
        assert_eq!(o, o2);
        // degenerate L_cls: no classification gradient, no NaN
        for l_cls in [0.0, -1.0, f64::NAN] {
            let o = w.combine(l_cls, 0.4);
            assert_eq!(o.cls_factor, 0.0);
            assert_eq!(o.reg_factor, 2.0);
        }
    }

    #[test]
    fn num_pos_normalizer() {
        let n = Normalizer::default();
        assert_eq!(n, Normalizer::NumPos);
        let mut s = n.new_state();
        assert_eq!(n.step(&mut s, 0.0), 1.0);
        assert_eq!(n.step(&mut s, 37.0), 37.0);
        assert_eq!(n.step(&mut s, 0.5), 1.0);
        assert_eq!(s.steps, 3);
    }

    #[test]
    fn ema_normalizer_sequence_by_hand() {
        let n = Normalizer::ema_default();
        assert_eq!(
            n,
            Normalizer::Ema {
                momentum: 0.9,
                start: 100.0
            }
        );
        let mut s = n.new_state();
        assert_eq!(s.value, 100.0);
        // 0.9*100 + 0.1*20 = 92; 0.9*92 + 0.1*1 (num_pos 0 -> 1) = 82.9;
        // 0.9*82.9 + 0.1*50 = 79.61
        let want = [92.0, 82.9, 79.61];
        for (num_pos, want) in [20.0, 0.0, 50.0].into_iter().zip(want) {
            let got = n.step(&mut s, num_pos);
            assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        }
        assert_eq!(s.steps, 3);
        // a constant num_pos is approached geometrically
        let mut s = n.new_state();
        for _ in 0..200 {
            n.step(&mut s, 10.0);
        }
        assert!((s.value - 10.0).abs() < 1e-6);
    }

    #[test]
    fn serde_defaults() {
        let w: ObjectiveWeighting = serde_json::from_str(r#"{"guided": true}"#).unwrap();
        assert_eq!(
            w,
            ObjectiveWeighting {
                w_cls: 1.0,
                w_reg: 1.0,
                guided: true
            }
        );
        let n: Normalizer = serde_json::from_str(r#"{"kind": "ema"}"#).unwrap();
        assert_eq!(n, Normalizer::ema_default());
        let n: Normalizer = serde_json::from_str(r#"{"kind": "num_pos"}"#).unwrap();
        assert_eq!(n, Normalizer::NumPos);
        let text = serde_json::to_string(&Normalizer::Ema {
            momentum: 0.5,
            start: 3.0,
        })
        .unwrap();
        assert_eq!(
            serde_json::from_str::<Normalizer>(&text).unwrap(),
            Normalizer::Ema {
                momentum: 0.5,
                start: 3.0
            }
        );
    }
}
