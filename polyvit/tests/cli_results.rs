//! The command line's result files: a short `polyvit train` draws its curves, and a tiny
//! `polyvit experiment` writes its tables, whose means and standard deviations are those of its
//! runs' own results.

mod signals;

use serde_json::Value;
use signals::{signal_once_training, with_default_signals};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn polyvit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_polyvit"))
        .args(args)
        .output()
        .expect("polyvit runs")
}

fn succeed(args: &[&str]) -> String {
    let out = polyvit(args);
    assert!(
        out.status.success(),
        "polyvit {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A fresh folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("polyvit-{name}-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `--micro-batches` sets the configuration's `micro_batches` (2 in the default run) and is
/// checked like the file's key.
#[test]
fn micro_batches_are_set_from_the_command_line() {
    let micro_batches = |args: &[&str]| {
        let text = succeed(&[&["train", "--print-config"], args].concat());
        text.lines()
            .find_map(|l| l.strip_prefix("micro_batches = "))
            .map(str::to_string)
    };
    assert_eq!(micro_batches(&[]).as_deref(), Some("2"));
    assert_eq!(
        micro_batches(&["--micro-batches", "1"]).as_deref(),
        Some("1")
    );
    let out = polyvit(&["train", "--micro-batches", "0", "--print-config"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("micro_batches = 0: must be at least 1"),
        "{stderr}"
    );
}

/// A flag that would have no effect is refused with a message that names it, not ignored.
#[test]
fn flags_without_effect_are_refused() {
    let refused = |args: &[&str], says: &str| {
        let out = polyvit(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "polyvit {args:?} succeeded");
        assert!(stderr.contains(says), "polyvit {args:?}: {stderr}");
    };
    // A resumed run keeps its own configuration (refused before the checkpoint is read).
    for flag in [
        &["--eval-every", "5"][..],
        &["--micro-batches", "1"],
        &["--seed", "3"],
    ] {
        let args = [&["train", "--resume", "run/checkpoint.safetensors"], flag].concat();
        refused(&args, &format!("its own configuration; drop {}", flag[0]));
    }
    // A configuration that cannot train is not printed as if it could.
    refused(
        &["train", "--tasks", "mnist,bogus", "--print-config"],
        "no task \"bogus\" in the suite (it has mnist,",
    );
    // The embedded suite reads no folder.
    refused(
        &["train", "--suite-dir", "elsewhere", "--print-config"],
        "add --suite full",
    );
    refused(
        &[
            "train",
            "--suite",
            "default",
            "--suite-dir",
            "x",
            "--print-config",
        ],
        "no use with --suite default",
    );
    // Every task trains at least one step.
    refused(
        &["train", "--steps", "0", "--print-config"],
        "--steps 0: fewer than the run's 6 tasks",
    );
    refused(
        &[
            "train",
            "--tasks",
            "mnist",
            "--steps",
            "0",
            "--print-config",
        ],
        "--steps 0: the run's task trains at least one step",
    );
    // A step whose attention maps cannot fit (1×1×1 tubelets: 8,193 tokens per clip, and
    // about 4 TiB for a batch of 4,096) stops before anything is written.
    let dir = scratch("attention-memory");
    let (config, output) = (dir.join("config.toml"), dir.join("run"));
    std::fs::write(
        &config,
        "preset = \"tiny\"\n[patches]\nvideo = [1, 1, 1]\n\
         [[task]]\nname = \"moving_mnist_direction\"\nsteps = 2\nbatch_size = 4096\nlr = 0.001\n",
    )
    .unwrap();
    refused(
        &[
            "train",
            "--config",
            config.to_str().unwrap(),
            "--output",
            output.to_str().unwrap(),
        ],
        "task moving_mnist_direction: a training step's attention maps alone take",
    );
    assert!(!output.exists(), "nothing written");
    // A model whose parameters cannot fit (width 1,000,000: 8 T parameters) is refused before
    // any is allocated, by train and by info, which only counts them.
    let huge = dir.join("huge.toml");
    std::fs::write(
        &huge,
        "preset = \"tiny\"\n[model]\nwidth = 1000000\n\
         [[task]]\nname = \"mnist\"\nsteps = 2\nbatch_size = 2\nlr = 0.001\n",
    )
    .unwrap();
    let huge = huge.to_str().unwrap();
    let out = output.to_str().unwrap();
    refused(
        &["train", "--config", huge, "--output", out],
        "the model's 8000226000074 parameters would take 119212.7 GiB (their values, gradients and optimizer state",
    );
    refused(
        &["info", "--config", huge],
        "the model's 8000226000074 parameters would take 29803.2 GiB (their values, as f32)",
    );
    // A step one of whose tensors is more than one OpenCL buffer holds: the MLP's hidden
    // layer of 8,100+ images of 50 tokens, 8,192 wide (3.3 G elements, past the kernels'
    // 2³¹ − 1), while the attention maps take a few hundred MB.
    let wide = dir.join("wide.toml");
    std::fs::write(
        &wide,
        "preset = \"tiny\"\nmicro_batches = 1\n[model]\nheads = 1\nmlp_width = 8192\n\
         [patches]\nimage = [4, 4]\n\
         [[task]]\nname = \"mnist\"\nsteps = 2\nbatch_size = 9000\nlr = 0.001\n",
    )
    .unwrap();
    // On an OpenCL device alike, against the device's memory (the model used to be built in
    // this process's memory until that panicked, and a step's maps allocated until the OpenCL
    // driver aborted), and against its largest buffer (that used to fail in the first step,
    // after the run's files were written).
    for device in tensor::test_devices() {
        let tensor::Device::OpenCl(cl) = &device else {
            continue;
        };
        let on = [
            "--output",
            out,
            "--device",
            &format!("opencl:{}", cl.index()),
        ];
        refused(
            &[&["train", "--config", huge][..], &on].concat(),
            "the model's 8000226000074 parameters would take 119212.7 GiB (their values, gradients",
        );
        refused(
            &[&["train", "--config", config.to_str().unwrap()][..], &on].concat(),
            "task moving_mnist_direction: a training step's attention maps alone take",
        );
        refused(
            &[&["train", "--config", wide.to_str().unwrap()][..], &on].concat(),
            "task mnist: in a training step, one block's MLP hidden layer would take",
        );
    }
    assert!(!output.exists(), "nothing written");
    std::fs::remove_dir_all(&dir).ok();
    // The built-in tasks are listed, with what the default run does with each.
    let tasks = succeed(&["data", "tasks"]);
    for name in ["mnist", "moving_mnist_direction", "drums", "language_id"] {
        assert!(tasks.contains(&format!("\n{name} ")), "{name}: {tasks}");
    }
    assert!(
        tasks.contains("5000 steps × 32") && tasks.contains("no (train it with --tasks)"),
        "{tasks}"
    );
    // The default task set is the default run's six tasks, as train builds them.
    let six = succeed(&["info", "--preset", "tiny", "--task-set", "default"]);
    assert!(
        six.contains("6 single-task ViTs") && !six.contains("arrow_of_time"),
        "{six}"
    );
    // One task per modality and every block modality-specific: nearly nothing is shared, and
    // the saving is not told as a ratio of 1.00.
    let dir = scratch("info-saving");
    let three = dir.join("three.toml");
    let tasks: String = ["mnist", "moving_mnist_direction", "spoken_digits"]
        .iter()
        .map(|t| format!("[[task]]\nname = \"{t}\"\nsteps = 2\nbatch_size = 2\nlr = 0.001\n"))
        .collect();
    std::fs::write(
        &three,
        format!("preset = \"tiny\"\nadapt_depth = 2\n{tasks}"),
    )
    .unwrap();
    let info = succeed(&["info", "--config", three.to_str().unwrap()]);
    assert!(
        info.contains("replaces 3 single-task models with about as many parameters ("),
        "{info}"
    );
    std::fs::remove_dir_all(&dir).ok();
    // info builds its model through the training configuration: the same refusal as train's.
    let info = ["info", "--preset", "tiny", "--adapt-depth", "3"];
    let train = [
        "train",
        "--preset",
        "tiny",
        "--adapt-depth",
        "3",
        "--print-config",
    ];
    for args in [&info[..], &train[..]] {
        refused(
            args,
            "adapt_depth = 3: more than the 2 blocks of the tiny preset",
        );
    }
    // A folder of one's own has no splits.
    refused(
        &[
            "eval",
            "--checkpoint",
            "c",
            "--data",
            "d",
            "--split",
            "validation",
        ],
        "cannot be used with",
    );
    // With the full suite, the folder is the configuration's.
    let dir = succeed(&[
        "train",
        "--suite",
        "full",
        "--suite-dir",
        "elsewhere",
        "--print-config",
    ]);
    let line = dir.lines().find(|l| l.starts_with("suite_dir = ")).unwrap();
    assert!(line.ends_with("elsewhere\""), "{line}");
}

/// The uniform schedule draws each step's task at random: a task a short run never draws is
/// named, not scored as if trained (seed 3 draws moving_mnist_direction for all 3 steps).
#[test]
fn a_task_the_schedule_never_draws_is_named() {
    let dir = scratch("untrained");
    let output = dir.join("run");
    let log = succeed(&[
        "train",
        "--tasks",
        "mnist,moving_mnist_direction,arrow_of_time",
        "--schedule",
        "uniform",
        "--steps",
        "3",
        "--seed",
        "3",
        "--preset",
        "tiny",
        "--output",
        output.to_str().unwrap(),
    ]);
    for task in ["mnist", "arrow_of_time"] {
        let note = format!(
            "note: task {task}: the uniform schedule drew none of the run's 3 steps for it; \
             it is scored untrained"
        );
        assert!(log.contains(&note), "{log}");
    }
    assert!(
        !log.contains("task moving_mnist_direction: the uniform"),
        "{log}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// The `[model]` table reshapes the preset key by key: the run says so, `info --config` counts
/// its parameters, its checkpoint keeps the shape (eval rebuilds the model from it and scores
/// what the run scored), and heads that do not divide the width are refused by name.
#[test]
fn the_model_table_reshapes_the_preset() {
    let dir = scratch("model-table");
    let (config, output) = (dir.join("shape.toml"), dir.join("run"));
    let text = "preset = \"tiny\"\neval_every = 0\n[model]\nwidth = 24\nheads = 3\n\
                [[task]]\nname = \"mnist\"\nsteps = 3\nbatch_size = 8\nlr = 0.001\n";
    std::fs::write(&config, text).unwrap();
    let log = succeed(&[
        "train",
        "--config",
        config.to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
    ]);
    assert!(
        log.contains("on the tiny preset with width 24, heads 3 on"),
        "{log}"
    );
    let checkpoint = output.join("checkpoint.safetensors");
    let info = succeed(&["info", "--checkpoint", checkpoint.to_str().unwrap()]);
    assert!(
        info.contains("(width 24, depth 2, heads 3, MLP 32)"),
        "{info}"
    );
    // One task: nothing is shared, so no comparison with single-task models.
    assert!(!info.contains("fewer parameters"), "{info}");
    // `info --config` accounts for the model the file builds before it is trained: the same
    // parts and counts as the trained checkpoint's.
    let planned = succeed(&["info", "--config", config.to_str().unwrap()]);
    let after_title = |text: &str| text.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(after_title(&planned), after_title(&info));
    assert!(
        planned.contains("PolyViT tiny with width 24, heads 3 of ")
            && planned.contains("(width 24, depth 2, heads 3, MLP 32)"),
        "{planned}"
    );
    let test_line = |text: &str| {
        text.lines()
            .find(|l| l.starts_with("mnist "))
            .map(|l| l.split_whitespace().nth(4).unwrap_or("").to_string())
    };
    let scored = succeed(&["eval", "--checkpoint", checkpoint.to_str().unwrap()]);
    let scored = scored
        .lines()
        .find(|l| l.starts_with("mnist "))
        .unwrap()
        .to_string();
    assert_eq!(
        scored.split_whitespace().nth(3),
        test_line(&log).as_deref(),
        "{scored} / {log}"
    );
    std::fs::write(&config, text.replace("heads = 3", "heads = 5")).unwrap();
    let out = polyvit(&[
        "train",
        "--config",
        config.to_str().unwrap(),
        "--print-config",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("model.heads = 5 does not divide model.width = 24"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// The file parses as SVG, and its text holds every one of `words`.
fn check_svg(path: &Path, words: &[&str]) {
    let text = read(path);
    let doc = roxmltree::Document::parse(&text)
        .unwrap_or_else(|e| panic!("{}: not XML: {e}", path.display()));
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let shown: String = doc.descendants().filter_map(|n| n.text()).collect();
    for word in words {
        assert!(shown.contains(word), "{} lacks {word:?}", path.display());
    }
}

#[test]
fn a_training_run_draws_its_loss_and_validation_curves() {
    let dir = scratch("curves");
    let out = dir.to_str().unwrap();
    let args = [
        "train",
        "--tasks",
        "mnist,drums",
        "--preset",
        "tiny",
        "--steps",
        "20",
        "--eval-every",
        "10",
        "--output",
        out,
    ];
    succeed(&args);
    check_svg(
        &dir.join("curves.svg"),
        &["training loss", "validation", "mnist", "drums (mAP)"],
    );
    // The validation splits are scored once more at the end, then the test splits.
    let evals = read(&dir.join("eval.csv"));
    let last: Vec<&str> = evals.lines().rev().take(4).collect();
    let step_and_split: Vec<String> = last
        .iter()
        .map(|l| l.split(',').take(2).collect::<Vec<_>>().join(","))
        .collect();
    assert_eq!(
        step_and_split,
        ["20,test", "20,test", "20,validation", "20,validation"]
    );
    // `info` accounts for the trained model as for a preset.
    let checkpoint = dir.join("checkpoint.safetensors");
    let checkpoint = checkpoint.to_str().unwrap();
    let info = succeed(&["info", "--checkpoint", checkpoint]);
    assert!(
        info.contains("PolyViT tiny of ")
            && info.contains("tasks: mnist, drums")
            && info.contains("single-task ViT: drums")
            && info.contains("2 single-task ViTs"),
        "{info}"
    );
    // A reader that stops early (`polyvit info | head -1`) ends nothing with a panic.
    let mut child = Command::new(env!("CARGO_BIN_EXE_polyvit"))
        .args(["info", "--checkpoint", checkpoint])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let closed = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&closed.stderr);
    assert!(closed.status.success() && stderr.is_empty(), "{stderr}");
    let out = polyvit(&["info", "--checkpoint", checkpoint, "--preset", "b16"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be used with"));
    // Nor does a closed standard error (`2>&1 | head -n 0`): notes and the error are dropped,
    // and a failing command still exits with 1, not a panic's 101.
    for args in [
        &["info", "--checkpoint", "missing.safetensors"][..],
        &["predict", "--checkpoint", checkpoint, "missing.png"],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_polyvit"))
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stderr.take());
        assert_eq!(child.wait().unwrap().code(), Some(1), "{args:?}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// Mean and sample standard deviation.
fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

#[test]
fn an_experiment_reports_the_mean_and_spread_of_its_runs() {
    let dir = scratch("experiment");
    let config = dir.join("base.toml");
    let text = succeed(&[
        "train",
        "--tasks",
        "mnist,drums",
        "--preset",
        "tiny",
        "--print-config",
    ]);
    std::fs::write(&config, text).unwrap();
    let out = dir.join("out");
    let experiment = [
        "experiment",
        "all",
        "--config",
        config.to_str().unwrap(),
        "--steps-per-task",
        "6",
        "--seeds",
        "2",
        "--output",
        out.to_str().unwrap(),
    ];
    let stdout = succeed(&experiment);
    assert!(stdout.contains("re-tuned"), "{stdout}");

    // Every run's test scores, from its own results.json, by (row, task).
    let runs = read(&out.join("runs.csv"));
    let mut by_row: HashMap<(String, String), Vec<f64>> = HashMap::new();
    // A row's parameters: those of its parts' models (one line per task of each run).
    let mut parts: HashMap<(String, String), u64> = HashMap::new();
    for line in runs.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let (row, seed, run_dir, task) = (f[0], f[2], Path::new(f[3]), f[6]);
        let results: Value = serde_json::from_str(&read(&run_dir.join("results.json"))).unwrap();
        let test = results["test"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["task"] == task)
            .unwrap()["value"]
            .as_f64()
            .unwrap();
        assert!((test - f[9].parse::<f64>().unwrap()).abs() < 1e-6, "{line}");
        by_row
            .entry((row.into(), task.into()))
            .or_default()
            .push(test);
        if seed == "0" {
            parts.insert((row.into(), f[1].into()), f[4].parse().unwrap());
        }
        check_svg(&run_dir.join("curves.svg"), &[task]);
    }
    assert_eq!(
        by_row[&("single-task".into(), "mnist".into())].len(),
        2,
        "two seeds"
    );
    let mut parameters: HashMap<String, u64> = HashMap::new();
    for ((row, _), count) in parts {
        *parameters.entry(row).or_default() += count;
    }

    let results = read(&out.join("results.csv"));
    let mut rows = Vec::new();
    for line in results.lines().skip(1).filter(|l| l.contains(",test,")) {
        let f: Vec<&str> = line.split(',').collect();
        let (row, chosen, task) = (f[0], f[1], f[2]);
        let source = if chosen.is_empty() { row } else { chosen };
        let (mean, std) = mean_std(&by_row[&(source.to_string(), task.to_string())]);
        assert!((f[5].parse::<f64>().unwrap() - mean).abs() < 1e-6, "{line}");
        assert!((f[6].parse::<f64>().unwrap() - std).abs() < 1e-6, "{line}");
        assert_eq!(f[7], "2");
        assert_eq!(f[9].parse::<u64>().unwrap(), parameters[source], "{line}");
        if !rows.contains(&row) {
            rows.push(row);
        }
    }
    assert_eq!(rows.len(), 14, "{rows:?}");
    assert!(
        stdout.contains("experiment all: 14 rows, 2 seeds each"),
        "{stdout}"
    );
    assert!(
        parameters["single-task"] > parameters["polyvit-adapt-0"],
        "two single-task models have more parameters than one shared"
    );

    let json: Value = serde_json::from_str(&read(&out.join("results.json"))).unwrap();
    assert_eq!(json["experiment"], "all");
    assert_eq!(json["seeds"], 2);
    let retuned = json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["row"] == "re-tuned")
        .unwrap();
    assert!(retuned["chosen"].as_str().unwrap().starts_with("lr-x"));
    check_svg(
        &out.join("results.svg"),
        &[
            "mnist",
            "drums",
            "single-task",
            "schedule-accumulated",
            "re-tuned",
        ],
    );

    // The same command again takes the results of the runs that finished with the same
    // configuration and trains the others: here one run lost its results (as if interrupted
    // after its last step: it resumes from its checkpoint, with nothing left to train) and one's
    // configuration differs. The tables come out the same (runs are deterministic).
    let mut run_dirs: Vec<PathBuf> = runs
        .lines()
        .skip(1)
        .map(|l| PathBuf::from(l.split(',').nth(3).unwrap()))
        .collect();
    run_dirs.sort();
    run_dirs.dedup();
    std::fs::remove_file(run_dirs[0].join("results.json")).unwrap();
    let edited = run_dirs[1].join("config.toml");
    let text = read(&edited);
    let lr = text.find("lr = ").unwrap();
    let line_end = lr + text[lr..].find('\n').unwrap();
    std::fs::write(
        &edited,
        format!("{}lr = 0.123{}", &text[..lr], &text[line_end..]),
    )
    .unwrap();
    let again = succeed(&experiment);
    let taken = again.matches("its results are taken").count();
    assert_eq!(taken, run_dirs.len() - 2, "{again}");
    assert_eq!(again.matches("resumed after step").count(), 1, "{again}");
    assert_eq!(read(&out.join("results.csv")), results);
    std::fs::remove_dir_all(&dir).ok();
}

/// An experiment stopped by Ctrl-C in the middle of a run goes on from that run's checkpoint
/// when the same command is given again, and ends with the logs and tables of one that was not
/// stopped.
#[cfg(unix)]
#[test]
fn an_interrupted_experiment_resumes_its_unfinished_run() {
    let dir = scratch("experiment-interrupted");
    let config = dir.join("base.toml");
    let text = succeed(&[
        "train",
        "--tasks",
        "mnist",
        "--preset",
        "tiny",
        "--print-config",
    ]);
    std::fs::write(&config, text).unwrap();
    let args = |out: &Path| -> Vec<String> {
        let (config, out) = (config.display().to_string(), out.display().to_string());
        [
            "experiment",
            "single-task",
            "--config",
            &config,
            "--steps-per-task",
            "600",
            "--seeds",
            "2",
            "--output",
            &out,
        ]
        .map(String::from)
        .to_vec()
    };
    let run_to_end = |out: &Path| {
        let args = args(out);
        succeed(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let whole = dir.join("whole");
    run_to_end(&whole);

    let stopped = dir.join("stopped");
    let child = with_default_signals(&mut Command::new(env!("CARGO_BIN_EXE_polyvit")))
        .args(args(&stopped))
        .stdout(Stdio::piped())
        .spawn()
        .expect("polyvit runs");
    let first_log = stopped.join("runs/single-task/mnist/seed-0/steps.jsonl");
    let out = signal_once_training(child, &first_log, "INT");
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(130), "{said}");
    assert!(
        said.contains("resumes this run from its checkpoint"),
        "{said}"
    );

    let again = run_to_end(&stopped);
    assert!(
        again.contains("interrupted there earlier with this configuration: resumed after step"),
        "{again}"
    );
    assert_eq!(
        read(&stopped.join("results.csv")),
        read(&whole.join("results.csv"))
    );
    for seed in ["seed-0", "seed-1"] {
        let run = |out: &Path| out.join("runs/single-task/mnist").join(seed);
        assert_eq!(
            read(&run(&stopped).join("steps.jsonl")),
            read(&run(&whole).join("steps.jsonl")),
            "{seed}"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// A run that diverges is a result of the experiment, not its end: here every learning rate of
/// the sweep diverges (SGD without clipping at 1e30), each run is recorded as diverged (NaN in
/// the files, `diverged` in the table), none is chosen as re-tuned, and the experiment finishes.
#[test]
fn diverged_runs_are_recorded_and_the_experiment_goes_on() {
    let dir = scratch("experiment-diverged");
    let config = dir.join("base.toml");
    std::fs::write(
        &config,
        "preset = \"tiny\"\nclip_norm = 1e30\n[optimizer]\nname = \"sgd\"\n\
         [[task]]\nname = \"mnist\"\nsteps = 40\nbatch_size = 8\nlr = 1e30\nwarmup = 0\n",
    )
    .unwrap();
    let out = dir.join("out");
    let stdout = succeed(&[
        "experiment",
        "hyperparameters",
        "--config",
        config.to_str().unwrap(),
        "--seeds",
        "2",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(
        stdout
            .matches("recorded as diverged, and the experiment goes on")
            .count(),
        6,
        "{stdout}"
    );
    for row in ["lr-x0.5", "lr-x1-reused", "lr-x2"] {
        let line = stdout.lines().find(|l| l.starts_with(row)).unwrap();
        assert!(line.contains("diverged"), "{line}");
    }
    assert!(
        !stdout.contains("re-tuned"),
        "no choice among diverged runs: {stdout}"
    );
    let results = read(&out.join("results.csv"));
    let lr_x2 = results
        .lines()
        .find(|l| l.starts_with("lr-x2,,mnist,top1,test,"))
        .unwrap();
    assert!(lr_x2.contains(",NaN,NaN,2,NaN;NaN,"), "{lr_x2}");
    std::fs::remove_dir_all(&dir).ok();
}

/// An experiment run again after its folder task's files changed (one moved to the other
/// class) trains every run again instead of taking results computed on the old files; unchanged, it
/// takes them all.
#[test]
fn an_experiment_on_changed_files_is_trained_again() {
    let dir = scratch("experiment-changed");
    let data = dir.join("stripes");
    for (class, horizontal) in [("horizontal", true), ("vertical", false)] {
        std::fs::create_dir_all(data.join(class)).unwrap();
        for i in 0..6u32 {
            let img = image::GrayImage::from_fn(12, 12, |x, y| {
                let t = if horizontal { y } else { x };
                image::Luma([if (t + i) % 4 < 2 { 255 } else { 0 }])
            });
            img.save(data.join(class).join(format!("{i}.png"))).unwrap();
        }
    }
    let base = dir.join("base.toml");
    std::fs::write(
        &base,
        format!(
            "preset = \"tiny\"\neval_every = 0\ncheckpoint_every = 0\n[[task]]\n\
             name = \"stripes\"\nsteps = 6\nbatch_size = 4\nlr = 0.001\n[task.data]\n\
             path = \"{}\"\n",
            data.display()
        ),
    )
    .unwrap();
    let out = dir.join("out");
    let (base, out) = (base.to_str().unwrap(), out.to_str().unwrap());
    let experiment = [
        "experiment",
        "schedules",
        "--config",
        base,
        "--seeds",
        "2",
        "--output",
        out,
    ];
    succeed(&experiment);
    let again = succeed(&experiment);
    assert!(again.contains("its results are taken"), "{again}");
    assert!(!again.contains("trained again"), "{again}");
    std::fs::rename(
        data.join("horizontal").join("5.png"),
        data.join("vertical").join("9.png"),
    )
    .unwrap();
    let changed = succeed(&experiment);
    assert!(!changed.contains("its results are taken"), "{changed}");
    assert!(
        changed.contains(
            "finished there earlier on other inputs (task stripes: the examples' classes"
        ),
        "{changed}"
    );
    // Another step budget in the same folder replaces the runs, and says so.
    let shorter = succeed(&[&experiment[..], &["--steps-per-task", "3"]].concat());
    assert!(
        shorter.contains("finished there earlier with another configuration: trained again"),
        "{shorter}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_experiment_arguments_are_named() {
    let cases: [(&[&str], &str); 5] = [
        (&["experiment", "ablation"], "ablation"),
        (&["experiment", "schedules", "--seeds", "1"], "--seeds"),
        // Planned up front, a huge count would exhaust the memory before the first run.
        (
            &["experiment", "schedules", "--seeds", "99999999999999"],
            "2..=1000",
        ),
        (
            &["experiment", "schedules", "--steps-per-task", "0"],
            "--steps-per-task",
        ),
        (
            &[
                "experiment",
                "schedules",
                "--config",
                "/nonexistent/base.toml",
            ],
            "/nonexistent/base.toml",
        ),
    ];
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let output_file: &[&str] = &["experiment", "schedules", "--output", manifest];
    let below_file = format!("{manifest}/run");
    let output_below_file: &[&str] = &["experiment", "schedules", "--output", &below_file];
    let below_file_named = format!(
        "{below_file}: cannot create the output folder: {manifest} is a file; give --output a \
         folder"
    );
    let cases = cases.into_iter().chain([
        (
            output_file,
            "Cargo.toml: the output folder is a file; give --output a folder",
        ),
        (output_below_file, below_file_named.as_str()),
    ]);
    for (args, named) in cases {
        let out = polyvit(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(stderr.contains(named), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    let dir = scratch("bad-task");
    let config = dir.join("base.toml");
    let text = succeed(&["train", "--tasks", "mnist", "--print-config"]);
    assert!(text.contains("name = \"mnist\""), "{text}");
    std::fs::write(
        &config,
        text.replace("name = \"mnist\"", "name = \"nosuch\""),
    )
    .unwrap();
    let out = polyvit(&[
        "experiment",
        "schedules",
        "--config",
        config.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("no task \"nosuch\""), "{stderr}");
    // Seeds past the largest are refused before the data is read (here a task that is not).
    let seed_line = text.lines().find(|l| l.starts_with("seed = ")).unwrap();
    let last = format!("seed = {}", i64::MAX);
    std::fs::write(
        &config,
        text.replace("name = \"mnist\"", "name = \"nosuch\"")
            .replace(seed_line, &last),
    )
    .unwrap();
    let out = polyvit(&[
        "experiment",
        "schedules",
        "--seeds",
        "2",
        "--config",
        config.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("--seeds 2 from the configuration's seed = 9223372036854775807"),
        "{stderr}"
    );

    // A base that is valid, whose learning rate doubled is not (lr · weight decay reaches 1):
    // refused before the first run, naming the row, and no output folder is made.
    let lr_line = text.lines().find(|l| l.starts_with("lr = ")).unwrap();
    std::fs::write(&config, text.replace(lr_line, "lr = 10.0")).unwrap();
    let output = dir.join("lr10");
    let out = polyvit(&[
        "experiment",
        "hyperparameters",
        "--config",
        config.to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("row lr-x2 of the experiment would train an invalid configuration")
            && stderr.contains("lr = 20"),
        "{stderr}"
    );
    assert!(!output.exists(), "nothing was trained or written");

    // A folder holding files of an experiment's names that no experiment wrote (here a
    // `results.json` of the user's) is refused before anything is written there.
    let theirs = dir.join("theirs");
    std::fs::create_dir_all(&theirs).unwrap();
    std::fs::write(theirs.join("results.json"), "{\"mine\": 1}").unwrap();
    let out = polyvit(&[
        "experiment",
        "schedules",
        "--output",
        theirs.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && stderr.contains(&format!(
                "{} holds results.json, which no experiment wrote there",
                theirs.display()
            )),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(theirs.join("results.json")).unwrap(),
        "{\"mine\": 1}"
    );
    assert_eq!(std::fs::read_dir(&theirs).unwrap().count(), 1);
    std::fs::remove_dir_all(&dir).ok();
}
