//! Which compute backend a training run uses: `auto`, `cpu` or `gpu`.

use serde::{Deserialize, Serialize};

/// An opened GPU: wgpu's device and pipelines.
#[cfg(feature = "gpu")]
pub type GpuDevice = std::sync::Arc<crate::backend::gpu::GpuContext>;
/// Built without the `gpu` feature there is no GPU to open.
#[cfg(not(feature = "gpu"))]
#[derive(Debug)]
pub enum GpuDevice {}

/// The `--backend` choice. `Auto` takes the GPU when wgpu finds a hardware adapter and the
/// CPU when the only adapter is a software rasterizer (lavapipe: correct but slower than the
/// CPU backend) or there is none.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackendChoice {
    /// GPU on a real adapter, else CPU.
    #[default]
    Auto,
    /// The CPU backend (rayon + gemm), the reference.
    Cpu,
    /// The wgpu backend, even on a software adapter; an error without any adapter.
    Gpu,
}

impl std::str::FromStr for BackendChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(Self::Auto),
            "cpu" => Ok(Self::Cpu),
            "gpu" => Ok(Self::Gpu),
            other => Err(format!("--backend {other}: expected auto, cpu or gpu")),
        }
    }
}

impl BackendChoice {
    /// `auto`, `cpu` or `gpu` (what [`std::str::FromStr`] reads).
    pub fn name(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Cpu => "cpu",
            Self::Gpu => "gpu",
        }
    }

    /// Resolves the choice: `Some(device)` for the GPU, `None` for the CPU.
    #[cfg(feature = "gpu")]
    pub fn open(self) -> Result<Option<GpuDevice>, String> {
        use crate::backend::gpu::GpuContext;
        use std::sync::Arc;
        match self {
            Self::Cpu => Ok(None),
            Self::Gpu => GpuContext::new().map(|c| Some(Arc::new(c))),
            Self::Auto => Ok(GpuContext::new()
                .ok()
                .filter(|c| !c.is_software())
                .map(Arc::new)),
        }
    }

    /// Resolves the choice: built without the `gpu` feature, `auto` is the CPU and `gpu` an
    /// error.
    #[cfg(not(feature = "gpu"))]
    pub fn open(self) -> Result<Option<GpuDevice>, String> {
        match self {
            Self::Cpu | Self::Auto => Ok(None),
            Self::Gpu => {
                Err("--backend gpu: anchorscope was built without the `gpu` feature".into())
            }
        }
    }
}
