//! The resize kernels of the feature pyramids against `cpu::resize` on random inputs: nearest
//! resize and adaptive max pooling up, down and by non-integer factors, accumulating with
//! `alpha != 1` into non-zero tensors. Pooling indices must equal the CPU's exactly.

use super::elementwise::run;
use super::resize as gz;
use super::tests::{assert_close, ctx, up};
use super::{GpuContext, GpuTensor};
use crate::backend::cpu::test_support::rand_tensor;
use crate::backend::cpu::{elementwise as ce, resize as cr};
use crate::backend::tensor::Tensor;

/// Input and output plane sizes `(h, w, oh, ow)`: 2x up, non-integer up, down, pyramid pools
/// that divide and that do not (overlapping windows), and a pool that upsamples.
const CASES: &[(usize, usize, usize, usize)] = &[
    (4, 4, 8, 8),
    (3, 5, 7, 9),
    (8, 8, 3, 3),
    (16, 16, 8, 8),
    (7, 7, 3, 3),
    (5, 9, 4, 4),
    (3, 4, 5, 6),
];

const ALPHA: f32 = -0.7;

/// `[N = 2, C = 3, h, w]`.
fn nchw(h: usize, w: usize) -> [usize; 4] {
    [2, 3, h, w]
}

/// `dst + alpha * y` on the CPU.
fn cpu_add_scaled(dst: &Tensor, y: &Tensor, alpha: f32) -> Vec<f32> {
    let mut out = dst.data.clone();
    ce::add_scaled(&mut out, &y.data, alpha);
    out
}

/// Values in {-1, 0, 1}: windows full of ties, to check the first-maximum rule.
fn ternary(shape: [usize; 4], seed: u64) -> Tensor {
    let mut t = rand_tensor(shape, seed);
    t.data
        .iter_mut()
        .for_each(|v| *v = v.round().clamp(-1.0, 1.0));
    t
}

#[test]
fn nearest_resize_matches_cpu_and_accumulates() {
    let Some(c) = ctx() else { return };
    for (i, &(h, w, oh, ow)) in CASES.iter().enumerate() {
        let seed = 200 + 10 * i as u64;
        let (x, d0) = (
            rand_tensor(nchw(h, w), seed),
            rand_tensor(nchw(oh, ow), seed + 1),
        );
        let gdst = up(c, &d0);
        run(c, |e| {
            gz::record_nearest_add(c, e, &up(c, &x), &gdst, ALPHA)
        });
        let want = cpu_add_scaled(&d0, &cr::interpolate_nearest_forward(&x, oh, ow), ALPHA);
        let what = format!("nearest fwd {h}x{w}->{oh}x{ow}");
        assert_close(&what, &gdst.download_vec(c), &want);

        let dy = rand_tensor(nchw(oh, ow), seed + 2);
        let mut dx = rand_tensor(nchw(h, w), seed + 3);
        let gdx = up(c, &dx);
        run(c, |e| gz::record_nearest_backward(c, e, &up(c, &dy), &gdx));
        cr::interpolate_nearest_backward(&dy, &mut dx);
        let what = format!("nearest bwd {h}x{w}->{oh}x{ow}");
        assert_close(&what, &gdx.download_vec(c), &dx.data);
    }
}

/// Runs the pooling forward and backward on `x` against the CPU, pool indices exactly.
fn check_max_pool(c: &GpuContext, x: &Tensor, oh: usize, ow: usize, seed: u64) {
    let [_, _, h, w] = x.shape;
    let case = format!("{h}x{w}->{oh}x{ow}");
    let d0 = rand_tensor(nchw(oh, ow), seed);
    let (gdst, gidx) = (up(c, &d0), GpuTensor::zeros(c, d0.shape));
    gidx.write(c, &vec![f32::from_bits(u32::MAX); d0.len()]); // overwritten, not kept
    run(c, |e| {
        gz::record_max_pool_add(c, e, &up(c, x), &gdst, ALPHA, &gidx)
    });
    let (pooled, idx) = cr::adaptive_max_pool_forward(x, oh, ow);
    let got_idx: Vec<u32> = gidx.download_vec(c).iter().map(|v| v.to_bits()).collect();
    assert_eq!(got_idx, idx, "max pool indices {case}");
    let want = cpu_add_scaled(&d0, &pooled, ALPHA);
    assert_close(
        &format!("max pool fwd {case}"),
        &gdst.download_vec(c),
        &want,
    );

    let dy = rand_tensor(nchw(oh, ow), seed + 1);
    let mut dx = rand_tensor(x.shape, seed + 2);
    let gdx = up(c, &dx);
    run(c, |e| {
        gz::record_max_pool_backward(c, e, &up(c, &dy), &gidx, &gdx)
    });
    cr::adaptive_max_pool_backward(&dy, &idx, &mut dx);
    let what = format!("max pool bwd {case}");
    assert_close(&what, &gdx.download_vec(c), &dx.data);
}

#[test]
fn max_pool_matches_cpu_and_accumulates() {
    let Some(c) = ctx() else { return };
    for (i, &(h, w, oh, ow)) in CASES.iter().enumerate() {
        let seed = 300 + 10 * i as u64;
        check_max_pool(c, &rand_tensor(nchw(h, w), seed), oh, ow, seed + 1);
    }
}

#[test]
fn max_pool_breaks_ties_like_cpu() {
    let Some(c) = ctx() else { return };
    for (i, &(h, w, oh, ow)) in CASES.iter().enumerate() {
        let seed = 400 + 10 * i as u64;
        check_max_pool(c, &ternary(nchw(h, w), seed), oh, ow, seed + 1);
    }
}

#[test]
fn upsample2x_still_reachable_from_elementwise() {
    let Some(c) = ctx() else { return };
    let x = rand_tensor(nchw(3, 4), 500);
    let via_resize = gz::upsample2x_forward(c, &up(c, &x)).download_vec(c);
    let via_old_path = super::elementwise::upsample2x_forward(c, &up(c, &x)).download_vec(c);
    assert_eq!(via_resize, via_old_path);
    assert_eq!(via_resize, cr::upsample_nearest2x_forward(&x).data);
}
