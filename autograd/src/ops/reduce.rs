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
    pub fn sum(&self, axes: &[usize], keepdim: bool) -> Result<Var> {
        let value = self.value().sum(axes, keepdim)?;
        let (shape, axes) = (self.shape().to_vec(), axes.to_vec());
        Ok(Var::record(Op::Sum, value, &[self], move |g, _| {
            Ok(vec![Some(spread(g, &shape, &axes, keepdim)?)])
        }))
    }

    /// The sum of every element.
    pub fn sum_all(&self) -> Result<Var> {
        self.sum(&(0..self.rank()).collect::<Vec<_>>(), false)
    }

    /// `y = Σ_{axes} x / n` (as a sum times `1/n`).
    pub fn mean(&self, axes: &[usize], keepdim: bool) -> Result<Var> {
        let count: usize = axes
            .iter()
            .map(|&a| self.value().dim(a))
            .product::<Result<usize>>()?;
        self.sum(axes, keepdim)?.mul_scalar(1.0 / count as f64)
    }

    /// The mean of every element.
    pub fn mean_all(&self) -> Result<Var> {
        self.mean(&(0..self.rank()).collect::<Vec<_>>(), false)
    }

    /// `y = max_{axes} x`; the gradient goes to the maximal elements, split evenly on ties:
    /// `dx = g·[x = y]/#{x = y}`.
    pub fn max(&self, axes: &[usize], keepdim: bool) -> Result<Var> {
        self.extreme(axes, keepdim, Op::Max)
    }

    /// `y = min_{axes} x`; the gradient goes to the minimal elements, split evenly on ties.
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
