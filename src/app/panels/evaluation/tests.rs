//! The Evaluation tab driven headless: the stats are shown, the score slider changes the
//! confusion matrix, clicking a worst image selects it.

use super::plots::cell_label;
use super::sections::fmt_stat;
use super::*;
use crate::eval::{CategoryRecord, CocoEvaluation, GtAnnotation, GtFile, GtImage, ResultRecord};
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

struct Bundle {
    tab: EvaluationTab,
    training: TrainingRuntime,
    exports: PlotExports,
}

/// Two images; GT cat A, dog B, cat C on image 1, a cat on image 2. Detections on image 1:
/// cat on A (0.9), cat on dog B (0.8), dog on background (0.7), dog on A again (0.3).
fn view() -> Arc<EvalView> {
    let b = |x: f64| [x, 0.0, 20.0, 20.0];
    let ann = |id: u64, image_id: u64, category_id: u64, bbox: [f64; 4]| GtAnnotation {
        id,
        image_id,
        category_id,
        bbox,
        area: None,
        iscrowd: false,
    };
    let gt = GtFile {
        images: (1..=2)
            .map(|id| GtImage {
                id,
                width: 160,
                height: 120,
                file_name: String::new(),
            })
            .collect(),
        annotations: vec![
            ann(1, 1, 1, b(0.0)),
            ann(2, 1, 2, b(50.0)),
            ann(3, 1, 1, b(100.0)),
            ann(4, 2, 1, b(0.0)),
        ],
        categories: ["cat", "dog"]
            .iter()
            .enumerate()
            .map(|(i, n)| CategoryRecord {
                id: i as u64 + 1,
                name: n.to_string(),
            })
            .collect(),
    };
    let det = |category_id, bbox, score| ResultRecord {
        image_id: 1,
        category_id,
        bbox,
        score,
    };
    let dets = [
        det(1, b(0.0), 0.9),
        det(1, b(50.0), 0.8),
        det(2, [100.0, 80.0, 20.0, 20.0], 0.7),
        det(2, b(0.0), 0.3),
    ];
    let ev = CocoEvaluation::new(&gt, &dets).unwrap();
    Arc::new(EvalView::compute(&ev, "test".into(), Vec::new()))
}

fn harness(view: Arc<EvalView>) -> Harness<'static, Bundle> {
    let ctx = egui::Context::default();
    let mut tab = EvaluationTab::with_picker(ctx.clone(), Arc::new(|| None));
    tab.show(view);
    let bundle = Bundle {
        tab,
        training: TrainingRuntime::new(ctx),
        exports: PlotExports::default(),
    };
    Harness::builder()
        .with_size(egui::vec2(700.0, 3000.0))
        .build_ui_state(
            |ui, b: &mut Bundle| evaluation_ui(ui, &mut b.tab, &mut b.training, &b.exports),
            bundle,
        )
}

#[test]
fn shows_the_twelve_stats_and_every_section() {
    let v = view();
    let mut h = harness(v.clone());
    h.run();
    for label in super::sections::STAT_LABELS {
        h.get_by_label(label);
    }
    // each stat's value is printed (AP50 strictly between 0 and 1, so not a default)
    assert!(h.query_all_by_label(&fmt_stat(v.stats[1])).count() >= 1);
    assert!(v.stats[1] > 0.0 && v.stats[1] < 1.0);
    h.get_by_label_contains("Per class: AP beside GT count");
    h.get_by_label_contains("Errors (TIDE)");
    h.get_by_label_contains("a GT no detection covers at all");
    assert_eq!(
        h.query_all_by_label("CSV").count(),
        5,
        "AP vs GT, scale, PR 0.5, PR 0.75, TIDE"
    );
}

#[test]
fn the_score_slider_changes_the_confusion_matrix() {
    let mut h = harness(view());
    h.run();
    h.get_by_role_and_label(Role::Slider, "score threshold")
        .set_value_accesskit(0.0);
    h.run();
    assert_eq!(h.state().tab.score_thr, 0.0);
    // both dogs on background count at score >= 0; the dog GT is taken by the cat detection
    h.get_by_label(&cell_label("background", "dog", 2));
    h.get_by_label(&cell_label("dog", "cat", 1));
    h.get_by_role_and_label(Role::Slider, "score threshold")
        .set_value_accesskit(0.85);
    h.run();
    h.get_by_label(&cell_label("background", "dog", 0));
    h.get_by_label(&cell_label("dog", "background", 1));
    assert!(h.query_by_label(&cell_label("dog", "cat", 1)).is_none());
}

#[test]
fn clicking_a_worst_image_selects_it() {
    let v = view();
    let mut h = harness(v.clone());
    h.run();
    assert_eq!(h.state().tab.selected, None);
    // image 1 misses two GTs (C, and dog B, which a cat took): the top of "Most missed"
    h.get_by_label("image 1: 2 FN").click();
    h.run();
    assert_eq!(h.state().tab.selected, Some(0));
    h.get_by_label(&super::image::image_line(&v.per_image[0]));
    h.get_by_label("FP: detection unmatched");
}

#[test]
fn gt_images_are_found_beside_the_gt_file_in_images_and_in_the_dataset_folder() {
    let dir = std::env::temp_dir().join(format!("anchorscope-eval-pixels-{}", std::process::id()));
    let other = dir.join("dataset-images");
    std::fs::create_dir_all(dir.join("images")).unwrap();
    std::fs::create_dir_all(&other).unwrap();
    let png = |p: std::path::PathBuf, v: u8| {
        ::image::RgbImage::from_pixel(9, 8, ::image::Rgb([v, v, v]))
            .save(p)
            .unwrap()
    };
    png(dir.join("beside.png"), 10);
    png(dir.join("images").join("inside.png"), 20);
    png(other.join("elsewhere.png"), 30);
    let names = [
        "beside.png",
        "inside.png",
        "elsewhere.png",
        "missing.png",
        "",
    ];
    let gt = GtFile {
        images: names
            .iter()
            .enumerate()
            .map(|(i, n)| GtImage {
                id: i as u64 + 1,
                width: 9,
                height: 8,
                file_name: n.to_string(),
            })
            .collect(),
        annotations: Vec::new(),
        categories: Vec::new(),
    };
    let gt_path = dir.join("gt.json");
    let files = worker::gt_image_files(&gt, &gt_path, Some(&other));
    assert_eq!(
        files,
        vec![
            Some(dir.join("beside.png")),
            Some(dir.join("images").join("inside.png")),
            Some(other.join("elsewhere.png")),
            None,
            None,
        ]
    );
    // without the dataset's folder the third is not found
    assert_eq!(worker::gt_image_files(&gt, &gt_path, None)[2], None);
    let _ = std::fs::remove_dir_all(&dir);
}
