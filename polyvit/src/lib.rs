//! # polyvit: co-training one vision transformer on images, video and audio.
//!
//! The top of the stack (devices → tensor → autograd → nn → polyvit): PolyViT (Likhosherstov et
//! al., TMLR 2023) at CPU scale. One transformer encoder is shared by every task; each modality
//! has its tokenizer (patch or tubelet embedding, CLS token, position embeddings) and, with
//! `L_adapt > 0`, its own first encoder blocks; each task has its linear head. Co-training
//! samples one task per optimizer step from one of the paper's five schedules (or, with the
//! accumulated-gradients schedule, steps on every task's gradients summed).
//!
//! - [`model`]: [`model::PolyVit`], its tokenizers and presets.
//! - [`data`]: the embedded suite (MNIST, Fashion-MNIST, Moving-MNIST, spoken digits, drums,
//!   real footage), its readers and generators.
//! - [`memory`]: the memory this process can still take (decoded inputs and attention maps
//!   are checked against it).
//! - [`train`]: the schedules, batches, [`train::Run`] (one optimizer step at a time,
//!   checkpointed and resumed exactly), evaluation and metrics.
//!
//! ```
//! use autograd::Var;
//! use nn::{Context, Parameters};
//! use polyvit::data::Modality;
//! use polyvit::model::{ModelConfig, PolyVit, TaskSpec, TokenizerSpec};
//! use tensor::{DType, Tensor};
//!
//! // Two image tasks share one tokenizer and the encoder; each has its own head.
//! let config = ModelConfig::preset("tiny").unwrap();
//! let image = TokenizerSpec::new(Modality::Image, &[1, 28, 28], &[7, 7]);
//! let tasks = [TaskSpec::new("digits", Modality::Image, 10), TaskSpec::new("clothes", Modality::Image, 5)];
//! let model = PolyVit::new(&config, &[image], &tasks, DType::F32, &mut tensor::rng(0))?;
//! let batch = Var::constant(Tensor::zeros(&[3, 1, 28, 28], DType::F32));
//! assert_eq!(model.forward("digits", &batch, 0.0, &mut Context::eval())?.shape(), [3, 10]);
//! assert_eq!(model.forward("clothes", &batch, 0.0, &mut Context::eval())?.shape(), [3, 5]);
//! let names: Vec<String> = model.named_parameters().into_iter().map(|(n, _)| n).collect();
//! assert!(names.contains(&"tokenizers.image.pos_embed".to_string()));
//! assert!(names.contains(&"heads.clothes.weight".to_string()));
//! # Ok::<(), tensor::Error>(())
//! ```
//!
//! `examples/cotrain.rs` co-trains two tasks through [`train::Run`]; `TOUR.md` at the
//! repository root reads the whole stack in order.

#![warn(missing_docs)]

pub mod data;
pub mod memory;
pub mod model;
pub mod train;
