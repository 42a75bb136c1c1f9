//! Batched matrix products through the `gemm` crate, which takes arbitrary row and column strides
//! (a transposed operand is just a layout with swapped strides and costs no copy) and picks its
//! AVX-512, AVX2+FMA or SSE micro-kernel at run time from the CPU's features. It replaced
//! `matrixmultiply` after measuring 1.03–1.43× its speed on the ViT's shapes on one core
//! (benches/README.md). Threads are ours (rayon over batch entries or row blocks), and each
//! output element is summed in an order fixed by the product's shape alone, so results do not
//! depend on the number of threads:
//!
//! - `gemm` sums each element's `k` products in order with fused multiply-adds, except that it
//!   cuts a long `k` into blocks (adding each block's sum to the output) by a rule that depends
//!   on the size of the block of rows it is given, and on the CPU's caches. A row block of one
//!   thread would then sum in other blocks than the whole product on one thread. So `k` is cut
//!   here, by [`k_block`], and `gemm` is given one block at a time, which it sums whole.
//! - `gemm` takes other paths for tiny products (a few rows, or at most 256 outputs), which sum
//!   in other orders; row blocks are never made that small ([`row_blocks`]).
//! - Two of those paths, for products whose operands both run along `k` and that have at most
//!   256 outputs (a classifier head's `x·Wᵀ`) or a single row or column, sum each output in
//!   lanes as wide as the CPU's widest vector: 8 `f32` with AVX2, 16 with AVX-512, so the two
//!   kinds of CPU rounded those sums differently, and a training run parted after its first
//!   steps. Those products are summed here instead, in 32-byte lanes on every CPU
//!   ([`lane_dots`]), as `gemm` sums the first kind with AVX2. Everything else `gemm` sums in
//!   one order on every CPU with FMA (each output one chain of fused multiply-adds along `k`),
//!   so a run gives the same numbers on any x86-64 CPU with AVX2 + FMA, with or without
//!   AVX-512.

use super::isa::per_isa;
use super::CpuBuffer;
use crate::{Element, Layout, Result, Walk};
use rayon::prelude::*;
use std::ops::Range;

/// Products smaller than this many multiply-adds run on one thread.
const PARALLEL_FLOPS: usize = 1 << 18;

/// The longest stretch of `k` one `gemm` call sums (the most `gemm` itself sums in one block).
const K_BLOCK: usize = 512;

/// How long the blocks are that a product of depth `k` with `n` output columns sums one after
/// the other (the last may be shorter): `k` whole up to [`K_BLOCK`]; beyond, blocks of exactly
/// `K_BLOCK` when `n ≤ 64`, else `k` cut into equal blocks of at most `K_BLOCK`. These are the
/// blocks `gemm` chose itself (on the CPUs measured) for products of more than 64 columns, and
/// for those of at most 64 columns and at most 64 rows, the row blocks of the default run's
/// weight gradients on two threads: its numbers on two cores did not change when the cut moved
/// here.
fn k_block(k: usize, n: usize) -> usize {
    match (k <= K_BLOCK, n <= 64) {
        (true, _) => k.max(1),
        (false, true) => K_BLOCK,
        (false, false) => k.div_ceil(k.div_ceil(K_BLOCK)),
    }
}

/// The blocks of rows one task each computes when `products` products of `m × n` outputs are
/// split over `threads`: enough blocks for every thread, as even as can be, and none of fewer
/// than two rows or 257 outputs, below which `gemm` switches to kernels that sum in another
/// order (a product too small for two such blocks stays whole).
fn row_blocks(m: usize, n: usize, products: usize, threads: usize) -> Vec<Range<usize>> {
    let smallest = 2.max(257usize.div_ceil(n.max(1)));
    let blocks = threads.div_ceil(products).min(m / smallest).max(1);
    // Block `i` starts at row ⌊i·m / blocks⌋, so each holds ⌊m / blocks⌋ ≥ `smallest` rows or one
    // more.
    let start = |i: usize| i * m / blocks;
    (0..blocks).map(|i| start(i)..start(i + 1)).collect()
}

/// Whether [`lane_dots`] sums an `m × n` product whose operands both run along `k`: one that
/// `gemm` would sum in lanes of the CPU's widest vector, of at most 256 outputs or of a single
/// row or column.
fn lane_dots_take(m: usize, n: usize) -> bool {
    m * n <= 256 || m == 1 || n == 1
}

/// Rows of a matrix each contiguous along `k`: row `i` starts at `data[start + i·stride]`.
struct Strided<'a, T> {
    data: &'a [T],
    start: usize,
    stride: usize,
}

impl<T: Element> Strided<'_, T> {
    /// The first `depth` values of row `i`.
    fn row(&self, i: usize, depth: usize) -> &[T] {
        let start = self.start + i * self.stride;
        &self.data[start..start + depth]
    }
}

/// The products [`lane_dots_take`] names, their operands both running along `k`:
/// `c[i][j] = a_i · b_j` over `depth` (or `c[i][j] += …` with `accumulate`), `a` holding the
/// rows of the left operand and `b` the columns of the right, `c` dense with `n` columns.
/// Each dot product is summed in lanes of 32 bytes (8 `f32`, 4 `f64`): lane `l` is the chain of
/// fused multiply-adds, from 0, of the products at depths `l`, `l + lanes`, … (a last partial
/// step adding `0·0` to the lanes past the end), and the lanes are then folded in halves (lane
/// `i` plus lane `i + half`) down to one: on every CPU, the bits `gemm` gives with AVX2 for
/// the products of at most 256 outputs.
fn lane_dots<T: Element>(
    a: &Strided<T>,
    b: &Strided<T>,
    depth: usize,
    n: usize,
    c: &mut [T],
    accumulate: bool,
) {
    for (i, c_row) in c.chunks_exact_mut(n).enumerate() {
        let a_row = a.row(i, depth);
        for (j, c) in c_row.iter_mut().enumerate() {
            let dot = lane_dot(a_row, b.row(j, depth));
            *c = if accumulate { *c + dot } else { dot };
        }
    }
}

per_isa! {
    /// One dot product of [`lane_dots`], summed in its lanes of 32 bytes.
    pub(crate) fn lane_dot<T: Element>(a: &[T], b: &[T]) -> T {
        const MOST_LANES: usize = 8;
        let lanes = (32 / std::mem::size_of::<T>()).min(MOST_LANES);
        let mut sums = [T::zero(); MOST_LANES];
        let (a_steps, b_steps) = (a.chunks(lanes), b.chunks(lanes));
        for (xs, ys) in a_steps.zip(b_steps) {
            for (l, sum) in sums[..lanes].iter_mut().enumerate() {
                let (x, y) = match (xs.get(l), ys.get(l)) {
                    (Some(&x), Some(&y)) => (x, y),
                    _ => (T::zero(), T::zero()),
                };
                *sum = x.mul_add(y, *sum);
            }
        }
        let mut width = lanes;
        while width > 1 {
            width /= 2;
            for l in 0..width {
                sums[l] = sums[l] + sums[l + width];
            }
        }
        sums[0]
    }
}

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
        rows: Range<usize>,
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
        let block = k_block(self.k, self.n);
        for first in (0..self.k).step_by(block) {
            let depth = block.min(self.k - first);
            if csa == 1 && rsb == 1 && lane_dots_take(m, self.n) {
                let a = Strided {
                    data: a,
                    start: a_start + first,
                    stride: rsa as usize,
                };
                let b = Strided {
                    data: b,
                    start: b_offset + first * rsb as usize,
                    stride: csb as usize,
                };
                lane_dots(&a, &b, depth, self.n, c, first > 0);
                continue;
            }
            // SAFETY: the operands are not empty here (`matmul` returned before any call when
            // `m·n = 0` and filled zeros when `k = 0`; an empty layout's strides are checked
            // against nothing), and their layouts were validated against the buffer lengths, so
            // every index `start + i·rs + j·cs` for `i < m`, `j < k` (resp. `k`, `n`) lies inside
            // `a` (resp. `b`), and every stride is at most its buffer's length (`matmul` caps a
            // size-1 axis's); this block's operands start `first < k` columns into `a` and rows
            // into `b` and span `depth ≤ k − first` of them, so they stay inside. `c` holds
            // exactly `m·n` elements written with row stride `n`. `gemm` picks its kernels by the
            // `TypeId` of `T` (f32 or f64), not by a pointer cast of ours.
            unsafe {
                // `gemm` computes dst = alpha·dst + beta·lhs·rhs with strides given as (column,
                // row); the first block overwrites `c` (dst not read, alpha ignored), the
                // others add to it, as `gemm` adds its own blocks.
                gemm::gemm::<T>(
                    m,
                    self.n,
                    depth,
                    c.as_mut_ptr(),
                    1,
                    self.n as isize,
                    first > 0,
                    a.as_ptr().add(a_start + first * csa as usize),
                    csa,
                    rsa,
                    b.as_ptr().add(b_offset + first * rsb as usize),
                    csb,
                    rsb,
                    T::one(),
                    T::one(),
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                );
            }
        }
    }
}

/// `[..., m, k] · [..., k, n] → [..., m, n]` with equal (possibly broadcast) batch shapes.
///
/// Work is split over batch entries when there are enough of them, otherwise over blocks of rows
/// of each product, so both "many small heads" and "one big projection" use every core.
pub fn matmul<T: Element>(
    a: &[T],
    a_layout: &Layout,
    b: &[T],
    b_layout: &Layout,
) -> Result<CpuBuffer<T>> {
    let rank = a_layout.rank();
    let (m, k, n) = (
        a_layout.shape()[rank - 2],
        a_layout.shape()[rank - 1],
        b_layout.shape()[rank - 1],
    );
    // The layout checks bound `stride·(size − 1)` by the buffer, which leaves a size-1 axis's
    // stride free (a crafted layout may hold 1 << 63 there). Capped at the buffer's length (at
    // most isize::MAX for a slice), every stride given to gemm fits an isize, so its negations
    // and products cannot overflow; an axis of size > 1 already has a smaller stride.
    let stride = |l: &Layout, len: usize, axis: usize| l.strides()[axis].min(len) as isize;
    let gemm = Gemm {
        k,
        n,
        a_strides: (
            stride(a_layout, a.len(), rank - 2),
            stride(a_layout, a.len(), rank - 1),
        ),
        b_strides: (
            stride(b_layout, b.len(), rank - 2),
            stride(b_layout, b.len(), rank - 1),
        ),
    };
    let (a_batch, b_batch) = (a_layout.leading(rank - 2), b_layout.leading(rank - 2));
    let batch_walk = Walk::new([&a_batch, &b_batch]);
    let [sa, sb] = batch_walk.inner_strides();
    let batch = a_batch.numel();
    let mut out =
        CpuBuffer::try_for_overwrite("matmul", batch.saturating_mul(m.saturating_mul(n)))?;
    if out.is_empty() {
        return Ok(out);
    }
    // Fallible too: a broadcast batch may list more products than the host can hold.
    let mut offsets = crate::host_memory::vec_with_capacity("matmul", batch)?;
    batch_walk.runs(0..batch, |_, len, [oa, ob]| {
        offsets.extend((0..len).map(|i| (oa + i * sa, ob + i * sb)));
    });
    let threads = rayon::current_num_threads();
    let flops = (batch * m * n).saturating_mul(k);
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
        let row_blocks = row_blocks(m, n, offsets.len(), threads);
        out.par_chunks_mut(m * n)
            .zip(&offsets)
            .for_each(|(c, &(oa, ob))| {
                let mut parts = Vec::with_capacity(row_blocks.len());
                let mut rest = c;
                for rows in &row_blocks {
                    let (part, tail) = rest.split_at_mut(rows.len() * n);
                    parts.push((rows.clone(), part));
                    rest = tail;
                }
                parts
                    .into_par_iter()
                    .for_each(|(rows, part)| gemm.run(a, oa, b, ob, rows, part));
            });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `m × k` and `k × n` operands whose products' sums round differently in another order.
    fn operands(m: usize, k: usize, n: usize) -> (Vec<f32>, Vec<f32>) {
        let a = (0..m * k)
            .map(|i| ((i * 7919) % 1000) as f32 * 0.001 - 0.5)
            .collect();
        let b = (0..k * n)
            .map(|i| ((i * 104_729) % 997) as f32 * 0.01 - 5.0)
            .collect();
        (a, b)
    }

    /// The bits of `[batch, m, k] · [batch, k, n]` computed on a pool of `threads` threads; with
    /// `transposed`, the right operand is the transpose of a contiguous `[batch, n, k]` (`x·Wᵀ`).
    fn product_on(threads: usize, (batch, m, k, n): Shape, transposed: bool) -> Vec<u32> {
        let (a, b) = operands(batch * m, k, n * batch);
        let la = Layout::contiguous(&[batch, m, k]);
        let lb = match transposed {
            false => Layout::contiguous(&[batch, k, n]),
            true => Layout::contiguous(&[batch, n, k]).transpose(1, 2).unwrap(),
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            matmul(&a, &la, &b, &lb)
                .unwrap()
                .iter()
                .map(|v| v.to_bits())
                .collect()
        })
    }

    /// Batch, rows, depth and columns of a batched product.
    type Shape = (usize, usize, usize, usize);

    /// Row blocks of one product and whole products of a batch, long sums (cut into blocks) and
    /// short, narrow outputs (whose blocks keep enough rows), right operands read by rows and
    /// transposed: the same bits on any number of threads. Before `k` was cut here, 128 × 3200 ·
    /// 3200 × 64 (a weight gradient of the `small` model) differed between one thread and two
    /// in 7,861 of its 8,192 outputs; before the row blocks were evened out, 53 × 512 · Wᵀ with
    /// 10 outputs a row was cut into 26, 26 and 1 rows on three threads, and `gemm` summed the
    /// last row by another path.
    #[test]
    fn results_do_not_depend_on_the_thread_count() {
        for shape in [
            (1, 128, 3200, 64),
            (1, 64, 3200, 192),
            (1, 300, 1100, 70),
            (1, 1000, 64, 5),
            (1, 40, 700, 7),
            (3, 128, 3200, 64),
            (6, 65, 16, 65),
            (1, 53, 512, 10),
            (1, 100, 700, 3),
        ] {
            for transposed in [false, true] {
                let one = product_on(1, shape, transposed);
                for threads in [2, 3, 4, 8] {
                    let other = product_on(threads, shape, transposed);
                    let differ = one.iter().zip(&other).filter(|(x, y)| x != y).count();
                    assert_eq!(
                        differ, 0,
                        "{shape:?} (b transposed: {transposed}) on {threads} threads"
                    );
                }
            }
        }
    }

    /// The order each output is summed in, as the module docs state it: `k` cut by [`k_block`],
    /// each block summed from zero with one fused multiply-add per term in order, and added to
    /// the sum of the blocks before it. Bit for bit, on products past `gemm`'s tiny-product
    /// paths.
    #[test]
    fn each_output_is_summed_in_blocks_of_k_in_order() {
        // Without FMA (an x86 CPU before AVX2), `gemm` multiplies and adds in two roundings.
        #[cfg(target_arch = "x86_64")]
        if !std::arch::is_x86_feature_detected!("fma") {
            return;
        }
        for (m, k, n) in [(70, 3, 40), (33, 300, 65), (64, 3200, 64), (20, 1300, 90)] {
            let (a, b) = operands(m, k, n);
            let got = matmul(
                &a,
                &Layout::contiguous(&[m, k]),
                &b,
                &Layout::contiguous(&[k, n]),
            )
            .unwrap();
            let block = k_block(k, n);
            for i in 0..m {
                for j in 0..n {
                    let mut total = 0.0f32;
                    for first in (0..k).step_by(block) {
                        let part = (first..k.min(first + block))
                            .fold(0.0f32, |acc, t| a[i * k + t].mul_add(b[t * n + j], acc));
                        total = if first == 0 { part } else { total + part };
                    }
                    assert_eq!(
                        got[i * n + j].to_bits(),
                        total.to_bits(),
                        "{m}×{k}×{n} at ({i}, {j})"
                    );
                }
            }
        }
    }

    /// A dot product summed as [`lane_dots`] states it, written out: lane `l` the chain of
    /// fused multiply-adds of the terms `t ≡ l (mod lanes)` in order (with `0·0` for the lanes
    /// past the end of a last partial step), then lane `i` plus lane `i + half` until one lane
    /// is left.
    fn in_lanes<T: Element>(a: &[T], b: &[T], lanes: usize) -> T {
        let steps = a.len().div_ceil(lanes);
        let mut sums: Vec<T> = (0..lanes)
            .map(|l| {
                (0..steps).fold(T::zero(), |acc, s| match s * lanes + l {
                    t if t < a.len() => a[t].mul_add(b[t], acc),
                    _ => T::zero().mul_add(T::zero(), acc),
                })
            })
            .collect();
        while sums.len() > 1 {
            let half = sums.len() / 2;
            sums = (0..half).map(|i| sums[i] + sums[i + half]).collect();
        }
        sums[0]
    }

    /// Products of at most 256 outputs, or of one row or column, with both operands along `k`
    /// (the right one a transposed weight, as a classifier head's `x·Wᵀ`): every output summed
    /// in lanes of 32 bytes, on every CPU (with AVX-512, `gemm` would sum these in 16 lanes of
    /// `f32` and 8 of `f64`); a depth past [`K_BLOCK`] in blocks, each added to the sum of
    /// those before it.
    #[test]
    fn small_products_along_k_are_summed_in_lanes_of_32_bytes() {
        fn check<T: Element>(lanes: usize) {
            let shapes = [
                (16, 64, 10),
                (4, 64, 5),
                (1, 37, 5),
                (3, 5, 7),
                (16, 300, 16),
            ];
            let one_row_or_column = [(1, 40, 300), (300, 40, 1)];
            for (m, k, n) in shapes.into_iter().chain(one_row_or_column) {
                let a: Vec<T> = (0..m * k)
                    .map(|i| T::from_f64(((i * 7919) % 1000) as f64 * 0.001 - 0.5))
                    .collect();
                let w: Vec<T> = (0..n * k)
                    .map(|i| T::from_f64(((i * 104_729) % 997) as f64 * 0.01 - 5.0))
                    .collect();
                let wt = Layout::contiguous(&[n, k]).transpose(0, 1).unwrap();
                let got = matmul(&a, &Layout::contiguous(&[m, k]), &w, &wt).unwrap();
                for i in 0..m {
                    for j in 0..n {
                        let want = in_lanes(&a[i * k..][..k], &w[j * k..][..k], lanes);
                        // Widening to f64 is exact, so equal f64 bits are equal bits.
                        assert!(
                            got[i * n + j].to_f64().to_bits() == want.to_f64().to_bits(),
                            "{m}×{k}×{n} at ({i}, {j}): {:?}, summed in lanes {:?}",
                            got[i * n + j],
                            want
                        );
                    }
                }
            }
        }
        check::<f32>(8);
        check::<f64>(4);
        // Past K_BLOCK: blocks of 512 (≤ 64 columns), each summed in lanes, added in order.
        let (m, k, n) = (2, 1100, 3);
        let (a, w) = operands(m, k, n);
        let wt = Layout::contiguous(&[n, k]).transpose(0, 1).unwrap();
        let got = matmul(&a, &Layout::contiguous(&[m, k]), &w, &wt).unwrap();
        for i in 0..m {
            for j in 0..n {
                let block = |t: Range<usize>| in_lanes(&a[i * k..][t.clone()], &w[j * k..][t], 8);
                let want = block(0..512) + block(512..1024) + block(1024..1100);
                assert_eq!(got[i * n + j].to_bits(), want.to_bits(), "({i}, {j})");
            }
        }
    }

    #[test]
    fn blocks_of_k_follow_gemms_rules() {
        assert_eq!(k_block(512, 10), 512);
        assert_eq!(k_block(3200, 64), 512);
        assert_eq!(k_block(3200, 65), 458);
        assert_eq!(k_block(1025, 100), 342);
        assert_eq!(k_block(0, 8), 1);
        assert_eq!(row_blocks(128, 64, 1, 2), [0..64, 64..128]);
        assert_eq!(
            row_blocks(53, 10, 1, 3),
            [0..26, 26..53],
            "no block under 26 rows"
        );
        let whole = row_blocks(8, 10, 1, 2);
        assert_eq!(
            (whole.len(), &whole[0]),
            (1, &(0..8)),
            "a tiny product stays whole"
        );
        let blocks = row_blocks(1000, 5, 1, 16);
        assert_eq!(blocks.len(), 16);
        assert!(blocks.iter().all(|rows| (62..=63).contains(&rows.len())));
        assert_eq!((blocks[0].start, blocks[15].end), (0, 1000));
    }
}
