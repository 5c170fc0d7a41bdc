//! Reopening a run of a sweep: its checkpoint read into a model snapshot on a helper thread
//! (the app then scores the views with it) and the paths of its evaluation files.

use super::load::SweepRun;
use crate::train::ModelSnapshot;
use std::path::PathBuf;
use std::sync::Arc;

/// A run ready to be shown: what the app puts behind the views and in the Evaluation tab.
#[derive(Clone, Debug)]
pub struct Reopened {
    /// The run's name.
    pub run: String,
    /// The dataset SPEC it trained on (the app switches to it when another is on screen).
    pub dataset: String,
    /// Its checkpoint's snapshot (parameters, step, run and model settings).
    pub snapshot: Arc<ModelSnapshot>,
    /// Its held-out ground truth (`val_gt.json`).
    pub gt: PathBuf,
    /// Its detections on them (`detections.json`).
    pub detections: PathBuf,
}

/// The run's checkpoint file.
pub fn checkpoint_path(run: &SweepRun) -> PathBuf {
    run.dir.join("checkpoint.safetensors")
}

/// Reads `run`'s checkpoint (on the calling thread: the tab calls it on a helper thread);
/// the error is one line naming the file.
pub fn reopen_run(run: &SweepRun, dataset: &str) -> Result<Reopened, String> {
    let gt = run.dir.join("val_gt.json");
    let detections = run.dir.join("detections.json");
    for f in [&gt, &detections] {
        if !f.is_file() {
            return Err(format!(
                "{}: missing (the run has not finished)",
                f.display()
            ));
        }
    }
    let snapshot = ModelSnapshot::from_checkpoint(&checkpoint_path(run))?;
    Ok(Reopened {
        run: run.name.clone(),
        dataset: dataset.to_string(),
        snapshot: Arc::new(snapshot),
        gt,
        detections,
    })
}
