//! The fused ops written with the primitive kernels only: the defaults of [`Backend`]'s fused
//! methods, and the reference that tests hold every backend's fused kernel to.
//!
//! Each is the textbook formula, one primitive per step; a backend overrides the method with one
//! kernel when the extra passes over memory matter.

use crate::backend::{AdamWStep, LayerNormGrads, LayerNormOutput};
use crate::ops::{Add, Div, Exp, Log, Max, Mul, Recip, Sqrt, Sub, Sum};
use crate::{Backend, Element, Layout, Result};

/// `[rows, 1]` per-row values seen as `[rows, n]` (stride 0 along the row).
fn per_row(rows: usize, n: usize) -> Result<Layout> {
    Layout::contiguous(&[rows, 1]).broadcast_to(&[rows, n])
}

/// `[d]` per-column values seen as `[rows, d]` (stride 0 down the columns).
fn per_column(rows: usize, d: usize) -> Result<Layout> {
    Layout::contiguous(&[d]).broadcast_to(&[rows, d])
}

/// `y_j = e^{x_j − m} / Σ_i e^{x_i − m}` with `m = max_i x_i` (or, with `log`,
/// `y_j = (x_j − m) − ln Σ_i e^{x_i − m}`) for each row of a contiguous `[rows, n]` input, after
/// multiplying it by `scale` (skipped when `scale` is 1).
///
/// A row whose maximum is not finite (all `−∞`) gives NaN here, as the unshifted formula does.
pub fn softmax_last<B: Backend, T: Element>(
    backend: &B,
    x: &B::Buffer<T>,
    rows: usize,
    n: usize,
    scale: f64,
    log: bool,
) -> Result<B::Buffer<T>> {
    let dense = Layout::contiguous(&[rows, n]);
    let scaled;
    let x = if scale == 1.0 {
        x
    } else {
        scaled = backend.binary_scalar::<T, Mul>(x, &dense, T::from_f64(scale))?;
        &scaled
    };
    let max = backend.reduce::<T, Max>(x, &dense, &[1])?;
    let shifted = backend.binary::<T, Sub>(x, &dense, &max, &per_row(rows, n)?)?;
    let exp = backend.unary::<T, Exp>(&shifted, &dense)?;
    let sum = backend.reduce::<T, Sum>(&exp, &dense, &[1])?;
    if log {
        let log_sum = backend.unary::<T, Log>(&sum, &Layout::contiguous(&[rows]))?;
        backend.binary::<T, Sub>(&shifted, &dense, &log_sum, &per_row(rows, n)?)
    } else {
        let inverse = backend.unary::<T, Recip>(&sum, &Layout::contiguous(&[rows]))?;
        backend.binary::<T, Mul>(&exp, &dense, &inverse, &per_row(rows, n)?)
    }
}

/// The backward pass of [`softmax_last`] from its output `y` and the upstream gradient `g`:
/// `dx_j = y_j·(g_j − Σ_i g_i·y_i)`, or for log-softmax `dx_j = g_j − e^{y_j}·Σ_i g_i`, then
/// multiplied by `scale` (skipped when `scale` is 1).
pub fn softmax_last_backward<B: Backend, T: Element>(
    backend: &B,
    y: &B::Buffer<T>,
    g: &B::Buffer<T>,
    rows: usize,
    n: usize,
    scale: f64,
    log: bool,
) -> Result<B::Buffer<T>> {
    let dense = Layout::contiguous(&[rows, n]);
    let unscaled = if log {
        let total = backend.reduce::<T, Sum>(g, &dense, &[1])?;
        let softmax = backend.unary::<T, Exp>(y, &dense)?;
        let scaled = backend.binary::<T, Mul>(&softmax, &dense, &total, &per_row(rows, n)?)?;
        backend.binary::<T, Sub>(g, &dense, &scaled, &dense)?
    } else {
        let products = backend.binary::<T, Mul>(g, &dense, y, &dense)?;
        let dot = backend.reduce::<T, Sum>(&products, &dense, &[1])?;
        let centered = backend.binary::<T, Sub>(g, &dense, &dot, &per_row(rows, n)?)?;
        backend.binary::<T, Mul>(y, &dense, &centered, &dense)?
    };
    if scale == 1.0 {
        return Ok(unscaled);
    }
    backend.binary_scalar::<T, Mul>(&unscaled, &dense, T::from_f64(scale))
}

/// Per-row mean of a contiguous `[rows, d]` buffer, as `[rows]` (0 for empty rows, as the
/// fused kernels give).
fn row_mean<B: Backend, T: Element>(
    backend: &B,
    x: &B::Buffer<T>,
    rows: usize,
    d: usize,
) -> Result<B::Buffer<T>> {
    let sum = backend.reduce::<T, Sum>(x, &Layout::contiguous(&[rows, d]), &[1])?;
    backend.binary_scalar::<T, Mul>(
        &sum,
        &Layout::contiguous(&[rows]),
        T::from_f64(1.0 / d.max(1) as f64),
    )
}

/// `μ = mean(x)`, `r = 1/√(mean((x − μ)²) + ε)`, `y = (x − μ)·r·γ + β` per row. The fused
/// kernels also take a constant row's value as its mean exactly (`Σx/d` can miss it by an ulp,
/// which `r` amplifies up to `1/√ε`); this textbook version does not, so the tests hold them to
/// it on rows that vary, and to `β` exactly on constant ones (`tensor/tests/stability.rs`).
pub fn layer_norm<B: Backend, T: Element>(
    backend: &B,
    x: &B::Buffer<T>,
    gamma: &B::Buffer<T>,
    beta: &B::Buffer<T>,
    rows: usize,
    d: usize,
    eps: f64,
) -> Result<LayerNormOutput<B::Buffer<T>>> {
    let dense = Layout::contiguous(&[rows, d]);
    let column = Layout::contiguous(&[rows]);
    let mean = row_mean(backend, x, rows, d)?;
    let centred = backend.binary::<T, Sub>(x, &dense, &mean, &per_row(rows, d)?)?;
    let squares = backend.binary::<T, Mul>(&centred, &dense, &centred, &dense)?;
    let variance = row_mean(backend, &squares, rows, d)?;
    let shifted = backend.binary_scalar::<T, Add>(&variance, &column, T::from_f64(eps))?;
    let std = backend.unary::<T, Sqrt>(&shifted, &column)?;
    let rstd = backend.unary::<T, Recip>(&std, &column)?;
    let normalized = backend.binary::<T, Mul>(&centred, &dense, &rstd, &per_row(rows, d)?)?;
    let scaled = backend.binary::<T, Mul>(&normalized, &dense, gamma, &per_column(rows, d)?)?;
    let y = backend.binary::<T, Add>(&scaled, &dense, beta, &per_column(rows, d)?)?;
    Ok(LayerNormOutput { y, mean, rstd })
}

/// With `x̂ = (x − μ)·r` and `g = dy·γ`: `dx = r·(g − mean(g) − x̂·mean(g·x̂))` per row,
/// `dγ = Σ_rows dy·x̂`, `dβ = Σ_rows dy`.
#[allow(clippy::too_many_arguments)]
pub fn layer_norm_backward<B: Backend, T: Element>(
    backend: &B,
    dy: &B::Buffer<T>,
    x: &B::Buffer<T>,
    mean: &B::Buffer<T>,
    rstd: &B::Buffer<T>,
    gamma: &B::Buffer<T>,
    rows: usize,
    d: usize,
) -> Result<LayerNormGrads<B::Buffer<T>>> {
    let dense = Layout::contiguous(&[rows, d]);
    let rowwise = per_row(rows, d)?;
    let centred = backend.binary::<T, Sub>(x, &dense, mean, &rowwise)?;
    let x_hat = backend.binary::<T, Mul>(&centred, &dense, rstd, &rowwise)?;
    let g = backend.binary::<T, Mul>(dy, &dense, gamma, &per_column(rows, d)?)?;
    let mean_g = row_mean(backend, &g, rows, d)?;
    let g_x_hat = backend.binary::<T, Mul>(&g, &dense, &x_hat, &dense)?;
    let mean_g_x_hat = row_mean(backend, &g_x_hat, rows, d)?;
    let less_mean = backend.binary::<T, Sub>(&g, &dense, &mean_g, &rowwise)?;
    let projection = backend.binary::<T, Mul>(&x_hat, &dense, &mean_g_x_hat, &rowwise)?;
    let inner = backend.binary::<T, Sub>(&less_mean, &dense, &projection, &dense)?;
    let dx = backend.binary::<T, Mul>(&inner, &dense, rstd, &rowwise)?;
    let dy_x_hat = backend.binary::<T, Mul>(dy, &dense, &x_hat, &dense)?;
    let dgamma = backend.reduce::<T, Sum>(&dy_x_hat, &dense, &[0])?;
    let dbeta = backend.reduce::<T, Sum>(dy, &dense, &[0])?;
    Ok(LayerNormGrads { dx, dgamma, dbeta })
}

/// `a + α·b` over `len` contiguous elements: `α·b` rounded, then the sum.
pub fn add_scaled<B: Backend, T: Element>(
    backend: &B,
    a: &B::Buffer<T>,
    b: &B::Buffer<T>,
    len: usize,
    alpha: T,
) -> Result<B::Buffer<T>> {
    let dense = Layout::contiguous(&[len]);
    let scaled = backend.binary_scalar::<T, Mul>(b, &dense, alpha)?;
    backend.binary::<T, Add>(a, &dense, &scaled, &dense)
}

/// `m' = β₁·m + (1 − β₁)·g`, `v' = β₂·v + (1 − β₂)·g²` (without moments: `(1 − β₁)·g` and
/// `(1 − β₂)·g²`), `p' = p·(1 − lr·λ) − ((m'/c₁)/(√(v'/c₂) + ε))·lr`; returns `[p', m', v']`.
pub fn adamw_update<B: Backend, T: Element>(
    backend: &B,
    p: &B::Buffer<T>,
    g: &B::Buffer<T>,
    moments: Option<[&B::Buffer<T>; 2]>,
    len: usize,
    step: &AdamWStep,
) -> Result<[B::Buffer<T>; 3]> {
    let dense = Layout::contiguous(&[len]);
    let scaled =
        |x: &B::Buffer<T>, s: f64| backend.binary_scalar::<T, Mul>(x, &dense, T::from_f64(s));
    let g_part = scaled(g, 1.0 - step.beta1)?;
    let square = backend.binary::<T, Mul>(g, &dense, g, &dense)?;
    let square_part = scaled(&square, 1.0 - step.beta2)?;
    let (m, v) = match moments {
        Some([m, v]) => (
            backend.binary::<T, Add>(&scaled(m, step.beta1)?, &dense, &g_part, &dense)?,
            backend.binary::<T, Add>(&scaled(v, step.beta2)?, &dense, &square_part, &dense)?,
        ),
        None => (g_part, square_part),
    };
    let divided =
        |x: &B::Buffer<T>, s: f64| backend.binary_scalar::<T, Div>(x, &dense, T::from_f64(s));
    let root = backend.unary::<T, Sqrt>(&divided(&v, step.bias_correction2)?, &dense)?;
    let denominator = backend.binary_scalar::<T, Add>(&root, &dense, T::from_f64(step.eps))?;
    let ratio = backend.binary::<T, Div>(
        &divided(&m, step.bias_correction1)?,
        &dense,
        &denominator,
        &dense,
    )?;
    let update = scaled(&ratio, step.lr)?;
    let decayed = scaled(p, 1.0 - step.lr * step.weight_decay)?;
    let p = backend.binary::<T, Sub>(&decayed, &dense, &update, &dense)?;
    Ok([p, m, v])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Cpu;

    /// Rows with no entries have the statistics the fused kernels give them: mean 0, and the
    /// reciprocal deviation of a zero variance, 1/√ε.
    #[test]
    fn empty_rows_have_the_fused_kernels_statistics() {
        let (rows, eps) = (3, 0.25);
        let empty = Cpu.from_host::<f64>(&[]).unwrap();
        let composed = layer_norm(&Cpu, &empty, &empty, &empty, rows, 0, eps).unwrap();
        let fused = Cpu
            .layer_norm(&empty, &empty, &empty, rows, 0, eps)
            .unwrap();
        let read = |b: &<Cpu as Backend>::Buffer<f64>| {
            Cpu.to_host(b, &Layout::contiguous(&[rows])).unwrap()
        };
        assert_eq!(read(&composed.mean), [0.0; 3]);
        assert_eq!(read(&composed.mean), read(&fused.mean));
        assert_eq!(read(&composed.rstd), read(&fused.rstd));
    }
}
