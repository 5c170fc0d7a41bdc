//! The box overlay render pipeline (created once per target) and its per-layer GPU buffers.

use std::collections::HashMap;

use super::instances::{BoxInstance, BoxSet, Uniforms};

/// The vertex attributes of one [`BoxInstance`] at shader locations 0-4 (`rect`, `fill`,
/// `outline`, `thickness`, `group` of `Instance` in shaders/boxes.wgsl; formats and offsets
/// checked by `tests_layout`).
pub(super) const INSTANCE_ATTRIBUTES: [wgpu::VertexAttribute; 5] = wgpu::vertex_attr_array![
    0 => Float32x4, 1 => Float32x4, 2 => Float32x4, 3 => Float32, 4 => Uint32
];

/// Vertices per box for the fill pass (one quad).
const FILL_VERTICES: std::ops::Range<u32> = 0..6;
/// Vertices per box for the outline pass (four quads).
const OUTLINE_VERTICES: std::ops::Range<u32> = 6..30;
/// Smallest instance buffer, in boxes.
const MIN_CAPACITY: u64 = 1024;

/// What the pipeline renders into: must match the render pass it is used in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OverlayTarget {
    /// Colour format of the render pass.
    pub format: wgpu::TextureFormat,
    /// MSAA sample count of the render pass (1: none).
    pub msaa_samples: u32,
    /// Depth/stencil format of the render pass, if it has one.
    pub depth_format: Option<wgpu::TextureFormat>,
}

impl OverlayTarget {
    /// The target of eframe's wgpu painter. egui does not expose its MSAA and depth settings in
    /// `RenderState`, so pass the `NativeOptions` values the app was started with
    /// (`multisampling`, `depth_buffer`, `stencil_buffer`; all 0 by default).
    pub fn for_eframe(
        render_state: &eframe::egui_wgpu::RenderState,
        multisampling: u16,
        depth_buffer: u8,
        stencil_buffer: u8,
    ) -> Self {
        Self {
            format: render_state.target_format,
            msaa_samples: u32::from(multisampling).max(1),
            depth_format: eframe::egui_wgpu::depth_format_from_bits(depth_buffer, stencil_buffer),
        }
    }
}

/// Counters of one layer, for tests and the status bar.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LayerStats {
    /// Generation of the [`BoxSet`] now in the instance buffer (0: none yet).
    pub generation: u64,
    /// Boxes in the instance buffer.
    pub instances: u32,
    /// Capacity of the instance buffer, in boxes.
    pub capacity: u64,
    /// How many times instances were uploaded.
    pub instance_uploads: u64,
    /// How many times the uniform was rewritten (only when it changed).
    pub uniform_writes: u64,
}

/// GPU state of one overlay layer: its instance buffer and view uniform.
struct Layer {
    instances: wgpu::Buffer,
    uniform: wgpu::Buffer,
    bind_group: wgpu::BindGroup,
    last_uniforms: Option<Uniforms>,
    stats: LayerStats,
}

/// Draws instanced box fills and outlines; one pipeline, any number of layers.
///
/// A layer (keyed by a `u64` the caller picks) owns one instance buffer and one uniform, so
/// two image views drawn in the same frame (e.g. CE beside FL) do not overwrite each other.
pub struct BoxOverlayRenderer {
    target: OverlayTarget,
    pipeline: wgpu::RenderPipeline,
    bind_group_layout: wgpu::BindGroupLayout,
    layers: HashMap<u64, Layer>,
}

impl BoxOverlayRenderer {
    /// Creates the pipeline for `target`.
    pub fn new(device: &wgpu::Device, target: OverlayTarget) -> Self {
        let module =
            device.create_shader_module(wgpu::include_wgsl!("../../../shaders/boxes.wgsl"));
        let bind_group_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("box_overlay_uniforms"),
            entries: &[wgpu::BindGroupLayoutEntry {
                binding: 0,
                visibility: wgpu::ShaderStages::VERTEX,
                ty: wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Uniform,
                    has_dynamic_offset: false,
                    min_binding_size: wgpu::BufferSize::new(size_of::<Uniforms>() as u64),
                },
                count: None,
            }],
        });
        let layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("box_overlay"),
            bind_group_layouts: &[Some(&bind_group_layout)],
            immediate_size: 0,
        });
        let pipeline = device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
            label: Some("box_overlay"),
            layout: Some(&layout),
            vertex: wgpu::VertexState {
                module: &module,
                entry_point: Some("vs_main"),
                buffers: &[Some(wgpu::VertexBufferLayout {
                    array_stride: size_of::<BoxInstance>() as u64,
                    step_mode: wgpu::VertexStepMode::Instance,
                    attributes: &INSTANCE_ATTRIBUTES,
                })],
                compilation_options: Default::default(),
            },
            primitive: wgpu::PrimitiveState {
                topology: wgpu::PrimitiveTopology::TriangleList,
                cull_mode: None,
                ..Default::default()
            },
            depth_stencil: target.depth_format.map(|format| wgpu::DepthStencilState {
                format,
                depth_write_enabled: Some(false),
                depth_compare: Some(wgpu::CompareFunction::Always),
                stencil: wgpu::StencilState::default(),
                bias: wgpu::DepthBiasState::default(),
            }),
            multisample: wgpu::MultisampleState {
                count: target.msaa_samples.max(1),
                mask: !0,
                alpha_to_coverage_enabled: false,
            },
            fragment: Some(wgpu::FragmentState {
                module: &module,
                entry_point: Some("fs_main"),
                targets: &[Some(wgpu::ColorTargetState {
                    format: target.format,
                    // Premultiplied "over", as egui blends.
                    blend: Some(wgpu::BlendState::PREMULTIPLIED_ALPHA_BLENDING),
                    write_mask: wgpu::ColorWrites::ALL,
                })],
                compilation_options: Default::default(),
            }),
            multiview_mask: None,
            cache: None,
        });
        Self {
            target,
            pipeline,
            bind_group_layout,
            layers: HashMap::new(),
        }
    }

    /// The target this renderer's pipeline was built for.
    pub fn target(&self) -> OverlayTarget {
        self.target
    }

    /// Counters of `layer`, if it has been prepared.
    pub fn layer_stats(&self, layer: u64) -> Option<LayerStats> {
        self.layers.get(&layer).map(|l| l.stats)
    }

    /// Frees the buffers of `layer`.
    pub fn remove_layer(&mut self, layer: u64) {
        self.layers.remove(&layer);
    }

    /// Brings `layer` up to date: uploads `boxes` only if its generation differs from what is
    /// in the buffer, and rewrites the uniform only if it changed. Call before the render pass.
    pub fn prepare(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        layer: u64,
        boxes: &BoxSet,
        uniforms: Uniforms,
    ) {
        let layout = &self.bind_group_layout;
        let l = self
            .layers
            .entry(layer)
            .or_insert_with(|| Layer::new(device, layout, MIN_CAPACITY));
        if l.stats.generation != boxes.generation() {
            let needed = boxes.len() as u64;
            if needed > l.stats.capacity {
                let capacity = needed.next_power_of_two().max(MIN_CAPACITY);
                let stats = l.stats;
                *l = Layer::new(device, layout, capacity);
                l.stats = LayerStats { capacity, ..stats };
            }
            if !boxes.is_empty() {
                queue.write_buffer(&l.instances, 0, bytemuck::cast_slice(boxes.instances()));
            }
            l.stats.generation = boxes.generation();
            l.stats.instances = boxes.len() as u32;
            l.stats.instance_uploads += 1;
        }
        if l.last_uniforms != Some(uniforms) {
            queue.write_buffer(&l.uniform, 0, bytemuck::bytes_of(&uniforms));
            l.last_uniforms = Some(uniforms);
            l.stats.uniform_writes += 1;
        }
    }

    /// Records the draws of `layer` (all fills, then all outlines) into `pass`, whose
    /// viewport must be the one given to [`Uniforms::new`].
    pub fn paint(&self, pass: &mut wgpu::RenderPass<'_>, layer: u64) {
        let Some(l) = self.layers.get(&layer) else {
            return;
        };
        let n = l.stats.instances;
        if n == 0 {
            return;
        }
        let bytes = u64::from(n) * size_of::<BoxInstance>() as u64;
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, &l.bind_group, &[]);
        pass.set_vertex_buffer(0, l.instances.slice(..bytes));
        pass.draw(FILL_VERTICES, 0..n);
        pass.draw(OUTLINE_VERTICES, 0..n);
    }
}

impl Layer {
    fn new(device: &wgpu::Device, layout: &wgpu::BindGroupLayout, capacity: u64) -> Self {
        let instances = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("box_overlay_instances"),
            size: capacity * size_of::<BoxInstance>() as u64,
            usage: wgpu::BufferUsages::VERTEX | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let uniform = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("box_overlay_uniforms"),
            size: size_of::<Uniforms>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("box_overlay_uniforms"),
            layout,
            entries: &[wgpu::BindGroupEntry {
                binding: 0,
                resource: uniform.as_entire_binding(),
            }],
        });
        Self {
            instances,
            uniform,
            bind_group,
            last_uniforms: None,
            stats: LayerStats {
                capacity,
                ..LayerStats::default()
            },
        }
    }
}
