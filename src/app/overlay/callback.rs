//! The egui paint callback that draws a [`BoxSet`] inside a rect of the UI.

use eframe::egui_wgpu::{self, CallbackResources, CallbackTrait, ScreenDescriptor};
use egui::epaint::ViewportInPixels;

use super::instances::{BoxSet, OverlayView, Uniforms};
use super::pipeline::{BoxOverlayRenderer, OverlayTarget};

/// Creates the overlay pipeline for eframe's target and stores it in the egui renderer's
/// callback resources (once, e.g. in the app's constructor from `cc.wgpu_render_state`).
/// Replaces a renderer installed before.
pub fn install(render_state: &egui_wgpu::RenderState, target: OverlayTarget) {
    let renderer = BoxOverlayRenderer::new(&render_state.device, target);
    render_state
        .renderer
        .write()
        .callback_resources
        .insert(renderer);
}

/// One frame's overlay draw: which layer, which boxes, which view, where on screen.
///
/// Cheap to build every frame: the boxes are an `Arc` and are uploaded only when their
/// generation changes.
#[derive(Clone, Debug)]
pub struct BoxOverlayCallback {
    /// Screen rect (points) to draw in; also the clip of the overlay.
    pub rect: egui::Rect,
    /// Layer key: one per image view drawn in the same frame.
    pub layer: u64,
    /// The boxes.
    pub boxes: BoxSet,
    /// Image-to-screen mapping (points) and display knobs.
    pub view: OverlayView,
}

impl BoxOverlayCallback {
    /// A callback for `boxes` shown with `view` inside `rect`, on layer 0.
    pub fn new(rect: egui::Rect, boxes: BoxSet, view: OverlayView) -> Self {
        Self {
            rect,
            layer: 0,
            boxes,
            view,
        }
    }

    /// Sets the layer key.
    pub fn with_layer(mut self, layer: u64) -> Self {
        self.layer = layer;
        self
    }

    /// The shape to add to a painter: `ui.painter().add(callback.into_shape())`.
    pub fn into_shape(self) -> egui::Shape {
        egui::Shape::Callback(egui_wgpu::Callback::new_paint_callback(self.rect, self))
    }
}

impl CallbackTrait for BoxOverlayCallback {
    fn prepare(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        screen: &ScreenDescriptor,
        _encoder: &mut wgpu::CommandEncoder,
        resources: &mut CallbackResources,
    ) -> Vec<wgpu::CommandBuffer> {
        let Some(renderer) = resources.get_mut::<BoxOverlayRenderer>() else {
            log::warn!("box overlay: renderer not installed (call overlay::install)");
            return Vec::new();
        };
        // The same rounding and clamping egui applies when it sets the callback's viewport.
        let ppp = screen.pixels_per_point;
        let vp = ViewportInPixels::from_points(&self.rect, ppp, screen.size_in_pixels);
        if vp.width_px <= 0 || vp.height_px <= 0 {
            return Vec::new();
        }
        let uniforms = Uniforms::new(
            &self.view,
            [vp.left_px as f32, vp.top_px as f32],
            [vp.width_px as f32, vp.height_px as f32],
            ppp,
            renderer.target().format.is_srgb(),
        );
        renderer.prepare(device, queue, self.layer, &self.boxes, uniforms);
        Vec::new()
    }

    fn paint(
        &self,
        _info: egui::PaintCallbackInfo,
        render_pass: &mut wgpu::RenderPass<'static>,
        resources: &CallbackResources,
    ) {
        if let Some(renderer) = resources.get::<BoxOverlayRenderer>() {
            renderer.paint(render_pass, self.layer);
        }
    }
}
