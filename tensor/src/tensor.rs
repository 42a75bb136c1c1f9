//! The `Tensor` handle and its accessors.

use devices::{DType, Device, Error, Layout, Result, Storage, TypedElement};
use std::sync::Arc;

/// An n-dimensional array on a device: shared storage seen through a layout.
///
/// Cloning is cheap (a reference count and a small layout); clones and views share the numbers.
/// Tensors are immutable values: every op returns a new tensor.
#[derive(Clone)]
pub struct Tensor {
    storage: Arc<Storage>,
    layout: Layout,
}

impl Tensor {
    /// Wraps a fresh contiguous storage holding `shape`.
    pub(crate) fn from_storage(storage: Storage, shape: &[usize]) -> Tensor {
        Tensor {
            storage: Arc::new(storage),
            layout: Layout::contiguous(shape),
        }
    }

    /// The same storage seen through another layout.
    pub(crate) fn with_layout(&self, layout: Layout) -> Tensor {
        Tensor {
            storage: Arc::clone(&self.storage),
            layout,
        }
    }

    /// The buffer this tensor views (shared with its clones and views).
    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// How the buffer is read: shape, strides (in elements) and offset.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The size of each axis.
    pub fn shape(&self) -> &[usize] {
        self.layout.shape()
    }

    /// The size of axis `axis`, or an error naming the shape when out of range.
    ///
    /// ```
    /// use tensor::{DType, Device, Tensor};
    /// let x = Tensor::zeros(&[2, 3], DType::F32);
    /// assert_eq!(x.dim(1)?, 3);
    /// assert!(x.dim(2).unwrap_err().to_string().contains("[2, 3]"));
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn dim(&self, axis: usize) -> Result<usize> {
        self.layout.check_axis("dim", axis)?;
        Ok(self.shape()[axis])
    }

    /// The number of axes (0 for a scalar).
    pub fn rank(&self) -> usize {
        self.layout.rank()
    }

    /// The number of elements (the product of the shape).
    pub fn numel(&self) -> usize {
        self.layout.numel()
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        self.storage.dtype()
    }

    /// Where the numbers live.
    pub fn device(&self) -> Device {
        self.storage.device()
    }

    /// True when the layout is dense row-major: its strides are those of its shape, except on
    /// axes of size 1, whose stride never moves and so does not matter.
    pub fn is_contiguous(&self) -> bool {
        self.layout.is_contiguous()
    }

    /// True when both handles view the same storage (a cheap identity test).
    ///
    /// ```
    /// use tensor::{DType, Device, Tensor};
    /// let x = Tensor::zeros(&[2, 3], DType::F32);
    /// assert!(x.t()?.shares_storage_with(&x));
    /// assert!(!x.deep_copy()?.shares_storage_with(&x));
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn shares_storage_with(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.storage, &other.storage)
    }

    /// The elements in row-major order as `T`, which must match the dtype.
    ///
    /// ```
    /// use tensor::{DType, Device, Tensor};
    /// let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
    /// assert_eq!(x.t()?.to_vec::<f32>()?, [1.0, 3.0, 2.0, 4.0]); // in the view's row-major order
    /// assert!(x.to_vec::<f64>().is_err(), "the element type must match");
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn to_vec<T: TypedElement>(&self) -> Result<Vec<T>> {
        self.storage.to_host(&self.layout)
    }

    /// The elements in row-major order, converted to `f64` whatever the dtype.
    ///
    /// ```
    /// use tensor::{DType, Device, Tensor};
    /// let x = Tensor::from_vec(vec![0.5f32, 2.0], &[2])?;
    /// assert_eq!(x.to_vec_f64()?, [0.5, 2.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn to_vec_f64(&self) -> Result<Vec<f64>> {
        self.storage.to_host_f64(&self.layout)
    }

    /// The value of a one-element tensor.
    ///
    /// ```
    /// use tensor::{DType, Device, Tensor};
    /// assert_eq!(Tensor::full(&[1, 1], 4.0, DType::F32).to_scalar()?, 4.0);
    /// assert!(Tensor::zeros(&[2], DType::F32).to_scalar().is_err());
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn to_scalar(&self) -> Result<f64> {
        if self.numel() != 1 {
            return Err(Error::shape(
                "to_scalar",
                format!(
                    "tensor of shape {:?} has {} elements, not 1",
                    self.shape(),
                    self.numel()
                ),
            ));
        }
        Ok(self.to_vec_f64()?[0])
    }

    /// A copy converted to `dtype` (a clone when it already has that dtype).
    ///
    /// ```
    /// use tensor::{DType, Device, Tensor};
    /// let x = Tensor::from_vec(vec![0.1f64], &[1])?;
    /// assert_eq!(x.to_dtype(DType::F32)?.to_vec::<f32>()?, [0.1f32]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn to_dtype(&self, dtype: DType) -> Result<Tensor> {
        if dtype == self.dtype() {
            return Ok(self.clone());
        }
        let values = self.to_vec_f64()?;
        match dtype {
            DType::F64 => Tensor::from_vec_on(values, self.shape(), &self.device()),
            DType::F32 => Tensor::from_vec_on(
                values.into_iter().map(|v| v as f32).collect(),
                self.shape(),
                &self.device(),
            ),
        }
    }

    /// A copy on `device` (a clone when it is already there).
    ///
    /// ```
    /// use tensor::{DType, Device, Tensor};
    /// let x = Tensor::from_vec(vec![1.0f32, 2.0], &[2])?;
    /// let there = x.to_device(&Device::Cpu)?; // already there: the same storage
    /// assert!(there.shares_storage_with(&x));
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn to_device(&self, device: &Device) -> Result<Tensor> {
        if *device == self.device() {
            return Ok(self.clone());
        }
        match self.dtype() {
            DType::F32 => Tensor::from_vec_on(self.to_vec::<f32>()?, self.shape(), device),
            DType::F64 => Tensor::from_vec_on(self.to_vec::<f64>()?, self.shape(), device),
        }
    }

    /// An error naming `op` unless `other` lives on this tensor's device and has its dtype, in
    /// the caller's words: `roles` says what each is, with its verb.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let logits = Tensor::zeros(&[2, 3], DType::F32);
    /// let targets = Tensor::zeros(&[2, 3], DType::F64);
    /// let err = logits.check_kind_against("loss", &targets, ["the logits are", "the targets"]);
    /// assert_eq!(err.unwrap_err().to_string(), "loss: the logits are f32 and the targets f64");
    /// ```
    pub fn check_kind_against(
        &self,
        op: &'static str,
        other: &Tensor,
        roles: [&'static str; 2],
    ) -> Result<()> {
        let [mine, theirs] = roles;
        self.check_kind(
            op,
            other,
            |here, there| format!("{mine} on {here} and {theirs} on {there}"),
            |lhs, rhs| Error::dtype_of(op, lhs, rhs, roles),
        )
    }

    /// Checks that `other` lives on the same device and has the same dtype as `self`.
    pub(crate) fn check_same_kind(&self, op: &'static str, other: &Tensor) -> Result<()> {
        self.check_kind(
            op,
            other,
            |here, there| format!("operands are on {here} and {there}"),
            |lhs, rhs| Error::dtype(op, lhs, rhs),
        )
    }

    /// The one kind check: the device first (as PyTorch's "on the same device"), said by
    /// `device_message(self's, other's)`, then the dtype, by `dtype_error(self's, other's)`.
    fn check_kind(
        &self,
        op: &'static str,
        other: &Tensor,
        device_message: impl FnOnce(&Device, &Device) -> String,
        dtype_error: impl FnOnce(DType, DType) -> Error,
    ) -> Result<()> {
        if self.device() != other.device() {
            return Err(Error::Device {
                op,
                msg: device_message(&self.device(), &other.device()),
            });
        }
        if self.dtype() != other.dtype() {
            return Err(dtype_error(self.dtype(), other.dtype()));
        }
        Ok(())
    }
}
