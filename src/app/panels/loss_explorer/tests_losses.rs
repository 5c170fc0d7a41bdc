//! The all-losses plot and the regression playground's KL and IoU-mode rows, against values
//! worked out here.

use super::all_losses::AllLossesSettings;
use super::*;
use crate::losses::classification::CLS_LOSS_NAMES;

/// `ln(1 + e^v)`, written out (not the library's).
fn softplus(v: f64) -> f64 {
    v.exp().ln_1p()
}

fn at(series: &[Series], name_starts: &str, p_t: f64) -> f64 {
    let (_, pts) = series
        .iter()
        .find(|(n, _)| n.starts_with(name_starts))
        .unwrap_or_else(|| panic!("no series {name_starts}"));
    pts.iter()
        .find(|q| (q[0] - p_t).abs() < 1e-12)
        .expect("grid point")[1]
}

#[test]
fn every_classification_loss_is_drawn_with_its_assumptions() {
    let overlay = ClsLoss::default();
    let pos = all_loss_series(&AllLossesSettings::default(), &overlay);
    // one curve per loss for a positive
    assert_eq!(pos.len(), CLS_LOSS_NAMES.len());
    for name in CLS_LOSS_NAMES {
        assert!(pos.iter().any(|(n, _)| n.starts_with(name)), "{name}");
    }
    // at p_t = 0.5 (x = 0): CE = ln 2; balanced CE = 0.75 ln 2; FL = 0.25 * 0.5^2 * ln 2;
    // FL* (gamma 2, beta 1) = ln(1 + e^-(2*0 + 1)) / 2; GHM-C (uniform density) = CE
    let ln2 = std::f64::consts::LN_2;
    let close = |a: f64, b: f64| assert!((a - b).abs() < 1e-9, "{a} vs {b}");
    close(at(&pos, "ce", 0.5), ln2);
    close(at(&pos, "balanced_ce", 0.5), 0.75 * ln2);
    close(at(&pos, "focal", 0.5), 0.25 * 0.25 * ln2);
    close(at(&pos, "focal_star", 0.5), softplus(-1.0) / 2.0);
    close(at(&pos, "ghm_c", 0.5), ln2);
    close(at(&pos, "eql", 0.5), ln2);
    // QFL with target 1 at p = 0.5: |1 - p|^2 * BCE = 0.25 ln 2
    close(at(&pos, "qfl", 0.5), 0.25 * ln2);
    // varifocal positive: q * BCE with q = 1
    close(at(&pos, "varifocal", 0.5), ln2);
    // GHM-C follows CE everywhere: at p_t = 0.9, -ln 0.9
    close(at(&pos, "ghm_c", 0.9), -(0.9f64).ln());

    // negatives, gradients: EQL splits into the rare class (weight 0) and the frequent one
    let s = AllLossesSettings {
        negative: true,
        gradients: true,
        ..AllLossesSettings::default()
    };
    let neg = all_loss_series(&s, &overlay);
    assert_eq!(neg.len(), CLS_LOSS_NAMES.len() + 1);
    // a negative at p_t = 0.8 has p = 0.2: dCE/dx = p - y = 0.2
    close(at(&neg, "ce", 0.8), 0.2);
    close(at(&neg, "eql, frequent", 0.8), 0.2);
    close(at(&neg, "eql, rare", 0.8), 0.0);
    close(at(&neg, "ghm_c", 0.8), 0.2);
    // selecting: only the flagged losses
    let only = AllLossesSettings {
        shown: CLS_LOSS_NAMES.iter().map(|&n| n == "qfl").collect(),
        ..AllLossesSettings::default()
    };
    let one = all_loss_series(&only, &overlay);
    assert_eq!(one.len(), 1);
    assert!(one[0].0.contains("IoU target"));
}

#[test]
fn the_overlay_loss_lends_its_parameters() {
    let overlay = ClsLoss::Focal {
        alpha: -1.0,
        gamma: 0.0,
    };
    assert_eq!(drawn_loss("focal", &overlay), overlay);
    let pos = all_loss_series(&AllLossesSettings::default(), &overlay);
    // focal without alpha and gamma 0 is CE
    let ln2 = std::f64::consts::LN_2;
    assert!((at(&pos, "focal", 0.5) - ln2).abs() < 1e-9);
    assert!(
        matches!(drawn_loss("eql", &overlay), ClsLoss::Eql { ref class_freq, .. } if class_freq.len() == 2)
    );
}

#[test]
fn playground_kl_row_uses_the_log_variance() {
    use super::regression_playground::regression_rows;
    use crate::geometry::DeltaCoder;
    let pred = DEFAULT_PRED;
    let f = |b: [f64; 4]| b.map(|v| v as f32);
    let d = DeltaCoder::default()
        .encode(&f(GT_BOX), &f(pred))
        .map(f64::from);
    // smooth L1 with beta 1, by hand
    let sl1 = |x: f64| {
        if x.abs() < 1.0 {
            0.5 * x * x
        } else {
            x.abs() - 0.5
        }
    };
    for a in [0.0, 1.5, -2.0] {
        let losses = RegPlaygroundLosses {
            kl_log_var: a,
            ..RegPlaygroundLosses::default()
        };
        let rows = regression_rows(&pred, &GT_BOX, &losses);
        let kl = rows.iter().find(|r| r.name == "kl").expect("kl row");
        let want: f64 = d.iter().map(|&x| (-a).exp() * sl1(x) + 0.5 * a).sum();
        assert!(
            (kl.value - want).abs() < 1e-9,
            "a {a}: {} vs {want}",
            kl.value
        );
        assert_eq!(kl.grad.len(), 8);
        // dL/da_k = 1/2 - e^-a smoothL1(d_k)
        for k in 0..4 {
            let g = 0.5 - (-a).exp() * sl1(d[k]);
            assert!((kl.grad[4 + k] - g).abs() < 1e-9);
        }
    }
}

#[test]
fn playground_iou_modes_and_edited_parameters() {
    use super::regression_playground::{box_iou, regression_rows};
    use crate::losses::regression::RegLoss;
    let pred = DEFAULT_PRED;
    let i = box_iou(&pred, &GT_BOX);
    let mut losses = RegPlaygroundLosses::default();
    let rows = regression_rows(&pred, &GT_BOX, &losses);
    let v = |rows: &[super::regression_playground::RegRow], n: &str| {
        rows.iter().find(|r| r.name == n).expect(n).value
    };
    // the box IoU is computed in f32: a loose tolerance
    assert!((v(&rows, "iou (linear)") - (1.0 - i)).abs() < 1e-5);
    assert!((v(&rows, "iou (log)") + i.ln()).abs() < 1e-5);
    assert!((v(&rows, "iou (square)") - (1.0 - i * i)).abs() < 1e-5);
    // editing smooth L1's beta to 0 makes it L1
    for l in losses.losses.iter_mut() {
        if let RegLoss::SmoothL1 { beta } = l {
            *beta = 0.0;
        }
    }
    let rows = regression_rows(&pred, &GT_BOX, &losses);
    assert!((v(&rows, "smooth_l1") - v(&rows, "l1")).abs() < 1e-12);
}

#[test]
fn playground_parameters_are_editable_in_the_tab() {
    use crate::app::plot_export::PlotExports;
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;
    let exports = PlotExports::default();
    let mut h = Harness::builder()
        .with_size(egui::vec2(1000.0, 5000.0))
        .build_ui_state(
            move |ui, state: &mut AppState| {
                let ctx = crate::app::panels::PanelContext {
                    inspection: None,
                    scores: None,
                    prior_prob: 0.01,
                    stats: None,
                    exports: &exports,
                    dataset: None,
                };
                loss_explorer_ui(ui, state, &ctx);
            },
            AppState::default(),
        );
    h.run();
    assert!(h.query_all_by_label("kl").count() >= 1, "kl row");
    assert!(h.query_all_by_label("iou (square)").count() >= 1);
    assert!(h.query_all_by_label("All classification losses").count() == 1);
    h.get_by_label("Loss parameters").click();
    h.run();
    assert!(h.query_all_by_label("kl: log-variance").count() == 1);
    // the all-losses plot's selection is a checkbox per loss
    h.get_by_label("ghm_c").click();
    h.run();
    assert!(!h.state().loss_explorer.all_losses.shown[4]);
}
