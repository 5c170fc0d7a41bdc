//! Drawing the view: the image texture, the anchors (wgpu overlay or egui's painter), the GT
//! boxes, the hovered anchor's outline and the legend.

use super::{ImageView, ptr_key};
use crate::app::anchor_colors::{LegendItem, WeightRange, class_colour, legend};
use crate::app::overlay::{BoxOverlayCallback, OverlayView};
use crate::app::state::OverlaySettings;
use crate::inspect::Inspection;
use egui::{Color32, Rect, Sense, Stroke, Vec2, pos2, vec2};
use std::sync::Arc;

impl ImageView {
    /// Shows the view; returns the hovered anchor index.
    pub fn ui(&mut self, ui: &mut egui::Ui, ins: &Arc<Inspection>, settings: &OverlaySettings) {
        let (rect, resp) = ui.allocate_exact_size(ui.available_size(), Sense::click_and_drag());
        self.view_rect = Some(rect);
        let (w, h) = ins.sample.size();
        let size = vec2(w as f32, h as f32);
        if self.zoom <= 0.0 || self.fit_pending {
            self.fit(rect, size);
            self.fit_pending = false;
        }
        self.zoom_and_pan(ui, rect, &resp);
        let key = ptr_key(ins);
        if self.texture.as_ref().map(|t| t.0) != Some(key) {
            let img =
                egui::ColorImage::from_rgb([w as usize, h as usize], ins.sample.image.as_raw());
            let tex = ui
                .ctx()
                .load_texture("image", img, egui::TextureOptions::NEAREST);
            self.texture = Some((key, tex));
        }
        let painter = ui.painter_at(rect);
        let img_rect =
            Rect::from_min_max(self.to_screen(rect, Vec2::ZERO), self.to_screen(rect, size));
        for r in letterbox(rect, img_rect) {
            painter.rect_filled(r, 0.0, ui.visuals().extreme_bg_color);
        }
        if let Some((_, tex)) = &self.texture {
            painter.image(
                tex.id(),
                img_rect,
                Rect::from_min_max(pos2(0.0, 0.0), pos2(1.0, 1.0)),
                Color32::WHITE,
            );
        }
        let alpha = (settings.opacity.clamp(0.0, 1.0) * 255.0) as u8;
        if self.gpu
            && let Some(boxes) = &self.boxes
        {
            let origin = self.to_screen(rect, Vec2::ZERO);
            let view = OverlayView {
                opacity: settings.opacity.clamp(0.0, 1.0),
                ..OverlayView::new(self.zoom, [origin.x, origin.y])
            };
            let cb = BoxOverlayCallback::new(rect, boxes.clone(), view).with_layer(self.layer);
            painter.add(cb.into_shape());
        }
        for d in self.drawn.iter().filter(|_| !self.gpu) {
            let r = Rect::from_min_max(
                self.to_screen(rect, vec2(d.rect[0], d.rect[1])),
                self.to_screen(rect, vec2(d.rect[2], d.rect[3])),
            );
            if !r.intersects(rect) {
                continue;
            }
            let c =
                Color32::from_rgba_unmultiplied(d.colour.r(), d.colour.g(), d.colour.b(), alpha);
            painter.rect_stroke(r, 0.0, Stroke::new(1.0, c), egui::StrokeKind::Middle);
        }
        if settings.show_gt {
            let n_gt = ins.sample.split_crowd().0.len();
            for (g, (b, &c)) in ins.sample.boxes.iter().zip(&ins.sample.classes).enumerate() {
                let r = Rect::from_min_max(
                    self.to_screen(rect, vec2(b[0], b[1])),
                    self.to_screen(rect, vec2(b[2], b[3])),
                );
                // ignore regions (crowd / difficult) in one colour of their own, thin
                let ignore = g >= n_gt;
                let col = if ignore {
                    super::IGNORE_COLOUR
                } else {
                    class_colour(c)
                };
                let width = match (ignore, self.selected_gt == Some(g)) {
                    (true, _) => 1.5,
                    (false, true) => 3.0,
                    (false, false) => 2.0,
                };
                painter.rect_stroke(r, 0.0, Stroke::new(width, col), egui::StrokeKind::Outside);
                let name = ins.class_names.get(c).map(String::as_str).unwrap_or("?");
                let name = if ignore {
                    format!("ignore ({name})")
                } else {
                    name.to_string()
                };
                painter.text(
                    r.left_top() - vec2(0.0, 2.0),
                    egui::Align2::LEFT_BOTTOM,
                    name,
                    egui::FontId::proportional(12.0),
                    col,
                );
            }
        }
        // Hover: the drawn anchor containing the pointer whose centre is nearest to it.
        self.hovered = resp.hover_pos().and_then(|p| self.anchor_at(rect, p));
        if let Some(i) = self.hovered {
            let b = ins.anchors.boxes[i];
            let r = Rect::from_min_max(
                self.to_screen(rect, vec2(b[0], b[1])),
                self.to_screen(rect, vec2(b[2], b[3])),
            );
            painter.rect_stroke(
                r,
                0.0,
                Stroke::new(2.0, Color32::WHITE),
                egui::StrokeKind::Middle,
            );
        }
        if resp.clicked()
            && let Some(p) = resp.interact_pointer_pos()
        {
            self.selected_gt = self.gt_at(ins, rect, p);
        }
        self.legend_ui(ui, rect, settings);
    }

    fn legend_ui(&self, ui: &egui::Ui, rect: Rect, settings: &OverlaySettings) {
        let (title, items) = legend(
            settings,
            self.range.unwrap_or(WeightRange { lo: -1.0, hi: 0.0 }),
        );
        let area = egui::Area::new(egui::Id::unique(("legend", self.layer)))
            .order(egui::Order::Foreground)
            .fixed_pos(rect.left_top() + vec2(8.0, 8.0));
        area.show(ui.ctx(), |ui| {
            egui::Frame::popup(ui.style()).show(ui, |ui| {
                ui.label(egui::RichText::new(title).strong());
                for item in items {
                    match item {
                        LegendItem::Swatch(c, text) => {
                            ui.horizontal(|ui| {
                                let (r, _) =
                                    ui.allocate_exact_size(vec2(14.0, 10.0), Sense::hover());
                                ui.painter().rect_filled(r, 2.0, c);
                                ui.label(text);
                            });
                        }
                        LegendItem::Ramp(f, lo, hi) => {
                            ui.horizontal(|ui| {
                                ui.label(lo);
                                let (r, _) =
                                    ui.allocate_exact_size(vec2(100.0, 10.0), Sense::hover());
                                for k in 0..50 {
                                    let x0 = r.left() + r.width() * k as f32 / 50.0;
                                    let cell = Rect::from_min_max(
                                        pos2(x0, r.top()),
                                        pos2(x0 + r.width() / 50.0 + 0.5, r.bottom()),
                                    );
                                    ui.painter().rect_filled(cell, 0.0, f(k as f32 / 49.0));
                                }
                                ui.label(hi);
                            });
                        }
                    }
                }
            });
        });
    }
}

/// The parts of `view` that `image` does not cover (at most four bands), so the dark
/// backdrop is not painted under the image: fill rate is what a software rasterizer lacks.
pub(super) fn letterbox(view: Rect, image: Rect) -> Vec<Rect> {
    let inner = view.intersect(image);
    if !inner.is_positive() {
        return vec![view];
    }
    let bands = [
        Rect::from_min_max(view.min, pos2(view.max.x, inner.min.y)),
        Rect::from_min_max(pos2(view.min.x, inner.max.y), view.max),
        Rect::from_min_max(
            pos2(view.min.x, inner.min.y),
            pos2(inner.min.x, inner.max.y),
        ),
        Rect::from_min_max(
            pos2(inner.max.x, inner.min.y),
            pos2(view.max.x, inner.max.y),
        ),
    ];
    bands.into_iter().filter(|r| r.is_positive()).collect()
}
