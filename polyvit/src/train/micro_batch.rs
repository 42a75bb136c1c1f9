//! One task's forward and backward pass within a training step, in micro-batches.
//!
//! A task's batch (this rank's rows of it) is cut into `micro_batches` consecutive parts of
//! nearly equal size; each part goes forward and backward on its own, with its loss weighted
//! by its share of the whole batch, and the parts' gradients are summed in order. That is the
//! gradient of the whole batch's mean loss, up to rounding: the same update, summed in another
//! order. On the CPU the parts run at once, one per thread, which on the small models of the
//! default run beats splitting each kernel over the threads: each part's kernels run whole on
//! one core, without waiting for the other between kernels. On an OpenCL device they run one
//! after another (the device already runs each kernel in parallel). Running them at once
//! changes no number: each part's masks are drawn as if it ran alone, and the parts' results
//! are summed in order.

use super::batch::Batch;
use super::collective::shard;
use super::config::TaskConfig;
use super::loss::LossKind;
use crate::model::PolyVit;
use autograd::{Gradients, Var};
use nn::{BatchRows, Context};
use rayon::prelude::*;
use std::ops::Range;
use tensor::{Result, Rng, Tensor};

/// What one task's pass reads: the model, the task and its loss.
pub struct TaskPass<'a> {
    /// The model the gradients are of; the pass only reads it.
    pub model: &'a PolyVit,
    /// The task's name in the model (its tokenizer and head).
    pub name: &'a str,
    /// The task's settings: the pass uses its stochastic-depth rate and label smoothing.
    pub config: &'a TaskConfig,
    /// The loss the task's logits are scored with against the batch's targets.
    pub loss: LossKind,
}

/// The summed loss and gradients of one task's pass.
pub struct TaskGradients {
    /// This rank's share of the whole batch's mean loss (the mean loss itself in one process).
    pub loss: f64,
    /// The gradients of that loss, summed over the micro-batches in order (each part's loss
    /// weighted by its share of the whole batch).
    pub gradients: Gradients,
}

impl TaskPass<'_> {
    /// The loss and gradients of `batch`, which holds rows `rows` of a batch of `drawn`
    /// examples, computed in `micro_batches` parts (fewer when there are fewer rows), at once
    /// when `parallel`. `ctx`'s generator draws the dropout and stochastic-depth masks of the
    /// whole batch for every part (each keeps its rows), so the masks do not depend on the split;
    /// it is left where one such draw leaves it.
    pub fn gradients(
        &self,
        batch: &Batch,
        rows: Range<usize>,
        drawn: usize,
        micro_batches: usize,
        parallel: bool,
        ctx: &mut Context,
    ) -> Result<TaskGradients> {
        let count = micro_batches.clamp(1, rows.len().max(1));
        let parts: Vec<Range<usize>> = (0..count).map(|i| shard(rows.len(), i, count)).collect();
        let pass = |part: &Range<usize>| {
            let whole_rows = rows.start + part.start..rows.start + part.end;
            self.part(batch, part.clone(), whole_rows, drawn, ctx.rng.clone())
        };
        let results: Vec<Result<(Tensor, Gradients, Rng)>> = if parallel && count > 1 {
            parts.par_iter().map(pass).collect()
        } else {
            parts.iter().map(pass).collect()
        };
        let mut gradients = Gradients::default();
        let mut loss: Option<Tensor> = None;
        for result in results {
            let (part_loss, part_gradients, rng) = result?;
            ctx.rng = rng;
            gradients.accumulate(part_gradients)?;
            loss = Some(match loss {
                Some(sum) => sum.add(&part_loss)?,
                None => part_loss,
            });
        }
        let loss = loss.expect("at least one part: `count` is at least 1");
        // One read of the summed loss (a download on a device), not one per part.
        let loss = loss.to_scalar()?;
        Ok(TaskGradients { loss, gradients })
    }

    /// Forward and backward over rows `part` of `batch`, rows `whole_rows` of the whole batch of
    /// `drawn`, with the loss weighted by the part's share of it: its loss (still on the
    /// device), its gradients and where the masks' generator `rng` ended.
    fn part(
        &self,
        batch: &Batch,
        part: Range<usize>,
        whole_rows: Range<usize>,
        drawn: usize,
        rng: Rng,
    ) -> Result<(Tensor, Gradients, Rng)> {
        let share = part.len() as f64 / drawn as f64;
        let mut ctx = Context {
            train: true,
            rng,
            batch_rows: Some(BatchRows {
                rows: whole_rows,
                batch: drawn,
            }),
        };
        let inputs = batch.inputs.narrow(0, part.start, part.len())?;
        let targets = batch.targets.narrow(0, part.start, part.len())?;
        let logits = self.model.forward(
            self.name,
            &Var::constant(inputs),
            self.config.stochastic_depth,
            &mut ctx,
        )?;
        let loss = self
            .loss
            .loss(&logits, &targets, self.config.label_smoothing)?;
        let loss = if share == 1.0 {
            loss
        } else {
            loss.mul_scalar(share)?
        };
        Ok((loss.value().clone(), loss.backward()?, ctx.rng))
    }
}
