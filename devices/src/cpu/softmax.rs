//! Row-wise softmax and log-softmax, and their backward pass.

use super::isa::{lanes_dot, lanes_fold, lanes_sum, per_isa};
use super::parallel::for_each_chunk;
use super::CpuBuffer;
use crate::Element;

/// Softmax of each row of a contiguous `[rows, n]` input, each element read as `x_j·scale`:
/// `y_j = e^{x_j − m} / Σ_i e^{x_i − m}` with `m = max_i x_i`, so no exponent overflows;
/// with `log`, `y_j = x_j − m − ln Σ_i e^{x_i − m}`.
pub fn softmax_last<T: Element>(x: &[T], n: usize, scale: f64, log: bool) -> CpuBuffer<T> {
    let mut out = CpuBuffer::for_overwrite(x.len());
    if n == 0 {
        return out;
    }
    let scale = T::from_f64(scale);
    for_each_chunk(&mut out, n, |start, dst| {
        softmax_rows(dst, &x[start..start + dst.len()], n, scale, log)
    });
    out
}

/// The backward pass of [`softmax_last`] from its output `y` and the upstream gradient `g`
/// (contiguous `[rows, n]`): for softmax `dx_j = y_j·(g_j − Σ_i g_i·y_i)·scale`, for
/// log-softmax `dx_j = (g_j − e^{y_j}·Σ_i g_i)·scale` (`e^{y}` is the softmax).
pub fn softmax_last_backward<T: Element>(
    y: &[T],
    g: &[T],
    n: usize,
    scale: f64,
    log: bool,
) -> CpuBuffer<T> {
    let mut dx = CpuBuffer::for_overwrite(y.len());
    if n == 0 {
        return dx;
    }
    let scale = T::from_f64(scale);
    for_each_chunk(&mut dx, n, |start, dst| {
        let rows = start..start + dst.len();
        backward_rows(dst, &y[rows.clone()], &g[rows], n, scale, log)
    });
    dx
}

/// How many rows the forward pass takes through each of its passes together. A row's sums are
/// chains (the fold across the lanes, then the division or the pass that waits for it); one
/// row at a time, the CPU waits on each of them, while the folds of a block's rows are
/// independent and overlap (softmax over 8,320 rows of 65 took 20 % less time on an AVX-512
/// Xeon). Each row is still computed by the same operations in the same order. The backward
/// pass, one fold per row, was 5 % slower in blocks, and takes its rows one at a time.
const ROW_BLOCK: usize = 8;

per_isa! {
    /// Softmax (or log-softmax) of each `n`-long row of `src` into `dst`. Rows with a finite
    /// maximum use the lane `exp` (their shifted inputs are ≤ 0, where it is within 2 ulp);
    /// a row holding +∞ or only −∞/NaN takes libm's `exp`, so it gives the same NaNs and
    /// infinities as the textbook formula: a row holding +∞ is NaN throughout (`∞ − ∞` in its
    /// sum), as in PyTorch, and so is a row of −∞ only (`0/0`). Each input is multiplied by
    /// `scale` as it is read.
    pub(crate) fn softmax_rows<T: Element>(
        dst: &mut [T],
        src: &[T],
        n: usize,
        scale: T,
        log: bool,
    ) {
        // A row of −∞ (fully masked) has no finite maximum; shifting it by 0 keeps it NaN-free
        // until the division, exactly like an unshifted softmax would. A row holding +∞ is
        // shifted by it, which makes its sum NaN.
        let shift = |max: T| if max == T::neg_infinity() { T::zero() } else { max };
        let block = n * ROW_BLOCK;
        for (out, input) in dst.chunks_mut(block).zip(src.chunks(block)) {
            let mut maxes = [T::zero(); ROW_BLOCK];
            for (max, row_in) in maxes.iter_mut().zip(input.chunks(n)) {
                *max = lanes_fold(row_in, T::neg_infinity(), |v| v * scale, |m, v| m.max(v));
            }
            let mut sums = [T::zero(); ROW_BLOCK];
            let rows = out.chunks_mut(n).zip(input.chunks(n));
            for ((row_out, row_in), (&max, sum)) in rows.zip(maxes.iter().zip(&mut sums)) {
                let shift = shift(max);
                if max.is_finite() {
                    for (o, &v) in row_out.iter_mut().zip(row_in) {
                        *o = (v * scale - shift).exp_lanes();
                    }
                } else {
                    for (o, &v) in row_out.iter_mut().zip(row_in) {
                        *o = (v * scale - shift).exp();
                    }
                }
                *sum = lanes_sum(row_out, |v| v);
            }
            let rows = out.chunks_mut(n).zip(input.chunks(n));
            for ((row_out, row_in), (&max, &sum)) in rows.zip(maxes.iter().zip(&sums)) {
                if log {
                    // (x − m) − ln Σ, not x − (m + ln Σ): the first is exact where x = m.
                    let (shift, log_sum) = (shift(max), sum.ln());
                    for (o, &v) in row_out.iter_mut().zip(row_in) {
                        *o = (v * scale - shift) - log_sum;
                    }
                } else {
                    let inv = sum.recip();
                    for o in row_out.iter_mut() {
                        *o = *o * inv;
                    }
                }
            }
        }
    }
}

per_isa! {
    /// [`softmax_last_backward`] over the `n`-long rows of `y` and `g`, into `dx`.
    pub(crate) fn backward_rows<T: Element>(
        dx: &mut [T],
        y: &[T],
        g: &[T],
        n: usize,
        scale: T,
        log: bool,
    ) {
        for ((dx_row, y_row), g_row) in dx.chunks_mut(n).zip(y.chunks(n)).zip(g.chunks(n)) {
            let values = dx_row.iter_mut().zip(y_row).zip(g_row);
            if log {
                let total = lanes_sum(g_row, |v| v);
                for ((o, &yv), &gv) in values {
                    *o = (gv - yv.exp_lanes() * total) * scale;
                }
            } else {
                let dot = lanes_dot(g_row, y_row);
                for ((o, &yv), &gv) in values {
                    *o = yv * (gv - dot) * scale;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{softmax_last, softmax_last_backward};

    /// Softmax of one row times `scale`, in f64.
    fn reference(row: &[f32], scale: f64, log: bool) -> Vec<f64> {
        let row: Vec<f64> = row.iter().map(|&v| v as f64 * scale).collect();
        let max = row.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
        let sum: f64 = row.iter().map(|&v| (v - max).exp()).sum();
        row.iter()
            .map(|&v| {
                if log {
                    v - max - sum.ln()
                } else {
                    (v - max).exp() / sum
                }
            })
            .collect()
    }

    fn inputs(len: usize, salt: usize) -> Vec<f32> {
        (0..len)
            .map(|i| (((i + salt) * 7919) % 101) as f32 / 9.0 - 5.0)
            .collect()
    }

    /// Row lengths that are not a multiple of the lanes, short and long rows, enough rows to be
    /// split over threads, scaled or not, against softmax in f64; the non-finite rows, among
    /// ordinary ones, against the textbook formula's NaNs.
    #[test]
    fn rows_match_f64_and_non_finite_rows_give_nan() {
        for (rows, n) in [(3, 37), (150, 37), (200, 1), (3, 5000)] {
            let x = inputs(rows * n, n);
            for (scale, log) in [(1.0, false), (1.0, true), (0.25, false), (-2.0, true)] {
                let y = softmax_last(&x, n, scale, log);
                for (row_y, row_x) in y.chunks(n).zip(x.chunks(n)) {
                    for (&got, want) in row_y.iter().zip(reference(row_x, scale, log)) {
                        assert!(
                            (got as f64 - want).abs() <= 1e-6 * want.abs().max(1.0),
                            "{rows}×{n} scale={scale} log={log}: {got} vs {want}"
                        );
                    }
                }
            }
        }
        let n = 37;
        let mut x = inputs(5 * n, 0);
        x[n + 3] = f32::INFINITY;
        x[3 * n..4 * n].fill(f32::NEG_INFINITY);
        let y = softmax_last(&x, n, 1.0, false);
        assert!(y[n + 3].is_nan(), "a row holding +∞");
        assert!(y[3 * n..4 * n].iter().all(|v| v.is_nan()), "a masked row");
        for r in [0, 2, 4] {
            let want = reference(&x[r * n..(r + 1) * n], 1.0, false);
            assert!(
                (y[r * n] as f64 - want[0]).abs() < 1e-6,
                "row {r} beside them"
            );
        }
    }

    /// The backward pass against `dx = y·(g − Σ g·y)·s` (log-softmax: `(g − e^y·Σ g)·s`) in
    /// f64, over the same row shapes, with the scale `s` 1 or not.
    #[test]
    fn backward_matches_f64() {
        for (rows, n) in [(3, 37), (150, 37), (200, 1), (3, 5000)] {
            let x = inputs(rows * n, n);
            let g = inputs(rows * n, 3 * n + 1);
            for (scale, log) in [(1.0, false), (1.0, true), (0.25, false), (-2.0, true)] {
                let y = softmax_last(&x, n, scale, log);
                let dx = softmax_last_backward(&y, &g, n, scale, log);
                for ((dx, y), g) in dx.chunks(n).zip(y.chunks(n)).zip(g.chunks(n)) {
                    let p: Vec<f64> = y
                        .iter()
                        .map(|&v| if log { (v as f64).exp() } else { v as f64 })
                        .collect();
                    let (sum_g, dot): (f64, f64) =
                        g.iter().zip(&p).fold((0.0, 0.0), |(s, d), (&gv, &pv)| {
                            (s + gv as f64, d + gv as f64 * pv)
                        });
                    for ((&got, &gv), &pv) in dx.iter().zip(g).zip(&p) {
                        let want = scale
                            * if log {
                                gv as f64 - pv * sum_g
                            } else {
                                pv * (gv as f64 - dot)
                            };
                        let size = scale.abs()
                            * if log {
                                sum_g.abs() + 1.0
                            } else {
                                dot.abs() + 1.0
                            };
                        assert!(
                            (got as f64 - want).abs() <= 1e-5 * size,
                            "{rows}×{n} scale={scale} log={log}: {got} vs {want}"
                        );
                    }
                }
            }
        }
    }

    /// Rows taken through the forward passes in blocks give, bit for bit, what each row gives
    /// alone, and so do their gradients: a block holds 8 rows, so 21 rows make two whole blocks
    /// and a part one, and a masked row among them must not disturb its neighbours.
    #[test]
    fn rows_in_blocks_give_what_each_row_gives_alone() {
        let (rows, n) = (21, 37);
        let mut x = inputs(rows * n, 5);
        x[9 * n..10 * n].fill(f32::NEG_INFINITY);
        let g = inputs(rows * n, 11);
        let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        for (scale, log) in [(1.0, false), (0.25, true)] {
            let y = softmax_last(&x, n, scale, log);
            let dx = softmax_last_backward(&y, &g, n, scale, log);
            for r in 0..rows {
                let row = r * n..(r + 1) * n;
                let y_alone = softmax_last(&x[row.clone()], n, scale, log);
                let dx_alone = softmax_last_backward(&y_alone, &g[row.clone()], n, scale, log);
                assert_eq!(bits(&y[row.clone()]), bits(&y_alone), "row {r}, log={log}");
                assert_eq!(bits(&dx[row]), bits(&dx_alone), "row {r}, log={log}");
            }
        }
    }
}
