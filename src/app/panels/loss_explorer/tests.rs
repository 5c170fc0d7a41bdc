//! egui_kittest tests of the loss explorer tab: labels and values, no snapshots.

use super::contribution::share_rows;
use super::cumulative::{cumulative_curve, image_losses};
use super::regression_playground::{box_iou, iou_sweep, regression_rows};
use super::*;
use crate::app::panels::PanelContext;
use crate::app::plot_export::PlotExports;
use crate::inspect::{Inspection, inspect_sample};
use crate::losses::regression::RegLoss;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

fn inspection() -> Inspection {
    let sample = crate::data::synthetic::generate(&Default::default(), 0, 0);
    let names = vec!["disc".into(), "rectangle".into(), "triangle".into()];
    inspect_sample(sample, names, &Default::default())
}

/// A harness showing the tab on a default state, with or without an inspection.
fn harness(insp: Option<&Inspection>) -> Harness<'_, AppState> {
    let exports = PlotExports::default();
    Harness::builder()
        .with_size(egui::vec2(1000.0, 4000.0))
        .build_ui_state(
            move |ui, state: &mut AppState| {
                let ctx = PanelContext {
                    inspection: insp,
                    scores: None,
                    prior_prob: 0.01,
                    stats: None,
                    exports: &exports,
                    dataset: None,
                };
                loss_explorer_ui(ui, state, &ctx);
            },
            AppState::default(),
        )
}

#[test]
fn contribution_table_shows_the_seed_article_numbers() {
    let mut h = harness(None);
    h.run();
    assert!(
        h.query_all_by_label("99.54%").count() >= 1,
        "CE negatives 99.54%"
    );
    assert!(
        h.query_all_by_label("93.74%").count() >= 1,
        "FL positives 93.74%"
    );
    let rows = share_rows(&LossExplorerSettings::default(), &ClsLoss::default());
    assert_eq!(pct(rows[0].shares.clone().unwrap().0), "99.54%");
    assert_eq!(pct(rows[2].shares.clone().unwrap().1), "93.74%");
}

#[test]
fn gamma_slider_edits_the_overlay_loss_and_the_fl_row() {
    let mut h = harness(None);
    h.run();
    h.get_by_role_and_label(Role::Slider, "gamma")
        .set_value_accesskit(3.0);
    h.run();
    match h.state().overlay.loss {
        ClsLoss::Focal { alpha, gamma } => {
            assert_eq!(gamma, 3.0);
            assert_eq!(alpha, 0.25);
        }
        ref other => panic!("overlay loss changed kind: {other:?}"),
    }
    let rows = share_rows(&h.state().loss_explorer, &h.state().overlay.loss);
    let pos = pct(rows[2].shares.clone().unwrap().1);
    assert_ne!(pos, "93.74%");
    assert!(
        h.query_all_by_label("93.74%").next().is_none(),
        "the old FL share is gone"
    );
    assert!(
        h.query_all_by_label(&pos).count() >= 1,
        "the new FL share {pos} is shown"
    );
    assert!(h.query_all_by_label_contains("gamma 3.00").count() >= 1);
}

#[test]
fn switching_the_overlay_to_focal_and_disabling_alpha() {
    let mut h = harness(None);
    h.state_mut().overlay.loss = ClsLoss::Ce;
    h.run();
    h.get_by_label("Use focal loss for the overlay").click();
    h.run();
    assert_eq!(h.state().overlay.loss, ClsLoss::default());
    h.get_by_label("alpha weighting").click();
    h.run();
    assert!(matches!(h.state().overlay.loss, ClsLoss::Focal { alpha, .. } if alpha < 0.0));
    h.get_by_label("alpha weighting").click();
    h.run();
    assert_eq!(h.state().overlay.loss, ClsLoss::default());
}

#[test]
fn regression_table_shows_the_library_giou() {
    let mut h = harness(None);
    h.run();
    let (v, g) = RegLoss::default_for("giou")
        .unwrap()
        .eval_one(&DEFAULT_PRED, &GT_BOX);
    let label = format!("{v:.4}");
    assert!(
        h.query_all_by_label(&label).count() >= 1,
        "GIoU {label} shown"
    );
    let row = regression_rows(&DEFAULT_PRED, &GT_BOX, &RegPlaygroundLosses::default())
        .into_iter()
        .find(|r| r.name == "giou")
        .unwrap();
    assert_eq!((row.value, row.grad), (v, g));
    assert!(h.query_all_by_label("iou (linear)").count() >= 1);
}

#[test]
fn tab_renders_with_and_without_an_inspection() {
    let insp = inspection();
    for i in [None, Some(&insp)] {
        let mut h = harness(i);
        h.run();
        h.get_by_label("Focal loss curves");
        h.get_by_label("Regression playground");
        assert_eq!(
            h.query_by_label("No image inspected yet.").is_some(),
            i.is_none()
        );
        if i.is_some() {
            assert!(h.query_all_by_label_contains("Positives carry").count() == 2);
            assert!(h.query_all_by_label_contains("untrained model").count() == 1);
        }
        h.get_by_label("Show gradients dFL/dx").click();
        h.get_by_label("Show FL*").click();
        h.run();
        assert!(h.state().loss_explorer.show_gradients && h.state().loss_explorer.show_focal_star);
    }
}

#[test]
fn cumulative_curves_of_the_prior_are_straight() {
    let insp = inspection();
    let exports = PlotExports::default();
    let ctx = PanelContext {
        inspection: Some(&insp),
        scores: None,
        prior_prob: 0.01,
        stats: None,
        exports: &exports,
        dataset: None,
    };
    let l = image_losses(&insp, &ctx, &ClsLoss::default()).unwrap();
    assert!(!l.pos.is_empty() && !l.neg.is_empty());
    for v in [&l.pos, &l.neg] {
        for [x, y] in cumulative_curve(v) {
            assert!((x - y).abs() < 1e-9, "({x}, {y}) off the diagonal");
        }
    }
    let ce = image_losses(&insp, &ctx, &ClsLoss::Ce).unwrap();
    assert!(
        l.pos_share().unwrap() > ce.pos_share().unwrap(),
        "FL shifts the loss to positives"
    );
}

#[test]
fn sweep_covers_zero_to_the_current_overlap() {
    let s = iou_sweep(&DEFAULT_PRED, &GT_BOX, 100, &RegPlaygroundLosses::default());
    // the IoU loss in its three modes, GIoU, DIoU, CIoU, bounded IoU
    assert_eq!(s.len(), 7);
    let ious: Vec<f64> = s[0].1.iter().map(|p| p[0]).collect();
    assert_eq!(ious.len(), 101);
    assert_eq!(ious[0], 0.0);
    assert!(ious.iter().cloned().fold(0.0, f64::max) >= box_iou(&DEFAULT_PRED, &GT_BOX));
}

#[test]
fn dragging_the_predicted_box_moves_it() {
    let mut h = harness(None);
    h.run();
    let r = h.get_by_label("regression playground canvas").rect();
    let k = r.width() / 100.0;
    let p = DEFAULT_PRED;
    let inside = r.min + egui::vec2(0.5 * (p[0] + p[2]) as f32, 0.5 * (p[1] + p[3]) as f32) * k;
    h.hover_at(inside);
    h.drag_at(inside);
    h.step();
    for i in 1..=4 {
        h.hover_at(inside - egui::vec2(5.0 * i as f32 * k, 0.0));
        h.step();
    }
    h.drop_at(inside - egui::vec2(20.0 * k, 0.0));
    h.run();
    let b = h.state().loss_explorer.pred_box;
    assert!(
        (b[0] - (p[0] - 20.0)).abs() < 1.0 && (b[2] - (p[2] - 20.0)).abs() < 1.0,
        "{b:?}"
    );
    assert!(
        (b[1] - p[1]).abs() < 1e-9 && (b[3] - p[3]).abs() < 1e-9,
        "{b:?}"
    );
    // The bottom-right handle resizes.
    let corner = r.min + egui::vec2(b[2] as f32, b[3] as f32) * k;
    h.hover_at(corner);
    h.drag_at(corner);
    h.step();
    for i in 1..=4 {
        h.hover_at(corner + egui::vec2(0.0, 2.0 * i as f32 * k));
        h.step();
    }
    h.drop_at(corner + egui::vec2(0.0, 8.0 * k));
    h.run();
    let c = h.state().loss_explorer.pred_box;
    assert!(
        (c[3] - (b[3] + 8.0)).abs() < 1.0 && c[..3] == b[..3],
        "{c:?}"
    );
}
