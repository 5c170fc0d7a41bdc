//! Section 4: the regression playground. A fixed GT box and a predicted box the user drags
//! (inside: move; corner handle: resize) on a 0..100 canvas; every regression loss and its
//! gradient for the current pair; each IoU-family loss against IoU as the predicted box slides
//! horizontally across the GT.
//!
//! Inputs: the elementwise losses (l1, l2, smooth L1, balanced L1) and the KL loss see the
//! predicted box's deltas relative to the GT used as the anchor
//! ([`DeltaCoder::encode`]`(gt, pred)`, target deltas all 0), so their gradient is w.r.t.
//! `(dx, dy, dw, dh)`; the KL loss also takes the log-variance `a` of every coordinate
//! ([`RegPlaygroundLosses::kl_log_var`]) and has four more gradient entries, `dL/da`. The IoU
//! family sees the `xyxy` boxes, gradient w.r.t. `(x1, y1, x2, y2)`. Parameters are edited in
//! [`super::reg_params`].

use super::playground_canvas::canvas_ui;
use super::reg_params::{RegPlaygroundLosses, display_name, params_ui};
use super::{LossExplorerSettings, PlotSpec, series_plot};
use crate::app::panels::PanelContext;
use crate::app::plot_export::Series;
use crate::geometry::{Box4, DeltaCoder, iou};
use crate::losses::regression::RegLoss;
use egui::Color32;

/// The fixed GT box, `xyxy` on the 0..100 canvas.
pub const GT_BOX: [f64; 4] = [30.0, 30.0, 70.0, 70.0];
/// The predicted box the playground starts with.
pub const DEFAULT_PRED: [f64; 4] = [40.0, 38.0, 84.0, 74.0];

/// One row of the table: a loss's value and gradient for the current boxes.
#[derive(Clone, Debug, PartialEq)]
pub struct RegRow {
    /// Display name ([`display_name`]).
    pub name: String,
    /// Loss value.
    pub value: f64,
    /// Gradient (4 numbers, 8 for KL; see the module doc for w.r.t. what).
    pub grad: Vec<f64>,
}

fn to_box4(b: &[f64; 4]) -> Box4 {
    b.map(|v| v as f32)
}

/// The IoU of two canvas boxes.
pub fn box_iou(a: &[f64; 4], b: &[f64; 4]) -> f64 {
    iou(&to_box4(a), &to_box4(b)) as f64
}

/// Evaluates one loss on the pair, feeding it deltas (with the log-variance `kl_log_var`
/// for KL) or boxes as the module doc says.
fn eval(loss: &RegLoss, pred: &[f64; 4], gt: &[f64; 4], kl_log_var: f64) -> (f64, Vec<f64>) {
    if loss.works_on_boxes() {
        loss.eval_one(pred, gt)
    } else {
        let d = DeltaCoder::default()
            .encode(&to_box4(gt), &to_box4(pred))
            .map(f64::from);
        let mut row = d.to_vec();
        row.resize(loss.pred_len(), kl_log_var);
        loss.eval_one(&row, &[0.0; 4])
    }
}

/// Every loss of `losses` on the pair.
pub fn regression_rows(
    pred: &[f64; 4],
    gt: &[f64; 4],
    losses: &RegPlaygroundLosses,
) -> Vec<RegRow> {
    losses
        .losses
        .iter()
        .map(|loss| {
            let (value, grad) = eval(loss, pred, gt, losses.kl_log_var);
            RegRow {
                name: display_name(loss),
                value,
                grad,
            }
        })
        .collect()
}

/// Each IoU-family loss of `losses` against IoU while `pred` (same size and y) slides
/// horizontally from fully left of the GT to fully right of it, in `n + 1` steps.
pub fn iou_sweep(
    pred: &[f64; 4],
    gt: &[f64; 4],
    n: usize,
    losses: &RegPlaygroundLosses,
) -> Vec<Series> {
    let (pw, gw) = (pred[2] - pred[0], gt[2] - gt[0]);
    let gcx = 0.5 * (gt[0] + gt[2]);
    let reach = 0.5 * (pw + gw) + 0.25 * gw.max(pw);
    let losses: Vec<_> = (losses.losses.iter())
        .filter(|l| l.works_on_boxes())
        .map(|l| (display_name(l), l))
        .collect();
    let mut out: Vec<Series> = losses
        .iter()
        .map(|(name, _)| (name.clone(), Vec::new()))
        .collect();
    for k in 0..=n {
        let cx = gcx - reach + 2.0 * reach * k as f64 / n as f64;
        let b = [cx - 0.5 * pw, pred[1], cx + 0.5 * pw, pred[3]];
        let i = box_iou(&b, gt);
        for ((_, loss), (_, pts)) in losses.iter().zip(out.iter_mut()) {
            pts.push([i, loss.eval_one(&b, gt).0]);
        }
    }
    out
}

/// Shows the playground section.
pub fn playground_ui(ui: &mut egui::Ui, s: &mut LossExplorerSettings, ctx: &PanelContext) {
    ui.weak("Drag the orange box to move it, its corners to resize it. Canvas: 0..100.");
    ui.horizontal_top(|ui| {
        ui.vertical(|ui| {
            canvas_ui(ui, &mut s.pred_box);
            let p = s.pred_box;
            ui.label(format!(
                "pred [{:.1}, {:.1}, {:.1}, {:.1}]",
                p[0], p[1], p[2], p[3]
            ));
            ui.label(format!("IoU {:.4}", box_iou(&p, &GT_BOX)));
            if ui.small_button("Reset boxes").clicked() {
                s.pred_box = DEFAULT_PRED;
            }
        });
        ui.vertical(|ui| table_ui(ui, &s.pred_box, &s.reg_losses));
    });
    egui::CollapsingHeader::new("Loss parameters")
        .id_salt("loss_explorer_reg_params_header")
        .default_open(false)
        .show(ui, |ui| params_ui(ui, &mut s.reg_losses));
    let series = iou_sweep(&s.pred_box, &GT_BOX, 100, &s.reg_losses);
    let cur_iou = box_iou(&s.pred_box, &GT_BOX);
    let rows = regression_rows(&s.pred_box, &GT_BOX, &s.reg_losses);
    let spec = PlotSpec {
        name: "regression loss vs IoU",
        x: "IoU",
        y: "loss",
        y_bounds: None,
    };
    series_plot(
        ui,
        ctx,
        &spec,
        &series,
        |_| false,
        |p| {
            p.vline(egui_plot::VLine::new("current IoU", cur_iou).color(Color32::GRAY));
            let pts: Vec<[f64; 2]> = rows
                .iter()
                .filter(|r| series.iter().any(|(n, _)| *n == r.name))
                .map(|r| [cur_iou, r.value])
                .collect();
            p.points(
                egui_plot::Points::new("current box", pts)
                    .radius(4.0)
                    .color(Color32::from_rgb(230, 60, 60)),
            );
        },
    );
    ui.weak("The curves slide the predicted box (same size and height) across the GT.");
}

/// The live table of every loss and its gradient (KL: `dL/da` of the four log-variances in
/// the last column).
fn table_ui(ui: &mut egui::Ui, pred: &[f64; 4], losses: &RegPlaygroundLosses) {
    egui::Grid::new("loss_explorer_reg_table")
        .striped(true)
        .num_columns(7)
        .show(ui, |ui| {
            for h in ["Loss", "Value", "g1", "g2", "g3", "g4", "dL/da1..4"] {
                ui.strong(h);
            }
            ui.end_row();
            for row in regression_rows(pred, &GT_BOX, losses) {
                ui.label(&row.name);
                ui.label(format!("{:.4}", row.value));
                for g in &row.grad[..4] {
                    ui.label(format!("{g:.4}"));
                }
                if row.grad.len() > 4 {
                    let a: Vec<String> = row.grad[4..].iter().map(|g| format!("{g:.3}")).collect();
                    ui.label(a.join(" "));
                }
                ui.end_row();
            }
        });
    ui.weak("l1 .. balanced_l1, kl: on the deltas (dx, dy, dw, dh) of pred w.r.t. the GT as");
    ui.weak("anchor, target 0, g = d/d(dx, dy, dw, dh); kl also on a = ln(sigma^2) of each");
    ui.weak("coordinate (He et al. 2019). IoU family: on xyxy boxes, g = d/d(x1, y1, x2, y2).");
}
