//! Winograd F(2x2) and F(4x4) against a direct 3x3 convolution in f64 (values and all three
//! gradients), finite differences of the Winograd forward, accumulation, and the same bits
//! for any thread count.

use super::*;
use crate::backend::cpu::test_support::{check_grad, dot, rand_tensor};

/// Direct stride-1 pad-1 3x3 convolution in f64: `(y, dx, dw, db)` for upstream `dy`.
#[allow(clippy::type_complexity)]
fn direct(
    x: &Tensor,
    w: &Tensor,
    b: &[f32],
    dy: &Tensor,
) -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
    let [n, cin, h, wd] = x.shape;
    let cout = w.shape[0];
    let mut y = vec![0.0f64; n * cout * h * wd];
    let (mut dx, mut dw, mut db) = (vec![0.0; x.len()], vec![0.0; w.len()], vec![0.0; cout]);
    for i in 0..n {
        for co in 0..cout {
            for oy in 0..h {
                for ox in 0..wd {
                    let yi = ((i * cout + co) * h + oy) * wd + ox;
                    let gy = dy.data[yi] as f64;
                    let mut acc = b[co] as f64;
                    db[co] += gy;
                    for ci in 0..cin {
                        for ky in 0..3 {
                            for kx in 0..3 {
                                let (iy, ix) =
                                    ((oy + ky).wrapping_sub(1), (ox + kx).wrapping_sub(1));
                                if iy >= h || ix >= wd {
                                    continue;
                                }
                                let xi = ((i * cin + ci) * h + iy) * wd + ix;
                                let wi = ((co * cin + ci) * 3 + ky) * 3 + kx;
                                acc += x.data[xi] as f64 * w.data[wi] as f64;
                                dx[xi] += w.data[wi] as f64 * gy;
                                dw[wi] += x.data[xi] as f64 * gy;
                            }
                        }
                    }
                    y[yi] = acc;
                }
            }
        }
    }
    (y, dx, dw, db)
}

fn dims(x: &Tensor, w: &Tensor) -> Dims {
    Dims::new(x, w, ConvGeom::new(1, 1))
}

fn fwd<T: Tile>(x: &Tensor, w: &Tensor, b: &[f32]) -> Tensor {
    let mut y = Tensor::zeros([x.shape[0], w.shape[0], x.shape[2], x.shape[3]]);
    forward_t::<T>(x, w, Store::Bias(Some(b)), &dims(x, w), &mut y);
    y
}

/// `|a - e| <= tol * max|e|` elementwise: the error relative to the tensor's scale.
fn close(a: &[f32], e: &[f64], tol: f64, what: &str) {
    assert_eq!(a.len(), e.len(), "{what}: length");
    let scale = e.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-30);
    let worst = (a.iter().zip(e)).fold(0.0f64, |m, (a, e)| m.max((*a as f64 - e).abs()));
    assert!(
        worst <= tol * scale,
        "{what}: max error {worst} vs scale {scale}"
    );
}

/// Shapes: odd and even sizes (partial tiles), a 1x1 plane, the model's head shape.
const SHAPES: &[([usize; 4], usize)] = &[
    ([2, 16, 7, 5], 16),
    ([1, 17, 9, 9], 20),
    ([3, 16, 1, 1], 16),
    ([2, 24, 8, 8], 27),
    ([2, 64, 16, 16], 36),
];

fn check_against_direct<T: Tile>(tol: f64) {
    for (t, &(shape, cout)) in SHAPES.iter().enumerate() {
        let x = rand_tensor(shape, 10 + t as u64);
        let w = rand_tensor([cout, shape[1], 3, 3], 20 + t as u64);
        let b = rand_tensor([1, 1, 1, cout], 30 + t as u64).data;
        let dy = rand_tensor([shape[0], cout, shape[2], shape[3]], 40 + t as u64);
        let (ey, edx, edw, edb) = direct(&x, &w, &b, &dy);
        close(&fwd::<T>(&x, &w, &b).data, &ey, tol, "y");
        // Accumulates on top of what the buffers hold.
        let mut dx = Tensor::from_vec(x.shape, vec![1.0; x.len()]);
        let mut dw = Tensor::from_vec(w.shape, vec![1.0; w.len()]);
        let mut db = vec![1.0; cout];
        backward_t::<T>(
            &x,
            &w,
            &dy,
            &dims(&x, &w),
            Some(InputGrad::Add(&mut dx)),
            &mut dw,
            Some(&mut db),
        );
        let plus1 = |v: Vec<f64>| v.into_iter().map(|e| e + 1.0).collect::<Vec<_>>();
        close(&dx.data, &plus1(edx), tol, "dx");
        close(&dw.data, &plus1(edw), tol, "dw");
        close(&db, &plus1(edb), 1e-5, "db");
    }
}

/// Every instruction set this CPU has (AVX-512, AVX2, the portable loops).
fn each_simd(f: impl Fn()) {
    for simd in Simd::all_available() {
        Simd::forced(simd, &f);
    }
}

#[test]
fn f2_matches_direct_convolution() {
    each_simd(|| check_against_direct::<F2>(1e-5));
}

#[test]
fn f4_matches_direct_convolution() {
    // Measured worst error about 1e-6 of the scale; the bound leaves room.
    each_simd(|| check_against_direct::<F4>(2e-5));
}

/// The masked input-gradient store against accumulating into zeros and then the ReLU's
/// backward mask: the same bits, under every instruction set, for both tiles.
fn masked_input_grad_is_add_then_mask<T: Tile>() {
    for (t, &(shape, cout)) in SHAPES.iter().enumerate() {
        // A ReLU's output: about half the values exactly zero.
        let mut x = rand_tensor(shape, 50 + t as u64);
        x.data.iter_mut().for_each(|v| *v = v.max(0.0));
        let w = rand_tensor([cout, shape[1], 3, 3], 60 + t as u64);
        let dy = rand_tensor([shape[0], cout, shape[2], shape[3]], 70 + t as u64);
        let d = dims(&x, &w);
        let mut want = Tensor::zeros(x.shape);
        let (mut dw1, mut dw2) = (Tensor::zeros(w.shape), Tensor::zeros(w.shape));
        backward_t::<T>(
            &x,
            &w,
            &dy,
            &d,
            Some(InputGrad::Add(&mut want)),
            &mut dw1,
            None,
        );
        crate::backend::cpu::elementwise::relu_mask_inplace(&x.data, &mut want.data);
        let mut got = Tensor::from_vec(x.shape, vec![f32::NAN; x.len()]);
        let dx = Some(InputGrad::MaskedByInput(&mut got));
        backward_t::<T>(&x, &w, &dy, &d, dx, &mut dw2, None);
        let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&got.data), bits(&want.data), "dx of shape {shape:?}");
        assert_eq!(bits(&dw2.data), bits(&dw1.data), "dw of shape {shape:?}");
    }
}

#[test]
fn masked_input_grad_matches_add_then_mask() {
    each_simd(masked_input_grad_is_add_then_mask::<F2>);
    each_simd(masked_input_grad_is_add_then_mask::<F4>);
}

#[test]
fn eligible_shapes() {
    let x = rand_tensor([2, 32, 16, 16], 1);
    assert!(eligible(&dims(&x, &rand_tensor([40, 32, 3, 3], 2))));
    assert!(!eligible(&dims(&x, &rand_tensor([8, 32, 3, 3], 3))));
    let small = rand_tensor([2, 32, 15, 16], 1);
    assert!(!eligible(&dims(&small, &rand_tensor([40, 32, 3, 3], 2))));
    let g = ConvGeom::new(2, 1);
    assert!(!eligible(&Dims::new(
        &x,
        &rand_tensor([40, 32, 3, 3], 2),
        g
    )));
}

#[test]
fn gradients_match_finite_differences() {
    fn run<T: Tile>() {
        let x = rand_tensor([2, 16, 5, 6], 50);
        let w = rand_tensor([16, 16, 3, 3], 51);
        let b = rand_tensor([1, 1, 1, 16], 52).data;
        let r = rand_tensor([2, 16, 5, 6], 53); // L = sum(r * y)
        let mut dx = Tensor::zeros(x.shape);
        let mut dw = Tensor::zeros(w.shape);
        let mut db = vec![0.0; 16];
        backward_t::<T>(
            &x,
            &w,
            &r,
            &dims(&x, &w),
            Some(InputGrad::Add(&mut dx)),
            &mut dw,
            Some(&mut db),
        );
        let loss = |x: &Tensor, w: &Tensor, b: &[f32]| dot(&fwd::<T>(x, w, b).data, &r.data);
        // L is linear in each value, so a central difference is exact for any step: a large
        // one (0.5) keeps the f32 rounding of the forward out of the quotient.
        check_grad("dx", &x.data, &dx.data, 0.5, 1e-3, |v| {
            loss(&Tensor::from_vec(x.shape, v.to_vec()), &w, &b)
        });
        check_grad("dw", &w.data, &dw.data, 0.5, 1e-3, |v| {
            loss(&x, &Tensor::from_vec(w.shape, v.to_vec()), &b)
        });
        check_grad("db", &b, &db, 0.5, 1e-3, |v| loss(&x, &w, v));
    }
    each_simd(|| {
        run::<F2>();
        run::<F4>();
    });
}

#[test]
fn same_bits_for_any_thread_count() {
    let x = rand_tensor([3, 32, 20, 20], 80);
    let w = rand_tensor([48, 32, 3, 3], 81);
    let dy = rand_tensor([3, 48, 20, 20], 82);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let y = fwd::<Chosen>(&x, &w, &[0.0; 48]);
            let mut dx = Tensor::zeros(x.shape);
            let mut dw = Tensor::zeros(w.shape);
            let mut db = vec![0.0; 48];
            backward_t::<Chosen>(
                &x,
                &w,
                &dy,
                &dims(&x, &w),
                Some(InputGrad::Add(&mut dx)),
                &mut dw,
                Some(&mut db),
            );
            let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
            [bits(&y.data), bits(&dx.data), bits(&dw.data), bits(&db)]
        })
    };
    let one = run(1);
    for t in [2, 3] {
        assert!(run(t) == one, "{t} threads differ from 1 thread");
    }
}

/// A/B of the algorithms on the model's forward + backward (batch 8 at 256 x 256), rounds
/// alternating, medians: `cargo test --release --lib winograd_ab -- --ignored --nocapture`
/// (run it alone: it switches the process-wide algorithm).
#[test]
#[ignore]
fn winograd_ab() {
    use crate::model::{ModelConfig, bench_step};
    let all = [WinogradTile::Off, WinogradTile::F2, WinogradTile::F4];
    // WG_MODE=off|f2|f4 runs one mode only (for `perf stat`).
    let modes: Vec<WinogradTile> = match std::env::var("WG_MODE").as_deref() {
        Ok("off") => vec![all[0]],
        Ok("f2") => vec![all[1]],
        Ok("f4") => vec![all[2]],
        _ => all.to_vec(),
    };
    let mut ms: Vec<Vec<f64>> = vec![Vec::new(); modes.len()];
    for _ in 0..7 {
        for (k, &m) in modes.iter().enumerate() {
            set_winograd_tile(m);
            ms[k].push(bench_step(&ModelConfig::default(), 8, 256, 1).total_ms);
        }
    }
    set_winograd_tile(WinogradTile::F4);
    for (k, m) in modes.iter().enumerate() {
        ms[k].sort_by(f64::total_cmp);
        println!("{m:?}: median forward + backward {:.1} ms", ms[k][3]);
    }
}

/// Times of the pieces of one F(4x4) forward and weight gradient (64 -> 64 at 32 x 32,
/// batch 8), best of 20: `cargo test --release --lib winograd_phase_times -- --ignored
/// --nocapture` (run it alone).
#[test]
#[ignore]
fn winograd_phase_times() {
    type T = F4;
    for hw in [32, 16, 8] {
        let x = rand_tensor([8, 64, hw, hw], 1);
        let w = rand_tensor([64, 64, 3, 3], 2);
        let d = dims(&x, &w);
        let g = Grid::new::<T>(&d);
        let cp = padded(64);
        let best = |f: &mut dyn FnMut()| {
            f();
            (0..20)
                .map(|_| {
                    let t = std::time::Instant::now();
                    f();
                    t.elapsed().as_secs_f64() * 1e3
                })
                .fold(f64::INFINITY, f64::min)
        };
        let mut xl = vec![0.0; g.n * g.hp * g.wp * cp];
        let t_in = best(&mut || to_channels_last(Simd::detect(), &x.data, 64, cp, &g, &mut xl));
        let mut u = Vec::new();
        let t_u = best(&mut || u = kernel_freqs::<T>(&w, cp));
        let c = Conv {
            simd: Simd::detect(),
            g,
            cin: 64,
            cinp: cp,
            coutp: cp,
            u: &u,
        };
        let mut yl = vec![0.0; g.out_len(cp)];
        let t_tiles = best(&mut || tiles_forward::<T>(&c, &xl, &mut yl));
        let mut y = Tensor::zeros(x.shape);
        let t_out = best(&mut || {
            from_channels_last(
                Simd::detect(),
                &yl,
                64,
                cp,
                &g,
                Store::Bias(None),
                &mut y.data,
            )
        });
        let mut dw = Tensor::zeros(w.shape);
        let t_dw = best(&mut || weight_grad::<T>(&x, &xl, &d, &mut dw));
        println!(
            "{hw}x{hw}: to channels-last {t_in:.3} ms, kernel freqs {t_u:.3}, tiles {t_tiles:.3}, \
             from channels-last {t_out:.3}; weight grad (incl. its copy of x) {t_dw:.3}"
        );
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn input_only(xl: &[f32], g: &Grid, rows: std::ops::Range<usize>, v: &mut [f32]) {
    let tb = rows.len() * g.ntx;
    input_tiles::<F4>(xl, g, 64, rows, freq_stride(tb, 64), v);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn output_only(g: &Grid, tb: usize, mbuf: &[f32], out: &mut [f32]) {
    let wq = g.ntx * 4;
    for j in 0..tb {
        let (rr, tx) = (j / g.ntx, j % g.ntx);
        for q in (0..64).step_by(16) {
            let p = Place {
                at: (rr * 4 * wq + tx * 4) * 64 + q,
                rs: wq * 64,
                cs: 64,
            };
            F4::output(mbuf, j * 64 + q, freq_stride(tb, 64), out, p);
        }
    }
}

/// Single-thread times of the F(4x4) forward's pieces over all blocks (64 -> 64 at 32 x 32,
/// batch 8; AVX-512 CPUs only): `cargo test --release --lib winograd_piece_times -- --ignored
/// --nocapture`.
#[cfg(target_arch = "x86_64")]
#[test]
#[ignore]
fn winograd_piece_times() {
    use transform::Place;
    if !std::arch::is_x86_feature_detected!("avx512f") {
        println!("winograd_piece_times: its pieces are compiled for AVX-512, which this CPU lacks");
        return;
    }
    let _ = Place {
        at: 0,
        rs: 0,
        cs: 0,
    };
    let x = rand_tensor([8, 64, 32, 32], 1);
    let w = rand_tensor([64, 64, 3, 3], 2);
    let d = dims(&x, &w);
    let g = Grid::new::<F4>(&d);
    let mut xl = vec![0.0; g.n * g.hp * g.wp * 64];
    to_channels_last(Simd::detect(), &x.data, 64, 64, &g, &mut xl);
    let u = kernel_freqs::<F4>(&w, 64);
    let rpb = g.rows_per_block(FORWARD_TILES);
    let tb = rpb * g.ntx;
    let mut v = vec![0.0; 36 * freq_stride(tb, 64)];
    let mut m = vec![0.0; 36 * freq_stride(tb, 64)];
    let mut out = vec![0.0; g.out_len(64)];
    let blocks = g.rows() / rpb;
    let time = |f: &mut dyn FnMut()| {
        f();
        let t = std::time::Instant::now();
        for _ in 0..10 {
            f();
        }
        t.elapsed().as_secs_f64() * 100.0
    };
    let t_in = time(&mut || {
        for b in 0..blocks {
            unsafe { input_only(&xl, &g, b * rpb..(b + 1) * rpb, &mut v) };
        }
    });
    let p = Product {
        m: tb,
        n: 64,
        k: 64,
        a_rs: 64,
        a_cs: 1,
        b_rs: 64,
        c_rs: 64,
        accumulate: false,
    };
    let t_p = time(&mut || {
        for _ in 0..blocks {
            for xi in 0..36 {
                let fs = freq_stride(tb, 64);
                p.run(
                    Simd::detect(),
                    &v[xi * fs..][..tb * 64],
                    &u[xi * 64 * 64..][..64 * 64],
                    &mut m[xi * fs..][..tb * 64],
                );
            }
        }
    });
    let row_len = 16 * g.ntx * 64;
    let t_out = time(&mut || {
        for b in 0..blocks {
            unsafe { output_only(&g, tb, &m, &mut out[b * rpb * row_len..][..rpb * row_len]) };
        }
    });
    println!(
        "{blocks} blocks of {tb} tiles, one thread: input transform {t_in:.3} ms, products {t_p:.3} ms, output transform {t_out:.3} ms"
    );
}

/// The whole model's outputs and parameter gradients with F(4x4) against im2col + GEMM, at
/// initialisation on a random batch: the largest difference relative to each tensor's
/// largest value. `cargo test --release --lib winograd_model_agrees -- --ignored
/// --nocapture` (run it alone: it switches the process-wide algorithm).
#[test]
#[ignore]
fn winograd_model_agrees() {
    use crate::model::{HeadOutputs, Model, ModelConfig};
    use rand::SeedableRng;
    let cfg = ModelConfig::default();
    let rng = &mut rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let x = Tensor::randn([4, cfg.in_channels, 256, 256], 1.0, rng);
    let run = |t: WinogradTile| {
        set_winograd_tile(t);
        let mut model = Model::new(&cfg, 0).unwrap();
        let mut out = HeadOutputs::default();
        model.forward_into(&x, &mut out);
        let mut g = out.zeros_like();
        for (k, t) in g.cls.iter_mut().chain(&mut g.reg).enumerate() {
            for (i, v) in t.data.iter_mut().enumerate() {
                *v = (((i * 7 + k * 13) % 17) as f32 - 8.0) * 1e-3;
            }
        }
        model.zero_grad();
        model.backward(&g);
        let mut tensors: Vec<Vec<f32>> = out
            .cls
            .iter()
            .chain(&out.reg)
            .map(|t| t.data.clone())
            .collect();
        tensors.extend(model.params().map(|p| p.grad.data.clone()));
        tensors
    };
    let (a, b) = (run(WinogradTile::Off), run(WinogradTile::F4));
    set_winograd_tile(WinogradTile::F4);
    let mut worst = 0.0f64;
    for (k, (a, b)) in a.iter().zip(&b).enumerate() {
        let scale = a.iter().fold(0.0f32, |m, v| m.max(v.abs())).max(1e-30) as f64;
        let diff = a
            .iter()
            .zip(b)
            .fold(0.0f32, |m, (x, y)| m.max((x - y).abs())) as f64;
        println!(
            "tensor {k}: max |diff| / max |value| = {:.2e}",
            diff / scale
        );
        worst = worst.max(diff / scale);
    }
    assert!(
        worst < 1e-3,
        "F(4x4) and im2col + GEMM differ by {worst:.2e}"
    );
}
