//! Micro-batches (`micro_batches`): the whole batch's update up to rounding, whatever the
//! split, and the same numbers whether the parts run at once or one after another; likewise
//! evaluation's batches, which go forward one per thread at once on the CPU.

mod common;

use common::{suite, tiny_config};
use nn::Parameters;
use polyvit::data::Modality;
use polyvit::model::{ModelConfig, PolyVit, TaskSpec, TokenizerSpec};
use polyvit::train::evaluate::{eval_batch_size, logits_of_rows, EVAL_BATCH};
use polyvit::train::step_memory::{
    check_step_buffers, check_step_memory, step_attention_bytes, step_largest_tensor,
};
use polyvit::train::{ModelShape, Run, TrainConfig};
use tensor::{DType, Device};

/// Every task's loss at each of the run's steps, and every parameter's final values.
fn train(config: &TrainConfig) -> (Vec<f64>, Vec<f32>) {
    let mut run = Run::new(config.clone(), suite()).unwrap();
    let mut losses = Vec::new();
    while run.step < run.total_steps() {
        losses.extend(run.train_step().unwrap().losses.iter().map(|l| l.loss));
    }
    let parameters = run
        .model
        .named_parameters()
        .iter()
        .flat_map(|(_, p)| p.value().to_vec::<f32>().unwrap())
        .collect();
    (losses, parameters)
}

/// Three steps of every task with dropout and stochastic depth (their masks are drawn for the
/// whole batch) and mixup (it pairs rows across the batch), in batches of 16.
fn config(micro_batches: usize) -> TrainConfig {
    let mut config = tiny_config(3, 16);
    config.micro_batches = micro_batches;
    config.dropout = 0.1;
    config.attention_dropout = 0.1;
    for task in &mut config.tasks {
        task.stochastic_depth = 0.2;
        task.mixup = 0.3;
    }
    config
}

fn largest_difference(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn micro_batches_give_the_whole_batch_update() {
    let (losses, parameters) = train(&config(1));
    // Two equal parts, and three unequal ones (5, 5 and 6 rows), each weighted by its share.
    for micro_batches in [2, 3] {
        let (split_losses, split_parameters) = train(&config(micro_batches));
        assert_eq!(split_losses.len(), losses.len());
        for (step, (a, b)) in losses.iter().zip(&split_losses).enumerate() {
            assert!(
                (a - b).abs() <= 1e-5 * a.abs().max(1.0),
                "{micro_batches} micro-batches, loss {step}: {b} against {a} in one batch"
            );
        }
        let difference = largest_difference(&parameters, &split_parameters);
        assert!(
            difference <= 1e-5,
            "{micro_batches} micro-batches: a parameter moved {difference} from one batch's"
        );
    }
}

/// The configuration's dropout rates reach the model: without them the losses are others.
#[test]
fn dropout_from_the_configuration_is_applied() {
    let (losses, _) = train(&config(1));
    for off in [
        |c: &mut TrainConfig| c.dropout = 0.0,
        |c: &mut TrainConfig| c.attention_dropout = 0.0,
    ] {
        let mut without = config(1);
        off(&mut without);
        assert_ne!(train(&without).0, losses);
    }
}

/// On one thread the parts run one after another, on two at once (the tiny model's kernels are
/// small enough that none of them splits a sum over threads, so only the parts' timing differs).
#[test]
fn micro_batches_run_at_once_give_the_numbers_of_one_after_another() {
    let on_threads = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| train(&config(2)))
    };
    let (one_losses, one_parameters) = on_threads(1);
    let (two_losses, two_parameters) = on_threads(2);
    assert_eq!(one_losses, two_losses, "losses, 1 thread against 2");
    assert!(
        one_parameters == two_parameters,
        "parameters differ by up to {}",
        largest_difference(&one_parameters, &two_parameters)
    );
}

/// Evaluation scores batches one per thread at once on the CPU: the logits of up to 300 rows
/// in batches of 32 (the last one short) are those of one batch after another, in the split's
/// order, for every task.
#[test]
fn evaluation_batches_at_once_give_the_logits_of_one_after_another() {
    let run = Run::new(tiny_config(1, 8), suite()).unwrap();
    let on_threads = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                run.datasets
                    .iter()
                    .map(|d| {
                        let rows = 0..d.validation.len().min(300);
                        logits_of_rows(&run.model, d, &d.validation, rows, 32, &Device::Cpu)
                            .unwrap()
                    })
                    .collect::<Vec<_>>()
            })
    };
    let (one, two) = (on_threads(1), on_threads(2));
    assert_eq!(one.len(), 6, "a task of every modality");
    for ((dataset, a), b) in run.datasets.iter().zip(&one).zip(&two) {
        let rows = dataset.validation.len().min(300);
        assert!(
            rows > 64,
            "{}: too few rows for several batches",
            dataset.name
        );
        assert_eq!(a.len(), rows * dataset.num_classes, "{}", dataset.name);
        assert!(
            a == b,
            "{}: logits differ, 1 thread against 2",
            dataset.name
        );
    }
}

/// A step's attention maps: the rows that go forward at once (the micro-batches side by side,
/// one per thread) × (one map per block + two in the backward pass) × heads × tokens² × 4 bytes;
/// a run whose maps pass the memory available is refused, naming the task and what to change.
#[test]
fn a_step_whose_attention_maps_cannot_fit_is_refused() {
    let mut config = tiny_config(1, 16);
    config.micro_batches = 2;
    let run = Run::new(config, suite()).unwrap();
    let side_by_side = 2.min(rayon::current_num_threads()) as u64;
    // MNIST in 7×7 patches: 16 tokens and the CLS; the tiny preset: 2 heads, 2 blocks.
    let mnist = step_attention_bytes(&run, 0).unwrap();
    assert_eq!(run.datasets[0].name, "mnist");
    assert_eq!(mnist, 8 * side_by_side * (2 + 2) * 2 * 17 * 17 * 4);
    let largest = (0..run.datasets.len())
        .map(|j| step_attention_bytes(&run, j).unwrap())
        .max()
        .unwrap();
    assert!(check_step_memory(&run, largest).is_ok());
    let err = check_step_memory(&run, mnist - 1).unwrap_err().to_string();
    assert!(
        err.contains("task mnist: a training step's attention maps alone take")
            && err.contains("17 tokens per example, 2 heads, 2 blocks, batch_size 16")
            && err.contains("choose larger patches or a smaller batch_size"),
        "{err}"
    );
}

/// A step's largest tensor: the batch of this rank's inputs, or for one micro-batch's examples
/// a block's attention map, MLP hidden layer or query, key and value projections; a run one of
/// whose step's tensors passes what one device buffer holds is refused, naming the tensor.
#[test]
fn a_step_tensor_past_one_buffer_is_refused() {
    let mut config = tiny_config(1, 16);
    config.micro_batches = 2;
    let run = Run::new(config, suite()).unwrap();
    assert_eq!(run.datasets[0].name, "mnist");
    // 16 images of 28×28: 12,544 inputs, more than any tensor of 8 examples of 17 tokens
    // (attention 8 × 2 × 17², MLP 8 × 17 × 32, projections 8 × 17 × 48).
    assert_eq!(
        step_largest_tensor(&run, 0).unwrap(),
        ("the batch of inputs", 16 * 28 * 28)
    );
    let mut wide = tiny_config(1, 16);
    wide.micro_batches = 2;
    wide.model = ModelShape {
        mlp_width: Some(1024),
        ..ModelShape::default()
    };
    let wide = Run::new(wide, suite()).unwrap();
    assert_eq!(
        step_largest_tensor(&wide, 0).unwrap(),
        ("one block's MLP hidden layer", 8 * 17 * 1024)
    );
    let largest = (0..run.datasets.len())
        .map(|j| step_largest_tensor(&run, j).unwrap().1)
        .max()
        .unwrap();
    assert!(check_step_buffers(&run, largest).is_ok());
    let err = check_step_buffers(&run, 16 * 28 * 28 - 1)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("task mnist: in a training step, the batch of inputs would take 12544 elements, more than the 12543")
            && err.contains("batch_size 16, micro_batches 2, 17 tokens per example")
            && err.ends_with("tokens per example); choose a smaller batch_size"),
        "{err}"
    );
}

/// Evaluation takes batches of `EVAL_BATCH` examples, or fewer when their attention maps would
/// pass 256 MiB: clips cut into 1×1×1 tubelets (8,193 tokens) go one at a time.
#[test]
fn evaluation_batches_shrink_to_fit_long_token_sequences() {
    let model = |patch: &[usize]| {
        let video = TokenizerSpec::new(Modality::Video, &[8, 1, 32, 32], patch);
        let task = TaskSpec::new("clips", Modality::Video, 3);
        let config = ModelConfig::preset("tiny").unwrap();
        PolyVit::new(&config, &[video], &[task], DType::F32, &mut tensor::rng(0)).unwrap()
    };
    let size = |patch: &[usize]| eval_batch_size(&model(patch), "clips").unwrap();
    assert_eq!(size(&[2, 8, 8]), EVAL_BATCH);
    // 513 tokens: 2 maps × 2 heads × 513² × 4 bytes = 4.2 MB per example.
    assert_eq!(size(&[1, 4, 4]), (256 << 20) / (2 * 2 * 513 * 513 * 4));
    assert_eq!(size(&[1, 1, 1]), 1);
}
