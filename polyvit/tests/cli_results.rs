//! The command line's result files: a short `polyvit train` draws its curves.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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
    std::fs::remove_dir_all(&dir).ok();
}
