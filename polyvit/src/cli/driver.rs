//! The training driver that `polyvit train` and `polyvit experiment` share: a run's
//! pretrained start, its memory check, and its steps to the end of the plan with evaluations,
//! checkpoints, logs and the final scores.

use super::distributed::ReplicaChecks;
use super::report::{OutputFiles, INIT_FROM_FILE};
use indicatif::{ProgressBar, ProgressStyle};
use polyvit::memory::available_memory;
use polyvit::model::init_from_file;
use polyvit::train::collective::on_any_rank;
use polyvit::train::step_memory::{check_step_buffers, check_step_memory};
use polyvit::train::{Run, RunError, TaskScore};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use tensor::Device;

/// Sets `run`'s model from the pretrained ViT its configuration names (`init_from`), saying
/// so; the record of what was loaded, adapted and left fresh (for `init_from.txt`), or `None`
/// when it names none.
pub fn initialize(run: &mut Run) -> Result<Option<String>, String> {
    let Some(path) = run.config.init_from.clone() else {
        return Ok(None);
    };
    let report = init_from_file(&mut run.model, &path)?;
    outln!("initialized from {}: {}", path.display(), report.summary());
    Ok(Some(format!(
        "initialized from {}: {report}",
        path.display()
    )))
}

/// Writes `init_from.txt` in a fresh run's folder `output`: what [`initialize`] loaded,
/// adapted and left fresh, or nothing when it loaded nothing (a record left by an earlier run
/// in the folder would say it wrongly).
pub fn record_initialization(output: &Path, initialized: Option<String>) -> Result<(), String> {
    let path = output.join(INIT_FROM_FILE);
    let written = match initialized {
        Some(record) => nn::file::write_atomically(&path, record.as_bytes()),
        None => std::fs::remove_file(&path).or_else(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Ok(()),
            _ => Err(e),
        }),
    };
    written.map_err(|e| format!("{}: {e}", path.display()))
}

/// The final scores of a run trained to the end of its plan.
pub struct Finished {
    /// Every task's metric on its validation split (for model selection).
    pub validation: Vec<TaskScore>,
    /// Every task's metric on its test split (to report).
    pub test: Vec<TaskScore>,
    /// Seconds from the start to the scores, as `results.json` records them.
    pub seconds: f64,
    /// Why the checkpoint or the results could not be written (a full disk): the scores are
    /// still worth printing, then the run fails with this.
    pub unsaved: Option<String>,
}

/// The memory a training step on `device` can draw on: what is available now for a step on
/// the CPU; an OpenCL device's global memory (the step's tensors live there).
pub fn step_memory_limit(device: &Device) -> Option<u64> {
    match device {
        Device::Cpu => available_memory(),
        Device::OpenCl(cl) => Some(cl.info().global_memory),
    }
}

/// Refuses a run whose training step's attention maps cannot fit in the memory it draws on
/// ([`step_memory_limit`], `step_memory`), or, on an OpenCL device, one of whose step's tensors
/// would not fit in one of its buffers, before anything is written.
pub fn check_memory(run: &Run) -> Result<(), String> {
    if let Some(available) = step_memory_limit(run.device()) {
        check_step_memory(run, available).map_err(|e| e.to_string())?;
    }
    if let Device::OpenCl(cl) = run.device() {
        let largest = cl.info().largest_buffer(std::mem::size_of::<f32>());
        check_step_buffers(run, largest).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Trains `run` to the end of its plan, then scores it on the validation splits and on the
/// test splits. Rank 0, the one with `files`, saves the checkpoint, logs both scores (the
/// validation scores as the last evaluation of `eval.csv`), writes `results.json` (with the
/// wall time since `started`) and draws the curves (`curves.svg`); a failure to write any of
/// them is kept in [`Finished::unsaved`], so the scores are not lost with it.
pub fn train_to_end(
    run: &mut Run,
    files: Option<&OutputFiles>,
    interrupted: &AtomicBool,
    checks: &ReplicaChecks,
    started: Instant,
) -> Result<Ending, String> {
    let start = run.step;
    if let Some(early) = train_loop(run, files, interrupted, checks)? {
        return Ok(early);
    }
    // Saved before scoring, which reads the data again (a streamed file may be gone by now);
    // not when no step was trained and the file is there (a finished run scored again: the
    // file holds the optimizer state, which a finished run does not load).
    let saved = match files {
        Some(files) if run.step > start || !files.checkpoint.exists() => {
            run.save(&files.checkpoint).map_err(|e| e.to_string())
        }
        _ => Ok(()),
    };
    let validation = run.evaluate(false).map_err(|e| e.to_string())?;
    let test = run.evaluate(true).map_err(|e| e.to_string())?;
    let seconds = started.elapsed().as_secs_f64();
    let written = match files {
        Some(files) => (|| {
            files.write_scores(run.step, "validation", &validation)?;
            files.write_scores(run.step, "test", &test)?;
            files.write_results(&validation, &test, seconds)?;
            files.write_curves()
        })(),
        None => Ok(()),
    };
    let problems: Vec<String> = [saved, written]
        .into_iter()
        .filter_map(Result::err)
        .collect();
    Ok(Ending::Finished(Finished {
        validation,
        test,
        seconds,
        unsaved: (!problems.is_empty()).then(|| problems.join("\n")),
    }))
}

/// How [`train_to_end`] ended, when nothing failed.
pub enum Ending {
    /// The plan was trained to its end and scored.
    Finished(Finished),
    /// A rank was asked to stop; a checkpoint holds the steps taken.
    Interrupted,
    /// A loss or the gradient norm stopped being a number ([`RunError::NonFinite`], whose
    /// message this is): nothing was saved or scored.
    Diverged(String),
}

/// Steps until the plan is done (`None`), or until it ends early: a rank is asked to stop
/// (`interrupted`; then a checkpoint is saved, and the caller says where) or the loss diverges.
/// The ranks agree before each step on whether any of them was asked, so they all stop after
/// the same step however far apart their signals came. Only rank 0, the one with `files`,
/// writes, prints and shows progress.
fn train_loop(
    run: &mut Run,
    files: Option<&OutputFiles>,
    interrupted: &AtomicBool,
    checks: &ReplicaChecks,
) -> Result<Option<Ending>, String> {
    let total = run.total_steps();
    let bar = match files {
        Some(_) => ProgressBar::new(total).with_position(run.step),
        None => ProgressBar::hidden(),
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:30} {pos}/{len} steps [{elapsed_precise}<{eta_precise}, {per_sec}] {msg}",
        )
        .expect("a valid template"),
    );
    while run.step < total {
        if on_any_rank(run.collective(), interrupted.load(Ordering::SeqCst)) {
            bar.abandon();
            if let Some(files) = files {
                run.save(&files.checkpoint).map_err(|e| e.to_string())?;
            }
            return Ok(Some(Ending::Interrupted));
        }
        checks.before_step(run);
        let report = match run.train_step() {
            Ok(report) => report,
            Err(e) => {
                bar.abandon();
                return match e {
                    RunError::NonFinite { .. } => Ok(Some(Ending::Diverged(e.to_string()))),
                    e => Err(stopped(run, files, e)),
                };
            }
        };
        checks.after_step(run)?;
        if let Some(files) = files {
            files.write_step(run, &report)?;
        }
        let names: Vec<String> = report
            .losses
            .iter()
            .map(|l| format!("{} {:.3}", run.datasets[l.task].name, l.loss))
            .collect();
        bar.set_message(format!(
            "{} (lr {:.4})",
            names.join(", "),
            report.learning_rate
        ));
        bar.inc(1);
        let every = |n: u64| n > 0 && run.step.is_multiple_of(n) && run.step < total;
        if every(run.config.eval_every) {
            let scores = run.evaluate(false).map_err(|e| {
                bar.abandon();
                stopped(run, files, e)
            })?;
            if let Some(files) = files {
                files.write_scores(run.step, "validation", &scores)?;
                let summary: Vec<String> = scores
                    .iter()
                    .map(|s| format!("{} {} {:.3}", s.task, s.metric, s.value))
                    .collect();
                // `suspend` prints even when the bar is hidden (output not a terminal).
                bar.suspend(|| outln!("step {}: validation {}", run.step, summary.join(", ")));
            }
        }
        if let (true, Some(files)) = (every(run.config.checkpoint_every), files) {
            run.save(&files.checkpoint).map_err(|e| e.to_string())?;
        }
    }
    run.check_replicas().map_err(|e| e.to_string())?;
    bar.finish();
    Ok(None)
}

/// The message of an error that stopped training. A data error (a file of a streamed task
/// unreadable or gone in the middle of the run) comes before the step changes anything, so the
/// run is saved as it stands and the message says how to go on once the file reads again; after
/// any other error (a non-finite loss, a failed collective) nothing is saved. A data error is
/// every rank's (the run agrees on them), and the ranks wait here until rank 0 has saved, so
/// that the end of the job does not cut its save short.
fn stopped(run: &Run, files: Option<&OutputFiles>, error: RunError) -> String {
    let message = match (&error, files) {
        (RunError::Data(_), Some(files)) => match run.save(&files.checkpoint) {
            Ok(()) => format!(
                "{error}\nstopped at step {}: checkpoint saved; once the file reads again, continue with --resume {}",
                run.step,
                files.checkpoint.display()
            ),
            Err(save) => format!("{error} (and saving a checkpoint failed: {save})"),
        },
        _ => error.to_string(),
    };
    if let RunError::Data(_) = error {
        on_any_rank(run.collective(), false);
    }
    message
}
