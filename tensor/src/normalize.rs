//! Fused row-wise ops: softmax, log-softmax and layer norm.

use crate::Tensor;
use devices::{shape_str, Error, LayerNormGrads, LayerNormOutput, Result};

impl Tensor {
    /// Applies a row kernel to `axis`, moving it last (and back) when needed.
    fn along_last(
        &self,
        op: &'static str,
        axis: usize,
        kernel: impl Fn(&Tensor) -> Result<Tensor>,
    ) -> Result<Tensor> {
        self.layout().check_axis(op, axis)?;
        let last = self.rank() - 1;
        if axis == last {
            return kernel(self);
        }
        kernel(&self.transpose(axis, last)?)?.transpose(axis, last)
    }

    fn softmax_impl(&self, op: &'static str, axis: usize, scale: f64, log: bool) -> Result<Tensor> {
        self.along_last(op, axis, |x| {
            let (dense, rows, n) = x.dense_rows(op)?;
            Ok(Tensor::from_storage(
                dense.storage().softmax_last(rows, n, scale, log)?,
                x.shape(),
            ))
        })
    }

    /// `softmax(x)_j = e^{x_j} / Σ_i e^{x_i}` along `axis`, computed as
    /// `e^{x_j − max}/Σ e^{x_i − max}` so that large inputs do not overflow.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let x = Tensor::from_f64s(&[0.0, 0.0, 1000.0, 1000.0], &[2, 2], DType::F64)?;
    /// // Each row sums to 1; a row of large equal values does not overflow.
    /// assert_eq!(x.softmax(1)?.to_vec_f64()?, [0.5, 0.5, 0.5, 0.5]);
    /// let y = Tensor::from_f64s(&[0.0, 2f64.ln()], &[2], DType::F64)?.softmax(0)?.to_vec_f64()?;
    /// assert!((y[0] - 1.0 / 3.0).abs() < 1e-12 && (y[1] - 2.0 / 3.0).abs() < 1e-12);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn softmax(&self, axis: usize) -> Result<Tensor> {
        self.softmax_impl("softmax", axis, 1.0, false)
    }

    /// `softmax(scale·x)` along `axis` (attention's `softmax(Q·Kᵀ/√d)`), the product taken as
    /// each element is read: the same numbers as `x.mul_scalar(scale)?.softmax(axis)`, without
    /// that pass over memory.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let x = Tensor::from_f64s(&[0.0, 2.0 * 3f64.ln()], &[2], DType::F64)?;
    /// let y = x.scaled_softmax(0, 0.5)?.to_vec_f64()?; // softmax([0, ln 3]) = [¼, ¾]
    /// assert!((y[0] - 0.25).abs() < 1e-12 && (y[1] - 0.75).abs() < 1e-12);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn scaled_softmax(&self, axis: usize, scale: f64) -> Result<Tensor> {
        self.softmax_impl("softmax", axis, scale, false)
    }

    /// `log_softmax(x)_j = x_j − max − ln Σ_i e^{x_i − max}` along `axis`.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let x = Tensor::from_f64s(&[5.0, 5.0], &[2], DType::F64)?;
    /// let y = x.log_softmax(0)?.to_vec_f64()?;
    /// assert!(y.iter().all(|v| (v + 2f64.ln()).abs() < 1e-12)); // ln ½ each
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn log_softmax(&self, axis: usize) -> Result<Tensor> {
        self.softmax_impl("log_softmax", axis, 1.0, true)
    }

    /// The gradient of [`Tensor::scaled_softmax`] with respect to its input `x` along `axis`,
    /// from its output `self` (`y`) and the upstream gradient `grad` (same shape):
    /// `dx_j = y_j·(g_j − Σ_i g_i·y_i)·scale`, in one pass (`scale` 1 for [`Tensor::softmax`]).
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let y = Tensor::from_f64s(&[0.25, 0.75], &[2], DType::F64)?;
    /// let g = Tensor::from_f64s(&[1.0, 0.0], &[2], DType::F64)?;
    /// // Σ g·y = 0.25, so dx = [0.25·0.75, 0.75·(−0.25)].
    /// assert_eq!(y.softmax_backward(&g, 0, 1.0)?.to_vec_f64()?, [0.1875, -0.1875]);
    /// assert_eq!(y.softmax_backward(&g, 0, 2.0)?.to_vec_f64()?, [0.375, -0.375]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn softmax_backward(&self, grad: &Tensor, axis: usize, scale: f64) -> Result<Tensor> {
        self.softmax_backward_impl("softmax_backward", grad, axis, scale, false)
    }

    /// The gradient of [`Tensor::log_softmax`] along `axis`, from its output `self` (`y`) and the
    /// upstream gradient `grad` (same shape): `dx_j = g_j − e^{y_j}·Σ_i g_i`, in one pass.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let y = Tensor::from_f64s(&[0.5f64.ln(), 0.5f64.ln()], &[2], DType::F64)?;
    /// let g = Tensor::from_f64s(&[1.0, 0.0], &[2], DType::F64)?;
    /// let dx = y.log_softmax_backward(&g, 0)?.to_vec_f64()?; // [1 − ½, 0 − ½]
    /// assert!((dx[0] - 0.5).abs() < 1e-12 && (dx[1] + 0.5).abs() < 1e-12);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn log_softmax_backward(&self, grad: &Tensor, axis: usize) -> Result<Tensor> {
        self.softmax_backward_impl("log_softmax_backward", grad, axis, 1.0, true)
    }

    fn softmax_backward_impl(
        &self,
        op: &'static str,
        grad: &Tensor,
        axis: usize,
        scale: f64,
        log: bool,
    ) -> Result<Tensor> {
        self.check_same_kind(op, grad)?;
        if self.shape() != grad.shape() {
            return Err(Error::shape(
                op,
                format!(
                    "the output is {} but its gradient is {}",
                    shape_str(self.shape()),
                    shape_str(grad.shape())
                ),
            ));
        }
        self.along_last(op, axis, |y| {
            // `grad` moved the way `along_last` moved `self` (nothing when `axis` is last).
            let g = if axis + 1 == self.rank() {
                grad.contiguous()?
            } else {
                grad.transpose(axis, self.rank() - 1)?.contiguous()?
            };
            let (y, rows, n) = y.dense_rows(op)?;
            Ok(Tensor::from_storage(
                y.storage()
                    .softmax_last_backward(g.storage(), rows, n, scale, log)?,
                y.shape(),
            ))
        })
    }

    /// Layer norm over the last axis: `y = (x − μ)/√(σ² + ε)·γ + β`, with `γ`, `β` of shape `[d]`
    /// and `ε` finite and ≥ 0 (an error otherwise). A row whose `σ²` overflows the type (f32
    /// values spread wider than about 1.8·10¹⁹) gives NaN, as its `rstd` does.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let x = Tensor::from_f64s(&[1.0, 3.0, 10.0, 30.0], &[2, 2], DType::F64)?;
    /// let gamma = Tensor::from_f64s(&[1.0, 2.0], &[2], DType::F64)?;
    /// let beta = Tensor::from_f64s(&[0.0, 1.0], &[2], DType::F64)?;
    /// // Each row becomes [-1, 1] (mean 0, variance 1), then ·γ + β.
    /// let y = x.layer_norm(&gamma, &beta, 0.0)?.to_vec_f64()?;
    /// for (got, want) in y.iter().zip([-1.0, 3.0, -1.0, 3.0]) {
    ///     assert!((got - want).abs() < 1e-12, "{got} vs {want}");
    /// }
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn layer_norm(&self, gamma: &Tensor, beta: &Tensor, eps: f64) -> Result<Tensor> {
        Ok(self.layer_norm_with_stats(gamma, beta, eps)?.y)
    }

    /// Layer norm that also returns the per-row mean and `1/√(σ² + ε)` (what the backward needs).
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let x = Tensor::from_f64s(&[1.0, 3.0, 10.0, 30.0], &[2, 2], DType::F64)?;
    /// let (gamma, beta) = (Tensor::ones(&[2], DType::F64), Tensor::zeros(&[2], DType::F64));
    /// let stats = x.layer_norm_with_stats(&gamma, &beta, 0.0)?;
    /// assert_eq!(stats.mean.to_vec_f64()?, [2.0, 20.0]);
    /// let rstd = stats.rstd.to_vec_f64()?; // 1/σ with σ = 1 and 10
    /// assert!((rstd[0] - 1.0).abs() < 1e-12 && (rstd[1] - 0.1).abs() < 1e-12);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn layer_norm_with_stats(
        &self,
        gamma: &Tensor,
        beta: &Tensor,
        eps: f64,
    ) -> Result<LayerNormOutput<Tensor>> {
        self.check_same_kind("layer_norm", gamma)?;
        self.check_same_kind("layer_norm", beta)?;
        if !(eps.is_finite() && eps >= 0.0) {
            return Err(Error::invalid(
                "layer_norm",
                format!("eps = {eps} must be finite and ≥ 0 (it is added to the variance)"),
            ));
        }
        let (x, rows, d) = self.dense_rows("layer_norm")?;
        if gamma.shape() != [d] || beta.shape() != [d] {
            return Err(Error::shape(
                "layer_norm",
                format!(
                    "input {} needs scale and shift of shape [{d}], got {} and {}",
                    shape_str(self.shape()),
                    shape_str(gamma.shape()),
                    shape_str(beta.shape())
                ),
            ));
        }
        let (gamma, beta) = (gamma.contiguous()?, beta.contiguous()?);
        let out = x
            .storage()
            .layer_norm(gamma.storage(), beta.storage(), rows, d, eps)?;
        let row_shape = &self.shape()[..self.rank() - 1];
        Ok(LayerNormOutput {
            y: Tensor::from_storage(out.y, self.shape()),
            mean: Tensor::from_storage(out.mean, row_shape),
            rstd: Tensor::from_storage(out.rstd, row_shape),
        })
    }

    /// Gradients of [`Tensor::layer_norm`] given the upstream gradient `self = dy`, the input `x`,
    /// the saved statistics and `γ`: with `x̂ = (x − μ)·r` and `g = dy·γ`,
    /// `dx = r·(g − mean(g) − x̂·mean(g·x̂))`, `dγ = Σ_rows dy·x̂`, `dβ = Σ_rows dy`.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let x = Tensor::from_f64s(&[1.0, 3.0], &[1, 2], DType::F64)?;
    /// let (gamma, beta) = (Tensor::ones(&[2], DType::F64), Tensor::zeros(&[2], DType::F64));
    /// let stats = x.layer_norm_with_stats(&gamma, &beta, 0.0)?;
    /// // A gradient that only shifts the row is absorbed by the mean: dx = 0, dβ = dy.
    /// let dy = Tensor::from_f64s(&[1.0, 1.0], &[1, 2], DType::F64)?;
    /// let grads = dy.layer_norm_backward(&x, &stats.mean, &stats.rstd, &gamma)?;
    /// assert!(grads.dx.to_vec_f64()?.iter().all(|v| v.abs() < 1e-12));
    /// assert_eq!(grads.dbeta.to_vec_f64()?, [1.0, 1.0]);
    /// assert_eq!(grads.dgamma.to_vec_f64()?, [-1.0, 1.0]); // Σ dy·x̂ with x̂ = [-1, 1]
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn layer_norm_backward(
        &self,
        x: &Tensor,
        mean: &Tensor,
        rstd: &Tensor,
        gamma: &Tensor,
    ) -> Result<LayerNormGrads<Tensor>> {
        if self.shape() != x.shape() {
            return Err(Error::shape(
                "layer_norm_backward",
                format!(
                    "gradient {} and input {} differ",
                    shape_str(self.shape()),
                    shape_str(x.shape())
                ),
            ));
        }
        for t in [x, mean, rstd, gamma] {
            self.check_same_kind("layer_norm_backward", t)?;
        }
        let (dy, rows, d) = self.dense_rows("layer_norm_backward")?;
        let row_shape = &self.shape()[..self.rank() - 1];
        if mean.shape() != row_shape || rstd.shape() != row_shape || gamma.shape() != [d] {
            return Err(Error::shape(
                "layer_norm_backward",
                format!(
                    "input {} needs mean and rstd of shape {} and scale of shape [{d}], \
                     got {}, {} and {}",
                    shape_str(self.shape()),
                    shape_str(row_shape),
                    shape_str(mean.shape()),
                    shape_str(rstd.shape()),
                    shape_str(gamma.shape())
                ),
            ));
        }
        let (x, mean, rstd, gamma) = (
            x.contiguous()?,
            mean.contiguous()?,
            rstd.contiguous()?,
            gamma.contiguous()?,
        );
        let grads = dy.storage().layer_norm_backward(
            x.storage(),
            mean.storage(),
            rstd.storage(),
            gamma.storage(),
            rows,
            d,
        )?;
        Ok(LayerNormGrads {
            dx: Tensor::from_storage(grads.dx, self.shape()),
            dgamma: Tensor::from_storage(grads.dgamma, &[d]),
            dbeta: Tensor::from_storage(grads.dbeta, &[d]),
        })
    }
}
