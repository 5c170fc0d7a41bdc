//! Pointer input of the view: zoom around the pointer (wheel / pinch), pan (drag), the anchor
//! under the pointer and the GT box a click selects.

use super::ImageView;
use crate::inspect::Inspection;
use egui::{Pos2, Rect, vec2};

impl ImageView {
    /// Zooms around the pointer (wheel or pinch) and pans by dragging.
    pub(super) fn zoom_and_pan(&mut self, ui: &egui::Ui, rect: Rect, resp: &egui::Response) {
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
    }

    /// The drawn anchor containing screen point `p` whose centre is nearest to it.
    pub(super) fn anchor_at(&self, rect: Rect, p: Pos2) -> Option<usize> {
        let q = self.to_image(rect, p);
        let mut best = f32::INFINITY;
        let mut hit = None;
        for d in &self.drawn {
            let b = d.rect;
            if q.x >= b[0] && q.x <= b[2] && q.y >= b[1] && q.y <= b[3] {
                let c = vec2((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0);
                let dist = (c - q).length_sq();
                if dist < best {
                    best = dist;
                    hit = Some(d.index);
                }
            }
        }
        hit
    }

    /// The smallest GT box containing screen point `p`.
    pub(super) fn gt_at(&self, ins: &Inspection, rect: Rect, p: Pos2) -> Option<usize> {
        let q = self.to_image(rect, p);
        ins.sample
            .boxes
            .iter()
            .enumerate()
            .filter(|(_, b)| q.x >= b[0] && q.x <= b[2] && q.y >= b[1] && q.y <= b[3])
            .min_by(|a, b| crate::geometry::area(a.1).total_cmp(&crate::geometry::area(b.1)))
            .map(|(g, _)| g)
    }
}
