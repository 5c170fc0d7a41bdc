//! Head output layout: per-level NCHW maps <-> per-anchor rows in anchor-generator order.
//!
//! Channel `a*K + k` of level `l` at `(y, x)` is value `k` (class or delta coordinate) of
//! anchor `level_start + (y*W + x)*A + a`, the order of [`crate::anchors::AnchorConfig::generate`]
//! (levels, then locations row-major, then ratio-major / scale-minor within a location).

use super::HeadOutputs;
use crate::backend::tensor::Tensor;
use rayon::prelude::*;

/// Anchors per location `A` and classes `C` of head outputs.
pub fn output_dims(o: &HeadOutputs) -> (usize, usize) {
    let t = o.reg.first().expect("head outputs have at least one level");
    let a = t.c() / 4;
    (a, o.cls[0].c() / a)
}

/// Anchors per image over all levels.
pub fn anchors_per_image(o: &HeadOutputs) -> usize {
    let (a, _) = output_dims(o);
    o.reg.iter().map(|t| t.h() * t.w() * a).sum()
}

/// `[N][anchors][k]` rows from per-level maps with `a * k` channels.
fn flatten(levels: &[Tensor], a: usize, k: usize) -> Vec<f32> {
    let n = levels[0].n();
    let per_image: usize = levels.iter().map(|t| t.h() * t.w() * a * k).sum();
    let mut out = vec![0.0; n * per_image];
    if per_image == 0 {
        return out;
    }
    out.par_chunks_mut(per_image)
        .enumerate()
        .for_each(|(i, dst)| {
            let mut start = 0;
            for t in levels {
                let hw = t.h() * t.w();
                for (ch, plane) in t.image(i).chunks_exact(hw).enumerate() {
                    let (aa, kk) = (ch / k, ch % k);
                    for (p, &v) in plane.iter().enumerate() {
                        dst[start + (p * a + aa) * k + kk] = v;
                    }
                }
                start += hw * a * k;
            }
        });
    out
}

/// The inverse of [`flatten`]: fills `levels` (shapes kept) from `[N][anchors][k]` rows.
fn unflatten(rows: &[f32], a: usize, k: usize, levels: &mut [Tensor]) {
    let n = levels[0].n();
    let per_image: usize = levels.iter().map(|t| t.h() * t.w() * a * k).sum();
    assert_eq!(rows.len(), n * per_image, "unflatten: length");
    let mut start = 0;
    for t in levels.iter_mut() {
        let hw = t.h() * t.w();
        let len = t.image_len();
        if len > 0 {
            t.data.par_chunks_mut(len).enumerate().for_each(|(i, img)| {
                let src = &rows[i * per_image + start..];
                for (ch, plane) in img.chunks_exact_mut(hw).enumerate() {
                    let (aa, kk) = (ch / k, ch % k);
                    for (p, v) in plane.iter_mut().enumerate() {
                        *v = src[(p * a + aa) * k + kk];
                    }
                }
            });
        }
        start += hw * a * k;
    }
}

/// Per-anchor logits `[N][anchors][C]` and box deltas `[N][anchors][4]`, anchors in
/// generator order (see the module docs).
pub fn flatten_outputs(o: &HeadOutputs) -> (Vec<f32>, Vec<f32>) {
    let (a, c) = output_dims(o);
    (flatten(&o.cls, a, c), flatten(&o.reg, a, 4))
}

/// The inverse of [`flatten_outputs`], shaped like `like`: turns per-anchor gradients
/// (`[N][anchors][C]` and `[N][anchors][4]`) into the per-level gradients that
/// [`super::Model::backward`] takes.
pub fn unflatten_outputs(logits: &[f32], deltas: &[f32], like: &HeadOutputs) -> HeadOutputs {
    let mut out = like.clone();
    unflatten_outputs_into(logits, deltas, &mut out);
    out
}

/// Like [`unflatten_outputs`], overwriting `out` (whose shapes give the layout).
pub fn unflatten_outputs_into(logits: &[f32], deltas: &[f32], out: &mut HeadOutputs) {
    let (a, c) = output_dims(out);
    unflatten(logits, a, c, &mut out.cls);
    unflatten(deltas, a, 4, &mut out.reg);
}
