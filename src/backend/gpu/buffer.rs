//! GPU tensors (a storage buffer plus an NCHW shape), uploads, downloads and a buffer pool.

use std::collections::HashMap;

use super::context::GpuContext;
use crate::backend::tensor::Tensor;

/// Usage of every tensor buffer: bound as storage, copied to and from, cleared.
const TENSOR_USAGE: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::COPY_SRC)
    .union(wgpu::BufferUsages::COPY_DST);

/// Bytes of a buffer holding `len` floats (at least 4: wgpu has no empty bindings).
fn byte_size(len: usize) -> u64 {
    (len.max(1) * 4) as u64
}

/// A dense `f32` tensor on the GPU, NCHW like [`Tensor`]; flat buffers use `[1, 1, 1, len]`.
pub struct GpuTensor {
    /// The storage buffer (at least `len()` floats; pooled buffers may be larger).
    pub buffer: wgpu::Buffer,
    /// `[N, C, H, W]`.
    pub shape: [usize; 4],
}

impl GpuTensor {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// True when the tensor holds no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// An uninitialised (in practice zeroed by wgpu) tensor of `shape`.
    pub fn zeros(ctx: &GpuContext, shape: [usize; 4]) -> Self {
        let buffer = ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("gpu tensor"),
            size: byte_size(shape.iter().product()),
            usage: TENSOR_USAGE,
            mapped_at_creation: false,
        });
        Self { buffer, shape }
    }

    /// A flat tensor `[1, 1, 1, len]` of zeros.
    pub fn zeros_flat(ctx: &GpuContext, len: usize) -> Self {
        Self::zeros(ctx, [1, 1, 1, len])
    }

    /// A new tensor holding a copy of `t`.
    pub fn upload(ctx: &GpuContext, t: &Tensor) -> Self {
        let g = Self::zeros(ctx, t.shape);
        g.write(ctx, &t.data);
        g
    }

    /// A new flat tensor holding a copy of `data`.
    pub fn upload_flat(ctx: &GpuContext, data: &[f32]) -> Self {
        let g = Self::zeros_flat(ctx, data.len());
        g.write(ctx, data);
        g
    }

    /// Overwrites the first `data.len()` values (queued before the next submission).
    pub fn write(&self, ctx: &GpuContext, data: &[f32]) {
        assert!(data.len() <= self.len(), "gpu tensor: write past the end");
        if !data.is_empty() {
            ctx.queue
                .write_buffer(&self.buffer, 0, bytemuck::cast_slice(data));
        }
    }

    /// Records a clear to zero (gradients accumulate; zeroing is explicit).
    pub fn zero(&self, enc: &mut wgpu::CommandEncoder) {
        enc.clear_buffer(&self.buffer, 0, Some(byte_size(self.len())));
    }

    /// Reads the values back (submits a copy and waits: tests and metrics only).
    pub fn download_vec(&self, ctx: &GpuContext) -> Vec<f32> {
        let size = byte_size(self.len());
        let staging = ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut enc = ctx.encoder();
        enc.copy_buffer_to_buffer(&self.buffer, 0, &staging, 0, size);
        ctx.queue.submit([enc.finish()]);
        staging
            .slice(..)
            .map_async(wgpu::MapMode::Read, |r| r.expect("map readback buffer"));
        ctx.wait();
        let view = staging.slice(..).get_mapped_range().expect("mapped range");
        let mut out: Vec<f32> = bytemuck::cast_slice(&view).to_vec();
        out.truncate(self.len());
        out
    }

    /// Reads the tensor back as a CPU [`Tensor`].
    pub fn download(&self, ctx: &GpuContext) -> Tensor {
        Tensor::from_vec(self.shape, self.download_vec(ctx))
    }
}

/// Reuses tensor buffers across steps: `take` gives a buffer of exactly the requested byte
/// size when one was `give`n back, else a new one. Not thread-safe; one per trainer.
#[derive(Default)]
pub struct BufferPool {
    free: HashMap<u64, Vec<wgpu::Buffer>>,
}

impl BufferPool {
    /// An empty pool.
    pub fn new() -> Self {
        Self::default()
    }

    /// A tensor of `shape` (contents unspecified: zero it or overwrite it).
    pub fn take(&mut self, ctx: &GpuContext, shape: [usize; 4]) -> GpuTensor {
        let size = byte_size(shape.iter().product());
        match self.free.get_mut(&size).and_then(Vec::pop) {
            Some(buffer) => GpuTensor { buffer, shape },
            None => GpuTensor::zeros(ctx, shape),
        }
    }

    /// Returns a tensor's buffer for reuse.
    pub fn give(&mut self, t: GpuTensor) {
        self.free.entry(t.buffer.size()).or_default().push(t.buffer);
    }

    /// Buffers waiting for reuse.
    pub fn idle(&self) -> usize {
        self.free.values().map(Vec::len).sum()
    }
}
