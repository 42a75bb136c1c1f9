//! Multi-head self-attention.

use super::{Dropout, Linear, LinearInit};
use crate::{impl_parameters, Context, Module};
use autograd::Var;
use tensor::{DType, Error, Result, Rng};

/// `softmax(Q·Kᵀ/√d_head)·V` per head, heads concatenated, then an output projection.
/// `qkv` holds the query, key and value projections as one `[3d, d]` weight (timm's layout);
/// each is applied from its own block of rows, and its output read as `[B, N, heads, d_head]`.
///
/// ```
/// use autograd::Var;
/// use nn::layers::MultiHeadSelfAttention;
/// use nn::{Context, Module};
/// use tensor::{DType, Device, Indices, Tensor};
/// let attn = MultiHeadSelfAttention::new(8, 2, 0.0, DType::F64, &mut tensor::rng(0))?;
/// let x = Tensor::randn(&[1, 5, 8], 0.0, 1.0, DType::F64, &mut tensor::rng(1));
/// let y = attn.forward(&Var::constant(x.clone()), &mut Context::eval())?;
/// assert_eq!(y.shape(), [1, 5, 8]);
/// // No positions inside attention: reversing the tokens reverses the outputs.
/// let reverse = Indices::new(&Device::Cpu, &[4, 3, 2, 1, 0])?;
/// let y_rev = attn.forward(&Var::constant(x.index_select(1, &reverse)?), &mut Context::eval())?;
/// let (a, b) = (y.value().index_select(1, &reverse)?.to_vec_f64()?, y_rev.value().to_vec_f64()?);
/// assert!(a.iter().zip(&b).all(|(a, b)| (a - b).abs() < 1e-12));
/// assert!(MultiHeadSelfAttention::new(8, 3, 0.0, DType::F64, &mut tensor::rng(0)).is_err());
/// # Ok::<(), tensor::Error>(())
/// ```
pub struct MultiHeadSelfAttention {
    /// The fused query, key and value projection, `d → 3d`.
    pub qkv: Linear,
    /// The output projection, `d → d`.
    pub proj: Linear,
    /// The number of heads; each sees `d / heads` features.
    pub heads: usize,
    /// Dropout on the attention weights.
    pub attention_dropout: Dropout,
}

impl_parameters!(MultiHeadSelfAttention { qkv, proj });

impl MultiHeadSelfAttention {
    /// Attention over width `dim` split into `heads` heads (an error unless `heads` divides
    /// `dim`), Xavier-uniform projections with zero biases. The fused `qkv` weight is drawn as
    /// one `[3d, d]` matrix (bound `√(6/4d)`), as PyTorch's `MultiheadAttention` and timm draw
    /// it; the JAX reference draws q, k and v as three `[d, d]` matrices (bound `√(6/2d)`), so
    /// its projections start with twice this variance.
    pub fn new(
        dim: usize,
        heads: usize,
        attention_dropout: f64,
        dtype: DType,
        rng: &mut Rng,
    ) -> Result<Self> {
        if heads == 0 || !dim.is_multiple_of(heads) {
            return Err(Error::shape(
                "attention",
                format!("width {dim} is not divisible by {heads} heads"),
            ));
        }
        Ok(MultiHeadSelfAttention {
            qkv: Linear::new(dim, 3 * dim, LinearInit::XavierUniform, dtype, rng),
            proj: Linear::new(dim, dim, LinearInit::XavierUniform, dtype, rng),
            heads,
            attention_dropout: Dropout {
                rate: attention_dropout,
            },
        })
    }
}

impl Module for MultiHeadSelfAttention {
    fn forward(&self, x: &Var, ctx: &mut Context) -> Result<Var> {
        let &[batch, tokens, dim] = x.shape() else {
            return Err(Error::shape(
                "attention",
                format!("input must be [batch, tokens, width], got {:?}", x.shape()),
            ));
        };
        let weights = self.qkv.weight.value();
        x.value()
            .check_kind_against("attention", weights, super::linear::INPUT_AND_WEIGHTS)?;
        let width = self.qkv.in_features();
        if dim != width {
            return Err(Error::shape(
                "attention",
                format!(
                    "input {:?} has width {dim}, the layer expects {width}",
                    x.shape()
                ),
            ));
        }
        if self.heads == 0 || !dim.is_multiple_of(self.heads) {
            return Err(Error::shape(
                "attention",
                format!("width {dim} does not split into {} heads", self.heads),
            ));
        }
        let head_dim = dim / self.heads;
        // q, k and v each come from their own block of rows of the fused `qkv` weight (views, not
        // copies). Projecting them separately, rather than slicing one [B, N, 3d] product, lets
        // the backward pass write each part's gradient into its rows of the weight gradient
        // instead of building and summing three zero-padded [B, N, 3d] activation gradients.
        let (weight, bias) = (self.qkv.weight.var(), self.qkv.bias.var());
        let rows = x.reshape(&[batch * tokens, dim])?;
        let project = |part: usize| -> Result<Var> {
            let w = weight.narrow(0, part * dim, dim)?.transpose(0, 1)?;
            rows.matmul(&w)?
                .add(&bias.narrow(0, part * dim, dim)?)?
                .reshape(&[batch, tokens, self.heads, head_dim])?
                .permute(&[0, 2, 1, 3])
        };
        let (q, k, v) = (project(0)?, project(1)?, project(2)?);
        let scores = q.matmul(&k.transpose(2, 3)?)?;
        // softmax(scores/√d_head): the scale taken inside the softmax kernels, one pass over
        // the [B, h, N, N] scores each way instead of two.
        let scale = 1.0 / (head_dim as f64).sqrt();
        let weights = self
            .attention_dropout
            .forward(&scores.scaled_softmax(3, scale)?, ctx)?;
        let mixed = weights
            .matmul(&v)?
            .permute(&[0, 2, 1, 3])?
            .reshape(&[batch, tokens, dim])?;
        self.proj.forward(&mixed, ctx)
    }
}
