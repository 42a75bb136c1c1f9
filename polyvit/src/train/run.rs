//! A co-training run: the model, its data, the optimizer and the step plan, advanced one
//! optimizer step at a time, checkpointed and resumed exactly.

use super::augmentation::Augmentation;
use super::batch::{batch_indices, drawn_batch_size, training_batch_rows};
use super::collective::{agreed, first_disagreement, shard, Collective, SingleProcess};
use super::config::TrainConfig;
use super::distributed::{
    another_rank_failed, first_differing_setting, replicas_agree, run_fingerprint, sharded_logits,
    sum_over_ranks, task_fingerprint,
};
use super::evaluate::{diverged_score, score, TaskScore};
use super::loss::LossKind;
use super::micro_batch::{TaskGradients, TaskPass};
use super::sampler::plan;
use crate::data::audio::AudioWindow;
use crate::data::task_info::{tasks_from_metadata, tasks_to_metadata, TaskInfo, TASKS_KEY};
use crate::data::{DataError, Dataset, Modality};
use crate::model::{PolyVit, TaskSpec, TokenizerSpec};
use autograd::Gradients;
use nn::checkpoint::{Checkpoint, CheckpointError};
use nn::lr_schedule::WarmupCosine;
use nn::optim::{clip_grad_norm, Optimizer};
use nn::{Context, Parameters};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::fmt;
use std::path::Path;
use std::rc::Rc;
use tensor::{DType, Device};

/// Why a run stopped.
#[derive(Debug)]
pub enum RunError {
    /// The configuration asks for what cannot be (a patch that does not tile the inputs, tasks
    /// of one modality with inputs of different shapes).
    Config(String),
    /// A run that cannot go on as asked, for the reason its message states in full: a
    /// checkpoint that does not fit it, ranks given different runs, a step larger than the
    /// memory.
    Refused(String),
    /// A task's files could not be read or decoded: while the run was built, or a streamed
    /// task's file that became unreadable mid-run (the caller can then save the run and resume
    /// it once the file reads again).
    Data(DataError),
    /// An error of the numerical stack (a shape, a device, memory): `tensor::Error`.
    Tensor(tensor::Error),
    /// Saving or reading the run's checkpoint failed: the file, its format, or a model it does
    /// not fit.
    Checkpoint(CheckpointError),
    /// The loss became NaN or infinite.
    NonFinite {
        /// The task (or the tasks of an accumulated step, joined by commas) it happened in.
        task: String,
        /// The step's index from 0 (as steps.jsonl numbers it; the message counts from 1).
        step: u64,
        /// What stopped being a number: `loss` or `gradient norm`.
        what: &'static str,
        /// What it became: NaN or an infinity.
        value: f64,
        /// The last update before: its step's index, the tasks it updated the weights for and its
        /// learning rate, the update that more likely broke them than this task's own; none
        /// when no step before changed the weights (step 0, or only steps at learning rate 0
        /// at the start of a warmup).
        previous: Option<(u64, String, f64)>,
    },
    /// The data-parallel replicas no longer hold the same parameters.
    ReplicasDiffer {
        /// How many steps the run had done when the ranks' checksums were compared.
        step: u64,
    },
}

/// A task whose inputs differ from the ones a checkpoint's run trained on
/// ([`Run::changed_inputs`]).
pub struct InputsChanged {
    /// The task's name, as configured.
    pub task: String,
    /// What differs, in plain words ([`TaskInfo::difference_in_words`]).
    pub in_words: String,
    /// Each differing field with both values ([`TaskInfo::difference`]).
    pub detail: String,
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Config(msg) => write!(f, "invalid configuration: {msg}"),
            RunError::Refused(msg) => write!(f, "{msg}"),
            RunError::Data(e) => write!(f, "{e}"),
            RunError::Tensor(e) => write!(f, "{e}"),
            RunError::Checkpoint(e) => write!(f, "{e}"),
            RunError::NonFinite {
                task,
                step,
                what,
                value,
                previous,
            } => {
                // Told as the run's messages count steps, from 1 (eval.csv's `step` is such a
                // count too); steps.jsonl indexes them from 0.
                write!(
                    f,
                    "training stopped: the {what} of task {task} became {value} in step {} \
                     (\"step\": {step} in steps.jsonl, which numbers steps from 0)",
                    step + 1
                )?;
                match previous {
                    Some((before, tasks, lr)) => write!(
                        f,
                        ", after step {} updated the weights for {tasks} at learning rate \
                         {lr:.3e} (try a lower learning rate)",
                        before + 1
                    ),
                    None => write!(
                        f,
                        ", before any update (the task's inputs or the weights the run starts \
                         from are not all finite numbers)"
                    ),
                }
            }
            RunError::ReplicasDiffer { step } => write!(
                f,
                "training stopped: the ranks' parameters differ after {step} steps (their checksums disagree; every rank must run the same build with the same configuration and data)"
            ),
        }
    }
}

impl std::error::Error for RunError {}

impl From<tensor::Error> for RunError {
    fn from(e: tensor::Error) -> Self {
        RunError::Tensor(e)
    }
}
impl From<DataError> for RunError {
    fn from(e: DataError) -> Self {
        RunError::Data(e)
    }
}
impl From<CheckpointError> for RunError {
    fn from(e: CheckpointError) -> Self {
        RunError::Checkpoint(e)
    }
}

/// How many steps ahead of the current one the batches of streamed tasks are asked for, so
/// that they decode while earlier steps compute.
const PREFETCH_STEPS: u64 = 2;

/// The loss of one task at one step.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskLoss {
    /// The task's index in the configuration's tasks (and the run's datasets).
    pub task: usize,
    /// Its mean loss over the step's whole batch (summed over the ranks' shares), before the
    /// update.
    pub loss: f64,
}

/// What one optimizer step did.
#[derive(Clone, Debug, PartialEq)]
pub struct StepReport {
    /// The step's index, from 0 (as `steps.jsonl` numbers it).
    pub step: u64,
    /// One per task trained in the step, in the plan's order (several only with the
    /// accumulated schedule).
    pub losses: Vec<TaskLoss>,
    /// The learning rate the update was applied with ([`Run::learning_rate`]).
    pub learning_rate: f64,
    /// The global norm of the step's summed gradients before clipping to `clip_norm`.
    pub grad_norm: f64,
}

/// Everything a co-training run holds.
pub struct Run {
    /// The configuration the run was built from; [`Run::save`] stores it in the checkpoint,
    /// where a resumed run reads it back.
    pub config: TrainConfig,
    /// The model being trained, on the run's device.
    pub model: PolyVit,
    /// One dataset per configured task, in the same order.
    pub datasets: Vec<Dataset>,
    optimizer: Box<dyn Optimizer>,
    /// Each task's loss, in the configured order.
    losses: Vec<LossKind>,
    /// Each task's augmentation of its training batches, in the configured order.
    augmentations: Vec<Augmentation>,
    plan: Vec<Vec<usize>>,
    /// Steps done so far.
    pub step: u64,
    /// Where the model, the optimizer state and every batch live.
    device: Device,
    /// The data-parallel replicas this run is one of (a single process by default).
    collective: Rc<dyn Collective>,
    /// Each task's description ([`Run::task_infos`]), made with the run.
    task_infos: Vec<TaskInfo>,
}

/// The tokenizer of `modality` for examples of `shape`, with the configured patch.
fn tokenizer_spec(config: &TrainConfig, modality: Modality, shape: &[usize]) -> TokenizerSpec {
    let patch = match modality {
        Modality::Image => &config.patches.image,
        Modality::Video => &config.patches.video,
        Modality::Audio => &config.patches.audio,
    };
    TokenizerSpec {
        modality,
        input_shape: shape.to_vec(),
        patch: patch.clone(),
    }
}

/// The tokenizer of task `name`, whose examples of `modality` have `shape`, with the configured
/// patch; an error when the patch does not tile them.
pub fn checked_tokenizer_spec(
    config: &TrainConfig,
    name: &str,
    modality: Modality,
    shape: &[usize],
) -> Result<TokenizerSpec, RunError> {
    let spec = tokenizer_spec(config, modality, shape);
    let from_folder = (config.tasks.iter()).any(|t| t.name == name && t.data.is_some());
    spec.validate().map_err(|e| {
        RunError::Config(format!(
            "task {name}: {e}; choose patches.{}{} so that it does",
            modality.name(),
            match from_folder {
                true => " (or the folder task's size or frames)",
                false => "",
            }
        ))
    })?;
    Ok(spec)
}

/// The error of task `name`, whose examples of `modality` have `shape`, beside task `other`
/// of the same modality, whose examples have `other_shape`: the tasks of a modality share its
/// tokenizer.
pub fn shape_clash(
    name: &str,
    modality: Modality,
    shape: &[usize],
    other: &str,
    other_shape: &[usize],
) -> RunError {
    RunError::Config(format!(
        "task {name} has {} examples of shape {shape:?}, task {other} has {other_shape:?}: the \
         tasks of a modality share its tokenizer, so their examples need one shape",
        modality.name(),
    ))
}

/// The tokenizers (one per modality, with the configured patches) and task heads that
/// `datasets` need.
pub fn model_specs(
    config: &TrainConfig,
    datasets: &[Dataset],
) -> Result<(Vec<TokenizerSpec>, Vec<TaskSpec>), RunError> {
    let mut tokenizers: Vec<TokenizerSpec> = Vec::new();
    for d in datasets {
        match tokenizers.iter().find(|t| t.modality == d.modality) {
            Some(t) if t.input_shape != d.shape => {
                let first = datasets
                    .iter()
                    .find(|other| other.modality == d.modality)
                    .expect("the task that made the tokenizer");
                return Err(shape_clash(
                    &d.name,
                    d.modality,
                    &d.shape,
                    &first.name,
                    &first.shape,
                ));
            }
            Some(_) => {}
            None => tokenizers.push(checked_tokenizer_spec(
                config, &d.name, d.modality, &d.shape,
            )?),
        }
    }
    let tasks = datasets
        .iter()
        .map(|d| TaskSpec {
            name: d.name.to_string(),
            modality: d.modality,
            classes: d.num_classes,
        })
        .collect();
    Ok((tokenizers, tasks))
}

impl Run {
    /// A fresh run: picks each configured task's dataset out of `suite` and builds the model.
    pub fn new(config: TrainConfig, suite: Vec<Dataset>) -> Result<Run, RunError> {
        config.validate().map_err(RunError::Config)?;
        let model_config = config.model_config().map_err(RunError::Config)?;
        let known: Vec<&str> = suite.iter().map(|d| d.name.as_str()).collect();
        let known = known.join(", ");
        let mut suite: Vec<Option<Dataset>> = suite.into_iter().map(Some).collect();
        let mut datasets = Vec::new();
        for task in &config.tasks {
            let slot = suite
                .iter_mut()
                .find(|d| d.as_ref().is_some_and(|d| d.name == task.name));
            let dataset = slot.and_then(Option::take).ok_or_else(|| {
                RunError::Config(format!(
                    "no task {:?} in the suite (it has {known})",
                    task.name
                ))
            })?;
            datasets.push(dataset);
        }
        let losses = config
            .tasks
            .iter()
            .zip(&datasets)
            .map(|(t, d)| LossKind::resolve(t.loss, d.multi_label, &t.name))
            .collect::<Result<Vec<_>, _>>()
            .map_err(RunError::Config)?;
        let augmentations = config
            .tasks
            .iter()
            .zip(&datasets)
            .map(|(t, d)| Augmentation::for_task(t, d.modality, &d.shape))
            .collect::<Result<Vec<_>, _>>()
            .map_err(RunError::Config)?;
        let (tokenizers, tasks) = model_specs(&config, &datasets)?;
        let model = PolyVit::new(
            &model_config,
            &tokenizers,
            &tasks,
            DType::F32,
            &mut tensor::rng(config.seed),
        )?;
        let schedule = config.schedule().map_err(RunError::Config)?;
        let budgets: Vec<u64> = config.tasks.iter().map(|t| t.steps).collect();
        let plan = plan(schedule, &budgets, config.seed);
        // Described now, while every file reads: a streamed task's description decodes a
        // sample of its training files, and a run stopped by a file lost mid-run must still be
        // able to save the checkpoint that holds it.
        let task_infos = datasets
            .iter()
            .zip(&config.tasks)
            .map(|(d, t)| TaskInfo::of(d, t.data.as_ref().map(|s| s.fit).unwrap_or_default()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Run {
            optimizer: config.optimizer.build(),
            losses,
            augmentations,
            config,
            model,
            datasets,
            plan,
            step: 0,
            device: Device::Cpu,
            collective: Rc::new(SingleProcess),
            task_infos,
        })
    }

    /// Makes this run one of the data-parallel replicas of `collective`: each step's batches are
    /// split over the ranks and their gradients summed, so every rank applies the update of the
    /// whole batch. Every task's batch needs at least one example per rank.
    pub fn set_collective(&mut self, collective: Rc<dyn Collective>) -> Result<(), RunError> {
        let ranks = collective.size();
        for (task, dataset) in self.config.tasks.iter().zip(&self.datasets) {
            let batch = drawn_batch_size(dataset, task.batch_size);
            if batch < ranks {
                return Err(RunError::Config(format!(
                    "task {}: a batch of {batch} examples cannot be split over {ranks} ranks (each needs at least one)",
                    task.name
                )));
            }
        }
        self.collective = collective;
        Ok(())
    }

    /// The data-parallel replicas this run is one of.
    pub fn collective(&self) -> &dyn Collective {
        &*self.collective
    }

    /// Checks that every rank runs the same plan on the same data, before the first step: the
    /// configuration (but for paths and caching, [`run_fingerprint`]) and the step to start
    /// from, then each task's classes, labels and statistics. Ranks that differ would exchange
    /// gradients of different steps, or train on a mixture of data no configuration describes.
    pub fn check_ranks_run_alike(&self) -> Result<(), RunError> {
        if self.collective.size() == 1 {
            return Ok(());
        }
        // The configuration first, alone: ranks given other tasks would otherwise pass
        // different numbers of fingerprints to one call.
        let run = run_fingerprint(&self.config, self.step).map_err(RunError::Refused)?;
        if first_disagreement(&*self.collective, &[run]).is_some() {
            let which = first_differing_setting(&*self.collective, &self.config, self.step)
                .map_err(RunError::Refused)?;
            let which = match which {
                Some((name, value)) => format!("{name} differs (here {value})"),
                None => "a setting rank 0 does not have differs".into(),
            };
            return Err(RunError::Refused(format!(
                "the ranks were given different runs: {which}; every rank needs the same \
                 settings (flags and configuration file; only paths and caching may differ), \
                 and --resume on every rank or on none"
            )));
        }
        let tasks = (self.task_infos().iter())
            .map(task_fingerprint)
            .collect::<Result<Vec<_>, _>>()
            .map_err(RunError::Refused)?;
        match first_disagreement(&*self.collective, &tasks) {
            None => Ok(()),
            Some(task) => Err(RunError::Refused(format!(
                "task {}: the ranks read different data (its classes, labels or statistics \
                 differ from rank to rank; every rank needs the same files)",
                self.datasets[task].name
            ))),
        }
    }

    /// Checks that every rank holds the same parameters (the same start, and the same updates
    /// since): an error if they differ.
    pub fn check_replicas(&self) -> Result<(), RunError> {
        if replicas_agree(&*self.collective, &self.model)? {
            Ok(())
        } else {
            Err(RunError::ReplicasDiffer { step: self.step })
        }
    }

    /// The device the run computes on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Moves the model and the optimizer state to `device`; later batches go there too. A run
    /// restored from a checkpoint written on another device continues unchanged.
    pub fn to_device(&mut self, device: &Device) -> Result<(), RunError> {
        self.model.to_device(device)?;
        self.optimizer.to_device(device)?;
        self.device = device.clone();
        Ok(())
    }

    /// Total optimizer steps of the run.
    pub fn total_steps(&self) -> u64 {
        self.plan.len() as u64
    }

    /// The tasks trained at step `step`.
    pub fn tasks_at(&self, step: u64) -> &[usize] {
        &self.plan[step as usize]
    }

    /// The tasks (by index) that no step of the plan trains: the uniform schedule draws each
    /// step's task at random, so a short run can leave a task out; it is then scored as
    /// initialized.
    pub fn untrained_tasks(&self) -> Vec<usize> {
        let mut trained = vec![false; self.config.tasks.len()];
        for &j in self.plan.iter().flatten() {
            trained[j] = true;
        }
        (0..trained.len()).filter(|&j| !trained[j]).collect()
    }

    /// The reference schedule: the task's coefficient × linear warmup over the run's shared
    /// warmup ([`TrainConfig::warmup_steps`]: the per-task warmups summed, divided by the task
    /// count with accumulated gradients) × cosine decay from the warmup's end to the run's last step.
    /// With several tasks in one step (accumulated gradients) the coefficients are averaged.
    pub fn learning_rate(&self, step: u64, tasks: &[usize]) -> f64 {
        let coefficient =
            tasks.iter().map(|&j| self.config.tasks[j].lr).sum::<f64>() / tasks.len().max(1) as f64;
        let schedule = WarmupCosine {
            base: coefficient,
            warmup: self.warmup_steps(),
            total: self.total_steps(),
        };
        schedule.at(step)
    }

    /// The shared warmup ([`TrainConfig::warmup_steps`]).
    pub fn warmup_steps(&self) -> u64 {
        self.config.warmup_steps()
    }

    /// The random stream of task `task`'s batch at step `step`. Each (seed, step, task) has its
    /// own stream, so a resumed run draws the same batches; none is the plan's (`PLAN_STREAM`):
    /// steps are at most `TrainConfig::MAX_STEPS`.
    fn batch_rng(&self, step: u64, task: usize) -> ChaCha8Rng {
        let mut rng = ChaCha8Rng::seed_from_u64(self.config.seed);
        rng.set_stream(step * self.config.tasks.len() as u64 + task as u64);
        rng
    }

    /// Asks each task that decodes its files for its batches of steps `step` to
    /// `step + PREFETCH_STEPS`, so they decode in the background while this step computes.
    /// The batches are known ahead: each is the first draw of its (seed, step, task) stream.
    fn prefetch_from(&self, step: u64) {
        for s in step..(step + PREFETCH_STEPS + 1).min(self.total_steps()) {
            for &j in self.tasks_at(s) {
                let dataset = &self.datasets[j];
                if dataset.train.streams() {
                    let size = self.config.tasks[j].batch_size;
                    let indices = batch_indices(dataset, size, &mut self.batch_rng(s, j));
                    dataset.train.prefetch(&indices);
                }
            }
        }
    }

    /// Runs the next optimizer step: one batch of each task in the plan's entry, each task's loss
    /// back-propagated as soon as it is computed and the gradients summed (so one task's graph
    /// is freed before the next is built, and memory does not grow with the number of tasks),
    /// global clipping, one update of the configured optimizer. Each task's batch goes forward
    /// and backward in `micro_batches` parts ([`TaskPass::gradients`]), at once on the CPU.
    ///
    /// With several ranks, each computes the loss of its rows of every batch, weighted by their
    /// share of the batch, and the gradients and losses are summed over the ranks before
    /// clipping: every rank then clips and applies the update of the whole batch.
    pub fn train_step(&mut self) -> Result<StepReport, RunError> {
        let step = self.step;
        let tasks = self.tasks_at(step).to_vec();
        let mut ctx = Context::train(self.config.seed.wrapping_mul(1_000_003).wrapping_add(step));
        if tasks.is_empty() {
            return Err(RunError::Refused(format!("step {step} has no task")));
        }
        let mut grads = Gradients::default();
        let mut losses = Vec::new();
        let (rank, ranks) = (self.collective.rank(), self.collective.size());
        self.prefetch_from(step);
        for &j in &tasks {
            let task = &self.config.tasks[j];
            let dataset = &self.datasets[j];
            let mut rng = self.batch_rng(step, j);
            let drawn = drawn_batch_size(dataset, task.batch_size);
            let rows = shard(drawn, rank, ranks);
            // Ranks reading their own copies of a task's files may not all read them.
            let batch = training_batch_rows(
                dataset,
                task.batch_size,
                self.augmentations[j],
                rows.clone(),
                &mut rng,
                &self.device,
            );
            let batch = agreed(&*self.collective, batch, || {
                another_rank_failed(&dataset.name)
            })?;
            let pass = TaskPass {
                model: &self.model,
                name: &dataset.name,
                config: task,
                loss: self.losses[j],
            };
            let TaskGradients {
                loss,
                gradients: task_grads,
            } = pass.gradients(
                &batch,
                rows,
                drawn,
                self.config.micro_batches,
                self.device == Device::Cpu,
                &mut ctx,
            )?;
            losses.push(loss);
            grads.accumulate(task_grads)?;
        }
        sum_over_ranks(&*self.collective, &self.model, &mut grads, &mut losses)?;
        let losses: Vec<TaskLoss> = tasks
            .iter()
            .zip(losses)
            .map(|(&task, loss)| TaskLoss { task, loss })
            .collect();
        if let Some(bad) = losses.iter().find(|l| !l.loss.is_finite()) {
            let task = self.config.tasks[bad.task].name.clone();
            return Err(self.non_finite(step, task, "loss", bad.loss));
        }
        let grad_norm = clip_grad_norm(&mut grads, self.config.clip_norm)?;
        if !grad_norm.is_finite() {
            let names = self.task_names(&tasks);
            return Err(self.non_finite(step, names, "gradient norm", grad_norm));
        }
        let learning_rate = self.learning_rate(step, &tasks);
        self.optimizer
            .step(&mut self.model, &grads, learning_rate)?;
        self.step += 1;
        Ok(StepReport {
            step,
            losses,
            learning_rate,
            grad_norm,
        })
    }

    /// The names of `tasks` (indices into the configuration), joined by commas.
    fn task_names(&self, tasks: &[usize]) -> String {
        let names: Vec<&str> = (tasks.iter())
            .map(|&j| self.config.tasks[j].name.as_str())
            .collect();
        names.join(", ")
    }

    /// [`RunError::NonFinite`] for `what` of `task` at `step`, naming the update before it.
    fn non_finite(&self, step: u64, task: String, what: &'static str, value: f64) -> RunError {
        // A step at learning rate 0 (a warmup's first) changes no weight: look past it.
        let previous = (0..step).rev().find_map(|before| {
            let tasks = self.tasks_at(before);
            let lr = self.learning_rate(before, tasks);
            (lr != 0.0).then(|| (before, self.task_names(tasks), lr))
        });
        RunError::NonFinite {
            task,
            step,
            what,
            value,
            previous,
        }
    }

    /// Every task's metric on its validation (or test) split; with several ranks, each computes
    /// the logits of its shard of the split and every rank gets the metrics of the whole split.
    pub fn evaluate(&self, test: bool) -> Result<Vec<TaskScore>, RunError> {
        self.datasets
            .iter()
            .map(|d| {
                let (name, split) = match test {
                    true => ("test", &d.test),
                    false => ("validation", &d.validation),
                };
                let logits =
                    sharded_logits(&*self.collective, &self.model, d, split, &self.device)?;
                score(d, name, split, &logits).map_err(RunError::Refused)
            })
            .collect()
    }

    /// Every task's [`diverged_score`] on its validation or test split: the scores of a run
    /// whose training diverged, which has no model worth scoring.
    pub fn diverged_scores(&self, test: bool) -> Vec<TaskScore> {
        self.datasets
            .iter()
            .map(|d| diverged_score(d, if test { &d.test } else { &d.validation }))
            .collect()
    }

    /// Saves the model, the optimizer state, the step and the configuration.
    pub fn save(&self, path: &Path) -> Result<(), RunError> {
        let mut checkpoint = Checkpoint::default();
        checkpoint.add_parameters("model.", &self.model)?;
        checkpoint.add_optimizer("optimizer.", &*self.optimizer);
        checkpoint
            .metadata
            .insert("step".into(), self.step.to_string());
        let config = toml::to_string(&self.config).map_err(|e| RunError::Refused(e.to_string()))?;
        checkpoint.metadata.insert("config".into(), config);
        checkpoint
            .metadata
            .insert(TASKS_KEY.into(), tasks_to_metadata(self.task_infos()));
        checkpoint.save(path)?;
        Ok(())
    }

    /// What reading new files for each task needs (stored in the checkpoint), described when
    /// the run was made.
    pub fn task_infos(&self) -> &[TaskInfo] {
        &self.task_infos
    }

    /// The configuration stored in a checkpoint. An audio folder task that leaves its `window`
    /// unset heard what the version that trained it chose: the middle of each recording before
    /// the key existed, its loudest sound since. Its description in the checkpoint says which,
    /// and where it says the middle the configuration is given `window = "middle"`, so that the
    /// run is resumed and scored on the inputs it trained on.
    pub fn config_in_checkpoint(checkpoint: &Checkpoint) -> Result<TrainConfig, RunError> {
        let text = checkpoint.metadata.get("config").ok_or_else(|| {
            RunError::Refused("the checkpoint holds no training configuration".into())
        })?;
        let mut config = TrainConfig::from_toml_str(text)
            .map_err(|e| RunError::Refused(format!("the checkpoint's configuration: {e}")))?;
        // Descriptions that do not parse are refused, naming the file, where they are read for
        // what they describe (`changed_inputs`, `Trained::load`).
        let described = (checkpoint.metadata.get(TASKS_KEY))
            .and_then(|text| tasks_from_metadata(text, "the checkpoint").ok());
        if let Some(described) = described {
            for task in &mut config.tasks {
                let info = described.iter().find(|info| info.name == task.name);
                if let (Some(data), Some(info)) = (task.data.as_mut(), info) {
                    if info.modality == Modality::Audio && data.window.is_none() {
                        data.window = info.audio_window.is_middle().then_some(AudioWindow::Middle);
                    }
                }
            }
        }
        Ok(config)
    }

    /// Refuses to resume when a task's inputs, as this build makes them, differ from the ones
    /// the checkpoint's run trained on (other preprocessing in another version, other data
    /// files): the run would otherwise go on training on other numbers without a word. A
    /// checkpoint without task descriptions (older than them) is not checked.
    fn check_same_inputs(&self, checkpoint: &Checkpoint) -> Result<(), RunError> {
        match self.changed_inputs(checkpoint)? {
            None => Ok(()),
            Some(InputsChanged {
                task,
                in_words,
                detail,
            }) => Err(RunError::Refused(format!(
                "task '{task}' was trained on other inputs than it reads now: {in_words} \
                 differ. Its data files changed since, or this version of polyvit prepares them \
                 otherwise; use the files and version that wrote the checkpoint (to score it on \
                 other files: polyvit eval --data DIR).\nIn detail: {detail}"
            ))),
        }
    }

    /// The first task whose description in `checkpoint` differs from this run's (its data
    /// files changed, or this version prepares them otherwise), with what differs; `None` when
    /// every task's agrees, or the checkpoint predates task descriptions.
    pub fn changed_inputs(
        &self,
        checkpoint: &Checkpoint,
    ) -> Result<Option<InputsChanged>, RunError> {
        let Some(text) = checkpoint.metadata.get(TASKS_KEY) else {
            return Ok(None);
        };
        let stored = tasks_from_metadata(text, "the checkpoint")?;
        let rebuilt = self.task_infos();
        for then in &stored {
            let Some(now) = rebuilt.iter().find(|t| t.name == then.name) else {
                continue; // Its configuration, read from the checkpoint, names the same tasks.
            };
            if let (Some(in_words), Some(detail)) =
                (then.difference_in_words(now), then.difference(now))
            {
                return Ok(Some(InputsChanged {
                    task: then.name.clone(),
                    in_words,
                    detail,
                }));
            }
        }
        Ok(None)
    }

    /// Restores the model's weights from `checkpoint` into this (freshly built) run, refusing
    /// one made on other inputs: all that scoring needs, so a file whose optimizer state was
    /// dropped (to share a smaller one) will do.
    pub fn restore_weights(&mut self, checkpoint: &Checkpoint) -> Result<(), RunError> {
        checkpoint.check_prefixes(&["model.", "optimizer."])?;
        self.check_same_inputs(checkpoint)?;
        load_weights(checkpoint, &mut self.model)
    }

    /// A count the checkpoint's metadata holds under `key` (`step`).
    pub fn count_in_checkpoint(checkpoint: &Checkpoint, key: &str) -> Result<u64, RunError> {
        let value = checkpoint
            .metadata
            .get(key)
            .ok_or_else(|| RunError::Refused(format!("the checkpoint lacks {key}")))?;
        value.parse().map_err(|_| {
            RunError::Refused(format!(
                "the checkpoint's {key} is {value:?}, not a count of steps"
            ))
        })
    }

    /// Restores model, optimizer and step from `checkpoint` into this (freshly built) run, to
    /// go on training it (a finished run's file may lack the optimizer state).
    pub fn restore(&mut self, checkpoint: &Checkpoint) -> Result<(), RunError> {
        let step = Self::count_in_checkpoint(checkpoint, "step")?;
        if step > self.total_steps() {
            return Err(RunError::Refused(format!(
                "the checkpoint's step {step} is past the end of its run ({} steps)",
                self.total_steps()
            )));
        }
        self.restore_weights(checkpoint)?;
        // The optimizer state is needed only to train on: a finished run has nothing left.
        if step < self.total_steps() {
            checkpoint
                .load_optimizer("optimizer.", &mut *self.optimizer, &self.model)
                .map_err(|e| RunError::Refused(format!("the checkpoint's optimizer state: {e}")))?;
        }
        self.step = step;
        Ok(())
    }
}

/// Sets `model`'s weights from `checkpoint`'s `model.` entries, refusing a weight that is NaN
/// or infinite, by name: it would make every score NaN and every prediction class 0 without a
/// word. Only a damaged or edited file holds one (training stops before it saves such weights).
pub(crate) fn load_weights(checkpoint: &Checkpoint, model: &mut PolyVit) -> Result<(), RunError> {
    for (name, tensor) in checkpoint.entries_with_prefix("model.") {
        let values = tensor.to_vec_f64()?;
        if let Some((index, value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(RunError::Refused(format!(
                "the checkpoint's weight model.{name} holds {value} (element {index}): the file \
                 is damaged, or was edited"
            )));
        }
    }
    checkpoint.load_parameters("model.", model)?;
    Ok(())
}
