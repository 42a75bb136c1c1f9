//! Softmax, log-softmax and layer norm, with fused backward rules.

use crate::{Op, Var};
use tensor::Result;

impl Var {
    /// `yⱼ = e^{xⱼ}/Σᵢ e^{xᵢ}` along `axis`; `dx = y ⊙ (g − Σ g⊙y)` (sum along `axis`).
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let x = Var::parameter(Tensor::from_f64s(&[0.0, 0.0], &[2], DType::F64)?);
    /// let y = x.softmax(0)?;
    /// assert_eq!(y.value().to_vec_f64()?, [0.5, 0.5]);
    /// // L = y₀: raising x₀ raises y₀ as much as raising x₁ lowers it.
    /// let first = Var::constant(Tensor::from_f64s(&[1.0, 0.0], &[2], DType::F64)?);
    /// let grads = y.mul(&first)?.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&x).unwrap().to_vec_f64()?, [0.25, -0.25]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn softmax(&self, axis: usize) -> Result<Var> {
        self.scaled_softmax(axis, 1.0)
    }

    /// `yⱼ = e^{s·xⱼ}/Σᵢ e^{s·xᵢ}` along `axis` for a constant `s` (attention's
    /// `softmax(Q·Kᵀ/√d)`); `dx = s·y ⊙ (g − Σ g⊙y)`. The same numbers as
    /// `x.mul_scalar(s)?.softmax(axis)`, forward and backward (bit for bit on the CPU; to
    /// rounding on OpenCL, whose compiler may fuse the scaling into what follows), with one pass
    /// over the scores each way instead of two.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let x = Var::parameter(Tensor::from_f64s(&[0.0, 0.0], &[2], DType::F64)?);
    /// let y = x.scaled_softmax(0, 0.5)?;
    /// let first = Var::constant(Tensor::from_f64s(&[1.0, 0.0], &[2], DType::F64)?);
    /// let grads = y.mul(&first)?.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&x).unwrap().to_vec_f64()?, [0.125, -0.125]); // ½ of softmax's
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn scaled_softmax(&self, axis: usize, scale: f64) -> Result<Var> {
        let y = self.value().scaled_softmax(axis, scale)?;
        let saved = y.clone();
        Ok(Var::record(Op::Softmax, y, &[self], move |g, _| {
            Ok(vec![Some(saved.softmax_backward(g, axis, scale)?)])
        }))
    }

    /// `yⱼ = xⱼ − ln Σᵢ e^{xᵢ}` along `axis`; `dx = g − softmax(x)·Σ g` (sum along `axis`).
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let x = Var::parameter(Tensor::from_f64s(&[0.0, 0.0], &[2], DType::F64)?);
    /// let y = x.log_softmax(0)?;
    /// assert!(y.value().to_vec_f64()?.iter().all(|v| (v + 2f64.ln()).abs() < 1e-12));
    /// let first = Var::constant(Tensor::from_f64s(&[1.0, 0.0], &[2], DType::F64)?);
    /// let grads = y.mul(&first)?.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&x).unwrap().to_vec_f64()?, [0.5, -0.5]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn log_softmax(&self, axis: usize) -> Result<Var> {
        let y = self.value().log_softmax(axis)?;
        let saved = y.clone();
        Ok(Var::record(Op::LogSoftmax, y, &[self], move |g, _| {
            Ok(vec![Some(saved.log_softmax_backward(g, axis)?)])
        }))
    }

    /// Layer norm over the last axis (`d` elements): `y = x̂·γ + β` with `x̂ = (x − μ)·r`,
    /// `r = 1/√(σ² + ε)`, `μ = (1/d)Σx` and the biased `σ² = (1/d)Σ(x − μ)²` (as PyTorch's).
    /// Fused backward (one kernel, not a chain of small ops): with `h = g·γ`,
    /// `dx = r·(h − mean(h) − x̂·mean(h·x̂))`, `dγ = Σ_rows g·x̂`, `dβ = Σ_rows g`.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let x = Var::constant(Tensor::from_f64s(&[1.0, 3.0], &[1, 2], DType::F64)?);
    /// let gamma = Var::parameter(Tensor::from_f64s(&[1.0, 1.0], &[2], DType::F64)?);
    /// let beta = Var::parameter(Tensor::from_f64s(&[0.0, 0.0], &[2], DType::F64)?);
    /// let y = x.layer_norm(&gamma, &beta, 0.0)?;
    /// assert_eq!(y.value().to_vec_f64()?, [-1.0, 1.0]); // x̂
    /// let w = Var::constant(Tensor::from_f64s(&[1.0, 2.0], &[1, 2], DType::F64)?);
    /// let grads = y.mul(&w)?.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&gamma).unwrap().to_vec_f64()?, [-1.0, 2.0]); // Σ g·x̂
    /// assert_eq!(grads.get(&beta).unwrap().to_vec_f64()?, [1.0, 2.0]); // Σ g
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn layer_norm(&self, gamma: &Var, beta: &Var, eps: f64) -> Result<Var> {
        let stats = self
            .value()
            .layer_norm_with_stats(gamma.value(), beta.value(), eps)?;
        let (x, gamma_value) = (self.value().clone(), gamma.value().clone());
        let (mean, rstd) = (stats.mean, stats.rstd);
        Ok(Var::record(
            Op::LayerNorm,
            stats.y,
            &[self, gamma, beta],
            move |g, _| {
                let grads = g.layer_norm_backward(&x, &mean, &rstd, &gamma_value)?;
                Ok(vec![Some(grads.dx), Some(grads.dgamma), Some(grads.dbeta)])
            },
        ))
    }
}
