//! Tests of the convolution: naive reference, finite differences, accumulation, determinism.

use super::*;
use crate::backend::cpu::test_support::{check_grad, dot, rand_tensor};

/// Direct convolution in f64.
fn naive(x: &Tensor, w: &Tensor, b: &[f32], g: ConvGeom) -> Vec<f64> {
    let [n, cin, h, wd] = x.shape;
    let [cout, _, kh, kw] = w.shape;
    let (ho, wo) = conv2d_out_size(h, wd, kh, kw, g);
    let mut y = vec![0.0f64; n * cout * ho * wo];
    for i in 0..n {
        for co in 0..cout {
            for oy in 0..ho {
                for ox in 0..wo {
                    let mut acc = b[co] as f64;
                    for ci in 0..cin {
                        for ky in 0..kh {
                            for kx in 0..kw {
                                let iy = (oy * g.stride + ky) as isize - g.pad as isize;
                                let ix = (ox * g.stride + kx) as isize - g.pad as isize;
                                if iy < 0 || ix < 0 || iy >= h as isize || ix >= wd as isize {
                                    continue;
                                }
                                let xv =
                                    x.data[((i * cin + ci) * h + iy as usize) * wd + ix as usize];
                                let wv = w.data[((co * cin + ci) * kh + ky) * kw + kx];
                                acc += xv as f64 * wv as f64;
                            }
                        }
                    }
                    y[((i * cout + co) * ho + oy) * wo + ox] = acc;
                }
            }
        }
    }
    y
}

const CASES: &[(usize, usize, usize, usize)] = &[
    // (kernel, stride, pad, batch)
    (3, 1, 1, 2),
    (3, 2, 1, 2),
    (1, 1, 0, 2),
    (1, 2, 0, 3),
    (3, 2, 0, 1),
    (5, 1, 2, 1),
    (3, 1, 1, 5),
];

#[test]
fn forward_matches_naive() {
    for (t, &(k, s, p, n)) in CASES.iter().enumerate() {
        let g = ConvGeom::new(s, p);
        let x = rand_tensor([n, 3, 7, 6], t as u64);
        let w = rand_tensor([4, 3, k, k], 100 + t as u64);
        let b = rand_tensor([1, 1, 1, 4], 200 + t as u64).data;
        let y = conv2d_forward(&x, &w, Some(&b), g);
        let r = naive(&x, &w, &b, g);
        assert_eq!(y.len(), r.len());
        for (a, e) in y.data.iter().zip(&r) {
            assert!(
                (*a as f64 - e).abs() < 1e-4 * (1.0 + e.abs()),
                "case {t}: {a} vs {e}"
            );
        }
    }
}

#[test]
fn gradients_match_finite_differences() {
    for (t, &(k, s, p, n)) in CASES.iter().enumerate() {
        let g = ConvGeom::new(s, p);
        let x = rand_tensor([n, 3, 5, 5], 10 + t as u64);
        let w = rand_tensor([4, 3, k, k], 20 + t as u64);
        let b = rand_tensor([1, 1, 1, 4], 30 + t as u64).data;
        let y = conv2d_forward(&x, &w, Some(&b), g);
        let r = rand_tensor(y.shape, 40 + t as u64); // upstream gradient: L = sum(r * y)
        let mut dx = Tensor::zeros(x.shape);
        let mut dw = Tensor::zeros(w.shape);
        let mut db = vec![0.0; 4];
        conv2d_backward(&x, &w, &r, g, Some(&mut dx), &mut dw, Some(&mut db));
        let loss = |x: &Tensor, w: &Tensor, b: &[f32]| {
            dot(&conv2d_forward(x, w, Some(b), g).data, &r.data)
        };
        check_grad("dx", &x.data, &dx.data, 1e-2, 2e-3, |v| {
            loss(&Tensor::from_vec(x.shape, v.to_vec()), &w, &b)
        });
        check_grad("dw", &w.data, &dw.data, 1e-2, 2e-3, |v| {
            loss(&x, &Tensor::from_vec(w.shape, v.to_vec()), &b)
        });
        check_grad("db", &b, &db, 1e-2, 2e-3, |v| loss(&x, &w, v));
    }
}

#[test]
fn backward_accumulates() {
    let g = ConvGeom::new(2, 1);
    let x = rand_tensor([3, 2, 6, 6], 1);
    let w = rand_tensor([5, 2, 3, 3], 2);
    let dy = rand_tensor([3, 5, 3, 3], 3);
    let mut dx1 = Tensor::zeros(x.shape);
    let mut dw1 = Tensor::zeros(w.shape);
    let mut db1 = vec![0.0; 5];
    conv2d_backward(&x, &w, &dy, g, Some(&mut dx1), &mut dw1, Some(&mut db1));
    let (mut dx2, mut dw2, mut db2) = (dx1.clone(), dw1.clone(), db1.clone());
    conv2d_backward(&x, &w, &dy, g, Some(&mut dx2), &mut dw2, Some(&mut db2));
    for (a, b) in [(&dx1.data, &dx2.data), (&dw1.data, &dw2.data), (&db1, &db2)] {
        for (u, v) in a.iter().zip(b.iter()) {
            assert!((2.0 * u - v).abs() <= 1e-5 * (1.0 + v.abs()));
        }
    }
    // Without dx and db the weight gradient is the same.
    let mut dw3 = Tensor::zeros(w.shape);
    conv2d_backward(&x, &w, &dy, g, None, &mut dw3, None);
    assert_eq!(dw3.data, dw1.data);
}

/// With the ReLU: the same bits as the forward and then the in-place ReLU, on the im2col
/// path and on a Winograd-eligible 3x3.
#[test]
fn forward_relu_is_forward_then_relu() {
    for (shape, cout, g) in [
        ([3, 2, 6, 6], 5, ConvGeom::new(2, 1)),
        ([2, 16, 16, 16], 24, ConvGeom::new(1, 1)),
    ] {
        let x = rand_tensor(shape, 7);
        let w = rand_tensor([cout, shape[1], 3, 3], 8);
        let b = rand_tensor([1, 1, 1, cout], 9).data;
        let mut want = Tensor::default();
        conv2d_forward_into(&x, &w, Some(&b), g, &mut want);
        crate::backend::cpu::elementwise::relu_inplace(&mut want.data);
        let mut got = Tensor::from_vec([1, 1, 1, 2], vec![f32::NAN; 2]);
        conv2d_forward_relu_into(&x, &w, Some(&b), g, &mut got);
        let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        assert_eq!(got.shape, want.shape);
        assert_eq!(bits(&got.data), bits(&want.data), "{shape:?}");
        assert!(got.data.iter().any(|v| *v == 0.0) && got.data.iter().any(|v| *v > 0.0));
    }
}

/// Through the ReLU that made the input: the same bits as zeroing `dx`, accumulating and
/// masking, on the im2col path (stride 2, a 1x1) and on a Winograd-eligible 3x3.
#[test]
fn backward_relu_input_is_zero_accumulate_mask() {
    for (shape, cout, g) in [
        ([3, 2, 6, 6], 5, ConvGeom::new(2, 1)),
        ([2, 8, 5, 5], 4, ConvGeom::new(1, 0)),
        ([2, 16, 16, 16], 24, ConvGeom::new(1, 1)),
    ] {
        let mut x = rand_tensor(shape, 4);
        x.data.iter_mut().for_each(|v| *v = v.max(0.0));
        let k = if g.pad == 0 { 1 } else { 3 };
        let w = rand_tensor([cout, shape[1], k, k], 5);
        let (ho, wo) = conv2d_out_size(shape[2], shape[3], k, k, g);
        let dy = rand_tensor([shape[0], cout, ho, wo], 6);
        let (mut dw1, mut db1) = (Tensor::zeros(w.shape), vec![0.0; cout]);
        let mut want = Tensor::zeros(x.shape);
        conv2d_backward(&x, &w, &dy, g, Some(&mut want), &mut dw1, Some(&mut db1));
        crate::backend::cpu::elementwise::relu_mask_inplace(&x.data, &mut want.data);
        let (mut dw2, mut db2) = (Tensor::zeros(w.shape), vec![0.0; cout]);
        let mut got = Tensor::from_vec([1, 1, 1, 3], vec![f32::NAN; 3]);
        conv2d_backward_relu_input(&x, &w, &dy, g, &mut got, &mut dw2, Some(&mut db2));
        let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        assert_eq!(got.shape, x.shape);
        assert_eq!(bits(&got.data), bits(&want.data), "dx, {shape:?}");
        assert_eq!(bits(&dw2.data), bits(&dw1.data), "dw, {shape:?}");
        assert_eq!(bits(&db2), bits(&db1), "db, {shape:?}");
    }
}

#[test]
fn deterministic_bitwise() {
    for &(k, s, p) in &[(3, 1, 1), (3, 2, 1), (1, 1, 0)] {
        let g = ConvGeom::new(s, p);
        let x = rand_tensor([8, 16, 32, 32], 5);
        let w = rand_tensor([32, 16, k, k], 6);
        let b = vec![0.5; 32];
        let run = || {
            let y = conv2d_forward(&x, &w, Some(&b), g);
            let dy = Tensor::from_vec(y.shape, y.data.iter().map(|v| v.sin()).collect());
            let mut dx = Tensor::zeros(x.shape);
            let mut dw = Tensor::zeros(w.shape);
            let mut db = vec![0.0; 32];
            conv2d_backward(&x, &w, &dy, g, Some(&mut dx), &mut dw, Some(&mut db));
            (y, dx, dw, db)
        };
        let a = run();
        let b2 = run();
        let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&a.0.data), bits(&b2.0.data));
        assert_eq!(bits(&a.1.data), bits(&b2.1.data));
        assert_eq!(bits(&a.2.data), bits(&b2.2.data));
        assert_eq!(bits(&a.3), bits(&b2.3));
    }
    // Batch 1 takes the parallel-GEMM path.
    let x = rand_tensor([1, 64, 32, 32], 7);
    let w = rand_tensor([64, 64, 3, 3], 8);
    let g = ConvGeom::new(1, 1);
    let y1 = conv2d_forward(&x, &w, None, g);
    let y2 = conv2d_forward(&x, &w, None, g);
    assert_eq!(y1, y2);
}

#[allow(clippy::needless_range_loop)]
/// Direct backward in f64: `(dx, dw, db)` for upstream gradient `dy`.
fn naive_backward(
    x: &Tensor,
    w: &Tensor,
    dy: &Tensor,
    g: ConvGeom,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let [n, cin, h, wd] = x.shape;
    let [cout, _, kh, kw] = w.shape;
    let [_, _, ho, wo] = dy.shape;
    let (mut dx, mut dw, mut db) = (vec![0.0; x.len()], vec![0.0; w.len()], vec![0.0; cout]);
    for i in 0..n {
        for co in 0..cout {
            for oy in 0..ho {
                for ox in 0..wo {
                    let gy = dy.data[((i * cout + co) * ho + oy) * wo + ox] as f64;
                    db[co] += gy;
                    for ci in 0..cin {
                        for ky in 0..kh {
                            for kx in 0..kw {
                                let iy = (oy * g.stride + ky).wrapping_sub(g.pad);
                                let ix = (ox * g.stride + kx).wrapping_sub(g.pad);
                                if iy >= h || ix >= wd {
                                    continue;
                                }
                                let xi = ((i * cin + ci) * h + iy) * wd + ix;
                                let wi = ((co * cin + ci) * kh + ky) * kw + kx;
                                dx[xi] += w.data[wi] as f64 * gy;
                                dw[wi] += x.data[xi] as f64 * gy;
                            }
                        }
                    }
                }
            }
        }
    }
    (dx, dw, db)
}

#[test]
fn multi_band_matches_naive() {
    // K = 40 * 9 = 360 and Wo = 24 (or 12): the im2col is split into several row bands.
    for &(s, n) in &[(1usize, 2usize), (2, 3), (1, 1)] {
        let g = ConvGeom::new(s, 1);
        let x = rand_tensor([n, 40, 24, 24], 50 + s as u64);
        let w = rand_tensor([5, 40, 3, 3], 60);
        let b = vec![0.25; 5];
        let y = conv2d_forward(&x, &w, Some(&b), g);
        let dy = rand_tensor(y.shape, 70);
        let mut dx = Tensor::zeros(x.shape);
        let mut dw = Tensor::zeros(w.shape);
        let mut db = vec![0.0; 5];
        conv2d_backward(&x, &w, &dy, g, Some(&mut dx), &mut dw, Some(&mut db));
        let close = |a: &[f32], e: &[f64], what: &str| {
            for (a, e) in a.iter().zip(e) {
                assert!(
                    (*a as f64 - e).abs() < 1e-3 * (1.0 + e.abs()),
                    "{what}: {a} vs {e}"
                );
            }
        };
        close(&y.data, &naive(&x, &w, &b, g), "y");
        let (ex, ew, eb) = naive_backward(&x, &w, &dy, g);
        close(&dx.data, &ex, "dx");
        close(&dw.data, &ew, "dw");
        close(&db, &eb, "db");
    }
}

/// The stride-1 input gradient taken as a convolution with the flipped kernel (fewer output
/// than input channels, `conv.rs::dx_as_conv`) equals the direct sum and accumulates.
#[test]
fn input_gradient_as_convolution_matches_naive() {
    for &(k, p, n) in &[(3usize, 1usize, 2usize), (5, 2, 1), (3, 1, 3)] {
        let g = ConvGeom::new(1, p);
        let x = rand_tensor([n, 6, 9, 7], 80 + k as u64);
        let w = rand_tensor([2, 6, k, k], 90 + n as u64);
        let dy = rand_tensor([n, 2, 9, 7], 100);
        let mut dx = Tensor::from_vec(x.shape, vec![0.5; x.len()]);
        let mut dw = Tensor::zeros(w.shape);
        conv2d_backward(&x, &w, &dy, g, Some(&mut dx), &mut dw, None);
        let (ex, ew, _) = naive_backward(&x, &w, &dy, g);
        for (a, e) in dx.data.iter().zip(&ex) {
            assert!(
                (*a as f64 - 0.5 - e).abs() < 1e-4,
                "k {k} dx: {a} vs 0.5 + {e}"
            );
        }
        for (a, e) in dw.data.iter().zip(&ew) {
            assert!(
                (*a as f64 - e).abs() < 1e-4 * (1.0 + e.abs()),
                "k {k} dw: {a} vs {e}"
            );
        }
    }
}

/// Stride 2 (even / odd column split in im2col and col2im) on odd and even widths, every
/// padding the taps can have, against the direct f64 sums.
#[test]
fn stride2_matches_naive_on_odd_widths() {
    for &(k, p, wd) in &[
        (3usize, 1usize, 7usize),
        (3, 0, 9),
        (1, 0, 5),
        (5, 2, 11),
        (3, 1, 8),
        (4, 1, 7),
    ] {
        let g = ConvGeom::new(2, p);
        let x = rand_tensor([2, 3, 6, wd], 110 + k as u64);
        let w = rand_tensor([4, 3, k, k], 120 + p as u64);
        let b = vec![0.1; 4];
        let y = conv2d_forward(&x, &w, Some(&b), g);
        let dy = rand_tensor(y.shape, 130);
        let mut dx = Tensor::zeros(x.shape);
        let mut dw = Tensor::zeros(w.shape);
        conv2d_backward(&x, &w, &dy, g, Some(&mut dx), &mut dw, None);
        let (ex, ew, _) = naive_backward(&x, &w, &dy, g);
        let pairs: [(&[f32], Vec<f64>, &str); 3] = [
            (&y.data, naive(&x, &w, &b, g), "y"),
            (&dx.data, ex, "dx"),
            (&dw.data, ew, "dw"),
        ];
        for (a, e, what) in pairs {
            assert_eq!(a.len(), e.len());
            for (a, e) in a.iter().zip(&e) {
                assert!(
                    (*a as f64 - e).abs() < 1e-4 * (1.0 + e.abs()),
                    "k {k} p {p} w {wd} {what}: {a} vs {e}"
                );
            }
        }
    }
}

#[test]
fn same_bits_for_any_thread_count() {
    let g = ConvGeom::new(1, 1);
    for n in [1usize, 3] {
        let x = rand_tensor([n, 32, 20, 20], 80);
        let w = rand_tensor([48, 32, 3, 3], 81);
        let dy = rand_tensor([n, 48, 20, 20], 82);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let y = conv2d_forward(&x, &w, None, g);
                let mut dx = Tensor::zeros(x.shape);
                let mut dw = Tensor::zeros(w.shape);
                conv2d_backward(&x, &w, &dy, g, Some(&mut dx), &mut dw, None);
                (y, dx, dw)
            })
        };
        let bits = |r: &(Tensor, Tensor, Tensor)| {
            [&r.0.data, &r.1.data, &r.2.data]
                .map(|v| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>())
        };
        let one = bits(&run(1));
        for t in [2, 4] {
            assert!(
                bits(&run(t)) == one,
                "batch {n}: {t} threads differ from 1 thread"
            );
        }
    }
}

/// Per-layer timing of the default model's convolutions (batch 8 at 256 x 256): forward,
/// backward with dx and without, GFLOP/s. For tuning: `cargo test --release --lib
/// conv_layer_times -- --ignored --nocapture` (run it alone).
#[test]
#[ignore]
fn conv_layer_times() {
    use std::time::Instant;
    // (name, cin, cout, k, stride, pad, input size, needs dx)
    let layers: &[(&str, usize, usize, usize, usize, usize, usize, bool)] = &[
        ("backbone 1", 3, 16, 3, 2, 1, 256, false),
        ("backbone 2", 16, 32, 3, 2, 1, 128, true),
        ("backbone 3", 32, 64, 3, 2, 1, 64, true),
        ("backbone 4", 64, 128, 3, 2, 1, 32, true),
        ("backbone 5", 128, 128, 3, 2, 1, 16, true),
        ("lateral P3", 64, 64, 1, 1, 0, 32, true),
        ("3x3 64-64 P3", 64, 64, 3, 1, 1, 32, true),
        ("3x3 64-64 P4", 64, 64, 3, 1, 1, 16, true),
        ("3x3 64-64 P5", 64, 64, 3, 1, 1, 8, true),
        ("3x3 64-27 P3", 64, 27, 3, 1, 1, 32, true),
        ("3x3 64-36 P3", 64, 36, 3, 1, 1, 32, true),
        ("3x3 64-128 P3", 64, 128, 3, 1, 1, 32, true),
    ];
    let best = |f: &mut dyn FnMut()| {
        f();
        (0..15)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64() * 1e3
            })
            .fold(f64::INFINITY, f64::min)
    };
    use super::winograd::{WinogradTile, set_winograd_tile};
    set_winograd_tile(match std::env::var("WG_MODE").as_deref() {
        Ok("f2") => WinogradTile::F2,
        Ok("f4") => WinogradTile::F4,
        _ => WinogradTile::Off,
    });
    for &(name, cin, cout, k, s, p, hw, need_dx) in layers {
        let g = ConvGeom::new(s, p);
        let x = rand_tensor([8, cin, hw, hw], 1);
        let w = rand_tensor([cout, cin, k, k], 2);
        let y = conv2d_forward(&x, &w, None, g);
        let dy = rand_tensor(y.shape, 3);
        let mut dw = Tensor::zeros(w.shape);
        let mut dx = Tensor::zeros(x.shape);
        let f = best(&mut || {
            std::hint::black_box(conv2d_forward(&x, &w, None, g));
        });
        let b = best(&mut || {
            conv2d_backward(&x, &w, &dy, g, need_dx.then_some(&mut dx), &mut dw, None);
        });

        let bw = best(&mut || {
            conv2d_backward(&x, &w, &dy, g, None, &mut dw, None);
        });
        let gf = 2.0 * (cin * k * k * cout * y.shape[2] * y.shape[3] * 8) as f64 / 1e9;
        let nb = if need_dx { 2.0 } else { 1.0 };
        println!(
            "{name:14} fwd {f:6.2} ms ({:5.0} GFLOP/s)  bwd {b:6.2} ms ({:5.0} GFLOP/s), dW alone {bw:6.2} ms",
            gf / f * 1e3,
            nb * gf / b * 1e3
        );
    }
}

/// Share of im2col in the forward of the backbone's and the heads' shapes (one thread, one image, all
/// bands): `cargo test --release --lib im2col_share -- --ignored --nocapture`.
#[test]
#[ignore]
fn im2col_share() {
    use crate::backend::cpu::im2col::{Dims, im2col, unfoldable, unfoldable_len};
    use std::time::Instant;
    for &(cin, cout, hw, s) in &[
        (3usize, 16usize, 256usize, 2usize),
        (16, 32, 128, 2),
        (32, 64, 64, 2),
        (64, 64, 32, 1),
        (64, 64, 16, 1),
        (64, 64, 8, 1),
    ] {
        let g = ConvGeom::new(s, 1);
        let x = rand_tensor([1, cin, hw, hw], 1);
        let w = rand_tensor([cout, cin, 3, 3], 2);
        let d = Dims::new(&x, &w, g);
        let mut col = vec![0.0f32; d.k() * d.band_rows() * d.wo];
        let mut split = vec![0.0f32; unfoldable_len(&d)];
        let reps = 200;
        let t = Instant::now();
        for _ in 0..reps {
            let src = unfoldable(x.image(0), &d, &mut split);
            for rows in d.bands() {
                im2col(&src, &d, rows, &mut col);
            }
            std::hint::black_box(&col);
        }
        let i2c = t.elapsed().as_secs_f64() * 1e3 / reps as f64;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let t = Instant::now();
        pool.install(|| {
            for _ in 0..reps {
                std::hint::black_box(conv2d_forward(&x, &w, None, g));
            }
        });
        let all = t.elapsed().as_secs_f64() * 1e3 / reps as f64;
        println!(
            "{cin}->{cout} at {hw}, stride {s}: forward {all:.3} ms an image, im2col {i2c:.3} ms"
        );
    }
}
