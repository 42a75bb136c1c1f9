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
        optimizer: OptimizerConfig::Sgd {
            momentum: 0.8,
            weight_decay: 0.0,
            nesterov: false,
        },
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
    let err = TrainConfig::from_toml_str("[[task]]\nname = \"mnist\"\nsteps = 5\n").unwrap_err();
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

/// Scaled warmups keep their ratios, and warmups that fit the run (end before its last step)
/// still fit it scaled: 19 of 20 steps (one task warming up for longer than its own 10) scaled
/// to 3 steps would round to 4 (19 · 2/10), and fit as 2; warmups that reach the run's end are
/// left to `validate` to refuse, and so are warmups that add up past 2⁶⁴ (they wrapped to 1
/// before).
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
    assert_eq!(scaled.warmup_steps(), 2);
    assert!(scaled.validate().is_ok(), "{:?}", scaled.validate());
    config.tasks[1].warmup = 1;
    assert!(config.validate().unwrap_err().contains(
        "warmups come to 20 steps, as many as the run's 20: the learning rate would not reach"
    ));
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
    let cases: [(Edit, &str); 32] = [
        (
            |c| {
                c.optimizer = OptimizerConfig::Sgd {
                    momentum: 1.0,
                    weight_decay: 0.0,
                    nesterov: false,
                }
            },
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
        (
            |c| {
                c.tasks[1].mixup = 0.2;
                c.tasks[1].batch_size = 1;
                c.micro_batches = 1;
            },
            "task fashion_mnist: mixup = 0.2 does nothing with batch_size = 1",
        ),
        (
            |c| {
                c.model.depth = Some(9_000);
                c.adapt_depth = 1_000;
            },
            "depth = 9000 with adapt_depth = 1000: up to 11000 blocks with each modality's own, \
             more than the 10000 a checkpoint can hold",
        ),
        (
            |c| {
                c.model.depth = Some(1);
                c.adapt_depth = 0;
                c.tasks[2].stochastic_depth = 0.1;
            },
            "stochastic_depth = 0.1 does nothing with depth = 1",
        ),
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
            "a task has an empty name (`name = \"\"`, or an empty entry in --tasks, such as a \
             trailing comma)",
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
            |c| c.gelu = "exact".into(),
            "gelu = \"exact\": must be \"tanh\" or \"erf\"",
        ),
        (
            |c| c.tasks.iter_mut().for_each(|t| t.warmup = t.steps + 1),
            "the tasks' warmups come to",
        ),
        (
            |c| {
                // Six tasks a step: the plan is the budgets' sum over six, the warmup too.
                c.schedule = "accumulated".into();
                let budgets: u64 = c.tasks.iter().map(|t| t.steps).sum();
                let others: u64 = c.tasks.iter().skip(1).map(|t| t.warmup).sum();
                c.tasks[0].warmup = budgets + 6 - others;
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

/// `gelu` reaches the model; a file without the key (every run before it) keeps the tanh form.
#[test]
fn the_gelu_key_chooses_the_mlps_form() {
    let erf = TrainConfig::from_toml_str("gelu = \"erf\"").unwrap();
    assert_eq!(erf.model_config().unwrap().gelu, Gelu::Erf);
    let unset = TrainConfig::from_toml_str("preset = \"tiny\"").unwrap();
    assert_eq!(unset.model_config().unwrap().gelu, Gelu::Tanh);
    let printed = toml::to_string(&TrainConfig::default()).unwrap();
    assert!(printed.contains("gelu = \"tanh\""), "{printed}");
}
