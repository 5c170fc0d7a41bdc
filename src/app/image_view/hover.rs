//! The hover read-out of one anchor.

use super::ImageView;
use crate::app::state::{OverlayMode, OverlaySettings};
use crate::geometry::iou;
use crate::inspect::Inspection;

impl ImageView {
    /// Hover read-out of anchor `i`: level, size, ratio, IoU with each GT, label, score, CE, FL,
    /// weight, sampler pick.
    pub fn hover_text(
        &self,
        ins: &Inspection,
        settings: &OverlaySettings,
        i: usize,
        prior: f64,
    ) -> String {
        use crate::losses::classification::{ce, focal, prior_bias};
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
        let x = prior_bias(prior);
        let y = if label > 0 { 1.0 } else { 0.0 };
        let (alpha, gamma) = match settings.loss {
            crate::losses::classification::ClsLoss::Focal { alpha, gamma } => (alpha, gamma),
            _ => (0.25, 2.0),
        };
        s.push_str(&format!(
            "score {:.4} (target class)\nCE {:.5}, FL {:.6}\n",
            prior,
            ce(x, y).0,
            focal(x, y, alpha, gamma).0
        ));
        let p = prior;
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
                "{} weight (loss / CE, all classes) {:.3e}\n",
                settings.loss.name(),
                w
            ));
        }
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
