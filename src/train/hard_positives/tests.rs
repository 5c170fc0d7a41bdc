//! Hard positives: the patch search on hand-made gradients, the rotation on hand-placed
//! pixels, the input gradient on the GPU against the CPU, and short training runs.

use super::patch::{PixelRect, best_patch, gain_map, starts};
use super::rotate::{rotate_batch, rotate_in_box};
use super::*;
use crate::data::{Dataset, SyntheticConfig, SyntheticDataset};
use crate::geometry::Box4;
use crate::model::ModelConfig;
use crate::train::Trainer;
use crate::train::input::{GREY, images_to_tensor, normalise};
use std::sync::Arc;

/// A `w x h` image of one value, with boxes `boxes` (the last `crowd` of them crowd).
fn flat_sample(w: u32, h: u32, v: u8, boxes: &[Box4], crowd: usize) -> Sample {
    let n = boxes.len();
    Sample {
        image: image::RgbImage::from_pixel(w, h, image::Rgb([v; 3])),
        boxes: boxes.to_vec(),
        classes: vec![0; n],
        crowd: (0..n).map(|i| i >= n - crowd).collect(),
    }
}

/// The input planes of one sample and a gradient that is `g` on the pixels of `hot` (every
/// channel), 0 elsewhere.
fn planes(s: &Sample, hot: PixelRect, g: f32) -> (Vec<f32>, Vec<f32>) {
    let x = images_to_tensor(&[&s.image]).data;
    let w = s.image.width() as usize;
    let hw = x.len() / 3;
    let grad = (0..x.len())
        .map(|i| {
            let p = i % hw;
            if hot.contains(p % w, p / w) { g } else { 0.0 }
        })
        .collect();
    (x, grad)
}

#[test]
fn pixel_spans_and_patch_grid() {
    let r = PixelRect::of_box(&[2.0, 2.0, 6.0, 6.0], 10, 10).unwrap();
    assert_eq!((r.x0, r.y0, r.x1, r.y1), (2, 2, 6, 6));
    // a pixel belongs to a box when its centre does; boxes are clipped to the image
    let r = PixelRect::of_box(&[1.6, -3.0, 12.0, 2.4], 10, 10).unwrap();
    assert_eq!((r.x0, r.y0, r.x1, r.y1), (2, 0, 10, 2));
    assert_eq!(PixelRect::of_box(&[3.1, 3.1, 3.4, 8.0], 10, 10), None);
    // patch 8 in 24: half-patch steps, the last flush with the end
    assert_eq!(starts(24, 8), [0, 4, 8, 12, 16]);
    assert_eq!(starts(10, 4), [0, 2, 4, 6]);
    assert_eq!(starts(7, 3), [0, 1, 2, 3, 4]);
    assert_eq!(starts(9, 4), [0, 2, 4, 5]);
    assert_eq!(starts(5, 5), [0]);
}

#[test]
fn the_patch_over_a_hot_region_is_chosen_and_filled() {
    // box 24 x 24 pixels at (3, 3); patch 1/3: 8 x 8 on a grid of 4; the hot patch at grid
    // offset (8, 4), i.e. pixels x 11..19, y 7..15
    let hot = PixelRect {
        x0: 11,
        y0: 7,
        x1: 19,
        y1: 15,
    };
    let mut s = flat_sample(30, 30, 64, &[[3.0, 3.0, 27.0, 27.0]], 0);
    let (x, g) = planes(&s, hot, 1.0);
    let f = normalise(GREY);
    let gain = gain_map(&g, &x, 900, f);
    let one = 3.0 * (f - normalise(64)) as f64;
    assert!(
        (gain[7 * 30 + 11] - one).abs() < 1e-9,
        "{}",
        gain[7 * 30 + 11]
    );
    assert_eq!(gain[7 * 30 + 10], 0.0);
    let area = PixelRect::of_box(&s.boxes[0], 30, 30).unwrap();
    let (r, best) = best_patch(&gain, 30, area, 1.0 / 3.0);
    assert_eq!(r, hot);
    assert!((best - 64.0 * one).abs() < 1e-6, "{best}");
    let filled = occlude::occlude_image(&mut s, &g, &x, 1.0 / 3.0);
    assert_eq!(filled, [hot]);
    for (px, py, p) in s.image.enumerate_pixels() {
        let want = if hot.contains(px as usize, py as usize) {
            GREY
        } else {
            64
        };
        assert_eq!(p.0, [want; 3], "pixel ({px}, {py})");
    }
}

#[test]
fn a_one_pixel_patch_fills_exactly_the_hottest_pixel() {
    // box 3 x 3 pixels, patch 1/3: one pixel; the gradient favours (5, 6)
    let hot = PixelRect {
        x0: 5,
        y0: 6,
        x1: 6,
        y1: 7,
    };
    let mut s = flat_sample(10, 10, 200, &[[4.0, 5.0, 7.0, 8.0]], 0);
    // filling 200 with grey lowers the input, so a negative gradient raises the loss
    let (x, g) = planes(&s, hot, -0.5);
    let filled = occlude::occlude_image(&mut s, &g, &x, 1.0 / 3.0);
    assert_eq!(filled, [hot]);
    assert_eq!(s.image.get_pixel(5, 6).0, [GREY; 3]);
    let changed = s.image.pixels().filter(|p| p.0 != [200; 3]).count();
    assert_eq!(changed, 1, "only the one pixel");
}

#[test]
fn a_gradient_of_the_other_sign_is_not_chosen() {
    let hot = PixelRect {
        x0: 11,
        y0: 7,
        x1: 19,
        y1: 15,
    };
    let mut s = flat_sample(30, 30, 64, &[[3.0, 3.0, 27.0, 27.0]], 0);
    let (x, g) = planes(&s, hot, -1.0);
    let gain = gain_map(&g, &x, 900, normalise(GREY));
    let area = PixelRect::of_box(&s.boxes[0], 30, 30).unwrap();
    let (r, best) = best_patch(&gain, 30, area, 1.0 / 3.0);
    assert_ne!(r, hot);
    assert_eq!(best, 0.0, "the best patch misses the region");
    // no patch raises the estimated loss: nothing is filled
    assert!(occlude::occlude_image(&mut s, &g, &x, 1.0 / 3.0).is_empty());
    assert!(s.image.pixels().all(|p| p.0 == [64; 3]));
}

#[test]
fn crowd_boxes_are_not_occluded() {
    let hot = PixelRect {
        x0: 11,
        y0: 7,
        x1: 19,
        y1: 15,
    };
    let mut s = flat_sample(30, 30, 64, &[[3.0, 3.0, 27.0, 27.0]], 1);
    let (x, g) = planes(&s, hot, 1.0);
    assert!(occlude::occlude_image(&mut s, &g, &x, 1.0 / 3.0).is_empty());
}

/// A 10 x 10 image whose pixel (x, y) has red x, green y, blue 7.
fn coordinates_image() -> image::RgbImage {
    image::RgbImage::from_fn(10, 10, |x, y| image::Rgb([x as u8, y as u8, 7]))
}

#[test]
fn rotation_by_zero_is_the_identity() {
    let src = image::RgbImage::from_fn(17, 13, |x, y| {
        image::Rgb([(x * 13 + y * 7) as u8, (x * y) as u8, (255 - x) as u8])
    });
    for b in [
        [2.3, 1.7, 14.2, 11.9],
        [0.0, 0.0, 17.0, 13.0],
        [5.0, 5.0, 6.0, 6.0],
    ] {
        let mut dst = src.clone();
        rotate_in_box(&mut dst, &src, &b, 0.0);
        assert_eq!(dst, src, "box {b:?}");
    }
}

#[test]
fn rotation_by_90_degrees_moves_hand_placed_pixels() {
    // square box of pixels 2..6 about (4, 4): +90 degrees (clockwise on screen) takes the
    // source pixel (x, y) to (7 - y, x), i.e. destination (x, y) reads source (y, 7 - x)
    let src = coordinates_image();
    let mut dst = src.clone();
    rotate_in_box(&mut dst, &src, &[2.0, 2.0, 6.0, 6.0], 90.0);
    assert_eq!(
        dst.get_pixel(5, 3).0,
        [3, 2, 7],
        "source (3, 2) lands at (5, 3)"
    );
    for (x, y, p) in dst.enumerate_pixels() {
        let inside = (2..6).contains(&x) && (2..6).contains(&y);
        let want = if inside {
            [y as u8, 7 - x as u8, 7]
        } else {
            [x as u8, y as u8, 7]
        };
        assert_eq!(p.0, want, "pixel ({x}, {y})");
    }
    // -90 undoes +90
    let turned = dst.clone();
    rotate_in_box(&mut dst, &turned, &[2.0, 2.0, 6.0, 6.0], -90.0);
    assert_eq!(dst, src);
}

#[test]
fn a_small_rotation_keeps_corners_that_map_outside() {
    // 10 degrees on the whole-box square: the corner pixels' sources leave the box (they
    // keep their value), the centre pixels move a little, the rest of the image is untouched
    let src = image::RgbImage::from_fn(20, 20, |x, y| image::Rgb([x as u8 * 10, y as u8 * 10, 0]));
    let mut dst = src.clone();
    rotate_in_box(&mut dst, &src, &[4.0, 4.0, 16.0, 16.0], 10.0);
    assert_eq!(dst.get_pixel(4, 4), src.get_pixel(4, 4));
    assert_eq!(dst.get_pixel(15, 15), src.get_pixel(15, 15));
    assert_ne!(dst.get_pixel(10, 5), src.get_pixel(10, 5));
    for (x, y, p) in dst.enumerate_pixels() {
        if !((4..16).contains(&x) && (4..16).contains(&y)) {
            assert_eq!(p, src.get_pixel(x, y), "outside the box ({x}, {y})");
        }
    }
}

#[test]
fn batch_rotation_is_seeded_and_leaves_crowd_boxes() {
    let make = || {
        let mut s = flat_sample(
            24,
            24,
            0,
            &[[2.0, 2.0, 10.0, 10.0], [13.0, 13.0, 22.0, 22.0]],
            1,
        );
        s.image =
            image::RgbImage::from_fn(24, 24, |x, y| image::Rgb([x as u8 * 9, y as u8 * 9, 3]));
        vec![s]
    };
    let (mut a, mut b, mut c) = (make(), make(), make());
    assert_eq!(rotate_batch(&mut a, 30.0, 5), 1, "one positive box");
    rotate_batch(&mut b, 30.0, 5);
    rotate_batch(&mut c, 30.0, 6);
    assert_eq!(a[0].image, b[0].image, "same seed, same rotation");
    assert_ne!(a[0].image, c[0].image, "another seed, another angle");
    let orig = make();
    assert_ne!(a[0].image, orig[0].image);
    for (x, y, p) in a[0].image.enumerate_pixels() {
        if !((2..10).contains(&x) && (2..10).contains(&y)) {
            assert_eq!(p, orig[0].image.get_pixel(x, y), "({x}, {y})");
        }
    }
}

#[test]
fn config_keys_and_errors() {
    let t = |text: &str| TrainConfig::from_toml(text, "h.toml");
    let cfg =
        t("[hard_positives]\nocclude = true\npatch = 0.5\nrotate_deg = 10.0\nevery = 2\n").unwrap();
    let hp = &cfg.hard_positives;
    assert!(hp.occlude);
    assert_eq!((hp.patch, hp.rotate_deg, hp.every), (0.5, 10.0, 2));
    assert!(hp.active(4) && !hp.active(3));
    let def = t("").unwrap().hard_positives;
    assert_eq!(def, HardPositives::default());
    assert!(!def.enabled() && !def.active(0));
    assert_eq!(def.patch, 1.0 / 3.0);
    // round trip through the written config
    let back = TrainConfig::from_toml(&cfg.to_toml().unwrap(), "r.toml").unwrap();
    assert_eq!(back, cfg);
    for (text, key) in [
        ("patch = 0.0", "hard_positives.patch"),
        ("patch = -0.2", "hard_positives.patch"),
        ("patch = 1.5", "hard_positives.patch"),
        ("rotate_deg = -1.0", "hard_positives.rotate_deg"),
        ("rotate_deg = 200.0", "hard_positives.rotate_deg"),
        ("every = 0", "hard_positives.every"),
    ] {
        let e = t(&format!("[hard_positives]\n{text}\n")).unwrap_err();
        assert!(
            e.starts_with(&format!("h.toml: {key} must be")),
            "{text}: {e}"
        );
    }
    let e = t("[hard_positives]\nocclud = true\n").unwrap_err();
    assert!(e.starts_with("h.toml: line") && e.contains("occlud"), "{e}");
    assert!(t("[hard_positives]\npatch = 1.0\nrotate_deg = 180.0\n").is_ok());
}

/// 50 synthetic 64 x 64 scenes and the small settings of the trainer tests.
fn tiny_run(hp: HardPositives) -> (TrainConfig, Arc<dyn Dataset>) {
    let mut cfg = TrainConfig {
        batch: 2,
        warmup_steps: 0,
        hard_positives: hp,
        ..TrainConfig::default()
    };
    cfg.lab.anchors.strides = vec![8, 16, 32];
    let c = SyntheticConfig {
        width: 64,
        height: 64,
        size_range: [12.0, 40.0],
        ..Default::default()
    };
    (cfg, Arc::new(SyntheticDataset::new(c, 1).with_len(50)))
}

/// Losses of `steps` steps and the final parameters.
fn losses(hp: HardPositives, steps: usize) -> (Vec<f64>, Vec<Vec<f32>>) {
    let (cfg, ds) = tiny_run(hp);
    let mut t = Trainer::new(cfg, &ModelConfig::default(), ds).unwrap();
    let l = (0..steps)
        .map(|_| {
            let m = t.train_step().unwrap().metrics;
            assert_eq!(m.divergence(), None, "{m:?}");
            m.loss_total
        })
        .collect();
    let p = t.model().params().map(|p| p.value.data.clone()).collect();
    (l, p)
}

#[test]
fn occlusion_changes_training_and_is_deterministic() {
    let on = HardPositives {
        occlude: true,
        ..HardPositives::default()
    };
    let (off_l, off_p) = losses(HardPositives::default(), 3);
    let (a_l, a_p) = losses(on.clone(), 3);
    let (b_l, b_p) = losses(on, 3);
    assert_eq!(a_l, b_l, "same seed, same run");
    assert_eq!(a_p, b_p, "same seed, same parameters");
    assert_ne!(a_l[0], off_l[0], "the first batch is occluded");
    assert_ne!(a_p, off_p);
    let rot = HardPositives {
        rotate_deg: 10.0,
        ..HardPositives::default()
    };
    let (r1, _) = losses(rot.clone(), 2);
    let (r2, _) = losses(rot, 2);
    assert_eq!(r1, r2);
    assert_ne!(r1[0], off_l[0], "rotated positives");
}

#[test]
fn the_pre_pass_occludes_inside_positive_boxes_only() {
    let on = HardPositives {
        occlude: true,
        ..HardPositives::default()
    };
    let (cfg, ds) = tiny_run(on);
    let mc = crate::train::model_snapshot::run_model_config(&ModelConfig::default(), &cfg);
    let model = crate::model::Model::new(&mc, 0).unwrap();
    let mut engine =
        crate::train::engine::Engine::new(crate::backend::cpu::Cpu, &model, &Default::default());
    let anchors = cfg.lab.anchors.generate(64, 64);
    let obj = ObjectiveState::new(&cfg);
    let orig: Vec<Sample> = (0..4).map(|i| ds.load(i).unwrap()).collect();
    let mut batch = orig.clone();
    let pre = PrePass {
        engine: &mut engine,
        anchors: &anchors,
        cfg: &cfg,
        obj: &obj,
    };
    let done = augment(&mut batch, pre, 9).unwrap();
    let boxes: usize = orig.iter().map(|s| s.split_crowd().0.len()).sum();
    assert!(
        done.occluded > 0 && done.occluded <= boxes,
        "{done:?} of {boxes}"
    );
    assert_eq!(done.rotated, 0);
    for (a, b) in orig.iter().zip(&batch) {
        let rects: Vec<PixelRect> = (a.split_crowd().0.iter())
            .filter_map(|bx| PixelRect::of_box(bx, 64, 64))
            .collect();
        for (x, y, p) in b.image.enumerate_pixels() {
            if p != a.image.get_pixel(x, y) {
                assert_eq!(p.0, [GREY; 3]);
                assert!(rects.iter().any(|r| r.contains(x as usize, y as usize)));
            }
        }
    }
}

/// The input gradient on the GPU against the CPU's (same model, input and output gradients).
#[cfg(feature = "gpu")]
#[test]
fn gpu_input_gradient_matches_cpu() {
    use crate::backend::tensor::Tensor;
    use crate::train::BackendChoice;
    use crate::train::engine::Engine;
    use rand::SeedableRng;
    let dev = match BackendChoice::Gpu.open() {
        Ok(Some(d)) => d,
        Ok(None) => unreachable!("the gpu choice opens a device"),
        Err(e) => return crate::backend::gpu::skip_without_gpu(e),
    };
    let mc = ModelConfig {
        backbone_channels: vec![4, 8, 8, 8, 8],
        fpn_channels: 8,
        ..ModelConfig::default()
    };
    let model = crate::model::Model::new(&mc, 3).unwrap();
    let opt = Default::default();
    let mut cpu = Engine::new(crate::backend::cpu::Cpu, &model, &opt);
    let mut gpu = Engine::new(crate::backend::gpu::GpuBackend::new(dev), &model, &opt);
    let rng = &mut rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let x = Tensor::randn([2, 3, 32, 48], 1.0, rng);
    let out = cpu.forward(&x);
    gpu.forward(&x);
    let mut d = out.zeros_like();
    for t in d.cls.iter_mut().chain(&mut d.reg) {
        *t = Tensor::randn(t.shape, 1.0, rng);
    }
    let a = cpu.input_grad(&d);
    let b = gpu.input_grad(&d);
    assert_eq!(a.shape, b.shape);
    let scale = a.data.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    assert!(scale > 0.0);
    for (i, (&u, &v)) in a.data.iter().zip(&b.data).enumerate() {
        let tol = 5e-3 * (u + v).abs() + 1e-4 * scale;
        assert!((u - v).abs() <= tol, "dx[{i}]: cpu {u} vs gpu {v}");
    }
}
