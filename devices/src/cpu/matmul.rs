//! Batched matrix products through the `gemm` crate, which takes arbitrary row and column strides
//! (a transposed operand is just a layout with swapped strides and costs no copy) and picks its
//! AVX-512, AVX2+FMA or SSE micro-kernel at run time from the CPU's features. It replaced
//! `matrixmultiply` after measuring 1.03–1.43× its speed on the ViT's shapes on one core
//! (benches/README.md); threads are ours (rayon over batch entries or row blocks), so each call
//! runs single-threaded and results do not depend on the machine's core count.

use super::CpuBuffer;
use crate::{Element, Layout, Walk};
use rayon::prelude::*;

/// Products smaller than this many multiply-adds run on one thread.
const PARALLEL_FLOPS: usize = 1 << 18;

/// One GEMM: `c = a · b` for an `m×k` and a `k×n` matrix given by pointers and strides; `c` is a
/// dense row-major `m×n` block.
struct Gemm {
    k: usize,
    n: usize,
    a_strides: (isize, isize),
    b_strides: (isize, isize),
}

impl Gemm {
    /// Runs the product for rows `rows` of `a`, writing them into `c` (already sliced to those
    /// rows).
    fn run<T: Element>(
        &self,
        a: &[T],
        a_offset: usize,
        b: &[T],
        b_offset: usize,
        rows: std::ops::Range<usize>,
        c: &mut [T],
    ) {
        let m = rows.len();
        if m == 0 || self.n == 0 {
            return;
        }
        if self.k == 0 {
            c.fill(T::zero());
            return;
        }
        let (rsa, csa) = self.a_strides;
        let (rsb, csb) = self.b_strides;
        let a_start = a_offset + rows.start * rsa as usize;
        // SAFETY: the caller's layouts were validated against the buffer lengths, so every index
        // `start + i·rs + j·cs` for `i < m`, `j < k` (resp. `k`, `n`) lies inside `a` (resp. `b`),
        // and `c` holds exactly `m·n` elements written with row stride `n`. `gemm` picks its
        // kernels by the `TypeId` of `T` (f32 or f64), not by a pointer cast of ours.
        unsafe {
            // `gemm` computes dst = alpha·dst + beta·lhs·rhs with strides given as (column,
            // row); alpha is ignored because dst is not read.
            gemm::gemm::<T>(
                m,
                self.n,
                self.k,
                c.as_mut_ptr(),
                1,
                self.n as isize,
                false,
                a.as_ptr().add(a_start),
                csa,
                rsa,
                b.as_ptr().add(b_offset),
                csb,
                rsb,
                T::zero(),
                T::one(),
                false,
                false,
                false,
                gemm::Parallelism::None,
            );
        }
    }
}

/// `[..., m, k] · [..., k, n] → [..., m, n]` with equal (possibly broadcast) batch shapes.
///
/// Work is split over batch entries when there are enough of them, otherwise over blocks of rows
/// of each product, so both "many small heads" and "one big projection" use every core.
pub fn matmul<T: Element>(a: &[T], a_layout: &Layout, b: &[T], b_layout: &Layout) -> CpuBuffer<T> {
    let rank = a_layout.rank();
    let (m, k, n) = (
        a_layout.shape()[rank - 2],
        a_layout.shape()[rank - 1],
        b_layout.shape()[rank - 1],
    );
    let stride = |l: &Layout, axis: usize| l.strides()[axis] as isize;
    let gemm = Gemm {
        k,
        n,
        a_strides: (stride(a_layout, rank - 2), stride(a_layout, rank - 1)),
        b_strides: (stride(b_layout, rank - 2), stride(b_layout, rank - 1)),
    };
    let (a_batch, b_batch) = (a_layout.leading(rank - 2), b_layout.leading(rank - 2));
    let batch_walk = Walk::new([&a_batch, &b_batch]);
    let [sa, sb] = batch_walk.inner_strides();
    let mut offsets = Vec::with_capacity(a_batch.numel());
    batch_walk.runs(0..a_batch.numel(), |_, len, [oa, ob]| {
        offsets.extend((0..len).map(|i| (oa + i * sa, ob + i * sb)));
    });

    let mut out = CpuBuffer::for_overwrite(offsets.len() * m * n);
    let threads = rayon::current_num_threads();
    let flops = offsets.len() * m * n * k;
    if m * n == 0 {
        return out;
    }
    if flops < PARALLEL_FLOPS || threads == 1 {
        for (c, &(oa, ob)) in out.chunks_mut(m * n).zip(&offsets) {
            gemm.run(a, oa, b, ob, 0..m, c);
        }
    } else if offsets.len() >= threads {
        out.par_chunks_mut(m * n)
            .zip(&offsets)
            .for_each(|(c, &(oa, ob))| gemm.run(a, oa, b, ob, 0..m, c));
    } else {
        // Fewer products than threads: split each into row blocks, and run the blocks of all
        // products at once (nested parallel iterators), not one product after another.
        let row_block = m.div_ceil(threads.div_ceil(offsets.len())).max(1);
        out.par_chunks_mut(m * n)
            .zip(&offsets)
            .for_each(|(c, &(oa, ob))| {
                c.par_chunks_mut(row_block * n)
                    .enumerate()
                    .for_each(|(i, rows)| {
                        let first = i * row_block;
                        gemm.run(a, oa, b, ob, first..first + rows.len() / n, rows);
                    });
            });
    }
    out
}
