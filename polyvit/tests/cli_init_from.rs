//! `--init-from` on the command line: a run starts from the fixture ViT, says what it loaded
//! and records the file in its configuration;
//! `polyvit info` explains a checkpoint that does not fit; `--resume` and `--init-from` exclude
//! each other.

use std::path::PathBuf;
use std::process::{Command, Output};

fn polyvit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_polyvit"))
        .args(args)
        .output()
        .expect("polyvit runs")
}

fn vit() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/vit_init/vit_timm.safetensors")
        .to_str()
        .unwrap()
        .to_string()
}

#[test]
fn a_run_starts_from_a_vit_and_reports_it() {
    let dir = std::env::temp_dir().join(format!("polyvit-init-from-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // The fixture ViT has 4×4 patches: the configuration's image patch must match.
    let config = String::from_utf8(polyvit(&["train", "--print-config"]).stdout).unwrap();
    let config = config.replace("image = [7, 7]", "image = [4, 4]");
    assert!(config.contains("image = [4, 4]"), "{config}");
    let path = dir.join("config.toml");
    std::fs::write(&path, config).unwrap();
    let output = dir.join("run");
    let run = polyvit(&[
        "train",
        "--config",
        path.to_str().unwrap(),
        "--tasks",
        "mnist",
        "--preset",
        "tiny",
        "--steps",
        "2",
        "--init-from",
        &vit(),
        "--output",
        output.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // mnist alone: the image tokenizer's CLS and patch bias, the two blocks and the final norm
    // are copied; its patch kernel (summed to one channel) and position embedding (resized to
    // 7×7) adapted; the head's weight and bias are fresh.
    assert!(
        stdout.contains("timm layout: 28 parameters loaded, 2 adapted, 2 left fresh"),
        "{stdout}"
    );
    // One task is a single-task run: no co-training, no schedule in its first line.
    assert!(
        stdout.contains("training 1 task (mnist) on the tiny preset on cpu: 2 steps"),
        "{stdout}"
    );

    // The run's directory records where it started from, parameter by parameter.
    let record = std::fs::read_to_string(output.join("init_from.txt")).unwrap();
    assert!(record.starts_with("initialized from "), "{record}");
    assert!(record.contains("fresh    heads.mnist.weight"), "{record}");
    assert!(
        record.contains("summed over the checkpoint's 3 channels"),
        "{record}"
    );

    // The run's config.toml names the file (absolute), so that it repeats the run: trained
    // again from it, the run takes the same steps.
    let written = std::fs::read_to_string(output.join("config.toml")).unwrap();
    assert!(
        written.contains(&format!("init_from = \"{}\"", vit())),
        "{written}"
    );
    let again = dir.join("again");
    let rerun = polyvit(&[
        "train",
        "--config",
        output.join("config.toml").to_str().unwrap(),
        "--output",
        again.to_str().unwrap(),
    ]);
    assert!(
        String::from_utf8_lossy(&rerun.stdout).contains("initialized from "),
        "{}",
        String::from_utf8_lossy(&rerun.stderr)
    );
    let steps = |run: &std::path::Path| std::fs::read_to_string(run.join("steps.jsonl")).unwrap();
    assert_eq!(steps(&again), steps(&output));
    assert!(again.join("init_from.txt").exists());

    let checkpoint = output.join("checkpoint.safetensors");
    let resumed = polyvit(&[
        "train",
        "--resume",
        checkpoint.to_str().unwrap(),
        "--init-from",
        &vit(),
    ]);
    assert!(!resumed.status.success());
    assert!(String::from_utf8_lossy(&resumed.stderr).contains("drop --init-from"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn info_explains_a_checkpoint_that_does_not_fit() {
    let info = polyvit(&[
        "info",
        "--preset",
        "tiny",
        "--task-set",
        "default",
        "--init-from",
        &vit(),
    ]);
    assert!(!info.status.success());
    let stderr = String::from_utf8_lossy(&info.stderr);
    assert!(
        stderr.starts_with(&format!("error: init_from {}: ", vit())),
        "{stderr}"
    );
    assert!(
        stderr.contains("patch [7, 7] does not match the checkpoint's 4×4 patches"),
        "{stderr}"
    );
}

/// A pretrained file that is missing or not safetensors is named as the `init_from` file, not
/// as a run's checkpoint (`--resume`'s).
#[test]
fn an_unreadable_init_from_file_is_named_as_such() {
    let dir = std::env::temp_dir().join(format!("polyvit-init-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let notes = dir.join("notes.safetensors");
    std::fs::write(&notes, "weights will go here\n".repeat(4)).unwrap();
    let missing = dir.join("missing.safetensors");
    for (file, problem) in [
        (&notes, "not a safetensors file"),
        (&missing, "No such file"),
    ] {
        let file = file.to_str().unwrap();
        let info = polyvit(&["info", "--preset", "tiny", "--init-from", file]);
        let stderr = String::from_utf8_lossy(&info.stderr);
        assert!(
            stderr.starts_with(&format!("error: init_from {file}: ")) && stderr.contains(problem),
            "{stderr}"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}
