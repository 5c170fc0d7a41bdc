use super::*;
use crate::app::state::SamplerChoice;
use crate::sample::SamplerConfig;
use crate::train::StepMetrics;
use std::time::{Duration, Instant};

fn m(step: u64, loss: f64) -> StepMetrics {
    StepMetrics {
        step,
        loss_total: loss,
        ..Default::default()
    }
}

#[test]
fn series_smooth_thin_and_go_log() {
    let ms = [m(0, 1.0), m(1, 0.0), m(2, f64::NAN), m(3, 100.0)];
    let raw = metric_series(&ms, |m| m.loss_total, 0.0, false);
    assert_eq!(raw, vec![[0.0, 1.0], [1.0, 0.0], [3.0, 100.0]]);
    let smooth = metric_series(&ms, |m| m.loss_total, 0.5, false);
    assert_eq!(smooth, vec![[0.0, 1.0], [1.0, 0.5], [3.0, 50.25]]);
    // log: the zero is left out, the rest are log10
    let log = metric_series(&ms, |m| m.loss_total, 0.0, true);
    assert_eq!(log, vec![[0.0, 0.0], [3.0, 2.0]]);
    assert_eq!(fractions(&[1, 3, 0]), vec![0.25, 0.75, 0.0]);
    assert_eq!(fractions(&[0, 0]), vec![0.0, 0.0]);
}

#[test]
fn level_series_names_levels_and_skips_unmeasured_steps() {
    use crate::train::metrics::LevelMetrics;
    let lv = |stride, num_pos, cls: Option<f64>| LevelMetrics {
        stride,
        num_pos,
        loss_cls: cls,
        loss_reg: None,
    };
    let with = |step, levels| StepMetrics {
        step,
        levels,
        ..Default::default()
    };
    let ms = [
        with(0, vec![lv(8, 5, Some(0.5)), lv(16, 2, Some(0.25))]),
        // a fused step: positives only
        with(1, vec![lv(8, 7, None), lv(16, 1, None)]),
        with(2, vec![lv(8, 3, Some(0.75)), lv(16, 4, Some(1.5))]),
    ];
    let pos = level_series(&ms, |l| l.num_pos as f64, 0.0, false);
    assert_eq!(pos[0].0, "P3");
    assert_eq!(pos[1].0, "P4");
    assert_eq!(pos[0].1, vec![[0.0, 5.0], [1.0, 7.0], [2.0, 3.0]]);
    let cls = level_series(&ms, |l| l.loss_cls.unwrap_or(f64::NAN), 0.0, false);
    assert_eq!(cls[1].1, vec![[0.0, 0.25], [2.0, 1.5]]);
    assert!(level_series(&[m(0, 1.0)], |l| l.num_pos as f64, 0.0, false).is_empty());
}

#[test]
fn settings_make_a_valid_config() {
    let state = AppState::default();
    let mut s = TrainingSettings::default();
    let cfg = s.train_config(&state.lab, 3);
    cfg.validate().unwrap();
    assert_eq!(cfg.sampler, SamplerConfig::None);
    assert_eq!(cfg.lab, state.lab);
    s.sampler = Some(SamplerChoice::Ohem);
    s.cls_loss = crate::losses::classification::ClsLoss::Ce;
    let cfg = s.train_config(&state.lab, 3);
    assert!(matches!(cfg.sampler, SamplerConfig::Ohem(_)));
    assert_eq!(s.loss_label(), "CE, OHEM");
    assert_eq!(TrainingSettings::default().loss_label(), "focal g=2 a=0.25");
    for (name, _) in TRAIN_CLS_LOSSES {
        s.cls_loss = crate::losses::classification::ClsLoss::default_for(name).unwrap();
        s.train_config(&state.lab, 3).validate().unwrap();
    }
    for (name, _) in TRAIN_REG_LOSSES {
        assert!(
            crate::losses::regression::RegLoss::default_for(name).is_some(),
            "{name}"
        );
    }
}

/// A 64 x 64 synthetic dataset, batch 2, no warm-up (also used by `tests_controls`).
pub(super) fn tiny_state() -> AppState {
    let mut state = AppState::default();
    state.dataset.synthetic.width = 64;
    state.dataset.synthetic.height = 64;
    state.dataset.synthetic.size_range = [12.0, 40.0];
    state.dataset.len = 50;
    state.training.batch = 2;
    state.training.warmup_steps = 0;
    state
}

fn drain_until(rt: &mut TrainingRuntime, what: &str, done: impl Fn(&TrainingRuntime) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done(rt) {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {:?}",
            rt.error
        );
        rt.drain(Instant::now() + Duration::from_millis(5));
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn runtime_trains_pauses_keeps_runs_and_reports_divergence() {
    let mut rt = TrainingRuntime::new(egui::Context::default());
    let mut state = tiny_state();
    rt.start(&state, 3);
    rt.sync(&state, 3);
    drain_until(&mut rt, "3 steps", |rt| rt.runs[0].metrics.len() >= 3);
    rt.pause();
    drain_until(&mut rt, "the pause", |rt| {
        rt.state == Some(RunState::Paused)
    });
    let steps: Vec<u64> = rt.runs[0].metrics.iter().map(|m| m.step).collect();
    assert!(steps.windows(2).all(|w| w[1] == w[0] + 1), "{steps:?}");
    drain_until(&mut rt, "a preview", |rt| rt.preview.is_some());
    let p = rt.preview.as_ref().unwrap();
    assert_eq!(p.index, 0);
    assert!(rt.scores_for(&state, p.probs.len()).is_some());
    // another dataset on screen: the live scores do not belong to it
    state.dataset.seed = 9;
    assert!(rt.scores_for(&state, p.probs.len()).is_none());
    state.dataset.seed = 0;

    // a new run keeps the old curves; a huge rate diverges and is reported
    rt.new_run();
    state.training.lr = 1e6;
    rt.start(&state, 3);
    assert_eq!(rt.runs.len(), 2);
    assert!(
        rt.runs[1].name.starts_with("run 2: focal"),
        "{}",
        rt.runs[1].name
    );
    drain_until(&mut rt, "the divergence", |rt| rt.diverged.is_some());
    let (_, msg) = rt.diverged.clone().unwrap();
    assert!(
        msg.contains("Diverged at step") && msg.contains("not finite"),
        "{msg}"
    );
    drain_until(&mut rt, "the pause", |rt| {
        rt.state == Some(RunState::Paused)
    });
    assert!(rt.runs[0].metrics.len() >= 3);
    rt.reload_last_good();
    assert!(rt.diverged.is_none());
}
