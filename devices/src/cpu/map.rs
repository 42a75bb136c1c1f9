//! Element-wise kernels: unary maps, broadcasting binary maps and strided copies.

use super::isa::per_isa;
use super::parallel::for_each_chunk;
use super::CpuBuffer;
use crate::ops::{BinaryOp, UnaryOp};
use crate::{Element, Layout, Result, Walk};

per_isa! {
    /// `dst[i] = Op(src[i·stride])`.
    pub(crate) fn map_run<T: Element, Op: UnaryOp>(dst: &mut [T], src: &[T], stride: usize) {
        if stride == 1 {
            for (d, &s) in dst.iter_mut().zip(src) {
                *d = Op::apply(s);
            }
        } else {
            for (i, d) in dst.iter_mut().enumerate() {
                *d = Op::apply(src[i * stride]);
            }
        }
    }
}

per_isa! {
    /// `dst[i] = Op(a[i·sa], b[i·sb])`, with the inner loop specialized for the common stride
    /// patterns (dense, and either side broadcast) so it vectorizes.
    pub(crate) fn zip_run<T: Element, Op: BinaryOp>(
        dst: &mut [T],
        a: &[T],
        sa: usize,
        b: &[T],
        sb: usize,
    ) {
        let len = dst.len();
        match (sa, sb) {
            (1, 1) => {
                for ((d, &x), &y) in dst.iter_mut().zip(&a[..len]).zip(&b[..len]) {
                    *d = Op::apply(x, y);
                }
            }
            (1, 0) => {
                let y = b[0];
                for (d, &x) in dst.iter_mut().zip(&a[..len]) {
                    *d = Op::apply(x, y);
                }
            }
            (0, 1) => {
                let x = a[0];
                for (d, &y) in dst.iter_mut().zip(&b[..len]) {
                    *d = Op::apply(x, y);
                }
            }
            _ => {
                for (i, d) in dst.iter_mut().enumerate() {
                    *d = Op::apply(a[i * sa], b[i * sb]);
                }
            }
        }
    }
}

/// `y = Op(x)` over the elements of `layout`, written contiguously.
pub fn unary<T: Element, Op: UnaryOp>(x: &[T], layout: &Layout) -> Result<CpuBuffer<T>> {
    let mut out = CpuBuffer::try_for_overwrite(Op::NAME, layout.numel())?;
    if let Some(range) = layout.contiguous_range() {
        let src = &x[range];
        for_each_chunk(&mut out, 1, |start, dst| {
            map_run::<T, Op>(dst, &src[start..], 1)
        });
        return Ok(out);
    }
    let walk = Walk::new([layout]);
    let [stride] = walk.inner_strides();
    for_each_chunk(&mut out, 1, |start, dst| {
        walk.runs(start..start + dst.len(), |pos, len, [offset]| {
            map_run::<T, Op>(
                &mut dst[pos - start..pos - start + len],
                &x[offset..],
                stride,
            )
        });
    });
    Ok(out)
}

/// `z = Op(a, b)` over two same-shaped layouts (stride 0 where broadcast), written contiguously.
pub fn binary<T: Element, Op: BinaryOp>(
    a: &[T],
    a_layout: &Layout,
    b: &[T],
    b_layout: &Layout,
) -> Result<CpuBuffer<T>> {
    let mut out = CpuBuffer::try_for_overwrite(Op::NAME, a_layout.numel())?;
    if let (Some(ra), Some(rb)) = (a_layout.contiguous_range(), b_layout.contiguous_range()) {
        let (a, b) = (&a[ra], &b[rb]);
        for_each_chunk(&mut out, 1, |start, dst| {
            zip_run::<T, Op>(dst, &a[start..], 1, &b[start..], 1)
        });
        return Ok(out);
    }
    let walk = Walk::new([a_layout, b_layout]);
    let [sa, sb] = walk.inner_strides();
    for_each_chunk(&mut out, 1, |start, dst| {
        walk.runs(start..start + dst.len(), |pos, len, [oa, ob]| {
            let dst = &mut dst[pos - start..pos - start + len];
            zip_run::<T, Op>(dst, &a[oa..], sa, &b[ob..], sb)
        });
    });
    Ok(out)
}

/// `z = Op(x, value)` over the elements of `layout`, written contiguously.
pub fn binary_scalar<T: Element, Op: BinaryOp>(
    x: &[T],
    layout: &Layout,
    value: T,
) -> Result<CpuBuffer<T>> {
    let walk = Walk::new([layout]);
    let [stride] = walk.inner_strides();
    let mut out = CpuBuffer::try_for_overwrite(Op::NAME, layout.numel())?;
    let value = [value];
    for_each_chunk(&mut out, 1, |start, dst| {
        walk.runs(start..start + dst.len(), |pos, len, [offset]| {
            let dst = &mut dst[pos - start..pos - start + len];
            zip_run::<T, Op>(dst, &x[offset..], stride, &value, 0)
        });
    });
    Ok(out)
}

/// `dst[dst_layout] = combine(dst[dst_layout], src[src_layout])`, element by element, on the
/// calling thread. `dst_layout` must map distinct positions to distinct elements.
pub fn combine_into<T: Element>(
    src: &[T],
    src_layout: &Layout,
    dst: &mut [T],
    dst_layout: &Layout,
    combine: impl Fn(T, T) -> T,
) {
    let walk = Walk::new([dst_layout, src_layout]);
    let [sd, ss] = walk.inner_strides();
    walk.runs(0..walk.numel(), |_, len, [od, os]| {
        for i in 0..len {
            let d = &mut dst[od + i * sd];
            *d = combine(*d, src[os + i * ss]);
        }
    });
}
