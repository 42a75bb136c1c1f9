//! Views and their gradients: each gradient is the inverse view (or, for narrow and broadcast, its
//! adjoint).

use crate::{Op, Var};
use tensor::{Result, Tensor};

impl Var {
    /// `y = reshape(x)`; `dx = reshape(g, shape(x))`. Also covers `flatten`, `squeeze` and
    /// `unsqueeze`, which are reshapes.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let x = Var::parameter(Tensor::from_f64s(&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0], &[2, 3], DType::F64)?);
    /// let y = x.reshape(&[3, 2])?;
    /// let w = Var::constant(Tensor::arange(0.0, 6.0, 1.0, DType::F64)?.reshape(&[3, 2])?);
    /// let grads = y.mul(&w)?.sum_all()?.backward()?;
    /// // The gradient comes back in x's shape.
    /// let dx = grads.get(&x).unwrap();
    /// assert_eq!((dx.shape(), dx.to_vec_f64()?), (&[2, 3][..], vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]));
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn reshape(&self, shape: &[usize]) -> Result<Var> {
        let value = self.value().reshape(shape)?;
        let input_shape = self.shape().to_vec();
        Ok(Var::record(Op::Reshape, value, &[self], move |g, _| {
            Ok(vec![Some(g.reshape(&input_shape)?)])
        }))
    }

    /// Removes the size-1 axis `axis` (a reshape): `y[i, j] = x[i, 0, j]`; `dx = g` with the axis
    /// put back.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let x = Var::parameter(Tensor::from_f64s(&[1.0, 2.0], &[2, 1], DType::F64)?);
    /// let y = x.squeeze(1)?;
    /// assert_eq!(y.shape(), [2]);
    /// assert_eq!(y.sum_all()?.backward()?.get(&x).unwrap().shape(), [2, 1]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn squeeze(&self, axis: usize) -> Result<Var> {
        let shape = self.value().squeeze(axis)?.shape().to_vec();
        self.reshape(&shape)
    }

    /// Inserts a size-1 axis at `axis` (a reshape): `y[i, 0, j] = x[i, j]`; `dx = g` without it.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let x = Var::parameter(Tensor::from_f64s(&[1.0, 2.0], &[2], DType::F64)?);
    /// let y = x.unsqueeze(0)?;
    /// assert_eq!(y.shape(), [1, 2]);
    /// assert_eq!(y.sum_all()?.backward()?.get(&x).unwrap().shape(), [2]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn unsqueeze(&self, axis: usize) -> Result<Var> {
        let shape = self.value().unsqueeze(axis)?.shape().to_vec();
        self.reshape(&shape)
    }

    /// `y = permute(x, axes)`; `dx = permute(g, axes⁻¹)`.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let x = Var::parameter(Tensor::from_f64s(&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0], &[2, 3], DType::F64)?);
    /// let y = x.permute(&[1, 0])?;
    /// assert_eq!(y.value().to_vec_f64()?, [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
    /// let w = Var::constant(Tensor::arange(0.0, 6.0, 1.0, DType::F64)?.reshape(&[3, 2])?);
    /// let grads = y.mul(&w)?.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&x).unwrap().to_vec_f64()?, [0.0, 2.0, 4.0, 1.0, 3.0, 5.0]); // wᵀ
    /// # Ok::<(), tensor::Error>(())
    /// ```
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

    /// Swaps axes `a` and `b` (a permutation): `y[.., j, .., i, ..] = x[.., i, .., j, ..]`;
    /// `dx = g` with the two axes swapped back.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let x = Var::parameter(Tensor::from_f64s(&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0], &[2, 3], DType::F64)?);
    /// let y = x.transpose(0, 1)?;
    /// assert_eq!(y.shape(), [3, 2]);
    /// let w = Var::constant(Tensor::arange(0.0, 6.0, 1.0, DType::F64)?.reshape(&[3, 2])?);
    /// let grads = y.mul(&w)?.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&x).unwrap().to_vec_f64()?, [0.0, 2.0, 4.0, 1.0, 3.0, 5.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn transpose(&self, a: usize, b: usize) -> Result<Var> {
        let mut axes: Vec<usize> = (0..self.rank()).collect();
        self.value().transpose(a, b)?;
        axes.swap(a, b);
        self.permute(&axes)
    }

    /// The last two axes swapped (each matrix of a batch transposed), as [`Var::transpose`] of
    /// them: `dx = gᵀ` (the same two axes swapped back); an error below two axes, naming the
    /// shape.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let x = Var::parameter(Tensor::arange(0.0, 6.0, 1.0, DType::F64)?.reshape(&[2, 3])?);
    /// assert_eq!(x.t()?.value().to_vec_f64()?, [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn t(&self) -> Result<Var> {
        self.value().t()?;
        self.transpose(self.rank() - 2, self.rank() - 1)
    }

    /// Every axis collapsed into one, as [`Var::reshape`] to `[numel]`: `dx = g` reshaped to
    /// `x`'s shape.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let x = Var::parameter(Tensor::ones(&[2, 3], DType::F64));
    /// assert_eq!(x.flatten_all()?.shape(), [6]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn flatten_all(&self) -> Result<Var> {
        self.reshape(&[self.value().numel()])
    }

    /// `y = x[.., start..start+len, ..]` along `axis`; `dx` is `g` placed at that range, zeros
    /// elsewhere.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let x = Var::parameter(Tensor::from_f64s(&[1.0, 2.0, 3.0, 4.0], &[4], DType::F64)?);
    /// let y = x.narrow(0, 1, 2)?;
    /// assert_eq!(y.value().to_vec_f64()?, [2.0, 3.0]);
    /// let grads = y.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&x).unwrap().to_vec_f64()?, [0.0, 1.0, 1.0, 0.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn narrow(&self, axis: usize, start: usize, len: usize) -> Result<Var> {
        let value = self.value().narrow(axis, start, len)?;
        let input_shape = self.shape().to_vec();
        Ok(Var::record(Op::Narrow, value, &[self], move |g, _| {
            Ok(vec![Some(g.narrow_into(&input_shape, axis, start)?)])
        }))
    }

    /// `y = broadcast(x, shape)`; `dx = g` summed over the broadcast axes (done centrally by the
    /// backward pass).
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let x = Var::parameter(Tensor::from_f64s(&[1.0, 2.0], &[2], DType::F64)?);
    /// let y = x.broadcast_to(&[3, 2])?;
    /// assert_eq!(y.value().to_vec_f64()?, [1.0, 2.0, 1.0, 2.0, 1.0, 2.0]);
    /// let grads = y.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&x).unwrap().to_vec_f64()?, [3.0, 3.0]); // summed over the copies
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn broadcast_to(&self, shape: &[usize]) -> Result<Var> {
        let value = self.value().broadcast_to(shape)?;
        Ok(Var::record(Op::BroadcastTo, value, &[self], |g, _| {
            Ok(vec![Some(g.clone())])
        }))
    }

    /// A dense copy (no graph node: the gradient of a copy is the identity).
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let x = Var::parameter(Tensor::from_f64s(&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0], &[2, 3], DType::F64)?);
    /// let y = x.transpose(0, 1)?.contiguous()?;
    /// assert!(y.value().is_contiguous());
    /// assert_eq!(y.op(), Some(autograd::Op::Permute), "still the transpose's node");
    /// let grads = y.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&x).unwrap().to_vec_f64()?, [1.0; 6]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn contiguous(&self) -> Result<Var> {
        let dense: Tensor = self.value().contiguous()?;
        Ok(self.with_value(dense))
    }
}
