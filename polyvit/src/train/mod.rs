//! Co-training: task schedules, batches, the training step, evaluation and metrics.

pub mod augmentation;
pub mod batch;
pub mod collective;
pub mod config;
pub mod distributed;
pub mod evaluate;
pub mod loss;
pub mod metrics;
pub mod micro_batch;
pub mod model_shape;
#[cfg(feature = "mpi")]
pub mod mpi_world;
pub mod optimizer;
mod recipe;
pub mod run;
pub mod sampler;
pub mod step_memory;
pub mod trained;

pub use augmentation::Augmentation;
pub use collective::{Collective, SingleProcess};
pub use config::{PatchConfig, TaskConfig, TrainConfig};
pub use evaluate::{TaskScore, METRICS};
pub use loss::LossKind;
pub use model_shape::ModelShape;
pub use optimizer::OptimizerConfig;
pub use run::{model_specs, shape_clash, Run, RunError, StepReport};
pub use sampler::Schedule;
pub use trained::Trained;
