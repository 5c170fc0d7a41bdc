//! The detector's layers, its parameters in export order, and its initialisation.

use super::config::ModelConfig;
use super::param::{Conv, Init, Param};
use crate::backend::Backend;
use crate::backend::cpu::{ConvGeom, Cpu};
use crate::backend::tensor::Tensor;
use crate::losses::classification::prior_bias;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Activations kept by forward for backward (buffers reused from step to step), as tensors
/// `T` and max-pool indices `I` of a backend.
#[derive(Clone, Debug)]
pub(super) struct Acts<T, I> {
    /// A copy of the input batch (the first convolution's backward reads it).
    pub input: T,
    /// Backbone stage outputs `C_1 ..`, after ReLU.
    pub stages: Vec<T>,
    /// FPN: lateral conv plus the upsampled coarser level, per level.
    pub inner: Vec<T>,
    /// FPN outputs `P_l`.
    pub pyr: Vec<T>,
    /// Balanced pyramid: mean of the levels rescaled to the refine level.
    pub bsf: T,
    /// Balanced pyramid: `relu(conv(bsf))`.
    pub refined: T,
    /// Balanced pyramid: max-pool winners, gather (levels finer than the refine level).
    pub gather_idx: Vec<I>,
    /// Balanced pyramid: max-pool winners, scatter (levels coarser than the refine level).
    pub scatter_idx: Vec<I>,
    /// Balanced pyramid: head inputs `P_l + residual_l` (empty without it).
    pub feats: Vec<T>,
    /// Hidden head activations (after ReLU), per level then per head conv.
    pub cls_h: Vec<Vec<T>>,
    /// Same for the box head.
    pub reg_h: Vec<Vec<T>>,
    /// True once a forward has filled the buffers.
    pub ready: bool,
}

impl<T, I> Acts<T, I> {
    /// Empty buffers on `be`.
    fn new_on<B: Backend<Buf = T, Idx = I>>(be: &mut B) -> Self {
        Self {
            input: be.zeros([0; 4]),
            stages: Vec::new(),
            inner: Vec::new(),
            pyr: Vec::new(),
            bsf: be.zeros([0; 4]),
            refined: be.zeros([0; 4]),
            gather_idx: Vec::new(),
            scatter_idx: Vec::new(),
            feats: Vec::new(),
            cls_h: Vec::new(),
            reg_h: Vec::new(),
            ready: false,
        }
    }
}

/// Gradient buffers used by backward (reused from step to step).
#[derive(Clone, Debug)]
pub(super) struct Scratch<T> {
    /// Gradient of each head input (then of each `P_l`).
    pub dfeat: Vec<T>,
    /// Ping-pong buffers for the hidden head layers.
    pub dh: [T; 2],
    /// Gradient of each FPN inner map.
    pub dinner: Vec<T>,
    /// Gradient of each backbone stage output.
    pub dstage: Vec<T>,
    /// Balanced pyramid: gradients of `bsf` and of `refined`.
    pub dbsf: T,
    /// See `dbsf`.
    pub drefined: T,
    /// Gradient of the input batch (filled only by [`Model::backward_with_input_on`]).
    pub dinput: T,
}

impl<T> Scratch<T> {
    /// Empty buffers on `be`.
    fn new_on<B: Backend<Buf = T>>(be: &mut B) -> Self {
        Self {
            dfeat: Vec::new(),
            dh: [be.zeros([0; 4]), be.zeros([0; 4])],
            dinner: Vec::new(),
            dstage: Vec::new(),
            dbsf: be.zeros([0; 4]),
            drefined: be.zeros([0; 4]),
            dinput: be.zeros([0; 4]),
        }
    }
}

/// The RetinaNet-style detector: parameters, and the activations of the last forward, as
/// tensors `T` and max-pool indices `I` of a backend. `Model` (the defaults) lives on the
/// CPU; [`Model::to_backend`] makes a copy on another backend (e.g. the GPU).
#[derive(Clone, Debug)]
pub struct Model<T = Tensor, I = Vec<u32>> {
    pub(super) config: ModelConfig,
    pub(super) backbone: Vec<Conv<T>>,
    pub(super) lateral: Vec<Conv<T>>,
    pub(super) output: Vec<Conv<T>>,
    pub(super) refine: Option<Conv<T>>,
    /// Classification head: `head_convs` 3x3 convs, then the output conv.
    pub(super) cls: Vec<Conv<T>>,
    /// Box head, same structure.
    pub(super) reg: Vec<Conv<T>>,
    pub(super) acts: Acts<T, I>,
    pub(super) scratch: Scratch<T>,
}

impl Model {
    /// Builds and initialises the model from `seed` (ChaCha8), after validating `config`.
    ///
    /// Initialisation, layer by layer in export order from one generator:
    /// - backbone: `kaiming_normal_(mode="fan_out", nonlinearity="relu")`, bias 0 (torchvision's
    ///   init for its plain conv stacks, VGG, and for ResNet convs);
    /// - FPN lateral and output convs: `kaiming_uniform_(a=1)`, bias 0 (torchvision FPN);
    /// - balanced pyramid refine conv: xavier uniform, bias 0 (MMDetection BFP);
    /// - heads (torchvision RetinaNet): normal std 0.01, bias 0, except the classification
    ///   output bias `prior_bias(prior_prob)` = -4.59512 for pi = 0.01.
    pub fn new(config: &ModelConfig, seed: u64) -> Result<Self, String> {
        config.validate()?;
        let rng = &mut ChaCha8Rng::seed_from_u64(seed);
        let c = config;
        let (s2, s1, p1) = (
            ConvGeom::new(2, 1),
            ConvGeom::new(1, 1),
            ConvGeom::new(1, 0),
        );
        let mut cin = c.in_channels;
        let mut backbone = Vec::new();
        for (i, &cout) in c.backbone_channels.iter().enumerate() {
            let name = format!("backbone.{i}");
            backbone.push(Conv::new(
                &name,
                cin,
                cout,
                3,
                s2,
                Init::KaimingNormalFanOut,
                rng,
            ));
            cin = cout;
        }
        let f = c.fpn_channels;
        let fpn_in = &c.backbone_channels[c.first_level - 1..];
        let lateral = (fpn_in.iter().enumerate())
            .map(|(l, &ci)| {
                let name = format!("fpn.lateral.{l}");
                Conv::new(&name, ci, f, 1, p1, Init::KaimingUniformA1, rng)
            })
            .collect();
        let output = (0..fpn_in.len())
            .map(|l| {
                let name = format!("fpn.output.{l}");
                Conv::new(&name, f, f, 3, s1, Init::KaimingUniformA1, rng)
            })
            .collect();
        let refine = c
            .balanced_fpn
            .then(|| Conv::new("bfp.refine", f, f, 3, s1, Init::XavierUniform, rng));
        let prior = prior_bias(c.prior_prob) as f32;
        let mut head = |kind: &str, outs: usize, bias: f32| -> Vec<Conv> {
            let hidden = Init::Normal {
                std: 0.01,
                bias: 0.0,
            };
            let mut v: Vec<Conv> = (0..c.head_convs)
                .map(|j| Conv::new(&format!("head.{kind}.{j}"), f, f, 3, s1, hidden, rng))
                .collect();
            let init = Init::Normal { std: 0.01, bias };
            v.push(Conv::new(
                &format!("head.{kind}.out"),
                f,
                outs,
                3,
                s1,
                init,
                rng,
            ));
            v
        };
        let cls = head("cls", c.num_anchors * c.num_classes, prior);
        let reg = head("reg", c.num_anchors * 4, 0.0);
        Ok(Self {
            config: config.clone(),
            backbone,
            lateral,
            output,
            refine,
            cls,
            reg,
            acts: Acts::new_on(&mut Cpu),
            scratch: Scratch::new_on(&mut Cpu),
        })
    }

    /// A copy of the parameters on backend `be` (gradients zeroed, no activations).
    pub fn to_backend<B: Backend>(&self, be: &mut B) -> Model<B::Buf, B::Idx> {
        let mut conv = |v: &[Conv]| v.iter().map(|c| c.to_backend(be)).collect::<Vec<_>>();
        let (backbone, lateral, output) = (
            conv(&self.backbone),
            conv(&self.lateral),
            conv(&self.output),
        );
        let (cls, reg) = (conv(&self.cls), conv(&self.reg));
        let refine = self.refine.as_ref().map(|c| c.to_backend(be));
        Model {
            config: self.config.clone(),
            backbone,
            lateral,
            output,
            refine,
            cls,
            reg,
            acts: Acts::new_on(be),
            scratch: Scratch::new_on(be),
        }
    }

    /// Copies the parameter values of `other` (the same model on backend `be`) into this one.
    pub fn copy_values_from<B: Backend>(&mut self, be: &mut B, other: &Model<B::Buf, B::Idx>) {
        for (dst, src) in self.params_mut().zip(other.params()) {
            assert_eq!(dst.name, src.name, "model: parameter order");
            dst.value = be.download(&src.value);
        }
    }

    /// Copies this model's parameter values into `other` (the same model on backend `be`).
    pub fn upload_values_to<B: Backend>(&self, be: &mut B, other: &mut Model<B::Buf, B::Idx>) {
        for (src, dst) in self.params().zip(other.params_mut()) {
            assert_eq!(dst.name, src.name, "model: parameter order");
            be.upload(&src.value, &mut dst.value);
        }
    }

    /// Sets every gradient to zero (backward accumulates).
    pub fn zero_grad(&mut self) {
        self.zero_grad_on(&mut Cpu);
    }
}

impl<T, I> Model<T, I> {
    /// The settings the model was built with.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// Every convolution in export order: backbone, FPN lateral, FPN output, balanced
    /// pyramid refine, classification head, box head.
    pub fn convs(&self) -> impl Iterator<Item = &Conv<T>> {
        (self.backbone.iter())
            .chain(&self.lateral)
            .chain(&self.output)
            .chain(&self.refine)
            .chain(&self.cls)
            .chain(&self.reg)
    }

    /// Mutable [`Model::convs`].
    pub fn convs_mut(&mut self) -> impl Iterator<Item = &mut Conv<T>> {
        (self.backbone.iter_mut())
            .chain(&mut self.lateral)
            .chain(&mut self.output)
            .chain(&mut self.refine)
            .chain(&mut self.cls)
            .chain(&mut self.reg)
    }

    /// Every parameter in export order (each conv's weight, then its bias).
    pub fn params(&self) -> impl Iterator<Item = &Param<T>> {
        self.convs().flat_map(|c| [&c.weight, &c.bias])
    }

    /// Mutable [`Model::params`] (for the optimizer and for loading checkpoints).
    pub fn params_mut(&mut self) -> impl Iterator<Item = &mut Param<T>> {
        self.convs_mut().flat_map(|c| [&mut c.weight, &mut c.bias])
    }

    /// The parameter called `name`, if any.
    pub fn param(&self, name: &str) -> Option<&Param<T>> {
        self.params().find(|p| p.name == name)
    }

    /// Total number of scalar parameters (560,543 for the default config).
    pub fn param_count(&self) -> usize {
        self.params().map(|p| p.len()).sum()
    }

    /// Sets every gradient to zero on backend `be` (backward accumulates).
    pub fn zero_grad_on<B: Backend<Buf = T>>(&mut self, be: &mut B) {
        self.params_mut().for_each(|p| be.zero(&mut p.grad));
    }

    /// Number of pyramid levels.
    pub fn num_levels(&self) -> usize {
        self.lateral.len()
    }
}
