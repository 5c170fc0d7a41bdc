use super::*;
use crate::data::{SyntheticConfig, SyntheticDataset};

/// A tiny run: 64 x 64 synthetic images, batch 2, no warm-up.
fn spawn_tiny(lr: f64) -> TrainerHandle {
    let cfg = TrainConfig {
        batch: 2,
        warmup_steps: 0,
        lr,
        ..TrainConfig::default()
    };
    let sc = SyntheticConfig {
        width: 64,
        height: 64,
        size_range: [12.0, 40.0],
        ..Default::default()
    };
    let ds = SyntheticDataset::new(sc, 1).with_len(50);
    let data = move || {
        let held_out: Arc<dyn Dataset> = Arc::new(ds.held_out(4));
        Ok(TrainData {
            train: Arc::new(ds),
            held_out,
        })
    };
    TrainerHandle::spawn(cfg, ModelConfig::default(), data, || {})
}

/// Events until `stop` says so (or a 60 s timeout, which fails).
fn until(h: &TrainerHandle, mut stop: impl FnMut(&TrainerEvent) -> bool) -> Vec<TrainerEvent> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        if let Some(e) = h.recv_timeout(Duration::from_millis(50)) {
            let done = stop(&e);
            seen.push(e);
            if done {
                return seen;
            }
        }
    }
    panic!("timed out; events: {seen:?}");
}

fn metrics(evs: &[TrainerEvent]) -> Vec<StepMetrics> {
    evs.iter()
        .filter_map(|e| match e {
            TrainerEvent::Metrics(m) => Some(m.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn steps_run_in_order_and_pause_stops_them() {
    let h = spawn_tiny(0.01);
    h.send(TrainerCommand::Step(3)).unwrap();
    let evs = until(&h, |e| matches!(e, TrainerEvent::Metrics(m) if m.step == 2));
    assert!(matches!(evs[0], TrainerEvent::Ready { .. }), "{:?}", evs[0]);
    let steps: Vec<u64> = metrics(&evs).iter().map(|m| m.step).collect();
    assert_eq!(steps, vec![0, 1, 2]);
    until(&h, |e| matches!(e, TrainerEvent::State(RunState::Paused)));
    // paused after Step(3): nothing more arrives
    assert!(
        h.recv_timeout(Duration::from_millis(300))
            .is_none_or(|e| { !matches!(e, TrainerEvent::Metrics(_)) })
    );

    h.send(TrainerCommand::Start).unwrap();
    until(&h, |e| matches!(e, TrainerEvent::Metrics(m) if m.step == 5));
    h.send(TrainerCommand::Pause).unwrap();
    let evs = until(&h, |e| matches!(e, TrainerEvent::State(RunState::Paused)));
    let last = metrics(&evs).last().map(|m| m.step).unwrap_or(5);
    std::thread::sleep(Duration::from_millis(300));
    let mut later = Vec::new();
    while let Some(e) = h.try_recv() {
        later.push(e);
    }
    assert!(
        metrics(&later).is_empty(),
        "steps after the pause (last {last}): {later:?}"
    );

    // a preview of image 0 while paused
    let detect = DetectConfig::default();
    h.send(TrainerCommand::Preview { index: 0, detect })
        .unwrap();
    let evs = until(&h, |e| matches!(e, TrainerEvent::Preview { .. }));
    if let Some(TrainerEvent::Preview { probs, index, .. }) = evs.last() {
        assert_eq!(*index, 0);
        assert!(!probs.is_empty() && probs.iter().all(|p| (0.0..=1.0).contains(p)));
    }
    h.join();
}

#[test]
fn set_config_takes_effect_and_divergence_pauses() {
    let h = spawn_tiny(0.01);
    let new = TrainConfig {
        batch: 2,
        warmup_steps: 0,
        lr: 0.003,
        schedule: crate::train::LrSchedule::Constant,
        ..TrainConfig::default()
    };
    h.send(TrainerCommand::SetConfig(Box::new(new.clone())))
        .unwrap();
    h.send(TrainerCommand::Step(1)).unwrap();
    let evs = until(&h, |e| matches!(e, TrainerEvent::Metrics(_)));
    assert_eq!(metrics(&evs)[0].lr, 0.003);

    // a config the model cannot take is refused with a message
    let mut bad = new.clone();
    bad.num_classes = 7;
    h.send(TrainerCommand::SetConfig(Box::new(bad))).unwrap();
    until(
        &h,
        |e| matches!(e, TrainerEvent::Error(m) if m.contains("classes")),
    );

    // a huge learning rate: divergence, named, and a pause instead of a panic
    let huge = TrainConfig { lr: 1e6, ..new };
    h.send(TrainerCommand::SetConfig(Box::new(huge))).unwrap();
    h.send(TrainerCommand::Start).unwrap();
    let evs = until(&h, |e| matches!(e, TrainerEvent::Diverged { .. }));
    let Some(TrainerEvent::Diverged {
        step, component, ..
    }) = evs.last()
    else {
        unreachable!()
    };
    assert!(["loss_cls", "loss_reg", "grad_norm", "loss_total"].contains(component));
    assert!(*step < 40, "diverged only at step {step}");
    until(&h, |e| matches!(e, TrainerEvent::State(RunState::Paused)));

    // the last good state comes back, and healthy steps follow at a sane rate
    h.send(TrainerCommand::ReloadLastGood).unwrap();
    let evs = until(&h, |e| matches!(e, TrainerEvent::Reloaded { .. }));
    let Some(TrainerEvent::Reloaded { step: back }) = evs.last() else {
        unreachable!()
    };
    assert!(back <= step);
    h.send(TrainerCommand::SetConfig(Box::new(
        TrainConfig {
            lr: 0.003,
            ..TrainConfig::default()
        }
        .with_tiny(),
    )))
    .unwrap();
    h.send(TrainerCommand::Step(1)).unwrap();
    let evs = until(&h, |e| matches!(e, TrainerEvent::Metrics(_)));
    let m = metrics(&evs)[0].clone();
    assert_eq!(m.step, *back);
    assert_eq!(m.divergence(), None, "{m:?}");
    assert!(!h.is_finished());
    h.join();
}

trait Tiny {
    fn with_tiny(self) -> Self;
}

impl Tiny for TrainConfig {
    fn with_tiny(self) -> Self {
        TrainConfig {
            batch: 2,
            warmup_steps: 0,
            schedule: crate::train::LrSchedule::Constant,
            ..self
        }
    }
}

#[test]
fn a_bad_dataset_is_an_error_not_a_panic() {
    let h = TrainerHandle::spawn(
        TrainConfig::default(),
        ModelConfig::default(),
        || Err("no such dataset".to_string()),
        || {},
    );
    let evs = until(&h, |e| matches!(e, TrainerEvent::State(RunState::Stopped)));
    assert!(matches!(&evs[0], TrainerEvent::Error(m) if m == "no such dataset"));
    assert_eq!(bin01(&[0.0, 0.5, 1.0, 2.0, f32::NAN])[HIST_BINS - 1], 2);
}

#[test]
fn explosion_counts_as_divergence() {
    let m = |cls: f64, reg: f64| StepMetrics {
        loss_cls: cls,
        loss_reg: reg,
        loss_total: cls + reg,
        ..Default::default()
    };
    assert_eq!(diverged_component(&m(1.0, 1.0), None), None);
    assert_eq!(
        diverged_component(&m(1e29, 1.0), None),
        None,
        "no reference yet"
    );
    let r = Some((1.2, 0.01));
    assert_eq!(
        diverged_component(&m(1e29, 1.0), r),
        Some(("loss_cls", 1e29))
    );
    assert_eq!(
        diverged_component(&m(1.0, 999.0), r),
        None,
        "small references count as 0.1"
    );
    assert_eq!(
        diverged_component(&m(1.0, 1001.0), r),
        Some(("loss_reg", 1001.0))
    );
    let (c, v) = diverged_component(&m(f64::NAN, 1.0), r).unwrap();
    assert_eq!(c, "loss_cls");
    assert!(v.is_nan());
}
