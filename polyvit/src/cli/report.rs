//! What a run writes: the configuration, per-step losses (JSON lines), evaluations (CSV), final
//! results (JSON), and the table printed at the end.

use polyvit::train::{Run, StepReport, TaskScore, TrainConfig};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The files of one run's output directory.
pub struct OutputFiles {
    dir: PathBuf,
    pub checkpoint: PathBuf,
    steps: Mutex<File>,
    evals: Mutex<File>,
}

fn open(path: &Path, append: bool) -> Result<File, String> {
    OpenOptions::new()
        .create(true)
        .append(append)
        .write(true)
        .truncate(!append)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))
}

impl OutputFiles {
    /// Creates (or, when resuming, appends to) the files in `dir`.
    pub fn open(dir: &Path, config: &TrainConfig, resuming: bool) -> Result<OutputFiles, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let config_text = toml::to_string(config).map_err(|e| e.to_string())?;
        std::fs::write(dir.join("config.toml"), config_text)
            .map_err(|e| format!("{}: {e}", dir.join("config.toml").display()))?;
        let evals_path = dir.join("eval.csv");
        let fresh = !resuming || !evals_path.exists();
        let mut evals = open(&evals_path, resuming)?;
        if fresh {
            writeln!(evals, "step,split,task,metric,value,chance").map_err(|e| e.to_string())?;
        }
        Ok(OutputFiles {
            dir: dir.to_path_buf(),
            checkpoint: OutputFiles::checkpoint_path(dir),
            steps: Mutex::new(open(&dir.join("steps.jsonl"), resuming)?),
            evals: Mutex::new(evals),
        })
    }

    /// One JSON line per task trained in the step.
    pub fn write_step(&self, run: &Run, report: &StepReport) -> Result<(), String> {
        let mut file = self.steps.lock().expect("not poisoned");
        for loss in &report.losses {
            let line = serde_json::json!({
                "step": report.step,
                "task": run.datasets[loss.task].name,
                "loss": loss.loss,
                "lr": report.learning_rate,
                "grad_norm": report.grad_norm,
            });
            writeln!(file, "{line}").map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    pub fn write_scores(&self, step: u64, split: &str, scores: &[TaskScore]) -> Result<(), String> {
        let mut file = self.evals.lock().expect("not poisoned");
        for s in scores {
            writeln!(
                file,
                "{step},{split},{},{},{:.6},{:.6}",
                s.task, s.metric, s.value, s.chance
            )
            .map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// `results.json`: the final test metrics and the wall time.
    pub fn write_results(&self, scores: &[TaskScore], seconds: f64) -> Result<(), String> {
        let tasks: Vec<_> = scores
            .iter()
            .map(|s| serde_json::json!({"task": s.task, "metric": s.metric, "value": s.value, "chance": s.chance}))
            .collect();
        let text =
            serde_json::to_string_pretty(&serde_json::json!({"seconds": seconds, "test": tasks}))
                .map_err(|e| e.to_string())?;
        let path = self.dir.join("results.json");
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// The final table: every task's metric next to its chance level.
pub fn print_scores(run: &Run, scores: &[TaskScore]) {
    println!(
        "{:<24} {:<6} {:<7} {:>8} {:>8}",
        "task", "input", "metric", "score", "chance"
    );
    for (score, dataset) in scores.iter().zip(&run.datasets) {
        println!(
            "{:<24} {:<6} {:<7} {:>8.3} {:>8.3}",
            score.task,
            format!("{:?}", dataset.modality).to_lowercase(),
            score.metric,
            score.value,
            score.chance
        );
    }
}
