//! Picking entries along an axis, by one index list for every column (`index_select`) or by one
//! index per position (`gather`), and their adjoints, the scatter-adds.

use super::CpuBuffer;
use crate::{Element, Layout, Result, Walk};

/// `y[o, j, r] = x[o, indices[j], r]` with `o` the axes before `axis` and `r` those after: for
/// each `o`, one row of `r` per index, copied whole where the row is contiguous in `x`.
pub fn index_select<T: Element>(
    x: &[T],
    layout: &Layout,
    axis: usize,
    indices: &[u32],
) -> Result<CpuBuffer<T>> {
    let (rest, axis_stride) = layout.without_axis(axis)?;
    let inner: usize = layout.shape()[axis + 1..].iter().product();
    let mut out =
        CpuBuffer::try_for_overwrite("index_select", rest.numel().saturating_mul(indices.len()))?;
    if out.is_empty() {
        return Ok(out);
    }
    let columns = offsets("index_select", &rest)?;
    let mut rows = out.chunks_exact_mut(inner);
    for row in columns.chunks_exact(inner) {
        let contiguous = row.windows(2).all(|w| w[1] == w[0] + 1);
        for (&index, y) in indices.iter().zip(&mut rows) {
            let base = index as usize * axis_stride;
            if contiguous {
                y.copy_from_slice(&x[base + row[0]..base + row[0] + inner]);
            } else {
                for (y, &at) in y.iter_mut().zip(row) {
                    *y = x[base + at];
                }
            }
        }
    }
    Ok(out)
}

/// `dst[o, indices[j], r] += src[o, j, r]` along `axis` of the contiguous `dst`, for `j` in
/// order.
pub fn index_add<T: Element>(
    dst: &mut [T],
    dst_shape: &[usize],
    axis: usize,
    indices: &[u32],
    src: &[T],
    src_layout: &Layout,
) -> Result<()> {
    let (rest, src_stride) = src_layout.without_axis(axis)?;
    let size = dst_shape[axis];
    let inner: usize = dst_shape[axis + 1..].iter().product();
    if rest.numel() == 0 || indices.is_empty() {
        return Ok(());
    }
    let columns = offsets("index_add", &rest)?;
    for (outer, row) in columns.chunks_exact(inner).enumerate() {
        let contiguous = row.windows(2).all(|w| w[1] == w[0] + 1);
        for (j, &index) in indices.iter().enumerate() {
            let to = (outer * size + index as usize) * inner;
            let dst = &mut dst[to..to + inner];
            if contiguous {
                let from = j * src_stride + row[0];
                for (d, &s) in dst.iter_mut().zip(&src[from..from + inner]) {
                    *d = *d + s;
                }
            } else {
                for (d, &at) in dst.iter_mut().zip(row) {
                    *d = *d + src[j * src_stride + at];
                }
            }
        }
    }
    Ok(())
}

/// The buffer index of every element of `layout`, in row-major order; allocated fallibly, since
/// a broadcast view may hold more elements than the host can list ([`crate::Error::OutOfMemory`]
/// for `op`).
fn offsets(op: &'static str, layout: &Layout) -> Result<Vec<usize>> {
    let walk = Walk::new([layout]);
    let [stride] = walk.inner_strides();
    let mut out = crate::host_memory::vec_with_capacity(op, layout.numel())?;
    walk.runs(0..layout.numel(), |_, len, [start]| {
        out.extend((0..len).map(|i| start + i * stride))
    });
    Ok(out)
}

/// `y[o, j, r] = x[o, index[o, j, r], r]` with `o` the axes before `axis` and `r` those after;
/// `layout`'s `axis` is the one indexed, and `index` has `count` entries along it.
pub fn gather<T: Element>(
    x: &[T],
    layout: &Layout,
    axis: usize,
    index: &[u32],
    count: usize,
) -> Result<CpuBuffer<T>> {
    let (rest, axis_stride) = layout.without_axis(axis)?;
    let inner: usize = layout.shape()[axis + 1..].iter().product();
    let mut out = CpuBuffer::try_for_overwrite("gather", index.len())?;
    if out.is_empty() {
        return Ok(out);
    }
    let columns = offsets("gather", &rest)?;
    // Output rows of `r` (and their indices) in order: `count` of them for each `o`.
    let mut rows = out.chunks_exact_mut(inner).zip(index.chunks_exact(inner));
    for row in columns.chunks_exact(inner) {
        for (y, at) in (&mut rows).take(count) {
            for ((y, &at), &column) in y.iter_mut().zip(at).zip(row) {
                *y = x[column + at as usize * axis_stride];
            }
        }
    }
    Ok(out)
}

/// `dst[o, index[o, j, r], r] += src[o, j, r]` through `dst_layout`, for `j` in order.
pub fn scatter_add<T: Element>(
    dst: &mut [T],
    dst_layout: &Layout,
    axis: usize,
    index: &[u32],
    src: &[T],
    src_layout: &Layout,
) -> Result<()> {
    let (dst_rest, dst_stride) = dst_layout.without_axis(axis)?;
    let (src_rest, src_stride) = src_layout.without_axis(axis)?;
    let count = src_layout.shape()[axis];
    let inner: usize = src_layout.shape()[axis + 1..].iter().product();
    if index.is_empty() {
        return Ok(());
    }
    let dst_columns = offsets("scatter_add", &dst_rest)?;
    let src_columns = offsets("scatter_add", &src_rest)?;
    let mut rows = index.chunks_exact(inner);
    let by_outer = dst_columns
        .chunks_exact(inner)
        .zip(src_columns.chunks_exact(inner));
    for (to_row, from_row) in by_outer {
        for (j, at) in (&mut rows).take(count).enumerate() {
            for ((&at, &to), &from) in at.iter().zip(to_row).zip(from_row) {
                let to = to + at as usize * dst_stride;
                dst[to] = dst[to] + src[from + j * src_stride];
            }
        }
    }
    Ok(())
}
