//! Fully connected layer.

use crate::init::{lecun_normal, xavier_uniform};
use crate::{impl_parameters, Context, Module, Parameter};
use autograd::Var;
use tensor::{DType, Result, Rng, Tensor};

/// How a [`Linear`] layer's weight and bias start.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LinearInit {
    /// Xavier-uniform weight, zero bias (attention projections).
    XavierUniform,
    /// Xavier-uniform weight, bias `N(0, std²)` (the reference MLP uses std 1e-6).
    XavierUniformNormalBias(f64),
    /// LeCun-normal weight, zero bias (image classification heads).
    LecunNormal,
    /// All zeros (video and audio classification heads).
    Zeros,
}

/// `y = x·Wᵀ + b` over the last axis, with `W` of shape `[out, in]` (the PyTorch layout).
pub struct Linear {
    pub weight: Parameter,
    pub bias: Parameter,
}

impl_parameters!(Linear { weight, bias });

impl Linear {
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

    pub fn in_features(&self) -> usize {
        self.weight.shape()[1]
    }

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
