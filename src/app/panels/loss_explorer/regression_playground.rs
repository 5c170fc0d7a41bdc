//! Section 4: the regression playground. A fixed GT box and a predicted box the user drags
//! (inside: move; corner handle: resize) on a 0..100 canvas; every regression loss and its
//! gradient for the current pair; each IoU-family loss against IoU as the predicted box slides
//! horizontally across the GT.
//!
//! Inputs: the elementwise losses (l1, l2, smooth L1, balanced L1) see the predicted box's
//! deltas relative to the GT used as the anchor ([`DeltaCoder::encode`]`(gt, pred)`, target
//! deltas all 0), so their gradient is w.r.t. `(dx, dy, dw, dh)`; the IoU family sees the
//! `xyxy` boxes, gradient w.r.t. `(x1, y1, x2, y2)`.

use super::playground_canvas::canvas_ui;
use super::{LossExplorerSettings, PlotSpec, series_plot};
use crate::app::panels::PanelContext;
use crate::app::plot_export::Series;
use crate::geometry::{Box4, DeltaCoder, iou};
use crate::losses::regression::{IouMode, RegLoss};
use egui::Color32;

/// The fixed GT box, `xyxy` on the 0..100 canvas.
pub const GT_BOX: [f64; 4] = [30.0, 30.0, 70.0, 70.0];
/// The predicted box the playground starts with.
pub const DEFAULT_PRED: [f64; 4] = [40.0, 38.0, 84.0, 74.0];

/// The losses of the table, in order, with their display names (IoU in linear mode).
pub fn playground_losses() -> Vec<(&'static str, RegLoss)> {
    let d = |n: &str| RegLoss::default_for(n).expect("known regression loss");
    let iou_linear = match d("iou") {
        RegLoss::Iou { eps, .. } => RegLoss::Iou {
            mode: IouMode::Linear,
            eps,
        },
        other => other,
    };
    vec![
        ("l1", d("l1")),
        ("l2", d("l2")),
        ("smooth_l1", d("smooth_l1")),
        ("balanced_l1", d("balanced_l1")),
        ("iou (linear)", iou_linear),
        ("giou", d("giou")),
        ("diou", d("diou")),
        ("ciou", d("ciou")),
        ("bounded_iou", d("bounded_iou")),
    ]
}

/// One row of the table: a loss's value and gradient for the current boxes.
#[derive(Clone, Debug, PartialEq)]
pub struct RegRow {
    /// Display name.
    pub name: &'static str,
    /// Loss value.
    pub value: f64,
    /// Gradient (4 numbers; see the module doc for w.r.t. what).
    pub grad: Vec<f64>,
}

fn to_box4(b: &[f64; 4]) -> Box4 {
    b.map(|v| v as f32)
}

/// The IoU of two canvas boxes.
pub fn box_iou(a: &[f64; 4], b: &[f64; 4]) -> f64 {
    iou(&to_box4(a), &to_box4(b)) as f64
}

/// Evaluates one loss on the pair, feeding it deltas or boxes as the module doc says.
fn eval(loss: &RegLoss, pred: &[f64; 4], gt: &[f64; 4]) -> (f64, Vec<f64>) {
    if loss.works_on_boxes() {
        loss.eval_one(pred, gt)
    } else {
        let d = DeltaCoder::default()
            .encode(&to_box4(gt), &to_box4(pred))
            .map(f64::from);
        loss.eval_one(&d, &[0.0; 4])
    }
}

/// Every loss of [`playground_losses`] on the pair.
pub fn regression_rows(pred: &[f64; 4], gt: &[f64; 4]) -> Vec<RegRow> {
    playground_losses()
        .into_iter()
        .map(|(name, loss)| {
            let (value, grad) = eval(&loss, pred, gt);
            RegRow { name, value, grad }
        })
        .collect()
}

/// Each IoU-family loss against IoU while `pred` (same size and y) slides horizontally from
/// fully left of the GT to fully right of it, in `n + 1` steps.
pub fn iou_sweep(pred: &[f64; 4], gt: &[f64; 4], n: usize) -> Vec<Series> {
    let (pw, gw) = (pred[2] - pred[0], gt[2] - gt[0]);
    let gcx = 0.5 * (gt[0] + gt[2]);
    let reach = 0.5 * (pw + gw) + 0.25 * gw.max(pw);
    let losses: Vec<_> = playground_losses()
        .into_iter()
        .filter(|(_, l)| l.works_on_boxes())
        .collect();
    let mut out: Vec<Series> = losses
        .iter()
        .map(|(name, _)| (name.to_string(), Vec::new()))
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
        ui.vertical(|ui| table_ui(ui, &s.pred_box));
    });
    let series = iou_sweep(&s.pred_box, &GT_BOX, 100);
    let cur_iou = box_iou(&s.pred_box, &GT_BOX);
    let rows = regression_rows(&s.pred_box, &GT_BOX);
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
                .filter(|r| series.iter().any(|(n, _)| n == r.name))
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

/// The live table of every loss and its gradient.
fn table_ui(ui: &mut egui::Ui, pred: &[f64; 4]) {
    egui::Grid::new("loss_explorer_reg_table")
        .striped(true)
        .num_columns(6)
        .show(ui, |ui| {
            for h in ["Loss", "Value", "g1", "g2", "g3", "g4"] {
                ui.strong(h);
            }
            ui.end_row();
            for row in regression_rows(pred, &GT_BOX) {
                ui.label(row.name);
                ui.label(format!("{:.4}", row.value));
                for g in &row.grad {
                    ui.label(format!("{g:.4}"));
                }
                ui.end_row();
            }
        });
    ui.weak("l1 .. balanced_l1: on the deltas (dx, dy, dw, dh) of pred w.r.t. the GT as anchor,");
    ui.weak(
        "target 0, g = d/d(dx, dy, dw, dh). IoU family: on xyxy boxes, g = d/d(x1, y1, x2, y2).",
    );
}
