//! Named parameter buffers, the convolution layer that owns them, and their initialisers.

use crate::backend::cpu::{ConvGeom, conv2d_backward, conv2d_forward_into};
use crate::backend::tensor::Tensor;
use rand::Rng;
use rand_distr::{Distribution, Normal, Uniform};

/// One named parameter: its values and the gradient that backward accumulates into.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// Export name, e.g. `backbone.0.weight` or `head.cls.out.bias`.
    pub name: String,
    /// Logical shape: `[Cout, Cin, kh, kw]` for a weight, `[Cout]` for a bias.
    pub shape: Vec<usize>,
    /// The values (a bias is stored as a `[Cout, 1, 1, 1]` tensor).
    pub value: Tensor,
    /// The gradient, same layout as `value`; accumulated by backward, zeroed explicitly.
    pub grad: Tensor,
}

impl Param {
    fn new(name: String, shape: Vec<usize>, t: [usize; 4]) -> Self {
        Self {
            name,
            shape,
            value: Tensor::zeros(t),
            grad: Tensor::zeros(t),
        }
    }

    /// Number of scalar values.
    pub fn len(&self) -> usize {
        self.value.len()
    }

    /// True for an empty parameter.
    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }
}

/// How a convolution's weight (and bias) are drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    /// Normal with this std, bias constant (RetinaNet heads: std 0.01, bias 0 or the prior).
    Normal {
        /// Standard deviation of the weight.
        std: f32,
        /// Value of every bias entry.
        bias: f32,
    },
    /// `kaiming_normal_(mode="fan_out", nonlinearity="relu")`, bias 0 (torchvision VGG/ResNet).
    KaimingNormalFanOut,
    /// `kaiming_uniform_(a=1)`, bias 0 (torchvision `FeaturePyramidNetwork`).
    KaimingUniformA1,
    /// `xavier_uniform`, bias 0 (MMDetection `BFP.init_weights`).
    XavierUniform,
}

/// A 2-D convolution with bias: the only parametrised layer of the detector.
#[derive(Clone, Debug, PartialEq)]
pub struct Conv {
    /// `[Cout, Cin, k, k]`.
    pub weight: Param,
    /// `[Cout]`.
    pub bias: Param,
    /// Stride and padding.
    pub geom: ConvGeom,
}

impl Conv {
    /// A `cin -> cout` convolution with a `k x k` kernel named `name.weight` / `name.bias`,
    /// initialised from `rng` (weight first, then bias).
    pub fn new(
        name: &str,
        cin: usize,
        cout: usize,
        k: usize,
        geom: ConvGeom,
        init: Init,
        rng: &mut impl Rng,
    ) -> Self {
        let mut weight = Param::new(
            format!("{name}.weight"),
            vec![cout, cin, k, k],
            [cout, cin, k, k],
        );
        let mut bias = Param::new(format!("{name}.bias"), vec![cout], [cout, 1, 1, 1]);
        let (fan_in, fan_out) = ((cin * k * k) as f32, (cout * k * k) as f32);
        let w = &mut weight.value.data;
        match init {
            Init::Normal { std, bias: b } => {
                fill_normal(w, std, rng);
                bias.value.data.fill(b);
            }
            Init::KaimingNormalFanOut => fill_normal(w, (2.0 / fan_out).sqrt(), rng),
            Init::KaimingUniformA1 => fill_uniform(w, (3.0 / fan_in).sqrt(), rng),
            Init::XavierUniform => fill_uniform(w, (6.0 / (fan_in + fan_out)).sqrt(), rng),
        }
        Self { weight, bias, geom }
    }

    /// Output channels.
    pub fn cout(&self) -> usize {
        self.weight.shape[0]
    }

    /// `y = conv(x) + b`, into `y` (memory reused).
    pub fn forward(&self, x: &Tensor, y: &mut Tensor) {
        conv2d_forward_into(
            x,
            &self.weight.value,
            Some(&self.bias.value.data),
            self.geom,
            y,
        );
    }

    /// Accumulates the weight and bias gradients, and `dx` when given.
    pub fn backward(&mut self, x: &Tensor, dy: &Tensor, dx: Option<&mut Tensor>) {
        conv2d_backward(
            x,
            &self.weight.value,
            dy,
            self.geom,
            dx,
            &mut self.weight.grad,
            Some(&mut self.bias.grad.data),
        );
    }
}

fn fill_normal(v: &mut [f32], std: f32, rng: &mut impl Rng) {
    let d = Normal::new(0.0f32, std).expect("finite std");
    v.iter_mut().for_each(|x| *x = d.sample(rng));
}

fn fill_uniform(v: &mut [f32], bound: f32, rng: &mut impl Rng) {
    let d = Uniform::new_inclusive(-bound, bound).expect("finite bound");
    v.iter_mut().for_each(|x| *x = d.sample(rng));
}
