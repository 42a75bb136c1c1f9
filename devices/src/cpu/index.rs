//! Picking entries along an axis, by one index list for every column (`index_select`) or by one
//! index per position (`gather`), and their adjoints, the scatter-adds.

use super::map::combine_into;
use super::CpuBuffer;
use crate::{Element, Layout, Result, Walk};

/// `y[.., j, ..] = x[.., indices[j], ..]` along `axis`.
pub fn index_select<T: Element>(
    x: &[T],
    layout: &Layout,
    axis: usize,
    indices: &[u32],
) -> Result<CpuBuffer<T>> {
    let mut out_shape = layout.shape().to_vec();
    out_shape[axis] = indices.len();
    let out_layout = Layout::contiguous(&out_shape);
    let mut out = CpuBuffer::try_for_overwrite("index_select", out_layout.numel())?;
    for (j, &index) in indices.iter().enumerate() {
        let src = layout
            .narrow(axis, index as usize, 1)
            .expect("indices are checked by the caller");
        let dst = out_layout.narrow(axis, j, 1).expect("j is in range");
        combine_into(x, &src, &mut out, &dst, |_, s| s);
    }
    Ok(out)
}

/// `dst[.., indices[j], ..] += src[.., j, ..]` along `axis` of the contiguous `dst`.
pub fn index_add<T: Element>(
    dst: &mut [T],
    dst_shape: &[usize],
    axis: usize,
    indices: &[u32],
    src: &[T],
    src_layout: &Layout,
) {
    let dst_layout = Layout::contiguous(dst_shape);
    for (j, &index) in indices.iter().enumerate() {
        let from = src_layout.narrow(axis, j, 1).expect("j is in range");
        let to = dst_layout
            .narrow(axis, index as usize, 1)
            .expect("indices are checked by the caller");
        combine_into(src, &from, dst, &to, |d, s| d + s);
    }
}

/// The buffer index of every element of `layout`, in row-major order.
fn offsets(layout: &Layout) -> Vec<usize> {
    let walk = Walk::new([layout]);
    let [stride] = walk.inner_strides();
    let mut out = Vec::with_capacity(layout.numel());
    walk.runs(0..layout.numel(), |_, len, [start]| {
        out.extend((0..len).map(|i| start + i * stride))
    });
    out
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
    let columns = offsets(&rest);
    let inner: usize = layout.shape()[axis + 1..].iter().product();
    let mut out = CpuBuffer::try_for_overwrite("gather", index.len())?;
    for (i, (y, &at)) in out.iter_mut().zip(index).enumerate() {
        let column = i / (count * inner) * inner + i % inner;
        *y = x[columns[column] + at as usize * axis_stride];
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
    let (dst_columns, src_columns) = (offsets(&dst_rest), offsets(&src_rest));
    let count = src_layout.shape()[axis];
    let inner: usize = src_layout.shape()[axis + 1..].iter().product();
    for (i, &at) in index.iter().enumerate() {
        let (j, column) = (i / inner % count, i / (count * inner) * inner + i % inner);
        let to = dst_columns[column] + at as usize * dst_stride;
        dst[to] = dst[to] + src[src_columns[column] + j * src_stride];
    }
    Ok(())
}
