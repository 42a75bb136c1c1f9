//! Joining tensors and picking entries: concat, stack, index_select and its adjoint index_add.

use crate::Tensor;
use devices::{checked_numel, shape_str, Error, Indices, Layout, Result, Storage};

impl Tensor {
    /// Joins `tensors` along the existing axis `axis`; all other axes must agree.
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
        shape[axis] = tensors.iter().map(|t| t.shape()[axis]).sum();
        let out_layout = Layout::contiguous(&shape);
        let mut storage = Storage::full(&first.device(), first.dtype(), out_layout.numel(), 0.0)?;
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
    pub fn index_select(&self, axis: usize, indices: &Indices) -> Result<Tensor> {
        let storage = self.storage().index_select(self.layout(), axis, indices)?;
        let mut shape = self.shape().to_vec();
        shape[axis] = indices.len();
        Ok(Tensor::from_storage(storage, &shape))
    }

    /// The adjoint of `index_select`: a tensor of zeros of `shape` with
    /// `out[.., indices[j], ..] += self[.., j, ..]` along `axis` (repeated indices accumulate).
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

    /// The adjoint of `narrow`: a tensor of zeros of `shape` with `self` at entries
    /// `start..start + len` of `axis` (one strided copy).
    pub fn narrow_into(&self, shape: &[usize], axis: usize, start: usize) -> Result<Tensor> {
        let len = checked_numel("narrow_into", shape)?;
        let out = Layout::contiguous(shape);
        let expected = out.narrow(axis, start, self.dim(axis)?)?;
        if expected.shape() != self.shape() {
            return Err(Error::shape(
                "narrow_into",
                format!(
                    "{} does not fit at {start} along axis {axis} of {}",
                    shape_str(self.shape()),
                    shape_str(shape)
                ),
            ));
        }
        let mut storage = Storage::full(&self.device(), self.dtype(), len, 0.0)?;
        storage.copy_from(&expected, self.storage(), self.layout())?;
        Ok(Tensor::from_storage(storage, shape))
    }
}
