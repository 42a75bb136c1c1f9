//! Multi-head self-attention.

use super::{Dropout, Linear, LinearInit};
use crate::{impl_parameters, Context, Module};
use autograd::Var;
use tensor::{DType, Error, Result, Rng, Tensor};

/// Which keys each query may attend to, for [`MultiHeadSelfAttention::forward_masked`].
///
/// Every form comes down to a 0/1 tensor `keep` of allowed (query, key) pairs, broadcast to the
/// scores' `[batch, heads, tokens, tokens]`, and, for [`AttentionMask::Additive`], a bias added
/// to the scaled scores. The mask's tensor must have the input's element type and device.
///
/// A PyTorch user's masks map as follows: `is_causal=True` is [`AttentionMask::Causal`];
/// `nn.MultiheadAttention`'s boolean `key_padding_mask` (`True` = padding) is
/// `KeyPadding(1 − mask)`, Hugging Face's `attention_mask` (1 = token) is `KeyPadding(mask)`; a
/// float `attn_mask` is [`AttentionMask::Additive`], and so is a boolean one as 0 where a pair
/// may attend and −∞ where not (`True` = may attend in `scaled_dot_product_attention`, `True` =
/// blocked in `nn.MultiheadAttention`). Causal and padding together are one `Additive` mask.
#[derive(Clone, Debug)]
pub enum AttentionMask {
    /// Query `i` attends to keys `j ≤ i` only: a decoder's mask, PyTorch's `is_causal=True`.
    Causal,
    /// `[batch, tokens]`: nonzero marks a real token, 0 a padding token that no query attends
    /// to (padding queries still attend to the real tokens; their outputs are usually ignored).
    KeyPadding(Tensor),
    /// Added to the scaled scores before the softmax: `softmax(Q·Kᵀ/√d_head + M)`, `M` of any
    /// shape that broadcasts to `[batch, heads, tokens, tokens]` from its right (rank 2 to 4:
    /// `[tokens, tokens]` for every sequence and head, `[batch, 1, tokens, tokens]` per
    /// sequence, ...). `−∞` blocks a pair; finite entries bias it (PyTorch's float `attn_mask`).
    Additive(Tensor),
}

/// An [`AttentionMask`] made concrete for one input: `keep`, 0/1 of the input's kind and of a
/// shape that broadcasts to the scores, and the additive mask if there is one.
struct ResolvedMask {
    keep: Tensor,
    bias: Option<Tensor>,
}

impl AttentionMask {
    /// The mask for an input `x` of `[batch, tokens, ·]` split into `heads` heads, or an error
    /// naming the mask's and the input's shapes when the mask does not fit it.
    fn resolve(&self, x: &Tensor, heads: usize) -> Result<ResolvedMask> {
        let (batch, tokens) = (x.shape()[0], x.shape()[1]);
        let check_kind = |what: &str, mask: &Tensor| -> Result<()> {
            let describe =
                |t: &Tensor| format!("{:?} ({} on {})", t.shape(), t.dtype(), t.device());
            let msg = format!(
                "the {what} mask {} and the input {} differ in",
                describe(mask),
                describe(x)
            );
            if mask.device() != x.device() {
                Err(Error::Device {
                    op: "attention",
                    msg: format!("{msg} device"),
                })
            } else if mask.dtype() != x.dtype() {
                Err(Error::invalid("attention", format!("{msg} element type")))
            } else {
                Ok(())
            }
        };
        match self {
            AttentionMask::Causal => {
                // keep[i][j] = [j ≤ i], from two aranges: 2N values made, not N².
                let positions = Tensor::arange_on(0.0, tokens as f64, 1.0, x.dtype(), &x.device())?;
                let keep = positions
                    .reshape(&[1, tokens])?
                    .le(&positions.reshape(&[tokens, 1])?)?;
                Ok(ResolvedMask { keep, bias: None })
            }
            AttentionMask::KeyPadding(mask) => {
                if mask.shape() != [batch, tokens] {
                    return Err(Error::shape(
                        "attention",
                        format!(
                            "the key padding mask {:?} does not fit the input {:?}: it must be \
                             [batch, tokens] = {:?}",
                            mask.shape(),
                            x.shape(),
                            [batch, tokens]
                        ),
                    ));
                }
                check_kind("key padding", mask)?;
                let keep = mask.ne_scalar(0.0)?.reshape(&[batch, 1, 1, tokens])?;
                Ok(ResolvedMask { keep, bias: None })
            }
            AttentionMask::Additive(mask) => {
                let scores = [batch, heads, tokens, tokens];
                let rank = mask.rank();
                let fits = (2..=4).contains(&rank)
                    && mask
                        .shape()
                        .iter()
                        .zip(&scores[4 - rank..])
                        .all(|(&m, &s)| m == s || m == 1);
                if !fits {
                    return Err(Error::shape(
                        "attention",
                        format!(
                            "the additive mask {:?} does not broadcast to the scores \
                             [batch, heads, tokens, tokens] = {scores:?} of the input {:?}",
                            mask.shape(),
                            x.shape()
                        ),
                    ));
                }
                check_kind("additive", mask)?;
                Ok(ResolvedMask {
                    keep: mask.ne_scalar(f64::NEG_INFINITY)?,
                    bias: Some(mask.clone()),
                })
            }
        }
    }
}

/// `softmax(Q·Kᵀ/√d_head)·V` per head, heads concatenated, then an output projection.
/// `qkv` holds the query, key and value projections as one `[3d, d]` weight (timm's layout);
/// each is applied from its own block of rows, and its output read as `[B, N, heads, d_head]`.
/// Every query attends to every key; [`MultiHeadSelfAttention::forward_masked`] takes an
/// [`AttentionMask`] (causal, key padding or additive).
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

impl MultiHeadSelfAttention {
    /// The forward pass in which each query attends only to the keys `mask` allows (`None`:
    /// the plain [`Module::forward`]). With `A = {(i, j) : key j allowed for query i}`, per head
    /// `sᵢⱼ = qᵢ·kⱼ/√d_head (+ Mᵢⱼ for an additive mask)`,
    /// `wᵢⱼ = e^{sᵢⱼ}/Σ_{l:(i,l)∈A} e^{sᵢₗ}` for `(i, j) ∈ A` and `wᵢⱼ = 0` otherwise, and
    /// `outᵢ = Σⱼ wᵢⱼ·vⱼ`, heads concatenated and projected as in [`Module::forward`]. A blocked
    /// score is replaced by −∞ before the softmax, so its weight is exactly `e^{−∞} = 0`; the
    /// softmax backward `∂L/∂sᵢⱼ = wᵢⱼ·(∂L/∂wᵢⱼ − Σₗ wᵢₗ·∂L/∂wᵢₗ)` is then exactly 0 there too,
    /// and a blocked key gets no gradient through that query (a padding token's key and value
    /// none at all).
    ///
    /// A query with no allowed key (a sequence of padding only, or a row of −∞ in an additive
    /// mask) gets weights of 0 and so an attention output of 0 (the layer's output there is the
    /// projection's bias) with a gradient of 0, as PyTorch's `scaled_dot_product_attention`
    /// gives: not NaN, as a plain `softmax` of a row of −∞ (and `nn.MultiheadAttention` with
    /// `need_weights=True`) would, which would spread through the backward pass to every
    /// weight. (Such a row's scores are set to 0, not −∞, for the softmax, and its weights
    /// multiplied by 0 after it.)
    ///
    /// A mask that does not fit the input (shape, element type or device) is an error naming
    /// both shapes. The masked path is composed of separate ops (a select, the softmax, a
    /// product by the mask), where [`Module::forward`] runs one fused softmax.
    ///
    /// ```
    /// use autograd::Var;
    /// use nn::layers::{AttentionMask, MultiHeadSelfAttention};
    /// use nn::{Context, Module};
    /// use tensor::{DType, Tensor};
    /// let attn = MultiHeadSelfAttention::new(8, 2, 0.0, DType::F64, &mut tensor::rng(0))?;
    /// let x = Tensor::randn(&[1, 4, 8], 0.0, 1.0, DType::F64, &mut tensor::rng(1));
    /// let run = |x: &Tensor, mask: &AttentionMask| -> tensor::Result<Vec<f64>> {
    ///     let y = attn.forward_masked(&Var::constant(x.clone()), Some(mask), &mut Context::eval())?;
    ///     y.value().to_vec_f64()
    /// };
    /// // Causal: changing the last token changes no earlier token's output.
    /// let last = Tensor::from_f64s(&[0.0, 0.0, 0.0, 1.0], &[1, 4, 1], DType::F64)?;
    /// let changed = x.add(&last)?;
    /// let (a, b) = (run(&x, &AttentionMask::Causal)?, run(&changed, &AttentionMask::Causal)?);
    /// assert_eq!(a[..3 * 8], b[..3 * 8]);
    /// assert_ne!(a[3 * 8..], b[3 * 8..]);
    /// // Key padding: the padding token (the last) changes no real token's output either.
    /// let padding = AttentionMask::KeyPadding(Tensor::from_f64s(&[1.0, 1.0, 1.0, 0.0], &[1, 4], DType::F64)?);
    /// assert_eq!(run(&x, &padding)?[..3 * 8], run(&changed, &padding)?[..3 * 8]);
    /// // A mask that does not fit is an error naming both shapes.
    /// let wrong = AttentionMask::KeyPadding(Tensor::ones(&[1, 5], DType::F64));
    /// let err = attn.forward_masked(&Var::constant(x), Some(&wrong), &mut Context::eval());
    /// assert!(err.unwrap_err().to_string().contains("[1, 5] does not fit the input [1, 4, 8]"));
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn forward_masked(
        &self,
        x: &Var,
        mask: Option<&AttentionMask>,
        ctx: &mut Context,
    ) -> Result<Var> {
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
        let mask = mask
            .map(|mask| mask.resolve(x.value(), self.heads))
            .transpose()?;
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
        let scale = 1.0 / (head_dim as f64).sqrt();
        let weights = match mask {
            // softmax(scores/√d_head): the scale taken inside the softmax kernels, one pass over
            // the [B, h, N, N] scores each way instead of two.
            None => scores.scaled_softmax(3, scale)?,
            Some(mask) => masked_softmax(&scores, &mask, scale)?,
        };
        let weights = self.attention_dropout.forward(&weights, ctx)?;
        let mixed = weights
            .matmul(&v)?
            .permute(&[0, 2, 1, 3])?
            .reshape(&[batch, tokens, dim])?;
        self.proj.forward(&mixed, ctx)
    }
}

/// The softmax over the keys (axis 3) of `scores·scale (+ bias)`, blocked pairs given weight 0:
/// blocked scores become −∞ (0 in a row with no allowed key, whose weights are zeroed after).
fn masked_softmax(scores: &Var, mask: &ResolvedMask, scale: f64) -> Result<Var> {
    let keep = &mask.keep;
    // −∞ where a row has an allowed key, 0 where it has none (so that row's softmax is finite).
    let row_has_key = keep.max(&[keep.rank() - 1], true)?;
    let fill = row_has_key.where_cond(
        &keep.scalar_like(f64::NEG_INFINITY)?,
        &keep.scalar_like(0.0)?,
    )?;
    let (logits, scale) = match &mask.bias {
        None => (scores.clone(), scale),
        Some(bias) => (
            scores
                .mul_scalar(scale)?
                .add(&Var::constant(bias.clone()))?,
            1.0,
        ),
    };
    Var::where_cond(keep, &logits, &Var::constant(fill))?
        .scaled_softmax(3, scale)?
        .mul(&Var::constant(keep.clone()))
}

impl Module for MultiHeadSelfAttention {
    fn forward(&self, x: &Var, ctx: &mut Context) -> Result<Var> {
        self.forward_masked(x, None, ctx)
    }
}
