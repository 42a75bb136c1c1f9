//! Layer normalization.

use super::linear::INPUT_AND_WEIGHTS;
use crate::{impl_parameters, Context, Module, Parameter};
use autograd::Var;
use tensor::{DType, Result, Tensor};

/// `y = (x − μ)/√(σ² + ε)·γ + β` over the last axis (fused kernel, fused backward).
///
/// ```
/// use autograd::Var;
/// use nn::layers::LayerNorm;
/// use nn::{Context, Module};
/// use tensor::{DType, Tensor};
/// let norm = LayerNorm::new(2, 0.0, DType::F64); // γ = 1, β = 0, and no ε here
/// let x = Var::constant(Tensor::from_f64s(&[1.0, 3.0, 10.0, 30.0], &[2, 2], DType::F64)?);
/// // Each row to mean 0 and variance 1.
/// assert_eq!(norm.forward(&x, &mut Context::eval())?.value().to_vec_f64()?, [-1.0, 1.0, -1.0, 1.0]);
/// # Ok::<(), tensor::Error>(())
/// ```
pub struct LayerNorm {
    /// `γ`, initialized to ones.
    pub weight: Parameter,
    /// `β`, initialized to zeros.
    pub bias: Parameter,
    /// `ε`, added to the variance: finite and ≥ 0, or the forward pass is an error.
    pub eps: f64,
}

impl_parameters!(LayerNorm { weight, bias });

impl LayerNorm {
    /// The reference's epsilon, and timm's for its ViTs (the encoder's layers use it);
    /// PyTorch's `nn.LayerNorm` defaults to 1e-5, so a PyTorch model built with the default
    /// needs `LayerNorm::new(features, 1e-5, dtype)` to give the same numbers.
    pub const DEFAULT_EPS: f64 = 1e-6;

    /// `γ = 1`, `β = 0` over `features`.
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
        x.value()
            .check_kind_against("layer_norm", self.weight.value(), INPUT_AND_WEIGHTS)?;
        x.layer_norm(&self.weight.var(), &self.bias.var(), self.eps)
    }
}
