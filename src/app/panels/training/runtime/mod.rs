//! The app's side of the trainer thread: the handle, the runs' curves and the latest results.

mod events;

use super::TrainingSettings;
use super::checkpoint_io::{CheckpointAction, CheckpointDialog, PathPicker, rfd_picker};
use super::heatmap::HeatmapCache;
use super::run::{LatestHistograms, LivePreview, Run};
use crate::anchors::AnchorConfig;
use crate::app::state::{AppState, DatasetSettings};
use crate::app::worker::open_dataset;
use crate::data::{Dataset, SyntheticDataset};
use crate::model::ModelConfig;
use crate::sample::ranking::RankingLoss;
use crate::train::ModelSnapshot;
use crate::train::objective::ranking_loss;
use crate::train::thread::EVAL_IMAGES;
use crate::train::{
    BackendChoice, DetectConfig, RunState, TrainConfig, TrainData, TrainerCommand, TrainerHandle,
};

use std::path::PathBuf;
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
    /// The live model's latest parameters (what the views score anchors with).
    pub snapshot: Option<Arc<ModelSnapshot>>,
    /// A checkpoint opened outside a run (a sweep's run): the views score with it instead of
    /// the live model until a run starts or steps.
    pub opened: Option<Arc<ModelSnapshot>>,
    /// Latest evaluation: step, the 12 stats and per-class AP, and the records evaluated.
    pub eval: Option<(u64, Arc<crate::eval::HeldOutEval>)>,
    /// Divergence: step and message naming the component and the loss.
    pub diverged: Option<(u64, String)>,
    /// Latest error from the trainer.
    pub error: Option<String>,
    /// Metrics events received in total (all runs).
    pub metrics_received: u64,
    /// Anchors per image and parameters of the current model.
    pub model_info: Option<(usize, usize)>,
    /// Latest checkpoint news: saving, saved, loading, loaded.
    pub checkpoint_status: Option<String>,
    /// The save / load file dialog.
    pub dialog: CheckpointDialog,
    /// Textures of the histogram heatmaps.
    pub(super) heatmaps: HeatmapCache,
    /// The backend the trainer reported ("cpu" or "gpu: adapter").
    pub backend: Option<String>,
    sent_config: Option<TrainConfig>,
    sent_backend: Option<BackendChoice>,
    sent_preview: Option<(usize, DetectConfig)>,
    run_data: Option<(DatasetSettings, AnchorConfig)>,
    /// The detector of the current run.
    run_model: Option<ModelConfig>,
}

impl TrainingRuntime {
    /// No run yet; `ctx` is woken by the trainer thread. File dialogs are rfd's.
    pub fn new(ctx: egui::Context) -> Self {
        Self::with_picker(ctx, rfd_picker())
    }

    /// No run yet; checkpoint paths come from `picker` (tests pass one that needs no user).
    pub fn with_picker(ctx: egui::Context, picker: PathPicker) -> Self {
        Self {
            handle: None,
            wake: ctx,
            runs: Vec::new(),
            state: None,
            histograms: None,
            preview: None,
            snapshot: None,
            opened: None,
            eval: None,
            diverged: None,
            error: None,
            metrics_received: 0,
            model_info: None,
            checkpoint_status: None,
            dialog: CheckpointDialog::new(picker),
            heatmaps: HeatmapCache::default(),
            backend: None,
            sent_config: None,
            sent_backend: None,
            sent_preview: None,
            run_data: None,
            run_model: None,
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
        self.opened = None;
        self.command(TrainerCommand::Start);
    }

    /// Pauses training.
    pub fn pause(&mut self) {
        self.command(TrainerCommand::Pause);
    }

    /// Runs `n` steps (a new trainer thread first if there is none).
    pub fn step(&mut self, state: &AppState, num_classes: usize, n: u64) {
        self.ensure_thread(state, num_classes);
        self.opened = None;
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
        self.snapshot = None;
        self.eval = None;
        self.diverged = None;
        self.error = None;
        self.checkpoint_status = None;
        self.sent_config = None;
        self.sent_backend = None;
        self.backend = None;
        self.sent_preview = None;
        self.run_data = None;
        self.run_model = None;
    }

    /// When the run's model no longer matches the settings (other anchor strides or
    /// anchors, the balanced pyramid toggled): what a new run would change, in words.
    pub fn needs_new_run(&self, state: &AppState) -> Option<String> {
        let (_, anchors) = self.run_data.as_ref()?;
        let model = self.run_model.as_ref()?;
        let want = state.training.model_config(&state.lab).ok()?;
        if want.balanced_fpn != model.balanced_fpn {
            let what = if want.balanced_fpn { "with" } else { "without" };
            return Some(format!("New run {what} the balanced feature pyramid"));
        }
        if *anchors != state.lab.anchors {
            let s = want.strides();
            let (lo, hi) = (s[0].trailing_zeros(), s[s.len() - 1].trailing_zeros());
            return Some(format!("New run with these anchors (pyramid P{lo}-P{hi})"));
        }
        None
    }

    /// Opens the save (needs a run) or load file dialog without blocking.
    pub fn open_dialog(&mut self, action: CheckpointAction) {
        if action == CheckpointAction::Save && !self.has_run() {
            self.error = Some("no run to save: start or step one first".into());
            return;
        }
        self.dialog.open(action, self.wake.clone());
    }

    /// Asks the trainer to write a checkpoint to `path`.
    pub fn save_checkpoint(&mut self, path: PathBuf) {
        if !self.has_run() {
            self.error = Some("no run to save: start or step one first".into());
            return;
        }
        self.checkpoint_status = Some(format!("Saving {}...", path.display()));
        self.command(TrainerCommand::Save(path));
    }

    /// Asks the trainer to load the checkpoint at `path` (a new trainer thread first if there
    /// is none).
    pub fn load_checkpoint(&mut self, state: &AppState, num_classes: usize, path: PathBuf) {
        self.ensure_thread(state, num_classes);
        self.opened = None;
        self.checkpoint_status = Some(format!("Loading {}...", path.display()));
        self.command(TrainerCommand::Load(path));
    }

    /// Scores the views with `snapshot` (a checkpoint read off the UI thread) until a run
    /// starts, steps or loads a checkpoint.
    pub fn show_checkpoint(&mut self, snapshot: Arc<ModelSnapshot>) {
        self.opened = Some(snapshot);
    }

    /// The configuration last sent to the trainer (at the start or by `SetConfig`).
    pub fn sent_config(&self) -> Option<&TrainConfig> {
        self.sent_config.as_ref()
    }

    /// Asks for the COCO evaluation of the held-out images.
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
        let model = match s.model_config(&state.lab) {
            Ok(m) => m,
            Err(e) => {
                self.error = Some(e);
                return;
            }
        };
        let settings = state.dataset.clone();
        let seed = cfg.seed;
        let data = move || {
            if !settings.spec.trim().is_empty() {
                // files: the train split at the model input size, the validation split held out
                let spec = crate::data::DatasetSpec::parse(settings.spec.trim())
                    .map_err(|e| e.to_string())?;
                let v = crate::data::DataConfig::default()
                    .with_remedies(settings.remedies.clone())
                    .open_for_training(&spec, seed)
                    .map_err(|e| e.to_string())?;
                return Ok(TrainData {
                    train: v.train,
                    held_out: v.held_out,
                });
            }
            let train = open_dataset(&settings, &|_| {})?.0;
            let ds = SyntheticDataset::new(settings.synthetic.clone(), settings.seed);
            let mut held_out: Arc<dyn Dataset> = Arc::new(ds.held_out(EVAL_IMAGES));
            if !settings.remedies.merge.is_empty() {
                // the held-out scenes stay untouched but share the merged class list
                let merged =
                    crate::data::remedies::MergedDataset::new(held_out, &settings.remedies.merge);
                held_out = Arc::new(merged.map_err(|e| e.to_string())?);
            }
            Ok(TrainData { train, held_out })
        };
        let ctx = self.wake.clone();
        let wake = move || ctx.request_repaint_after(Duration::from_millis(20));
        self.handle = Some(TrainerHandle::spawn(cfg.clone(), model.clone(), data, wake));
        self.run_model = Some(model);
        self.runs.push(Run {
            name: format!("run {}: {}", self.runs.len() + 1, s.loss_label()),
            ..Run::default()
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
    /// Also acts on a path the file dialog returned.
    pub fn sync(&mut self, state: &AppState, num_classes: usize) {
        match self.dialog.poll() {
            Some((CheckpointAction::Save, path)) => self.save_checkpoint(path),
            Some((CheckpointAction::Load, path)) => self.load_checkpoint(state, num_classes, path),
            None => {}
        }
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
        if self.sent_backend != Some(state.training.backend) {
            self.sent_backend = Some(state.training.backend);
            self.backend = None;
            self.command(TrainerCommand::SetBackend(state.training.backend));
        }
        let want = (state.image_index, state.training.detect());
        if self.matches_screen(state) && self.sent_preview.as_ref() != Some(&want) {
            self.sent_preview = Some(want);
            let (index, detect) = want;
            self.command(TrainerCommand::Preview { index, detect });
        }
    }

    /// What the views score anchors with: the losses the hard samplers rank by (the live
    /// run's settings) and an opened checkpoint, else the live model's latest snapshot if a
    /// run has sent one.
    pub fn view_model(
        &self,
        state: &AppState,
        num_classes: usize,
    ) -> (RankingLoss, Option<Arc<ModelSnapshot>>) {
        let cfg = state.training.train_config(&state.lab, num_classes);
        let model = self.opened.clone().or_else(|| self.snapshot.clone());
        (ranking_loss(&cfg), model)
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

    /// Drops the curves and histograms of step `step` on (the model goes on from there).
    fn truncate_run(&mut self, step: u64) {
        if let Some(r) = self.runs.last_mut() {
            r.metrics.retain(|m| m.step < step);
            r.histograms.truncate_from(step);
        }
    }
}
