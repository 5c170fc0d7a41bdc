//! The app driven headless (egui_kittest, wgpu on lavapipe in CI): every classification loss
//! in the loss-weight overlay, the compare view, and the balanced-pyramid toggle of a run.

use anchorscope::app::state::OverlayMode;
use anchorscope::app::{AnchorscopeApp, AppOptions};
use anchorscope::losses::classification::ClsLoss;
mod app_support;

use app_support::{app_harness, settle};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use std::time::{Duration, Instant};

/// Steps until `done` holds (at most a minute).
fn wait(
    h: &mut Harness<'static, AnchorscopeApp>,
    what: &str,
    done: impl Fn(&AnchorscopeApp) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(90);
    while !done(h.state()) {
        assert!(Instant::now() < deadline, "{what}: {:?}", h.state().error);
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    h.run_steps(2);
}

fn colours(app: &AnchorscopeApp) -> Vec<egui::Color32> {
    app.view.drawn.iter().map(|d| d.colour).collect()
}

/// Every loss the overlay bar offers, by its label.
const LOSSES: [(&str, &str); 8] = [
    ("ce", "CE"),
    ("balanced_ce", "Balanced CE"),
    ("focal", "Focal"),
    ("focal_star", "FL*"),
    ("ghm_c", "GHM-C"),
    ("qfl", "QFL"),
    ("varifocal", "Varifocal"),
    ("eql", "EQL"),
];

#[test]
fn the_overlay_offers_every_loss_and_each_changes_the_weights() {
    let Some(mut h) = app_harness(AppOptions::default()) else {
        return;
    };
    settle(&mut h);
    h.get_by_label(OverlayMode::LossWeight.label()).click();
    h.run_steps(3);
    let mut drawn = Vec::new();
    for (name, label) in LOSSES {
        h.get_by_label("loss").click();
        h.run_steps(2);
        h.get_by_label(label).click();
        h.run_steps(3);
        assert_eq!(h.state().state.overlay.loss.name(), name);
        if name == "eql" {
            // EQL's class frequencies come from the dataset statistics
            wait(&mut h, "EQL frequencies", |a| match &a.state.overlay.loss {
                ClsLoss::Eql { class_freq, .. } => class_freq.len() == 3,
                _ => false,
            });
        }
        let legend = h.query_all_by_label_contains("weight |dL/dx| / |dCE/dx|");
        assert!(legend.count() >= 1, "the legend defines the weight");
        drawn.push((name, colours(h.state())));
    }
    let ce = drawn[0].1.clone();
    for (name, c) in &drawn[1..] {
        if *name == "eql" {
            // on `shapes` every class is in far more than lambda = 0.00177 of the images:
            // no class is rare, so EQL is CE
            assert_eq!(*c, ce, "EQL without a rare class");
        } else {
            assert_ne!(*c, ce, "{name} draws the same weights as CE");
        }
    }
    // a threshold above the classes' frequencies makes them rare: EQL drops the negative
    // gradients a positive sends to them
    if let ClsLoss::Eql { lambda, .. } = &mut h.state_mut().state.overlay.loss {
        *lambda = 0.99;
    }
    h.run_steps(3);
    assert_ne!(colours(h.state()), ce, "EQL with rare classes");
}

#[test]
fn the_compare_view_shows_two_halves_with_their_own_settings() {
    let Some(mut h) = app_harness(AppOptions::default()) else {
        return;
    };
    settle(&mut h);
    h.key_press(egui::Key::C);
    h.run_steps(4);
    assert!(h.state().state.compare.on);
    // left: the main overlay (assignment), right: CE's loss weights
    h.get_by_label("Assigner labels");
    h.get_by_label_contains("ce weight |dL/dx|");
    let lines = h
        .query_all_by_label_contains("positives' share of the loss")
        .count();
    assert_eq!(lines, 2, "one line of numbers per half");
    let (l, r) = (colours(h.state()), h.state().compare.right.drawn.clone());
    assert!(!l.is_empty() && !r.is_empty());
    assert_ne!(l, r.iter().map(|d| d.colour).collect::<Vec<_>>());
    // the right half's own settings: OHEM picks against random picks on the left
    {
        let s = &mut h.state_mut().state;
        s.overlay.mode = OverlayMode::SamplerPick;
        s.compare.right.mode = OverlayMode::SamplerPick;
        s.compare.right.sampler = anchorscope::app::state::SamplerChoice::Ohem;
    }
    h.run_steps(3);
    h.get_by_label("Picked by Random");
    h.get_by_label("Picked by OHEM");
    // pan and zoom stay in step
    h.state_mut().view.zoom = 3.0;
    h.run_steps(3);
    assert_eq!(h.state().compare.right.zoom, 3.0);
    h.key_press(egui::Key::C);
    h.run_steps(2);
    assert!(!h.state().state.compare.on);
}

#[test]
fn the_pyramid_toggle_starts_a_run_with_the_balanced_pyramid() {
    let Some(mut h) = app_harness(AppOptions::default()) else {
        return;
    };
    {
        let s = &mut h.state_mut().state;
        app_support::tiny_scenes(s, 20);
        s.training.batch = 1;
        s.tab = anchorscope::app::state::Tab::Training;
    }
    settle(&mut h);
    h.get_by_label("Balanced feature pyramid").click();
    h.run_steps(2);
    assert!(h.state().state.training.balanced_fpn);
    h.get_by_label("Step").click();
    // Libra R-CNN's pyramid adds one 64 -> 64 3x3 conv: 560,543 + 36,928 parameters
    wait(&mut h, "model", |a| a.training.model_info.is_some());
    assert_eq!(h.state().training.model_info.unwrap().1, 597_471);
    // switched off again: the tab offers a new run instead of training the wrong model
    h.get_by_label("Balanced feature pyramid").click();
    h.run_steps(3);
    h.get_by_label("New run without the balanced feature pyramid")
        .click();
    h.run_steps(2);
    wait(&mut h, "new model", |a| {
        a.training.model_info.is_some_and(|m| m.1 == 560_543)
    });
}

#[test]
fn the_compare_halves_take_their_own_assigners() {
    use anchorscope::assign::AssignerConfig;
    let Some(mut h) = app_harness(AppOptions::default()) else {
        return;
    };
    settle(&mut h);
    h.key_press(egui::Key::C);
    h.run_steps(4);
    h.state_mut().state.compare.right.mode = OverlayMode::Assignment;
    h.run_steps(2);
    // the right half's assigner combo (the second "assigner"), then ATSS in its list
    h.query_all_by_label("assigner")
        .nth(1)
        .expect("two assigner combos")
        .click();
    h.run_steps(2);
    h.query_all_by_label("ATSS")
        .last()
        .expect("ATSS offered")
        .click();
    h.run_steps(2);
    assert!(matches!(
        h.state().state.compare.right_assigner,
        Some(AssignerConfig::Atss(_))
    ));
    wait(&mut h, "the right half's inspection", |a| {
        a.is_idle() && a.compare.inspection.is_some()
    });
    let app = h.state();
    let left = app.inspection.as_ref().unwrap();
    let (beside, right) = app.compare.inspection.as_ref().unwrap();
    assert!(std::sync::Arc::ptr_eq(left, beside));
    assert!(matches!(app.state.lab.assigner, AssignerConfig::MaxIou(_)));
    let (lp, rp) = (left.assign.num_pos(), right.assign.num_pos());
    assert_ne!(lp, rp, "MaxIoU and ATSS pick other positives on this image");
    // each half's line shows its own count, marked as differing
    h.get_by_label_contains(&format!("{lp} positives *"));
    h.get_by_label_contains(&format!("{rp} positives *"));
    // back to the left's assigner: no second inspection
    h.state_mut().state.compare.right_assigner = None;
    wait(&mut h, "one inspection", |a| {
        a.is_idle() && a.compare.inspection.is_none()
    });
}
