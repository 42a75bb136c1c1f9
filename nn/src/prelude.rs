//! Everything a training loop names, in one import: `use nn::prelude::*;` brings the tensor, the
//! graph variable, the layers, losses, optimizers, the learning-rate schedule and checkpoints, so
//! a program needs `nn` alone (its crates `nn::tensor` and `nn::autograd` hold the rest, such as
//! `tensor::Result`, left out here so as not to shadow the standard `Result`).
//!
//! ```
//! use nn::prelude::*;
//!
//! let mut model = Linear::new(2, 2, LinearInit::XavierUniform, DType::F32, &mut nn::tensor::rng(0));
//! let x = Var::constant(Tensor::from_vec(vec![1.0f32, 0.0, 0.0, 1.0], &[2, 2])?);
//! let loss = cross_entropy_with_labels(&model.forward(&x, &mut Context::train(0))?, &[1, 0], 0.0)?;
//! let mut grads = loss.backward()?;
//! clip_grad_norm(&mut grads, 1.0)?;
//! AdamW::new(0.9, 0.999, 1e-8, 0.0).step(&mut model, &grads, 1e-3)?;
//! # Ok::<(), nn::tensor::Error>(())
//! ```

pub use crate::checkpoint::{Checkpoint, CheckpointError};
pub use crate::layers::*;
pub use crate::loss::*;
pub use crate::lr_schedule::WarmupCosine;
pub use crate::optim::{clip_grad_norm, AdamW, Optimizer, Sgd};
pub use crate::{Context, Module, Parameter, Parameters};
pub use autograd::{no_grad, Gradients, Var};
pub use tensor::{DType, Device, Tensor};
