//! Refusing, before it starts, a run whose training step cannot fit in memory. A step keeps
//! one attention map per block for the backward pass, `heads · tokens²` scores per example:
//! for inputs cut into thousands of tokens that is more than the machine has, and the
//! allocation would abort the process in the middle of a step instead.

use super::batch::drawn_batch_size;
use super::collective::shard;
use super::run::{Run, RunError};
use tensor::Device;

/// The fewest bytes of attention maps one training step of the run's task `j` holds at its
/// peak: the examples that go forward at once (this rank's rows, in micro-batches, side by
/// side on the CPU, one per thread), each with one map per block kept for the backward pass
/// and, during the top block's backward pass, the gradients of its scores and of their softmax.
pub fn step_attention_bytes(run: &Run, j: usize) -> tensor::Result<u64> {
    let dataset = &run.datasets[j];
    let collective = run.collective();
    let drawn = drawn_batch_size(dataset, run.config.tasks[j].batch_size);
    let rows = shard(drawn, collective.rank(), collective.size()).len();
    let parts = run.config.micro_batches.clamp(1, rows.max(1));
    let side_by_side = match run.device() {
        Device::Cpu => parts.min(rayon::current_num_threads().max(1)),
        Device::OpenCl(_) => 1,
    };
    let examples = rows.div_ceil(parts) * side_by_side;
    let maps = run.model.config.depth as u64 + 2;
    let scores = run.model.attention_scores_per_example(&dataset.name)? as u64;
    Ok((examples as u64)
        .saturating_mul(maps)
        .saturating_mul(scores)
        .saturating_mul(std::mem::size_of::<f32>() as u64))
}

/// An error naming the first task of `run` whose step's attention maps alone take more than
/// `available` bytes, with what to change.
pub fn check_step_memory(run: &Run, available: u64) -> Result<(), RunError> {
    const GIB: f64 = (1u64 << 30) as f64;
    for (j, dataset) in run.datasets.iter().enumerate() {
        let needed = step_attention_bytes(run, j)?;
        if needed > available {
            let tokens = run.model.tokens_per_example(&dataset.name)?;
            return Err(RunError::Config(format!(
                "task {}: a training step's attention maps alone take {:.1} GiB ({} tokens per \
                 example, {} heads, {} blocks, batch_size {}), more than the {:.1} GiB of memory \
                 available; choose larger patches or a smaller batch_size",
                dataset.name,
                needed as f64 / GIB,
                tokens,
                run.model.config.heads,
                run.model.config.depth,
                run.config.tasks[j].batch_size,
                available as f64 / GIB
            )));
        }
    }
    Ok(())
}
