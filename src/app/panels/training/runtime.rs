//! The app's side of the trainer thread: the handle, the runs' curves and the latest results.

use super::TrainingSettings;
use super::run::{LatestHistograms, LivePreview, Run};
use crate::anchors::AnchorConfig;
use crate::app::state::{AppState, DatasetSettings};
use crate::app::worker::open_dataset;
use crate::data::{Dataset, SyntheticDataset};
use crate::model::ModelConfig;
use crate::train::thread::{EVAL_IMAGES, HIST_BINS};
use crate::train::{
    ApSummary, DetectConfig, RunState, TrainConfig, TrainData, TrainerCommand, TrainerEvent,
    TrainerHandle,
};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What the run the tab shows has on, and what it reported last.
pub struct TrainingRuntime {
    handle: Option<TrainerHandle>,
    wake: egui::Context,
    /// Runs, oldest first; the last one is the current run.
    pub runs: Vec<Run>,
    /// The thread's state (`None`: no thread).
    pub state: Option<RunState>,
    /// Latest histograms.
    pub histograms: Option<LatestHistograms>,
    /// Latest preview.
    pub preview: Option<LivePreview>,
    /// Latest evaluation: step and AP.
    pub eval: Option<(u64, ApSummary)>,
    /// Divergence: step and message naming the component and the loss.
    pub diverged: Option<(u64, String)>,
    /// Latest error from the trainer.
    pub error: Option<String>,
    /// Metrics events received in total (all runs).
    pub metrics_received: u64,
    /// Anchors per image and parameters of the current model.
    pub model_info: Option<(usize, usize)>,
    sent_config: Option<TrainConfig>,
    sent_preview: Option<(usize, DetectConfig)>,
    run_data: Option<(DatasetSettings, AnchorConfig)>,
}

impl TrainingRuntime {
    /// No run yet; `ctx` is woken by the trainer thread.
    pub fn new(ctx: egui::Context) -> Self {
        Self {
            handle: None,
            wake: ctx,
            runs: Vec::new(),
            state: None,
            histograms: None,
            preview: None,
            eval: None,
            diverged: None,
            error: None,
            metrics_received: 0,
            model_info: None,
            sent_config: None,
            sent_preview: None,
            run_data: None,
        }
    }

    /// True while steps run.
    pub fn is_running(&self) -> bool {
        self.state == Some(RunState::Running)
    }

    /// True when a trainer thread exists.
    pub fn has_run(&self) -> bool {
        self.handle.is_some()
    }

    /// Starts training (a new trainer thread first if there is none).
    pub fn start(&mut self, state: &AppState, num_classes: usize) {
        self.ensure_thread(state, num_classes);
        self.diverged = None;
        self.command(TrainerCommand::Start);
    }

    /// Pauses training.
    pub fn pause(&mut self) {
        self.command(TrainerCommand::Pause);
    }

    /// Runs `n` steps (a new trainer thread first if there is none).
    pub fn step(&mut self, state: &AppState, num_classes: usize, n: u64) {
        self.ensure_thread(state, num_classes);
        self.command(TrainerCommand::Step(n));
    }

    /// Start when paused, pause when running.
    pub fn toggle(&mut self, state: &AppState, num_classes: usize) {
        if self.is_running() {
            self.pause();
        } else {
            self.start(state, num_classes);
        }
    }

    /// Ends the current run; the next start begins a new one (old curves stay).
    pub fn new_run(&mut self) {
        self.handle = None;
        self.state = None;
        self.histograms = None;
        self.preview = None;
        self.eval = None;
        self.diverged = None;
        self.error = None;
        self.sent_config = None;
        self.sent_preview = None;
        self.run_data = None;
    }

    /// Asks for AP on the held-out images.
    pub fn evaluate(&mut self) {
        self.command(TrainerCommand::Evaluate);
    }

    /// Restores the last good parameters after a divergence.
    pub fn reload_last_good(&mut self) {
        self.diverged = None;
        self.command(TrainerCommand::ReloadLastGood);
    }

    fn command(&mut self, c: TrainerCommand) {
        if let Some(h) = &self.handle
            && let Err(e) = h.send(c)
        {
            self.error = Some(e);
        }
    }

    fn ensure_thread(&mut self, state: &AppState, num_classes: usize) {
        if self.handle.is_some() {
            return;
        }
        let s: &TrainingSettings = &state.training;
        let cfg = s.train_config(&state.lab, num_classes);
        let settings = state.dataset.clone();
        let data = move || {
            let train: Arc<dyn Dataset> = Arc::from(open_dataset(&settings)?);
            let held_out: Arc<dyn Dataset> = if settings.spec.trim().is_empty() {
                let ds = SyntheticDataset::new(settings.synthetic.clone(), settings.seed);
                Arc::new(ds.held_out(EVAL_IMAGES))
            } else {
                train.clone()
            };
            Ok(TrainData { train, held_out })
        };
        let ctx = self.wake.clone();
        let wake = move || ctx.request_repaint_after(Duration::from_millis(20));
        self.handle = Some(TrainerHandle::spawn(
            cfg.clone(),
            ModelConfig::default(),
            data,
            wake,
        ));
        self.runs.push(Run {
            name: format!("run {}: {}", self.runs.len() + 1, s.loss_label()),
            metrics: Vec::new(),
        });
        self.state = Some(RunState::Paused);
        self.error = None;
        self.run_data = Some((state.dataset.clone(), state.lab.anchors.clone()));
        self.sent_config = Some(cfg);
        self.sent_preview = None;
    }

    /// True when the run trains on the data and anchors on screen.
    fn matches_screen(&self, state: &AppState) -> bool {
        self.run_data
            .as_ref()
            .is_some_and(|(d, a)| *d == state.dataset && *a == state.lab.anchors)
    }

    /// Sends changed settings (`SetConfig`) and the preview image to a live run.
    pub fn sync(&mut self, state: &AppState, num_classes: usize) {
        let Some((_, anchors)) = &self.run_data else {
            return;
        };
        let mut cfg = state.training.train_config(&state.lab, num_classes);
        cfg.lab.anchors = anchors.clone(); // anchors are fixed for a run
        if let Some(old) = &self.sent_config {
            cfg.num_classes = old.num_classes;
            cfg.seed = old.seed;
        }
        if self.sent_config.as_ref() != Some(&cfg) {
            self.sent_config = Some(cfg.clone());
            self.command(TrainerCommand::SetConfig(Box::new(cfg)));
        }
        let want = (state.image_index, state.training.detect());
        if self.matches_screen(state) && self.sent_preview.as_ref() != Some(&want) {
            self.sent_preview = Some(want);
            let (index, detect) = want;
            self.command(TrainerCommand::Preview { index, detect });
        }
    }

    /// The live model's class probabilities for image `index` when they fit `len` values
    /// and the run trains on the data on screen.
    pub fn scores_for(&self, state: &AppState, len: usize) -> Option<Arc<Vec<f32>>> {
        let p = self.preview.as_ref()?;
        (p.index == state.image_index && p.probs.len() == len && self.matches_screen(state))
            .then(|| p.probs.clone())
    }

    /// Handles the trainer's events until `deadline`.
    pub fn drain(&mut self, deadline: Instant) {
        while Instant::now() < deadline {
            let Some(ev) = self.handle.as_ref().and_then(|h| h.try_recv()) else {
                break;
            };
            self.on_event(ev);
        }
    }

    pub(super) fn on_event(&mut self, ev: TrainerEvent) {
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
            TrainerEvent::Evaluated { step, ap } => self.eval = Some((step, ap)),
            TrainerEvent::Saved(_) | TrainerEvent::Backend(_) => {}
            TrainerEvent::Loaded { step, .. } | TrainerEvent::Reloaded { step } => {
                if let Some(r) = self.runs.last_mut() {
                    r.metrics.retain(|m| m.step < step);
                }
            }
            TrainerEvent::Error(e) => self.error = Some(e),
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
