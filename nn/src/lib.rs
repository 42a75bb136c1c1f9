//! # nn: layers, losses, optimizers and checkpoints
//!
//! - [`Parameter`] is a trainable tensor (or a frozen one); [`Parameters`] walks a model's
//!   parameters by dotted name (`blocks.3.attn.qkv.weight`), which is all optimizers, parameter
//!   counts, freezing and checkpoints need.
//! - [`Module`] adds a forward pass; [`Context`] says whether we train (dropout and stochastic
//!   depth on) and holds the random generator they draw from.
//! - [`layers`]: Linear, LayerNorm, Dropout, Mlp, MultiHeadSelfAttention, EncoderBlock, Encoder,
//!   PatchEmbedding; [`init`]: the reference initializers.
//! - [`loss`], [`optim`], [`schedule`], [`checkpoint`].

pub mod checkpoint;
pub mod init;
pub mod layers;
pub mod loss;
mod module;
pub mod optim;
pub mod parameter;
pub mod schedule;

pub use module::{BatchRows, Context, Module};
pub use parameter::{Parameter, Parameters};
