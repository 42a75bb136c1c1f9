//! The PolyViT model: per-modality tokenizers, optional per-modality encoder blocks, one shared
//! encoder and one linear head per task.

mod config;
mod info;
mod polyvit;
mod tokenizer;

pub use config::{paper_tasks, ModelConfig, TaskSpec, TokenizerSpec};
pub use info::{parameter_table, single_task_parameter_count, ParameterRow};
pub use polyvit::PolyVit;
pub use tokenizer::Tokenizer;
