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
    pub task: String,
    /// `top1` or `mAP`.
    pub metric: &'static str,
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

/// The task's metric on `split`, computed on `device`.
pub fn evaluate(
    model: &PolyVit,
    dataset: &Dataset,
    split: &Split,
    device: &Device,
) -> Result<TaskScore> {
    Ok(score(
        dataset,
        split,
        &logits(
            model,
            dataset,
            split,
            eval_batch_size(model, &dataset.name)?,
            device,
        )?,
    ))
}

/// The task's metric for `scores`, the `[n, classes]` logits of every row of `split`.
pub fn score(dataset: &Dataset, split: &Split, scores: &[f32]) -> TaskScore {
    score_of(dataset, split, Some(scores))
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
