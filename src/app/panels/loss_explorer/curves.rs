//! Section 1: the focal loss against p_t for several gammas (the seed article's figure), the
//! curve of the overlay's current focal loss, the gradients, and the FL* curves.

use super::{LossExplorerSettings, PlotSpec, overlay_focal, series_plot};
use crate::app::panels::PanelContext;
use crate::app::plot_export::Series;
use crate::app::state::AppState;
use crate::losses::classification::stable::logit;
use crate::losses::classification::{
    ClsLoss, FOCAL_ALPHA, FOCAL_GAMMA, ce_over_focal, focal, focal_star,
};
use egui::Slider;

/// The gammas of the fixed curves (gamma 0 is CE).
pub const GAMMAS: [f64; 5] = [0.0, 0.5, 1.0, 2.0, 5.0];

/// The `(gamma, beta)` pairs of the RetinaNet paper's appendix figure for FL*.
pub const STAR_PAIRS: [(f64, f64); 2] = [(2.0, 1.0), (4.0, 0.0)];

/// Points on the p_t axis: 0.005 to 0.999.
fn p_t_grid() -> impl Iterator<Item = f64> {
    (1..200).map(|i| i as f64 / 200.0).chain([0.999])
}

/// One curve against p_t: `f(x, y)` returns `(value, gradient)` of the loss at logit `x` and
/// target `y`; `positive` picks `y = 1, x = logit(p_t)` or `y = 0, x = -logit(p_t)`.
fn curve(f: impl Fn(f64, f64) -> (f64, f64), positive: bool, gradients: bool) -> Vec<[f64; 2]> {
    p_t_grid()
        .map(|p_t| {
            let (x, y) = if positive {
                (logit(p_t), 1.0)
            } else {
                (-logit(p_t), 0.0)
            };
            let (v, g) = f(x, y);
            [p_t, if gradients { g } else { v }]
        })
        .collect()
}

/// Name of the current-loss curve for a positive (drawn bold).
fn current_name(alpha: f64, gamma: f64, positive: bool) -> String {
    let who = if positive { "positive" } else { "negative" };
    if alpha < 0.0 {
        format!("current FL, gamma {gamma:.2} ({who})")
    } else {
        format!("current FL, alpha {alpha:.2}, gamma {gamma:.2} ({who})")
    }
}

/// The FL plot's series: FL without alpha for every gamma of [`GAMMAS`] (positives; the
/// curve is the same for a negative at the same p_t up to the gradient's sign), then the
/// current focal loss (with its alpha_t) for a positive and for a negative.
pub fn focal_series(current: Option<(f64, f64)>, gradients: bool) -> Vec<Series> {
    let mut out: Vec<Series> = GAMMAS
        .iter()
        .map(|&g| {
            let name = if g == 0.0 {
                "CE (gamma 0)".to_string()
            } else {
                format!("FL gamma {g}")
            };
            (name, curve(|x, y| focal(x, y, -1.0, g), true, gradients))
        })
        .collect();
    if let Some((alpha, gamma)) = current {
        for positive in [true, false] {
            let pts = curve(|x, y| focal(x, y, alpha, gamma), positive, gradients);
            out.push((current_name(alpha, gamma, positive), pts));
        }
    }
    out
}

/// The FL* plot's series: CE, the appendix's `(gamma, beta)` pairs and the user's pair.
pub fn focal_star_series(gamma: f64, beta: f64, gradients: bool) -> Vec<Series> {
    let mut out: Vec<Series> = vec![(
        "CE".into(),
        curve(|x, y| focal(x, y, -1.0, 0.0), true, gradients),
    )];
    for (g, b) in STAR_PAIRS.into_iter().chain([(gamma, beta)]) {
        let name = format!("FL* gamma {g:.2}, beta {b:.2}");
        out.push((name, curve(|x, y| focal_star(x, y, g, b), true, gradients)));
    }
    out
}

/// Alpha / gamma controls editing the overlay's loss (or a button to switch it to focal).
fn controls_ui(ui: &mut egui::Ui, loss: &mut ClsLoss, s: &mut LossExplorerSettings) {
    match &mut *loss {
        ClsLoss::Focal { alpha, gamma } => {
            ui.add(Slider::new(gamma, 0.0..=5.0).text("gamma"));
            ui.horizontal(|ui| {
                let mut on = *alpha >= 0.0;
                if ui.checkbox(&mut on, "alpha weighting").changed() {
                    if on {
                        *alpha = s.last_alpha.clamp(0.0, 1.0);
                    } else {
                        s.last_alpha = *alpha;
                        *alpha = -1.0;
                    }
                }
                if on {
                    ui.add(Slider::new(alpha, 0.0..=1.0).text("alpha"));
                } else {
                    ui.weak("alpha = -1 (off: alpha_t = 1)");
                }
            });
            ui.weak(
                "These are the overlay's loss: moving them recolours the image's loss weights.",
            );
        }
        other => {
            ui.label(format!("The overlay uses the {} loss.", other.name()));
            if ui.button("Use focal loss for the overlay").clicked() {
                *loss = ClsLoss::Focal {
                    alpha: FOCAL_ALPHA,
                    gamma: FOCAL_GAMMA,
                };
            }
        }
    }
}

/// Shows the curves section.
pub fn curves_ui(ui: &mut egui::Ui, state: &mut AppState, ctx: &PanelContext) {
    let s = &mut state.loss_explorer;
    controls_ui(ui, &mut state.overlay.loss, s);
    ui.horizontal(|ui| {
        ui.checkbox(&mut s.show_gradients, "Show gradients dFL/dx");
        ui.checkbox(&mut s.show_focal_star, "Show FL*");
    });
    if s.show_focal_star {
        ui.horizontal(|ui| {
            ui.add(Slider::new(&mut s.star_gamma, 0.1..=5.0).text("gamma*"));
            ui.add(Slider::new(&mut s.star_beta, -2.0..=4.0).text("beta"));
        });
    }
    let grad = s.show_gradients;
    let y_label = if grad { "dL/dx (x: logit)" } else { "loss" };
    let fl = focal_series(overlay_focal(&state.overlay.loss), grad);
    let gamma = overlay_focal(&state.overlay.loss).map_or(2.0, |(_, g)| g);
    let fl_plot = |ui: &mut egui::Ui| {
        let spec = PlotSpec {
            name: if grad {
                "focal loss gradient vs p_t"
            } else {
                "focal loss vs p_t"
            },
            x: "p_t",
            y: y_label,
            y_bounds: if grad { None } else { Some((0.0, 5.0)) },
        };
        let mut at = None;
        let take = |p: &mut egui_plot::PlotUi| at = p.pointer_coordinate().map(|c| c.x);
        series_plot(ui, ctx, &spec, &fl, |n| n.starts_with("current"), take);
        // CE against FL at the p_t under the pointer (gamma of the overlay's focal loss)
        match at.filter(|x| (0.0..1.0).contains(x)) {
            Some(p_t) => ui.label(format!(
                "at p_t = {p_t:.3}: CE / FL = 1 / (1 - p_t)^gamma = {:.1}x (gamma {gamma})",
                ce_over_focal(p_t, gamma)
            )),
            None => ui.weak("Point at the curves for CE / FL at that p_t."),
        };
    };
    if s.show_focal_star {
        let star = focal_star_series(s.star_gamma, s.star_beta, grad);
        ui.columns(2, |cols| {
            fl_plot(&mut cols[0]);
            let spec = PlotSpec {
                name: if grad {
                    "FL* gradient vs p_t"
                } else {
                    "FL* vs p_t"
                },
                x: "p_t",
                y: y_label,
                y_bounds: if grad { None } else { Some((0.0, 5.0)) },
            };
            series_plot(&mut cols[1], ctx, &spec, &star, |_| false, |_| {});
        });
    } else {
        fl_plot(ui);
    }
}
