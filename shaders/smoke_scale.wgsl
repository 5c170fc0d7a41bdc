// Smoke kernel: out[i] = in[i] * factor. Used by tests/gpu_adapter.rs to prove that the
// wgpu compute path works on the machine (lavapipe in CI) before the real kernels land.

struct Params {
    factor: f32,
    len: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    let i = id.x;
    if (i < params.len) {
        output[i] = input[i] * params.factor;
    }
}
