//! The `Module` trait and the forward-pass context.

use crate::Parameters;
use autograd::Var;
use tensor::Result;

/// What a forward pass needs besides its input: training or evaluation mode, and the random
/// generator that dropout and stochastic depth draw from (seeded, so runs repeat exactly).
pub struct Context {
    pub train: bool,
    pub rng: tensor::Rng,
}

impl Context {
    /// Training mode: dropout and stochastic depth are active.
    pub fn train(seed: u64) -> Self {
        Context {
            train: true,
            rng: tensor::rng(seed),
        }
    }

    /// Evaluation mode: every layer is deterministic.
    pub fn eval() -> Self {
        Context {
            train: false,
            rng: tensor::rng(0),
        }
    }
}

/// A layer or model: parameters plus a forward pass from one value to another.
pub trait Module: Parameters {
    fn forward(&self, x: &Var, ctx: &mut Context) -> Result<Var>;
}
