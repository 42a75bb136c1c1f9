//! The command line across an interruption: a resumed run's logs hold every step once.

mod signals;

use signals::{signal_once_training, with_default_signals};
use std::path::Path;
use std::process::{Command, Stdio};

/// Runs `polyvit` with `args`; its standard output.
fn polyvit(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_polyvit"))
        .args(args)
        .output()
        .expect("polyvit runs");
    assert!(out.status.success(), "polyvit {args:?} failed");
    String::from_utf8(out.stdout).unwrap()
}

fn logged_steps(dir: &Path) -> Vec<u64> {
    std::fs::read_to_string(dir.join("steps.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["step"]
                .as_u64()
                .unwrap()
        })
        .collect()
}

/// Lines logged after the checkpoint (the steps an interrupted run did after its last save) are
/// dropped on resume, since those steps are trained again, and so is a row cut short.
#[test]
fn resuming_drops_the_steps_logged_after_the_checkpoint() {
    let dir = std::env::temp_dir().join(format!("polyvit-resume-{}", std::process::id()));
    let out = dir.to_str().unwrap();
    let common = ["--tasks", "mnist", "--preset", "tiny", "--eval-every", "10"];
    polyvit(&[&["train", "--steps", "20", "--output", out][..], &common].concat());
    assert_eq!(logged_steps(&dir), (0..20).collect::<Vec<_>>());
    // What an interruption after a checkpoint at step 10 leaves behind: the steps and
    // evaluations logged after it. (The checkpoint is the finished run's, its step set back to
    // 10: only the logs are under test here.)
    let checkpoint = dir.join("checkpoint.safetensors");
    let mut earlier = nn::checkpoint::Checkpoint::load(&checkpoint).unwrap();
    earlier.metadata.insert("step".into(), "10".into());
    earlier.save(&checkpoint).unwrap();
    let mut steps = std::fs::read_to_string(dir.join("steps.jsonl")).unwrap();
    for step in 20..23 {
        steps += &format!("{{\"step\":{step},\"task\":\"mnist\",\"loss\":1.0}}\n");
    }
    std::fs::write(dir.join("steps.jsonl"), steps).unwrap();
    let mut evals = std::fs::read_to_string(dir.join("eval.csv")).unwrap();
    evals += "30,validation,mnist,top1,0.5,0.1\n";
    evals += "10,test,mni"; // a row an interruption cut short
    std::fs::write(dir.join("eval.csv"), evals).unwrap();
    // An edit of the run's config.toml is not used by the resumed run: said, and kept aside.
    let config = std::fs::read_to_string(dir.join("config.toml")).unwrap();
    let edited = config.replacen("steps = 20", "steps = 600", 1);
    assert_ne!(edited, config);
    std::fs::write(dir.join("config.toml"), &edited).unwrap();

    let said = polyvit(&[
        "train",
        "--resume",
        checkpoint.to_str().unwrap(),
        "--output",
        out,
    ]);
    assert!(said.contains("20 steps, resuming after step 10"), "{said}");
    assert!(
        said.contains("config.toml was edited (task[0].steps); a resumed run keeps"),
        "{said}"
    );
    let kept = std::fs::read_to_string(dir.join("config.toml.edited")).unwrap();
    assert_eq!(kept, edited);
    let rewritten = std::fs::read_to_string(dir.join("config.toml")).unwrap();
    assert_eq!(rewritten, config);
    // Steps 10 to 19 were trained again, each logged once.
    assert_eq!(logged_steps(&dir), (0..20).collect::<Vec<_>>());
    let evals = std::fs::read_to_string(dir.join("eval.csv")).unwrap();
    assert_eq!(evals.lines().filter(|l| l.starts_with("step,")).count(), 1);
    assert!(
        evals
            .lines()
            .skip(1)
            .all(|l| l.split(',').next().unwrap().parse::<u64>().unwrap() <= 20),
        "{evals}"
    );
    assert!(evals.contains("10,validation,mnist"), "{evals}");
    assert!(
        evals.lines().all(|l| l.split(',').count() == 6),
        "a cut row was kept: {evals}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// Without `--output`, a resumed run writes into its checkpoint's folder (whose logs it
/// continues), not into `runs/latest`; a fresh run removes an earlier run's `init_from.txt`,
/// which would otherwise say that this one started from pretrained weights.
#[test]
fn a_resumed_run_stays_in_its_folder() {
    let work = std::env::temp_dir().join(format!("polyvit-resume-folder-{}", std::process::id()));
    std::fs::remove_dir_all(&work).ok();
    let run = work.join("short");
    std::fs::create_dir_all(&run).unwrap();
    // An earlier run's folder: its configuration, and the record of its pretrained start.
    let earlier = toml::to_string(&polyvit::train::TrainConfig::default()).unwrap();
    std::fs::write(run.join("config.toml"), earlier).unwrap();
    std::fs::write(
        run.join("init_from.txt"),
        "initialized from an earlier run's file",
    )
    .unwrap();
    let polyvit_in = |args: &[&str]| {
        let status = Command::new(env!("CARGO_BIN_EXE_polyvit"))
            .args(args)
            .current_dir(&work)
            .status()
            .expect("polyvit runs");
        assert!(status.success(), "polyvit {args:?} failed");
    };
    let common = ["--tasks", "mnist", "--preset", "tiny", "--eval-every", "0"];
    polyvit_in(
        &[
            &["train", "--steps", "10", "--output", "short"][..],
            &common,
        ]
        .concat(),
    );
    assert!(
        !run.join("init_from.txt").exists(),
        "a stale init_from.txt was kept"
    );
    // Resuming the finished run trains and scores nothing more, in short/: its logs hold each
    // step and each final score once.
    let evals = std::fs::read_to_string(run.join("eval.csv")).unwrap();
    polyvit_in(&["train", "--resume", "short/checkpoint.safetensors"]);
    assert_eq!(logged_steps(&run), (0..10).collect::<Vec<_>>());
    assert_eq!(
        std::fs::read_to_string(run.join("eval.csv")).unwrap(),
        evals
    );
    assert!(
        !work.join("runs").exists(),
        "the resumed run wrote into runs/latest"
    );
    // With another --output, the results are named where they are.
    let said = polyvit(&[
        "train",
        "--resume",
        run.join("checkpoint.safetensors").to_str().unwrap(),
        "--output",
        work.join("elsewhere").to_str().unwrap(),
    ]);
    assert!(
        said.contains(&format!("its results are in {}", run.display())),
        "{said}"
    );
    assert!(
        !work.join("elsewhere").exists(),
        "resuming a finished run wrote into its --output"
    );
    // A finished checkpoint alone in a folder (downloaded, say) beside a file of the user's:
    // nothing is written there either, and no results are promised.
    let alone = work.join("alone");
    std::fs::create_dir_all(&alone).unwrap();
    std::fs::copy(
        run.join("checkpoint.safetensors"),
        alone.join("checkpoint.safetensors"),
    )
    .unwrap();
    std::fs::write(alone.join("config.toml"), "# the user's own notes\n").unwrap();
    let said = polyvit(&[
        "train",
        "--resume",
        alone.join("checkpoint.safetensors").to_str().unwrap(),
        "--output",
        work.join("elsewhere").to_str().unwrap(),
    ]);
    assert!(
        said.contains("nothing left to train, so nothing was written (polyvit eval"),
        "{said}"
    );
    let mut files: Vec<String> = std::fs::read_dir(&alone)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["checkpoint.safetensors", "config.toml"]);
    assert_eq!(
        std::fs::read_to_string(alone.join("config.toml")).unwrap(),
        "# the user's own notes\n"
    );
    assert!(!work.join("elsewhere").exists());

    // Stopped while its final scores were written (the checkpoint saved, the validation rows
    // logged, no test rows, no results.json, no curves): resuming scores it as it would have
    // been, each final row once, and leaves the checkpoint as it was.
    let results = std::fs::read_to_string(run.join("results.json")).unwrap();
    let checkpoint = std::fs::read(run.join("checkpoint.safetensors")).unwrap();
    let cut: String = evals
        .lines()
        .filter(|line| !line.contains(",test,"))
        .map(|line| format!("{line}\n"))
        .collect();
    assert!(
        cut.len() < evals.len() && cut.contains("10,validation,"),
        "{evals}"
    );
    std::fs::write(run.join("eval.csv"), cut).unwrap();
    for file in ["results.json", "curves.svg"] {
        std::fs::remove_file(run.join(file)).unwrap();
    }
    let said = polyvit(&[
        "train",
        "--resume",
        run.join("checkpoint.safetensors").to_str().unwrap(),
    ]);
    assert!(
        said.contains("note: the run ended at step 10 but was stopped before its results were written: it is scored now"),
        "{said}"
    );
    assert_eq!(
        std::fs::read_to_string(run.join("eval.csv")).unwrap(),
        evals
    );
    assert_eq!(
        std::fs::read(run.join("checkpoint.safetensors")).unwrap(),
        checkpoint
    );
    assert!(run.join("curves.svg").exists());
    let without_time = |text: &str| -> serde_json::Value {
        let mut json: serde_json::Value = serde_json::from_str(text).unwrap();
        json.as_object_mut().unwrap().remove("seconds");
        json
    };
    assert_eq!(
        without_time(&std::fs::read_to_string(run.join("results.json")).unwrap()),
        without_time(&results)
    );
    // Stopped after its results but before its curves: resuming draws them, and only them.
    let curves = std::fs::read(run.join("curves.svg")).unwrap();
    std::fs::remove_file(run.join("curves.svg")).unwrap();
    let said = polyvit(&[
        "train",
        "--resume",
        run.join("checkpoint.safetensors").to_str().unwrap(),
    ]);
    assert!(
        said.contains("nothing left to train, so nothing else was written; its results are in")
            && said
                .contains("and its curves.svg, which it was stopped before drawing, is drawn now"),
        "{said}"
    );
    assert_eq!(std::fs::read(run.join("curves.svg")).unwrap(), curves);
    assert_eq!(
        std::fs::read_to_string(run.join("eval.csv")).unwrap(),
        evals
    );
    std::fs::remove_dir_all(&work).ok();
}

/// A run resumed into another folder continues its logs there (copied from its checkpoint's
/// folder); a folder that already holds a run's files is refused instead of being mixed with
/// this run's (its checkpoint overwritten, its logs continued as this run's).
#[test]
fn a_run_resumed_elsewhere_continues_its_logs_there() {
    let work =
        std::env::temp_dir().join(format!("polyvit-resume-elsewhere-{}", std::process::id()));
    std::fs::remove_dir_all(&work).ok();
    let (first, second) = (work.join("first"), work.join("second"));
    let common = ["--tasks", "mnist", "--preset", "tiny", "--eval-every", "5"];
    let first_out = first.to_str().unwrap();
    polyvit(
        &[
            &["train", "--steps", "10", "--output", first_out][..],
            &common,
        ]
        .concat(),
    );
    // The checkpoint as an interruption at step 5 leaves it (only the logs are under test).
    let checkpoint = first.join("checkpoint.safetensors");
    let mut earlier = nn::checkpoint::Checkpoint::load(&checkpoint).unwrap();
    earlier.metadata.insert("step".into(), "5".into());
    earlier.save(&checkpoint).unwrap();
    let resume = [
        "train",
        "--resume",
        checkpoint.to_str().unwrap(),
        "--output",
    ];
    polyvit(&[&resume[..], &[second.to_str().unwrap()]].concat());
    assert_eq!(logged_steps(&second), (0..10).collect::<Vec<_>>());
    let evals = std::fs::read_to_string(second.join("eval.csv")).unwrap();
    assert!(
        evals.starts_with("step,split,task") && evals.contains("\n5,validation,mnist"),
        "{evals}"
    );
    assert!(second.join("results.json").exists() && second.join("checkpoint.safetensors").exists());
    // Again into the folder that now holds the resumed run: refused, and how to go on said.
    let err = polyvit_fails(&[&resume[..], &[second.to_str().unwrap()]].concat());
    assert!(
        err.contains(
            "holds a run's files (config.toml, steps.jsonl, eval.csv, checkpoint.safetensors"
        ) && err.contains(&format!(
            "--resume {}",
            second.join("checkpoint.safetensors").display()
        )),
        "{err}"
    );
    std::fs::remove_dir_all(&work).ok();
}

/// A run whose checkpoint cannot be written at the end (here a folder stands where the
/// checkpoint's temporary file goes; a full disk does the same) still prints its scores, then
/// fails naming the file; the results that could be written are.
/// [`polyvit`] with the whitespace-separated words of `line` (temporary paths hold no spaces).
fn polyvit_line(line: &str) -> String {
    polyvit(&line.split_whitespace().collect::<Vec<_>>())
}

/// Runs `polyvit` with `args`, which must fail; its standard error.
fn polyvit_fails(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_polyvit"))
        .args(args)
        .output()
        .expect("polyvit runs");
    assert!(!out.status.success(), "polyvit {args:?} succeeded");
    String::from_utf8(out.stderr).unwrap()
}

/// A full-suite run whose folder has moved (or that goes on on another machine) is resumed and
/// scored with --suite-dir naming the new place; without it, the error names the folder and
/// the flag. An embedded-suite run refuses the flag.
#[test]
fn a_full_suite_run_follows_its_folder_with_suite_dir() {
    let root = std::env::temp_dir().join(format!("polyvit-moved-suite-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    // A full-suite folder holding the embedded files (enough for MNIST).
    let suite = root.join("suite");
    for file in polyvit::data::embedded::ALL {
        let path = suite.join(file.path.strip_prefix("polyvit/data/").unwrap());
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, file.bytes).unwrap();
    }
    let (run, s) = (root.join("run"), |p: &Path| p.to_str().unwrap().to_string());
    let log = polyvit_line(&format!(
        "train --suite full --suite-dir {} --tasks mnist --preset tiny --steps 6 --eval-every 0 \
         --output {}",
        s(&suite),
        s(&run)
    ));
    let said = format!(
        "training 1 task (mnist) of the full suite in {} on",
        s(&suite)
    );
    assert!(log.contains(&said), "{log}");
    // Taken back to step 3, as an interruption there would have left it.
    let checkpoint = run.join("checkpoint.safetensors");
    let mut earlier = nn::checkpoint::Checkpoint::load(&checkpoint).unwrap();
    earlier.metadata.insert("step".into(), "3".into());
    earlier.save(&checkpoint).unwrap();
    let moved = root.join("suite-moved");
    std::fs::rename(&suite, &moved).unwrap();
    for args in [
        &["train", "--resume", &s(&checkpoint)][..],
        &["eval", "--checkpoint", &s(&checkpoint)],
    ] {
        let err = polyvit_fails(args);
        assert!(
            err.contains(&format!(
                "{}: the full suite's folder does not exist",
                s(&suite)
            )) && err.contains("give its place with --suite-dir"),
            "{args:?}: {err}"
        );
    }
    polyvit(&[
        "eval",
        "--checkpoint",
        &s(&checkpoint),
        "--suite-dir",
        &s(&moved),
    ]);
    polyvit(&[
        "train",
        "--resume",
        &s(&checkpoint),
        "--suite-dir",
        &s(&moved),
    ]);
    assert_eq!(logged_steps(&run), (0..6).collect::<Vec<_>>());
    let config = std::fs::read_to_string(run.join("config.toml")).unwrap();
    assert!(config.contains(&s(&moved)), "{config}");
    // The embedded suite has no folder to move.
    let embedded = root.join("embedded");
    polyvit_line(&format!(
        "train --tasks mnist --preset tiny --steps 2 --eval-every 0 --output {}",
        s(&embedded)
    ));
    let err = polyvit_fails(&[
        "train",
        "--resume",
        &s(&embedded.join("checkpoint.safetensors")),
        "--suite-dir",
        &s(&moved),
    ]);
    assert!(
        err.contains("trains on the embedded suite; drop --suite-dir"),
        "{err}"
    );
    std::fs::remove_dir_all(&root).ok();
}

#[test]
fn scores_are_printed_when_the_final_checkpoint_cannot_be_written() {
    let dir = std::env::temp_dir().join(format!("polyvit-unsaved-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(dir.join("checkpoint.safetensors.tmp")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_polyvit"))
        .args([
            "train", "--tasks", "mnist", "--preset", "tiny", "--steps", "3",
        ])
        .args(["--eval-every", "0", "--output", dir.to_str().unwrap()])
        .output()
        .expect("polyvit runs");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(!out.status.success(), "{stdout}");
    assert!(stdout.contains("Results after 3 steps"), "{stdout}");
    assert!(stdout.contains("mnist"), "{stdout}");
    assert!(stderr.contains("checkpoint.safetensors"), "{stderr}");
    assert!(stderr.contains("could not all be saved"), "{stderr}");
    assert!(dir.join("results.json").exists());
    assert!(!dir.join("checkpoint.safetensors").exists());
    std::fs::remove_dir_all(&dir).ok();
}

/// A fresh run into a folder that holds an earlier run replaces it, and says so: the earlier
/// checkpoint and results are removed at the start, so a run that stops early (here a loss
/// that diverges at its first step) leaves none of them beside its own configuration.
#[test]
fn a_fresh_run_replaces_the_folders_earlier_run_whole() {
    let dir = std::env::temp_dir().join(format!("polyvit-replace-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    let run = dir.join("run");
    let out = run.to_str().unwrap();
    polyvit(&[
        "train", "--tasks", "mnist", "--preset", "tiny", "--steps", "4", "--output", out,
    ]);
    for file in ["checkpoint.safetensors", "results.json", "curves.svg"] {
        assert!(run.join(file).exists(), "{file} of the first run");
    }
    let config = dir.join("diverges.toml");
    std::fs::write(
        &config,
        "preset = \"tiny\"\n[optimizer]\nname = \"sgd\"\n\
         [[task]]\nname = \"mnist\"\nsteps = 4\nbatch_size = 8\nlr = 1e30\n",
    )
    .unwrap();
    let second = Command::new(env!("CARGO_BIN_EXE_polyvit"))
        .args([
            "train",
            "--config",
            config.to_str().unwrap(),
            "--output",
            out,
        ])
        .output()
        .expect("polyvit runs");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&second.stdout),
        String::from_utf8_lossy(&second.stderr),
    );
    assert!(!second.status.success(), "{stdout}");
    assert!(stderr.contains("the loss of task mnist became"), "{stderr}");
    assert!(
        stdout.contains("held an earlier run; this one replaces it"),
        "{stdout}"
    );
    for file in ["checkpoint.safetensors", "results.json", "curves.svg"] {
        assert!(!run.join(file).exists(), "the first run's {file} was left");
    }
    assert!(std::fs::read_to_string(run.join("config.toml"))
        .unwrap()
        .contains("lr = 1000000000000000000000000000000.0"));
    std::fs::remove_dir_all(&dir).ok();
}

/// A folder whose files have a run's names but no run's configuration beside them (a project's
/// own `config.toml`, another tool's `results.json`) is not an earlier run: a fresh run refuses
/// it, naming the files, and leaves them as they were.
#[test]
fn a_fresh_run_leaves_files_no_run_wrote() {
    let dir = std::env::temp_dir().join(format!("polyvit-foreign-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    // Each folder: its name, its files (name and text), and why it is not a run's.
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case; 3] = [
        (
            "project",
            &[
                ("config.toml", "[server]\nport = 8080\n"),
                ("notes.txt", "mine"),
            ],
            "its config.toml is not a run's configuration",
        ),
        (
            "results",
            &[("results.json", "{\"my\": \"results\"}")],
            "it has no config.toml",
        ),
        (
            "logs",
            &[("eval.csv", "a,b\n"), ("steps.jsonl", "{}\n")],
            "it has no config.toml",
        ),
    ];
    for (name, files, why) in cases {
        let folder = dir.join(name);
        std::fs::create_dir_all(&folder).unwrap();
        for (file, text) in files {
            std::fs::write(folder.join(file), text).unwrap();
        }
        let out = Command::new(env!("CARGO_BIN_EXE_polyvit"))
            .args([
                "train", "--tasks", "mnist", "--preset", "tiny", "--steps", "2",
            ])
            .arg("--output")
            .arg(&folder)
            .output()
            .expect("polyvit runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{name}: trained over the files");
        assert!(
            stderr.contains("which no run wrote") && stderr.contains(why),
            "{name}: {stderr}"
        );
        for (file, text) in files {
            assert_eq!(&std::fs::read_to_string(folder.join(file)).unwrap(), text);
        }
        assert!(!folder.join("checkpoint.safetensors").exists());
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// Two runs given one folder at once would write into each other's logs and checkpoint: the
/// second is refused while the first writes there, and the folder is free again once the first
/// has ended, however it ended (here killed).
#[test]
fn a_folder_in_use_by_a_run_is_refused_to_another() {
    let dir = std::env::temp_dir().join(format!("polyvit-lock-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    let run = dir.join("run");
    let train = |steps: &str| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_polyvit"));
        command
            .args([
                "train", "--tasks", "mnist", "--preset", "tiny", "--steps", steps,
            ])
            .args(["--eval-every", "0", "--output"])
            .arg(&run);
        command
    };
    let mut first = train("1000000")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("polyvit runs");
    // The lock is taken before the configuration is written.
    let started = std::time::Instant::now();
    while !run.join("config.toml").exists() {
        assert!(
            started.elapsed().as_secs() < 120,
            "the first run never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let second = train("2").output().expect("polyvit runs");
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        !second.status.success(),
        "the second run trained beside the first"
    );
    assert!(stderr.contains("is in use by another run"), "{stderr}");
    first.kill().unwrap();
    first.wait().unwrap();
    let third = train("2").output().expect("polyvit runs");
    assert!(
        third.status.success(),
        "{}",
        String::from_utf8_lossy(&third.stderr)
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// Ctrl-C while the data is read (the default six tasks take seconds to build) ends the run at
/// once, with status 130, saying that nothing was written; and nothing was.
#[cfg(unix)]
#[test]
fn ctrl_c_while_the_data_is_read_ends_the_run_and_says_so() {
    let dir = std::env::temp_dir().join(format!("polyvit-sigprep-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    let child = with_default_signals(&mut Command::new(env!("CARGO_BIN_EXE_polyvit")))
        .args([
            "train",
            "--preset",
            "tiny",
            "--output",
            dir.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("polyvit runs");
    std::thread::sleep(std::time::Duration::from_millis(1000));
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    let out = child.wait_with_output().expect("the run ends");
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{said}");
    assert!(
        said.contains("interrupted while preparing the data: nothing was written"),
        "{said}"
    );
    assert!(!dir.exists(), "nothing written");
}

/// Ctrl-C saves a checkpoint and ends the process with status 130 (as a shell reports a command
/// stopped by SIGINT), so that `polyvit train && next` does not go on as if training had ended;
/// SIGTERM (`kill`, a job scheduler) and SIGHUP (a closed terminal) stop it the same way.
#[cfg(unix)]
#[test]
fn ctrl_c_sigterm_and_sighup_save_the_run_and_exit_with_130() {
    for signal in ["INT", "TERM", "HUP"] {
        let dir = std::env::temp_dir().join(format!("polyvit-sig{signal}-{}", std::process::id()));
        std::fs::remove_dir_all(&dir).ok();
        let child = with_default_signals(&mut Command::new(env!("CARGO_BIN_EXE_polyvit")))
            .args([
                "train",
                "--tasks",
                "mnist",
                "--preset",
                "tiny",
                "--eval-every",
                "0",
            ])
            .args(["--steps", "100000", "--output", dir.to_str().unwrap()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("polyvit runs");
        let out = signal_once_training(child, &dir.join("steps.jsonl"), signal);
        let heard = String::from_utf8_lossy(&out.stderr);
        assert!(
            heard.contains("stopping after this step or evaluation, with a checkpoint"),
            "SIG{signal}: {heard}"
        );
        let said = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(130), "SIG{signal}: {said}");
        assert!(
            said.contains("checkpoint saved; continue with --resume"),
            "SIG{signal}: {said}"
        );
        assert!(dir.join("checkpoint.safetensors").exists());
        std::fs::remove_dir_all(&dir).ok();
    }
}

/// Checkpoints edited by hand or damaged in ways their checksum cannot tell (it is recomputed
/// when they are saved again): a file of weights alone is scored by `eval` (which needs no
/// optimizer state); a NaN weight is refused by name instead of scoring every input as class 0;
/// a step that is not a count, or lies past the end of the run, is named.
#[test]
fn edited_checkpoints_are_scored_or_refused_by_what_they_hold() {
    use nn::checkpoint::Checkpoint;
    let dir = std::env::temp_dir().join(format!("polyvit-edited-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    let run = dir.join("run");
    polyvit(&[
        "train",
        "--tasks",
        "mnist",
        "--preset",
        "tiny",
        "--steps",
        "20",
        "--output",
        run.to_str().unwrap(),
    ]);
    let original = Checkpoint::load(&run.join("checkpoint.safetensors")).unwrap();
    let attempt = |name: &str, edit: &dyn Fn(&mut Checkpoint), args: &[&str]| {
        let mut checkpoint = original.clone();
        edit(&mut checkpoint);
        let path = dir.join(name);
        checkpoint.save(&path).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_polyvit"))
            .args(args)
            .arg(&path)
            .output()
            .expect("polyvit runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let eval = ["eval", "--checkpoint"];
    // The run's folder for its checkpoint: the error names the checkpoint in it.
    let out = Command::new(env!("CARGO_BIN_EXE_polyvit"))
        .args(eval)
        .arg(&run)
        .output()
        .expect("polyvit runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && stderr.contains("a folder, not a file; the run's checkpoint in it is"),
        "{stderr}"
    );

    let drop_optimizer = |c: &mut Checkpoint| c.tensors.retain(|k, _| !k.starts_with("optimizer."));
    let (ok, said, err) = attempt("weights.safetensors", &drop_optimizer, &eval);
    assert!(ok, "{err}");
    assert!(said.contains("(step 20):"), "{said}");
    // Nor does a finished run need it to say there is nothing left to train.
    let (ok, said, err) = attempt(
        "weights.safetensors",
        &drop_optimizer,
        &["train", "--resume"],
    );
    assert!(ok, "{err}");
    assert!(
        said.contains("the run ended at step 20: nothing left to train"),
        "{said}"
    );

    let poison = |c: &mut Checkpoint| {
        let name = "model.encoder.blocks.0.norm1.bias";
        let mut values = c.tensors[name].to_vec::<f32>().unwrap();
        values[3] = f32::NAN;
        let shape = c.tensors[name].shape().to_vec();
        c.tensors.insert(
            name.into(),
            tensor::Tensor::from_vec(values, &shape).unwrap(),
        );
    };
    let (ok, _, err) = attempt("nan.safetensors", &poison, &eval);
    assert!(!ok);
    assert!(
        err.contains("model.encoder.blocks.0.norm1.bias holds NaN (element 3)"),
        "{err}"
    );

    // Finite weights so large that the logits overflow: no score and no class is made of them.
    let overflow = |c: &mut Checkpoint| {
        let name = c
            .tensors
            .keys()
            .find(|k| k.contains("heads.mnist") && k.ends_with("weight"))
            .expect("the mnist head's weight")
            .clone();
        let t = &c.tensors[&name];
        let huge: Vec<f32> = (0..t.numel())
            .map(|i| if i % 2 == 0 { f32::MAX } else { -f32::MAX })
            .collect();
        let shape = t.shape().to_vec();
        c.tensors
            .insert(name, tensor::Tensor::from_vec(huge, &shape).unwrap());
    };
    let (ok, _, err) = attempt("overflow.safetensors", &overflow, &eval);
    assert!(!ok);
    assert!(
        err.contains("task mnist: the model's logits for ")
            && err.contains("test examples are not finite numbers"),
        "{err}"
    );
    let digit = dir.join("digit.png");
    image::GrayImage::from_fn(28, 28, |x, y| image::Luma([((x * 9 + y * 5) % 256) as u8]))
        .save(&digit)
        .unwrap();
    let predict = ["predict", digit.to_str().unwrap(), "--checkpoint"];
    let (ok, said, err) = attempt("overflow.safetensors", &overflow, &predict);
    assert!(
        !ok && err.contains("the model's output for it is not a number"),
        "{said}{err}"
    );

    let resume = ["train", "--resume"];
    for (step, named) in [
        (
            "abc",
            "the checkpoint's step is \"abc\", not a count of steps",
        ),
        (
            "-1",
            "the checkpoint's step is \"-1\", not a count of steps",
        ),
        (
            "999999",
            "the checkpoint's step 999999 is past the end of its run (20 steps)",
        ),
    ] {
        let set_step = |c: &mut Checkpoint| {
            c.metadata.insert("step".into(), step.into());
        };
        let (ok, _, err) = attempt("step.safetensors", &set_step, &resume);
        assert!(!ok, "step {step} resumed");
        assert!(err.contains(named), "{err}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// A signal the process was started ignoring stays ignored: `nohup` ignores SIGHUP so that a
/// run goes on when its terminal closes, and so it does; Ctrl-C still stops it.
#[cfg(unix)]
#[test]
fn a_signal_ignored_at_start_stays_ignored() {
    let dir = std::env::temp_dir().join(format!("polyvit-nohup-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    let mut child = with_default_signals(&mut Command::new("sh"))
        .args(["-c", "trap '' HUP; exec \"$0\" \"$@\""])
        .arg(env!("CARGO_BIN_EXE_polyvit"))
        .args(["train", "--tasks", "mnist", "--preset", "tiny"])
        .args(["--eval-every", "0", "--steps", "100000", "--output"])
        .arg(&dir)
        .stdout(Stdio::piped())
        .spawn()
        .expect("polyvit runs");
    let log = dir.join("steps.jsonl");
    while std::fs::read_to_string(&log).map_or(true, |s| s.is_empty()) {
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let hang_up = Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(hang_up.success());
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "SIGHUP stopped a run started with it ignored"
    );
    let out = signal_once_training(child, &log, "INT");
    assert_eq!(out.status.code(), Some(130));
    std::fs::remove_dir_all(&dir).ok();
}
