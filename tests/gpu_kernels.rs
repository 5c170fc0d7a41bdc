//! GPU kernels chained into one submission (as a training step will record them) against the
//! CPU ops, and the timing of the reference convolution (`--ignored`, prints figures).
//! With `ANCHORSCOPE_REQUIRE_GPU=1` a missing adapter fails; otherwise the tests skip.

use std::time::Instant;

use anchorscope::backend::cpu::conv::{ConvGeom, conv2d_backward, conv2d_forward};
use anchorscope::backend::cpu::{elementwise as ce, optim as co, resize as cr};
use anchorscope::backend::gpu::{
    GpuContext, GpuTensor, conv as gc, elementwise as ge, optim as go, skip_without_gpu,
};
use anchorscope::backend::tensor::Tensor;
use rand::SeedableRng;

fn ctx() -> Option<GpuContext> {
    match GpuContext::new() {
        Ok(c) => {
            eprintln!("adapter: {} ({:?})", c.info.name, c.info.backend);
            Some(c)
        }
        Err(e) => {
            skip_without_gpu(e);
            None
        }
    }
}

fn randn(shape: [usize; 4], std: f32, seed: u64) -> Tensor {
    Tensor::randn(
        shape,
        std,
        &mut rand_chacha::ChaCha8Rng::seed_from_u64(seed),
    )
}

fn assert_close(what: &str, gpu: &[f32], cpu: &[f32]) {
    assert_eq!(gpu.len(), cpu.len(), "{what}: lengths");
    for (i, (&a, &b)) in gpu.iter().zip(cpu).enumerate() {
        let tol = (5e-3 * (a + b).abs()).max(1e-5);
        assert!((a - b).abs() <= tol, "{what}[{i}]: gpu {a} vs cpu {b}");
    }
}

/// conv (stride 2) -> ReLU -> upsample 2x, loss = <y, r>, backward, SGD: one submission.
#[test]
fn small_step_in_one_submission_matches_cpu() {
    let Some(c) = ctx() else { return };
    let g = ConvGeom::new(2, 1);
    let x = randn([2, 3, 10, 10], 1.0, 1);
    let w = randn([5, 3, 3, 3], 0.3, 2);
    let b = randn([1, 1, 1, 5], 0.1, 3);
    let h = conv2d_forward(&x, &w, Some(&b.data), g);
    let a = ce::relu_forward(&h);
    let y = cr::upsample_nearest2x_forward(&a);
    let r = randn(y.shape, 1.0, 4);
    // CPU reference
    let mut da = Tensor::zeros(a.shape);
    cr::upsample_nearest2x_backward(&r, &mut da);
    let mut dh = vec![0.0; h.len()];
    ce::relu_backward(&a.data, &da.data, &mut dh);
    let dh = Tensor::from_vec(h.shape, dh);
    let (mut dx, mut dw, mut db) = (Tensor::zeros(x.shape), Tensor::zeros(w.shape), vec![0.0; 5]);
    conv2d_backward(&x, &w, &dh, g, Some(&mut dx), &mut dw, Some(&mut db));
    let cfg = co::SgdConfig::default();
    let (mut wp, mut vel) = (w.data.clone(), vec![0.0; w.len()]);
    co::sgd_step(&mut wp, &dw.data, &mut vel, &cfg);
    // GPU: the same chain recorded into one encoder
    let up = |t: &Tensor| GpuTensor::upload(&c, t);
    let (gx, gw, gb, gr) = (up(&x), up(&w), up(&b), up(&r));
    let (gh, gy) = (GpuTensor::zeros(&c, h.shape), GpuTensor::zeros(&c, y.shape));
    let (gda, gdh) = (GpuTensor::zeros(&c, a.shape), GpuTensor::zeros(&c, h.shape));
    let (gdx, gdw) = (GpuTensor::zeros(&c, x.shape), GpuTensor::zeros(&c, w.shape));
    let (gdb, gvel) = (
        GpuTensor::zeros_flat(&c, 5),
        GpuTensor::zeros_flat(&c, w.len()),
    );
    let gwf = GpuTensor {
        buffer: gw.buffer.clone(),
        shape: [1, 1, 1, w.len()],
    };
    let gdwf = GpuTensor {
        buffer: gdw.buffer.clone(),
        shape: [1, 1, 1, w.len()],
    };
    let mut e = c.encoder();
    for t in [&gda, &gdh, &gdx, &gdw, &gdb] {
        t.zero(&mut e);
    }
    gc::record_conv2d_forward(&c, &mut e, &gx, &gw, Some(&gb), g, &gh);
    ge::record_relu_inplace(&c, &mut e, &gh);
    ge::record_upsample2x_forward(&c, &mut e, &gh, &gy);
    ge::record_upsample2x_backward(&c, &mut e, &gr, &gda);
    ge::record_relu_backward(&c, &mut e, &gh, &gda, &gdh);
    gc::record_conv2d_backward(&c, &mut e, &gx, &gw, &gdh, g, Some(&gdx), &gdw, Some(&gdb));
    go::record_sgd_step(&c, &mut e, &gwf, &gdwf, &gvel, &cfg);
    c.submit_wait(e);
    assert_close("y", &gy.download_vec(&c), &y.data);
    assert_close("dx", &gdx.download_vec(&c), &dx.data);
    assert_close("dw", &gdw.download_vec(&c), &dw.data);
    assert_close("db", &gdb.download_vec(&c), &db);
    assert_close("w after sgd", &gw.download_vec(&c), &wp);
}

/// Times conv 8x64x32x32 -> 64 (3x3, pad 1): forward, and backward (dx, dw, db).
/// `cargo test --release --test gpu_kernels -- --ignored --nocapture`
#[test]
#[ignore = "timing figures, not a correctness test"]
fn time_reference_conv() {
    let Some(c) = ctx() else { return };
    let g = ConvGeom::new(1, 1);
    let x = GpuTensor::upload(&c, &randn([8, 64, 32, 32], 1.0, 1));
    let w = GpuTensor::upload(&c, &randn([64, 64, 3, 3], 0.05, 2));
    let b = GpuTensor::zeros_flat(&c, 64);
    let y = GpuTensor::zeros(&c, [8, 64, 32, 32]);
    let (dx, dw) = (GpuTensor::zeros(&c, x.shape), GpuTensor::zeros(&c, w.shape));
    let flops = 2.0 * 8.0 * 64.0 * 1024.0 * 64.0 * 9.0;
    let reps = if c.is_software() { 3 } else { 20 };
    let time = |label: &str, f: &dyn Fn(&mut wgpu::CommandEncoder), mult: f64| {
        let mut e = c.encoder(); // warm-up (pipeline caches, first-use allocation)
        f(&mut e);
        c.submit_wait(e);
        let t0 = Instant::now();
        for _ in 0..reps {
            let mut e = c.encoder();
            f(&mut e);
            c.submit_wait(e);
        }
        let s = t0.elapsed().as_secs_f64() / reps as f64;
        let gf = mult * flops / s / 1e9;
        println!(
            "{label}: {:.2} ms ({gf:.1} GFLOP/s) on {}",
            s * 1e3,
            c.info.name
        );
    };
    time(
        "conv fwd 8x64x32x32->64 3x3",
        &|e| gc::record_conv2d_forward(&c, e, &x, &w, Some(&b), g, &y),
        1.0,
    );
    time(
        "conv bwd dx+dw+db",
        &|e| gc::record_conv2d_backward(&c, e, &x, &w, &y, g, Some(&dx), &dw, Some(&b)),
        2.0,
    );
}
