//! Where a run lives: choosing the backend, keeping the host copy of the parameters and the
//! optimizer state in step with the engine's, and changing settings between steps.

use super::{OptimState, Trainer};
use crate::backend::cpu::Cpu;
use crate::model::Model;
use crate::train::backend_choice::{BackendChoice, GpuDevice};
use crate::train::config::{OptimizerKind, TrainConfig};
use crate::train::engine::{BoxedEngine, Engine};

impl Trainer {
    /// Moves the run to the backend `choice` resolves to (see [`BackendChoice`]); returns
    /// "cpu" or the GPU adapter's name.
    pub fn set_backend(&mut self, choice: BackendChoice) -> Result<String, String> {
        let ctx = choice.open()?;
        self.sync_host();
        self.engine = match ctx {
            Some(c) => gpu_engine(c, &self.model, &self.opt),
            None => Box::new(Engine::new(Cpu, &self.model, &self.opt)),
        };
        self.engine_stale = false;
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

    /// Steps so far that took the fused path (the backend's loss kernels, one small readback).
    pub fn fused_steps(&self) -> u64 {
        self.fused_steps
    }

    /// "cpu", or "gpu: " and the adapter's name.
    pub fn backend_name(&self) -> String {
        self.engine.device_name()
    }

    /// Brings the host copy of the parameters and optimizer state up to date.
    pub(super) fn sync_host(&mut self) {
        if self.host_stale {
            self.engine.pull(&mut self.model, &mut self.opt);
        }
        self.host_stale = false;
    }

    /// Sends a changed host copy to the engine.
    pub(super) fn sync_engine(&mut self) {
        if self.engine_stale {
            self.engine.push(&self.model, &self.opt);
        }
        self.engine_stale = false;
    }

    /// The detector with its current parameters (read from the engine when needed).
    pub fn model(&mut self) -> &Model {
        self.sync_host();
        &self.model
    }

    /// The detector, to change its parameters (they go to the engine before the next step).
    pub fn model_mut(&mut self) -> &mut Model {
        self.sync_host();
        self.engine_stale = true;
        &mut self.model
    }

    /// The optimizer state (read from the engine when needed).
    pub fn opt(&mut self) -> &OptimState {
        self.sync_host();
        &self.opt
    }

    /// The optimizer state, to change it (it goes to the engine before the next step).
    pub fn opt_mut(&mut self) -> &mut OptimState {
        self.sync_host();
        self.engine_stale = true;
        &mut self.opt
    }
}

/// The engine on the GPU `device`.
#[cfg(feature = "gpu")]
fn gpu_engine(device: GpuDevice, model: &Model, opt: &OptimState) -> BoxedEngine {
    let be = crate::backend::gpu::GpuBackend::new(device);
    Box::new(Engine::new(be, model, opt))
}

/// Built without the `gpu` feature no device exists.
#[cfg(not(feature = "gpu"))]
fn gpu_engine(device: GpuDevice, _: &Model, _: &OptimState) -> BoxedEngine {
    match device {}
}
