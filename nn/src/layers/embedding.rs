//! Embeddings: a table of vectors looked up by id.

use crate::{impl_parameters, Context, Module, Parameter};
use autograd::Var;
use tensor::{DType, Result, Rng, Tensor};

/// A table of `count` vectors of width `dim`, looked up by id (PyTorch's `nn.Embedding`):
/// `y[.., :] = weight[ids[..], :]`, of shape `ids.shape() + [dim]`; the gradient of a row of
/// the table is the sum of the output gradients at the positions that picked it (the
/// scatter-add of [`Var::index_select`]).
///
/// The ids are a tensor of whole numbers below `count` (of either float type, on any device:
/// they are read on the host once per call), as [`Tensor::argmax`] returns them; as a
/// [`Module`], the input `Var`'s value is the ids (no gradient flows to them). A table of more
/// than 2²⁴ rows needs f64 ids, since f32 holds whole numbers exactly only up to 2²⁴.
///
/// PyTorch's options are not offered: no `padding_idx` (every row looked up gets its gradient),
/// no `max_norm` (rows are never renormalized), no `scale_grad_by_freq`, no sparse gradients.
///
/// ```
/// use autograd::Var;
/// use nn::layers::Embedding;
/// use nn::{Context, Module};
/// use tensor::{DType, Tensor};
/// let mut table = Embedding::new(3, 2, DType::F64, &mut tensor::rng(0));
/// table.weight.set_value(Tensor::from_f64s(&[0.0, 1.0, 10.0, 11.0, 20.0, 21.0], &[3, 2], DType::F64)?);
/// let ids = Tensor::from_f64s(&[2.0, 2.0, 0.0], &[1, 3], DType::F32)?;
/// let y = table.lookup(&ids)?;
/// assert_eq!(y.shape(), [1, 3, 2]);
/// assert_eq!(y.value().to_vec_f64()?, [20.0, 21.0, 20.0, 21.0, 0.0, 1.0]);
/// let grads = y.sum_all()?.backward()?;
/// assert_eq!(grads.get(table.weight.leaf()).unwrap().to_vec_f64()?, [1.0, 1.0, 0.0, 0.0, 2.0, 2.0]);
/// // The same as a module, and an id past the table is an error naming it.
/// let y2 = table.forward(&Var::constant(ids), &mut Context::eval())?;
/// assert_eq!(y2.value().to_vec_f64()?, y.value().to_vec_f64()?);
/// let err = table.lookup(&Tensor::from_f64s(&[3.0], &[1], DType::F32)?).err().unwrap();
/// assert!(err.to_string().contains("index 3 at [0]"), "{err}");
/// # Ok::<(), tensor::Error>(())
/// ```
pub struct Embedding {
    /// The table, `[count, dim]`.
    pub weight: Parameter,
}

impl_parameters!(Embedding { weight });

/// 2²⁴: every whole number up to it is an f32, 2²⁴ + 1 is not.
const F32_EXACT_WHOLE_NUMBERS: usize = 1 << 24;

impl Embedding {
    /// A `[count, dim]` table drawn from `N(0, 1)` (PyTorch's initialization).
    pub fn new(count: usize, dim: usize, dtype: DType, rng: &mut Rng) -> Self {
        Embedding {
            weight: Parameter::new(Tensor::randn(&[count, dim], 0.0, 1.0, dtype, rng)),
        }
    }

    /// The vectors of `ids`, stacked in `ids`' shape: `ids.shape() + [dim]`.
    pub fn lookup(&self, ids: &Tensor) -> Result<Var> {
        let &[count, dim] = self.weight.shape() else {
            return Err(tensor::Error::shape(
                "embedding",
                format!(
                    "weight {:?} is not a [count, dim] table",
                    self.weight.shape()
                ),
            ));
        };
        if ids.dtype() == DType::F32 && count > F32_EXACT_WHOLE_NUMBERS {
            return Err(tensor::Error::invalid(
                "embedding",
                format!(
                    "a table of {count} rows needs f64 ids: f32 ids are exact only up to \
                     {F32_EXACT_WHOLE_NUMBERS}"
                ),
            ));
        }
        let rows = ids.to_indices("embedding", count, &self.weight.value().device())?;
        let shape: Vec<usize> = ids.shape().iter().copied().chain([dim]).collect();
        self.weight.var().index_select(0, &rows)?.reshape(&shape)
    }
}

impl Module for Embedding {
    /// [`Embedding::lookup`] of the ids `x` holds.
    fn forward(&self, x: &Var, _ctx: &mut Context) -> Result<Var> {
        self.lookup(x.value())
    }
}
