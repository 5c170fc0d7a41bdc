//! The Evaluation tab's background thread: it evaluates (a held-out split's records or a GT +
//! results file pair), computes every analysis the tab shows, and loads images to draw; the
//! UI only sends jobs and polls the answers.

use crate::data::Dataset;
use crate::eval::{
    ClassAp, CocoEvaluation, ConfusionMatrix, GtFile, ImageErrors, PrCurve, ResultRecord,
    TideSummary, WorstBy, files, worst_images,
};
use crossbeam_channel::{Receiver, Sender, unbounded};
use std::path::PathBuf;
use std::sync::Arc;

/// Score thresholds of the confusion matrices (0, 0.05, ..., 1).
pub const SCORE_STEPS: usize = 21;
/// Images in each worst-images list.
pub const WORST: usize = 8;

/// What the tab asks of its thread.
pub enum Job {
    /// Evaluate records; `images` draws image `i` of the GT (held-out index `i`).
    Records {
        /// Where they come from (shown in the tab).
        source: String,
        /// Ground truth.
        gt: GtFile,
        /// Detections.
        dets: Vec<ResultRecord>,
        /// The pixels of the GT's images, when there are any.
        images: Option<Arc<dyn Dataset>>,
    },
    /// Read, check and evaluate a GT file and a results file.
    Files {
        /// Ground truth.
        gt: PathBuf,
        /// Results.
        dt: PathBuf,
    },
    /// Load image `index` of the current evaluation's dataset.
    Image(usize),
}

/// What the thread answers.
pub enum Answer {
    /// An evaluation with its analyses.
    Done(Arc<EvalView>),
    /// The pixels of image `index`.
    Image(usize, egui::ColorImage),
    /// A one-line error.
    Error(String),
}

/// Everything the tab shows of one evaluation.
pub struct EvalView {
    /// Where the detections come from.
    pub source: String,
    /// Warnings of the input checks.
    pub warnings: Vec<String>,
    /// The 12 stats.
    pub stats: [f64; 12],
    /// Per-class AP figures.
    pub per_class: Vec<ClassAp>,
    /// PR curves per class at IoU 0.5 and 0.75.
    pub curves: [Vec<PrCurve>; 2],
    /// TIDE (None when it could not be computed).
    pub tide: Option<TideSummary>,
    /// Confusion matrices at score thresholds `k / 20`.
    pub confusion: Vec<ConfusionMatrix>,
    /// Per-image TP / FP / FN, in GT image order.
    pub per_image: Vec<ImageErrors>,
    /// Worst images (indices into `per_image`): most missed, most FPs, lowest AP.
    pub worst: [Vec<usize>; 3],
    /// sqrt(area) of every non-crowd GT (px), for the box-size histogram.
    pub gt_sides: Vec<f64>,
    /// Image sizes, in GT image order.
    pub image_sizes: Vec<(u32, u32)>,
    /// Class names by category id.
    pub class_names: Vec<(u64, String)>,
}

impl EvalView {
    /// Every analysis of one evaluation.
    pub fn compute(ev: &CocoEvaluation, source: String, warnings: Vec<String>) -> Self {
        let per_image = ev.per_image().unwrap_or_default();
        let worst = [WorstBy::Missed, WorstBy::FalsePositives, WorstBy::LowestAp]
            .map(|by| worst_images(&per_image, by, WORST));
        let gt = ev.gt();
        Self {
            source,
            warnings,
            stats: ev.stats(),
            per_class: ev.per_class(),
            curves: [ev.pr_curves(0.5), ev.pr_curves(0.75)],
            tide: ev.tide().ok(),
            confusion: (0..SCORE_STEPS)
                .map(|k| ev.confusion(k as f64 / (SCORE_STEPS - 1) as f64))
                .collect(),
            per_image,
            worst,
            gt_sides: gt
                .annotations
                .iter()
                .filter(|a| !a.iscrowd)
                .map(|a| a.area.unwrap_or(a.bbox[2] * a.bbox[3]).max(0.0).sqrt())
                .collect(),
            image_sizes: gt.images.iter().map(|im| (im.width, im.height)).collect(),
            class_names: gt
                .categories
                .iter()
                .map(|c| (c.id, c.name.clone()))
                .collect(),
        }
    }

    /// The name of category `id`.
    pub fn class_name(&self, id: u64) -> &str {
        self.class_names
            .iter()
            .find(|(i, _)| *i == id)
            .map_or("?", |(_, n)| n.as_str())
    }

    /// The confusion matrix nearest to score threshold `thr`.
    pub fn confusion_at(&self, thr: f32) -> &ConfusionMatrix {
        let k = (thr.clamp(0.0, 1.0) * (SCORE_STEPS - 1) as f32).round() as usize;
        &self.confusion[k.min(self.confusion.len() - 1)]
    }
}

/// Starts the thread; `wake` is called after each answer.
pub fn spawn(wake: impl Fn() + Send + 'static) -> (Sender<Job>, Receiver<Answer>) {
    let (jobs, job_rx) = unbounded::<Job>();
    let (tx, answers) = unbounded();
    let _ = std::thread::Builder::new()
        .name("anchorscope-eval".into())
        .spawn(move || {
            let mut images: Option<Arc<dyn Dataset>> = None;
            while let Ok(job) = job_rx.recv() {
                let answer = match job {
                    Job::Records {
                        source,
                        gt,
                        dets,
                        images: ds,
                    } => {
                        images = ds;
                        analyze(&gt, &dets, source, Vec::new())
                    }
                    Job::Files { gt, dt } => {
                        images = None;
                        evaluate_files(&gt, &dt)
                    }
                    Job::Image(i) => match images.as_ref().map(|d| d.load(i)) {
                        Some(Ok(s)) => Answer::Image(i, to_color_image(&s.image)),
                        Some(Err(e)) => Answer::Error(e.to_string()),
                        None => continue,
                    },
                };
                if tx.send(answer).is_err() {
                    break;
                }
                wake();
            }
        });
    (jobs, answers)
}

fn analyze(gt: &GtFile, dets: &[ResultRecord], source: String, warnings: Vec<String>) -> Answer {
    match CocoEvaluation::new(gt, dets) {
        Ok(ev) => Answer::Done(Arc::new(EvalView::compute(&ev, source, warnings))),
        Err(e) => Answer::Error(e.0),
    }
}

fn evaluate_files(gt: &std::path::Path, dt: &std::path::Path) -> Answer {
    let r = files::read_gt(gt).and_then(|(g, mut w)| {
        let (d, w2) = files::read_results(dt, &g, gt)?;
        w.extend(w2);
        Ok((g, d, w))
    });
    match r {
        Ok((g, d, w)) => {
            let name = |p: &std::path::Path| {
                p.file_name()
                    .map_or(String::new(), |n| n.to_string_lossy().into_owned())
            };
            analyze(&g, &d, format!("{} over {}", name(dt), name(gt)), w)
        }
        Err(e) => Answer::Error(e.0),
    }
}

fn to_color_image(im: &image::RgbImage) -> egui::ColorImage {
    let (w, h) = im.dimensions();
    egui::ColorImage::from_rgb([w as usize, h as usize], im.as_raw())
}
