//! Shared by the co-training test files: the embedded suite (built once per test binary) and a
//! small but real configuration.

use polyvit::data::{default_suite, Dataset};
use polyvit::train::{OptimizerConfig, TrainConfig};
use std::sync::OnceLock;

/// The embedded suite, built once for all tests of a file.
pub fn suite() -> Vec<Dataset> {
    static SUITE: OnceLock<Vec<Dataset>> = OnceLock::new();
    SUITE
        .get_or_init(|| default_suite().expect("the embedded suite builds"))
        .clone()
}

/// The tiny preset, every task, `steps` steps each of `batch` examples, SGD-momentum at lr 0.05,
/// warmup 2 (1 for two steps, none for one: the warmups must end before the run does).
pub fn tiny_config(steps: u64, batch: usize) -> TrainConfig {
    let mut config = TrainConfig {
        preset: "tiny".into(),
        optimizer: OptimizerConfig::sgd(),
        ..TrainConfig::default()
    };
    for task in &mut config.tasks {
        task.steps = steps;
        task.batch_size = batch;
        task.warmup = steps.saturating_sub(1).min(2);
        task.lr = 0.05;
    }
    config
}
