//! Concatenation, stacking and gathering, with their gradients.

use crate::{Op, Var};
use tensor::{Indices, Result, Tensor};

impl Var {
    /// `y = concat(x₀, x₁, …)` along `axis`; `dxᵢ` is the slice of `g` where `xᵢ` landed.
    pub fn concat(vars: &[Var], axis: usize) -> Result<Var> {
        let values: Vec<Tensor> = vars.iter().map(|v| v.value().clone()).collect();
        let value = Tensor::concat(&values, axis)?;
        let lengths: Vec<usize> = vars.iter().map(|v| v.shape()[axis]).collect();
        let inputs: Vec<&Var> = vars.iter().collect();
        Ok(Var::record(Op::Concat, value, &inputs, move |g, needs| {
            let mut start = 0;
            let mut grads = Vec::with_capacity(lengths.len());
            for (&len, &need) in lengths.iter().zip(needs) {
                grads.push(need.then(|| g.narrow(axis, start, len)).transpose()?);
                start += len;
            }
            Ok(grads)
        }))
    }

    /// Stacks same-shaped values along a new axis `axis` (unsqueeze, then concat).
    pub fn stack(vars: &[Var], axis: usize) -> Result<Var> {
        let expanded = vars
            .iter()
            .map(|v| v.unsqueeze(axis))
            .collect::<Result<Vec<_>>>()?;
        Var::concat(&expanded, axis)
    }

    /// `y[.., j, ..] = x[.., indices[j], ..]`; `dx[.., i, ..] = Σ_{j: indices[j] = i} g[.., j, ..]`.
    pub fn index_select(&self, axis: usize, indices: &Indices) -> Result<Var> {
        let value = self.value().index_select(axis, indices)?;
        let (shape, indices) = (self.shape().to_vec(), indices.clone());
        Ok(Var::record(Op::IndexSelect, value, &[self], move |g, _| {
            Ok(vec![Some(g.index_add_into(&shape, axis, &indices)?)])
        }))
    }
}
