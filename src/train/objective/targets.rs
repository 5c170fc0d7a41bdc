//! Per-anchor targets for the GPU loss kernels: assignment and a sampler that does not look
//! at the model's outputs, the same choices [`super::image::prepare`] makes, packed as
//! [`AnchorTargets`] so the losses themselves can run on the GPU.

use super::image::positives_per_level;
use super::{ImageGt, image_seed, thin};
use crate::anchors::Anchors;
use crate::assign::AssignResult;
use crate::backend::head_loss::{AnchorTargets, NEGATIVE_LABEL};
use crate::losses::classification::ClsLoss;
use crate::sample::{SampleContext, SampleResult, SamplerConfig};
use crate::train::TrainConfig;
use rayon::prelude::*;

/// What the CPU contributes to a fused GPU step.
#[derive(Clone, Debug)]
pub struct BatchTargets {
    /// Labels, weights and encoded box targets of every anchor of every image.
    pub targets: AnchorTargets,
    /// Picked positives.
    pub num_pos: usize,
    /// Picked negatives.
    pub num_neg: usize,
    /// Picked positives per pyramid level.
    pub pos_level: Vec<usize>,
    /// Assignment IoU of the picked positives' anchors (thinned like the CPU objective's).
    pub iou_pos: Vec<f32>,
    /// Assignment IoU of the picked negatives' anchors.
    pub iou_picked_neg: Vec<f32>,
}

/// True when the objective of `cfg` can be split this way: a sampler that needs no losses,
/// scores or predicted boxes, hard targets, and weighting that does not depend on the
/// losses' values (the loss kernels themselves decide which losses they support).
pub fn targets_suffice(cfg: &TrainConfig) -> bool {
    let blind_sampler = matches!(
        cfg.sampler,
        SamplerConfig::None
            | SamplerConfig::Random(_)
            | SamplerConfig::IouBalanced(_)
            | SamplerConfig::InstanceBalanced(_)
    );
    blind_sampler
        && !cfg.cls_loss.soft_targets()
        && !cfg.weighting.guided
        && !matches!(cfg.cls_loss, ClsLoss::GhmC { .. })
}

/// Assigns and samples every image of a batch (`seed` as in [`super::batch_objective`]).
pub fn batch_targets(
    anchors: &Anchors,
    gts: &[ImageGt],
    cfg: &TrainConfig,
    seed: u64,
) -> Result<BatchTargets, String> {
    let (n, a) = (gts.len(), anchors.len());
    let c = cfg.num_classes;
    let per_image: Vec<_> = gts
        .par_iter()
        .enumerate()
        .map(|(i, gt)| {
            if let Some(&k) = gt.classes.iter().find(|&&k| k >= c) {
                return Err(format!("objective: GT class {k} but num_classes is {c}"));
            }
            let assign = cfg.lab.assign_sample(anchors, gt.boxes, gt.ignore);
            let ctx = SampleContext {
                gt_classes: gt.classes,
                seed: image_seed(seed, i),
                ..SampleContext::new(&assign, &anchors.boxes, gt.boxes)
            };
            let picks = cfg.sampler.sample(&ctx);
            let t = anchor_targets(anchors, &assign, &picks, gt, cfg);
            let iou_pos = thin(picks.pos.iter().map(|&k| assign.max_iou[k]).collect());
            let iou_neg = thin(picks.neg.iter().map(|&k| assign.max_iou[k]).collect());
            let levels = positives_per_level(anchors, &picks.pos);
            Ok((
                t,
                picks.num_pos(),
                picks.num_neg(),
                iou_pos,
                iou_neg,
                levels,
            ))
        })
        .collect::<Result<_, String>>()?;
    let mut out = BatchTargets {
        targets: AnchorTargets::new(n, a),
        num_pos: 0,
        num_neg: 0,
        pos_level: vec![0; anchors.levels.len()],
        iou_pos: Vec::new(),
        iou_picked_neg: Vec::new(),
    };
    for (i, (t, p, ng, ip, ineg, levels)) in per_image.into_iter().enumerate() {
        for (sum, k) in out.pos_level.iter_mut().zip(levels) {
            *sum += k;
        }
        let r = i * a..(i + 1) * a;
        out.targets.labels[r.clone()].copy_from_slice(&t.labels);
        out.targets.cls_weights[r.clone()].copy_from_slice(&t.cls_weights);
        out.targets.reg_weights[r.clone()].copy_from_slice(&t.reg_weights);
        out.targets.reg_targets[r].copy_from_slice(&t.reg_targets);
        out.num_pos += p;
        out.num_neg += ng;
        out.iou_pos.extend(ip);
        out.iou_picked_neg.extend(ineg);
    }
    debug_assert!(
        out.targets
            .labels
            .iter()
            .all(|&l| l == NEGATIVE_LABEL || l >= 0)
    );
    Ok(out)
}

/// The per-anchor targets of one image from its assignment and the sampler's picks: a
/// picked anchor with weight > 0 enters the classification loss with that weight (a
/// positive with its GT's class as label), a picked positive with weight > 0 also enters
/// the regression loss against its GT's encoded deltas. The one target builder of both
/// ways through a step (see [`super::image`]).
pub fn anchor_targets(
    anchors: &Anchors,
    assign: &AssignResult,
    picks: &SampleResult,
    gt: &ImageGt,
    cfg: &TrainConfig,
) -> AnchorTargets {
    let mut t = AnchorTargets::new(1, anchors.len());
    for &k in picks.pos.iter().chain(&picks.neg) {
        let w = picks.weights[k];
        if w > 0.0 {
            t.cls_weights[k] = w;
            if assign.labels[k] > 0 {
                t.labels[k] = gt.classes[assign.matched_gt[k] as usize] as i32;
            }
        }
    }
    for &k in &picks.pos {
        let w = picks.weights[k];
        if w > 0.0 {
            let g = &gt.boxes[assign.matched_gt[k] as usize];
            t.reg_weights[k] = w;
            t.reg_targets[k] = cfg.coder.encode(&anchors.boxes[k], g);
        }
    }
    t
}
