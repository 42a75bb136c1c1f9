//! Host buffers whose size comes from the caller, allocated without aborting.
//!
//! Rust's `Vec` ends the process when the allocator refuses it. Where a buffer's size is the
//! user's to choose (`Tensor::zeros(&[1 << 40])`, random tensors, one-hot targets, the output of
//! an op on a broadcast view of terabytes), that is an error the caller can handle instead:
//! [`Error::OutOfMemory`], naming the operation and the size.

use crate::{Error, Result};

/// `len` copies of `value`, or [`Error::OutOfMemory`] for `op` when the host cannot hold them.
///
/// ```
/// let v = devices::filled_vec("zeros", 3, 0.0f32)?;
/// assert_eq!(v, [0.0; 3]);
/// let err = devices::filled_vec("zeros", 1 << 60, 0u8).unwrap_err();
/// assert!(err.to_string().starts_with("zeros: out of memory: 1152921504606846976 bytes"));
/// # Ok::<(), devices::Error>(())
/// ```
pub fn filled_vec<T: Clone>(op: &'static str, len: usize, value: T) -> Result<Vec<T>> {
    let mut values = vec_with_capacity(op, len)?;
    values.resize(len, value);
    Ok(values)
}

/// An empty `Vec` with room for `len` values, or [`Error::OutOfMemory`] for `op` when the host
/// cannot hold them (a kernel's list of offsets into a broadcast view, say).
pub(crate) fn vec_with_capacity<T>(op: &'static str, len: usize) -> Result<Vec<T>> {
    let bytes = len.saturating_mul(std::mem::size_of::<T>());
    let mut values = Vec::new();
    values
        .try_reserve_exact(len)
        .map_err(|_| Error::OutOfMemory { op, bytes })?;
    Ok(values)
}
