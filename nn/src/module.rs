//! The `Module` trait and the forward-pass context.

use crate::Parameters;
use autograd::Var;
use std::ops::Range;
use tensor::Result;

/// What a forward pass needs besides its input: training or evaluation mode, and the random
/// generator that dropout and stochastic depth draw from (seeded, so runs repeat exactly).
pub struct Context {
    /// Training (`true`) or evaluation mode.
    pub train: bool,
    /// The generator of dropout and stochastic-depth masks.
    pub rng: tensor::Rng,
    /// Set when the input holds only some rows of a batch (a data-parallel replica's share):
    /// random masks are then drawn for the whole batch and these rows of them kept, so the
    /// replicas together use exactly the masks of one process computing the whole batch.
    pub batch_rows: Option<BatchRows>,
}

/// Rows `rows` of a batch of `batch` examples (axis 0 of every activation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchRows {
    /// Which rows of the whole batch the input holds, in batch order (not empty, ending at most
    /// at `batch`); axis 0 of each activation covers them, with the same number of entries per row.
    pub rows: Range<usize>,
    /// How many examples the whole batch has: the random masks are drawn for all of them.
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
///
/// ```
/// use autograd::Var;
/// use nn::layers::{Linear, LinearInit};
/// use nn::{impl_parameters, Context, Module};
/// use tensor::{DType, Tensor};
///
/// /// `x + relu(fc(x))`: a layer of one's own, with its parameters named `fc.weight`, `fc.bias`.
/// struct Residual { fc: Linear }
/// impl_parameters!(Residual { fc });
/// impl Module for Residual {
///     fn forward(&self, x: &Var, ctx: &mut Context) -> tensor::Result<Var> {
///         x.add(&self.fc.forward(x, ctx)?.relu()?)
///     }
/// }
///
/// let block = Residual { fc: Linear::new(3, 3, LinearInit::Zeros, DType::F64, &mut tensor::rng(0)) };
/// let x = Var::constant(Tensor::from_f64s(&[1.0, -2.0, 3.0], &[1, 3], DType::F64)?);
/// assert_eq!(block.forward(&x, &mut Context::eval())?.value().to_vec_f64()?, [1.0, -2.0, 3.0]);
/// # Ok::<(), tensor::Error>(())
/// ```
pub trait Module: Parameters {
    /// The layer applied to `x`.
    fn forward(&self, x: &Var, ctx: &mut Context) -> Result<Var>;
}
