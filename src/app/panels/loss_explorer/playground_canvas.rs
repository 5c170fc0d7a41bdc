//! The regression playground's canvas: the GT box and the predicted box on a 0..100 square;
//! drag inside the predicted box to move it, drag a corner handle to resize it.

use super::regression_playground::GT_BOX;
use egui::{Color32, Pos2, Rect, Sense, Stroke, pos2, vec2};

/// Side of the canvas in points.
const CANVAS: f32 = 260.0;
/// Smallest side of the predicted box, canvas units.
const MIN_SIDE: f64 = 2.0;
/// Half-size of a corner handle, points.
const HANDLE: f32 = 5.0;

/// What a drag on the canvas does.
#[derive(Clone, Copy, Debug, PartialEq)]
enum DragMode {
    /// Moves the whole box.
    Move,
    /// Moves corner `k` (0 top-left, 1 top-right, 2 bottom-right, 3 bottom-left).
    Corner(usize),
}

/// The corners of a box in screen space, in [`DragMode::Corner`] order.
fn corners(r: Rect) -> [Pos2; 4] {
    [
        r.left_top(),
        r.right_top(),
        r.right_bottom(),
        r.left_bottom(),
    ]
}

/// Applies a drag of `d` canvas units in `mode` to the box, keeping it inside the canvas and
/// at least [`MIN_SIDE`] wide and high.
fn apply_drag(b: &mut [f64; 4], mode: DragMode, d: [f64; 2]) {
    match mode {
        DragMode::Move => {
            let dx = d[0].clamp(-b[0], 100.0 - b[2]);
            let dy = d[1].clamp(-b[1], 100.0 - b[3]);
            *b = [b[0] + dx, b[1] + dy, b[2] + dx, b[3] + dy];
        }
        DragMode::Corner(k) => {
            let (xi, yi) = ([0, 2, 2, 0][k], [1, 1, 3, 3][k]);
            for (i, delta) in [(xi, d[0]), (yi, d[1])] {
                let v = b[i] + delta;
                b[i] = if i < 2 {
                    v.clamp(0.0, b[i + 2] - MIN_SIDE)
                } else {
                    v.clamp(b[i - 2] + MIN_SIDE, 100.0)
                };
            }
        }
    }
}

/// The draggable canvas.
pub fn canvas_ui(ui: &mut egui::Ui, pred: &mut [f64; 4]) {
    let (resp, painter) = ui.allocate_painter(vec2(CANVAS, CANVAS), Sense::drag());
    resp.widget_info(|| {
        egui::WidgetInfo::labeled(egui::Role::Canvas, true, "regression playground canvas")
    });
    let area = resp.rect;
    let scale = CANVAS as f64 / 100.0;
    let to_screen = |b: &[f64; 4]| {
        Rect::from_min_max(
            pos2(
                area.min.x + (b[0] * scale) as f32,
                area.min.y + (b[1] * scale) as f32,
            ),
            pos2(
                area.min.x + (b[2] * scale) as f32,
                area.min.y + (b[3] * scale) as f32,
            ),
        )
    };
    let mode_at = |p: Pos2, r: Rect| {
        let corner = corners(r)
            .iter()
            .position(|c| (*c - p).length() <= 2.0 * HANDLE);
        corner
            .map(DragMode::Corner)
            .or(r.contains(p).then_some(DragMode::Move))
    };
    let id = resp.id.with("mode");
    if resp.drag_started() {
        let origin = ui.input(|i| i.pointer.press_origin());
        let mode = origin.and_then(|p| mode_at(p, to_screen(pred)));
        ui.data_mut(|d| d.insert_temp(id, mode));
    }
    if resp.dragged()
        && let Some(mode) = ui.data(|d| d.get_temp::<Option<DragMode>>(id)).flatten()
    {
        let d = resp.drag_delta();
        apply_drag(pred, mode, [d.x as f64 / scale, d.y as f64 / scale]);
    }
    if let Some(p) = resp.hover_pos() {
        let icon = match mode_at(p, to_screen(pred)) {
            Some(DragMode::Corner(0 | 2)) => egui::CursorIcon::ResizeNwSe,
            Some(DragMode::Corner(_)) => egui::CursorIcon::ResizeNeSw,
            Some(DragMode::Move) => egui::CursorIcon::Grab,
            None => egui::CursorIcon::Default,
        };
        ui.ctx().set_cursor_icon(icon);
    }
    let visuals = ui.visuals();
    painter.rect_filled(area, 2.0, visuals.extreme_bg_color);
    painter.rect_stroke(
        area,
        2.0,
        visuals.widgets.noninteractive.bg_stroke,
        egui::StrokeKind::Inside,
    );
    let (gt_c, pred_c) = (
        Color32::from_rgb(60, 190, 90),
        Color32::from_rgb(240, 150, 40),
    );
    let gt_r = to_screen(&GT_BOX);
    painter.rect(
        gt_r,
        0.0,
        gt_c.gamma_multiply(0.15),
        Stroke::new(2.0, gt_c),
        egui::StrokeKind::Middle,
    );
    painter.text(
        gt_r.left_top() + vec2(3.0, 2.0),
        egui::Align2::LEFT_TOP,
        "GT",
        egui::FontId::proportional(12.0),
        gt_c,
    );
    let pr = to_screen(pred);
    painter.rect(
        pr,
        0.0,
        pred_c.gamma_multiply(0.15),
        Stroke::new(2.0, pred_c),
        egui::StrokeKind::Middle,
    );
    for c in corners(pr) {
        painter.rect_filled(
            Rect::from_center_size(c, vec2(2.0 * HANDLE, 2.0 * HANDLE)),
            1.0,
            pred_c,
        );
    }
}
