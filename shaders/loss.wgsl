// Per-anchor detection losses on the head maps, and deterministic sums of their partials.
//
// head_loss: one invocation per (image, anchor of one level). Reads the anchor's C logits
// and 4 deltas from the NCHW head maps (channel a*C + k / a*4 + j at (y, x), see
// src/model/layout.rs), its packed targets (8 words: label i32, cls_weight, reg_weight,
// 4 target deltas, unused), OVERWRITES its gradients in maps of the same layout, and writes
// 5 partials: [cls pos-target sum, cls neg-target sum, reg sum, logits non-finite, deltas
// non-finite]. A non-finite or zero-weight anchor gets zero values and gradients.
// loss_sum_partials / loss_sum_final: per-chunk then per-column sums (fixed order, no atomics).
// Preceded by reduce_common.wgsl (WG, CHUNK, `part`, `tree`). `LossParams`, `SumParams`,
// CHUNK and the kind codes are checked against src/backend/gpu/loss.rs by
// src/backend/gpu/tests_layout.rs.

struct LossParams {
    a: u32,
    c: u32,
    h: u32,
    w: u32,
    level_start: u32,
    anchors_per_image: u32,
    n_images: u32,
    cls_kind: u32,
    reg_kind: u32,
    gc: f32,
    gr: f32,
    reg_const: f32,
    cls_p: vec4<f32>,
    reg_p: vec4<f32>,
}

struct SumParams {
    n_anchors: u32,
    chunks: u32,
    offset: u32,
    _pad: u32,
}

const WG_1D: u32 = 64u;
const TARGET_WORDS: u32 = 8u;
const NPART: u32 = 5u;

// cls_kind: 0 focal family (cls_p = alpha, gamma; CE and balanced CE have gamma 0, alpha < 0
// disables alpha_t); 1 FL* (cls_p = gamma, beta).
const CLS_FOCAL: u32 = 0u;
// reg_kind: 0 L1, 1 L2, 2 smooth L1 (reg_p.x = beta), 3 balanced L1 (reg_p = alpha, gamma,
// beta, b = e^(gamma/alpha) - 1; reg_const = gamma/b - alpha beta).
const REG_L1: u32 = 0u;
const REG_L2: u32 = 1u;
const REG_SMOOTH_L1: u32 = 2u;

fn is_finite(x: f32) -> bool {
    return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u;
}

// ln(1 + u) for u >= 0, accurate for small u (Kahan's trick).
fn log1p(u: f32) -> f32 {
    let v = 1.0 + u;
    if (v == 1.0) { return u; }
    return log(v) * u / (v - 1.0);
}

fn sigmoid(x: f32) -> f32 {
    if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
    let e = exp(x);
    return e / (1.0 + e);
}

// ln(1 + e^x), never overflows.
fn softplus(x: f32) -> f32 {
    return max(x, 0.0) + log1p(exp(-abs(x)));
}

// q^g for q in [0, 1], g >= 0, with q^0 = 1.
fn pow01(q: f32, g: f32) -> f32 {
    if (g == 0.0) { return 1.0; }
    if (q <= 0.0) { return 0.0; }
    return exp2(g * log2(q));
}

fn sign0(d: f32) -> f32 {
    if (d > 0.0) { return 1.0; }
    if (d < 0.0) { return -1.0; }
    return 0.0;
}

// (value, d value / d x) of one classification element with target y (true = 1).
fn cls_loss(x: f32, positive: bool) -> vec2<f32> {
    var s = -1.0;
    if (positive) { s = 1.0; }
    if (p.cls_kind == CLS_FOCAL) {
        let alpha = p.cls_p.x;
        let gamma = p.cls_p.y;
        var at = 1.0;
        if (alpha >= 0.0) {
            at = select(1.0 - alpha, alpha, positive);
        }
        let pt = sigmoid(s * x);
        let q = sigmoid(-s * x);
        let ce = softplus(-s * x);
        let m = pow01(q, gamma);
        return vec2<f32>(at * m * ce, -s * at * m * (gamma * pt * ce + q));
    }
    let gamma = p.cls_p.x;
    let z = gamma * s * x + p.cls_p.y;
    return vec2<f32>(softplus(-z) / gamma, -s * sigmoid(-z));
}

// (value, d value / d d) of one coordinate difference d = pred - target.
fn reg_loss(d: f32) -> vec2<f32> {
    let a = abs(d);
    if (p.reg_kind == REG_L1) { return vec2<f32>(a, sign0(d)); }
    if (p.reg_kind == REG_L2) { return vec2<f32>(d * d, 2.0 * d); }
    if (p.reg_kind == REG_SMOOTH_L1) {
        let beta = p.reg_p.x;
        if (a < beta) { return vec2<f32>(0.5 * a * a / beta, d / beta); }
        return vec2<f32>(a - 0.5 * beta, sign0(d));
    }
    let alpha = p.reg_p.x;
    let gamma = p.reg_p.y;
    let beta = p.reg_p.z;
    let b = p.reg_p.w;
    if (a < beta) {
        let l = log1p(b * a / beta);
        let value = alpha / b * (b * a + 1.0) * l - alpha * a;
        let slope = alpha * l + alpha * (b * a + 1.0) / (b * a + beta) - alpha;
        return vec2<f32>(value, sign0(d) * slope);
    }
    return vec2<f32>(gamma * a + p.reg_const, sign0(d) * gamma);
}

@group(0) @binding(0) var<uniform> p: LossParams;
@group(0) @binding(1) var<storage, read> h_cls: array<f32>;
@group(0) @binding(2) var<storage, read> h_reg: array<f32>;
@group(0) @binding(3) var<storage, read> h_targets: array<u32>;
@group(0) @binding(4) var<storage, read_write> h_grad_cls: array<f32>;
@group(0) @binding(5) var<storage, read_write> h_grad_reg: array<f32>;
@group(0) @binding(6) var<storage, read_write> h_partials: array<f32>;

@compute @workgroup_size(64)
fn head_loss(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) g: vec3<u32>) {
    let i = gid.x + gid.y * g.x * WG_1D;
    let hw = p.h * p.w;
    let per_image = hw * p.a;
    if (i >= per_image * p.n_images) { return; }
    let img = i / per_image;
    let local = i % per_image; // (y*W + x)*A + a
    let pos = local / p.a;
    let aa = local % p.a;
    let anchor = img * p.anchors_per_image + p.level_start + local;
    let t = anchor * TARGET_WORDS;
    let label = bitcast<i32>(h_targets[t]);
    let cls_w = bitcast<f32>(h_targets[t + 1u]);
    let reg_w = bitcast<f32>(h_targets[t + 2u]);

    // classification: C elements, channel aa*C + k
    let cls_base = img * p.a * p.c * hw + aa * p.c * hw + pos;
    var cls_ok = true;
    for (var k = 0u; k < p.c; k++) {
        cls_ok = cls_ok && is_finite(h_cls[cls_base + k * hw]);
    }
    var pos_sum = 0.0;
    var neg_sum = 0.0;
    let use_cls = cls_ok && cls_w != 0.0;
    for (var k = 0u; k < p.c; k++) {
        let j = cls_base + k * hw;
        var grad = 0.0;
        if (use_cls) {
            let positive = label == i32(k);
            let vg = cls_loss(h_cls[j], positive);
            if (positive) { pos_sum += cls_w * vg.x; } else { neg_sum += cls_w * vg.x; }
            grad = p.gc * cls_w * vg.y;
        }
        h_grad_cls[j] = grad;
    }

    // regression: 4 deltas, channel aa*4 + j
    let reg_base = img * p.a * 4u * hw + aa * 4u * hw + pos;
    var reg_ok = true;
    for (var j = 0u; j < 4u; j++) {
        reg_ok = reg_ok && is_finite(h_reg[reg_base + j * hw]);
    }
    var reg_sum = 0.0;
    let use_reg = reg_ok && reg_w != 0.0;
    for (var j = 0u; j < 4u; j++) {
        let r = reg_base + j * hw;
        var grad = 0.0;
        if (use_reg) {
            let vg = reg_loss(h_reg[r] - bitcast<f32>(h_targets[t + 3u + j]));
            reg_sum += vg.x;
            grad = p.gr * reg_w * vg.y;
        }
        h_grad_reg[r] = grad;
    }

    let o = anchor * NPART;
    h_partials[o] = pos_sum;
    h_partials[o + 1u] = neg_sum;
    h_partials[o + 2u] = reg_w * reg_sum;
    h_partials[o + 3u] = select(1.0, 0.0, cls_ok);
    h_partials[o + 4u] = select(1.0, 0.0, reg_ok);
}

@group(0) @binding(0) var<uniform> sp: SumParams;

// loss_sum_partials: workgroup (k, j) sums column j over anchors [k*CHUNK, (k+1)*CHUNK) into
// the scratch tail of the partials buffer, at n_anchors*5 + j*chunks + k.
@group(0) @binding(1) var<storage, read_write> s_part: array<f32>;

@compute @workgroup_size(256)
fn loss_sum_partials(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
    let start = wg.x * CHUNK;
    let end = min(start + CHUNK, sp.n_anchors);
    var s = 0.0;
    for (var i = start + t; i < end; i += WG) { s += s_part[i * NPART + wg.y]; }
    part[t] = s;
    tree(t);
    if (t == 0u) { s_part[sp.n_anchors * NPART + wg.y * sp.chunks + wg.x] = part[0]; }
}

// loss_sum_final: workgroup j sums the chunk sums of column j into out[offset + j].
@group(0) @binding(1) var<storage, read> f_part: array<f32>;
@group(0) @binding(2) var<storage, read_write> f_out: array<f32>;

@compute @workgroup_size(256)
fn loss_sum_final(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
    let base = sp.n_anchors * NPART + wg.x * sp.chunks;
    var s = 0.0;
    for (var i = t; i < sp.chunks; i += WG) { s += f_part[base + i]; }
    part[t] = s;
    tree(t);
    if (t == 0u) { f_out[sp.offset + wg.x] = part[0]; }
}
