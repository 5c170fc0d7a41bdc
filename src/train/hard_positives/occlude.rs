//! The occlusion (ASDN idea): the classification loss's gradient with respect to the input
//! batch ([`cls_input_grad`]), then in each positive box the patch of largest first-order
//! loss increase ([`super::patch::best_patch`]) filled with grey ([`fill`]).

use super::PrePass;
use super::patch::{PixelRect, best_patch, gain_map};
use crate::backend::tensor::Tensor;
use crate::data::Sample;
use crate::model::{flatten_outputs, unflatten_outputs_into};
use crate::train::input::{GREY, images_to_tensor, normalise};
use crate::train::objective::{ImageGt, batch_objective};

/// `dL_cls/dx` of the input batch `x` of `gts`: forward on the engine, the run's objective
/// ([`batch_objective`], on a copy of its state, sampler seeded by `seed`) with the
/// regression gradients dropped, backward to the input. `None` when the loss is not finite.
pub fn cls_input_grad(
    pre: &mut PrePass,
    x: &Tensor,
    gts: &[ImageGt],
    seed: u64,
) -> Result<Option<Tensor>, String> {
    let out = pre.engine.forward(x);
    let (logits, deltas) = flatten_outputs(&out);
    let mut state = pre.obj.clone();
    let o = batch_objective(
        pre.anchors,
        gts,
        &logits,
        &deltas,
        pre.cfg,
        &mut state,
        seed,
    )?;
    if !o.total.is_finite() {
        return Ok(None);
    }
    let mut d = out.zeros_like();
    unflatten_outputs_into(&o.grad_logits, &vec![0.0; o.grad_deltas.len()], &mut d);
    Ok(Some(pre.engine.input_grad(&d)))
}

/// Fills the pixels of `r` with [`GREY`].
pub fn fill(image: &mut image::RgbImage, r: PixelRect) {
    for y in r.y0..r.y1 {
        for x in r.x0..r.x1 {
            image.put_pixel(x as u32, y as u32, image::Rgb([GREY; 3]));
        }
    }
}

/// In each positive box of `sample`, the patch of largest gain (`frac` of the box's sides)
/// under the gradient `grad` of its input `x` (one image's `[3, H, W]` planes), when that
/// gain is above 0 (a fill the estimate says lowers the loss makes no hard positive).
/// Returns the patches filled, in box order.
pub fn occlude_image(sample: &mut Sample, grad: &[f32], x: &[f32], frac: f32) -> Vec<PixelRect> {
    let (w, h) = sample.size();
    let gain = gain_map(grad, x, (w * h) as usize, normalise(GREY));
    let boxes = sample.split_crowd().0.to_vec();
    let patches: Vec<PixelRect> = boxes
        .iter()
        .filter_map(|b| PixelRect::of_box(b, w, h))
        .map(|area| best_patch(&gain, w as usize, area, frac))
        .filter(|&(_, g)| g > 0.0)
        .map(|(r, _)| r)
        .collect();
    for &r in &patches {
        fill(&mut sample.image, r);
    }
    patches
}

/// The occlusion of a batch: one pre-pass ([`cls_input_grad`]), then [`occlude_image`] on
/// every image. Returns the number of boxes occluded.
pub fn occlude_batch(batch: &mut [Sample], mut pre: PrePass, seed: u64) -> Result<usize, String> {
    let x = {
        let imgs: Vec<&image::RgbImage> = batch.iter().map(|s| &s.image).collect();
        images_to_tensor(&imgs)
    };
    let grad = {
        let gts: Vec<ImageGt> = batch.iter().map(ImageGt::of).collect();
        cls_input_grad(&mut pre, &x, &gts, seed)?
    };
    let Some(grad) = grad else {
        return Ok(0);
    };
    let per_image = x.data.len() / batch.len().max(1);
    let frac = pre.cfg.hard_positives.patch;
    Ok(batch
        .iter_mut()
        .enumerate()
        .map(|(i, s)| {
            let at = i * per_image..(i + 1) * per_image;
            occlude_image(s, &grad.data[at.clone()], &x.data[at], frac).len()
        })
        .sum())
}
