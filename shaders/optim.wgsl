// Optimizer steps over flat parameter buffers: SGD with momentum and L2 weight decay
// (torch.optim.SGD) and AdamW (torch.optim.AdamW); the bias corrections are computed on the
// host in f64, as the CPU op does.
// `SgdParams` and `AdamWParams` are checked against src/backend/gpu/optim.rs by src/backend/gpu/tests_layout.rs.

struct SgdParams {
    len: u32,
    lr: f32,
    momentum: f32,
    weight_decay: f32,
}

struct AdamWParams {
    len: u32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    step_size: f32,
    bc2_sqrt: f32,
    decay: f32,
    _pad: u32,
}

fn flat(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
    return gid.x + gid.y * groups.x * 64u;
}

// sgd_step: g' = g + wd * p; v = momentum * v + g'; p -= lr * v
@group(0) @binding(0) var<uniform> sp: SgdParams;
@group(0) @binding(1) var<storage, read_write> s_p: array<f32>;
@group(0) @binding(2) var<storage, read> s_g: array<f32>;
@group(0) @binding(3) var<storage, read_write> s_v: array<f32>;

@compute @workgroup_size(64)
fn sgd_step(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) g: vec3<u32>) {
    let i = flat(gid, g);
    if (i >= sp.len) { return; }
    let grad = s_g[i] + sp.weight_decay * s_p[i];
    let v = sp.momentum * s_v[i] + grad;
    s_v[i] = v;
    s_p[i] -= sp.lr * v;
}

// adamw_step: p *= decay; m, v moments; p -= step_size * m / (sqrt(v) / bc2_sqrt + eps)
@group(0) @binding(0) var<uniform> ap: AdamWParams;
@group(0) @binding(1) var<storage, read_write> a_p: array<f32>;
@group(0) @binding(2) var<storage, read> a_g: array<f32>;
@group(0) @binding(3) var<storage, read_write> a_m: array<f32>;
@group(0) @binding(4) var<storage, read_write> a_v: array<f32>;

@compute @workgroup_size(64)
fn adamw_step(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) g: vec3<u32>) {
    let i = flat(gid, g);
    if (i >= ap.len) { return; }
    let grad = a_g[i];
    let m = ap.beta1 * a_m[i] + (1.0 - ap.beta1) * grad;
    let v = ap.beta2 * a_v[i] + (1.0 - ap.beta2) * grad * grad;
    a_m[i] = m;
    a_v[i] = v;
    a_p[i] = a_p[i] * ap.decay - ap.step_size * m / (sqrt(v) / ap.bc2_sqrt + ap.eps);
}
