//! `anchorscope inspect`: anchors, assignment, sampler picks and IoU histograms for one image.
//! The computation lives in [`crate::inspect`]; this file parses arguments and formats.

use crate::config::LabConfig;
use crate::data::stats::{Histogram, anchor_label_counts, max_iou_histogram};
use crate::data::{DataConfig, Dataset, DatasetSpec};
use crate::inspect::{Inspection, inspect_dataset};
use crate::train::objective::ranking_loss;
use crate::train::{ModelSnapshot, ModelSource, TrainConfig};
use anyhow::{Result, anyhow};
use serde_json::{Value, json};
use std::path::PathBuf;

/// Arguments of `anchorscope inspect`.
#[derive(clap::Args, Debug)]
pub struct InspectArgs {
    /// Dataset SPEC: `synthetic[:PRESET][@SEED]` (default `synthetic:shapes@0`),
    /// `coco:ANNOTATIONS.json[:IMAGES_DIR]`, `voc:DIR` or `yolo:DATA.yaml`.
    #[arg(long)]
    pub dataset: Option<String>,
    /// Image index in the dataset.
    #[arg(long, default_value_t = 0)]
    pub image: usize,
    /// TOML file with `[anchors]`, `[assigner]` and `[samplers.*]` settings; its `[data]`
    /// remedies (tiling, merging, re-sampling), when set, apply to the dataset first.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Score the anchors with this checkpoint's model (default: the untrained prior).
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// Print JSON instead of a readable summary.
    #[arg(long)]
    pub json: bool,
    /// Include every anchor box in the JSON (same order as the labels).
    #[arg(long)]
    pub dump_anchors: bool,
}

/// Runs `anchorscope inspect`.
pub fn run(args: &InspectArgs) -> Result<()> {
    let (cfg, data) = match &args.config {
        Some(p) => load_config(p)?,
        None => (LabConfig::default(), DataConfig::default()),
    };
    let spec = args.dataset.as_deref().unwrap_or("synthetic:shapes@0");
    let snap = match &args.checkpoint {
        Some(p) => Some(ModelSnapshot::from_checkpoint(p).map_err(|e| anyhow!(e))?),
        None => None,
    };
    let ds: std::sync::Arc<dyn Dataset> = DatasetSpec::parse(spec)?.open()?.into();
    if let Some(r) = ds.report() {
        eprintln!("{}: {}", ds.name(), r.summary());
    }
    let ds = data.remedies().apply(ds)?.dataset();
    let ranking = ranking_loss(&TrainConfig::default());
    let ins = inspect_dataset(ds.as_ref(), args.image, &cfg, &ranking, snap.as_ref())?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&to_json(&ins, args.image, args.dump_anchors))?
        );
    } else {
        print!("{}", summary(&ins, spec, args.image));
    }
    Ok(())
}

/// The lab settings and the `[data]` table of a config file.
fn load_config(p: &std::path::Path) -> Result<(LabConfig, DataConfig)> {
    let text =
        std::fs::read_to_string(p).map_err(|e| anyhow!("{}: cannot read: {e}", p.display()))?;
    let origin = p.display().to_string();
    let data = DataConfig::from_toml(&text, &origin).map_err(|e| anyhow!(e))?;
    let mut table: toml::Table =
        toml::from_str(&text).map_err(|e| anyhow!("{origin}: {}", e.message()))?;
    let lab = if table.remove("data").is_some() {
        LabConfig::from_toml(&toml::to_string(&table)?, &origin)
    } else {
        LabConfig::from_toml(&text, &origin)
    };
    Ok((lab.map_err(|e| anyhow!(e))?, data))
}

/// The JSON document of the command-line contract.
pub fn to_json(ins: &Inspection, index: usize, dump_anchors: bool) -> Value {
    let (w, h) = ins.sample.size();
    let gt: Vec<Value> = ins
        .sample
        .boxes
        .iter()
        .zip(&ins.sample.classes)
        .map(|(b, &c)| json!({ "box": b, "class": c, "name": ins.class_names.get(c) }))
        .collect();
    let levels: Vec<Value> = ins
        .anchors
        .levels
        .iter()
        .map(|l| json!({ "stride": l.stride, "anchors": l.count }))
        .collect();
    let a = &ins.assign;
    let samplers: serde_json::Map<String, Value> = ins
        .samplers
        .iter()
        .map(|(name, r)| {
            let mut indices: Vec<usize> = r.pos.iter().chain(&r.neg).copied().collect();
            indices.sort_unstable();
            let mut v = json!({
                "indices": indices, "pos": r.pos, "neg": r.neg,
                "num_pos": r.pos.len(), "num_neg": r.neg.len(),
            });
            if *name == "pisa" {
                v["weights"] = json!(indices.iter().map(|&i| r.weights[i]).collect::<Vec<_>>());
            }
            (name.to_string(), v)
        })
        .collect();
    let mut doc = json!({
        "image": { "index": index, "width": w, "height": h },
        "gt": gt,
        "levels": levels,
        "assign": {
            "labels": a.labels, "max_iou": a.max_iou,
            "num_pos": a.num_pos(), "num_neg": a.num_neg(), "num_ignored": a.num_ignored(),
            "pos_per_gt": a.pos_per_gt(ins.sample.boxes.len()),
        },
        "samplers": samplers,
    });
    let m = &ins.model;
    doc["model"] = match &m.source {
        ModelSource::Prior => json!({ "source": "prior", "step": null }),
        ModelSource::Checkpoint(p) => {
            json!({ "source": "checkpoint", "step": m.step, "path": p.display().to_string() })
        }
        ModelSource::Live => json!({ "source": "live", "step": m.step }),
    };
    if m.source != ModelSource::Prior {
        doc["scores"] = json!(ins.scores);
    }
    if dump_anchors {
        doc["anchors"] = json!(ins.anchors.boxes);
    }
    doc
}

fn bars(h: &Histogram, out: &mut String) {
    let max = h.counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    for (k, &c) in h.counts.iter().enumerate() {
        let n = if c == 0 {
            0
        } else {
            1 + ((c as f64).ln() / max.ln().max(1e-9) * 39.0) as usize
        };
        out.push_str(&format!(
            "  [{:.1}, {:.1})  {:>7}  {}\n",
            h.edges[k],
            h.edges[k + 1],
            c,
            "#".repeat(n.min(40))
        ));
    }
}

/// The readable summary printed without `--json`.
pub fn summary(ins: &Inspection, spec: &str, index: usize) -> String {
    let (w, h) = ins.sample.size();
    let mut s = format!(
        "{spec}, image {index}: {w} x {h}, {} GT boxes\n",
        ins.sample.boxes.len()
    );
    for (b, &c) in ins.sample.boxes.iter().zip(&ins.sample.classes) {
        let name = ins.class_names.get(c).map(String::as_str).unwrap_or("?");
        s.push_str(&format!(
            "  {name:<10} [{:.1}, {:.1}, {:.1}, {:.1}]  {:.0} x {:.0} px\n",
            b[0],
            b[1],
            b[2],
            b[3],
            b[2] - b[0],
            b[3] - b[1]
        ));
    }
    s.push_str(&format!("{}\n", ins.model.caption()));
    s.push_str(&format!("anchors: {}\n", ins.anchors.len()));
    for l in &ins.anchors.levels {
        let labels = &ins.assign.labels[l.start..l.start + l.count];
        let c = anchor_label_counts(labels);
        s.push_str(&format!(
            "  stride {:>3}: {:>6} anchors  {:>4} pos  {:>6} neg  {:>4} ignored\n",
            l.stride, l.count, c.fg, c.bg, c.ignored
        ));
    }
    let c = anchor_label_counts(&ins.assign.labels);
    s.push_str(&format!(
        "assignment: {} positive, {} negative, {} ignored; {:.0} negatives per positive\n",
        c.fg,
        c.bg,
        c.ignored,
        c.bg_per_fg()
    ));
    s.push_str(&format!(
        "positives per GT: {:?}\n",
        ins.assign.pos_per_gt(ins.sample.boxes.len())
    ));
    s.push_str("max IoU of all anchors (log-scaled bars):\n");
    bars(&max_iou_histogram(&ins.assign.max_iou, 10), &mut s);
    for (name, r) in &ins.samplers {
        s.push_str(&format!(
            "sampler {name}: {} positives, {} negatives\n",
            r.pos.len(),
            r.neg.len()
        ));
        let neg_iou = r.neg.iter().map(|&i| ins.assign.max_iou[i]);
        if !r.neg.is_empty() {
            s.push_str("  max IoU of the picked negatives:\n");
            bars(&Histogram::linear(neg_iou, 0.0, 0.5, 5), &mut s);
        }
    }
    s
}
