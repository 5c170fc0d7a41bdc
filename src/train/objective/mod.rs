//! The training objective on head outputs: per-anchor classification and regression losses,
//! sampler weights, normalisation and weighting, with gradients w.r.t. the logits and deltas.
//!
//! Layouts follow the model: logits `[N][A][C]`, deltas `[N][A][4]`, anchors in
//! [`crate::anchors::AnchorConfig::generate`] order. Per image (in parallel, rayon): assign,
//! sample (OHEM, hard negatives and PISA see the current losses), build the classification
//! targets of the picked anchors and the regression loss of the picked positives. Per batch
//! (in image order, so results are deterministic): the classification loss (GHM-C needs the
//! whole batch), the normaliser, the weighting and the gradients.
//!
//! Conventions:
//! - A positive anchor's row has target 1 (QFL / varifocal: the IoU of its decoded box with
//!   its GT, held constant) at its GT class and 0 elsewhere; a negative's row is all 0.
//!   Each row is multiplied by the anchor's sampler weight.
//! - `L_cls = sum / divisor`, `L_reg = sum / divisor` with the [`Normalizer`] divisor from the
//!   batch's picked positives. GHM-C is the exception: its weights already average over the
//!   `N` picked elements, so `L_cls = sum / N` (MMDetection's `GHMC` ignores `avg_factor`).
//! - The positive / negative split of `L_cls` is per element: target > 0 is positive.
//! - A non-finite logit (delta) makes `loss_cls` (`loss_reg`) NaN and every gradient zero, so
//!   [`crate::train::metrics::divergence`] names the component.
//! - PISA's ISR-P weights apply to both losses of a positive; with the PISA sampler CARL
//!   ([`carl`]) also weights each positive's regression loss.
//! - OHEM, hard negatives and PISA rank by [`crate::sample::ranking`] (the one definition
//!   `inspect` and the app use too).
//!
//! [`Normalizer`]: crate::losses::weighting::Normalizer

mod carl;
mod image;
mod reduction;
mod targets;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_levels;

use crate::anchors::Anchors;
use crate::geometry::Box4;
use crate::losses::classification::{ClsLoss, ClsLossState};
use crate::losses::weighting::NormalizerState;
use crate::train::TrainConfig;
use crate::train::metrics::LevelMetrics;
pub use image::ranking_loss;
use image::{ImagePrep, prepare};
use rayon::prelude::*;
pub use reduction::{LossSums, Reduction, mark_diverged};
pub use targets::{BatchTargets, batch_targets, targets_suffice};

/// Most histogram samples kept per image and quantity (every k-th when there are more).
pub const HIST_CAP: usize = 4096;

/// Every `ceil(n / HIST_CAP)`-th element, so at most [`HIST_CAP`] histogram samples per
/// image and quantity.
fn thin(v: Vec<f32>) -> Vec<f32> {
    let step = v.len().div_ceil(HIST_CAP).max(1);
    if step == 1 {
        v
    } else {
        v.into_iter().step_by(step).collect()
    }
}

/// One image's ground truth.
#[derive(Clone, Copy, Debug)]
pub struct ImageGt<'a> {
    /// GT boxes, `xyxy`.
    pub boxes: &'a [Box4],
    /// Class of each box, 0-based, `< num_classes`.
    pub classes: &'a [usize],
    /// Ignore regions (crowd / difficult boxes): anchors they cover are ignored.
    pub ignore: &'a [Box4],
}

impl<'a> ImageGt<'a> {
    /// The ground truth of a loaded image: its boxes and classes, its crowd / difficult
    /// boxes as ignore regions (see [`crate::data::Sample::split_crowd`]).
    pub fn of(sample: &'a crate::data::Sample) -> Self {
        let (boxes, classes, ignore) = sample.split_crowd();
        Self {
            boxes,
            classes,
            ignore,
        }
    }
}

/// State the objective keeps across steps: the normaliser's EMA and GHM-C's bin averages.
#[derive(Clone, Debug, PartialEq)]
pub struct ObjectiveState {
    /// State of the configured normaliser.
    pub normalizer: NormalizerState,
    /// State of the classification loss.
    pub cls: ClsLossState,
}

impl ObjectiveState {
    /// A fresh state for `cfg`.
    pub fn new(cfg: &TrainConfig) -> Self {
        Self {
            normalizer: cfg.normalizer.new_state(),
            cls: ClsLossState::default(),
        }
    }
}

/// Losses, counts, gradients and histogram samples of one step (one image or a batch).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ObjectiveOutput {
    /// Normalised classification loss (before the weighting factor).
    pub loss_cls: f64,
    /// Normalised regression loss (before the weighting factor).
    pub loss_reg: f64,
    /// `cls_factor * loss_cls + reg_factor * loss_reg`.
    pub total: f64,
    /// Picked positive anchors.
    pub num_pos: usize,
    /// Picked negative anchors.
    pub num_neg_used: usize,
    /// Part of `loss_cls` from positive elements (target > 0).
    pub cls_loss_pos: f64,
    /// Part of `loss_cls` from negative elements (target 0).
    pub cls_loss_neg: f64,
    /// The divisor used for the losses (GHM-C's classification divisor is its element count).
    pub divisor: f64,
    /// d total / d logits, `[N][A][C]`.
    pub grad_logits: Vec<f32>,
    /// d total / d deltas, `[N][A][4]`.
    pub grad_deltas: Vec<f32>,
    /// Assignment IoU of the picked positives' anchors.
    pub iou_pos: Vec<f32>,
    /// Assignment IoU of the picked negatives' anchors.
    pub iou_picked_neg: Vec<f32>,
    /// IoU of the picked positives' decoded boxes with their GT.
    pub pred_iou_pos: Vec<f32>,
    /// `p_t` of the picked positives (their GT class probability).
    pub p_t_pos: Vec<f32>,
    /// `p_t` of the picked negatives (`1 -` their largest class probability).
    pub p_t_neg: Vec<f32>,
    /// Per pyramid level (in level order): picked positives and the level's parts of
    /// `loss_cls` and `loss_reg` (same divisors; `None` where not measured or diverged).
    pub levels: Vec<LevelMetrics>,
}

impl ObjectiveOutput {
    /// Share of the classification loss from positives (0 when the loss is 0).
    pub fn share_pos(&self) -> f64 {
        let t = self.cls_loss_pos + self.cls_loss_neg;
        if t > 0.0 { self.cls_loss_pos / t } else { 0.0 }
    }
}

/// The objective of one image (a batch of one); `seed` seeds the sampler.
pub fn image_objective(
    anchors: &Anchors,
    gt: ImageGt,
    logits: &[f32],
    deltas: &[f32],
    cfg: &TrainConfig,
    state: &mut ObjectiveState,
    seed: u64,
) -> Result<ObjectiveOutput, String> {
    batch_objective(anchors, &[gt], logits, deltas, cfg, state, seed)
}

/// Sampler seed of image `i` of a batch whose seed is `seed`.
pub fn image_seed(seed: u64, i: usize) -> u64 {
    seed ^ (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// The objective of a batch: `logits` `[N][A][C]`, `deltas` `[N][A][4]`, `N = gts.len()`.
/// Images run in parallel; sums are taken in image order (deterministic). Updates `state`.
pub fn batch_objective(
    anchors: &Anchors,
    gts: &[ImageGt],
    logits: &[f32],
    deltas: &[f32],
    cfg: &TrainConfig,
    state: &mut ObjectiveState,
    seed: u64,
) -> Result<ObjectiveOutput, String> {
    let (n, a, c) = (gts.len(), anchors.len(), cfg.num_classes);
    if logits.len() != n * a * c || deltas.len() != n * a * 4 {
        return Err(format!(
            "objective: {n} images x {a} anchors x {c} classes need {} logits and {} deltas, got {} and {}",
            n * a * c,
            n * a * 4,
            logits.len(),
            deltas.len()
        ));
    }
    let mut preps: Vec<ImagePrep> = gts
        .par_iter()
        .enumerate()
        .map(|(i, gt)| {
            let l = &logits[i * a * c..(i + 1) * a * c];
            let d = &deltas[i * a * 4..(i + 1) * a * 4];
            prepare(anchors, gt, l, d, cfg, image_seed(seed, i))
        })
        .collect::<Result<_, _>>()?;
    let mut out = ObjectiveOutput {
        grad_logits: vec![0.0; n * a * c],
        grad_deltas: vec![0.0; n * a * 4],
        levels: level_slots(anchors),
        ..ObjectiveOutput::default()
    };
    let nonfinite_cls = preps.iter().any(|p| p.nonfinite_cls);
    let nonfinite_reg = preps.iter().any(|p| p.nonfinite_reg);
    if nonfinite_cls || nonfinite_reg {
        mark_diverged(&mut out, nonfinite_cls, nonfinite_reg);
        return Ok(out);
    }
    eval_cls(&cfg.cls_loss, &mut preps, &mut state.cls)?;

    let mut sums = LossSums::default();
    let mut elements = 0usize;
    let num_levels = anchors.levels.len();
    let (mut cls_level, mut reg_level) = (vec![0.0; num_levels], vec![0.0; num_levels]);
    for p in &preps {
        for (r, w) in p.row_w.iter().enumerate() {
            let mut row = 0.0;
            for k in r * c..(r + 1) * c {
                let v = w * p.values[k];
                row += v;
                if p.targets[k] > 0.0 {
                    sums.cls_pos += v
                } else {
                    sums.cls_neg += v
                }
            }
            cls_level[anchors.level_of(p.rows[r])] += row;
        }
        elements += p.values.len();
        sums.reg += p.reg_sum;
        out.num_pos += p.num_pos;
        out.num_neg_used += p.num_neg;
        for (l, level) in out.levels.iter_mut().enumerate() {
            level.num_pos += p.pos_level[l];
            reg_level[l] += p.reg_sum_level[l];
        }
    }
    let r = Reduction::new(cfg, &state.normalizer, out.num_pos, elements);
    let w = r.apply(cfg, &sums, &mut out);
    for (l, level) in out.levels.iter_mut().enumerate() {
        level.loss_cls = Some(cls_level[l] / r.cls_divisor);
        level.loss_reg = Some(reg_level[l] / r.divisor);
    }
    let (gc, gr) = r.grad_scale(&w);
    r.commit(&mut state.normalizer);

    out.grad_logits
        .par_chunks_mut(a * c)
        .zip(out.grad_deltas.par_chunks_mut(a * 4))
        .zip(preps.par_iter())
        .for_each(|((gl, gd), p)| {
            for (r, (&anchor, &rw)) in p.rows.iter().zip(&p.row_w).enumerate() {
                for k in 0..c {
                    gl[anchor * c + k] = (gc * rw * p.grads[r * c + k]) as f32;
                }
            }
            for (anchor, g) in &p.reg_grad {
                for k in 0..4 {
                    gd[anchor * 4 + k] = (gr * g[k]) as f32;
                }
            }
        });
    for p in preps {
        out.iou_pos.extend(p.iou_pos);
        out.iou_picked_neg.extend(p.iou_neg);
        out.pred_iou_pos.extend(p.pred_iou_pos);
        out.p_t_pos.extend(p.p_t_pos);
        out.p_t_neg.extend(p.p_t_neg);
    }
    Ok(out)
}

/// One empty [`LevelMetrics`] per level of `anchors` (stride set, nothing counted).
pub fn level_slots(anchors: &Anchors) -> Vec<LevelMetrics> {
    anchors
        .levels
        .iter()
        .map(|l| LevelMetrics {
            stride: l.stride,
            ..LevelMetrics::default()
        })
        .collect()
}

/// Evaluates the classification loss of every prepared image: GHM-C on the whole batch at
/// once (its weights are batch statistics), every other loss per image in parallel.
fn eval_cls(
    loss: &ClsLoss,
    preps: &mut [ImagePrep],
    state: &mut ClsLossState,
) -> Result<(), String> {
    if matches!(loss, ClsLoss::GhmC { .. }) {
        let logits: Vec<f64> = preps
            .iter()
            .flat_map(|p| p.logits.iter().copied())
            .collect();
        let targets: Vec<f64> = preps
            .iter()
            .flat_map(|p| p.targets.iter().copied())
            .collect();
        let o = loss.eval_with_state(&logits, &targets, state)?;
        let mut at = 0;
        for p in preps.iter_mut() {
            let len = p.logits.len();
            p.values = o.values[at..at + len].to_vec();
            p.grads = o.grad[at..at + len].to_vec();
            at += len;
        }
        Ok(())
    } else {
        preps.par_iter_mut().try_for_each(|p| {
            let o = loss.eval(&p.logits, &p.targets)?;
            p.values = o.values;
            p.grads = o.grad;
            Ok(())
        })
    }
}
