//! Reductions over a set of axes, and arg-max / arg-min along one axis.

use super::isa::per_isa;
use super::parallel::{for_each_chunk_of_work, PARALLEL_THRESHOLD};
use super::CpuBuffer;
use crate::ops::{ArgKind, ReduceOp};
use crate::{Element, Layout, Result, Walk};

/// Longer reductions than this, per output, fold in leaves of [`LEAF_ELEMENTS`] combined pairwise;
/// up to it, in one sequence (in `fold_run`'s eight lanes). The limit keeps every reduction of the
/// default and the full-suite training runs (the longest: a gradient norm's sum over a
/// 32,768-element weight) in the order it has always had, so their recorded results still
/// reproduce bit for bit.
const ONE_SEQUENCE_ELEMENTS: usize = 32_768;

/// The leaf of a longer reduction: 64 elements in each of `fold_run`'s lanes.
const LEAF_ELEMENTS: usize = 512;

/// [`ONE_SEQUENCE_ELEMENTS`] for reductions that keep the innermost axis, counted in reduced rows
/// (a bias gradient's batch × tokens).
const ONE_SEQUENCE_ROWS: usize = 4096;

/// The leaf of a longer reduction that keeps the innermost axis, in rows (more when there are
/// fewer than 16 outputs: a leaf holds at least `LEAF_ELEMENTS` additions).
const LEAF_ROWS: usize = 32;

/// Folds `Op` over `axes` (`Op::combine` over `Op::map` of each element), keeping them as
/// size-1 axes of the contiguous output.
///
/// Two loop orders: when the innermost axis is reduced, each output element folds a (mostly
/// contiguous) run of the input; otherwise every reduced position adds a whole contiguous row into
/// the outputs, so the inner loop runs over kept elements and vectorizes (e.g. bias gradients).
///
/// Either way, a long reduction folds its elements in leaves and combines the leaves pairwise
/// ([`Cascade`]), so a sum's rounding error grows with the logarithm of its length, not with the
/// length: in `f32`, ten million values summed in one sequence lose three significant digits, and
/// a value broadcast to 2²⁷ elements stops growing altogether (eight lanes of 2²⁴ each).
pub fn reduce<T: Element, Op: ReduceOp>(
    x: &[T],
    layout: &Layout,
    axes: &[usize],
) -> Result<CpuBuffer<T>> {
    let (kept, reduced) = layout.split_reduced(axes);
    let kept_walk = Walk::new([&kept]);
    let reduced_walk = Walk::new([&reduced]);
    let mut out = CpuBuffer::try_for_overwrite(Op::NAME, kept.numel())?;
    let last_non_unit = (0..layout.rank()).rev().find(|&a| layout.shape()[a] != 1);
    let inner_is_reduced = last_non_unit.is_none_or(|a| axes.contains(&a));
    if inner_is_reduced {
        let [kept_stride] = kept_walk.inner_strides();
        let [red_stride] = reduced_walk.inner_strides();
        let granule = (PARALLEL_THRESHOLD / reduced.numel().max(1)).max(1);
        let leaf_len = match reduced.numel() <= ONE_SEQUENCE_ELEMENTS {
            true => ONE_SEQUENCE_ELEMENTS,
            false => LEAF_ELEMENTS,
        };
        for_each_chunk_of_work(&mut out, granule, layout.numel(), |start, dst| {
            kept_walk.runs(start..start + dst.len(), |pos, len, [base]| {
                for i in 0..len {
                    let origin = base + i * kept_stride;
                    let mut cascade = Cascade::new();
                    let (mut leaf, mut in_leaf) = (Op::identity::<T>(), 0);
                    reduced_walk.runs(0..reduced_walk.numel(), |_, n, [off]| {
                        let mut done = 0;
                        while done < n {
                            let take = (n - done).min(leaf_len - in_leaf);
                            let first = origin + off + done * red_stride;
                            leaf = fold_run::<T, Op>(leaf, x, first, take, red_stride);
                            (done, in_leaf) = (done + take, in_leaf + take);
                            if in_leaf == leaf_len {
                                cascade.push(leaf, Op::combine);
                                (leaf, in_leaf) = (Op::identity(), 0);
                            }
                        }
                    });
                    if in_leaf > 0 {
                        cascade.push(leaf, Op::combine);
                    }
                    dst[pos - start + i] = cascade.finish(Op::combine).unwrap_or_else(Op::identity);
                }
            });
        });
    } else {
        let [kept_stride] = kept_walk.inner_strides();
        let [red_stride] = reduced_walk.inner_strides();
        let leaf_rows = match reduced.numel() <= ONE_SEQUENCE_ROWS {
            true => ONE_SEQUENCE_ROWS,
            // Narrow outputs take longer leaves, so that copying a leaf into the cascade stays
            // small next to the additions it holds. Set by the whole output, not by a thread's
            // block of it: the leaves, and so the bits, must not depend on how it is split.
            false => LEAF_ROWS.max(LEAF_ELEMENTS / kept.numel().max(1)),
        };
        // Threads take blocks of outputs (columns of a bias gradient, say) and each folds every
        // reduced row into its block, so the order of each output's fold is the same however
        // the outputs are split.
        for_each_chunk_of_work(&mut out, 16, layout.numel(), |start, dst| {
            dst.fill(Op::identity());
            // The block's runs of kept elements, (first output, length, input offset), found
            // once: the same for every reduced row, which only shifts their input offsets.
            let mut kept_runs = Vec::new();
            kept_walk.runs(start..start + dst.len(), |pos, len, [base]| {
                kept_runs.push((pos - start, len, base));
            });
            let mut cascade = Cascade::new();
            let mut rows_in_leaf = 0;
            let combine_rows = |mut a: Vec<T>, b: Vec<T>| {
                for (a, b) in a.iter_mut().zip(b) {
                    *a = Op::combine(*a, b);
                }
                a
            };
            reduced_walk.runs(0..reduced_walk.numel(), |_, n, [off]| {
                for r in 0..n {
                    let shift = off + r * red_stride;
                    for &(first, len, base) in &kept_runs {
                        let dst = &mut dst[first..first + len];
                        fold_row::<T, Op>(dst, &x[base + shift..], kept_stride);
                    }
                    rows_in_leaf += 1;
                    if rows_in_leaf == leaf_rows {
                        cascade.push(dst.to_vec(), combine_rows);
                        dst.fill(Op::identity());
                        rows_in_leaf = 0;
                    }
                }
            });
            if !cascade.is_empty() {
                if rows_in_leaf > 0 {
                    cascade.push(dst.to_vec(), combine_rows);
                }
                if let Some(total) = cascade.finish(combine_rows) {
                    dst.copy_from_slice(&total);
                }
            }
        });
    }
    Ok(out)
}

per_isa! {
    /// One reduced row folded into its outputs: `dst[i] = combine(dst[i], map(row[i·stride]))`.
    /// Compiled for the CPU's widest vectors: inlined into the closure that walks the rows, it
    /// ran in the baseline target's 4-lane SSE.
    pub(crate) fn fold_row<T: Element, Op: ReduceOp>(dst: &mut [T], row: &[T], stride: usize) {
        if stride == 1 {
            let len = dst.len();
            for (d, &v) in dst.iter_mut().zip(&row[..len]) {
                *d = Op::combine(*d, Op::map(v));
            }
        } else {
            for (i, d) in dst.iter_mut().enumerate() {
                *d = Op::combine(*d, Op::map(row[i * stride]));
            }
        }
    }
}

/// Pairwise (cascade) combination of a stream of partial results, joined as the carries of a
/// binary counter are: level `k` holds, at most, the combination of `2ᵏ` consecutive leaves, and a
/// new leaf merges upwards while it meets a full level. `n` leaves end up in a balanced tree of
/// depth `⌈log₂ n⌉`, built as they arrive with `log₂ n` partials held at a time.
struct Cascade<P> {
    levels: Vec<Option<P>>,
}

impl<P> Cascade<P> {
    fn new() -> Self {
        Cascade { levels: Vec::new() }
    }

    fn is_empty(&self) -> bool {
        self.levels.iter().all(Option::is_none)
    }

    /// Adds the next leaf (`combine(earlier, later)` keeps the elements' order).
    fn push(&mut self, mut leaf: P, combine: impl Fn(P, P) -> P) {
        for level in &mut self.levels {
            match level.take() {
                Some(earlier) => leaf = combine(earlier, leaf),
                None => {
                    *level = Some(leaf);
                    return;
                }
            }
        }
        self.levels.push(Some(leaf));
    }

    /// The combination of every leaf pushed, `None` if there were none.
    fn finish(self, combine: impl Fn(P, P) -> P) -> Option<P> {
        // Lower levels hold later leaves: each joins the higher (earlier) ones on its left.
        self.levels
            .into_iter()
            .flatten()
            .reduce(|later, earlier| combine(earlier, later))
    }
}

/// Folds the contributions of `n` elements starting at `start` with `stride` into eight
/// independent accumulators (element `i` into lane `i mod 8`), then combines the lanes as they are
/// (not mapped again) after the tail. The lanes shorten the rounding-error chain eight-fold, and on
/// contiguous runs they let the compiler vectorize; strided runs (a transposed or broadcast input)
/// gather into the same lanes, so their error does not grow with one long sequential chain.
#[inline]
fn fold_run<T: Element, Op: ReduceOp>(acc: T, x: &[T], start: usize, n: usize, stride: usize) -> T {
    let mut lanes = [Op::identity::<T>(); 8];
    let whole = n - n % 8;
    if stride == 1 {
        for chunk in x[start..start + whole].chunks_exact(8) {
            for (lane, &v) in lanes.iter_mut().zip(chunk) {
                *lane = Op::combine(*lane, Op::map(v));
            }
        }
    } else {
        for first in (0..whole).step_by(8) {
            for (l, lane) in lanes.iter_mut().enumerate() {
                *lane = Op::combine(*lane, Op::map(x[start + (first + l) * stride]));
            }
        }
    }
    let tail = (whole..n).fold(Op::identity::<T>(), |a, i| {
        Op::combine(a, Op::map(x[start + i * stride]))
    });
    let folded = lanes.iter().fold(tail, |a, &v| Op::combine(a, v));
    Op::combine(acc, folded)
}

/// Index of the first largest (or smallest) element along `axis`; NaN counts as the extreme.
pub fn arg_reduce<T: Element>(
    x: &[T],
    layout: &Layout,
    axis: usize,
    kind: ArgKind,
) -> Result<CpuBuffer<T>> {
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
    let mut out = CpuBuffer::try_for_overwrite(kind.name(), kept.numel())?;
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
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Sum;

    /// `n` values chosen so that f32 rounding of their sum depends on the order.
    fn values(n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| ((i * 7919) % 1000) as f32 * 0.001 + 1e2 * (i % 3) as f32)
            .collect()
    }

    /// Sums `x` seen as `[rows, cols]` over `axis` on a pool of `threads` threads.
    fn sum_on(threads: usize, x: &[f32], rows: usize, cols: usize, axis: usize) -> Vec<f32> {
        let layout = Layout::contiguous(&[rows, cols]);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| reduce::<f32, Sum>(x, &layout, &[axis]).unwrap().to_vec())
    }

    #[test]
    fn reductions_to_few_outputs_split_over_threads_give_the_serial_result() {
        // Few outputs and much input in both loop orders: a bias gradient (rows reduced) and
        // per-row sums of long rows; both are split over threads by their work, not their size.
        // Past the one-sequence limit, outputs that do not split into blocks of 16 (a last
        // block of 4 on two threads) fold their rows in the leaves of the whole output.
        for (rows, cols, axis) in [(3000, 40, 0), (600, 300, 1), (5000, 20, 0)] {
            let x = values(rows * cols);
            let serial = sum_on(1, &x, rows, cols, axis);
            for threads in [2, 3] {
                let threaded = sum_on(threads, &x, rows, cols, axis);
                let differ = serial
                    .iter()
                    .zip(&threaded)
                    .filter(|(a, b)| a.to_bits() != b.to_bits());
                assert_eq!(
                    differ.count(),
                    0,
                    "[{rows}, {cols}] summed over axis {axis} on {threads} threads"
                );
            }
            let at = |r: usize, c: usize| f64::from(x[r * cols + c]);
            let naive: Vec<f64> = if axis == 0 {
                (0..cols)
                    .map(|c| (0..rows).map(|r| at(r, c)).sum())
                    .collect()
            } else {
                (0..rows)
                    .map(|r| (0..cols).map(|c| at(r, c)).sum())
                    .collect()
            };
            for (got, want) in serial.iter().zip(&naive) {
                assert!(
                    (*got as f64 - want).abs() <= 1e-5 * want.abs(),
                    "{got} vs {want}"
                );
            }
        }
    }

    /// Long sums in `f32` stay close to the exact sum: a broadcast value (every lane of a single
    /// sequence would stop growing at 2²⁴ times it) and column sums over a million rows (one
    /// sequence loses three digits), both against `f64`.
    #[test]
    fn long_reductions_combine_their_leaves_pairwise() {
        let tenth = [0.1f32];
        let n = 50_000_003;
        let broadcast = Layout::contiguous(&[1]).broadcast_to(&[n]).unwrap();
        let got = reduce::<f32, Sum>(&tenth, &broadcast, &[0]).unwrap()[0] as f64;
        let want = f64::from(0.1f32) * n as f64;
        assert!((got - want).abs() <= 1e-5 * want, "{got} vs {want}");

        let (rows, cols) = (1_000_003, 3);
        let x: Vec<f32> = (0..rows * cols)
            .map(|i| (i % 1000) as f32 / 1000.0)
            .collect();
        let sums = reduce::<f32, Sum>(&x, &Layout::contiguous(&[rows, cols]), &[0])
            .unwrap()
            .to_vec();
        for (c, got) in sums.iter().enumerate() {
            let want: f64 = (0..rows).map(|r| f64::from(x[r * cols + c])).sum();
            let error = (f64::from(*got) - want).abs();
            assert!(error <= 1e-6 * want, "column {c}: {got} vs {want}");
        }
    }

    /// Reductions up to the one-sequence limits fold in one sequence, as before there were leaves.
    #[test]
    fn short_reductions_fold_in_one_sequence() {
        let x = values(ONE_SEQUENCE_ELEMENTS);
        let sequence = |x: &[f32]| fold_run::<f32, Sum>(0.0, x, 0, x.len(), 1);
        let one_leaf = reduce::<f32, Sum>(&x, &Layout::contiguous(&[x.len()]), &[0]).unwrap()[0];
        assert_eq!(one_leaf.to_bits(), sequence(&x).to_bits());
        let rows = ONE_SEQUENCE_ROWS;
        let columns =
            reduce::<f32, Sum>(&x[..2 * rows], &Layout::contiguous(&[rows, 2]), &[0]).unwrap();
        let in_order = (0..rows).fold(0.0f32, |a, r| a + x[2 * r]);
        assert_eq!(columns[0].to_bits(), in_order.to_bits());
    }
}
