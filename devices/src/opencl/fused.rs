//! Launch glue for the fused row kernels: softmax / log-softmax and layer norm forward and
//! backward (one work-group per row, partial sums combined in local memory).

use super::launch::{group_size, uint, Launch};
use super::pool::ClBuffer;
use super::runtime::Runtime;
use super::source::{ProgramSource, LAYER_NORM, SOFTMAX};
use crate::backend::{LayerNormGrads, LayerNormOutput};
use crate::{checked_numel, Element, Result};
use std::sync::Arc;

/// Items per row group: rows shorter than this leave some idle, which is cheap.
const ROW_GROUP: usize = 256;

/// Softmax (or log-softmax) of each row of the contiguous `[rows, n]` input times `scale`, shifted
/// by the row maximum (by 0 when that is not finite, as on the CPU).
pub(crate) fn softmax_last<T: Element>(
    rt: &Arc<Runtime>,
    x: &ClBuffer<T>,
    rows: usize,
    n: usize,
    scale: f64,
    log: bool,
) -> Result<ClBuffer<T>> {
    let out = ClBuffer::new(rt, checked_numel("softmax", &[rows, n])?)?;
    if rows == 0 || n == 0 {
        return Ok(out);
    }
    let entry = rt.kernel(&ProgramSource::plain(SOFTMAX, T::DTYPE, ""), "softmax")?;
    let group = group_size(&entry, ROW_GROUP);
    Launch::new(rt, &entry)
        .buffer(x)?
        .buffer(&out)?
        .arg(&uint("a row length", n)?)?
        .scalar(T::from_f64(scale))?
        .arg(&i32::from(log))?
        .local::<T>(group)?
        .run(&[rows * group], &[group])?;
    Ok(out)
}

/// The backward pass of [`softmax_last`] from its output `y` and the upstream gradient `g`.
pub(crate) fn softmax_last_backward<T: Element>(
    rt: &Arc<Runtime>,
    y: &ClBuffer<T>,
    g: &ClBuffer<T>,
    rows: usize,
    n: usize,
    scale: f64,
    log: bool,
) -> Result<ClBuffer<T>> {
    let op = if log {
        "log_softmax_backward"
    } else {
        "softmax_backward"
    };
    let dx = ClBuffer::new(rt, checked_numel(op, &[rows, n])?)?;
    if rows == 0 || n == 0 {
        return Ok(dx);
    }
    let entry = rt.kernel(
        &ProgramSource::plain(SOFTMAX, T::DTYPE, ""),
        "softmax_backward",
    )?;
    let group = group_size(&entry, ROW_GROUP);
    Launch::new(rt, &entry)
        .buffer(y)?
        .buffer(g)?
        .buffer(&dx)?
        .arg(&uint("a row length", n)?)?
        .scalar(T::from_f64(scale))?
        .arg(&i32::from(log))?
        .local::<T>(group)?
        .run(&[rows * group], &[group])?;
    Ok(dx)
}

/// Layer norm forward of the contiguous `[rows, d]` input: `y`, per-row `mean` and `rstd`.
pub(crate) fn layer_norm<T: Element>(
    rt: &Arc<Runtime>,
    x: &ClBuffer<T>,
    gamma: &ClBuffer<T>,
    beta: &ClBuffer<T>,
    rows: usize,
    d: usize,
    eps: f64,
) -> Result<LayerNormOutput<ClBuffer<T>>> {
    let y = ClBuffer::new(rt, checked_numel("layer_norm", &[rows, d])?)?;
    let mean = ClBuffer::new(rt, rows)?;
    let rstd = ClBuffer::new(rt, rows)?;
    if rows > 0 {
        let entry = rt.kernel(
            &ProgramSource::plain(LAYER_NORM, T::DTYPE, ""),
            "layer_norm",
        )?;
        let group = group_size(&entry, ROW_GROUP);
        Launch::new(rt, &entry)
            .buffer(x)?
            .buffer(gamma)?
            .buffer(beta)?
            .arg(&uint("a row length", d)?)?
            .scalar(T::from_f64(1.0 / d.max(1) as f64))?
            .scalar(T::from_f64(eps))?
            .buffer(&y)?
            .buffer(&mean)?
            .buffer(&rstd)?
            .local::<T>(group)?
            .run(&[rows * group], &[group])?;
    }
    Ok(LayerNormOutput { y, mean, rstd })
}

/// Layer norm backward: `dx` by one work-group per row, then `dγ`, `dβ` in two stages: partial
/// column sums over chunks of rows, one item per chunk and column, then the chunks summed in
/// order (deterministic, no atomics).
#[allow(clippy::too_many_arguments)]
pub(crate) fn layer_norm_backward<T: Element>(
    rt: &Arc<Runtime>,
    dy: &ClBuffer<T>,
    x: &ClBuffer<T>,
    mean: &ClBuffer<T>,
    rstd: &ClBuffer<T>,
    gamma: &ClBuffer<T>,
    rows: usize,
    d: usize,
) -> Result<LayerNormGrads<ClBuffer<T>>> {
    let dx = ClBuffer::new(rt, checked_numel("layer_norm_backward", &[rows, d])?)?;
    let dgamma = ClBuffer::new(rt, d)?;
    let dbeta = ClBuffer::new(rt, d)?;
    if d == 0 {
        return Ok(LayerNormGrads { dx, dgamma, dbeta });
    }
    let source = ProgramSource::plain(LAYER_NORM, T::DTYPE, "");
    if rows > 0 {
        let entry = rt.kernel(&source, "layer_norm_dx")?;
        let group = group_size(&entry, ROW_GROUP);
        Launch::new(rt, &entry)
            .buffer(dy)?
            .buffer(x)?
            .buffer(mean)?
            .buffer(rstd)?
            .buffer(gamma)?
            .arg(&uint("a row length", d)?)?
            .scalar(T::from_f64(1.0 / d as f64))?
            .buffer(&dx)?
            .local::<T>(group)?
            .run(&[rows * group], &[group])?;
    }
    // dγ and dβ: the rows cut into chunks of about √rows, each summed per column by its own
    // item, then the chunks' partial sums added in order, so both serial loops are about √rows
    // long and every run sums in the same order.
    let chunk = rows.isqrt().max(1);
    let chunks = rows.div_ceil(chunk);
    let partial_g = ClBuffer::<T>::new(rt, chunks * d)?;
    let partial_b = ClBuffer::<T>::new(rt, chunks * d)?;
    if chunks > 0 {
        let entry = rt.kernel(&source, "layer_norm_columns")?;
        Launch::new(rt, &entry)
            .buffer(dy)?
            .buffer(x)?
            .buffer(mean)?
            .buffer(rstd)?
            .arg(&uint("the row count", rows)?)?
            .arg(&uint("a row length", d)?)?
            .arg(&uint("the rows per chunk", chunk)?)?
            .arg(&uint("the chunk count", chunks)?)?
            .buffer(&partial_g)?
            .buffer(&partial_b)?
            .run_1d(chunks * d)?;
    }
    let entry = rt.kernel(&source, "layer_norm_columns_sum")?;
    Launch::new(rt, &entry)
        .buffer(&partial_g)?
        .buffer(&partial_b)?
        .arg(&uint("a row length", d)?)?
        .arg(&uint("the chunk count", chunks)?)?
        .buffer(&dgamma)?
        .buffer(&dbeta)?
        .run_1d(d)?;
    Ok(LayerNormGrads { dx, dgamma, dbeta })
}
