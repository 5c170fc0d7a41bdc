//! COCO box evaluation, the one home of AP in the crate: the 12 summary stats of pycocotools'
//! `COCOeval`, per-class AP, precision-recall curves, TIDE error analysis, a confusion matrix
//! and per-image TP / FP / FN.
//!
//! The matching and accumulation rules are those of pycocotools 2.0.11 (`COCOeval.evaluate`,
//! `accumulate`, `summarize`), computed by the `hotcoco` crate, a pure-Rust port held to
//! pycocotools' numbers (`tests/eval_parity.rs` compares every stat and every class's AP with
//! pycocotools itself when it is installed):
//! - IoU thresholds 0.50:0.05:0.95, recall thresholds 0:0.01:1 (101), at most 1 / 10 / 100
//!   detections per image and class; area ranges all, small (< 32^2), medium, large (> 96^2),
//!   bounds inclusive, read from each GT's `area` field;
//! - per image and class, detections by decreasing score take the best still-unmatched GT at
//!   IoU >= min(t, 1 - 1e-10); a crowd GT (IoU = intersection / detection area) can take many
//!   and, like a GT outside the area range, is ignored, as is a detection matched to it;
//! - precision made monotone from the right and sampled at the recall thresholds; a class
//!   without GT gets -1 and is left out of every mean.
//!
//! Modules: [`records`] (the COCO JSON records we read and write), [`files`] (reading them with
//! one-line errors), [`evaluator`] (the evaluation and its analyses), [`summary`] (what
//! training and the command line report), [`held_out`] (a trainer's held-out split as COCO
//! records).

pub mod analysis;
pub mod evaluator;
pub mod files;
pub mod held_out;
pub mod records;
pub mod summary;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests_analysis;
#[cfg(test)]
mod tests_ap;
#[cfg(test)]
mod tests_files;

pub use analysis::{
    ConfusionMatrix, ImageErrors, MarkedBox, MatchStatus, PrCurve, TideSummary, WorstBy,
    worst_images,
};
pub use evaluator::CocoEvaluation;
pub use files::EvalError;
pub use held_out::{EvalImage, HeldOutEval, held_out_records};
pub use records::{CategoryRecord, GtAnnotation, GtFile, GtImage, ResultRecord};
pub use summary::{ClassAp, EvalSummary, STAT_NAMES};

/// Detections kept per image and class for the AP figures (COCO's largest `maxDets`).
pub const MAX_DETS: usize = 100;
