//! Launch glue for the element-wise kernels (unary, binary, scalar, strided copy) and the
//! gathers and scatters along an axis.

use super::launch::{fits, strided, strided1, uint, Launch};
use super::pool::ClBuffer;
use super::runtime::Runtime;
use super::source::{ProgramSource, BINARY, COPY, INDEX, UNARY};
use crate::ops::{BinaryOp, UnaryOp};
use crate::{checked_numel, Element, Layout, Result};
use std::sync::Arc;

/// `y[i] = Op(x[layout(i)])`, contiguous output.
pub(crate) fn unary<T: Element, Op: UnaryOp>(
    rt: &Arc<Runtime>,
    x: &ClBuffer<T>,
    layout: &Layout,
) -> Result<ClBuffer<T>> {
    let n = layout.numel();
    let out = ClBuffer::new(rt, n)?;
    if n == 0 {
        return Ok(out);
    }
    let entry = rt.kernel(&ProgramSource::unary::<Op>(UNARY, T::DTYPE), "unary")?;
    Launch::new(rt, &entry)
        .buffer(x)?
        .arg(&strided1(layout)?)?
        .buffer(&out)?
        .arg(&uint("the element count", n)?)?
        .run_1d(n)?;
    Ok(out)
}

/// `y[i] = Op(a[a_layout(i)], b[b_layout(i)])`, contiguous output.
pub(crate) fn binary<T: Element, Op: BinaryOp>(
    rt: &Arc<Runtime>,
    a: &ClBuffer<T>,
    a_layout: &Layout,
    b: &ClBuffer<T>,
    b_layout: &Layout,
) -> Result<ClBuffer<T>> {
    let n = a_layout.numel();
    let out = ClBuffer::new(rt, n)?;
    if n == 0 {
        return Ok(out);
    }
    let [av, bv] = strided([a_layout, b_layout])?;
    let entry = rt.kernel(&ProgramSource::binary::<Op>(BINARY, T::DTYPE), "binary")?;
    Launch::new(rt, &entry)
        .buffer(a)?
        .arg(&av)?
        .buffer(b)?
        .arg(&bv)?
        .buffer(&out)?
        .arg(&uint("the element count", n)?)?
        .run_1d(n)?;
    Ok(out)
}

/// `y[i] = Op(x[layout(i)], value)` with `value` a kernel argument; contiguous output.
pub(crate) fn binary_scalar<T: Element, Op: BinaryOp>(
    rt: &Arc<Runtime>,
    x: &ClBuffer<T>,
    layout: &Layout,
    value: T,
) -> Result<ClBuffer<T>> {
    let n = layout.numel();
    let out = ClBuffer::new(rt, n)?;
    if n == 0 {
        return Ok(out);
    }
    let entry = rt.kernel(
        &ProgramSource::binary::<Op>(BINARY, T::DTYPE),
        "binary_scalar",
    )?;
    Launch::new(rt, &entry)
        .buffer(x)?
        .arg(&strided1(layout)?)?
        .scalar(value)?
        .buffer(&out)?
        .arg(&uint("the element count", n)?)?
        .run_1d(n)?;
    Ok(out)
}

/// `dst[dst_layout(i)] = src[src_layout(i)]`. Views with more axes than a kernel takes, once
/// merged, are copied one index of their first axis at a time (each a view of one axis fewer),
/// so a copy takes views of any rank: it is how every other op reads such a view (`dense`).
pub(crate) fn copy_into<T: Element>(
    rt: &Arc<Runtime>,
    src: &ClBuffer<T>,
    src_layout: &Layout,
    dst: &mut ClBuffer<T>,
    dst_layout: &Layout,
) -> Result<()> {
    let n = src_layout.numel();
    if n == 0 {
        return Ok(());
    }
    if !fits([src_layout, dst_layout]) {
        let entry = |l: &Layout, i: usize| l.narrow(0, i, 1)?.squeeze(0);
        for i in 0..src_layout.shape()[0] {
            copy_into(rt, src, &entry(src_layout, i)?, dst, &entry(dst_layout, i)?)?;
        }
        return Ok(());
    }
    let [sv, dv] = strided([src_layout, dst_layout])?;
    let entry = rt.kernel(&ProgramSource::plain(COPY, T::DTYPE, ""), "copy")?;
    Launch::new(rt, &entry)
        .buffer(src)?
        .arg(&sv)?
        .buffer(dst)?
        .arg(&dv)?
        .arg(&uint("the element count", n)?)?
        .run_1d(n)?;
    Ok(())
}

/// `x` seen through `layout`, copied into a contiguous buffer.
pub(crate) fn dense<T: Element>(
    rt: &Arc<Runtime>,
    x: &ClBuffer<T>,
    layout: &Layout,
) -> Result<ClBuffer<T>> {
    let mut out = ClBuffer::new(rt, layout.numel())?;
    copy_into(rt, x, layout, &mut out, &Layout::contiguous(layout.shape()))?;
    Ok(out)
}

/// What an index picks along an axis: an entry for every column (`index_select`: `indices[j]`
/// for all `o`, `r`), or one per position (`gather`: `indices[o, j, r]`). Both kernels take the
/// same arguments.
#[derive(Clone, Copy)]
pub(crate) enum Pick {
    IndexSelect,
    Gather,
}

/// `y[o, j, r] = x[o, indices[j], r]` (or `x[o, indices[o, j, r], r]` for [`Pick::Gather`]) with
/// `o` the axes before `axis`, `r` those after and `count` entries along `axis`; one work item
/// per output.
pub(crate) fn pick<T: Element>(
    rt: &Arc<Runtime>,
    kind: Pick,
    x: &ClBuffer<T>,
    layout: &Layout,
    axis: usize,
    indices: &ClBuffer<u32>,
    count: usize,
) -> Result<ClBuffer<T>> {
    let inner: usize = layout.shape()[axis + 1..].iter().product();
    let mut out_shape = layout.shape().to_vec();
    out_shape[axis] = count;
    let (name, n) = match kind {
        Pick::IndexSelect => ("index_select", checked_numel("index_select", &out_shape)?),
        Pick::Gather => ("gather", indices.len()),
    };
    let out = ClBuffer::new(rt, n)?;
    if n == 0 {
        return Ok(out);
    }
    let (rest, axis_stride) = layout.without_axis(axis)?;
    let entry = rt.kernel(&ProgramSource::plain(INDEX, T::DTYPE, ""), name)?;
    Launch::new(rt, &entry)
        .buffer(x)?
        .arg(&strided1(&rest)?)?
        .arg(&uint("a stride", axis_stride)?)?
        .buffer(indices)?
        .arg(&uint("the index count", count)?)?
        .arg(&uint("an inner size", inner)?)?
        .buffer(&out)?
        .arg(&uint("the element count", n)?)?
        .run_1d(n)?;
    Ok(out)
}

/// `dst[o, indices[j], r] += src[o, j, r]`, one work item per `(o, r)` column looping over `j` in
/// order (deterministic, no atomics).
pub(crate) fn index_add<T: Element>(
    rt: &Arc<Runtime>,
    dst: &mut ClBuffer<T>,
    dst_shape: &[usize],
    axis: usize,
    indices: &ClBuffer<u32>,
    src: &ClBuffer<T>,
    src_layout: &Layout,
) -> Result<()> {
    let count = indices.len();
    let size = dst_shape[axis];
    let inner: usize = dst_shape[axis + 1..].iter().product();
    let columns = dst_shape[..axis].iter().product::<usize>() * inner;
    if columns == 0 || count == 0 {
        return Ok(());
    }
    let (rest, axis_stride) = src_layout.without_axis(axis)?;
    let entry = rt.kernel(&ProgramSource::plain(INDEX, T::DTYPE, ""), "index_add")?;
    Launch::new(rt, &entry)
        .buffer(dst)?
        .arg(&uint("an axis size", size)?)?
        .arg(&uint("an inner size", inner)?)?
        .buffer(indices)?
        .arg(&uint("the index count", count)?)?
        .buffer(src)?
        .arg(&strided1(&rest)?)?
        .arg(&uint("a stride", axis_stride)?)?
        .arg(&uint("the column count", columns)?)?
        .run_1d(columns)?;
    Ok(())
}

/// `dst[o, index[o, j, r], r] += src[o, j, r]` through `dst_layout`, one work item per `(o, r)`
/// column looping over `j` in order (deterministic, no atomics).
pub(crate) fn scatter_add<T: Element>(
    rt: &Arc<Runtime>,
    dst: &mut ClBuffer<T>,
    dst_layout: &Layout,
    axis: usize,
    index: &ClBuffer<u32>,
    src: &ClBuffer<T>,
    src_layout: &Layout,
) -> Result<()> {
    let count = src_layout.shape()[axis];
    let inner: usize = src_layout.shape()[axis + 1..].iter().product();
    let columns = src_layout.shape()[..axis].iter().product::<usize>() * inner;
    if columns == 0 || count == 0 {
        return Ok(());
    }
    let (dst_rest, dst_stride) = dst_layout.without_axis(axis)?;
    let (src_rest, src_stride) = src_layout.without_axis(axis)?;
    let entry = rt.kernel(&ProgramSource::plain(INDEX, T::DTYPE, ""), "scatter_add")?;
    Launch::new(rt, &entry)
        .buffer(dst)?
        .arg(&strided1(&dst_rest)?)?
        .arg(&uint("a stride", dst_stride)?)?
        .buffer(index)?
        .arg(&uint("the index count", count)?)?
        .arg(&uint("an inner size", inner)?)?
        .buffer(src)?
        .arg(&strided1(&src_rest)?)?
        .arg(&uint("a stride", src_stride)?)?
        .arg(&uint("the column count", columns)?)?
        .run_1d(columns)?;
    Ok(())
}
