//! The trainer thread: owns a [`Trainer`] and talks to the UI only through messages.
//!
//! Commands arrive on a bounded channel; events leave on two bounded channels: one that never
//! drops (metrics, state changes, errors, divergence, evaluations: `send`) and one for preview
//! frames and histograms that may be dropped when the UI is behind (`try_send`). After every
//! event the thread calls `wake` (the app passes `request_repaint`). It never waits on the UI
//! except when the never-drop channel is full, which only a UI that stopped draining causes.

use crate::data::Dataset;
use crate::model::ModelConfig;
use crate::train::{BackendChoice, DetectConfig, Detection, StepMetrics, TrainConfig, Trainer};
use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Bins of the histograms over `[0, 1]`.
pub const HIST_BINS: usize = 20;
/// Held-out images the `Evaluate` command scores.
pub const EVAL_IMAGES: usize = 100;
/// A snapshot of the parameters is taken every this many steps; it becomes the "last good"
/// one once as many further steps ran without divergence.
pub const SNAPSHOT_EVERY: u64 = 25;
/// Least time between two automatic previews while training runs.
const PREVIEW_EVERY: Duration = Duration::from_millis(300);

/// What the UI asks of the trainer thread.
#[derive(Clone, Debug)]
pub enum TrainerCommand {
    /// Train until paused.
    Start,
    /// Stop training after the current step (pending single steps are dropped).
    Pause,
    /// Run this many steps, then pause.
    Step(u64),
    /// End the thread.
    Stop,
    /// New settings from the next step on (anchors and classes must not change; a new
    /// optimizer starts from zero state).
    SetConfig(Box<TrainConfig>),
    /// Move the run to another compute backend (answered by [`TrainerEvent::Backend`]).
    SetBackend(BackendChoice),
    /// Write a checkpoint.
    Save(PathBuf),
    /// Load a checkpoint of the same model.
    Load(PathBuf),
    /// AP on [`EVAL_IMAGES`] held-out images.
    Evaluate,
    /// Per-anchor scores and detections for training image `index`; repeated while training.
    Preview {
        /// Image index in the training set.
        index: usize,
        /// Score threshold and NMS settings of the detections.
        detect: DetectConfig,
    },
    /// Restore the last good parameters and optimizer state (after a divergence).
    ReloadLastGood,
}

/// Whether the thread trains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunState {
    /// Training steps run.
    Running,
    /// Waiting for commands.
    Paused,
    /// The thread ended.
    Stopped,
}

/// What the trainer thread reports.
#[derive(Clone, Debug)]
pub enum TrainerEvent {
    /// The model is built: anchors per image and the number of parameters.
    Ready {
        /// Anchors of one training image.
        anchors: usize,
        /// Scalar parameters of the model.
        params: usize,
    },
    /// One step's figures (never dropped).
    Metrics(StepMetrics),
    /// The backend the run uses now: "cpu" or "gpu: " and the adapter.
    Backend(String),
    /// Binned ([`HIST_BINS`] bins over `[0, 1]`) IoU and `p_t` of one step's picks.
    Histograms {
        /// The step.
        step: u64,
        /// Assignment IoU of the positives.
        iou_pos: Vec<u32>,
        /// Assignment IoU of the picked negatives.
        iou_picked_neg: Vec<u32>,
        /// `p_t` of the positives.
        p_t_pos: Vec<u32>,
        /// `p_t` of the picked negatives.
        p_t_neg: Vec<u32>,
    },
    /// The live model on one image (may be dropped).
    Preview {
        /// Steps done when it was computed.
        step: u64,
        /// Image index.
        index: usize,
        /// Class probabilities `[anchors][C]`.
        probs: Arc<Vec<f32>>,
        /// Detections after NMS.
        detections: Vec<Detection>,
    },
    /// The live model's parameters (may be dropped): what the app's views score anchors
    /// with. Sent with every preview and after a checkpoint is loaded.
    Snapshot(Arc<crate::train::ModelSnapshot>),
    /// The COCO evaluation of the held-out split.
    Evaluated {
        /// Steps done.
        step: u64,
        /// The 12 stats and per-class AP, with the records they came from.
        ap: Arc<crate::eval::HeldOutEval>,
    },
    /// A checkpoint was written.
    Saved(PathBuf),
    /// A checkpoint was loaded; training resumes at `step`.
    Loaded {
        /// The checkpoint.
        path: PathBuf,
        /// Its step.
        step: u64,
    },
    /// The last good state is back; the next step is `step`.
    Reloaded {
        /// Next step.
        step: u64,
    },
    /// Something failed (one line); training pauses when a step failed.
    Error(String),
    /// A non-finite loss or gradient (the step left the parameters alone), or a loss that
    /// grew [`EXPLOSION_FACTOR`]-fold over the run's first step: training paused.
    Diverged {
        /// The step.
        step: u64,
        /// `loss_cls`, `loss_reg`, `grad_norm` or `loss_total`.
        component: &'static str,
        /// Its value (NaN, infinite, or the exploded value).
        value: f64,
    },
    /// The thread's state changed.
    State(RunState),
}

/// The data a run trains and evaluates on.
pub struct TrainData {
    /// Training images (all of one size).
    pub train: Arc<dyn Dataset>,
    /// Held-out images for `Evaluate`.
    pub held_out: Arc<dyn Dataset>,
}

/// The UI's end of a trainer thread. Dropping it ends the thread after its current step.
pub struct TrainerHandle {
    commands: Sender<TrainerCommand>,
    events: Receiver<TrainerEvent>,
    lossy: Receiver<TrainerEvent>,
    thread: Option<JoinHandle<()>>,
}

impl TrainerHandle {
    /// Starts a thread that opens the data (`data` runs on it), builds the model and waits
    /// for commands; `wake` is called after every event.
    pub fn spawn(
        cfg: TrainConfig,
        model: ModelConfig,
        data: impl FnOnce() -> Result<TrainData, String> + Send + 'static,
        wake: impl Fn() + Send + 'static,
    ) -> Self {
        let (cmd_tx, cmd_rx) = bounded(256);
        let (ev_tx, ev_rx) = bounded(8192);
        let (lossy_tx, lossy_rx) = bounded(8);
        let lossy_rx2 = lossy_rx.clone();
        let thread = std::thread::Builder::new()
            .name("anchorscope-trainer".into())
            .spawn(move || {
                let out = Outbox {
                    events: ev_tx,
                    lossy: lossy_tx,
                    lossy_rx: lossy_rx2,
                    wake: Box::new(wake),
                };
                let work = move || {
                    let built = data().and_then(|d| {
                        let t = Trainer::new(cfg, &model, d.train.clone())?;
                        Ok((t, d))
                    });
                    match built {
                        Ok((trainer, data)) => Worker::new(trainer, data, out).run(&cmd_rx),
                        Err(e) => {
                            out.send(TrainerEvent::Error(e));
                            out.send(TrainerEvent::State(RunState::Stopped));
                        }
                    }
                };
                background::run_in_background(work);
            })
            .expect("spawn the trainer thread");
        Self {
            commands: cmd_tx,
            events: ev_rx,
            lossy: lossy_rx,
            thread: Some(thread),
        }
    }

    /// Queues a command without waiting; fails when the queue is full or the thread ended.
    pub fn send(&self, c: TrainerCommand) -> Result<(), String> {
        self.commands.try_send(c).map_err(|e| match e {
            TrySendError::Full(_) => "the trainer is busy: command queue full".to_string(),
            TrySendError::Disconnected(_) => "the trainer thread has ended".to_string(),
        })
    }

    /// The next event, if any: never-dropped events first, then previews and histograms.
    pub fn try_recv(&self) -> Option<TrainerEvent> {
        self.events
            .try_recv()
            .ok()
            .or_else(|| self.lossy.try_recv().ok())
    }

    /// Waits up to `timeout` for the next event (for tests and the command line).
    pub fn recv_timeout(&self, timeout: Duration) -> Option<TrainerEvent> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(e) = self.try_recv() {
                return Some(e);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// True once the thread has ended.
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }

    /// Asks the thread to stop and waits for it.
    pub fn join(mut self) {
        let _ = self.commands.try_send(TrainerCommand::Stop);
        while self.events.try_recv().is_ok() || self.lossy.try_recv().is_ok() {}
        if let Some(t) = self.thread.take() {
            // keep draining so a full event channel cannot block the thread's exit
            while !t.is_finished() {
                while self.events.try_recv().is_ok() {}
                std::thread::sleep(Duration::from_millis(2));
            }
            let _ = t.join();
        }
    }
}

impl Drop for TrainerHandle {
    fn drop(&mut self) {
        let _ = self.commands.try_send(TrainerCommand::Stop);
    }
}

/// The thread's sending side.
struct Outbox {
    events: Sender<TrainerEvent>,
    lossy: Sender<TrainerEvent>,
    /// The thread's own receiver of the lossy channel, to drop the oldest entry when full.
    lossy_rx: Receiver<TrainerEvent>,
    wake: Box<dyn Fn() + Send>,
}

impl Outbox {
    /// Sends an event that must not be lost; false when the UI is gone.
    fn send(&self, e: TrainerEvent) -> bool {
        let ok = self.events.send(e).is_ok();
        (self.wake)();
        ok
    }

    /// Sends an event that may be dropped: when the channel is full the oldest entry goes.
    fn offer(&self, e: TrainerEvent) {
        let e = match self.lossy.try_send(e) {
            Err(TrySendError::Full(e)) => e,
            _ => return (self.wake)(),
        };
        let _ = self.lossy_rx.try_recv();
        let _ = self.lossy.try_send(e);
        (self.wake)();
    }
}

mod background;
mod snapshot;
mod worker;
use worker::Worker;
pub use worker::{EXPLOSION_FACTOR, diverged_component};

/// Counts of the values in `[0, 1]` in [`HIST_BINS`] equal bins (values outside are clamped).
pub fn bin01(values: &[f32]) -> Vec<u32> {
    let mut c = vec![0u32; HIST_BINS];
    for &v in values.iter().filter(|v| v.is_finite()) {
        c[((v.clamp(0.0, 1.0) * HIST_BINS as f32) as usize).min(HIST_BINS - 1)] += 1;
    }
    c
}

#[cfg(test)]
mod tests;
