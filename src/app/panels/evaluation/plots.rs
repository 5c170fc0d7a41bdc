//! PR curves per class (IoU 0.5 and 0.75) and the confusion matrix heat grid with its score
//! slider.

use super::EvalView;
use crate::app::panels::stats::plots::heat_colour;
use crate::app::plot_export::{PlotExports, Series};
use egui::{Color32, Rect, Sense, Stroke, vec2};
use egui_plot::{Legend, Line, Plot};

/// One plot per IoU threshold: each class's interpolated precision over recall (the curve
/// AP averages). Classes without GT are left out.
pub fn pr_curves_ui(ui: &mut egui::Ui, view: &EvalView, exports: &PlotExports) {
    ui.strong("Precision-recall per class");
    for curves in &view.curves {
        let Some(iou) = curves.first().map(|c| c.iou) else {
            continue;
        };
        let name = format!("eval-pr-iou{:.0}", iou * 100.0);
        let series: Vec<Series> = curves
            .iter()
            .filter(|c| c.precision.iter().any(|&p| p > -1.0))
            .map(|c| {
                let pts = c
                    .recall
                    .iter()
                    .zip(&c.precision)
                    .map(|(&r, &p)| [r, p.max(0.0)])
                    .collect();
                (c.name.clone(), pts)
            })
            .collect();
        ui.label(format!("IoU {iou:.2}"));
        let resp = Plot::new(&name)
            .height(170.0)
            .legend(Legend::default())
            .x_axis_label("recall")
            .y_axis_label("precision")
            .include_x(0.0)
            .include_x(1.0)
            .include_y(0.0)
            .include_y(1.05)
            .allow_drag(false)
            .allow_zoom(false)
            .allow_scroll(false)
            .show(ui, |p| {
                for (n, pts) in &series {
                    p.line(Line::new(n.clone(), pts.clone()));
                }
            });
        exports.buttons(ui, &name, || series.clone(), resp.response.rect);
    }
}

/// The accessible name of one confusion cell (kittest queries it; hovering shows it).
pub fn cell_label(gt: &str, pred: &str, n: u64) -> String {
    format!("GT {gt}, predicted {pred}: {n}")
}

/// The confusion matrix at IoU 0.5 as a heat grid with counts; rows GT, columns predicted,
/// the last of each is background.
pub fn confusion_ui(ui: &mut egui::Ui, view: &EvalView, score_thr: &mut f32) {
    ui.strong("Confusion matrix (IoU 0.5; rows GT, columns predicted)");
    ui.add(
        egui::Slider::new(score_thr, 0.0..=1.0)
            .step_by(0.05)
            .text("score threshold"),
    );
    let m = view.confusion_at(*score_thr);
    let mut names: Vec<&str> = m.names.iter().map(String::as_str).collect();
    names.push("background");
    let k = names.len();
    let max = m.counts.iter().copied().max().unwrap_or(0).max(1) as f32;
    let cell = ((ui.available_width() - 90.0) / k as f32).clamp(22.0, 56.0);
    egui::Grid::new("eval-confusion")
        .spacing(vec2(2.0, 2.0))
        .show(ui, |ui| {
            ui.label("");
            for n in &names {
                ui.add_sized(
                    vec2(cell, 16.0),
                    egui::Label::new(egui::RichText::new(*n).small()).truncate(),
                );
            }
            ui.end_row();
            for (r, gt) in names.iter().enumerate() {
                ui.label(egui::RichText::new(*gt).small());
                for (c, pred) in names.iter().enumerate() {
                    let n = m.get(r, c);
                    let (rect, resp) =
                        ui.allocate_exact_size(vec2(cell, cell * 0.7), Sense::hover());
                    let label = cell_label(gt, pred, n);
                    resp.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, &label));
                    paint_cell(ui, rect, n, max, r == c && r + 1 < k);
                    resp.on_hover_text(&label);
                }
                ui.end_row();
            }
        });
    let bg = k - 1;
    let fp: u64 = (0..k).map(|c| m.get(bg, c)).sum();
    let fn_: u64 = (0..k).map(|r| m.get(r, bg)).sum();
    ui.weak(format!(
        "At score >= {:.2}: {fp} detections match no GT (background row), {fn_} GTs are missed (background column).",
        m.score_thr
    ));
}

fn paint_cell(ui: &egui::Ui, rect: Rect, n: u64, max: f32, diagonal: bool) {
    let p = ui.painter();
    let t = if n == 0 {
        0.0
    } else {
        0.15 + 0.85 * n as f32 / max
    };
    p.rect_filled(rect, 2.0, heat_colour(t));
    if diagonal {
        p.rect_stroke(
            rect,
            2.0,
            Stroke::new(1.5, Color32::WHITE),
            egui::StrokeKind::Inside,
        );
    }
    let text = if t > 0.6 {
        Color32::BLACK
    } else {
        Color32::WHITE
    };
    p.text(
        rect.center(),
        egui::Align2::CENTER_CENTER,
        n.to_string(),
        egui::FontId::monospace(12.0),
        text,
    );
}
