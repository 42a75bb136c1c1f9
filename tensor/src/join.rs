//! Joining tensors and picking entries: concat, stack, index_select and its adjoint index_add.

use crate::Tensor;
use devices::{shape_str, Error, Layout, Result, Storage};

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

    /// Checks `axis` and `indices` against `shape`, the shape being indexed.
    fn check_indices(
        op: &'static str,
        shape: &[usize],
        axis: usize,
        indices: &[usize],
    ) -> Result<()> {
        Layout::contiguous(shape).check_axis(op, axis)?;
        let len = shape[axis];
        match indices.iter().find(|&&i| i >= len) {
            Some(bad) => Err(Error::shape(
                op,
                format!(
                    "index {bad} is out of range for axis {axis} of size {len} (shape {})",
                    shape_str(shape)
                ),
            )),
            None => Ok(()),
        }
    }

    /// Picks entries `indices` along `axis`: `y[.., j, ..] = x[.., indices[j], ..]`.
    pub fn index_select(&self, axis: usize, indices: &[usize]) -> Result<Tensor> {
        Tensor::check_indices("index_select", self.shape(), axis, indices)?;
        let mut shape = self.shape().to_vec();
        shape[axis] = indices.len();
        Ok(Tensor::from_storage(
            self.storage().index_select(self.layout(), axis, indices)?,
            &shape,
        ))
    }

    /// The adjoint of `index_select`: a tensor of zeros of `shape` with
    /// `out[.., indices[j], ..] += self[.., j, ..]` along `axis` (repeated indices accumulate).
    pub fn index_add_into(
        &self,
        shape: &[usize],
        axis: usize,
        indices: &[usize],
    ) -> Result<Tensor> {
        Tensor::check_indices("index_add", shape, axis, indices)?;
        let mut expected = shape.to_vec();
        expected[axis] = indices.len();
        if self.shape() != expected {
            return Err(Error::shape(
                "index_add",
                format!(
                    "source {} does not match {} with {} indices along axis {axis}",
                    shape_str(self.shape()),
                    shape_str(shape),
                    indices.len()
                ),
            ));
        }
        let mut storage = Storage::full(&self.device(), self.dtype(), shape.iter().product(), 0.0)?;
        storage.index_add(shape, axis, indices, self.storage(), self.layout())?;
        Ok(Tensor::from_storage(storage, shape))
    }
}
