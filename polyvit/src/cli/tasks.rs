//! The data of a run: the embedded tasks it trains and the configuration's tasks from folders.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use polyvit::data::{
    build_suite, build_task, plan_folder_task, Dataset, Modality, SuiteConfig, TaskId,
};
use polyvit::train::step_memory::check_input_shape;
use polyvit::train::{shape_clash, TrainConfig};
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};

/// Folders of at least this many files show a progress bar while they are decoded.
const SHOW_PROGRESS_FROM: usize = 1000;

/// The suite of `suite` (the embedded one or the full one). Its seed is fixed, so every run sees
/// the same splits whatever its training seed.
pub fn load_suite(suite: &SuiteConfig) -> Result<Vec<Dataset>, String> {
    build_suite(suite).map_err(|e| e.to_string())
}

/// The built-in tasks the configuration trains (each built as in the whole suite, embedded or
/// full: [`TrainConfig::suite_config`]), followed by its folder tasks, in order. A folder task
/// without sizes of its own takes the input shape of the run's first other task of the same
/// modality, so that the two share a tokenizer. When a configured name is neither, the whole
/// suite is returned, so that the run reports the name next to every task it could have been.
/// A folder task is refused before its files are decoded when the configured patch does not
/// tile its examples, or when one example's training step needs more than `memory` bytes (the
/// memory a training step draws on, where known: [`super::driver::step_memory_limit`]). With
/// `notes`, reading a large folder shows its progress and what is worth knowing about a folder
/// task is said on stderr (every rank of a distributed run but rank 0 reads without a word).
pub fn load_tasks(
    config: &TrainConfig,
    memory: Option<u64>,
    notes: bool,
) -> Result<Vec<Dataset>, String> {
    let suite = config.suite_config();
    let built_in: Option<Vec<TaskId>> = config
        .tasks
        .iter()
        .filter(|t| t.data.is_none())
        .map(|t| TaskId::ALL.into_iter().find(|id| id.name() == t.name))
        .collect();
    let mut datasets = match built_in {
        // The tasks are independent: built in parallel, in order (as `build_suite` does).
        Some(ids) => ids
            .into_par_iter()
            .map(|id| build_task(id, &suite).map_err(|e| format!("task {}: {e}", id.name())))
            .collect::<Result<Vec<_>, _>>()?,
        None => load_suite(&suite)?,
    };
    for task in &config.tasks {
        let Some(spec) = &task.data else { continue };
        if TaskId::ALL.iter().any(|id| id.name() == task.name) {
            return Err(format!(
                "task {}: a built-in task's name; the task of the folder {} needs a name of its own",
                task.name,
                spec.path.display()
            ));
        }
        let in_run: Vec<&Dataset> = config
            .tasks
            .iter()
            .filter_map(|t| datasets.iter().find(|d| d.name == t.name))
            .collect();
        let bar = ProgressBar::hidden();
        bar.set_style(
            ProgressStyle::with_template("{msg} {bar:30} {pos}/{len} files [{per_sec}]")
                .expect("a valid template"),
        );
        bar.set_message(format!("reading {}", task.name));
        let shown = AtomicBool::new(false);
        let progress = |done: usize, total: usize| {
            if notes && total >= SHOW_PROGRESS_FROM && !shown.swap(true, Ordering::Relaxed) {
                bar.set_draw_target(ProgressDrawTarget::stderr());
            }
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        };
        let planned = plan_folder_task(&task.name, spec, &in_run)
            .map_err(|e| format!("task {}: {e}", task.name))?;
        let (modality, shape) = (planned.modality(), planned.shape());
        if let Some(other) = in_run
            .iter()
            .find(|d| d.modality == modality && d.shape != shape)
        {
            let clash = shape_clash(&task.name, modality, shape, &other.name, &other.shape);
            return Err(clash.to_string());
        }
        check_input_shape(config, &task.name, modality, shape, memory)
            .map_err(|e| e.to_string())?;
        if let Some(lender) = planned.greyed_by().filter(|_| notes) {
            print_greyed_note(&task.name, modality, shape, lender);
        }
        let dataset = planned
            .build(&progress)
            .map_err(|e| format!("task {}: {e}", task.name));
        bar.finish_and_clear();
        let dataset = dataset?;
        if notes && dataset.train.streams() {
            let splits = [&dataset.train, &dataset.validation, &dataset.test];
            let values: usize = splits.iter().map(|s| s.len() * s.example_len()).sum();
            errln!(
                "task {}: its inputs ({:.1} MiB) are streamed from its files, each batch decoded when it is needed, not held in memory",
                task.name,
                (4 * values) as f64 / (1 << 20) as f64
            );
        }
        datasets.push(dataset);
    }
    Ok(datasets)
}

/// Says that the folder task `name` reads its colour files in grey, as the input shape it took
/// from the task `lender` holds one channel.
fn print_greyed_note(name: &str, modality: Modality, shape: &[usize], lender: &str) {
    let (files, sizes) = match modality {
        Modality::Video => ("clips", format!("{}×{}×{}", shape[0], shape[2], shape[3])),
        _ => ("images", format!("{}×{}", shape[1], shape[2])),
    };
    errln!(
        "note: task {name}: most of its {files} are in colour, but it reads them in grey \
         ({sizes}, the input shape of {lender}): the {} tasks of a run share one tokenizer; \
         train it without grey {} tasks to read it in colour",
        modality.name(),
        modality.name()
    );
}
