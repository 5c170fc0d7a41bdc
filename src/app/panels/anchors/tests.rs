use super::*;
use crate::app::panels::test_support::{inspection, panel_harness};
use crate::app::plot_export::PlotExports;
use crate::inspect::Inspection;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

/// Queries by role and value (kittest has no such helper).
trait ByRoleValue<'t> {
    fn get_by_role_and_value(&'t self, role: Role, value: &'t str) -> egui_kittest::Node<'t>;
}

impl<'t, S> ByRoleValue<'t> for Harness<'_, S> {
    fn get_by_role_and_value(&'t self, role: Role, value: &'t str) -> egui_kittest::Node<'t> {
        self.get_by(move |n| n.role() == role && n.value().as_deref() == Some(value))
    }
}

fn harness<'a>(ins: &'a Inspection, exports: &'a PlotExports) -> Harness<'a, AppState> {
    panel_harness(ins, exports, 2400.0, anchors_ui)
}

#[test]
fn level_rows_match_the_inspection() {
    let ins = inspection(&AppState::default());
    let rows = level_rows(&ins);
    assert_eq!(rows.len(), ins.anchors.levels.len());
    let total = |f: fn(&LevelRow) -> usize| rows.iter().map(f).sum::<usize>();
    assert_eq!(total(|r| r.anchors), ins.anchors.len());
    assert_eq!(total(|r| r.pos), ins.assign.num_pos());
    assert_eq!(total(|r| r.neg), ins.assign.num_neg());
    assert_eq!(total(|r| r.ignored), ins.assign.num_ignored());
    assert_eq!(table::level_name(8), "P3");
    assert_eq!(table::fg_bg_text(2, 1000), "fg : bg = 1 : 500");
}

#[test]
fn table_ratio_and_gts_are_shown() {
    let state = AppState::default();
    let ins = inspection(&state);
    let exports = PlotExports::default();
    let mut h = harness(&ins, &exports);
    h.run();
    for r in level_rows(&ins) {
        for v in [r.anchors, r.pos, r.neg, r.ignored] {
            let v = v.to_string();
            assert!(
                h.query_all_by_label(&v).next().is_some(),
                "count {v} missing"
            );
        }
        h.get_by_label(&table::level_name(r.stride));
    }
    let (p, n) = (ins.assign.num_pos() as u64, ins.assign.num_neg() as u64);
    h.get_by_label(&table::fg_bg_text(p, n));
    assert!(table::fg_bg_text(p, n).starts_with("fg : bg = 1 : "));
    h.get_by_label(&ins.anchors.len().to_string());
    h.get_by_label("Total");
    let per_gt = ins.assign.pos_per_gt(ins.sample.boxes.len());
    assert_eq!(
        h.query_all_by_label_contains("positives").count(),
        per_gt.len()
    );
}

#[test]
fn positive_threshold_slider_edits_the_assigner() {
    let state = AppState::default();
    let ins = inspection(&state);
    let exports = PlotExports::default();
    let mut h = harness(&ins, &exports);
    h.run();
    h.get_by_role_and_label(Role::Slider, "Positive IoU threshold")
        .set_value_accesskit(0.65);
    h.run();
    match &h.state().lab.assigner {
        AssignerConfig::MaxIou(m) => assert!((m.pos_iou_thr - 0.65).abs() < 1e-6, "{m:?}"),
        a => panic!("unexpected assigner {a:?}"),
    }
    h.get_by_label("ATSS").click();
    h.run();
    assert_eq!(
        h.state().lab.assigner,
        AssignerConfig::Atss(AtssAssigner::default())
    );
    h.get_by_label("MaxIoU").click();
    h.run();
    let AssignerConfig::MaxIou(m) = &h.state().lab.assigner else {
        panic!("not MaxIoU")
    };
    assert!(
        (m.pos_iou_thr - 0.65).abs() < 1e-6,
        "restored settings {m:?}"
    );
}

#[test]
fn presets_fields_and_filters() {
    let state = AppState::default();
    let ins = inspection(&state);
    let exports = PlotExports::default();
    let mut h = harness(&ins, &exports);
    h.run();
    h.get_by_label("RetinaNet P3-P7").click();
    h.run();
    assert_eq!(h.state().lab.anchors.strides, vec![8, 16, 32, 64, 128]);
    h.get_by_role_and_value(Role::TextInput, "8, 16, 32, 64, 128");
    h.get_by_label("Reference model P3-P5").click();
    h.run();
    assert_eq!(h.state().lab.anchors, AnchorConfig::default());
    let ratios = h.get_by_role_and_value(Role::TextInput, "0.5, 1, 2");
    ratios.focus();
    ratios.type_text(", x");
    h.run();
    assert_eq!(
        h.state().lab.anchors.ratios,
        vec![0.5, 1.0, 2.0],
        "invalid text applied"
    );
    assert!(h.query_by_label_contains("not applied").is_some());
    h.get_by_label("P4 (stride 16)").click();
    h.run();
    assert_eq!(h.state().overlay.levels, vec![true, false, true]);
    assert!(!h.state().overlay.passes(1, 0, 0));
}

#[test]
fn crowd_boxes_are_listed_as_ignore_regions_not_gts() {
    let state = AppState::default();
    let mut sample = crate::data::synthetic::generate(&Default::default(), 0, 0);
    let objects = sample.split_crowd().0.len();
    sample.boxes.push([10.0, 10.0, 90.0, 70.0]);
    sample.classes.push(1);
    sample.crowd.push(true);
    let names = vec!["disc".into(), "rectangle".into(), "triangle".into()];
    let ins = crate::inspect::inspect_sample(sample, names, &state.lab);
    let exports = PlotExports::default();
    let mut h = harness(&ins, &exports);
    h.run();
    h.get_by_label(&format!("Positives per GT ({objects} objects)"));
    h.get_by_label("Ignore regions (1)");
    h.get_by_label("ignore 0 (rectangle, 80 x 60)");
    assert!(
        h.query_by_label_contains(&format!("GT {objects} ("))
            .is_none(),
        "the crowd box is not listed as GT {objects}"
    );
}
