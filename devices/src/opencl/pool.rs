//! Device buffers and the size-keyed pool that recycles them.
//!
//! A training step allocates the same activation sizes every step; going to the driver each time
//! costs a round trip (and on some drivers a page-mapping storm), so a dropped buffer goes back to
//! its device's pool and the next request of the same byte size takes it. Reuse is safe without
//! any host synchronization because every device has ONE in-order queue: all kernels that read
//! the old contents were enqueued before the kernel that overwrites them, so they run first.

use super::runtime::Runtime;
use crate::{Error, Result};
use opencl3::memory::{Buffer, ClMem, CL_MEM_READ_WRITE};
use opencl3::types::cl_mem;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The largest element count a buffer may have: kernels index with 32-bit `uint` and step loop
/// counters past the end by at most a work-group size, so half the `u32` range keeps every index
/// and counter from wrapping.
pub(crate) const MAX_ELEMENTS: usize = (u32::MAX / 2) as usize;

/// Idle buffers of one device, by byte size.
pub(crate) struct Pool {
    idle: Mutex<Idle>,
    /// The pool keeps at most this many idle bytes; beyond it a dropped buffer is released.
    limit: usize,
    allocations: AtomicUsize,
}

struct Idle {
    by_size: HashMap<usize, Vec<Buffer<u8>>>,
    bytes: usize,
}

impl Pool {
    pub fn new(limit: usize) -> Pool {
        Pool {
            idle: Mutex::new(Idle {
                by_size: HashMap::new(),
                bytes: 0,
            }),
            limit,
            allocations: AtomicUsize::new(0),
        }
    }

    /// How many buffers were created on the device (requests the pool could not serve).
    pub fn allocations(&self) -> usize {
        self.allocations.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Idle> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// An idle buffer of `bytes`, or a new one; when the device is out of memory the idle buffers
    /// are released and the allocation tried once more.
    fn take(&self, runtime: &Runtime, bytes: usize) -> Result<Buffer<u8>> {
        {
            let mut idle = self.lock();
            if let Some(buffer) = idle.by_size.get_mut(&bytes).and_then(Vec::pop) {
                idle.bytes -= bytes;
                return Ok(buffer);
            }
        }
        let create = || {
            // SAFETY: `host_ptr` is null and the flags do not ask OpenCL to read or keep a host
            // pointer, so the call touches no host memory; the context is alive (borrowed).
            unsafe {
                Buffer::<u8>::create(
                    &runtime.context,
                    CL_MEM_READ_WRITE,
                    bytes,
                    std::ptr::null_mut(),
                )
            }
        };
        let buffer = match create() {
            Ok(buffer) => buffer,
            Err(_) => {
                let mut idle = self.lock();
                idle.by_size.clear();
                idle.bytes = 0;
                drop(idle);
                create().map_err(|e| {
                    Error::Backend(format!(
                        "OpenCL: cannot allocate {bytes} bytes on {}: {e}",
                        runtime.info.name
                    ))
                })?
            }
        };
        self.allocations.fetch_add(1, Ordering::Relaxed);
        Ok(buffer)
    }

    fn give(&self, buffer: Buffer<u8>, bytes: usize) {
        let mut idle = self.lock();
        if idle.bytes + bytes <= self.limit {
            idle.bytes += bytes;
            idle.by_size.entry(bytes).or_default().push(buffer);
        }
    }
}

/// `len` elements of `T` on one OpenCL device; back to the device's pool when dropped.
pub struct ClBuffer<T> {
    memory: Option<Buffer<u8>>,
    len: usize,
    bytes: usize,
    runtime: Arc<Runtime>,
    _type: PhantomData<T>,
}

impl<T: Copy> ClBuffer<T> {
    /// An uninitialized buffer of `len` elements (at least one element is allocated: OpenCL has
    /// no empty buffers), or an error when `len` exceeds [`MAX_ELEMENTS`] or its bytes the
    /// device's largest allocation.
    pub(crate) fn new(runtime: &Arc<Runtime>, len: usize) -> Result<Self> {
        if len > MAX_ELEMENTS {
            return Err(Error::Backend(format!(
                "OpenCL: a buffer of {len} elements exceeds the {MAX_ELEMENTS} that the kernels \
                 index with 32 bits"
            )));
        }
        let bytes = len.max(1) * std::mem::size_of::<T>();
        if bytes as u64 > runtime.info.max_allocation {
            return Err(Error::Backend(format!(
                "OpenCL: a buffer of {len} elements ({bytes} bytes) exceeds the largest \
                 allocation of {}, {} bytes",
                runtime.info.name, runtime.info.max_allocation
            )));
        }
        let memory = runtime.pool.take(runtime, bytes)?;
        Ok(ClBuffer {
            memory: Some(memory),
            len,
            bytes,
            runtime: Arc::clone(runtime),
            _type: PhantomData,
        })
    }
}

impl<T> ClBuffer<T> {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The OpenCL buffer.
    pub(crate) fn raw(&self) -> &Buffer<u8> {
        self.memory.as_ref().expect("present until drop")
    }

    /// The OpenCL buffer, for commands that write it.
    pub(crate) fn raw_mut(&mut self) -> &mut Buffer<u8> {
        self.memory.as_mut().expect("present until drop")
    }

    /// The handle kernels receive as a `__global T *` argument.
    pub(crate) fn handle(&self) -> cl_mem {
        self.raw().get()
    }
}

impl<T> Drop for ClBuffer<T> {
    fn drop(&mut self) {
        if let Some(memory) = self.memory.take() {
            self.runtime.pool.give(memory, self.bytes);
        }
    }
}
