//! Which task trains at each step: the five co-training schedules of the paper.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use std::fmt;
use std::str::FromStr;

/// A co-training schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schedule {
    /// All of task 1's steps, then all of task 2's, ... (forgets earlier tasks).
    TaskByTask,
    /// Round robin over every task, for the budgets' total `U = Σ Uⱼ` steps: each task gets
    /// `U/n` of them (the first `U mod n` tasks one more), whatever its own `Uⱼ`, as in the paper,
    /// where the budgets set only the total.
    Alternating,
    /// A uniformly random task each step, for the budgets' total `U = Σ Uⱼ` steps: each task
    /// gets about `U/n` of them, whatever its own `Uⱼ` (the budgets set only the total).
    Uniform,
    /// A random task each step with probability `Uⱼ/U`, realized exactly: the multiset
    /// `{j × Uⱼ}` shuffled with the seed, so task `j` gets exactly `Uⱼ` steps (the paper's choice).
    Weighted,
    /// Every step computes one batch of every task and applies their summed gradients, for
    /// `⌈U/n⌉` steps: as many batches as the other schedules' `U` (up to `n − 1` more), each task
    /// `⌈U/n⌉` of them, at the mean of the tasks' learning rates and with the shared warmup
    /// divided by `n` likewise.
    AccumulatedGradients,
}

impl Schedule {
    /// Every schedule: those that parsing a name (`FromStr`) accepts, in the order its error
    /// lists them.
    pub const ALL: [Schedule; 5] = [
        Schedule::TaskByTask,
        Schedule::Alternating,
        Schedule::Uniform,
        Schedule::Weighted,
        Schedule::AccumulatedGradients,
    ];

    /// The schedule's name in a configuration's `schedule` key and in messages
    /// (`task-by-task`, `alternating`, `uniform`, `weighted`, `accumulated`).
    pub fn name(self) -> &'static str {
        match self {
            Schedule::TaskByTask => "task-by-task",
            Schedule::Alternating => "alternating",
            Schedule::Uniform => "uniform",
            Schedule::Weighted => "weighted",
            Schedule::AccumulatedGradients => "accumulated",
        }
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Schedule {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Schedule::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Schedule::ALL.iter().map(|k| k.name()).collect();
                format!(
                    "unknown schedule {s:?} (expected one of {})",
                    names.join(", ")
                )
            })
    }
}

/// The tasks trained at each optimizer step, for per-task step budgets `budgets[j] = Uⱼ`.
///
/// Every schedule yields `U = Σ Uⱼ` steps of one task each, except accumulated gradients, which
/// yields `⌈U/n⌉` steps of all `n` tasks (each step is one update from one batch of every task),
/// so that every schedule computes as many batches. Task-by-task and weighted give task `j`
/// exactly `Uⱼ` steps; alternating and uniform, `U/n` (exactly and on average).
pub fn plan(schedule: Schedule, budgets: &[u64], seed: u64) -> Vec<Vec<usize>> {
    let length = plan_length(schedule, budgets);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    // Batches draw from streams `step · tasks + task` of the same seed (`train::Run`); the plan
    // takes the last stream, which no batch reaches, so the two never share numbers.
    rng.set_stream(PLAN_STREAM);
    // Task `j` for `Uⱼ` steps, task after task.
    let in_order = || -> Vec<Vec<usize>> {
        budgets
            .iter()
            .enumerate()
            .flat_map(|(j, &u)| (0..u).map(move |_| vec![j]))
            .collect()
    };
    match schedule {
        Schedule::TaskByTask => in_order(),
        Schedule::Alternating => (0..length as usize)
            .map(|step| vec![step % budgets.len()])
            .collect(),
        Schedule::Uniform => {
            if budgets.is_empty() {
                return Vec::new();
            }
            (0..length)
                .map(|_| vec![rng.gen_range(0..budgets.len())])
                .collect()
        }
        Schedule::Weighted => {
            let mut steps = in_order();
            steps.shuffle(&mut rng);
            steps
        }
        Schedule::AccumulatedGradients => {
            (0..length).map(|_| (0..budgets.len()).collect()).collect()
        }
    }
}

/// How many steps [`plan`] yields for `budgets`: their sum `U`, or `⌈U/n⌉` with accumulated
/// gradients, whose every step trains all `n` tasks (saturating: budgets that pass 2⁶⁴ together
/// are refused by the configuration's checks, not wrapped to a few).
pub fn plan_length(schedule: Schedule, budgets: &[u64]) -> u64 {
    let total = budgets.iter().fold(0u64, |sum, &u| sum.saturating_add(u));
    match schedule {
        Schedule::AccumulatedGradients => total.div_ceil(budgets.len().max(1) as u64),
        _ => total,
    }
}

/// The random stream of the run's seed that [`plan`] draws from (batches use the others).
pub const PLAN_STREAM: u64 = u64::MAX;

#[cfg(test)]
mod tests {
    use super::*;

    /// How many steps each task gets in `plan` (a task counted once per step it takes part in).
    fn task_counts(plan: &[Vec<usize>], tasks: usize) -> Vec<u64> {
        let mut counts = vec![0; tasks];
        for step in plan {
            for &j in step {
                counts[j] += 1;
            }
        }
        counts
    }

    const BUDGETS: [u64; 3] = [50, 20, 5];

    #[test]
    fn task_by_task_and_weighted_give_each_task_exactly_its_budget() {
        for schedule in [Schedule::TaskByTask, Schedule::Weighted] {
            let steps = plan(schedule, &BUDGETS, 7);
            assert_eq!(steps.len(), 75, "{schedule}");
            assert!(steps.iter().all(|s| s.len() == 1));
            assert_eq!(task_counts(&steps, 3), BUDGETS.to_vec(), "{schedule}");
        }
    }

    #[test]
    fn task_by_task_is_contiguous_and_alternating_round_robins() {
        let steps = plan(Schedule::TaskByTask, &BUDGETS, 0);
        assert!(steps[..50].iter().all(|s| s == &[0]) && steps[70..].iter().all(|s| s == &[2]));
        let steps = plan(Schedule::Alternating, &BUDGETS, 0);
        assert_eq!(steps.len(), 75);
        assert!(steps.iter().enumerate().all(|(i, s)| s == &[i % 3]));
        assert_eq!(
            task_counts(&steps, 3),
            [25, 25, 25],
            "U/n each, whatever Uⱼ"
        );
        let steps = plan(Schedule::Alternating, &[3, 3, 2], 0);
        assert_eq!(
            task_counts(&steps, 3),
            [3, 3, 2],
            "the first U mod n get one more"
        );
    }

    #[test]
    fn weighted_is_a_seeded_shuffle() {
        let a = plan(Schedule::Weighted, &BUDGETS, 1);
        assert_eq!(
            a,
            plan(Schedule::Weighted, &BUDGETS, 1),
            "same seed, same order"
        );
        assert_ne!(
            a,
            plan(Schedule::Weighted, &BUDGETS, 2),
            "another seed, another order"
        );
        assert_ne!(a, plan(Schedule::TaskByTask, &BUDGETS, 1), "it is shuffled");
    }

    #[test]
    fn uniform_uses_every_task_about_equally() {
        let steps = plan(Schedule::Uniform, &[1000, 1000, 1000], 3);
        assert_eq!(steps.len(), 3000);
        for count in task_counts(&steps, 3) {
            assert!((900..1100).contains(&count), "{count}");
        }
    }

    #[test]
    fn accumulated_gradients_trains_all_tasks_every_step() {
        let steps = plan(Schedule::AccumulatedGradients, &BUDGETS, 0);
        assert_eq!(steps.len(), 25, "U/n updates of n batches: U batches");
        assert!(steps.iter().all(|s| s == &[0, 1, 2]));
        let steps = plan(Schedule::AccumulatedGradients, &[3, 3, 2], 0);
        assert_eq!(steps.len(), 3, "⌈U/n⌉ when n does not divide U");
    }

    /// The configuration's length of a run (`plan_length`) is the plan's, for every schedule.
    #[test]
    fn plan_length_is_the_plans() {
        for schedule in Schedule::ALL {
            for budgets in [&BUDGETS[..], &[3, 3, 2], &[7], &[]] {
                let length = plan(schedule, budgets, 5).len() as u64;
                assert_eq!(
                    plan_length(schedule, budgets),
                    length,
                    "{schedule} {budgets:?}"
                );
            }
        }
    }

    #[test]
    fn names_round_trip_and_unknown_names_are_explained() {
        for s in Schedule::ALL {
            assert_eq!(s.name().parse::<Schedule>().unwrap(), s);
        }
        assert!("random"
            .parse::<Schedule>()
            .unwrap_err()
            .contains("weighted"));
    }
}
