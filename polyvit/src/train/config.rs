//! Training configuration: what a run's configuration holds, how it is read from TOML and
//! checked, and the command line's edits to it (task selection, step scaling). The values a file
//! leaves out are the default run's, in `recipe`.
//!
//! Every key is checked: an unknown key in the TOML file is an error that names it.

use super::loss::LossKind;
use super::model_shape::ModelShape;
use super::optimizer::OptimizerConfig;
use super::sampler::Schedule;
use crate::data::{FolderSpec, SuiteConfig};
use crate::model::ModelConfig;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Per-task hyperparameters (the paper reuses each task's single-task settings when co-training).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskConfig {
    /// The task's name in the suite (`mnist`, `drums`, ...).
    pub name: String,
    /// `Uⱼ`: this task's optimizer steps (its single-task budget).
    pub steps: u64,
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
    pub image: Vec<usize>,
    pub video: Vec<usize>,
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
    pub schedule: String,
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
    pub patches: PatchConfig,
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

    /// The largest integer a configuration holds (a seed, `eval_every`, a batch size): it is
    /// written as TOML (in `config.toml` and the checkpoint), whose integers are signed 64-bit.
    pub const MAX_INTEGER: u64 = i64::MAX as u64;

    /// Checks values that types cannot: every number finite and in its range, the plan small
    /// enough to hold, patches of at least one pixel (or frame).
    pub fn validate(&self) -> Result<(), String> {
        self.schedule()?;
        self.model_config()?;
        if self.tasks.is_empty() {
            return Err("no tasks to train".into());
        }
        self.optimizer.validate()?;
        if !(self.clip_norm.is_finite() && self.clip_norm > 0.0) {
            return Err(format!(
                "clip_norm = {}: must be a positive, finite norm",
                self.clip_norm
            ));
        }
        if self.micro_batches == 0 {
            return Err("micro_batches = 0: must be at least 1".into());
        }
        // Every run writes its configuration, whose integers TOML holds as signed 64-bit.
        let mut integers = vec![
            ("seed".to_string(), self.seed),
            ("eval_every".into(), self.eval_every),
            ("checkpoint_every".into(), self.checkpoint_every),
            ("micro_batches".into(), self.micro_batches as u64),
        ];
        for t in &self.tasks {
            let key = |k: &str| format!("task {}: {k}", t.name);
            integers.push((key("batch_size"), t.batch_size as u64));
            if let Some(data) = &t.data {
                integers.push((key("data.split_seed"), data.split_seed));
                let budget = data.memory_budget_mib.unwrap_or(0);
                integers.push((key("data.memory_budget_mib"), budget));
            }
        }
        if let Some((key, value)) = integers.iter().find(|(_, v)| *v > Self::MAX_INTEGER) {
            return Err(format!(
                "{key} = {value}: must be at most {} (a configuration file holds signed 64-bit \
                 integers)",
                Self::MAX_INTEGER
            ));
        }
        let patches = [
            ("image", &self.patches.image),
            ("video", &self.patches.video),
            ("audio", &self.patches.audio),
        ];
        for ((modality, patch), axes) in patches.into_iter().zip([2, 3, 2]) {
            if patch.len() != axes || patch.contains(&0) {
                return Err(format!(
                    "patches.{modality} = {patch:?}: must be {axes} sizes of at least 1"
                ));
            }
        }
        let mut total: u64 = 0;
        for (i, t) in self.tasks.iter().enumerate() {
            if self.tasks[..i].iter().any(|earlier| earlier.name == t.name) {
                return Err(format!(
                    "task {} is listed twice: each task trains once, with one head",
                    t.name
                ));
            }
            let plain = |c: char| c.is_alphanumeric() || "_-.".contains(c);
            // `.` and `..` are the folder itself and its parent where the name is a path part.
            let dots_only = t.name.chars().all(|c| c == '.');
            if t.name.is_empty() || dots_only || !t.name.chars().all(plain) {
                return Err(format!(
                    "task {:?}: a task name is letters, digits, '_', '-' and '.', not only \
                     dots (it names rows of the logs and files)",
                    t.name
                ));
            }
            let bad = |what: &str, value: f64, range: &str| {
                Err(format!(
                    "task {}: {what} = {value}: must be {range}",
                    t.name
                ))
            };
            if t.steps == 0 || t.batch_size == 0 {
                return Err(format!(
                    "task {}: steps ({}) and batch_size ({}) must be positive",
                    t.name, t.steps, t.batch_size
                ));
            }
            if t.batch_size < self.micro_batches {
                return Err(format!(
                    "micro_batches = {}: more than task {}'s batch_size ({})",
                    self.micro_batches, t.name, t.batch_size
                ));
            }
            if !(t.lr.is_finite() && t.lr > 0.0) {
                return bad("lr", t.lr, "positive and finite");
            }
            if let OptimizerConfig::Adamw { weight_decay, .. } = self.optimizer {
                if t.lr * weight_decay >= 1.0 {
                    return Err(format!(
                        "task {}: lr = {} with optimizer.weight_decay = {weight_decay}: each step \
                         would scale the weights by 1 - lr * weight_decay = {}, wiping them out or \
                         flipping their sign; lr * weight_decay must be below 1",
                        t.name,
                        t.lr,
                        1.0 - t.lr * weight_decay
                    ));
                }
            }
            if !(0.0..1.0).contains(&t.stochastic_depth) {
                return bad("stochastic_depth", t.stochastic_depth, "in [0, 1)");
            }
            if !(0.0..1.0).contains(&t.label_smoothing) {
                return bad("label_smoothing", t.label_smoothing, "in [0, 1)");
            }
            if !(t.mixup.is_finite() && t.mixup >= 0.0) {
                return bad("mixup", t.mixup, "0 (off) or a positive, finite alpha");
            }
            if !(0.0..=180.0).contains(&t.max_rotation) {
                return bad("max_rotation", t.max_rotation, "in [0, 180] degrees");
            }
            if !(0.0..1.0).contains(&t.max_zoom) {
                return bad(
                    "max_zoom",
                    t.max_zoom,
                    "in [0, 1) (the scale is drawn from 1 ± max_zoom)",
                );
            }
            if let Some(spec) = &t.data {
                spec.validate()
                    .map_err(|e| format!("task {}: data.{e}", t.name))?;
            }
            total = total.saturating_add(t.steps);
        }
        if total > Self::MAX_STEPS {
            return Err(format!(
                "the tasks' steps add up to {total}, more than the {} a run can plan",
                Self::MAX_STEPS
            ));
        }
        let (warmup, length) = (self.warmup_steps(), self.planned_steps());
        if warmup > length {
            return Err(format!(
                "the tasks' warmups come to {warmup} steps, more than the run's {length}: the \
                 learning rate would never reach the tasks' lr; shorten warmup"
            ));
        }
        Ok(())
    }

    /// Whether every step trains every task (the accumulated schedule): then the run is as long
    /// as the longest budget, otherwise as all budgets together.
    fn every_task_every_step(&self) -> bool {
        matches!(self.schedule(), Ok(Schedule::AccumulatedGradients))
    }

    /// The steps the run's plan holds: the tasks' budgets added up, or the longest one when
    /// every step trains every task.
    pub fn planned_steps(&self) -> u64 {
        let steps = self.tasks.iter().map(|t| t.steps);
        match self.every_task_every_step() {
            true => steps.max().unwrap_or(0),
            false => steps.fold(0, u64::saturating_add),
        }
    }

    /// The shared warmup: the per-task warmups add up, as the tasks' steps do, except with
    /// accumulated gradients, where every step trains every task and the plan is as long as the
    /// longest budget, so the warmup is the longest per-task warmup.
    pub fn warmup_steps(&self) -> u64 {
        let warmups = self.tasks.iter().map(|t| t.warmup);
        match self.every_task_every_step() {
            true => warmups.max().unwrap_or(0),
            // Saturating: warmups that pass 2⁶⁴ together are refused, not wrapped to a few.
            false => warmups.fold(0, u64::saturating_add),
        }
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
        Ok(model)
    }

    /// Keeps only the named tasks, in the given order, with their configured settings; a name
    /// not configured gets the recipe's settings for it ([`Self::recipe_task`]), else
    /// [`TaskConfig::new`]'s defaults (whether the suite has such a task is checked when the
    /// run is built).
    pub fn select_tasks(&mut self, names: &[String]) {
        self.tasks = names
            .iter()
            .map(|name| {
                self.tasks
                    .iter()
                    .find(|t| &t.name == name)
                    .cloned()
                    .or_else(|| self.recipe_task(name))
                    .unwrap_or_else(|| TaskConfig::new(name))
            })
            .collect();
    }

    /// The settings the recipe of this run's suite gives the built-in task `name`
    /// ([`TrainConfig::default`]'s, or [`TrainConfig::full_suite`]'s when [`Self::suite_dir`] is
    /// set), if it trains that task.
    pub fn recipe_task(&self, name: &str) -> Option<TaskConfig> {
        let recipe = match &self.suite_dir {
            Some(dir) => TrainConfig::full_suite(dir.clone()),
            None => TrainConfig::default(),
        };
        recipe.tasks.into_iter().find(|t| t.name == name)
    }

    /// Reads task `name` from the folder `path`: the configured task of that name keeps its
    /// settings, its `[task.data]` ones too (size, channels, splits, cache...) but the path;
    /// otherwise a task with [`TaskConfig::new`]'s and [`FolderSpec::new`]'s defaults is added.
    pub fn set_task_folder(&mut self, name: &str, path: impl Into<PathBuf>) {
        let path = path.into();
        match self.tasks.iter_mut().find(|t| t.name == name) {
            Some(TaskConfig {
                data: Some(data), ..
            }) => data.path = path,
            Some(task) => task.data = Some(FolderSpec::new(path)),
            None => self.tasks.push(TaskConfig {
                data: Some(FolderSpec::new(path)),
                ..TaskConfig::new(name)
            }),
        }
    }

    /// Scales every task's step budget (and warmup) so they sum to `total`, keeping the ratios.
    /// Each warmup keeps its ratio to its task's steps, rounded; where the warmups fitted the
    /// run and the rounding would make them longer than the scaled one (a task may warm up for
    /// longer than its own budget), the longest warmups give back a step each until they fit.
    ///
    /// Each task gets the whole part of its exact share `steps · total / Σ steps`, at least one
    /// step; the steps left over go one each to the tasks with the largest remainders (the
    /// earlier task on a tie), so the budgets sum to exactly `total` (rounding each share on
    /// its own can miss it by a step per task) and each is within one step of its share. Where
    /// raising tasks to one step overshoots, steps are taken back from the tasks furthest above
    /// their shares; with fewer steps than tasks, every task gets one.
    pub fn scale_steps(&mut self, total: u64) {
        let current: u128 = self.tasks.iter().map(|t| t.steps as u128).sum();
        if current == 0 {
            return;
        }
        let warmups_fit = self.warmup_steps() <= self.planned_steps();
        // Exact shares, as numerators over `current`.
        let shares: Vec<u128> = self
            .tasks
            .iter()
            .map(|t| t.steps as u128 * total as u128)
            .collect();
        let mut steps: Vec<u64> = shares
            .iter()
            .map(|&s| ((s / current) as u64).max(1))
            .collect();
        let mut assigned: u64 = steps.iter().sum();
        let mut by_remainder: Vec<usize> = (0..shares.len())
            .filter(|&i| shares[i] >= current)
            .collect();
        by_remainder.sort_by_key(|&i| std::cmp::Reverse(shares[i] % current)); // stable
        for i in by_remainder {
            if assigned >= total {
                break;
            }
            steps[i] += 1;
            assigned += 1;
        }
        while assigned > total {
            let above_share = |i: usize| steps[i] as i128 * current as i128 - shares[i] as i128;
            let Some(i) = (0..steps.len())
                .filter(|&i| steps[i] > 1)
                .max_by_key(|&i| (above_share(i), std::cmp::Reverse(i)))
            else {
                break;
            };
            steps[i] -= 1;
            assigned -= 1;
        }
        for (t, scaled) in self.tasks.iter_mut().zip(steps) {
            t.warmup = (t.warmup as f64 * scaled as f64 / t.steps as f64).round() as u64;
            t.steps = scaled;
        }
        while warmups_fit && self.warmup_steps() > self.planned_steps() {
            let longest = self
                .tasks
                .iter_mut()
                .max_by_key(|t| t.warmup)
                .expect("a warmup longer than the run has a task");
            longest.warmup -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_round_trips_through_toml() {
        let config = TrainConfig::default();
        let text = toml::to_string(&config).unwrap();
        assert_eq!(toml::from_str::<TrainConfig>(&text).unwrap(), config);
        assert!(
            !text.contains("suite_dir"),
            "the default run reads the embedded suite"
        );
        assert_eq!(config.suite_config(), SuiteConfig::default());
    }

    /// The full-suite run names its folder, trains every task of the full suite, and
    /// round-trips through TOML (a checkpoint's copy of it rebuilds the same data).
    #[test]
    fn the_full_suite_run_reads_its_folder_and_round_trips() {
        let dir = PathBuf::from("/data/full");
        let config = TrainConfig::full_suite(dir.clone());
        config.validate().unwrap();
        let text = toml::to_string(&config).unwrap();
        assert!(text.contains("suite_dir = \"/data/full\""), "{text}");
        assert_eq!(TrainConfig::from_toml_str(&text).unwrap(), config);
        let suite = config.suite_config();
        assert_eq!(suite, SuiteConfig::full(dir));
        let names: Vec<&str> = config.tasks.iter().map(|t| t.name.as_str()).collect();
        let built_in: Vec<&str> = suite.tasks().iter().map(|t| t.name()).collect();
        assert_eq!(names, built_in);
    }

    /// A configuration from before the `[optimizer]` table: SGD with its top-level momentum.
    #[test]
    fn a_top_level_momentum_reads_as_sgd() {
        let config = TrainConfig {
            optimizer: OptimizerConfig::Sgd { momentum: 0.8 },
            ..TrainConfig::default()
        };
        let text = toml::to_string(&config)
            .unwrap()
            .replace("[optimizer]\nname = \"sgd\"\nmomentum = 0.8\n", "")
            .replacen("clip_norm", "momentum = 0.8\nclip_norm", 1);
        assert!(!text.contains("[optimizer]"), "{text}");
        assert_eq!(TrainConfig::from_toml_str(&text).unwrap(), config);
        let err = TrainConfig::from_toml_str(&text.replace("momentum = 0.8", "momentum = \"x\""))
            .unwrap_err();
        assert!(err.contains("momentum"), "{err}");
    }

    /// A file of a few keys is the default run with those keys changed; `micro_batches` left
    /// out is 1, as in files written before it existed.
    #[test]
    fn keys_left_out_take_the_default_runs_values() {
        let text = "preset = \"tiny\"\n[optimizer]\nname = \"sgd\"\n[patches]\nimage = [4, 4]\n\
                    [[task]]\nname = \"mnist\"\nsteps = 500\nbatch_size = 16\nlr = 0.05\n";
        let config = TrainConfig::from_toml_str(text).unwrap();
        let expected = TrainConfig {
            preset: "tiny".into(),
            optimizer: OptimizerConfig::sgd(),
            micro_batches: 1,
            patches: PatchConfig {
                image: vec![4, 4],
                ..PatchConfig::default()
            },
            tasks: vec![TaskConfig {
                steps: 500,
                batch_size: 16,
                lr: 0.05,
                warmup: 0,
                ..TaskConfig::new("mnist")
            }],
            ..TrainConfig::default()
        };
        assert_eq!(config, expected);
        assert_eq!(
            TrainConfig::from_toml_str("").unwrap(),
            TrainConfig {
                micro_batches: 1,
                ..TrainConfig::default()
            }
        );
        let err =
            TrainConfig::from_toml_str("[[task]]\nname = \"mnist\"\nsteps = 5\n").unwrap_err();
        assert!(err.contains("batch_size"), "{err}");
    }

    #[test]
    fn unknown_keys_are_named() {
        let mut text = toml::to_string(&TrainConfig::default()).unwrap();
        text = text.replacen("seed = 0", "seed = 0\nlearning_rate = 3", 1);
        let err = toml::from_str::<TrainConfig>(&text)
            .unwrap_err()
            .to_string();
        assert!(err.contains("learning_rate"), "{err}");
    }

    #[test]
    fn task_selection_and_step_scaling() {
        let mut config = TrainConfig::default();
        let configured = config.tasks[5].clone();
        assert_eq!(configured.name, "drums");
        config.select_tasks(&["drums".into(), "mnist".into(), "arrow_of_time".into()]);
        assert_eq!(
            config.tasks[0], configured,
            "configured tasks keep their settings"
        );
        assert_eq!(
            config.tasks[2],
            TaskConfig::new("arrow_of_time"),
            "unconfigured tasks get the defaults"
        );
        assert!(config.tasks[..2].iter().all(|t| !t.spec_augment));
        // A built-in task the configuration leaves out takes the recipe's settings, of the
        // full suite's recipe when the run reads it.
        let mut only_mnist = TrainConfig::default();
        only_mnist.select_tasks(&["mnist".into()]);
        only_mnist.select_tasks(&["mnist".into(), "fashion_mnist".into()]);
        let recipe = TrainConfig::default().tasks[1].clone();
        assert_eq!(only_mnist.tasks[1], recipe);
        assert_ne!(recipe, TaskConfig::new("fashion_mnist"));
        only_mnist.suite_dir = Some("/full".into());
        only_mnist.select_tasks(&["mnist".into(), "language_id".into(), "fashion_mnist".into()]);
        assert_eq!(only_mnist.tasks[1].name, "language_id");
        assert!(only_mnist.tasks[1].spec_augment);
        assert_eq!(
            only_mnist.tasks[2], recipe,
            "configured tasks keep their settings"
        );
        config.tasks.pop();
        assert_eq!(
            config
                .tasks
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>(),
            ["drums", "mnist"]
        );
        config.scale_steps(100);
        assert_eq!(config.tasks.iter().map(|t| t.steps).sum::<u64>(), 100);
        config.schedule = "sometimes".into();
        assert!(config.validate().is_err());
    }

    /// Scaled budgets sum to exactly the total asked for (the number of tasks if that is more),
    /// give each task at least one step, and stay within a step of each share where every
    /// share is at least one step.
    #[test]
    fn scaled_budgets_sum_to_the_total() {
        for total in [1, 2, 5, 6, 7, 29, 30, 100, 1001, 3000, 29_999] {
            let mut config = TrainConfig::default();
            let before: Vec<u64> = config.tasks.iter().map(|t| t.steps).collect();
            let sum: u64 = before.iter().sum();
            config.scale_steps(total);
            let after: Vec<u64> = config.tasks.iter().map(|t| t.steps).collect();
            let want = total.max(after.len() as u64);
            assert_eq!(after.iter().sum::<u64>(), want, "total {total}: {after:?}");
            assert!(after.iter().all(|&a| a >= 1), "total {total}: {after:?}");
            let shares: Vec<f64> = before
                .iter()
                .map(|&b| b as f64 * total as f64 / sum as f64)
                .collect();
            if shares.iter().all(|&s| s >= 1.0) {
                for (&a, &s) in after.iter().zip(&shares) {
                    assert!(
                        (a as f64 - s).abs() < 1.0,
                        "total {total}: {after:?} vs {shares:?}"
                    );
                }
            }
        }
        let scaled = |budgets: &[u64], total: u64| -> Vec<u64> {
            let mut config = TrainConfig::default();
            config.tasks.truncate(budgets.len());
            for (t, &b) in config.tasks.iter_mut().zip(budgets) {
                t.steps = b;
            }
            config.scale_steps(total);
            config.tasks.iter().map(|t| t.steps).collect()
        };
        // Equal shares of 3⅓: the leftover step goes to the first task.
        assert_eq!(scaled(&[7, 7, 7], 10), [4, 3, 3]);
        // Shares 5.9, 0.05, 0.05: the two small tasks get a step each, taken from the big one.
        assert_eq!(scaled(&[118, 1, 1], 6), [4, 1, 1]);
    }

    /// Scaled warmups keep their ratios, and warmups that fit the run still fit it scaled:
    /// 19 of 20 steps (one task warming up for longer than its own 10) scaled to 3 steps would
    /// round to 4 (19 · 2/10); warmups that passed the run are left to `validate` to refuse,
    /// and so are warmups that add up past 2⁶⁴ (they wrapped to 1 before).
    #[test]
    fn scaled_warmups_fit_the_scaled_run() {
        let mut config = TrainConfig::default();
        config.tasks.truncate(2);
        for (t, (steps, warmup)) in config.tasks.iter_mut().zip([(10, 19), (10, 0)]) {
            (t.steps, t.warmup) = (steps, warmup);
        }
        let mut scaled = config.clone();
        scaled.scale_steps(40);
        let warmups: Vec<u64> = scaled.tasks.iter().map(|t| t.warmup).collect();
        assert_eq!(warmups, [38, 0]);
        scaled = config.clone();
        scaled.scale_steps(3);
        assert_eq!(scaled.warmup_steps(), 3);
        assert!(scaled.validate().is_ok(), "{:?}", scaled.validate());
        config.tasks[1].warmup = 2;
        config.scale_steps(3);
        assert!(config.validate().unwrap_err().contains("warmups come to"));
        config.tasks[0].warmup = u64::MAX - 1;
        config.tasks[1].warmup = 3;
        assert!(config.validate().unwrap_err().contains("warmups come to"));
    }

    /// A seed that TOML cannot write (config.toml, the checkpoint) is refused up front.
    #[test]
    fn seeds_fit_in_a_configuration_file() {
        let mut config = TrainConfig {
            seed: TrainConfig::MAX_INTEGER,
            ..TrainConfig::default()
        };
        assert!(config.validate().is_ok());
        assert!(toml::to_string(&config).is_ok());
        config.seed += 1;
        let err = config.validate().unwrap_err();
        assert!(
            err.starts_with("seed = 9223372036854775808: must be at most"),
            "{err}"
        );
    }

    /// `--task NAME=DIR` for a task the file reads from a folder moves the folder and keeps the
    /// rest of its `[task.data]` (size, split seed...), which were reset to the defaults before.
    #[test]
    fn a_new_folder_keeps_the_configured_data_settings() {
        let mut config = TrainConfig::default();
        config.set_task_folder("pets", "photos");
        let data = config.tasks[6].data.as_mut().unwrap();
        (data.size, data.split_seed, data.fit) =
            (Some([64, 64]), 7, crate::data::image_file::Fit::Crop);
        let mut moved = data.clone();
        config.set_task_folder("pets", "photos2");
        moved.path = "photos2".into();
        assert_eq!(config.tasks[6].data, Some(moved));
        // A built-in task given a folder gets the folder defaults.
        config.set_task_folder("mnist", "digits");
        assert_eq!(config.tasks[0].data, Some(FolderSpec::new("digits")));
    }

    #[test]
    fn folder_tasks_round_trip_and_resolve_against_the_file() {
        let mut config = TrainConfig::default();
        config.set_task_folder("mnist", "elsewhere");
        config.set_task_folder("pets", "photos/pets");
        assert_eq!(config.tasks.len(), 7);
        assert_eq!(config.tasks[0].data, Some(FolderSpec::new("elsewhere")));
        assert_eq!(config.tasks[6].name, "pets");
        let text = toml::to_string(&config).unwrap();
        assert!(text.contains("[task.data]"), "{text}");
        let dir = std::env::temp_dir().join(format!("polyvit-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("run.toml");
        std::fs::write(&file, &text).unwrap();
        let read = TrainConfig::from_toml_file(&file).unwrap();
        assert_eq!(
            read.tasks[6].data,
            Some(FolderSpec::new(dir.join("photos/pets")))
        );
        // The full suite's folder too, like every path in the file.
        std::fs::write(&file, format!("suite_dir = \"suite\"\n{text}")).unwrap();
        let read = TrainConfig::from_toml_file(&file).unwrap();
        assert_eq!(read.suite_dir, Some(dir.join("suite")));
        config.tasks[6].data.as_mut().unwrap().channels = Some(2);
        let err = config.validate().unwrap_err();
        assert!(err.contains("task pets: data.channels = 2"), "{err}");
        // An empty path is not the file's own folder.
        std::fs::write(&file, text.replace("path = \"photos/pets\"", "path = \"\"")).unwrap();
        let err = TrainConfig::from_toml_file(&file).unwrap_err();
        assert!(
            err.ends_with("task pets: data.path is empty: name the task's folder"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).ok();
    }

    /// Each bad value is refused with a message naming the key and the value.
    #[test]
    fn out_of_range_values_are_named() {
        type Edit = fn(&mut TrainConfig);
        let cases: [(Edit, &str); 28] = [
            (
                |c| c.optimizer = OptimizerConfig::Sgd { momentum: 1.0 },
                "optimizer.momentum = 1",
            ),
            (
                |c| {
                    c.optimizer = OptimizerConfig::adamw(1000.0);
                    c.tasks[0].lr = 0.0005;
                },
                "task fashion_mnist: lr = 0.002 with optimizer.weight_decay = 1000: each step \
                 would scale the weights by 1 - lr * weight_decay = -1",
            ),
            (
                |c| c.optimizer = OptimizerConfig::adamw(f64::NAN),
                "optimizer.weight_decay = NaN",
            ),
            (|c| c.clip_norm = 0.0, "clip_norm = 0"),
            (|c| c.clip_norm = f64::INFINITY, "clip_norm = inf"),
            (|c| c.micro_batches = 0, "micro_batches = 0"),
            (
                |c| c.eval_every = 1 << 63,
                "eval_every = 9223372036854775808: must be at most 9223372036854775807",
            ),
            (
                |c| c.micro_batches = 33,
                "micro_batches = 33: more than task mnist's batch_size (32)",
            ),
            (|c| c.tasks[0].lr = f64::INFINITY, "lr = inf"),
            (|c| c.tasks[0].mixup = f64::NAN, "mixup = NaN"),
            (|c| c.tasks[0].mixup = -0.5, "mixup = -0.5"),
            (|c| c.tasks[1].label_smoothing = 1.0, "label_smoothing = 1"),
            (
                |c| c.tasks[0].max_rotation = 200.0,
                "max_rotation = 200: must be in [0, 180] degrees",
            ),
            (|c| c.tasks[0].max_rotation = f64::NAN, "max_rotation = NaN"),
            (
                |c| c.tasks[1].max_zoom = 1.0,
                "max_zoom = 1: must be in [0, 1) (the scale is drawn from 1 ± max_zoom)",
            ),
            (
                |c| c.patches.video = vec![2, 0, 8],
                "patches.video = [2, 0, 8]",
            ),
            (|c| c.tasks[0].steps = u64::MAX, "add up to"),
            (
                |c| c.patches.video = vec![8, 8],
                "patches.video = [8, 8]: must be 3",
            ),
            (|c| c.preset = "huge".into(), "unknown preset \"huge\""),
            (
                |c| c.adapt_depth = 5,
                "adapt_depth = 5: more than the 4 blocks of the small preset",
            ),
            (
                |c| c.tasks[2].name = "a,b".into(),
                "task \"a,b\": a task name",
            ),
            (
                |c| c.tasks[2].name = String::new(),
                "task \"\": a task name",
            ),
            (
                |c| c.tasks[2].name = "..".into(),
                "task \"..\": a task name is letters, digits, '_', '-' and '.', not only dots",
            ),
            (
                |c| c.tasks[3].name = "mnist".into(),
                "task mnist is listed twice",
            ),
            (|c| c.dropout = 1.0, "dropout = 1: must be in [0, 1)"),
            (|c| c.attention_dropout = -0.1, "attention_dropout = -0.1"),
            (
                |c| c.tasks.iter_mut().for_each(|t| t.warmup = t.steps + 1),
                "the tasks' warmups come to",
            ),
            (
                |c| {
                    c.schedule = "accumulated".into();
                    let longest = c.tasks.iter().map(|t| t.steps).max().unwrap();
                    c.tasks[1].warmup = longest + 1;
                },
                "more than the run's",
            ),
        ];
        for (edit, expected) in cases {
            let mut config = TrainConfig::default();
            edit(&mut config);
            let err = config.validate().unwrap_err();
            assert!(
                err.contains(expected),
                "{err:?} should contain {expected:?}"
            );
        }
        assert!(TrainConfig::default().validate().is_ok());
        // The warmup is shared: one task's share may outlast its own budget.
        let mut config = TrainConfig::default();
        config.tasks[0].warmup = config.tasks[0].steps + 1;
        assert!(config.validate().is_ok());
    }
}
