//! Fully connected layer.

use crate::init::{lecun_normal, xavier_uniform};
use crate::{impl_parameters, Context, Module, Parameter};
use autograd::Var;
use tensor::{DType, Result, Rng, Tensor};

/// How a layer's device mismatch names its two sides ([`Tensor::check_kind_against`]).
pub(crate) const INPUT_AND_WEIGHTS: [&str; 2] = ["the input is", "the layer's weights"];

/// How a [`Linear`] layer's weight and bias start.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LinearInit {
    /// Xavier-uniform weight, zero bias (attention projections).
    XavierUniform,
    /// Xavier-uniform weight, bias `N(0, std²)` (the reference MLP uses std 1e-6); [`Linear::new`]
    /// panics, naming the value, on a negative or non-finite std.
    XavierUniformNormalBias(f64),
    /// LeCun-normal weight, zero bias (image classification heads).
    LecunNormal,
    /// All zeros (video and audio classification heads).
    Zeros,
}

/// `y = x·Wᵀ + b` over the last axis, with `W` of shape `[out, in]` (the PyTorch layout).
///
/// ```
/// use autograd::Var;
/// use nn::layers::{Linear, LinearInit};
/// use nn::{Context, Module, Parameters};
/// use tensor::{DType, Tensor};
/// let mut layer = Linear::new(2, 3, LinearInit::Zeros, DType::F64, &mut tensor::rng(0));
/// layer.weight.set_value(Tensor::from_f64s(&[1.0, 0.0, 0.0, 1.0, 1.0, 1.0], &[3, 2], DType::F64)?);
/// layer.bias.set_value(Tensor::from_f64s(&[0.0, 0.0, 10.0], &[3], DType::F64)?);
/// let x = Var::constant(Tensor::from_f64s(&[2.0, 3.0], &[1, 2], DType::F64)?);
/// let y = layer.forward(&x, &mut Context::eval())?;
/// assert_eq!(y.value().to_vec_f64()?, [2.0, 3.0, 15.0]);
/// let names: Vec<String> = layer.named_parameters().into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names, ["weight", "bias"]);
/// // Any leading axes: [2, 5, 2] → [2, 5, 3]; a wrong width is an error naming both.
/// let tokens = Var::constant(Tensor::zeros(&[2, 5, 2], DType::F64));
/// assert_eq!(layer.forward(&tokens, &mut Context::eval())?.shape(), [2, 5, 3]);
/// let wide = Var::constant(Tensor::zeros(&[1, 4], DType::F64));
/// let err = layer.forward(&wide, &mut Context::eval()).err().unwrap().to_string();
/// assert!(err.contains("4 features, the layer expects 2"), "{err}");
/// # Ok::<(), tensor::Error>(())
/// ```
pub struct Linear {
    /// `W`, `[out, in]`.
    pub weight: Parameter,
    /// `b`, `[out]`.
    pub bias: Parameter,
}

impl_parameters!(Linear { weight, bias });

impl Linear {
    /// A `[outputs, inputs]` weight and an `[outputs]` bias, initialized as `init` says.
    pub fn new(
        inputs: usize,
        outputs: usize,
        init: LinearInit,
        dtype: DType,
        rng: &mut Rng,
    ) -> Self {
        let weight = match init {
            LinearInit::XavierUniform | LinearInit::XavierUniformNormalBias(_) => {
                xavier_uniform(outputs, inputs, dtype, rng)
            }
            LinearInit::LecunNormal => lecun_normal(outputs, inputs, dtype, rng),
            LinearInit::Zeros => Tensor::zeros(&[outputs, inputs], dtype),
        };
        let bias = match init {
            LinearInit::XavierUniformNormalBias(std) => {
                Tensor::randn(&[outputs], 0.0, std, dtype, rng)
            }
            _ => Tensor::zeros(&[outputs], dtype),
        };
        Linear {
            weight: Parameter::new(weight),
            bias: Parameter::new(bias),
        }
    }

    /// The width of the input's last axis.
    pub fn in_features(&self) -> usize {
        self.weight.shape()[1]
    }

    /// The width of the output's last axis.
    pub fn out_features(&self) -> usize {
        self.weight.shape()[0]
    }
}

impl Module for Linear {
    /// Leading axes are folded into one, so a `[B, N, in]` input is a single `[B·N, in]` GEMM
    /// (one large product runs much faster than B small ones). The transposed weight is a view.
    fn forward(&self, x: &Var, _ctx: &mut Context) -> Result<Var> {
        let shape = x.shape().to_vec();
        let Some((&features, lead)) = shape.split_last() else {
            return Err(tensor::Error::shape("linear", "input is a scalar"));
        };
        if self.weight.shape().len() != 2 {
            return Err(tensor::Error::shape(
                "linear",
                format!(
                    "weight {:?} is not an [out, in] matrix",
                    self.weight.shape()
                ),
            ));
        }
        x.value()
            .check_kind_against("linear", self.weight.value(), INPUT_AND_WEIGHTS)?;
        if features != self.in_features() {
            return Err(tensor::Error::shape(
                "linear",
                format!(
                    "input {:?} has {features} features, the layer expects {}",
                    shape,
                    self.in_features()
                ),
            ));
        }
        let rows: usize = lead.iter().product();
        let y = x
            .reshape(&[rows, features])?
            .matmul(&self.weight.var().transpose(0, 1)?)?
            .add(&self.bias.var())?;
        let out_shape: Vec<usize> = lead.iter().copied().chain([self.out_features()]).collect();
        y.reshape(&out_shape)
    }
}
