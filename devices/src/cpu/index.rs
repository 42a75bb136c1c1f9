//! Gathering entries along an axis, and its adjoint, scatter-add.

use super::map::combine_into;
use super::CpuBuffer;
use crate::{Element, Layout, Result};

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
