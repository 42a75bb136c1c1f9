//! Views: new shapes over the same numbers. None of these copy, except `reshape` of data that is
//! not contiguous (it copies first; PyTorch's `reshape` makes a view in more cases, wherever the
//! strides allow one), `contiguous` of a non-contiguous view, and `deep_copy`, whose job is the
//! copy.

use crate::Tensor;
use devices::{checked_numel, ops::Identity, shape_str, Error, Result};

impl Tensor {
    /// The same elements with a new shape of equal size. One axis may be given as `usize::MAX`
    /// ("infer") and is computed from the others.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let x = Tensor::arange(0.0, 6.0, 1.0, DType::F64)?;
    /// let m = x.reshape(&[2, usize::MAX])?; // the second axis is inferred: 3
    /// assert_eq!(m.shape(), [2, 3]);
    /// assert!(m.shares_storage_with(&x), "contiguous data is reshaped without a copy");
    /// // A transposed view cannot be re-read as [6] without a copy, so reshape copies it.
    /// let flat = m.t()?.reshape(&[6])?;
    /// assert_eq!(flat.to_vec_f64()?, [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
    /// assert!(!flat.shares_storage_with(&x));
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn reshape(&self, shape: &[usize]) -> Result<Tensor> {
        let shape = self.infer_shape(shape)?;
        if let Some(layout) = self.layout().reshape(&shape) {
            return Ok(self.with_layout(layout));
        }
        let dense = self.contiguous()?;
        let layout = dense
            .layout()
            .reshape(&shape)
            .expect("contiguous data can take any shape of its size");
        Ok(dense.with_layout(layout))
    }

    fn infer_shape(&self, shape: &[usize]) -> Result<Vec<usize>> {
        let fail = || {
            Error::shape(
                "reshape",
                format!(
                    "cannot view {} ({} elements) as {}",
                    shape_str(self.shape()),
                    self.numel(),
                    shape_str(shape)
                ),
            )
        };
        let inferred: Vec<usize> = shape
            .iter()
            .enumerate()
            .filter(|(_, &d)| d == usize::MAX)
            .map(|(i, _)| i)
            .collect();
        let mut shape = shape.to_vec();
        match inferred.as_slice() {
            [] => {}
            [axis] => {
                let known: Vec<usize> =
                    shape.iter().copied().filter(|&d| d != usize::MAX).collect();
                let known = checked_numel("reshape", &known)?;
                if known == 0 || !self.numel().is_multiple_of(known) {
                    return Err(fail());
                }
                shape[*axis] = self.numel() / known;
            }
            _ => return Err(fail()),
        }
        if checked_numel("reshape", &shape)? != self.numel() {
            return Err(fail());
        }
        Ok(shape)
    }

    /// Collapses everything into one axis.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let x = Tensor::arange(0.0, 6.0, 1.0, DType::F64)?.reshape(&[2, 3])?;
    /// assert_eq!(x.flatten_all()?.shape(), [6]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn flatten_all(&self) -> Result<Tensor> {
        self.reshape(&[self.numel()])
    }

    /// Reorders the axes: result axis `k` is input axis `axes[k]`.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let x = Tensor::zeros(&[2, 3, 4], DType::F32);
    /// let y = x.permute(&[2, 0, 1])?;
    /// assert_eq!(y.shape(), [4, 2, 3]);
    /// assert_eq!(y.layout().strides(), [1, 12, 4]); // the strides move with their axes
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn permute(&self, axes: &[usize]) -> Result<Tensor> {
        Ok(self.with_layout(self.layout().permute(axes)?))
    }

    /// Swaps axes `a` and `b`.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let x = Tensor::arange(0.0, 6.0, 1.0, DType::F64)?.reshape(&[2, 3])?;
    /// let y = x.transpose(0, 1)?;
    /// assert_eq!(y.shape(), [3, 2]);
    /// assert_eq!(y.to_vec_f64()?, [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn transpose(&self, a: usize, b: usize) -> Result<Tensor> {
        Ok(self.with_layout(self.layout().transpose(a, b)?))
    }

    /// Swaps the last two axes (the matrix transpose of each matrix in a batch).
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let x = Tensor::arange(0.0, 6.0, 1.0, DType::F64)?.reshape(&[2, 3])?;
    /// assert_eq!(x.t()?.layout().strides(), [1, 3]);
    /// assert_eq!(x.t()?.to_vec_f64()?, [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn t(&self) -> Result<Tensor> {
        if self.rank() < 2 {
            return Err(Error::shape(
                "t",
                format!("needs at least 2 axes, got {}", shape_str(self.shape())),
            ));
        }
        self.transpose(self.rank() - 2, self.rank() - 1)
    }

    /// Keeps entries `start..start + len` of `axis`.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let x = Tensor::arange(0.0, 6.0, 1.0, DType::F64)?.reshape(&[2, 3])?;
    /// let right = x.narrow(1, 1, 2)?; // columns 1 and 2
    /// assert_eq!(right.to_vec_f64()?, [1.0, 2.0, 4.0, 5.0]);
    /// assert_eq!(right.layout().offset(), 1);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn narrow(&self, axis: usize, start: usize, len: usize) -> Result<Tensor> {
        Ok(self.with_layout(self.layout().narrow(axis, start, len)?))
    }

    /// Repeats size-1 axes (and adds leading axes) to view the tensor as `shape`.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let row = Tensor::from_f64s(&[1.0, 2.0], &[2], DType::F64)?;
    /// let rows = row.broadcast_to(&[3, 2])?;
    /// assert_eq!(rows.to_vec_f64()?, [1.0, 2.0, 1.0, 2.0, 1.0, 2.0]);
    /// assert_eq!(rows.layout().strides(), [0, 1]); // stride 0: nothing is repeated in memory
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn broadcast_to(&self, shape: &[usize]) -> Result<Tensor> {
        Ok(self.with_layout(self.layout().broadcast_to(shape)?))
    }

    /// Removes the size-1 axis `axis`.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let x = Tensor::zeros(&[2, 1, 3], DType::F32);
    /// assert_eq!(x.squeeze(1)?.shape(), [2, 3]);
    /// assert!(x.squeeze(0).is_err(), "axis 0 has size 2");
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn squeeze(&self, axis: usize) -> Result<Tensor> {
        Ok(self.with_layout(self.layout().squeeze(axis)?))
    }

    /// Inserts a size-1 axis at position `axis`.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let x = Tensor::zeros(&[2, 3], DType::F32);
    /// assert_eq!(x.unsqueeze(0)?.shape(), [1, 2, 3]);
    /// assert_eq!(x.unsqueeze(2)?.shape(), [2, 3, 1]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn unsqueeze(&self, axis: usize) -> Result<Tensor> {
        Ok(self.with_layout(self.layout().unsqueeze(axis)?))
    }

    /// The same values in a dense row-major buffer (a clone if already so).
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let x = Tensor::arange(0.0, 6.0, 1.0, DType::F64)?.reshape(&[2, 3])?;
    /// let dense = x.t()?.contiguous()?;
    /// assert!(dense.is_contiguous() && !dense.shares_storage_with(&x));
    /// assert_eq!(dense.layout().strides(), [2, 1]);
    /// assert!(x.contiguous()?.shares_storage_with(&x), "already dense: no copy");
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn contiguous(&self) -> Result<Tensor> {
        if self.is_contiguous() && self.layout().offset() == 0 {
            return Ok(self.clone());
        }
        let storage = self.storage().unary::<Identity>(self.layout())?;
        Ok(Tensor::from_storage(storage, self.shape()))
    }

    /// A copy in fresh storage (never shares with `self`).
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let x = Tensor::arange(0.0, 6.0, 1.0, DType::F64)?.reshape(&[2, 3])?;
    /// let copy = x.deep_copy()?;
    /// assert!(!copy.shares_storage_with(&x));
    /// assert_eq!(copy.to_vec_f64()?, x.to_vec_f64()?);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn deep_copy(&self) -> Result<Tensor> {
        let storage = self.storage().unary::<Identity>(self.layout())?;
        Ok(Tensor::from_storage(storage, self.shape()))
    }

    /// A dense copy seen as `[rows, n]` with `n` the last axis (the input form of the fused row
    /// kernels: softmax, layer norm).
    pub(crate) fn dense_rows(&self, op: &'static str) -> Result<(Tensor, usize, usize)> {
        if self.rank() == 0 {
            return Err(Error::shape(op, "needs at least one axis, got a scalar"));
        }
        let n = self.shape()[self.rank() - 1];
        // Not `numel / n`: that is 0 for an empty last axis, however many rows there are.
        let rows = self.shape()[..self.rank() - 1].iter().product();
        let dense = self.contiguous()?;
        Ok((dense, rows, n))
    }
}
