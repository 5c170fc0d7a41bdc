// Nearest 2x upsampling (FPN top-down path), forward and backward (backward ACCUMULATES).
// One invocation per output pixel (forward) or per input pixel (backward); planes = N * C.
// Keep `ResizeParams` in sync with src/backend/gpu/resize.rs.

struct ResizeParams {
    planes: u32,
    h: u32,
    w: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: ResizeParams;

fn flat(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
    return gid.x + gid.y * groups.x * 64u;
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
