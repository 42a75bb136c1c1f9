//! `polyvit eval`: a checkpoint's scores on its tasks' splits or on a labelled folder.

use super::eval_folder::eval_folder;
use super::report::{load_checkpoint_file, print_scores};
use super::tasks::load_tasks;
use super::train::{relocate_suite, relocate_tasks, require_task_folders};
use clap::Args;
use polyvit::train::Run;
use std::path::PathBuf;
use tensor::Device;

#[derive(Args)]
pub struct EvalArgs {
    /// The checkpoint to evaluate (written by `polyvit train`).
    #[arg(long)]
    checkpoint: PathBuf,
    /// Which split of the checkpoint's tasks to score.
    #[arg(long, value_enum, default_value_t = SplitChoice::Test, conflicts_with = "data")]
    split: SplitChoice,
    /// Where to compute: cpu, opencl or opencl:N.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Score the checkpoint on this labelled folder instead (one subfolder per class, named as
    /// the task's classes).
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// With --data: the task to score (default: the only one that fits the folder).
    #[arg(long, requires = "data")]
    task: Option<String>,
    /// Where the checkpoint's full suite is now, if it has moved since training (default: the
    /// folder it was trained on).
    #[arg(long, conflicts_with = "data")]
    suite_dir: Option<PathBuf>,
    /// Where the folder of the checkpoint's task NAME is now, NAME=DIR (repeatable), if it has
    /// moved since training; its files must still be the ones the task trained on.
    #[arg(long = "task-dir", value_name = "NAME=DIR", conflicts_with = "data")]
    task_dirs: Vec<String>,
    /// With --data: read files as they are (pictures only resized, recordings not brought to the
    /// speech or drum form; a folder task's recordings are still heard in its window), even for
    /// a task whose training data was made in a form (by default they are brought to it first).
    #[arg(long, requires = "data")]
    as_is: bool,
}

/// The splits `eval --split` names.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum SplitChoice {
    /// The test split.
    Test,
    /// The validation split.
    Validation,
}

/// `polyvit eval`: a checkpoint's scores on its tasks' test (or validation) splits, or on a
/// labelled folder.
pub fn eval(args: EvalArgs) -> Result<(), String> {
    let test = args.split == SplitChoice::Test;
    let device = Device::parse(&args.device).map_err(|e| e.to_string())?;
    if let Some(dir) = &args.data {
        return eval_folder(
            &args.checkpoint,
            dir,
            args.task.as_deref(),
            args.as_is,
            &device,
        );
    }
    let checkpoint = load_checkpoint_file(&args.checkpoint)?;
    let mut config = Run::config_in_checkpoint(&checkpoint).map_err(|e| e.to_string())?;
    relocate_suite(&mut config, args.suite_dir.as_deref())?;
    relocate_tasks(&mut config, &args.task_dirs)?;
    require_task_folders(&config)?;
    // Evaluation keeps no attention maps for a backward pass: no training step's memory limit.
    let mut run =
        Run::new(config.clone(), load_tasks(&config, None, true)?).map_err(|e| e.to_string())?;
    run.to_device(&device).map_err(|e| e.to_string())?;
    run.restore_weights(&checkpoint)
        .map_err(|e| e.to_string())?;
    let scores = run.evaluate(test).map_err(|e| e.to_string())?;
    // A file of weights alone may carry no step.
    let step = match Run::count_in_checkpoint(&checkpoint, "step") {
        Ok(step) => format!(" (step {step})"),
        Err(_) => String::new(),
    };
    let split = match test {
        true => "test",
        false => "validation",
    };
    outln!("{split} results of {}{step}:", args.checkpoint.display());
    print_scores(&run, &scores);
    Ok(())
}
