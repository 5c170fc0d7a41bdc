//! Every run's curve of one `metrics.csv` column overlaid, one colour a run, the hovered or
//! selected run's line drawn wider and the others faded.

use super::load::SweepData;
use crate::app::panels::stats::{log10_marks, pow10_label};
use crate::app::panels::training::metric_series;
use crate::app::plot_export::PlotExports;
use crate::train::StepMetrics;
use egui::Color32;
use egui_plot::{Legend, Line, Plot};

/// A `metrics.csv` column the plot shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CurveMetric {
    /// Weighted total loss.
    #[default]
    LossTotal,
    /// Classification loss.
    LossCls,
    /// Regression loss.
    LossReg,
    /// Positives' share of the classification loss.
    SharePos,
    /// Picked positives.
    NumPos,
    /// Picked negatives.
    NumNeg,
    /// Gradient norm before clipping.
    GradNorm,
    /// Learning rate.
    Lr,
    /// Step time.
    StepMs,
}

impl CurveMetric {
    /// Every metric, in menu order.
    pub const ALL: [CurveMetric; 9] = [
        Self::LossTotal,
        Self::LossCls,
        Self::LossReg,
        Self::SharePos,
        Self::NumPos,
        Self::NumNeg,
        Self::GradNorm,
        Self::Lr,
        Self::StepMs,
    ];

    /// Its `metrics.csv` column name.
    pub fn column(self) -> &'static str {
        match self {
            Self::LossTotal => "loss_total",
            Self::LossCls => "loss_cls",
            Self::LossReg => "loss_reg",
            Self::SharePos => "share_pos",
            Self::NumPos => "num_pos",
            Self::NumNeg => "num_neg",
            Self::GradNorm => "grad_norm",
            Self::Lr => "lr",
            Self::StepMs => "step_ms",
        }
    }

    /// Its value in one step.
    pub fn of(self, m: &StepMetrics) -> f64 {
        match self {
            Self::LossTotal => m.loss_total,
            Self::LossCls => m.loss_cls,
            Self::LossReg => m.loss_reg,
            Self::SharePos => m.share_pos,
            Self::NumPos => m.num_pos as f64,
            Self::NumNeg => m.num_neg as f64,
            Self::GradNorm => m.grad_norm,
            Self::Lr => m.lr,
            Self::StepMs => m.step_ms,
        }
    }
}

/// One run's line.
#[derive(Clone, Debug)]
pub struct CurveLine {
    /// The run (index into [`SweepData::runs`]).
    pub run: usize,
    /// Its name (the legend's).
    pub name: String,
    /// `(step, value)`, the value as log10 on a log axis.
    pub points: Vec<[f64; 2]>,
    /// Its colour.
    pub colour: Color32,
    /// Its width in points.
    pub width: f32,
}

/// Colour of run `k`: hues a golden angle apart, so neighbours differ.
pub fn run_colour(k: usize) -> Color32 {
    let h = (k as f32 * 0.618_034 + 0.58).fract();
    egui::ecolor::Hsva::new(h, 0.75, 0.95, 1.0).into()
}

/// The lines of every run that has steps; `emphasis` (a run) is wide and the others faded.
pub fn curve_lines(
    data: &SweepData,
    metric: CurveMetric,
    log: bool,
    emphasis: Option<usize>,
) -> Vec<CurveLine> {
    data.runs
        .iter()
        .enumerate()
        .filter(|(_, r)| !r.metrics.is_empty())
        .map(|(k, r)| {
            let base = run_colour(k);
            let (colour, width) = match emphasis {
                Some(e) if e == k => (base, 3.0),
                Some(_) => (base.gamma_multiply(0.3), 1.0),
                None => (base, 1.5),
            };
            CurveLine {
                run: k,
                name: r.name.clone(),
                points: metric_series(&r.metrics, |m| metric.of(m), 0.0, log),
                colour,
                width,
            }
        })
        .collect()
}

/// The metric menu, the log toggle and the overlaid curves, `width` points wide (the panel's
/// width, not the table's); returns the lines drawn.
pub fn curves_ui(
    ui: &mut egui::Ui,
    data: &SweepData,
    (metric, log): (&mut CurveMetric, &mut bool),
    emphasis: Option<usize>,
    exports: &PlotExports,
    width: f32,
) -> Vec<CurveLine> {
    ui.horizontal(|ui| {
        ui.label("Curve");
        egui::ComboBox::from_id_salt("sweep-curve-metric")
            .selected_text(metric.column())
            .show_ui(ui, |ui| {
                for m in CurveMetric::ALL {
                    ui.selectable_value(metric, m, m.column());
                }
            });
        ui.checkbox(log, "log scale");
    });
    let lines = curve_lines(data, *metric, *log, emphasis);
    if lines.is_empty() {
        ui.weak("No run has trained a step yet.");
        return lines;
    }
    let mut plot = Plot::new("sweep_curves")
        .show_background(false) // see chrome::unfilled: fill rate on lavapipe
        .height(220.0)
        .width(width)
        .legend(Legend::default())
        .x_axis_label("step")
        .y_axis_label(metric.column())
        .allow_scroll(false);
    if *log {
        plot = plot
            .y_grid_spacer(log10_marks)
            .y_axis_formatter(|m, _| pow10_label(m.value));
    }
    let resp = plot.show(ui, |p| {
        for l in &lines {
            p.line(
                Line::new(l.name.clone(), l.points.clone())
                    .color(l.colour)
                    .width(l.width),
            );
        }
    });
    let series = || {
        lines
            .iter()
            .map(|l| {
                let pts = l.points.iter();
                let linear = pts.map(|q| [q[0], if *log { 10f64.powf(q[1]) } else { q[1] }]);
                (l.name.clone(), linear.collect())
            })
            .collect()
    };
    exports.buttons(ui, "sweep_curves", series, resp.response.rect);
    lines
}
