//! Copies between host memory and device buffers: the only places the host waits for a device.
//!
//! Element bytes are converted with `to_ne_bytes` / `from_ne_bytes` (safe code, one extra host
//! pass) rather than by reinterpreting slices, since `Element` is a public trait.

use super::pool::ClBuffer;
use super::runtime::Runtime;
use crate::{DType, Element, Error, Result};
use opencl3::types::CL_BLOCKING;

/// `Element`s are `f32` or `f64` as their `DTYPE` says; conversions through `f64` are exact.
fn put_element<T: Element>(value: T, out: &mut Vec<u8>) {
    match T::DTYPE {
        DType::F32 => out.extend_from_slice(&(value.to_f64() as f32).to_ne_bytes()),
        DType::F64 => out.extend_from_slice(&value.to_f64().to_ne_bytes()),
    }
}

fn get_element<T: Element>(bytes: &[u8]) -> T {
    match T::DTYPE {
        DType::F32 => T::from_f64(f32::from_ne_bytes(bytes.try_into().expect("4 bytes")) as f64),
        DType::F64 => T::from_f64(f64::from_ne_bytes(bytes.try_into().expect("8 bytes"))),
    }
}

fn failed(runtime: &Runtime, what: &str, e: impl std::fmt::Display) -> Error {
    Error::Backend(format!(
        "OpenCL: {what} on {} failed: {e}",
        runtime.info.name
    ))
}

/// Writes `bytes` to the start of `buffer` and waits until the host copy is no longer needed
/// (ordered after every earlier command on the queue).
fn write_bytes<T>(runtime: &Runtime, buffer: &mut ClBuffer<T>, bytes: &[u8]) -> Result<()> {
    if bytes.is_empty() {
        return Ok(());
    }
    assert!(
        bytes.len() <= buffer.len() * std::mem::size_of::<T>(),
        "writing {} bytes to a buffer of {} elements",
        bytes.len(),
        buffer.len()
    );
    // SAFETY: the write is blocking, so `bytes` outlives the copy; `bytes` fits the buffer
    // (asserted above; the callers pass the byte size of `buffer.len()` elements).
    unsafe {
        runtime
            .queue
            .enqueue_write_buffer(buffer.raw_mut(), CL_BLOCKING, 0, bytes, &[])
    }
    .map(drop)
    .map_err(|e| failed(runtime, "writing a buffer", e))
}

/// Reads `count` elements of `size` bytes starting at element `first`, waiting for them.
fn read_bytes<T>(
    runtime: &Runtime,
    buffer: &ClBuffer<T>,
    first: usize,
    count: usize,
    size: usize,
) -> Result<Vec<u8>> {
    assert!(
        first
            .checked_add(count)
            .is_some_and(|end| end <= buffer.len()),
        "reading elements {first}..{first}+{count} of a buffer of {}",
        buffer.len()
    );
    // The host copy of a large view is refused as an error, as a CPU buffer's is, not an abort.
    let len = count.saturating_mul(size);
    let mut bytes = Vec::new();
    bytes
        .try_reserve_exact(len)
        .map_err(|_| Error::OutOfMemory {
            op: "download",
            bytes: len,
        })?;
    bytes.resize(len, 0);
    if count == 0 {
        return Ok(bytes);
    }
    // SAFETY: the read is blocking, so `bytes` (`count · size` bytes long) is written before it
    // is used or freed; the range `first..first + count` lies inside the buffer (asserted
    // above; the callers' layouts were checked against its length).
    unsafe {
        runtime
            .queue
            .enqueue_read_buffer(buffer.raw(), CL_BLOCKING, first * size, &mut bytes, &[])
    }
    .map(drop)
    .map_err(|e| failed(runtime, "reading a buffer", e))?;
    Ok(bytes)
}

/// Uploads host elements into `buffer` (which holds `data.len()` of them).
pub(crate) fn write_elements<T: Element>(
    runtime: &Runtime,
    buffer: &mut ClBuffer<T>,
    data: &[T],
) -> Result<()> {
    let mut bytes = Vec::with_capacity(std::mem::size_of_val(data));
    for &v in data {
        put_element(v, &mut bytes);
    }
    write_bytes(runtime, buffer, &bytes)
}

/// Uploads an index list into `buffer` (which holds `data.len()` indices).
pub(crate) fn write_indices(
    runtime: &Runtime,
    buffer: &mut ClBuffer<u32>,
    data: &[u32],
) -> Result<()> {
    let bytes: Vec<u8> = data.iter().flat_map(|i| i.to_ne_bytes()).collect();
    write_bytes(runtime, buffer, &bytes)
}

/// Downloads elements `first..first + count` of `buffer`.
pub(crate) fn read_elements<T: Element>(
    runtime: &Runtime,
    buffer: &ClBuffer<T>,
    first: usize,
    count: usize,
) -> Result<Vec<T>> {
    let size = T::DTYPE.size_in_bytes();
    let bytes = read_bytes(runtime, buffer, first, count, size)?;
    Ok(bytes.chunks_exact(size).map(get_element).collect())
}

/// Fills the `buffer.len()` elements of `buffer` with `value` (enqueued, not waited for: the
/// pattern is copied by OpenCL when the command is enqueued).
pub(crate) fn fill<T: Element>(
    runtime: &Runtime,
    buffer: &mut ClBuffer<T>,
    value: T,
) -> Result<()> {
    let len = buffer.len();
    if len == 0 {
        return Ok(());
    }
    let mut pattern = Vec::with_capacity(8);
    put_element(value, &mut pattern);
    let size = pattern.len();
    // SAFETY: OpenCL copies the `size`-byte pattern before returning, and the filled range
    // `0..len·size` is the buffer's (it holds `len` elements of `size` bytes).
    unsafe {
        runtime
            .queue
            .enqueue_fill_buffer(buffer.raw_mut(), &pattern, 0, len * size, &[])
    }
    .map(drop)
    .map_err(|e| failed(runtime, "filling a buffer", e))
}
