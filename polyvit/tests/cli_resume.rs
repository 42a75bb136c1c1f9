//! The command line across an interruption: a resumed run's logs hold every step once.

use std::path::Path;
use std::process::Command;

fn polyvit(args: &[&str]) {
    let status = Command::new(env!("CARGO_BIN_EXE_polyvit"))
        .args(args)
        .status()
        .expect("polyvit runs");
    assert!(status.success(), "polyvit {args:?} failed");
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
/// dropped on resume, since those steps are trained again.
#[test]
fn resuming_drops_the_steps_logged_after_the_checkpoint() {
    let dir = std::env::temp_dir().join(format!("polyvit-resume-{}", std::process::id()));
    let out = dir.to_str().unwrap();
    let common = ["--tasks", "mnist", "--preset", "tiny", "--eval-every", "10"];
    polyvit(&[&["train", "--steps", "20", "--output", out][..], &common].concat());
    assert_eq!(logged_steps(&dir), (0..20).collect::<Vec<_>>());
    // What an interruption after the step-20 checkpoint leaves behind: later steps and evals.
    let mut steps = std::fs::read_to_string(dir.join("steps.jsonl")).unwrap();
    for step in 20..23 {
        steps += &format!("{{\"step\":{step},\"task\":\"mnist\",\"loss\":1.0}}\n");
    }
    std::fs::write(dir.join("steps.jsonl"), steps).unwrap();
    let mut evals = std::fs::read_to_string(dir.join("eval.csv")).unwrap();
    evals += "30,validation,mnist,top1,0.5,0.1\n";
    std::fs::write(dir.join("eval.csv"), evals).unwrap();

    let checkpoint = dir.join("checkpoint.safetensors");
    polyvit(&[
        "train",
        "--resume",
        checkpoint.to_str().unwrap(),
        "--output",
        out,
    ]);
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
    // Resuming the finished run trains nothing more, in short/: its log holds each step once.
    polyvit_in(&["train", "--resume", "short/checkpoint.safetensors"]);
    assert_eq!(logged_steps(&run), (0..10).collect::<Vec<_>>());
    assert!(
        !work.join("runs").exists(),
        "the resumed run wrote into runs/latest"
    );
    std::fs::remove_dir_all(&work).ok();
}
