//! Shared by the `cotrain` and `cotrain_opencl` examples: co-training MNIST and Fashion-MNIST
//! through `polyvit`'s library API, on any device.

use polyvit::data::{build_task, SuiteConfig, TaskId};
use polyvit::train::{Run, RunError, TaskScore, TrainConfig};
use std::collections::BTreeMap;
use tensor::Device;

/// Steps per task of the examples' runs, the same on the CPU and on an OpenCL device, so that
/// their scores can be compared.
pub const STEPS_PER_TASK: u64 = 400;

/// A run co-training one `small` PolyViT on MNIST and Fashion-MNIST (two image tasks: one
/// tokenizer, one shared encoder, two heads) for `steps_per_task` steps each, with the paper's
/// weighted schedule, on `device`; prints the model's parts and the start of the schedule.
pub fn new_run(device: &Device, steps_per_task: u64) -> Result<Run, RunError> {
    let mut config = TrainConfig::default();
    config.select_tasks(&["mnist".to_string(), "fashion_mnist".to_string()]);
    for task in &mut config.tasks {
        task.steps = steps_per_task;
        task.warmup = steps_per_task / 10;
    }
    let suite = SuiteConfig::default();
    let datasets = vec![
        build_task(TaskId::Mnist, &suite)?,
        build_task(TaskId::FashionMnist, &suite)?,
    ];
    let mut run = Run::new(config, datasets)?;
    run.to_device(device)?;
    println!("co-training on {}", run.device());

    // Parameters by dotted name, counted by their first two parts: one image tokenizer, one
    // encoder, one head per task.
    let mut parts: BTreeMap<String, usize> = BTreeMap::new();
    for (name, p) in nn::Parameters::named_parameters(&run.model) {
        let part: Vec<&str> = name.split('.').take(2).collect();
        *parts.entry(part.join(".")).or_default() += p.value().numel();
    }
    for (part, count) in &parts {
        println!("  {part:24} {count:7} parameters");
    }
    let first: Vec<usize> = (0..run.total_steps().min(16))
        .map(|s| run.tasks_at(s)[0])
        .collect();
    println!(
        "weighted schedule, tasks of the first {} of {} steps: {first:?}",
        first.len(),
        run.total_steps()
    );
    Ok(run)
}

/// Runs the rest of the plan, one optimizer step (one task's batch) at a time; returns each
/// task's training losses, in the configuration's task order.
pub fn train(run: &mut Run) -> Result<Vec<Vec<f64>>, RunError> {
    let mut losses = vec![Vec::new(); run.datasets.len()];
    while run.step < run.total_steps() {
        let report = run.train_step()?;
        for task_loss in &report.losses {
            losses[task_loss.task].push(task_loss.loss);
        }
        if report.step % 100 == 0 || run.step == run.total_steps() {
            let task = &run.datasets[report.losses[0].task].name;
            let loss = report.losses[0].loss;
            let lr = report.learning_rate;
            println!(
                "step {:4}  {task:14} loss {loss:.4}  lr {lr:.4}",
                report.step
            );
        }
    }
    Ok(losses)
}

/// Every task's metric on its test split, printed next to chance.
pub fn test_scores(run: &Run) -> Result<Vec<TaskScore>, RunError> {
    let scores = run.evaluate(true)?;
    for s in &scores {
        println!(
            "{:14} test {} {:.3} (chance {:.3})",
            s.task, s.metric, s.value, s.chance
        );
    }
    Ok(scores)
}
