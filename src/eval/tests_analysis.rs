//! The confusion matrix cell by cell, TIDE with one error of each kind, per-image TP / FP / FN.

use super::test_support::{det, gt_file};
use super::{CocoEvaluation, MatchStatus, WorstBy, worst_images};

const A: [f64; 4] = [0.0, 0.0, 20.0, 20.0];
const B: [f64; 4] = [50.0, 0.0, 20.0, 20.0];
const C: [f64; 4] = [100.0, 0.0, 20.0, 20.0];
const FAR: [f64; 4] = [200.0, 200.0, 20.0, 20.0];

/// GT: cat A, dog B, cat C. Detections: cat on A (0.9), cat on B (0.8), dog far from
/// everything (0.7), dog on A again (0.3).
fn pets() -> CocoEvaluation {
    let gt = gt_file(
        1,
        &["cat", "dog"],
        &[(1, 1, A, false), (1, 2, B, false), (1, 1, C, false)],
    );
    let d = [
        det(1, 1, A, 0.9),
        det(1, 1, B, 0.8),
        det(1, 2, FAR, 0.7),
        det(1, 2, A, 0.3),
    ];
    CocoEvaluation::new(&gt, &d).unwrap()
}

#[test]
fn confusion_matrix_cell_by_cell() {
    let ev = pets();
    // rows: GT cat, GT dog, background; columns: predicted cat, dog, background
    let rows = |thr: f64| {
        let m = ev.confusion(thr);
        assert_eq!(m.names, ["cat", "dog"]);
        (0..3)
            .map(|r| (0..3).map(|c| m.get(r, c)).collect::<Vec<_>>())
            .collect::<Vec<_>>()
    };
    // all detections: cat A -> cat (TP); cat on dog B -> [dog][cat]; C missed -> [cat][bg];
    // the far dog and the second dog on A (A already taken) -> [bg][dog]
    assert_eq!(rows(0.0), [[1, 0, 1], [1, 0, 0], [0, 2, 0]]);
    // score >= 0.5 drops the 0.3 duplicate
    assert_eq!(rows(0.5), [[1, 0, 1], [1, 0, 0], [0, 1, 0]]);
    // score >= 0.85 keeps only cat on A: dog B is missed now
    assert_eq!(rows(0.85), [[1, 0, 1], [0, 0, 1], [0, 0, 0]]);
}

#[test]
fn tide_reports_one_error_of_each_kind_in_its_category() {
    // one class; GT at A, B and C
    let gt = gt_file(
        1,
        &["cat"],
        &[(1, 1, A, false), (1, 1, B, false), (1, 1, C, false)],
    );
    let loc = [61.0, 0.0, 20.0, 20.0]; // IoU with B: 180 / 620 = 0.29, in [0.1, 0.5)
    let d = [
        det(1, 1, A, 0.9),   // TP
        det(1, 1, A, 0.8),   // duplicate of A
        det(1, 1, loc, 0.7), // localisation error on B
        det(1, 1, FAR, 0.6), // background
    ]; // C: missed
    let ev = CocoEvaluation::new(&gt, &d).unwrap();
    let t = ev.tide().unwrap();
    // counts: cls, loc, both, dupe, bkg, miss
    assert_eq!(t.counts, [0, 1, 0, 1, 1, 1]);
    // AP50 1/3 of GT found at precision 1: 34 of 101 thresholds
    assert!((t.ap50 - 34.0 / 101.0).abs() < 1e-12);
    // fixing an error never lowers AP; the missing kinds cost nothing
    assert!(t.loc > 0.0 && t.miss > 0.0 && t.dupe >= 0.0 && t.bkg >= 0.0);
    assert_eq!((t.cls, t.both), (0.0, 0.0));
}

#[test]
fn per_image_errors_and_worst_images() {
    let gt = gt_file(
        3,
        &["cat"],
        &[
            (1, 1, A, false),
            (1, 1, B, false),
            (2, 1, A, false),
            (2, 1, B, false),
            (2, 1, C, false),
        ],
    );
    // image 1: A found, B missed, one FP; image 2: all missed; image 3: no GT, two FPs
    let d = [
        det(1, 1, A, 0.9),
        det(1, 1, FAR, 0.5),
        det(3, 1, A, 0.8),
        det(3, 1, B, 0.7),
    ];
    let ev = CocoEvaluation::new(&gt, &d).unwrap();
    let per = ev.per_image().unwrap();
    let counts: Vec<(u32, u32, u32)> = per.iter().map(|p| (p.tp, p.fp, p.fn_count)).collect();
    assert_eq!(counts, [(1, 1, 1), (0, 0, 3), (0, 2, 0)]);
    let st = |i: usize| per[i].boxes.iter().map(|b| b.status).collect::<Vec<_>>();
    use MatchStatus::*;
    assert_eq!(st(0), [Matched, Fn, Tp, Fp]);
    assert_eq!(st(1), [Fn, Fn, Fn]);
    assert_eq!(st(2), [Fp, Fp]);
    // image 1's own AP50: recall 1/2 at precision 1 -> 51 / 101
    assert!((per[0].ap - 51.0 / 101.0).abs() < 1e-12);
    assert_eq!(worst_images(&per, WorstBy::Missed, 2), [1, 0]);
    assert_eq!(worst_images(&per, WorstBy::FalsePositives, 1), [2]);
    assert_eq!(worst_images(&per, WorstBy::LowestAp, 3)[..2], [1, 2]);
}

#[test]
fn pr_curve_is_the_interpolated_precision_ap_averages() {
    let ev = pets();
    let curves = ev.pr_curves(0.5);
    let cat = &curves[0];
    assert_eq!(cat.recall.len(), 101);
    // cat: A found first (precision 1 up to recall 1/2), C never: 0 past 0.5
    assert!((cat.precision[50] - 1.0).abs() < 1e-12);
    assert_eq!(cat.precision[51], 0.0);
    let mean = cat.precision.iter().sum::<f64>() / 101.0;
    assert!((mean - ev.per_class()[0].ap50).abs() < 1e-12);
}
