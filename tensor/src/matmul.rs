//! Matrix products.

use crate::Tensor;
use devices::{broadcast_shapes, shape_str, Error, Result};

/// The shape of `a · b` for operands of shapes `a` and `b`, by [`Tensor::matmul`]'s rules, or the
/// error `matmul` gives for them (naming both shapes): what a layer can check before it computes
/// anything, and what `autograd`'s matmul checks before it reshapes a vector operand.
///
/// ```
/// assert_eq!(tensor::matmul_shape(&[4, 2, 3], &[3, 5])?, [4, 2, 5]);
/// assert_eq!(tensor::matmul_shape(&[3], &[3, 5])?, [5]); // a row vector's axis is dropped
/// let err = tensor::matmul_shape(&[3], &[4]).unwrap_err();
/// assert_eq!(err.to_string(), "matmul: [3] x [4]: inner dimensions 3 and 4 differ");
/// # Ok::<(), tensor::Error>(())
/// ```
pub fn matmul_shape(a: &[usize], b: &[usize]) -> Result<Vec<usize>> {
    let Dims {
        mut batch, m, n, ..
    } = dims(a, b)?;
    if a.len() > 1 {
        batch.push(m);
    }
    if b.len() > 1 {
        batch.push(n);
    }
    Ok(batch)
}

/// A product's broadcast batch axes and its `m × k · k × n`.
struct Dims {
    batch: Vec<usize>,
    m: usize,
    k: usize,
    n: usize,
}

/// [`Dims`] of `a · b` (a 1-D `a` is one row, a 1-D `b` one column), or an error naming both
/// shapes as given.
fn dims(a: &[usize], b: &[usize]) -> Result<Dims> {
    let both = || format!("{} x {}", shape_str(a), shape_str(b));
    let no_axis = || {
        Error::shape(
            "matmul",
            format!("{}: both operands need at least one axis", both()),
        )
    };
    let (m, k) = match *a {
        [] => return Err(no_axis()),
        [k] => (1, k),
        [.., m, k] => (m, k),
    };
    let (k2, n) = match *b {
        [] => return Err(no_axis()),
        [k2] => (k2, 1),
        [.., k2, n] => (k2, n),
    };
    if k != k2 {
        return Err(Error::shape(
            "matmul",
            format!("{}: inner dimensions {k} and {k2} differ", both()),
        ));
    }
    let (batch_a, batch_b) = (&a[..a.len().max(2) - 2], &b[..b.len().max(2) - 2]);
    let batch = broadcast_shapes("matmul", batch_a, batch_b).map_err(|_| {
        Error::shape(
            "matmul",
            format!(
                "{}: batch dimensions {} and {} do not broadcast",
                both(),
                shape_str(batch_a),
                shape_str(batch_b)
            ),
        )
    })?;
    Ok(Dims { batch, m, k, n })
}

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
        let Dims { batch, m, k, n } = dims(self.shape(), other.shape())?;
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
