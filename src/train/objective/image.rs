//! The per-image part of the objective: assignment, sampling, classification targets and the
//! (un-normalised) regression loss with its gradient on the deltas.

use super::targets::anchor_targets;
use super::{ImageGt, thin};
use crate::anchors::Anchors;
use crate::assign::AssignResult;
use crate::geometry::{Box4, decode_backward, iou};
use crate::losses::classification::stable::sigmoid;
use crate::sample::ranking::{HeadView, RankingLoss, anchor_scores};
use crate::sample::{SampleContext, SamplerConfig};
use crate::train::TrainConfig;

/// What one image contributes before the batch-level reductions.
#[derive(Default)]
pub(super) struct ImagePrep {
    /// Anchors whose classification rows enter the loss (picked, weight > 0), ascending.
    pub rows: Vec<usize>,
    /// Sampler weight of each row.
    pub row_w: Vec<f64>,
    /// Logits of the rows, `rows x C`.
    pub logits: Vec<f64>,
    /// Targets of the rows, `rows x C`.
    pub targets: Vec<f64>,
    /// Per-element loss values (filled by the batch stage).
    pub values: Vec<f64>,
    /// Per-element loss gradients (filled by the batch stage).
    pub grads: Vec<f64>,
    /// Sum over picked positives of `weight * regression loss`.
    pub reg_sum: f64,
    /// Per picked positive: anchor and `weight * d loss / d deltas`.
    pub reg_grad: Vec<(usize, [f64; 4])>,
    /// Per pyramid level: `weight * regression loss` summed over its picked positives.
    pub reg_sum_level: Vec<f64>,
    /// Per pyramid level: its picked positives.
    pub pos_level: Vec<usize>,
    /// Picked positives and negatives.
    pub num_pos: usize,
    /// Picked negatives.
    pub num_neg: usize,
    /// Histogram samples (see [`super::ObjectiveOutput`]).
    pub iou_pos: Vec<f32>,
    pub iou_neg: Vec<f32>,
    pub pred_iou_pos: Vec<f32>,
    pub p_t_pos: Vec<f32>,
    pub p_t_neg: Vec<f32>,
    /// A logit or a delta of this image is not finite.
    pub nonfinite_cls: bool,
    pub nonfinite_reg: bool,
}

fn delta_row(deltas: &[f32], a: usize) -> [f32; 4] {
    [
        deltas[4 * a],
        deltas[4 * a + 1],
        deltas[4 * a + 2],
        deltas[4 * a + 3],
    ]
}

fn f64x4(b: &Box4) -> [f64; 4] {
    b.map(f64::from)
}

/// Runs assignment, sampling and the regression loss of one image. `logits` is `[A][C]`,
/// `deltas` is `[A][4]`; `seed` seeds the sampler.
pub(super) fn prepare(
    anchors: &Anchors,
    gt: &ImageGt,
    logits: &[f32],
    deltas: &[f32],
    cfg: &TrainConfig,
    seed: u64,
) -> Result<ImagePrep, String> {
    let c = cfg.num_classes;
    let n = anchors.len();
    if logits.len() != n * c || deltas.len() != n * 4 {
        return Err(format!(
            "objective: {} anchors x {c} classes need {} logits and {} deltas, got {} and {}",
            n,
            n * c,
            n * 4,
            logits.len(),
            deltas.len()
        ));
    }
    if gt.boxes.len() != gt.classes.len() {
        return Err(format!(
            "objective: {} GT boxes but {} classes",
            gt.boxes.len(),
            gt.classes.len()
        ));
    }
    if let Some(&k) = gt.classes.iter().find(|&&k| k >= c) {
        return Err(format!("objective: GT class {k} but num_classes is {c}"));
    }
    let mut prep = ImagePrep {
        nonfinite_cls: logits.iter().any(|x| !x.is_finite()),
        nonfinite_reg: deltas.iter().any(|x| !x.is_finite()),
        ..ImagePrep::default()
    };
    if prep.nonfinite_cls || prep.nonfinite_reg {
        return Ok(prep);
    }
    let assign = cfg.lab.assign_sample(anchors, gt.boxes, gt.ignore);
    let coder = &cfg.coder;
    let decode = |a: usize| coder.decode(&anchors.boxes[a], &delta_row(deltas, a));
    let gt_of = |a: usize| assign.matched_gt[a] as usize;
    let reg_one = |a: usize, grad: &mut [f64; 4]| -> f64 {
        reg_loss(cfg, anchors, &assign, gt, deltas, a, grad)
    };

    // What the loss-aware samplers look at, computed only for them.
    let needs_losses = matches!(
        cfg.sampler,
        SamplerConfig::HardNegative(_) | SamplerConfig::Ohem(_) | SamplerConfig::Pisa(_)
    );
    let needs_preds = matches!(cfg.sampler, SamplerConfig::Pisa(_));
    let head = HeadView {
        logits,
        deltas,
        num_classes: c,
    };
    let losses: Option<Vec<f32>> = needs_losses.then(|| {
        ranking_loss(cfg).anchor_losses(&anchors.boxes, &assign, gt.boxes, gt.classes, head)
    });
    let scores: Option<Vec<f32>> = needs_preds.then(|| anchor_scores(&assign, gt.classes, head));
    let preds: Option<Vec<Box4>> = needs_preds.then(|| (0..n).map(decode).collect());
    let ctx = SampleContext {
        gt_classes: gt.classes,
        losses: losses.as_deref(),
        scores: scores.as_deref(),
        pred_boxes: preds.as_deref(),
        seed,
        ..SampleContext::new(&assign, &anchors.boxes, gt.boxes)
    };
    let picks = cfg.sampler.sample(&ctx);
    prep.num_pos = picks.num_pos();
    prep.num_neg = picks.num_neg();
    prep.pos_level = positives_per_level(anchors, &picks.pos);
    prep.reg_sum_level = vec![0.0; anchors.levels.len()];

    let t = anchor_targets(anchors, &assign, &picks, gt, cfg);
    let rows: Vec<usize> = (0..n).filter(|&a| t.cls_weights[a] > 0.0).collect();
    prep.logits.reserve(rows.len() * c);
    prep.targets.reserve(rows.len() * c);
    for &a in &rows {
        let x = &logits[a * c..(a + 1) * c];
        prep.logits.extend(x.iter().map(|&v| v as f64));
        let start = prep.targets.len();
        prep.targets.resize(start + c, 0.0);
        if t.labels[a] >= 0 {
            let k = t.labels[a] as usize;
            prep.targets[start + k] = if cfg.cls_loss.soft_targets() {
                (iou(&decode(a), &gt.boxes[gt_of(a)]) as f64).clamp(0.0, 1.0)
            } else {
                1.0
            };
            prep.p_t_pos.push(sigmoid(x[k] as f64) as f32);
        } else {
            // sigmoid is monotone: the largest probability is that of the largest logit.
            let max_x = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let max_p = if c == 0 { 0.0 } else { sigmoid(max_x as f64) };
            prep.p_t_neg.push((1.0 - max_p) as f32);
        }
        prep.row_w.push(t.cls_weights[a] as f64);
    }
    prep.rows = rows;

    let carl = super::carl::carl_factors(&cfg.sampler, &picks, scores.as_deref());
    for (j, &a) in picks.pos.iter().enumerate() {
        let w = t.reg_weights[a] as f64 * carl.as_ref().map_or(1.0, |c| c[j]);
        prep.iou_pos.push(assign.max_iou[a]);
        prep.pred_iou_pos.push(iou(&decode(a), &gt.boxes[gt_of(a)]));
        if w > 0.0 {
            let mut g = [0.0; 4];
            let v = w * reg_one(a, &mut g);
            prep.reg_sum += v;
            prep.reg_sum_level[anchors.level_of(a)] += v;
            prep.reg_grad.push((a, g.map(|v| w * v)));
        }
    }
    prep.iou_neg = picks.neg.iter().map(|&a| assign.max_iou[a]).collect();
    for v in [
        &mut prep.iou_pos,
        &mut prep.iou_neg,
        &mut prep.pred_iou_pos,
        &mut prep.p_t_pos,
        &mut prep.p_t_neg,
    ] {
        *v = thin(std::mem::take(v));
    }
    Ok(prep)
}

/// How many of the anchors `pos` lie on each pyramid level of `anchors`.
pub(super) fn positives_per_level(anchors: &Anchors, pos: &[usize]) -> Vec<usize> {
    let mut out = vec![0; anchors.levels.len()];
    for &a in pos {
        out[anchors.level_of(a)] += 1;
    }
    out
}

/// Regression loss of positive `a` against its GT; writes `d loss / d deltas` into `grad`.
/// Elementwise losses compare deltas with `coder.encode(anchor, gt)`; the IoU family compares
/// the decoded box with the GT box and back-propagates through the decoder.
fn reg_loss(
    cfg: &TrainConfig,
    anchors: &Anchors,
    assign: &AssignResult,
    gt: &ImageGt,
    deltas: &[f32],
    a: usize,
    grad: &mut [f64; 4],
) -> f64 {
    let anchor = &anchors.boxes[a];
    let gt_box = &gt.boxes[assign.matched_gt[a] as usize];
    let d = delta_row(deltas, a);
    if cfg.reg_loss.works_on_boxes() {
        let pred = f64x4(&cfg.coder.decode(anchor, &d));
        let mut gb = [0.0; 4];
        let v = cfg.reg_loss.eval_one_into(&pred, &f64x4(gt_box), &mut gb);
        *grad = decode_backward(&cfg.coder, anchor, &d, &gb);
        v
    } else {
        let target = cfg.coder.encode(anchor, gt_box).map(f64::from);
        cfg.reg_loss.eval_one_into(&d.map(f64::from), &target, grad)
    }
}

/// The loss the run's hard samplers rank by (see [`crate::sample::ranking`]).
pub fn ranking_loss(cfg: &TrainConfig) -> RankingLoss {
    RankingLoss {
        cls: cfg.cls_loss.clone(),
        reg: cfg.reg_loss,
        coder: cfg.coder,
    }
}
