//! `anchorscope eval` against pycocotools 2.0.11 (`tests/reference/coco_eval.py`): 24 random
//! cases with crowd boxes, objects of all three area ranges, more than 100 detections on an
//! image, classes without GT, images without GT or without detections, tied scores and `area`
//! fields unequal to w * h; all 12 stats and every class's AP figures must agree to 1e-12.
//!
//! Skips with a printed reason when python3 or pycocotools is missing, unless
//! `ANCHORSCOPE_REQUIRE_PYCOCOTOOLS=1` (CI), where that is a failure.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

const CASES: u64 = 24;
const TOL: f64 = 1e-12;

fn pycocotools_available() -> Result<(), String> {
    match Command::new("python3")
        .args(["-c", "import pycocotools, numpy"])
        .output()
    {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(format!(
            "pycocotools is not importable: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Err(e) => Err(format!("python3 cannot run: {e}")),
    }
}

/// One random case: (GT document, results document).
fn case(seed: u64) -> (Value, Value) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n_images = rng.random_range(4..12u64);
    let n_classes = rng.random_range(3..6u64); // the last class never has GT
    let tied = seed % 3 == 0; // scores on a 0.1 grid: many ties
    let mut images = Vec::new();
    let mut anns = Vec::new();
    let mut dets = Vec::new();
    let score = |rng: &mut ChaCha8Rng| {
        let s: f64 = rng.random_range(0.01..1.0);
        if tied { (s * 10.0).round() / 10.0 } else { s }
    };
    for im in 1..=n_images {
        images
            .push(json!({"id": im, "width": 640, "height": 480, "file_name": format!("{im}.jpg")}));
        let no_gt = im == 2;
        let no_dets = im == 3;
        let n_gt = if no_gt { 0 } else { rng.random_range(1..9) };
        for _ in 0..n_gt {
            // log-uniform sides from 4 to 300 px: small, medium and large objects
            let w = 4.0 * (75.0f64).powf(rng.random::<f64>());
            let h = 4.0 * (75.0f64).powf(rng.random::<f64>());
            let x = rng.random_range(0.0..(640.0 - w).max(1.0));
            let y = rng.random_range(0.0..(480.0 - h).max(1.0));
            let cat = rng.random_range(1..n_classes);
            let crowd = rng.random_bool(0.1);
            // area unequal to w * h on a third of the objects (COCO areas are mask areas)
            let area = if rng.random_bool(0.33) {
                w * h * rng.random_range(0.4..1.0)
            } else {
                w * h
            };
            anns.push(
                json!({"id": anns.len() + 1, "image_id": im, "category_id": cat,
                "bbox": [x, y, w, h], "area": area, "iscrowd": crowd as u8}),
            );
            if no_dets {
                continue;
            }
            for _ in 0..rng.random_range(0..4) {
                let j = |rng: &mut ChaCha8Rng, s: f64| rng.random_range(-0.3..0.3) * s;
                let c = if rng.random_bool(0.8) {
                    cat
                } else {
                    rng.random_range(1..=n_classes)
                };
                let (dw, dh) = (w + j(&mut rng, w), h + j(&mut rng, h));
                let (dx, dy) = (x + j(&mut rng, w), y + j(&mut rng, h));
                dets.push(json!({"image_id": im, "category_id": c,
                    "bbox": [dx, dy, dw.max(1.0), dh.max(1.0)], "score": score(&mut rng)}));
            }
        }
        if no_dets {
            continue;
        }
        // background detections; image 1 gets more than 100 of one class (maxDets cuts)
        let n_bg = if im == 1 {
            130
        } else {
            rng.random_range(0..12)
        };
        for _ in 0..n_bg {
            let w = 4.0 * (75.0f64).powf(rng.random::<f64>());
            let h = 4.0 * (75.0f64).powf(rng.random::<f64>());
            let c = if im == 1 {
                1
            } else {
                rng.random_range(1..=n_classes)
            };
            dets.push(json!({"image_id": im, "category_id": c,
                "bbox": [rng.random_range(0.0..600.0), rng.random_range(0.0..440.0), w, h],
                "score": score(&mut rng)}));
        }
    }
    let cats: Vec<Value> = (1..=n_classes)
        .map(|c| json!({"id": c, "name": format!("class{c}")}))
        .collect();
    (
        json!({"images": images, "annotations": anns, "categories": cats}),
        Value::Array(dets),
    )
}

fn ours(gt: &Path, dt: &Path) -> Value {
    let o = Command::new(env!("CARGO_BIN_EXE_anchorscope"))
        .args(["eval", "--json", "--gt"])
        .arg(gt)
        .arg("--dt")
        .arg(dt)
        .output()
        .expect("spawn anchorscope");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("eval --json")
}

#[test]
fn matches_pycocotools_on_random_cases() {
    if let Err(why) = pycocotools_available() {
        if std::env::var("ANCHORSCOPE_REQUIRE_PYCOCOTOOLS").as_deref() == Ok("1") {
            panic!("ANCHORSCOPE_REQUIRE_PYCOCOTOOLS=1 but {why}");
        }
        println!("skipped: {why} (pip install pycocotools)");
        return;
    }
    let dir = std::env::temp_dir().join(format!("anchorscope-parity-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut paths: Vec<(PathBuf, PathBuf)> = Vec::new();
    let (mut crowd, mut empty_gt, mut over_100) = (0, 0, 0);
    for seed in 0..CASES {
        let (gt, dt) = case(seed);
        crowd += gt["annotations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["iscrowd"] == 1)
            .count();
        let with_gt: std::collections::HashSet<u64> = gt["annotations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["image_id"].as_u64().unwrap())
            .collect();
        empty_gt += gt["images"].as_array().unwrap().len() - with_gt.len();
        over_100 += dt
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["image_id"] == 1)
            .count()
            / 100;
        let (g, d) = (
            dir.join(format!("gt{seed}.json")),
            dir.join(format!("dt{seed}.json")),
        );
        std::fs::write(&g, gt.to_string()).unwrap();
        std::fs::write(&d, dt.to_string()).unwrap();
        paths.push((g, d));
    }
    assert!(
        crowd > 0 && empty_gt > 0 && over_100 >= CASES as usize,
        "the cases cover their features"
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/coco_eval.py");
    let mut cmd = Command::new("python3");
    cmd.arg(script);
    for (g, d) in &paths {
        cmd.arg(g).arg(d);
    }
    let o = cmd.output().expect("spawn python3");
    assert!(
        o.status.success(),
        "coco_eval.py: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let reference: Vec<Value> = serde_json::from_slice(&o.stdout).unwrap();
    let mut nontrivial = 0;
    for (seed, ((g, d), want)) in paths.iter().zip(&reference).enumerate() {
        let got = ours(g, d);
        let (gs, ws) = (
            got["stats"].as_array().unwrap(),
            want["stats"].as_array().unwrap(),
        );
        assert_eq!(gs.len(), 12);
        for (i, (a, b)) in gs.iter().zip(ws).enumerate() {
            let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
            assert!(
                (a - b).abs() <= TOL,
                "case {seed}: stat {i}: ours {a}, pycocotools {b}"
            );
        }
        if ws[0].as_f64().unwrap() > 0.0 && ws[0].as_f64().unwrap() < 1.0 {
            nontrivial += 1;
        }
        let (gc, wc) = (
            got["per_class"].as_array().unwrap(),
            want["per_class"].as_array().unwrap(),
        );
        assert_eq!(gc.len(), wc.len(), "case {seed}: classes");
        for (a, b) in gc.iter().zip(wc) {
            assert_eq!(a["id"], b["id"]);
            for key in ["ap", "ap50", "ap75", "aps", "apm", "apl", "ar100"] {
                let (x, y) = (a[key].as_f64().unwrap(), b[key].as_f64().unwrap());
                assert!(
                    (x - y).abs() <= TOL,
                    "case {seed}: class {}: {key}: ours {x}, pycocotools {y}",
                    a["id"]
                );
            }
        }
        // the class without GT is reported as -1 by both
        assert_eq!(gc.last().unwrap()["ap"].as_f64(), Some(-1.0));
    }
    assert!(
        nontrivial >= CASES as usize / 2,
        "most cases have an AP strictly between 0 and 1"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
