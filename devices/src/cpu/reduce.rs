//! Reductions over a set of axes, and arg-max / arg-min along one axis.

use super::parallel::{for_each_chunk, PARALLEL_THRESHOLD};
use super::CpuBuffer;
use crate::ops::{ArgKind, ReduceOp};
use crate::{Element, Layout, Walk};

/// Folds `Op` over `axes`, keeping them as size-1 axes of the contiguous output.
///
/// Two loop orders: when the innermost axis is reduced, each output element folds a (mostly
/// contiguous) run of the input; otherwise every reduced position adds a whole contiguous row into
/// the outputs, so the inner loop runs over kept elements and vectorizes (e.g. bias gradients).
pub fn reduce<T: Element, Op: ReduceOp>(x: &[T], layout: &Layout, axes: &[usize]) -> CpuBuffer<T> {
    let (kept, reduced) = layout.split_reduced(axes);
    let kept_walk = Walk::new([&kept]);
    let reduced_walk = Walk::new([&reduced]);
    let mut out = CpuBuffer::for_overwrite(kept.numel());
    let last_non_unit = (0..layout.rank()).rev().find(|&a| layout.shape()[a] != 1);
    let inner_is_reduced = last_non_unit.is_none_or(|a| axes.contains(&a));
    if inner_is_reduced {
        let [kept_stride] = kept_walk.inner_strides();
        let [red_stride] = reduced_walk.inner_strides();
        let granule = (PARALLEL_THRESHOLD / reduced.numel().max(1)).max(1);
        for_each_chunk(&mut out, granule, |start, dst| {
            kept_walk.runs(start..start + dst.len(), |pos, len, [base]| {
                for i in 0..len {
                    let origin = base + i * kept_stride;
                    let mut acc = Op::identity::<T>();
                    reduced_walk.runs(0..reduced_walk.numel(), |_, n, [off]| {
                        acc = fold_run::<T, Op>(acc, x, origin + off, n, red_stride);
                    });
                    dst[pos - start + i] = acc;
                }
            });
        });
    } else {
        let [kept_stride] = kept_walk.inner_strides();
        for_each_chunk(&mut out, 1, |start, dst| {
            dst.fill(Op::identity());
            reduced_walk.runs(0..reduced_walk.numel(), |_, n, [off]| {
                let [red_stride] = reduced_walk.inner_strides();
                for r in 0..n {
                    let shift = off + r * red_stride;
                    kept_walk.runs(start..start + dst.len(), |pos, len, [base]| {
                        let dst = &mut dst[pos - start..pos - start + len];
                        let origin = base + shift;
                        if kept_stride == 1 {
                            for (d, &v) in dst.iter_mut().zip(&x[origin..origin + len]) {
                                *d = Op::combine(*d, v);
                            }
                        } else {
                            for (i, d) in dst.iter_mut().enumerate() {
                                *d = Op::combine(*d, x[origin + i * kept_stride]);
                            }
                        }
                    });
                }
            });
        });
    }
    out
}

/// Folds `n` elements starting at `start` with `stride`. Contiguous runs use eight independent
/// accumulators, which lets the compiler vectorize and also shortens the rounding-error chain.
#[inline]
fn fold_run<T: Element, Op: ReduceOp>(acc: T, x: &[T], start: usize, n: usize, stride: usize) -> T {
    if stride != 1 {
        return (0..n).fold(acc, |acc, i| Op::combine(acc, x[start + i * stride]));
    }
    let run = &x[start..start + n];
    let mut lanes = [Op::identity::<T>(); 8];
    let mut chunks = run.chunks_exact(8);
    for chunk in &mut chunks {
        for (lane, &v) in lanes.iter_mut().zip(chunk) {
            *lane = Op::combine(*lane, v);
        }
    }
    let tail = chunks
        .remainder()
        .iter()
        .fold(Op::identity::<T>(), |a, &v| Op::combine(a, v));
    let folded = lanes.iter().fold(tail, |a, &v| Op::combine(a, v));
    Op::combine(acc, folded)
}

/// Index of the first largest (or smallest) element along `axis`; NaN counts as the extreme.
pub fn arg_reduce<T: Element>(
    x: &[T],
    layout: &Layout,
    axis: usize,
    kind: ArgKind,
) -> CpuBuffer<T> {
    let (kept, _) = layout.split_reduced(&[axis]);
    let kept_walk = Walk::new([&kept]);
    let [kept_stride] = kept_walk.inner_strides();
    let n = layout.shape()[axis];
    let stride = layout.strides()[axis];
    let better = |candidate: T, best: T| match kind {
        _ if best.is_nan() => false,
        _ if candidate.is_nan() => true,
        ArgKind::Max => candidate > best,
        ArgKind::Min => candidate < best,
    };
    let mut out = CpuBuffer::for_overwrite(kept.numel());
    kept_walk.runs(0..kept.numel(), |pos, len, [base]| {
        for i in 0..len {
            let origin = base + i * kept_stride;
            let mut best_index = 0;
            for j in 1..n {
                if better(x[origin + j * stride], x[origin + best_index * stride]) {
                    best_index = j;
                }
            }
            out[pos + i] = T::from_f64(best_index as f64);
        }
    });
    out
}
