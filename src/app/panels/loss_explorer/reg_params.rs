//! The regression playground's losses and their editable parameters: every loss of the
//! library's list, the IoU loss in each of its three modes, and the KL loss with the
//! predicted log-variance it needs (one value for the four coordinates).

use crate::losses::regression::{IouMode, RegLoss};
use egui::DragValue;
use serde::{Deserialize, Serialize};

/// The playground's losses with their parameters (persisted with the explorer's settings).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RegPlaygroundLosses {
    /// The losses in table order, parameters as the user left them.
    pub losses: Vec<RegLoss>,
    /// KL loss: the predicted log-variance `a = ln(sigma^2)` of every coordinate.
    pub kl_log_var: f64,
}

impl Default for RegPlaygroundLosses {
    /// Every loss with the library's defaults; the IoU loss once per mode; `a = 0`.
    fn default() -> Self {
        let d = |n: &str| RegLoss::default_for(n).expect("known regression loss");
        let iou = |mode| match d("iou") {
            RegLoss::Iou { eps, .. } => RegLoss::Iou { mode, eps },
            other => other,
        };
        Self {
            losses: vec![
                d("l1"),
                d("l2"),
                d("smooth_l1"),
                d("balanced_l1"),
                iou(IouMode::Linear),
                iou(IouMode::Log),
                iou(IouMode::Square),
                d("giou"),
                d("diou"),
                d("ciou"),
                d("bounded_iou"),
                d("kl"),
            ],
            kl_log_var: 0.0,
        }
    }
}

/// The name a loss has in the table and the legend: its library name, the IoU loss with its
/// mode (`iou (linear)`), CIoU with its convention.
pub fn display_name(loss: &RegLoss) -> String {
    match loss {
        RegLoss::Iou { mode, .. } => format!("iou ({})", mode.name()),
        RegLoss::Ciou { gated: true, .. } => "ciou (gated)".into(),
        other => other.name().into(),
    }
}

/// One parameter as a drag value in `[lo, hi]`.
fn num(ui: &mut egui::Ui, label: &str, v: &mut f64, (lo, hi): (f64, f64), speed: f64) {
    let l = ui.label(label);
    ui.add(
        DragValue::new(v)
            .range(lo..=hi)
            .speed(speed)
            .max_decimals(6),
    )
    .labelled_by(l.id);
}

/// The editors of one loss's parameters on one line (nothing for L1 and L2).
fn loss_params_ui(ui: &mut egui::Ui, loss: &mut RegLoss) {
    let beta = (0.0, 10.0);
    let eps = (0.0, 0.1);
    match loss {
        RegLoss::L1 | RegLoss::L2 => {
            ui.weak("no parameters");
        }
        RegLoss::SmoothL1 { beta: b } | RegLoss::Kl { beta: b } => num(ui, "beta", b, beta, 0.01),
        RegLoss::BalancedL1 {
            alpha,
            gamma,
            beta: b,
        } => {
            num(ui, "alpha", alpha, (0.01, 10.0), 0.01);
            num(ui, "gamma", gamma, (0.01, 10.0), 0.01);
            num(ui, "beta", b, (0.01, 10.0), 0.01);
        }
        RegLoss::Iou { mode, eps: e } => {
            for m in [IouMode::Linear, IouMode::Log, IouMode::Square] {
                ui.radio_value(mode, m, m.name());
            }
            num(ui, "eps", e, eps, 1e-6);
        }
        RegLoss::BoundedIou { beta: b, eps: e } => {
            num(ui, "beta", b, (0.01, 10.0), 0.01);
            num(ui, "eps", e, eps, 1e-4);
        }
        RegLoss::Giou { eps: e } | RegLoss::Diou { eps: e } => num(ui, "eps", e, eps, 1e-7),
        RegLoss::Ciou { eps: e, gated } => {
            num(ui, "eps", e, eps, 1e-7);
            ui.checkbox(gated, "gated (MMDetection)");
        }
    }
}

/// The parameter editors of every loss, and the KL loss's log-variance.
pub fn params_ui(ui: &mut egui::Ui, s: &mut RegPlaygroundLosses) {
    egui::Grid::new("loss_explorer_reg_params")
        .num_columns(2)
        .show(ui, |ui| {
            for (k, loss) in s.losses.iter_mut().enumerate() {
                ui.label(display_name(loss));
                ui.push_id(k, |ui| ui.horizontal(|ui| loss_params_ui(ui, loss)));
                ui.end_row();
            }
            ui.label("kl: log-variance");
            ui.horizontal(|ui| {
                ui.add(
                    egui::Slider::new(&mut s.kl_log_var, -4.0..=4.0)
                        .text("a = ln(sigma^2), all four coordinates"),
                );
            });
            ui.end_row();
        });
    if ui.small_button("Default parameters").clicked() {
        *s = RegPlaygroundLosses::default();
    }
}
