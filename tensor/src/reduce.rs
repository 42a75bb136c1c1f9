//! Reductions over chosen axes.

use crate::Tensor;
use devices::ops::{ArgKind, Max, Min, ReduceOp, Sum, SumOfSquares};
use devices::{shape_str, Error, Result};

impl Tensor {
    /// The axes sorted, or an error naming one that is out of range or listed twice.
    fn check_axes(&self, op: &'static str, axes: &[usize]) -> Result<Vec<usize>> {
        let mut sorted = axes.to_vec();
        sorted.sort_unstable();
        for &axis in &sorted {
            self.layout().check_axis(op, axis)?;
        }
        if let Some(pair) = sorted.windows(2).find(|pair| pair[0] == pair[1]) {
            return Err(Error::shape(
                op,
                format!(
                    "axis {} is listed twice in {axes:?} (shape {})",
                    pair[0],
                    shape_str(self.shape())
                ),
            ));
        }
        Ok(sorted)
    }

    /// Folds `Op` over `axes`; with `keepdim` the reduced axes stay as size 1. No axes reduce
    /// nothing: the tensor comes back as it is (NumPy's `axis=()`; PyTorch's `dim=[]` reduces
    /// every axis instead, which is `sum_all` and `mean_all` here).
    fn reduce<Op: ReduceOp>(&self, axes: &[usize], keepdim: bool) -> Result<Tensor> {
        let axes = self.check_axes(Op::NAME, axes)?;
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

    /// `Σ` over `axes` (each listed once; none leaves the tensor as it is, see `sum_all` for
    /// every axis).
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let x = Tensor::arange(0.0, 6.0, 1.0, DType::F64)?.reshape(&[2, 3])?;
    /// assert_eq!(x.sum(&[1], false)?.to_vec_f64()?, [3.0, 12.0]); // row sums
    /// let columns = x.sum(&[0], true)?;
    /// assert_eq!(columns.shape(), [1, 3]);
    /// assert_eq!(columns.to_vec_f64()?, [3.0, 5.0, 7.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn sum(&self, axes: &[usize], keepdim: bool) -> Result<Tensor> {
        self.reduce::<Sum>(axes, keepdim)
    }

    /// `Σ` over every element, as a scalar tensor.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let x = Tensor::arange(0.0, 6.0, 1.0, DType::F64)?.reshape(&[2, 3])?;
    /// let total = x.sum_all()?;
    /// assert_eq!(total.shape(), [] as [usize; 0]);
    /// assert_eq!(total.to_scalar()?, 15.0);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn sum_all(&self) -> Result<Tensor> {
        self.sum(&(0..self.rank()).collect::<Vec<_>>(), false)
    }

    /// `Σ x²` over every element, as a scalar tensor: the squared L2 norm, in one pass over
    /// memory. Each square is rounded as `x.square()` rounds it and, for a contiguous tensor,
    /// summed in the order `sum_all` sums the squares, so the result is
    /// `x.square()?.sum_all()` to the bit (the gradient norm of `nn::optim::clip_grad_norm`).
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let x = Tensor::from_f64s(&[3.0, -4.0, 1.0, 2.0], &[2, 2], DType::F64)?;
    /// assert_eq!(x.sum_of_squares_all()?.to_scalar()?, 30.0);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn sum_of_squares_all(&self) -> Result<Tensor> {
        self.reduce::<SumOfSquares>(&(0..self.rank()).collect::<Vec<_>>(), false)
    }

    /// The mean over `axes`: `Σ x / n` with `n` the number of reduced elements.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let x = Tensor::arange(0.0, 6.0, 1.0, DType::F64)?.reshape(&[2, 3])?;
    /// assert_eq!(x.mean(&[1], false)?.to_vec_f64()?, [1.0, 4.0]);
    /// assert_eq!(x.mean(&[0, 1], false)?.to_scalar()?, 2.5);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn mean(&self, axes: &[usize], keepdim: bool) -> Result<Tensor> {
        let axes = self.check_axes("mean", axes)?;
        // A product of f64s: with an empty axis elsewhere, the others may multiply past usize.
        let count: f64 = axes.iter().map(|&a| self.shape()[a] as f64).product();
        self.sum(&axes, keepdim)?.div_scalar(count)
    }

    /// The variance over `axes`: `Σ(x − x̄)² / (n − correction)` with `n` the elements each result
    /// folds (`correction = 1`: the unbiased estimate, `torch.var`'s default; 0: the population
    /// variance). `n ≤ correction` is an error (PyTorch returns NaN or infinity there). As with
    /// [`Tensor::sum`], no axes (`&[]`) reduce nothing: each element is its own group of one,
    /// where PyTorch's `dim=[]` takes every axis.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let x = Tensor::from_f64s(&[1.0, 2.0, 3.0, 4.0, 4.0, 4.0], &[2, 3], DType::F64)?;
    /// assert_eq!(x.var(&[1], 1, false)?.to_vec_f64()?, [1.0, 0.0]);
    /// assert_eq!(x.var(&[1], 0, true)?.shape(), [2, 1]);
    /// assert!(x.var(&[], 1, false).is_err(), "one element per result");
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn var(&self, axes: &[usize], correction: usize, keepdim: bool) -> Result<Tensor> {
        let (axes, divisor) = self.variance_divisor("var", axes, correction)?;
        let centred = self.sub(&self.mean(&axes, true)?)?;
        centred.square()?.sum(&axes, keepdim)?.div_scalar(divisor)
    }

    /// The standard deviation over `axes`: `√var` (see [`Tensor::var`]), so in f32 it is `∞`
    /// once the variance overflows (a spread wider than about 1.8·10¹⁹), as `var` is.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let x = Tensor::from_f64s(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0], &[8], DType::F64)?;
    /// assert_eq!(x.std(&[0], 0, false)?.to_scalar()?, 2.0);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn std(&self, axes: &[usize], correction: usize, keepdim: bool) -> Result<Tensor> {
        self.var(axes, correction, keepdim)?.sqrt()
    }

    /// `axes` checked and sorted, and `n − correction` for [`Tensor::var`], `n` the elements each
    /// result folds; an error naming `op` when `n ≤ correction`.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let x = Tensor::zeros(&[2, 3, 4], DType::F32);
    /// assert_eq!(x.variance_divisor("var", &[2, 0], 1)?, (vec![0, 2], 7.0));
    /// assert!(x.variance_divisor("var", &[1], 3).is_err()); // 3 elements, correction 3
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn variance_divisor(
        &self,
        op: &'static str,
        axes: &[usize],
        correction: usize,
    ) -> Result<(Vec<usize>, f64)> {
        let axes = self.check_axes(op, axes)?;
        let count: f64 = axes.iter().map(|&a| self.shape()[a] as f64).product();
        if count <= correction as f64 {
            return Err(Error::invalid(
                op,
                format!(
                    "over axes {axes:?} of shape {}: {count} element(s) per result, and \
                     correction {correction} needs more",
                    shape_str(self.shape())
                ),
            ));
        }
        Ok((axes, count - correction as f64))
    }

    /// The mean of every element, as a scalar tensor.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let x = Tensor::arange(0.0, 6.0, 1.0, DType::F64)?.reshape(&[2, 3])?;
    /// assert_eq!(x.mean_all()?.to_scalar()?, 2.5);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn mean_all(&self) -> Result<Tensor> {
        self.mean(&(0..self.rank()).collect::<Vec<_>>(), false)
    }

    /// The largest element over `axes` (NaN if any is NaN).
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let x = Tensor::from_f64s(&[3.0, -1.0, 7.0, 2.0], &[2, 2], DType::F64)?;
    /// assert_eq!(x.max(&[1], false)?.to_vec_f64()?, [3.0, 7.0]);
    /// assert_eq!(x.max(&[0, 1], false)?.to_scalar()?, 7.0);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn max(&self, axes: &[usize], keepdim: bool) -> Result<Tensor> {
        self.reduce::<Max>(axes, keepdim)
    }

    /// The smallest element over `axes` (NaN if any is NaN).
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let x = Tensor::from_f64s(&[3.0, -1.0, 7.0, 2.0], &[2, 2], DType::F64)?;
    /// assert_eq!(x.min(&[0], false)?.to_vec_f64()?, [3.0, -1.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn min(&self, axes: &[usize], keepdim: bool) -> Result<Tensor> {
        self.reduce::<Min>(axes, keepdim)
    }

    fn arg_reduce(&self, axis: usize, keepdim: bool, kind: ArgKind) -> Result<Tensor> {
        // `Storage::arg_reduce` refuses an empty axis and one whose indices the dtype cannot
        // hold exactly (they are values of the tensor's dtype).
        self.layout().check_axis(kind.name(), axis)?;
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

    /// The index of the first largest element along `axis`, stored in this tensor's dtype; an
    /// error when the axis has indices that dtype cannot hold exactly (past `2²⁴` in `f32`).
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let scores = Tensor::from_f64s(&[0.1, 0.7, 0.2, 0.5, 0.5, 0.0], &[2, 3], DType::F32)?;
    /// // The first maximum wins a tie (row 1).
    /// assert_eq!(scores.argmax(1, false)?.to_vec_f64()?, [1.0, 0.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn argmax(&self, axis: usize, keepdim: bool) -> Result<Tensor> {
        self.arg_reduce(axis, keepdim, ArgKind::Max)
    }

    /// The index of the first smallest element along `axis`, stored in this tensor's dtype; an
    /// error when the axis has indices that dtype cannot hold exactly (past `2²⁴` in `f32`).
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let x = Tensor::from_f64s(&[0.1, 0.7, 0.2, 0.5, 0.5, 0.0], &[2, 3], DType::F32)?;
    /// assert_eq!(x.argmin(1, false)?.to_vec_f64()?, [0.0, 2.0]);
    /// assert_eq!(x.argmin(0, true)?.shape(), [1, 3]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn argmin(&self, axis: usize, keepdim: bool) -> Result<Tensor> {
        self.arg_reduce(axis, keepdim, ArgKind::Min)
    }
}
