//! When to use more than one thread.
//!
//! Rayon's fork/join costs microseconds; on small arrays that is more than the work itself, so
//! kernels only split work above a size threshold.

use rayon::prelude::*;

/// Element-wise kernels below this many elements run on the calling thread.
pub const PARALLEL_THRESHOLD: usize = 1 << 15;

/// Calls `f(first_index, chunk)` on consecutive chunks of `out` that together cover it, in parallel
/// when `out` is large; each chunk is a multiple of `granule` elements long (except the last).
pub fn for_each_chunk<T: Send>(
    out: &mut [T],
    granule: usize,
    f: impl Fn(usize, &mut [T]) + Sync + Send,
) {
    let len = out.len();
    if len < PARALLEL_THRESHOLD || rayon::current_num_threads() == 1 || granule == 0 {
        f(0, out);
        return;
    }
    let tasks = rayon::current_num_threads() * 4;
    let granules = len.div_ceil(granule);
    let chunk = granules.div_ceil(tasks).max(1) * granule;
    out.par_chunks_mut(chunk)
        .enumerate()
        .for_each(|(i, part)| f(i * chunk, part));
}
