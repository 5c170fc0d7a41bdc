//! Hand-counted cases of every remedy.

use super::*;
use crate::data::{Annotations, Sample};
use crate::geometry::Box4;

/// Samples held in memory.
struct Mem {
    names: Vec<String>,
    samples: Vec<Sample>,
}

impl Dataset for Mem {
    fn name(&self) -> String {
        "mem".into()
    }
    fn len(&self) -> usize {
        self.samples.len()
    }
    fn class_names(&self) -> Vec<String> {
        self.names.clone()
    }
    fn load(&self, index: usize) -> Result<Sample, DataError> {
        Ok(self.samples[index].clone())
    }
}

/// A `w x h` image whose red channel is `x` and green `y`, with boxes `(box, class, crowd)`.
fn sample(w: u32, h: u32, boxes: &[(Box4, usize, bool)]) -> Sample {
    let mut s = Sample {
        image: image::RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8, y as u8, 0])),
        boxes: boxes.iter().map(|b| b.0).collect(),
        classes: boxes.iter().map(|b| b.1).collect(),
        crowd: boxes.iter().map(|b| b.2).collect(),
    };
    s.sort_crowd_last();
    s
}

fn mem(names: &[&str], samples: Vec<Sample>) -> Arc<dyn Dataset> {
    Arc::new(Mem {
        names: names.iter().map(|s| s.to_string()).collect(),
        samples,
    })
}

/// Images with one 4 x 4 object per class listed.
fn by_classes(images: &[&[usize]]) -> Vec<Sample> {
    images
        .iter()
        .map(|cs| {
            let b: Vec<(Box4, usize, bool)> = cs
                .iter()
                .map(|&c| ([1.0, 1.0, 5.0, 5.0], c, false))
                .collect();
            sample(16, 16, &b)
        })
        .collect()
}

#[test]
fn tile_origins_by_hand() {
    // stride 48: 0, then 48 + 64 = 112 > 100, so the last tile moves back to 100 - 64 = 36
    assert_eq!(tile_origins(100, 64, 16), vec![0, 36]);
    assert_eq!(
        tile_origins(60, 64, 16),
        vec![0],
        "a side under the tile size"
    );
    assert_eq!(tile_origins(64, 64, 16), vec![0]);
    assert_eq!(tile_origins(128, 64, 0), vec![0, 64]);
    assert_eq!(tile_origins(200, 64, 16), vec![0, 48, 96, 136]);
}

#[test]
fn tiling_a_100x60_image_into_64_px_tiles() {
    let (a, b, c, e) = (
        [10.0, 10.0, 30.0, 30.0],
        [50.0, 20.0, 70.0, 40.0],
        [56.0, 0.0, 76.0, 10.0],
        [90.0, 50.0, 99.0, 59.0],
    );
    let crowd = [60.0, 0.0, 70.0, 5.0];
    let s = sample(
        100,
        60,
        &[
            (a, 0, false),
            (b, 1, false),
            (c, 0, false),
            (e, 0, false),
            (crowd, 1, true),
        ],
    );
    let cfg = TileConfig {
        size: 64,
        overlap: 16,
        min_visible: 0.5,
    };
    let ds = TiledDataset::new(mem(&["a", "b"], vec![s]), cfg).unwrap();
    let t = |x| Tile {
        image: 0,
        x,
        y: 0,
        w: 64,
        h: 60,
    };
    assert_eq!(ds.tiles(), &[t(0), t(36)]);
    assert_eq!(ds.len(), 2);
    // tile 0 = x 0..64: a whole; b 14 of 20 px wide (70% >= 50%) clipped at 64; c 8 of 20
    // (40%) dropped; e outside; the crowd region 4 of 10 px (40%) kept as an ignore region
    let t0 = ds.annotations(0).unwrap();
    assert_eq!(
        t0,
        Annotations {
            size: (64, 60),
            boxes: vec![a, [50.0, 20.0, 64.0, 40.0], [60.0, 0.0, 64.0, 5.0]],
            classes: vec![0, 1, 1],
            crowd: vec![false, false, true],
        }
    );
    // tile 1 = x 36..100, shifted by -36: a outside; b, c, e and the crowd region whole
    let t1 = ds.annotations(1).unwrap();
    assert_eq!(
        t1,
        Annotations {
            size: (64, 60),
            boxes: vec![
                [14.0, 20.0, 34.0, 40.0],
                [20.0, 0.0, 40.0, 10.0],
                [54.0, 50.0, 63.0, 59.0],
                [24.0, 0.0, 34.0, 5.0],
            ],
            classes: vec![1, 0, 0, 1],
            crowd: vec![false, false, false, true],
        }
    );
    let s1 = ds.load(1).unwrap();
    assert_eq!(s1.size(), (64, 60));
    assert_eq!(
        s1.image.get_pixel(0, 5).0,
        [36, 5, 0],
        "pixels cut at x = 36"
    );
    assert_eq!(s1.annotations(), t1, "load and annotations agree");
    assert_eq!(s1.split_crowd().2, &[[24.0, 0.0, 34.0, 5.0]]);
    assert_eq!(ds.image_name(1), "image 0 @36,0");
}

#[test]
fn tile_settings_are_checked_by_name() {
    let bad = TileConfig {
        size: 64,
        overlap: 64,
        min_visible: 0.5,
    };
    assert!(bad.validate().unwrap_err().contains("[data.tile] overlap"));
    let bad = TileConfig {
        min_visible: 0.0,
        ..TileConfig::default()
    };
    assert!(bad.validate().unwrap_err().contains("min_visible"));
}

#[test]
fn merging_classes_names_and_counts() {
    let s0 = sample(
        32,
        32,
        &[
            ([0.0, 0.0, 4.0, 4.0], 0, false),
            ([4.0, 4.0, 8.0, 8.0], 2, false),
            ([8.0, 8.0, 12.0, 12.0], 1, false),
        ],
    );
    let s1 = sample(
        32,
        32,
        &[
            ([0.0, 0.0, 9.0, 9.0], 2, true),
            ([10.0, 10.0, 14.0, 14.0], 3, false),
        ],
    );
    let inner = mem(&["car", "person", "truck", "bike"], vec![s0, s1]);
    let map: BTreeMap<String, String> = [("car", "vehicle"), ("truck", "vehicle")]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    let before = class_histogram(inner.as_ref()).unwrap();
    assert_eq!(
        (before.counts.clone(), before.ignore),
        (vec![1, 1, 1, 1], 1)
    );
    let ds = MergedDataset::new(inner.clone(), &map).unwrap();
    assert_eq!(ds.class_names(), ["vehicle", "person", "bike"]);
    let h = class_histogram(&ds).unwrap();
    assert_eq!(h.counts, vec![2, 1, 1]);
    assert_eq!((h.images, h.ignore), (2, 1));
    let a1 = ds.annotations(1).unwrap();
    assert_eq!(
        a1.classes,
        vec![2, 0],
        "bike -> 2; the crowd truck -> vehicle"
    );
    assert_eq!(a1.crowd, vec![false, true]);
    assert_eq!(ds.load(1).unwrap().classes, a1.classes);
    // merging into an existing name
    let map: BTreeMap<String, String> = [("truck".to_string(), "car".to_string())].into();
    let ds = MergedDataset::new(inner.clone(), &map).unwrap();
    assert_eq!(ds.class_names(), ["car", "person", "bike"]);
    assert_eq!(class_histogram(&ds).unwrap().counts, vec![2, 1, 1]);
    let map: BTreeMap<String, String> = [("plane".to_string(), "x".to_string())].into();
    let e = MergedDataset::new(inner, &map).err().unwrap().to_string();
    assert!(e.contains("[data.merge] \"plane\": not a class"), "{e}");
}

#[test]
fn repeat_factors_of_a_three_image_example() {
    // image 0: two a, image 1: a and b, image 2: background. f_a = 2/3, f_b = 1/3.
    let images = vec![vec![0, 0], vec![0, 1], vec![]];
    // t = 0.5: r_a = max(1, sqrt(0.75)) = 1, r_b = sqrt(1.5) = 1.2247
    let r = repeat_factors(&images, 2, 0.5);
    assert_eq!(r[0], 1.0);
    assert!((r[1] - 1.5f64.sqrt()).abs() < 1e-12, "{r:?}");
    assert_eq!(r[2], 1.0);
    assert_eq!(repeat_counts(&r, Rounding::Ceil, 0), vec![1, 2, 1]);
    // t = 1: r_a = sqrt(1.5) = 1.22, r_b = sqrt(3) = 1.73; image 1 takes the larger
    let r = repeat_factors(&images, 2, 1.0);
    assert!((r[0] - 1.5f64.sqrt()).abs() < 1e-12 && (r[1] - 3f64.sqrt()).abs() < 1e-12);
    assert_eq!(repeat_counts(&r, Rounding::Ceil, 0), vec![2, 2, 1]);

    let ds = mem(&["a", "b"], by_classes(&[&[0, 0], &[0, 1], &[]]));
    let cfg = RepeatFactorConfig {
        threshold: 0.5,
        ..Default::default()
    };
    let v = oversample(ds, &cfg).unwrap();
    assert_eq!(v.index(), &[0, 1, 1, 2]);
    let h = class_histogram(&v).unwrap();
    assert_eq!((h.images, h.counts), (4, vec![4, 2]));
}

#[test]
fn stochastic_rounding_keeps_the_expected_factor() {
    let r = [1.0, 1.25, 2.0];
    let mut twos = 0;
    for seed in 0..2000 {
        let c = repeat_counts(&r, Rounding::Stochastic, seed);
        assert_eq!((c[0], c[2]), (1, 2), "whole factors are exact");
        assert!(c[1] == 1 || c[1] == 2);
        twos += usize::from(c[1] == 2);
    }
    let p = twos as f64 / 2000.0;
    assert!((p - 0.25).abs() < 0.04, "P(2 copies of 1.25) = {p}");
    assert_eq!(
        repeat_counts(&r, Rounding::Stochastic, 7),
        repeat_counts(&r, Rounding::Stochastic, 7)
    );
}

#[test]
fn undersampling_drops_only_images_of_frequent_classes() {
    // f_a = 5/6 (frequent at 0.5), f_b = 1/6: candidates are 0, 1, 4, 5 (2 has b, 3 is empty)
    let images = vec![vec![0], vec![0], vec![0, 1], vec![], vec![0], vec![0]];
    let cfg = |keep: f64, seed: u64| UndersampleConfig {
        keep,
        frequent: 0.5,
        seed,
    };
    assert_eq!(
        undersample::undersample_candidates(&images, 2, 0.5),
        vec![0, 1, 4, 5]
    );
    assert_eq!(undersample_keep(&images, 2, &cfg(0.0, 0)), vec![2, 3]);
    assert_eq!(
        undersample_keep(&images, 2, &cfg(1.0, 0)),
        vec![0, 1, 2, 3, 4, 5]
    );
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..20 {
        let k = undersample_keep(&images, 2, &cfg(0.5, seed));
        assert_eq!(k.len(), 4, "2 of the 4 candidates kept");
        assert!(k.contains(&2) && k.contains(&3), "{k:?}");
        assert!(k.windows(2).all(|w| w[0] < w[1]), "in order");
        assert_eq!(k, undersample_keep(&images, 2, &cfg(0.5, seed)), "seeded");
        seen.insert(k);
    }
    assert!(seen.len() > 1, "the seed changes the choice");
    let ds = mem(
        &["a", "b"],
        by_classes(&[&[0], &[0], &[0, 1], &[], &[0], &[0]]),
    );
    let v = undersample(ds, &cfg(0.5, 3)).unwrap();
    assert_eq!(v.index(), undersample_keep(&images, 2, &cfg(0.5, 3)));
    assert!(
        cfg(1.5, 0)
            .validate()
            .unwrap_err()
            .contains("[data.undersample] keep")
    );
}

#[test]
fn remedies_chain_in_order_with_before_and_after() {
    let ds = mem(
        &["car", "truck", "person"],
        by_classes(&[&[0], &[0], &[1], &[0, 2]]),
    );
    let r = Remedies {
        merge: [("truck".to_string(), "car".to_string())].into(),
        repeat_factor: Some(RepeatFactorConfig {
            threshold: 0.5,
            ..Default::default()
        }),
        ..Default::default()
    };
    assert!(r.is_active() && !Remedies::default().is_active());
    let a = r.apply(ds).unwrap();
    let steps = a.steps().unwrap();
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[0].name, "merge truck -> car");
    assert_eq!(steps[0].before.counts, vec![3, 1, 1]);
    assert_eq!(steps[0].after.names, ["car", "person"]);
    assert_eq!(steps[0].after.counts, vec![4, 1]);
    // after merging f_car = 1, f_person = 1/4: r_person = sqrt(2) -> 2 copies of image 3
    assert_eq!((steps[1].before.images, steps[1].after.images), (4, 5));
    assert_eq!(steps[1].after.counts, vec![5, 2]);
    assert_eq!(a.dataset().len(), 5);
}

#[test]
fn remedies_parse_from_toml_with_defaults() {
    let r: Remedies = toml::from_str(
        "merge = { truck = \"car\" }\n[tile]\nsize = 256\n[repeat_factor]\nrounding = \"stochastic\"\n",
    )
    .unwrap();
    assert_eq!(r.tile.as_ref().unwrap().overlap, 64);
    assert_eq!(r.repeat_factor.as_ref().unwrap().threshold, 0.001);
    assert_eq!(r.merge["truck"], "car");
    assert!(r.undersample.is_none());
    let back: Remedies = toml::from_str(&toml::to_string(&r).unwrap()).unwrap();
    assert_eq!(back, r);
    let e = toml::from_str::<Remedies>("[tile]\nsise = 3\n").unwrap_err();
    assert!(e.to_string().contains("sise"));
}
