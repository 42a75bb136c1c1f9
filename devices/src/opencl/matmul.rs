//! Launch glue for the tiled, batched GEMM of `kernels/matmul.cl`.

use super::launch::{strided, uint, Launch};
use super::pool::ClBuffer;
use super::runtime::Runtime;
use super::source::{ProgramSource, MATMUL};
use crate::{checked_numel, Element, Error, Layout, Result};
use std::sync::Arc;

/// The output tile of one work-group is `TILE × TILE` (`TS` in the kernel).
const TILE: usize = 64;

/// Register blockings to try, largest group first: `(build options, items per group side)`.
/// 4×4 outputs per item needs 16×16 = 256 items per group; 8×8 needs 8×8 = 64.
const CONFIGS: [(&str, usize); 2] = [("-D WM=4 -D WN=4", 16), ("-D WM=8 -D WN=8", 8)];

/// `[..., m, k] · [..., k, n] → [..., m, n]` (contiguous), any strides for both operands; the
/// batch axes of both are walked together (stride 0 where broadcast).
pub(crate) fn matmul<T: Element>(
    rt: &Arc<Runtime>,
    a: &ClBuffer<T>,
    a_layout: &Layout,
    b: &ClBuffer<T>,
    b_layout: &Layout,
) -> Result<ClBuffer<T>> {
    let rank = a_layout.rank();
    let (m, k, n) = (
        a_layout.shape()[rank - 2],
        a_layout.shape()[rank - 1],
        b_layout.shape()[rank - 1],
    );
    let batch = a_layout.leading(rank - 2);
    let batches = batch.numel();
    let out = ClBuffer::new(rt, checked_numel("matmul", &[batches, m, n])?)?;
    if batches == 0 || m == 0 || n == 0 {
        return Ok(out);
    }
    let stride = |l: &Layout, axis: usize| uint("a stride", l.walk_stride(axis));
    let [a_batch, b_batch] = strided([&batch, &b_layout.leading(rank - 2)])?;
    let mut chosen = None;
    for (options, side) in CONFIGS {
        let entry = rt.kernel(&ProgramSource::plain(MATMUL, T::DTYPE, options), "matmul")?;
        if entry.max_group >= side * side {
            chosen = Some((entry, side));
            break;
        }
    }
    let (entry, side) = chosen.ok_or_else(|| {
        Error::Backend(format!(
            "OpenCL: {} cannot run the GEMM kernel with 64 items per work-group",
            rt.info.name
        ))
    })?;
    Launch::new(rt, &entry)
        .buffer(a)?
        .arg(&a_batch)?
        .arg(&stride(a_layout, rank - 2)?)?
        .arg(&stride(a_layout, rank - 1)?)?
        .buffer(b)?
        .arg(&b_batch)?
        .arg(&stride(b_layout, rank - 2)?)?
        .arg(&stride(b_layout, rank - 1)?)?
        .buffer(&out)?
        .arg(&uint("m", m)?)?
        .arg(&uint("n", n)?)?
        .arg(&uint("k", k)?)?
        .run(
            &[n.div_ceil(TILE) * side, m.div_ceil(TILE) * side, batches],
            &[side, side, 1],
        )?;
    Ok(out)
}
