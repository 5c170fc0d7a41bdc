//! Error analysis of a [`CocoEvaluation`]: precision-recall curves per class, TIDE's error
//! breakdown, a confusion matrix and per-image TP / FP / FN, each computed by hotcoco
//! (TIDE after Bolya et al. 2020: foreground IoU 0.5, background IoU 0.1).

use super::evaluator::{AREA_ALL, CocoEvaluation, EvalError, MAX_DET_100};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The interpolated precision of one class at one IoU threshold, at the 101 recall
/// thresholds 0:0.01:1 (what AP averages); `None` for a class without GT.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PrCurve {
    /// Category id.
    pub class_id: u64,
    /// Category name.
    pub name: String,
    /// IoU threshold.
    pub iou: f64,
    /// Recall thresholds.
    pub recall: Vec<f64>,
    /// Precision at each recall threshold.
    pub precision: Vec<f64>,
}

/// TIDE: how much AP50 each error type costs (dAP: AP with that error fixed minus AP) and how
/// many errors of each type there are.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TideSummary {
    /// dAP of classification errors (right place, wrong class).
    pub cls: f64,
    /// dAP of localisation errors (right class, IoU in [0.1, 0.5)).
    pub loc: f64,
    /// dAP of errors both of class and of localisation.
    pub both: f64,
    /// dAP of duplicates (a GT already matched by a higher-scoring detection).
    pub dupe: f64,
    /// dAP of background detections (IoU < 0.1 with every GT).
    pub bkg: f64,
    /// dAP of missed GTs (no detection covers them).
    pub miss: f64,
    /// Counts of each type, in the order cls, loc, both, dupe, bkg, miss.
    pub counts: [u64; 6],
    /// The AP50 the deltas are measured from.
    pub ap50: f64,
}

/// Rows: GT class (last row: background, i.e. unmatched detections); columns: predicted
/// class (last column: background, i.e. missed GTs). Class-agnostic greedy matching at IoU
/// 0.5, detections by decreasing score, those below the score threshold dropped first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConfusionMatrix {
    /// Class names of rows and columns 0..K (row / column K is background).
    pub names: Vec<String>,
    /// `(K + 1) x (K + 1)` counts, row-major.
    pub counts: Vec<u64>,
    /// The score threshold.
    pub score_thr: f64,
}

impl ConfusionMatrix {
    /// Count at GT row `gt` and predicted column `pred`.
    pub fn get(&self, gt: usize, pred: usize) -> u64 {
        self.counts[gt * (self.names.len() + 1) + pred]
    }
}

/// What evaluation at IoU 0.5 made of one box.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MatchStatus {
    /// A detection matched to a GT.
    Tp,
    /// A detection matched to nothing.
    Fp,
    /// A GT no detection matched.
    Fn,
    /// A GT a detection matched.
    Matched,
    /// Ignored: a crowd GT, or a detection matched to one.
    Ignored,
}

/// A box of one image with its fate, `[x, y, w, h]`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct MarkedBox {
    /// The box.
    pub bbox: [f64; 4],
    /// Category id.
    pub class_id: u64,
    /// Detection score (`None` for a GT).
    pub score: Option<f64>,
    /// TP / FP for detections, Matched / FN for GTs.
    pub status: MatchStatus,
}

/// One image's TP / FP / FN at IoU 0.5 (100 detections per class) and its own AP.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImageErrors {
    /// Image id.
    pub image_id: u64,
    /// Detections matched.
    pub tp: u32,
    /// Detections unmatched.
    pub fp: u32,
    /// GTs missed.
    pub fn_count: u32,
    /// AP at IoU 0.5 of this image alone (1 for an empty image without detections).
    pub ap: f64,
    /// GTs and detections with their status.
    pub boxes: Vec<MarkedBox>,
}

impl CocoEvaluation {
    /// Precision-recall curve of each class at IoU `iou` (one of 0.50:0.05:0.95).
    pub fn pr_curves(&self, iou: f64) -> Vec<PrCurve> {
        let acc = self.accumulated();
        let t = ((iou - 0.5) / 0.05).round().clamp(0.0, 9.0) as usize;
        let recall = self.ev.params.rec_thrs.clone();
        acc.cat_ids
            .iter()
            .enumerate()
            .map(|(k, &id)| PrCurve {
                class_id: id,
                name: self.class_name(id),
                iou,
                recall: recall.clone(),
                precision: (0..acc.shape.r)
                    .map(|r| acc.precision[acc.precision_idx(t, r, k, AREA_ALL, MAX_DET_100)])
                    .collect(),
            })
            .collect()
    }

    /// TIDE's error breakdown (IoU 0.5 foreground, 0.1 background).
    pub fn tide(&self) -> Result<TideSummary, EvalError> {
        let t = self
            .ev
            .tide_errors(0.5, 0.1)
            .map_err(|e| EvalError(format!("TIDE: {e}")))?;
        let d = |k: &str| t.delta_ap.get(k).copied().unwrap_or(0.0);
        let c = |k: &str| t.counts.get(k).copied().unwrap_or(0);
        Ok(TideSummary {
            cls: d("Cls"),
            loc: d("Loc"),
            both: d("Both"),
            dupe: d("Dupe"),
            bkg: d("Bkg"),
            miss: d("Miss"),
            counts: [
                c("Cls"),
                c("Loc"),
                c("Both"),
                c("Dupe"),
                c("Bkg"),
                c("Miss"),
            ],
            ap50: t.ap_base,
        })
    }

    /// The confusion matrix at IoU 0.5 of the detections scoring at least `score_thr`.
    pub fn confusion(&self, score_thr: f64) -> ConfusionMatrix {
        let m = self.ev.confusion_matrix(0.5, None, Some(score_thr));
        ConfusionMatrix {
            names: m.cat_names.clone(),
            counts: m.matrix.clone(),
            score_thr,
        }
    }

    /// TP / FP / FN of every GT image, in GT file order.
    pub fn per_image(&self) -> Result<Vec<ImageErrors>, EvalError> {
        let diag = self
            .ev
            .image_diagnostics(0.5, 1.0)
            .map_err(|e| EvalError(format!("per-image diagnostics: {e}")))?;
        let mut out: Vec<ImageErrors> = Vec::with_capacity(self.gt.images.len());
        let mut at: HashMap<u64, usize> = HashMap::new();
        for im in &self.gt.images {
            let s = diag.images.get(&im.id);
            at.insert(im.id, out.len());
            out.push(ImageErrors {
                image_id: im.id,
                tp: s.map_or(0, |s| s.tp),
                fp: s.map_or(0, |s| s.fp),
                fn_count: s.map_or(0, |s| s.fn_count),
                ap: s.map_or(1.0, |s| s.ap),
                boxes: Vec::new(),
            });
        }
        for a in &self.gt.annotations {
            let status = match diag.annotations.gt_status.get(&a.id) {
                Some(hotcoco::GtStatus::Fn) => MatchStatus::Fn,
                Some(hotcoco::GtStatus::Matched) => MatchStatus::Matched,
                None => MatchStatus::Ignored,
            };
            out[at[&a.image_id]].boxes.push(MarkedBox {
                bbox: a.bbox,
                class_id: a.category_id,
                score: None,
                status,
            });
        }
        for (i, &d) in self.kept.iter().enumerate() {
            let det = &self.dets[d];
            let status = match diag.annotations.dt_status.get(&(i as u64 + 1)) {
                Some(hotcoco::DtStatus::Tp) => MatchStatus::Tp,
                Some(hotcoco::DtStatus::Fp) => MatchStatus::Fp,
                None => MatchStatus::Ignored,
            };
            out[at[&det.image_id]].boxes.push(MarkedBox {
                bbox: det.bbox,
                class_id: det.category_id,
                score: Some(det.score),
                status,
            });
        }
        Ok(out)
    }
}

/// How to rank the worst images.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WorstBy {
    /// Most missed GTs.
    Missed,
    /// Most false positives.
    FalsePositives,
    /// Lowest per-image AP.
    LowestAp,
}

/// Indices into `images` of the `n` worst by `by` (ties: lower index first).
pub fn worst_images(images: &[ImageErrors], by: WorstBy, n: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..images.len()).collect();
    match by {
        WorstBy::Missed => idx.sort_by_key(|&i| std::cmp::Reverse(images[i].fn_count)),
        WorstBy::FalsePositives => idx.sort_by_key(|&i| std::cmp::Reverse(images[i].fp)),
        WorstBy::LowestAp => idx.sort_by(|&a, &b| images[a].ap.total_cmp(&images[b].ap)),
    }
    idx.truncate(n);
    idx
}
