//! The "last good" state kept for `ReloadLastGood`, and the model snapshots streamed to the
//! app's views.

use crate::train::Trainer;
use crate::train::checkpoint::named_params;
use crate::train::model_snapshot::{ModelSnapshot, ModelSource};
use crate::train::trainer::OptimState;
use std::sync::Arc;

/// The run's current parameters as a [`ModelSnapshot`] from `source`.
pub(super) fn model_snapshot(t: &mut Trainer, source: ModelSource) -> ModelSnapshot {
    let model = t.model();
    let params = named_params(model);
    let mc = model.config().clone();
    ModelSnapshot {
        source,
        step: t.step,
        model: mc,
        train: t.cfg.clone(),
        params: Arc::new(params),
    }
}

/// Parameters and optimizer state at some step.
pub(super) struct Snapshot {
    params: Vec<Vec<f32>>,
    opt: OptimState,
    step: u64,
}

impl Snapshot {
    pub(super) fn of(t: &mut Trainer) -> Self {
        let params = t.model().params().map(|p| p.value.data.clone()).collect();
        Self {
            params,
            opt: t.opt().clone(),
            step: t.step,
        }
    }

    pub(super) fn restore(&self, t: &mut Trainer) {
        for (p, v) in t.model_mut().params_mut().zip(&self.params) {
            p.value.data.copy_from_slice(v);
        }
        *t.opt_mut() = self.opt.clone();
        t.step = self.step;
    }
}
