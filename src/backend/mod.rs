//! Compute backends for training: the CPU reference (rayon + GEMM) and, later, wgpu compute.

pub mod cpu;
pub mod gpu;
pub mod tensor;
