//! The app's background worker: opens datasets, generates and inspects images and computes
//! dataset statistics, so the UI thread never waits on that work. Jobs carry a generation
//! number; the app ignores answers to jobs it has since replaced.

use crate::app::state::DatasetSettings;
use crate::assign::AssignerConfig;
use crate::config::LabConfig;
use crate::data::remedies::RemedyStep;
use crate::data::{Dataset, DatasetSpec, FileDataset, OpenOptions, SyntheticDataset};
use crate::data::{DatasetStats, dataset_stats};
use crate::inspect::{Inspection, inspect_with};
use crate::sample::ranking::RankingLoss;
use crate::train::ModelSnapshot;
use crate::train::objective::ranking_loss;
use crossbeam_channel::{Receiver, Sender, unbounded};
use std::sync::Arc;

/// Work for the worker.
pub enum Job {
    /// Open a dataset (and forget the previous one).
    Open {
        generation: u64,
        settings: DatasetSettings,
    },
    /// Load image `index` of the open dataset and inspect it, scored by `model` (the live
    /// run's or a checkpoint's snapshot) or the prior, ranking by `ranking`; inspect it a
    /// second time under `right_assigner` when set (the compare view's right half).
    Inspect {
        generation: u64,
        index: usize,
        lab: LabConfig,
        ranking: RankingLoss,
        model: Option<Arc<ModelSnapshot>>,
        right_assigner: Option<AssignerConfig>,
    },
    /// Statistics over the first `images` images.
    Stats {
        generation: u64,
        images: usize,
        lab: LabConfig,
    },
}

/// Facts about an open dataset.
#[derive(Clone, Debug)]
pub struct DatasetInfo {
    /// Display name.
    pub name: String,
    /// Number of images.
    pub len: usize,
    /// Class names.
    pub class_names: Vec<String>,
    /// The validation report (files only).
    pub report: Option<Arc<crate::data::Report>>,
    /// Image names for the list (files, or any dataset with remedies; plain synthetic
    /// images are numbered).
    pub image_names: Option<Arc<Vec<String>>>,
    /// Each applied remedy with its class histogram before and after (empty when none is on).
    pub remedies: Arc<Vec<RemedyStep>>,
}

/// Answers from the worker.
#[allow(clippy::large_enum_variant)]
pub enum WorkerEvent {
    /// A dataset is open.
    Opened { generation: u64, info: DatasetInfo },
    /// An image was inspected (and, when asked, inspected again under the right half's
    /// assigner `right_assigner`: `right`).
    Inspected {
        generation: u64,
        index: usize,
        lab: LabConfig,
        inspection: Arc<Inspection>,
        right_assigner: Option<AssignerConfig>,
        right: Option<Arc<Inspection>>,
    },
    /// Progress of a long job, 0..1.
    Progress {
        generation: u64,
        what: String,
        fraction: f32,
    },
    /// Dataset statistics are ready.
    Stats {
        generation: u64,
        stats: Arc<DatasetStats>,
    },
    /// A job failed; the message is one line.
    Error { generation: u64, message: String },
}

/// Opens the dataset the settings describe, remedies applied (with the before / after
/// histogram of each remedy that is on); `progress` hears the fraction of a file dataset's
/// images indexed.
pub fn open_dataset(
    s: &DatasetSettings,
    progress: &(dyn Fn(f32) + Sync),
) -> Result<(Arc<dyn Dataset>, Vec<RemedyStep>), String> {
    let ds: Arc<dyn Dataset> = if s.spec.trim().is_empty() {
        s.synthetic.validate().map_err(|e| e.to_string())?;
        let name = format!("synthetic:{}@{}", s.preset, s.seed);
        let ds = SyntheticDataset::new(s.synthetic.clone(), s.seed).with_len(s.len.max(1));
        Arc::new(Named { name, inner: ds })
    } else {
        let spec = DatasetSpec::parse(s.spec.trim()).map_err(|e| e.to_string())?;
        let ds: Arc<dyn Dataset> = match spec {
            DatasetSpec::Synthetic { .. } => spec.open().map_err(|e| e.to_string())?.into(),
            _ => Arc::new(
                FileDataset::open_with_progress(&spec, &OpenOptions::default(), progress)
                    .map_err(|e| e.to_string())?,
            ),
        };
        if let Some(r) = ds.report() {
            eprintln!("{}: {}", ds.name(), r.summary());
        }
        ds
    };
    if !s.remedies.is_active() {
        return Ok((ds, Vec::new()));
    }
    let applied = s.remedies.apply(ds).map_err(|e| e.to_string())?;
    let steps = applied.steps().map_err(|e| e.to_string())?;
    Ok((applied.dataset(), steps))
}

/// The facts the UI shows about `ds` (with `steps`, the remedies applied to it).
fn dataset_info(ds: &dyn Dataset, steps: Vec<RemedyStep>) -> DatasetInfo {
    let report = ds.report().map(|r| match steps.is_empty() {
        true => Arc::new(r.clone()),
        false => Arc::new(crate::data::remedies::relink_report(r, ds)),
    });
    let image_names = (report.is_some() || !steps.is_empty())
        .then(|| Arc::new((0..ds.len()).map(|i| ds.image_name(i)).collect()));
    DatasetInfo {
        name: ds.name(),
        len: ds.len(),
        class_names: ds.class_names(),
        report,
        image_names,
        remedies: Arc::new(steps),
    }
}

/// A synthetic dataset shown under the name of its preset and seed.
struct Named {
    name: String,
    inner: SyntheticDataset,
}

impl Dataset for Named {
    fn name(&self) -> String {
        self.name.clone()
    }
    fn len(&self) -> usize {
        self.inner.len()
    }
    fn class_names(&self) -> Vec<String> {
        self.inner.class_names()
    }
    fn load(&self, index: usize) -> Result<crate::data::Sample, crate::data::DataError> {
        self.inner.load(index)
    }
    fn annotations(
        &self,
        index: usize,
    ) -> Result<crate::data::Annotations, crate::data::DataError> {
        self.inner.annotations(index)
    }
}

/// Starts the worker thread; `wake` is called after every event (to request a repaint).
pub fn spawn(wake: impl Fn() + Send + Sync + 'static) -> (Sender<Job>, Receiver<WorkerEvent>) {
    let (job_tx, job_rx) = unbounded::<Job>();
    let (ev_tx, ev_rx) = unbounded::<WorkerEvent>();
    std::thread::Builder::new()
        .name("anchorscope-worker".into())
        .spawn(move || {
            let mut dataset: Option<Arc<dyn Dataset>> = None;
            while let Ok(first) = job_rx.recv() {
                // Only the newest job of each kind matters: drain and keep the latest.
                let mut jobs = vec![first];
                jobs.extend(job_rx.try_iter());
                let mut open = None;
                let mut insp = None;
                let mut stats = None;
                for j in jobs {
                    match j {
                        Job::Open { .. } => open = Some(j),
                        Job::Inspect { .. } => insp = Some(j),
                        Job::Stats { .. } => stats = Some(j),
                    }
                }
                for job in [open, insp, stats].into_iter().flatten() {
                    let ev = run_job(job, &mut dataset, &ev_tx, &wake);
                    if ev_tx.send(ev).is_err() {
                        return;
                    }
                    wake();
                }
            }
        })
        .expect("spawn the worker thread");
    (job_tx, ev_rx)
}

fn run_job(
    job: Job,
    dataset: &mut Option<Arc<dyn Dataset>>,
    ev_tx: &Sender<WorkerEvent>,
    wake: &(impl Fn() + Sync),
) -> WorkerEvent {
    match job {
        Job::Open {
            generation,
            settings,
        } => {
            let progress = |f: f32| {
                let _ = ev_tx.send(WorkerEvent::Progress {
                    generation,
                    what: "Indexing dataset".into(),
                    fraction: f,
                });
                wake();
            };
            match open_dataset(&settings, &progress) {
                Ok((ds, steps)) => {
                    let info = dataset_info(ds.as_ref(), steps);
                    *dataset = Some(ds);
                    WorkerEvent::Opened { generation, info }
                }
                Err(message) => {
                    *dataset = None;
                    WorkerEvent::Error {
                        generation,
                        message,
                    }
                }
            }
        }
        Job::Inspect {
            generation,
            index,
            lab,
            ranking,
            model,
            right_assigner,
        } => {
            let Some(ds) = dataset.as_ref() else {
                return no_dataset(generation);
            };
            let r = ds
                .load(index.min(ds.len().saturating_sub(1)))
                .map_err(|e| e.to_string())
                .map(|s| {
                    let right = right_assigner.as_ref().map(|a| {
                        let lab = LabConfig {
                            assigner: a.clone(),
                            ..lab.clone()
                        };
                        let m = model.as_deref();
                        Arc::new(inspect_scored(
                            s.clone(),
                            ds.class_names(),
                            &lab,
                            &ranking,
                            m,
                        ))
                    });
                    let ins = inspect_scored(s, ds.class_names(), &lab, &ranking, model.as_deref());
                    (ins, right)
                });
            match r {
                Ok((ins, right)) => WorkerEvent::Inspected {
                    generation,
                    index,
                    lab,
                    inspection: Arc::new(ins),
                    right_assigner,
                    right,
                },
                Err(message) => WorkerEvent::Error {
                    generation,
                    message,
                },
            }
        }
        Job::Stats {
            generation,
            images,
            lab,
        } => {
            let Some(ds) = dataset.as_ref() else {
                return no_dataset(generation);
            };
            match dataset_stats(ds.as_ref(), images, &lab, |f| {
                let _ = ev_tx.send(WorkerEvent::Progress {
                    generation,
                    what: "Dataset statistics".into(),
                    fraction: f,
                });
                wake();
            }) {
                Ok(stats) => WorkerEvent::Stats {
                    generation,
                    stats: Arc::new(stats),
                },
                Err(message) => WorkerEvent::Error {
                    generation,
                    message,
                },
            }
        }
    }
}

/// Inspects one image scored by `model` when it fits the anchors and classes (ranking by its
/// run's losses), else by the prior (ranking by `ranking`).
fn inspect_scored(
    sample: crate::data::Sample,
    names: Vec<String>,
    lab: &LabConfig,
    ranking: &RankingLoss,
    model: Option<&ModelSnapshot>,
) -> Inspection {
    let scored = model.and_then(|m| {
        m.fits(&lab.anchors, names.len().max(1)).ok()?;
        Some((m.outputs(&sample.image).ok()?, ranking_loss(&m.train)))
    });
    match scored {
        Some((out, r)) => inspect_with(sample, names, lab, &r, Some(out)),
        None => inspect_with(sample, names, lab, ranking, None),
    }
}

/// The answer to a job that needs a dataset when none is open.
fn no_dataset(generation: u64) -> WorkerEvent {
    WorkerEvent::Error {
        generation,
        message: "no dataset is open".into(),
    }
}
