//! The wgpu compute backend: WGSL kernels (shaders/*.wgsl) mirroring the CPU ops.
