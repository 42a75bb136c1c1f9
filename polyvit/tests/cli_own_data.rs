//! The command line on the user's own folders: training a task from a folder of PNGs, predicting
//! files with the checkpoint's class names, scoring a labelled folder, exporting an embedded
//! task, and the errors of bad input (with nothing written).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn polyvit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_polyvit"))
        .args(args)
        .output()
        .expect("polyvit runs")
}

fn succeeds(args: &[&str]) -> String {
    let out = polyvit(args);
    assert!(
        out.status.success(),
        "polyvit {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn fails(args: &[&str]) -> String {
    let out = polyvit(args);
    assert!(!out.status.success(), "polyvit {args:?} should fail");
    String::from_utf8(out.stderr).unwrap()
}

fn fresh(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("polyvit-own-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `n` 12×12 PNGs of stripes in `dir/class` (horizontal or vertical, shifted per file).
fn stripes(dir: &Path, class: &str, n: u32, horizontal: bool) {
    let class_dir = dir.join(class);
    std::fs::create_dir_all(&class_dir).unwrap();
    for i in 0..n {
        let img = image::GrayImage::from_fn(12, 12, |x, y| {
            let t = if horizontal { y } else { x };
            image::Luma([if (t + i) % 4 < 2 { 255 } else { 0 }])
        });
        img.save(class_dir.join(format!("{i}.png"))).unwrap();
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn a_folder_task_trains_predicts_and_scores() {
    let root = fresh("stripes");
    let data = root.join("data");
    stripes(&data, "horizontal", 8, true);
    stripes(&data, "vertical", 8, false);
    let out = root.join("run");
    let task = format!("stripes={}", data.display());
    let log = succeeds(&[
        "train",
        "--tasks",
        "stripes",
        "--task",
        &task,
        "--preset",
        "tiny",
        "--steps",
        "30",
        "--eval-every",
        "0",
        "--output",
        s(&out),
    ]);
    assert!(log.contains("stripes"), "{log}");
    let checkpoint = out.join("checkpoint.pvrs");

    // Files and walked folders, through the stored preprocessing and class names.
    let json = succeeds(&[
        "predict",
        "--checkpoint",
        s(&checkpoint),
        "--top",
        "2",
        "--json",
        s(&data.join("horizontal").join("0.png")),
        s(&data.join("vertical")),
    ]);
    let predictions: serde_json::Value = serde_json::from_str(&json).unwrap();
    let predictions = predictions.as_array().unwrap();
    assert_eq!(predictions.len(), 9, "one file and a folder of 8: {json}");
    for p in predictions {
        assert_eq!(p["task"], "stripes");
        let top = p["top"].as_array().unwrap();
        let names: Vec<&str> = top.iter().map(|c| c["class"].as_str().unwrap()).collect();
        assert!(
            names.contains(&"horizontal") && names.contains(&"vertical"),
            "{p}"
        );
        let total: f64 = top.iter().map(|c| c["probability"].as_f64().unwrap()).sum();
        assert!(
            (total - 1.0).abs() < 1e-4,
            "softmax over both classes sums to 1: {p}"
        );
        let first = top[0]["probability"].as_f64().unwrap();
        assert!(
            first >= top[1]["probability"].as_f64().unwrap(),
            "sorted: {p}"
        );
    }
    let text = succeeds(&[
        "predict",
        "--checkpoint",
        s(&checkpoint),
        "--top",
        "1",
        s(&data.join("vertical").join("3.png")),
    ]);
    assert!(text.contains("3.png [stripes] "), "{text}");

    let scored = succeeds(&["eval", "--checkpoint", s(&checkpoint), "--data", s(&data)]);
    assert!(
        scored.contains("stripes on") && scored.contains("(16 examples, 2 classes): top1"),
        "{scored}"
    );

    // Inputs the checkpoint cannot take.
    let wav = root.join("sound.wav");
    std::fs::write(&wav, b"RIFF").unwrap();
    let err = fails(&["predict", "--checkpoint", s(&checkpoint), s(&wav)]);
    assert!(
        err.contains("sound.wav: no task of the checkpoint takes audio inputs"),
        "{err}"
    );
    let err = fails(&[
        "predict",
        "--checkpoint",
        s(&checkpoint),
        "--task",
        "mnist",
        s(&data),
    ]);
    assert!(
        err.contains("no task \"mnist\" in the checkpoint (it has stripes)"),
        "{err}"
    );
    let err = fails(&[
        "eval",
        "--checkpoint",
        s(&checkpoint),
        "--data",
        s(&root.join("missing")),
    ]);
    assert!(err.contains("not a folder"), "{err}");
    std::fs::remove_dir_all(&root).ok();
}

#[test]
fn bad_folders_stop_training_before_anything_is_written() {
    let root = fresh("bad");
    let data = root.join("data");
    stripes(&data, "horizontal", 5, true);
    std::fs::create_dir_all(data.join("vertical")).unwrap();
    let out = root.join("run");
    let task = format!("stripes={}", data.display());
    let args = [
        "train",
        "--tasks",
        "stripes",
        "--task",
        &task,
        "--preset",
        "tiny",
        "--steps",
        "2",
        "--output",
        s(&out),
    ];
    let err = fails(&args);
    assert!(
        err.contains("task stripes: ") && err.contains("vertical: empty class folder"),
        "{err}"
    );
    assert!(!out.exists(), "nothing is written");
    stripes(&data, "vertical", 1, false);
    let err = fails(&args);
    assert!(
        err.contains("class vertical has 1 example: too few"),
        "{err}"
    );
    let err = fails(&[
        "train",
        "--task",
        &format!("mnist={}", data.display()),
        "--output",
        s(&out),
    ]);
    assert!(err.contains("task mnist: the name is taken"), "{err}");
    let err = fails(&["train", "--task", "nodir", "--output", s(&out)]);
    assert!(err.contains("expected NAME=DIR"), "{err}");
    assert!(!out.exists(), "nothing is written");
    std::fs::remove_dir_all(&root).ok();
}

#[test]
fn exported_digits_are_a_folder_task() {
    let root = fresh("export");
    let dir = root.join("digits");
    let said = succeeds(&["data", "export", "mnist", s(&dir)]);
    assert!(said.contains("wrote 2500 examples of mnist"), "{said}");
    let count = |p: PathBuf| std::fs::read_dir(p).unwrap().count();
    let train: usize = (0..10)
        .map(|d| count(dir.join("train").join(d.to_string())))
        .sum();
    assert_eq!(train, 1800);
    assert_eq!(count(dir.join("test").join("0")), 50);
    let digit = image::open(dir.join("test").join("0").join("00000.png")).unwrap();
    assert_eq!((digit.width(), digit.height()), (28, 28));
    let err = fails(&["data", "export", "mnist", s(&dir)]);
    assert!(err.contains("already exists"), "{err}");
    let err = fails(&["data", "export", "drums", s(&root.join("drums"))]);
    assert!(err.contains("multi-label"), "{err}");
    assert!(
        !root.join("drums").exists(),
        "a failed export leaves nothing"
    );
    std::fs::remove_dir_all(&root).ok();
}
