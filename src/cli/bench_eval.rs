//! `anchorscope bench`'s evaluation figures: COCO evaluation of 5,000 generated images (about
//! 37k GT, 113k detections, 10 classes) beside pycocotools on the same files in the same run
//! (when python3 with pycocotools is importable; otherwise its reference time), and the
//! evaluation inside training: the held-out split as `train --eval-every` scores it.

use super::bench::Figure;
use crate::eval::{
    CategoryRecord, CocoEvaluation, GtAnnotation, GtFile, GtImage, ResultRecord, files,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::Path;
use std::time::Instant;

/// pycocotools 2.0.11 on the 5,000-image set, measured 2026-12-01 on this project's 2-core
/// machine (seconds, load + evaluate + accumulate + summarize).
const PYCOCOTOOLS_REFERENCE_S: f64 = 8.8;

/// A deterministic evaluation set: `n` 640 x 480 images with 1-14 objects each (sides 4-300 px,
/// 10 classes), 0-3 jittered detections per object and 0-22 background detections per image.
pub fn eval_set(n: usize, seed: u64) -> (GtFile, Vec<ResultRecord>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let side = |rng: &mut ChaCha8Rng| 4.0 * 75f64.powf(rng.random::<f64>());
    let mut gt = GtFile {
        categories: (1..=10)
            .map(|id| CategoryRecord {
                id,
                name: format!("class{id}"),
            })
            .collect(),
        ..Default::default()
    };
    let mut dets = Vec::new();
    for im in 1..=n as u64 {
        gt.images.push(GtImage {
            id: im,
            width: 640,
            height: 480,
            file_name: format!("{im}.jpg"),
        });
        for _ in 0..rng.random_range(1..=14) {
            let (w, h) = (side(&mut rng), side(&mut rng));
            let (x, y) = (
                rng.random_range(0.0..640.0 - w.min(600.0)),
                rng.random_range(0.0..480.0 - h.min(440.0)),
            );
            let cat = rng.random_range(1..=10);
            gt.annotations.push(GtAnnotation {
                id: gt.annotations.len() as u64 + 1,
                image_id: im,
                category_id: cat,
                bbox: [x, y, w, h],
                area: Some(w * h),
                iscrowd: rng.random_bool(0.01),
            });
            for _ in 0..rng.random_range(0..=3) {
                let mut j = |s: f64| rng.random_range(-0.25..0.25) * s;
                let b = [x + j(w), y + j(h), (w + j(w)).max(1.0), (h + j(h)).max(1.0)];
                dets.push(ResultRecord {
                    image_id: im,
                    category_id: cat,
                    bbox: b,
                    score: rng.random(),
                });
            }
        }
        for _ in 0..rng.random_range(0..=22) {
            let (w, h) = (side(&mut rng), side(&mut rng));
            let b = [
                rng.random_range(0.0..600.0),
                rng.random_range(0.0..440.0),
                w,
                h,
            ];
            dets.push(ResultRecord {
                image_id: im,
                category_id: rng.random_range(1..=10),
                bbox: b,
                score: rng.random(),
            });
        }
    }
    (gt, dets)
}

/// pycocotools' time (s) on the files, or why it could not run.
fn pycocotools_seconds(gt: &Path, dt: &Path) -> Result<f64, String> {
    const SCRIPT: &str = r#"
import sys, time, io, contextlib
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
t = time.perf_counter()
with contextlib.redirect_stdout(io.StringIO()):
    g = COCO(sys.argv[1])
    d = g.loadRes(sys.argv[2])
    e = COCOeval(g, d, "bbox")
    e.evaluate()
    e.accumulate()
    e.summarize()
print(time.perf_counter() - t)
"#;
    let o = std::process::Command::new("python3")
        .args(["-c", SCRIPT])
        .arg(gt)
        .arg(dt)
        .output()
        .map_err(|e| format!("python3: {e}"))?;
    if !o.status.success() {
        let err = String::from_utf8_lossy(&o.stderr);
        return Err(err.lines().last().unwrap_or("failed").to_string());
    }
    String::from_utf8_lossy(&o.stdout)
        .trim()
        .parse()
        .map_err(|e| format!("pycocotools time: {e}"))
}

/// Appends the evaluation figures to `figures`.
pub fn push_figures(figures: &mut Vec<Figure>, quick: bool) {
    if let Err(e) = coco_figures(figures) {
        eprintln!("bench: evaluation: {e}");
    }
    match training_eval_ms(if quick { 50 } else { 200 }) {
        Ok((total, coco, n)) => {
            figures.push(Figure::new(
                format!("held-out evaluation in training, {n} images (CPU)"),
                total,
                "ms",
            ));
            figures.push(Figure::new(
                format!("  its COCO part at 100 detections/image, {n} images"),
                coco,
                "ms",
            ));
        }
        Err(e) => eprintln!("bench: evaluation in training: {e}"),
    }
}

fn coco_figures(figures: &mut Vec<Figure>) -> Result<(), String> {
    let (gt, dets) = eval_set(5000, 11);
    let dir = std::env::temp_dir().join(format!("anchorscope-bench-eval-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let (gp, dp) = (dir.join("gt.json"), dir.join("dt.json"));
    let write =
        |p: &Path, s: String| std::fs::write(p, s).map_err(|e| format!("{}: {e}", p.display()));
    write(&gp, serde_json::to_string(&gt).map_err(|e| e.to_string())?)?;
    write(
        &dp,
        serde_json::to_string(&dets).map_err(|e| e.to_string())?,
    )?;
    let t = Instant::now();
    let (g, _) = files::read_gt(&gp).map_err(|e| e.0)?;
    let (d, _) = files::read_results(&dp, &g, &gp).map_err(|e| e.0)?;
    let load_s = t.elapsed().as_secs_f64();
    let ev = CocoEvaluation::new(&g, &d).map_err(|e| e.0)?;
    let ours_s = t.elapsed().as_secs_f64();
    std::hint::black_box(ev.stats());
    let (reference, label) = match pycocotools_seconds(&gp, &dp) {
        Ok(s) => (s, "pycocotools 2.0.11, this run".to_string()),
        Err(e) => {
            eprintln!("bench: pycocotools not measured ({e}); using its reference time");
            (
                PYCOCOTOOLS_REFERENCE_S,
                "pycocotools, 2026-12-01".to_string(),
            )
        }
    };
    let _ = std::fs::remove_dir_all(&dir);
    figures.push(Figure {
        name: format!(
            "COCO eval, 5,000 images ({}k GT, {}k dets; {:.2} s of it loading)",
            g.annotations.len() / 1000,
            d.len() / 1000,
            load_s
        ),
        value: ours_s,
        unit: "s".into(),
        reference: Some(reference),
        reference_label: label,
    });
    Ok(())
}

/// Time (ms) of the trainer's held-out evaluation of `n` images with the untrained model
/// (forward, detection, COCO evaluation), and of the COCO evaluation alone of `n` images at
/// 100 detections each (the most the detector keeps per image).
fn training_eval_ms(n: usize) -> Result<(f64, f64, usize), String> {
    let ds = crate::data::SyntheticDataset::preset("shapes", 0).ok_or("no shapes preset")?;
    let held_out = ds.held_out(n);
    let cfg = crate::train::TrainConfig::default();
    let mut t = crate::train::Trainer::new(
        cfg,
        &crate::model::ModelConfig::default(),
        std::sync::Arc::new(ds),
    )?;
    let s = Instant::now();
    t.evaluate(&held_out, n)?;
    let total = s.elapsed().as_secs_f64() * 1e3;
    let (gt, mut dets) = eval_set(n, 12);
    dets.truncate(0);
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    for im in &gt.images {
        for _ in 0..100 {
            let b = [
                rng.random_range(0.0..600.0),
                rng.random_range(0.0..440.0),
                rng.random_range(4.0..200.0),
                rng.random_range(4.0..200.0),
            ];
            dets.push(ResultRecord {
                image_id: im.id,
                category_id: rng.random_range(1..=3),
                bbox: b,
                score: rng.random(),
            });
        }
    }
    let s = Instant::now();
    CocoEvaluation::new(&gt, &dets).map_err(|e| e.0)?;
    Ok((total, s.elapsed().as_secs_f64() * 1e3, n))
}
