//! Reductions and their gradients.

use crate::{Op, Var};
use tensor::{Result, Tensor};

/// `g` (reduced over `axes`) viewed with the reduced axes restored as size 1, then broadcast to
/// `shape`: the common first step of every reduction's gradient.
fn spread(g: &Tensor, shape: &[usize], axes: &[usize], keepdim: bool) -> Result<Tensor> {
    let kept_shape: Vec<usize> = (0..shape.len())
        .map(|a| if axes.contains(&a) { 1 } else { shape[a] })
        .collect();
    let g = if keepdim {
        g.clone()
    } else {
        g.reshape(&kept_shape)?
    };
    g.broadcast_to(shape)
}

impl Var {
    /// `y = Σ_{axes} x`; `dx = g` broadcast back over the summed axes.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let x = Var::parameter(Tensor::from_f64s(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3], DType::F64)?);
    /// let rows = x.sum(&[1], false)?;
    /// assert_eq!(rows.value().to_vec_f64()?, [6.0, 15.0]);
    /// let w = Var::constant(Tensor::from_f64s(&[1.0, 2.0], &[2], DType::F64)?);
    /// let grads = rows.mul(&w)?.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&x).unwrap().to_vec_f64()?, [1.0, 1.0, 1.0, 2.0, 2.0, 2.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn sum(&self, axes: &[usize], keepdim: bool) -> Result<Var> {
        let value = self.value().sum(axes, keepdim)?;
        let (shape, axes) = (self.shape().to_vec(), axes.to_vec());
        Ok(Var::record(Op::Sum, value, &[self], move |g, _| {
            Ok(vec![Some(spread(g, &shape, &axes, keepdim)?)])
        }))
    }

    /// The sum of every element, `y = Σ x`; `dx = g` at every element.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let x = Var::parameter(Tensor::from_f64s(&[1.0, 2.0, 3.0], &[3], DType::F64)?);
    /// let total = x.sum_all()?;
    /// assert_eq!(total.value().to_scalar()?, 6.0);
    /// assert_eq!(total.backward()?.get(&x).unwrap().to_vec_f64()?, [1.0; 3]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn sum_all(&self) -> Result<Var> {
        self.sum(&(0..self.rank()).collect::<Vec<_>>(), false)
    }

    /// `y = Σ_{axes} x / n`, `n` the number of elements reduced (as [`Tensor::mean`], the same
    /// bits); `dx = g/n` broadcast back over the reduced axes.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let x = Var::parameter(Tensor::from_f64s(&[1.0, 2.0, 3.0, 4.0], &[2, 2], DType::F64)?);
    /// let y = x.mean(&[0], false)?;
    /// assert_eq!(y.value().to_vec_f64()?, [2.0, 3.0]);
    /// let grads = y.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&x).unwrap().to_vec_f64()?, [0.5; 4]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn mean(&self, axes: &[usize], keepdim: bool) -> Result<Var> {
        let value = self.value().mean(axes, keepdim)?;
        let (shape, axes) = (self.shape().to_vec(), axes.to_vec());
        // An f64 product, as Tensor::mean's: with an empty axis elsewhere, the others may multiply
        // past usize.
        let count: f64 = axes.iter().map(|&a| shape[a] as f64).product();
        Ok(Var::record(Op::Mean, value, &[self], move |g, _| {
            Ok(vec![Some(spread(
                &g.div_scalar(count)?,
                &shape,
                &axes,
                keepdim,
            )?)])
        }))
    }

    /// The mean of every element, `y = Σ x / n`; `dx = g/n` at every element.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let x = Var::parameter(Tensor::from_f64s(&[1.0, 2.0, 3.0, 6.0], &[4], DType::F64)?);
    /// let m = x.mean_all()?;
    /// assert_eq!(m.value().to_scalar()?, 3.0);
    /// assert_eq!(m.backward()?.get(&x).unwrap().to_vec_f64()?, [0.25; 4]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn mean_all(&self) -> Result<Var> {
        self.mean(&(0..self.rank()).collect::<Vec<_>>(), false)
    }

    /// The variance over `axes`, `y = Σ(x − x̄)² / (n − correction)` (see [`Tensor::var`]),
    /// composed of recorded ops: `dx = g·2(x − x̄)/(n − correction)` (the mean's own gradient
    /// sums to zero over each group).
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let x = Var::parameter(Tensor::from_f64s(&[1.0, 2.0, 3.0], &[3], DType::F64)?);
    /// let v = x.var(&[0], 1, false)?;
    /// assert_eq!(v.value().to_scalar()?, 1.0);
    /// assert_eq!(v.backward()?.get(&x).unwrap().to_vec_f64()?, [-1.0, 0.0, 1.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn var(&self, axes: &[usize], correction: usize, keepdim: bool) -> Result<Var> {
        let (axes, divisor) = self.value().variance_divisor("var", axes, correction)?;
        let centred = self.sub(&self.mean(&axes, true)?)?;
        centred
            .mul(&centred)?
            .sum(&axes, keepdim)?
            .div_scalar(divisor)
    }

    /// The standard deviation over `axes`, `√var` (see [`Var::var`]); `dx = g·(x − x̄)/((n −
    /// correction)·y)`, and 0 where `y = 0` (a constant group), as PyTorch's.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let x = Var::parameter(Tensor::from_f64s(&[1.0, 3.0], &[2], DType::F64)?);
    /// let s = x.std(&[0], 0, false)?;
    /// assert_eq!(s.value().to_scalar()?, 1.0);
    /// assert_eq!(s.backward()?.get(&x).unwrap().to_vec_f64()?, [-0.5, 0.5]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn std(&self, axes: &[usize], correction: usize, keepdim: bool) -> Result<Var> {
        let variance = self.var(axes, correction, keepdim)?;
        // √ has no finite slope at 0, where the gradient would be 0·∞ = NaN; `√(v + 1) − 1` has
        // the same value 0 there and a finite slope, and var's own gradient there is 0.
        // Elsewhere `√(v + 0) − 0` is `√v` bit for bit.
        let constant = Var::constant(variance.value().eq_scalar(0.0)?);
        variance.add(&constant)?.sqrt()?.sub(&constant)
    }

    /// `y = max_{axes} x`; the gradient goes to the maximal elements, split evenly on ties:
    /// `dx = g·[x = y]/#{x = y}`.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let x = Var::parameter(Tensor::from_f64s(&[1.0, 3.0, 3.0], &[3], DType::F64)?);
    /// let m = x.max(&[0], false)?;
    /// assert_eq!(m.value().to_scalar()?, 3.0);
    /// assert_eq!(m.backward()?.get(&x).unwrap().to_vec_f64()?, [0.0, 0.5, 0.5]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn max(&self, axes: &[usize], keepdim: bool) -> Result<Var> {
        self.extreme(axes, keepdim, Op::Max)
    }

    /// `y = min_{axes} x`; the gradient goes to the minimal elements, split evenly on ties:
    /// `dx = g·[x = y]/#{x = y}`.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let x = Var::parameter(Tensor::from_f64s(&[1.0, 1.0, 3.0], &[3], DType::F64)?);
    /// let m = x.min(&[0], false)?;
    /// assert_eq!(m.value().to_scalar()?, 1.0);
    /// assert_eq!(m.backward()?.get(&x).unwrap().to_vec_f64()?, [0.5, 0.5, 0.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn min(&self, axes: &[usize], keepdim: bool) -> Result<Var> {
        self.extreme(axes, keepdim, Op::Min)
    }

    fn extreme(&self, axes: &[usize], keepdim: bool, op: Op) -> Result<Var> {
        let x = self.value().clone();
        let value = if op == Op::Max {
            x.max(axes, keepdim)?
        } else {
            x.min(axes, keepdim)?
        };
        let (axes, y) = (axes.to_vec(), value.clone());
        Ok(Var::record(op, value, &[self], move |g, _| {
            let shape = x.shape().to_vec();
            let winners = x.eq(&spread(&y, &shape, &axes, keepdim)?)?;
            let count = winners.sum(&axes, true)?;
            let share = winners.div(&count)?;
            Ok(vec![Some(spread(g, &shape, &axes, keepdim)?.mul(&share)?)])
        }))
    }
}
