//! The pre-LN transformer encoder.

use super::dropout::check_rate;
use super::{drop_path, AttentionMask, Dropout, Gelu, LayerNorm, Mlp, MultiHeadSelfAttention};
use crate::hyperparameter::check_range;
use crate::{impl_parameters, Context, Module};
use autograd::Var;
use tensor::{DType, Result, Rng};

/// Shape and regularization of an encoder.
#[derive(Clone, Debug, PartialEq)]
pub struct EncoderConfig {
    /// The token width `d`.
    pub width: usize,
    /// The number of blocks `L`.
    pub depth: usize,
    /// Attention heads per block.
    pub heads: usize,
    /// The hidden width of each block's MLP.
    pub mlp_width: usize,
    /// The form of GELU in each block's MLP.
    pub gelu: Gelu,
    /// Dropout after attention and in the MLP.
    pub dropout: f64,
    /// Dropout on the attention weights.
    pub attention_dropout: f64,
    /// Stochastic depth rate of the last block; block `i` of `L` uses `rate·i/max(L − 1, 1)`.
    pub stochastic_depth: f64,
    /// The `ε` of every LayerNorm: [`LayerNorm::DEFAULT_EPS`] (1e-6) for the reference's and
    /// timm's ViTs; weights trained with PyTorch's `nn.LayerNorm` default need 1e-5, Hugging
    /// Face's ViT 1e-12.
    pub layer_norm_eps: f64,
}

/// `x ← x + drop_path(dropout(attn(ln₁(x))))`, then `x ← x + drop_path(mlp(ln₂(x)))`.
///
/// ```
/// use autograd::Var;
/// use nn::layers::{block_drop_path_rate, Encoder, EncoderBlock, EncoderConfig, Gelu, LayerNorm};
/// use nn::{Context, Module, Parameters};
/// use tensor::{DType, Tensor};
/// let config = EncoderConfig {
///     width: 8, depth: 2, heads: 2, mlp_width: 16, gelu: Gelu::Tanh,
///     dropout: 0.0, attention_dropout: 0.0, stochastic_depth: 0.0,
///     layer_norm_eps: LayerNorm::DEFAULT_EPS,
/// };
/// let mut block = EncoderBlock::new(&config, 0.0, DType::F64, &mut tensor::rng(0))?;
/// let x = Var::constant(Tensor::randn(&[2, 5, 8], 0.0, 1.0, DType::F64, &mut tensor::rng(1)));
/// assert_eq!(block.forward(&x, &mut Context::eval())?.shape(), [2, 5, 8]);
/// // Both branches are residual: with their last projections zeroed the block is the identity.
/// for layer in [&mut block.attn.proj, &mut block.mlp.fc2] {
///     layer.weight.set_value(layer.weight.value().zeros_like()?);
///     layer.bias.set_value(layer.bias.value().zeros_like()?);
/// }
/// let y = block.forward(&x, &mut Context::eval())?;
/// assert_eq!(y.value().to_vec_f64()?, x.value().to_vec_f64()?);
/// # Ok::<(), tensor::Error>(())
/// ```
pub struct EncoderBlock {
    /// `ln₁`, before attention.
    pub norm1: LayerNorm,
    /// Multi-head self-attention.
    pub attn: MultiHeadSelfAttention,
    /// `ln₂`, before the MLP.
    pub norm2: LayerNorm,
    /// The feed-forward block.
    pub mlp: Mlp,
    /// Dropout on the attention branch.
    pub dropout: Dropout,
    /// The stochastic depth rate of [`Module::forward`].
    pub drop_path_rate: f64,
}

impl_parameters!(EncoderBlock {
    norm1,
    attn,
    norm2,
    mlp
});

impl EncoderBlock {
    /// A block of `config`'s shape whose residual branches are dropped at `drop_path_rate`.
    pub fn new(
        config: &EncoderConfig,
        drop_path_rate: f64,
        dtype: DType,
        rng: &mut Rng,
    ) -> Result<Self> {
        check_rate("encoder block: dropout", config.dropout)?;
        check_rate("encoder block: attention_dropout", config.attention_dropout)?;
        check_rate("encoder block: stochastic depth", drop_path_rate)?;
        let eps = config.layer_norm_eps;
        check_range("encoder block", "layer_norm_eps", eps, 0.0..f64::INFINITY)?;
        Ok(EncoderBlock {
            norm1: LayerNorm::new(config.width, eps, dtype),
            attn: MultiHeadSelfAttention::new(
                config.width,
                config.heads,
                config.attention_dropout,
                dtype,
                rng,
            )?,
            norm2: LayerNorm::new(config.width, eps, dtype),
            mlp: Mlp::new(
                config.width,
                config.mlp_width,
                config.gelu,
                config.dropout,
                dtype,
                rng,
            ),
            dropout: Dropout {
                rate: config.dropout,
            },
            drop_path_rate,
        })
    }
}

impl EncoderBlock {
    /// The forward pass with an explicit stochastic depth rate (PolyViT varies it per task).
    pub fn forward_with_drop_path(
        &self,
        x: &Var,
        drop_path_rate: f64,
        ctx: &mut Context,
    ) -> Result<Var> {
        self.forward_masked_with_drop_path(x, None, drop_path_rate, ctx)
    }

    /// The forward pass with attention restricted by `mask` (see
    /// [`MultiHeadSelfAttention::forward_masked`]); `None` is [`Module::forward`].
    pub fn forward_masked(
        &self,
        x: &Var,
        mask: Option<&AttentionMask>,
        ctx: &mut Context,
    ) -> Result<Var> {
        self.forward_masked_with_drop_path(x, mask, self.drop_path_rate, ctx)
    }

    fn forward_masked_with_drop_path(
        &self,
        x: &Var,
        mask: Option<&AttentionMask>,
        drop_path_rate: f64,
        ctx: &mut Context,
    ) -> Result<Var> {
        let normed = self.norm1.forward(x, ctx)?;
        let attended = self
            .dropout
            .forward(&self.attn.forward_masked(&normed, mask, ctx)?, ctx)?;
        let x = x.add(&drop_path(&attended, drop_path_rate, ctx)?)?;
        let transformed = self.mlp.forward(&self.norm2.forward(&x, ctx)?, ctx)?;
        x.add(&drop_path(&transformed, drop_path_rate, ctx)?)
    }
}

impl Module for EncoderBlock {
    fn forward(&self, x: &Var, ctx: &mut Context) -> Result<Var> {
        self.forward_with_drop_path(x, self.drop_path_rate, ctx)
    }
}

/// The stochastic depth rate of block `index` of `depth` when the last block has `rate`:
/// `rate·index/max(depth − 1, 1)`, as the reference (so a single block gets 0, not `rate`).
///
/// ```
/// use autograd::Var;
/// use nn::layers::{block_drop_path_rate, Encoder, EncoderBlock, EncoderConfig};
/// use nn::{Context, Module, Parameters};
/// use tensor::{DType, Tensor};
/// let rates: Vec<f64> = (0..3).map(|i| block_drop_path_rate(0.5, i, 3)).collect();
/// assert_eq!(rates, [0.0, 0.25, 0.5]);
/// assert_eq!(block_drop_path_rate(0.5, 0, 1), 0.0);
/// # Ok::<(), tensor::Error>(())
/// ```
pub fn block_drop_path_rate(rate: f64, index: usize, depth: usize) -> f64 {
    rate * index as f64 / depth.saturating_sub(1).max(1) as f64
}

/// Encoder blocks followed by a final LayerNorm.
///
/// ```
/// use autograd::Var;
/// use nn::layers::{block_drop_path_rate, Encoder, EncoderBlock, EncoderConfig, Gelu, LayerNorm};
/// use nn::{Context, Module, Parameters};
/// use tensor::{DType, Tensor};
/// let config = EncoderConfig {
///     width: 8, depth: 2, heads: 2, mlp_width: 16, gelu: Gelu::Tanh,
///     dropout: 0.0, attention_dropout: 0.0, stochastic_depth: 0.0,
///     layer_norm_eps: LayerNorm::DEFAULT_EPS,
/// };
/// let encoder = Encoder::new(&config, DType::F64, &mut tensor::rng(0))?;
/// let names: Vec<String> = encoder.named_parameters().into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names[..3], ["blocks.0.norm1.weight", "blocks.0.norm1.bias", "blocks.0.attn.qkv.weight"]);
/// assert_eq!(names.last().unwrap(), "norm.bias");
/// let x = Var::constant(Tensor::randn(&[2, 5, 8], 0.0, 1.0, DType::F64, &mut tensor::rng(1)));
/// let y = encoder.forward(&x, &mut Context::eval())?;
/// // The final LayerNorm leaves every token with mean 0 over its features.
/// let means = y.value().mean(&[2], false)?.to_vec_f64()?;
/// assert!(means.iter().all(|m| m.abs() < 1e-9));
/// # Ok::<(), tensor::Error>(())
/// ```
pub struct Encoder {
    /// The blocks, applied in order (`blocks.0`, `blocks.1`, ...).
    pub blocks: Vec<EncoderBlock>,
    /// The final LayerNorm.
    pub norm: LayerNorm,
}

impl_parameters!(Encoder { blocks, norm });

impl Encoder {
    /// `config.depth` blocks, block `i` with stochastic depth
    /// [`block_drop_path_rate`]`(config.stochastic_depth, i, depth)`, then the final LayerNorm.
    pub fn new(config: &EncoderConfig, dtype: DType, rng: &mut Rng) -> Result<Self> {
        check_rate("encoder: stochastic_depth", config.stochastic_depth)?;
        check_range(
            "encoder",
            "layer_norm_eps",
            config.layer_norm_eps,
            0.0..f64::INFINITY,
        )?;
        let blocks = (0..config.depth)
            .map(|i| {
                EncoderBlock::new(
                    config,
                    block_drop_path_rate(config.stochastic_depth, i, config.depth),
                    dtype,
                    rng,
                )
            })
            .collect::<Result<_>>()?;
        Ok(Encoder {
            blocks,
            norm: LayerNorm::new(config.width, config.layer_norm_eps, dtype),
        })
    }
}

impl Encoder {
    /// The forward pass with every block's attention restricted by the same `mask` (see
    /// [`MultiHeadSelfAttention::forward_masked`]); `None` is [`Module::forward`].
    pub fn forward_masked(
        &self,
        x: &Var,
        mask: Option<&AttentionMask>,
        ctx: &mut Context,
    ) -> Result<Var> {
        let mut x = x.clone();
        for block in &self.blocks {
            x = block.forward_masked(&x, mask, ctx)?;
        }
        self.norm.forward(&x, ctx)
    }
}

impl Module for Encoder {
    fn forward(&self, x: &Var, ctx: &mut Context) -> Result<Var> {
        self.forward_masked(x, None, ctx)
    }
}
