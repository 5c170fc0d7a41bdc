//! Reading evaluation files: one-line errors naming the file and the record; warnings for
//! what still evaluates.

use super::CocoEvaluation;
use super::files::{parse_gt, parse_results};
use super::test_support::gt_file;

const GT: &str = r#"{"images": [{"id": 1, "width": 64, "height": 64}, {"id": 2}],
 "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "area": 100, "iscrowd": 0}],
 "categories": [{"id": 1, "name": "cat"}]}"#;

#[test]
fn a_good_pair_parses_and_evaluates() {
    let (gt, w) = parse_gt(GT, "gt.json").unwrap();
    assert!(w.is_empty());
    let (dets, w) = parse_results(
        r#"[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "score": 0.5}]"#,
        "dt.json",
        &gt,
        "gt.json",
    )
    .unwrap();
    assert!(w.is_empty());
    // precision 1 / (1 + eps) (pycocotools' np.spacing(1) in the denominator)
    assert!((CocoEvaluation::new(&gt, &dets).unwrap().stats()[1] - 1.0).abs() < 1e-12);
}

#[test]
fn malformed_records_are_named() {
    let bad = GT.replace(r#""bbox": [0, 0, 10, 10], "area""#, r#""area""#);
    let e = parse_gt(&bad, "gt.json").unwrap_err().0;
    assert!(
        e.starts_with("gt.json: annotations[0] (id 1): missing field `bbox`"),
        "{e}"
    );
    let e = parse_gt("{\"images\": [", "gt.json").unwrap_err().0;
    assert!(e.starts_with("gt.json: not valid JSON"), "{e}");
    let bad = GT.replace(r#""image_id": 1"#, r#""image_id": 9"#);
    let e = parse_gt(&bad, "gt.json").unwrap_err().0;
    assert_eq!(
        e,
        "gt.json: annotations[0] (id 1): image_id 9 is not in `images`"
    );
    let bad = GT.replace("[0, 0, 10, 10]", "[0, 0, -1, 10]");
    let e = parse_gt(&bad, "gt.json").unwrap_err().0;
    assert!(
        e.contains("annotations[0] (id 1): bbox") && e.contains("negative"),
        "{e}"
    );
    assert!(!e.contains('\n'));
}

#[test]
fn results_for_an_unknown_image_or_a_bad_record_are_errors() {
    let gt = gt_file(2, &["cat"], &[]);
    let e = parse_results(
        r#"[{"image_id": 7, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5}]"#,
        "dt.json",
        &gt,
        "gt.json",
    )
    .unwrap_err()
    .0;
    assert_eq!(e, "dt.json: [0]: image_id 7 is not in gt.json");
    let e = parse_results(
        r#"[{"image_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5}]"#,
        "dt.json",
        &gt,
        "gt.json",
    )
    .unwrap_err()
    .0;
    assert!(
        e.starts_with("dt.json: [0]: missing field `category_id`"),
        "{e}"
    );
    let e = parse_results(r#"{"annotations": []}"#, "dt.json", &gt, "gt.json")
        .unwrap_err()
        .0;
    assert!(e.starts_with("dt.json: expected a JSON list"), "{e}");
}

#[test]
fn empty_results_give_zero_stats_and_a_warning() {
    let (gt, _) = parse_gt(GT, "gt.json").unwrap();
    let (dets, w) = parse_results("[]", "dt.json", &gt, "gt.json").unwrap();
    assert_eq!(w.len(), 1);
    assert!(w[0].contains("no detections"));
    let s = CocoEvaluation::new(&gt, &dets).unwrap().stats();
    // the one GT is small: every stat over it is 0; medium / large have no GT (-1)
    for i in [0, 1, 2, 3, 6, 7, 8, 9] {
        assert_eq!(s[i], 0.0, "stat {i}");
    }
}
