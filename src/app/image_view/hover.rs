//! The hover read-out of one anchor.

use super::ImageView;
use crate::app::state::{OverlayMode, OverlaySettings};
use crate::geometry::iou;
use crate::inspect::Inspection;

/// The live model's class probabilities for the image on screen.
#[derive(Clone, Copy, Debug)]
pub struct ModelScores<'a> {
    /// Class probabilities `[anchors][classes]`, row-major.
    pub probs: &'a [f32],
    /// Training steps the model had done.
    pub step: u64,
    /// Where the model comes from (`live`, `checkpoint`).
    pub source: &'static str,
}

/// The score of anchor `i` and where it comes from. Under the live model: a positive's
/// probability of its GT's class, else the highest class probability (the negative the loss
/// pushes down hardest); without a model: the prior `pi` of every class.
pub fn anchor_score(
    ins: &Inspection,
    i: usize,
    prior: f64,
    model: Option<ModelScores<'_>>,
) -> (f64, String) {
    let classes = ins.class_names.len().max(1);
    let row = model.and_then(|m| m.probs.get(i * classes..(i + 1) * classes).map(|r| (m, r)));
    let Some((m, row)) = row else {
        return (prior, "prior pi, untrained".into());
    };
    let label = ins.assign.labels[i];
    let class = match ins.sample.classes.get((label - 1).max(0) as usize) {
        Some(&c) if label > 0 => c,
        _ => (0..classes)
            .max_by(|&a, &b| row[a].total_cmp(&row[b]))
            .unwrap_or(0),
    };
    let name = ins.class_names.get(class).map_or("?", String::as_str);
    let what = if label > 0 { "target" } else { "highest" };
    let source = format!("{} model at step {}, {what} class {name}", m.source, m.step);
    (row[class] as f64, source)
}

impl ImageView {
    /// Hover read-out of anchor `i`: level, size, ratio, IoU with each GT, label, score, CE, FL,
    /// weight, sampler pick. The score, CE, FL and focal weight come from the live `model`
    /// when given, else from the untrained prior `prior`; the read-out says which.
    pub fn hover_text(
        &self,
        ins: &Inspection,
        settings: &OverlaySettings,
        i: usize,
        prior: f64,
        model: Option<ModelScores<'_>>,
    ) -> String {
        use crate::losses::classification::{FOCAL_ALPHA, FOCAL_GAMMA, ce, focal, stable::logit};
        let m = ins.anchors.meta(i);
        let b = ins.anchors.boxes[i];
        let level = &ins.anchors.levels[m.level];
        let label = ins.assign.labels[i];
        let mut s = format!(
            "anchor {i}\nlevel P{} (stride {}), cell {:?}\nsize {:.1} x {:.1}, ratio {} (h/w), scale {:.3}\n",
            m.level + 3,
            level.stride,
            m.cell,
            b[2] - b[0],
            b[3] - b[1],
            ins.anchors.ratios[m.ratio_index],
            ins.anchors.scales[m.scale_index],
        );
        let what = match label {
            l if l > 0 => format!("positive, matched GT {}", l - 1),
            0 => "negative".into(),
            _ => "ignored".into(),
        };
        s.push_str(&format!(
            "label {label}: {what}\nmax IoU {:.3}\n",
            ins.assign.max_iou[i]
        ));
        for (g, gt) in ins.sample.boxes.iter().enumerate() {
            s.push_str(&format!("  IoU with GT {g}: {:.3}\n", iou(&b, gt)));
        }
        let y = if label > 0 { 1.0 } else { 0.0 };
        let (alpha, gamma) = match settings.loss {
            crate::losses::classification::ClsLoss::Focal { alpha, gamma } => (alpha, gamma),
            _ => (FOCAL_ALPHA, FOCAL_GAMMA),
        };
        let (p, source) = anchor_score(ins, i, prior, model);
        // the logit of the score (for the prior: the RetinaNet bias)
        let x = logit(p.clamp(1e-7, 1.0 - 1e-7));
        s.push_str(&format!(
            "score {p:.4} ({source})\nCE {:.5}, FL {:.6}\n",
            ce(x, y).0,
            focal(x, y, alpha, gamma).0
        ));
        let (p_t, alpha_t) = if y == 1.0 {
            (p, alpha)
        } else {
            (1.0 - p, 1.0 - alpha)
        };
        s.push_str(&format!(
            "focal weight alpha_t (1-p_t)^gamma = {:.3e}\n",
            crate::losses::classification::focal_weight(
                p_t,
                if alpha < 0.0 { 1.0 } else { alpha_t },
                gamma
            )
        ));
        if let Some(w) = self
            .weight(i)
            .filter(|_| settings.mode == OverlayMode::LossWeight)
        {
            s.push_str(&format!(
                "{} weight |dL/dx| / |dCE/dx| (all classes) {:.3e}\n",
                settings.loss.name(),
                w
            ));
        }
        s.push_str(&format!(
            "ranking loss (hard samplers) {:.4}\n",
            ins.losses.get(i).copied().unwrap_or(0.0)
        ));
        let picked = ins
            .sampler(settings.sampler.key())
            .is_some_and(|r| r.weights[i] > 0.0);
        s.push_str(&format!(
            "{}: {}",
            settings.sampler.label(),
            if picked { "picked" } else { "not picked" }
        ));
        s
    }
}
