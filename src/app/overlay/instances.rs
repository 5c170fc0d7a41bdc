//! Data shared with `shaders/boxes.wgsl`: the per-box instance, the view uniform, and the
//! generation-stamped box set that decides when the instance buffer is re-uploaded.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Every group visible (the default [`OverlayView::group_mask`]).
pub const ALL_GROUPS: u32 = u32::MAX;

/// One box of the overlay, as stored in the GPU instance buffer (64 bytes).
///
/// Colours are **non-premultiplied sRGB (gamma-space) rgba in `0..=1`**, e.g.
/// `[1.0, 0.0, 0.0, 0.5]` is half-transparent red; the shader premultiplies and, on an sRGB
/// target, converts to linear. Use [`rgba_from_color32`] for egui colours.
///
/// Mirrors `Instance` of shaders/boxes.wgsl through the vertex attributes of `pipeline.rs`
/// (checked by `tests_layout`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct BoxInstance {
    /// `xyxy` in image pixels (continuous coordinates, no `+1`).
    pub rect: [f32; 4],
    /// Interior colour; alpha 0 draws no fill.
    pub fill: [f32; 4],
    /// Outline colour; alpha 0 draws no outline.
    pub outline: [f32; 4],
    /// Outline width in points (screen-constant, drawn inside the box); 0 draws no outline.
    pub thickness: f32,
    /// Group index (e.g. pyramid level) tested against [`OverlayView::group_mask`].
    pub group: u32,
    _pad: [u32; 2],
}

impl BoxInstance {
    /// A box with no fill and no outline (invisible until coloured).
    pub fn new(rect: [f32; 4]) -> Self {
        Self {
            rect,
            ..Self::default()
        }
    }

    /// Sets the fill colour (non-premultiplied sRGB rgba).
    pub fn with_fill(mut self, rgba: [f32; 4]) -> Self {
        self.fill = rgba;
        self
    }

    /// Sets the outline colour (non-premultiplied sRGB rgba) and width in points.
    pub fn with_outline(mut self, rgba: [f32; 4], thickness: f32) -> Self {
        self.outline = rgba;
        self.thickness = thickness;
        self
    }

    /// Sets the group (bit index into [`OverlayView::group_mask`], 31 for all larger values).
    pub fn with_group(mut self, group: u32) -> Self {
        self.group = group;
        self
    }
}

/// Converts an egui colour (premultiplied sRGB bytes) to the overlay's non-premultiplied floats.
pub fn rgba_from_color32(c: egui::Color32) -> [f32; 4] {
    let [r, g, b, a] = c.to_srgba_unmultiplied();
    [r, g, b, a].map(|v| f32::from(v) / 255.0)
}

static NEXT_GENERATION: AtomicU64 = AtomicU64::new(1);

/// An immutable, cheaply clonable set of boxes with a unique generation number.
///
/// The renderer re-uploads its instance buffer only when it is handed a set of another
/// generation; cloning a set (an `Arc` clone) keeps the generation. Build a new set whenever
/// the boxes or their colours change, and keep handing the same one in every frame otherwise.
#[derive(Clone, Debug)]
pub struct BoxSet {
    generation: u64,
    instances: Arc<[BoxInstance]>,
}

impl BoxSet {
    /// Wraps `instances` under a fresh generation number.
    pub fn new(instances: impl Into<Arc<[BoxInstance]>>) -> Self {
        Self {
            generation: NEXT_GENERATION.fetch_add(1, Ordering::Relaxed),
            instances: instances.into(),
        }
    }

    /// The generation number (unique per process, never 0).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The boxes, in drawing order (later boxes on top).
    pub fn instances(&self) -> &[BoxInstance] {
        &self.instances
    }

    /// Number of boxes.
    pub fn len(&self) -> usize {
        self.instances.len()
    }

    /// True when there are no boxes.
    pub fn is_empty(&self) -> bool {
        self.instances.is_empty()
    }
}

impl Default for BoxSet {
    fn default() -> Self {
        Self::new(Vec::new())
    }
}

/// Image-to-screen mapping and display knobs; changing it rewrites only a small uniform.
///
/// `screen = origin + zoom * image`, in egui points for the paint callback and in target
/// pixels for offscreen rendering (where one point is one pixel).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OverlayView {
    /// Screen points per image pixel.
    pub zoom: f32,
    /// Screen position (points, absolute) of image point `(0, 0)`: the pan.
    pub origin: [f32; 2],
    /// Multiplies every alpha (the overlay opacity slider).
    pub opacity: f32,
    /// Bit `g` set: boxes of group `g` are drawn (filters without a re-upload).
    pub group_mask: u32,
}

impl Default for OverlayView {
    fn default() -> Self {
        Self {
            zoom: 1.0,
            origin: [0.0, 0.0],
            opacity: 1.0,
            group_mask: ALL_GROUPS,
        }
    }
}

impl OverlayView {
    /// A view with the given zoom and origin, full opacity and every group.
    pub fn new(zoom: f32, origin: [f32; 2]) -> Self {
        Self {
            zoom,
            origin,
            ..Self::default()
        }
    }
}

/// The uniform block of shaders/boxes.wgsl (48 bytes).
///
/// Mirrors `Uniforms` of shaders/boxes.wgsl (checked by `tests_layout`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Uniforms {
    /// Target pixels per image pixel.
    pub scale: [f32; 2],
    /// Target pixel, relative to the viewport's top-left, of image point `(0, 0)`.
    pub offset: [f32; 2],
    /// Viewport size in target pixels.
    pub viewport: [f32; 2],
    /// Target pixels per point (outline thickness scale).
    pub px_per_point: f32,
    /// Multiplies every alpha.
    pub opacity: f32,
    /// Visible groups.
    pub group_mask: u32,
    /// 1 when the target format is sRGB (colours converted to linear).
    pub linear_output: u32,
    _pad: [u32; 2],
}

impl Uniforms {
    /// Uniforms for `view` drawn into a viewport whose top-left is at `viewport_min_px` and
    /// whose size is `viewport_px` (target pixels), at `px_per_point`.
    pub fn new(
        view: &OverlayView,
        viewport_min_px: [f32; 2],
        viewport_px: [f32; 2],
        px_per_point: f32,
        linear_output: bool,
    ) -> Self {
        let s = view.zoom * px_per_point;
        Self {
            scale: [s, s],
            offset: [
                view.origin[0] * px_per_point - viewport_min_px[0],
                view.origin[1] * px_per_point - viewport_min_px[1],
            ],
            viewport: [viewport_px[0].max(1.0), viewport_px[1].max(1.0)],
            px_per_point,
            opacity: view.opacity,
            group_mask: view.group_mask,
            linear_output: u32::from(linear_output),
            _pad: [0; 2],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_match_the_shader() {
        assert_eq!(size_of::<BoxInstance>(), 64);
        assert_eq!(size_of::<Uniforms>(), 48);
    }

    #[test]
    fn generations_are_unique_and_survive_clone() {
        let a = BoxSet::new(vec![BoxInstance::new([0.0; 4])]);
        let b = BoxSet::new(vec![BoxInstance::new([0.0; 4])]);
        assert_ne!(a.generation(), b.generation());
        assert_eq!(a.clone().generation(), a.generation());
    }

    #[test]
    fn color32_round_trips_unmultiplied() {
        let c = rgba_from_color32(egui::Color32::from_rgba_unmultiplied(255, 0, 0, 128));
        assert!((c[0] - 1.0).abs() < 0.02 && c[1] == 0.0 && (c[3] - 128.0 / 255.0).abs() < 1e-6);
    }
}
