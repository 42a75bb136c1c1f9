//! Fused optimizer updates: one kernel per parameter instead of one per arithmetic step.

use crate::tensor::Tensor;
use devices::{shape_str, AdamWStep, Error, Result};

impl Tensor {
    /// `self + α·other` for two tensors of one shape, in one pass: `α·other` rounded, then the
    /// sum, so the result is `self.add(&other.mul_scalar(α)?)` to the bit. SGD's momentum
    /// `m ← g + μ·m` and step `θ ← θ − lr·m` (α = −lr) each take one kernel this way instead of
    /// two. Not differentiable: an optimizer's arithmetic.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let p = Tensor::from_f64s(&[1.0, 2.0], &[2], DType::F64)?;
    /// let m = Tensor::from_f64s(&[10.0, -4.0], &[2], DType::F64)?;
    /// assert_eq!(p.add_scaled(&m, -0.5)?.to_vec_f64()?, [-4.0, 4.0]);
    /// assert!(p.add_scaled(&m.reshape(&[1, 2])?, 1.0).is_err(), "shapes must match");
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn add_scaled(&self, other: &Tensor, alpha: f64) -> Result<Tensor> {
        let op = "add_scaled";
        self.check_same_kind(op, other)?;
        if other.shape() != self.shape() {
            return Err(Error::shape(
                op,
                format!(
                    "{} and {} differ",
                    shape_str(self.shape()),
                    shape_str(other.shape())
                ),
            ));
        }
        let (a, b) = (self.contiguous()?, other.contiguous()?);
        let sum = a.storage().add_scaled(b.storage(), self.numel(), alpha)?;
        Ok(Tensor::from_storage(sum, self.shape()))
    }

    /// One AdamW update of the parameter `self` from its gradient `grad` and its moments
    /// `(m, v)` (`None` on the first step, where they count as zero), all of one shape:
    ///
    /// `m' = β₁·m + (1 − β₁)·g`, `v' = β₂·v + (1 − β₂)·g²`,
    /// `p' = p·(1 − lr·λ) − ((m'/c₁)/(√(v'/c₂) + ε))·lr`,
    ///
    /// with the scalars of `step` (`c₁ = 1 − β₁ᵗ`, `c₂ = 1 − β₂ᵗ`). Returns `(p', m', v')`. Every
    /// step is rounded as the element-wise op of its own would be, in this order, so the result
    /// is that of the same formula written with `mul_scalar`, `add`, `sqrt`, `div` and `sub`, in
    /// one pass over memory instead of fifteen. Not differentiable: an optimizer's arithmetic.
    ///
    /// ```
    /// use tensor::{AdamWStep, DType, Tensor};
    /// let p = Tensor::from_f64s(&[1.0, 1.0], &[2], DType::F64)?;
    /// let g = Tensor::from_f64s(&[100.0, -0.01], &[2], DType::F64)?;
    /// let step = AdamWStep {
    ///     lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-12, weight_decay: 0.0,
    ///     bias_correction1: 0.1, bias_correction2: 0.001, // 1 − β₁ and 1 − β₂ at step 1
    /// };
    /// // Adam's first step moves each weight by about lr, against its gradient's sign.
    /// let (p, m, _v) = p.adamw_update(&g, None, &step)?;
    /// let p = p.to_vec_f64()?;
    /// assert!((p[0] - 0.9).abs() < 1e-9 && (p[1] - 1.1).abs() < 1e-9, "{p:?}");
    /// assert_eq!(m.to_vec_f64()?, [100.0 * (1.0 - 0.9), -0.01 * (1.0 - 0.9)]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn adamw_update(
        &self,
        grad: &Tensor,
        moments: Option<(&Tensor, &Tensor)>,
        step: &AdamWStep,
    ) -> Result<(Tensor, Tensor, Tensor)> {
        let op = "adamw_update";
        let mut operands = vec![("gradient", grad)];
        if let Some((m, v)) = moments {
            operands.extend([("first moment", m), ("second moment", v)]);
        }
        for (what, other) in &operands {
            self.check_same_kind(op, other)?;
            if other.shape() != self.shape() {
                return Err(Error::shape(
                    op,
                    format!(
                        "the parameter is {} but its {what} is {}",
                        shape_str(self.shape()),
                        shape_str(other.shape())
                    ),
                ));
            }
        }
        let dense = |t: &Tensor| t.contiguous();
        let (p, g) = (dense(self)?, dense(grad)?);
        let moments = match moments {
            Some((m, v)) => Some((dense(m)?, dense(v)?)),
            None => None,
        };
        let [p, m, v] = p.storage().adamw_update(
            g.storage(),
            moments.as_ref().map(|(m, v)| [m.storage(), v.storage()]),
            self.numel(),
            step,
        )?;
        let shape = self.shape();
        Ok((
            Tensor::from_storage(p, shape),
            Tensor::from_storage(m, shape),
            Tensor::from_storage(v, shape),
        ))
    }
}
