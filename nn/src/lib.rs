//! # nn: layers, losses, optimizers and checkpoints
//!
//! - [`Parameter`] is a trainable tensor (or a frozen one); [`Parameters`] walks a model's
//!   parameters by dotted name (`blocks.3.attn.qkv.weight`), which is all optimizers, parameter
//!   counts, freezing and checkpoints need. [`impl_parameters!`] writes that walk for a struct
//!   from its field names.
//! - [`Module`] adds a forward pass; [`Context`] says whether we train (dropout and stochastic
//!   depth on) and holds the random generator they draw from.
//! - [`layers`]: Linear, LayerNorm, Dropout and stochastic depth, Mlp, MultiHeadSelfAttention,
//!   EncoderBlock, Encoder, PatchEmbedding, Embedding; [`init`]: the reference initializers.
//! - [`loss`], [`optim`] (SGD with momentum, AdamW, global-norm clipping), [`lr_schedule`]
//!   (warmup + cosine), [`checkpoint`] (with the optimizer's state, to resume).
//! - [`prelude`]: all of these and `Tensor`, `Var` and `DType` in one `use nn::prelude::*;`;
//!   `nn::tensor` and `nn::autograd` are the crates below, so a program needs only `nn`.
//!
//! One training step, end to end:
//!
//! ```
//! use autograd::Var;
//! use nn::layers::{Linear, LinearInit};
//! use nn::loss::cross_entropy_with_labels;
//! use nn::optim::{Optimizer, Sgd};
//! use nn::{Context, Module, Parameters};
//! use tensor::{DType, Tensor};
//!
//! let mut model = Linear::new(2, 2, LinearInit::XavierUniform, DType::F32, &mut tensor::rng(0));
//! let x = Var::constant(Tensor::from_vec(vec![1.0f32, 0.0, 0.0, 1.0], &[2, 2])?);
//! let loss = |model: &Linear| cross_entropy_with_labels(&model.forward(&x, &mut Context::eval())?, &[1, 0], 0.0);
//! let before = loss(&model)?;
//! let grads = before.backward()?;
//! Sgd::new(0.9).step(&mut model, &grads, 0.5)?; // by name: weight, bias
//! let after = loss(&model)?;
//! assert!(after.value().to_scalar()? < before.value().to_scalar()?);
//! assert_eq!(model.parameter_count(), 6);
//! # Ok::<(), tensor::Error>(())
//! ```
//!
//! `examples/mlp_xor.rs` trains a small MLP; `polyvit/examples/vit_mnist.rs` builds a whole
//! vision transformer from these layers.

#![warn(missing_docs)]

pub mod checkpoint;
pub mod file;
pub mod fnv;
mod hyperparameter;
pub mod init;
pub mod layers;
pub mod loss;
pub mod lr_schedule;
mod module;
pub mod optim;
pub mod parameter;
pub mod prelude;
pub mod safetensors_file;

pub use module::{BatchRows, Context, Module};
pub use parameter::{Parameter, Parameters};
/// The crates below this one, so a program can depend on `nn` alone.
pub use {autograd, tensor};
