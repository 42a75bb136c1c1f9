//! Joining tensors and picking entries: concat, stack, index_select and its adjoint index_add,
//! gather and its adjoint scatter_add.

use crate::Tensor;
use devices::ops::Identity;
use devices::{checked_numel, shape_str, Device, Error, Indices, Layout, Result, Storage};

impl Tensor {
    /// Joins `tensors` along the existing axis `axis`; all other axes must agree.
    ///
    /// ```
    /// use tensor::{DType, Device, Indices, Tensor};
    /// let a = Tensor::from_f64s(&[1.0, 2.0], &[1, 2], DType::F64)?;
    /// let b = Tensor::from_f64s(&[3.0, 4.0, 5.0, 6.0], &[2, 2], DType::F64)?;
    /// let rows = Tensor::concat(&[a, b], 0)?;
    /// assert_eq!(rows.shape(), [3, 2]);
    /// assert_eq!(rows.to_vec_f64()?, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn concat(tensors: &[Tensor], axis: usize) -> Result<Tensor> {
        let first = tensors
            .first()
            .ok_or_else(|| Error::shape("concat", "needs at least one tensor"))?;
        first.layout().check_axis("concat", axis)?;
        for t in &tensors[1..] {
            first.check_same_kind("concat", t)?;
            let compatible = t.rank() == first.rank()
                && (0..first.rank()).all(|a| a == axis || t.shape()[a] == first.shape()[a]);
            if !compatible {
                return Err(Error::shape(
                    "concat",
                    format!(
                        "cannot join {} and {} along axis {axis}",
                        shape_str(first.shape()),
                        shape_str(t.shape())
                    ),
                ));
            }
        }
        let mut shape = first.shape().to_vec();
        let joined = tensors
            .iter()
            .try_fold(0usize, |n, t| n.checked_add(t.shape()[axis]));
        shape[axis] = joined.ok_or_else(|| {
            Error::shape(
                "concat",
                format!("axis {axis} would have too many elements"),
            )
        })?;
        let len = checked_numel("concat", &shape)?;
        let out_layout = Layout::contiguous(&shape);
        let mut storage = Storage::full(&first.device(), first.dtype(), len, 0.0)?;
        let mut start = 0;
        for t in tensors {
            let len = t.shape()[axis];
            storage.copy_from(
                &out_layout.narrow(axis, start, len)?,
                t.storage(),
                t.layout(),
            )?;
            start += len;
        }
        Ok(Tensor::from_storage(storage, &shape))
    }

    /// Stacks same-shaped `tensors` along a new axis inserted at `axis`.
    ///
    /// ```
    /// use tensor::{DType, Device, Indices, Tensor};
    /// let a = Tensor::from_f64s(&[1.0, 2.0], &[2], DType::F64)?;
    /// let b = Tensor::from_f64s(&[3.0, 4.0], &[2], DType::F64)?;
    /// let columns = Tensor::stack(&[a, b], 1)?;
    /// assert_eq!(columns.shape(), [2, 2]);
    /// assert_eq!(columns.to_vec_f64()?, [1.0, 3.0, 2.0, 4.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn stack(tensors: &[Tensor], axis: usize) -> Result<Tensor> {
        let first = tensors
            .first()
            .ok_or_else(|| Error::shape("stack", "needs at least one tensor"))?;
        if axis > first.rank() {
            return Err(Error::shape(
                "stack",
                format!(
                    "axis {axis} is out of range for stacking tensors of shape {}",
                    shape_str(first.shape())
                ),
            ));
        }
        for t in &tensors[1..] {
            first.check_same_kind("stack", t)?;
        }
        if let Some(t) = tensors.iter().find(|t| t.shape() != first.shape()) {
            return Err(Error::shape(
                "stack",
                format!(
                    "shapes {} and {} differ",
                    shape_str(first.shape()),
                    shape_str(t.shape())
                ),
            ));
        }
        let expanded = tensors
            .iter()
            .map(|t| t.unsqueeze(axis))
            .collect::<Result<Vec<_>>>()?;
        Tensor::concat(&expanded, axis)
    }

    /// Picks entries `indices` along `axis`: `y[.., j, ..] = x[.., indices[j], ..]`.
    ///
    /// ```
    /// use tensor::{DType, Device, Indices, Tensor};
    /// let x = Tensor::arange(0.0, 6.0, 1.0, DType::F64)?.reshape(&[2, 3])?;
    /// let picks = Indices::new(&Device::Cpu, &[2, 0, 2])?;
    /// assert_eq!(x.index_select(1, &picks)?.to_vec_f64()?, [2.0, 0.0, 2.0, 5.0, 3.0, 5.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn index_select(&self, axis: usize, indices: &Indices) -> Result<Tensor> {
        let storage = self.storage().index_select(self.layout(), axis, indices)?;
        let mut shape = self.shape().to_vec();
        shape[axis] = indices.len();
        Ok(Tensor::from_storage(storage, &shape))
    }

    /// The adjoint of `index_select`: a tensor of zeros of `shape` with
    /// `out[.., indices[j], ..] += self[.., j, ..]` along `axis` (repeated indices accumulate).
    ///
    /// ```
    /// use tensor::{DType, Device, Indices, Tensor};
    /// let rows = Tensor::from_f64s(&[1.0, 1.0, 2.0, 2.0, 3.0, 3.0], &[3, 2], DType::F64)?;
    /// // Rows 0 and 2 both land on row 1 of the result and add up.
    /// let at = Indices::new(&Device::Cpu, &[1, 0, 1])?;
    /// let out = rows.index_add_into(&[2, 2], 0, &at)?;
    /// assert_eq!(out.to_vec_f64()?, [2.0, 2.0, 4.0, 4.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn index_add_into(
        &self,
        shape: &[usize],
        axis: usize,
        indices: &Indices,
    ) -> Result<Tensor> {
        let len = checked_numel("index_add", shape)?;
        let mut storage = Storage::full(&self.device(), self.dtype(), len, 0.0)?;
        storage.index_add(shape, axis, indices, self.storage(), self.layout())?;
        Ok(Tensor::from_storage(storage, shape))
    }

    /// PyTorch's `gather`: `y[p] = self[p with p[axis] = index[p]]` for every position `p` of
    /// `index`, a tensor of whole numbers below the size of `axis` (what
    /// [`argmax`](Tensor::argmax) gives) with this tensor's rank and no larger on any other
    /// axis (an empty index may have any shape). The result has `index`'s shape, on this
    /// tensor's device.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let x = Tensor::from_f64s(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3], DType::F64)?;
    /// let index = Tensor::from_f64s(&[2.0, 0.0, 1.0, 1.0], &[2, 2], DType::F64)?;
    /// assert_eq!(x.gather(1, &index)?.to_vec_f64()?, [3.0, 1.0, 5.0, 5.0]);
    /// // Each row's largest entry:
    /// assert_eq!(x.gather(1, &x.argmax(1, true)?)?.to_vec_f64()?, [3.0, 6.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn gather(&self, axis: usize, index: &Tensor) -> Result<Tensor> {
        self.gather_at(axis, &self.gather_indices(axis, index)?, index.shape())
    }

    /// The index list [`gather`](Tensor::gather) makes of `index` for this tensor: its values,
    /// checked against the size of `axis`, uploaded to this tensor's device. With
    /// [`gather_at`](Tensor::gather_at) and [`scatter_add_into`](Tensor::scatter_add_into) a
    /// gather and its gradient's scatter-add share one upload.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let x = Tensor::from_f64s(&[1.0, 2.0, 3.0, 4.0], &[2, 2], DType::F64)?;
    /// let index = Tensor::from_f64s(&[1.0, 0.0], &[2, 1], DType::F64)?;
    /// let list = x.gather_indices(1, &index)?;
    /// assert_eq!(x.gather_at(1, &list, index.shape())?.to_vec_f64()?, [2.0, 3.0]);
    /// assert!(x.gather_indices(1, &index.add_scalar(1.0)?).is_err()); // 2 is past axis 1
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn gather_indices(&self, axis: usize, index: &Tensor) -> Result<Indices> {
        index.index_list("gather", self.shape(), axis, &self.device())
    }

    /// [`gather`](Tensor::gather) by an index already on the device: `index` holds one entry per
    /// position of `index_shape`, in row-major order (it can serve many calls, as a gather and
    /// the scatter-add of its gradient share one).
    ///
    /// ```
    /// use tensor::{DType, Device, Indices, Tensor};
    /// let x = Tensor::from_f64s(&[1.0, 2.0, 3.0, 4.0], &[2, 2], DType::F64)?;
    /// let index = Indices::new(&Device::Cpu, &[1, 0, 1])?; // one per position of [1, 3]
    /// assert_eq!(x.gather_at(1, &index, &[1, 3])?.to_vec_f64()?, [2.0, 1.0, 2.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn gather_at(&self, axis: usize, index: &Indices, index_shape: &[usize]) -> Result<Tensor> {
        let storage = self
            .storage()
            .gather(self.layout(), axis, index, index_shape)?;
        Ok(Tensor::from_storage(storage, index_shape))
    }

    /// PyTorch's `scatter_add`: a copy of `self` with `src[p]` added to the entry at `p with
    /// p[axis] = index[p]` for every position `p` of `index` (whole numbers below the size of
    /// `axis`; the same rank as `self` and `src`, no larger than `src` on any axis, nor than
    /// `self` on any other than `axis`, unless it is empty). Entries that several positions pick
    /// add up, in order of `p[axis]`.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let counts = Tensor::zeros(&[4], DType::F64);
    /// let labels = Tensor::from_f64s(&[1.0, 3.0, 1.0, 1.0], &[4], DType::F64)?;
    /// let ones = Tensor::full(&[4], 1.0, DType::F64);
    /// assert_eq!(counts.scatter_add(0, &labels, &ones)?.to_vec_f64()?, [0.0, 3.0, 0.0, 1.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn scatter_add(&self, axis: usize, index: &Tensor, src: &Tensor) -> Result<Tensor> {
        self.scatter_add_at(
            axis,
            &self.scatter_add_indices(axis, index)?,
            index.shape(),
            src,
        )
    }

    /// The index list [`scatter_add`](Tensor::scatter_add) makes of `index` for this tensor
    /// (as [`gather_indices`](Tensor::gather_indices), its errors naming `scatter_add`): with
    /// [`scatter_add_at`](Tensor::scatter_add_at) and [`gather_at`](Tensor::gather_at) a
    /// scatter-add and its source's gradient share one upload.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let x = Tensor::zeros(&[3], DType::F64);
    /// let index = Tensor::from_f64s(&[2.0, 0.0], &[2], DType::F64)?;
    /// let list = x.scatter_add_indices(0, &index)?;
    /// let src = Tensor::from_f64s(&[5.0, 7.0], &[2], DType::F64)?;
    /// assert_eq!(x.scatter_add_at(0, &list, index.shape(), &src)?.to_vec_f64()?, [7.0, 0.0, 5.0]);
    /// assert!(x.scatter_add_indices(0, &index.add_scalar(1.0)?).is_err()); // 3 is past axis 0
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn scatter_add_indices(&self, axis: usize, index: &Tensor) -> Result<Indices> {
        index.index_list("scatter_add", self.shape(), axis, &self.device())
    }

    /// [`scatter_add`](Tensor::scatter_add) by an index already on the device: `index` holds
    /// one entry per position of `index_shape`, in row-major order (see
    /// [`scatter_add_indices`](Tensor::scatter_add_indices)).
    ///
    /// ```
    /// use tensor::{DType, Device, Indices, Tensor};
    /// let x = Tensor::zeros(&[2, 2], DType::F64);
    /// let src = Tensor::from_f64s(&[1.0, 2.0, 3.0], &[1, 3], DType::F64)?;
    /// let index = Indices::new(&Device::Cpu, &[1, 1])?; // one per position of [1, 2]: the
    /// // source is read as far as that, its third entry left out
    /// assert_eq!(x.scatter_add_at(1, &index, &[1, 2], &src)?.to_vec_f64()?, [0.0, 3.0, 0.0, 0.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn scatter_add_at(
        &self,
        axis: usize,
        index: &Indices,
        index_shape: &[usize],
        src: &Tensor,
    ) -> Result<Tensor> {
        let empty = index_shape.contains(&0);
        let fits = empty
            || src.rank() == index_shape.len()
                && src.shape().iter().zip(index_shape).all(|(s, i)| i <= s);
        if !fits {
            return Err(Error::shape(
                "scatter_add",
                format!(
                    "an index of shape {} does not fit the source {} (same rank, no larger on \
                     any axis)",
                    shape_str(index_shape),
                    shape_str(src.shape())
                ),
            ));
        }
        self.check_same_kind("scatter_add", src)?;
        let mut storage = self.storage().unary::<Identity>(self.layout())?;
        if !empty {
            let src =
                (0..src.rank()).try_fold(src.clone(), |src, d| src.narrow(d, 0, index_shape[d]))?;
            storage.scatter_add(self.shape(), axis, index, src.storage(), src.layout())?;
        }
        Ok(Tensor::from_storage(storage, self.shape()))
    }

    /// The adjoint of [`gather_at`](Tensor::gather_at): a tensor of zeros of `shape` with each
    /// `self[p]` added at `p with p[axis] = index[p]` (`self` has the index's shape; repeated
    /// positions add up).
    ///
    /// ```
    /// use tensor::{DType, Device, Indices, Tensor};
    /// let g = Tensor::from_f64s(&[1.0, 2.0, 3.0], &[1, 3], DType::F64)?;
    /// let index = Indices::new(&Device::Cpu, &[1, 0, 1])?;
    /// assert_eq!(g.scatter_add_into(&[2, 2], 1, &index)?.to_vec_f64()?, [2.0, 4.0, 0.0, 0.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn scatter_add_into(
        &self,
        shape: &[usize],
        axis: usize,
        index: &Indices,
    ) -> Result<Tensor> {
        let len = checked_numel("scatter_add", shape)?;
        let mut storage = Storage::full(&self.device(), self.dtype(), len, 0.0)?;
        storage.scatter_add(shape, axis, index, self.storage(), self.layout())?;
        Ok(Tensor::from_storage(storage, shape))
    }

    /// This tensor's values, each a whole number below `size` (as [`argmax`](Tensor::argmax)
    /// gives them), as an index list on `device` in row-major order: for
    /// [`index_select`](Tensor::index_select) by a tensor of ids (an embedding's lookup). An
    /// error, naming `op`, gives the first value that is not and where it is.
    ///
    /// ```
    /// use tensor::{DType, Device, Tensor};
    /// let table = Tensor::from_f64s(&[0.0, 1.0, 10.0, 11.0, 20.0, 21.0], &[3, 2], DType::F64)?;
    /// let ids = Tensor::from_f64s(&[2.0, 0.0], &[2], DType::F32)?;
    /// let rows = table.index_select(0, &ids.to_indices("lookup", 3, &Device::Cpu)?)?;
    /// assert_eq!(rows.to_vec_f64()?, [20.0, 21.0, 0.0, 1.0]);
    /// let err = ids.add_scalar(1.0)?.to_indices("lookup", 3, &Device::Cpu).err().unwrap();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "lookup: index 3 at [0] of the index tensor [2] is not a whole number below 3"
    /// );
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn to_indices(&self, op: &'static str, size: usize, device: &Device) -> Result<Indices> {
        self.checked_indices(op, size, device, || size.to_string())
    }

    /// This tensor's values as indices on `device` along `axis` of `shape` ([`Tensor::to_indices`]
    /// with an error that names that axis and shape).
    fn index_list(
        &self,
        op: &'static str,
        shape: &[usize],
        axis: usize,
        device: &Device,
    ) -> Result<Indices> {
        Layout::contiguous(shape).check_axis(op, axis)?;
        let size = shape[axis];
        self.checked_indices(op, size, device, || {
            format!("{size}, the size of axis {axis} of {}", shape_str(shape))
        })
    }

    /// This tensor's values as indices below `size` on `device`, or an error naming `op`, the
    /// first value that is not a whole number below it, its position, and `bound()` as the
    /// bound.
    fn checked_indices(
        &self,
        op: &'static str,
        size: usize,
        device: &Device,
        bound: impl Fn() -> String,
    ) -> Result<Indices> {
        let values = self.to_vec_f64()?;
        let mut list = Vec::with_capacity(values.len());
        for (position, &v) in values.iter().enumerate() {
            if !(v >= 0.0 && v < size as f64 && v.fract() == 0.0) {
                return Err(Error::invalid(
                    op,
                    format!(
                        "index {v} at {:?} of the index tensor {} is not a whole number below {}",
                        unravel(position, self.shape()),
                        shape_str(self.shape()),
                        bound()
                    ),
                ));
            }
            list.push(v as usize);
        }
        Indices::new(device, &list)
    }

    /// The adjoint of `narrow`: a tensor of zeros of `shape` with `self` at entries
    /// `start..start + len` of `axis` (one strided copy).
    ///
    /// ```
    /// use tensor::{DType, Device, Indices, Tensor};
    /// let part = Tensor::from_f64s(&[7.0, 8.0], &[1, 2], DType::F64)?;
    /// let out = part.narrow_into(&[3, 2], 0, 1)?; // placed as row 1 of a [3, 2] of zeros
    /// assert_eq!(out.to_vec_f64()?, [0.0, 0.0, 7.0, 8.0, 0.0, 0.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn narrow_into(&self, shape: &[usize], axis: usize, start: usize) -> Result<Tensor> {
        let len = checked_numel("narrow_into", shape)?;
        let out = Layout::contiguous(shape);
        let fits = self.rank() == shape.len()
            && axis < shape.len()
            && out
                .narrow(axis, start, self.shape()[axis])
                .is_ok_and(|part| part.shape() == self.shape());
        if !fits {
            return Err(Error::shape(
                "narrow_into",
                format!(
                    "{} does not fit at {start} along axis {axis} of {}",
                    shape_str(self.shape()),
                    shape_str(shape)
                ),
            ));
        }
        let expected = out.narrow(axis, start, self.shape()[axis])?;
        let mut storage = Storage::full(&self.device(), self.dtype(), len, 0.0)?;
        storage.copy_from(&expected, self.storage(), self.layout())?;
        Ok(Tensor::from_storage(storage, shape))
    }
}

/// The multi-index of row-major `position` in `shape`.
fn unravel(mut position: usize, shape: &[usize]) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    for (i, &size) in index.iter_mut().zip(shape).rev() {
        *i = position % size;
        position /= size;
    }
    index
}
