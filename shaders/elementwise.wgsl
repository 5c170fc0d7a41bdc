// Elementwise kernels over flat f32 buffers: ReLU forward / backward / in-place mask, add, scaled add
// (accumulate), scale in place. Backward kernels ACCUMULATE (+=), like the CPU ops.
// The 1-D index spans a 2-D grid (x * 64 threads per row of workgroups) so that long
// buffers fit under the 65535-workgroups-per-dimension limit.
// `ElemParams` is checked against src/backend/gpu/elementwise.rs by src/backend/gpu/tests_layout.rs.

struct ElemParams {
    len: u32,
    alpha: f32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: ElemParams;

fn flat(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
    return gid.x + gid.y * groups.x * 64u;
}

// relu: y = max(x, 0)
@group(0) @binding(1) var<storage, read> r_x: array<f32>;
@group(0) @binding(2) var<storage, read_write> r_y: array<f32>;

@compute @workgroup_size(64)
fn relu(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) g: vec3<u32>) {
    let i = flat(gid, g);
    if (i < p.len) { r_y[i] = max(r_x[i], 0.0); }
}

// relu_inplace: x = max(x, 0)
@group(0) @binding(1) var<storage, read_write> ri_x: array<f32>;

@compute @workgroup_size(64)
fn relu_inplace(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) g: vec3<u32>) {
    let i = flat(gid, g);
    if (i < p.len) { ri_x[i] = max(ri_x[i], 0.0); }
}

// relu_backward from the output y: dx += dy where y > 0
@group(0) @binding(1) var<storage, read> rb_y: array<f32>;
@group(0) @binding(2) var<storage, read> rb_dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> rb_dx: array<f32>;

@compute @workgroup_size(64)
fn relu_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) g: vec3<u32>) {
    let i = flat(gid, g);
    if (i < p.len && rb_y[i] > 0.0) { rb_dx[i] += rb_dy[i]; }
}

// relu_mask_inplace: dy = y > 0 ? dy : 0 (ReLU backward propagated in place)
@group(0) @binding(1) var<storage, read> rm_y: array<f32>;
@group(0) @binding(2) var<storage, read_write> rm_dy: array<f32>;

@compute @workgroup_size(64)
fn relu_mask_inplace(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) g: vec3<u32>) {
    let i = flat(gid, g);
    if (i < p.len) { rm_dy[i] = select(0.0, rm_dy[i], rm_y[i] > 0.0); }
}

// add: y = a + b
@group(0) @binding(1) var<storage, read> a_a: array<f32>;
@group(0) @binding(2) var<storage, read> a_b: array<f32>;
@group(0) @binding(3) var<storage, read_write> a_y: array<f32>;

@compute @workgroup_size(64)
fn add(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) g: vec3<u32>) {
    let i = flat(gid, g);
    if (i < p.len) { a_y[i] = a_a[i] + a_b[i]; }
}

// add_scaled: dst += alpha * src (accumulate when alpha = 1)
@group(0) @binding(1) var<storage, read> s_src: array<f32>;
@group(0) @binding(2) var<storage, read_write> s_dst: array<f32>;

@compute @workgroup_size(64)
fn add_scaled(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) g: vec3<u32>) {
    let i = flat(gid, g);
    if (i < p.len) { s_dst[i] += p.alpha * s_src[i]; }
}

// scale: x *= alpha
@group(0) @binding(1) var<storage, read_write> sc_x: array<f32>;

@compute @workgroup_size(64)
fn scale(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) g: vec3<u32>) {
    let i = flat(gid, g);
    if (i < p.len) { sc_x[i] *= p.alpha; }
}
