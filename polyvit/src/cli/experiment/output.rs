//! What an experiment writes next to its runs: `results.csv` (one line per row, task and split),
//! `runs.csv` (one line per run and task), `results.json` (all of it, with the command and the
//! base configuration), `results.svg` (test mean ± std per task and row), and the table printed
//! at the end.

use super::summary::{Record, RowSummary, Stat};
use crate::cli::plot::{interval_charts, Interval, IntervalPanel};
use crate::cli::report::write_whole;
use serde_json::json;
use std::fmt::Write as _;
use std::path::Path;

/// How an experiment was asked for, recorded in `results.json`.
pub struct Header<'a> {
    pub experiment: &'a str,
    pub command: String,
    pub seeds: u64,
    pub steps_per_task: Option<u64>,
    /// The base configuration (after scaling), as TOML.
    pub base_config: String,
    /// Wall time so far.
    pub seconds: f64,
}

/// `mean ± std` with three decimals, or `diverged` when a run of the row diverged (its score
/// is NaN, and with it the mean).
fn mean_std(stat: &Stat) -> String {
    match stat.mean.is_nan() {
        true => "diverged".into(),
        false => format!("{:.3} ± {:.3}", stat.mean, stat.std),
    }
}

/// Every value of `stat`, `;`-separated, in seed order.
fn values(stat: &Stat) -> String {
    let values: Vec<String> = stat.values.iter().map(|v| format!("{v:.6}")).collect();
    values.join(";")
}

/// `results.csv`: `row,chosen,task,metric,split,mean,std,n,values,parameters`.
pub fn write_results_csv(path: &Path, rows: &[RowSummary]) -> Result<(), String> {
    let mut text = String::from("row,chosen,task,metric,split,mean,std,n,values,parameters\n");
    for row in rows {
        for task in &row.tasks {
            for (split, stat) in [("validation", &task.validation), ("test", &task.test)] {
                writeln!(
                    text,
                    "{},{},{},{},{split},{:.6},{:.6},{},{},{}",
                    row.name,
                    row.chosen.as_deref().unwrap_or(""),
                    task.task,
                    task.metric,
                    stat.mean,
                    stat.std,
                    stat.values.len(),
                    values(stat),
                    row.parameters
                )
                .expect("writing to a String");
            }
        }
    }
    write_whole(path, &text)
}

/// `text` as one CSV field (RFC 4180): in double quotes, its own doubled, when it holds a comma,
/// a quote or a line break (a run's folder may); as it is otherwise.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// `runs.csv`: `row,part,seed,dir,parameters,seconds,task,metric,validation,test` (the names of
/// rows, parts and tasks are plain words; `dir` is quoted where it needs to be).
pub fn write_runs_csv(path: &Path, records: &[Record]) -> Result<(), String> {
    let mut text =
        String::from("row,part,seed,dir,parameters,seconds,task,metric,validation,test\n");
    for r in records {
        let o = &r.outcome;
        for (v, t) in o.validation.iter().zip(&o.test) {
            writeln!(
                text,
                "{},{},{},{},{},{:.1},{},{},{:.6},{:.6}",
                r.row,
                r.part,
                r.seed,
                csv_field(&o.dir.display().to_string()),
                o.parameters,
                o.seconds,
                t.task,
                t.metric,
                v.value,
                t.value
            )
            .expect("writing to a String");
        }
    }
    write_whole(path, &text)
}

/// `results.json`: the header, every row's per-task statistics and every run.
pub fn write_json(
    path: &Path,
    header: &Header,
    rows: &[RowSummary],
    records: &[Record],
) -> Result<(), String> {
    let stat = |s: &Stat| json!({"mean": s.mean, "std": s.std, "values": s.values});
    let rows: Vec<_> = rows
        .iter()
        .map(|row| {
            let tasks: Vec<_> = row
                .tasks
                .iter()
                .map(|t| {
                    json!({
                        "task": t.task,
                        "metric": t.metric,
                        "chance": t.chance,
                        "validation": stat(&t.validation),
                        "test": stat(&t.test),
                    })
                })
                .collect();
            json!({"row": row.name, "chosen": row.chosen, "parameters": row.parameters, "tasks": tasks})
        })
        .collect();
    let runs: Vec<_> = records
        .iter()
        .map(|r| {
            json!({
                "row": r.row,
                "part": r.part,
                "seed": r.seed,
                "dir": r.outcome.dir,
                "parameters": r.outcome.parameters,
                "seconds": r.outcome.seconds,
            })
        })
        .collect();
    let value = json!({
        "experiment": header.experiment,
        "command": header.command,
        "polyvit_version": env!("CARGO_PKG_VERSION"),
        "seeds": header.seeds,
        "steps_per_task": header.steps_per_task,
        "seconds": header.seconds,
        "base_config": header.base_config,
        "rows": rows,
        "runs": runs,
    });
    let text = serde_json::to_string_pretty(&value).map_err(|e| e.to_string())?;
    write_whole(path, &text)
}

/// `results.svg`: one panel per task, one test mean ± std bar per row.
pub fn plot(path: &Path, rows: &[RowSummary], tasks: &[String]) -> Result<(), String> {
    let panels: Vec<IntervalPanel> = tasks
        .iter()
        .filter_map(|task| {
            let intervals: Vec<Interval> = rows
                .iter()
                .filter_map(|row| {
                    // A row that diverged has no interval to draw (the table says diverged).
                    let t = row.tasks.iter().find(|t| &t.task == task)?;
                    if !t.test.mean.is_finite() {
                        return None;
                    }
                    Some(Interval {
                        label: row.name.clone(),
                        mean: t.test.mean,
                        std: t.test.std,
                    })
                })
                .collect();
            if intervals.is_empty() {
                return None; // Every row diverged on this task.
            }
            let metric = rows
                .iter()
                .find_map(|r| r.tasks.iter().find(|t| &t.task == task))?
                .metric;
            Some(IntervalPanel {
                title: task.clone(),
                x_label: format!("test {metric} (mean ± std over seeds)"),
                rows: intervals,
            })
        })
        .collect();
    interval_charts(path, &panels, 2)
}

/// The table: one line per row, test `mean ± std` per task, and the parameter count.
pub fn table(rows: &[RowSummary], tasks: &[String]) -> String {
    let width = rows.iter().map(|r| r.name.len()).max().unwrap_or(0).max(3);
    let column = tasks.iter().map(|t| t.len()).max().unwrap_or(0).max(13);
    let mut text = format!("{:<width$}", "row");
    for task in tasks {
        write!(text, "  {task:>column$}").expect("writing to a String");
    }
    text.push_str("  parameters\n");
    for row in rows {
        write!(text, "{:<width$}", row.name).expect("writing to a String");
        for task in tasks {
            let cell = row
                .tasks
                .iter()
                .find(|t| &t.task == task)
                .map_or_else(|| "-".to_string(), |t| mean_std(&t.test));
            write!(text, "  {cell:>column$}").expect("writing to a String");
        }
        writeln!(text, "  {:>10}", row.parameters).expect("writing to a String");
        if let Some(chosen) = &row.chosen {
            writeln!(text, "{:<width$}  (chosen on validation: {chosen})", "")
                .expect("writing to a String");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_only_where_they_must_be() {
        assert_eq!(csv_field("runs/schedules/seed-0"), "runs/schedules/seed-0");
        assert_eq!(csv_field("exp/a,b/seed-0"), "\"exp/a,b/seed-0\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
    }
}
