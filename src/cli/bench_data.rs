//! Dataset figures of `anchorscope bench`: opening and validating a COCO file of 100,000
//! annotations (1,000 images of 64 x 64, written to a temporary folder first): the JSON parse
//! and checks alone (from memory), and the whole open (parse, every image header read, boxes
//! checked against the image sizes).

use super::bench::Figure;
use crate::data::report::Report;
use crate::data::{DatasetSpec, FileDataset, OpenOptions};
use anyhow::{Context, Result};
use std::time::Instant;

const IMAGES: usize = 1_000;
const PER_IMAGE: usize = 100;

fn coco_text() -> String {
    let images: Vec<String> = (0..IMAGES)
        .map(|i| {
            format!(
                r#"{{"id":{},"file_name":"{i}.png","width":64,"height":64}}"#,
                i + 1
            )
        })
        .collect();
    let mut anns = Vec::with_capacity(IMAGES * PER_IMAGE);
    for i in 0..IMAGES {
        for k in 0..PER_IMAGE {
            let (x, y) = ((k % 10) as f32 * 6.0, (k / 10) as f32 * 6.0);
            anns.push(format!(
                r#"{{"id":{},"image_id":{},"category_id":{},"bbox":[{x},{y},5.5,5.5],"area":30.25,"iscrowd":0}}"#,
                i * PER_IMAGE + k + 1,
                i + 1,
                k % 10 + 1
            ));
        }
    }
    let cats: Vec<String> = (1..=10)
        .map(|c| format!(r#"{{"id":{c},"name":"c{c}"}}"#))
        .collect();
    format!(
        r#"{{"images":[{}],"annotations":[{}],"categories":[{}]}}"#,
        images.join(","),
        anns.join(","),
        cats.join(",")
    )
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The two figures (median of `reps` runs each, at least 1).
pub fn figures(reps: usize) -> Result<Vec<Figure>> {
    let dir = std::env::temp_dir().join(format!("anchorscope-bench-coco-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    let img = image::RgbImage::from_pixel(64, 64, image::Rgb([90, 90, 90]));
    for i in 0..IMAGES {
        img.save(dir.join(format!("{i}.png")))?;
    }
    let text = coco_text();
    let ann = dir.join("instances.json");
    std::fs::write(&ann, &text)?;
    let reps = reps.clamp(1, 5);
    let parse: Vec<f64> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            let mut r = Report::default();
            let f = crate::data::coco::parse(&text, &ann, &dir, &mut r);
            std::hint::black_box(f.ok());
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    let spec = DatasetSpec::Coco {
        annotations: ann.clone(),
        images: None,
    };
    let mut open = Vec::new();
    for _ in 0..reps {
        let t = Instant::now();
        let ds = FileDataset::open(&spec, &OpenOptions::default())?;
        open.push(t.elapsed().as_secs_f64() * 1e3);
        anyhow::ensure!(
            ds.box_count() == IMAGES * PER_IMAGE && ds.report().is_empty(),
            "bench dataset did not load cleanly"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
    let fig = |name: &str, ms: f64| Figure::new(name, ms, "ms");
    Ok(vec![
        fig(
            "COCO parse + record checks, 100k annotations (memory)",
            median(parse),
        ),
        fig(
            "COCO open + validate, 100k annotations, 1,000 images",
            median(open),
        ),
    ])
}
