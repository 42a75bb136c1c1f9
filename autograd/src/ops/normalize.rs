//! Softmax, log-softmax and layer norm, with fused backward rules.

use crate::{Op, Var};
use tensor::Result;

impl Var {
    /// `yⱼ = e^{xⱼ}/Σᵢ e^{xᵢ}` along `axis`; `dx = y ⊙ (g − Σ g⊙y)` (sum along `axis`).
    pub fn softmax(&self, axis: usize) -> Result<Var> {
        let y = self.value().softmax(axis)?;
        let saved = y.clone();
        Ok(Var::record(Op::Softmax, y, &[self], move |g, _| {
            let dot = g.mul(&saved)?.sum(&[axis], true)?;
            Ok(vec![Some(saved.mul(&g.sub(&dot)?)?)])
        }))
    }

    /// `yⱼ = xⱼ − ln Σᵢ e^{xᵢ}` along `axis`; `dx = g − softmax(x)·Σ g` (sum along `axis`).
    pub fn log_softmax(&self, axis: usize) -> Result<Var> {
        let y = self.value().log_softmax(axis)?;
        let saved = y.clone();
        Ok(Var::record(Op::LogSoftmax, y, &[self], move |g, _| {
            let total = g.sum(&[axis], true)?;
            Ok(vec![Some(g.sub(&saved.exp()?.mul(&total)?)?)])
        }))
    }

    /// Layer norm over the last axis: `y = x̂·γ + β` with `x̂ = (x − μ)·r`, `r = 1/√(σ² + ε)`.
    /// Fused backward (one kernel, not a chain of small ops): with `h = g·γ`,
    /// `dx = r·(h − mean(h) − x̂·mean(h·x̂))`, `dγ = Σ_rows g·x̂`, `dβ = Σ_rows g`.
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
                let (dx, dgamma, dbeta) = g.layer_norm_backward(&x, &mean, &rstd, &gamma_value)?;
                Ok(vec![Some(dx), Some(dgamma), Some(dbeta)])
            },
        ))
    }
}
