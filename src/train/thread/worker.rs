//! The loop of the trainer thread: commands between steps, steps while running.

use super::snapshot::{Snapshot, model_snapshot};
use super::{
    EVAL_IMAGES, Outbox, RunState, SNAPSHOT_EVERY, TrainData, TrainerCommand, TrainerEvent, bin01,
};
use crate::train::model_snapshot::ModelSource;
use crate::train::{DetectConfig, StepReport, TrainConfig, Trainer};
use crossbeam_channel::{Receiver, TryRecvError};
use std::sync::Arc;
use std::time::Instant;

/// The thread's state.
pub(super) struct Worker {
    trainer: Trainer,
    data: TrainData,
    out: Outbox,
    running: bool,
    pending: u64,
    preview: Option<(usize, DetectConfig)>,
    last_preview: Option<Instant>,
    last_good: Snapshot,
    candidate: Option<Snapshot>,
    size: (u32, u32),
    /// `loss_cls` and `loss_reg` of the run's first healthy step (the explosion reference).
    reference: Option<(f64, f64)>,
    /// The checkpoint the parameters come from, until the next step changes them.
    loaded: Option<std::path::PathBuf>,
}

/// A loss this many times its value at the first step counts as diverged, even if finite.
pub const EXPLOSION_FACTOR: f64 = 1e4;

/// The component that is not finite, or that grew [`EXPLOSION_FACTOR`]-fold over `reference`
/// (references below 0.1 count as 0.1), with its value.
pub fn diverged_component(
    m: &crate::train::StepMetrics,
    reference: Option<(f64, f64)>,
) -> Option<(&'static str, f64)> {
    if let Some(c) = m.divergence() {
        let v = match c {
            "loss_cls" => m.loss_cls,
            "loss_reg" => m.loss_reg,
            "grad_norm" => m.grad_norm,
            _ => m.loss_total,
        };
        return Some((c, v));
    }
    let (rc, rr) = reference?;
    let big = |v: f64, r: f64| v > EXPLOSION_FACTOR * r.max(0.1);
    if big(m.loss_cls, rc) {
        Some(("loss_cls", m.loss_cls))
    } else if big(m.loss_reg, rr) {
        Some(("loss_reg", m.loss_reg))
    } else {
        None
    }
}

impl Worker {
    pub(super) fn new(mut trainer: Trainer, data: TrainData, out: Outbox) -> Self {
        let size = data.train.load(0).map(|s| s.size()).unwrap_or((0, 0));
        let last_good = Snapshot::of(&mut trainer);
        Self {
            trainer,
            data,
            out,
            running: false,
            pending: 0,
            preview: None,
            last_preview: None,
            last_good,
            candidate: None,
            size,
            reference: None,
            loaded: None,
        }
    }

    /// Runs until `Stop`, a disconnected command channel or a UI that went away.
    pub(super) fn run(mut self, commands: &Receiver<TrainerCommand>) {
        let params = self
            .trainer
            .model()
            .params()
            .map(|p| p.value.data.len())
            .sum();
        let anchors = self.trainer.anchors().len();
        if !self.out.send(TrainerEvent::Ready { anchors, params })
            || !self.out.send(TrainerEvent::State(RunState::Paused))
        {
            return;
        }
        loop {
            let busy = self.running || self.pending > 0;
            let cmd = if busy {
                match commands.try_recv() {
                    Ok(c) => Some(c),
                    Err(TryRecvError::Empty) => None,
                    Err(TryRecvError::Disconnected) => return,
                }
            } else {
                match commands.recv() {
                    Ok(c) => Some(c),
                    Err(_) => return,
                }
            };
            let alive = match cmd {
                Some(c) => self.handle(c),
                None => self.step(),
            };
            if !alive {
                return;
            }
        }
    }

    fn state(&self, s: RunState) -> bool {
        self.out.send(TrainerEvent::State(s))
    }

    /// Handles one command; false ends the thread.
    fn handle(&mut self, c: TrainerCommand) -> bool {
        match c {
            TrainerCommand::Start => {
                self.running = true;
                self.state(RunState::Running)
            }
            TrainerCommand::Pause => {
                self.running = false;
                self.pending = 0;
                // the views follow the parameters training paused at
                self.send_preview();
                self.state(RunState::Paused)
            }
            TrainerCommand::Step(n) => {
                let was_idle = !self.running && self.pending == 0;
                self.pending += n;
                !was_idle || n == 0 || self.state(RunState::Running)
            }
            TrainerCommand::Stop => {
                self.state(RunState::Stopped);
                false
            }
            TrainerCommand::SetConfig(cfg) => match self.check_config(&cfg) {
                Ok(()) => {
                    self.trainer.set_config(*cfg);
                    true
                }
                Err(e) => self.out.send(TrainerEvent::Error(e)),
            },
            TrainerCommand::SetBackend(choice) => match self.trainer.set_backend(choice) {
                Ok(name) => self.out.send(TrainerEvent::Backend(name)),
                Err(e) => self.out.send(TrainerEvent::Error(e)),
            },
            TrainerCommand::Save(path) => match self.trainer.save(&path) {
                Ok(()) => self.out.send(TrainerEvent::Saved(path)),
                Err(e) => self.out.send(TrainerEvent::Error(e)),
            },
            TrainerCommand::Load(path) => match self.trainer.load(&path) {
                Ok(()) => {
                    let step = self.trainer.step;
                    self.last_good = Snapshot::of(&mut self.trainer);
                    self.candidate = None;
                    self.loaded = Some(path.clone());
                    let ok = self.out.send(TrainerEvent::Loaded { path, step });
                    self.send_preview();
                    ok
                }
                Err(e) => self.out.send(TrainerEvent::Error(e)),
            },
            TrainerCommand::Evaluate => {
                let r = self
                    .trainer
                    .evaluate(self.data.held_out.as_ref(), EVAL_IMAGES);
                let step = self.trainer.step;
                match r {
                    Ok(ap) => self.out.send(TrainerEvent::Evaluated {
                        step,
                        ap: Arc::new(ap),
                    }),
                    Err(e) => self.out.send(TrainerEvent::Error(e)),
                }
            }
            TrainerCommand::Preview { index, detect } => {
                self.preview = Some((index, detect));
                self.send_preview();
                true
            }
            TrainerCommand::ReloadLastGood => {
                self.last_good.restore(&mut self.trainer);
                self.candidate = None;
                let step = self.trainer.step;
                self.send_preview();
                self.out.send(TrainerEvent::Reloaded { step })
            }
        }
    }

    /// Settings a running model cannot take: other anchors, classes or optimizer.
    fn check_config(&self, cfg: &TrainConfig) -> Result<(), String> {
        cfg.validate()?;
        let old = &self.trainer.cfg;
        if cfg.lab.anchors != old.lab.anchors {
            return Err("new anchor settings need a new run".into());
        }
        if cfg.num_classes != old.num_classes {
            return Err("a different number of classes needs a new run".into());
        }
        Ok(())
    }

    /// One training step and its events; false ends the thread.
    fn step(&mut self) -> bool {
        if self.pending > 0 {
            self.pending -= 1;
        }
        if self.trainer.step.is_multiple_of(SNAPSHOT_EVERY) {
            // the previous candidate was followed by SNAPSHOT_EVERY healthy steps
            if let Some(c) = self.candidate.take() {
                self.last_good = c;
            }
            self.candidate = Some(Snapshot::of(&mut self.trainer));
        }
        self.loaded = None;
        let report = match self.trainer.train_step() {
            Ok(r) => r,
            Err(e) => {
                self.running = false;
                self.pending = 0;
                return self.out.send(TrainerEvent::Error(e)) && self.state(RunState::Paused);
            }
        };
        let StepReport {
            metrics,
            objective: o,
        } = report;
        if !self.out.send(TrainerEvent::Metrics(metrics.clone())) {
            return false;
        }
        // A fused GPU step keeps the logits on the GPU, so it has no p_t samples; its
        // histograms would read as an empty step. The next hybrid step (every tenth) sends them.
        let has_p_t = !(o.p_t_pos.is_empty() && o.p_t_neg.is_empty());
        if has_p_t {
            self.out.offer(TrainerEvent::Histograms {
                step: metrics.step,
                iou_pos: bin01(&o.iou_pos),
                iou_picked_neg: bin01(&o.iou_picked_neg),
                p_t_pos: bin01(&o.p_t_pos),
                p_t_neg: bin01(&o.p_t_neg),
            });
        }
        if let Some((component, value)) = diverged_component(&metrics, self.reference) {
            self.running = false;
            self.pending = 0;
            self.candidate = None;
            let step = metrics.step;
            return self.out.send(TrainerEvent::Diverged {
                step,
                component,
                value,
            }) && self.state(RunState::Paused);
        }
        self.reference
            .get_or_insert((metrics.loss_cls, metrics.loss_reg));
        let done = !self.running && self.pending == 0;
        if done
            || self
                .last_preview
                .is_none_or(|t| t.elapsed() >= super::PREVIEW_EVERY)
        {
            self.send_preview();
        }
        !done || self.state(RunState::Paused)
    }

    /// The live model's snapshot, then its scores and detections on the preview image if
    /// one is set.
    fn send_preview(&mut self) {
        self.last_preview = Some(Instant::now());
        let source = match &self.loaded {
            Some(p) => ModelSource::Checkpoint(p.clone()),
            None => ModelSource::Live,
        };
        let snap = model_snapshot(&mut self.trainer, source);
        self.out.offer(TrainerEvent::Snapshot(Arc::new(snap)));
        let Some((index, detect)) = self.preview else {
            return;
        };
        let sample = match self.data.train.load(index) {
            Ok(s) if s.size() == self.size => s,
            Ok(s) => {
                let msg = format!(
                    "preview: image {index} is {:?}, the model trains on {:?}",
                    s.size(),
                    self.size
                );
                self.preview = None;
                self.out.send(TrainerEvent::Error(msg));
                return;
            }
            Err(e) => {
                self.preview = None;
                self.out.send(TrainerEvent::Error(format!("preview: {e}")));
                return;
            }
        };
        let (probs, detections) = self.trainer.predict(&sample.image, &detect);
        let step = self.trainer.step;
        self.out.offer(TrainerEvent::Preview {
            step,
            index,
            probs: Arc::new(probs),
            detections,
        });
    }
}
