//! What a configuration's types cannot say: every value in its range, checked before a run
//! is built from it.

use super::TrainConfig;
use crate::train::optimizer::OptimizerConfig;

impl TrainConfig {
    /// Checks values that types cannot: every number finite and in its range, the plan small
    /// enough to hold, patches of at least one pixel (or frame).
    pub fn validate(&self) -> Result<(), String> {
        self.schedule()?;
        let model = self.model_config()?;
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
            if t.name.is_empty() {
                let wheres =
                    "`name = \"\"`, or an empty entry in --tasks, such as a trailing comma";
                return Err(format!("a task has an empty name ({wheres})"));
            }
            let plain = |c: char| c.is_alphanumeric() || "_-.".contains(c);
            // `.` and `..` are the folder itself and its parent where the name is a path part.
            let dots_only = t.name.chars().all(|c| c == '.');
            if dots_only || !t.name.chars().all(plain) {
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
            if t.stochastic_depth > 0.0 && model.depth == 1 {
                return Err(format!(
                    "task {}: stochastic_depth = {} does nothing with depth = 1: the drop rate \
                     rises from 0 at the first block to stochastic_depth at the last, and one \
                     block is both; set it to 0, or use more blocks",
                    t.name, t.stochastic_depth
                ));
            }
            if !(0.0..1.0).contains(&t.label_smoothing) {
                return bad("label_smoothing", t.label_smoothing, "in [0, 1)");
            }
            if !(t.mixup.is_finite() && t.mixup >= 0.0) {
                return bad("mixup", t.mixup, "0 (off) or a positive, finite alpha");
            }
            if t.mixup > 0.0 && t.batch_size == 1 {
                return Err(format!(
                    "task {}: mixup = {} does nothing with batch_size = 1: it mixes each example \
                     with another of its batch; set it to 0, or use larger batches",
                    t.name, t.mixup
                ));
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
        if warmup > 0 && warmup >= length {
            let relation = match warmup == length {
                true => "as many as",
                false => "more than",
            };
            return Err(format!(
                "the tasks' warmups come to {warmup} steps, {relation} the run's {length}: the \
                 learning rate would not reach the tasks' lr before the run ends; shorten warmup"
            ));
        }
        Ok(())
    }
}
