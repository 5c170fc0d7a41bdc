//! Per-image TP / FP / FN: the worst images (most missed, most false positives, lowest AP),
//! each a click away, and the selected image with its boxes coloured by what evaluation made
//! of them (legend above, counts in the status line below).

use super::{EvalView, EvaluationTab};
use crate::eval::{ImageErrors, MatchStatus};
use egui::{Color32, Pos2, Rect, Sense, Stroke, vec2};

/// Colour and legend text of each status.
pub const LEGEND: [(MatchStatus, Color32, &str); 5] = [
    (
        MatchStatus::Tp,
        Color32::from_rgb(60, 200, 90),
        "TP: detection matched",
    ),
    (
        MatchStatus::Fp,
        Color32::from_rgb(235, 60, 60),
        "FP: detection unmatched",
    ),
    (
        MatchStatus::Fn,
        Color32::from_rgb(255, 170, 0),
        "FN: GT missed",
    ),
    (
        MatchStatus::Matched,
        Color32::from_rgb(120, 170, 255),
        "GT found",
    ),
    (MatchStatus::Ignored, Color32::GRAY, "ignored (crowd)"),
];

fn colour(s: MatchStatus) -> Color32 {
    LEGEND
        .iter()
        .find(|(m, _, _)| *m == s)
        .map_or(Color32::WHITE, |l| l.1)
}

/// The one-line summary of an image (its list entry and its status line).
pub fn image_line(im: &ImageErrors) -> String {
    format!(
        "image {}: TP {} · FP {} · FN {} · AP50 {:.2}",
        im.image_id, im.tp, im.fp, im.fn_count, im.ap
    )
}

/// The worst-image lists and the selected image.
pub fn per_image_ui(ui: &mut egui::Ui, tab: &mut EvaluationTab, view: &EvalView) {
    ui.strong("Per image (IoU 0.5): the worst images");
    let titles = ["Most missed", "Most false positives", "Lowest AP"];
    let mut clicked = None;
    ui.columns(3, |cols| {
        for (col, (title, list)) in cols.iter_mut().zip(titles.iter().zip(&view.worst)) {
            col.label(*title);
            for &i in list {
                let im = &view.per_image[i];
                let text = match *title {
                    "Most missed" => format!("image {}: {} FN", im.image_id, im.fn_count),
                    "Most false positives" => format!("image {}: {} FP", im.image_id, im.fp),
                    _ => format!("image {}: AP50 {:.2}", im.image_id, im.ap),
                };
                if col
                    .selectable_label(tab.selected == Some(i), text)
                    .clicked()
                {
                    clicked = Some(i);
                }
            }
        }
    });
    if let Some(i) = clicked {
        tab.select(i);
    }
    let Some(i) = tab.selected else {
        ui.weak("Click an image above to see its boxes.");
        return;
    };
    let Some(im) = view.per_image.get(i) else {
        return;
    };
    ui.horizontal_wrapped(|ui| {
        for (_, c, text) in LEGEND {
            let (r, _) = ui.allocate_exact_size(vec2(12.0, 12.0), Sense::hover());
            ui.painter()
                .rect_stroke(r, 0.0, Stroke::new(2.0, c), egui::StrokeKind::Inside);
            ui.label(text);
        }
    });
    let (w, h) = view.image_sizes.get(i).copied().unwrap_or((0, 0));
    let size = if w == 0 || h == 0 {
        image_extent(im)
    } else {
        vec2(w as f32, h as f32)
    };
    let scale = (ui.available_width() / size.x).min(1.6);
    let (rect, _) = ui.allocate_exact_size(size * scale, Sense::hover());
    let painter = ui.painter_at(rect);
    match &tab.texture {
        Some((j, tex)) if *j == i => {
            painter.image(
                tex.id(),
                rect,
                Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0)),
                Color32::WHITE,
            );
        }
        _ => {
            painter.rect_filled(rect, 0.0, Color32::from_gray(30));
        }
    }
    for b in &im.boxes {
        let [x, y, bw, bh] = b.bbox.map(|v| v as f32);
        let r = Rect::from_min_size(rect.min + vec2(x, y) * scale, vec2(bw, bh) * scale);
        let dashed = b.score.is_none();
        let width = if dashed { 1.5 } else { 2.0 };
        painter.rect_stroke(
            r,
            0.0,
            Stroke::new(width, colour(b.status)),
            egui::StrokeKind::Middle,
        );
        let name = view.class_name(b.class_id);
        let text = match b.score {
            Some(s) => format!("{name} {s:.2}"),
            None => name.to_string(),
        };
        painter.text(
            r.left_top(),
            egui::Align2::LEFT_BOTTOM,
            text,
            egui::FontId::proportional(10.0),
            colour(b.status),
        );
    }
    ui.separator();
    ui.monospace(image_line(im));
}

/// An extent that holds every box, for images of unknown size.
fn image_extent(im: &ImageErrors) -> egui::Vec2 {
    let (mut w, mut h) = (64.0f32, 64.0f32);
    for b in &im.boxes {
        w = w.max((b.bbox[0] + b.bbox[2]) as f32);
        h = h.max((b.bbox[1] + b.bbox[3]) as f32);
    }
    vec2(w, h)
}
