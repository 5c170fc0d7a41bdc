//! Compute backends for training: the CPU reference (rayon + GEMM) and wgpu compute.
//!
//! [`Backend`] is the set of ops the detector's forward and backward passes, the per-anchor
//! loss kernels ([`head_loss`]) and the optimizer need. The model graph
//! (`model::Model`, a layer above) is written once against it;
//! [`cpu::Cpu`] runs each op immediately, [`gpu::GpuBackend`] records it into a command
//! encoder that is submitted at the next read (so a whole step is a few submissions).
//! Conventions of both: forward ops overwrite (or add into, where the name says so) their
//! outputs; backward ops ACCUMULATE into gradient buffers, which the caller zeroes.

pub mod conv_geom;
pub mod cpu;
#[cfg(feature = "gpu")]
pub mod gpu;
pub mod head_loss;
pub mod optim_config;
pub mod tensor;

pub use conv_geom::{ConvGeom, conv2d_out_size};
use head_loss::{AnchorTargets, HeadLevel, HeadLossSpec};
pub use optim_config::{AdamWConfig, SgdConfig};
use tensor::Tensor;

/// The ops training needs, over the backend's own tensor type [`Backend::Buf`].
///
/// Every buffer carries an NCHW shape; outputs are resized by the op where a shape follows
/// from the inputs (convolution) and must have the right shape otherwise (resizes, adds).
pub trait Backend {
    /// A dense `f32` tensor living on this backend.
    type Buf;
    /// Winner indices of an adaptive max pool (one per output element).
    type Idx;
    /// A step's per-anchor targets for [`Backend::head_loss`].
    type Targets;

    /// A short name for logs and metrics ("cpu", "gpu").
    fn name(&self) -> &'static str;
    /// The device, for the UI and the logs ("cpu", or "gpu: " and the adapter).
    fn device_name(&self) -> String {
        self.name().to_string()
    }
    /// Whether a training step should evaluate the losses [`HeadLossSpec`] covers with
    /// [`Backend::head_loss`] on this backend (a "fused" step: the head outputs never leave
    /// it) rather than on the host objective, which covers every loss and sampler. True
    /// where moving the head outputs to the host costs a transfer (the GPU); false where they
    /// already are in host memory (the CPU, whose host objective is the reference).
    fn runs_loss_kernels(&self) -> bool;
    /// Starts the recorded work without waiting for it (no-op on a synchronous backend).
    fn submit(&mut self) {}
    /// A tensor of `shape`, zeroed.
    fn zeros(&mut self, shape: [usize; 4]) -> Self::Buf;
    /// An empty index buffer.
    fn empty_idx(&mut self) -> Self::Idx;
    /// The shape of `b`.
    fn shape(b: &Self::Buf) -> [usize; 4];
    /// Gives `b` the shape `shape`, reusing its memory when the size allows (contents
    /// unspecified afterwards).
    fn resize(&mut self, b: &mut Self::Buf, shape: [usize; 4]);
    /// Sets every value of `b` to zero.
    fn zero(&mut self, b: &mut Self::Buf);
    /// `dst = src` (resized to `src`'s shape).
    fn copy(&mut self, src: &Self::Buf, dst: &mut Self::Buf);
    /// `dst[dst_at .. dst_at + len] = src[src_at .. src_at + len]` (flat indices, no resize).
    fn copy_range(
        &mut self,
        src: &Self::Buf,
        src_at: usize,
        dst: &mut Self::Buf,
        dst_at: usize,
        len: usize,
    );
    /// `dst = t` (resized to `t`'s shape).
    fn upload(&mut self, t: &Tensor, dst: &mut Self::Buf);
    /// The values of `b` (waits for pending work on an asynchronous backend).
    fn download(&mut self, b: &Self::Buf) -> Tensor;

    /// `y = conv(x, w) + b`, `y` resized to `[N, Cout, Ho, Wo]`.
    fn conv2d_forward(
        &mut self,
        x: &Self::Buf,
        w: &Self::Buf,
        b: Option<&Self::Buf>,
        g: ConvGeom,
        y: &mut Self::Buf,
    );
    /// [`Backend::conv2d_forward`] and then [`Backend::relu_inplace`] on `y`.
    fn conv2d_forward_relu(
        &mut self,
        x: &Self::Buf,
        w: &Self::Buf,
        b: Option<&Self::Buf>,
        g: ConvGeom,
        y: &mut Self::Buf,
    ) {
        self.conv2d_forward(x, w, b, g, y);
        self.relu_inplace(y);
    }
    /// Backward of [`Backend::conv2d_forward`]: `dx += ..` (when given), `dw += ..`, `db += ..`.
    #[allow(clippy::too_many_arguments)]
    fn conv2d_backward(
        &mut self,
        x: &Self::Buf,
        w: &Self::Buf,
        dy: &Self::Buf,
        g: ConvGeom,
        dx: Option<&mut Self::Buf>,
        dw: &mut Self::Buf,
        db: &mut Self::Buf,
    );
    /// Backward of [`Backend::conv2d_forward`] through the in-place ReLU whose output is the
    /// input `x`: `dx` resized to `x`'s shape and WRITTEN as the input gradient where
    /// `x > 0`, 0 elsewhere; `dw += ..`, `db += ..`. By default: zero, backward, mask.
    #[allow(clippy::too_many_arguments)]
    fn conv2d_backward_relu_input(
        &mut self,
        x: &Self::Buf,
        w: &Self::Buf,
        dy: &Self::Buf,
        g: ConvGeom,
        dx: &mut Self::Buf,
        dw: &mut Self::Buf,
        db: &mut Self::Buf,
    ) {
        self.resize(dx, Self::shape(x));
        self.zero(dx);
        self.conv2d_backward(x, w, dy, g, Some(&mut *dx), dw, db);
        self.relu_mask(x, dx);
    }
    /// `x = max(x, 0)`.
    fn relu_inplace(&mut self, x: &mut Self::Buf);
    /// Backward of an in-place ReLU, in place: `dy = 0` where the output `y <= 0`.
    fn relu_mask(&mut self, y: &Self::Buf, dy: &mut Self::Buf);
    /// `dst += alpha * src` (same shapes).
    fn add_scaled(&mut self, dst: &mut Self::Buf, src: &Self::Buf, alpha: f32);
    /// `x *= alpha`.
    fn scale(&mut self, x: &mut Self::Buf, alpha: f32);
    /// `dst += alpha * nearest_resize(x)` to `dst`'s height and width (PyTorch `nearest`).
    fn nearest_add(&mut self, x: &Self::Buf, dst: &mut Self::Buf, alpha: f32);
    /// Backward of a nearest resize from `dx`'s size to `dy`'s: `dx += ..`.
    fn nearest_backward(&mut self, dy: &Self::Buf, dx: &mut Self::Buf);
    /// `dst += alpha * adaptive_max_pool(x)` to `dst`'s size; the winners go to `idx`.
    fn max_pool_add(&mut self, x: &Self::Buf, dst: &mut Self::Buf, alpha: f32, idx: &mut Self::Idx);
    /// Backward of [`Backend::max_pool_add`] (with alpha 1): `dx[winner] += dy`.
    fn max_pool_backward(&mut self, dy: &Self::Buf, idx: &Self::Idx, dx: &mut Self::Buf);

    /// Puts a step's per-anchor targets on the backend (reusing `dst` when the size fits).
    fn set_targets(&mut self, t: &AnchorTargets, dst: &mut Option<Self::Targets>);
    /// Floats the `partials` buffer of [`Backend::head_loss`] needs for `n_anchors` anchors.
    fn loss_partials_len(&self, n_anchors: usize) -> usize;
    /// The per-anchor loss kernels on one pyramid level (see [`head_loss::head_loss_cpu`]):
    /// OVERWRITE `grad_cls` / `grad_reg` (resized like `cls` / `reg`) with the weighted loss
    /// gradients times `scale = (gc, gr)`, and write 5 partial values per anchor.
    #[allow(clippy::too_many_arguments)]
    fn head_loss(
        &mut self,
        spec: &HeadLossSpec,
        level: &HeadLevel,
        cls: &Self::Buf,
        reg: &Self::Buf,
        targets: &Self::Targets,
        grad_cls: &mut Self::Buf,
        grad_reg: &mut Self::Buf,
        partials: &mut Self::Buf,
        scale: (f32, f32),
    );
    /// Sums the partial columns of `n_anchors` anchors into `out[offset .. offset + 5]`.
    fn loss_sums(
        &mut self,
        partials: &Self::Buf,
        n_anchors: usize,
        out: &mut Self::Buf,
        offset: usize,
    );

    /// Global L2 norm of `grads`, then scales them so it is at most `max_norm` (PyTorch
    /// `clip_grad_norm_`; a non-finite norm leaves them). Writes the squared norm before
    /// clipping into `sumsq[0]` (a one-element buffer: read it when needed).
    fn clip_grad_norm(
        &mut self,
        grads: &mut [&mut Self::Buf],
        max_norm: f32,
        sumsq: &mut Self::Buf,
    );
    /// One SGD step (momentum, L2 weight decay; PyTorch semantics).
    fn sgd_step(&mut self, p: &mut Self::Buf, g: &Self::Buf, v: &mut Self::Buf, cfg: &SgdConfig);
    /// One AdamW step; `t` counts from 1.
    #[allow(clippy::too_many_arguments)]
    fn adamw_step(
        &mut self,
        p: &mut Self::Buf,
        g: &Self::Buf,
        m: &mut Self::Buf,
        v: &mut Self::Buf,
        t: u32,
        cfg: &AdamWConfig,
    );
}
