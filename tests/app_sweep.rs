//! The Sweep tab driven headless (egui_kittest, wgpu on lavapipe in CI): a tiny sweep trained
//! through the library, opened as with `gui --sweep DIR`; its table (both runs, sorted by a
//! header click), its overlaid curves, and a run reopened: its checkpoint behind the views and
//! its own evaluation (the stats of its eval.json) in the Evaluation tab. A folder that is not
//! a sweep is a one-line error naming the file.

use anchorscope::app::state::Tab;
use anchorscope::app::{AnchorscopeApp, AppOptions};
use anchorscope::sweep::{Overrides, SweepObserver, SweepOptions, SweepPlan, run_sweep};
use anchorscope::train::BackendChoice;
use anchorscope::train::run::RunObserver;
mod app_support;

use app_support::{app_harness, settle};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Two runs of 3 steps on a held-out split of 4 images; the prior at 0.5 and 0.2 so the
/// untrained classifier already scores anchors above the detection threshold.
const GRID: &str = r#"
dataset = "synthetic:shapes@0"
eval_images = 4
steps = 3
batch = 2
seed = 1
cls_loss = { name = "ce" }

[grid]
lab.prior_prob = [0.5, 0.2]
"#;

struct Quiet;
impl RunObserver for Quiet {}
impl SweepObserver for Quiet {}

/// The tiny sweep trained into a fresh folder; the run names in plan order.
fn tiny_sweep() -> (PathBuf, Vec<String>) {
    let out = std::env::temp_dir().join(format!("anchorscope-app-sweep-{}", std::process::id()));
    std::fs::remove_dir_all(&out).ok();
    let plan = SweepPlan::parse(GRID, "grid.toml", &Overrides::default()).unwrap();
    let opts = SweepOptions {
        out: out.clone(),
        backend: BackendChoice::Cpu,
        resume: false,
    };
    let outcome = run_sweep(&plan, &opts, &mut Quiet).unwrap();
    assert!(outcome.failed.is_empty(), "{:?}", outcome.failed);
    (out, plan.runs.iter().map(|r| r.name.clone()).collect())
}

/// The 12 stats of a run's eval.json.
fn eval_stats(run: &Path) -> Vec<f64> {
    let text = std::fs::read_to_string(run.join("eval.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let stats = v["stats"].as_array().unwrap();
    stats.iter().map(|x| x.as_f64().unwrap()).collect()
}

/// Steps until `done` holds (at most 90 s).
fn wait(
    h: &mut Harness<'static, AnchorscopeApp>,
    what: &str,
    done: impl Fn(&AnchorscopeApp) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(90);
    while !done(h.state()) {
        let a = h.state();
        assert!(
            Instant::now() < deadline,
            "{what}: {:?} / {:?} / {:?}",
            a.error,
            a.sweep.error,
            a.evaluation.error
        );
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    h.run_steps(2);
}

/// A run's name in the table (the plot's legend, lower down, has it too).
fn table_cell<'h>(
    h: &'h Harness<'static, AnchorscopeApp>,
    name: &'h str,
) -> egui_kittest::Node<'h> {
    h.query_all_by_label(name)
        .min_by(|a, b| a.rect().min.y.total_cmp(&b.rect().min.y))
        .unwrap_or_else(|| panic!("{name}: not shown"))
}

/// The table's rows top to bottom, by where each run's name is drawn.
fn rows_top_down(h: &Harness<'static, AnchorscopeApp>, names: &[String]) -> Vec<String> {
    let mut ys: Vec<(f32, String)> = names
        .iter()
        .map(|n| (table_cell(h, n).rect().min.y, n.clone()))
        .collect();
    ys.sort_by(|a, b| a.0.total_cmp(&b.0));
    ys.into_iter().map(|(_, n)| n).collect()
}

#[test]
fn sweep_tab_sorts_overlays_and_reopens_a_run() {
    let not_a_sweep =
        std::env::temp_dir().join(format!("anchorscope-no-sweep-{}", std::process::id()));
    std::fs::create_dir_all(&not_a_sweep).unwrap();
    let Some(mut h) = app_harness(AppOptions {
        sweep: Some(not_a_sweep.clone()),
        ..AppOptions::default()
    }) else {
        return;
    };
    settle(&mut h);
    assert_eq!(
        h.state().state.tab,
        Tab::Sweep,
        "--sweep shows the Sweep tab"
    );
    let e = h
        .state()
        .sweep
        .error
        .clone()
        .expect("an error for a folder without sweep.toml");
    assert!(e.contains("sweep.toml") && !e.contains('\n'), "{e}");
    // in the panel and in the status bar
    let shown = h
        .query_all_by_label_contains("sweep.toml: cannot read")
        .count();
    assert_eq!(shown, 2, "the error in the panel and the status bar");

    let (dir, names) = tiny_sweep();
    assert_eq!(names.len(), 2);
    h.state_mut().sweep.open(dir.clone());
    settle(&mut h);
    assert!(
        h.state().sweep.error.is_none(),
        "{:?}",
        h.state().sweep.error
    );
    h.get_by_label_contains("2 of 2 runs finished");
    assert_eq!(rows_top_down(&h, &names), names, "plan order first");

    // the varied setting sorts as a number: 0.2 before 0.5, then the other way
    h.get_by_label("lab.prior_prob").click();
    h.run_steps(2);
    assert_eq!(
        rows_top_down(&h, &names),
        [names[1].clone(), names[0].clone()]
    );
    h.get_by_label("lab.prior_prob ^").click();
    h.run_steps(2);
    assert_eq!(rows_top_down(&h, &names), names);
    h.get_by_label("lab.prior_prob v");

    // both runs' loss curves, 3 steps each, and their names in the legend too
    let drawn: Vec<(String, usize)> = (h.state().sweep.drawn.iter())
        .map(|l| (l.name.clone(), l.points.len()))
        .collect();
    assert_eq!(drawn, [(names[0].clone(), 3), (names[1].clone(), 3)]);
    for n in &names {
        assert!(
            h.query_all_by_label(n).count() >= 2,
            "{n}: not in the legend"
        );
    }

    // reopen the run with prior 0.2 (the second row)
    let run = names[1].clone();
    table_cell(&h, &run).click();
    h.run_steps(2);
    assert_eq!(h.state().sweep.selected, Some(1));
    h.get_by_label("Reopen").click();
    let ckpt = format!("scores: checkpoint {run}/checkpoint.safetensors, step 3");
    wait(&mut h, "the run's checkpoint scores the views", |a| {
        a.inspection
            .as_ref()
            .is_some_and(|i| i.model.caption() == ckpt)
            && a.evaluation.view.is_some()
            && !a.evaluation.busy
    });
    settle(&mut h);
    assert_eq!(h.state().state.tab, Tab::Evaluation);
    assert_eq!(
        h.state().state.lab.prior_prob,
        0.2,
        "the run's lab settings"
    );
    h.get_by_label(&ckpt);
    h.get_by_label_contains(&format!("sweep: reopened {run} (checkpoint step 3"));
    let view = h.state().evaluation.view.clone().unwrap();
    assert_eq!(
        view.source,
        format!("sweep run {run}: detections.json over val_gt.json")
    );
    h.get_by_label(&format!("Showing: {}", view.source));
    let want = eval_stats(&dir.join(&run));
    assert_eq!(
        view.stats.to_vec(),
        want,
        "the Evaluation tab shows the run's eval.json"
    );
    let other = eval_stats(&dir.join(&names[0]));
    assert!(
        want != other || want[0] > 0.0 || want[8] > 0.0,
        "the runs' evaluations cannot be told apart: {want:?}"
    );
    std::fs::remove_dir_all(&dir).ok();
    std::fs::remove_dir_all(&not_a_sweep).ok();
}
