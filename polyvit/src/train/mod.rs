//! Co-training: task schedules, batches, the training step, evaluation and metrics.

pub mod batch;
pub mod config;
pub mod evaluate;
pub mod metrics;
pub mod run;
pub mod sampler;
pub mod trained;

pub use config::{PatchConfig, TaskConfig, TrainConfig};
pub use evaluate::TaskScore;
pub use run::{model_specs, Run, RunError, StepReport};
pub use sampler::Schedule;
pub use trained::Trained;
