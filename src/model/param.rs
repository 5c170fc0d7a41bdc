//! Named parameter buffers, the convolution layer that owns them, and their initialisers.

use crate::backend::Backend;
use crate::backend::cpu::{ConvGeom, Cpu};
use crate::backend::tensor::Tensor;
use rand::Rng;
use rand_distr::{Distribution, Normal, Uniform};

/// One named parameter: its values and the gradient that backward accumulates into, as
/// tensors of a backend (`T` = [`Tensor`] on the CPU).
#[derive(Clone, Debug, PartialEq)]
pub struct Param<T = Tensor> {
    /// Export name, e.g. `backbone.0.weight` or `head.cls.out.bias`.
    pub name: String,
    /// Logical shape: `[Cout, Cin, kh, kw]` for a weight, `[Cout]` for a bias.
    pub shape: Vec<usize>,
    /// The values (a bias is stored as a `[Cout, 1, 1, 1]` tensor).
    pub value: T,
    /// The gradient, same layout as `value`; accumulated by backward, zeroed explicitly.
    pub grad: T,
}

impl<T> Param<T> {
    /// Number of scalar values.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// True for an empty parameter.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The storage shape of value and grad (a bias is `[Cout, 1, 1, 1]`).
    pub fn tensor_shape(&self) -> [usize; 4] {
        let s = &self.shape;
        [
            s[0],
            *s.get(1).unwrap_or(&1),
            *s.get(2).unwrap_or(&1),
            *s.get(3).unwrap_or(&1),
        ]
    }
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

    /// The same parameter on backend `be` (values copied, gradient zeroed).
    pub fn to_backend<B: Backend>(&self, be: &mut B) -> Param<B::Buf> {
        let mut value = be.zeros(self.value.shape);
        be.upload(&self.value, &mut value);
        Param {
            name: self.name.clone(),
            shape: self.shape.clone(),
            value,
            grad: be.zeros(self.value.shape),
        }
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
pub struct Conv<T = Tensor> {
    /// `[Cout, Cin, k, k]`.
    pub weight: Param<T>,
    /// `[Cout]`.
    pub bias: Param<T>,
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

    /// `y = conv(x) + b` on the CPU, into `y` (memory reused).
    pub fn forward(&self, x: &Tensor, y: &mut Tensor) {
        self.forward_on(&mut Cpu, x, y);
    }

    /// Accumulates the weight and bias gradients, and `dx` when given, on the CPU.
    pub fn backward(&mut self, x: &Tensor, dy: &Tensor, dx: Option<&mut Tensor>) {
        self.backward_on(&mut Cpu, x, dy, dx);
    }

    /// The same layer on backend `be` (values copied, gradients zeroed).
    pub fn to_backend<B: Backend>(&self, be: &mut B) -> Conv<B::Buf> {
        Conv {
            weight: self.weight.to_backend(be),
            bias: self.bias.to_backend(be),
            geom: self.geom,
        }
    }
}

impl<T> Conv<T> {
    /// Output channels.
    pub fn cout(&self) -> usize {
        self.weight.shape[0]
    }

    /// `y = conv(x) + b` on backend `be`, into `y` (resized).
    pub fn forward_on<B: Backend<Buf = T>>(&self, be: &mut B, x: &T, y: &mut T) {
        let (w, b) = (&self.weight.value, &self.bias.value);
        be.conv2d_forward(x, w, Some(b), self.geom, y);
    }

    /// `y = max(conv(x) + b, 0)` on backend `be`, into `y` (resized).
    pub fn forward_relu_on<B: Backend<Buf = T>>(&self, be: &mut B, x: &T, y: &mut T) {
        let (w, b) = (&self.weight.value, &self.bias.value);
        be.conv2d_forward_relu(x, w, Some(b), self.geom, y);
    }

    /// Accumulates the weight and bias gradients, and `dx` when given, on backend `be`.
    pub fn backward_on<B: Backend<Buf = T>>(
        &mut self,
        be: &mut B,
        x: &T,
        dy: &T,
        dx: Option<&mut T>,
    ) {
        let (w, b) = (&mut self.weight, &mut self.bias);
        be.conv2d_backward(x, &w.value, dy, self.geom, dx, &mut w.grad, &mut b.grad);
    }

    /// Backward through this convolution and the in-place ReLU that produced its input `x`:
    /// `dx` is WRITTEN (the input gradient where `x > 0`, else 0); the parameter gradients
    /// accumulate.
    pub fn backward_relu_input_on<B: Backend<Buf = T>>(
        &mut self,
        be: &mut B,
        x: &T,
        dy: &T,
        dx: &mut T,
    ) {
        let (w, b) = (&mut self.weight, &mut self.bias);
        be.conv2d_backward_relu_input(x, &w.value, dy, self.geom, dx, &mut w.grad, &mut b.grad);
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
