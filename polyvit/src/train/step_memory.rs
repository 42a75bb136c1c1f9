//! Refusing, before it starts, a run whose training step cannot fit in memory. A step keeps
//! one attention map per block for the backward pass, `heads · tokens²` scores per example:
//! for inputs cut into thousands of tokens that is more than the machine has, and the
//! allocation would abort the process in the middle of a step instead. Likewise a model whose
//! parameters (with their gradients and the optimizer's state) cannot fit is refused before it
//! is built ([`check_parameter_memory`]). On an OpenCL device, a step one of whose tensors
//! would pass what one device buffer holds is refused too ([`check_step_buffers`]).

use super::batch::drawn_batch_size;
use super::collective::shard;
use super::run::{checked_tokenizer_spec, model_specs, Run, RunError};
use super::TrainConfig;
use crate::data::{Dataset, Modality};
use crate::model::{planned_parameter_count, ModelConfig};
use tensor::Device;

/// The fewest bytes of attention maps one training step of the run's task `j` holds at its
/// peak: the examples that go forward at once (this rank's rows, in micro-batches, side by
/// side on the CPU, one per thread), each with one map per block kept for the backward pass
/// and, during the top block's backward pass, the gradients of its scores and of their softmax.
pub fn step_attention_bytes(run: &Run, j: usize) -> tensor::Result<u64> {
    let parts = StepParts::of(run, j);
    let side_by_side = match run.device() {
        Device::Cpu => parts.count.min(rayon::current_num_threads().max(1)),
        Device::OpenCl(_) => 1,
    };
    let tokens = run.model.tokens_per_example(&run.datasets[j].name)?;
    Ok(attention_bytes(
        parts.examples * side_by_side,
        &run.model.config,
        tokens,
    ))
}

/// How a training step of the run's task `j` goes forward on this rank: this rank's `rows` of
/// the batch, in `count` micro-batches of at most `examples` examples each.
struct StepParts {
    rows: usize,
    count: usize,
    examples: usize,
}

impl StepParts {
    fn of(run: &Run, j: usize) -> StepParts {
        let collective = run.collective();
        let drawn = drawn_batch_size(&run.datasets[j], run.config.tasks[j].batch_size);
        let rows = shard(drawn, collective.rank(), collective.size()).len();
        let count = run.config.micro_batches.clamp(1, rows.max(1));
        StepParts {
            rows,
            count,
            examples: rows.div_ceil(count),
        }
    }
}

/// The largest single tensor a training step of the run's task `j` makes, as what it is and
/// its elements: this rank's batch of inputs (uploaded whole), or, for the examples of one
/// micro-batch, one block's attention map (`heads · tokens²` per example), its MLP's hidden
/// layer (`tokens · mlp_width`) or its query, key and value projections (`tokens · 3 · width`).
pub fn step_largest_tensor(run: &Run, j: usize) -> tensor::Result<(&'static str, u64)> {
    let dataset = &run.datasets[j];
    let parts = StepParts::of(run, j);
    let tokens = run.model.tokens_per_example(&dataset.name)? as u64;
    let config = &run.model.config;
    let examples = parts.examples as u64;
    let candidates = [
        (
            "the batch of inputs",
            parts.rows as u64 * dataset.shape.iter().product::<usize>() as u64,
        ),
        (
            "one block's attention map",
            examples * config.heads as u64 * tokens * tokens,
        ),
        (
            "one block's MLP hidden layer",
            examples * tokens * config.mlp_width as u64,
        ),
        (
            "one block's query, key and value projections",
            examples * tokens * 3 * config.width as u64,
        ),
    ];
    Ok(candidates
        .into_iter()
        .max_by_key(|(_, elements)| *elements)
        .expect("four candidates"))
}

/// Refuses a run one of whose training steps would make a tensor of more elements than one
/// buffer of its device holds (`largest`, [`DeviceInfo::largest_buffer`] on OpenCL), before
/// anything is written: the allocation would otherwise fail in the middle of the first step.
///
/// [`DeviceInfo::largest_buffer`]: devices::opencl::DeviceInfo::largest_buffer
pub fn check_step_buffers(run: &Run, largest: u64) -> Result<(), RunError> {
    for (j, dataset) in run.datasets.iter().enumerate() {
        let (what, elements) = step_largest_tensor(run, j)?;
        if elements > largest {
            let change = match what {
                "the batch of inputs" => "a smaller batch_size",
                _ => "a smaller batch_size, more micro_batches or larger patches",
            };
            return Err(RunError::Refused(format!(
                "task {}: in a training step, {what} would take {elements} elements, more \
                 than the {largest} that one buffer of {} holds (batch_size {}, \
                 micro_batches {}, {} tokens per example); choose {change}",
                dataset.name,
                run.device(),
                run.config.tasks[j].batch_size,
                run.config.micro_batches,
                run.model.tokens_per_example(&dataset.name)?,
            )));
        }
    }
    Ok(())
}

/// The bytes of the attention maps `examples` examples of `tokens` tokens hold at the peak of
/// a training step of a model of `config`: one map of `heads · tokens²` scores per block kept
/// for the backward pass, and during the top block's backward pass the gradients of its scores
/// and of their softmax.
fn attention_bytes(examples: usize, config: &ModelConfig, tokens: usize) -> u64 {
    let maps = config.depth as u64 + 2;
    (examples as u64)
        .saturating_mul(maps)
        .saturating_mul(config.heads as u64)
        .saturating_mul((tokens as u64).saturating_mul(tokens as u64))
        .saturating_mul(std::mem::size_of::<f32>() as u64)
}

/// What the parameters of a model are held for, which sets how many copies of them there are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParameterUse {
    /// Only their values (to count or to predict with).
    Values,
    /// Training: their values, their gradients and the optimizer's state.
    Training,
}

/// Refuses the model `config` builds for `datasets` when its parameters, held for `used`,
/// would take more than `available` bytes (where known), before any is allocated: a width
/// mistyped as 76800 for 768 would otherwise abort the process in the middle of building it.
pub fn check_parameter_memory(
    config: &TrainConfig,
    datasets: &[Dataset],
    used: ParameterUse,
    available: Option<u64>,
) -> Result<(), RunError> {
    let Some(available) = available else {
        return Ok(());
    };
    let model = config.model_config().map_err(RunError::Config)?;
    let (tokenizers, tasks) = model_specs(config, datasets)?;
    let parameters = planned_parameter_count(&model, &tokenizers, &tasks);
    let (copies, held) = match used {
        ParameterUse::Values => (1, "their values"),
        ParameterUse::Training => (
            2 + config.optimizer.state_per_parameter(),
            "their values, gradients and optimizer state",
        ),
    };
    let bytes = parameters
        .saturating_mul(copies as u128)
        .saturating_mul(std::mem::size_of::<f32>() as u128);
    if bytes <= available as u128 {
        return Ok(());
    }
    Err(RunError::Refused(format!(
        "the model's {parameters} parameters would take {} ({held}, as f32), more than the {} \
         of memory available; choose a smaller model (width {}, depth {}, mlp_width {}: the \
         preset, or the [model] table)",
        gib(u64::try_from(bytes).unwrap_or(u64::MAX)),
        gib(available),
        model.width,
        model.depth,
        model.mlp_width
    )))
}

/// Refuses task `name`, whose examples of `modality` have `shape`, before any of its files is
/// decoded, when the configured patch does not tile them or when a training step of one
/// example alone would hold more than `available` bytes of attention maps (where known): the
/// checks [`Run::new`] and [`check_step_memory`] make, which a folder of many or large files
/// would otherwise reach only after the first pass.
pub fn check_input_shape(
    config: &TrainConfig,
    name: &str,
    modality: Modality,
    shape: &[usize],
    available: Option<u64>,
) -> Result<(), RunError> {
    let tokens = checked_tokenizer_spec(config, name, modality, shape)?.tokens() + 1;
    let model = config.model_config().map_err(RunError::Config)?;
    let needed = attention_bytes(1, &model, tokens);
    let smaller = match modality {
        Modality::Image => "a smaller size",
        Modality::Video => "a smaller size or fewer frames",
        Modality::Audio => "fewer frames",
    };
    match available {
        Some(available) if needed > available => Err(RunError::Refused(format!(
            "task {name}: one example's attention maps in a training step alone take {} \
             ({tokens} tokens per example of shape {shape:?}, {} heads, {} blocks), more than \
             the {} of memory available; choose larger patches or {smaller}",
            gib(needed),
            model.heads,
            model.depth,
            gib(available)
        ))),
        _ => Ok(()),
    }
}

/// `bytes` in GiB, for messages.
fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / (1u64 << 30) as f64)
}

/// An error naming the first task of `run` whose step's attention maps alone take more than
/// `available` bytes, with what to change.
pub fn check_step_memory(run: &Run, available: u64) -> Result<(), RunError> {
    for (j, dataset) in run.datasets.iter().enumerate() {
        let needed = step_attention_bytes(run, j)?;
        if needed > available {
            let tokens = run.model.tokens_per_example(&dataset.name)?;
            return Err(RunError::Refused(format!(
                "task {}: a training step's attention maps alone take {} ({} tokens per \
                 example, {} heads, {} blocks, batch_size {}), more than the {} of memory \
                 available; choose larger patches or a smaller batch_size",
                dataset.name,
                gib(needed),
                tokens,
                run.model.config.heads,
                run.model.config.depth,
                run.config.tasks[j].batch_size,
                gib(available)
            )));
        }
    }
    Ok(())
}
