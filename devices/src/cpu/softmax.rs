//! Row-wise softmax and log-softmax.

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
        let input = &x[start..start + dst.len()];
        for (row_out, row_in) in dst.chunks_mut(n).zip(input.chunks(n)) {
            let max = row_in.iter().fold(T::neg_infinity(), |m, &v| m.max(v));
            // A row of -inf (fully masked) has no finite maximum; shifting by 0 keeps it NaN-free
            // until the division, exactly like an unshifted softmax would.
            let shift = if max.is_finite() { max } else { T::zero() };
            let mut sum = T::zero();
            for (o, &v) in row_out.iter_mut().zip(row_in) {
                *o = (v - shift).exp();
                sum = sum + *o;
            }
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
    });
    out
}
