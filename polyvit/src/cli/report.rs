//! What a run writes: the configuration, per-step losses (JSON lines), evaluations (CSV), final
//! results (JSON), the curves (SVG), and the table printed at the end.

use super::config_edits::{keep_edited_config, CONFIG_FILE, EDITED_CONFIG_FILE};
use super::curves::CURVES_FILE;
use nn::checkpoint::Checkpoint;
use polyvit::train::{Run, StepReport, TaskScore, TrainConfig, METRICS};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The files of one run's output directory.
pub struct OutputFiles {
    dir: PathBuf,
    pub checkpoint: PathBuf,
    /// A fresh run found an earlier run's checkpoint or results in the folder (and removed
    /// them: see [`OutputFiles::open`]).
    pub replaced_run: bool,
    steps: Mutex<File>,
    evals: Mutex<File>,
    /// Held (locked) for as long as the run writes here: see [`lock_output_folder`].
    _lock: Option<File>,
}

/// The file a run locks in its output folder while it writes there.
const LOCK_FILE: &str = ".polyvit.lock";

/// Locks `dir` for one run: a second run (or a resumed one) given the same folder while the
/// first still writes there is refused, where the two would have written into each other's
/// logs and checkpoint. The lock is the operating system's advisory lock on `dir/.polyvit.lock`,
/// held by the returned file and released when it is dropped or the process ends, however it
/// ends. A file system without locks (`None`) leaves the folder unlocked, as before locks.
fn lock_output_folder(dir: &Path) -> Result<Option<File>, String> {
    let path = dir.join(LOCK_FILE);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Err(format!(
            "{} is in use by another run, which is writing its files there ({} is locked); \
             give this run another --output, or wait for that one to end",
            dir.display(),
            path.display()
        )),
        Err(std::fs::TryLockError::Error(_)) => Ok(None),
    }
}

/// What a run writes beside its logs, which a fresh run in the same folder writes again: the
/// checkpoint, the final results, the curves, and a resumed run's edited configuration.
const RUN_OUTPUTS: [&str; 4] = [
    CHECKPOINT_FILE,
    RESULTS_FILE,
    CURVES_FILE,
    EDITED_CONFIG_FILE,
];

/// A finished run's final scores and wall time, as `results.json` holds them.
pub struct FinalResults {
    pub validation: Vec<TaskScore>,
    pub test: Vec<TaskScore>,
    pub seconds: f64,
}

/// The final results, in a run's output folder.
const RESULTS_FILE: &str = "results.json";
/// The training losses, one JSON line per task and step.
pub const STEPS_FILE: &str = "steps.jsonl";
/// The evaluations, as CSV.
pub const EVALS_FILE: &str = "eval.csv";

/// The checkpoint, in a run's output folder.
pub const CHECKPOINT_FILE: &str = "checkpoint.safetensors";
/// What a fresh run loaded from a pretrained model (`init_from`), in its output folder.
pub const INIT_FROM_FILE: &str = "init_from.txt";

/// Every file a run writes in its output folder.
const RUN_FILES: [&str; 8] = [
    CONFIG_FILE,
    STEPS_FILE,
    EVALS_FILE,
    CHECKPOINT_FILE,
    RESULTS_FILE,
    CURVES_FILE,
    EDITED_CONFIG_FILE,
    INIT_FROM_FILE,
];

/// The names of [`RUN_FILES`] that `dir` holds.
fn run_files_in(dir: &Path) -> Vec<&'static str> {
    RUN_FILES
        .into_iter()
        .filter(|name| dir.join(name).symlink_metadata().is_ok())
        .collect()
}

/// The checkpoint at `path`, as [`Checkpoint::load`] reads it; given a run's folder instead, the
/// error names the checkpoint in it.
pub fn load_checkpoint_file(path: &Path) -> Result<Checkpoint, String> {
    Checkpoint::load(path).map_err(|e| {
        let inside = path.join(CHECKPOINT_FILE);
        match path.is_dir() && inside.is_file() {
            true => format!("{e}; the run's checkpoint in it is {}", inside.display()),
            false => e.to_string(),
        }
    })
}

/// Refuses a fresh run into `dir` when it holds files by the names of a run's that no run
/// wrote: a run's folder holds its configuration, `config.toml`, from the run's first moment,
/// so files beside a missing or foreign `config.toml` are someone else's (a project's
/// `config.toml`, a `results.json` of another tool), which the run would overwrite or remove.
fn check_no_foreign_files(dir: &Path) -> Result<(), String> {
    let held = run_files_in(dir);
    if held.is_empty() {
        return Ok(());
    }
    let config = dir.join(CONFIG_FILE);
    let why = match std::fs::read_to_string(&config) {
        Ok(text) => match TrainConfig::from_toml_str(&text) {
            Ok(_) => return Ok(()), // An earlier run: the new one replaces it.
            Err(e) => format!("its {CONFIG_FILE} is not a run's configuration ({e})"),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            format!("it has no {CONFIG_FILE}, which every run writes first")
        }
        Err(e) => format!("{}: {e}", config.display()),
    };
    Err(format!(
        "{} holds {}, which no run wrote: {why}; a new run would overwrite them, so give it a \
         new or empty folder (or move them)",
        dir.display(),
        held.join(", ")
    ))
}

fn open(path: &Path, append: bool) -> Result<File, String> {
    OpenOptions::new()
        .create(true)
        .append(append)
        .write(true)
        .truncate(!append)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Rewrites `path` keeping only the lines for which `keep` holds (atomically: a temporary file,
/// then a rename). A missing file is left missing.
fn keep_lines(path: &Path, keep: impl Fn(&str) -> bool) -> Result<(), String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let kept: String = text
        .lines()
        .filter(|line| keep(line))
        .map(|line| format!("{line}\n"))
        .collect();
    write_whole(path, kept)
}

impl OutputFiles {
    /// `dir/checkpoint.safetensors`.
    pub fn checkpoint_path(dir: &Path) -> PathBuf {
        dir.join(CHECKPOINT_FILE)
    }

    /// Creates the files in `dir`, or, when resuming from a checkpoint taken after `step` steps,
    /// keeps what was logged up to that point and appends after it: lines of later steps (logged
    /// before the interruption, and about to be trained again) are dropped, so no step appears
    /// twice; so are the final scores of a finished run's last step, which is about to be
    /// scored again (interrupted between its scores and `results.json`).
    pub fn open(
        dir: &Path,
        config: &TrainConfig,
        resume_step: Option<u64>,
    ) -> Result<OutputFiles, String> {
        make_output_folder(dir)?;
        let lock = lock_output_folder(dir)?;
        if resume_step.is_none() {
            check_no_foreign_files(dir)?;
        }
        let config_text = toml::to_string(config).map_err(|e| e.to_string())?;
        if resume_step.is_some() {
            if let Some((keys, kept)) = keep_edited_config(dir, &config_text)? {
                outln!(
                    "note: {} was edited ({}); a resumed run keeps the configuration in its \
                     checkpoint, so the edits are not used: they are kept in {} (start a new run \
                     from them with --config)",
                    dir.join(CONFIG_FILE).display(),
                    keys.join(", "),
                    kept.display()
                );
            }
        }
        // A fresh run replaces an earlier one here: none of its outputs may stay beside the new
        // configuration (a run that stops early would leave the old checkpoint and results).
        let mut replaced_run = false;
        if resume_step.is_none() {
            for name in RUN_OUTPUTS {
                let path = dir.join(name);
                match std::fs::remove_file(&path) {
                    Ok(()) => replaced_run |= name != EDITED_CONFIG_FILE,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(format!("{}: {e}", path.display())),
                }
            }
        }
        write_whole(&dir.join(CONFIG_FILE), config_text)?;
        let (steps_path, evals_path) = (dir.join(STEPS_FILE), dir.join(EVALS_FILE));
        if let Some(done) = resume_step {
            // steps.jsonl: the 0-based index of the step; eval.csv: steps done when evaluated.
            keep_lines(&steps_path, |line| {
                serde_json::from_str::<serde_json::Value>(line)
                    .ok()
                    .and_then(|v| v["step"].as_u64())
                    .is_some_and(|step| step < done)
            })?;
            // A row cut short by an interruption (fewer than the header's six fields) goes too.
            // Only the final scores are logged at the plan's last step.
            let finished = done == config.planned_steps();
            keep_lines(&evals_path, |line| match line.split(',').next() {
                Some("step") => true,
                Some(step) => {
                    line.split(',').count() == 6
                        && step
                            .parse::<u64>()
                            .is_ok_and(|s| s < done || (s == done && !finished))
                }
                None => false,
            })?;
        }
        let resuming = resume_step.is_some();
        let fresh = !resuming || !evals_path.exists();
        let mut evals = open(&evals_path, resuming)?;
        if fresh {
            writeln!(evals, "step,split,task,metric,value,chance")
                .map_err(|e| format!("{}: {e}", evals_path.display()))?;
        }
        Ok(OutputFiles {
            dir: dir.to_path_buf(),
            checkpoint: OutputFiles::checkpoint_path(dir),
            replaced_run,
            steps: Mutex::new(open(&steps_path, resuming)?),
            evals: Mutex::new(evals),
            _lock: lock,
        })
    }

    /// One JSON line per task trained in the step.
    pub fn write_step(&self, run: &Run, report: &StepReport) -> Result<(), String> {
        let mut file = self.steps.lock().expect("not poisoned");
        for loss in &report.losses {
            let line = serde_json::json!({
                "step": report.step,
                "task": run.datasets[loss.task].name,
                "loss": loss.loss,
                "lr": report.learning_rate,
                "grad_norm": report.grad_norm,
            });
            // One write per line, so that an interruption cannot leave part of one.
            file.write_all(format!("{line}\n").as_bytes())
                .map_err(|e| self.write_error(STEPS_FILE, e))?;
        }
        Ok(())
    }

    pub fn write_scores(&self, step: u64, split: &str, scores: &[TaskScore]) -> Result<(), String> {
        let mut file = self.evals.lock().expect("not poisoned");
        for s in scores {
            let row = format!(
                "{step},{split},{},{},{:.6},{:.6}\n",
                s.task, s.metric, s.value, s.chance
            );
            file.write_all(row.as_bytes())
                .map_err(|e| self.write_error(EVALS_FILE, e))?;
        }
        Ok(())
    }

    /// A failed write to the log `file` of the run's folder, naming it.
    fn write_error(&self, file: &str, e: std::io::Error) -> String {
        format!("{}: {e}", self.dir.join(file).display())
    }

    /// `results.json`: the final validation and test metrics and the wall time.
    pub fn write_results(
        &self,
        validation: &[TaskScore],
        test: &[TaskScore],
        seconds: f64,
    ) -> Result<(), String> {
        let json = |scores: &[TaskScore]| -> Vec<serde_json::Value> {
            scores
                .iter()
                .map(|s| serde_json::json!({"task": s.task, "metric": s.metric, "value": s.value, "chance": s.chance}))
                .collect()
        };
        let text = serde_json::to_string_pretty(&serde_json::json!({
            "seconds": seconds,
            "validation": json(validation),
            "test": json(test),
        }))
        .map_err(|e| e.to_string())?;
        write_whole(&self.dir.join(RESULTS_FILE), text)
    }

    /// Whether `dir` holds a run's log of its steps (a run's own folder, not only a checkpoint
    /// put there).
    pub fn holds_log(dir: &Path) -> bool {
        dir.join(STEPS_FILE).is_file()
    }

    /// The configuration and `results.json` of a run that finished in `dir`, if one did:
    /// `None` when either file is missing or unreadable (a run interrupted before its end
    /// writes no results).
    pub fn finished_run(dir: &Path) -> Option<(TrainConfig, FinalResults)> {
        let config = std::fs::read_to_string(dir.join(CONFIG_FILE)).ok()?;
        let config = TrainConfig::from_toml_str(&config).ok()?;
        let text = std::fs::read_to_string(dir.join(RESULTS_FILE)).ok()?;
        let json: serde_json::Value = serde_json::from_str(&text).ok()?;
        let scores = |split: &str| -> Option<Vec<TaskScore>> {
            json[split]
                .as_array()?
                .iter()
                .map(|s| {
                    Some(TaskScore {
                        task: s["task"].as_str()?.to_string(),
                        metric: METRICS.into_iter().find(|&m| s["metric"] == m)?,
                        value: s["value"].as_f64()?,
                        chance: s["chance"].as_f64()?,
                    })
                })
                .collect()
        };
        let results = FinalResults {
            validation: scores("validation")?,
            test: scores("test")?,
            seconds: json["seconds"].as_f64()?,
        };
        Some((config, results))
    }

    /// `curves.svg`: the run's loss and validation curves, drawn from its logs (written
    /// unbuffered, so complete on disk).
    pub fn write_curves(&self) -> Result<(), String> {
        super::curves::write_curves(&self.dir)
    }
}

/// The table at the end of a run: every task's metric on its validation and test splits, next
/// to its chance level on the test split; a validation split whose chance level differs (a
/// multi-label task's: the positives' rates of each split) is named below the table.
pub fn print_final_scores(run: &Run, validation: &[TaskScore], test: &[TaskScore]) {
    outln!(
        "{:<24} {:<6} {:<7} {:>10} {:>8} {:>8}",
        "task",
        "input",
        "metric",
        "validation",
        "test",
        "chance"
    );
    for ((v, t), dataset) in validation.iter().zip(test).zip(&run.datasets) {
        outln!(
            "{:<24} {:<6} {:<7} {:>10.3} {:>8.3} {:>8.3}",
            t.task,
            dataset.modality.name(),
            t.metric,
            v.value,
            t.value,
            t.chance
        );
    }
    let differ: Vec<String> = (validation.iter().zip(test))
        .filter(|(v, t)| format!("{:.3}", v.chance) != format!("{:.3}", t.chance))
        .map(|(v, _)| format!("{} {:.3}", v.task, v.chance))
        .collect();
    if !differ.is_empty() {
        outln!(
            "chance is the test split's; the validation split's: {}",
            differ.join(", ")
        );
    }
}

/// One split's table: every task's metric next to its chance level.
pub fn print_scores(run: &Run, scores: &[TaskScore]) {
    outln!(
        "{:<24} {:<6} {:<7} {:>8} {:>8}",
        "task",
        "input",
        "metric",
        "score",
        "chance"
    );
    for (score, dataset) in scores.iter().zip(&run.datasets) {
        outln!(
            "{:<24} {:<6} {:<7} {:>8.3} {:>8.3}",
            score.task,
            dataset.modality.name(),
            score.metric,
            score.value,
            score.chance
        );
    }
}

/// Prepares `dir` for a run resumed from a checkpoint in another folder, `from`: `dir` must hold
/// no run's files (they would be taken for this run's, its logs continued and its checkpoint
/// overwritten), and the run's logs so far are copied there from `from`, so that it continues
/// them as it would in its own folder. Nothing to do when the two are one folder.
pub fn continue_run_in(from: &Path, dir: &Path) -> Result<(), String> {
    let (from_path, dir_path) = (from.canonicalize(), dir.canonicalize());
    if matches!((&from_path, &dir_path), (Ok(a), Ok(b)) if a == b) {
        return Ok(()); // One folder: the run continues its own logs there.
    }
    let logs = [STEPS_FILE, EVALS_FILE];
    let held = run_files_in(dir);
    if !held.is_empty() {
        return Err(format!(
            "--output {}: it holds a run's files ({}), which the run resumed from {} would take \
             for its own; give a new or empty folder (or, to go on with the run there, resume \
             its checkpoint: --resume {})",
            dir.display(),
            held.join(", "),
            from.display(),
            dir.join(CHECKPOINT_FILE).display()
        ));
    }
    make_output_folder(dir)?;
    for name in logs {
        let (source, copy) = (from.join(name), dir.join(name));
        if source.exists() {
            std::fs::copy(&source, &copy)
                .map_err(|e| format!("{} → {}: {e}", source.display(), copy.display()))?;
        }
    }
    Ok(())
}

/// Writes a whole output file (`results.json`, a configuration, a plot, an experiment's tables)
/// atomically ([`nn::file::write_atomically`]): an interruption leaves the old file or the new
/// one, never part of one. The error names the path.
pub fn write_whole(path: &Path, bytes: impl AsRef<[u8]>) -> Result<(), String> {
    nn::file::write_atomically(path, bytes.as_ref()).map_err(|e| format!("{}: {e}", path.display()))
}

/// Creates the output folder `dir` (and the folders above it); a file in its place or above it
/// is an error that says so ([`check_output_folder`]).
pub fn make_output_folder(dir: &Path) -> Result<(), String> {
    check_output_folder(dir)?;
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("{}: cannot create the output folder: {e}", dir.display()))
}

/// Refuses an output folder `dir` that is a file, or below one, without writing anything: made
/// before the data is read (minutes for the full suite), so that such an `--output` is named
/// at once.
pub fn check_output_folder(dir: &Path) -> Result<(), String> {
    if dir.exists() && !dir.is_dir() {
        return Err(format!(
            "{}: the output folder is a file; give --output a folder",
            dir.display()
        ));
    }
    match dir.ancestors().skip(1).find(|a| a.exists()) {
        Some(above) if !above.is_dir() => Err(format!(
            "{}: cannot create the output folder: {} is a file; give --output a folder",
            dir.display(),
            above.display()
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A finished run's scores read back as the very numbers written: an experiment takes them
    /// instead of training again, and its tables (and the choice among learning rates, which
    /// compares them exactly) must not move by a last bit.
    #[test]
    fn results_read_back_bit_for_bit() {
        let dir = std::env::temp_dir().join(format!("polyvit-results-{}", std::process::id()));
        std::fs::remove_dir_all(&dir).ok();
        let files = OutputFiles::open(&dir, &TrainConfig::default(), None).unwrap();
        // 29/196 is one a parser that is not correctly rounded reads one bit off.
        let values: Vec<f64> = [29.0 / 196.0]
            .into_iter()
            .chain((1..2000).map(|k| k as f64 / 1999.0))
            .chain((1..200).map(|k| (k as f64).sqrt() / 15.0))
            .collect();
        let scores = |values: &[f64]| -> Vec<TaskScore> {
            values
                .iter()
                .map(|&value| TaskScore {
                    task: "mnist".into(),
                    metric: METRICS[0],
                    value,
                    chance: value / 3.0,
                })
                .collect()
        };
        let (validation, test) = (scores(&values), scores(&values[1..]));
        files.write_results(&validation, &test, 1.0 / 3.0).unwrap();
        let (_, read) = OutputFiles::finished_run(&dir).expect("a finished run");
        let bits = |scores: &[TaskScore]| -> Vec<(u64, u64)> {
            scores
                .iter()
                .map(|s| (s.value.to_bits(), s.chance.to_bits()))
                .collect()
        };
        assert_eq!(bits(&read.validation), bits(&validation));
        assert_eq!(bits(&read.test), bits(&test));
        assert_eq!(read.seconds.to_bits(), (1.0f64 / 3.0).to_bits());
        std::fs::remove_dir_all(&dir).ok();
    }
}
