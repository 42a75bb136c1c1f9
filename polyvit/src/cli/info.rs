//! `polyvit info`: parameter accounting.

use super::report::load_checkpoint_file;
use super::tasks::{load_suite, load_tasks};
use clap::Args;
use polyvit::data::{Dataset, SuiteConfig};
use polyvit::memory::available_memory;
use polyvit::model::{
    init_from_file, paper_tasks, parameter_table, single_task_parameter_count, PolyVit, TaskSpec,
    TokenizerSpec,
};
use polyvit::train::step_memory::{check_parameter_memory, ParameterUse};
use polyvit::train::{model_specs, TrainConfig, Trained};
use std::path::{Path, PathBuf};
use tensor::{DType, Device};

// Negative numbers are values, refused by their flag as such, not taken for unknown flags.
#[derive(Args)]
#[command(allow_negative_numbers = true)]
pub struct InfoArgs {
    /// Model preset: b16, l16, ti16, small, tiny.
    #[arg(long, default_value = "b16")]
    preset: String,
    /// Task set: `paper9` (the paper's nine tasks at their input sizes) or `default` (the
    /// default run's six tasks of the embedded suite, at their input sizes).
    #[arg(long, default_value = "paper9")]
    task_set: String,
    /// Modality-specific blocks before the shared ones (L_adapt).
    #[arg(long, default_value_t = 0)]
    adapt_depth: usize,
    /// Initialize the model from this pretrained ViT (timm or Hugging Face safetensors) and
    /// report what was loaded, adapted (resized, converted) and left fresh.
    #[arg(long)]
    init_from: Option<std::path::PathBuf>,
    /// The model of this checkpoint (written by `polyvit train`), with its own preset, tasks
    /// and L_adapt, instead of a preset and a task set.
    #[arg(long, conflicts_with_all = ["preset", "task_set", "adapt_depth", "init_from", "config"])]
    checkpoint: Option<PathBuf>,
    /// The model that `polyvit train --config FILE` would build (its preset, `[model]` table,
    /// L_adapt, patches and tasks, own folders included), instead of a preset and a task set.
    #[arg(long, conflicts_with_all = ["preset", "task_set", "adapt_depth"])]
    config: Option<PathBuf>,
}

/// The model to account for, with what names it.
struct Described {
    model: PolyVit,
    /// The preset's name, or the checkpoint's path and preset.
    name: String,
    /// The task set's name, or the checkpoint's tasks.
    tasks: String,
}

/// A fresh model of `args`'s preset and task set, or of its `--config` file (initialized from
/// `--init-from`, else from the file's `init_from`, reported).
fn fresh_model(args: &InfoArgs) -> Result<Described, String> {
    let (config, (tokenizers, tasks), name, task_names, init_from) = match &args.config {
        Some(path) => {
            let config = TrainConfig::from_toml_file(path)?;
            // Refused where `train` would refuse it on the CPU, before its folders are decoded.
            let datasets = load_tasks(&config, available_memory(), true)?;
            check_parameter_memory(&config, &datasets, ParameterUse::Values, available_memory())
                .map_err(|e| e.to_string())?;
            let specs = model_specs(&config, &datasets).map_err(|e| e.to_string())?;
            let names: Vec<&str> = config.tasks.iter().map(|t| t.name.as_str()).collect();
            let name = format!(
                "{}{} of {}",
                config.preset,
                config.model.describe(),
                path.display()
            );
            let init_from = args.init_from.clone().or(config.init_from.clone());
            (
                config.model_config()?,
                specs,
                name,
                names.join(", "),
                init_from,
            )
        }
        // Through the training configuration, so that a bad preset or L_adapt reads as in
        // `train`.
        None => {
            let config = TrainConfig {
                preset: args.preset.clone(),
                adapt_depth: args.adapt_depth,
                ..TrainConfig::default()
            };
            let specs = task_set(&args.task_set)?;
            let (preset, tasks) = (args.preset.clone(), args.task_set.clone());
            let init_from = args.init_from.clone();
            (config.model_config()?, specs, preset, tasks, init_from)
        }
    };
    let mut model = PolyVit::new(
        &config,
        &tokenizers,
        &tasks,
        DType::F32,
        &mut tensor::rng(0),
    )
    .map_err(|e| e.to_string())?;
    if let Some(path) = &init_from {
        let report = init_from_file(&mut model, path)?;
        outln!("initialized from {}: {report}", path.display());
    }
    Ok(Described {
        model,
        name,
        tasks: task_names,
    })
}

/// The model stored in the checkpoint at `path`.
fn trained_model(path: &Path) -> Result<Described, String> {
    let checkpoint = load_checkpoint_file(path)?;
    let trained = Trained::load(&checkpoint, &path.display().to_string(), &Device::Cpu)
        .map_err(|e| e.to_string())?;
    let tasks: Vec<&str> = trained.tasks.iter().map(|t| t.name.as_str()).collect();
    Ok(Described {
        name: format!(
            "{}{} of {}",
            trained.config.preset,
            trained.config.model.describe(),
            path.display()
        ),
        tasks: tasks.join(", "),
        model: trained.model,
    })
}

/// The tokenizers and tasks of a named task set.
fn task_set(name: &str) -> Result<(Vec<TokenizerSpec>, Vec<TaskSpec>), String> {
    match name {
        "paper9" => Ok(paper_tasks()),
        "default" => {
            let config = TrainConfig::default();
            let datasets: Vec<Dataset> = (load_suite(&SuiteConfig::default())?.into_iter())
                .filter(|d| config.tasks.iter().any(|t| t.name == d.name))
                .collect();
            model_specs(&config, &datasets).map_err(|e| e.to_string())
        }
        other => Err(format!(
            "unknown task set {other:?} (expected paper9 or default)"
        )),
    }
}

pub fn info(args: InfoArgs) -> Result<(), String> {
    let Described { model, name, tasks } = match &args.checkpoint {
        Some(path) => trained_model(path)?,
        None => fresh_model(&args)?,
    };
    let config = &model.config;
    outln!(
        "PolyViT {name} (width {}, depth {}, heads {}, MLP {}), L_adapt = {}, tasks: {tasks}\n",
        config.width,
        config.depth,
        config.heads,
        config.mlp_width,
        config.adapt_depth,
    );
    for (_, tokenizer) in &model.tokenizers {
        let spec = &tokenizer.spec;
        outln!(
            "  {} tokenizer: input {:?}, patch {:?} → {} tokens + CLS",
            spec.modality.name(),
            spec.input_shape,
            spec.patch,
            spec.tokens()
        );
    }
    outln!("\n{:<40} {:>14}", "part", "parameters");
    let rows = parameter_table(&model);
    for row in &rows {
        outln!("{:<40} {:>14}", row.part, group_thousands(row.count));
    }
    let polyvit: usize = rows.iter().map(|r| r.count).sum();
    outln!("{:<40} {:>14}\n", "PolyViT total", group_thousands(polyvit));
    let mut singles = 0;
    for (task, _) in &model.heads {
        let count = single_task_parameter_count(&model, &task.name).expect("the task exists");
        outln!(
            "{:<40} {:>14}",
            format!("single-task ViT: {}", task.name),
            group_thousands(count)
        );
        singles += count;
    }
    let n = model.heads.len();
    if n == 1 {
        // One task: the PolyViT is that task's ViT, with nothing to share.
        return Ok(());
    }
    outln!(
        "{:<40} {:>14}",
        format!("{n} single-task ViTs"),
        group_thousands(singles)
    );
    let ratio = singles as f64 / polyvit as f64;
    let saving = match format!("{ratio:.2}").as_str() {
        "1.00" => format!(
            "about as many parameters ({} fewer)",
            group_thousands(singles.saturating_sub(polyvit))
        ),
        shown => format!("{shown}× fewer parameters"),
    };
    outln!("\nOne PolyViT replaces {n} single-task models with {saving}.");
    Ok(())
}

/// `92290255` → `92,290,255`.
fn group_thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
