//! The detector's layers, its parameters in export order, and its initialisation.

use super::config::ModelConfig;
use super::param::{Conv, Init, Param};
use crate::backend::cpu::ConvGeom;
use crate::backend::tensor::Tensor;
use crate::losses::classification::prior_bias;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Activations kept by forward for backward (buffers reused from step to step).
#[derive(Clone, Debug, Default)]
pub(super) struct Acts {
    /// A copy of the input batch (the first convolution's backward reads it).
    pub input: Tensor,
    /// Backbone stage outputs `C_1 ..`, after ReLU.
    pub stages: Vec<Tensor>,
    /// FPN: lateral conv plus the upsampled coarser level, per level.
    pub inner: Vec<Tensor>,
    /// FPN outputs `P_l`.
    pub pyr: Vec<Tensor>,
    /// Balanced pyramid: mean of the levels rescaled to the refine level.
    pub bsf: Tensor,
    /// Balanced pyramid: `relu(conv(bsf))`.
    pub refined: Tensor,
    /// Balanced pyramid: max-pool winners, gather (levels finer than the refine level).
    pub gather_idx: Vec<Vec<u32>>,
    /// Balanced pyramid: max-pool winners, scatter (levels coarser than the refine level).
    pub scatter_idx: Vec<Vec<u32>>,
    /// Balanced pyramid: head inputs `P_l + residual_l` (empty without it).
    pub feats: Vec<Tensor>,
    /// Hidden head activations (after ReLU), per level then per head conv.
    pub cls_h: Vec<Vec<Tensor>>,
    /// Same for the box head.
    pub reg_h: Vec<Vec<Tensor>>,
    /// True once a forward has filled the buffers.
    pub ready: bool,
}

/// Gradient buffers used by backward (reused from step to step).
#[derive(Clone, Debug, Default)]
pub(super) struct Scratch {
    /// Gradient of each head input (then of each `P_l`).
    pub dfeat: Vec<Tensor>,
    /// Ping-pong buffers for the hidden head layers.
    pub dh: [Tensor; 2],
    /// Gradient of each FPN inner map.
    pub dinner: Vec<Tensor>,
    /// Gradient of each backbone stage output.
    pub dstage: Vec<Tensor>,
    /// Balanced pyramid: gradients of `bsf` and of `refined`.
    pub dbsf: Tensor,
    /// See `dbsf`.
    pub drefined: Tensor,
}

/// The RetinaNet-style detector: parameters, and the activations of the last forward.
#[derive(Clone, Debug)]
pub struct Model {
    pub(super) config: ModelConfig,
    pub(super) backbone: Vec<Conv>,
    pub(super) lateral: Vec<Conv>,
    pub(super) output: Vec<Conv>,
    pub(super) refine: Option<Conv>,
    /// Classification head: `head_convs` 3x3 convs, then the output conv.
    pub(super) cls: Vec<Conv>,
    /// Box head, same structure.
    pub(super) reg: Vec<Conv>,
    pub(super) acts: Acts,
    pub(super) scratch: Scratch,
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
            acts: Acts::default(),
            scratch: Scratch::default(),
        })
    }

    /// The settings the model was built with.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// Every convolution in export order: backbone, FPN lateral, FPN output, balanced
    /// pyramid refine, classification head, box head.
    pub fn convs(&self) -> impl Iterator<Item = &Conv> {
        (self.backbone.iter())
            .chain(&self.lateral)
            .chain(&self.output)
            .chain(&self.refine)
            .chain(&self.cls)
            .chain(&self.reg)
    }

    /// Mutable [`Model::convs`].
    pub fn convs_mut(&mut self) -> impl Iterator<Item = &mut Conv> {
        (self.backbone.iter_mut())
            .chain(&mut self.lateral)
            .chain(&mut self.output)
            .chain(&mut self.refine)
            .chain(&mut self.cls)
            .chain(&mut self.reg)
    }

    /// Every parameter in export order (each conv's weight, then its bias).
    pub fn params(&self) -> impl Iterator<Item = &Param> {
        self.convs().flat_map(|c| [&c.weight, &c.bias])
    }

    /// Mutable [`Model::params`] (for the optimizer and for loading checkpoints).
    pub fn params_mut(&mut self) -> impl Iterator<Item = &mut Param> {
        self.convs_mut().flat_map(|c| [&mut c.weight, &mut c.bias])
    }

    /// The parameter called `name`, if any.
    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params().find(|p| p.name == name)
    }

    /// Total number of scalar parameters (560,543 for the default config).
    pub fn param_count(&self) -> usize {
        self.params().map(Param::len).sum()
    }

    /// Sets every gradient to zero (backward accumulates).
    pub fn zero_grad(&mut self) {
        self.params_mut().for_each(|p| p.grad.zero_());
    }

    /// Number of pyramid levels.
    pub fn num_levels(&self) -> usize {
        self.lateral.len()
    }
}
