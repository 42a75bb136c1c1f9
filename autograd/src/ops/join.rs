//! Concatenation, stacking and gathering, with their gradients.

use crate::{Op, Var};
use tensor::{Error, Indices, Result, Tensor};

impl Var {
    /// `y = concat(x₀, x₁, …)` along `axis`; `dxᵢ` is the slice of `g` where `xᵢ` landed.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Device, Indices, Tensor};
    /// let a = Var::parameter(Tensor::from_f64s(&[1.0, 2.0], &[1, 2], DType::F64)?);
    /// let b = Var::parameter(Tensor::from_f64s(&[3.0, 4.0, 5.0, 6.0], &[2, 2], DType::F64)?);
    /// let y = Var::concat(&[a.clone(), b.clone()], 0)?;
    /// assert_eq!(y.shape(), [3, 2]);
    /// // Weighting the rows tells which gradient came from where.
    /// let w = Var::constant(Tensor::from_f64s(&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0], &[3, 2], DType::F64)?);
    /// let grads = y.mul(&w)?.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&a).unwrap().to_vec_f64()?, [0.0, 1.0]);
    /// assert_eq!(grads.get(&b).unwrap().to_vec_f64()?, [2.0, 3.0, 4.0, 5.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
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

    /// Stacks same-shaped values along a new axis `axis` (unsqueeze, then concat):
    /// `y[.., k, ..] = x_k`; `dx_k = g[.., k, ..]`.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Device, Indices, Tensor};
    /// let a = Var::parameter(Tensor::from_f64s(&[1.0, 2.0], &[2], DType::F64)?);
    /// let b = Var::parameter(Tensor::from_f64s(&[3.0, 4.0], &[2], DType::F64)?);
    /// let y = Var::stack(&[a.clone(), b.clone()], 0)?;
    /// assert_eq!(y.value().to_vec_f64()?, [1.0, 2.0, 3.0, 4.0]);
    /// let w = Var::constant(Tensor::from_f64s(&[1.0, 2.0, 3.0, 4.0], &[2, 2], DType::F64)?);
    /// let grads = y.mul(&w)?.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&a).unwrap().to_vec_f64()?, [1.0, 2.0]);
    /// assert_eq!(grads.get(&b).unwrap().to_vec_f64()?, [3.0, 4.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn stack(vars: &[Var], axis: usize) -> Result<Var> {
        if vars.is_empty() {
            return Err(Error::shape("stack", "needs at least one tensor"));
        }
        let expanded = vars
            .iter()
            .map(|v| v.unsqueeze(axis))
            .collect::<Result<Vec<_>>>()?;
        Var::concat(&expanded, axis)
    }

    /// `y[.., j, ..] = x[.., indices[j], ..]`;
    /// `dx[.., i, ..] = Σ_{j: indices[j] = i} g[.., j, ..]`.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Device, Indices, Tensor};
    /// let x = Var::parameter(Tensor::from_f64s(&[10.0, 20.0, 30.0], &[3], DType::F64)?);
    /// let y = x.index_select(0, &Indices::new(&Device::Cpu, &[2, 0, 2])?)?;
    /// assert_eq!(y.value().to_vec_f64()?, [30.0, 10.0, 30.0]);
    /// let grads = y.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&x).unwrap().to_vec_f64()?, [1.0, 0.0, 2.0]); // picked twice: 2
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn index_select(&self, axis: usize, indices: &Indices) -> Result<Var> {
        let value = self.value().index_select(axis, indices)?;
        let (shape, indices) = (self.shape().to_vec(), indices.clone());
        Ok(Var::record(Op::IndexSelect, value, &[self], move |g, _| {
            Ok(vec![Some(g.index_add_into(&shape, axis, &indices)?)])
        }))
    }

    /// PyTorch's `gather` ([`Tensor::gather`]): `y[p] = x[p with p[axis] = index[p]]` for every
    /// position `p` of `index`; `dx` is zeros with each `g[p]` added at `p with p[axis] =
    /// index[p]` (entries picked several times gather several gradients).
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let x = Var::parameter(Tensor::from_f64s(&[1.0, 2.0, 3.0, 4.0], &[2, 2], DType::F64)?);
    /// let index = Tensor::from_f64s(&[1.0, 1.0, 0.0], &[1, 3], DType::F64)?;
    /// let y = x.gather(1, &index)?;
    /// assert_eq!(y.value().to_vec_f64()?, [2.0, 2.0, 1.0]);
    /// let grads = y.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&x).unwrap().to_vec_f64()?, [1.0, 2.0, 0.0, 0.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn gather(&self, axis: usize, index: &Tensor) -> Result<Var> {
        let list = self.value().gather_indices(axis, index)?;
        let value = self.value().gather_at(axis, &list, index.shape())?;
        let shape = self.shape().to_vec();
        Ok(Var::record(Op::Gather, value, &[self], move |g, _| {
            Ok(vec![Some(g.scatter_add_into(&shape, axis, &list)?)])
        }))
    }

    /// PyTorch's `scatter_add` ([`Tensor::scatter_add`]): `y = x` with each `src[p]` added at
    /// `p with p[axis] = index[p]` for every position `p` of `index`; `dx = g`, and `dsrc[p] =
    /// g[p with p[axis] = index[p]]` (a gather; 0 where `src` is larger than `index`).
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let x = Var::parameter(Tensor::zeros(&[3], DType::F64));
    /// let src = Var::parameter(Tensor::from_f64s(&[1.0, 2.0, 3.0], &[3], DType::F64)?);
    /// let index = Tensor::from_f64s(&[2.0, 0.0, 2.0], &[3], DType::F64)?;
    /// let y = x.scatter_add(0, &index, &src)?;
    /// assert_eq!(y.value().to_vec_f64()?, [2.0, 0.0, 4.0]);
    /// let weights = Var::constant(Tensor::from_f64s(&[10.0, 20.0, 30.0], &[3], DType::F64)?);
    /// let grads = y.mul(&weights)?.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&src).unwrap().to_vec_f64()?, [30.0, 10.0, 30.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn scatter_add(&self, axis: usize, index: &Tensor, src: &Var) -> Result<Var> {
        let list = self.value().scatter_add_indices(axis, index)?;
        let value = self
            .value()
            .scatter_add_at(axis, &list, index.shape(), src.value())?;
        // The part of `src` the index reads (all of it, unread, when the index is empty).
        let read = index.numel() > 0;
        let src = match read {
            true => (0..src.rank()).try_fold(src.clone(), |src, d| match index.shape()[d] {
                len if len == src.shape()[d] => Ok(src),
                len => src.narrow(d, 0, len),
            })?,
            false => src.clone(),
        };
        let index_shape = index.shape().to_vec();
        let (src_shape, dtype) = (src.shape().to_vec(), src.value().dtype());
        Ok(Var::record(
            Op::ScatterAdd,
            value,
            &[self, &src],
            move |g, _| {
                let dsrc = match read {
                    true => g.gather_at(axis, &list, &index_shape)?,
                    false => Tensor::zeros_on(&src_shape, dtype, &g.device())?,
                };
                Ok(vec![Some(g.clone()), Some(dsrc)])
            },
        ))
    }
}
