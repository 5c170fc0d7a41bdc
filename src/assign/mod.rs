//! Assigners: which anchors are positive, negative or ignored for a set of GT boxes.
//!
//! Labels follow MMDetection: `-1` ignored, `0` negative, `k > 0` matched GT `k - 1`
//! (see [`AssignResult`]). Ignore regions (crowd, difficult) exclude the anchors they cover
//! ([`assign_ignoring`]). Two assigners: [`MaxIouAssigner`] (RetinaNet, RPN, R-CNN) and
//! [`AtssAssigner`] (adaptive training sample selection); [`AssignerConfig`] picks one.

mod atss;
mod ignore;
mod max_iou;
mod result;

pub use atss::AtssAssigner;
pub use ignore::{DEFAULT_IGNORE_IOF_THR, assign_ignoring, ignored_mask, iof};
pub use max_iou::MaxIouAssigner;
pub use result::AssignResult;

use crate::anchors::Anchors;
use crate::geometry::Box4;
use serde::{Deserialize, Serialize};

/// Which assigner to run, with its settings (serde: `{"kind": "max_iou", ...}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AssignerConfig {
    /// IoU thresholds with optional low-quality matching (RetinaNet default).
    MaxIou(MaxIouAssigner),
    /// ATSS: per-GT adaptive IoU threshold over the nearest anchors of each level.
    Atss(AtssAssigner),
}

impl Default for AssignerConfig {
    fn default() -> Self {
        Self::MaxIou(MaxIouAssigner::default())
    }
}

impl AssignerConfig {
    /// Assigns `anchors` to `gts` with the chosen assigner.
    pub fn assign(&self, anchors: &Anchors, gts: &[Box4]) -> AssignResult {
        match self {
            Self::MaxIou(a) => a.assign(&anchors.boxes, gts),
            Self::Atss(a) => a.assign(anchors, gts),
        }
    }

    /// Short display name ("MaxIoU", "ATSS").
    pub fn name(&self) -> &'static str {
        match self {
            Self::MaxIou(_) => "MaxIoU",
            Self::Atss(_) => "ATSS",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anchors::AnchorConfig;

    #[test]
    fn config_serde_round_trip() {
        let cfgs = [
            AssignerConfig::default(),
            AssignerConfig::MaxIou(MaxIouAssigner::rpn()),
            AssignerConfig::Atss(AtssAssigner { topk: 5 }),
        ];
        for c in cfgs {
            let s = serde_json::to_string(&c).unwrap();
            let back: AssignerConfig = serde_json::from_str(&s).unwrap();
            assert_eq!(back, c, "{s}");
        }
        // missing fields take their defaults
        let c: AssignerConfig =
            serde_json::from_str(r#"{"kind":"max_iou","pos_iou_thr":0.6}"#).unwrap();
        let AssignerConfig::MaxIou(m) = c else {
            panic!("expected max_iou")
        };
        assert_eq!(m.pos_iou_thr, 0.6);
        assert_eq!(m.neg_iou_thr, 0.4);
        let c: AssignerConfig = serde_json::from_str(r#"{"kind":"atss"}"#).unwrap();
        assert_eq!(c, AssignerConfig::Atss(AtssAssigner { topk: 9 }));
    }

    #[test]
    fn config_dispatch() {
        let anchors = AnchorConfig::default().generate(64, 64);
        let gts = [[10.0, 10.0, 40.0, 44.0]];
        for c in [
            AssignerConfig::default(),
            AssignerConfig::Atss(AtssAssigner::default()),
        ] {
            let r = c.assign(&anchors, &gts);
            assert_eq!(r.labels.len(), anchors.len());
            assert!(r.num_pos() > 0, "{}", c.name());
        }
    }
}
