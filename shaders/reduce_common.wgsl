// The deterministic workgroup reduction shared by reduce.wgsl and loss.wgsl: WG threads each
// hold one value in `part`, `tree` sums them into part[0] (a fixed binary tree, the same
// order every run, no atomics), and CHUNK is the values per workgroup in a first pass.
// Prepended to those shaders by src/backend/gpu/context.rs (`REDUCE_WGSL`, `LOSS_WGSL`);
// WG and CHUNK are checked against the Rust constants by src/backend/gpu/tests_layout.rs.

const WG: u32 = 256u;
const CHUNK: u32 = 4096u;

var<workgroup> part: array<f32, 256>;

fn tree(t: u32) {
    workgroupBarrier();
    for (var half = WG / 2u; half > 0u; half /= 2u) {
        if (t < half) { part[t] += part[t + half]; }
        workgroupBarrier();
    }
}
