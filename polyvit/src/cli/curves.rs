//! A run's curves: each task's training loss (smoothed) and validation metric against the steps
//! done before it was measured, drawn from the run's own logs into `curves.svg`: a loss at its
//! step's index from 0 in `steps.jsonl` (the updates before that step), an evaluation at the
//! steps done in `eval.csv`, so both sit over the weights they measured.

use super::plot::{line_charts, LinePanel, Series};
use super::report::{EVALS_FILE, STEPS_FILE};
use std::path::Path;

/// The file name of the curves in a run's output directory.
pub const CURVES_FILE: &str = "curves.svg";

/// Each loss curve is drawn at about this many steps.
const MAX_POINTS: usize = 200;

/// The series of `name`, created (in first-seen order) when missing.
fn series_of<'a>(all: &'a mut Vec<Series>, name: &str) -> &'a mut Series {
    match all.iter().position(|s| s.name == name) {
        Some(i) => &mut all[i],
        None => {
            all.push(Series {
                name: name.to_string(),
                points: Vec::new(),
            });
            all.last_mut().expect("just pushed")
        }
    }
}

/// Every task's `(step, loss)` points from the lines of `steps.jsonl`, in file order.
fn losses(text: &str, path: &Path) -> Result<Vec<Series>, String> {
    let mut all = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let bad = || {
            format!(
                "{} line {}: not a step record: {line}",
                path.display(),
                i + 1
            )
        };
        let value: serde_json::Value = serde_json::from_str(line).map_err(|_| bad())?;
        let (Some(step), Some(task), Some(loss)) = (
            value["step"].as_u64(),
            value["task"].as_str(),
            value["loss"].as_f64(),
        ) else {
            return Err(bad());
        };
        series_of(&mut all, task).points.push((step as f64, loss));
    }
    Ok(all)
}

/// Every task's `(step, value)` validation points from `eval.csv`, named `task (metric)`.
fn validation(text: &str, path: &Path) -> Result<Vec<Series>, String> {
    let mut all = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let bad = || {
            format!(
                "{} line {}: not an evaluation: {line}",
                path.display(),
                i + 1
            )
        };
        let fields: Vec<&str> = line.split(',').collect();
        let [step, split, task, metric, value, _chance] = fields[..] else {
            return Err(bad());
        };
        if split != "validation" {
            continue;
        }
        let step: u64 = step.parse().map_err(|_| bad())?;
        let value: f64 = value.parse().map_err(|_| bad())?;
        series_of(&mut all, &format!("{task} ({metric})"))
            .points
            .push((step as f64, value));
    }
    Ok(all)
}

/// A task's losses smoothed: the trailing mean over the last `n / 20` steps of the task (at
/// least one), drawn at no more than [`MAX_POINTS`] evenly spaced steps, and the last.
fn smooth(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let window = (points.len() / 20).max(1);
    let stride = points.len().div_ceil(MAX_POINTS).max(1);
    let mut sums = vec![0.0];
    for p in points {
        sums.push(sums.last().expect("starts with 0") + p.1);
    }
    let mean = |i: usize| {
        let from = (i + 1).saturating_sub(window);
        (
            points[i].0,
            (sums[i + 1] - sums[from]) / (i + 1 - from) as f64,
        )
    };
    let mut out: Vec<(f64, f64)> = (0..points.len()).step_by(stride).map(mean).collect();
    if !points.is_empty() && !(points.len() - 1).is_multiple_of(stride) {
        out.push(mean(points.len() - 1));
    }
    out
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Draws `dir/curves.svg` from `dir/steps.jsonl` and `dir/eval.csv`: the training loss of every
/// task (means over groups of steps) and its validation metric at every evaluation.
pub fn write_curves(dir: &Path) -> Result<(), String> {
    let (steps_path, evals_path) = (dir.join(STEPS_FILE), dir.join(EVALS_FILE));
    let mut loss = losses(&read(&steps_path)?, &steps_path)?;
    let validation = validation(&read(&evals_path)?, &evals_path)?;
    // The tasks in the order of the evaluations (the run's), so each keeps its colour.
    let order = |s: &Series| {
        validation
            .iter()
            .position(|v| v.name.split(" (").next() == Some(s.name.as_str()))
    };
    loss.sort_by_key(|s| order(s).unwrap_or(usize::MAX));
    for series in &mut loss {
        series.points = smooth(&series.points);
    }
    let path = dir.join(CURVES_FILE);
    let panels = [
        LinePanel {
            title: "training loss (trailing mean over a 20th of each task's steps)".into(),
            x_label: "step, from 0 (the steps done before it)".into(),
            y_label: "loss".into(),
            series: loss,
        },
        LinePanel {
            title: "validation".into(),
            x_label: "steps done".into(),
            y_label: "metric".into(),
            series: validation,
        },
    ];
    line_charts(&path, &panels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_are_read_per_task() {
        let path = Path::new("steps.jsonl");
        let steps = "{\"step\":0,\"task\":\"mnist\",\"loss\":2.5}\n\
                     {\"step\":1,\"task\":\"drums\",\"loss\":0.75}\n\
                     {\"step\":2,\"task\":\"mnist\",\"loss\":2.0}\n";
        let series = losses(steps, path).unwrap();
        assert_eq!(series.len(), 2);
        assert_eq!(series[0].name, "mnist");
        assert_eq!(series[0].points, [(0.0, 2.5), (2.0, 2.0)]);
        assert_eq!(series[1].points, [(1.0, 0.75)]);
        let err = losses("{\"step\":0}", path).unwrap_err();
        assert!(err.contains("steps.jsonl line 1"), "{err}");

        let evals = "step,split,task,metric,value,chance\n\
                     10,validation,mnist,top1,0.5,0.1\n\
                     20,test,mnist,top1,0.6,0.1\n\
                     20,validation,mnist,top1,0.7,0.1\n";
        let series = validation(evals, Path::new("eval.csv")).unwrap();
        assert_eq!(series.len(), 1);
        assert_eq!(series[0].name, "mnist (top1)");
        assert_eq!(series[0].points, [(10.0, 0.5), (20.0, 0.7)]);
        assert!(validation("h\n1,validation,x", Path::new("eval.csv")).is_err());
    }

    #[test]
    fn smoothing_is_a_trailing_mean_at_bounded_points() {
        let points: Vec<(f64, f64)> = (0..1000).map(|i| (i as f64, (i % 2) as f64)).collect();
        let smoothed = smooth(&points);
        assert_eq!(smoothed.len(), 201, "every 5th step of 1,000, and the last");
        assert_eq!(smoothed[0], (0.0, 0.0), "the first step alone");
        assert_eq!(smoothed[1], (5.0, 0.5), "steps 0..=5: 0 1 0 1 0 1");
        assert_eq!(smoothed[199], (995.0, 0.5), "a window of 50 steps");
        assert_eq!(smoothed[200], (999.0, 0.5));
        let last = smooth(&points[..999]);
        assert_eq!(last.len(), 201);
        assert_eq!(
            last.last(),
            Some(&(998.0, 24.0 / 49.0)),
            "a window of 49 steps"
        );
        assert_eq!(smooth(&points[..3]), points[..3], "short curves are kept");
    }
}
