//! Fused layer norm over the last axis, forward and backward.

use super::isa::{lanes_sum, per_isa, LANES};
use super::parallel::PARALLEL_THRESHOLD;
use super::CpuBuffer;
use crate::backend::{LayerNormGrads, LayerNormOutput};
use crate::Element;
use rayon::prelude::*;

/// Forward: per row, `μ = mean(x)` (exactly the value of a constant row), `σ² = mean((x − μ)²)`,
/// `r = 1/√(σ² + ε)`, `y = (x − μ)·r·γ + β`. Returns `y`, `μ` and `r` (the last two for the
/// backward pass); out of memory for `μ` and `r` is an error (rows of no feature are bounded by
/// no input buffer).
pub fn layer_norm<T: Element>(
    x: &[T],
    gamma: &[T],
    beta: &[T],
    rows: usize,
    d: usize,
    eps: f64,
) -> crate::Result<LayerNormOutput<CpuBuffer<T>>> {
    let mut y = CpuBuffer::for_overwrite(rows * d);
    let mut mean = CpuBuffer::try_for_overwrite("layer_norm", rows)?;
    let mut rstd = CpuBuffer::try_for_overwrite("layer_norm", rows)?;
    let eps = T::from_f64(eps);
    let (gamma, beta) = (&gamma[..d], &beta[..d]);
    let normalize = |first_row: usize, y: &mut [T], mean: &mut [T], rstd: &mut [T]| {
        let x = &x[first_row * d..(first_row + mean.len()) * d];
        normalize_rows(x, gamma, beta, eps, y, mean, rstd)
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
    Ok(LayerNormOutput { y, mean, rstd })
}

/// How many rows one parallel task takes: all of them when the input is small.
fn rows_per_task(rows: usize, d: usize) -> usize {
    if rows * d < PARALLEL_THRESHOLD {
        return rows.max(1);
    }
    rows.div_ceil(rayon::current_num_threads() * 4).max(1)
}

/// How many blocks of rows (at most) the backward pass sums `dγ` and `dβ` over before adding the
/// blocks' sums: a number fixed by the row count, not one per thread, so that the order of the
/// additions, and with it the gradients' last bits, is the same on any number of threads (eight
/// keep eight threads busy).
const GRADIENT_BLOCKS: usize = 8;

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
    let gamma = &gamma[..d];
    let block = match rows * d < PARALLEL_THRESHOLD {
        true => rows.max(1),
        false => rows.div_ceil(GRADIENT_BLOCKS).max(1),
    };
    // Each block of rows computes dx for its rows and partial sums of dγ and dβ; partials are
    // then added in order, so no two threads write the same accumulator.
    let partials: Vec<(Vec<T>, Vec<T>)> = if d == 0 {
        Vec::new()
    } else {
        dx.par_chunks_mut(block * d)
            .enumerate()
            .map(|(b, dx_block)| {
                let mut dgamma = vec![T::zero(); d];
                let mut dbeta = vec![T::zero(); d];
                let rows = b * block..b * block + dx_block.len() / d;
                backward_rows(
                    BackwardRows {
                        dy: &dy[rows.start * d..rows.end * d],
                        x: &x[rows.start * d..rows.end * d],
                        mean: &mean[rows.clone()],
                        rstd: &rstd[rows],
                        gamma,
                    },
                    dx_block,
                    &mut dgamma,
                    &mut dbeta,
                );
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

per_isa! {
    /// The forward pass over whole rows: `mean` and `rstd` hold one entry per row of `x` and
    /// `y`, whose rows have `gamma.len()` elements. Row sums fold in lanes, so they vectorize.
    pub(crate) fn normalize_rows<T: Element>(
        x: &[T],
        gamma: &[T],
        beta: &[T],
        eps: T,
        y: &mut [T],
        mean: &mut [T],
        rstd: &mut [T],
    ) {
        let d = gamma.len();
        let inv_d = T::from_f64(1.0 / d.max(1) as f64);
        // Rows are counted by `mean`, not by chunks of `y`: with `d = 0` there are none of those.
        for (r, (mu, rs)) in mean.iter_mut().zip(rstd).enumerate() {
            let out = &mut y[r * d..(r + 1) * d];
            let input = &x[r * d..(r + 1) * d];
            let m = match input.first() {
                // A row of one value is its own mean, exactly, as in PyTorch: `Σx·(1/d)` can
                // miss it by an ulp, which `r` (up to 1/√ε) would amplify to 4e-3 at ε = 1e-6.
                Some(&first) if input.iter().all(|&v| v == first) => first,
                _ => lanes_sum(input, |v| v) * inv_d,
            };
            let var = lanes_sum(input, |v| (v - m) * (v - m)) * inv_d;
            // A variance past the type's range would make `inv` 0 and every `y` its `β`,
            // silently: NaN says the row cannot be normalized in this type.
            let inv = if var.is_infinite() {
                T::nan()
            } else {
                (var + eps).sqrt().recip()
            };
            for (((o, &v), &g), &b) in out.iter_mut().zip(input).zip(gamma).zip(beta) {
                *o = (v - m) * inv * g + b;
            }
            (*mu, *rs) = (m, inv);
        }
    }
}

/// The forward pass's saved values and the incoming gradient for a block of rows.
pub(crate) struct BackwardRows<'a, T> {
    dy: &'a [T],
    x: &'a [T],
    mean: &'a [T],
    rstd: &'a [T],
    gamma: &'a [T],
}

per_isa! {
    /// The backward pass over a block of rows: writes `dx` and adds the block's `dγ`, `dβ`
    /// into `dgamma`, `dbeta`. The row means of `g` and `g·x̂` fold in lanes.
    pub(crate) fn backward_rows<T: Element>(
        rows: BackwardRows<'_, T>,
        dx: &mut [T],
        dgamma: &mut [T],
        dbeta: &mut [T],
    ) {
        let BackwardRows { dy, x, mean, rstd, gamma } = rows;
        let d = gamma.len();
        let inv_d = T::from_f64(1.0 / d.max(1) as f64);
        for (r, dx_row) in dx.chunks_mut(d).enumerate() {
            let (x_row, dy_row) = (&x[r * d..(r + 1) * d], &dy[r * d..(r + 1) * d]);
            let (mu, rs) = (mean[r], rstd[r]);
            let mut sum_g = [T::zero(); LANES];
            let mut sum_gx = [T::zero(); LANES];
            let full = d / LANES * LANES;
            let chunks = x_row[..full]
                .chunks_exact(LANES)
                .zip(dy_row.chunks_exact(LANES))
                .zip(gamma.chunks_exact(LANES))
                .zip(dgamma.chunks_exact_mut(LANES))
                .zip(dbeta.chunks_exact_mut(LANES));
            for ((((xs, dys), gs), dgs), dbs) in chunks {
                for l in 0..LANES {
                    let xhat = (xs[l] - mu) * rs;
                    let g = dys[l] * gs[l];
                    sum_g[l] = sum_g[l] + g;
                    sum_gx[l] = sum_gx[l] + g * xhat;
                    dgs[l] = dgs[l] + dys[l] * xhat;
                    dbs[l] = dbs[l] + dys[l];
                }
            }
            for j in full..d {
                let xhat = (x_row[j] - mu) * rs;
                let g = dy_row[j] * gamma[j];
                sum_g[0] = sum_g[0] + g;
                sum_gx[0] = sum_gx[0] + g * xhat;
                dgamma[j] = dgamma[j] + dy_row[j] * xhat;
                dbeta[j] = dbeta[j] + dy_row[j];
            }
            let mean_g = lanes_sum(&sum_g, |v| v) * inv_d;
            let mean_gx = lanes_sum(&sum_gx, |v| v) * inv_d;
            for (((o, &xv), &dyv), &gv) in dx_row.iter_mut().zip(x_row).zip(dy_row).zip(gamma) {
                let xhat = (xv - mu) * rs;
                *o = rs * (dyv * gv - mean_g - xhat * mean_gx);
            }
        }
    }
}
