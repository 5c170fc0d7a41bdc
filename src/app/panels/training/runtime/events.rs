//! How the Training tab takes each of the trainer thread's events.

use super::super::run::{LatestHistograms, LivePreview};
use super::TrainingRuntime;
use crate::train::thread::HIST_BINS;
use crate::train::{RunState, TrainerEvent};

impl TrainingRuntime {
    /// Updates the runs, histograms, preview, status and errors from one event.
    pub(in crate::app::panels::training) fn on_event(&mut self, ev: TrainerEvent) {
        match ev {
            TrainerEvent::Ready { anchors, params } => self.model_info = Some((anchors, params)),
            TrainerEvent::Metrics(m) => {
                self.metrics_received += 1;
                if let Some(r) = self.runs.last_mut() {
                    r.metrics.push(m);
                }
            }
            TrainerEvent::Histograms {
                step,
                iou_pos,
                iou_picked_neg,
                p_t_pos,
                p_t_neg,
            } => {
                debug_assert_eq!(iou_pos.len(), HIST_BINS);
                let sets = [iou_pos, iou_picked_neg, p_t_pos, p_t_neg];
                if let Some(r) = self.runs.last_mut() {
                    r.histograms.push(step, sets.clone());
                }
                self.histograms = Some(LatestHistograms { step, sets });
            }
            TrainerEvent::Preview {
                step,
                index,
                probs,
                detections,
            } => {
                self.preview = Some(LivePreview {
                    step,
                    index,
                    probs,
                    detections,
                });
            }
            TrainerEvent::Snapshot(s) => self.snapshot = Some(s),
            TrainerEvent::Evaluated { step, ap } => self.eval = Some((step, ap)),
            TrainerEvent::Backend(name) => self.backend = Some(name),
            TrainerEvent::Saved(path) => {
                self.checkpoint_status = Some(format!("Saved {}", path.display()));
            }
            TrainerEvent::Loaded { step, path } => {
                self.checkpoint_status = Some(format!("Loaded {}: step {step}", path.display()));
                self.truncate_run(step);
            }
            TrainerEvent::Reloaded { step } => self.truncate_run(step),
            TrainerEvent::Error(e) => {
                if self
                    .checkpoint_status
                    .as_ref()
                    .is_some_and(|s| s.ends_with("..."))
                {
                    self.checkpoint_status = None;
                }
                self.error = Some(e);
            }
            TrainerEvent::Diverged {
                step,
                component,
                value,
            } => {
                let cfg = self.sent_config.as_ref();
                let loss = match component {
                    "loss_reg" => cfg.map(|c| c.reg_loss.name()),
                    _ => cfg.map(|c| c.cls_loss.name()),
                };
                let what = if value.is_finite() {
                    format!("exploded to {value:.3e}")
                } else {
                    format!("is {value} (not finite)")
                };
                let msg = format!(
                    "Diverged at step {step}: {component} {what} (loss: {}). Training paused.",
                    loss.unwrap_or("?")
                );
                self.diverged = Some((step, msg));
            }
            TrainerEvent::State(s) => {
                self.state = Some(s);
                if s == RunState::Stopped {
                    self.handle = None;
                    self.run_data = None;
                    if self.runs.last().is_some_and(|r| r.metrics.is_empty()) {
                        self.runs.pop();
                    }
                }
            }
        }
    }
}
