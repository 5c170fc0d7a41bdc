//! [`CocoEvaluation`]: one evaluation of detections against a ground truth on hotcoco's
//! `COCOeval` (pycocotools' evaluate, accumulate, summarize), with the 12 stats, their printed
//! lines and per-class AP read from the accumulated precision and recall arrays.

pub use super::files::EvalError;
use super::records::{GtFile, ResultRecord};
use super::summary::{ClassAp, EvalSummary};
use hotcoco::params::IouType;
use std::collections::HashSet;

/// Area-range slots of the accumulated arrays (pycocotools' order).
pub(crate) const AREA_ALL: usize = 0;
/// Slot of the largest `maxDets` (100).
pub(crate) const MAX_DET_100: usize = 2;

/// A finished evaluation; the analyses ([`super::analysis`]) read it again.
pub struct CocoEvaluation {
    pub(crate) ev: hotcoco::COCOeval,
    pub(crate) gt: GtFile,
    /// Indices into the results list of the detections handed to the evaluator (those of a
    /// GT class, in order); detection `kept[i]` has hotcoco annotation id `i + 1`.
    pub(crate) kept: Vec<usize>,
    pub(crate) dets: Vec<ResultRecord>,
    stats: [f64; 12],
    lines: Vec<String>,
}

impl CocoEvaluation {
    /// Evaluates `dets` against `gt` (both already checked by [`super::files`]). Detections
    /// of a class the GT does not have are left out, as pycocotools never looks at them.
    pub fn new(gt: &GtFile, dets: &[ResultRecord]) -> Result<Self, EvalError> {
        let cats: HashSet<u64> = gt.categories.iter().map(|c| c.id).collect();
        let kept: Vec<usize> = (0..dets.len())
            .filter(|&i| cats.contains(&dets[i].category_id))
            .collect();
        let coco_gt = hotcoco::COCO::from_dataset(gt.to_hotcoco());
        let anns = kept.iter().map(|&i| dets[i].to_hotcoco()).collect();
        let coco_dt = coco_gt
            .load_res_anns(anns)
            .map_err(|e| EvalError(format!("results: {e}")))?;
        let mut ev = hotcoco::COCOeval::new(coco_gt, coco_dt, IouType::Bbox);
        ev.evaluate()
            .map_err(|e| EvalError(format!("evaluation: {e}")))?;
        ev.accumulate();
        ev.summarize_lines();
        let s = ev.stats().unwrap_or(&[]);
        let stats: [f64; 12] = s.try_into().map_err(|_| {
            EvalError(format!(
                "evaluation: {} summary stats, expected 12",
                s.len()
            ))
        })?;
        Ok(Self {
            ev,
            gt: gt.clone(),
            kept,
            dets: dets.to_vec(),
            lines: summary_lines(&stats),
            stats,
        })
    }

    /// The 12 stats: AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl.
    pub fn stats(&self) -> [f64; 12] {
        self.stats
    }

    /// The 12 lines pycocotools' `summarize()` prints.
    pub fn summary_lines(&self) -> &[String] {
        &self.lines
    }

    /// The ground truth evaluated.
    pub fn gt(&self) -> &GtFile {
        &self.gt
    }

    /// The results list evaluated (all of it, including detections of unknown classes).
    pub fn detections(&self) -> &[ResultRecord] {
        &self.dets
    }

    /// The accumulated arrays (always present after `new`).
    pub(crate) fn accumulated(&self) -> &hotcoco::AccumulatedEval {
        self.ev.accumulated().expect("accumulate() ran in new()")
    }

    /// Name of category `id` (from the GT file).
    pub fn class_name(&self, id: u64) -> String {
        self.gt
            .categories
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.name.clone())
            .unwrap_or_else(|| id.to_string())
    }

    /// AP figures of each class, in category-id order: the slices of the precision array
    /// (IoU x recall for AP; one IoU row for AP50 / AP75; one area slot for APs / APm / APl;
    /// the recall array for AR100), each averaged over its entries > -1 as pycocotools'
    /// `_summarize` does for the whole array (-1: the class has no GT in that slice).
    pub fn per_class(&self) -> Vec<ClassAp> {
        let acc = self.accumulated();
        let sh = acc.shape;
        acc.cat_ids
            .iter()
            .enumerate()
            .map(|(k, &id)| {
                let prec = |ts: &[usize], a: usize| {
                    mean_valid(ts.iter().flat_map(|&t| {
                        (0..sh.r)
                            .map(move |r| acc.precision[acc.precision_idx(t, r, k, a, MAX_DET_100)])
                    }))
                };
                let all_t: Vec<usize> = (0..sh.t).collect();
                let ar100 = mean_valid(
                    (0..sh.t).map(|t| acc.recall[acc.recall_idx(t, k, AREA_ALL, MAX_DET_100)]),
                );
                let num_gt = self
                    .gt
                    .annotations
                    .iter()
                    .filter(|a| a.category_id == id && !a.iscrowd)
                    .count();
                ClassAp {
                    id,
                    name: self.class_name(id),
                    ap: prec(&all_t, AREA_ALL),
                    ap50: prec(&[0], AREA_ALL),
                    ap75: prec(&[5], AREA_ALL),
                    aps: prec(&all_t, 1),
                    apm: prec(&all_t, 2),
                    apl: prec(&all_t, 3),
                    ar100,
                    num_gt,
                }
            })
            .collect()
    }

    /// The 12 stats and per-class AP.
    pub fn summary(&self) -> EvalSummary {
        EvalSummary {
            stats: self.stats,
            per_class: self.per_class(),
        }
    }
}

/// pycocotools' `summarize()` lines of the 12 stats, character for character
/// (`' {:<18} {} @[ IoU={:<9} | area={:>6s} | maxDets={:>3d} ] = {:0.3f}'`).
pub fn summary_lines(stats: &[f64; 12]) -> Vec<String> {
    const ROWS: [(bool, &str, &str, u32); 12] = [
        (true, "0.50:0.95", "all", 100),
        (true, "0.50", "all", 100),
        (true, "0.75", "all", 100),
        (true, "0.50:0.95", "small", 100),
        (true, "0.50:0.95", "medium", 100),
        (true, "0.50:0.95", "large", 100),
        (false, "0.50:0.95", "all", 1),
        (false, "0.50:0.95", "all", 10),
        (false, "0.50:0.95", "all", 100),
        (false, "0.50:0.95", "small", 100),
        (false, "0.50:0.95", "medium", 100),
        (false, "0.50:0.95", "large", 100),
    ];
    ROWS.iter()
        .zip(stats)
        .map(|(&(ap, iou, area, max_dets), v)| {
            let (title, kind) = if ap {
                ("Average Precision", "(AP)")
            } else {
                ("Average Recall", "(AR)")
            };
            format!(" {title:<18} {kind} @[ IoU={iou:<9} | area={area:>6} | maxDets={max_dets:>3} ] = {v:.3}")
        })
        .collect()
}

/// Mean of the values > -1; -1 when there is none (pycocotools' `_summarize`).
pub(crate) fn mean_valid(values: impl Iterator<Item = f64>) -> f64 {
    let (mut sum, mut n) = (0.0, 0usize);
    for v in values.filter(|&v| v > -1.0) {
        sum += v;
        n += 1;
    }
    if n == 0 { -1.0 } else { sum / n as f64 }
}
