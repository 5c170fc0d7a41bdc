//! `anchorscope export --dataset SPEC [--config FILE] --out DIR`: the dataset after the data
//! remedies of the config's `[data]` table (tiling, class merging, undersampling, repeat
//! factors) written as a new COCO dataset: DIR/annotations.json and DIR/images/. Images that
//! are an unchanged file (untiled) are copied byte for byte (a repeated image once, named by
//! every copy's record); tiles and generated scenes are written as PNG. DIR must be new (or
//! empty); nothing else is written.

use crate::data::{Annotations, DataConfig, Dataset, DatasetSpec, FileDataset, SyntheticDataset};
use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Arguments of `anchorscope export`.
#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// Dataset SPEC: `coco:ANNOTATIONS.json[:IMAGES_DIR]`, `voc:DIR`, `yolo:DATA.yaml` or
    /// `synthetic[:PRESET][@SEED]` (all its images, every split).
    #[arg(long)]
    pub dataset: String,
    /// TOML file whose `[data]` table sets the remedies (other tables are ignored).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The new folder to write (refused when it exists and is not empty).
    #[arg(long)]
    pub out: PathBuf,
}

/// Fails unless `dir` is absent or an empty folder.
fn check_new_folder(dir: &Path) -> Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    if !dir.is_dir() {
        bail!("{}: exists and is not a folder", dir.display());
    }
    let mut entries =
        std::fs::read_dir(dir).with_context(|| format!("{}: cannot read", dir.display()))?;
    if entries.next().is_some() {
        bail!(
            "{}: exists and is not empty; export writes a new folder",
            dir.display()
        );
    }
    Ok(())
}

/// A file-name-safe version of `s` (letters, digits, `-`, `_`, `.`).
fn safe_name(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            c if c.is_ascii_alphanumeric() || c == '-' || c == '.' => c,
            _ => '_',
        })
        .collect()
}

/// The COCO `annotations` records of one image (ids from `next_id`), `iscrowd` kept.
pub fn coco_annotations(a: &Annotations, image_id: usize, next_id: &mut usize) -> Vec<Value> {
    a.boxes
        .iter()
        .zip(&a.classes)
        .zip(&a.crowd)
        .map(|((b, &c), &crowd)| {
            let (w, h) = (b[2] - b[0], b[3] - b[1]);
            *next_id += 1;
            json!({
                "id": *next_id,
                "image_id": image_id,
                "category_id": c + 1,
                "bbox": [b[0], b[1], w, h],
                "area": w * h,
                "iscrowd": u8::from(crowd),
            })
        })
        .collect()
}

/// Opens the SPEC with the config's image limits.
fn open(spec: &DatasetSpec, cfg: &DataConfig) -> Result<Arc<dyn Dataset>> {
    match spec {
        DatasetSpec::Synthetic { preset, seed } => Ok(Arc::new(
            SyntheticDataset::preset(preset, *seed)
                .ok_or_else(|| anyhow!("dataset spec `{spec}`: unknown preset {preset}"))?,
        )),
        other => {
            let ds = FileDataset::open(other, &cfg.open_options())?;
            eprintln!("{}: {}", ds.name(), ds.report().summary());
            Ok(Arc::new(ds))
        }
    }
}

/// Runs `anchorscope export`.
pub fn run(args: &ExportArgs) -> Result<()> {
    let cfg = match &args.config {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("{}: cannot read", p.display()))?;
            DataConfig::from_toml(&text, &p.display().to_string()).map_err(|e| anyhow!(e))?
        }
        None => DataConfig::default(),
    };
    check_new_folder(&args.out)?;
    let spec = DatasetSpec::parse(&args.dataset)?;
    let applied = cfg.remedies().apply(open(&spec, &cfg)?)?;
    for step in applied.steps()? {
        eprintln!(
            "{}: {} -> {} images, {} -> {} objects",
            step.name,
            step.before.images,
            step.after.images,
            step.before.counts.iter().sum::<u64>(),
            step.after.counts.iter().sum::<u64>()
        );
    }
    let ds = applied.dataset();
    let images_dir = args.out.join("images");
    std::fs::create_dir_all(&images_dir)
        .with_context(|| format!("{}: cannot create", images_dir.display()))?;
    let bar = progress(ds.len() as u64);
    let mut copied: HashMap<PathBuf, String> = HashMap::new();
    let (mut images, mut annotations, mut next_id) = (Vec::new(), Vec::new(), 0usize);
    for i in 0..ds.len() {
        let a = ds.annotations(i)?;
        let file_name = match ds.image_file(i) {
            Some(src) => match copied.get(&src) {
                Some(name) => name.clone(),
                None => {
                    let base = src.file_name().map(|n| n.to_string_lossy().into_owned());
                    let name = format!("{i:06}_{}", safe_name(&base.unwrap_or_default()));
                    std::fs::copy(&src, images_dir.join(&name)).with_context(|| {
                        format!("{}: cannot copy to {}", src.display(), images_dir.display())
                    })?;
                    copied.insert(src, name.clone());
                    name
                }
            },
            None => {
                let s = ds.load(i)?;
                let name = format!("{i:06}_{}.png", safe_name(&ds.image_name(i)));
                let path = images_dir.join(&name);
                s.image
                    .save_with_format(&path, image::ImageFormat::Png)
                    .with_context(|| format!("{}: cannot write", path.display()))?;
                name
            }
        };
        images.push(json!({
            "id": i + 1,
            "file_name": format!("images/{file_name}"),
            "width": a.size.0,
            "height": a.size.1,
        }));
        annotations.extend(coco_annotations(&a, i + 1, &mut next_id));
        if let Some(b) = &bar {
            b.inc(1);
        } else if (i + 1) % 500 == 0 {
            println!("{} / {} images", i + 1, ds.len());
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let categories: Vec<Value> = ds
        .class_names()
        .iter()
        .enumerate()
        .map(|(k, n)| json!({"id": k + 1, "name": n}))
        .collect();
    let doc = json!({"images": images, "annotations": annotations, "categories": categories});
    let path = args.out.join("annotations.json");
    std::fs::write(&path, serde_json::to_string(&doc)?)
        .with_context(|| format!("{}: cannot write", path.display()))?;
    println!(
        "{}: {} images, {} annotations, {} classes",
        path.display(),
        ds.len(),
        next_id,
        categories.len()
    );
    Ok(())
}

/// The progress bar of a terminal (plain lines otherwise), as `train` draws it.
fn progress(len: u64) -> Option<indicatif::ProgressBar> {
    if !std::io::stdout().is_terminal() {
        return None;
    }
    let b = indicatif::ProgressBar::new(len);
    b.set_style(
        indicatif::ProgressStyle::with_template(
            "{elapsed_precise} [{bar:30}] {pos}/{len} images, ETA {eta}",
        )
        .expect("progress template")
        .progress_chars("=> "),
    );
    Some(b)
}
