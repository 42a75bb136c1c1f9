//! Views and their gradients: each gradient is the inverse view (or, for narrow and broadcast, its
//! adjoint).

use crate::{Op, Var};
use tensor::{Result, Tensor};

impl Var {
    /// `y = reshape(x)`; `dx = reshape(g, shape(x))`. Also covers `flatten`, `squeeze` and
    /// `unsqueeze`, which are reshapes.
    pub fn reshape(&self, shape: &[usize]) -> Result<Var> {
        let value = self.value().reshape(shape)?;
        let input_shape = self.shape().to_vec();
        Ok(Var::record(Op::Reshape, value, &[self], move |g, _| {
            Ok(vec![Some(g.reshape(&input_shape)?)])
        }))
    }

    /// Removes the size-1 axis `axis` (a reshape).
    pub fn squeeze(&self, axis: usize) -> Result<Var> {
        let shape = self.value().squeeze(axis)?.shape().to_vec();
        self.reshape(&shape)
    }

    /// Inserts a size-1 axis at `axis` (a reshape).
    pub fn unsqueeze(&self, axis: usize) -> Result<Var> {
        let shape = self.value().unsqueeze(axis)?.shape().to_vec();
        self.reshape(&shape)
    }

    /// `y = permute(x, axes)`; `dx = permute(g, axes⁻¹)`.
    pub fn permute(&self, axes: &[usize]) -> Result<Var> {
        let value = self.value().permute(axes)?;
        let mut inverse = vec![0; axes.len()];
        for (k, &a) in axes.iter().enumerate() {
            inverse[a] = k;
        }
        Ok(Var::record(Op::Permute, value, &[self], move |g, _| {
            Ok(vec![Some(g.permute(&inverse)?)])
        }))
    }

    /// Swaps axes `a` and `b` (a permutation).
    pub fn transpose(&self, a: usize, b: usize) -> Result<Var> {
        let mut axes: Vec<usize> = (0..self.rank()).collect();
        self.value().transpose(a, b)?;
        axes.swap(a, b);
        self.permute(&axes)
    }

    /// `y = x[.., start..start+len, ..]` along `axis`; `dx` is `g` placed at that range, zeros
    /// elsewhere.
    pub fn narrow(&self, axis: usize, start: usize, len: usize) -> Result<Var> {
        let value = self.value().narrow(axis, start, len)?;
        let input_shape = self.shape().to_vec();
        Ok(Var::record(Op::Narrow, value, &[self], move |g, _| {
            Ok(vec![Some(g.narrow_into(&input_shape, axis, start)?)])
        }))
    }

    /// `y = broadcast(x, shape)`; `dx = g` summed over the broadcast axes (done centrally by the
    /// backward pass).
    pub fn broadcast_to(&self, shape: &[usize]) -> Result<Var> {
        let value = self.value().broadcast_to(shape)?;
        Ok(Var::record(Op::BroadcastTo, value, &[self], |g, _| {
            Ok(vec![Some(g.clone())])
        }))
    }

    /// A dense copy (no graph node: the gradient of a copy is the identity).
    pub fn contiguous(&self) -> Result<Var> {
        let dense: Tensor = self.value().contiguous()?;
        Ok(self.with_value(dense))
    }
}
