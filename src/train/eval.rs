//! Average precision as pycocotools' `COCOeval` computes it (`evaluateImg` and `accumulate`), for
//! the trainer's held-out split: AP per class at one IoU threshold, AP50, AP75 and AP over
//! IoU 0.50:0.05:0.95, area range "all", at most 100 detections per image and class.
//!
//! Matching per image and class: detections by decreasing score (stable), each takes the
//! unmatched GT with the highest IoU `>= min(t, 1 - 1e-10)` (on equal IoU the later GT, as
//! pycocotools), so every GT is matched at most once. Accumulation per class: all images'
//! detections in image order, stable sort by decreasing score, precision made monotone from
//! the right, sampled at the 101 recall thresholds 0:0.01:1 (first index with recall >= r;
//! past the reached recall: 0). A class without GT has AP -1 and is left out of the mean.
//!
//! Not modelled (the synthetic data has none): crowd GTs, ignored GTs and area ranges. The
//! full COCO evaluation (12 stats, crowd and area handling) belongs to `src/eval/`.

use crate::geometry::{Box4, iou};
use crate::train::detect::Detection;
use serde::{Deserialize, Serialize};

/// Detections kept per image and class (COCO's largest `maxDets`).
pub const MAX_DETS: usize = 100;

/// Ground truth and detections of one image.
#[derive(Clone, Copy, Debug)]
pub struct EvalImage<'a> {
    /// GT boxes, `xyxy`.
    pub gt_boxes: &'a [Box4],
    /// GT classes, 0-based.
    pub gt_classes: &'a [usize],
    /// The detector's output.
    pub dets: &'a [Detection],
}

/// AP figures of a held-out split.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ApSummary {
    /// Mean over classes of AP at IoU 0.50:0.05:0.95.
    pub ap: f64,
    /// Mean over classes of AP at IoU 0.5.
    pub ap50: f64,
    /// Mean over classes of AP at IoU 0.75.
    pub ap75: f64,
    /// AP at IoU 0.5 per class (-1: no GT of that class).
    pub per_class_ap50: Vec<f64>,
}

/// Mean of the entries that are not -1; -1 when there is none.
pub fn mean_ap(per_class: &[f64]) -> f64 {
    let valid: Vec<f64> = per_class.iter().copied().filter(|&a| a >= 0.0).collect();
    if valid.is_empty() {
        -1.0
    } else {
        valid.iter().sum::<f64>() / valid.len() as f64
    }
}

/// AP of each class (`num_classes` entries, -1 for a class without GT) at IoU threshold `t`.
pub fn ap_per_class(images: &[EvalImage], num_classes: usize, t: f64) -> Vec<f64> {
    let thr = t.min(1.0 - 1e-10);
    (0..num_classes)
        .map(|class| {
            let mut scored: Vec<(f32, bool)> = Vec::new();
            let mut num_gt = 0usize;
            for im in images {
                let gts: Vec<&Box4> = im
                    .gt_boxes
                    .iter()
                    .zip(im.gt_classes)
                    .filter(|(_, c)| **c == class)
                    .map(|(b, _)| b)
                    .collect();
                num_gt += gts.len();
                let mut dets: Vec<&Detection> =
                    im.dets.iter().filter(|d| d.class == class).collect();
                dets.sort_by(|a, b| b.score.total_cmp(&a.score));
                dets.truncate(MAX_DETS);
                let mut matched = vec![false; gts.len()];
                for d in dets {
                    let mut best: Option<usize> = None;
                    let mut best_iou = thr;
                    for (g, gt) in gts.iter().enumerate() {
                        let v = iou(&d.bbox, gt) as f64;
                        if matched[g] || v < best_iou {
                            continue;
                        }
                        best_iou = v;
                        best = Some(g);
                    }
                    if let Some(g) = best {
                        matched[g] = true;
                    }
                    scored.push((d.score, best.is_some()));
                }
            }
            if num_gt == 0 {
                -1.0
            } else {
                accumulate(scored, num_gt)
            }
        })
        .collect()
}

/// AP from (score, is true positive) pairs in image order and the number of GTs.
fn accumulate(mut scored: Vec<(f32, bool)>, num_gt: usize) -> f64 {
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (mut tp, mut fp) = (0usize, 0usize);
    let mut recall = Vec::with_capacity(scored.len());
    let mut precision = Vec::with_capacity(scored.len());
    for &(_, is_tp) in &scored {
        if is_tp {
            tp += 1
        } else {
            fp += 1
        }
        recall.push(tp as f64 / num_gt as f64);
        precision.push(tp as f64 / (tp + fp) as f64);
    }
    for i in (1..precision.len()).rev() {
        precision[i - 1] = precision[i - 1].max(precision[i]);
    }
    let sum: f64 = (0..=100)
        .map(|k| {
            let r = k as f64 / 100.0;
            let idx = recall.partition_point(|&x| x < r);
            precision.get(idx).copied().unwrap_or(0.0)
        })
        .sum();
    sum / 101.0
}

/// AP, AP50, AP75 and the per-class AP50 of a split.
pub fn evaluate(images: &[EvalImage], num_classes: usize) -> ApSummary {
    let per_t: Vec<Vec<f64>> = (0..10)
        .map(|i| ap_per_class(images, num_classes, 0.5 + 0.05 * i as f64))
        .collect();
    let ap_t: Vec<f64> = per_t.iter().map(|p| mean_ap(p)).collect();
    let ap = if ap_t[0] < 0.0 {
        -1.0
    } else {
        ap_t.iter().sum::<f64>() / 10.0
    };
    ApSummary {
        ap,
        ap50: ap_t[0],
        ap75: ap_t[5],
        per_class_ap50: per_t[0].clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det(bbox: Box4, score: f32, class: usize) -> Detection {
        Detection {
            bbox,
            score,
            class,
            anchor: 0,
        }
    }

    const A: Box4 = [0.0, 0.0, 10.0, 10.0];
    const B: Box4 = [20.0, 20.0, 30.0, 30.0];
    const FAR: Box4 = [50.0, 50.0, 60.0, 60.0];

    fn ap50(gt: &[Box4], cls: &[usize], dets: &[Detection], nc: usize) -> Vec<f64> {
        ap_per_class(
            &[EvalImage {
                gt_boxes: gt,
                gt_classes: cls,
                dets,
            }],
            nc,
            0.5,
        )
    }

    #[test]
    fn perfect_detections() {
        let dets = [det(A, 0.9, 0), det(B, 0.3, 0)];
        assert_eq!(ap50(&[A, B], &[0, 0], &dets, 1), vec![1.0]);
        let s = evaluate(
            &[EvalImage {
                gt_boxes: &[A, B],
                gt_classes: &[0, 0],
                dets: &dets,
            }],
            1,
        );
        assert_eq!((s.ap, s.ap50, s.ap75), (1.0, 1.0, 1.0));
    }

    #[test]
    fn false_positive_ranked_first_or_last() {
        // FP first: precision 0, 1/2, 2/3 at recall 0, 1/2, 1 -> monotone 2/3 everywhere
        let dets = [det(FAR, 0.9, 0), det(A, 0.8, 0), det(B, 0.7, 0)];
        assert!((ap50(&[A, B], &[0, 0], &dets, 1)[0] - 2.0 / 3.0).abs() < 1e-12);
        // FP last: every recall threshold reached at precision 1
        let dets = [det(FAR, 0.1, 0), det(A, 0.8, 0), det(B, 0.7, 0)];
        assert_eq!(ap50(&[A, B], &[0, 0], &dets, 1), vec![1.0]);
        // a duplicate of a matched GT is a false positive (each GT matched once)
        let dets = [det(A, 0.9, 0), det(A, 0.8, 0), det(B, 0.7, 0)];
        assert!(
            (ap50(&[A, B], &[0, 0], &dets, 1)[0] - (51.0 + 50.0 * 2.0 / 3.0) / 101.0).abs() < 1e-12
        );
    }

    #[test]
    fn missed_gt_and_iou_threshold() {
        // recall stops at 1/2: thresholds 0.00..0.50 (51 of 101) at precision 1
        let dets = [det(A, 0.9, 0)];
        assert!((ap50(&[A, B], &[0, 0], &dets, 1)[0] - 51.0 / 101.0).abs() < 1e-12);
        // IoU exactly 0.5 matches at 0.5 but not at 0.55
        let half = [0.0, 0.0, 10.0, 5.0];
        let im = [EvalImage {
            gt_boxes: &[A],
            gt_classes: &[0],
            dets: &[det(half, 0.9, 0)],
        }];
        assert_eq!(ap_per_class(&im, 1, 0.5), vec![1.0]);
        assert_eq!(ap_per_class(&im, 1, 0.55), vec![0.0]);
        assert!((evaluate(&im, 1).ap - 0.1).abs() < 1e-12);
    }

    #[test]
    fn two_classes_and_a_class_without_gt() {
        // class 0 perfect (1), class 1 with an FP first (2/3), class 2 no GT (-1, left out)
        let dets = [
            det(A, 0.9, 0),
            det(FAR, 0.95, 1),
            det(A, 0.8, 1),
            det(B, 0.7, 1),
            det(B, 0.5, 2),
        ];
        let im = [EvalImage {
            gt_boxes: &[A, A, B],
            gt_classes: &[0, 1, 1],
            dets: &dets,
        }];
        let per = ap_per_class(&im, 3, 0.5);
        assert_eq!(per[0], 1.0);
        assert!((per[1] - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(per[2], -1.0);
        assert!((evaluate(&im, 3).ap50 - 5.0 / 6.0).abs() < 1e-12);
        // detections across images are ranked together: image 2's FP outranks image 1's TP
        let im2 = [
            EvalImage {
                gt_boxes: &[A],
                gt_classes: &[0],
                dets: &[det(A, 0.5, 0)],
            },
            EvalImage {
                gt_boxes: &[B],
                gt_classes: &[0],
                dets: &[det(FAR, 0.9, 0), det(B, 0.4, 0)],
            },
        ];
        assert!((ap_per_class(&im2, 1, 0.5)[0] - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(mean_ap(&[-1.0, -1.0]), -1.0);
    }
}
