//! Tests of the histogram history and heatmaps, the optimizer choice and checkpoint save /
//! load through the tab's buttons (with a file picker that needs no user).

use super::tests::tiny_state;
use super::*;
use crate::app::panels::test_support::inspection;
use crate::app::plot_export::PlotExports;
use crate::inspect::Inspection;
use crate::train::{BackendChoice, OptimizerKind};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn sets(n: u32) -> HistSets {
    std::array::from_fn(|k| {
        let mut v = vec![0; crate::train::thread::HIST_BINS];
        v[k] = n;
        v[19] = 1;
        v
    })
}

#[test]
fn histogram_history_is_bounded_even_and_truncates() {
    let mut h = HistogramHistory::default();
    for step in 0..5000 {
        h.push(step, sets(3));
    }
    let steps: Vec<u64> = h.entries().iter().map(|e| e.0).collect();
    assert!(steps.len() < hist_history::MAX_ENTRIES, "{}", steps.len());
    assert!(
        steps.len() > hist_history::MAX_ENTRIES / 4,
        "{}",
        steps.len()
    );
    assert!(h.stride() >= 8, "stride {}", h.stride());
    assert!(steps[0] < h.stride(), "first kept step {}", steps[0]);
    assert!(*steps.last().unwrap() >= 5000 - h.stride());
    // evenly spaced: no gap wider than the stride
    assert!(
        steps.windows(2).all(|w| w[1] - w[0] <= h.stride()),
        "{steps:?}"
    );
    // a reload to step 1000 drops the later entries; an older step replaces the tail
    h.truncate_from(1000);
    assert!(h.latest().unwrap().0 < 1000);
    let v = h.version();
    h.push(500, sets(1));
    assert_eq!(h.latest().unwrap().0, 500);
    assert!(h.version() > v);
    // shares: each column sums to 1, bin k of set k holds n / (n + 1)
    let shares = h.shares(2, 7);
    assert_eq!(shares.len(), 7);
    let last = shares.last().unwrap().unwrap();
    assert!((last.iter().sum::<f32>() - 1.0).abs() < 1e-6);
    assert!((last[2] - 0.5).abs() < 1e-6, "{last:?}");
    assert!((shares[0].unwrap()[2] - 0.75).abs() < 1e-6);
}

/// The tab's state in a harness: the app settings and the runtime.
struct Tab {
    state: AppState,
    rt: TrainingRuntime,
}

/// The Training tab (with 3 classes) in a harness; each frame drains and syncs the runtime
/// as the app does.
fn tab_harness<'a>(
    ins: &'a Inspection,
    exports: &'a PlotExports,
    picker: PathPicker,
) -> Harness<'a, Tab> {
    let tab = Tab {
        state: tiny_state(),
        rt: TrainingRuntime::with_picker(egui::Context::default(), picker),
    };
    // the tab's grid sliders and combo boxes are labelled by the grid's first column, which
    // accesskit does not link to them
    Harness::builder()
        .with_size(egui::vec2(700.0, 2400.0))
        .with_accessibility_check(false)
        .build_ui_state(
            move |ui, t: &mut Tab| {
                t.rt.drain(Instant::now() + Duration::from_millis(5));
                t.rt.sync(&t.state, 3);
                let ctx = PanelContext {
                    inspection: Some(ins),
                    scores: None,
                    prior_prob: 0.01,
                    stats: None,
                    exports,
                    dataset: None,
                };
                training_ui(ui, &mut t.state, &ctx, &mut t.rt, Some(3));
            },
            tab,
        )
}

/// Steps the harness until `done` holds (60 s at most).
fn step_until(h: &mut Harness<'_, Tab>, what: &str, done: impl Fn(&Tab) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done(h.state()) {
        let rt = &h.state().rt;
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {:?} {:?}",
            rt.error,
            rt.checkpoint_status
        );
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    h.run_steps(2);
}

fn no_picker() -> PathPicker {
    std::sync::Arc::new(|_| None)
}

#[test]
fn heatmaps_render_after_some_steps() {
    let state = AppState::default();
    let (ins, exports) = (inspection(&state), PlotExports::new("/nonexistent".into()));
    let mut h = tab_harness(&ins, &exports, no_picker());
    h.run_steps(2);
    assert!(h.query_by_label("IoU, picked negatives").is_none());
    assert_eq!(h.state().rt.heatmaps.builds, 0);
    h.get_by_label("Step").click();
    h.run_steps(1);
    {
        let t = h.state_mut();
        t.rt.step(&t.state, 3, 5);
    }
    step_until(&mut h, "5 steps of histograms", |t| {
        t.rt.runs
            .last()
            .is_some_and(|r| r.histograms.entries().len() >= 5)
    });
    for title in [
        "IoU, positives",
        "IoU, picked negatives",
        "p_t, positives",
        "p_t, picked negatives",
    ] {
        h.get_by_label(title);
    }
    h.get_by_label_contains("Over time (");
    let builds = h.state().rt.heatmaps.builds;
    assert!(builds >= 4, "{builds} texture builds");
    // once every step has arrived, frames with nothing new rebuild nothing
    step_until(&mut h, "all 6 steps of histograms", |t| {
        t.rt.runs
            .last()
            .is_some_and(|r| r.histograms.entries().len() >= 6)
    });
    h.run_steps(2);
    let builds = h.state().rt.heatmaps.builds;
    h.run_steps(3);
    assert_eq!(h.state().rt.heatmaps.builds, builds);
}

#[test]
fn optimizer_choice_changes_the_config_sent() {
    let state = AppState::default();
    let (ins, exports) = (inspection(&state), PlotExports::new("/nonexistent".into()));
    let mut h = tab_harness(&ins, &exports, no_picker());
    h.run_steps(2);
    assert!(h.query_all_by_label("momentum").count() >= 1);
    h.get_by_label("Step").click();
    step_until(&mut h, "a run", |t| t.rt.sent_config().is_some());
    assert_eq!(
        h.state().rt.sent_config().unwrap().optimizer,
        OptimizerKind::Sgd
    );
    h.get_by_value("SGD").click();
    h.run_steps(2);
    h.get_by_label("AdamW").click();
    h.run_steps(3);
    assert_eq!(h.state().state.training.optimizer, OptimizerKind::Adamw);
    // AdamW shows its betas instead of the momentum
    assert!(h.query_all_by_label("beta2").count() >= 1);
    assert_eq!(h.query_all_by_label("momentum").count(), 0);
    let sent = h.state().rt.sent_config().unwrap();
    assert_eq!(sent.optimizer, OptimizerKind::Adamw);
    assert_eq!(sent.adam_betas, [0.9, 0.999]);
}

#[test]
fn save_and_load_checkpoint_through_the_buttons() {
    let dir = std::env::temp_dir().join(format!("anchorscope-ckpt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("run.safetensors");
    let _ = std::fs::remove_file(&path);
    let p2: PathBuf = path.clone();
    let picker: PathPicker = std::sync::Arc::new(move |_| Some(p2.clone()));
    let state = AppState::default();
    let (ins, exports) = (inspection(&state), PlotExports::new("/nonexistent".into()));
    let mut h = tab_harness(&ins, &exports, picker);
    h.run_steps(2);
    assert!(
        h.get_by_label("Save checkpoint...")
            .accesskit_node()
            .is_disabled()
    );
    {
        let t = h.state_mut();
        t.rt.step(&t.state, 3, 3);
    }
    step_until(&mut h, "3 steps", |t| {
        t.rt.runs.last().is_some_and(|r| r.metrics.len() >= 3)
            && t.rt.state == Some(RunState::Paused)
    });
    h.get_by_label("Save checkpoint...").click();
    step_until(&mut h, "the save", |t| {
        t.rt.checkpoint_status
            .as_ref()
            .is_some_and(|s| s.starts_with("Saved"))
    });
    h.get_by_label(&format!("Saved {}", path.display()));
    let len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    assert!(len > 100_000, "checkpoint of {len} bytes");

    // a new run loads it and goes on at step 3
    h.state_mut().rt.new_run();
    h.run_steps(2);
    h.get_by_label("Load checkpoint...").click();
    step_until(&mut h, "the load", |t| {
        t.rt.checkpoint_status
            .as_ref()
            .is_some_and(|s| s.starts_with("Loaded"))
    });
    h.get_by_label(&format!("Loaded {}: step 3", path.display()));
    assert!(h.state().rt.error.is_none(), "{:?}", h.state().rt.error);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn backend_choice_reaches_the_trainer_and_comes_back() {
    let state = AppState::default();
    let (ins, exports) = (inspection(&state), PlotExports::new("/nonexistent".into()));
    let mut h = tab_harness(&ins, &exports, no_picker());
    h.run_steps(2);
    h.get_by_label("Step").click();
    step_until(&mut h, "the trainer's backend", |t| t.rt.backend.is_some());
    // auto on this machine: "cpu" on lavapipe or without an adapter, "gpu: .." on hardware
    assert!(h.state().rt.backend.is_some());
    h.get_by_value("auto").click();
    h.run_steps(2);
    h.get_by_label("CPU").click();
    step_until(&mut h, "the CPU backend", |t| {
        t.rt.backend.as_deref() == Some("cpu")
    });
    assert_eq!(h.state().state.training.backend, BackendChoice::Cpu);
    // and on to the GPU backend (lavapipe in CI), where the next step runs
    h.get_by_value("CPU").click();
    h.run_steps(2);
    h.get_by_label("GPU (wgpu)").click();
    step_until(&mut h, "the GPU backend or an error", |t| {
        t.rt.backend
            .as_deref()
            .is_some_and(|b| b.starts_with("gpu: "))
            || t.rt.error.is_some()
    });
    if let Some(e) = &h.state().rt.error {
        crate::backend::gpu::skip_without_gpu(e);
        return;
    }
    let before = h.state().rt.metrics_received;
    h.get_by_label("Step").click();
    step_until(&mut h, "a step on the GPU", |t| {
        t.rt.metrics_received > before
    });
    let m = h
        .state()
        .rt
        .runs
        .last()
        .and_then(|r| r.metrics.last())
        .cloned();
    let m = m.expect("the GPU step's metrics");
    assert!(m.loss_total.is_finite() && m.loss_total > 0.0, "{m:?}");
}

#[test]
fn hard_positive_occlusion_reaches_the_trainer() {
    let state = AppState::default();
    let (ins, exports) = (inspection(&state), PlotExports::new("/nonexistent".into()));
    let mut h = tab_harness(&ins, &exports, no_picker());
    h.run_steps(2);
    h.get_by_label("Step").click();
    step_until(&mut h, "a run", |t| t.rt.sent_config().is_some());
    assert!(!h.state().rt.sent_config().unwrap().hard_positives.occlude);
    h.get_by_label("occlude the loss-raising patch").click();
    h.run_steps(3);
    assert!(h.state().state.training.hard_positives.occlude);
    assert!(h.state().rt.sent_config().unwrap().hard_positives.occlude);
}
