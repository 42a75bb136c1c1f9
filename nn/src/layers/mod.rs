//! Transformer layers.

mod attention;
mod dropout;
mod embedding;
mod encoder;
mod layer_norm;
mod linear;
mod mlp;
mod patch_embedding;

pub use attention::{AttentionMask, MultiHeadSelfAttention};
pub use dropout::{drop_path, Dropout};
pub use embedding::Embedding;
pub use encoder::{block_drop_path_rate, Encoder, EncoderBlock, EncoderConfig};
pub use layer_norm::LayerNorm;
pub use linear::{Linear, LinearInit};
pub use mlp::{Gelu, Mlp};
pub use patch_embedding::{patchify, PatchEmbedding};
