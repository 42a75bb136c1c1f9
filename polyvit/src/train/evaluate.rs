//! Evaluating a model on a split: top-1 accuracy for single-label tasks, mAP for multi-label ones.

use super::batch::{batch_of, gather_targets, Batch, Result};
use super::metrics::{chance_mean_average_precision, mean_average_precision, top1_accuracy};
use crate::data::{Dataset, Labels, Split};
use crate::model::PolyVit;
use autograd::{no_grad, Var};
use nn::Context;
use rayon::prelude::*;
use std::ops::Range;
use tensor::Device;

/// One task's score on one split.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskScore {
    /// The task's name, as its configuration and the run's files write it.
    pub task: String,
    /// `top1` or `mAP`.
    pub metric: &'static str,
    /// The score, a fraction in `[0, 1]` (not a percentage); NaN for a run whose training
    /// diverged ([`diverged_score`]).
    pub value: f64,
    /// What an uninformed model scores: `1/classes` for accuracy, the positive rate for mAP.
    pub chance: f64,
}

/// The metrics a task is scored with: top-1 accuracy (single-label tasks) and mean average
/// precision (multi-label tasks), by the names the scores and the run's files carry.
pub const METRICS: [&str; 2] = [TOP1, MEAN_AVERAGE_PRECISION];
const TOP1: &str = "top1";
const MEAN_AVERAGE_PRECISION: &str = "mAP";

/// How many examples one evaluation forward pass takes at most.
pub const EVAL_BATCH: usize = 128;

/// The bytes of attention maps one evaluation forward pass may hold: 256 MiB.
const EVAL_ATTENTION_BUDGET: usize = 256 << 20;

/// How many examples of task `task` one evaluation forward pass takes: [`EVAL_BATCH`], or
/// fewer where their attention maps (a block's scores and their softmax, alive at once) would
/// pass 256 MiB, as they do for inputs cut into thousands of tokens; at least one. The logits
/// do not depend on it.
pub fn eval_batch_size(model: &PolyVit, task: &str) -> tensor::Result<usize> {
    let per_example = 2 * model.attention_scores_per_example(task)? * std::mem::size_of::<f32>();
    Ok((EVAL_ATTENTION_BUDGET / per_example).clamp(1, EVAL_BATCH))
}

/// Scores of every row of `split` as `[n, classes]` logits, computed in batches without a graph
/// on `device` (where the model lives).
pub fn logits(
    model: &PolyVit,
    dataset: &Dataset,
    split: &Split,
    batch_size: usize,
    device: &Device,
) -> Result<Vec<f32>> {
    logits_of_rows(model, dataset, split, 0..split.len(), batch_size, device)
}

/// Scores of rows `rows` of `split` as `[rows.len(), classes]` logits, like [`logits`]. On the
/// CPU as many batches go forward at once as there are compute threads, one per thread, so
/// each batch's kernels run whole on one core (as training's micro-batches do) rather than
/// waiting for each other between small kernels; a batch's logits do not depend on the thread
/// that computes them, so the scores do not change. A split that decodes its files is asked for
/// each group of batches one group ahead, so the next group decodes while the model scores this
/// one.
pub fn logits_of_rows(
    model: &PolyVit,
    dataset: &Dataset,
    split: &Split,
    rows: Range<usize>,
    batch_size: usize,
    device: &Device,
) -> Result<Vec<f32>> {
    let mut out = Vec::with_capacity(rows.len() * dataset.num_classes);
    let size = batch_size.max(1);
    let batch_at = |start: usize| (start..(start + size).min(rows.end)).collect::<Vec<usize>>();
    let starts: Vec<usize> = rows.clone().step_by(size).collect();
    let at_once = match device {
        Device::Cpu => rayon::current_num_threads().max(1),
        Device::OpenCl(_) => 1,
    };
    let groups: Vec<&[usize]> = starts.chunks(at_once).collect();
    let forward = |batch: Batch| -> Result<Vec<f32>> {
        let inputs = Var::constant(batch.inputs);
        let scores = no_grad(|| model.forward(&dataset.name, &inputs, 0.0, &mut Context::eval()))?;
        Ok(scores.value().to_vec::<f32>()?)
    };
    for (g, group) in groups.iter().enumerate() {
        let batches = group
            .iter()
            .map(|&start| batch_of(dataset, split, &batch_at(start), device))
            .collect::<Result<Vec<Batch>>>()?;
        for &start in groups.get(g + 1).copied().unwrap_or_default() {
            split.prefetch(&batch_at(start));
        }
        let scored: Vec<Result<Vec<f32>>> = if batches.len() > 1 {
            batches.into_par_iter().map(forward).collect()
        } else {
            batches.into_iter().map(forward).collect()
        };
        for scores in scored {
            out.extend(scores?);
        }
    }
    Ok(out)
}

/// The task's metric on `split` (named `split_name` in an error), computed on `device`.
pub fn evaluate(
    model: &PolyVit,
    dataset: &Dataset,
    split_name: &str,
    split: &Split,
    device: &Device,
) -> std::result::Result<TaskScore, String> {
    let batch_size = eval_batch_size(model, &dataset.name).map_err(|e| e.to_string())?;
    let logits = logits(model, dataset, split, batch_size, device).map_err(|e| e.to_string())?;
    score(dataset, split_name, split, &logits)
}

/// The task's metric for `scores`, the `[n, classes]` logits of every row of `split`. Logits
/// that are not all finite are refused, naming the task, the split (`split_name`), how many
/// examples have them and the first: a NaN would count as a vote for class 0 in top-1 and rank
/// above every number in mAP, and infinities tie, so no score of them would mean anything. A
/// multi-label split without a positive is refused too: its mAP is undefined.
pub fn score(
    dataset: &Dataset,
    split_name: &str,
    split: &Split,
    scores: &[f32],
) -> std::result::Result<TaskScore, String> {
    let classes = dataset.num_classes.max(1);
    let bad: Vec<usize> = (scores.chunks(classes).enumerate())
        .filter(|(_, row)| row.iter().any(|v| !v.is_finite()))
        .map(|(i, _)| i)
        .collect();
    if let Some(&first) = bad.first() {
        let value = scores[first * classes..][..classes]
            .iter()
            .find(|v| !v.is_finite())
            .expect("a row with a non-finite logit");
        return Err(format!(
            "task {}: the model's logits for {} of the {} {split_name} examples are not finite \
             numbers (the first: example {first}, a logit of {value}), so they cannot be scored; \
             the weights or the inputs hold values out of range",
            dataset.name,
            bad.len(),
            scores.len() / classes,
        ));
    }
    if let Labels::MultiHot(targets) = &split.labels {
        if !targets.iter().any(|&t| t > 0.5) {
            return Err(format!(
                "task {}: none of the {} {split_name} examples has a class, so there is no mAP to \
                 compute (it averages over the classes a split has positives of)",
                dataset.name,
                split.len()
            ));
        }
    }
    Ok(score_of(dataset, split, Some(scores)))
}

/// What a model whose training diverged scores on `split`: the task's metric and chance level,
/// with a NaN value.
pub fn diverged_score(dataset: &Dataset, split: &Split) -> TaskScore {
    score_of(dataset, split, None)
}

fn score_of(dataset: &Dataset, split: &Split, scores: Option<&[f32]>) -> TaskScore {
    let classes = dataset.num_classes;
    match &split.labels {
        Labels::Class(labels) => TaskScore {
            task: dataset.name.to_string(),
            metric: TOP1,
            value: scores.map_or(f64::NAN, |s| top1_accuracy(s, classes, labels)),
            chance: 1.0 / classes as f64,
        },
        Labels::MultiHot(_) => {
            let targets = gather_targets(split, classes, &(0..split.len()).collect::<Vec<_>>());
            TaskScore {
                task: dataset.name.to_string(),
                metric: MEAN_AVERAGE_PRECISION,
                value: scores.map_or(f64::NAN, |s| mean_average_precision(s, &targets, classes)),
                chance: chance_mean_average_precision(&targets, classes),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Modality, Standardization};

    /// A task of `n` one-value examples and 3 classes, labelled `0, 1, 2, 0, ...`, or
    /// multi-hot with class `i % 3` on.
    fn task(n: usize, multi_label: bool) -> Dataset {
        let labels = match multi_label {
            false => Labels::Class((0..n).map(|i| i % 3).collect()),
            true => Labels::MultiHot(
                (0..n * 3)
                    .map(|k| (k % 3 == (k / 3) % 3) as u8 as f32)
                    .collect(),
            ),
        };
        let split = Split::new(vec![0.0; n], labels, n, 3, "test").unwrap();
        let standardization = Standardization {
            mean: 0.0,
            std: 1.0,
        };
        let names = ["a", "b", "c"].map(String::from).to_vec();
        let splits = [split.clone(), split.clone(), split];
        Dataset::new(
            "toy",
            Modality::Image,
            vec![1, 1, 1],
            names,
            standardization,
            splits,
        )
    }

    /// Logits that put the largest value on each example's class (or its one positive).
    fn right_logits(n: usize) -> Vec<f32> {
        (0..n * 3)
            .map(|k| (k % 3 == (k / 3) % 3) as u8 as f32)
            .collect()
    }

    #[test]
    fn finite_logits_are_scored() {
        for multi_label in [false, true] {
            let d = task(6, multi_label);
            let s = score(&d, "validation", &d.validation, &right_logits(6)).unwrap();
            assert_eq!(s.value, 1.0, "multi-label {multi_label}");
        }
    }

    /// A NaN would be a vote for class 0 (top-1) or rank above every score (mAP), an infinity
    /// ties with another: each is refused, naming the task, the split and the first example.
    #[test]
    fn non_finite_logits_are_refused() {
        for multi_label in [false, true] {
            let d = task(6, multi_label);
            for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
                let mut logits = right_logits(6);
                logits[3 * 4 + 1] = bad;
                logits[3 * 5] = bad;
                let err = score(&d, "test", &d.test, &logits).unwrap_err();
                assert!(
                    err.contains("task toy")
                        && err.contains("2 of the 6 test examples")
                        && err.contains(&format!("example 4, a logit of {bad}")),
                    "{err}"
                );
            }
        }
    }

    /// A multi-label split without a positive has no mAP: refused, not scored 0.
    #[test]
    fn a_split_without_positives_is_not_scored() {
        let negatives = Labels::MultiHot(vec![0.0; 4 * 3]);
        let split = Split::new(vec![0.0; 4], negatives, 4, 3, "toy").unwrap();
        let d = task(4, true);
        let err = score(&d, "validation", &split, &right_logits(4)).unwrap_err();
        assert!(
            err.contains("task toy: none of the 4 validation examples has a class"),
            "{err}"
        );
    }
}
