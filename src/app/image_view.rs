//! The central image view: the image as a texture, the anchors and GT boxes over it, zoom
//! (wheel), pan (drag), fit (F), hover read-outs and GT selection by click.

use crate::app::anchor_colors::{
    LegendItem, WeightRange, anchor_colour, class_colour, legend, loss_weights,
};
use crate::app::overlay::{
    BoxInstance, BoxOverlayCallback, BoxSet, OverlayView, rgba_from_color32,
};
use crate::app::state::{OverlayMode, OverlaySettings};
use crate::geometry::{Box4, iou};
use crate::inspect::Inspection;
use egui::{Color32, Pos2, Rect, Sense, Stroke, Vec2, pos2, vec2};
use std::sync::Arc;

/// One anchor as drawn: its box in image pixels and colour.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DrawnAnchor {
    /// Anchor index.
    pub index: usize,
    /// Box in image pixels.
    pub rect: Box4,
    /// Colour (opacity applied at draw time).
    pub colour: Color32,
}

/// What the drawn anchors were built from; rebuilt only when this changes.
#[derive(Clone, PartialEq)]
struct DrawKey {
    inspection: usize,
    overlay: OverlaySettings,
    selected_gt: Option<usize>,
    scores: usize,
}

/// Runtime state of the image view (not persisted).
#[derive(Default)]
pub struct ImageView {
    /// Screen points per image pixel.
    pub zoom: f32,
    /// Image coordinates shown at the centre of the view.
    pub centre: Vec2,
    /// Fit the image on the next frame.
    pub fit_pending: bool,
    /// GT selected by a click.
    pub selected_gt: Option<usize>,
    /// Anchor under the pointer.
    pub hovered: Option<usize>,
    texture: Option<(usize, egui::TextureHandle)>,
    key: Option<DrawKey>,
    /// The anchors to draw, in draw order (built when the data or settings change).
    pub drawn: Vec<DrawnAnchor>,
    weights: Vec<f32>,
    range: Option<WeightRange>,
    /// How many times the draw list was rebuilt (for tests and the bench).
    pub rebuilds: u64,
    /// The drawn anchors as GPU instances (one buffer, re-uploaded only when rebuilt).
    boxes: Option<BoxSet>,
    /// Draw through the wgpu overlay pipeline (false: egui's painter, e.g. without wgpu).
    pub gpu: bool,
    /// Screen rectangle of the view in the last frame (for drawing on top of the image).
    pub view_rect: Option<Rect>,
}

fn ptr_key<T>(a: &Arc<T>) -> usize {
    Arc::as_ptr(a) as *const u8 as usize
}

impl ImageView {
    /// Rebuilds the draw list when the inspection, the overlay settings or the scores changed.
    pub fn update(
        &mut self,
        ins: &Arc<Inspection>,
        settings: &OverlaySettings,
        scores: Option<&Arc<Vec<f32>>>,
        prior: f64,
    ) {
        let key = DrawKey {
            inspection: ptr_key(ins),
            // opacity is a uniform of the GPU overlay: changing it rebuilds nothing
            overlay: OverlaySettings {
                opacity: 1.0,
                ..settings.clone()
            },
            selected_gt: self.selected_gt,
            scores: scores.map(ptr_key).unwrap_or(0),
        };
        if self.key.as_ref() == Some(&key) {
            return;
        }
        if self.key.as_ref().map(|k| k.inspection) != Some(key.inspection) {
            self.selected_gt = self.selected_gt.filter(|&g| g < ins.sample.boxes.len());
            self.hovered = None;
        }
        self.weights = if settings.mode == OverlayMode::LossWeight {
            loss_weights(ins, &settings.loss, scores.map(|s| s.as_slice()), prior)
        } else {
            Vec::new()
        };
        let range = WeightRange::of(&self.weights);
        self.range = Some(range);
        let mut drawn: Vec<(f32, DrawnAnchor)> = Vec::new();
        for i in 0..ins.anchors.len() {
            let label = ins.assign.labels[i];
            if label == 0 && !settings.show_negatives && settings.mode != OverlayMode::SamplerPick {
                continue;
            }
            if label < 0 && !settings.show_ignored {
                continue;
            }
            if settings.mode == OverlayMode::SamplerPick {
                let picked = ins
                    .sampler(settings.sampler.key())
                    .is_some_and(|r| r.weights[i] > 0.0);
                if !picked && label <= 0 && !settings.show_negatives {
                    continue;
                }
            }
            if settings.only_selected_gt || self.selected_gt.is_some() {
                if let Some(g) = self.selected_gt {
                    if label != g as i32 + 1 {
                        continue;
                    }
                } else if settings.only_selected_gt {
                    continue;
                }
            }
            let m = ins.anchors.meta(i);
            if !settings.passes(m.level, m.scale_index, m.ratio_index) {
                continue;
            }
            let colour = anchor_colour(ins, settings, i, &self.weights, range);
            let order = match settings.mode {
                OverlayMode::MaxIou => ins.assign.max_iou[i],
                OverlayMode::LossWeight => range.t(self.weights[i]),
                _ => label.signum() as f32,
            };
            drawn.push((
                order,
                DrawnAnchor {
                    index: i,
                    rect: ins.anchors.boxes[i],
                    colour,
                },
            ));
        }
        drawn.sort_by(|a, b| a.0.total_cmp(&b.0));
        self.drawn = drawn.into_iter().map(|(_, d)| d).collect();
        self.boxes = Some(BoxSet::new(
            self.drawn
                .iter()
                .map(|d| BoxInstance::new(d.rect).with_outline(rgba_from_color32(d.colour), 1.0))
                .collect::<Vec<_>>(),
        ));
        self.key = Some(key);
        self.rebuilds += 1;
    }

    /// Screen rectangle of the image box `b` (`xyxy` pixels) as drawn in the last frame.
    pub fn screen_rect(&self, b: [f32; 4]) -> Option<Rect> {
        let r = self.view_rect?;
        Some(Rect::from_min_max(
            self.to_screen(r, vec2(b[0], b[1])),
            self.to_screen(r, vec2(b[2], b[3])),
        ))
    }

    /// Loss weight of anchor `i` in LossWeight mode.
    pub fn weight(&self, i: usize) -> Option<f32> {
        self.weights.get(i).copied()
    }

    fn to_screen(&self, rect: Rect, p: Vec2) -> Pos2 {
        rect.center() + (p - self.centre) * self.zoom
    }

    fn to_image(&self, rect: Rect, p: Pos2) -> Vec2 {
        (p - rect.center()) / self.zoom + self.centre
    }

    /// Fits the image of size `size` into `rect`.
    fn fit(&mut self, rect: Rect, size: Vec2) {
        self.zoom = (rect.width() / size.x).min(rect.height() / size.y) * 0.98;
        self.centre = size / 2.0;
    }

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
        // Zoom around the pointer, pan by dragging.
        if resp.hovered() {
            let scroll = ui.input(|i| i.smooth_scroll_delta.y + i.zoom_delta().ln() * 200.0);
            if scroll != 0.0
                && let Some(p) = resp.hover_pos()
            {
                let before = self.to_image(rect, p);
                self.zoom = (self.zoom * (scroll / 200.0).exp()).clamp(0.05, 200.0);
                let after = self.to_image(rect, p);
                self.centre += before - after;
            }
        }
        if resp.dragged() {
            self.centre -= resp.drag_delta() / self.zoom;
        }
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
        painter.rect_filled(rect, 0.0, ui.visuals().extreme_bg_color);
        let img_rect =
            Rect::from_min_max(self.to_screen(rect, Vec2::ZERO), self.to_screen(rect, size));
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
            painter.add(BoxOverlayCallback::new(rect, boxes.clone(), view).into_shape());
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
            for (g, (b, &c)) in ins.sample.boxes.iter().zip(&ins.sample.classes).enumerate() {
                let r = Rect::from_min_max(
                    self.to_screen(rect, vec2(b[0], b[1])),
                    self.to_screen(rect, vec2(b[2], b[3])),
                );
                let col = class_colour(c);
                let width = if self.selected_gt == Some(g) {
                    3.0
                } else {
                    2.0
                };
                painter.rect_stroke(r, 0.0, Stroke::new(width, col), egui::StrokeKind::Outside);
                let name = ins.class_names.get(c).map(String::as_str).unwrap_or("?");
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
        self.hovered = None;
        if let Some(p) = resp.hover_pos() {
            let q = self.to_image(rect, p);
            let mut best = f32::INFINITY;
            for d in &self.drawn {
                let b = d.rect;
                if q.x >= b[0] && q.x <= b[2] && q.y >= b[1] && q.y <= b[3] {
                    let c = vec2((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0);
                    let dist = (c - q).length_sq();
                    if dist < best {
                        best = dist;
                        self.hovered = Some(d.index);
                    }
                }
            }
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
        }
        if resp.clicked()
            && let Some(p) = resp.interact_pointer_pos()
        {
            let q = self.to_image(rect, p);
            self.selected_gt = ins
                .sample
                .boxes
                .iter()
                .enumerate()
                .filter(|(_, b)| q.x >= b[0] && q.x <= b[2] && q.y >= b[1] && q.y <= b[3])
                .min_by(|a, b| crate::geometry::area(a.1).total_cmp(&crate::geometry::area(b.1)))
                .map(|(g, _)| g);
        }
        self.legend_ui(ui, rect, settings);
    }

    fn legend_ui(&self, ui: &egui::Ui, rect: Rect, settings: &OverlaySettings) {
        let (title, items) = legend(
            settings,
            self.range.unwrap_or(WeightRange { lo: -1.0, hi: 0.0 }),
        );
        let area = egui::Area::new(egui::Id::unique("legend"))
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

    /// Hover read-out of anchor `i`: level, size, ratio, IoU with each GT, label, score, CE, FL,
    /// weight, sampler pick.
    pub fn hover_text(
        &self,
        ins: &Inspection,
        settings: &OverlaySettings,
        i: usize,
        prior: f64,
    ) -> String {
        use crate::losses::classification::{ce, focal, prior_bias};
        let m = ins.anchors.meta(i);
        let b = ins.anchors.boxes[i];
        let level = &ins.anchors.levels[m.level];
        let label = ins.assign.labels[i];
        let mut s = format!(
            "anchor {i}\nlevel P{} (stride {}), cell {:?}\nsize {:.1} x {:.1}, ratio {} (h/w), scale {:.3}\n",
            m.level + 3,
            level.stride,
            m.cell,
            b[2] - b[0],
            b[3] - b[1],
            ins.anchors.ratios[m.ratio_index],
            ins.anchors.scales[m.scale_index],
        );
        let what = match label {
            l if l > 0 => format!("positive, matched GT {}", l - 1),
            0 => "negative".into(),
            _ => "ignored".into(),
        };
        s.push_str(&format!(
            "label {label}: {what}\nmax IoU {:.3}\n",
            ins.assign.max_iou[i]
        ));
        for (g, gt) in ins.sample.boxes.iter().enumerate() {
            s.push_str(&format!("  IoU with GT {g}: {:.3}\n", iou(&b, gt)));
        }
        let x = prior_bias(prior);
        let y = if label > 0 { 1.0 } else { 0.0 };
        let (alpha, gamma) = match settings.loss {
            crate::losses::classification::ClsLoss::Focal { alpha, gamma } => (alpha, gamma),
            _ => (0.25, 2.0),
        };
        s.push_str(&format!(
            "score {:.4} (target class)\nCE {:.5}, FL {:.6}\n",
            prior,
            ce(x, y).0,
            focal(x, y, alpha, gamma).0
        ));
        let p = prior;
        let (p_t, alpha_t) = if y == 1.0 {
            (p, alpha)
        } else {
            (1.0 - p, 1.0 - alpha)
        };
        s.push_str(&format!(
            "focal weight alpha_t (1-p_t)^gamma = {:.3e}\n",
            crate::losses::classification::focal_weight(
                p_t,
                if alpha < 0.0 { 1.0 } else { alpha_t },
                gamma
            )
        ));
        if let Some(w) = self
            .weight(i)
            .filter(|_| settings.mode == OverlayMode::LossWeight)
        {
            s.push_str(&format!(
                "{} weight (loss / CE, all classes) {:.3e}\n",
                settings.loss.name(),
                w
            ));
        }
        let picked = ins
            .sampler(settings.sampler.key())
            .is_some_and(|r| r.weights[i] > 0.0);
        s.push_str(&format!(
            "{}: {}",
            settings.sampler.label(),
            if picked { "picked" } else { "not picked" }
        ));
        s
    }
}
