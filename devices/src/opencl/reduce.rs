//! Launch glue for the reductions: a fold over sorted axes and arg-max / arg-min along one axis.

use super::launch::{group_size, loop_count, strided1, uint, Launch};
use super::pool::ClBuffer;
use super::runtime::Runtime;
use super::source::{ProgramSource, ARG_REDUCE, REDUCE};
use crate::ops::{ArgKind, ReduceOp};
use crate::{Element, Layout, Result};
use std::sync::Arc;

/// Folds `Op` over `axes`: output `g` (row-major over the kept axes) is the fold of the
/// `count = Π_{a ∈ axes} shape[a]` elements at `kept(g) + reduced(j)`, with the two views from
/// [`Layout::split_reduced`]. One work-group per output; its size (1, 32 or 256 items) follows
/// `count`, so a fold over a size-1 axis does not idle a whole group.
pub(crate) fn reduce<T: Element, Op: ReduceOp>(
    rt: &Arc<Runtime>,
    x: &ClBuffer<T>,
    layout: &Layout,
    axes: &[usize],
) -> Result<ClBuffer<T>> {
    let (kept, reduced) = layout.split_reduced(axes);
    let outputs = kept.numel();
    let count = reduced.numel();
    let out = ClBuffer::new(rt, outputs)?;
    if outputs == 0 {
        return Ok(out);
    }
    let entry = rt.kernel(&ProgramSource::reduce::<Op>(REDUCE, T::DTYPE), "reduce")?;
    let want = match count {
        0 | 1 => 1,
        2..=32 => 32,
        _ => 256,
    };
    let group = group_size(&entry, want);
    Launch::new(rt, &entry)
        .buffer(x)?
        .arg(&strided1(&kept)?)?
        .arg(&strided1(&reduced)?)?
        .arg(&loop_count("the reduced count", count)?)?
        .buffer(&out)?
        .local::<T>(group)?
        .run(&[outputs * group], &[group])?;
    Ok(out)
}

/// The first index of the extreme along `axis` (not empty), stored as `T`; one work item per
/// output scans the axis in order.
pub(crate) fn arg_reduce<T: Element>(
    rt: &Arc<Runtime>,
    x: &ClBuffer<T>,
    layout: &Layout,
    axis: usize,
    kind: ArgKind,
) -> Result<ClBuffer<T>> {
    let (kept, _) = layout.split_reduced(&[axis]);
    let outputs = kept.numel();
    let out = ClBuffer::new(rt, outputs)?;
    if outputs == 0 {
        return Ok(out);
    }
    let len = layout.shape()[axis];
    let stride = layout.walk_stride(axis);
    let entry = rt.kernel(
        &ProgramSource::plain(ARG_REDUCE, T::DTYPE, ""),
        "arg_reduce",
    )?;
    Launch::new(rt, &entry)
        .buffer(x)?
        .arg(&strided1(&kept)?)?
        .arg(&uint("an axis size", len)?)?
        .arg(&uint("a stride", stride)?)?
        .arg(&i32::from(kind == ArgKind::Max))?
        .buffer(&out)?
        .arg(&uint("the output count", outputs)?)?
        .run_1d(outputs)?;
    Ok(out)
}
