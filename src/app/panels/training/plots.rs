//! The Training tab's plots: loss curves of every run, learning rate, gradient norm, the
//! positives' share of the classification loss, and the latest IoU / p_t histograms.

use super::TrainingSettings;
use super::run::{LatestHistograms, Run};
use crate::app::panels::stats::{log10_marks, pow10_label};
use crate::app::plot_export::{PlotExports, Series};
use crate::train::StepMetrics;
use crate::train::thread::HIST_BINS;
use egui::Color32;
use egui_plot::{Bar, BarChart, Legend, Line, Plot};

/// Height of each plot.
const HEIGHT: f32 = 170.0;
/// Points drawn per line at most (longer runs are thinned for drawing, not for export).
const MAX_DRAWN: usize = 1500;

/// A metric of a step.
type MetricFn = fn(&StepMetrics) -> f64;

/// Colours of the series of one plot (runs, the current run's full and older runs lighter;
/// pyramid levels, finest first).
pub(super) const SERIES_COLOURS: [Color32; 6] = [
    Color32::from_rgb(70, 140, 240),
    Color32::from_rgb(240, 130, 40),
    Color32::from_rgb(80, 190, 100),
    Color32::from_rgb(210, 80, 200),
    Color32::from_rgb(230, 200, 60),
    Color32::from_rgb(90, 210, 220),
];

/// `(step, value)` of one metric, exponentially smoothed by `smoothing` (0: raw), on a log10
/// axis when `log` (non-positive and non-finite values left out).
pub fn metric_series(
    metrics: &[StepMetrics],
    f: impl Fn(&StepMetrics) -> f64,
    smoothing: f64,
    log: bool,
) -> Vec<[f64; 2]> {
    let a = smoothing.clamp(0.0, 0.999);
    let mut ema: Option<f64> = None;
    let mut out = Vec::with_capacity(metrics.len());
    for m in metrics {
        let v = f(m);
        if !v.is_finite() {
            continue;
        }
        let s = match ema {
            Some(e) => a * e + (1.0 - a) * v,
            None => v,
        };
        ema = Some(s);
        if log {
            if s > 0.0 {
                out.push([m.step as f64, s.log10()]);
            }
        } else {
            out.push([m.step as f64, s]);
        }
    }
    out
}

/// Every `k`-th point so that at most [`MAX_DRAWN`] remain (the last one always kept).
fn thin(pts: &[[f64; 2]]) -> Vec<[f64; 2]> {
    if pts.len() <= MAX_DRAWN {
        return pts.to_vec();
    }
    let k = pts.len().div_ceil(MAX_DRAWN);
    let mut out: Vec<[f64; 2]> = pts.iter().step_by(k).copied().collect();
    if let Some(last) = pts.last()
        && out.last() != Some(last)
    {
        out.push(*last);
    }
    out
}

/// A line plot of named series with colours and export buttons.
pub(super) fn lines_plot(
    ui: &mut egui::Ui,
    exports: &PlotExports,
    id: &str,
    y_label: &str,
    log: bool,
    lines: Vec<(Series, Color32)>,
) {
    let mut plot = Plot::new(id)
        .show_background(false) // see chrome::unfilled: fill rate on lavapipe
        .height(HEIGHT)
        .legend(Legend::default())
        .x_axis_label("step")
        .y_axis_label(y_label)
        .allow_scroll(false);
    if log {
        plot = plot
            .y_grid_spacer(log10_marks)
            .y_axis_formatter(|m, _| pow10_label_small(m.value));
    }
    let resp = plot.show(ui, |p| {
        for ((name, pts), colour) in &lines {
            p.line(Line::new(name.clone(), thin(pts)).color(*colour));
        }
    });
    let series = || {
        let to_linear = |pts: &Vec<[f64; 2]>| {
            pts.iter()
                .map(|q| [q[0], if log { 10f64.powf(q[1]) } else { q[1] }])
                .collect()
        };
        lines
            .iter()
            .map(|((n, pts), _)| (n.clone(), to_linear(pts)))
            .collect()
    };
    exports.buttons(ui, id, series, resp.response.rect);
}

/// `10^v` for axis labels, also below 0.01 (scientific there).
fn pow10_label_small(v: f64) -> String {
    if v < -2.0 {
        format!("{:.0e}", 10f64.powf(v))
    } else {
        pow10_label(v)
    }
}

/// Total, classification and regression loss of every run; older runs lighter.
pub fn loss_plot(ui: &mut egui::Ui, s: &TrainingSettings, runs: &[Run], exports: &PlotExports) {
    let comps: [(&str, MetricFn, Color32); 3] = [
        ("total", |m| m.loss_total, Color32::from_rgb(70, 140, 240)),
        ("cls", |m| m.loss_cls, Color32::from_rgb(240, 130, 40)),
        ("reg", |m| m.loss_reg, Color32::from_rgb(80, 190, 100)),
    ];
    let last = runs.len().saturating_sub(1);
    let mut lines = Vec::new();
    for (k, run) in runs.iter().enumerate() {
        for (name, f, colour) in comps {
            let pts = metric_series(&run.metrics, f, s.smoothing, s.log_scale);
            let c = if k == last {
                colour
            } else {
                colour.gamma_multiply(0.35)
            };
            lines.push(((format!("{} {name}", run.name), pts), c));
        }
    }
    lines_plot(ui, exports, "training_loss", "loss", s.log_scale, lines);
}

/// One metric of every run, coloured by run, older runs lighter.
pub fn metric_plot(
    ui: &mut egui::Ui,
    exports: &PlotExports,
    id: &str,
    y_label: &str,
    runs: &[Run],
    f: MetricFn,
    (smoothing, log): (f64, bool),
) {
    let last = runs.len().saturating_sub(1);
    let lines = runs
        .iter()
        .enumerate()
        .map(|(k, run)| {
            let colour = SERIES_COLOURS[k % SERIES_COLOURS.len()];
            let c = if k == last {
                colour
            } else {
                colour.gamma_multiply(0.35)
            };
            (
                (
                    run.name.clone(),
                    metric_series(&run.metrics, f, smoothing, log),
                ),
                c,
            )
        })
        .collect();
    lines_plot(ui, exports, id, y_label, log, lines);
}

/// Fractions of a binned set (all zero when it is empty).
pub fn fractions(counts: &[u32]) -> Vec<f64> {
    let total: u32 = counts.iter().sum();
    counts
        .iter()
        .map(|&c| c as f64 / total.max(1) as f64)
        .collect()
}

/// Two binned sets side by side over `[0, 1]`, with export buttons.
pub fn hist_plot(
    ui: &mut egui::Ui,
    exports: &PlotExports,
    id: &str,
    x_label: &str,
    sets: [(&str, &[u32], Color32); 2],
) {
    let w = 1.0 / HIST_BINS as f64;
    let series: Vec<Series> = sets
        .iter()
        .map(|(name, c, _)| {
            let pts = fractions(c).into_iter().enumerate();
            (
                name.to_string(),
                pts.map(|(b, f)| [(b as f64 + 0.5) * w, f]).collect(),
            )
        })
        .collect();
    let resp = Plot::new(id)
        .show_background(false) // see chrome::unfilled: fill rate on lavapipe
        .height(HEIGHT)
        .legend(Legend::default())
        .x_axis_label(x_label)
        .y_axis_label("fraction")
        .allow_drag(false)
        .allow_scroll(false)
        .allow_zoom(false)
        .include_x(0.0)
        .include_x(1.0)
        .include_y(0.0)
        .show(ui, |p| {
            for (k, ((name, pts), (_, c, colour))) in series.iter().zip(&sets).enumerate() {
                let bars = pts
                    .iter()
                    .map(|q| Bar::new(q[0] + (k as f64 - 0.5) * w / 2.0, q[1]).width(w / 2.0))
                    .collect();
                let total: u32 = c.iter().sum();
                p.bar_chart(BarChart::new(format!("{name} ({total})"), bars).color(*colour));
            }
        });
    exports.buttons(ui, id, || series, resp.response.rect);
}

/// The latest step's IoU and p_t histograms.
pub fn histograms_ui(ui: &mut egui::Ui, h: &LatestHistograms, exports: &PlotExports) {
    let (pos, neg) = (
        Color32::from_rgb(80, 190, 100),
        Color32::from_rgb(230, 90, 70),
    );
    ui.label(format!("Step {}: anchors the loss used", h.step));
    hist_plot(
        ui,
        exports,
        "training_iou_histograms",
        "IoU of the anchor with its best GT",
        [
            ("positives", &h.sets[0], pos),
            ("picked negatives", &h.sets[1], neg),
        ],
    );
    hist_plot(
        ui,
        exports,
        "training_p_t_histograms",
        "p_t (probability of the right answer)",
        [
            ("positives", &h.sets[2], pos),
            ("picked negatives", &h.sets[3], neg),
        ],
    );
}
