//! Element-wise kernels: unary maps, broadcasting binary maps and strided copies.

use super::isa::per_isa;
use super::parallel::for_each_chunk;
use super::CpuBuffer;
use crate::ops::{BinaryOp, UnaryOp};
use crate::{Element, Layout, Result, Walk};

/// Elements per step of the dense loops below, which run each step as four interleaved quarters:
/// an op's chain of dependent instructions (an `erfc`'s is some 190 cycles deep) then has four
/// independent copies for the core to overlap, where one vector at a time left it waiting on
/// the chain (the exact GELU over 4096×768 f32 on one AVX-512 core: 12.4 → 6.9 ms).
const STEP: usize = 64;

/// `$d[i] = $f(i)` for the `STEP` elements of the array `$d`, as four interleaved runs of a
/// quarter each. A macro, not a function taking a closure: the closure, compiled with the
/// calling kernel's target features, would not be inlined into a function without them, and
/// the loop would call it once per element.
macro_rules! interleaved {
    ($d:expr, |$i:ident| $f:expr) => {{
        const QUARTER: usize = STEP / 4;
        let d: &mut [_; STEP] = $d;
        for i in 0..QUARTER {
            d[i] = {
                let $i = i;
                $f
            };
            d[QUARTER + i] = {
                let $i = QUARTER + i;
                $f
            };
            d[2 * QUARTER + i] = {
                let $i = 2 * QUARTER + i;
                $f
            };
            d[3 * QUARTER + i] = {
                let $i = 3 * QUARTER + i;
                $f
            };
        }
    }};
}

per_isa! {
    /// `dst[i] = Op(src[i·stride])`.
    pub(crate) fn map_run<T: Element, Op: UnaryOp>(dst: &mut [T], src: &[T], stride: usize) {
        if stride == 1 {
            let (d, d_rest) = dst.as_chunks_mut::<STEP>();
            let (s, s_rest) = src[..d.len() * STEP + d_rest.len()].as_chunks::<STEP>();
            for (d, s) in d.iter_mut().zip(s) {
                interleaved!(d, |i| Op::apply(s[i]));
            }
            for (d, &s) in d_rest.iter_mut().zip(s_rest) {
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
                let (d, d_rest) = dst.as_chunks_mut::<STEP>();
                let (a, a_rest) = a[..len].as_chunks::<STEP>();
                let (b, b_rest) = b[..len].as_chunks::<STEP>();
                for ((d, x), y) in d.iter_mut().zip(a).zip(b) {
                    interleaved!(d, |i| Op::apply(x[i], y[i]));
                }
                for ((d, &x), &y) in d_rest.iter_mut().zip(a_rest).zip(b_rest) {
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

#[cfg(test)]
mod tests {
    use super::{map_run, zip_run, STEP};
    use crate::ops::{BinaryOp, GeluErf, Sub, UnaryOp};

    /// The dense loops, which run whole steps interleaved and the rest one by one, give every
    /// element its own op's value, for lengths around and across the step.
    #[test]
    fn dense_runs_apply_the_op_to_every_element_in_place() {
        for len in (0..3 * STEP + 3).chain([1000, 4096 + 5]) {
            let a: Vec<f32> = (0..len).map(|i| (i as f32 * 0.37).sin() * 3.0).collect();
            let b: Vec<f32> = (0..len).map(|i| i as f32 * 0.5 - 7.0).collect();
            let mut y = vec![f32::NAN; len];
            map_run::<f32, GeluErf>(&mut y, &a, 1);
            let want: Vec<f32> = a.iter().map(|&x| GeluErf::apply(x)).collect();
            assert_eq!(y, want, "map_run, length {len}");
            zip_run::<f32, Sub>(&mut y, &a, 1, &b, 1);
            let want: Vec<f32> = a.iter().zip(&b).map(|(&x, &z)| Sub::apply(x, z)).collect();
            assert_eq!(y, want, "zip_run, length {len}");
        }
    }
}
