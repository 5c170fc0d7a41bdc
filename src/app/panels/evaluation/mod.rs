//! The Evaluation tab: the COCO evaluation of the live model (its Evaluate, or a checkpoint
//! loaded into the run) or of a results file over its GT file, and where the errors come from:
//! the 12 stats, PR curves per class, per-class AP beside GT counts, APs / APm / APl beside the
//! box sizes, a confusion matrix with a score slider, TIDE's error breakdown and per-image
//! TP / FP / FN with the worst images. All evaluation runs on the tab's own thread
//! ([`worker`]); the UI sends jobs and polls answers.

mod image;
mod plots;
mod sections;
#[cfg(test)]
mod tests;
pub mod worker;

use crate::app::panels::training::{CheckpointAction, TrainingRuntime};
use crate::app::plot_export::PlotExports;
use crate::app::state::AppState;
use crate::data::SyntheticDataset;
use crossbeam_channel::{Receiver, Sender, bounded};
use std::path::PathBuf;
use std::sync::Arc;
pub use worker::EvalView;
use worker::{Answer, Job, Pixels};

/// Asks the user for a GT file and a results file (runs on a helper thread).
pub type FilePicker = Arc<dyn Fn() -> Option<(PathBuf, PathBuf)> + Send + Sync>;

/// The native dialogs (rfd): first the COCO ground truth, then the results.
pub fn rfd_files() -> FilePicker {
    Arc::new(|| {
        let pick = |title: &str| {
            rfd::FileDialog::new()
                .set_title(title)
                .add_filter("COCO JSON", &["json"])
                .pick_file()
        };
        Some((
            pick("COCO ground truth (GT.json)")?,
            pick("COCO results (detections)")?,
        ))
    })
}

/// The tab's runtime: its thread, the evaluation shown and what the user picked.
pub struct EvaluationTab {
    jobs: Sender<Job>,
    answers: Receiver<Answer>,
    wake: egui::Context,
    picker: FilePicker,
    files: Option<Receiver<Option<(PathBuf, PathBuf)>>>,
    /// The evaluation shown.
    pub view: Option<Arc<EvalView>>,
    /// True while the thread evaluates.
    pub busy: bool,
    /// Last error (one line).
    pub error: Option<String>,
    /// Score threshold of the confusion matrix.
    pub score_thr: f32,
    /// The image shown (index into the view's per-image list).
    pub selected: Option<usize>,
    texture: Option<(usize, egui::TextureHandle)>,
    requested_image: Option<usize>,
    seen: Option<*const crate::eval::HeldOutEval>,
    eval_after_load: bool,
}

impl EvaluationTab {
    /// A tab with rfd file dialogs; `ctx` is woken by its thread.
    pub fn new(ctx: egui::Context) -> Self {
        Self::with_picker(ctx, rfd_files())
    }

    /// A tab whose file pairs come from `picker` (tests pass one that needs no user).
    pub fn with_picker(ctx: egui::Context, picker: FilePicker) -> Self {
        let wake = ctx.clone();
        let (jobs, answers) = worker::spawn(move || wake.request_repaint());
        Self {
            jobs,
            answers,
            wake: ctx,
            picker,
            files: None,
            view: None,
            busy: false,
            error: None,
            score_thr: 0.3,
            selected: None,
            texture: None,
            requested_image: None,
            seen: None,
            eval_after_load: false,
        }
    }

    /// Takes the thread's answers, a new evaluation of the live model and a picked file pair.
    pub fn poll(&mut self, training: &mut TrainingRuntime, state: &AppState) {
        while let Ok(a) = self.answers.try_recv() {
            match a {
                Answer::Done(v) => self.show(v),
                Answer::Image(i, im) => {
                    let tex = self.wake.load_texture("eval-image", im, Default::default());
                    self.texture = Some((i, tex));
                }
                Answer::Error(e) => {
                    self.busy = false;
                    self.error = Some(e);
                }
            }
        }
        if let Some((step, ev)) = &training.eval
            && self.seen != Some(Arc::as_ptr(ev))
        {
            self.seen = Some(Arc::as_ptr(ev));
            self.send(Job::Records {
                source: format!(
                    "live model, step {step}, {} held-out images",
                    ev.gt.images.len()
                ),
                gt: ev.gt.clone(),
                dets: ev.dets.clone(),
                images: held_out_images(state),
            });
        }
        if self.eval_after_load
            && training
                .checkpoint_status
                .as_deref()
                .is_some_and(|s| s.starts_with("Loaded"))
        {
            self.eval_after_load = false;
            training.evaluate();
        }
        if let Some(rx) = &self.files
            && let Ok(answer) = rx.try_recv()
        {
            self.files = None;
            if let Some((gt, dt)) = answer {
                let images_dir = coco_images_dir(state);
                self.send(Job::Files {
                    gt,
                    dt,
                    images_dir,
                    source: None,
                });
            }
        }
    }

    /// Shows an evaluation (the thread's answer; tests call it directly).
    pub fn show(&mut self, view: Arc<EvalView>) {
        self.busy = false;
        self.error = None;
        self.selected = None;
        self.texture = None;
        self.requested_image = None;
        self.view = Some(view);
    }

    fn send(&mut self, job: Job) {
        self.busy = true;
        self.error = None;
        let _ = self.jobs.send(job);
    }

    /// Evaluates a GT file and a results file on the tab's thread; the GT's images are
    /// looked up beside it, in its `images/` folder, then in `images_dir`.
    pub fn evaluate_files(&mut self, gt: PathBuf, dt: PathBuf, images_dir: Option<PathBuf>) {
        self.send(Job::Files {
            gt,
            dt,
            images_dir,
            source: None,
        });
    }

    /// Like [`Self::evaluate_files`] (images beside the GT only), shown as coming from
    /// `source` (e.g. a sweep's run) before the file names.
    pub fn evaluate_labelled_files(&mut self, gt: PathBuf, dt: PathBuf, source: String) {
        self.send(Job::Files {
            gt,
            dt,
            images_dir: None,
            source: Some(source),
        });
    }

    /// Opens the GT + results dialogs on a helper thread.
    fn open_files(&mut self) {
        if self.files.is_some() {
            return;
        }
        let (tx, rx) = bounded(1);
        let (picker, wake) = (self.picker.clone(), self.wake.clone());
        if std::thread::Builder::new()
            .name("anchorscope-eval-dialog".into())
            .spawn(move || {
                let _ = tx.send(picker());
                wake.request_repaint();
            })
            .is_ok()
        {
            self.files = Some(rx);
        }
    }

    /// The selected image's TP / FP / FN for the status bar.
    pub fn status_line(&self) -> Option<String> {
        let im = self.view.as_ref()?.per_image.get(self.selected?)?;
        Some(format!("evaluation: {}", image::image_line(im)))
    }

    /// Selects image `i` of the per-image list and asks for its pixels.
    pub fn select(&mut self, i: usize) {
        self.selected = Some(i);
        if self.requested_image != Some(i) {
            self.requested_image = Some(i);
            let _ = self.jobs.send(Job::Image(i));
        }
    }
}

/// The held-out images of the dataset on screen: the same split the trainer evaluates
/// (a file dataset's is opened on the evaluation thread).
fn held_out_images(state: &AppState) -> Pixels {
    let d = &state.dataset;
    let spec = d.spec.trim();
    if spec.is_empty() {
        let ds = SyntheticDataset::new(d.synthetic.clone(), d.seed);
        Pixels::Dataset(Arc::new(ds.held_out(crate::train::thread::EVAL_IMAGES)))
    } else {
        Pixels::HeldOut {
            spec: spec.to_string(),
            seed: state.training.seed,
        }
    }
}

/// The images folder of the COCO dataset on screen (its SPEC's, else beside its JSON).
pub fn coco_images_dir(state: &AppState) -> Option<PathBuf> {
    match crate::data::DatasetSpec::parse(state.dataset.spec.trim()).ok()? {
        crate::data::DatasetSpec::Coco {
            annotations,
            images,
        } => images.or_else(|| annotations.parent().map(|p| p.to_path_buf())),
        _ => None,
    }
}

/// The Evaluation tab.
pub fn evaluation_ui(
    ui: &mut egui::Ui,
    tab: &mut EvaluationTab,
    training: &mut TrainingRuntime,
    exports: &PlotExports,
) {
    ui.horizontal_wrapped(|ui| {
        if ui
            .add_enabled(training.has_run(), egui::Button::new("Evaluate live model"))
            .on_disabled_hover_text("Start or step a run in the Training tab first")
            .clicked()
        {
            training.evaluate();
            tab.busy = true;
        }
        if ui.button("Load checkpoint...").clicked() {
            tab.eval_after_load = true;
            training.open_dialog(CheckpointAction::Load);
        }
        if ui.button("Open GT + results...").clicked() {
            tab.open_files();
        }
        if tab.busy || tab.files.is_some() {
            ui.spinner();
        }
    });
    if let Some(e) = &tab.error {
        ui.colored_label(ui.visuals().error_fg_color, e);
    }
    let Some(view) = tab.view.clone() else {
        ui.weak("No evaluation yet: evaluate the live model, load a checkpoint, or open a COCO results file with its ground truth.");
        return;
    };
    ui.label(format!("Showing: {}", view.source));
    for w in &view.warnings {
        ui.colored_label(ui.visuals().warn_fg_color, w);
    }
    egui::ScrollArea::vertical().show(ui, |ui| {
        sections::stats_table_ui(ui, &view);
        ui.separator();
        sections::per_class_ui(ui, &view, exports);
        ui.separator();
        sections::scale_ui(ui, &view, exports);
        ui.separator();
        plots::pr_curves_ui(ui, &view, exports);
        ui.separator();
        plots::confusion_ui(ui, &view, &mut tab.score_thr);
        ui.separator();
        sections::tide_ui(ui, &view, exports);
        ui.separator();
        image::per_image_ui(ui, tab, &view);
    });
}
