//! A trainer's held-out split as COCO records: image `i` has id `i + 1`, class `k` is
//! category `k + 1`, GT `j` of the split has annotation id `j + 1` (never 0, see
//! pycocotools' quirk), boxes go from `xyxy` to `[x, y, w, h]`, areas are `w * h`.

use super::evaluator::{CocoEvaluation, EvalError};
use super::records::{CategoryRecord, GtAnnotation, GtFile, GtImage, ResultRecord, xyxy_to_xywh};
use super::summary::EvalSummary;
use crate::geometry::Box4;
use crate::train::detect::Detection;
use serde::{Deserialize, Serialize};

/// Ground truth and detections of one image.
#[derive(Clone, Copy, Debug)]
pub struct EvalImage<'a> {
    /// Image size `(width, height)`.
    pub size: (u32, u32),
    /// GT boxes, `xyxy`.
    pub gt_boxes: &'a [Box4],
    /// GT classes, 0-based.
    pub gt_classes: &'a [usize],
    /// GT crowd flags (empty: none is a crowd).
    pub gt_crowd: &'a [bool],
    /// The detector's output.
    pub dets: &'a [Detection],
}

/// An evaluated held-out split: the summary and the records it came from (what `train`
/// writes as `val_gt.json` and `detections.json`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HeldOutEval {
    /// The 12 stats and per-class AP.
    pub summary: EvalSummary,
    /// The split's ground truth.
    pub gt: GtFile,
    /// The detections, COCO results format.
    pub dets: Vec<ResultRecord>,
}

/// The COCO records of a split whose classes are named `class_names`.
pub fn held_out_records(
    images: &[EvalImage],
    class_names: &[String],
) -> (GtFile, Vec<ResultRecord>) {
    let mut gt = GtFile {
        categories: class_names
            .iter()
            .enumerate()
            .map(|(k, n)| CategoryRecord {
                id: k as u64 + 1,
                name: n.clone(),
            })
            .collect(),
        ..Default::default()
    };
    let mut dets = Vec::new();
    for (i, im) in images.iter().enumerate() {
        let image_id = i as u64 + 1;
        gt.images.push(GtImage {
            id: image_id,
            width: im.size.0,
            height: im.size.1,
            file_name: format!("held-out-{i:05}.png"),
        });
        for (j, (b, &c)) in im.gt_boxes.iter().zip(im.gt_classes).enumerate() {
            let bbox = xyxy_to_xywh(*b);
            gt.annotations.push(GtAnnotation {
                id: gt.annotations.len() as u64 + 1,
                image_id,
                category_id: c as u64 + 1,
                bbox,
                area: Some(bbox[2] * bbox[3]),
                iscrowd: im.gt_crowd.get(j).copied().unwrap_or(false),
            });
        }
        dets.extend(im.dets.iter().map(|d| ResultRecord {
            image_id,
            category_id: d.class as u64 + 1,
            bbox: xyxy_to_xywh(d.bbox),
            score: f64::from(d.score),
        }));
    }
    (gt, dets)
}

impl HeldOutEval {
    /// Evaluates a split (COCO stats and per-class AP).
    pub fn evaluate(images: &[EvalImage], class_names: &[String]) -> Result<Self, EvalError> {
        let (gt, dets) = held_out_records(images, class_names);
        let summary = CocoEvaluation::new(&gt, &dets)?.summary();
        Ok(Self { summary, gt, dets })
    }
}
