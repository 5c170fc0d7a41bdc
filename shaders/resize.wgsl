// Resizing kernels for the FPN and the balanced feature pyramid (Libra R-CNN): nearest 2x
// upsampling, nearest resize to any size, adaptive max pooling, and their backwards.
// Backward kernels ACCUMULATE (+=) and are deterministic gathers (no atomics): each input
// pixel sums, in the CPU's order, the output pixels that read it. planes = N * C; (h, w) is
// the input size and (oh, ow) the output size of the FORWARD op.
// `ResizeParams` is checked against src/backend/gpu/resize.rs by src/backend/gpu/tests_layout.rs.

struct ResizeParams {
    planes: u32,
    h: u32,
    w: u32,
    oh: u32,
    ow: u32,
    alpha: f32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: ResizeParams;

fn flat(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
    return gid.x + gid.y * groups.x * 64u;
}

// Nearest source index of output index o (n_in -> n_out), as cpu::resize::nearest_src.
fn nearest_src(o: u32, n_in: u32, n_out: u32) -> u32 {
    return min(o * n_in / n_out, n_in - 1u);
}

// The outputs [start, end) whose nearest source is input index i (n_in -> n_out):
// o * n_in / n_out == i  <=>  ceil(i * n_out / n_in) <= o < ceil((i + 1) * n_out / n_in).
fn nearest_users(i: u32, n_in: u32, n_out: u32) -> vec2<u32> {
    let start = (i * n_out + n_in - 1u) / n_in;
    let end = min(((i + 1u) * n_out + n_in - 1u) / n_in, n_out);
    return vec2<u32>(start, end);
}

// Adaptive pooling bin of output index o: [floor(o * n_in / n_out), ceil((o + 1) * n_in / n_out)).
fn pool_bin(o: u32, n_in: u32, n_out: u32) -> vec2<u32> {
    return vec2<u32>(o * n_in / n_out, ((o + 1u) * n_in + n_out - 1u) / n_out);
}

// The outputs [start, end) whose pooling bin contains input index i (n_in -> n_out).
fn pool_users(i: u32, n_in: u32, n_out: u32) -> vec2<u32> {
    let start = i * n_out / n_in;
    let end = min(((i + 1u) * n_out + n_in - 1u) / n_in, n_out);
    return vec2<u32>(start, end);
}

// upsample2x_forward: y[2h, 2w] from x[h, w]
@group(0) @binding(1) var<storage, read> u_x: array<f32>;
@group(0) @binding(2) var<storage, read_write> u_y: array<f32>;

@compute @workgroup_size(64)
fn upsample2x_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) g: vec3<u32>) {
    let i = flat(gid, g);
    let ow = 2u * p.w;
    let oplane = 4u * p.h * p.w;
    if (i >= p.planes * oplane) { return; }
    let pl = i / oplane;
    let r = i % oplane;
    let oy = r / ow;
    let ox = r % ow;
    u_y[i] = u_x[pl * p.h * p.w + (oy / 2u) * p.w + ox / 2u];
}

// upsample2x_backward: dx += the 2x2 block of dy (summed in the CPU's order)
@group(0) @binding(1) var<storage, read> b_dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> b_dx: array<f32>;

@compute @workgroup_size(64)
fn upsample2x_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) g: vec3<u32>) {
    let i = flat(gid, g);
    let plane = p.h * p.w;
    if (i >= p.planes * plane) { return; }
    let pl = i / plane;
    let y = (i % plane) / p.w;
    let x = i % p.w;
    let ow = 2u * p.w;
    let r0 = pl * 4u * plane + 2u * y * ow + 2u * x;
    let r1 = r0 + ow;
    b_dx[i] += (b_dy[r0] + b_dy[r0 + 1u]) + (b_dy[r1] + b_dy[r1 + 1u]);
}

// nearest_add: dst[oh, ow] += alpha * nearest_resize(x[h, w]); one invocation per output pixel
@group(0) @binding(1) var<storage, read> na_x: array<f32>;
@group(0) @binding(2) var<storage, read_write> na_dst: array<f32>;

@compute @workgroup_size(64)
fn nearest_add(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) g: vec3<u32>) {
    let i = flat(gid, g);
    let oplane = p.oh * p.ow;
    if (i >= p.planes * oplane) { return; }
    let pl = i / oplane;
    let sy = nearest_src((i % oplane) / p.ow, p.h, p.oh);
    let sx = nearest_src(i % p.ow, p.w, p.ow);
    na_dst[i] += p.alpha * na_x[pl * p.h * p.w + sy * p.w + sx];
}

// nearest_backward: dx[h, w] += the dy[oh, ow] pixels that read it, row-major like the CPU
@group(0) @binding(1) var<storage, read> nb_dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> nb_dx: array<f32>;

@compute @workgroup_size(64)
fn nearest_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) g: vec3<u32>) {
    let i = flat(gid, g);
    let plane = p.h * p.w;
    if (i >= p.planes * plane) { return; }
    let base = (i / plane) * p.oh * p.ow;
    let rows = nearest_users((i % plane) / p.w, p.h, p.oh);
    let cols = nearest_users(i % p.w, p.w, p.ow);
    var acc = nb_dx[i];
    for (var oy = rows.x; oy < rows.y; oy++) {
        for (var ox = cols.x; ox < cols.y; ox++) {
            acc += nb_dy[base + oy * p.ow + ox];
        }
    }
    nb_dx[i] = acc;
}

// max_pool_add: dst[oh, ow] += alpha * adaptive_max_pool(x[h, w]); idx = the winner's index
// inside its plane (first maximum; NaN handling mirrors the CPU loop)
@group(0) @binding(1) var<storage, read> mp_x: array<f32>;
@group(0) @binding(2) var<storage, read_write> mp_dst: array<f32>;
@group(0) @binding(3) var<storage, read_write> mp_idx: array<u32>;

@compute @workgroup_size(64)
fn max_pool_add(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) g: vec3<u32>) {
    let i = flat(gid, g);
    let oplane = p.oh * p.ow;
    if (i >= p.planes * oplane) { return; }
    let base = (i / oplane) * p.h * p.w;
    let rows = pool_bin((i % oplane) / p.ow, p.h, p.oh);
    let cols = pool_bin(i % p.ow, p.w, p.ow);
    var best = bitcast<f32>(0xff800000u); // -inf
    var arg = rows.x * p.w + cols.x;
    for (var iy = rows.x; iy < rows.y; iy++) {
        for (var ix = cols.x; ix < cols.y; ix++) {
            let v = mp_x[base + iy * p.w + ix];
            let nan = v != v;
            if (v > best || nan) {
                best = v;
                arg = iy * p.w + ix;
                if (nan) { break; }
            }
        }
    }
    mp_dst[i] += p.alpha * mp_x[base + arg];
    mp_idx[i] = arg;
}

// max_pool_backward: dx[h, w] += the dy[oh, ow] whose winner it is, row-major like the CPU
@group(0) @binding(1) var<storage, read> pb_dy: array<f32>;
@group(0) @binding(2) var<storage, read> pb_idx: array<u32>;
@group(0) @binding(3) var<storage, read_write> pb_dx: array<f32>;

@compute @workgroup_size(64)
fn max_pool_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) g: vec3<u32>) {
    let i = flat(gid, g);
    let plane = p.h * p.w;
    if (i >= p.planes * plane) { return; }
    let me = i % plane;
    let base = (i / plane) * p.oh * p.ow;
    let rows = pool_users(me / p.w, p.h, p.oh);
    let cols = pool_users(me % p.w, p.w, p.ow);
    var acc = pb_dx[i];
    for (var oy = rows.x; oy < rows.y; oy++) {
        for (var ox = cols.x; ox < cols.y; ox++) {
            let o = base + oy * p.ow + ox;
            if (pb_idx[o] == me) { acc += pb_dy[o]; }
        }
    }
    pb_dx[i] = acc;
}
