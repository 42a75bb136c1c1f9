//! Co-training two tasks with one transformer, through `polyvit`'s library API: MNIST digits
//! and Fashion-MNIST clothes share the image tokenizer and the encoder; each has its own head.
//!
//! `cargo run --release --example cotrain`
//!
//! `polyvit train --tasks mnist,fashion_mnist` runs the same thing from the command line, with
//! more steps, logs and checkpoints. The code is in `common/mod.rs` (shared with
//! `cotrain_opencl`): a `TrainConfig`, the two datasets and `Run::new`, then `Run::train_step`
//! until the plan is done, then `Run::evaluate` on the test splits.

mod common;

use polyvit::train::RunError;
use tensor::Device;

fn main() -> Result<(), RunError> {
    let mut run = common::new_run(&Device::Cpu, common::STEPS_PER_TASK)?;
    common::train(&mut run)?;
    common::test_scores(&run).map(|_| ())
}

#[test]
fn both_tasks_learn_with_one_shared_encoder() {
    let steps = 100;
    let mut run = common::new_run(&Device::Cpu, steps).unwrap();
    let losses = common::train(&mut run).unwrap();
    let scores = common::test_scores(&run).unwrap();
    for (losses, score) in losses.iter().zip(&scores) {
        assert_eq!(
            losses.len() as u64,
            steps,
            "weighted sampling gives each task its budget"
        );
        let mean = |s: &[f64]| s.iter().sum::<f64>() / s.len() as f64;
        let (first, last) = (mean(&losses[..20]), mean(&losses[losses.len() - 20..]));
        assert!(last < 0.8 * first, "{}: loss {first} -> {last}", score.task);
        assert!(
            score.value > 4.0 * score.chance,
            "{}: {score:?}",
            score.task
        );
    }
}
