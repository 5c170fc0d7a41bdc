//! Where a run lives: choosing the backend, keeping the CPU copy of the parameters and the
//! optimizer state in step with the GPU's, and changing settings between steps.

use super::{OptimState, Trainer};
use crate::model::Model;
use crate::train::backend_choice::BackendChoice;
use crate::train::config::{OptimizerKind, TrainConfig};
use crate::train::gpu_engine::GpuEngine;

impl Trainer {
    /// Moves the run to the backend `choice` resolves to (see [`BackendChoice`]); returns
    /// "cpu" or the GPU adapter's name.
    pub fn set_backend(&mut self, choice: BackendChoice) -> Result<String, String> {
        let ctx = choice.open()?;
        self.sync_cpu();
        self.gpu = ctx.map(|c| GpuEngine::new(c, &self.model, &self.opt));
        self.gpu_stale = false;
        Ok(self.backend_name())
    }

    /// New settings from the next step on. A different optimizer starts from zero state
    /// (SGD's velocity is not AdamW's first moment).
    pub fn set_config(&mut self, cfg: TrainConfig) {
        if cfg.optimizer != self.cfg.optimizer {
            let lens: Vec<usize> = self.model().params().map(|p| p.len()).collect();
            let opt = self.opt_mut();
            opt.m = lens.iter().map(|&n| vec![0.0; n]).collect();
            opt.v = match cfg.optimizer {
                OptimizerKind::Adamw => lens.iter().map(|&n| vec![0.0; n]).collect(),
                OptimizerKind::Sgd => vec![Vec::new(); lens.len()],
            };
        }
        self.cfg = cfg;
    }

    /// Steps so far that took the fused GPU path (losses on the GPU, one small readback).
    pub fn fused_steps(&self) -> u64 {
        self.fused_steps
    }

    /// "cpu", or "gpu: " and the adapter's name.
    pub fn backend_name(&self) -> String {
        self.gpu
            .as_ref()
            .map_or_else(|| "cpu".into(), |g| format!("gpu: {}", g.adapter()))
    }

    /// Brings the CPU copy of the parameters and optimizer state up to date.
    pub(super) fn sync_cpu(&mut self) {
        if let Some(g) = &mut self.gpu
            && self.cpu_stale
        {
            g.pull(&mut self.model, &mut self.opt);
        }
        self.cpu_stale = false;
    }

    /// Sends a changed CPU copy to the GPU.
    pub(super) fn sync_gpu(&mut self) {
        if let Some(g) = &mut self.gpu
            && self.gpu_stale
        {
            g.push(&self.model, &self.opt);
        }
        self.gpu_stale = false;
    }

    /// The detector with its current parameters (downloaded from the GPU when needed).
    pub fn model(&mut self) -> &Model {
        self.sync_cpu();
        &self.model
    }

    /// The detector, to change its parameters (they go to the GPU before the next step).
    pub fn model_mut(&mut self) -> &mut Model {
        self.sync_cpu();
        self.gpu_stale = true;
        &mut self.model
    }

    /// The optimizer state (downloaded from the GPU when needed).
    pub fn opt(&mut self) -> &OptimState {
        self.sync_cpu();
        &self.opt
    }

    /// The optimizer state, to change it (it goes to the GPU before the next step).
    pub fn opt_mut(&mut self) -> &mut OptimState {
        self.sync_cpu();
        self.gpu_stale = true;
        &mut self.opt
    }
}
