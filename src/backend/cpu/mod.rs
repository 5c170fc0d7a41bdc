//! The CPU backend: tensor ops with forward and backward passes (rayon + `gemm`).
//!
//! Conventions (llm.c style): forward functions return or overwrite their outputs; backward
//! functions ACCUMULATE (`+=`) into gradient buffers, which the caller zeroes explicitly.
//! Every op is deterministic for a fixed input and thread count.

pub mod backend;
pub mod bench;
pub mod conv;
pub mod elementwise;
pub(crate) mod gemm;
mod im2col;
pub mod norm;
pub mod optim;
pub mod resize;
mod winograd;

pub use crate::backend::tensor::Tensor;
pub use backend::Cpu;
pub use bench::{ConvBenchRow, bench_conv_shapes, format_conv_table, reference_conv_shapes};
pub use conv::{ConvGeom, conv2d_backward, conv2d_forward, conv2d_forward_into, conv2d_out_size};
pub use winograd::{WinogradTile, set_winograd_tile};

#[cfg(test)]
pub(crate) mod test_support;
