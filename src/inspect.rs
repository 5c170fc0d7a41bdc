//! One image's anchors, assignment and sampler picks: what `anchorscope inspect` prints and
//! what the app draws.
//!
//! Samplers that rank by loss see the untrained model: every anchor scores the prior
//! `prior_prob` (RetinaNet's pi = 0.01) for every class and predicts zero box deltas, so an
//! anchor's loss is its sigmoid CE summed over classes plus, for positives, the L1 loss of its
//! target deltas.

use crate::anchors::Anchors;
use crate::assign::AssignResult;
use crate::config::LabConfig;
use crate::data::{Dataset, DatasetSpec, Sample};
use crate::geometry::DeltaCoder;
use crate::losses::classification::{ce, prior_bias};
use crate::sample::{SampleContext, SampleResult};
use anyhow::{Result, bail};

/// Everything `inspect` computes for one image.
pub struct Inspection {
    /// The image and its annotations.
    pub sample: Sample,
    /// Class names of the dataset.
    pub class_names: Vec<String>,
    /// Generated anchors.
    pub anchors: Anchors,
    /// Their assignment.
    pub assign: AssignResult,
    /// Per-anchor loss under the untrained model (what loss-ranking samplers see).
    pub losses: Vec<f32>,
    /// The samplers' picks, by sampler name.
    pub samplers: Vec<(&'static str, SampleResult)>,
}

/// Runs anchors, assignment and every sampler on image `index` of `spec`.
pub fn inspect(spec: &str, index: usize, cfg: &LabConfig) -> Result<Inspection> {
    let spec = DatasetSpec::parse(spec)?;
    let ds = spec.open()?;
    inspect_dataset(ds.as_ref(), index, cfg)
}

/// Runs anchors, assignment and every sampler on image `index` of an open dataset.
pub fn inspect_dataset(ds: &dyn Dataset, index: usize, cfg: &LabConfig) -> Result<Inspection> {
    if index >= ds.len() {
        bail!(
            "{}: --image {index} is out of range (the dataset has {} images)",
            ds.name(),
            ds.len()
        );
    }
    let sample = ds.load(index)?;
    Ok(inspect_sample(sample, ds.class_names(), cfg))
}

/// Runs anchors, assignment and every sampler on one loaded image.
pub fn inspect_sample(sample: Sample, class_names: Vec<String>, cfg: &LabConfig) -> Inspection {
    let (w, h) = sample.size();
    let anchors = cfg.anchors.generate(w, h);
    let (gts, gt_classes, ignore) = sample.split_crowd();
    let assign = cfg.assign_sample(&anchors, gts, ignore);
    let losses = prior_losses(
        &anchors,
        &assign,
        &sample,
        class_names.len().max(1),
        cfg.prior_prob,
    );
    let scores = vec![cfg.prior_prob as f32; anchors.len()];
    let mut ctx = SampleContext::new(&assign, &anchors.boxes, gts);
    ctx.gt_classes = gt_classes;
    ctx.losses = Some(&losses);
    ctx.scores = Some(&scores);
    ctx.seed = cfg.seed;
    let s = &cfg.samplers;
    let samplers = vec![
        ("random", s.random.sample(&ctx)),
        ("hard_negative", s.hard_negative.sample(&ctx)),
        ("ohem", s.ohem.sample(&ctx)),
        ("iou_balanced", s.iou_balanced.sample(&ctx)),
        ("pisa", s.pisa.sample(&ctx)),
    ];
    Inspection {
        sample,
        class_names,
        anchors,
        assign,
        losses,
        samplers,
    }
}

impl Inspection {
    /// The picks of sampler `key` (`random`, `hard_negative`, `ohem`, `iou_balanced`, `pisa`).
    pub fn sampler(&self, key: &str) -> Option<&SampleResult> {
        self.samplers
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, r)| r)
    }
}

/// Per-anchor loss of the untrained model: CE at the prior logit over all classes, plus the
/// L1 loss of the target deltas for positives (the model predicts zero deltas).
fn prior_losses(
    anchors: &Anchors,
    assign: &AssignResult,
    sample: &Sample,
    num_classes: usize,
    prior_prob: f64,
) -> Vec<f32> {
    let b = prior_bias(prior_prob);
    let neg = ce(b, 0.0).0;
    let pos = ce(b, 1.0).0;
    let coder = DeltaCoder::default();
    assign
        .labels
        .iter()
        .zip(&anchors.boxes)
        .map(|(&l, a)| match l {
            l if l > 0 => {
                let gt = &sample.boxes[(l - 1) as usize];
                let reg: f32 = coder.encode(a, gt).iter().map(|d| d.abs()).sum();
                (pos + (num_classes - 1) as f64 * neg) as f32 + reg
            }
            0 => (num_classes as f64 * neg) as f32,
            _ => 0.0,
        })
        .collect()
}
