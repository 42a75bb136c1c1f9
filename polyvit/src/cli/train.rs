//! `polyvit train` and `polyvit eval`.

use super::eval_folder::eval_folder;
use super::report::{print_scores, OutputFiles};
use super::tasks::load_tasks;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use nn::checkpoint::Checkpoint;
use polyvit::data::FolderSpec;
use polyvit::model::init_from_file;
use polyvit::train::{Run, TrainConfig};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tensor::Device;

#[derive(Args)]
pub struct TrainArgs {
    /// A TOML file with the whole configuration (see `--print-config` for the format).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Train only these tasks (comma-separated), e.g. `--tasks mnist` for a single-task baseline.
    #[arg(long, value_delimiter = ',')]
    tasks: Vec<String>,
    /// A task from a folder of your own files, NAME=DIR (repeatable): one subfolder per class
    /// holding images, WAV clips or folders of video frames, optionally inside train/, val/ and
    /// test/. It is trained next to the other tasks (or instead of them with --tasks NAME).
    #[arg(long = "task", value_name = "NAME=DIR")]
    folder_tasks: Vec<String>,
    /// Co-training schedule: task-by-task, alternating, uniform, weighted, accumulated.
    #[arg(long)]
    schedule: Option<String>,
    /// Model preset: small (default), tiny, ti16, b16, l16.
    #[arg(long)]
    preset: Option<String>,
    /// Modality-specific blocks before the shared ones (L_adapt).
    #[arg(long)]
    adapt_depth: Option<usize>,
    /// Total optimizer steps, split over the tasks in proportion to their budgets.
    #[arg(long)]
    steps: Option<u64>,
    #[arg(long)]
    seed: Option<u64>,
    /// Evaluate on the validation splits every this many steps (0: only at the end).
    #[arg(long)]
    eval_every: Option<u64>,
    /// Where to compute: cpu, opencl (the first OpenCL device) or opencl:N (see `polyvit
    /// devices`). A run resumed from a checkpoint may continue on another device.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Directory for the checkpoint, logs and results.
    #[arg(long, default_value = "runs/latest")]
    output: PathBuf,
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
}

#[derive(Args)]
pub struct EvalArgs {
    /// The checkpoint to evaluate (written by `polyvit train`).
    #[arg(long)]
    checkpoint: PathBuf,
    /// Which split: test or validation.
    #[arg(long, default_value = "test")]
    split: String,
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
}

/// The configuration from the defaults, a file and the flags, in that order.
fn effective_config(args: &TrainArgs) -> Result<TrainConfig, String> {
    let mut config = match &args.config {
        Some(path) => TrainConfig::from_toml_file(path)?,
        None => TrainConfig::default(),
    };
    if !args.tasks.is_empty() {
        config.select_tasks(&args.tasks);
    }
    for arg in &args.folder_tasks {
        let (name, mut spec) = FolderSpec::from_arg(arg)?;
        spec.path = std::path::absolute(&spec.path).map_err(|e| format!("--task {arg}: {e}"))?;
        config.set_task_data(&name, spec);
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
        config.scale_steps(v);
    }
    if let Some(v) = args.seed {
        config.seed = v;
    }
    if let Some(v) = args.eval_every {
        config.eval_every = v;
    }
    config.validate()?;
    Ok(config)
}

pub fn train(args: TrainArgs) -> Result<(), String> {
    let device = Device::parse(&args.device).map_err(|e| e.to_string())?;
    let resumed = match &args.resume {
        Some(path) => {
            let changes_config = args.config.is_some()
                || !args.tasks.is_empty()
                || !args.folder_tasks.is_empty()
                || args.schedule.is_some()
                || args.preset.is_some()
                || args.adapt_depth.is_some()
                || args.steps.is_some()
                || args.seed.is_some();
            if changes_config {
                return Err("--resume continues a run with its own configuration; drop the other configuration flags".into());
            }
            if args.init_from.is_some() {
                return Err(
                    "--resume continues from the run's own weights; drop --init-from".into(),
                );
            }
            let checkpoint = Checkpoint::load(path).map_err(|e| e.to_string())?;
            Some(checkpoint)
        }
        None => None,
    };
    let config = match &resumed {
        Some(checkpoint) => Run::config_in_checkpoint(checkpoint).map_err(|e| e.to_string())?,
        None => effective_config(&args)?,
    };
    if args.print_config {
        print!("{}", toml::to_string(&config).map_err(|e| e.to_string())?);
        return Ok(());
    }
    let started = Instant::now();
    let suite = load_tasks(&config)?;
    let mut run = Run::new(config, suite).map_err(|e| e.to_string())?;
    let initialized = match &args.init_from {
        Some(path) => {
            let report = init_from_file(&mut run.model, path)?;
            println!("initialized from {}: {}", path.display(), report.summary());
            Some(format!("initialized from {}: {report}", path.display()))
        }
        None => None,
    };
    run.to_device(&device).map_err(|e| e.to_string())?;
    if let Some(checkpoint) = &resumed {
        run.restore(checkpoint).map_err(|e| e.to_string())?;
    }
    let resume_step = resumed.as_ref().map(|_| run.step);
    let files = OutputFiles::open(&args.output, &run.config, resume_step)?;
    if let Some(record) = initialized {
        // config.toml alone would not say that the run started from pretrained weights.
        let path = args.output.join("init_from.txt");
        std::fs::write(&path, record).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    println!(
        "co-training {} tasks ({}) with the {} schedule on the {} preset on {}: {} steps, data ready in {:.1} s",
        run.datasets.len(),
        run.datasets.iter().map(|d| d.name.as_str()).collect::<Vec<_>>().join(", "),
        run.config.schedule,
        run.config.preset,
        run.device(),
        run.total_steps(),
        started.elapsed().as_secs_f64()
    );
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&interrupted);
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))
        .map_err(|e| format!("cannot install the Ctrl-C handler: {e}"))?;
    train_loop(&mut run, &files, &interrupted)?;
    if interrupted.load(Ordering::SeqCst) {
        return Ok(());
    }
    let scores = run.evaluate(true).map_err(|e| e.to_string())?;
    files.write_scores(run.step, "test", &scores)?;
    files.write_results(&scores, started.elapsed().as_secs_f64())?;
    println!(
        "\nTest results after {} steps ({:.0} s in all):",
        run.step,
        started.elapsed().as_secs_f64()
    );
    print_scores(&run, &scores);
    println!(
        "\nCheckpoint, logs and results are in {}",
        args.output.display()
    );
    Ok(())
}

/// Steps until the plan is done or the user interrupts (then a checkpoint is saved).
fn train_loop(run: &mut Run, files: &OutputFiles, interrupted: &AtomicBool) -> Result<(), String> {
    let total = run.total_steps();
    let bar = ProgressBar::new(total).with_position(run.step);
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:30} {pos}/{len} steps [{elapsed_precise}<{eta_precise}, {per_sec}] {msg}",
        )
        .expect("a valid template"),
    );
    while run.step < total {
        if interrupted.load(Ordering::SeqCst) {
            run.save(&files.checkpoint).map_err(|e| e.to_string())?;
            bar.abandon();
            println!(
                "\ninterrupted at step {}: checkpoint saved; continue with --resume {}",
                run.step,
                files.checkpoint.display()
            );
            return Ok(());
        }
        let report = run.train_step().map_err(|e| {
            bar.abandon();
            e.to_string()
        })?;
        files.write_step(run, &report)?;
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
            let scores = run.evaluate(false).map_err(|e| e.to_string())?;
            files.write_scores(run.step, "validation", &scores)?;
            let summary: Vec<String> = scores
                .iter()
                .map(|s| format!("{} {} {:.3}", s.task, s.metric, s.value))
                .collect();
            // `suspend` prints even when the bar is hidden (output not a terminal).
            bar.suspend(|| println!("step {}: validation {}", run.step, summary.join(", ")));
        }
        if every(run.config.checkpoint_every) {
            run.save(&files.checkpoint).map_err(|e| e.to_string())?;
        }
    }
    run.save(&files.checkpoint).map_err(|e| e.to_string())?;
    bar.finish();
    Ok(())
}

pub fn eval(args: EvalArgs) -> Result<(), String> {
    let test = match args.split.as_str() {
        "test" => true,
        "validation" => false,
        other => {
            return Err(format!(
                "unknown split {other:?} (expected test or validation)"
            ))
        }
    };
    let device = Device::parse(&args.device).map_err(|e| e.to_string())?;
    if let Some(dir) = &args.data {
        return eval_folder(&args.checkpoint, dir, args.task.as_deref(), &device);
    }
    let checkpoint = Checkpoint::load(&args.checkpoint).map_err(|e| e.to_string())?;
    let config = Run::config_in_checkpoint(&checkpoint).map_err(|e| e.to_string())?;
    let mut run = Run::new(config.clone(), load_tasks(&config)?).map_err(|e| e.to_string())?;
    run.to_device(&device).map_err(|e| e.to_string())?;
    run.restore(&checkpoint).map_err(|e| e.to_string())?;
    let scores = run.evaluate(test).map_err(|e| e.to_string())?;
    println!(
        "{} results of {} (step {}):",
        args.split,
        args.checkpoint.display(),
        run.step
    );
    print_scores(&run, &scores);
    Ok(())
}

impl OutputFiles {
    /// `dir/checkpoint.safetensors`.
    pub fn checkpoint_path(dir: &Path) -> PathBuf {
        dir.join("checkpoint.safetensors")
    }
}
