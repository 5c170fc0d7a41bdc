//! `anchorscope check --dataset SPEC [--json] [--strict]`: the dataset validation report.
//! Every image is fully decoded (truncated files are found). Exit status 2 when nothing is
//! loadable, and with `--strict` when there is any problem (after the report is printed).

use crate::data::{Dataset, DatasetSpec, FileDataset, OpenOptions, Report, Split};
use anyhow::{Result, anyhow, bail};
use serde_json::{Value, json};

/// Arguments of `anchorscope check`.
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Dataset SPEC: `coco:ANNOTATIONS.json[:IMAGES_DIR]`, `voc:DIR` or `yolo:DATA.yaml`.
    #[arg(long)]
    pub dataset: String,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Exit with status 2 when there is any problem.
    #[arg(long)]
    pub strict: bool,
    /// Largest accepted image in pixels (`image_too_large` above).
    #[arg(long, default_value_t = crate::data::files::DEFAULT_MAX_PIXELS)]
    pub max_pixels: u64,
}

/// The JSON document: `{"dataset", "images", "annotations", "classes":[{"name","count"}],
/// "problems":[{"code","file","record","message"}], "counts":{"CODE": n}}`.
pub fn report_json(spec: &str, ds: Option<&FileDataset>, report: &Report) -> Value {
    let (images, annotations, classes) = match ds {
        Some(d) => {
            let src = d.source();
            let mut counts = vec![0usize; src.classes.len()];
            for im in &src.images {
                for &c in &im.classes {
                    counts[c] += 1;
                }
            }
            let classes: Vec<Value> = src
                .classes
                .iter()
                .zip(counts)
                .map(|(n, c)| json!({"name": n, "count": c}))
                .collect();
            (src.images.len(), d.box_count(), classes)
        }
        None => (0, 0, Vec::new()),
    };
    let problems: Vec<Value> = report
        .problems
        .iter()
        .map(|p| json!({"code": p.code.as_str(), "file": p.file.display().to_string(), "record": p.record, "message": p.message}))
        .collect();
    json!({
        "dataset": spec,
        "images": images,
        "annotations": annotations,
        "classes": classes,
        "problems": problems,
        "counts": report.counts(),
    })
}

/// The readable report.
pub fn report_text(spec: &str, ds: Option<&FileDataset>, report: &Report) -> String {
    let mut s = String::new();
    if let Some(d) = ds {
        let splits: Vec<String> = [Split::Train, Split::Val, Split::Test]
            .iter()
            .map(|&sp| (sp, d.split(sp).len()))
            .filter(|(_, n)| *n > 0)
            .map(|(sp, n)| format!("{} {n}", sp.as_str()))
            .collect();
        s.push_str(&format!(
            "{spec}: {} images ({}), {} annotations kept of {} read, {} classes\n",
            d.len(),
            splits.join(", "),
            d.box_count(),
            d.source().annotations_read,
            d.class_names().len()
        ));
    } else {
        s.push_str(&format!("{spec}: nothing loadable\n"));
    }
    for p in &report.problems {
        s.push_str(&format!("  {p}\n"));
    }
    s.push_str(&format!(
        "{}\n",
        report
            .summary()
            .replace("; `anchorscope check` lists them", "")
    ));
    s
}

/// Runs `anchorscope check`.
pub fn run(args: &CheckArgs) -> Result<()> {
    let spec = DatasetSpec::parse(&args.dataset)?;
    if matches!(spec, DatasetSpec::Synthetic { .. }) {
        bail!("dataset spec `{spec}`: synthetic scenes have nothing to check");
    }
    let opts = OpenOptions {
        max_pixels: args.max_pixels,
        decode_all: true,
        ..OpenOptions::default()
    };
    let (ds, report, err) = match FileDataset::open_checked(&spec, &opts) {
        Ok(d) => {
            let r = d.report().clone();
            (Some(d), r, None)
        }
        Err((e, r)) => (None, r, Some(e)),
    };
    let name = spec.to_string();
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report_json(&name, ds.as_ref(), &report))?
        );
    } else {
        print!("{}", report_text(&name, ds.as_ref(), &report));
    }
    if let Some(e) = err {
        return Err(anyhow!(e));
    }
    if args.strict && !report.is_empty() {
        bail!(
            "{name}: --strict: {}",
            report
                .summary()
                .replace("; `anchorscope check` lists them", "")
        );
    }
    Ok(())
}
