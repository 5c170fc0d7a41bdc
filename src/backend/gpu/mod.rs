//! The wgpu compute backend: WGSL kernels (shaders/*.wgsl) mirroring the CPU ops.
//!
//! [`GpuContext`] holds the device, the queue and every pipeline ([`Kernels`]), created once.
//! Tensors live in [`GpuTensor`] storage buffers (reusable through a [`BufferPool`]). Every
//! kernel has a `record_*` function that records into a `wgpu::CommandEncoder`, so a whole
//! training step can be one submission, and most have a convenience wrapper that submits
//! and waits. As on the CPU, backward kernels ACCUMULATE (`+=`); zeroing is explicit
//! ([`GpuTensor::zero`]). Each kernel is tested against its CPU twin (`tests.rs`,
//! `tests_loss.rs`). The per-anchor loss kernels ([`loss`]) OVERWRITE their gradient maps.

pub mod backend;
pub mod buffer;
pub mod context;
pub mod conv;
pub mod elementwise;
pub mod loss;
mod loss_targets;
pub mod optim;
pub mod reduce;
pub mod resize;

pub use backend::GpuBackend;
pub use buffer::{BufferPool, GpuTensor};
pub use context::{GpuContext, Kernel, Kernels, gpu_required, skip_without_gpu};

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_layout;
#[cfg(test)]
mod tests_loss;
#[cfg(test)]
mod tests_resize;
#[cfg(test)]
pub(crate) mod wgsl_reflect;
