//! The "last good" state kept for `ReloadLastGood`.

use crate::train::Trainer;
use crate::train::trainer::OptimState;

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
