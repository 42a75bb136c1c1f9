//! `mpirun -np 2 polyvit train --distributed` against one process, on localhost (the `mpi`
//! feature; needs OpenMPI's `mpirun`, or the launcher named by `$MPIRUN`).
//!
//! Two ranks sum their gradients in another order than one process sums them over the batch, so
//! the runs agree up to float rounding: every logged loss within [`LOSS_TOLERANCE`] and every
//! gradient norm within [`NORM_TOLERANCE`] (relative) over 50 steps; the final tables (scores to
//! three decimals) are identical.
#![cfg(feature = "mpi")]

use polyvit::train::TrainConfig;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The largest difference allowed between the losses of a step (cross-entropy of a few nats).
const LOSS_TOLERANCE: f64 = 1e-4;
/// The largest relative difference allowed between the gradient norms of a step.
const NORM_TOLERANCE: f64 = 1e-4;
/// How long a failing job may take to stop (the suite loads in about 10 s per rank on 2 cores).
const FAILURE_DEADLINE: Duration = Duration::from_secs(180);

/// Two tasks (one single-label image task with shifts, mixup and stochastic depth, one
/// multi-label audio task with SpecAugment, so both metrics and every random draw are split over
/// the ranks), odd batches (uneven shards), 50 steps, evaluated and checkpointed every 25 steps.
fn write_config(dir: &Path) -> PathBuf {
    let mut config = TrainConfig {
        preset: "tiny".into(),
        eval_every: 25,
        checkpoint_every: 25,
        ..TrainConfig::default()
    };
    config.select_tasks(&["mnist".into(), "drums".into()]);
    config.tasks[0].batch_size = 9;
    config.tasks[0].max_shift = 2;
    config.tasks[0].mixup = 0.2;
    config.tasks[0].stochastic_depth = 0.2;
    config.tasks[1].batch_size = 7;
    config.tasks[1].spec_augment = true;
    config.scale_steps(50);
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("config.toml");
    std::fs::write(&path, toml::to_string(&config).unwrap()).unwrap();
    path
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("polyvit-mpi-{name}-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    dir
}

/// `polyvit args` as one process (one compute thread, like each rank).
fn one_process(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_polyvit"));
    command.args(args).env("RAYON_NUM_THREADS", "1");
    command
}

/// The MPI launcher on localhost, as root if need be, with more ranks than cores allowed, and
/// one compute thread per rank. Its session files go under the test's own `dir`: jobs started
/// at the same moment by tests running side by side would otherwise race to create OpenMPI's
/// shared session folder in `/tmp`, and the loser's `mpirun` fails before any rank starts.
fn launcher(dir: &Path) -> Command {
    let launcher = std::env::var("MPIRUN").unwrap_or_else(|_| "mpirun".into());
    std::fs::create_dir_all(dir).unwrap();
    let mut command = Command::new(launcher);
    command
        .env("TMPDIR", dir)
        .args(["--allow-run-as-root", "--oversubscribe"])
        .args(["-x", "RAYON_NUM_THREADS=1"])
        // Containers often forbid the cross-process memory attach of the shared-memory
        // transport; plain copies work everywhere.
        .env("OMPI_MCA_btl_vader_single_copy_mechanism", "none");
    command
}

/// `mpirun -np ranks polyvit train --distributed args` ([`launcher`] in `dir`).
fn ranks(dir: &Path, ranks: usize, args: &[&str]) -> Command {
    let mut command = launcher(dir);
    command
        .arg("-np")
        .arg(ranks.to_string())
        .arg(env!("CARGO_BIN_EXE_polyvit"))
        .args(["train", "--distributed", "--check-every", "10"])
        .args(args);
    command
}

/// Two ranks of one job, the first running `polyvit train --distributed first`, the second
/// `... second` (an MPMD launch: `mpirun -np 1 A : -np 1 B`; [`launcher`] in `dir`).
fn two_unlike_ranks(dir: &Path, first: &[String], second: &[String]) -> Command {
    let mut command = launcher(dir);
    for (i, args) in [first, second].into_iter().enumerate() {
        if i > 0 {
            command.arg(":");
        }
        command
            .args(["-np", "1", env!("CARGO_BIN_EXE_polyvit")])
            .args(["train", "--distributed"])
            .args(args);
    }
    command.stdin(Stdio::null());
    command
}

fn succeed(mut command: Command) -> String {
    let output = command.output().expect("the command starts");
    let text = describe(&output);
    assert!(output.status.success(), "{command:?} failed:\n{text}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn describe(output: &Output) -> String {
    format!(
        "status {}\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The table printed at the end of a run (after "Results after").
fn final_table(stdout: &str) -> String {
    let start = stdout.find("Results after").expect("a final table");
    stdout[start..]
        .lines()
        .skip(1)
        .take_while(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// `(step, task, loss, grad_norm)` of every line of `steps.jsonl`.
fn logged_steps(dir: &Path) -> Vec<(u64, String, f64, f64)> {
    std::fs::read_to_string(dir.join("steps.jsonl"))
        .unwrap()
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            (
                v["step"].as_u64().unwrap(),
                v["task"].as_str().unwrap().to_string(),
                v["loss"].as_f64().unwrap(),
                v["grad_norm"].as_f64().unwrap(),
            )
        })
        .collect()
}

/// The logged steps of `a` and `b` agree: same steps and tasks, losses and norms within the
/// tolerances.
fn assert_same_steps(a: &Path, b: &Path, steps: std::ops::Range<u64>) {
    let keep = |dir| -> Vec<_> {
        logged_steps(dir)
            .into_iter()
            .filter(|s| steps.contains(&s.0))
            .collect()
    };
    let (a_steps, b_steps) = (keep(a), keep(b));
    assert!(!a_steps.is_empty());
    let names = |s: &[(u64, String, f64, f64)]| -> Vec<(u64, String)> {
        s.iter()
            .map(|(step, task, ..)| (*step, task.clone()))
            .collect()
    };
    assert_eq!(names(&a_steps), names(&b_steps), "the same plan");
    assert_eq!(a_steps.last().unwrap().0 + 1, steps.end);
    for (x, y) in a_steps.iter().zip(&b_steps) {
        assert!(
            (x.2 - y.2).abs() <= LOSS_TOLERANCE,
            "step {} ({}): loss {} vs {}",
            x.0,
            x.1,
            x.2,
            y.2
        );
        assert!(
            (x.3 - y.3).abs() <= NORM_TOLERANCE * x.3.max(1.0),
            "step {} ({}): gradient norm {} vs {}",
            x.0,
            x.1,
            x.3,
            y.3
        );
    }
}

/// The validation scores of eval.csv (`step,split,task,metric,value,chance`), by line.
fn validation_scores(dir: &Path) -> Vec<(String, f64)> {
    std::fs::read_to_string(dir.join("eval.csv"))
        .unwrap()
        .lines()
        .filter(|l| l.contains(",validation,"))
        .map(|l| {
            let (key, value) = l.rsplit_once(',').unwrap().0.rsplit_once(',').unwrap();
            (key.to_string(), value.parse().unwrap())
        })
        .collect()
}

#[test]
fn two_ranks_train_like_one_process() {
    let dir = scratch("equivalence");
    let config = write_config(&dir);
    let config = config.to_str().unwrap();
    let (one, two) = (dir.join("one"), dir.join("two"));
    let single = succeed(one_process(&[
        "train",
        "--config",
        config,
        "--output",
        one.to_str().unwrap(),
    ]));
    let double = succeed(ranks(
        &dir,
        2,
        &["--config", config, "--output", two.to_str().unwrap()],
    ));
    assert_same_steps(&one, &two, 0..50);
    let (a, b) = (validation_scores(&one), validation_scores(&two));
    assert_eq!(
        a.len(),
        4,
        "each task validated after 25 steps and at the end"
    );
    for ((key_a, a), (key_b, b)) in a.iter().zip(&b) {
        assert_eq!(key_a, key_b);
        assert!((a - b).abs() < 1e-3, "{key_a}: {a} vs {b}");
    }
    assert_eq!(final_table(&single), final_table(&double));
    assert!(double.contains("× 2 ranks"), "{double}");
    std::fs::remove_dir_all(&dir).ok();
}

/// Starts `command` with its output captured.
fn start(mut command: Command) -> Child {
    command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the command starts")
}

/// Waits for `child` to end, or kills it once `deadline` has passed since `started`.
fn output_by(mut child: Child, started: Instant, deadline: Duration) -> (Output, Duration) {
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > deadline {
            child.kill().ok();
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    (child.wait_with_output().unwrap(), started.elapsed())
}

/// Runs `command` to its end or until `deadline`, whichever comes first (then it is killed).
fn output_within(command: Command, deadline: Duration) -> (Output, Duration) {
    let started = Instant::now();
    output_by(start(command), started, deadline)
}

/// A rank that dies ends the job with a message instead of leaving the others waiting; the run
/// then resumes from its last checkpoint, with the same number of ranks or another one, to the
/// same result.
#[test]
fn a_lost_rank_ends_the_job_and_the_run_resumes_on_any_number_of_ranks() {
    let dir = scratch("failure");
    let config = write_config(&dir);
    let failed = dir.join("failed");
    let mut job = ranks(
        &dir,
        2,
        &[
            "--config",
            config.to_str().unwrap(),
            "--output",
            failed.to_str().unwrap(),
            "--exit-rank-at-step",
            "1:30",
        ],
    );
    job.stdin(Stdio::null());
    let (output, took) = output_within(job, FAILURE_DEADLINE);
    let text = describe(&output);
    assert!(took < FAILURE_DEADLINE, "the job hung:\n{text}");
    assert!(!output.status.success(), "{text}");
    assert!(text.contains("rank 1 exits before step 30"), "{text}");
    let logged: Vec<u64> = logged_steps(&failed).iter().map(|s| s.0).collect();
    assert!(
        logged.len() >= 25 && logged.iter().all(|&step| step < 30),
        "past the checkpoint of step 25, no step after the lost rank: {logged:?}"
    );

    // The checkpoint of step 25, resumed by two ranks and by one.
    let checkpoint = failed.join("checkpoint.safetensors");
    let single = dir.join("resumed-by-one");
    std::fs::create_dir_all(&single).unwrap();
    std::fs::copy(&checkpoint, single.join("checkpoint.safetensors")).unwrap();
    let checkpoint = checkpoint.to_str().unwrap();
    let by_two = succeed(ranks(
        &dir,
        2,
        &["--resume", checkpoint, "--output", failed.to_str().unwrap()],
    ));
    let by_one = succeed(one_process(&[
        "train",
        "--resume",
        single.join("checkpoint.safetensors").to_str().unwrap(),
        "--output",
        single.to_str().unwrap(),
    ]));
    assert_same_steps(&failed, &single, 25..50);
    let resumed: Vec<u64> = logged_steps(&failed).iter().map(|s| s.0).collect();
    assert_eq!(
        resumed,
        (0..50).collect::<Vec<_>>(),
        "the resumed log holds every step once"
    );
    assert_eq!(final_table(&by_two), final_table(&by_one));
    std::fs::remove_dir_all(&dir).ok();
}

/// Ctrl-C to `mpirun`, which passes it on to every rank as SIGTERM (a second later, for
/// OpenMPI), stops the ranks after one and the same step: rank 0 saves the checkpoint of that
/// step and says so, and the log ends there.
#[test]
fn ctrl_c_to_mpirun_stops_every_rank_after_the_same_step_with_a_checkpoint() {
    let dir = scratch("interrupt");
    let output = dir.join("run");
    let started = Instant::now();
    let mut job = ranks(
        &dir,
        2,
        &["--tasks", "mnist", "--preset", "tiny", "--eval-every", "0"],
    );
    job.args(["--steps", "10000000", "--output", output.to_str().unwrap()])
        .stdin(Stdio::null());
    let job = start(job);
    let log = output.join("steps.jsonl");
    while std::fs::read_to_string(&log).map_or(true, |s| s.is_empty()) {
        assert!(started.elapsed() < FAILURE_DEADLINE, "no step logged");
        std::thread::sleep(Duration::from_millis(50));
    }
    let sent = Command::new("kill")
        .args(["-INT", &job.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let (out, took) = output_by(job, started, FAILURE_DEADLINE);
    let text = describe(&out);
    assert!(took < FAILURE_DEADLINE, "the job did not stop:\n{text}");
    let said = String::from_utf8_lossy(&out.stdout);
    let step: u64 = said
        .split_once("interrupted at step ")
        .and_then(|(_, rest)| rest.split_once(": checkpoint saved; continue with --resume"))
        .unwrap_or_else(|| panic!("no message of the interruption:\n{text}"))
        .0
        .parse()
        .unwrap();
    let logged: Vec<u64> = logged_steps(&output).iter().map(|s| s.0).collect();
    assert_eq!(logged, (0..step).collect::<Vec<_>>(), "{text}");
    assert!(output.join("checkpoint.safetensors").exists());
    std::fs::remove_dir_all(&dir).ok();
}

/// Ranks reading their own copies of a streamed task's files (as on several machines): when one
/// rank's copy goes away mid-run, every rank stops after the same step and rank 0 saves the
/// checkpoint of the step reached, as one process does (the ranks used to end the job while
/// rank 0 waited in the gradients' sum, and the run's progress was lost).
#[test]
fn a_copy_lost_on_one_rank_stops_every_rank_with_a_checkpoint() {
    let dir = scratch("copies");
    let mut configs = Vec::new();
    for copy in ["here", "there"] {
        for (class, across) in [("across", true), ("down", false)] {
            let folder = dir.join(copy).join(class);
            std::fs::create_dir_all(&folder).unwrap();
            for i in 0..6u32 {
                image::GrayImage::from_fn(12, 12, |x, y| {
                    let t = if across { y } else { x };
                    image::Luma([if (t + i) % 4 < 2 { 220 } else { 20 }])
                })
                .save(folder.join(format!("{i}.png")))
                .unwrap();
            }
        }
        let config = dir.join(format!("{copy}.toml"));
        let text = format!(
            "preset = \"tiny\"\neval_every = 0\ncheckpoint_every = 0\n[[task]]\n\
             name = \"stripes\"\nsteps = 10000000\nbatch_size = 4\nlr = 0.001\n\
             [task.data]\npath = \"{}\"\ncache = \"stream\"\n",
            dir.join(copy).display()
        );
        std::fs::write(&config, text).unwrap();
        configs.push(config);
    }
    let out = dir.join("run");
    let rank = |config: &Path| -> Vec<String> {
        [
            "--config",
            config.to_str().unwrap(),
            "--output",
            out.to_str().unwrap(),
        ]
        .map(String::from)
        .to_vec()
    };
    let started = Instant::now();
    let mut job = start(two_unlike_ranks(
        &dir,
        &rank(&configs[0]),
        &rank(&configs[1]),
    ));
    let log = out.join("steps.jsonl");
    while std::fs::read_to_string(&log).map_or(true, |s| s.is_empty()) {
        assert!(started.elapsed() < FAILURE_DEADLINE, "no step logged");
        if job.try_wait().unwrap().is_some() {
            panic!(
                "the job ended first:\n{}",
                describe(&job.wait_with_output().unwrap())
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    std::fs::rename(dir.join("there"), dir.join("gone")).unwrap();
    let (output, took) = output_by(job, started, FAILURE_DEADLINE);
    let text = describe(&output);
    assert!(took < FAILURE_DEADLINE, "the job hung:\n{text}");
    assert!(!output.status.success(), "{text}");
    assert!(text.contains("stopped at step "), "{text}");
    assert!(text.contains("checkpoint saved"), "{text}");
    assert!(out.join("checkpoint.safetensors").exists(), "{text}");
    std::fs::remove_dir_all(&dir).ok();
}

/// Ranks given different runs stop before the first step with a message naming what differs,
/// instead of exchanging gradients of different steps (which corrupted memory in MPI when the
/// buffers' lengths differed) or training on a mixture of data: another step budget, a task
/// whose class folders are swapped on one rank, `--resume` or `--print-config` on one rank only
/// (that rank used to leave and the other wait for it forever), another `--check-every`, and
/// another number of tasks.
#[test]
fn ranks_given_different_runs_stop_with_a_message() {
    let dir = scratch("unlike");
    // Two classes of pictures, and the same pictures with the classes' folders swapped.
    for (root, [first, second]) in [("shapes", ["bars", "dots"]), ("swapped", ["dots", "bars"])] {
        for (class, name) in [(0u8, first), (1u8, second)] {
            let folder = dir.join(root).join(name);
            std::fs::create_dir_all(&folder).unwrap();
            for i in 0..6u8 {
                let picture = image::GrayImage::from_fn(12, 12, |x, y| {
                    let on = if class == 0 {
                        x % 3 == 0
                    } else {
                        (x + y) % 4 == 0
                    };
                    image::Luma([if on { 200 + i } else { 10 }])
                });
                picture.save(folder.join(format!("{i}.png"))).unwrap();
            }
        }
    }
    let out = dir.join("run");
    let out = out.to_str().unwrap();
    let args = |args: &[&str]| -> Vec<String> { args.iter().map(|a| a.to_string()).collect() };
    let mnist = |steps: &str| {
        args(&[
            "--tasks", "mnist", "--preset", "tiny", "--steps", steps, "--output", out,
        ])
    };
    let shapes = |root: &str| {
        let task = format!("shapes={}", dir.join(root).display());
        args(&[
            "--tasks", "shapes", "--preset", "tiny", "--steps", "4", "--output", out,
        ])
        .into_iter()
        .chain(["--task".to_string(), task])
        .collect::<Vec<_>>()
    };
    // A finished one-process run's checkpoint, for --resume on one rank only.
    let mut first_run = args(&["train"]);
    first_run.extend(mnist("2"));
    succeed(one_process(
        &first_run.iter().map(String::as_str).collect::<Vec<_>>(),
    ));
    let checkpoint = dir.join("run/checkpoint.safetensors");
    let resume = args(&["--resume", checkpoint.to_str().unwrap(), "--output", out]);
    let cases = [
        (
            mnist("40"),
            mnist("50"),
            "the ranks were given different runs: task[mnist].steps differs",
        ),
        (
            shapes("shapes"),
            shapes("swapped"),
            "task shapes: the ranks read different data",
        ),
        (resume, mnist("4"), "--resume on some ranks only"),
        (
            [mnist("4"), args(&["--print-config"])].concat(),
            mnist("4"),
            "--print-config on some ranks only",
        ),
        (
            [mnist("4"), args(&["--check-every", "3"])].concat(),
            mnist("4"),
            "--check-every differs (here 3)",
        ),
        (
            args(&[
                "--tasks",
                "mnist,drums",
                "--preset",
                "tiny",
                "--steps",
                "4",
                "--output",
                out,
            ]),
            mnist("4"),
            "the ranks were given different runs: task[",
        ),
    ];
    for (first, second, said) in cases {
        let (output, took) =
            output_within(two_unlike_ranks(&dir, &first, &second), FAILURE_DEADLINE);
        let text = describe(&output);
        assert!(took < FAILURE_DEADLINE, "the job hung:\n{text}");
        assert!(!output.status.success(), "{text}");
        assert!(text.contains(said), "{first:?} against {second:?}:\n{text}");
        assert!(!text.contains("Results after"), "{text}");
    }
    std::fs::remove_dir_all(&dir).ok();
}
