//! `polyvit experiment NAME`: one of the paper's experiments in one command. Every row of its
//! table is trained over several seeds, in this process, one run after another, each run in its
//! own folder with a normal run's files (so `polyvit train --config DIR/config.toml` repeats it);
//! the rows' test means and standard deviations go to CSV, JSON, an SVG plot and the terminal.

mod design;
mod output;
mod summary;

use super::distributed::{refuse_undistributed_ranks, ReplicaChecks};
use super::driver::{check_memory, initialize, record_initialization, train_to_end, Ending};
use super::report::{check_output_folder, make_output_folder, write_whole, OutputFiles};
use super::tasks::load_tasks;
use super::Ended;
use clap::Args;
use design::{
    indistinct_comparisons, last_seed, pin_folder_shapes, rows, scale_budgets, seeded_runs,
    Experiment, SeededRun,
};
use nn::checkpoint::Checkpoint;
use nn::Parameters;
use output::Header;
use polyvit::data::Dataset;
use polyvit::memory::available_memory;
use polyvit::train::step_memory::{check_parameter_memory, ParameterUse};
use polyvit::train::{Run, TaskScore, TrainConfig};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;
use summary::{selected_rows, summaries, Outcome, Record, RowSummary};

// Negative numbers are values, refused by their flag as such, not taken for unknown flags.
#[derive(Args)]
#[command(allow_negative_numbers = true)]
pub struct ExperimentArgs {
    /// The experiment: single-task, schedules, adapt-depth, within-modality, hyperparameters,
    /// main-table or all.
    experiment: Experiment,
    /// Runs per row, at least 2 and at most 1,000, with seeds seed, seed + 1, … of the base
    /// configuration (the table reports their mean and standard deviation, which one run cannot
    /// give). Every run is planned before the first trains, so the count is bounded.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(2..=1000))]
    seeds: u64,
    /// Scale the step budgets to this many steps per task on average, keeping their ratios
    /// (warmups and evaluation and checkpoint intervals scale with them).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    steps_per_task: Option<u64>,
    /// Directory for the runs and results [default: runs/experiments/NAME].
    #[arg(long)]
    output: Option<PathBuf>,
    /// The base configuration, a TOML file as `polyvit train --config` takes [default: the one
    /// `polyvit train` uses]. For the full suite: the file `polyvit train --suite full
    /// --print-config` prints (its runs hold more data: 9.9 GB at peak for within-modality).
    #[arg(long)]
    config: Option<PathBuf>,
}

/// The base configuration: the defaults or the file, with the budgets scaled.
fn base_config(args: &ExperimentArgs) -> Result<TrainConfig, String> {
    let mut config = match &args.config {
        Some(path) => TrainConfig::from_toml_file(path)?,
        None => TrainConfig::default(),
    };
    if let Some(steps) = args.steps_per_task {
        let total = steps
            .checked_mul(config.tasks.len() as u64)
            .filter(|&total| total <= TrainConfig::MAX_STEPS);
        if total.is_none() {
            return Err(format!(
                "--steps-per-task {steps}: {} tasks would need more than the {} steps a run can plan",
                config.tasks.len(),
                TrainConfig::MAX_STEPS
            ));
        }
        scale_budgets(&mut config, steps);
    }
    config.validate()?;
    Ok(config)
}

/// The data of every task of `base`, loaded once for all the runs; an error names a task that
/// is neither in the suite nor a folder.
fn load_base_tasks(base: &TrainConfig) -> Result<Vec<Dataset>, String> {
    // The experiment's runs train on the CPU.
    let suite = load_tasks(base, available_memory(), true)?;
    if let Some(missing) = base
        .tasks
        .iter()
        .find(|t| suite.iter().all(|d| d.name != t.name))
    {
        let known: Vec<&str> = suite.iter().map(|d| d.name.as_str()).collect();
        return Err(format!(
            "no task {:?} in the suite (it has {})",
            missing.name,
            known.join(", ")
        ));
    }
    check_parameter_memory(base, &suite, ParameterUse::Training, available_memory())
        .map_err(|e| e.to_string())?;
    Ok(suite)
}

/// One run of one row: trains `config` into `dir` on its tasks out of `suite`, or takes the
/// results of the run that finished there with the same configuration (an earlier
/// invocation's: runs are deterministic, so an interrupted experiment goes on where it
/// stopped). `None` if the user interrupted it.
fn train_one(
    config: &TrainConfig,
    suite: &[Dataset],
    dir: &Path,
    interrupted: &AtomicBool,
) -> Result<Option<Outcome>, String> {
    let started = Instant::now();
    let datasets = suite
        .iter()
        .filter(|d| config.tasks.iter().any(|t| t.name == d.name))
        .cloned()
        .collect();
    let mut run = Run::new(config.clone(), datasets).map_err(|e| e.to_string())?;
    let finished_there = OutputFiles::finished_run(dir);
    let ran_there = finished_there.is_some();
    if let Some((earlier, results)) = finished_there {
        let tasks = |scores: &[TaskScore]| -> Vec<String> {
            scores.iter().map(|s| s.task.clone()).collect()
        };
        let names: Vec<String> = config.tasks.iter().map(|t| t.name.clone()).collect();
        let same_config = earlier == *config
            && tasks(&results.validation) == names
            && tasks(&results.test) == names;
        if !same_config {
            outln!(
                "finished there earlier with another configuration: trained again, replacing it"
            );
        } else if same_inputs(&run, dir) {
            outln!("finished there earlier with this configuration: its results are taken");
            return Ok(Some(Outcome {
                dir: dir.to_path_buf(),
                parameters: run.model.parameter_count(),
                seconds: results.seconds,
                validation: results.validation,
                test: results.test,
            }));
        }
    }
    check_memory(&run)?;
    // A run that finished there is trained again from the start (its results were not taken).
    let resumed = match ran_there {
        true => None,
        false => resume_interrupted(&mut run, dir)?,
    };
    let files = match resumed {
        Some(step) => OutputFiles::open(dir, &run.config, Some(step))?,
        None => {
            let initialized = initialize(&mut run)?;
            let files = OutputFiles::open(dir, &run.config, None)?;
            record_initialization(dir, initialized)?;
            files
        }
    };
    let checks = ReplicaChecks {
        check_every: 0,
        planned_exit: None,
    };
    let finished = match train_to_end(&mut run, Some(&files), interrupted, &checks, started)? {
        Ending::Finished(finished) => finished,
        Ending::Interrupted => return Ok(None),
        // A setting that diverges is a result (a learning rate too large, say), not the end of
        // the experiment: the run scores NaN, which the tables show as diverged.
        Ending::Diverged(message) => {
            outln!("{message}: recorded as diverged, and the experiment goes on");
            return Ok(Some(Outcome {
                dir: dir.to_path_buf(),
                parameters: run.model.parameter_count(),
                seconds: started.elapsed().as_secs_f64(),
                validation: run.diverged_scores(false),
                test: run.diverged_scores(true),
            }));
        }
    };
    // A full disk stops the experiment: its tables need every run's files.
    if let Some(unsaved) = finished.unsaved {
        return Err(unsaved);
    }
    Ok(Some(Outcome {
        dir: dir.to_path_buf(),
        parameters: run.model.parameter_count(),
        seconds: finished.seconds,
        validation: finished.validation,
        test: finished.test,
    }))
}

/// Goes on from the checkpoint an earlier invocation left in `dir` when it was interrupted in
/// this very run (the same configuration and inputs; runs are deterministic, so it ends as an
/// uninterrupted one would), saying so; the step it resumes after, or `None` when there is no
/// such checkpoint and the run starts afresh (replacing what is there).
fn resume_interrupted(run: &mut Run, dir: &Path) -> Result<Option<u64>, String> {
    let path = OutputFiles::checkpoint_path(dir);
    if !path.exists() {
        return Ok(None);
    }
    // An interrupted run's checkpoint is replaced by the fresh run: say why it cannot go on.
    let checkpoint = match Checkpoint::load(&path) {
        Ok(checkpoint) => checkpoint,
        Err(e) => {
            outln!(
                "interrupted there earlier, but its checkpoint does not read ({e}): trained afresh"
            );
            return Ok(None);
        }
    };
    if Run::config_in_checkpoint(&checkpoint).ok().as_ref() != Some(&run.config) {
        outln!("interrupted there earlier with another configuration: trained afresh");
        return Ok(None);
    }
    match run.restore(&checkpoint) {
        Ok(()) => {
            outln!(
                "interrupted there earlier with this configuration: resumed after step {}",
                run.step
            );
            Ok(Some(run.step))
        }
        Err(e) => {
            outln!("interrupted there earlier, but it cannot be resumed ({e}): trained afresh");
            // A restore that failed part way may have loaded some of the weights.
            *run = Run::new(run.config.clone(), run.datasets.clone()).map_err(|e| e.to_string())?;
            Ok(None)
        }
    }
}

/// Whether the run that finished in `dir` read the inputs `run` reads now (its checkpoint's
/// task descriptions: each split's statistics and labels); when not, or when its checkpoint
/// cannot be read, says so: the run is trained again.
fn same_inputs(run: &Run, dir: &Path) -> bool {
    let path = OutputFiles::checkpoint_path(dir);
    let changed = Checkpoint::load(&path)
        .map_err(|e| e.to_string())
        .and_then(|checkpoint| run.changed_inputs(&checkpoint).map_err(|e| e.to_string()));
    match changed {
        Ok(None) => true,
        Ok(Some(changed)) => {
            outln!(
                "finished there earlier on other inputs (task {}: {} differ): trained again",
                changed.task,
                changed.in_words
            );
            false
        }
        Err(e) => {
            outln!("finished there earlier, but its checkpoint does not read ({e}): trained again");
            false
        }
    }
}

/// The base configuration an experiment writes first in its folder, which marks the folder as
/// an experiment's.
const BASE_CONFIG_FILE: &str = "base-config.toml";

/// The files an experiment writes at the top of its folder: the base configuration, then the
/// tables (per row, per run), their JSON and their plot.
const EXPERIMENT_FILES: [&str; 5] = [
    BASE_CONFIG_FILE,
    "results.csv",
    "runs.csv",
    "results.json",
    "results.svg",
];

/// Refuses an output folder that holds files of an experiment's names but is no experiment's
/// (no readable `base-config.toml`): a finished `train` run's `results.json`, say, or the
/// user's own files, which the experiment would overwrite. An experiment's folder is taken
/// again: its finished runs are reused.
fn check_experiment_folder(dir: &Path) -> Result<(), String> {
    let held: Vec<&str> = (EXPERIMENT_FILES.into_iter())
        .filter(|name| dir.join(name).exists())
        .collect();
    let base = std::fs::read_to_string(dir.join(BASE_CONFIG_FILE));
    if held.is_empty() || base.is_ok_and(|text| TrainConfig::from_toml_str(&text).is_ok()) {
        return Ok(());
    }
    Err(format!(
        "{} holds {}, which no experiment wrote there (it has no readable {BASE_CONFIG_FILE}); \
         the experiment would overwrite them, so give --output a new or empty folder, or an \
         experiment's own",
        dir.display(),
        held.join(", ")
    ))
}

/// Writes the results of the rows run so far into `dir`.
fn write_outputs(
    dir: &Path,
    header: &Header,
    summaries: &[RowSummary],
    records: &[Record],
    tasks: &[String],
) -> Result<(), String> {
    let [_, results_csv, runs_csv, results_json, results_svg] = EXPERIMENT_FILES;
    output::write_results_csv(&dir.join(results_csv), summaries)?;
    output::write_runs_csv(&dir.join(runs_csv), records)?;
    output::write_json(&dir.join(results_json), header, summaries, records)?;
    output::plot(&dir.join(results_svg), summaries, tasks)
}

/// `row/part/seed-S` under `dir/runs` (a row of one part has no part folder).
fn run_dir(dir: &Path, row: &str, part: &str, seed: u64) -> PathBuf {
    let mut path = dir.join("runs").join(row);
    if !part.is_empty() {
        path.push(part);
    }
    path.join(format!("seed-{seed}"))
}

pub fn experiment(args: ExperimentArgs) -> Result<Ended, String> {
    refuse_undistributed_ranks(
        "but an experiment runs in one process: each would run all of it into the same folder \
         (run it without the launcher)",
    )?;
    let started = Instant::now();
    let mut base = base_config(&args)?;
    let model = base.model_config()?;
    let dir = args
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from("runs/experiments").join(args.experiment.name()));
    // What can be refused without the data is refused before it is read.
    last_seed(base.seed, args.seeds)?;
    check_output_folder(&dir)?;
    check_experiment_folder(&dir)?;
    let suite = load_base_tasks(&base)?;
    pin_folder_shapes(&mut base, &|name| {
        let dataset = suite.iter().find(|d| d.name == name)?;
        Some((dataset.modality, dataset.shape.clone()))
    });
    let tasks: Vec<String> = base.tasks.iter().map(|t| t.name.clone()).collect();
    let modality_of = |name: &str| {
        suite
            .iter()
            .find(|d| d.name == name)
            .expect("every task was found above")
            .modality
    };
    let rows = rows(args.experiment, &base, model.depth, &modality_of);
    // Rows that share a configuration share its run, which is trained once.
    let runs = seeded_runs(&rows, base.seed, args.seeds)?;
    // Every run's own configuration is checked before the first trains: a row's change to the
    // base (a learning rate doubled, a task trained alone with its own warmup) can make it one
    // that `train` would refuse.
    for run in &runs {
        run.config.validate().map_err(|e| {
            let part = match run.part.name.is_empty() {
                true => String::new(),
                false => format!(" ({})", run.part.name),
            };
            format!(
                "row {}{part} of the experiment would train an invalid configuration, so none \
                 was trained: {e}",
                run.row.name
            )
        })?;
    }
    make_output_folder(&dir)?;
    let base_text = toml::to_string(&base).map_err(|e| e.to_string())?;
    let base_path = dir.join(BASE_CONFIG_FILE);
    write_whole(&base_path, &base_text)?;
    let mut keys: Vec<&str> = runs.iter().map(|r| r.key.as_str()).collect();
    keys.sort();
    keys.dedup();
    let total = keys.len();
    // The table's rows: the experiment's, and those chosen among candidates on validation.
    let table_rows = rows.len() + selected_rows(&rows).len();
    outln!(
        "experiment {}: {table_rows} {}, {} seeds each, {total} runs of {} steps per task on average, into {}",
        args.experiment,
        if table_rows == 1 { "row" } else { "rows" },
        args.seeds,
        base.tasks.iter().map(|t| t.steps).sum::<u64>() / base.tasks.len() as u64,
        dir.display()
    );
    for note in indistinct_comparisons(args.experiment, &base, model.depth, &modality_of) {
        outln!("note: {note}");
    }

    let interrupted = super::stop_requests(true)?;
    let mut done: HashMap<&str, Rc<Outcome>> = HashMap::new();
    let mut records: Vec<Record> = Vec::new();
    let mut header = Header {
        experiment: args.experiment.name(),
        command: std::env::args().collect::<Vec<_>>().join(" "),
        seeds: args.seeds,
        steps_per_task: args.steps_per_task,
        base_config: base_text,
        seconds: 0.0,
    };
    let mut summarized = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        for SeededRun {
            part, config, key, ..
        } in runs.iter().filter(|r| r.row.name == row.name)
        {
            let outcome = match done.get(key.as_str()) {
                Some(outcome) => Rc::clone(outcome),
                None => {
                    let run_dir = run_dir(&dir, &row.name, &part.name, config.seed);
                    let what = match part.name.is_empty() {
                        true => row.name.clone(),
                        false => format!("{} {}", row.name, part.name),
                    };
                    outln!(
                        "\n[{}/{total}] {what} seed {} ({:.0} s so far) → {}",
                        done.len() + 1,
                        config.seed,
                        started.elapsed().as_secs_f64(),
                        run_dir.display()
                    );
                    let Some(outcome) = train_one(config, &suite, &run_dir, &interrupted)? else {
                        outln!(
                            "\ninterrupted: the runs finished so far are in {}; the same \
                             command again takes their results, resumes this run from its \
                             checkpoint and trains the rest",
                            dir.display()
                        );
                        return Ok(Ended::Interrupted);
                    };
                    let outcome = Rc::new(outcome);
                    done.insert(key.as_str(), Rc::clone(&outcome));
                    outcome
                }
            };
            records.push(Record {
                row: row.name.clone(),
                part: part.name.clone(),
                seed: config.seed,
                outcome,
            });
        }
        header.seconds = started.elapsed().as_secs_f64();
        summarized = summaries(&rows, i + 1, &records, &tasks);
        write_outputs(&dir, &header, &summarized, &records, &tasks)?;
    }
    outln!(
        "\nexperiment {}: test metric, mean ± std over {} seeds ({:.0} s in all)\n",
        args.experiment,
        args.seeds,
        started.elapsed().as_secs_f64()
    );
    out!("{}", output::table(&summarized, &tasks));
    outln!(
        "\nresults.csv, runs.csv, results.json and results.svg are in {}",
        dir.display()
    );
    Ok(Ended::Finished)
}
