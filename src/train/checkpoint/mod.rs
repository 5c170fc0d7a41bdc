//! Checkpoints in safetensors: named f32 tensors (`param/NAME`), optimizer state tensors
//! (`optim/NAME`) and metadata (format, step, the run's config and the model's config as TOML).
//!
//! Writing is atomic (`PATH.tmp`, fsync, rename) and refuses any non-finite value, so a
//! checkpoint on disk is always a good one to resume from. Every error is one line naming the
//! file and, where it applies, the tensor.

use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The `format` metadata value of this layout.
pub const FORMAT: &str = "anchorscope-checkpoint-1";

/// One named f32 tensor, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct NamedTensor {
    /// Name, unique within its group.
    pub name: String,
    /// Shape; the product is `data.len()`.
    pub shape: Vec<usize>,
    /// Values.
    pub data: Vec<f32>,
}

/// Every parameter of `model` by name, shape and value (what a checkpoint or a snapshot keeps).
pub fn named_params(model: &crate::model::Model) -> Vec<NamedTensor> {
    model
        .params()
        .map(|p| NamedTensor {
            name: p.name.clone(),
            shape: p.shape.clone(),
            data: p.value.data.clone(),
        })
        .collect()
}

/// What a checkpoint holds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Checkpoint {
    /// Model parameters.
    pub params: Vec<NamedTensor>,
    /// Optimizer state (momentum, Adam moments, ...).
    pub optimizer: Vec<NamedTensor>,
    /// Training steps done.
    pub step: u64,
    /// The run's `TrainConfig` as TOML.
    pub config_toml: String,
    /// The detector's `ModelConfig` as TOML (empty in files written before it was kept).
    pub model_toml: String,
}

/// A checkpoint that cannot be written or read.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// A problem with the file as a whole.
    #[error("{}: {reason}", path.display())]
    File {
        /// The checkpoint file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A problem with one tensor.
    #[error("{}: tensor `{tensor}`: {reason}", path.display())]
    Tensor {
        /// The checkpoint file.
        path: PathBuf,
        /// The tensor's name in the file.
        tensor: String,
        /// What is wrong.
        reason: String,
    },
}

fn file_err(path: &Path, reason: impl std::fmt::Display) -> CheckpointError {
    CheckpointError::File {
        path: path.to_path_buf(),
        reason: reason.to_string().replace('\n', " "),
    }
}

fn tensor_err(path: &Path, tensor: &str, reason: impl Into<String>) -> CheckpointError {
    CheckpointError::Tensor {
        path: path.to_path_buf(),
        tensor: tensor.to_string(),
        reason: reason.into(),
    }
}

impl Checkpoint {
    /// Every tensor with its name in the file.
    fn entries(&self) -> impl Iterator<Item = (String, &NamedTensor)> {
        let p = self.params.iter().map(|t| (format!("param/{}", t.name), t));
        p.chain(
            self.optimizer
                .iter()
                .map(|t| (format!("optim/{}", t.name), t)),
        )
    }

    /// Writes the checkpoint atomically; refuses non-finite values and inconsistent shapes
    /// (nothing is written then).
    pub fn save(&self, path: &Path) -> Result<(), CheckpointError> {
        let mut bytes: Vec<(String, Vec<u8>, Vec<usize>)> = Vec::new();
        for (name, t) in self.entries() {
            if t.shape.iter().product::<usize>() != t.data.len() {
                let n = t.data.len();
                return Err(tensor_err(
                    path,
                    &name,
                    format!("shape {:?} does not hold {n} values", t.shape),
                ));
            }
            if let Some(i) = t.data.iter().position(|v| !v.is_finite()) {
                return Err(tensor_err(
                    path,
                    &name,
                    format!("value {i} is {}; refusing to save", t.data[i]),
                ));
            }
            if bytes.iter().any(|(n, _, _)| *n == name) {
                return Err(tensor_err(path, &name, "duplicate name"));
            }
            bytes.push((
                name,
                t.data.iter().flat_map(|v| v.to_le_bytes()).collect(),
                t.shape.clone(),
            ));
        }
        let mut views = Vec::with_capacity(bytes.len());
        for (name, data, shape) in &bytes {
            let v = TensorView::new(Dtype::F32, shape.clone(), data)
                .map_err(|e| tensor_err(path, name, e.to_string()))?;
            views.push((name.clone(), v));
        }
        let meta = HashMap::from([
            ("format".to_string(), FORMAT.to_string()),
            ("step".to_string(), self.step.to_string()),
            ("config".to_string(), self.config_toml.clone()),
            ("model".to_string(), self.model_toml.clone()),
        ]);
        let buf = safetensors::serialize(views, Some(meta)).map_err(|e| file_err(path, e))?;
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&buf)?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)?;
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                // make the rename durable where the platform allows it
                let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
            }
            Ok(())
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            file_err(path, format!("cannot write: {e}"))
        })
    }

    /// Reads a checkpoint written by [`Checkpoint::save`].
    pub fn load(path: &Path) -> Result<Self, CheckpointError> {
        let buf = std::fs::read(path).map_err(|e| file_err(path, format!("cannot read: {e}")))?;
        let st = SafeTensors::deserialize(&buf)
            .map_err(|e| file_err(path, format!("not a safetensors file: {e}")))?;
        let (_, meta) = SafeTensors::read_metadata(&buf).map_err(|e| file_err(path, e))?;
        let meta = meta.metadata().clone().unwrap_or_default();
        if meta.get("format").map(String::as_str) != Some(FORMAT) {
            return Err(file_err(path, format!("metadata `format` is not {FORMAT}")));
        }
        let step = meta
            .get("step")
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| file_err(path, "metadata `step` is missing or not an integer"))?;
        let mut ckpt = Checkpoint {
            step,
            config_toml: meta.get("config").cloned().unwrap_or_default(),
            model_toml: meta.get("model").cloned().unwrap_or_default(),
            ..Self::default()
        };
        let mut names: Vec<String> = st.names().into_iter().map(String::from).collect();
        names.sort();
        for name in names {
            let v = st
                .tensor(&name)
                .map_err(|e| tensor_err(path, &name, e.to_string()))?;
            if v.dtype() != Dtype::F32 {
                return Err(tensor_err(
                    path,
                    &name,
                    format!("dtype {:?}, expected F32", v.dtype()),
                ));
            }
            let data: Vec<f32> = v
                .data()
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            if let Some(i) = data.iter().position(|x| !x.is_finite()) {
                return Err(tensor_err(path, &name, format!("value {i} is not finite")));
            }
            let (group, short) = name.split_once('/').unwrap_or(("", &name));
            let t = NamedTensor {
                name: short.to_string(),
                shape: v.shape().to_vec(),
                data,
            };
            match group {
                "param" => ckpt.params.push(t),
                "optim" => ckpt.optimizer.push(t),
                _ => {
                    return Err(tensor_err(
                        path,
                        &name,
                        "name must start with `param/` or `optim/`",
                    ));
                }
            }
        }
        Ok(ckpt)
    }

    /// The parameter `name`, checked against `shape`; `path` names the file in errors.
    pub fn param(
        &self,
        path: &Path,
        name: &str,
        shape: &[usize],
    ) -> Result<&[f32], CheckpointError> {
        find(&self.params, path, "param", name, shape)
    }

    /// The optimizer tensor `name`, checked against `shape`.
    pub fn optim(
        &self,
        path: &Path,
        name: &str,
        shape: &[usize],
    ) -> Result<&[f32], CheckpointError> {
        find(&self.optimizer, path, "optim", name, shape)
    }
}

fn find<'a>(
    group: &'a [NamedTensor],
    path: &Path,
    prefix: &str,
    name: &str,
    shape: &[usize],
) -> Result<&'a [f32], CheckpointError> {
    let full = format!("{prefix}/{name}");
    let t = group
        .iter()
        .find(|t| t.name == name)
        .ok_or_else(|| tensor_err(path, &full, "missing"))?;
    if t.shape != shape {
        return Err(tensor_err(
            path,
            &full,
            format!("shape {:?}, expected {shape:?}", t.shape),
        ));
    }
    Ok(&t.data)
}

#[cfg(test)]
mod tests;
