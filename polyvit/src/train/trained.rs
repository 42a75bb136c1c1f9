//! A trained model read back for inference: the model of a checkpoint with the description of
//! each of its tasks, scoring new inputs (`polyvit predict`, `polyvit eval --data`).

use super::config::TrainConfig;
use super::evaluate::{eval_batch_size, logits};
use super::run::{load_weights, model_specs, Run, RunError};
use crate::data::task_info::{tasks_from_metadata, TaskInfo, TASKS_KEY};
use crate::data::{Dataset, Labels};
use crate::model::PolyVit;
use nn::checkpoint::Checkpoint;
use nn::Parameters;
use tensor::{DType, Device};

/// The model of a checkpoint and what its tasks need to read new files.
pub struct Trained {
    /// The run's configuration.
    pub config: TrainConfig,
    /// The trained model, on `device`.
    pub model: PolyVit,
    /// One description per task head, in the run's task order.
    pub tasks: Vec<TaskInfo>,
    device: Device,
}

impl Trained {
    /// The model of `checkpoint` (named `origin` in errors) on `device`.
    pub fn load(
        checkpoint: &Checkpoint,
        origin: &str,
        device: &Device,
    ) -> Result<Trained, RunError> {
        let config = Run::config_in_checkpoint(checkpoint)?;
        let text = checkpoint.metadata.get(TASKS_KEY).ok_or_else(|| {
            RunError::Refused(format!(
                "{origin} holds no task descriptions (it was written before `polyvit predict` \
                 existed; train it again)"
            ))
        })?;
        let tasks = tasks_from_metadata(text, origin)?;
        let model_config = config
            .model_config()
            .map_err(|e| RunError::Refused(format!("{origin}: {e}")))?;
        let shells = tasks
            .iter()
            .map(|t| t.dataset_with(Vec::new(), Labels::Class(Vec::new()), 0))
            .collect::<Result<Vec<Dataset>, _>>()?;
        let (tokenizers, heads) = model_specs(&config, &shells)?;
        let mut model = PolyVit::new(
            &model_config,
            &tokenizers,
            &heads,
            DType::F32,
            &mut tensor::rng(config.seed),
        )?;
        model.to_device(device)?;
        load_weights(checkpoint, &mut model)?;
        Ok(Trained {
            config,
            model,
            tasks,
            device: device.clone(),
        })
    }

    /// The task called `name`.
    pub fn task(&self, name: &str) -> Result<&TaskInfo, String> {
        self.tasks.iter().find(|t| t.name == name).ok_or_else(|| {
            let names: Vec<&str> = self.tasks.iter().map(|t| t.name.as_str()).collect();
            format!(
                "no task {name:?} in the checkpoint (it has {})",
                names.join(", ")
            )
        })
    }

    /// The device the model computes on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Class probabilities of `len` raw inputs of `task` (standardized here): `[len, classes]`
    /// softmax rows, or independent sigmoids for a multi-label task.
    pub fn probabilities(
        &self,
        task: &TaskInfo,
        inputs: Vec<f32>,
        len: usize,
    ) -> Result<Vec<f32>, RunError> {
        let dataset = task.dataset_with(inputs, Labels::Class(vec![0; len]), len)?;
        let size = eval_batch_size(&self.model, &dataset.name)?;
        let scores = logits(&self.model, &dataset, &dataset.test, size, &self.device)?;
        let classes = task.classes.len();
        Ok(if task.multi_label {
            scores.iter().map(|&z| 1.0 / (1.0 + (-z).exp())).collect()
        } else {
            scores
                .chunks_exact(classes)
                .flat_map(|row| {
                    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                    let exp: Vec<f32> = row.iter().map(|&z| (z - max).exp()).collect();
                    let sum: f32 = exp.iter().sum();
                    exp.into_iter().map(move |e| e / sum)
                })
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_without_task_descriptions_is_refused_by_name() {
        let mut checkpoint = Checkpoint::default();
        let config = toml::to_string(&TrainConfig::default()).unwrap();
        checkpoint.metadata.insert("config".into(), config);
        let err = Trained::load(&checkpoint, "old.safetensors", &Device::Cpu)
            .err()
            .expect("refused")
            .to_string();
        assert!(
            err.contains("old.safetensors holds no task descriptions"),
            "{err}"
        );
        checkpoint
            .metadata
            .insert(TASKS_KEY.into(), "not json".into());
        let err = Trained::load(&checkpoint, "bad.safetensors", &Device::Cpu)
            .err()
            .expect("refused")
            .to_string();
        assert!(
            err.contains("bad.safetensors: corrupt task descriptions"),
            "{err}"
        );
    }
}
