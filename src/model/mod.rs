//! The small RetinaNet-style detector: parameters, initialisation, forward and backward.
//!
//! Architecture ([`ModelConfig::default`] is the tiny RetinaNet of `tests/reference/README.md`,
//! also built in PyTorch by `tests/reference/torch_reference.py`):
//! - backbone: stride-2 3x3 convolutions with ReLU, `C_1 .. C_5` (16-32-64-128-128 channels);
//! - FPN over `C_3 .. C_5` (torchvision `FeaturePyramidNetwork`): 1x1 lateral convs, top-down
//!   nearest resize + add, 3x3 output convs, no activation: `P_3 .. P_5`, strides 8, 16, 32;
//! - optional Balanced Feature Pyramid (Libra R-CNN), see `forward.rs`;
//! - shared heads run on every level: classification `head_convs` x (3x3 conv + ReLU) then a
//!   3x3 conv to `A*C` logits; box regression the same to `A*4` deltas.
//!
//! Parameters are named flat buffers ([`Param`]) in a fixed export order, e.g.
//! `backbone.0.weight`, `fpn.lateral.0.bias`, `fpn.output.2.weight`, `bfp.refine.weight`,
//! `head.cls.1.weight`, `head.cls.out.bias`, `head.reg.out.weight`.
//! Forward keeps its activations (buffers reused between steps); backward accumulates into
//! each parameter's `grad` (llm.c style: zeroing is explicit, [`Model::zero_grad`]).
//! Everything runs on the CPU ops of [`crate::backend::cpu`] and is deterministic.

mod backward;
pub mod bench;
mod config;
mod forward;
pub mod layout;
mod net;
mod param;

#[cfg(test)]
mod gradcheck;
#[cfg(test)]
mod tests;

use crate::backend::tensor::Tensor;

pub use bench::{StepTiming, bench_step};
pub use config::ModelConfig;
pub use layout::{flatten_outputs, unflatten_outputs, unflatten_outputs_into};
pub use net::Model;
pub use param::{Conv, Init, Param};

/// Raw head outputs, one tensor per pyramid level (finest first), on a backend (`T` =
/// [`Tensor`] on the CPU).
#[derive(Clone, Debug, PartialEq)]
pub struct HeadOutputs<T = Tensor> {
    /// Classification logits `[N, A*C, H_l, W_l]`; channel `a*C + c` is class `c` of anchor `a`.
    pub cls: Vec<T>,
    /// Box deltas `[N, A*4, H_l, W_l]`; channel `a*4 + j` is coordinate `j` of anchor `a`.
    pub reg: Vec<T>,
}

impl<T> Default for HeadOutputs<T> {
    fn default() -> Self {
        Self {
            cls: Vec::new(),
            reg: Vec::new(),
        }
    }
}

impl HeadOutputs {
    /// Zeros with the same shapes (a gradient buffer for [`Model::backward`]).
    pub fn zeros_like(&self) -> Self {
        let z = |v: &[Tensor]| v.iter().map(|t| Tensor::zeros(t.shape)).collect();
        Self {
            cls: z(&self.cls),
            reg: z(&self.reg),
        }
    }

    /// Sets every value to zero, keeping the shapes.
    pub fn zero_(&mut self) {
        self.cls
            .iter_mut()
            .chain(&mut self.reg)
            .for_each(Tensor::zero_);
    }
}
