//! Reshaping a configuration for a run: choosing its tasks, reading a task from a folder, and
//! scaling the step budgets to a total (`--tasks`, `--task NAME=DIR`, `--steps`, and the
//! experiments' runs).

use super::{TaskConfig, TrainConfig};
use crate::data::FolderSpec;
use std::path::PathBuf;

impl TrainConfig {
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
    /// run (ended before its last step) and the rounding would make them reach the scaled
    /// run's end (a task may warm up for longer than its own budget), the longest warmups give
    /// back a step each until they fit.
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
        let warmups_fit = self.warmup_steps() < self.planned_steps();
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
        while warmups_fit && self.warmup_steps() >= self.planned_steps() {
            let longest = self
                .tasks
                .iter_mut()
                .max_by_key(|t| t.warmup)
                .expect("a warmup longer than the run has a task");
            longest.warmup -= 1;
        }
    }
}
