//! Tests of the synthetic scene generator.

use super::*;
use crate::data::stats::{BoxMeasure, class_counts};

fn many(cfg: &SyntheticConfig, n: usize) -> Vec<Sample> {
    use rayon::prelude::*;
    (0..n)
        .into_par_iter()
        .map(|i| generate(cfg, 11, i))
        .collect()
}

#[test]
fn deterministic_per_index() {
    let cfg = SyntheticConfig::default();
    let a = generate(&cfg, 3, 17);
    let b = generate(&cfg, 3, 17);
    assert_eq!(
        a, b,
        "same (cfg, seed, index) gives identical pixels and boxes"
    );
    let c = generate(&cfg, 3, 18);
    assert_ne!(a.image, c.image);
    assert_ne!(a.boxes, c.boxes);
    let d = generate(&cfg, 4, 17);
    assert_ne!(a.image, d.image, "another seed gives another scene");
    // Independent of generation order.
    let ds = SyntheticDataset::new(cfg, 3);
    assert_eq!(ds.load(17).unwrap(), a);
    assert_ne!(ds.held_out(10).generate(17), a);
}

/// Every sample is well formed for its config: sizes, counts, boxes in the canvas.
fn check_invariants(cfg: &SyntheticConfig, samples: &[Sample]) {
    let (w, h) = (cfg.width as f32, cfg.height as f32);
    for s in samples {
        assert_eq!(s.image.dimensions(), (cfg.width, cfg.height));
        assert_eq!(s.boxes.len(), s.classes.len());
        assert_eq!(s.boxes.len(), s.crowd.len());
        assert!(s.len() <= cfg.object_count[1]);
        assert!(!s.is_empty(), "the first object always finds a place");
        for (b, &c) in s.boxes.iter().zip(&s.classes) {
            assert!(c < cfg.num_classes());
            assert!(
                b[0] >= 0.0 && b[1] >= 0.0 && b[2] <= w && b[3] <= h,
                "{b:?} inside canvas"
            );
            let side = (b[2] - b[0]).max(b[3] - b[1]);
            let [lo, hi] = cfg.size_range;
            assert!(
                side >= lo - 0.01 && side <= hi + 0.01,
                "size {side} in {lo}..{hi}"
            );
        }
        for (i, a) in s.boxes.iter().enumerate() {
            for b in &s.boxes[..i] {
                assert!(overlap(a, b) <= cfg.max_overlap + 1e-4);
            }
        }
    }
}

#[test]
fn shapes_preset_obeys_its_knobs() {
    let cfg = SyntheticConfig::preset("shapes").unwrap();
    let samples = many(&cfg, 300);
    check_invariants(&cfg, &samples);
    let counts = class_counts(samples.iter().map(Sample::view), 3);
    let n: u64 = counts.iter().sum();
    let frac: Vec<f64> = counts.iter().map(|&c| c as f64 / n as f64).collect();
    // Expected 10:3:1 = 0.714, 0.214, 0.071.
    assert!((frac[0] - 0.714).abs() < 0.05, "{counts:?}");
    assert!((frac[1] - 0.214).abs() < 0.05, "{counts:?}");
    assert!((frac[2] - 0.071).abs() < 0.03, "{counts:?}");
    // Object counts span the range; mean near the middle of 1..=12.
    let per_image: Vec<usize> = samples.iter().map(Sample::len).collect();
    let mean = per_image.iter().sum::<usize>() as f64 / per_image.len() as f64;
    assert!((5.0..8.0).contains(&mean), "mean objects {mean}");
    assert!(per_image.contains(&1) && per_image.contains(&12));
    // Gaussian centres: more objects in the central quarter area than uniform would give.
    let central = samples
        .iter()
        .flat_map(|s| s.boxes.iter())
        .filter(|b| {
            let (cx, cy) = ((b[0] + b[2]) / 2.0 / 256.0, (b[1] + b[3]) / 2.0 / 256.0);
            (0.25..0.75).contains(&cx) && (0.25..0.75).contains(&cy)
        })
        .count();
    assert!(
        central as f64 / n as f64 > 0.45,
        "central fraction {central}/{n}"
    );
    // Size bias towards small: the median side is below the log-midpoint (sqrt(8*96) = 27.7).
    let mut sides: Vec<f32> = samples
        .iter()
        .flat_map(|s| {
            s.boxes
                .iter()
                .map(|b| BoxMeasure::Width.of(b).max(BoxMeasure::Height.of(b)))
        })
        .collect();
    sides.sort_by(f32::total_cmp);
    assert!(
        sides[sides.len() / 2] < 27.7,
        "median {}",
        sides[sides.len() / 2]
    );
}

#[test]
fn balanced_tiny_crowded_longtail_presets() {
    let cfg = SyntheticConfig::preset("balanced").unwrap();
    let samples = many(&cfg, 200);
    check_invariants(&cfg, &samples);
    let counts = class_counts(samples.iter().map(Sample::view), 3);
    let n = counts.iter().sum::<u64>() as f64;
    assert!(
        counts
            .iter()
            .all(|&c| (c as f64 / n - 1.0 / 3.0).abs() < 0.05),
        "{counts:?}"
    );

    let cfg = SyntheticConfig::preset("tiny").unwrap();
    let samples = many(&cfg, 150);
    check_invariants(&cfg, &samples);
    let sides: Vec<f32> = samples
        .iter()
        .flat_map(|s| s.boxes.iter().map(|b| (b[2] - b[0]).max(b[3] - b[1])))
        .collect();
    let small = sides.iter().filter(|&&s| s < 16.0).count() as f64 / sides.len() as f64;
    assert!(small > 0.75, "tiny: {small} under 16 px");

    let cfg = SyntheticConfig::preset("crowded").unwrap();
    let samples = many(&cfg, 60);
    check_invariants(&cfg, &samples);
    let mean = samples.iter().map(Sample::len).sum::<usize>() as f64 / samples.len() as f64;
    assert!(mean > 15.0, "crowded: {mean} objects per image");
    let overlapping = samples
        .iter()
        .filter(|s| {
            s.boxes
                .iter()
                .enumerate()
                .any(|(i, a)| s.boxes[..i].iter().any(|b| overlap(a, b) > 0.2))
        })
        .count();
    assert!(
        overlapping * 10 >= samples.len() * 9,
        "crowded: overlaps in {overlapping} images"
    );

    let cfg = SyntheticConfig::preset("dense").unwrap();
    let samples = many(&cfg, 12);
    check_invariants(&cfg, &samples);
    assert_eq!((cfg.width, cfg.height), (512, 512));
    let mean = samples.iter().map(Sample::len).sum::<usize>() as f64 / samples.len() as f64;
    assert!(mean > 30.0, "dense: {mean} objects per image");
    let sides: Vec<f32> = samples
        .iter()
        .flat_map(|s| s.boxes.iter().map(|b| (b[2] - b[0]).max(b[3] - b[1])))
        .collect();
    let small = sides.iter().filter(|&&s| s < 32.0).count() as f64 / sides.len() as f64;
    assert!(small > 0.8, "dense: {small} under 32 px (COCO small)");

    let cfg = SyntheticConfig::preset("longtail").unwrap();
    let samples = many(&cfg, 150);
    check_invariants(&cfg, &samples);
    let counts = class_counts(samples.iter().map(Sample::view), 6);
    assert!(counts.windows(2).take(4).all(|w| w[0] > w[1]), "{counts:?}");
}

/// A config with one object on a plain black background, no noise, no distractors.
fn plain(shape: ShapeKind) -> SyntheticConfig {
    let mut cfg = SyntheticConfig::default();
    cfg.classes = vec![ClassSpec {
        shape,
        ..ClassSpec::default()
    }];
    cfg.background = Background::Plain;
    cfg.background_colour = [0, 0, 0];
    cfg.noise_std = 0.0;
    cfg.distractor_count = [0, 0];
    cfg.object_count = [1, 1];
    cfg.size_range = [10.0, 90.0];
    cfg.max_rotation_deg = 45.0;
    cfg.location = Location::Uniform;
    cfg
}

#[test]
fn gt_boxes_are_tight() {
    for shape in ShapeKind::ALL {
        let cfg = plain(shape);
        for i in 0..40 {
            let s = generate(&cfg, 1, i);
            let b = s.boxes[0];
            let lit = |x: u32, y: u32| {
                s.image
                    .get_pixel(x, y)
                    .0
                    .iter()
                    .map(|&v| v as u32)
                    .sum::<u32>()
                    > 24
            };
            let (w, h) = s.image.dimensions();
            let (mut minx, mut miny, mut maxx, mut maxy) = (u32::MAX, u32::MAX, 0, 0);
            for y in 0..h {
                for x in 0..w {
                    if lit(x, y) {
                        (minx, miny, maxx, maxy) =
                            (minx.min(x), miny.min(y), maxx.max(x), maxy.max(y));
                    }
                }
            }
            // Lit pixels span the box: each edge within ~1 px of the drawn content.
            let tol = 1.01;
            let msg = format!("{shape:?} #{i}: box {b:?}, lit {minx},{miny}..{maxx},{maxy}");
            assert!((minx as f32 - b[0]).abs() <= tol, "{msg}");
            assert!((miny as f32 - b[1]).abs() <= tol, "{msg}");
            assert!(((maxx + 1) as f32 - b[2]).abs() <= tol, "{msg}");
            assert!(((maxy + 1) as f32 - b[3]).abs() <= tol, "{msg}");
        }
    }
}

#[test]
fn bad_configs_do_not_panic() {
    let mut cfg = SyntheticConfig::default();
    cfg.size_range = [500.0, -3.0];
    cfg.object_count = [5, 2];
    cfg.aspect_range = [0.0, f32::NAN];
    cfg.classes.iter_mut().for_each(|c| c.weight = 0.0);
    cfg.width = 0;
    cfg.max_overlap = -1.0;
    let s = generate(&cfg, 0, 0);
    assert_eq!(s.image.dimensions(), (1, 256));
    cfg.classes.clear();
    assert!(generate(&cfg, 0, 0).is_empty());
}

/// Not a timed test: prints the generation time (run with `--nocapture`).
#[test]
fn generation_time() {
    let cfg = SyntheticConfig::default();
    let n = 200;
    let t = std::time::Instant::now();
    let objects: usize = (0..n).map(|i| generate(&cfg, 0, i).len()).sum();
    let ms = t.elapsed().as_secs_f64() * 1e3 / n as f64;
    println!("synthetic shapes 256x256: {ms:.3} ms per scene ({objects} objects in {n} scenes)");
}

#[test]
fn presets_exist_and_validate() {
    for name in PRESET_NAMES {
        let c = SyntheticConfig::preset(name).unwrap();
        c.validate().unwrap();
    }
    assert!(SyntheticConfig::preset("nope").is_none());
    assert_eq!(
        SyntheticConfig::preset("shapes").unwrap(),
        SyntheticConfig::default()
    );
    assert_eq!(
        SyntheticConfig::default().class_names(),
        ["disc", "rectangle", "triangle"]
    );
}

#[test]
fn toml_round_trip_and_partial() {
    let c = SyntheticConfig::preset("longtail").unwrap();
    let s = toml::to_string(&c).unwrap();
    let back: SyntheticConfig = toml::from_str(&s).unwrap();
    assert_eq!(back, c);
    let partial: SyntheticConfig = toml::from_str("width = 128\nlocation = \"uniform\"").unwrap();
    assert_eq!(partial.width, 128);
    assert_eq!(partial.location, Location::Uniform);
    assert_eq!(partial.classes, SyntheticConfig::default().classes);
}

#[test]
fn validate_names_field() {
    let mut c = SyntheticConfig::default();
    c.size_range = [50.0, 10.0];
    let e = c.validate().unwrap_err().to_string();
    assert!(e.contains("size_range"), "{e}");
    c = SyntheticConfig::default();
    c.classes.clear();
    assert!(c.validate().is_err());
}
