//! The central image view: the image as a texture, the anchors and GT boxes over it, zoom
//! (wheel), pan (drag), fit (F), hover read-outs and GT selection by click.
//!
//! `mod.rs` holds the state and the draw list, `draw.rs` paints, `input.rs` turns the pointer
//! into zoom, pan, hover and selection, `hover.rs` writes the read-out of one anchor.

mod draw;
mod hover;
mod input;
#[cfg(test)]
mod tests;

pub use hover::{ModelScores, anchor_score};

use crate::app::anchor_colors::{WeightRange, anchor_colour, loss_weights};
use crate::app::overlay::{BoxInstance, BoxSet, rgba_from_color32};
use crate::app::state::{OverlayMode, OverlaySettings};
use crate::geometry::Box4;
use crate::inspect::Inspection;
use egui::{Color32, Pos2, Rect, Vec2, vec2};
use std::sync::Arc;

/// Colour of ignore regions (crowd / difficult boxes) in the view and the Anchors tab: a
/// neutral grey, unlike every class colour.
pub const IGNORE_COLOUR: Color32 = Color32::from_rgb(165, 165, 165);

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
    /// Overlay layer and legend key: one per view drawn in the same frame (compare view).
    pub layer: u64,
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
            loss_weights(ins, &settings.loss)
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
}
