//! Launch glue for the tiled, batched GEMM of `kernels/matmul.cl`, and the choice of its
//! register blocking.

use super::launch::{loop_count, strided, uint, Launch};
use super::pool::ClBuffer;
use super::runtime::{KernelEntry, Runtime};
use super::source::{ProgramSource, MATMUL};
use super::DeviceInfo;
use crate::{checked_numel, DType, Element, Error, Layout, Result};
use std::sync::{Arc, OnceLock};

/// One register blocking of the kernel: each work-group computes a `tile × tile` block of C with
/// `side × side` items, each item `(tile / side)²` outputs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Blocking {
    /// What `POLYVIT_OPENCL_GEMM` selects it by: `TILExOUTPUTS` (outputs per item side).
    pub name: &'static str,
    options: &'static str,
    /// The side of the square tile of the output one work-group computes.
    pub tile: usize,
    side: usize,
}

/// 64×64 tiles, 4×4 outputs per item (256 items): the default.
const TILE_64: Blocking = Blocking {
    name: "64x4",
    options: "-D TS=64 -D WM=4 -D WN=4",
    tile: 64,
    side: 16,
};

/// 128×128 tiles, 8×8 outputs per item (256 items): for large products on a GPU.
const TILE_128: Blocking = Blocking {
    name: "128x8",
    options: "-D TS=128 -D WM=8 -D WN=8",
    tile: 128,
    side: 16,
};

/// 64×64 tiles, 8×8 outputs per item (64 items): for devices that allow fewer items per group.
const FEW_ITEMS: Blocking = Blocking {
    name: "64x8",
    options: "-D TS=64 -D WM=8 -D WN=8",
    tile: 64,
    side: 8,
};

/// Every blocking (`POLYVIT_OPENCL_GEMM` picks one by name).
pub(crate) const BLOCKINGS: [Blocking; 3] = [TILE_64, TILE_128, FEW_ITEMS];

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
    let (m, n) = (a_layout.shape()[rank - 2], b_layout.shape()[rank - 1]);
    let batches = a_layout.leading(rank - 2).numel();
    let (blocking, entry) = match chosen_by_environment()? {
        Some(blocking) => (blocking, runnable::<T>(rt, blocking)?),
        None => default_blocking::<T>(rt, m, n, batches)?,
    };
    launch(rt, blocking, &entry, a, a_layout, b, b_layout)
}

/// The blocking for an `m × n` output over `batches` products: in f32, 128×128 tiles on a GPU
/// when they still give each compute unit two work-groups (and the device builds and allows
/// them), else 64×64 with 4×4 per item, else (a device that allows only 64 items per group)
/// 64×64 with 8×8. f64, for gradient checks, keeps to 64×64: its 128×128 tiles would need 33 KB
/// of local memory, more than OpenCL's 32 KB minimum.
///
/// Measured on an H200 (benches/README.md): 4096³ ran at 26.1 TFLOP/s with 128×128 tiles and
/// 21.6 with 64×64, but the ViT's products, whose outputs make few 128×128 tiles, ran up to
/// 1.6× slower with them (its training step 68 ms against 43). On a CPU (PoCL) 64×64 with 4×4
/// was the fastest at every size.
fn default_blocking<T: Element>(
    rt: &Arc<Runtime>,
    m: usize,
    n: usize,
    batches: usize,
) -> Result<(Blocking, Arc<KernelEntry>)> {
    if T::DTYPE == DType::F32 && large_tiles_fill(&rt.info, m, n, batches) {
        if let Ok(Some(entry)) = kernel::<T>(rt, TILE_128) {
            return Ok((TILE_128, entry));
        }
    }
    for blocking in [TILE_64, FEW_ITEMS] {
        if let Some(entry) = kernel::<T>(rt, blocking)? {
            return Ok((blocking, entry));
        }
    }
    Err(Error::Backend(format!(
        "OpenCL: {} cannot run the GEMM kernel with 64 items per work-group",
        rt.info.name
    )))
}

/// The blocking `POLYVIT_OPENCL_GEMM` names (read once), if it is set: a tuning knob for
/// measuring the blockings against each other on one device (`benches/gpu-check.sh`).
fn chosen_by_environment() -> Result<Option<Blocking>> {
    static CHOICE: OnceLock<std::result::Result<Option<Blocking>, String>> = OnceLock::new();
    let choice = CHOICE.get_or_init(|| {
        let Some(value) = std::env::var_os("POLYVIT_OPENCL_GEMM") else {
            return Ok(None);
        };
        let value = value.to_string_lossy();
        match BLOCKINGS.iter().find(|b| b.name == value) {
            Some(blocking) => Ok(Some(*blocking)),
            None => {
                let names: Vec<_> = BLOCKINGS.iter().map(|b| b.name).collect();
                Err(format!(
                    "POLYVIT_OPENCL_GEMM={value} is not a GEMM blocking (one of {})",
                    names.join(", ")
                ))
            }
        }
    });
    choice.clone().map_err(Error::Backend)
}

/// Whether `info` is a GPU and 128×128 tiles of an `m × n` output over `batches` products give
/// each of its compute units at least two work-groups.
pub(crate) fn large_tiles_fill(info: &DeviceInfo, m: usize, n: usize, batches: usize) -> bool {
    let tiles = m.div_ceil(TILE_128.tile) * n.div_ceil(TILE_128.tile) * batches;
    info.gpu && tiles >= 2 * info.compute_units as usize
}

/// The kernel of `blocking` (built on first use), or `None` when the device allows fewer items
/// per group than it has.
fn kernel<T: Element>(rt: &Arc<Runtime>, blocking: Blocking) -> Result<Option<Arc<KernelEntry>>> {
    let source = ProgramSource::plain(MATMUL, T::DTYPE, blocking.options);
    let entry = rt.kernel(&source, "matmul")?;
    Ok((entry.max_group >= blocking.side * blocking.side).then_some(entry))
}

/// [`matmul`] with the kernel of `blocking`; an error when the device cannot run it (the tests run
/// every blocking through it).
#[cfg(test)]
pub(crate) fn matmul_with<T: Element>(
    rt: &Arc<Runtime>,
    blocking: Blocking,
    a: &ClBuffer<T>,
    a_layout: &Layout,
    b: &ClBuffer<T>,
    b_layout: &Layout,
) -> Result<ClBuffer<T>> {
    let entry = runnable::<T>(rt, blocking)?;
    launch(rt, blocking, &entry, a, a_layout, b, b_layout)
}

/// The kernel of `blocking`, or an error saying the device cannot run it.
fn runnable<T: Element>(rt: &Arc<Runtime>, blocking: Blocking) -> Result<Arc<KernelEntry>> {
    kernel::<T>(rt, blocking)?.ok_or_else(|| {
        Error::Backend(format!(
            "OpenCL: {} cannot run the GEMM blocking {} ({} items per work-group)",
            rt.info.name,
            blocking.name,
            blocking.side * blocking.side
        ))
    })
}

/// Enqueues `entry`, the kernel of `blocking`, over the output of `a · b`.
fn launch<T: Element>(
    rt: &Arc<Runtime>,
    blocking: Blocking,
    entry: &KernelEntry,
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
    let (tile, side) = (blocking.tile, blocking.side);
    Launch::new(rt, entry)
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
        .arg(&loop_count("k", k)?)?
        .run(
            &[n.div_ceil(tile) * side, m.div_ceil(tile) * side, batches],
            &[side, side, 1],
        )?;
    Ok(out)
}
