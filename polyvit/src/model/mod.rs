//! The PolyViT model: per-modality tokenizers, optional per-modality encoder blocks, one shared
//! encoder and one linear head per task.

mod config;
mod grid_resize;
mod info;
mod init_from;
mod polyvit;
mod tokenizer;
mod vit_layouts;

pub use config::{paper_tasks, ModelConfig, TaskSpec, TokenizerSpec};
pub use info::{
    parameter_table, planned_parameter_count, single_task_parameter_count, ParameterRow,
};
pub use init_from::{init_from_file, init_from_vit, InitReport};
pub use polyvit::PolyVit;
pub use tokenizer::Tokenizer;
pub use vit_layouts::{VitLayout, VitWeights};
