//! Which runs each experiment makes: the rows of its table, each a set of training
//! configurations (parts) that together cover the base configuration's tasks.

use polyvit::data::Modality;
use polyvit::train::{Schedule, TrainConfig};
use std::fmt;
use std::str::FromStr;

/// One of the paper's experiments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Experiment {
    /// One model per task, each on its own budget.
    SingleTask,
    /// Co-training with each of the five schedules.
    Schedules,
    /// `L_adapt = 0` against `L_adapt = L/2`.
    AdaptDepth,
    /// Co-training within each modality against co-training across all of them.
    WithinModality,
    /// The learning rates reused from the configuration against ones re-tuned for co-training.
    Hyperparameters,
    /// The paper's main table: single-task, both `L_adapt`, every schedule.
    MainTable,
    /// Every row of every experiment above.
    All,
}

impl Experiment {
    pub const ALL: [Experiment; 7] = [
        Experiment::SingleTask,
        Experiment::Schedules,
        Experiment::AdaptDepth,
        Experiment::WithinModality,
        Experiment::Hyperparameters,
        Experiment::MainTable,
        Experiment::All,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Experiment::SingleTask => "single-task",
            Experiment::Schedules => "schedules",
            Experiment::AdaptDepth => "adapt-depth",
            Experiment::WithinModality => "within-modality",
            Experiment::Hyperparameters => "hyperparameters",
            Experiment::MainTable => "main-table",
            Experiment::All => "all",
        }
    }
}

impl fmt::Display for Experiment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Experiment {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Experiment::ALL
            .into_iter()
            .find(|e| e.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Experiment::ALL.iter().map(|e| e.name()).collect();
                format!(
                    "unknown experiment {s:?} (expected one of {})",
                    names.join(", ")
                )
            })
    }
}

/// One training configuration of a row (without its seed, which each repetition sets).
#[derive(Clone, Debug, PartialEq)]
pub struct Part {
    /// What the part covers (a task, a modality), or empty when it is the whole row.
    pub name: String,
    pub config: TrainConfig,
}

/// One row of an experiment's table.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The row's name, also its folder under `runs/`.
    pub name: String,
    pub parts: Vec<Part>,
    /// The name of a row chosen after the runs among its candidates: the one with the best mean
    /// validation metric (see `summary::select_on_validation`).
    pub candidate_for: Option<String>,
}

/// The name of the row that reports the learning-rate factor chosen on validation.
pub const RETUNED: &str = "re-tuned";

/// The learning-rate factors tried by `hyperparameters` (1 is the configuration's own rates).
pub const LR_FACTORS: [f64; 3] = [0.5, 1.0, 2.0];

/// A row of one co-training run.
fn cotraining(name: String, config: TrainConfig) -> Row {
    Row {
        name,
        parts: vec![Part {
            name: String::new(),
            config,
        }],
        candidate_for: None,
    }
}

/// One single-task run per task, on the task's own settings and budget.
fn single_task(base: &TrainConfig) -> Row {
    let parts = base
        .tasks
        .iter()
        .map(|task| {
            let mut config = base.clone();
            config.select_tasks(std::slice::from_ref(&task.name));
            Part {
                name: task.name.clone(),
                config,
            }
        })
        .collect();
    Row {
        name: "single-task".into(),
        parts,
        candidate_for: None,
    }
}

/// PolyViT with `L_adapt = 0` and with `L_adapt = depth / 2`: one row when a model of one
/// block makes them the same ([`indistinct_comparisons`] says so).
fn adapt_depths(base: &TrainConfig, depth: usize) -> Vec<Row> {
    let mut depths = vec![0, depth / 2];
    depths.dedup();
    depths
        .into_iter()
        .map(|adapt_depth| {
            let config = TrainConfig {
                adapt_depth,
                ..base.clone()
            };
            cotraining(format!("polyvit-adapt-{adapt_depth}"), config)
        })
        .collect()
}

/// Co-training with each schedule.
fn schedules(base: &TrainConfig) -> Vec<Row> {
    Schedule::ALL
        .into_iter()
        .map(|schedule| {
            let config = TrainConfig {
                schedule: schedule.name().into(),
                ..base.clone()
            };
            cotraining(format!("schedule-{schedule}"), config)
        })
        .collect()
}

/// One co-training run per modality of the tasks (in order of first appearance), and the run
/// across all of them.
fn within_modality(base: &TrainConfig, modality_of: &dyn Fn(&str) -> Modality) -> Vec<Row> {
    let mut modalities: Vec<Modality> = Vec::new();
    for task in &base.tasks {
        let modality = modality_of(&task.name);
        if !modalities.contains(&modality) {
            modalities.push(modality);
        }
    }
    let parts = modalities
        .into_iter()
        .map(|modality| {
            let names: Vec<String> = base
                .tasks
                .iter()
                .filter(|t| modality_of(&t.name) == modality)
                .map(|t| t.name.clone())
                .collect();
            let mut config = base.clone();
            config.select_tasks(&names);
            Part {
                name: modality.name().to_string(),
                config,
            }
        })
        .collect();
    vec![
        Row {
            name: "within-modality".into(),
            parts,
            candidate_for: None,
        },
        cotraining("across-modalities".into(), base.clone()),
    ]
}

/// Co-training with every task's learning rate times each of [`LR_FACTORS`], all candidates for
/// the [`RETUNED`] row.
fn learning_rates(base: &TrainConfig) -> Vec<Row> {
    LR_FACTORS
        .into_iter()
        .map(|factor| {
            let mut config = base.clone();
            for task in &mut config.tasks {
                task.lr *= factor;
            }
            let name = match factor == 1.0 {
                true => "lr-x1-reused".to_string(),
                false => format!("lr-x{factor}"),
            };
            Row {
                candidate_for: Some(RETUNED.into()),
                ..cotraining(name, config)
            }
        })
        .collect()
}

/// Notes on comparisons of `experiment` that `base` (a model of `depth` blocks) leaves without a
/// difference: with one block, L/2 is 0 and the adapt-depth comparison has one row; with one
/// task, every schedule trains it at every step; with tasks of one modality, the within-modality
/// model is the one across modalities. The last two's rows are still trained and reported.
pub fn indistinct_comparisons(
    experiment: Experiment,
    base: &TrainConfig,
    depth: usize,
    modality_of: &dyn Fn(&str) -> Modality,
) -> Vec<String> {
    let includes = |group: Experiment| experiment == group || experiment == Experiment::All;
    let in_main_table = |group| includes(group) || experiment == Experiment::MainTable;
    let mut notes = Vec::new();
    if in_main_table(Experiment::AdaptDepth) && depth / 2 == 0 {
        notes.push(format!(
            "the base model has {depth} encoder block{}: L_adapt = L/2 is 0 as well, so only \
             the polyvit-adapt-0 row is trained",
            if depth == 1 { "" } else { "s" }
        ));
    }
    let schedules_too = in_main_table(Experiment::Schedules);
    if schedules_too && base.tasks.len() == 1 {
        notes.push(format!(
            "the base configuration has one task ({}): every schedule trains it at every step, \
             so the schedule-* rows cannot differ",
            base.tasks[0].name
        ));
    }
    let groups = within_modality(base, modality_of);
    let one_modality = groups[0].parts.len() == 1;
    if in_main_table(Experiment::AdaptDepth) && depth / 2 > 0 && one_modality {
        notes.push(format!(
            "the base configuration's tasks are all {} inputs: their L_adapt = L/2 blocks are \
             one modality's, shared by every task as the other blocks are, so the polyvit-adapt \
             rows cannot differ",
            groups[0].parts[0].name
        ));
    }
    if includes(Experiment::WithinModality) && one_modality {
        notes.push(format!(
            "the base configuration's tasks are all {} inputs: the within-modality model is the \
             across-modalities one, so the two rows cannot differ",
            groups[0].parts[0].name
        ));
    }
    notes
}

/// The rows of `experiment` on `base`, for a model of `depth` blocks whose tasks have the
/// modalities `modality_of` gives.
pub fn rows(
    experiment: Experiment,
    base: &TrainConfig,
    depth: usize,
    modality_of: &dyn Fn(&str) -> Modality,
) -> Vec<Row> {
    let main_table = || {
        let mut rows = vec![single_task(base)];
        rows.extend(adapt_depths(base, depth));
        rows.extend(schedules(base));
        rows
    };
    match experiment {
        Experiment::SingleTask => vec![single_task(base)],
        Experiment::Schedules => schedules(base),
        Experiment::AdaptDepth => adapt_depths(base, depth),
        Experiment::WithinModality => within_modality(base, modality_of),
        Experiment::Hyperparameters => learning_rates(base),
        Experiment::MainTable => main_table(),
        Experiment::All => {
            let mut rows = main_table();
            rows.extend(within_modality(base, modality_of));
            rows.extend(learning_rates(base));
            rows
        }
    }
}

/// One training run of an experiment: a row's part with one seed.
#[derive(Clone, Debug, PartialEq)]
pub struct SeededRun<'a> {
    pub row: &'a Row,
    pub part: &'a Part,
    /// The part's configuration with the seed set.
    pub config: TrainConfig,
    /// The configuration as TOML: runs with equal keys are the same run, trained once.
    pub key: String,
}

/// The last of `seeds` seeds from `first_seed`, or an error naming both when it passes the
/// largest seed a run takes.
pub fn last_seed(first_seed: u64, seeds: u64) -> Result<u64, String> {
    first_seed
        .checked_add(seeds.saturating_sub(1))
        .filter(|&last| last <= TrainConfig::MAX_INTEGER)
        .ok_or_else(|| {
            format!(
                "--seeds {seeds} from the configuration's seed = {first_seed}: the last seed, \
                 {first_seed} + {}, passes the largest a run takes, {}; lower seed or --seeds",
                seeds.saturating_sub(1),
                TrainConfig::MAX_INTEGER
            )
        })
}

/// Every part of every row with seeds `first_seed`, `first_seed + 1`, … (`seeds` of them), in
/// table order.
pub fn seeded_runs(
    rows: &[Row],
    first_seed: u64,
    seeds: u64,
) -> Result<Vec<SeededRun<'_>>, String> {
    let last_seed = last_seed(first_seed, seeds)?;
    let mut runs = Vec::new();
    for row in rows {
        for part in &row.parts {
            for seed in first_seed..=last_seed {
                let config = TrainConfig {
                    seed,
                    ..part.config.clone()
                };
                let key = toml::to_string(&config).map_err(|e| e.to_string())?;
                runs.push(SeededRun {
                    row,
                    part,
                    config,
                    key,
                });
            }
        }
    }
    Ok(runs)
}

/// A task's modality and example shape, as loaded.
pub type Loaded = (Modality, Vec<usize>);

/// Writes each folder task's input shape, as the base run loaded it (`loaded`: modality and
/// example shape by task name), into its `size`, `channels` and `frames`. A folder task that
/// sets none takes the shape of another task of its modality in the run, which a row without
/// that task would not have: pinned, every run's `config.toml` trains on the same inputs alone.
pub fn pin_folder_shapes(config: &mut TrainConfig, loaded: &dyn Fn(&str) -> Option<Loaded>) {
    for task in &mut config.tasks {
        let (Some(spec), Some((modality, shape))) = (task.data.as_mut(), loaded(&task.name)) else {
            continue;
        };
        match (modality, shape.as_slice()) {
            (Modality::Image, &[c, h, w]) => {
                (spec.channels, spec.size) = (Some(c), Some([h, w]));
            }
            (Modality::Video, &[t, c, h, w]) => {
                (spec.frames, spec.channels, spec.size) = (Some(t), Some(c), Some([h, w]));
            }
            (Modality::Audio, &[_, frames, _]) => spec.frames = Some(frames),
            _ => {}
        }
    }
}

/// Scales the budgets so that the tasks' steps sum to `steps_per_task` per task (keeping their
/// ratios; warmups scale with them, see [`TrainConfig::scale_steps`]), and the evaluation and
/// checkpoint intervals by the same factor, so a shorter run is evaluated as often.
pub fn scale_budgets(config: &mut TrainConfig, steps_per_task: u64) {
    let before: u64 = config.tasks.iter().map(|t| t.steps).sum();
    config.scale_steps(steps_per_task * config.tasks.len() as u64);
    let after: u64 = config.tasks.iter().map(|t| t.steps).sum();
    let scale = |every: u64| match every {
        0 => 0,
        n => ((n as f64 * after as f64 / before as f64).round() as u64).max(1),
    };
    config.eval_every = scale(config.eval_every);
    config.checkpoint_every = scale(config.checkpoint_every);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The default suite's modalities, by task name.
    fn modality_of(name: &str) -> Modality {
        match name {
            "mnist" | "fashion_mnist" => Modality::Image,
            "spoken_digits" | "drums" => Modality::Audio,
            _ => Modality::Video,
        }
    }

    fn expand(experiment: Experiment) -> Vec<Row> {
        rows(experiment, &TrainConfig::default(), 4, &modality_of)
    }

    fn names(rows: &[Row]) -> Vec<&str> {
        rows.iter().map(|r| r.name.as_str()).collect()
    }

    fn tasks(config: &TrainConfig) -> Vec<&str> {
        config.tasks.iter().map(|t| t.name.as_str()).collect()
    }

    #[test]
    fn folder_tasks_get_the_shapes_they_were_loaded_with() {
        let mut config = TrainConfig::default();
        for name in ["pets", "calls", "clips"] {
            config.set_task_folder(name, name);
        }
        let loaded = |name: &str| match name {
            "pets" => Some((Modality::Image, vec![1, 28, 28])),
            "calls" => Some((Modality::Audio, vec![1, 40, 32])),
            "clips" => Some((Modality::Video, vec![8, 1, 32, 32])),
            _ => Some((Modality::Image, vec![9, 9, 9])),
        };
        pin_folder_shapes(&mut config, &loaded);
        let spec = |name: &str| {
            let task = config.tasks.iter().find(|t| t.name == name).unwrap();
            let spec = task.data.as_ref().unwrap();
            (spec.size, spec.channels, spec.frames)
        };
        assert_eq!(spec("pets"), (Some([28, 28]), Some(1), None));
        assert_eq!(spec("calls"), (None, None, Some(40)));
        assert_eq!(spec("clips"), (Some([32, 32]), Some(1), Some(8)));
        assert!(
            config.tasks[0].data.is_none(),
            "a built-in task stays as it is"
        );
    }

    #[test]
    fn names_round_trip_and_unknown_names_are_explained() {
        for e in Experiment::ALL {
            assert_eq!(e.name().parse::<Experiment>().unwrap(), e);
        }
        let err = "ablation".parse::<Experiment>().unwrap_err();
        assert!(
            err.contains("\"ablation\"") && err.contains("within-modality"),
            "{err}"
        );
    }

    #[test]
    fn single_task_trains_each_task_alone_on_its_own_settings() {
        let base = TrainConfig::default();
        let rows = expand(Experiment::SingleTask);
        assert_eq!(names(&rows), ["single-task"]);
        assert_eq!(rows[0].parts.len(), base.tasks.len());
        for (part, task) in rows[0].parts.iter().zip(&base.tasks) {
            assert_eq!(part.name, task.name);
            assert_eq!(part.config.tasks, std::slice::from_ref(task));
            assert_eq!(part.config.schedule, base.schedule);
        }
    }

    #[test]
    fn schedules_and_adapt_depths_change_only_their_setting() {
        let base = TrainConfig::default();
        let rows = expand(Experiment::Schedules);
        assert_eq!(
            names(&rows),
            [
                "schedule-task-by-task",
                "schedule-alternating",
                "schedule-uniform",
                "schedule-weighted",
                "schedule-accumulated"
            ]
        );
        for (row, schedule) in rows.iter().zip(Schedule::ALL) {
            let config = &row.parts[0].config;
            assert_eq!(config.schedule().unwrap(), schedule);
            assert_eq!(
                TrainConfig {
                    schedule: base.schedule.clone(),
                    ..config.clone()
                },
                base
            );
        }
        let rows = expand(Experiment::AdaptDepth);
        assert_eq!(names(&rows), ["polyvit-adapt-0", "polyvit-adapt-2"]);
        assert_eq!(rows[0].parts[0].config, base, "the default is L_adapt = 0");
        assert_eq!(rows[1].parts[0].config.adapt_depth, 2);
    }

    /// Comparisons a base leaves without a difference are noted; the default suite's are not.
    #[test]
    fn comparisons_without_a_difference_are_noted() {
        let default = TrainConfig::default();
        for experiment in Experiment::ALL {
            assert!(indistinct_comparisons(experiment, &default, 4, &modality_of).is_empty());
        }
        let mut one_task = default.clone();
        one_task.select_tasks(&["mnist".to_string()]);
        let notes = indistinct_comparisons(Experiment::All, &one_task, 4, &modality_of);
        assert_eq!(notes.len(), 3, "{notes:?}");
        assert!(notes[0].contains("one task (mnist)") && notes[0].contains("schedule-*"));
        assert!(notes[1].contains("all image inputs") && notes[1].contains("polyvit-adapt"));
        assert!(notes[2].contains("all image inputs") && notes[2].contains("within-modality"));
        let mut images = default;
        images.select_tasks(&["mnist".to_string(), "fashion_mnist".to_string()]);
        assert_eq!(
            indistinct_comparisons(Experiment::Schedules, &images, 4, &modality_of),
            Vec::<String>::new()
        );
        for experiment in [Experiment::WithinModality, Experiment::AdaptDepth] {
            let notes = indistinct_comparisons(experiment, &images, 4, &modality_of);
            assert_eq!(notes.len(), 1, "{experiment}: {notes:?}");
        }
    }

    /// Rows are told apart by name (a row's runs and results are looked up by it), so no two
    /// may share one, whatever the model's depth: with one block, L_adapt = L/2 is 0 and the
    /// adapt-depth comparison is one row, with a note.
    #[test]
    fn row_names_are_unique_at_every_depth() {
        for depth in 1..=6 {
            for experiment in Experiment::ALL {
                let rows = rows(experiment, &TrainConfig::default(), depth, &modality_of);
                let mut names = names(&rows);
                let count = names.len();
                names.sort();
                names.dedup();
                assert_eq!(names.len(), count, "{experiment} at depth {depth}");
            }
        }
        let shallow = rows(
            Experiment::AdaptDepth,
            &TrainConfig::default(),
            1,
            &modality_of,
        );
        assert_eq!(names(&shallow), ["polyvit-adapt-0"]);
        let notes = indistinct_comparisons(
            Experiment::MainTable,
            &TrainConfig::default(),
            1,
            &modality_of,
        );
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("1 encoder block:"), "{notes:?}");
        assert!(indistinct_comparisons(
            Experiment::Hyperparameters,
            &TrainConfig::default(),
            1,
            &modality_of
        )
        .is_empty());
    }

    #[test]
    fn within_modality_groups_the_tasks_by_modality() {
        let rows = expand(Experiment::WithinModality);
        assert_eq!(names(&rows), ["within-modality", "across-modalities"]);
        let parts: Vec<(&str, Vec<&str>)> = rows[0]
            .parts
            .iter()
            .map(|p| (p.name.as_str(), tasks(&p.config)))
            .collect();
        assert_eq!(
            parts,
            [
                ("image", vec!["mnist", "fashion_mnist"]),
                (
                    "video",
                    vec!["moving_mnist_class", "moving_mnist_direction"]
                ),
                ("audio", vec!["spoken_digits", "drums"]),
            ]
        );
        assert_eq!(rows[1].parts[0].config, TrainConfig::default());
    }

    #[test]
    fn hyperparameters_scale_every_learning_rate_and_are_candidates() {
        let base = TrainConfig::default();
        let rows = expand(Experiment::Hyperparameters);
        assert_eq!(names(&rows), ["lr-x0.5", "lr-x1-reused", "lr-x2"]);
        for (row, factor) in rows.iter().zip(LR_FACTORS) {
            assert_eq!(row.candidate_for.as_deref(), Some(RETUNED));
            let lrs: Vec<f64> = row.parts[0].config.tasks.iter().map(|t| t.lr).collect();
            let expected: Vec<f64> = base.tasks.iter().map(|t| t.lr * factor).collect();
            assert_eq!(lrs, expected);
        }
    }

    #[test]
    fn the_main_table_and_all_collect_the_other_rows() {
        let main = names(&expand(Experiment::MainTable)).join(" ");
        assert_eq!(
            main,
            "single-task polyvit-adapt-0 polyvit-adapt-2 schedule-task-by-task \
             schedule-alternating schedule-uniform schedule-weighted schedule-accumulated"
        );
        let all = expand(Experiment::All);
        assert_eq!(all.len(), 8 + 2 + 3);
        assert_eq!(all[8].name, "within-modality");
        assert_eq!(all[12].name, "lr-x2");
    }

    #[test]
    fn each_part_runs_with_every_seed_and_shared_configurations_share_keys() {
        let rows = expand(Experiment::All);
        let runs = seeded_runs(&rows, 5, 3).unwrap();
        // Seeds are written as TOML's signed 64-bit integers: the last may be i64::MAX.
        let max = TrainConfig::MAX_INTEGER;
        assert!(seeded_runs(&rows, max - 2, 3).is_ok());
        let err = seeded_runs(&rows, max - 1, 3).err().unwrap();
        assert!(
            err.starts_with(&format!(
                "--seeds 3 from the configuration's seed = {}: the last seed",
                max - 1
            )),
            "{err}"
        );
        let parts: usize = rows.iter().map(|r| r.parts.len()).sum();
        assert_eq!(runs.len(), parts * 3);
        let seeds: Vec<u64> = runs[..4].iter().map(|r| r.config.seed).collect();
        assert_eq!(
            seeds,
            [5, 6, 7, 5],
            "the first part's seeds, then the next part's"
        );
        let mut keys: Vec<&str> = runs.iter().map(|r| r.key.as_str()).collect();
        keys.sort();
        keys.dedup();
        // Of the 20 parts, four are the base configuration (L_adapt 0, weighted, across
        // modalities, lr x1): 17 distinct runs per seed.
        assert_eq!(parts, 20);
        assert_eq!(keys.len(), 17 * 3);
        let key_of = |row: &str| &runs.iter().find(|r| r.row.name == row).unwrap().key;
        assert_eq!(key_of("polyvit-adapt-0"), key_of("schedule-weighted"));
        assert_eq!(key_of("polyvit-adapt-0"), key_of("lr-x1-reused"));
        assert_ne!(key_of("polyvit-adapt-0"), key_of("polyvit-adapt-2"));
    }

    #[test]
    fn budgets_and_intervals_scale_together() {
        let mut config = TrainConfig::default();
        for task in &mut config.tasks {
            (task.steps, task.warmup) = (1000, 100);
        }
        (config.eval_every, config.checkpoint_every) = (500, 500);
        config.tasks[0].steps = 2000;
        config.tasks[0].warmup = 200;
        scale_budgets(&mut config, 100);
        // Shares 171.4 and 5 × 85.7 sum to exactly 600: whole parts 171 + 5 × 85 = 596, and the
        // four steps left go to the first four of the equal 0.7 remainders.
        assert_eq!(config.tasks.iter().map(|t| t.steps).sum::<u64>(), 600);
        assert_eq!((config.tasks[0].steps, config.tasks[0].warmup), (171, 17));
        assert_eq!((config.tasks[1].steps, config.tasks[1].warmup), (86, 9));
        assert_eq!(config.tasks[5].steps, 85);
        // 7,000 steps became 600: evaluations every 500 become every 43.
        assert_eq!((config.eval_every, config.checkpoint_every), (43, 43));
    }
}
