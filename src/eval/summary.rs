//! What training, the command line and the app report of an evaluation: the 12 stats and
//! per-class AP ([`EvalSummary`]), serialisable as `eval.json`.

use serde::{Deserialize, Serialize};

/// Short names of the 12 stats, in pycocotools' order.
pub const STAT_NAMES: [&str; 12] = [
    "AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl",
];

/// AP figures of one class (-1: no GT of the class in that slice).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ClassAp {
    /// Category id.
    pub id: u64,
    /// Category name.
    pub name: String,
    /// AP at IoU 0.50:0.95, area all, 100 detections.
    pub ap: f64,
    /// AP at IoU 0.5.
    pub ap50: f64,
    /// AP at IoU 0.75.
    pub ap75: f64,
    /// AP of small objects (area < 32^2).
    pub aps: f64,
    /// AP of medium objects.
    pub apm: f64,
    /// AP of large objects (area > 96^2).
    pub apl: f64,
    /// Recall with 100 detections, averaged over IoU 0.50:0.95.
    pub ar100: f64,
    /// GT objects of the class that count (crowd regions excluded).
    pub num_gt: usize,
}

/// The 12 COCO stats and each class's AP figures.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EvalSummary {
    /// AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl (names in
    /// [`STAT_NAMES`]).
    pub stats: [f64; 12],
    /// Per class, in category-id order.
    pub per_class: Vec<ClassAp>,
}

impl EvalSummary {
    /// AP at IoU 0.50:0.95.
    pub fn ap(&self) -> f64 {
        self.stats[0]
    }

    /// AP at IoU 0.5.
    pub fn ap50(&self) -> f64 {
        self.stats[1]
    }

    /// AP at IoU 0.75.
    pub fn ap75(&self) -> f64 {
        self.stats[2]
    }

    /// The stats as a name -> value JSON object.
    pub fn stats_json(&self) -> serde_json::Value {
        STAT_NAMES
            .iter()
            .zip(self.stats)
            .map(|(k, v)| ((*k).to_string(), serde_json::json!(v)))
            .collect::<serde_json::Map<_, _>>()
            .into()
    }
}
