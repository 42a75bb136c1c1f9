//! Matrix products.

use crate::Tensor;
use devices::{broadcast_shapes, shape_str, Error, Result};

impl Tensor {
    /// The matrix product, NumPy style: `[..., m, k] · [..., k, n] → [..., m, n]` with the batch
    /// axes broadcast; a 1-D operand is a vector (a row on the left, a column on the right) and its
    /// axis is dropped from the result. Transposed or otherwise strided operands are not copied.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let a = Tensor::from_f64s(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3], DType::F64)?;
    /// let b = Tensor::from_f64s(&[1.0, 0.0, 0.0, 1.0, 1.0, 1.0], &[3, 2], DType::F64)?;
    /// assert_eq!(a.matmul(&b)?.to_vec_f64()?, [4.0, 5.0, 10.0, 11.0]);
    /// // a·aᵀ reads the transposed view through its strides, without a copy.
    /// assert_eq!(a.matmul(&a.t()?)?.to_vec_f64()?, [14.0, 32.0, 32.0, 77.0]);
    /// // A vector on the right is a column; its axis is dropped.
    /// let v = Tensor::from_f64s(&[1.0, 1.0, 1.0], &[3], DType::F64)?;
    /// assert_eq!(a.matmul(&v)?.to_vec_f64()?, [6.0, 15.0]);
    /// // Batch axes broadcast: [4, 2, 3] · [3, 2] → [4, 2, 2].
    /// assert_eq!(a.broadcast_to(&[4, 2, 3])?.matmul(&b)?.shape(), [4, 2, 2]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn matmul(&self, other: &Tensor) -> Result<Tensor> {
        self.check_same_kind("matmul", other)?;
        if self.rank() == 0 || other.rank() == 0 {
            return Err(Error::shape(
                "matmul",
                format!(
                    "{} x {}: both operands need at least one axis",
                    shape_str(self.shape()),
                    shape_str(other.shape())
                ),
            ));
        }
        let a = if self.rank() == 1 {
            self.unsqueeze(0)?
        } else {
            self.clone()
        };
        let b = if other.rank() == 1 {
            other.unsqueeze(1)?
        } else {
            other.clone()
        };
        let (ra, rb) = (a.rank(), b.rank());
        let (m, k) = (a.shape()[ra - 2], a.shape()[ra - 1]);
        let (k2, n) = (b.shape()[rb - 2], b.shape()[rb - 1]);
        if k != k2 {
            return Err(Error::shape(
                "matmul",
                format!(
                    "{} x {}: inner dimensions {k} and {k2} differ",
                    shape_str(self.shape()),
                    shape_str(other.shape())
                ),
            ));
        }
        let (batch_a, batch_b) = (&a.shape()[..ra - 2], &b.shape()[..rb - 2]);
        let batch = broadcast_shapes("matmul", batch_a, batch_b).map_err(|_| {
            Error::shape(
                "matmul",
                format!(
                    "{} x {}: batch dimensions {} and {} do not broadcast",
                    shape_str(self.shape()),
                    shape_str(other.shape()),
                    shape_str(batch_a),
                    shape_str(batch_b)
                ),
            )
        })?;
        let with = |extra: [usize; 2]| batch.iter().copied().chain(extra).collect::<Vec<_>>();
        let la = a.layout().broadcast_to(&with([m, k]))?;
        let lb = b.layout().broadcast_to(&with([k, n]))?;
        let out = Tensor::from_storage(a.storage().matmul(&la, b.storage(), &lb)?, &with([m, n]));
        match (self.rank(), other.rank()) {
            (1, 1) => out.reshape(&[]),
            (1, _) => out.squeeze(out.rank() - 2),
            (_, 1) => out.squeeze(out.rank() - 1),
            _ => Ok(out),
        }
    }
}
