//! Fused layer norm over the last axis, forward and backward.

use super::parallel::PARALLEL_THRESHOLD;
use super::CpuBuffer;
use crate::backend::{LayerNormGrads, LayerNormOutput};
use crate::Element;
use rayon::prelude::*;

/// Forward: per row, `μ = mean(x)`, `σ² = mean((x − μ)²)`, `r = 1/√(σ² + ε)`,
/// `y = (x − μ)·r·γ + β`. Returns `y`, `μ` and `r` (the last two for the backward pass).
pub fn layer_norm<T: Element>(
    x: &[T],
    gamma: &[T],
    beta: &[T],
    rows: usize,
    d: usize,
    eps: f64,
) -> LayerNormOutput<CpuBuffer<T>> {
    let mut y = CpuBuffer::for_overwrite(rows * d);
    let mut mean = CpuBuffer::for_overwrite(rows);
    let mut rstd = CpuBuffer::for_overwrite(rows);
    let eps = T::from_f64(eps);
    let inv_d = T::from_f64(1.0 / d.max(1) as f64);
    let normalize = |first_row: usize, y: &mut [T], mean: &mut [T], rstd: &mut [T]| {
        // Rows are counted by `mean`, not by chunks of `y`: with `d = 0` there are none of those.
        for (r, (mu, rs)) in mean.iter_mut().zip(rstd).enumerate() {
            let out = &mut y[r * d..(r + 1) * d];
            let input = &x[(first_row + r) * d..(first_row + r + 1) * d];
            *mu = input.iter().copied().sum::<T>() * inv_d;
            let var = input.iter().map(|&v| (v - *mu) * (v - *mu)).sum::<T>() * inv_d;
            *rs = (var + eps).sqrt().recip();
            for (((o, &v), &g), &b) in out.iter_mut().zip(input).zip(gamma).zip(beta) {
                *o = (v - *mu) * *rs * g + b;
            }
        }
    };
    let rows_per_task = rows_per_task(rows, d);
    if rows_per_task >= rows || d == 0 {
        normalize(0, &mut y, &mut mean, &mut rstd);
    } else {
        y.par_chunks_mut(rows_per_task * d)
            .zip(mean.par_chunks_mut(rows_per_task))
            .zip(rstd.par_chunks_mut(rows_per_task))
            .enumerate()
            .for_each(|(t, ((y, mean), rstd))| normalize(t * rows_per_task, y, mean, rstd));
    }
    LayerNormOutput { y, mean, rstd }
}

/// How many rows one parallel task takes: all of them when the input is small.
fn rows_per_task(rows: usize, d: usize) -> usize {
    if rows * d < PARALLEL_THRESHOLD {
        return rows.max(1);
    }
    rows.div_ceil(rayon::current_num_threads() * 4).max(1)
}

/// Backward: with `x̂ = (x − μ)·r` and `g = dy·γ`,
/// `dx = r·(g − mean(g) − x̂·mean(g·x̂))`, `dγ = Σ_rows dy·x̂`, `dβ = Σ_rows dy`.
#[allow(clippy::too_many_arguments)]
pub fn layer_norm_backward<T: Element>(
    dy: &[T],
    x: &[T],
    mean: &[T],
    rstd: &[T],
    gamma: &[T],
    rows: usize,
    d: usize,
) -> LayerNormGrads<CpuBuffer<T>> {
    let mut dx = CpuBuffer::for_overwrite(rows * d);
    let inv_d = T::from_f64(1.0 / d.max(1) as f64);
    let block = rows_per_task(rows, d);
    // Each block of rows computes dx for its rows and partial sums of dγ and dβ; partials are
    // then added, so no two threads write the same accumulator.
    let partials: Vec<(Vec<T>, Vec<T>)> = if d == 0 {
        Vec::new()
    } else {
        dx.par_chunks_mut(block * d)
            .enumerate()
            .map(|(b, dx_block)| {
                let mut dgamma = vec![T::zero(); d];
                let mut dbeta = vec![T::zero(); d];
                for (i, dx_row) in dx_block.chunks_mut(d).enumerate() {
                    let r = b * block + i;
                    let (x_row, dy_row) = (&x[r * d..(r + 1) * d], &dy[r * d..(r + 1) * d]);
                    let (mu, rs) = (mean[r], rstd[r]);
                    let mut mean_g = T::zero();
                    let mut mean_gx = T::zero();
                    for j in 0..d {
                        let xhat = (x_row[j] - mu) * rs;
                        let g = dy_row[j] * gamma[j];
                        mean_g = mean_g + g;
                        mean_gx = mean_gx + g * xhat;
                        dgamma[j] = dgamma[j] + dy_row[j] * xhat;
                        dbeta[j] = dbeta[j] + dy_row[j];
                    }
                    mean_g = mean_g * inv_d;
                    mean_gx = mean_gx * inv_d;
                    for j in 0..d {
                        let xhat = (x_row[j] - mu) * rs;
                        dx_row[j] = rs * (dy_row[j] * gamma[j] - mean_g - xhat * mean_gx);
                    }
                }
                (dgamma, dbeta)
            })
            .collect()
    };
    let mut dgamma = CpuBuffer::filled(d, T::zero());
    let mut dbeta = CpuBuffer::filled(d, T::zero());
    for (pg, pb) in partials {
        for j in 0..d {
            dgamma[j] = dgamma[j] + pg[j];
            dbeta[j] = dbeta[j] + pb[j];
        }
    }
    LayerNormGrads { dx, dgamma, dbeta }
}
