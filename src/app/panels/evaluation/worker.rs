//! The Evaluation tab's background thread: it evaluates (a held-out split's records or a GT +
//! results file pair), computes every analysis the tab shows, and loads images to draw; the
//! UI only sends jobs and polls the answers.

use crate::data::Dataset;
use crate::data::files::image_io::ReadError;
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
        images: Pixels,
    },
    /// Read, check and evaluate a GT file and a results file.
    Files {
        /// Ground truth.
        gt: PathBuf,
        /// Results.
        dt: PathBuf,
        /// Where the images of the dataset on screen are (a COCO SPEC's images folder), also
        /// searched for the GT's `file_name`s.
        images_dir: Option<PathBuf>,
        /// Where the results come from, shown before the file names (e.g. a sweep's run).
        source: Option<String>,
    },
    /// Load image `index` of the current evaluation's dataset.
    Image(usize),
}

/// Where the pixels of image `i` of an evaluation come from.
pub enum Pixels {
    /// None: boxes on a blank canvas.
    None,
    /// Image `i` of a dataset (the held-out split of the synthetic scenes).
    Dataset(Arc<dyn Dataset>),
    /// The held-out split of a file dataset, as training opens it (SPEC, seed): opened on the
    /// evaluation thread, never on the UI thread.
    HeldOut {
        /// The dataset SPEC.
        spec: String,
        /// The run's seed (its train / validation split).
        seed: u64,
    },
    /// One image file per GT image (`None`: not found).
    Files(Vec<Option<PathBuf>>),
}

impl Pixels {
    /// Opens a [`Pixels::HeldOut`] (others are returned as they are); an error leaves none.
    /// `last` keeps the last split opened, so the evaluations of one run index its files once.
    fn opened(self, last: &mut Option<(String, u64, Arc<dyn Dataset>)>) -> Self {
        let Pixels::HeldOut { spec, seed } = self else {
            return self;
        };
        if let Some((s, k, ds)) = last.as_ref()
            && *s == spec
            && *k == seed
        {
            return Pixels::Dataset(ds.clone());
        }
        let open = || -> Result<Arc<dyn Dataset>, String> {
            let spec = crate::data::DatasetSpec::parse(&spec).map_err(|e| e.to_string())?;
            let v = crate::data::DataConfig::default()
                .open_for_training(&spec, seed)
                .map_err(|e| e.to_string())?;
            Ok(v.held_out)
        };
        match open() {
            Ok(ds) => {
                *last = Some((spec, seed, ds.clone()));
                Pixels::Dataset(ds)
            }
            Err(_) => Pixels::None,
        }
    }

    /// The pixels of image `i`, or `None` when there are none to show.
    fn load(&self, i: usize) -> Option<Result<image::RgbImage, String>> {
        match self {
            Pixels::Dataset(d) => Some(d.load(i).map(|s| s.image).map_err(|e| e.to_string())),
            Pixels::Files(files) => {
                let path = files.get(i)?.as_ref()?;
                Some(
                    crate::data::files::image_io::decode(path).map_err(|e| match e {
                        ReadError::Missing => format!("{}: not found", path.display()),
                        ReadError::Unreadable(m) => format!("{}: {m}", path.display()),
                    }),
                )
            }
            Pixels::None | Pixels::HeldOut { .. } => None,
        }
    }
}

/// For each image of `gt` (read from `gt_path`), its file: `file_name` looked up beside the GT
/// file, in its `images/` folder, then in `images_dir`.
pub fn gt_image_files(
    gt: &GtFile,
    gt_path: &std::path::Path,
    images_dir: Option<&std::path::Path>,
) -> Vec<Option<PathBuf>> {
    let base = gt_path.parent().unwrap_or(std::path::Path::new("."));
    let dirs: Vec<PathBuf> = [Some(base.to_path_buf()), Some(base.join("images"))]
        .into_iter()
        .chain([images_dir.map(|d| d.to_path_buf())])
        .flatten()
        .collect();
    gt.images
        .iter()
        .map(|im| {
            (!im.file_name.is_empty())
                .then(|| {
                    dirs.iter()
                        .map(|d| d.join(&im.file_name))
                        .find(|p| p.is_file())
                })
                .flatten()
        })
        .collect()
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
            let mut images = Pixels::None;
            let mut last_held_out = None;
            while let Ok(job) = job_rx.recv() {
                let answer = match job {
                    Job::Records {
                        source,
                        gt,
                        dets,
                        images: ds,
                    } => {
                        images = ds.opened(&mut last_held_out);
                        analyze(&gt, &dets, source, Vec::new())
                    }
                    Job::Files {
                        gt,
                        dt,
                        images_dir,
                        source,
                    } => {
                        let (answer, files) =
                            evaluate_files(&gt, &dt, images_dir.as_deref(), source);
                        images = Pixels::Files(files);
                        answer
                    }
                    Job::Image(i) => match images.load(i) {
                        Some(Ok(im)) => Answer::Image(i, to_color_image(&im)),
                        Some(Err(e)) => Answer::Error(e),
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

/// The evaluation of a GT file and a results file, and the GT images' files.
fn evaluate_files(
    gt: &std::path::Path,
    dt: &std::path::Path,
    images_dir: Option<&std::path::Path>,
    source: Option<String>,
) -> (Answer, Vec<Option<PathBuf>>) {
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
            let image_files = gt_image_files(&g, gt, images_dir);
            let files = format!("{} over {}", name(dt), name(gt));
            let source = source.map_or(files.clone(), |s| format!("{s}: {files}"));
            let answer = analyze(&g, &d, source, w);
            (answer, image_files)
        }
        Err(e) => (Answer::Error(e.0), Vec::new()),
    }
}

fn to_color_image(im: &image::RgbImage) -> egui::ColorImage {
    let (w, h) = im.dimensions();
    egui::ColorImage::from_rgb([w as usize, h as usize], im.as_raw())
}
