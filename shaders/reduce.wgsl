// Deterministic reductions for the gradient norm, and clipping by it.
// Pass 1 (sumsq_partials): workgroup k sums the squares of its fixed chunk of CHUNK values
// (strided per thread, then a tree) into partials[k]. Pass 2 (reduce_sum): one workgroup
// sums partials[0..len] the same way into dst[slot]. The same order every run, no atomics.
// Preceded by reduce_common.wgsl (WG, CHUNK, `part`, `tree`). `ReduceParams` is checked
// against its Rust twin in src/backend/gpu/reduce.rs by src/backend/gpu/tests_layout.rs.

struct ReduceParams {
    len: u32,
    slot: u32,
    max_norm: f32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: ReduceParams;

// sumsq_partials: partials[k] = sum of x^2 over x[k*CHUNK .. (k+1)*CHUNK)
@group(0) @binding(1) var<storage, read> q_x: array<f32>;
@group(0) @binding(2) var<storage, read_write> q_part: array<f32>;

@compute @workgroup_size(256)
fn sumsq_partials(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
    let start = wg.x * CHUNK;
    let end = min(start + CHUNK, p.len);
    var s = 0.0;
    for (var i = start + t; i < end; i += WG) {
        let v = q_x[i];
        s += v * v;
    }
    part[t] = s;
    tree(t);
    if (t == 0u) { q_part[wg.x] = part[0]; }
}

// reduce_sum: dst[slot] = sum of src[0..len] (one workgroup)
@group(0) @binding(1) var<storage, read> r_src: array<f32>;
@group(0) @binding(2) var<storage, read_write> r_dst: array<f32>;

@compute @workgroup_size(256)
fn reduce_sum(@builtin(local_invocation_index) t: u32) {
    var s = 0.0;
    for (var i = t; i < p.len; i += WG) { s += r_src[i]; }
    part[t] = s;
    tree(t);
    if (t == 0u) { r_dst[p.slot] = part[0]; }
}

// clip_scale: with n = sqrt(sumsq[slot]), x *= max_norm / (n + 1e-6) when that is below 1
// and n is finite (torch clip_grad_norm_); reads the norm on the GPU, no readback.
@group(0) @binding(1) var<storage, read> c_sumsq: array<f32>;
@group(0) @binding(2) var<storage, read_write> c_x: array<f32>;

@compute @workgroup_size(256)
fn clip_scale(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) g: vec3<u32>) {
    let i = gid.x + gid.y * g.x * WG;
    if (i >= p.len) { return; }
    let norm = sqrt(c_sumsq[p.slot]);
    let coef = p.max_norm / (norm + 1e-6);
    let finite = (bitcast<u32>(norm) & 0x7f800000u) != 0x7f800000u;
    if (finite && coef < 1.0) { c_x[i] *= coef; }
}
