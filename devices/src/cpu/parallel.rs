//! When to use more than one thread.
//!
//! Rayon's fork/join costs microseconds; on small arrays that is more than the work itself, so
//! kernels only split work above a size threshold.

use rayon::prelude::*;

/// Element-wise kernels below this many elements run on the calling thread.
pub const PARALLEL_THRESHOLD: usize = 1 << 15;

/// Runs `f` on one of the CPU backend's compute threads (rayon's global pool) and returns what it
/// returns; call it around a whole training loop or evaluation, not around one kernel.
///
/// A parallel kernel called from a thread outside the pool queues its work for the pool and puts
/// the caller to sleep until the pool is done: a wake-up and a sleep (futex calls and context
/// switches) per kernel, thousands of times per training step. Called from a pool thread, a kernel
/// splits its work by work stealing instead: the calling thread takes the first share and the
/// others, still spinning from the previous kernel, steal the rest. The kernels and their split
/// are the same either way, so results do not change; only the hand-offs get cheaper.
///
/// How: `rayon::scope`, called from outside the pool, runs its closure on one of the pool's
/// threads and blocks the caller until it returns (called inside the pool, it runs it here).
pub fn on_compute_thread<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    rayon::scope(|_| f())
}

/// Calls `f(first_index, chunk)` on consecutive chunks of `out` that together cover it, in parallel
/// when `out` is large; each chunk is a multiple of `granule` elements long (except the last).
pub fn for_each_chunk<T: Send>(
    out: &mut [T],
    granule: usize,
    f: impl Fn(usize, &mut [T]) + Sync + Send,
) {
    let work = out.len();
    for_each_chunk_of_work(out, granule, work, f)
}

/// [`for_each_chunk`] for kernels whose work is not proportional to their output (a reduction
/// reads many inputs per output): threads are used when `work`, the elements read or written in
/// all, is large.
pub fn for_each_chunk_of_work<T: Send>(
    out: &mut [T],
    granule: usize,
    work: usize,
    f: impl Fn(usize, &mut [T]) + Sync + Send,
) {
    let len = out.len();
    let granule = granule.max(1);
    if work < PARALLEL_THRESHOLD || rayon::current_num_threads() == 1 || len <= granule {
        widest_simd(|| f(0, out));
        return;
    }
    let tasks = rayon::current_num_threads() * 4;
    let granules = len.div_ceil(granule);
    let chunk = granules.div_ceil(tasks).max(1) * granule;
    out.par_chunks_mut(chunk)
        .enumerate()
        .for_each(|(i, part)| widest_simd(|| f(i * chunk, part)));
}

/// Runs `f` inlined into a function compiled for the widest vector extension this CPU has
/// (AVX-512, else AVX2 + FMA, else the baseline), so the element-wise loops inside vectorize at
/// that width without `target-cpu` flags. The features are detected at run time (cached).
#[inline(always)]
fn widest_simd<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx512f")]
        fn avx512<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        #[target_feature(enable = "avx2,fma")]
        fn avx2<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F (just detected), the only requirement of `avx512`.
            return unsafe { avx512(f) };
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU has AVX2 and FMA (just detected), the only requirement of `avx2`.
            return unsafe { avx2(f) };
        }
    }
    f()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_compute_thread_runs_on_a_pool_thread_and_returns_the_result() {
        assert_eq!(
            rayon::current_thread_index(),
            None,
            "tests run outside the pool"
        );
        let (index, value) = on_compute_thread(|| (rayon::current_thread_index(), 6 * 7));
        assert!(
            index.is_some(),
            "the closure should run on one of rayon's threads"
        );
        assert_eq!(value, 42);
    }
}
