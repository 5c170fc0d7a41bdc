//! Reopening a sweep's run in the app: the run's checkpoint becomes the model the views
//! score with (on the run's dataset and anchors, so it fits), and its held-out evaluation
//! files open in the Evaluation tab.

use super::{AnchorscopeApp, apply_spec};
use crate::app::panels::sweep::Reopened;
use crate::app::state::{DatasetSettings, Tab};
use std::time::Instant;

/// The SPEC of the dataset on screen, when it is one a run could name: a file SPEC, or a
/// synthetic preset with its knobs untouched.
fn shown_spec(d: &DatasetSettings) -> Option<String> {
    if !d.spec.trim().is_empty() {
        return Some(d.spec.trim().to_string());
    }
    let preset = crate::data::SyntheticConfig::preset(&d.preset)?;
    (preset == d.synthetic).then(|| format!("synthetic:{}@{}", d.preset, d.seed))
}

impl AnchorscopeApp {
    /// Shows run `r`: its dataset and lab settings (anchors, assigner, samplers, prior), its
    /// checkpoint behind the views and its evaluation in the Evaluation tab (shown).
    pub(super) fn reopen_sweep_run(&mut self, r: Reopened) {
        if shown_spec(&self.state.dataset).as_deref() != Some(r.dataset.as_str()) {
            apply_spec(&mut self.state, &r.dataset);
        }
        self.state.lab = r.snapshot.train.lab.clone();
        self.training.show_checkpoint(r.snapshot.clone());
        self.evaluation.evaluate_labelled_files(
            r.gt.clone(),
            r.detections.clone(),
            format!("sweep run {}", r.run),
        );
        self.state.tab = Tab::Evaluation;
        self.sweep.reopened_run(&r);
        self.notice = Some((
            format!("Opened sweep run {}: checkpoint and evaluation", r.run),
            Instant::now(),
        ));
    }
}
