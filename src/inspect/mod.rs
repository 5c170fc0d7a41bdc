//! One image's anchors, assignment and sampler picks: what `anchorscope inspect` prints and
//! what the app draws.
//!
//! Every anchor is scored by a model ([`ModelOutputs`]): a live run's or a checkpoint's head
//! outputs on this image, or the untrained prior (every logit `-ln((1 - pi) / pi)`, every
//! delta 0). The samplers that rank by loss (hard negatives, OHEM, PISA) rank by
//! [`crate::sample::ranking`], the definition training uses, with the run's losses.

pub mod summary;
pub mod weights;

use crate::anchors::Anchors;
use crate::assign::AssignResult;
use crate::config::LabConfig;
use crate::data::{Dataset, DatasetSpec, Sample};
use crate::geometry::Box4;
use crate::losses::classification::stable::sigmoid;
use crate::sample::ranking::{HeadView, RankingLoss, anchor_scores, max_prob};
use crate::sample::{SampleContext, SampleResult};
use crate::train::model_snapshot::{ModelOutputs, ModelSnapshot};
use anyhow::{Result, anyhow, bail};

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
    /// The model's head outputs on this image and where they come from.
    pub model: ModelOutputs,
    /// Per anchor, its highest class probability under the model.
    pub scores: Vec<f32>,
    /// Class probabilities `[A][C]` under the model.
    pub probs: std::sync::Arc<Vec<f32>>,
    /// Per-anchor ranking loss under the model (what the loss-ranking samplers see).
    pub losses: Vec<f32>,
    /// The losses the ranking uses.
    pub ranking: RankingLoss,
    /// The samplers' picks, by sampler name.
    pub samplers: Vec<(&'static str, SampleResult)>,
}

/// Runs anchors, assignment and every sampler on image `index` of `spec`, scored by
/// `model` (a checkpoint's snapshot, which must fit the anchors and the dataset's classes)
/// or the prior. The ranking losses are the model's run's, else `ranking`.
pub fn inspect(
    spec: &str,
    index: usize,
    cfg: &LabConfig,
    ranking: &RankingLoss,
    model: Option<&ModelSnapshot>,
) -> Result<Inspection> {
    let spec = DatasetSpec::parse(spec)?;
    let ds = spec.open()?;
    inspect_dataset(ds.as_ref(), index, cfg, ranking, model)
}

/// [`inspect`] on an open dataset.
pub fn inspect_dataset(
    ds: &dyn Dataset,
    index: usize,
    cfg: &LabConfig,
    ranking: &RankingLoss,
    model: Option<&ModelSnapshot>,
) -> Result<Inspection> {
    if index >= ds.len() {
        bail!(
            "{}: --image {index} is out of range (the dataset has {} images)",
            ds.name(),
            ds.len()
        );
    }
    let sample = ds.load(index)?;
    let names = ds.class_names();
    let Some(snap) = model else {
        return Ok(inspect_with(sample, names, cfg, ranking, None));
    };
    let origin = match &snap.source {
        crate::train::ModelSource::Checkpoint(p) => p.display().to_string(),
        _ => "model".into(),
    };
    snap.fits(&cfg.anchors, names.len().max(1))
        .map_err(|e| anyhow!("{origin}: does not fit: {e}"))?;
    let out = snap
        .outputs(&sample.image)
        .map_err(|e| anyhow!("{origin}: {e}"))?;
    let ranking = crate::train::objective::ranking_loss(&snap.train);
    Ok(inspect_with(sample, names, cfg, &ranking, Some(out)))
}

/// Runs anchors, assignment and every sampler on one loaded image under the prior, ranking
/// by the default run's losses.
pub fn inspect_sample(sample: Sample, class_names: Vec<String>, cfg: &LabConfig) -> Inspection {
    let ranking = crate::train::objective::ranking_loss(&Default::default());
    inspect_with(sample, class_names, cfg, &ranking, None)
}

/// Runs anchors, assignment and every sampler on one loaded image, scored by `model` (head
/// outputs for this image's anchors; `None` or outputs of another size: the prior).
pub fn inspect_with(
    sample: Sample,
    class_names: Vec<String>,
    cfg: &LabConfig,
    ranking: &RankingLoss,
    model: Option<ModelOutputs>,
) -> Inspection {
    let (w, h) = sample.size();
    let anchors = cfg.anchors.generate(w, h);
    let (gts, gt_classes, ignore) = sample.split_crowd();
    let assign = cfg.assign_sample(&anchors, gts, ignore);
    let nc = class_names.len().max(1);
    let n = anchors.len();
    let model = model
        .filter(|m| m.logits.len() == n * nc && m.deltas.len() == n * 4)
        .unwrap_or_else(|| ModelOutputs::prior(n, nc, cfg.prior_prob));
    let head = HeadView {
        logits: &model.logits,
        deltas: &model.deltas,
        num_classes: nc,
    };
    let losses = ranking.anchor_losses(&anchors.boxes, &assign, gts, gt_classes, head);
    let sampler_scores = anchor_scores(&assign, gt_classes, head);
    let scores: Vec<f32> = model.logits.chunks(nc).map(max_prob).collect();
    let probs = model.logits.iter().map(|&x| sigmoid(x as f64) as f32);
    let probs = std::sync::Arc::new(probs.collect());
    let preds: Vec<Box4> = (0..n)
        .map(|a| {
            let d = &model.deltas[4 * a..4 * a + 4];
            ranking
                .coder
                .decode(&anchors.boxes[a], &[d[0], d[1], d[2], d[3]])
        })
        .collect();
    let mut ctx = SampleContext::new(&assign, &anchors.boxes, gts);
    ctx.gt_classes = gt_classes;
    ctx.losses = Some(&losses);
    ctx.scores = Some(&sampler_scores);
    ctx.pred_boxes = Some(&preds);
    ctx.seed = cfg.seed;
    let s = &cfg.samplers;
    let samplers = vec![
        ("random", s.random.sample(&ctx)),
        ("hard_negative", s.hard_negative.sample(&ctx)),
        ("ohem", s.ohem.sample(&ctx)),
        ("iou_balanced", s.iou_balanced.sample(&ctx)),
        ("instance_balanced", s.instance_balanced.sample(&ctx)),
        ("pisa", s.pisa.sample(&ctx)),
    ];
    Inspection {
        sample,
        class_names,
        anchors,
        assign,
        model,
        scores,
        probs,
        losses,
        ranking: ranking.clone(),
        samplers,
    }
}

impl Inspection {
    /// The picks of sampler `key` (`random`, `hard_negative`, `ohem`, `iou_balanced`,
    /// `instance_balanced`, `pisa`).
    pub fn sampler(&self, key: &str) -> Option<&SampleResult> {
        self.samplers
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, r)| r)
    }
}
