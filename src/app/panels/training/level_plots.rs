//! The Training tab's per-level curves: positives, classification loss and regression loss of
//! each pyramid level (P3, P4, ...) of the current run, one line per level.

use super::TrainingSettings;
use super::plots::SERIES_COLOURS;
use super::plots::{lines_plot, metric_series};
use super::run::Run;
use crate::app::plot_export::PlotExports;
use crate::train::StepMetrics;
use crate::train::metrics::{LevelMetrics, level_name};

/// One per-level quantity (NaN where the step did not measure it).
type LevelFn = fn(&LevelMetrics) -> f64;

/// The `(name, points)` of one quantity for every level the run's steps report, smoothed as
/// the other curves; unmeasured steps (fused loss kernels) are left out of a line.
pub fn level_series(
    metrics: &[StepMetrics],
    f: LevelFn,
    smoothing: f64,
    log: bool,
) -> Vec<(String, Vec<[f64; 2]>)> {
    let Some(first) = metrics.iter().find(|m| !m.levels.is_empty()) else {
        return Vec::new();
    };
    first
        .levels
        .iter()
        .enumerate()
        .map(|(k, l)| {
            let pts = metric_series(
                metrics,
                |m| m.levels.get(k).map_or(f64::NAN, f),
                smoothing,
                log,
            );
            (level_name(l.stride), pts)
        })
        .collect()
}

/// The three per-level plots of the last run (or a hint before the first step).
pub fn level_plots_ui(
    ui: &mut egui::Ui,
    s: &TrainingSettings,
    runs: &[Run],
    exports: &PlotExports,
) {
    let Some(run) = runs.last().filter(|r| !r.metrics.is_empty()) else {
        ui.weak("No step yet.");
        return;
    };
    let plots: [(&str, &str, LevelFn, bool); 3] = [
        (
            "training_level_pos",
            "positives",
            |l| l.num_pos as f64,
            false,
        ),
        (
            "training_level_cls",
            "cls loss",
            |l| l.loss_cls.unwrap_or(f64::NAN),
            s.log_scale,
        ),
        (
            "training_level_reg",
            "reg loss",
            |l| l.loss_reg.unwrap_or(f64::NAN),
            s.log_scale,
        ),
    ];
    ui.weak(format!(
        "{}: each level's picked positives and its part of the normalised losses (the levels add up to cls and reg; steps on fused GPU loss kernels measure only the positives)",
        run.name
    ));
    for (id, y, f, log) in plots {
        let lines = level_series(&run.metrics, f, s.smoothing, log)
            .into_iter()
            .enumerate()
            .map(|(k, series)| (series, SERIES_COLOURS[k % SERIES_COLOURS.len()]))
            .collect();
        lines_plot(ui, exports, id, y, log, lines);
    }
}
