//! AP by hand: each expected value is the mean over the 101 recall thresholds of the
//! interpolated precision (pycocotools' `accumulate`), worked out in the comments. pycocotools
//! computes precision as tp / (tp + fp + eps) with eps = np.spacing(1), so a perfect precision
//! reads 1 - 2e-16: values are compared to 1e-12.

use super::CocoEvaluation;
use super::held_out::{EvalImage, HeldOutEval};
use super::test_support::{det, gt_file};
use crate::train::detect::Detection;

const A: [f64; 4] = [0.0, 0.0, 10.0, 10.0];
const B: [f64; 4] = [20.0, 20.0, 10.0, 10.0];
const FAR: [f64; 4] = [50.0, 50.0, 10.0, 10.0];

fn ap50(objects: &[(u64, u64, [f64; 4], bool)], dets: &[super::ResultRecord]) -> f64 {
    let gt = gt_file(2, &["a", "b", "c"], objects);
    CocoEvaluation::new(&gt, dets).unwrap().stats()[1]
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[test]
fn perfect_detections_give_one_everywhere_there_is_gt() {
    let gt = gt_file(1, &["a"], &[(1, 1, A, false), (1, 1, B, false)]);
    let ev = CocoEvaluation::new(&gt, &[det(1, 1, A, 0.9), det(1, 1, B, 0.3)]).unwrap();
    let s = ev.stats();
    // AP, AP50, AP75, APs (both boxes are 10 x 10 = 100 px^2 < 32^2), AR1 = 1/2, AR10, AR100
    assert!(s[..4].iter().all(|&v| close(v, 1.0)), "{s:?}");
    assert_eq!((s[4], s[5]), (-1.0, -1.0), "no medium or large GT");
    assert_eq!((s[6], s[7], s[8]), (0.5, 1.0, 1.0));
    assert_eq!(ev.summary_lines().len(), 12);
    assert_eq!(
        ev.summary_lines()[5],
        " Average Precision  (AP) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = -1.000"
    );
    assert_eq!(
        ev.summary_lines()[6],
        " Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  1 ] = 0.500"
    );
}

#[test]
fn false_positive_ranked_first_or_last_and_duplicates() {
    let two = [(1, 1, A, false), (1, 1, B, false)];
    // FP first: precision 0, 1/2, 2/3 at recall 0, 1/2, 1 -> monotone 2/3 everywhere
    let d = [det(1, 1, FAR, 0.9), det(1, 1, A, 0.8), det(1, 1, B, 0.7)];
    assert!(close(ap50(&two, &d), 2.0 / 3.0));
    // FP last: every recall threshold is reached at precision 1
    let d = [det(1, 1, FAR, 0.1), det(1, 1, A, 0.8), det(1, 1, B, 0.7)];
    assert!(close(ap50(&two, &d), 1.0));
    // a duplicate of a matched GT is an FP: recall 0..0.5 at 1 (51), 0.51..1 at 2/3 (50)
    let d = [det(1, 1, A, 0.9), det(1, 1, A, 0.8), det(1, 1, B, 0.7)];
    assert!(close(ap50(&two, &d), (51.0 + 50.0 * 2.0 / 3.0) / 101.0));
}

#[test]
fn missed_gt_and_the_iou_threshold() {
    // recall stops at 1/2: thresholds 0.00..0.50 (51 of 101) at precision 1
    let d = [det(1, 1, A, 0.9)];
    assert!(close(
        ap50(&[(1, 1, A, false), (1, 1, B, false)], &d),
        51.0 / 101.0
    ));
    // IoU exactly 0.5 matches at 0.5 but not at 0.55: AP = 1 at one of ten thresholds
    let gt = gt_file(1, &["a"], &[(1, 1, A, false)]);
    let ev = CocoEvaluation::new(&gt, &[det(1, 1, [0.0, 0.0, 10.0, 5.0], 0.9)]).unwrap();
    assert!(close(ev.stats()[1], 1.0));
    assert_eq!(ev.stats()[2], 0.0);
    assert!(close(ev.stats()[0], 0.1));
}

#[test]
fn classes_without_gt_are_left_out_and_images_rank_together() {
    // class a perfect (1), class b with an FP first (2/3), class c without GT (-1, left out)
    let objects = [(1, 1, A, false), (1, 2, A, false), (1, 2, B, false)];
    let d = [
        det(1, 1, A, 0.9),
        det(1, 2, FAR, 0.95),
        det(1, 2, A, 0.8),
        det(1, 2, B, 0.7),
        det(1, 3, B, 0.5),
    ];
    let gt = gt_file(2, &["a", "b", "c"], &objects);
    let ev = CocoEvaluation::new(&gt, &d).unwrap();
    let per = ev.per_class();
    assert!(close(per[0].ap50, 1.0));
    assert!(close(per[1].ap50, 2.0 / 3.0));
    assert_eq!((per[2].ap50, per[2].ap, per[2].num_gt), (-1.0, -1.0, 0));
    assert_eq!((per[0].num_gt, per[1].num_gt), (1, 2));
    assert!(close(ev.stats()[1], 5.0 / 6.0));
    // image 2's FP outranks image 1's TP: precision 0, 1/2, 2/3 -> 2/3
    let objects = [(1, 1, A, false), (2, 1, B, false)];
    let d = [det(1, 1, A, 0.5), det(2, 1, FAR, 0.9), det(2, 1, B, 0.4)];
    assert!(close(ap50(&objects, &d), 2.0 / 3.0));
}

#[test]
fn crowd_regions_absorb_detections_and_do_not_count_as_missed() {
    // a 40 x 40 crowd region holding two detections, and one plain GT found
    let crowd = [0.0, 0.0, 40.0, 40.0];
    let gt = gt_file(1, &["a"], &[(1, 1, crowd, true), (1, 1, FAR, false)]);
    let inside = [[0.0, 0.0, 20.0, 20.0], [20.0, 20.0, 20.0, 20.0]];
    let d = [
        det(1, 1, inside[0], 0.95),
        det(1, 1, inside[1], 0.9),
        det(1, 1, FAR, 0.8),
    ];
    let ev = CocoEvaluation::new(&gt, &d).unwrap();
    // the two detections inside the crowd are ignored, not FPs: AP 1; one GT counts
    assert!(close(ev.stats()[1], 1.0));
    assert_eq!(ev.per_class()[0].num_gt, 1);
}

#[test]
fn held_out_split_converts_corners_and_classes() {
    let gt_boxes = [[0.0, 0.0, 10.0, 10.0], [20.0, 20.0, 30.0, 30.0]];
    let dets = [
        Detection {
            bbox: [0.0, 0.0, 10.0, 10.0],
            score: 0.9,
            class: 1,
            anchor: 0,
        },
        Detection {
            bbox: [50.0, 50.0, 60.0, 60.0],
            score: 0.8,
            class: 0,
            anchor: 0,
        },
    ];
    let images = [EvalImage {
        size: (64, 64),
        gt_boxes: &gt_boxes,
        gt_classes: &[1, 0],
        gt_crowd: &[],
        dets: &dets,
    }];
    let names = ["x".to_string(), "y".to_string()];
    let h = HeldOutEval::evaluate(&images, &names).unwrap();
    assert_eq!(h.gt.annotations[1].bbox, [20.0, 20.0, 10.0, 10.0]);
    assert_eq!(h.gt.annotations[1].category_id, 1);
    assert_eq!(h.dets[0].category_id, 2);
    // class y found, class x only an FP far away
    assert!(close(h.summary.per_class[1].ap50, 1.0));
    assert_eq!(h.summary.per_class[0].ap50, 0.0);
    assert!(close(h.summary.ap50(), 0.5));
}
