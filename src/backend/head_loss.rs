//! The per-anchor loss kernels shared by both backends ([`crate::backend::Backend::head_loss`]):
//! which losses they cover ([`HeadLossSpec`]), a step's per-anchor targets
//! ([`AnchorTargets`]), one pyramid level's layout ([`HeadLevel`]), and the CPU reference
//! implementation, which calls the library's loss formulas (`ClsLoss::pointwise`,
//! `RegLoss::eval_one_into`) so that every formula still lives once.

use crate::backend::tensor::Tensor;
use crate::losses::classification::ClsLoss;
use crate::losses::regression::RegLoss;

/// Partial values per anchor: classification over positive-target elements, over
/// negative-target elements, regression, non-finite logits flag, non-finite deltas flag.
pub const PARTIALS_PER_ANCHOR: usize = 5;

/// A classification and a regression loss that the loss kernels cover: CE, balanced CE,
/// focal and FL* (CE and balanced CE are focal with gamma 0) with valid parameters, and L1,
/// L2, smooth L1 or balanced L1 on the deltas. Every other loss (GHM-C, QFL, varifocal, EQL,
/// the IoU family, KL) or invalid parameters stay on the host objective.
#[derive(Clone, Debug, PartialEq)]
pub struct HeadLossSpec {
    /// The classification loss.
    pub cls: ClsLoss,
    /// The regression loss.
    pub reg: RegLoss,
}

impl HeadLossSpec {
    /// `Some` when both losses are covered (see the type doc) with valid parameters.
    pub fn new(cls: &ClsLoss, reg: &RegLoss) -> Option<Self> {
        let cls_ok = cls.validate().is_ok()
            && matches!(
                cls,
                ClsLoss::Ce
                    | ClsLoss::BalancedCe { .. }
                    | ClsLoss::Focal { .. }
                    | ClsLoss::FocalStar { .. }
            );
        let pos = |v: f64| v.is_finite() && v > 0.0;
        let reg_ok = match *reg {
            RegLoss::L1 | RegLoss::L2 => true,
            RegLoss::SmoothL1 { beta } => beta.is_finite() && beta >= 0.0,
            RegLoss::BalancedL1 { alpha, gamma, beta } => {
                // The kernels also need b = e^(gamma / alpha) - 1 to be a finite f32.
                pos(alpha)
                    && pos(gamma)
                    && pos(beta)
                    && (((gamma / alpha).exp() - 1.0) as f32).is_finite()
            }
            _ => false,
        };
        (cls_ok && reg_ok).then(|| Self {
            cls: cls.clone(),
            reg: *reg,
        })
    }
}

/// One pyramid level of the head outputs: its maps are `[N, a*c, h, w]` (classes) and
/// `[N, a*4, h, w]` (deltas), and its anchors start at `level_start` within an image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeadLevel {
    /// Anchors per location `A`.
    pub a: usize,
    /// Classes `C`.
    pub c: usize,
    /// Map height.
    pub h: usize,
    /// Map width.
    pub w: usize,
    /// Index of the level's first anchor within an image.
    pub level_start: usize,
    /// Anchors per image over all levels.
    pub anchors_per_image: usize,
}

/// The label of a negative anchor (all class targets 0).
pub const NEGATIVE_LABEL: i32 = -1;

/// One step's per-anchor targets, `[N][anchors_per_image]` in anchor-generator order.
#[derive(Clone, Debug, PartialEq)]
pub struct AnchorTargets {
    /// Images in the batch `N`.
    pub n_images: usize,
    /// Anchors per image over all levels.
    pub anchors_per_image: usize,
    /// [`NEGATIVE_LABEL`] for a negative, `k` in `0..C` for a positive of class `k`
    /// (any other value also acts as a negative).
    pub labels: Vec<i32>,
    /// Sampler weight in the classification loss; 0 leaves the anchor out of it.
    pub cls_weights: Vec<f32>,
    /// Weight in the regression loss; 0 unless the anchor is a picked positive.
    pub reg_weights: Vec<f32>,
    /// Encoded target deltas (used where `reg_weights` is non-zero).
    pub reg_targets: Vec<[f32; 4]>,
}

impl AnchorTargets {
    /// Targets for `n_images x anchors_per_image` anchors, all negatives with weight 0.
    pub fn new(n_images: usize, anchors_per_image: usize) -> Self {
        let len = n_images * anchors_per_image;
        Self {
            n_images,
            anchors_per_image,
            labels: vec![NEGATIVE_LABEL; len],
            cls_weights: vec![0.0; len],
            reg_weights: vec![0.0; len],
            reg_targets: vec![[0.0; 4]; len],
        }
    }

    /// Number of anchors over the batch, `n_images * anchors_per_image`.
    pub fn len(&self) -> usize {
        self.n_images * self.anchors_per_image
    }

    /// True when the batch has no anchors.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The CPU reference of the loss kernels for one level (same contract as
/// [`crate::backend::gpu::loss::record_head_loss`]): OVERWRITES `grad_cls` / `grad_reg` with
/// `gc * cls_weight * dL/dx` and `gr * reg_weight * dL/dd`, and writes the
/// [`PARTIALS_PER_ANCHOR`] partial values of each of the level's anchors into `partials`
/// (indexed by `image * anchors_per_image + anchor`).
#[allow(clippy::too_many_arguments)]
pub fn head_loss_cpu(
    spec: &HeadLossSpec,
    level: &HeadLevel,
    cls: &Tensor,
    reg: &Tensor,
    targets: &AnchorTargets,
    grad_cls: &mut Tensor,
    grad_reg: &mut Tensor,
    partials: &mut [f32],
    (gc, gr): (f32, f32),
) {
    let HeadLevel { a, c, h, w, .. } = *level;
    let n = cls.n();
    assert_eq!(cls.shape, [n, a * c, h, w], "head loss: class map shape");
    assert_eq!(reg.shape, [n, a * 4, h, w], "head loss: box map shape");
    grad_cls.reshape_for(cls.shape);
    grad_reg.reshape_for(reg.shape);
    let hw = h * w;
    for img in 0..n {
        for p in 0..hw {
            for k in 0..a {
                let anchor = level.level_start + p * a + k;
                let t = img * level.anchors_per_image + anchor;
                let ci = |j: usize| ((img * a * c + k * c + j) * hw) + p;
                let ri = |j: usize| ((img * a * 4 + k * 4 + j) * hw) + p;
                let x: Vec<f64> = (0..c).map(|j| cls.data[ci(j)] as f64).collect();
                let d: Vec<f64> = (0..4).map(|j| reg.data[ri(j)] as f64).collect();
                let bad_x = x.iter().any(|v| !v.is_finite());
                let bad_d = d.iter().any(|v| !v.is_finite());
                let mut part = [0.0f64; PARTIALS_PER_ANCHOR];
                part[3] = bad_x as u8 as f64;
                part[4] = bad_d as u8 as f64;
                let cw = targets.cls_weights[t] as f64;
                for (j, &xj) in x.iter().enumerate() {
                    let y = (targets.labels[t] == j as i32) as u8 as f64;
                    let (v, g) = if cw != 0.0 && !bad_x {
                        spec.cls
                            .pointwise(xj, y)
                            .expect("covered losses are pointwise")
                    } else {
                        (0.0, 0.0)
                    };
                    part[if y > 0.0 { 0 } else { 1 }] += cw * v;
                    grad_cls.data[ci(j)] = (gc as f64 * cw * g) as f32;
                }
                let rw = targets.reg_weights[t] as f64;
                let mut g = [0.0; 4];
                if rw != 0.0 && !bad_d {
                    let target = targets.reg_targets[t].map(f64::from);
                    part[2] = rw * spec.reg.eval_one_into(&d, &target, &mut g);
                }
                for (j, gj) in g.iter().enumerate() {
                    grad_reg.data[ri(j)] = (gr as f64 * rw * gj) as f32;
                }
                let dst = &mut partials[t * PARTIALS_PER_ANCHOR..(t + 1) * PARTIALS_PER_ANCHOR];
                for (o, v) in dst.iter_mut().zip(part) {
                    *o = v as f32;
                }
            }
        }
    }
}

/// Sums the partial columns of the first `n_anchors` anchors (in f64, anchor order).
pub fn loss_sums_cpu(partials: &[f32], n_anchors: usize) -> [f64; PARTIALS_PER_ANCHOR] {
    let mut s = [0.0; PARTIALS_PER_ANCHOR];
    for row in partials[..n_anchors * PARTIALS_PER_ANCHOR].chunks_exact(PARTIALS_PER_ANCHOR) {
        for (o, &v) in s.iter_mut().zip(row) {
            *o += v as f64;
        }
    }
    s
}
