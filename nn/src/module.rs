//! The `Module` trait and the forward-pass context.

use crate::Parameters;
use autograd::Var;
use std::ops::Range;
use tensor::Result;

/// What a forward pass needs besides its input: training or evaluation mode, and the random
/// generator that dropout and stochastic depth draw from (seeded, so runs repeat exactly).
pub struct Context {
    pub train: bool,
    pub rng: tensor::Rng,
    /// Set when the input holds only some rows of a batch (a data-parallel replica's share):
    /// random masks are then drawn for the whole batch and these rows of them kept, so the
    /// replicas together use exactly the masks of one process computing the whole batch.
    pub batch_rows: Option<BatchRows>,
}

/// Rows `rows` of a batch of `batch` examples (axis 0 of every activation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchRows {
    pub rows: Range<usize>,
    pub batch: usize,
}

impl Context {
    /// Training mode: dropout and stochastic depth are active.
    pub fn train(seed: u64) -> Self {
        Context {
            train: true,
            rng: tensor::rng(seed),
            batch_rows: None,
        }
    }

    /// Evaluation mode: every layer is deterministic.
    pub fn eval() -> Self {
        Context {
            train: false,
            rng: tensor::rng(0),
            batch_rows: None,
        }
    }
}

/// A layer or model: parameters plus a forward pass from one value to another.
pub trait Module: Parameters {
    fn forward(&self, x: &Var, ctx: &mut Context) -> Result<Var>;
}
