//! IoU-based losses on `xyxy` boxes: IoU (linear / log / square), GIoU, DIoU and CIoU.
//!
//! Every function returns `(loss, d loss / d pred)` with hand-written gradients. They are
//! valid for overlapping and disjoint boxes and whichever box sets each side of the
//! intersection or of the enclosing box. Where two edges coincide (`max`/`min` ties) the
//! gradient is split half and half between the boxes, as `torch.maximum`/`torch.minimum`
//! do; so `pred == target` gives a zero gradient.
//!
//! Conventions: GIoU, DIoU and CIoU follow torchvision (`generalized_box_iou_loss`,
//! `distance_box_iou_loss`, `complete_box_iou_loss`, eps 1e-7 added to the denominators);
//! the IoU loss follows MMDetection's `iou_loss` (union floored at 1e-6, IoU clamped at `eps`).

use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// How the IoU loss maps IoU to a loss (MMDetection `IoULoss(mode=...)`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IouMode {
    /// `1 - IoU`.
    Linear,
    /// `-ln(IoU)` (MMDetection's default).
    #[default]
    Log,
    /// `1 - IoU^2`.
    Square,
}

impl IouMode {
    /// The name used in JSON and settings.
    pub fn name(self) -> &'static str {
        match self {
            IouMode::Linear => "linear",
            IouMode::Log => "log",
            IouMode::Square => "square",
        }
    }
}

/// Share of the derivative of `max(a, b)` that goes to `a` (ties split half and half).
#[inline]
fn max_pick(a: f64, b: f64) -> f64 {
    if a > b {
        1.0
    } else if a == b {
        0.5
    } else {
        0.0
    }
}

/// Share of the derivative of `min(a, b)` that goes to `a` (ties split half and half).
#[inline]
fn min_pick(a: f64, b: f64) -> f64 {
    max_pick(b, a)
}

/// Intersection, union and enclosing box of a pair, each with its gradient w.r.t. `pred`.
struct Geometry {
    inter: f64,
    d_inter: [f64; 4],
    union: f64,
    d_union: [f64; 4],
    /// Width and height of the smallest enclosing box.
    cw: f64,
    ch: f64,
    d_cw: [f64; 4],
    d_ch: [f64; 4],
}

impl Geometry {
    fn new(p: &[f64; 4], t: &[f64; 4]) -> Self {
        let (wp, hp) = (p[2] - p[0], p[3] - p[1]);
        let area_t = (t[2] - t[0]) * (t[3] - t[1]);
        let iw = p[2].min(t[2]) - p[0].max(t[0]);
        let ih = p[3].min(t[3]) - p[1].max(t[1]);
        let (inter, d_inter) = if iw > 0.0 && ih > 0.0 {
            let d = [
                -max_pick(p[0], t[0]) * ih,
                -max_pick(p[1], t[1]) * iw,
                min_pick(p[2], t[2]) * ih,
                min_pick(p[3], t[3]) * iw,
            ];
            (iw * ih, d)
        } else {
            (0.0, [0.0; 4])
        };
        let d_area_p = [-hp, -wp, hp, wp];
        let union = wp * hp + area_t - inter;
        let d_union = std::array::from_fn(|k| d_area_p[k] - d_inter[k]);
        let cw = p[2].max(t[2]) - p[0].min(t[0]);
        let ch = p[3].max(t[3]) - p[1].min(t[1]);
        let d_cw = [-min_pick(p[0], t[0]), 0.0, max_pick(p[2], t[2]), 0.0];
        let d_ch = [0.0, -min_pick(p[1], t[1]), 0.0, max_pick(p[3], t[3])];
        Geometry {
            inter,
            d_inter,
            union,
            d_union,
            cw,
            ch,
            d_cw,
            d_ch,
        }
    }

    /// `inter / (union + eps)` and its gradient.
    fn iou(&self, eps: f64) -> (f64, [f64; 4]) {
        let u = self.union + eps;
        let iou = self.inter / u;
        let d = std::array::from_fn(|k| (self.d_inter[k] - iou * self.d_union[k]) / u);
        (iou, d)
    }
}

/// IoU loss (MMDetection `iou_loss`): IoU = inter / max(union, 1e-6), clamped below at
/// `eps` (default 1e-6; the gradient is 0 where the clamp is active), then mapped by `mode`.
pub fn iou(pred: &[f64; 4], target: &[f64; 4], mode: IouMode, eps: f64) -> (f64, [f64; 4]) {
    const UNION_EPS: f64 = 1e-6;
    let g = Geometry::new(pred, target);
    let (u, du) = if g.union > UNION_EPS {
        (g.union, g.d_union)
    } else {
        (UNION_EPS, [0.0; 4])
    };
    let mut iou = g.inter / u;
    let mut d_iou: [f64; 4] = std::array::from_fn(|k| (g.d_inter[k] - iou * du[k]) / u);
    if iou < eps {
        iou = eps;
        d_iou = [0.0; 4];
    }
    let (value, scale) = match mode {
        IouMode::Linear => (1.0 - iou, -1.0),
        IouMode::Log => (-iou.ln(), -1.0 / iou),
        IouMode::Square => (1.0 - iou * iou, -2.0 * iou),
    };
    (value, d_iou.map(|d| scale * d))
}

/// GIoU loss (torchvision): `1 - inter/(U+eps) + (C - U)/(C + eps)`, C the enclosing area.
pub fn giou(pred: &[f64; 4], target: &[f64; 4], eps: f64) -> (f64, [f64; 4]) {
    let g = Geometry::new(pred, target);
    let (iou, d_iou) = g.iou(eps);
    let c = g.cw * g.ch;
    let ce = c + eps;
    let pen = (c - g.union) / ce;
    let grad = std::array::from_fn(|k| {
        let dc = g.ch * g.d_cw[k] + g.cw * g.d_ch[k];
        -d_iou[k] + (dc - g.d_union[k] - pen * dc) / ce
    });
    (1.0 - iou + pen, grad)
}

/// DIoU terms shared with CIoU: `1 - IoU + rho^2 / (c^2 + eps)` and its gradient, plus IoU.
fn diou_parts(pred: &[f64; 4], target: &[f64; 4], eps: f64) -> (f64, [f64; 4], f64) {
    let g = Geometry::new(pred, target);
    let (iou, d_iou) = g.iou(eps);
    let dx = 0.5 * (pred[0] + pred[2]) - 0.5 * (target[0] + target[2]);
    let dy = 0.5 * (pred[1] + pred[3]) - 0.5 * (target[1] + target[3]);
    let rho2 = dx * dx + dy * dy;
    let d_rho2 = [dx, dy, dx, dy];
    let c2 = g.cw * g.cw + g.ch * g.ch + eps;
    let pen = rho2 / c2;
    let grad = std::array::from_fn(|k| {
        let dc2 = 2.0 * g.cw * g.d_cw[k] + 2.0 * g.ch * g.d_ch[k];
        -d_iou[k] + (d_rho2[k] - pen * dc2) / c2
    });
    (1.0 - iou + pen, grad, iou)
}

/// DIoU loss (torchvision): `1 - IoU + rho^2 / c^2`, centre distance over enclosing diagonal.
pub fn diou(pred: &[f64; 4], target: &[f64; 4], eps: f64) -> (f64, [f64; 4]) {
    let (value, grad, _) = diou_parts(pred, target, eps);
    (value, grad)
}

/// CIoU loss `1 - IoU + rho^2/c^2 + alpha v`, `v = 4/pi^2 (atan(wt/ht) - atan(wp/hp))^2`;
/// alpha is a constant in backward, as in both libraries.
///
/// `gated = false` (default): torchvision, `alpha = v / (1 - IoU + v + eps)`.
/// `gated = true`: MMDetection `ciou_loss`: `alpha = [IoU > 0.5] v / (1 - IoU + v)`, heights
/// `h + eps` inside the arctangents, and the loss clamped to `[0, 2]` (never active in
/// practice: with the gate the loss stays below 2).
pub fn ciou(pred: &[f64; 4], target: &[f64; 4], eps: f64, gated: bool) -> (f64, [f64; 4]) {
    let (value, grad, _) = ciou_with_alpha(pred, target, eps, gated, None);
    (value, grad)
}

/// CIoU with an optional fixed `alpha` (for gradient checks); also returns the alpha used.
pub(crate) fn ciou_with_alpha(
    pred: &[f64; 4],
    target: &[f64; 4],
    eps: f64,
    gated: bool,
    alpha_fixed: Option<f64>,
) -> (f64, [f64; 4], f64) {
    let (diou_value, diou_grad, iou) = diou_parts(pred, target, eps);
    let h_eps = if gated { eps } else { 0.0 };
    let (wp, hp) = (pred[2] - pred[0], pred[3] - pred[1] + h_eps);
    let (wt, ht) = (target[2] - target[0], target[3] - target[1] + h_eps);
    // atan2(w, h) equals atan(w / h) for h > 0 and stays finite at h = 0.
    let diff = wt.atan2(ht) - wp.atan2(hp);
    let k = 4.0 / (PI * PI);
    let v = k * diff * diff;
    let r2 = wp * wp + hp * hp;
    let (dv_dw, dv_dh) = if r2 > 0.0 {
        (-2.0 * k * diff * hp / r2, 2.0 * k * diff * wp / r2)
    } else {
        (0.0, 0.0)
    };
    let dv = [-dv_dw, -dv_dh, dv_dw, dv_dh];
    let alpha = alpha_fixed.unwrap_or_else(|| {
        if gated {
            let den = 1.0 - iou + v;
            if iou > 0.5 && den > 0.0 { v / den } else { 0.0 }
        } else {
            v / (1.0 - iou + v + eps)
        }
    });
    let value = diou_value + alpha * v;
    let grad = std::array::from_fn(|j| diou_grad[j] + alpha * dv[j]);
    if gated && !(0.0..=2.0).contains(&value) {
        return (value.clamp(0.0, 2.0), [0.0; 4], alpha);
    }
    (value, grad, alpha)
}
