//! Short co-training runs on the embedded suite: losses fall on every task, runs resume exactly,
//! the learning-rate schedule is the reference's, divergence and bad settings are explained.

mod common;

use common::{suite, tiny_config};
use nn::checkpoint::Checkpoint;
use nn::Parameters;
use polyvit::data::task_info::{tasks_from_metadata, tasks_to_metadata, TaskInfo, TASKS_KEY};
use polyvit::data::{Dataset, Labels, Split};
use polyvit::train::{LossKind, OptimizerConfig, Run, TrainConfig};

/// Keeps `n` training examples of `dataset`, evenly spread over the split (files are often
/// sorted by class), so a short run can fit them.
fn keep_spread(dataset: &mut Dataset, n: usize) {
    let split = &dataset.train;
    let (len, classes) = (split.len(), dataset.num_classes);
    let picked: Vec<usize> = (0..n).map(|i| i * len / n).collect();
    let inputs = split.gather(&picked).unwrap();
    let labels = match &split.labels {
        Labels::Class(c) => Labels::Class(picked.iter().map(|&i| c[i]).collect()),
        Labels::MultiHot(h) => Labels::MultiHot(
            picked
                .iter()
                .flat_map(|&i| h[i * classes..(i + 1) * classes].to_vec())
                .collect(),
        ),
    };
    dataset.train = Split::new(inputs, labels, n, classes, &dataset.name).unwrap();
}

#[test]
fn loss_falls_on_every_task() {
    // 64 examples per task and 150 steps of 16, unaugmented: every task's path through the
    // shared encoder must learn its examples, so the loss falls clearly (by a fifth) on each.
    let steps = 150;
    let mut config = tiny_config(steps, 16);
    for task in &mut config.tasks {
        task.lr = 0.1;
        task.spec_augment = false;
        task.max_shift = 0;
        task.label_smoothing = 0.0;
    }
    let mut suite = suite();
    for dataset in &mut suite {
        keep_spread(dataset, 64);
    }
    let mut run = Run::new(config, suite).unwrap();
    let mut history: Vec<Vec<f64>> = vec![Vec::new(); run.datasets.len()];
    while run.step < run.total_steps() {
        for loss in run.train_step().unwrap().losses {
            history[loss.task].push(loss.loss);
        }
    }
    for (j, losses) in history.iter().enumerate() {
        assert_eq!(
            losses.len(),
            steps as usize,
            "weighted sampling gives each task exactly its budget"
        );
        let mean = |s: &[f64]| s.iter().sum::<f64>() / s.len() as f64;
        let (first, last) = (mean(&losses[..25]), mean(&losses[losses.len() - 25..]));
        assert!(
            last < 0.8 * first,
            "task {}: loss went from {first:.3} to {last:.3}",
            run.datasets[j].name
        );
    }
}

#[test]
fn a_resumed_run_repeats_an_uninterrupted_one_exactly() {
    for optimizer in [OptimizerConfig::sgd(), OptimizerConfig::adamw(0.05)] {
        let mut config = tiny_config(4, 16);
        if matches!(optimizer, OptimizerConfig::Adamw { .. }) {
            config.tasks.iter_mut().for_each(|t| t.lr = 0.002);
        }
        config.optimizer = optimizer;
        let mut straight = Run::new(config.clone(), suite()).unwrap();
        let expected: Vec<f64> = (0..straight.total_steps())
            .map(|_| straight.train_step().unwrap().losses[0].loss)
            .collect();

        let mut first = Run::new(config.clone(), suite()).unwrap();
        let mut losses: Vec<f64> = (0..10)
            .map(|_| first.train_step().unwrap().losses[0].loss)
            .collect();
        let dir = std::env::temp_dir().join(format!("polyvit-resume-{}", std::process::id()));
        let path = dir.join("checkpoint.safetensors");
        first.save(&path).unwrap();
        let checkpoint = Checkpoint::load(&path).unwrap();
        let restored = Run::config_in_checkpoint(&checkpoint).unwrap();
        assert_eq!(restored, config, "the checkpoint holds the configuration");
        let mut resumed = Run::new(restored, suite()).unwrap();
        resumed.restore(&checkpoint).unwrap();
        assert_eq!(resumed.step, 10);
        while resumed.step < resumed.total_steps() {
            losses.push(resumed.train_step().unwrap().losses[0].loss);
        }
        // Their final checkpoints are the same file, byte for byte (a `cmp` or checksum of two
        // runs' checkpoints is the simplest reproducibility check a user can make).
        let (straight_path, resumed_path) = (dir.join("straight.st"), dir.join("resumed.st"));
        straight.save(&straight_path).unwrap();
        resumed.save(&resumed_path).unwrap();
        let same_file =
            std::fs::read(&straight_path).unwrap() == std::fs::read(&resumed_path).unwrap();
        std::fs::remove_dir_all(&dir).ok();
        assert!(
            same_file,
            "{}: final checkpoints differ",
            config.optimizer.name()
        );
        assert_eq!(
            losses,
            expected,
            "{}: same seed ⇒ same loss curve after resume",
            config.optimizer.name()
        );
    }
}

/// The number of threads does not change a run's numbers: the `small` model, whose products and
/// layer norms are large enough to be split over threads, ends in the same checkpoint, byte for
/// byte, on one thread, two and three (AdamW, micro-batches, an image, a video and an audio task).
#[test]
fn the_thread_count_does_not_change_a_run() {
    let names = ["mnist", "moving_mnist_direction", "drums"].map(String::from);
    let mut config = TrainConfig::default();
    config.select_tasks(&names);
    config.scale_steps(30);
    let checkpoint_on = |threads: usize| -> Vec<u8> {
        let datasets = suite()
            .into_iter()
            .filter(|d| names.contains(&d.name))
            .collect();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let dir =
            std::env::temp_dir().join(format!("polyvit-threads-{threads}-{}", std::process::id()));
        let path = dir.join("checkpoint.safetensors");
        pool.install(|| {
            let mut run = Run::new(config.clone(), datasets).unwrap();
            while run.step < run.total_steps() {
                run.train_step().unwrap();
            }
            run.save(&path).unwrap();
        });
        let bytes = std::fs::read(&path).unwrap();
        std::fs::remove_dir_all(&dir).ok();
        bytes
    };
    let one = checkpoint_on(1);
    assert!(checkpoint_on(2) == one, "two threads changed the run");
    assert!(checkpoint_on(3) == one, "three threads changed the run");
}

#[test]
fn learning_rate_is_coefficient_times_warmup_times_cosine() {
    let mut config = tiny_config(10, 16);
    config.tasks[0].lr = 0.2;
    let run = Run::new(config, suite()).unwrap();
    let (total, warmup) = (run.total_steps(), run.config.tasks.len() as u64 * 2);
    assert_eq!(run.learning_rate(0, &[0]), 0.0);
    assert!(
        (run.learning_rate(6, &[0]) - 0.1).abs() < 1e-12,
        "half-way through the shared warmup"
    );
    assert!(
        (run.learning_rate(warmup, &[1]) - 0.05).abs() < 1e-12,
        "the other task's coefficient at the peak"
    );
    let middle = warmup + (total - warmup) / 2;
    assert!(
        (run.learning_rate(middle, &[0]) - 0.1).abs() < 1e-12,
        "cosine is at one half mid-decay"
    );
    assert!(run.learning_rate(total, &[0]).abs() < 1e-12);
}

/// A run whose weights one task's learning rate blows up stops at the first loss that is not a
/// number, naming that loss's task and step and the update before it: the task it was for and
/// its learning rate, which is the one to lower (here drums', though mnist's loss may be the
/// first to show it).
#[test]
fn a_diverging_run_stops_with_the_task_and_step() {
    let mut config = tiny_config(20, 16);
    config.select_tasks(&["mnist".into(), "drums".into()]);
    for task in &mut config.tasks {
        (task.steps, task.batch_size, task.warmup) = (20, 16, 0);
        task.lr = if task.name == "drums" { 1e30 } else { 0.01 };
    }
    config.clip_norm = 1e30;
    let mut run = Run::new(config, suite()).unwrap();
    let err = loop {
        match run.train_step() {
            Ok(_) if run.step < run.total_steps() => continue,
            Ok(_) => panic!("a learning rate of 1e30 must diverge"),
            Err(e) => break e.to_string(),
        }
    };
    assert!(
        err.contains("loss of task") && err.contains(" in step ") && err.contains("in steps.jsonl"),
        "{err}"
    );
    assert!(
        err.contains("updated the weights for drums at learning rate ")
            && (err.contains("e29 (try") || err.contains("e30 (try")),
        "{err}"
    );
}

#[test]
fn bad_configurations_are_explained() {
    let mut config = tiny_config(1, 16);
    config.preset = "huge".into();
    let err = Run::new(config, suite()).err().unwrap().to_string();
    assert!(err.contains("huge") && err.contains("small"), "{err}");
    let mut config = tiny_config(1, 16);
    config.tasks[0].name = "imagenet".into();
    let err = Run::new(config, suite()).err().unwrap().to_string();
    assert!(
        err.contains("imagenet") && err.contains("fashion_mnist"),
        "{err}"
    );
    let mut config = tiny_config(1, 16);
    config.select_tasks(&["drums".into()]);
    config.tasks[0].loss = Some(LossKind::Softmax);
    let err = Run::new(config, suite()).err().unwrap().to_string();
    assert!(err.contains("task drums: loss = \"softmax\""), "{err}");
    // An augmentation for another modality is refused, not skipped.
    let mut config = tiny_config(1, 16);
    config.select_tasks(&["mnist".into()]);
    config.tasks[0].spec_augment = true;
    let err = Run::new(config, suite()).err().unwrap().to_string();
    assert!(
        err.contains("task mnist: spec_augment = true") && err.contains("an image task"),
        "{err}"
    );
}

/// A single-label task trained with the sigmoid loss (the reference's choice for images)
/// starts at C·ln 2 with zero logits and learns, with label smoothing as well.
#[test]
fn a_single_label_task_trains_with_the_sigmoid_loss() {
    let mut config = tiny_config(60, 16);
    config.select_tasks(&["mnist".into()]);
    let task = &mut config.tasks[0];
    (task.loss, task.lr, task.label_smoothing) = (Some(LossKind::Sigmoid), 0.1, 0.1);
    (task.max_shift, task.warmup) = (0, 0);
    let mut suite = suite();
    keep_spread(&mut suite[0], 32);
    let mut run = Run::new(config, suite).unwrap();
    let losses: Vec<f64> = (0..60)
        .map(|_| run.train_step().unwrap().losses[0].loss)
        .collect();
    let (first, last) = (losses[0], losses[50..].iter().sum::<f64>() / 10.0);
    assert!(
        first > 5.0 && first < 8.0,
        "ten sigmoid losses near ln 2: {first}"
    );
    assert!(last < 0.6 * first, "loss {first} -> {last}");
}

/// The checkpoint of a tiny one-step run, and a function that restores an edited copy of it
/// into a fresh run of the same configuration and returns the error if the restore is refused.
fn restore_after_edit(tag: &str) -> impl Fn(&dyn Fn(&mut Checkpoint)) -> Option<String> {
    let config = tiny_config(1, 8);
    let mut run = Run::new(config.clone(), suite()).unwrap();
    run.train_step().unwrap();
    let dir = std::env::temp_dir().join(format!("polyvit-{tag}-{}", std::process::id()));
    let path = dir.join("checkpoint.safetensors");
    run.save(&path).unwrap();
    let saved = Checkpoint::load(&path).unwrap();
    std::fs::remove_dir_all(&dir).ok();
    move |edit| {
        let mut checkpoint = saved.clone();
        edit(&mut checkpoint);
        let mut fresh = Run::new(config.clone(), suite()).unwrap();
        fresh.restore(&checkpoint).err().map(|e| e.to_string())
    }
}

/// A checkpoint trained on other inputs than this build makes for one of its tasks (another
/// version's preprocessing, other data) is refused on restore, naming the task and what differs.
#[test]
fn a_checkpoint_of_other_inputs_does_not_resume() {
    let restore = restore_after_edit("inputs");
    let restore_edited = |edit: &dyn Fn(&mut TaskInfo)| {
        restore(&|checkpoint| {
            let text = &checkpoint.metadata[TASKS_KEY];
            let mut tasks = tasks_from_metadata(text, "test").unwrap();
            tasks.iter_mut().for_each(edit);
            checkpoint
                .metadata
                .insert(TASKS_KEY.into(), tasks_to_metadata(&tasks));
        })
    };
    assert_eq!(restore_edited(&|_| {}), None, "the same inputs resume");
    let band_means = restore_edited(&|t| {
        if t.name == "spoken_digits" {
            t.band_mean_removal = false;
        }
    })
    .expect("spoken digits are built with their band means removed");
    assert!(
        band_means.starts_with("task 'spoken_digits'")
            && band_means.contains("band_mean_removal: false in the checkpoint, true now"),
        "{band_means}"
    );
    let standardization = restore_edited(&|t| {
        if t.name == "mnist" {
            t.standardization.mean += 0.5;
        }
    })
    .expect("other mnist statistics");
    assert!(
        standardization.contains("'mnist'") && standardization.contains("standardization"),
        "{standardization}"
    );
}

/// A checkpoint whose optimizer state is missing, partial or foreign is refused on restore,
/// naming the entry, instead of resuming from zero momentum.
#[test]
fn a_checkpoint_without_its_optimizer_state_does_not_resume() {
    let restore = restore_after_edit("state");
    assert_eq!(restore(&|_| {}), None, "the untouched checkpoint restores");
    let none = restore(&|c| c.tensors.retain(|k, _| !k.starts_with("optimizer.")));
    assert!(
        none.as_deref().is_some_and(|e| e.contains("zero state")),
        "{none:?}"
    );
    let partial = restore(&|c| {
        c.tensors.remove("optimizer.momentum.heads.mnist.weight");
    });
    assert!(
        partial
            .as_deref()
            .is_some_and(|e| e.contains("momentum.heads.mnist.weight is missing")),
        "{partial:?}"
    );
    let foreign = restore(&|c| {
        let t = c.tensors["optimizer.momentum.heads.mnist.bias"].clone();
        c.tensors
            .insert("optimizer.momentum.heads.cifar.bias".into(), t);
    });
    assert!(
        foreign
            .as_deref()
            .is_some_and(|e| e.contains("heads.cifar.bias belongs to no trainable parameter")),
        "{foreign:?}"
    );
    let stray = restore(&|c| {
        let t = c.tensors["model.heads.mnist.bias"].clone();
        c.tensors.insert("ema.heads.mnist.bias".into(), t);
    });
    assert!(
        stray
            .as_deref()
            .is_some_and(|e| e.contains("ema.heads.mnist.bias is unexpected")),
        "{stray:?}"
    );
    let unexpected = restore(&|c| {
        let t = c.tensors["model.heads.mnist.bias"].clone();
        c.tensors.insert("model.heads.cifar.bias".into(), t);
    });
    assert!(
        unexpected
            .as_deref()
            .is_some_and(|e| e.contains("model.heads.cifar.bias is not a parameter of the model")),
        "{unexpected:?}"
    );
}

/// With accumulated gradients every step trains every task, so the plan is the budgets' sum over
/// the task count (as many batches as the other schedules) and the warmup the warmups' sum over
/// it too; the other schedules add both up.
#[test]
fn the_warmup_fits_the_plan_of_every_schedule() {
    let mut config = tiny_config(10, 8);
    for (j, task) in config.tasks.iter_mut().enumerate() {
        task.steps = 10 + j as u64;
        task.warmup = 2 + j as u64;
    }
    let tasks = config.tasks.len() as u64;
    for schedule in ["weighted", "accumulated"] {
        let mut config = config.clone();
        config.schedule = schedule.into();
        let run = Run::new(config, suite()).unwrap();
        let (plan, warmup) = (run.total_steps(), run.warmup_steps());
        let (budgets, warmups): (u64, u64) = (
            (0..tasks).map(|j| 10 + j).sum(),
            (0..tasks).map(|j| 2 + j).sum(),
        );
        if schedule == "accumulated" {
            assert_eq!(
                (plan, warmup),
                (budgets.div_ceil(tasks), warmups.div_ceil(tasks))
            );
        } else {
            assert_eq!(plan, (0..tasks).map(|j| 10 + j).sum::<u64>());
            assert_eq!(warmup, (0..tasks).map(|j| 2 + j).sum::<u64>());
        }
        assert!(warmup < plan);
    }
}

/// A step at learning rate 0 (a warmup's first) changes no weight, so a run that stops right
/// after it is not told to lower a learning rate: the weights it started from are to blame.
#[test]
fn a_warmups_first_step_is_not_blamed() {
    let mut config = tiny_config(20, 16);
    config.select_tasks(&["mnist".into()]);
    config.tasks[0].warmup = 5;
    let mut run = Run::new(config, suite()).unwrap();
    run.train_step().unwrap(); // step 0, at learning rate 0
    run.model.visit_mut("", &mut |name, p| {
        if name == "encoder.norm.weight" {
            p.set_value(p.value().ones_like().unwrap().mul_scalar(1e30).unwrap());
        }
    });
    let Err(err) = run.train_step() else {
        panic!("a non-finite gradient norm stops the run");
    };
    let err = err.to_string();
    assert!(
        err.contains("in step 2 (\"step\": 1 in steps.jsonl") && err.contains("before any update"),
        "{err}"
    );
}

/// A step whose loss is a number but whose gradients are not (here: the final norm's scale set
/// to 1e30, so the logits are large but finite and the gradients' squares overflow f32) stops
/// too, naming the gradient norm, before any update is made from it.
#[test]
fn a_step_whose_gradient_norm_is_not_finite_stops() {
    let mut config = tiny_config(20, 16);
    config.select_tasks(&["mnist".into()]);
    let mut run = Run::new(config, suite()).unwrap();
    let huge = |p: &mut nn::Parameter| {
        let value = p.value().ones_like().unwrap().mul_scalar(1e30).unwrap();
        p.set_value(value);
    };
    run.model.visit_mut("", &mut |name, p| {
        if name == "encoder.norm.weight" {
            huge(p);
        }
    });
    let Err(err) = run.train_step() else {
        panic!("a non-finite gradient norm stops the run");
    };
    let err = err.to_string();
    assert!(
        err.starts_with("training stopped: the gradient norm of task mnist became"),
        "{err}"
    );
}
