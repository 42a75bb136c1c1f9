//! Views: new shapes over the same numbers. None of these copy, except `reshape` of data whose
//! strides do not allow a view (it copies first, as PyTorch's `reshape` does) and `contiguous`.

use crate::Tensor;
use devices::{ops::Identity, shape_str, Error, Result};

impl Tensor {
    /// The same elements with a new shape of equal size. One axis may be given as `usize::MAX`
    /// ("infer") and is computed from the others.
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
                let known: usize = shape.iter().filter(|&&d| d != usize::MAX).product();
                if known == 0 || !self.numel().is_multiple_of(known) {
                    return Err(fail());
                }
                shape[*axis] = self.numel() / known;
            }
            _ => return Err(fail()),
        }
        if shape.iter().product::<usize>() != self.numel() {
            return Err(fail());
        }
        Ok(shape)
    }

    /// Collapses everything into one axis.
    pub fn flatten_all(&self) -> Result<Tensor> {
        self.reshape(&[self.numel()])
    }

    /// Reorders the axes: result axis `k` is input axis `axes[k]`.
    pub fn permute(&self, axes: &[usize]) -> Result<Tensor> {
        Ok(self.with_layout(self.layout().permute(axes)?))
    }

    /// Swaps axes `a` and `b`.
    pub fn transpose(&self, a: usize, b: usize) -> Result<Tensor> {
        Ok(self.with_layout(self.layout().transpose(a, b)?))
    }

    /// Swaps the last two axes (the matrix transpose of each matrix in a batch).
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
    pub fn narrow(&self, axis: usize, start: usize, len: usize) -> Result<Tensor> {
        Ok(self.with_layout(self.layout().narrow(axis, start, len)?))
    }

    /// Repeats size-1 axes (and adds leading axes) to view the tensor as `shape`.
    pub fn broadcast_to(&self, shape: &[usize]) -> Result<Tensor> {
        Ok(self.with_layout(self.layout().broadcast_to(shape)?))
    }

    /// Removes the size-1 axis `axis`.
    pub fn squeeze(&self, axis: usize) -> Result<Tensor> {
        Ok(self.with_layout(self.layout().squeeze(axis)?))
    }

    /// Inserts a size-1 axis at position `axis`.
    pub fn unsqueeze(&self, axis: usize) -> Result<Tensor> {
        Ok(self.with_layout(self.layout().unsqueeze(axis)?))
    }

    /// The same values in a dense row-major buffer (a clone if already so).
    pub fn contiguous(&self) -> Result<Tensor> {
        if self.is_contiguous() && self.layout().offset() == 0 {
            return Ok(self.clone());
        }
        let storage = self.storage().unary::<Identity>(self.layout())?;
        Ok(Tensor::from_storage(storage, self.shape()))
    }

    /// A copy in fresh storage (never shares with `self`).
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
