//! Layer normalization.

use crate::{impl_parameters, Context, Module, Parameter};
use autograd::Var;
use tensor::{DType, Result, Tensor};

/// `y = (x − μ)/√(σ² + ε)·γ + β` over the last axis (fused kernel, fused backward).
pub struct LayerNorm {
    /// `γ`, initialized to ones.
    pub weight: Parameter,
    /// `β`, initialized to zeros.
    pub bias: Parameter,
    pub eps: f64,
}

impl_parameters!(LayerNorm { weight, bias });

impl LayerNorm {
    /// The reference's epsilon.
    pub const DEFAULT_EPS: f64 = 1e-6;

    pub fn new(features: usize, eps: f64, dtype: DType) -> Self {
        LayerNorm {
            weight: Parameter::new(Tensor::ones(&[features], dtype)),
            bias: Parameter::new(Tensor::zeros(&[features], dtype)),
            eps,
        }
    }
}

impl Module for LayerNorm {
    fn forward(&self, x: &Var, _ctx: &mut Context) -> Result<Var> {
        x.layer_norm(&self.weight.var(), &self.bias.var(), self.eps)
    }
}
