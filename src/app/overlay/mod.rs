//! The wgpu box overlay of the image view: anchors and GT boxes drawn as instanced fills and
//! outlines (shaders/boxes.wgsl) from one GPU instance buffer per layer.
//!
//! - [`BoxInstance`]: one box (xyxy in image pixels, non-premultiplied sRGB fill and outline,
//!   outline width in points, group). [`BoxSet`]: an `Arc` of boxes with a generation number;
//!   the instance buffer is re-uploaded only when a set of a new generation is drawn.
//! - [`OverlayView`]: zoom, pan (origin), opacity and group mask; changing it rewrites only a
//!   48-byte uniform, never the instances.
//! - [`BoxOverlayCallback`]: the `egui_wgpu::CallbackTrait` that draws a set inside a rect,
//!   using the [`BoxOverlayRenderer`] stored in egui's callback resources by [`install`].
//! - [`OffscreenOverlay`] / [`render_offscreen`]: the same pipeline into a texture, read back
//!   as RGBA8 (tests) or timed with [`OffscreenOverlay::time_frames`] (`anchorscope bench`).
//!
//! Draw order: the fills of all boxes, then the outlines of all boxes (later boxes on top
//! within each pass), so outlines are never hidden under other boxes' fills.
//!
//! # Using it in the app
//! ```no_run
//! use anchorscope::app::overlay::{self, BoxInstance, BoxOverlayCallback, BoxSet, OverlayView};
//!
//! // Once, in the app's constructor (the values are those of `NativeOptions`).
//! fn setup(cc: &eframe::CreationContext<'_>) {
//!     if let Some(rs) = cc.wgpu_render_state.as_ref() {
//!         overlay::install(rs, overlay::OverlayTarget::for_eframe(rs, 0, 0, 0));
//!     }
//! }
//!
//! // Every frame, in the image view. Build a new `BoxSet` only when boxes or colours change.
//! fn image_view_ui(ui: &mut egui::Ui, boxes: &BoxSet, zoom: f32, pan: egui::Vec2) {
//!     let rect = ui.available_rect_before_wrap();
//!     let origin = rect.min + pan; // screen position of image pixel (0, 0)
//!     let view = OverlayView::new(zoom, [origin.x, origin.y]);
//!     ui.painter().add(BoxOverlayCallback::new(rect, boxes.clone(), view).into_shape());
//! }
//!
//! let boxes = BoxSet::new(vec![
//!     BoxInstance::new([10.0, 10.0, 50.0, 40.0]).with_outline([0.0, 1.0, 0.0, 1.0], 1.0),
//! ]);
//! # let _ = (setup, image_view_ui, boxes);
//! ```

mod callback;
mod instances;
mod offscreen;
mod pipeline;
#[cfg(test)]
mod tests_layout;

pub use callback::{BoxOverlayCallback, install};
pub use instances::{ALL_GROUPS, BoxInstance, BoxSet, OverlayView, Uniforms, rgba_from_color32};
pub use offscreen::{
    FrameTimes, OFFSCREEN_FORMAT, OffscreenOverlay, render_offscreen, request_device,
};
pub use pipeline::{BoxOverlayRenderer, LayerStats, OverlayTarget};
