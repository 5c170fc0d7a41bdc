//! Offscreen rendering with the same pipeline: pixel tests and `anchorscope bench`.

use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};

use super::instances::{BoxSet, OverlayView, Uniforms};
use super::pipeline::{BoxOverlayRenderer, OverlayTarget};

/// Colour format of offscreen targets: gamma-space RGBA, like egui's preferred framebuffer.
pub const OFFSCREEN_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Unorm;

/// Opens a headless device (backend from `WGPU_BACKEND`, e.g. `vulkan` for lavapipe).
pub fn request_device() -> Result<(wgpu::Device, wgpu::Queue, wgpu::AdapterInfo)> {
    let instance =
        wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    let adapter = pollster::block_on(instance.request_adapter(&Default::default()))
        .context("no wgpu adapter")?;
    let info = adapter.get_info();
    let (device, queue) = pollster::block_on(adapter.request_device(&Default::default()))
        .with_context(|| format!("cannot open a device on {}", info.name))?;
    Ok((device, queue, info))
}

/// Frame times of [`OffscreenOverlay::time_frames`] (CPU wall clock, submit to GPU idle).
#[derive(Clone, Copy, Debug)]
pub struct FrameTimes {
    /// Frames timed.
    pub frames: u32,
    /// Mean frame time.
    pub mean: Duration,
    /// Fastest frame.
    pub min: Duration,
    /// First upload of the instances (write + wait).
    pub upload: Duration,
}

/// A render target of fixed size with the overlay pipeline, reusable across frames.
pub struct OffscreenOverlay {
    renderer: BoxOverlayRenderer,
    width: u32,
    height: u32,
    /// The resolved (single-sample) colour texture that is read back.
    texture: wgpu::Texture,
    /// The multisampled texture drawn into when `msaa_samples > 1`.
    msaa: Option<wgpu::Texture>,
    readback: wgpu::Buffer,
    padded_row: u32,
    /// Colour the target is cleared to before drawing (gamma-space, premultiplied).
    pub clear: wgpu::Color,
}

/// Layer key used offscreen.
const LAYER: u64 = 0;

impl OffscreenOverlay {
    /// A `width` x `height` target in [`OFFSCREEN_FORMAT`], cleared to transparent black.
    pub fn new(device: &wgpu::Device, width: u32, height: u32, msaa_samples: u32) -> Self {
        let target = OverlayTarget {
            format: OFFSCREEN_FORMAT,
            msaa_samples,
            depth_format: None,
        };
        let texture_desc = |samples: u32, usage| wgpu::TextureDescriptor {
            label: Some("box_overlay_offscreen"),
            size: wgpu::Extent3d {
                width,
                height,
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: samples,
            dimension: wgpu::TextureDimension::D2,
            format: OFFSCREEN_FORMAT,
            usage,
            view_formats: &[],
        };
        let usage = wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC;
        let texture = device.create_texture(&texture_desc(1, usage));
        let msaa = (msaa_samples > 1).then(|| {
            let usage = wgpu::TextureUsages::RENDER_ATTACHMENT;
            device.create_texture(&texture_desc(msaa_samples, usage))
        });
        let padded_row = (width * 4).next_multiple_of(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT);
        let readback = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("box_overlay_readback"),
            size: u64::from(padded_row) * u64::from(height),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        Self {
            renderer: BoxOverlayRenderer::new(device, target),
            width,
            height,
            texture,
            msaa,
            readback,
            padded_row,
            clear: wgpu::Color::TRANSPARENT,
        }
    }

    /// The renderer (for its [`BoxOverlayRenderer::layer_stats`]).
    pub fn renderer(&self) -> &BoxOverlayRenderer {
        &self.renderer
    }

    /// Draws `boxes` with `view` (points = target pixels) and waits for the GPU. Re-uploads
    /// the instances only if `boxes` is of a new generation.
    pub fn draw(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        boxes: &BoxSet,
        view: &OverlayView,
    ) {
        let enc = self.encode(device, queue, boxes, view);
        queue.submit([enc.finish()]);
        wait(device);
    }

    /// Draws like [`Self::draw`] and returns the image as tightly packed RGBA8 rows
    /// (premultiplied, gamma-space), top row first.
    pub fn render(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        boxes: &BoxSet,
        view: &OverlayView,
    ) -> Vec<u8> {
        let mut enc = self.encode(device, queue, boxes, view);
        enc.copy_texture_to_buffer(
            self.texture.as_image_copy(),
            wgpu::TexelCopyBufferInfo {
                buffer: &self.readback,
                layout: wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(self.padded_row),
                    rows_per_image: None,
                },
            },
            self.texture.size(),
        );
        queue.submit([enc.finish()]);
        let slice = self.readback.slice(..);
        slice.map_async(wgpu::MapMode::Read, |r| {
            r.expect("map the overlay readback buffer")
        });
        wait(device);
        let row = (self.width * 4) as usize;
        let mut out = Vec::with_capacity(row * self.height as usize);
        {
            let mapped = slice
                .get_mapped_range()
                .expect("read the overlay readback buffer");
            for padded in mapped.chunks(self.padded_row as usize) {
                out.extend_from_slice(&padded[..row]);
            }
        }
        self.readback.unmap();
        out
    }

    /// Times `frames` redraws of `boxes` (uploaded once, before timing) with `view`.
    pub fn time_frames(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        boxes: &BoxSet,
        view: &OverlayView,
        frames: u32,
    ) -> FrameTimes {
        let t0 = Instant::now();
        self.draw(device, queue, boxes, view);
        let upload = t0.elapsed();
        let (mut total, mut min) = (Duration::ZERO, Duration::MAX);
        for _ in 0..frames {
            let t = Instant::now();
            self.draw(device, queue, boxes, view);
            let dt = t.elapsed();
            total += dt;
            min = min.min(dt);
        }
        let mean = total / frames.max(1);
        FrameTimes {
            frames,
            mean,
            min,
            upload,
        }
    }

    fn encode(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        boxes: &BoxSet,
        view: &OverlayView,
    ) -> wgpu::CommandEncoder {
        let size = [self.width as f32, self.height as f32];
        let uniforms = Uniforms::new(view, [0.0, 0.0], size, 1.0, OFFSCREEN_FORMAT.is_srgb());
        self.renderer.prepare(device, queue, LAYER, boxes, uniforms);
        let resolved = self.texture.create_view(&Default::default());
        let msaa = self
            .msaa
            .as_ref()
            .map(|t| t.create_view(&Default::default()));
        let (view_tex, resolve_target) = match &msaa {
            Some(m) => (m, Some(&resolved)),
            None => (&resolved, None),
        };
        let mut enc = device.create_command_encoder(&Default::default());
        {
            let mut pass = enc.begin_render_pass(&wgpu::RenderPassDescriptor {
                label: Some("box_overlay_offscreen"),
                color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                    view: view_tex,
                    depth_slice: None,
                    resolve_target,
                    ops: wgpu::Operations {
                        load: wgpu::LoadOp::Clear(self.clear),
                        store: wgpu::StoreOp::Store,
                    },
                })],
                depth_stencil_attachment: None,
                timestamp_writes: None,
                occlusion_query_set: None,
                multiview_mask: None,
            });
            self.renderer.paint(&mut pass, LAYER);
        }
        enc
    }
}

/// One-shot offscreen render of `boxes` (no MSAA, transparent background): tightly packed
/// RGBA8 rows, premultiplied gamma-space. Builds the pipeline each call; keep an
/// [`OffscreenOverlay`] to render repeatedly.
pub fn render_offscreen(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    width: u32,
    height: u32,
    boxes: &BoxSet,
    view: &OverlayView,
) -> Vec<u8> {
    OffscreenOverlay::new(device, width, height, 1).render(device, queue, boxes, view)
}

fn wait(device: &wgpu::Device) {
    device
        .poll(wgpu::PollType::Wait {
            submission_index: None,
            timeout: None,
        })
        .expect("wait for the GPU");
}
