//! Training configuration: what a run's configuration holds and how it is read from TOML. The
//! values a file leaves out are the default run's, in `recipe`; `checks` holds the rules the
//! types cannot state, `tasks_and_steps` the changes a caller makes to a configuration (its
//! tasks, a task's folder, a total step count).
//!
//! Every key is checked: an unknown key in the TOML file is an error that names it.

use super::loss::LossKind;
use super::model_shape::ModelShape;
use super::optimizer::OptimizerConfig;
use super::sampler::{plan_length, Schedule};
use crate::data::{FolderSpec, SuiteConfig};
use crate::model::ModelConfig;
use nn::layers::Gelu;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

mod checks;
mod tasks_and_steps;
#[cfg(test)]
mod tests;

/// Per-task hyperparameters (the paper reuses each task's single-task settings when co-training).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskConfig {
    /// The task's name in the suite (`mnist`, `drums`, ...).
    pub name: String,
    /// `Uⱼ`: this task's optimizer steps (its single-task budget).
    pub steps: u64,
    /// Examples in each of this task's batches (the whole training split when it holds fewer);
    /// at least `micro_batches`, as the batch is cut into that many parts.
    pub batch_size: usize,
    /// The task's learning-rate coefficient (peak learning rate).
    pub lr: f64,
    /// This task's share of the warmup; the schedule warms up over the sum of all tasks' shares.
    /// 0 when a configuration file leaves it out (`TaskConfig::new` gives a tenth of the steps).
    #[serde(default)]
    pub warmup: u64,
    /// Mixup `α` (0 = off); pairs example `i` with `B − 1 − i` as the reference does.
    #[serde(default)]
    pub mixup: f64,
    /// Stochastic depth rate of the last block (0 = off).
    #[serde(default)]
    pub stochastic_depth: f64,
    /// Random translation by up to this many pixels (images and video only).
    #[serde(default)]
    pub max_shift: usize,
    /// Random rotation about the centre by up to this many degrees either way (images and
    /// video only).
    #[serde(default)]
    pub max_rotation: f64,
    /// Random scaling about the centre by a factor within `1 ± max_zoom` (images and video only).
    #[serde(default)]
    pub max_zoom: f64,
    /// SpecAugment masks (audio only): one frequency and one time mask per example.
    #[serde(default)]
    pub spec_augment: bool,
    /// Each training clip played backwards with probability ½ (video only; for labels that do
    /// not depend on the direction of time).
    #[serde(default)]
    pub time_reversal: bool,
    /// Label smoothing `ε` (for either loss).
    #[serde(default)]
    pub label_smoothing: f64,
    /// `softmax` or `sigmoid` (see [`LossKind`]); unset, the task's kind decides: softmax for
    /// single-label tasks, sigmoid for multi-label ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss: Option<LossKind>,
    /// Read the task from a folder of the user's files (`[task.data]`) instead of the suite.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<FolderSpec>,
}

/// The value of an unset `micro_batches`.
fn one() -> usize {
    1
}

/// Patch sizes of each modality's tokenizer (in a TOML file, a modality left out takes the
/// default run's).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PatchConfig {
    /// An image patch, `[height, width]` in pixels (the default run's: `[7, 7]`).
    pub image: Vec<usize>,
    /// A video tubelet, `[frames, height, width]` (the default run's: `[2, 8, 8]`).
    pub video: Vec<usize>,
    /// A spectrogram patch, `[frames, mel bands]` (the default run's: `[2, 32]`, every band).
    pub audio: Vec<usize>,
}

/// Everything a training run needs. In a TOML file, a key left out takes the default run's value
/// ([`TrainConfig::default`], what `polyvit train --print-config` prints), but `micro_batches`,
/// which is 1 when left out so that files written before it existed train as they did; inside a
/// `[[task]]`, `name`, `steps`, `batch_size` and `lr` are required and the rest default to off.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Model preset (see `ModelConfig::preset`).
    pub preset: String,
    /// The preset's shape changed key by key (`[model]`: `width`, `depth`, `heads`,
    /// `mlp_width`); not written when no key is set.
    #[serde(default, skip_serializing_if = "ModelShape::is_empty")]
    pub model: ModelShape,
    /// `L_adapt`: modality-specific blocks before the shared ones.
    pub adapt_depth: usize,
    /// Dropout rate on the outputs of each block's attention and MLP (0 = off; unset, 0).
    #[serde(default)]
    pub dropout: f64,
    /// Dropout rate on the attention weights (0 = off; unset, 0).
    #[serde(default)]
    pub attention_dropout: f64,
    /// The form of GELU in the MLPs: `"tanh"` (the reference's and the default run's) or
    /// `"erf"` (the exact form of `torch.nn.GELU()` and timm's ViTs: what weights loaded with
    /// `init_from` from those were trained with). Unset, `"tanh"`, as every run before the key.
    pub gelu: String,
    /// The co-training schedule by name: `task-by-task`, `alternating`, `uniform`, `weighted`
    /// (the default run's) or `accumulated` (see [`Schedule`]).
    pub schedule: String,
    /// The seed of every random draw of the run: the initial weights, which task trains at each
    /// step, each step's batches and augmentations, and the dropout and stochastic-depth masks.
    pub seed: u64,
    /// Evaluate on the validation splits every this many steps (0 = only at the end).
    pub eval_every: u64,
    /// Save a checkpoint every this many steps (0 = only at the end).
    pub checkpoint_every: u64,
    /// The optimizer and its settings (`[optimizer]`, `name = "sgd"` or `"adamw"`).
    pub optimizer: OptimizerConfig,
    /// Global gradient-norm clipping threshold.
    pub clip_norm: f64,
    /// Each task's batch is cut into this many micro-batches whose gradients are summed: the
    /// whole batch's update, up to rounding (see `train::micro_batch`). On the CPU they run in
    /// parallel, one per thread. Unset, 1, so files written before the key existed train as
    /// they did.
    #[serde(default = "one")]
    pub micro_batches: usize,
    /// The full suite's folder (written by `polyvit/scripts/fetch_full_suite.sh`): the built-in
    /// tasks are built from its files ([`SuiteConfig::full`]); unset, from the embedded ones. In a
    /// file, relative to the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suite_dir: Option<PathBuf>,
    /// A pretrained ViT (timm or Hugging Face safetensors) the model starts from (what
    /// `--init-from` sets; see `model::init_from`); in a file, relative to the file. Unset, the
    /// model starts from its seed's random weights.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_from: Option<PathBuf>,
    /// The patch size of each modality's tokenizer (`[patches]`), shared by the tasks of that
    /// modality; each must tile their examples.
    pub patches: PatchConfig,
    /// The tasks to co-train (`[[task]]` tables, at least one, with distinct names). A task's
    /// index in the run's plan and step reports is its position here.
    #[serde(rename = "task")]
    pub tasks: Vec<TaskConfig>,
}

impl TaskConfig {
    /// A task's default settings: 1,000 steps of batch 32 at learning rate 0.001 (for AdamW, the
    /// default optimizer; SGD-momentum wants about 50 times more), a tenth of them warming up,
    /// no augmentation.
    pub fn new(name: &str) -> TaskConfig {
        TaskConfig {
            name: name.to_string(),
            steps: 1000,
            batch_size: 32,
            lr: 0.001,
            warmup: 100,
            max_shift: 0,
            max_rotation: 0.0,
            max_zoom: 0.0,
            mixup: 0.0,
            stochastic_depth: 0.0,
            spec_augment: false,
            time_reversal: false,
            label_smoothing: 0.0,
            loss: None,
            data: None,
        }
    }
}

impl TrainConfig {
    /// The suite the built-in tasks come from: the full suite when [`Self::suite_dir`] is set,
    /// the embedded default suite otherwise.
    pub fn suite_config(&self) -> SuiteConfig {
        match &self.suite_dir {
            Some(dir) => SuiteConfig::full(dir.clone()),
            None => SuiteConfig::default(),
        }
    }

    /// Parses a configuration's TOML text (not validated). One written before the `[optimizer]`
    /// table existed, with SGD's `momentum` at the top level, reads as `[optimizer] name = "sgd"`
    /// with that momentum, so older configuration files and checkpoints keep working.
    pub fn from_toml_str(text: &str) -> Result<TrainConfig, String> {
        let mut table: toml::Table = text.parse().map_err(|e: toml::de::Error| e.to_string())?;
        if table.contains_key("optimizer") || !table.contains_key("momentum") {
            return toml::from_str(text).map_err(|e| e.to_string());
        }
        let momentum = match table.remove("momentum") {
            Some(toml::Value::Float(m)) => m,
            Some(toml::Value::Integer(m)) => m as f64,
            other => {
                let shown = other.map(|v| v.to_string()).unwrap_or_default();
                return Err(format!("momentum = {shown}: must be a number"));
            }
        };
        let sgd = toml::Table::from_iter([
            ("name".to_string(), toml::Value::from("sgd")),
            ("momentum".to_string(), toml::Value::Float(momentum)),
        ]);
        table.insert("optimizer".into(), sgd.into());
        table.try_into().map_err(|e: toml::de::Error| e.to_string())
    }

    /// Reads a TOML file; unknown keys, wrong types and missing task fields are errors naming the
    /// file.
    pub fn from_toml_file(path: &Path) -> Result<TrainConfig, String> {
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("config {}: {e}", path.display()))?;
        let mut config =
            Self::from_toml_str(&text).map_err(|e| format!("config {}: {e}", path.display()))?;
        // A task folder's, an init_from file's or the full suite's relative path is relative to
        // the configuration file; it is made absolute, so that the checkpoint's copy of the
        // configuration works from anywhere.
        let base = path.parent().unwrap_or(Path::new(""));
        if let Some(task) = config.tasks.iter().find(|t| {
            t.data
                .as_ref()
                .is_some_and(|d| d.path.as_os_str().is_empty())
        }) {
            return Err(format!(
                "config {}: task {}: data.path is empty: name the task's folder",
                path.display(),
                task.name
            ));
        }
        let paths = (config.tasks.iter_mut().filter_map(|t| t.data.as_mut()))
            .map(|spec| &mut spec.path)
            .chain(config.init_from.as_mut())
            .chain(config.suite_dir.as_mut());
        for relative in paths {
            *relative = std::path::absolute(base.join(&*relative))
                .map_err(|e| format!("config {}: {}: {e}", path.display(), relative.display()))?;
        }
        config
            .validate()
            .map_err(|e| format!("config {}: {e}", path.display()))?;
        Ok(config)
    }

    /// The schedule, parsed.
    pub fn schedule(&self) -> Result<Schedule, String> {
        self.schedule.parse()
    }

    /// The most optimizer steps a run may plan (the plan holds one entry per step).
    pub const MAX_STEPS: u64 = 10_000_000;

    /// The most encoder blocks a model may have, counting each modality's own copy of the
    /// `adapt_depth` blocks (three modalities at most): a checkpoint names every tensor in its
    /// safetensors header, which the format limits to 100 MB, and one block's parameters and
    /// their optimizer state take up to some 5 KB of it.
    pub const MAX_BLOCKS: usize = 10_000;

    /// The largest integer a configuration holds (a seed, `eval_every`, a batch size): it is
    /// written as TOML (in `config.toml` and the checkpoint), whose integers are signed 64-bit.
    pub const MAX_INTEGER: u64 = i64::MAX as u64;

    /// The steps the run's plan holds ([`plan_length`]): the tasks' budgets added up, divided
    /// (rounding up) by the number of tasks with accumulated gradients, whose every step trains
    /// them all, so every schedule computes as many batches.
    pub fn planned_steps(&self) -> u64 {
        let budgets: Vec<u64> = self.tasks.iter().map(|t| t.steps).collect();
        plan_length(self.schedule_or_weighted(), &budgets)
    }

    /// The shared warmup: the per-task warmups added up, and divided like the budgets with
    /// accumulated gradients ([`plan_length`] of the warmups).
    pub fn warmup_steps(&self) -> u64 {
        let warmups: Vec<u64> = self.tasks.iter().map(|t| t.warmup).collect();
        plan_length(self.schedule_or_weighted(), &warmups)
    }

    /// The schedule, or weighted (one task a step, as every schedule but accumulated) when the
    /// name is unknown, which validation reports on its own.
    fn schedule_or_weighted(&self) -> Schedule {
        self.schedule().unwrap_or(Schedule::Weighted)
    }

    /// The model `preset` names, reshaped by the `[model]` keys, with `adapt_depth`
    /// modality-specific blocks (at most its depth).
    pub fn model_config(&self) -> Result<ModelConfig, String> {
        let mut model = self.model.apply(ModelConfig::preset(&self.preset)?)?;
        if self.adapt_depth > model.depth {
            return Err(format!(
                "adapt_depth = {}: more than the {} blocks of the {} preset{}",
                self.adapt_depth,
                model.depth,
                self.preset,
                self.model.describe()
            ));
        }
        let blocks = model
            .depth
            .saturating_add(self.adapt_depth.saturating_mul(2));
        if blocks > Self::MAX_BLOCKS {
            return Err(format!(
                "depth = {} with adapt_depth = {}: up to {blocks} blocks with each modality's \
                 own, more than the {} a checkpoint can hold (its header names every tensor, \
                 and the safetensors format limits it to 100 MB)",
                model.depth,
                self.adapt_depth,
                Self::MAX_BLOCKS
            ));
        }
        for (key, rate) in [
            ("dropout", self.dropout),
            ("attention_dropout", self.attention_dropout),
        ] {
            if !(0.0..1.0).contains(&rate) {
                return Err(format!("{key} = {rate}: must be in [0, 1)"));
            }
        }
        model.adapt_depth = self.adapt_depth;
        model.dropout = self.dropout;
        model.attention_dropout = self.attention_dropout;
        model.gelu = Gelu::from_name(&self.gelu).ok_or_else(|| {
            let names: Vec<String> = Gelu::ALL
                .iter()
                .map(|g| format!("{:?}", g.name()))
                .collect();
            format!("gelu = {:?}: must be {}", self.gelu, names.join(" or "))
        })?;
        Ok(model)
    }
}
