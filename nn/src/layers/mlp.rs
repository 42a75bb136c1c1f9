//! The transformer's feed-forward block.

use super::{Dropout, Linear, LinearInit};
use crate::{impl_parameters, Context, Module};
use autograd::Var;
use tensor::{DType, Result, Rng};

/// `fc2(dropout(gelu(fc1(x))))`, followed by dropout (tanh-form GELU, as the reference).
///
/// ```
/// use autograd::Var;
/// use nn::layers::Mlp;
/// use nn::{Context, Module, Parameters};
/// use tensor::{DType, Tensor};
/// let mlp = Mlp::new(4, 8, 0.0, DType::F64, &mut tensor::rng(0));
/// let x = Var::constant(Tensor::randn(&[2, 5, 4], 0.0, 1.0, DType::F64, &mut tensor::rng(1)));
/// let ctx = &mut Context::eval();
/// let y = mlp.forward(&x, ctx)?;
/// assert_eq!(y.shape(), [2, 5, 4]);
/// let by_hand = mlp.fc2.forward(&mlp.fc1.forward(&x, ctx)?.gelu()?, ctx)?;
/// assert_eq!(y.value().to_vec_f64()?, by_hand.value().to_vec_f64()?);
/// assert_eq!(mlp.parameter_count(), (4 * 8 + 8) + (8 * 4 + 4));
/// # Ok::<(), tensor::Error>(())
/// ```
pub struct Mlp {
    /// `dim → hidden`.
    pub fc1: Linear,
    /// `hidden → dim`.
    pub fc2: Linear,
    /// Applied after the GELU and after `fc2`.
    pub dropout: Dropout,
}

impl_parameters!(Mlp { fc1, fc2 });

impl Mlp {
    /// `dim → hidden → dim`, Xavier-uniform weights and `N(0, 10⁻¹²)` biases (the reference's).
    pub fn new(dim: usize, hidden: usize, dropout: f64, dtype: DType, rng: &mut Rng) -> Self {
        let init = LinearInit::XavierUniformNormalBias(1e-6);
        Mlp {
            fc1: Linear::new(dim, hidden, init, dtype, rng),
            fc2: Linear::new(hidden, dim, init, dtype, rng),
            dropout: Dropout { rate: dropout },
        }
    }
}

impl Module for Mlp {
    fn forward(&self, x: &Var, ctx: &mut Context) -> Result<Var> {
        let hidden = self
            .dropout
            .forward(&self.fc1.forward(x, ctx)?.gelu()?, ctx)?;
        self.dropout.forward(&self.fc2.forward(&hidden, ctx)?, ctx)
    }
}
