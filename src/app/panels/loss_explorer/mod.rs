//! The loss explorer tab: focal loss curves, a contribution calculator, the cumulative loss of
//! the image on screen and a regression playground. Every number comes from
//! [`crate::losses`]; this module only lays them out.

mod all_losses;
mod contribution;
mod cumulative;
mod curves;
mod playground_canvas;
mod reg_params;
mod regression_playground;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_losses;

use super::PanelContext;
use crate::app::plot_export::Series;
use crate::app::state::AppState;
use crate::losses::classification::{
    BALANCED_CE_ALPHA, ClsLoss, FOCAL_ALPHA, FOCAL_STAR_BETA, FOCAL_STAR_GAMMA,
};
use serde::{Deserialize, Serialize};

pub use all_losses::{AllLossesSettings, all_loss_series, drawn_loss};
pub use reg_params::{RegPlaygroundLosses, display_name};
pub use regression_playground::{DEFAULT_PRED, GT_BOX};

/// Settings of the loss explorer (persisted). The focal loss's alpha and gamma are not here:
/// they are the overlay's loss (`AppState::overlay.loss`), so the image recolours with them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LossExplorerSettings {
    /// Plot dFL/dx instead of FL.
    pub show_gradients: bool,
    /// Show the FL* curves beside the FL curves.
    pub show_focal_star: bool,
    /// FL*'s gamma (> 0).
    pub star_gamma: f64,
    /// FL*'s beta.
    pub star_beta: f64,
    /// Alpha restored when alpha weighting is switched back on.
    pub last_alpha: f64,
    /// Contribution calculator: number of negatives.
    pub n_neg: u64,
    /// Contribution calculator: p_t of every negative.
    pub p_t_neg: f64,
    /// Contribution calculator: number of positives.
    pub n_pos: u64,
    /// Contribution calculator: p_t of every positive.
    pub p_t_pos: f64,
    /// Contribution calculator: alpha of the balanced CE row.
    pub balanced_alpha: f64,
    /// Regression playground: the predicted box, `xyxy` in the 0..100 canvas.
    pub pred_box: [f64; 4],
    /// The all-losses plot: which losses, positive or negative, value or gradient.
    pub all_losses: AllLossesSettings,
    /// Regression playground: the losses, their parameters and KL's log-variance.
    pub reg_losses: RegPlaygroundLosses,
}

impl Default for LossExplorerSettings {
    fn default() -> Self {
        Self {
            show_gradients: false,
            show_focal_star: false,
            star_gamma: FOCAL_STAR_GAMMA,
            star_beta: FOCAL_STAR_BETA,
            last_alpha: FOCAL_ALPHA,
            n_neg: 1_000_000,
            p_t_neg: 0.99,
            n_pos: 10,
            p_t_pos: 0.01,
            balanced_alpha: BALANCED_CE_ALPHA,
            pred_box: DEFAULT_PRED,
            all_losses: AllLossesSettings::default(),
            reg_losses: RegPlaygroundLosses::default(),
        }
    }
}

/// Shows the loss explorer tab.
pub fn loss_explorer_ui(ui: &mut egui::Ui, state: &mut AppState, ctx: &PanelContext) {
    egui::ScrollArea::vertical()
        .id_salt("loss_explorer_scroll")
        .show(ui, |ui| {
            egui::CollapsingHeader::new("Focal loss curves")
                .default_open(true)
                .show(ui, |ui| curves::curves_ui(ui, state, ctx));
            egui::CollapsingHeader::new("All classification losses")
                .default_open(true)
                .show(ui, |ui| {
                    let s = &mut state.loss_explorer.all_losses;
                    all_losses::all_losses_ui(ui, s, &state.overlay.loss, ctx)
                });
            egui::CollapsingHeader::new("Contribution calculator")
                .default_open(true)
                .show(ui, |ui| contribution::contribution_ui(ui, state));
            egui::CollapsingHeader::new("Current image")
                .default_open(true)
                .show(ui, |ui| cumulative::cumulative_ui(ui, state, ctx));
            egui::CollapsingHeader::new("Regression playground")
                .default_open(true)
                .show(ui, |ui| {
                    regression_playground::playground_ui(ui, &mut state.loss_explorer, ctx)
                });
        });
}

/// `(alpha, gamma)` of the overlay loss when it is the focal loss.
fn overlay_focal(loss: &ClsLoss) -> Option<(f64, f64)> {
    match *loss {
        ClsLoss::Focal { alpha, gamma } => Some((alpha, gamma)),
        _ => None,
    }
}

/// A share as a percentage with 2 decimals and a `%` sign (`0.99543` -> `"99.54%"`).
fn pct(share: f64) -> String {
    format!("{:.2}%", 100.0 * share)
}

/// Name, axis labels and starting y range of a plot.
struct PlotSpec<'s> {
    /// Plot id and export file name.
    name: &'s str,
    /// x axis label.
    x: &'s str,
    /// y axis label.
    y: &'s str,
    /// Starting (and reset) y range; `None` fits the data.
    y_bounds: Option<(f64, f64)>,
}

/// A plot of `series` as lines (those for which `bold` is true drawn thicker), extra items
/// from `extra`, and CSV / PNG export buttons under it.
fn series_plot(
    ui: &mut egui::Ui,
    ctx: &PanelContext,
    spec: &PlotSpec,
    series: &[Series],
    bold: impl Fn(&str) -> bool,
    extra: impl FnOnce(&mut egui_plot::PlotUi),
) {
    let mut plot = egui_plot::Plot::new(spec.name)
        .height(220.0)
        .legend(egui_plot::Legend::default())
        .x_axis_label(spec.x)
        .y_axis_label(spec.y)
        .allow_scroll(false);
    if let Some((lo, hi)) = spec.y_bounds {
        plot = plot.default_y_bounds(lo, hi);
    }
    let name = spec.name;
    let resp = plot.show(ui, |plot_ui| {
        for (label, pts) in series {
            let width = if bold(label) { 3.0 } else { 1.5 };
            plot_ui.line(egui_plot::Line::new(label.clone(), pts.clone()).width(width));
        }
        extra(plot_ui);
    });
    ctx.exports
        .buttons(ui, name, || series.to_vec(), resp.response.rect);
}
