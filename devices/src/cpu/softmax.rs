//! Row-wise softmax and log-softmax.

use super::isa::{lanes_fold, lanes_sum, per_isa};
use super::parallel::for_each_chunk;
use super::CpuBuffer;
use crate::Element;

/// Softmax of each row of a contiguous `[rows, n]` input:
/// `y_j = e^{x_j − m} / Σ_i e^{x_i − m}` with `m = max_i x_i`, so no exponent overflows;
/// with `log`, `y_j = x_j − m − ln Σ_i e^{x_i − m}`.
pub fn softmax_last<T: Element>(x: &[T], n: usize, log: bool) -> CpuBuffer<T> {
    let mut out = CpuBuffer::for_overwrite(x.len());
    if n == 0 {
        return out;
    }
    for_each_chunk(&mut out, n, |start, dst| {
        softmax_rows(dst, &x[start..start + dst.len()], n, log)
    });
    out
}

per_isa! {
    /// Softmax (or log-softmax) of each `n`-long row of `src` into `dst`. Rows with a finite
    /// maximum use the lane `exp` (their shifted inputs are ≤ 0, where it is within 2 ulp);
    /// a row holding +∞ or only −∞/NaN takes libm's `exp`, so it gives the same NaNs and
    /// infinities as the textbook formula.
    pub(crate) fn softmax_rows<T: Element>(dst: &mut [T], src: &[T], n: usize, log: bool) {
        for (row_out, row_in) in dst.chunks_mut(n).zip(src.chunks(n)) {
            let max = lanes_fold(row_in, T::neg_infinity(), |v| v, |m, v| m.max(v));
            // A row of -inf (fully masked) has no finite maximum; shifting by 0 keeps it
            // NaN-free until the division, exactly like an unshifted softmax would.
            let shift = if max.is_finite() { max } else { T::zero() };
            if max.is_finite() {
                for (o, &v) in row_out.iter_mut().zip(row_in) {
                    *o = (v - shift).exp_lanes();
                }
            } else {
                for (o, &v) in row_out.iter_mut().zip(row_in) {
                    *o = (v - shift).exp();
                }
            }
            let sum = lanes_sum(row_out, |v| v);
            if log {
                // (x − m) − ln Σ, not x − (m + ln Σ): the first is exact where x = m.
                let log_sum = sum.ln();
                for (o, &v) in row_out.iter_mut().zip(row_in) {
                    *o = (v - shift) - log_sum;
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

#[cfg(test)]
mod tests {
    use super::softmax_last;

    /// Rows whose length is not a multiple of the lanes, against softmax in f64, and the
    /// non-finite rows against the textbook formula's NaNs.
    #[test]
    fn rows_match_f64_and_non_finite_rows_give_nan() {
        let n = 37;
        let x: Vec<f32> = (0..3 * n)
            .map(|i| ((i * 7919) % 101) as f32 / 9.0 - 5.0)
            .collect();
        for log in [false, true] {
            let y = softmax_last(&x, n, log);
            for (row_y, row_x) in y.chunks(n).zip(x.chunks(n)) {
                let max = row_x
                    .iter()
                    .fold(f64::NEG_INFINITY, |m, &v| m.max(v as f64));
                let sum: f64 = row_x.iter().map(|&v| (v as f64 - max).exp()).sum();
                for (&got, &v) in row_y.iter().zip(row_x) {
                    let want = if log {
                        v as f64 - max - sum.ln()
                    } else {
                        (v as f64 - max).exp() / sum
                    };
                    assert!((got as f64 - want).abs() <= 1e-6 * want.abs().max(1.0));
                }
            }
        }
        let mut with_inf = vec![0.0f32; n];
        with_inf[3] = f32::INFINITY;
        assert!(softmax_last(&with_inf, n, false)[3].is_nan());
        let masked = vec![f32::NEG_INFINITY; n];
        assert!(softmax_last(&masked, n, false).iter().all(|v| v.is_nan()));
    }
}
