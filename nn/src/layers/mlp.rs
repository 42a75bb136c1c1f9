//! The transformer's feed-forward block.

use super::{Dropout, Linear, LinearInit};
use crate::{impl_parameters, Context, Module};
use autograd::Var;
use tensor::{DType, Result, Rng};

/// `fc2(dropout(gelu(fc1(x))))`, followed by dropout (tanh-form GELU, as the reference).
pub struct Mlp {
    pub fc1: Linear,
    pub fc2: Linear,
    pub dropout: Dropout,
}

impl_parameters!(Mlp { fc1, fc2 });

impl Mlp {
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
