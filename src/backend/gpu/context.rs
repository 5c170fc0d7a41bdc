//! The reusable wgpu context: device, queue, adapter info and every compute pipeline,
//! created once.

use std::collections::HashMap;
use std::sync::Mutex;

use wgpu::util::DeviceExt;

/// Threads per workgroup of the 1-D kernels (elementwise, resize, optimizer).
pub(crate) const WG_1D: u32 = 64;
/// The most workgroups along one grid dimension (WebGPU's default limit).
const MAX_GROUPS: u32 = 65_535;

/// `shaders/reduce.wgsl` after the shared workgroup reduction `shaders/reduce_common.wgsl`.
pub const REDUCE_WGSL: &str = concat!(
    include_str!("../../../shaders/reduce_common.wgsl"),
    include_str!("../../../shaders/reduce.wgsl")
);

/// `shaders/loss.wgsl` after the shared workgroup reduction `shaders/reduce_common.wgsl`.
pub const LOSS_WGSL: &str = concat!(
    include_str!("../../../shaders/reduce_common.wgsl"),
    include_str!("../../../shaders/loss.wgsl")
);

/// True when `ANCHORSCOPE_REQUIRE_GPU=1`: a missing adapter is then an error, not a skip.
pub fn gpu_required() -> bool {
    std::env::var("ANCHORSCOPE_REQUIRE_GPU").is_ok_and(|v| v == "1")
}

/// What a GPU test does when it finds no wgpu adapter (or device): fails when
/// [`gpu_required`], otherwise prints that it skipped and why; the caller then returns.
pub fn skip_without_gpu(why: impl std::fmt::Display) {
    assert!(!gpu_required(), "ANCHORSCOPE_REQUIRE_GPU=1 but {why}");
    eprintln!("skipping GPU test: {why}; set ANCHORSCOPE_REQUIRE_GPU=1 to fail instead");
}

/// One compute pipeline and its bind group layout (binding 0 is the uniform parameters,
/// bindings 1.. the storage buffers in the order the WGSL entry point declares them).
pub struct Kernel {
    pipeline: wgpu::ComputePipeline,
    layout: wgpu::BindGroupLayout,
}

impl Kernel {
    fn new(device: &wgpu::Device, module: &wgpu::ShaderModule, entry: &str) -> Self {
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(entry),
            layout: None,
            module,
            entry_point: Some(entry),
            compilation_options: Default::default(),
            cache: None,
        });
        let layout = pipeline.get_bind_group_layout(0);
        Self { pipeline, layout }
    }
}

/// Every compute pipeline of the backend, one field per WGSL entry point.
pub struct Kernels {
    /// `conv.wgsl`: forward.
    pub conv_forward: Kernel,
    /// `conv.wgsl`: input gradient.
    pub conv_backward_dx: Kernel,
    /// `conv.wgsl`: weight gradient.
    pub conv_backward_dw: Kernel,
    /// `conv.wgsl`: bias gradient.
    pub conv_backward_db: Kernel,
    /// `elementwise.wgsl`: `y = max(x, 0)`.
    pub relu: Kernel,
    /// `elementwise.wgsl`: `x = max(x, 0)`.
    pub relu_inplace: Kernel,
    /// `elementwise.wgsl`: `dx += dy` where `y > 0`.
    pub relu_backward: Kernel,
    /// `elementwise.wgsl`: `dy = y > 0 ? dy : 0` in place.
    pub relu_mask_inplace: Kernel,
    /// `elementwise.wgsl`: `y = a + b`.
    pub add: Kernel,
    /// `elementwise.wgsl`: `dst += alpha * src`.
    pub add_scaled: Kernel,
    /// `elementwise.wgsl`: `x *= alpha`.
    pub scale: Kernel,
    /// `resize.wgsl`: nearest 2x upsampling.
    pub upsample2x_forward: Kernel,
    /// `resize.wgsl`: its backward.
    pub upsample2x_backward: Kernel,
    /// `resize.wgsl`: `dst += alpha * nearest_resize(x)`, any sizes.
    pub nearest_add: Kernel,
    /// `resize.wgsl`: its backward (a gather per input pixel).
    pub nearest_backward: Kernel,
    /// `resize.wgsl`: `dst += alpha * adaptive_max_pool(x)` and the winners' indices.
    pub max_pool_add: Kernel,
    /// `resize.wgsl`: its backward (a gather per input pixel).
    pub max_pool_backward: Kernel,
    /// `optim.wgsl`: SGD with momentum and weight decay.
    pub sgd_step: Kernel,
    /// `optim.wgsl`: AdamW.
    pub adamw_step: Kernel,
    /// `reduce.wgsl`: per-chunk sums of squares.
    pub sumsq_partials: Kernel,
    /// `reduce.wgsl`: one-workgroup sum into a slot.
    pub reduce_sum: Kernel,
    /// `reduce.wgsl`: clipping by a norm held on the GPU.
    pub clip_scale: Kernel,
    /// `loss.wgsl`: per-anchor losses, gradients and partials of one head level.
    pub head_loss: Kernel,
    /// `loss.wgsl`: per-chunk sums of the loss partial columns.
    pub loss_sum_partials: Kernel,
    /// `loss.wgsl`: per-column sums of the chunk sums into an output slot.
    pub loss_sum_final: Kernel,
}

impl Kernels {
    /// Compiles every shader and creates every pipeline (once per device).
    pub fn new(device: &wgpu::Device) -> Self {
        let conv = device.create_shader_module(wgpu::include_wgsl!("../../../shaders/conv.wgsl"));
        let elem =
            device.create_shader_module(wgpu::include_wgsl!("../../../shaders/elementwise.wgsl"));
        let resize =
            device.create_shader_module(wgpu::include_wgsl!("../../../shaders/resize.wgsl"));
        let optim = device.create_shader_module(wgpu::include_wgsl!("../../../shaders/optim.wgsl"));
        let wgsl = |label: &str, source: &'static str| {
            device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(label),
                source: wgpu::ShaderSource::Wgsl(source.into()),
            })
        };
        let reduce = wgsl("reduce.wgsl", REDUCE_WGSL);
        let loss = wgsl("loss.wgsl", LOSS_WGSL);
        let k = |m: &wgpu::ShaderModule, e: &str| Kernel::new(device, m, e);
        Self {
            conv_forward: k(&conv, "conv_forward"),
            conv_backward_dx: k(&conv, "conv_backward_dx"),
            conv_backward_dw: k(&conv, "conv_backward_dw"),
            conv_backward_db: k(&conv, "conv_backward_db"),
            relu: k(&elem, "relu"),
            relu_inplace: k(&elem, "relu_inplace"),
            relu_backward: k(&elem, "relu_backward"),
            relu_mask_inplace: k(&elem, "relu_mask_inplace"),
            add: k(&elem, "add"),
            add_scaled: k(&elem, "add_scaled"),
            scale: k(&elem, "scale"),
            upsample2x_forward: k(&resize, "upsample2x_forward"),
            upsample2x_backward: k(&resize, "upsample2x_backward"),
            nearest_add: k(&resize, "nearest_add"),
            nearest_backward: k(&resize, "nearest_backward"),
            max_pool_add: k(&resize, "max_pool_add"),
            max_pool_backward: k(&resize, "max_pool_backward"),
            sgd_step: k(&optim, "sgd_step"),
            adamw_step: k(&optim, "adamw_step"),
            sumsq_partials: k(&reduce, "sumsq_partials"),
            reduce_sum: k(&reduce, "reduce_sum"),
            clip_scale: k(&reduce, "clip_scale"),
            head_loss: k(&loss, "head_loss"),
            loss_sum_partials: k(&loss, "loss_sum_partials"),
            loss_sum_final: k(&loss, "loss_sum_final"),
        }
    }
}

/// What a dispatch binds: the pipeline, the parameter bytes and the storage buffers (wgpu
/// compares pipelines and buffers by identity).
#[derive(PartialEq, Eq, Hash)]
struct BindKey {
    pipeline: wgpu::ComputePipeline,
    params: Vec<u8>,
    bufs: Vec<wgpu::Buffer>,
}

/// Bind groups (each with its uniform buffer) kept between dispatches: a training step
/// repeats the same dispatches on the same buffers, so after the first step almost every
/// dispatch finds its bind group here instead of creating a buffer and a bind group.
#[derive(Default)]
struct BindCache {
    groups: HashMap<BindKey, wgpu::BindGroup>,
}

/// Most bind groups kept; the cache starts over when full (keys pin their buffers).
const BIND_CACHE_MAX: usize = 4096;

/// A wgpu device and queue with all pipelines of the backend, created once and shared.
pub struct GpuContext {
    /// The device the buffers and pipelines live on.
    pub device: wgpu::Device,
    /// Its queue.
    pub queue: wgpu::Queue,
    /// The adapter's name, backend and type.
    pub info: wgpu::AdapterInfo,
    /// All compute pipelines.
    pub kernels: Kernels,
    binds: Mutex<BindCache>,
}

impl GpuContext {
    /// Opens the default adapter (backend from `WGPU_BACKEND`, e.g. `vulkan` for lavapipe)
    /// with its own limits, and builds the pipelines.
    pub fn new() -> Result<Self, String> {
        let instance =
            wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let adapter = pollster::block_on(instance.request_adapter(&Default::default()))
            .map_err(|e| format!("no wgpu adapter: {e}"))?;
        let info = adapter.get_info();
        let desc = wgpu::DeviceDescriptor {
            label: Some("anchorscope compute"),
            required_limits: adapter.limits(),
            ..Default::default()
        };
        let (device, queue) = pollster::block_on(adapter.request_device(&desc))
            .map_err(|e| format!("cannot open a device on {}: {e}", info.name))?;
        Ok(Self::from_device(device, queue))
    }

    /// Wraps a device the caller opened (tests, or the app's own device).
    pub fn from_device(device: wgpu::Device, queue: wgpu::Queue) -> Self {
        let kernels = Kernels::new(&device);
        let info = device.adapter_info();
        Self {
            device,
            queue,
            info,
            kernels,
            binds: Mutex::default(),
        }
    }

    /// True on a software rasterizer (lavapipe, llvmpipe, SwiftShader): correct but slow.
    pub fn is_software(&self) -> bool {
        let name = self.info.name.to_lowercase();
        self.info.device_type == wgpu::DeviceType::Cpu
            || ["llvmpipe", "lavapipe", "swiftshader"]
                .iter()
                .any(|s| name.contains(s))
    }

    /// A fresh command encoder.
    pub fn encoder(&self) -> wgpu::CommandEncoder {
        self.device.create_command_encoder(&Default::default())
    }

    /// Submits `enc` and waits until the GPU is idle.
    pub fn submit_wait(&self, enc: wgpu::CommandEncoder) {
        self.queue.submit([enc.finish()]);
        self.wait();
    }

    /// Blocks until all submitted work is done.
    pub fn wait(&self) {
        self.device
            .poll(wgpu::PollType::Wait {
                submission_index: None,
                timeout: None,
            })
            .expect("wgpu poll");
    }

    /// A bind group for `k`: a new uniform buffer holding `params` at binding 0, `bufs` at
    /// 1, 2, ...
    fn bind_group(&self, k: &Kernel, params: &[u8], bufs: &[&wgpu::Buffer]) -> wgpu::BindGroup {
        let uniform = self
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("kernel params"),
                contents: params,
                usage: wgpu::BufferUsages::UNIFORM,
            });
        let mut entries = vec![wgpu::BindGroupEntry {
            binding: 0,
            resource: uniform.as_entire_binding(),
        }];
        entries.extend(bufs.iter().enumerate().map(|(i, b)| wgpu::BindGroupEntry {
            binding: i as u32 + 1,
            resource: b.as_entire_binding(),
        }));
        self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: &k.layout,
            entries: &entries,
        })
    }

    /// Bind groups currently cached (for tests).
    pub fn cached_bind_groups(&self) -> usize {
        self.binds.lock().map_or(0, |c| c.groups.len())
    }

    /// Records one dispatch of `k` with `params` at binding 0 and `bufs` at 1, 2, ...
    /// (the bind group comes from the cache when this exact dispatch ran before).
    pub(crate) fn dispatch(
        &self,
        enc: &mut wgpu::CommandEncoder,
        k: &Kernel,
        params: &[u8],
        bufs: &[&wgpu::Buffer],
        groups: [u32; 3],
    ) {
        if groups.contains(&0) {
            return;
        }
        let key = BindKey {
            pipeline: k.pipeline.clone(),
            params: params.to_vec(),
            bufs: bufs.iter().map(|&b| b.clone()).collect(),
        };
        let mut cache = self.binds.lock().unwrap_or_else(|e| e.into_inner());
        if cache.groups.len() >= BIND_CACHE_MAX && !cache.groups.contains_key(&key) {
            cache.groups.clear();
        }
        let bind = cache
            .groups
            .entry(key)
            .or_insert_with(|| self.bind_group(k, params, bufs))
            .clone();
        drop(cache);
        let mut pass = enc.begin_compute_pass(&Default::default());
        pass.set_pipeline(&k.pipeline);
        pass.set_bind_group(0, &bind, &[]);
        pass.dispatch_workgroups(groups[0], groups[1], groups[2]);
    }
}

/// A grid of `ceil(len / per_group)` workgroups, folded into x and y under the 65535 limit
/// (the shaders rebuild the index as `gid.x + gid.y * num_workgroups.x * per_group`).
pub(crate) fn grid_1d(len: usize, per_group: u32) -> [u32; 3] {
    let groups = len.div_ceil(per_group as usize);
    let x = groups.min(MAX_GROUPS as usize);
    let y = groups.div_ceil(x.max(1));
    assert!(y <= MAX_GROUPS as usize, "buffer too long for one dispatch");
    [x as u32, y as u32, 1]
}

#[cfg(test)]
mod tests {
    use super::grid_1d;

    #[test]
    fn grid_folds_long_buffers() {
        assert_eq!(grid_1d(0, 64), [0, 0, 1]);
        assert_eq!(grid_1d(65, 64), [2, 1, 1]);
        let g = grid_1d(10_000_000, 64);
        assert!(g[0] as usize * g[1] as usize * 64 >= 10_000_000 && g[0] <= 65_535);
    }
}
