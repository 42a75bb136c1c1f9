//! Reductions over chosen axes.

use crate::Tensor;
use devices::ops::{ArgKind, Max, Min, ReduceOp, Sum};
use devices::{shape_str, Error, Result};

impl Tensor {
    /// Sorted, de-duplicated axes, or an error naming the bad one.
    fn check_axes(&self, op: &'static str, axes: &[usize]) -> Result<Vec<usize>> {
        let mut sorted = axes.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        for &axis in &sorted {
            self.layout().check_axis(op, axis)?;
        }
        Ok(sorted)
    }

    /// Folds `Op` over `axes`; with `keepdim` the reduced axes stay as size 1.
    fn reduce<Op: ReduceOp>(&self, axes: &[usize], keepdim: bool) -> Result<Tensor> {
        let axes = self.check_axes(Op::NAME, axes)?;
        if Op::NAME != "sum" && axes.iter().any(|&a| self.shape()[a] == 0) {
            return Err(Error::shape(
                Op::NAME,
                format!("cannot reduce an empty axis of {}", shape_str(self.shape())),
            ));
        }
        let kept: Vec<usize> = (0..self.rank())
            .map(|a| {
                if axes.contains(&a) {
                    1
                } else {
                    self.shape()[a]
                }
            })
            .collect();
        let out = Tensor::from_storage(self.storage().reduce::<Op>(self.layout(), &axes)?, &kept);
        if keepdim {
            return Ok(out);
        }
        let squeezed: Vec<usize> = (0..self.rank())
            .filter(|a| !axes.contains(a))
            .map(|a| self.shape()[a])
            .collect();
        out.reshape(&squeezed)
    }

    /// `Σ` over `axes`.
    pub fn sum(&self, axes: &[usize], keepdim: bool) -> Result<Tensor> {
        self.reduce::<Sum>(axes, keepdim)
    }

    /// `Σ` over every element, as a scalar tensor.
    pub fn sum_all(&self) -> Result<Tensor> {
        self.sum(&(0..self.rank()).collect::<Vec<_>>(), false)
    }

    /// The mean over `axes`: `Σ x / n` with `n` the number of reduced elements.
    pub fn mean(&self, axes: &[usize], keepdim: bool) -> Result<Tensor> {
        let axes = self.check_axes("mean", axes)?;
        let count: usize = axes.iter().map(|&a| self.shape()[a]).product();
        self.sum(&axes, keepdim)?.div_scalar(count as f64)
    }

    /// The mean of every element, as a scalar tensor.
    pub fn mean_all(&self) -> Result<Tensor> {
        self.mean(&(0..self.rank()).collect::<Vec<_>>(), false)
    }

    /// The largest element over `axes` (NaN if any is NaN).
    pub fn max(&self, axes: &[usize], keepdim: bool) -> Result<Tensor> {
        self.reduce::<Max>(axes, keepdim)
    }

    /// The smallest element over `axes` (NaN if any is NaN).
    pub fn min(&self, axes: &[usize], keepdim: bool) -> Result<Tensor> {
        self.reduce::<Min>(axes, keepdim)
    }

    fn arg_reduce(
        &self,
        op: &'static str,
        axis: usize,
        keepdim: bool,
        kind: ArgKind,
    ) -> Result<Tensor> {
        self.layout().check_axis(op, axis)?;
        if self.shape()[axis] == 0 {
            return Err(Error::shape(
                op,
                format!("axis {axis} of {} is empty", shape_str(self.shape())),
            ));
        }
        let mut kept = self.shape().to_vec();
        kept[axis] = 1;
        let out =
            Tensor::from_storage(self.storage().arg_reduce(self.layout(), axis, kind)?, &kept);
        if keepdim {
            Ok(out)
        } else {
            out.squeeze(axis)
        }
    }

    /// The index of the first largest element along `axis`, stored in this tensor's dtype.
    pub fn argmax(&self, axis: usize, keepdim: bool) -> Result<Tensor> {
        self.arg_reduce("argmax", axis, keepdim, ArgKind::Max)
    }

    /// The index of the first smallest element along `axis`, stored in this tensor's dtype.
    pub fn argmin(&self, axis: usize, keepdim: bool) -> Result<Tensor> {
        self.arg_reduce("argmin", axis, keepdim, ArgKind::Min)
    }
}
