//! The pre-LN transformer encoder.

use super::{drop_path, Dropout, LayerNorm, Mlp, MultiHeadSelfAttention};
use crate::{impl_parameters, Context, Module};
use autograd::Var;
use tensor::{DType, Result, Rng};

/// Shape and regularization of an encoder.
#[derive(Clone, Debug, PartialEq)]
pub struct EncoderConfig {
    pub width: usize,
    pub depth: usize,
    pub heads: usize,
    pub mlp_width: usize,
    pub dropout: f64,
    pub attention_dropout: f64,
    /// Stochastic depth rate of the last block; block `i` of `L` uses `rate·i/max(L − 1, 1)`.
    pub stochastic_depth: f64,
}

/// `x ← x + drop_path(dropout(attn(ln₁(x))))`, then `x ← x + drop_path(mlp(ln₂(x)))`.
pub struct EncoderBlock {
    pub norm1: LayerNorm,
    pub attn: MultiHeadSelfAttention,
    pub norm2: LayerNorm,
    pub mlp: Mlp,
    pub dropout: Dropout,
    pub drop_path_rate: f64,
}

impl_parameters!(EncoderBlock {
    norm1,
    attn,
    norm2,
    mlp
});

impl EncoderBlock {
    pub fn new(
        config: &EncoderConfig,
        drop_path_rate: f64,
        dtype: DType,
        rng: &mut Rng,
    ) -> Result<Self> {
        let eps = LayerNorm::DEFAULT_EPS;
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
            mlp: Mlp::new(config.width, config.mlp_width, config.dropout, dtype, rng),
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
        let attended = self
            .dropout
            .forward(&self.attn.forward(&self.norm1.forward(x, ctx)?, ctx)?, ctx)?;
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
pub fn block_drop_path_rate(rate: f64, index: usize, depth: usize) -> f64 {
    rate * index as f64 / depth.saturating_sub(1).max(1) as f64
}

/// Encoder blocks followed by a final LayerNorm.
pub struct Encoder {
    pub blocks: Vec<EncoderBlock>,
    pub norm: LayerNorm,
}

impl_parameters!(Encoder { blocks, norm });

impl Encoder {
    pub fn new(config: &EncoderConfig, dtype: DType, rng: &mut Rng) -> Result<Self> {
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
            norm: LayerNorm::new(config.width, LayerNorm::DEFAULT_EPS, dtype),
        })
    }
}

impl Module for Encoder {
    fn forward(&self, x: &Var, ctx: &mut Context) -> Result<Var> {
        let mut x = x.clone();
        for block in &self.blocks {
            x = block.forward(&x, ctx)?;
        }
        self.norm.forward(&x, ctx)
    }
}
