//! Shapes, layout, parameter count, initialisation, determinism and config checks.

use super::*;
use crate::anchors::AnchorConfig;
use crate::losses::classification::prior_bias;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn small() -> ModelConfig {
    ModelConfig {
        backbone_channels: vec![8, 8, 16, 16, 16],
        fpn_channels: 8,
        ..ModelConfig::default()
    }
}

fn input(shape: [usize; 4], seed: u64) -> Tensor {
    Tensor::randn(shape, 1.0, &mut ChaCha8Rng::seed_from_u64(seed))
}

#[test]
fn default_matches_reference_param_count() {
    let m = Model::new(&ModelConfig::default(), 0).unwrap();
    let n = m.param_count();
    println!("default model: {n} parameters");
    // The tiny RetinaNet of tests/reference/README.md: torch counts 560,543 for
    // tests/reference/torch_reference.py's twin of this model (about 560k).
    assert_eq!(n, 560_543);
    assert!((550_000..570_000).contains(&n));
    let b = ModelConfig {
        balanced_fpn: true,
        ..ModelConfig::default()
    };
    let mb = Model::new(&b, 0).unwrap();
    assert_eq!(mb.param_count(), n + 64 * 64 * 9 + 64);
    // (32^2 + 16^2 + 8^2) locations x 9 anchors = 12,096 per 256 x 256 image (worked from
    // the strides; tests/reference/README.md, "Anchors").
    let cells: usize = ModelConfig::default()
        .level_sizes(256, 256)
        .iter()
        .map(|(h, w)| h * w)
        .sum();
    assert_eq!(cells * 9, 12_096);
}

#[test]
fn param_names_in_export_order() {
    let m = Model::new(
        &ModelConfig {
            balanced_fpn: true,
            ..ModelConfig::default()
        },
        0,
    )
    .unwrap();
    let names: Vec<&str> = m.params().map(|p| p.name.as_str()).collect();
    assert_eq!(names.len(), 2 * (5 + 3 + 3 + 1 + 3 + 3));
    assert_eq!(&names[..2], &["backbone.0.weight", "backbone.0.bias"]);
    for n in [
        "fpn.lateral.0.bias",
        "fpn.output.2.weight",
        "bfp.refine.weight",
    ] {
        assert!(names.contains(&n), "{n}");
    }
    assert_eq!(names[names.len() - 1], "head.reg.out.bias");
    assert!(names.contains(&"head.cls.out.weight") && names.contains(&"head.cls.1.bias"));
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), names.len(), "names are unique");
    let w = m.param("head.cls.out.weight").unwrap();
    assert_eq!(w.shape, vec![27, 64, 3, 3]);
    assert_eq!(m.param("head.reg.out.bias").unwrap().shape, vec![36]);
}

fn mean_std(v: &[f32]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().map(|&x| x as f64).sum::<f64>() / n;
    let var = v.iter().map(|&x| (x as f64 - m).powi(2)).sum::<f64>() / n;
    (m, var.sqrt())
}

#[test]
fn retinanet_initialisation() {
    let m = Model::new(&ModelConfig::default(), 7).unwrap();
    let prior = m.param("head.cls.out.bias").unwrap();
    assert!((prior_bias(0.01) - (-4.59512)).abs() < 1e-5);
    assert!(
        prior
            .value
            .data
            .iter()
            .all(|&b| b == prior_bias(0.01) as f32)
    );
    assert!(
        m.param("head.reg.out.bias")
            .unwrap()
            .value
            .data
            .iter()
            .all(|&b| b == 0.0)
    );
    for name in [
        "head.cls.0.weight",
        "head.cls.1.weight",
        "head.reg.0.weight",
        "head.cls.out.weight",
    ] {
        let (mean, std) = mean_std(&m.param(name).unwrap().value.data);
        println!("{name}: mean {mean:.2e} std {std:.5}");
        assert!(
            mean.abs() < 5e-4 && (std - 0.01).abs() < 5e-4,
            "{name}: {mean} {std}"
        );
    }
    // backbone: kaiming normal, fan_out = 32 * 9 for backbone.1
    let (_, std) = mean_std(&m.param("backbone.1.weight").unwrap().value.data);
    assert!((std - (2.0f64 / 288.0).sqrt()).abs() < 0.05 * std, "{std}");
    // FPN: kaiming uniform a=1, bound sqrt(3 / fan_in)
    let lat = &m.param("fpn.lateral.1.weight").unwrap().value.data;
    let bound = (3.0f32 / 128.0).sqrt();
    assert!(lat.iter().all(|v| v.abs() <= bound));
    assert!(lat.iter().any(|v| v.abs() > 0.9 * bound));
    assert!(
        m.param("fpn.output.0.bias")
            .unwrap()
            .value
            .data
            .iter()
            .all(|&b| b == 0.0)
    );
    // gradients start at zero
    assert!(m.params().all(|p| p.grad.data.iter().all(|&g| g == 0.0)));
}

#[test]
fn output_shapes_follow_anchor_levels() {
    for (h, w) in [(64, 64), (100, 76)] {
        let mut m = Model::new(&small(), 0).unwrap();
        let o = m.forward(&input([2, 3, h, w], 1));
        let anchors = AnchorConfig::default().generate(w as u32, h as u32);
        assert_eq!(o.cls.len(), 3);
        for (l, lv) in anchors.levels.iter().enumerate() {
            let (fh, fw) = (lv.feat_h as usize, lv.feat_w as usize);
            assert_eq!(o.cls[l].shape, [2, 27, fh, fw]);
            assert_eq!(o.reg[l].shape, [2, 36, fh, fw]);
        }
        assert_eq!(layout::anchors_per_image(&o), anchors.len());
        assert_eq!(
            small().level_sizes(h, w)[2],
            (h.div_ceil(32), w.div_ceil(32))
        );
        let (logits, deltas) = flatten_outputs(&o);
        assert_eq!(logits.len(), 2 * anchors.len() * 3);
        assert_eq!(deltas.len(), 2 * anchors.len() * 4);
        // initial scores sit near the prior
        let mean = logits.iter().map(|&v| v as f64).sum::<f64>() / logits.len() as f64;
        assert!((mean - prior_bias(0.01)).abs() < 0.05, "{mean}");
    }
    assert_eq!(
        AnchorConfig::default().strides,
        ModelConfig::default().strides()
    );
}

#[test]
fn flatten_layout_agrees_with_anchor_order() {
    let (n, h, w) = (2, 48, 72);
    let anchors = AnchorConfig::default().generate(w as u32, h as u32);
    let (a, c) = (9, 3);
    // value encodes (image, level, channel, y, x)
    let code = |i: usize, l: usize, ch: usize, y: usize, x: usize| {
        (((i * 10 + l) * 100 + ch) * 100 + y) as f32 * 100.0 + x as f32
    };
    let make = |k: usize| -> Vec<Tensor> {
        (anchors.levels.iter().enumerate())
            .map(|(l, lv)| {
                let (fh, fw) = (lv.feat_h as usize, lv.feat_w as usize);
                let mut t = Tensor::zeros([n, a * k, fh, fw]);
                for i in 0..n {
                    for ch in 0..a * k {
                        for y in 0..fh {
                            for x in 0..fw {
                                t.data[((i * a * k + ch) * fh + y) * fw + x] = code(i, l, ch, y, x);
                            }
                        }
                    }
                }
                t
            })
            .collect()
    };
    let o = HeadOutputs {
        cls: make(c),
        reg: make(4),
    };
    let (logits, deltas) = flatten_outputs(&o);
    for i in 0..n {
        for j in 0..anchors.len() {
            let meta = anchors.meta(j);
            let (x, y) = (meta.cell.0 as usize, meta.cell.1 as usize);
            let aa = meta.ratio_index * anchors.num_scales + meta.scale_index;
            let row = i * anchors.len() + j;
            for cc in 0..c {
                assert_eq!(logits[row * c + cc], code(i, meta.level, aa * c + cc, y, x));
            }
            for k in 0..4 {
                assert_eq!(deltas[row * 4 + k], code(i, meta.level, aa * 4 + k, y, x));
            }
        }
    }
    assert_eq!(unflatten_outputs(&logits, &deltas, &o), o);
}

fn run(cfg: &ModelConfig, seed: u64, x: &Tensor) -> (HeadOutputs, Vec<Vec<f32>>) {
    let mut m = Model::new(cfg, seed).unwrap();
    let mut o = m.forward(x);
    let mut d = o.zeros_like();
    let rng = &mut ChaCha8Rng::seed_from_u64(9);
    for t in d.cls.iter_mut().chain(&mut d.reg) {
        *t = Tensor::randn(t.shape, 1.0, rng);
    }
    for _ in 0..2 {
        // twice: reused buffers must not change anything
        m.zero_grad();
        o = m.forward(x);
        m.backward(&d);
    }
    (o, m.params().map(|p| p.grad.data.clone()).collect())
}

#[test]
fn deterministic_for_a_seed() {
    for balanced in [false, true] {
        let cfg = ModelConfig {
            balanced_fpn: balanced,
            ..small()
        };
        let x = input([3, 3, 64, 64], 2);
        let (o1, g1) = run(&cfg, 5, &x);
        let (o2, g2) = run(&cfg, 5, &x);
        let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        for (a, b) in o1
            .cls
            .iter()
            .chain(&o1.reg)
            .zip(o2.cls.iter().chain(&o2.reg))
        {
            assert_eq!(bits(&a.data), bits(&b.data));
        }
        for (a, b) in g1.iter().zip(&g2) {
            assert_eq!(bits(a), bits(b));
        }
        assert!(
            g1.iter().all(|g| g.iter().any(|&v| v != 0.0)),
            "every param gets a gradient"
        );
        let (o3, _) = run(&cfg, 6, &x);
        assert_ne!(o1, o3);
    }
}

/// Taking the batch by swapping buffers gives the outputs and gradients of the copying
/// forward, over two batches (the second swap hands back the first batch's buffer).
#[test]
fn forward_swapping_matches_forward() {
    let (mut a, mut b) = (
        Model::new(&small(), 5).unwrap(),
        Model::new(&small(), 5).unwrap(),
    );
    let bits = |o: &HeadOutputs| -> Vec<u32> {
        o.cls
            .iter()
            .chain(&o.reg)
            .flat_map(|t| t.data.iter().map(|v| v.to_bits()))
            .collect()
    };
    for seed in [6, 7] {
        let x = input([2, 3, 32, 32], seed);
        let want = a.forward(&x);
        let mut held = x.clone();
        let mut got = HeadOutputs::default();
        b.forward_swapping_on(&mut crate::backend::cpu::Cpu, &mut held, &mut got);
        assert_eq!(bits(&got), bits(&want), "batch {seed}");
        if seed == 7 {
            assert_eq!(
                held.data,
                input([2, 3, 32, 32], 6).data,
                "the earlier batch's buffer"
            );
        }
        let mut d = want.zeros_like();
        d.cls
            .iter_mut()
            .chain(&mut d.reg)
            .for_each(|t| t.data.fill(0.25));
        (a.zero_grad(), b.zero_grad());
        (a.backward(&d), b.backward(&d));
        let grads = |m: &Model| -> Vec<u32> {
            m.params()
                .flat_map(|p| p.grad.data.iter().map(|v| v.to_bits()))
                .collect()
        };
        assert_eq!(grads(&b), grads(&a), "gradients, batch {seed}");
    }
}

#[test]
fn backward_accumulates_and_zero_grad_resets() {
    let mut m = Model::new(&small(), 3).unwrap();
    let x = input([2, 3, 32, 32], 4);
    let o = m.forward(&x);
    let mut d = o.zeros_like();
    d.cls
        .iter_mut()
        .chain(&mut d.reg)
        .for_each(|t| t.data.fill(0.5));
    m.backward(&d);
    let g1: Vec<f32> = m.params().flat_map(|p| p.grad.data.clone()).collect();
    m.backward(&d);
    let g2: Vec<f32> = m.params().flat_map(|p| p.grad.data.clone()).collect();
    for (a, b) in g1.iter().zip(&g2) {
        assert!((b - 2.0 * a).abs() <= 1e-5 * a.abs().max(1e-3), "{a} {b}");
    }
    m.zero_grad();
    assert!(m.params().all(|p| p.grad.data.iter().all(|&g| g == 0.0)));
}

#[test]
fn config_serde_and_validation() {
    let c: ModelConfig = toml::from_str("balanced_fpn = true\nnum_classes = 5").unwrap();
    assert!(c.balanced_fpn && c.num_classes == 5 && c.fpn_channels == 64);
    let back: ModelConfig = toml::from_str(&toml::to_string(&c).unwrap()).unwrap();
    assert_eq!(back, c);
    assert!(toml::from_str::<ModelConfig>("fpn_chanels = 3").is_err());
    let bad = ModelConfig {
        first_level: 6,
        ..ModelConfig::default()
    };
    assert!(Model::new(&bad, 0).unwrap_err().contains("first_level"));
    let bad = ModelConfig {
        num_classes: 0,
        ..ModelConfig::default()
    };
    assert!(bad.validate().unwrap_err().contains("num_classes"));
}

/// Step timing of the default model at batch 8, 256x256 (run with `--ignored --nocapture`).
#[test]
#[ignore]
fn bench_default_step() {
    let threads = rayon::current_num_threads();
    println!("model step, batch 8 at 256x256, {threads} threads (best of 5)");
    println!("| model | forward ms | backward ms | fwd+bwd ms | PyTorch full step |");
    println!("|---|---|---|---|---|");
    for balanced in [false, true] {
        let cfg = ModelConfig {
            balanced_fpn: balanced,
            ..ModelConfig::default()
        };
        let t = bench_step(&cfg, 8, 256, 5);
        let name = if balanced { "default + BFP" } else { "default" };
        println!(
            "| {name} | {:.1} | {:.1} | {:.1} | 85 (incl. SGD) |",
            t.forward_ms, t.backward_ms, t.total_ms
        );
    }
    // The same convolutions timed alone (backend::cpu::bench): what is left is model overhead.
    let rows = crate::backend::cpu::bench_conv_shapes(8, 3);
    let sum = |f: fn(&crate::backend::cpu::ConvBenchRow) -> f64| -> f64 {
        rows.iter().map(|r| f(r) * r.count as f64).sum()
    };
    let (f, b) = (sum(|r| r.fwd_ms), sum(|r| r.bwd_ms));
    println!("| convolutions alone | {f:.1} | {b:.1} | {:.1} | |", f + b);
}

#[test]
fn the_pyramid_follows_the_anchor_strides() {
    let d = ModelConfig::default();
    assert_eq!(d.for_strides(&[8, 16, 32]).unwrap(), d);
    // P3-P6: a sixth stride-2 stage of the last width (128)
    let p6 = d.for_strides(&[8, 16, 32, 64]).unwrap();
    assert_eq!(p6.backbone_channels, vec![16, 32, 64, 128, 128, 128]);
    assert_eq!(p6.strides(), vec![8, 16, 32, 64]);
    // P4-P5: first level 4, the five stages kept
    let p45 = d.for_strides(&[16, 32]).unwrap();
    assert_eq!((p45.first_level, p45.strides()), (4, vec![16, 32]));
    // P2-P4: the backbone cut to 4 stages
    let p24 = d.for_strides(&[4, 8, 16]).unwrap();
    assert_eq!(p24.backbone_channels, vec![16, 32, 64, 128]);
    for bad in [&[8, 24][..], &[], &[1, 2], &[8, 32]] {
        let e = d.for_strides(bad).unwrap_err();
        assert!(e.contains("consecutive powers of two"), "{e}");
    }
    // a model built from it runs (anchors per location, classes unchanged)
    assert!(Model::new(&p6, 0).is_ok());
}
