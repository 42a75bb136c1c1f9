//! An experiment's numbers: each row's per-task mean and standard deviation over the seeds, its
//! parameter count, and the rows chosen on validation.

use super::design::Row;
use polyvit::train::TaskScore;
use std::path::PathBuf;
use std::rc::Rc;

/// What one training run gave.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The run's output directory.
    pub dir: PathBuf,
    /// The trained model's parameters.
    pub parameters: usize,
    /// Wall time of the run, data to results.
    pub seconds: f64,
    pub validation: Vec<TaskScore>,
    pub test: Vec<TaskScore>,
}

/// One run of a row: the part and seed, and the outcome (shared when rows hold the same run).
#[derive(Clone, Debug)]
pub struct Record {
    pub row: String,
    pub part: String,
    pub seed: u64,
    pub outcome: Rc<Outcome>,
}

/// Values over the seeds, with their mean and sample standard deviation.
#[derive(Clone, Debug, PartialEq)]
pub struct Stat {
    pub mean: f64,
    /// The sample standard deviation (`n − 1` in the denominator); 0 for a single value.
    pub std: f64,
    pub values: Vec<f64>,
}

impl Stat {
    pub fn of(values: Vec<f64>) -> Stat {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n.max(1.0);
        let squares: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
        let std = match values.len() {
            0 | 1 => 0.0,
            _ => (squares / (n - 1.0)).sqrt(),
        };
        Stat { mean, std, values }
    }
}

/// One task of one row.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskSummary {
    pub task: String,
    pub metric: &'static str,
    pub chance: f64,
    pub validation: Stat,
    pub test: Stat,
}

/// One row of the table.
#[derive(Clone, Debug, PartialEq)]
pub struct RowSummary {
    pub name: String,
    /// The parameters of the row's models together (one per part).
    pub parameters: usize,
    /// The task columns, in the base configuration's order (a task no part trains is left out).
    pub tasks: Vec<TaskSummary>,
    /// For a row chosen on validation: the candidate row it reports.
    pub chosen: Option<String>,
}

/// The summary of `row` from its `records`, with the tasks in the order of `tasks`.
pub fn summarize(row: &Row, records: &[Record], tasks: &[String]) -> RowSummary {
    let mine: Vec<&Record> = records.iter().filter(|r| r.row == row.name).collect();
    let first_seed = mine.iter().map(|r| r.seed).min();
    let parameters = mine
        .iter()
        .filter(|r| Some(r.seed) == first_seed)
        .map(|r| r.outcome.parameters)
        .sum();
    let tasks = tasks
        .iter()
        .filter_map(|task| {
            let mut runs: Vec<(u64, &TaskScore, &TaskScore)> = mine
                .iter()
                .filter_map(|r| {
                    let find =
                        |scores: &'_ [TaskScore]| scores.iter().position(|s| &s.task == task);
                    let (v, t) = (find(&r.outcome.validation)?, find(&r.outcome.test)?);
                    Some((r.seed, &r.outcome.validation[v], &r.outcome.test[t]))
                })
                .collect();
            runs.sort_by_key(|run| run.0);
            let (_, _, first) = runs.first()?;
            Some(TaskSummary {
                task: task.clone(),
                metric: first.metric,
                chance: first.chance,
                validation: Stat::of(runs.iter().map(|r| r.1.value).collect()),
                test: Stat::of(runs.iter().map(|r| r.2.value).collect()),
            })
        })
        .collect();
    RowSummary {
        name: row.name.clone(),
        parameters,
        tasks,
        chosen: None,
    }
}

/// The mean over a row's tasks of its mean validation metric (accuracy and mAP alike lie in
/// [0, 1]).
pub fn validation_score(row: &RowSummary) -> f64 {
    let sum: f64 = row.tasks.iter().map(|t| t.validation.mean).sum();
    sum / row.tasks.len().max(1) as f64
}

/// The names that rows are candidates for (`Row::candidate_for`), in order, once each: the rows
/// [`select_on_validation`] adds to the table.
pub fn selected_rows(rows: &[Row]) -> Vec<&str> {
    let mut targets: Vec<&str> = Vec::new();
    for name in rows.iter().filter_map(|r| r.candidate_for.as_deref()) {
        if !targets.contains(&name) {
            targets.push(name);
        }
    }
    targets
}

/// For every name that rows are candidates for (`Row::candidate_for`), once all of its candidates
/// are in `summaries`: a row of that name reporting the candidate with the best
/// [`validation_score`] (the first on ties; never one that diverged, whose score is NaN: no
/// row when all did). The test numbers play no part in the choice.
pub fn select_on_validation(rows: &[Row], summaries: &[RowSummary]) -> Vec<RowSummary> {
    selected_rows(rows)
        .into_iter()
        .filter_map(|target| {
            let candidates: Option<Vec<&RowSummary>> = rows
                .iter()
                .filter(|r| r.candidate_for.as_deref() == Some(target))
                .map(|r| summaries.iter().find(|s| s.name == r.name))
                .collect();
            let better = |s: &RowSummary, than: &RowSummary| {
                let (score, other) = (validation_score(s), validation_score(than));
                score > other || (other.is_nan() && !score.is_nan())
            };
            let best = candidates?
                .into_iter()
                .fold(None, |best: Option<&RowSummary>, s| match best {
                    Some(b) if !better(s, b) => Some(b),
                    _ => Some(s),
                })
                .filter(|best| !validation_score(best).is_nan())?;
            Some(RowSummary {
                name: target.to_string(),
                chosen: Some(best.name.clone()),
                ..best.clone()
            })
        })
        .collect()
}

/// The summaries of the first `done` of `rows` (those run so far), followed by the rows chosen
/// on validation ([`select_on_validation`] among all of `rows`' candidates: none for a name
/// whose candidates have not all run, as in the tables written after each row).
pub fn summaries(
    rows: &[Row],
    done: usize,
    records: &[Record],
    tasks: &[String],
) -> Vec<RowSummary> {
    let mut summaries: Vec<RowSummary> = rows[..done]
        .iter()
        .map(|row| summarize(row, records, tasks))
        .collect();
    let chosen = select_on_validation(rows, &summaries);
    summaries.extend(chosen);
    summaries
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::experiment::design::Part;
    use polyvit::train::TrainConfig;

    fn score(task: &str, value: f64) -> TaskScore {
        TaskScore {
            task: task.into(),
            metric: "top1",
            value,
            chance: 0.1,
        }
    }

    fn record(row: &str, part: &str, seed: u64, validation: f64, test: f64) -> Record {
        Record {
            row: row.into(),
            part: part.into(),
            seed,
            outcome: Rc::new(Outcome {
                dir: PathBuf::from(format!("runs/{row}/{part}/seed-{seed}")),
                parameters: 100 + part.len(),
                seconds: 1.0,
                validation: vec![score(part, validation)],
                test: vec![score(part, test)],
            }),
        }
    }

    fn row(name: &str, parts: &[&str], candidate_for: Option<&str>) -> Row {
        Row {
            name: name.into(),
            parts: parts
                .iter()
                .map(|p| Part {
                    name: p.to_string(),
                    config: TrainConfig::default(),
                })
                .collect(),
            candidate_for: candidate_for.map(String::from),
        }
    }

    #[test]
    fn mean_and_sample_standard_deviation() {
        let s = Stat::of(vec![0.5, 0.7, 0.9]);
        assert!((s.mean - 0.7).abs() < 1e-12);
        assert!((s.std - 0.2).abs() < 1e-12, "sqrt((0.04 + 0 + 0.04) / 2)");
        assert_eq!(Stat::of(vec![0.25]).std, 0.0);
        assert_eq!(Stat::of(vec![]).mean, 0.0);
    }

    #[test]
    fn rows_gather_their_parts_over_the_seeds() {
        let records = vec![
            record("single", "a", 1, 0.3, 0.4),
            record("single", "a", 0, 0.5, 0.6),
            record("single", "bb", 0, 0.7, 0.8),
            record("single", "bb", 1, 0.7, 0.6),
            record("other", "a", 0, 0.0, 0.0),
        ];
        let tasks = ["bb".to_string(), "a".into(), "missing".into()];
        let summary = summarize(&row("single", &["a", "bb"], None), &records, &tasks);
        assert_eq!(summary.parameters, 101 + 102, "both parts, counted once");
        let columns: Vec<&str> = summary.tasks.iter().map(|t| t.task.as_str()).collect();
        assert_eq!(columns, ["bb", "a"]);
        assert_eq!(summary.tasks[1].test.values, [0.6, 0.4], "in seed order");
        assert!((summary.tasks[1].test.mean - 0.5).abs() < 1e-12);
        assert!((summary.tasks[0].validation.mean - 0.7).abs() < 1e-12);
        assert_eq!(summary.tasks[0].validation.std, 0.0);
    }

    #[test]
    fn the_best_candidate_on_validation_is_chosen_whatever_its_test_score() {
        let rows = vec![
            row("lr-a", &["t"], Some("re-tuned")),
            row("lr-b", &["t"], Some("re-tuned")),
            row("plain", &["t"], None),
        ];
        let records = vec![
            record("lr-a", "t", 0, 0.4, 0.9),
            record("lr-b", "t", 0, 0.6, 0.1),
            record("plain", "t", 0, 0.9, 0.9),
        ];
        let tasks = ["t".to_string()];
        let summaries: Vec<RowSummary> = rows
            .iter()
            .map(|r| summarize(r, &records, &tasks))
            .collect();
        let chosen = select_on_validation(&rows, &summaries);
        assert_eq!(chosen.len(), 1);
        assert_eq!(chosen[0].name, "re-tuned");
        assert_eq!(chosen[0].chosen.as_deref(), Some("lr-b"));
        assert_eq!(chosen[0].tasks, summaries[1].tasks);
        assert!(
            select_on_validation(&rows, &summaries[1..]).is_empty(),
            "not before every candidate has run"
        );
        // A candidate that diverged (NaN) is passed over, first or last; of two that diverged,
        // none is chosen.
        let diverge = |records: &mut Vec<Record>, row: &str| {
            for r in records.iter_mut().filter(|r| r.row == row) {
                r.outcome = Rc::new(Outcome {
                    validation: vec![score("t", f64::NAN)],
                    test: vec![score("t", f64::NAN)],
                    ..(*r.outcome).clone()
                });
            }
        };
        let chosen_among = |records: &[Record]| -> Vec<RowSummary> {
            let summaries: Vec<RowSummary> =
                rows.iter().map(|r| summarize(r, records, &tasks)).collect();
            select_on_validation(&rows, &summaries)
        };
        for (diverged, other) in [("lr-a", "lr-b"), ("lr-b", "lr-a")] {
            let mut records = records.clone();
            diverge(&mut records, diverged);
            let chosen = chosen_among(&records);
            assert_eq!(chosen[0].chosen.as_deref(), Some(other), "{diverged}");
            diverge(&mut records, other);
            assert!(chosen_among(&records).is_empty());
        }
        // The tables written after each row: the choice appears once both candidates ran.
        let names = |done| -> Vec<String> {
            super::summaries(&rows, done, &records, &tasks)
                .into_iter()
                .map(|s| s.name)
                .collect()
        };
        assert_eq!(names(1), ["lr-a"], "one candidate of two has run");
        assert_eq!(names(2), ["lr-a", "lr-b", "re-tuned"]);
        assert_eq!(names(3), ["lr-a", "lr-b", "plain", "re-tuned"]);
    }
}
