// 2-D convolution kernels (NCHW, f32, any kh x kw, stride, zero padding): forward, and the
// backward passes dx, dw, db. The backward kernels ACCUMULATE (+=), like the CPU ops.
//
// Register-blocked direct convolution, no workgroup memory and no barriers (measured faster on
// lavapipe: a tiled matmul with barriers ran at 0.4 GFLOP/s there, register-blocked ones
// several times faster): every invocation owns a block of outputs held in vec4
// accumulators: 8 output channels x 4 pixels in the forward (32 FMAs per 8 + 4 loads; measured
// 10-15% faster than 4 x 4 on lavapipe and on an H100), 4 x 4 in the backward kernels.
// `ConvParams`, `BLOCK` and `FWD_CO` are checked against src/backend/gpu/conv.rs by
// src/backend/gpu/tests_layout.rs.

// Adjacent pixels of one row per invocation, and channels per invocation of the backward
// kernels (the vec4 accumulators' width: changing it means rewriting the kernels).
const BLOCK: u32 = 4u;
// Output channels per invocation of the forward (two vec4 accumulator rows).
const FWD_CO: u32 = 8u;

struct ConvParams {
    n: u32, cin: u32, h: u32, w: u32,
    cout: u32, kh: u32, kw: u32, ho: u32,
    wo: u32, stride: u32, pad: u32, has_bias: u32,
}

@group(0) @binding(0) var<uniform> p: ConvParams;

// conv_forward: y = conv(x, w) + b
@group(0) @binding(1) var<storage, read> f_x: array<f32>;
@group(0) @binding(2) var<storage, read> f_w: array<f32>;
@group(0) @binding(3) var<storage, read> f_b: array<f32>;
@group(0) @binding(4) var<storage, read_write> f_y: array<f32>;

fn fx_at(row: u32, ix: i32) -> f32 {
    if (ix < 0 || ix >= i32(p.w)) { return 0.0; }
    return f_x[row + u32(ix)];
}

fn f_store(n: u32, co: u32, oy: u32, ox0: u32, a: vec4<f32>) {
    if (co >= p.cout) { return; }
    var bias = 0.0;
    if (p.has_bias != 0u) { bias = f_b[co]; }
    let base = ((n * p.cout + co) * p.ho + oy) * p.wo;
    for (var j = 0u; j < 4u; j++) {
        if (ox0 + j < p.wo) { f_y[base + ox0 + j] = a[j] + bias; }
    }
}

// One invocation: 8 output channels x 4 adjacent output pixels of one row.
// Grid: x = row tiles (ho * ceil(wo/4)), y = ceil(cout/8), z = n.
@compute @workgroup_size(64)
fn conv_forward(@builtin(global_invocation_id) gid: vec3<u32>) {
    let wob = (p.wo + BLOCK - 1u) / BLOCK;
    if (gid.x >= wob * p.ho) { return; }
    let oy = gid.x / wob;
    let ox0 = (gid.x % wob) * BLOCK;
    let co0 = gid.y * FWD_CO;
    let n = gid.z;
    let kk = p.kh * p.kw;
    let last = p.cout - 1u;
    let w0 = co0 * p.cin * kk;
    let w1 = min(co0 + 1u, last) * p.cin * kk;
    let w2 = min(co0 + 2u, last) * p.cin * kk;
    let w3 = min(co0 + 3u, last) * p.cin * kk;
    let w4 = min(co0 + 4u, last) * p.cin * kk;
    let w5 = min(co0 + 5u, last) * p.cin * kk;
    let w6 = min(co0 + 6u, last) * p.cin * kk;
    let w7 = min(co0 + 7u, last) * p.cin * kk;
    let s = i32(p.stride);
    let ix0 = i32(ox0) * s - i32(p.pad);
    let iy0 = i32(oy) * s - i32(p.pad);
    var a0 = vec4<f32>(0.0);
    var a1 = vec4<f32>(0.0);
    var a2 = vec4<f32>(0.0);
    var a3 = vec4<f32>(0.0);
    var a4 = vec4<f32>(0.0);
    var a5 = vec4<f32>(0.0);
    var a6 = vec4<f32>(0.0);
    var a7 = vec4<f32>(0.0);
    for (var ci = 0u; ci < p.cin; ci++) {
        let plane = (n * p.cin + ci) * p.h * p.w;
        for (var ky = 0u; ky < p.kh; ky++) {
            let iy = iy0 + i32(ky);
            if (iy < 0 || iy >= i32(p.h)) { continue; }
            let row = plane + u32(iy) * p.w;
            let wk = ci * kk + ky * p.kw;
            for (var kx = 0u; kx < p.kw; kx++) {
                let ix = ix0 + i32(kx);
                let xv = vec4<f32>(fx_at(row, ix), fx_at(row, ix + s), fx_at(row, ix + 2 * s),
                    fx_at(row, ix + 3 * s));
                let wi = wk + kx;
                a0 += f_w[w0 + wi] * xv;
                a1 += f_w[w1 + wi] * xv;
                a2 += f_w[w2 + wi] * xv;
                a3 += f_w[w3 + wi] * xv;
                a4 += f_w[w4 + wi] * xv;
                a5 += f_w[w5 + wi] * xv;
                a6 += f_w[w6 + wi] * xv;
                a7 += f_w[w7 + wi] * xv;
            }
        }
    }
    f_store(n, co0, oy, ox0, a0);
    f_store(n, co0 + 1u, oy, ox0, a1);
    f_store(n, co0 + 2u, oy, ox0, a2);
    f_store(n, co0 + 3u, oy, ox0, a3);
    f_store(n, co0 + 4u, oy, ox0, a4);
    f_store(n, co0 + 5u, oy, ox0, a5);
    f_store(n, co0 + 6u, oy, ox0, a6);
    f_store(n, co0 + 7u, oy, ox0, a7);
}

// conv_backward_dx: dx += conv_transpose(dy, w)
@group(0) @binding(1) var<storage, read> d_dy: array<f32>;
@group(0) @binding(2) var<storage, read> d_w: array<f32>;
@group(0) @binding(3) var<storage, read_write> d_dx: array<f32>;

// dy at output column for input column `ix` and tap `kx`, or 0 when no output uses it.
fn dy_at(row: u32, ix: i32, kx: u32) -> f32 {
    let t = ix + i32(p.pad) - i32(kx);
    let s = i32(p.stride);
    if (t < 0 || t % s != 0 || t / s >= i32(p.wo)) { return 0.0; }
    return d_dy[row + u32(t / s)];
}

fn dx_store(n: u32, ci: u32, iy: u32, ix0: u32, a: vec4<f32>) {
    if (ci >= p.cin) { return; }
    let base = ((n * p.cin + ci) * p.h + iy) * p.w;
    for (var j = 0u; j < 4u; j++) {
        if (ix0 + j < p.w) { d_dx[base + ix0 + j] += a[j]; }
    }
}

// One invocation: 4 input channels x 4 adjacent input pixels of one row.
// Grid: x = row tiles (h * ceil(w/4)), y = ceil(cin/4), z = n.
@compute @workgroup_size(64)
fn conv_backward_dx(@builtin(global_invocation_id) gid: vec3<u32>) {
    let wb = (p.w + BLOCK - 1u) / BLOCK;
    if (gid.x >= wb * p.h) { return; }
    let iy = gid.x / wb;
    let ix0 = (gid.x % wb) * BLOCK;
    let ci0 = gid.y * BLOCK;
    let n = gid.z;
    let kk = p.kh * p.kw;
    let last = p.cin - 1u;
    let c0 = ci0 * kk;
    let c1 = min(ci0 + 1u, last) * kk;
    let c2 = min(ci0 + 2u, last) * kk;
    let c3 = min(ci0 + 3u, last) * kk;
    let s = i32(p.stride);
    let ix = i32(ix0);
    var a0 = vec4<f32>(0.0);
    var a1 = vec4<f32>(0.0);
    var a2 = vec4<f32>(0.0);
    var a3 = vec4<f32>(0.0);
    for (var co = 0u; co < p.cout; co++) {
        let plane = (n * p.cout + co) * p.ho * p.wo;
        let wco = co * p.cin * kk;
        for (var ky = 0u; ky < p.kh; ky++) {
            let t = i32(iy) + i32(p.pad) - i32(ky);
            if (t < 0 || t % s != 0 || t / s >= i32(p.ho)) { continue; }
            let row = plane + u32(t / s) * p.wo;
            let wk = wco + ky * p.kw;
            for (var kx = 0u; kx < p.kw; kx++) {
                let dv = vec4<f32>(dy_at(row, ix, kx), dy_at(row, ix + 1, kx),
                    dy_at(row, ix + 2, kx), dy_at(row, ix + 3, kx));
                let wi = wk + kx;
                a0 += d_w[wi + c0] * dv;
                a1 += d_w[wi + c1] * dv;
                a2 += d_w[wi + c2] * dv;
                a3 += d_w[wi + c3] * dv;
            }
        }
    }
    dx_store(n, ci0, iy, ix0, a0);
    dx_store(n, ci0 + 1u, iy, ix0, a1);
    dx_store(n, ci0 + 2u, iy, ix0, a2);
    dx_store(n, ci0 + 3u, iy, ix0, a3);
}

// conv_backward_dw: dw += sum over images and output pixels of dy * x (shifted by the tap)
@group(0) @binding(1) var<storage, read> g_x: array<f32>;
@group(0) @binding(2) var<storage, read> g_dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> g_dw: array<f32>;

// First and one-past-last output index whose tap `k` lands inside an input of size `len`.
fn out_range(k: u32, len: u32, out_len: u32) -> vec2<u32> {
    let s = i32(p.stride);
    let lo_num = i32(p.pad) - i32(k);
    var lo = 0;
    if (lo_num > 0) { lo = (lo_num + s - 1) / s; }
    let hi_num = i32(len) - 1 + i32(p.pad) - i32(k);
    var hi = 0;
    if (hi_num >= 0) { hi = min(hi_num / s + 1, i32(out_len)); }
    return vec2<u32>(u32(lo), u32(max(hi, lo)));
}

fn dw_store(co: u32, ci: u32, kpos: u32, a: vec4<f32>) {
    if (ci >= p.cin) { return; }
    let kk = p.kh * p.kw;
    for (var c = 0u; c < 4u; c++) {
        if (co + c < p.cout) { g_dw[((co + c) * p.cin + ci) * kk + kpos] += a[c]; }
    }
}

// One invocation: 4 output channels x 4 input channels of one tap (ky, kx); a serial loop
// over images and output pixels (deterministic, no atomics).
// Grid: x = ceil(cin/4) * kh * kw, y = ceil(cout/4).
@compute @workgroup_size(64)
fn conv_backward_dw(@builtin(global_invocation_id) gid: vec3<u32>) {
    let kk = p.kh * p.kw;
    let cinb = (p.cin + BLOCK - 1u) / BLOCK;
    if (gid.x >= cinb * kk) { return; }
    let kpos = gid.x % kk;
    let ky = kpos / p.kw;
    let kx = kpos % p.kw;
    let ci0 = (gid.x / kk) * BLOCK;
    let co0 = gid.y * BLOCK;
    let hw = p.ho * p.wo;
    let plane = p.h * p.w;
    let lc = p.cout - 1u;
    let li = p.cin - 1u;
    let yr = out_range(ky, p.h, p.ho);
    let xr = out_range(kx, p.w, p.wo);
    var a0 = vec4<f32>(0.0);
    var a1 = vec4<f32>(0.0);
    var a2 = vec4<f32>(0.0);
    var a3 = vec4<f32>(0.0);
    for (var n = 0u; n < p.n; n++) {
        let dy0 = (n * p.cout + co0) * hw;
        let dy1 = (n * p.cout + min(co0 + 1u, lc)) * hw;
        let dy2 = (n * p.cout + min(co0 + 2u, lc)) * hw;
        let dy3 = (n * p.cout + min(co0 + 3u, lc)) * hw;
        let x0 = (n * p.cin + ci0) * plane;
        let x1 = (n * p.cin + min(ci0 + 1u, li)) * plane;
        let x2 = (n * p.cin + min(ci0 + 2u, li)) * plane;
        let x3 = (n * p.cin + min(ci0 + 3u, li)) * plane;
        for (var oy = yr.x; oy < yr.y; oy++) {
            let iy = oy * p.stride + ky - p.pad;
            for (var ox = xr.x; ox < xr.y; ox++) {
                let o = oy * p.wo + ox;
                let i = iy * p.w + ox * p.stride + kx - p.pad;
                let dv = vec4<f32>(g_dy[dy0 + o], g_dy[dy1 + o], g_dy[dy2 + o], g_dy[dy3 + o]);
                a0 += g_x[x0 + i] * dv;
                a1 += g_x[x1 + i] * dv;
                a2 += g_x[x2 + i] * dv;
                a3 += g_x[x3 + i] * dv;
            }
        }
    }
    dw_store(co0, ci0, kpos, a0);
    dw_store(co0, ci0 + 1u, kpos, a1);
    dw_store(co0, ci0 + 2u, kpos, a2);
    dw_store(co0, ci0 + 3u, kpos, a3);
}

// conv_backward_db: db += sum of dy over images and pixels; one workgroup per channel,
// fixed strided partial sums then a tree (deterministic).
@group(0) @binding(1) var<storage, read> b_dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> b_db: array<f32>;

var<workgroup> b_part: array<f32, 64>;

@compute @workgroup_size(64)
fn conv_backward_db(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
    let co = wg.x;
    let hw = p.ho * p.wo;
    var s = 0.0;
    for (var n = 0u; n < p.n; n++) {
        let base = (n * p.cout + co) * hw;
        for (var i = t; i < hw; i += 64u) { s += b_dy[base + i]; }
    }
    b_part[t] = s;
    workgroupBarrier();
    for (var half = 32u; half > 0u; half /= 2u) {
        if (t < half) { b_part[t] += b_part[t + half]; }
        workgroupBarrier();
    }
    if (t == 0u) { b_db[co] += b_part[0]; }
}
