//! The app itself: settings, runtime parts, the frame loop, jobs for the worker, undo,
//! persistence and the `--screenshot` mode.

use crate::app::image_view::ImageView;
use crate::app::panels::training::TrainingRuntime;
use crate::app::panels::{self, DatasetStats, PanelContext};
use crate::app::plot_export::PlotExports;
use crate::app::state::{AppState, Tab};
use crate::app::worker::{self, DatasetInfo, Job, WorkerEvent};
use crate::data::DatasetSpec;
use crate::inspect::Inspection;
use crossbeam_channel::{Receiver, Sender};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod capture;
mod frame_log;
mod history;
mod sweep_link;

/// Start-up options (from the command line).
#[derive(Clone, Debug, Default)]
pub struct AppOptions {
    /// Dataset SPEC overriding the saved one.
    pub dataset: Option<String>,
    /// Write a screenshot here and exit.
    pub screenshot: Option<PathBuf>,
    /// Tab to show.
    pub tab: Option<Tab>,
    /// Image to show.
    pub image: Option<usize>,
    /// GT and results files to evaluate at start.
    pub eval_files: Option<(PathBuf, PathBuf)>,
    /// Open the compare view.
    pub compare: bool,
    /// A lesson's state to start from (instead of the last session's).
    pub lesson: Option<AppState>,
    /// A sweep folder to open in the Sweep tab.
    pub sweep: Option<PathBuf>,
}

/// Where `run` learns how a `--screenshot` run ended.
pub type Outcome = Arc<Mutex<Option<Result<(), String>>>>;

/// What an inspection is scored with: the ranking losses and the model's step and source.
type ScoringKey = (
    crate::sample::ranking::RankingLoss,
    Option<(u64, crate::train::ModelSource)>,
);

/// What an inspection job is for: the image, the lab's settings and the compare view's
/// right-half assigner (when it needs its own inspection).
type InspectKey = (
    usize,
    crate::config::LabConfig,
    Option<crate::assign::AssignerConfig>,
);

/// Images covered by the dataset statistics.
const STATS_IMAGES: usize = 200;

/// The anchorscope app.
pub struct AnchorscopeApp {
    /// Persisted settings.
    pub state: AppState,
    opts: AppOptions,
    jobs: Sender<Job>,
    events: Receiver<WorkerEvent>,
    generation: u64,
    /// Settings the last jobs were sent for.
    sent_dataset: Option<crate::app::state::DatasetSettings>,
    sent_inspect: Option<InspectKey>,
    shown_inspect: Option<InspectKey>,
    /// Ranking losses and model (step, source) the last inspection job was sent with.
    sent_scoring: Option<ScoringKey>,
    sent_stats: Option<(crate::app::state::DatasetSettings, crate::config::LabConfig)>,
    /// Open dataset.
    pub dataset: Option<DatasetInfo>,
    /// Inspection of the image on screen.
    pub inspection: Option<Arc<Inspection>>,
    /// Dataset statistics.
    pub stats: Option<Arc<DatasetStats>>,
    /// Progress of long work: what and how far.
    pub progress: Option<(String, f32)>,
    /// Last error from the worker.
    pub error: Option<String>,
    /// Image view runtime state.
    pub view: ImageView,
    /// The compare view's right half.
    pub compare: crate::app::compare::CompareView,
    /// The trainer thread's handle and what it reported (the Training tab).
    pub training: TrainingRuntime,
    /// The Evaluation tab's thread and what it shows.
    pub evaluation: crate::app::panels::evaluation::EvaluationTab,
    /// The Sweep tab: the opened sweep folder and its helper threads.
    pub sweep: crate::app::panels::sweep::SweepTab,
    /// The hover read-out shown in the last frame (None when no anchor is hovered).
    pub hover_read_out: Option<String>,
    exports: PlotExports,
    pending_png: Vec<(PathBuf, egui::Rect)>,
    undo: Vec<AppState>,
    redo: Vec<AppState>,
    last_state: AppState,
    show_help: bool,
    frame_ms: f32,
    frame_log: Option<frame_log::FrameLog>,
    adapter: String,
    started: Instant,
    screenshot_sent: bool,
    outcome: Option<Outcome>,
    notice: Option<(String, Instant)>,
    shots: Arc<Mutex<Vec<Arc<egui::ColorImage>>>>,
}

impl AnchorscopeApp {
    /// Creates the app; restores the last session's settings unless taking a screenshot.
    pub fn new(
        cc: &eframe::CreationContext<'_>,
        opts: AppOptions,
        outcome: Option<Outcome>,
    ) -> Self {
        let mut state: AppState = if let Some(l) = &opts.lesson {
            l.clone()
        } else if opts.screenshot.is_none() {
            cc.storage
                .and_then(|s| eframe::get_value(s, eframe::APP_KEY))
                .unwrap_or_default()
        } else {
            AppState::default()
        };
        if let Some(spec) = &opts.dataset {
            apply_spec(&mut state, spec);
        }
        if let Some(t) = opts.tab.or(opts.sweep.as_ref().map(|_| Tab::Sweep)) {
            state.tab = t;
        }
        if let Some(i) = opts.image {
            state.image_index = i;
        }
        if opts.compare {
            state.compare.on = true;
        }
        cc.egui_ctx.set_zoom_factor(state.ui_scale.clamp(0.5, 3.0));
        let training = TrainingRuntime::new(cc.egui_ctx.clone());
        let mut evaluation =
            crate::app::panels::evaluation::EvaluationTab::new(cc.egui_ctx.clone());
        if let Some((gt, dt)) = &opts.eval_files {
            let images_dir = crate::app::panels::evaluation::coco_images_dir(&state);
            evaluation.evaluate_files(gt.clone(), dt.clone(), images_dir);
        }
        let mut sweep = crate::app::panels::sweep::SweepTab::new(cc.egui_ctx.clone());
        if let Some(dir) = &opts.sweep {
            sweep.open(dir.clone());
        }
        let ctx = cc.egui_ctx.clone();
        let (jobs, events) = worker::spawn(move || ctx.request_repaint());
        let adapter = cc
            .wgpu_render_state
            .as_ref()
            .map(|rs| {
                let i = rs.adapter.get_info();
                format!("{} ({:?})", i.name, i.backend)
            })
            .unwrap_or_else(|| "no wgpu adapter".into());
        let mut view = ImageView::default();
        if let Some(rs) = cc.wgpu_render_state.as_ref() {
            crate::app::overlay::install(
                rs,
                crate::app::overlay::OverlayTarget::for_eframe(rs, 0, 0, 0),
            );
            view.gpu = true;
        }
        let export_dir = std::env::current_dir()
            .unwrap_or_default()
            .join("anchorscope-exports");
        Self {
            last_state: state.clone(),
            state,
            opts,
            jobs,
            events,
            generation: 0,
            sent_dataset: None,
            sent_inspect: None,
            shown_inspect: None,
            sent_scoring: None,
            sent_stats: None,
            dataset: None,
            inspection: None,
            stats: None,
            progress: None,
            error: None,
            view,
            compare: Default::default(),
            training,
            evaluation,
            sweep,
            hover_read_out: None,
            exports: PlotExports::new(export_dir),
            pending_png: Vec::new(),
            undo: Vec::new(),
            redo: Vec::new(),
            show_help: false,
            frame_ms: 0.0,
            frame_log: frame_log::FrameLog::from_env(),
            adapter,
            started: Instant::now(),
            screenshot_sent: false,
            outcome,
            notice: None,
            shots: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// True when no job is outstanding, the dataset is open (or failed to) and the image on
    /// screen is inspected.
    pub fn is_idle(&self) -> bool {
        self.inspection.is_some()
            && self.progress.is_none()
            && (self.dataset.is_some() || self.error.is_some())
            && self.shown_inspect.as_ref() == Some(&self.inspect_key())
            && (self.state.tab != Tab::Stats || self.stats.is_some())
            && (self.state.tab != Tab::Evaluation || !self.evaluation.busy)
            && !self.sweep.busy()
    }

    /// The inspection the current settings need.
    fn inspect_key(&self) -> InspectKey {
        let s = &self.state;
        let right = s.compare.right_assigner(&s.lab.assigner);
        (s.image_index, s.lab.clone(), right)
    }

    /// Sends the jobs the current settings need (only what changed).
    fn schedule(&mut self) {
        if self.sent_dataset.as_ref() != Some(&self.state.dataset) {
            self.generation += 1;
            self.sent_dataset = Some(self.state.dataset.clone());
            self.sent_inspect = None;
            self.sent_stats = None;
            self.stats = None;
            self.dataset = None;
            self.progress = Some(("Opening dataset".into(), 0.0));
            let _ = self.jobs.send(Job::Open {
                generation: self.generation,
                settings: self.state.dataset.clone(),
            });
        }
        if let Some(info) = &self.dataset {
            let last = info.len.saturating_sub(1);
            if self.state.image_index > last {
                self.state.image_index = last;
            }
        }
        let want = self.inspect_key();
        let nc = self.num_classes().unwrap_or(1);
        let (ranking, model) = self.training.view_model(&self.state, nc);
        let scoring = (
            ranking.clone(),
            model.as_ref().map(|m| (m.step, m.source.clone())),
        );
        if self.sent_inspect.as_ref() != Some(&want) || self.sent_scoring.as_ref() != Some(&scoring)
        {
            self.sent_inspect = Some(want.clone());
            self.sent_scoring = Some(scoring);
            let _ = self.jobs.send(Job::Inspect {
                generation: self.generation,
                index: want.0,
                lab: want.1,
                ranking,
                model,
                right_assigner: want.2,
            });
        }
        let want_stats = (self.state.dataset.clone(), self.state.lab.clone());
        let eql = |l: &crate::losses::classification::ClsLoss| l.name() == "eql";
        let needs_freq = eql(&self.state.overlay.loss) || eql(&self.state.compare.right.loss);
        if (self.state.tab == Tab::Stats || needs_freq)
            && self.sent_stats.as_ref() != Some(&want_stats)
        {
            self.sent_stats = Some(want_stats);
            self.stats = None;
            let _ = self.jobs.send(Job::Stats {
                generation: self.generation,
                images: STATS_IMAGES,
                lab: self.state.lab.clone(),
            });
        }
    }

    /// Drains the worker's events within a small time budget.
    fn drain_events(&mut self) {
        let budget = Instant::now() + Duration::from_millis(4);
        while Instant::now() < budget {
            let Ok(ev) = self.events.try_recv() else {
                break;
            };
            match ev {
                WorkerEvent::Opened { generation, info } if generation == self.generation => {
                    self.dataset = Some(info);
                    self.error = None;
                    self.progress = None;
                }
                WorkerEvent::Inspected {
                    generation,
                    index,
                    lab,
                    inspection,
                    right_assigner,
                    right,
                } if generation == self.generation => {
                    self.compare.inspection = right.map(|r| (inspection.clone(), r));
                    self.inspection = Some(inspection);
                    self.shown_inspect = Some((index, lab, right_assigner));
                    self.progress = None;
                }
                WorkerEvent::Progress {
                    generation,
                    what,
                    fraction,
                } if generation == self.generation => {
                    self.progress = Some((what, fraction));
                }
                WorkerEvent::Stats { generation, stats } if generation == self.generation => {
                    self.stats = Some(stats);
                    self.progress = None;
                }
                WorkerEvent::Error {
                    generation,
                    message,
                } if generation == self.generation => {
                    self.error = Some(message);
                    self.progress = None;
                }
                _ => {}
            }
        }
        self.training
            .drain(Instant::now() + Duration::from_millis(4));
    }

    /// Classes of the open dataset (`None` until it is open).
    fn num_classes(&self) -> Option<usize> {
        self.dataset.as_ref().map(|d| d.class_names.len().max(1))
    }
}

/// Applies a dataset SPEC to the settings (synthetic presets set the generator knobs).
pub(super) fn apply_spec(state: &mut AppState, spec: &str) {
    match DatasetSpec::parse(spec) {
        Ok(DatasetSpec::Synthetic { preset, seed }) => {
            state.dataset.spec.clear();
            if let Some(cfg) = crate::data::SyntheticConfig::preset(&preset) {
                state.dataset.synthetic = cfg;
            }
            state.dataset.preset = preset;
            state.dataset.seed = seed;
        }
        _ => state.dataset.spec = spec.to_string(),
    }
}

impl eframe::App for AnchorscopeApp {
    /// The panels' fill: the panels themselves are drawn unfilled ([`crate::app::chrome::unfilled`]).
    fn clear_color(&self, visuals: &egui::Visuals) -> [f32; 4] {
        visuals.panel_fill.to_normalized_gamma_f32()
    }

    fn logic(&mut self, _ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.drain_events();
        self.schedule();
        if let Some(st) = &self.stats {
            let f = &st.image_class_freq;
            for l in [
                &mut self.state.overlay.loss,
                &mut self.state.compare.right.loss,
            ] {
                crate::app::compare::fill_class_freq(l, f);
            }
        }
        if let Some(nc) = self.num_classes() {
            self.training.sync(&self.state, nc);
        }
        self.evaluation.poll(&mut self.training, &self.state);
        if let Some(r) = self.sweep.poll() {
            self.reopen_sweep_run(r);
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let t0 = Instant::now();
        if let Some(log) = &mut self.frame_log {
            log.frame();
            // back-to-back frames, so an interval is one whole frame (work, render, present)
            ui.ctx().request_repaint();
        }
        let ctx = ui.ctx().clone();
        ctx.set_visuals(if self.state.dark {
            egui::Visuals::dark()
        } else {
            egui::Visuals::light()
        });
        self.shortcuts(&ctx);
        // Ctrl + / Ctrl - (egui's zoom keys) change the UI scale; it is kept with the state
        let z = ctx.zoom_factor();
        if (z - self.state.ui_scale).abs() > 1e-3 {
            self.state.ui_scale = z;
        }
        // the model the inspection was scored with (live run, checkpoint) unless the prior
        let live = (self.inspection.as_ref())
            .filter(|ins| ins.model.source != crate::train::ModelSource::Prior)
            .map(|ins| ins.probs.clone());
        let num_classes = self.num_classes();
        let pctx = PanelContext {
            inspection: self.inspection.as_deref(),
            scores: live.as_deref().map(|v| v.as_slice()),
            prior_prob: self.state.lab.prior_prob,
            stats: self.stats.as_deref(),
            exports: &self.exports,
            dataset: self.dataset.as_ref(),
        };
        crate::app::chrome::status_bar_ui(ui, self);
        let style = ui.style().clone();
        let side = crate::app::chrome::unfilled(egui::Frame::side_top_panel(&style));
        // The image keeps at least half the window: the side panels are capped (the left at a
        // quarter, the right at what is left of the other half) and the tab body scrolls
        // sideways inside its panel instead of widening it.
        let (left_max, right_max) = side_panel_caps(ui.available_rect_before_wrap().width());
        let left = egui::Panel::left("dataset")
            .frame(side)
            .default_size(250.0f32.min(left_max))
            .max_size(left_max)
            .resizable(true)
            .show(ui, |ui| {
                panels::dataset::dataset_ui(ui, &mut self.state, &pctx);
            });
        let right_max = right_cap(right_max, left.response.rect.width(), left_max);
        egui::Panel::right("tabs")
            .frame(side)
            .default_size(430.0f32.min(right_max))
            .max_size(right_max)
            .resizable(true)
            .show(ui, |ui| {
                ui.horizontal_wrapped(|ui| {
                    for t in Tab::ALL {
                        ui.selectable_value(&mut self.state.tab, t, t.title());
                    }
                });
                ui.separator();
                // each tab scrolls itself vertically; anything wider than the panel scrolls
                // sideways here
                egui::ScrollArea::horizontal()
                    .id_salt("tab_body_h")
                    .auto_shrink([false, false])
                    .show(ui, |ui| match self.state.tab {
                        Tab::Anchors => panels::anchors::anchors_ui(ui, &mut self.state, &pctx),
                        Tab::Sampler => panels::sampler::sampler_ui(ui, &mut self.state, &pctx),
                        Tab::Loss => {
                            panels::loss_explorer::loss_explorer_ui(ui, &mut self.state, &pctx)
                        }
                        Tab::Stats => panels::stats::stats_ui(ui, &mut self.state, &pctx),
                        Tab::Training => panels::training::training_ui(
                            ui,
                            &mut self.state,
                            &pctx,
                            &mut self.training,
                            num_classes,
                        ),
                        Tab::Evaluation => panels::evaluation::evaluation_ui(
                            ui,
                            &mut self.evaluation,
                            &mut self.training,
                            &self.exports,
                        ),
                        Tab::Sweep => panels::sweep::sweep_ui(ui, &mut self.sweep, &self.exports),
                    });
            });
        let central = crate::app::chrome::unfilled(egui::Frame::central_panel(&style));
        egui::CentralPanel::default().frame(central).show(ui, |ui| {
            if !self.state.compare.on {
                crate::app::chrome::overlay_bar_ui(ui, &mut self.state);
            }
            match self.inspection.clone() {
                Some(ins) if self.state.compare.on => {
                    let s = &mut self.state;
                    let left = (&mut self.view, &mut s.overlay, &mut s.lab.assigner);
                    self.compare
                        .ui(ui, &ins, left, &mut s.compare, live.as_ref());
                    self.hover_read_out = None;
                }
                Some(ins) => {
                    self.view.update(&ins, &self.state.overlay, live.as_ref());
                    self.view.ui(ui, &ins, &self.state.overlay);
                    if self.state.training.show_detections
                        && live.is_some()
                        && let Some(p) = &self.training.preview
                    {
                        panels::training::draw_detections(
                            ui,
                            &self.view,
                            &p.detections,
                            &ins.class_names,
                        );
                    }
                    self.hover_read_out = None;
                    if let Some(i) = self.view.hovered {
                        let model =
                            live.as_deref()
                                .map(|probs| crate::app::image_view::ModelScores {
                                    probs,
                                    step: ins.model.step,
                                    source: ins.model.source.key(),
                                });
                        let text = self.view.hover_text(
                            &ins,
                            &self.state.overlay,
                            i,
                            self.state.lab.prior_prob,
                            model,
                        );
                        egui::Tooltip::always_open(
                            ctx.clone(),
                            ui.layer_id(),
                            egui::Id::unique("anchor-hover"),
                            egui::PopupAnchor::Pointer,
                        )
                        .show(|ui| ui.label(egui::RichText::new(&text).monospace()));
                        self.hover_read_out = Some(text);
                    }
                    if let Some(g) = self.view.selected_gt {
                        crate::app::chrome::selected_gt_ui(&ctx, &ins, g);
                    }
                }
                None => {
                    ui.centered_and_justified(|ui| {
                        ui.spinner();
                    });
                }
            }
        });
        if self.show_help {
            crate::app::chrome::help_ui(&ctx, &mut self.show_help);
        }
        self.run_exports(&ctx);
        self.handle_screenshots(&ctx);
        self.track_undo(&ctx);
        self.frame_ms = t0.elapsed().as_secs_f32() * 1e3;
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        if self.opts.screenshot.is_none() {
            eframe::set_value(storage, eframe::APP_KEY, &self.state);
        }
    }
}

/// The widest the side panels may be in a window `width` points wide: `(left, right)`, the
/// left at a quarter of the window, the right at half the window less the left's cap and 24
/// points (the central panel's margins), so the image between them keeps at least half
/// (never below 160 points each).
pub fn side_panel_caps(width: f32) -> (f32, f32) {
    let left = (0.25 * width).max(160.0);
    (left, (0.5 * width - left - 24.0).max(160.0))
}

/// The right panel's cap once the left panel is `left_width` wide (its cap `left_max`): the
/// room the left leaves unused goes to the right.
fn right_cap(cap: f32, left_width: f32, left_max: f32) -> f32 {
    cap + (left_max - left_width).max(0.0)
}

impl AnchorscopeApp {
    /// Time the last frame's UI code took, in ms.
    pub fn frame_ms(&self) -> f32 {
        self.frame_ms
    }

    /// Adapter description for the status bar.
    pub fn adapter(&self) -> &str {
        &self.adapter
    }

    /// A transient notice (e.g. "Wrote file"), shown for a few seconds.
    pub fn notice(&self) -> Option<&str> {
        self.notice
            .as_ref()
            .filter(|(_, t)| t.elapsed() < Duration::from_secs(4))
            .map(|(s, _)| s.as_str())
    }

    /// Undo / redo depths.
    pub fn history(&self) -> (usize, usize) {
        (self.undo.len(), self.redo.len())
    }
}
