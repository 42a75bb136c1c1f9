//! Element-wise kernels: unary maps, broadcasting binary maps and strided copies.

use super::parallel::for_each_chunk;
use super::CpuBuffer;
use crate::ops::{BinaryOp, UnaryOp};
use crate::{Element, Layout, Walk};

/// `y = Op(x)` over the elements of `layout`, written contiguously.
pub fn unary<T: Element, Op: UnaryOp>(x: &[T], layout: &Layout) -> CpuBuffer<T> {
    let mut out = CpuBuffer::for_overwrite(layout.numel());
    if let Some(range) = layout.contiguous_range() {
        let src = &x[range];
        for_each_chunk(&mut out, 1, |start, dst| {
            let src = &src[start..start + dst.len()];
            for (d, &s) in dst.iter_mut().zip(src) {
                *d = Op::apply(s);
            }
        });
        return out;
    }
    let walk = Walk::new([layout]);
    let [stride] = walk.inner_strides();
    for_each_chunk(&mut out, 1, |start, dst| {
        walk.runs(start..start + dst.len(), |pos, len, [offset]| {
            let dst = &mut dst[pos - start..pos - start + len];
            for (i, d) in dst.iter_mut().enumerate() {
                *d = Op::apply(x[offset + i * stride]);
            }
        });
    });
    out
}

/// `z = Op(a, b)` over two same-shaped layouts (stride 0 where broadcast), written contiguously.
/// The inner loop is specialized for the common stride patterns so it vectorizes.
pub fn binary<T: Element, Op: BinaryOp>(
    a: &[T],
    a_layout: &Layout,
    b: &[T],
    b_layout: &Layout,
) -> CpuBuffer<T> {
    let mut out = CpuBuffer::for_overwrite(a_layout.numel());
    if let (Some(ra), Some(rb)) = (a_layout.contiguous_range(), b_layout.contiguous_range()) {
        // Both dense: a plain zip, which the compiler vectorizes at the width `for_each_chunk`
        // compiles for (a strided walk's closure would not be inlined that far).
        let (a, b) = (&a[ra], &b[rb]);
        for_each_chunk(&mut out, 1, |start, dst| {
            let end = start + dst.len();
            for ((d, &x), &y) in dst.iter_mut().zip(&a[start..end]).zip(&b[start..end]) {
                *d = Op::apply(x, y);
            }
        });
        return out;
    }
    let walk = Walk::new([a_layout, b_layout]);
    let [sa, sb] = walk.inner_strides();
    for_each_chunk(&mut out, 1, |start, dst| {
        walk.runs(start..start + dst.len(), |pos, len, [oa, ob]| {
            let dst = &mut dst[pos - start..pos - start + len];
            match (sa, sb) {
                (1, 1) => {
                    for ((d, &x), &y) in dst.iter_mut().zip(&a[oa..oa + len]).zip(&b[ob..ob + len])
                    {
                        *d = Op::apply(x, y);
                    }
                }
                (1, 0) => {
                    let y = b[ob];
                    for (d, &x) in dst.iter_mut().zip(&a[oa..oa + len]) {
                        *d = Op::apply(x, y);
                    }
                }
                (0, 1) => {
                    let x = a[oa];
                    for (d, &y) in dst.iter_mut().zip(&b[ob..ob + len]) {
                        *d = Op::apply(x, y);
                    }
                }
                _ => {
                    for (i, d) in dst.iter_mut().enumerate() {
                        *d = Op::apply(a[oa + i * sa], b[ob + i * sb]);
                    }
                }
            }
        });
    });
    out
}

/// `z = Op(x, value)` over the elements of `layout`, written contiguously.
pub fn binary_scalar<T: Element, Op: BinaryOp>(x: &[T], layout: &Layout, value: T) -> CpuBuffer<T> {
    let walk = Walk::new([layout]);
    let [stride] = walk.inner_strides();
    let mut out = CpuBuffer::for_overwrite(layout.numel());
    for_each_chunk(&mut out, 1, |start, dst| {
        walk.runs(start..start + dst.len(), |pos, len, [offset]| {
            let dst = &mut dst[pos - start..pos - start + len];
            if stride == 1 {
                for (d, &s) in dst.iter_mut().zip(&x[offset..offset + len]) {
                    *d = Op::apply(s, value);
                }
            } else {
                for (i, d) in dst.iter_mut().enumerate() {
                    *d = Op::apply(x[offset + i * stride], value);
                }
            }
        });
    });
    out
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
