//! Every GPU kernel against its CPU twin on random inputs (lavapipe in CI), with the tolerance
//! `|a - b| <= max(5e-3 * |a + b|, 1e-5)`. Without an adapter the tests print why they skip,
//! unless `ANCHORSCOPE_REQUIRE_GPU=1`, where they fail.

use std::sync::OnceLock;

use super::elementwise::{self as ge, run};
use super::reduce as gr;
use super::{BufferPool, GpuContext, GpuTensor, conv as gc, optim as go, skip_without_gpu};
use crate::backend::cpu::conv::{ConvGeom, conv2d_backward, conv2d_forward};
use crate::backend::cpu::elementwise::relu_mask_inplace;
use crate::backend::cpu::test_support::rand_tensor;
use crate::backend::cpu::{elementwise as ce, norm as cn, optim as co, resize as cr};
use crate::backend::tensor::Tensor;

/// The shared context, or `None` (with a printed reason) when there is no adapter.
pub(super) fn ctx() -> Option<&'static GpuContext> {
    static CTX: OnceLock<Result<GpuContext, String>> = OnceLock::new();
    match CTX.get_or_init(GpuContext::new) {
        Ok(c) => Some(c),
        Err(e) => {
            skip_without_gpu(e);
            None
        }
    }
}

/// Asserts `|a - b| <= max(5e-3 * |a + b|, 1e-5)` elementwise.
pub(super) fn assert_close(what: &str, gpu: &[f32], cpu: &[f32]) {
    assert_eq!(gpu.len(), cpu.len(), "{what}: lengths");
    for (i, (&a, &b)) in gpu.iter().zip(cpu).enumerate() {
        let tol = (5e-3 * (a + b).abs()).max(1e-5);
        assert!((a - b).abs() <= tol, "{what}[{i}]: gpu {a} vs cpu {b}");
    }
}

/// Uploads `t`.
pub(super) fn up(c: &GpuContext, t: &Tensor) -> GpuTensor {
    GpuTensor::upload(c, t)
}

/// (input shape, Cout, kh, kw, stride, pad, bias): odd sizes, stride 2, padding, channel
/// counts that are not multiples of the 4 x 4 blocks, a 1x1 and a non-square kernel.
type ConvCase = ([usize; 4], usize, usize, usize, usize, usize, bool);

const CONV_CASES: &[ConvCase] = &[
    ([2, 3, 7, 9], 5, 3, 3, 1, 1, true),
    ([2, 5, 8, 7], 6, 3, 3, 2, 1, true),
    ([1, 6, 5, 5], 7, 1, 1, 1, 0, false),
    ([2, 4, 6, 6], 3, 3, 3, 2, 0, true),
    ([1, 9, 5, 6], 2, 1, 3, 1, 1, false),
    ([1, 2, 4, 5], 9, 3, 3, 2, 2, true),
];

#[test]
fn conv_forward_matches_cpu() {
    let Some(c) = ctx() else { return };
    for (i, &(xs, cout, kh, kw, s, p, bias)) in CONV_CASES.iter().enumerate() {
        let seed = 10 * i as u64;
        let x = rand_tensor(xs, seed);
        let w = rand_tensor([cout, xs[1], kh, kw], seed + 1);
        let b = rand_tensor([1, 1, 1, cout], seed + 2);
        let g = ConvGeom::new(s, p);
        let want = conv2d_forward(&x, &w, bias.then_some(&b.data[..]), g);
        let gb = up(c, &b);
        let got = gc::conv2d_forward(c, &up(c, &x), &up(c, &w), bias.then_some(&gb), g);
        assert_eq!(got.shape, want.shape);
        assert_close(
            &format!("conv fwd case {i}"),
            &got.download_vec(c),
            &want.data,
        );
    }
}

#[test]
fn conv_backward_matches_cpu_and_accumulates() {
    let Some(c) = ctx() else { return };
    for (i, &(xs, cout, kh, kw, s, p, bias)) in CONV_CASES.iter().enumerate() {
        let seed = 100 + 10 * i as u64;
        let x = rand_tensor(xs, seed);
        let w = rand_tensor([cout, xs[1], kh, kw], seed + 1);
        let g = ConvGeom::new(s, p);
        let dy = rand_tensor(conv2d_forward(&x, &w, None, g).shape, seed + 2);
        // non-zero starting gradients: the ops must add to them
        let (mut dx, mut dw) = (rand_tensor(xs, seed + 3), rand_tensor(w.shape, seed + 4));
        let mut db = rand_tensor([1, 1, 1, cout], seed + 5).data;
        let (gdx, gdw, gdb) = (up(c, &dx), up(c, &dw), GpuTensor::upload_flat(c, &db));
        let gbias = bias.then_some(&gdb);
        let (gx, gw, gdy) = (up(c, &x), up(c, &w), up(c, &dy));
        gc::conv2d_backward(c, &gx, &gw, &gdy, g, Some(&gdx), &gdw, gbias);
        let cbias = if bias { Some(&mut db[..]) } else { None };
        conv2d_backward(&x, &w, &dy, g, Some(&mut dx), &mut dw, cbias);
        assert_close(&format!("conv dx case {i}"), &gdx.download_vec(c), &dx.data);
        assert_close(&format!("conv dw case {i}"), &gdw.download_vec(c), &dw.data);
        assert_close(&format!("conv db case {i}"), &gdb.download_vec(c), &db);
    }
}

#[test]
fn elementwise_match_cpu() {
    let Some(c) = ctx() else { return };
    let shape = [2, 3, 5, 7]; // 210 values: not a multiple of the workgroup size
    let (a, b, d) = (
        rand_tensor(shape, 1),
        rand_tensor(shape, 2),
        rand_tensor(shape, 3),
    );
    let (ga, gb) = (up(c, &a), up(c, &b));
    assert_close(
        "relu",
        &ge::relu(c, &ga).download_vec(c),
        &ce::relu_forward(&a).data,
    );
    let y = ce::relu_forward(&a);
    let (gy, gdx) = (up(c, &y), up(c, &d));
    run(c, |e| ge::record_relu_backward(c, e, &gy, &gb, &gdx));
    let mut dx = d.data.clone();
    ce::relu_backward(&y.data, &b.data, &mut dx);
    assert_close("relu backward", &gdx.download_vec(c), &dx);
    let gi = up(c, &a);
    run(c, |e| ge::record_relu_inplace(c, e, &gi));
    assert_close("relu inplace", &gi.download_vec(c), &y.data);
    let want = ce::add_forward(&a, &b);
    assert_close("add", &ge::add(c, &ga, &gb).download_vec(c), &want.data);
    run(c, |e| {
        ge::record_add_scaled(c, e, &ga, &gb, -0.75);
        ge::record_scale(c, e, &ga, 1.5);
    });
    let mut z = a.data.clone();
    ce::add_scaled(&mut z, &b.data, -0.75);
    ce::scale_inplace(&mut z, 1.5);
    assert_close("add_scaled + scale", &ga.download_vec(c), &z);
}

#[test]
fn relu_mask_and_copy_match_cpu() {
    let Some(c) = ctx() else { return };
    let shape = [2, 3, 5, 7];
    let (y, dy) = (
        ce::relu_forward(&rand_tensor(shape, 4)),
        rand_tensor(shape, 5),
    );
    let (gy, gdy, gcopy) = (up(c, &y), up(c, &dy), GpuTensor::zeros(c, shape));
    run(c, |e| {
        ge::record_copy(e, &gdy, &gcopy);
        ge::record_relu_mask_inplace(c, e, &gy, &gdy);
    });
    let mut want = dy.data.clone();
    relu_mask_inplace(&y.data, &mut want);
    assert_close("relu mask", &gdy.download_vec(c), &want);
    assert_eq!(
        gcopy.download_vec(c),
        dy.data,
        "copy (recorded before the mask)"
    );
}

#[test]
fn upsample_matches_cpu() {
    let Some(c) = ctx() else { return };
    for (i, &shape) in [[2, 3, 5, 7], [1, 1, 1, 1], [1, 5, 4, 3]]
        .iter()
        .enumerate()
    {
        let x = rand_tensor(shape, 20 + i as u64);
        let want = cr::upsample_nearest2x_forward(&x);
        let got = ge::upsample2x_forward(c, &up(c, &x));
        assert_eq!(got.shape, want.shape);
        assert_close("upsample fwd", &got.download_vec(c), &want.data);
        let dy = rand_tensor(want.shape, 30 + i as u64);
        let mut dx = rand_tensor(shape, 40 + i as u64);
        let gdx = up(c, &dx);
        run(c, |e| {
            ge::record_upsample2x_backward(c, e, &up(c, &dy), &gdx)
        });
        cr::upsample_nearest2x_backward(&dy, &mut dx);
        assert_close("upsample bwd", &gdx.download_vec(c), &dx.data);
    }
}

#[test]
fn optimizers_match_cpu_over_steps() {
    let Some(c) = ctx() else { return };
    let n = 1000;
    let p0 = rand_tensor([1, 1, 1, n], 50).data;
    let sgd = co::SgdConfig::default();
    let adamw = co::AdamWConfig {
        lr: 0.01,
        ..Default::default()
    };
    let (mut p, mut v) = (p0.clone(), vec![0.0; n]);
    let (mut q, mut m, mut s) = (p0.clone(), vec![0.0; n], vec![0.0; n]);
    let flat = |d: &[f32]| GpuTensor::upload_flat(c, d);
    let (gp, gv, gq, gm, gs) = (flat(&p), flat(&v), flat(&q), flat(&m), flat(&s));
    for step in 1..=3u32 {
        let g = rand_tensor([1, 1, 1, n], 50 + step as u64).data;
        let gg = flat(&g);
        run(c, |e| {
            go::record_sgd_step(c, e, &gp, &gg, &gv, &sgd);
            go::record_adamw_step(c, e, &gq, &gg, &gm, &gs, step, &adamw);
        });
        co::sgd_step(&mut p, &g, &mut v, &sgd);
        co::adamw_step(&mut q, &g, &mut m, &mut s, step, &adamw);
    }
    assert_close("sgd params", &gp.download_vec(c), &p);
    assert_close("sgd velocity", &gv.download_vec(c), &v);
    assert_close("adamw params", &gq.download_vec(c), &q);
    assert_close("adamw m", &gm.download_vec(c), &m);
    assert_close("adamw v", &gs.download_vec(c), &s);
}

#[test]
fn grad_norm_and_clip_match_cpu() {
    let Some(c) = ctx() else { return };
    // 9001 values span three chunks of the first pass; 1 and 37 are short
    let bufs: Vec<Vec<f32>> = [9001, 37, 1]
        .iter()
        .enumerate()
        .map(|(i, &n)| rand_tensor([1, 1, 1, n], 60 + i as u64).data)
        .collect();
    let gpu: Vec<GpuTensor> = bufs.iter().map(|b| GpuTensor::upload_flat(c, b)).collect();
    let refs: Vec<&GpuTensor> = gpu.iter().collect();
    let slices: Vec<&[f32]> = bufs.iter().map(|b| &b[..]).collect();
    let want = cn::grad_norm(&slices);
    let got = gr::grad_norm(c, &refs);
    assert_close("grad norm", &[got], &[want]);
    let again = gr::grad_norm(c, &refs);
    assert_eq!(got.to_bits(), again.to_bits(), "grad norm is deterministic");
    for max_norm in [want * 0.5, want * 2.0] {
        let gpu: Vec<GpuTensor> = bufs.iter().map(|b| GpuTensor::upload_flat(c, b)).collect();
        let partials = GpuTensor::zeros_flat(c, gr::partials_len(9001));
        let (sums, total) = (GpuTensor::zeros_flat(c, 3), GpuTensor::zeros_flat(c, 1));
        run(c, |e| {
            let refs: Vec<&GpuTensor> = gpu.iter().collect();
            gr::record_grad_sumsq(c, e, &refs, &partials, &sums, &total);
            for g in &gpu {
                gr::record_clip_scale(c, e, g, &total, 0, max_norm);
            }
        });
        let mut cpu = bufs.clone();
        let mut muts: Vec<&mut [f32]> = cpu.iter_mut().map(|b| &mut b[..]).collect();
        cn::clip_grad_norm(&mut muts, max_norm);
        for (g, w) in gpu.iter().zip(&cpu) {
            assert_close("clipped", &g.download_vec(c), w);
        }
    }
}

#[test]
fn zero_and_pool_reuse_buffers() {
    let Some(c) = ctx() else { return };
    let mut pool = BufferPool::new();
    let t = pool.take(c, [1, 2, 3, 4]);
    t.write(c, &[1.0; 24]);
    run(c, |e| t.zero(e));
    assert!(t.download_vec(c).iter().all(|&v| v == 0.0));
    pool.give(t);
    assert_eq!(pool.idle(), 1);
    let u = pool.take(c, [2, 3, 4, 1]);
    assert_eq!((pool.idle(), u.len()), (0, 24));
    eprintln!("adapter: {} (software: {})", c.info.name, c.is_software());
}

#[test]
fn repeated_dispatches_reuse_their_bind_group() {
    // A context of its own: other tests share the static one concurrently.
    let Some(_) = ctx() else { return };
    let c = GpuContext::new().expect("a second context on the same adapter");
    let x = rand_tensor([1, 2, 3, 4], 9);
    let (a, b) = (up(&c, &x), up(&c, &x));
    let relu = |t: &GpuTensor| run(&c, |e| ge::record_relu_inplace(&c, e, t));
    relu(&a);
    relu(&a);
    assert_eq!(c.cached_bind_groups(), 1, "same kernel, params and buffer");
    relu(&b);
    assert_eq!(
        c.cached_bind_groups(),
        2,
        "another buffer is another bind group"
    );
    let want = ce::relu_forward(&x);
    assert_close(
        "relu twice through the cache",
        &a.download_vec(&c),
        &want.data,
    );
    assert_close("relu on the other buffer", &b.download_vec(&c), &want.data);
}
