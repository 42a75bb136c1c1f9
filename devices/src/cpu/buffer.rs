//! CPU buffers and the pool that recycles them.
//!
//! A training step allocates and frees the same activation sizes every step. Going to the system
//! allocator for each one maps and unmaps fresh pages (millions of page faults per epoch), so large
//! buffers are returned to a size-keyed pool when dropped and handed out again on the next request.

use crate::Element;
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::sync::Mutex;

/// Buffers smaller than this many bytes go straight to the allocator (it is fast for them).
const MIN_POOLED_BYTES: usize = 64 * 1024;
/// Outputs of at least this many bytes are allocated fallibly ([`CpuBuffer::try_for_overwrite`]).
const FALLIBLE_FROM_BYTES: usize = 256 << 20;
/// The pool keeps at most this many bytes of idle buffers; beyond it, freed buffers are released.
const MAX_POOLED_BYTES: usize = 2 << 30;

struct Pool {
    idle: HashMap<(TypeId, usize), Vec<Box<dyn Any + Send>>>,
    idle_bytes: usize,
}

static POOL: Mutex<Option<Pool>> = Mutex::new(None);

fn with_pool<R>(f: impl FnOnce(&mut Pool) -> R) -> R {
    let mut guard = POOL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let pool = guard.get_or_insert_with(|| Pool {
        idle: HashMap::new(),
        idle_bytes: 0,
    });
    f(pool)
}

/// A contiguous array of `T` in host memory, recycled through the pool when dropped.
#[derive(Debug)]
pub struct CpuBuffer<T: Element> {
    data: Vec<T>,
}

impl<T: Element> CpuBuffer<T> {
    /// A buffer of `len` elements whose contents are unspecified (old values from the pool, or
    /// zeros): the caller must overwrite every element.
    pub fn for_overwrite(len: usize) -> Self {
        Self::recycled(len).unwrap_or_else(|| CpuBuffer {
            data: vec![T::zero(); len],
        })
    }

    /// [`CpuBuffer::for_overwrite`] for a size a view chose (a broadcast view of a scalar can
    /// stand for terabytes): [`crate::Error::OutOfMemory`] for `op` when the host cannot hold
    /// it, where `for_overwrite` would end the process. Buffers under [`FALLIBLE_FROM_BYTES`]
    /// come from `for_overwrite`, whose zeros the allocator provides lazily (the fallible path
    /// writes its zeros).
    pub fn try_for_overwrite(op: &'static str, len: usize) -> crate::Result<Self> {
        if len.saturating_mul(std::mem::size_of::<T>()) < FALLIBLE_FROM_BYTES {
            return Ok(Self::for_overwrite(len));
        }
        match Self::recycled(len) {
            Some(buffer) => Ok(buffer),
            None => Ok(CpuBuffer {
                data: crate::filled_vec(op, len, T::zero())?,
            }),
        }
    }

    /// A buffer of `len` copies of `value`.
    pub fn filled(len: usize, value: T) -> Self {
        let mut buffer = Self::for_overwrite(len);
        buffer.data.fill(value);
        buffer
    }

    /// [`CpuBuffer::filled`] for a size the caller chose: [`crate::Error::OutOfMemory`] for `op`
    /// when the host cannot hold it, where `filled` would end the process.
    pub fn try_filled(op: &'static str, len: usize, value: T) -> crate::Result<Self> {
        match Self::recycled(len) {
            Some(mut buffer) => {
                buffer.data.fill(value);
                Ok(buffer)
            }
            None => Ok(CpuBuffer {
                data: crate::filled_vec(op, len, value)?,
            }),
        }
    }

    /// The elements, taken out of the buffer (which then goes to no pool).
    pub fn into_vec(mut self) -> Vec<T> {
        std::mem::take(&mut self.data)
    }

    /// An idle pooled buffer of exactly `len` elements, if there is one (large buffers only).
    fn recycled(len: usize) -> Option<Self> {
        let bytes = len * std::mem::size_of::<T>();
        if bytes < MIN_POOLED_BYTES {
            return None;
        }
        let found = with_pool(|pool| {
            let slot = pool.idle.get_mut(&(TypeId::of::<T>(), len))?;
            let found = slot.pop()?;
            pool.idle_bytes -= bytes;
            Some(found)
        })?;
        let data = *found
            .downcast::<Vec<T>>()
            .expect("pool slots are keyed by element type");
        Some(CpuBuffer { data })
    }
}

impl<T: Element> Deref for CpuBuffer<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.data
    }
}

impl<T: Element> DerefMut for CpuBuffer<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.data
    }
}

impl<T: Element> Clone for CpuBuffer<T> {
    fn clone(&self) -> Self {
        let mut copy = Self::for_overwrite(self.data.len());
        copy.data.copy_from_slice(&self.data);
        copy
    }
}

impl<T: Element> Drop for CpuBuffer<T> {
    fn drop(&mut self) {
        let len = self.data.len();
        let bytes = len * std::mem::size_of::<T>();
        if bytes < MIN_POOLED_BYTES || self.data.capacity() != len {
            return;
        }
        let data = std::mem::take(&mut self.data);
        with_pool(|pool| {
            if pool.idle_bytes + bytes <= MAX_POOLED_BYTES {
                pool.idle_bytes += bytes;
                pool.idle
                    .entry((TypeId::of::<T>(), len))
                    .or_default()
                    .push(Box::new(data));
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_buffers_are_recycled() {
        let len = 1 << 20;
        let first = CpuBuffer::<f32>::filled(len, 3.0);
        let address = first.as_ptr();
        drop(first);
        let again = CpuBuffer::<f32>::for_overwrite(len);
        assert_eq!(
            again.as_ptr(),
            address,
            "the freed buffer should be handed out again"
        );
    }
}
