//! The real app driven headless by egui_kittest (wgpu renderer on lavapipe in CI): tabs,
//! overlay modes, image stepping, keyboard shortcuts, undo. Assertions go through labels and
//! the app's state, not pixels.

use anchorscope::app::state::{OverlayMode, Tab};
use anchorscope::app::{AnchorscopeApp, AppOptions};
use anchorscope::inspect::weights::loss_weights;
use anchorscope::losses::classification::ClsLoss;
use anchorscope::train::ModelSource;
mod app_support;

use app_support::{app_harness, settle};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use std::time::{Duration, Instant};

/// Clicks the tab button titled `title` (the panels may use the same word as a label).
fn click_tab(h: &Harness<'static, AnchorscopeApp>, title: &str) {
    h.query_all_by_label(title)
        .find(|n| n.accesskit_node().role() != egui::accesskit::Role::Label)
        .unwrap_or_else(|| panic!("no tab button {title}"))
        .click();
}

/// Moves the pointer to the centre of a drawn anchor (the hover read-out then shows).
fn hover_a_drawn_anchor(h: &mut Harness<'static, AnchorscopeApp>) {
    h.remove_cursor();
    h.run_steps(2);
    let view = &h.state().view;
    let d = view.drawn.last().expect("anchors are drawn");
    let r = view.screen_rect(d.rect).expect("the image view was drawn");
    h.hover_at(r.center());
    h.run_steps(3);
    assert!(
        h.state().view.hovered.is_some(),
        "no anchor under the pointer"
    );
}

#[test]
fn tabs_modes_images_and_shortcuts() {
    let Some(mut h) = app_harness(AppOptions::default()) else {
        return;
    };
    settle(&mut h);
    // the status bar shows the default dataset and its anchors
    h.get_by_label_contains("synthetic:shapes@0");
    h.get_by_label("12096 anchors");
    let counts = |h: &Harness<'static, AnchorscopeApp>| {
        let a = &h.state().inspection.as_ref().unwrap().assign;
        format!(
            "{} positive / {} negative / {} ignored",
            a.num_pos(),
            a.num_neg(),
            a.num_ignored()
        )
    };
    h.get_by_label(&counts(&h));

    // every tab
    for t in Tab::ALL {
        click_tab(&h, t.title());
        settle(&mut h);
        assert_eq!(h.state().state.tab, t);
    }
    assert!(
        h.state().stats.is_some(),
        "the stats tab computed statistics"
    );

    // every overlay mode, by button and by shortcut
    for m in OverlayMode::ALL {
        h.get_by_label(m.label()).click();
        h.run_steps(2);
        assert_eq!(h.state().state.overlay.mode, m);
        h.get_by_label_contains(match m {
            OverlayMode::Assignment => "Assigner labels",
            OverlayMode::MaxIou => "Max IoU with any GT",
            OverlayMode::SamplerPick => "Picked by",
            OverlayMode::LossWeight => "weight |dL/dx| / |dCE/dx|",
        });
    }
    h.key_press(egui::Key::Num1);
    h.run_steps(2);
    assert_eq!(h.state().state.overlay.mode, OverlayMode::Assignment);

    // step images with the arrow keys: the inspection follows
    let first = h.state().inspection.as_ref().unwrap().sample.boxes.clone();
    h.key_press(egui::Key::ArrowRight);
    settle(&mut h);
    assert_eq!(h.state().state.image_index, 1);
    assert_ne!(h.state().inspection.as_ref().unwrap().sample.boxes, first);
    h.get_by_label("image 1 / 1000");
    h.key_press(egui::Key::ArrowLeft);
    settle(&mut h);
    assert_eq!(h.state().state.image_index, 0);
    assert_eq!(h.state().inspection.as_ref().unwrap().sample.boxes, first);

    // F1 opens the help, T switches the theme, Ctrl+Z undoes it
    h.key_press(egui::Key::F1);
    h.run_steps(2);
    h.get_by_label("Keyboard shortcuts");
    let dark = h.state().state.dark;
    h.key_press(egui::Key::T);
    h.run_steps(3);
    assert_eq!(h.state().state.dark, !dark);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    h.run_steps(2);
    assert_eq!(h.state().state.dark, dark);
}

#[test]
fn threshold_and_gamma_sliders_change_what_is_shown() {
    use egui::accesskit::Role;
    let Some(mut h) = app_harness(AppOptions::default()) else {
        return;
    };
    settle(&mut h);
    click_tab(&h, "Anchors");
    settle(&mut h);
    let before = h.state().inspection.as_ref().unwrap().assign.num_pos();
    h.get_by_role_and_label(Role::Slider, "Positive IoU threshold")
        .set_value_accesskit(0.7);
    h.get_by_label("Low-quality matching").click();
    settle(&mut h);
    let after = h.state().inspection.as_ref().unwrap().assign.num_pos();
    assert!(after < before, "positives {before} -> {after}");
    // the status bar and the per-level table show the new count
    h.get_by_label_contains(&format!("{after} positive / "));
    assert!(h.query_all_by_label(&after.to_string()).count() >= 1);

    // the gamma slider of the loss explorer reweights the anchors in the loss-weight overlay
    click_tab(&h, "Loss explorer");
    settle(&mut h);
    h.get_by_label("Loss weight").click();
    settle(&mut h);
    let ins = h.state().inspection.clone().unwrap();
    let neg = ins.assign.labels.iter().position(|&l| l == 0).unwrap();
    assert_eq!(h.state().state.overlay.mode, OverlayMode::LossWeight);
    // the weight is |dFL/dx| / |dCE/dx|; for a negative at the prior p = 0.01 (chain rule,
    // dp/dx = p (1 - p)): (1 - alpha) p^(gamma - 1) [gamma (1 - p) (-ln(1 - p)) + p]
    let want = |gamma: f64| {
        let p: f64 = 0.01;
        0.75 * p.powf(gamma - 1.0) * (gamma * (1.0 - p) * -(1.0 - p).ln() + p)
    };
    let w2 = h.state().view.weight(neg).unwrap() as f64;
    assert!(
        (w2 - want(2.0)).abs() < 1e-7,
        "negative weight at gamma 2: {w2}"
    );
    h.get_by_role_and_label(Role::Slider, "gamma")
        .set_value_accesskit(0.5);
    settle(&mut h);
    let w05 = h.state().view.weight(neg).unwrap() as f64;
    assert!(
        (w05 - want(0.5)).abs() < 1e-5,
        "negative weight at gamma 0.5: {w05}"
    );
}

#[test]
fn training_tab_trains_live_pauses_and_reports_divergence() {
    let Some(mut h) = app_harness(AppOptions::default()) else {
        return;
    };
    {
        let s = &mut h.state_mut().state;
        app_support::tiny_scenes(s, 50);
        s.training.batch = 2;
        s.training.warmup_steps = 0;
    }
    settle(&mut h);
    click_tab(&h, "Training");
    h.run_steps(2);
    assert_eq!(h.state().state.tab, Tab::Training);
    hover_a_drawn_anchor(&mut h);
    h.get_by_label_contains("(prior pi, untrained)");
    h.remove_cursor();
    h.run_steps(2);
    // before the run: the inspection is scored by the prior
    let prior = h.state().inspection.clone().unwrap();
    assert_eq!(prior.model.source, ModelSource::Prior);
    h.get_by_label("Start").click();
    // the UI keeps answering while the trainer thread works
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut slowest = Duration::ZERO;
    while h.state().training.metrics_received < 3 {
        assert!(
            Instant::now() < deadline,
            "no metrics: {:?}",
            h.state().training.error
        );
        let t = Instant::now();
        h.step();
        slowest = slowest.max(t.elapsed());
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        slowest < Duration::from_millis(200),
        "slowest frame {slowest:?}"
    );
    h.get_by_label("Pause").click();
    h.run_steps(2);
    let deadline = Instant::now() + Duration::from_secs(60);
    while h.state().training.is_running() {
        assert!(Instant::now() < deadline, "did not pause");
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    h.get_by_label("Start");
    h.get_by_label_contains("training: paused");

    // per pyramid level: every step reports P3-P5, their positives add up; the tab plots them
    {
        let run = h.state().training.runs.last().unwrap();
        for m in &run.metrics {
            let strides: Vec<u32> = m.levels.iter().map(|l| l.stride).collect();
            assert_eq!(strides, [8, 16, 32], "step {}", m.step);
            assert_eq!(m.levels.iter().map(|l| l.num_pos).sum::<usize>(), m.num_pos);
        }
    }
    let levels = h.get_by_label("Per pyramid level");
    levels.scroll_to_me();
    h.run_steps(3);
    h.get_by_label_contains("each level's picked positives");
    if let Some(dir) = std::env::var_os("ANCHORSCOPE_SHOT_DIR") {
        // a picture of the tab for the README (not an assertion)
        let img = h.render().expect("render");
        img.save(std::path::Path::new(&dir).join("training_levels.png"))
            .expect("save");
    }
    // back up to the run bar (the clicks below need its buttons on screen)
    h.get_by_label("Start").scroll_to_me();
    h.run_steps(3);

    // the trainer streams a snapshot of its parameters; the worker re-inspects the image with
    // it, so the samplers, the loss-weight overlay and the hover read-out follow the model
    let deadline = Instant::now() + Duration::from_secs(60);
    let live_at = |a: &AnchorscopeApp, step: u64| {
        let m = &a.inspection.as_ref().unwrap().model;
        m.source == ModelSource::Live && m.step >= step
    };
    while !live_at(h.state(), 3) {
        assert!(Instant::now() < deadline, "no live inspection");
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    let live = h.state().inspection.clone().unwrap();
    assert!(live.model.step >= 3, "step {}", live.model.step);
    assert_ne!(
        live.losses, prior.losses,
        "the ranking losses follow the model"
    );
    let fl = ClsLoss::default();
    assert_ne!(loss_weights(&live, &fl), loss_weights(&prior, &fl));
    h.state_mut().state.overlay.mode = OverlayMode::LossWeight;
    h.run_steps(3);
    h.get_by_label_contains("scores: live run, step");
    hover_a_drawn_anchor(&mut h);
    let read_out = h.state().hover_read_out.clone().unwrap_or_default();
    assert!(read_out.contains("(live model at step "), "{read_out}");
    h.remove_cursor();
    h.run_steps(2);

    // a learning rate of 1e6: the divergence is caught and named, not a crash
    h.state_mut().state.training.lr = 1e6;
    h.run_steps(2);
    h.get_by_label("Start").click();
    let deadline = Instant::now() + Duration::from_secs(120);
    while h.state().training.diverged.is_none() {
        let t = &h.state().training;
        assert!(
            Instant::now() < deadline,
            "no divergence: {:?} {:?} {:?}",
            t.error,
            t.state,
            t.runs.last().and_then(|r| r.metrics.last())
        );
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    h.run_steps(3);
    h.get_by_label_contains("Diverged at step");
    h.get_by_label("Reload last good");
}

#[test]
fn wide_tabs_keep_the_image_at_half_the_window() {
    let Some(mut h) = app_harness(AppOptions::default()) else {
        return;
    };
    settle(&mut h);
    for t in [Tab::Loss, Tab::Stats, Tab::Training, Tab::Anchors] {
        click_tab(&h, t.title());
        settle(&mut h);
        h.run_steps(3);
        let view = h.state().view.view_rect.expect("the image view was drawn");
        assert!(
            view.width() >= 640.0,
            "{}: the image view is {} of 1280 points wide",
            t.title(),
            view.width()
        );
        // the tab row stays visible to the right of the image, not under it
        for other in Tab::ALL {
            let b = h
                .query_all_by_label(other.title())
                .find(|n| n.accesskit_node().role() != egui::accesskit::Role::Label)
                .unwrap_or_else(|| panic!("no tab button {}", other.title()));
            let r = b.rect();
            assert!(
                r.min.x >= view.max.x && r.max.x <= 1280.0,
                "{}: tab {} at {r:?}, image up to {}",
                t.title(),
                other.title(),
                view.max.x
            );
        }
    }
}
