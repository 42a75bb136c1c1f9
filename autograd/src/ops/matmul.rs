//! Matrix products and their gradients.

use crate::{Op, Var};
use tensor::Result;

impl Var {
    /// `C = A·B` over the last two axes (batch axes broadcast; 1-D operands are vectors);
    /// `dA = G·Bᵀ`, `dB = Aᵀ·G` (summed back over broadcast batch axes by the backward pass).
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let a = Var::parameter(Tensor::from_f64s(&[1.0, 2.0], &[1, 2], DType::F64)?);
    /// let b = Var::parameter(Tensor::from_f64s(&[3.0, 4.0], &[2, 1], DType::F64)?);
    /// let c = a.matmul(&b)?;
    /// assert_eq!(c.value().to_vec_f64()?, [11.0]);
    /// let grads = c.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&a).unwrap().to_vec_f64()?, [3.0, 4.0]); // G·Bᵀ
    /// assert_eq!(grads.get(&b).unwrap().to_vec_f64()?, [1.0, 2.0]); // Aᵀ·G
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn matmul(&self, other: &Var) -> Result<Var> {
        // Checked before a vector operand is reshaped, so an error names the shapes given.
        tensor::matmul_shape(self.shape(), other.shape())?;
        match (self.rank(), other.rank()) {
            (1, _) => {
                return self
                    .unsqueeze(0)?
                    .matmul(other)?
                    .squeeze(other.rank().max(2) - 2)
            }
            (_, 1) => {
                let out = self.matmul(&other.unsqueeze(1)?)?;
                return out.squeeze(out.rank() - 1);
            }
            _ => {}
        }
        let (a, b) = (self.value().clone(), other.value().clone());
        let value = a.matmul(&b)?;
        Ok(Var::record(
            Op::Matmul,
            value,
            &[self, other],
            move |g, needs| {
                let da = needs[0].then(|| g.matmul(&b.t()?)).transpose()?;
                let db = needs[1].then(|| a.t()?.matmul(g)).transpose()?;
                Ok(vec![da, db])
            },
        ))
    }
}
