//! Checkpoints of a run: parameters, optimizer state, step and config in safetensors.

use super::Trainer;
use crate::train::checkpoint::{Checkpoint, NamedTensor, named_params};
use std::path::Path;

impl Trainer {
    /// The run as a checkpoint (parameters, optimizer state, step, config).
    pub fn checkpoint(&mut self) -> Result<Checkpoint, String> {
        self.sync_host();
        let params = named_params(&self.model);
        let mut optimizer = Vec::new();
        for (p, (m, v)) in self.model.params().zip(self.opt.m.iter().zip(&self.opt.v)) {
            optimizer.push(NamedTensor {
                name: format!("{}.m", p.name),
                shape: p.shape.clone(),
                data: m.clone(),
            });
            if !v.is_empty() {
                optimizer.push(NamedTensor {
                    name: format!("{}.v", p.name),
                    shape: p.shape.clone(),
                    data: v.clone(),
                });
            }
        }
        Ok(Checkpoint {
            params,
            optimizer,
            step: self.step,
            config_toml: self.cfg.to_toml()?,
            model_toml: toml::to_string(self.model.config())
                .map_err(|e| format!("model config to TOML: {e}"))?,
        })
    }

    /// Writes a checkpoint atomically.
    pub fn save(&mut self, path: &Path) -> Result<(), String> {
        self.checkpoint()?.save(path).map_err(|e| e.to_string())
    }

    /// Loads parameters and optimizer state from a checkpoint of the same model.
    pub fn load(&mut self, path: &Path) -> Result<(), String> {
        self.sync_host();
        let ck = Checkpoint::load(path).map_err(|e| e.to_string())?;
        for (k, p) in self.model.params_mut().enumerate() {
            let t = ck
                .params
                .iter()
                .find(|t| t.name == p.name)
                .ok_or_else(|| format!("{}: no tensor {}", path.display(), p.name))?;
            if t.shape != p.shape || t.data.len() != p.value.data.len() {
                return Err(format!(
                    "{}: tensor {} has shape {:?}, the model needs {:?}",
                    path.display(),
                    p.name,
                    t.shape,
                    p.shape
                ));
            }
            p.value.data.copy_from_slice(&t.data);
            if let Some(m) = ck
                .optimizer
                .iter()
                .find(|t| t.name == format!("{}.m", p.name))
            {
                self.opt.m[k].copy_from_slice(&m.data);
            }
            if let Some(v) = ck
                .optimizer
                .iter()
                .find(|t| t.name == format!("{}.v", p.name))
                && !self.opt.v[k].is_empty()
            {
                self.opt.v[k].copy_from_slice(&v.data);
            }
        }
        self.step = ck.step;
        self.engine_stale = true;
        Ok(())
    }
}
