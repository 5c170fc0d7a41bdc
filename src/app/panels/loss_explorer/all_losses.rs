//! Section 2: every classification loss of [`CLS_LOSS_NAMES`] against p_t, or its gradient,
//! each selectable, for a positive or a negative element. Values come from
//! [`ClsLoss::eval`]; the two losses whose weights depend on the batch are drawn under stated
//! assumptions, and their legend names say so:
//! - GHM-C with a uniform gradient-norm density (every bin equally full): each weight is
//!   `N / (count of the bin x bins) = 1`, so GHM-C is CE (evaluated as a batch of one, which
//!   fills one bin: the same weight).
//! - EQL on a two-class row: class 0 rare (frequency lambda / 2, below the threshold),
//!   class 1 frequent (frequency 1). A positive has weight 1 (CE); a negative of the frequent
//!   class too; a negative of the rare class at a foreground anchor (the row's other class is
//!   positive) has weight 0: it sends no loss and no gradient.
//!
//! QFL and varifocal take their soft target at its largest, IoU quality 1 (a positive) or 0
//! (a negative).

use super::{PlotSpec, series_plot};
use crate::app::panels::PanelContext;
use crate::app::plot_export::Series;
use crate::losses::classification::stable::logit;
use crate::losses::classification::{CLS_LOSS_NAMES, ClsLoss};
use serde::{Deserialize, Serialize};

/// What the section draws (persisted with the explorer's settings).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AllLossesSettings {
    /// One flag per name of [`CLS_LOSS_NAMES`], in that order.
    pub shown: Vec<bool>,
    /// Draw the element as a negative (target 0) instead of a positive.
    pub negative: bool,
    /// Draw dL/dx instead of L.
    pub gradients: bool,
}

impl Default for AllLossesSettings {
    fn default() -> Self {
        Self {
            shown: vec![true; CLS_LOSS_NAMES.len()],
            negative: false,
            gradients: false,
        }
    }
}

/// Points on the p_t axis: 0.005 to 0.995.
fn p_t_grid() -> impl Iterator<Item = f64> {
    (1..200).map(|i| i as f64 / 200.0)
}

/// The loss `name` as drawn: the overlay's parameters when `overlay` is that loss, the
/// defaults otherwise; EQL on the two-class row of the module doc (lambda kept).
pub fn drawn_loss(name: &str, overlay: &ClsLoss) -> ClsLoss {
    let base = if overlay.name() == name {
        overlay.clone()
    } else {
        ClsLoss::default_for(name).expect("a name of CLS_LOSS_NAMES")
    };
    match base {
        ClsLoss::Eql { lambda, .. } => ClsLoss::Eql {
            lambda,
            class_freq: vec![0.5 * lambda, 1.0],
        },
        other => other,
    }
}

/// One curve: the element at p_t is element `at` of the row `targets` (other logits 0).
fn curve(loss: &ClsLoss, targets: &[f64], at: usize, gradients: bool) -> Vec<[f64; 2]> {
    let positive = targets[at] > 0.0;
    p_t_grid()
        .filter_map(|p_t| {
            let x = if positive { logit(p_t) } else { -logit(p_t) };
            let mut logits = vec![0.0; targets.len()];
            logits[at] = x;
            let o = loss.eval(&logits, targets).ok()?;
            Some([p_t, if gradients { o.grad[at] } else { o.values[at] }])
        })
        .collect()
}

/// The series of the losses flagged in `s.shown`, named with their assumptions.
pub fn all_loss_series(s: &AllLossesSettings, overlay: &ClsLoss) -> Vec<Series> {
    let y = if s.negative { 0.0 } else { 1.0 };
    let mut out = Vec::new();
    for (k, &name) in CLS_LOSS_NAMES.iter().enumerate() {
        if !s.shown.get(k).copied().unwrap_or(true) {
            continue;
        }
        let loss = drawn_loss(name, overlay);
        match &loss {
            ClsLoss::GhmC { .. } => out.push((
                "ghm_c (uniform gradient density: = CE)".to_string(),
                curve(&loss, &[y], 0, s.gradients),
            )),
            ClsLoss::Eql { .. } if s.negative => {
                // element 0 (rare) with the frequent class positive, and the reverse
                out.push((
                    "eql, rare-class negative at a foreground anchor (weight 0)".to_string(),
                    curve(&loss, &[0.0, 1.0], 0, s.gradients),
                ));
                out.push((
                    "eql, frequent-class negative (weight 1: = CE)".to_string(),
                    curve(&loss, &[1.0, 0.0], 1, s.gradients),
                ));
            }
            ClsLoss::Eql { .. } => out.push((
                "eql, positive (weight 1: = CE)".to_string(),
                curve(&loss, &[1.0, 0.0], 0, s.gradients),
            )),
            ClsLoss::Qfl { .. } | ClsLoss::Varifocal { .. } => out.push((
                format!("{name} (IoU target {y})"),
                curve(&loss, &[y], 0, s.gradients),
            )),
            _ => out.push((name.to_string(), curve(&loss, &[y], 0, s.gradients))),
        }
    }
    out
}

/// Shows the section.
pub fn all_losses_ui(
    ui: &mut egui::Ui,
    s: &mut AllLossesSettings,
    overlay: &ClsLoss,
    ctx: &PanelContext,
) {
    s.shown.resize(CLS_LOSS_NAMES.len(), true);
    ui.horizontal_wrapped(|ui| {
        for (k, &name) in CLS_LOSS_NAMES.iter().enumerate() {
            ui.checkbox(&mut s.shown[k], name);
        }
    });
    ui.horizontal_wrapped(|ui| {
        ui.radio_value(&mut s.negative, false, "positive (target 1)");
        ui.radio_value(&mut s.negative, true, "negative (target 0)");
        ui.checkbox(&mut s.gradients, "gradient dL/dx");
    });
    let series = all_loss_series(s, overlay);
    let spec = PlotSpec {
        name: if s.gradients {
            "classification loss gradients vs p_t"
        } else {
            "classification losses vs p_t"
        },
        x: "p_t",
        y: if s.gradients {
            "dL/dx (x: logit)"
        } else {
            "loss"
        },
        y_bounds: if s.gradients { None } else { Some((0.0, 5.0)) },
    };
    series_plot(ui, ctx, &spec, &series, |_| false, |_| {});
    ui.weak(
        "Parameters: the overlay's where it uses that loss, the defaults otherwise. GHM-C's weights are batch statistics: drawn for a uniform gradient-norm density, where every weight is 1. EQL's: a row of a rare class (frequency lambda / 2) and a frequent one (frequency 1). QFL and varifocal: IoU target 1 for a positive, 0 for a negative.",
    );
}
