//! `polyvit train`: the run's configuration from the defaults, a file and the flags, a fresh or
//! resumed run, its header and its final scores ([`super::driver`] trains it).

use super::curves::{write_curves, CURVES_FILE};
use super::distributed::{DistributedArgs, ReplicaChecks};
use super::driver::{
    check_memory, initialize, record_initialization, step_memory_limit, train_to_end, Ending,
};
use super::report::{
    check_output_folder, continue_run_in, load_checkpoint_file, print_final_scores, OutputFiles,
};
use super::tasks::load_tasks;
use super::Ended;
use clap::Args;
use nn::checkpoint::{read_whole_file, Checkpoint};
use polyvit::data::{class_list, FolderSpec, TaskId};
use polyvit::memory::available_memory;
use polyvit::train::collective::{first_disagreement, on_any_rank};
use polyvit::train::step_memory::{check_parameter_memory, ParameterUse};
use polyvit::train::{Collective, Run, SingleProcess, TrainConfig};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Instant;
use tensor::Device;

// Negative numbers are values, refused by their flag as such, not taken for unknown flags.
#[derive(Args)]
#[command(allow_negative_numbers = true)]
pub struct TrainArgs {
    /// A TOML file with the whole configuration (see `--print-config` for the format).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Which suite the built-in tasks come from: `default` (embedded in the binary) or `full`
    /// (the folder --suite-dir, prepared once by `bash polyvit/scripts/fetch_full_suite.sh
    /// DIR`). Without --config, `full` also selects the full-suite run's tasks and recipe.
    #[arg(long, value_enum)]
    suite: Option<SuiteChoice>,
    /// The full suite's folder (default: `full-suite`), with --suite full or in place of the
    /// `suite_dir` of --config's file; with --resume, where the run's full suite is now (the
    /// folder moved, or the run goes on on another machine).
    #[arg(long)]
    suite_dir: Option<PathBuf>,
    /// Train only these tasks (comma-separated), e.g. `--tasks mnist` for a single-task baseline.
    #[arg(long, value_delimiter = ',')]
    tasks: Vec<String>,
    /// A task from a folder of your own files, NAME=DIR (repeatable): one subfolder per class
    /// holding images, audio clips (WAV, FLAC, Ogg Vorbis, .au; MP3, M4A, Opus and more with the
    /// ffmpeg feature), video files (MP4, WebM, AVI, MKV, MOV; with the ffmpeg feature) or folders
    /// of video frames, optionally inside train/, val/ and test/. It is trained next to the other
    /// tasks; with --tasks, name it there too. For a task --config's file reads from a folder, DIR
    /// replaces the folder and its other [task.data] settings stay.
    #[arg(long = "task", value_name = "NAME=DIR")]
    folder_tasks: Vec<String>,
    /// With --resume: where the folder of the run's task NAME is now, NAME=DIR (repeatable; the
    /// folder moved, or the run goes on on another machine). Only the folder changes; its
    /// files must still be the ones the run trained on.
    #[arg(long = "task-dir", value_name = "NAME=DIR", requires = "resume")]
    task_dirs: Vec<String>,
    /// Co-training schedule: task-by-task, alternating, uniform, weighted, accumulated.
    #[arg(long)]
    schedule: Option<String>,
    /// Model preset: small (default), tiny, ti16, b16, l16.
    #[arg(long)]
    preset: Option<String>,
    /// Modality-specific blocks before the shared ones (L_adapt).
    #[arg(long)]
    adapt_depth: Option<usize>,
    /// Total optimizer steps, split over the tasks in proportion to their budgets. With
    /// `--schedule accumulated`, where every step trains every task, the budgets still add up to
    /// this and the run takes this many divided by the number of tasks (rounded up): as many
    /// batches as the other schedules.
    #[arg(long)]
    steps: Option<u64>,
    /// The run's seed: initialization, the task plan, batches, augmentation and dropout.
    #[arg(long)]
    seed: Option<u64>,
    /// Evaluate on the validation splits every this many steps (0: only at the end).
    #[arg(long)]
    eval_every: Option<u64>,
    /// Cut each task's batch into this many micro-batches, whose gradients are summed (the
    /// whole batch's update up to rounding); on the CPU they run at once, one per thread. The
    /// default run uses 2; on a GPU, 1 runs each batch whole.
    #[arg(long)]
    micro_batches: Option<usize>,
    /// Where to compute: cpu, opencl (the first OpenCL device) or opencl:N (see `polyvit
    /// devices`). A run resumed from a checkpoint may continue on another device.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Directory for the checkpoint, logs and results [default: runs/latest; with --resume, the
    /// checkpoint's folder, whose logs the resumed run continues; another folder given with
    /// --resume must hold no run, and gets a copy of the logs so far].
    #[arg(long)]
    output: Option<PathBuf>,
    /// Continue a run from its checkpoint (its configuration is used; the same seed gives the
    /// same losses as an uninterrupted run).
    #[arg(long)]
    resume: Option<PathBuf>,
    /// Start from a pretrained ViT (a timm or Hugging Face safetensors file) instead of random
    /// weights; `polyvit info --init-from FILE` shows what is loaded, resized and left fresh.
    #[arg(long)]
    init_from: Option<PathBuf>,
    /// Print the effective configuration as TOML and exit.
    #[arg(long)]
    print_config: bool,
    /// Data-parallel training over MPI ranks.
    #[command(flatten)]
    distributed: Box<DistributedArgs>,
}

/// The suites `--suite` names.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum SuiteChoice {
    /// The embedded suite.
    Default,
    /// The full suite, read from --suite-dir.
    Full,
}

/// Says which of the built-in tasks `names` (given with --tasks) the configuration file at
/// `path` leaves out, and so train with the recipe's settings for them.
fn print_recipe_notes(config: &TrainConfig, names: &[String], path: &Path) {
    for name in names {
        if config.tasks.iter().any(|t| &t.name == name) {
            continue;
        }
        if let Some(t) = config.recipe_task(name) {
            errln!(
                "note: task {name} is not in {}: it trains with the default run's settings for \
                 it ({} steps, batch_size {}, lr {}; --print-config shows them all)",
                path.display(),
                t.steps,
                t.batch_size,
                t.lr
            );
        }
    }
}

/// `config` with its full suite read from `dir`, when given: the folder moved, or the run goes
/// on (or is scored) on another machine. Where the data lies is no part of a run.
pub(super) fn relocate_suite(config: &mut TrainConfig, dir: Option<&Path>) -> Result<(), String> {
    let Some(dir) = dir else { return Ok(()) };
    if config.suite_dir.is_none() {
        return Err(
            "--suite-dir names the full suite's folder, but this run trains on the embedded \
             suite; drop --suite-dir"
                .into(),
        );
    }
    let dir =
        std::path::absolute(dir).map_err(|e| format!("--suite-dir {}: {e}", dir.display()))?;
    config.suite_dir = Some(dir);
    Ok(())
}

/// `config` with the folders of its folder tasks where `moves` (`NAME=DIR`, each given with
/// `--task-dir`) say they are now: the folder moved, or the run goes on (or is scored) on
/// another machine. Only the folder changes: the task's other settings stay, and so does the
/// check that its files are the ones the checkpoint trained on.
pub(super) fn relocate_tasks(config: &mut TrainConfig, moves: &[String]) -> Result<(), String> {
    for arg in moves {
        let (name, dir) = FolderSpec::from_arg(arg).map_err(|_| {
            format!("--task-dir {arg:?}: expected NAME=DIR, a task and where its folder is now")
        })?;
        let task = config.tasks.iter_mut().find(|t| t.name == name);
        let Some(data) = task.and_then(|t| t.data.as_mut()) else {
            let from_folders: Vec<&str> = (config.tasks.iter())
                .filter(|t| t.data.is_some())
                .map(|t| t.name.as_str())
                .collect();
            return Err(match from_folders.is_empty() {
                true => format!("--task-dir {arg}: the run reads no task from a folder"),
                false => format!(
                    "--task-dir {arg}: the run reads no task {name} from a folder (it reads {} \
                     from folders)",
                    from_folders.join(", ")
                ),
            });
        };
        data.path = std::path::absolute(&dir).map_err(|e| format!("--task-dir {arg}: {e}"))?;
    }
    Ok(())
}

/// An error, saying how to give its new place, when the folder of one of a checkpoint's folder
/// tasks is not where `config` says (after [`relocate_tasks`]).
pub(super) fn require_task_folders(config: &TrainConfig) -> Result<(), String> {
    let gone = (config.tasks.iter())
        .find_map(|t| Some((&t.name, &t.data.as_ref()?.path)).filter(|(_, p)| !p.exists()));
    match gone {
        Some((name, path)) => Err(format!(
            "task {name}: {}: no such folder; if it moved, say where it is now with --task-dir \
             {name}=DIR",
            path.display()
        )),
        None => Ok(()),
    }
}

/// The configuration from the defaults, a file and the flags, in that order.
fn effective_config(args: &TrainArgs) -> Result<TrainConfig, String> {
    let suite_dir = || {
        let dir = args.suite_dir.as_deref().unwrap_or(Path::new("full-suite"));
        std::path::absolute(dir).map_err(|e| format!("--suite-dir {}: {e}", dir.display()))
    };
    let mut config = match (&args.config, args.suite) {
        (Some(path), _) => TrainConfig::from_toml_file(path)?,
        (None, Some(SuiteChoice::Full)) => TrainConfig::full_suite(suite_dir()?),
        (None, _) => TrainConfig::default(),
    };
    match args.suite {
        Some(SuiteChoice::Full) => config.suite_dir = Some(suite_dir()?),
        Some(SuiteChoice::Default) if args.suite_dir.is_some() => {
            return Err(
                "--suite-dir names the full suite's folder; it has no use with --suite default"
                    .into(),
            );
        }
        Some(SuiteChoice::Default) => config.suite_dir = None,
        None if args.suite_dir.is_some() && config.suite_dir.is_none() => {
            return Err("--suite-dir names the full suite's folder, but this run trains on the embedded suite; add --suite full".into());
        }
        None if args.suite_dir.is_some() => config.suite_dir = Some(suite_dir()?),
        None => {}
    }
    if !args.tasks.is_empty() {
        if let Some(path) = &args.config {
            print_recipe_notes(&config, &args.tasks, path);
        }
        config.select_tasks(&args.tasks);
    }
    let mut named: Vec<(String, &String)> = Vec::new();
    for arg in &args.folder_tasks {
        let (name, dir) = FolderSpec::from_arg(arg)?;
        if let Some((_, earlier)) = named.iter().find(|(n, _)| *n == name) {
            return Err(format!(
                "--task {earlier} and --task {arg}: two folders for task {name}; give each task one"
            ));
        }
        if !args.tasks.is_empty() && !args.tasks.contains(&name) {
            return Err(format!(
                "--task {arg}: {name} is not among --tasks ({}); name it there too, or leave out --task",
                args.tasks.join(",")
            ));
        }
        named.push((name.clone(), arg));
        let dir = std::path::absolute(&dir).map_err(|e| format!("--task {arg}: {e}"))?;
        config.set_task_folder(&name, dir);
    }
    if let Some(v) = &args.schedule {
        config.schedule = v.clone();
    }
    if let Some(v) = &args.preset {
        config.preset = v.clone();
    }
    if let Some(v) = args.adapt_depth {
        config.adapt_depth = v;
    }
    if let Some(v) = args.steps {
        let tasks = config.tasks.len();
        if v < tasks as u64 {
            return Err(match tasks {
                1 => format!("--steps {v}: the run's task trains at least one step"),
                _ => format!(
                    "--steps {v}: fewer than the run's {tasks} tasks, each of which trains at least one step"
                ),
            });
        }
        config.scale_steps(v);
    }
    if let Some(v) = args.seed {
        config.seed = v;
    }
    if let Some(v) = args.eval_every {
        config.eval_every = v;
    }
    if let Some(v) = args.micro_batches {
        config.micro_batches = v;
    }
    if let Some(path) = &args.init_from {
        let absolute = std::path::absolute(path);
        config.init_from =
            Some(absolute.map_err(|e| format!("--init-from {}: {e}", path.display()))?);
    }
    config.validate()?;
    // Checked here too, not only when the run is built, so that --print-config does not print
    // a configuration that cannot train.
    if let Some(task) = config
        .tasks
        .iter()
        .find(|t| t.data.is_none() && !TaskId::ALL.iter().any(|id| id.name() == t.name))
    {
        let names: Vec<&str> = TaskId::ALL.iter().map(|id| id.name()).collect();
        return Err(format!(
            "no task {:?} in the suite (it has {}); a task of your own files is --task {}=DIR",
            task.name,
            names.join(", "),
            task.name
        ));
    }
    Ok(config)
}

/// `--output`, or else the resumed checkpoint's folder, or else `runs/latest`.
fn output_folder(args: &TrainArgs) -> PathBuf {
    match (&args.output, &args.resume) {
        (Some(output), _) => output.clone(),
        (None, Some(checkpoint)) => checkpoint_folder(checkpoint),
        (None, None) => PathBuf::from("runs/latest"),
    }
}

/// The folder that holds `checkpoint`.
fn checkpoint_folder(checkpoint: &Path) -> PathBuf {
    match checkpoint.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Says that the run of `checkpoint` (in `folder`) ended at `step` and trains nothing more, and
/// where its results are when it was `scored`; one stopped between its results and its curves
/// (`logged`, no `curves.svg`) has them drawn from its logs.
fn tell_finished_run(
    step: u64,
    checkpoint: &Path,
    folder: &Path,
    scored: bool,
    logged: bool,
) -> Result<(), String> {
    let undrawn = scored && logged && !folder.join(CURVES_FILE).exists();
    if undrawn {
        write_curves(folder)?;
    }
    let (written, results) = match (scored, undrawn) {
        (true, false) => (
            "nothing was written",
            format!("; its results are in {}", folder.display()),
        ),
        (true, true) => (
            "nothing else was written",
            format!(
                "; its results are in {}, and its {CURVES_FILE}, which it was stopped before \
                 drawing, is drawn now",
                folder.display()
            ),
        ),
        (false, _) => ("nothing was written", String::new()),
    };
    outln!(
        "the run ended at step {step}: nothing left to train, so {written}{results} (polyvit \
         eval --checkpoint {} scores it again)",
        checkpoint.display()
    );
    Ok(())
}

pub fn train(args: TrainArgs) -> Result<Ended, String> {
    if args.distributed.distributed {
        return super::distributed::train(args);
    }
    super::distributed::refuse_undistributed_ranks(
        "but --distributed is missing: each would train alone and write the same files",
    )?;
    train_with(args, Rc::new(SingleProcess))
}

/// Reads a checkpoint: on rank 0, which broadcasts its bytes to the other ranks (so only rank
/// 0, which writes the checkpoints, needs to see the file).
fn load_checkpoint(path: &Path, collective: &dyn Collective) -> Result<Checkpoint, String> {
    if collective.size() == 1 {
        return load_checkpoint_file(path);
    }
    let mut bytes = if collective.rank() == 0 {
        read_whole_file(path).map_err(|e| e.to_string())?
    } else {
        Vec::new()
    };
    collective.broadcast_bytes(&mut bytes);
    Checkpoint::parse(&bytes, path).map_err(|e| e.to_string())
}

/// `polyvit train` as one of the data-parallel replicas of `collective` (rank 0 alone writes
/// files and prints).
pub fn train_with(args: TrainArgs, collective: Rc<dyn Collective>) -> Result<Ended, String> {
    let checks = ReplicaChecks::from_args(&args.distributed)?;
    let lead = collective.rank() == 0;
    // Flags that would set the ranks' collective calls apart from here on, so they agree on
    // them first: ranks resuming and ranks starting afresh (rank 0 sends the checkpoint to the
    // others), a rank that only prints its configuration (the others would wait for it
    // forever), ranks checking their replicas at other steps.
    let flags = [
        ("--resume", u64::from(args.resume.is_some())),
        ("--print-config", u64::from(args.print_config)),
        ("--check-every", checks.check_every),
    ];
    if let Some(i) = first_disagreement(&*collective, &flags.map(|(_, value)| value)) {
        let which = match flags[i] {
            ("--check-every", every) => format!("--check-every differs (here {every})"),
            (flag, _) => format!("{flag} on some ranks only"),
        };
        return Err(format!(
            "the ranks were given different runs: {which}; give every rank the same flags"
        ));
    }
    let device = Device::parse(&args.device).map_err(|e| e.to_string())?;
    let resumed = match &args.resume {
        Some(path) => {
            let given = [
                ("--config", args.config.is_some()),
                ("--suite", args.suite.is_some()),
                ("--tasks", !args.tasks.is_empty()),
                ("--task", !args.folder_tasks.is_empty()),
                ("--schedule", args.schedule.is_some()),
                ("--preset", args.preset.is_some()),
                ("--adapt-depth", args.adapt_depth.is_some()),
                ("--steps", args.steps.is_some()),
                ("--seed", args.seed.is_some()),
                ("--eval-every", args.eval_every.is_some()),
                ("--micro-batches", args.micro_batches.is_some()),
            ];
            let flags: Vec<&str> = given.iter().filter(|(_, g)| *g).map(|(f, _)| *f).collect();
            if !flags.is_empty() {
                return Err(format!(
                    "--resume continues a run with its own configuration; drop {}",
                    flags.join(", ")
                ));
            }
            if args.init_from.is_some() {
                return Err(
                    "--resume continues from the run's own weights; drop --init-from".into(),
                );
            }
            Some(load_checkpoint(path, &*collective)?)
        }
        None => None,
    };
    let config = match &resumed {
        Some(checkpoint) => {
            let mut config = Run::config_in_checkpoint(checkpoint).map_err(|e| e.to_string())?;
            relocate_suite(&mut config, args.suite_dir.as_deref())?;
            relocate_tasks(&mut config, &args.task_dirs)?;
            config
        }
        None => effective_config(&args)?,
    };
    if args.print_config {
        if lead {
            out!("{}", toml::to_string(&config).map_err(|e| e.to_string())?);
        }
        return Ok(Ended::Finished);
    }
    if let (Some(checkpoint), Some(path)) = (&resumed, &args.resume) {
        let step = Run::count_in_checkpoint(checkpoint, "step").map_err(|e| e.to_string())?;
        // A finished run trains nothing. Stopped while it was being scored (its log beside the
        // checkpoint, no results), it is scored now, as it would have been; otherwise no data is
        // read and nothing is written anywhere (its folder may hold its results, or be a
        // download folder with someone's own config.toml). Rank 0 looks; the others follow.
        let folder = checkpoint_folder(path);
        let finished = step == config.planned_steps();
        let (logged, scored) = match finished && lead {
            true => (
                OutputFiles::holds_log(&folder),
                OutputFiles::finished_run(&folder).is_some(),
            ),
            false => (false, false),
        };
        let unscored = on_any_rank(&*collective, logged && !scored);
        if finished && !unscored {
            if lead {
                tell_finished_run(step, path, &folder, scored, logged)?;
            }
            return Ok(Ended::Finished);
        }
        if unscored && lead {
            outln!(
                "note: the run ended at step {step} but was stopped before its results were \
                 written: it is scored now"
            );
        }
        require_task_folders(&config)?;
    }
    let output = output_folder(&args);
    if lead {
        check_output_folder(&output)?;
    }
    // Asked to stop while the data is read, the process ends at once: nothing is written yet.
    super::set_preparing(true);
    let interrupted = super::stop_requests(lead)?;
    let started = Instant::now();
    let suite = load_tasks(&config, step_memory_limit(&device), lead)?;
    // The model is trained where the device holds it, and built in this process's memory.
    let parameter_uses = [
        (ParameterUse::Training, step_memory_limit(&device)),
        (ParameterUse::Values, available_memory()),
    ];
    for (used, available) in parameter_uses {
        check_parameter_memory(&config, &suite, used, available).map_err(|e| e.to_string())?;
    }
    let mut run = Run::new(config, suite).map_err(|e| e.to_string())?;
    // A resumed run's weights are the checkpoint's: its configuration's init_from is history.
    let initialized = match &resumed {
        None => initialize(&mut run)?,
        Some(_) => None,
    };
    run.to_device(&device).map_err(|e| e.to_string())?;
    if let Some(checkpoint) = &resumed {
        run.restore(checkpoint).map_err(|e| e.to_string())?;
    }
    let ranks = collective.size();
    run.set_collective(collective).map_err(|e| e.to_string())?;
    run.check_ranks_run_alike().map_err(|e| e.to_string())?;
    run.check_replicas().map_err(|e| e.to_string())?;
    let resume_step = resumed.as_ref().map(|_| run.step);
    check_memory(&run)?;
    super::set_preparing(false);
    if let (true, Some(checkpoint)) = (lead, &args.resume) {
        continue_run_in(&checkpoint_folder(checkpoint), &output)?;
    }
    let files = match lead {
        true => Some(OutputFiles::open(&output, &run.config, resume_step)?),
        false => None, // Only rank 0 writes.
    };
    if lead && resume_step.is_none() {
        record_initialization(&output, initialized)?;
    }
    let replicas = match ranks {
        1 => String::new(),
        n => format!(" × {n} ranks"),
    };
    if lead {
        // One task is a single-task baseline: no co-training, no schedule.
        let (tasks, schedule) = match run.datasets.len() {
            1 => ("training 1 task".to_string(), String::new()),
            n => (
                format!("co-training {n} tasks"),
                format!(" with the {} schedule", run.config.schedule),
            ),
        };
        let resuming = match resume_step {
            Some(step) => format!(", resuming after step {step}"),
            None => String::new(),
        };
        let suite = match &run.config.suite_dir {
            Some(dir) => format!(" of the full suite in {}", dir.display()),
            None => String::new(),
        };
        outln!(
            "{tasks} ({}){suite}{schedule} on the {} preset{} on {}{replicas}: {}{resuming}, data ready in {:.1} s",
            run.datasets.iter().map(|d| d.name.as_str()).collect::<Vec<_>>().join(", "),
            run.config.preset,
            run.config.model.describe(),
            run.device(),
            steps(run.total_steps()),
            started.elapsed().as_secs_f64()
        );
        print_task_notes(&run);
        if files.as_ref().is_some_and(|files| files.replaced_run) {
            outln!(
                "note: {} held an earlier run; this one replaces it (its checkpoint and results \
                 were removed; --resume continues a run instead, --output keeps both)",
                output.display()
            );
        }
    }
    let finished = match train_to_end(&mut run, files.as_ref(), &interrupted, &checks, started)? {
        Ending::Finished(finished) => finished,
        Ending::Interrupted => {
            if let Some(files) = &files {
                outln!(
                    "\ninterrupted at step {}: checkpoint saved; continue with --resume {}",
                    run.step,
                    files.checkpoint.display()
                );
            }
            return Ok(Ended::Interrupted);
        }
        Ending::Diverged(message) => return Err(message),
    };
    if !lead {
        return Ok(Ended::Finished); // Not rank 0: nothing to print.
    }
    let seconds = finished.seconds;
    let took = match resume_step {
        Some(step) => format!("{seconds:.0} s since resuming at step {step}"),
        None => format!("{seconds:.0} s in all"),
    };
    outln!("\nResults after {} ({took}):", steps(run.step));
    print_final_scores(&run, &finished.validation, &finished.test);
    if let Some(unsaved) = finished.unsaved {
        return Err(format!(
            "{unsaved}\nthe scores above could not all be saved in {}",
            output.display()
        ));
    }
    outln!("\nCheckpoint, logs and results are in {}", output.display());
    Ok(Ended::Finished)
}

/// `n` steps in words: "1 step", "2 steps".
fn steps(n: u64) -> String {
    match n {
        1 => "1 step".into(),
        n => format!("{n} steps"),
    }
}

/// A class with fewer training examples than this, beside a class of ten times as many, is named
/// in the header.
const RARE_CLASS: usize = 3;

/// What the run's header says about its tasks, where it matters: a batch larger than the
/// training split, a task the schedule never draws, a class with only one or two training
/// examples, an evaluation split lacking a class.
fn print_task_notes(run: &Run) {
    let untrained = run.untrained_tasks();
    for (j, (task, dataset)) in run.config.tasks.iter().zip(&run.datasets).enumerate() {
        let examples = dataset.train.len();
        if task.batch_size > examples {
            outln!(
                "note: task {}: batch_size {} is more than its {examples} training examples; each batch holds all {examples}",
                task.name, task.batch_size
            );
        }
        if untrained.contains(&j) {
            outln!(
                "note: task {}: the {} schedule drew none of the run's {} steps for it; it is scored untrained",
                task.name,
                run.config.schedule,
                run.total_steps()
            );
        }
        // A class of one or two examples among many is more likely a typo in a label than a
        // class meant to be learned from so few.
        let counts = dataset.train.examples_per_class(dataset.num_classes);
        let most = counts.iter().copied().max().unwrap_or(0);
        let rare: Vec<usize> = (0..dataset.num_classes)
            .filter(|&c| (1..RARE_CLASS).contains(&counts[c]) && most >= 10 * counts[c])
            .collect();
        let named = |c: &usize| format!("{} ({})", dataset.class_names[*c], counts[*c]);
        let which = match rare.as_slice() {
            [] => None,
            [c] => Some(format!(
                "class {} has only {} of its {examples} training examples",
                dataset.class_names[*c], counts[*c]
            )),
            _ => Some(format!(
                "classes {} have only 1 or 2 of its {examples} training examples each",
                class_list(&rare.iter().map(named).collect::<Vec<_>>())
            )),
        };
        if let Some(which) = which {
            outln!(
                "note: task {}: {which}: a mistyped label, or too few to learn from",
                task.name
            );
        }
        // A multi-label task's classes are every name its label file uses, in any split.
        let unseen: Vec<&str> = (0..dataset.num_classes)
            .filter(|&c| counts[c] == 0)
            .map(|c| dataset.class_names[c].as_str())
            .collect();
        if !unseen.is_empty() {
            let (which, have, it) = match unseen.len() {
                1 => ("class", "has", "it"),
                _ => ("classes", "have", "them"),
            };
            outln!(
                "note: task {}: {which} {} {have} no training example: the model cannot learn {it}, and its scores of {it} say nothing",
                task.name,
                class_list(&unseen),
            );
        }
        if dataset.standardization.without_spread() {
            outln!(
                "note: task {}: every value of every training input is the same (blank pictures, silence?), so nothing in them tells the classes apart",
                task.name
            );
        }
        for (split, examples) in [("validation", &dataset.validation), ("test", &dataset.test)] {
            let missing = examples.classes_without_examples(dataset.num_classes);
            if !missing.is_empty() && !examples.is_empty() {
                let names: Vec<&str> = missing
                    .iter()
                    .map(|&c| dataset.class_names[c].as_str())
                    .collect();
                outln!(
                    "note: task {}: the {split} split has no examples of {}; its {split} score says nothing about {}",
                    task.name,
                    class_list(&names),
                    if names.len() == 1 { "that class" } else { "those classes" },
                );
            }
        }
    }
}
