//! Bounded IoU loss (Tychsen-Smith & Petersson 2018), MMDetection `bounded_iou_loss`.
//!
//! On centres `(cx, cy)` and sizes `(w, h)` of `pred` and `target` (`xyxy`, no `+1`), with
//! `dx = cx_t - cx_p`:
//! - `l_x = 1 - max((w_t - 2|dx|) / (w_t + 2|dx| + eps), 0)`, `l_y` alike with `h`;
//! - `l_w = 1 - min(w_t / (w_p + eps), w_p / (w_t + eps))`, `l_h` alike;
//!
//! each component goes through smooth L1 with `beta` ([`smooth_l1`]; every component is
//! `>= 0` for boxes of positive size, so `l` and `|l|` agree there) and the 4 results are
//! summed. The target is a constant.

use super::elementwise::smooth_l1;

/// Centre component: `(l, dl/dc_p)` for a pred centre `cp`, target centre `ct`, target size `st`.
#[inline]
fn centre_term(cp: f64, ct: f64, st: f64, eps: f64) -> (f64, f64) {
    let d = ct - cp;
    let a = d.abs();
    let den = st + 2.0 * a + eps;
    let f = (st - 2.0 * a) / den;
    if f > 0.0 {
        // dl/da = -df/da = (4 st + 2 eps) / den^2; da/dcp = -sign(d)
        let dl_da = (4.0 * st + 2.0 * eps) / (den * den);
        let s = if d > 0.0 {
            1.0
        } else if d < 0.0 {
            -1.0
        } else {
            0.0
        };
        (1.0 - f, -s * dl_da)
    } else {
        (1.0, 0.0)
    }
}

/// Size component: `(l, dl/ds_p)` for pred size `sp`, target size `st`.
#[inline]
fn size_term(sp: f64, st: f64, eps: f64) -> (f64, f64) {
    let r1 = st / (sp + eps);
    let r2 = sp / (st + eps);
    if r1 < r2 {
        (1.0 - r1, st / ((sp + eps) * (sp + eps)))
    } else {
        (1.0 - r2, -1.0 / (st + eps))
    }
}

/// Bounded IoU loss of one box (sum of the 4 smoothed components) and its gradient w.r.t. `pred`.
/// Defaults: `beta = 0.2`, `eps = 1e-3`.
pub fn bounded_iou(pred: &[f64; 4], target: &[f64; 4], beta: f64, eps: f64) -> (f64, [f64; 4]) {
    let (cxp, cyp) = (0.5 * (pred[0] + pred[2]), 0.5 * (pred[1] + pred[3]));
    let (wp, hp) = (pred[2] - pred[0], pred[3] - pred[1]);
    let (cxt, cyt) = (0.5 * (target[0] + target[2]), 0.5 * (target[1] + target[3]));
    let (wt, ht) = (target[2] - target[0], target[3] - target[1]);

    let (lx, dlx) = centre_term(cxp, cxt, wt, eps);
    let (ly, dly) = centre_term(cyp, cyt, ht, eps);
    let (lw, dlw) = size_term(wp, wt, eps);
    let (lh, dlh) = size_term(hp, ht, eps);

    let (vx, gx) = smooth_l1(lx, beta);
    let (vy, gy) = smooth_l1(ly, beta);
    let (vw, gw) = smooth_l1(lw, beta);
    let (vh, gh) = smooth_l1(lh, beta);

    // dL/d(cx, cy, w, h), then cx = (x1 + x2)/2, w = x2 - x1.
    let d_cx = gx * dlx;
    let d_cy = gy * dly;
    let d_w = gw * dlw;
    let d_h = gh * dlh;
    let grad = [
        0.5 * d_cx - d_w,
        0.5 * d_cy - d_h,
        0.5 * d_cx + d_w,
        0.5 * d_cy + d_h,
    ];
    (vx + vy + vw + vh, grad)
}
