//! The OpenCL device: kernels in `kernels/*.cl`, built once per process per (kernel file, op,
//! element type, build options), run on one in-order queue per device, with buffers recycled by
//! a size-keyed pool.
//!
//! `opencl3` loads `libOpenCL.so.1` at run time, so this module builds everywhere; without a
//! loader or a driver, [`list`] and [`OpenCl::open`] return an error saying which is missing.
//!
//! - `runtime.rs`: discovery, context, queue, program and kernel cache.
//! - `pool.rs`: device buffers and their pool. `host.rs`: host ↔ device copies.
//! - `source.rs`: program text (ops spliced in from [`crate::ops`]). `launch.rs`: kernel arguments.
//! - `map.rs`, `reduce.rs`, `matmul.rs`, `fused.rs`: the launch glue of each kernel family.
//! - `profile.rs`: kernel times from the device's clock (`POLYVIT_OPENCL_PROFILE=1`).

mod fused;
mod host;
mod launch;
mod map;
mod matmul;
mod optim;
mod pool;
mod profile;
mod reduce;
mod runtime;
mod source;
#[cfg(test)]
mod tests;

use map::Pick;
use pool::ClBuffer;
pub use profile::KernelTime;

use crate::backend::{AdamWStep, LayerNormGrads, LayerNormOutput};
use crate::ops::{ArgKind, BinaryOp, ReduceOp, UnaryOp};
use crate::{Backend, Element, Error, Layout, Result};
use runtime::Runtime;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

/// What an OpenCL device says about itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Position over all devices of all platforms (the `N` of `opencl:N`).
    pub index: usize,
    /// The name of the device's platform, i.e. its driver (`CL_PLATFORM_NAME`; `?` when the
    /// platform would not say), e.g. `Portable Computing Language` for PoCL.
    pub platform: String,
    /// The device's own name (`CL_DEVICE_NAME`, surrounding spaces removed).
    pub name: String,
    /// `CL_DEVICE_VERSION`.
    pub version: String,
    /// `CL_DEVICE_OPENCL_C_VERSION`.
    pub c_version: String,
    /// Bytes of global memory.
    pub global_memory: u64,
    /// The largest single buffer in bytes.
    pub max_allocation: u64,
    /// `CL_DEVICE_MAX_COMPUTE_UNITS`: a GPU's streaming multiprocessors or compute units, a
    /// CPU's cores (or hardware threads).
    pub compute_units: u32,
    /// Whether the device is a GPU (`CL_DEVICE_TYPE_GPU`); some kernels are tuned differently
    /// for GPUs than for CPUs (PoCL).
    pub gpu: bool,
    /// Whether the device has `cl_khr_fp64` (needed for `f64` kernels).
    pub fp64: bool,
    /// Whether `f32` division and square root can be correctly rounded
    /// (`CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT`). OpenCL C otherwise allows 2.5 ulp for a division
    /// and 3 for a square root (NVIDIA's drivers use that); where the device can, every program
    /// is built with `-cl-fp32-correctly-rounded-divide-sqrt`, so they round as the CPU does.
    pub correctly_rounded_divide_sqrt: bool,
}

impl DeviceInfo {
    /// The most elements of `element_bytes` bytes one buffer on this device can hold: the
    /// device's largest allocation ([`DeviceInfo::max_allocation`]), and at most the element
    /// count the kernels index with 32 bits (`2³¹ − 1`).
    pub fn largest_buffer(&self, element_bytes: usize) -> u64 {
        (self.max_allocation / element_bytes.max(1) as u64).min(pool::MAX_ELEMENTS as u64)
    }
}

/// Every OpenCL device of every platform (`CL_DEVICE_TYPE_ALL`), in the order `opencl:N` counts
/// them; an error saying what is missing when there is none.
pub fn list() -> Result<Vec<DeviceInfo>> {
    runtime::discover()?
        .iter()
        .enumerate()
        .map(|(index, (platform, id))| runtime::describe(index, platform, *id))
        .collect()
}

/// An opened OpenCL device: a context, one in-order queue, a buffer pool and a program cache.
/// Cloning is cheap (shared); two handles are equal when they are the same opened device.
#[derive(Clone)]
pub struct OpenCl {
    runtime: Arc<Runtime>,
}

/// The devices opened so far in this process, by index.
static OPENED: Mutex<Option<HashMap<usize, OpenCl>>> = Mutex::new(None);

impl OpenCl {
    /// Opens the `index`-th device over all platforms, or returns the handle opened earlier.
    pub fn open(index: usize) -> Result<OpenCl> {
        let mut opened = OPENED.lock().unwrap_or_else(|e| e.into_inner());
        let opened = opened.get_or_insert_with(HashMap::new);
        if let Some(handle) = opened.get(&index) {
            return Ok(handle.clone());
        }
        let found = runtime::discover()?;
        let Some((platform, id)) = found.get(index) else {
            let names: Vec<String> = found
                .iter()
                .enumerate()
                .map(|(i, (platform, id))| {
                    let name = runtime::describe(i, platform, *id)
                        .map_or_else(|_| "?".to_string(), |info| info.name);
                    format!("opencl:{i} ({name}, platform {platform})")
                })
                .collect();
            return Err(Error::Backend(format!(
                "there is no OpenCL device {index}: found {} ({})",
                found.len(),
                names.join(", ")
            )));
        };
        let info = runtime::describe(index, platform, *id)?;
        let handle = OpenCl {
            runtime: Arc::new(Runtime::open(info, *id)?),
        };
        opened.insert(index, handle.clone());
        Ok(handle)
    }

    /// The `N` of `opencl:N`.
    pub fn index(&self) -> usize {
        self.runtime.info.index
    }

    /// The device's name, e.g. `pthread-skylake-avx512-AMD EPYC ...`.
    pub fn name(&self) -> String {
        self.runtime.info.name.clone()
    }

    /// All the device says about itself.
    pub fn info(&self) -> &DeviceInfo {
        &self.runtime.info
    }

    /// The device time of each kernel launched on this device since the last call (or since it
    /// was opened), summed per kernel, most time first; waits for the launches to finish. An
    /// error unless `POLYVIT_OPENCL_PROFILE=1` was set when the device was opened.
    pub fn kernel_times(&self) -> Result<Vec<KernelTime>> {
        match &self.runtime.profile {
            Some(profile) => profile.lock().unwrap_or_else(|e| e.into_inner()).take(),
            None => Err(Error::Backend(format!(
                "no kernel times for {}: set POLYVIT_OPENCL_PROFILE=1 before the device is opened",
                self.runtime.info.name
            ))),
        }
    }

    /// How many device buffers have been created on this device so far (requests its pool could
    /// not serve): constant across repeats of a warmed-up op sequence.
    pub fn allocations(&self) -> usize {
        self.runtime.pool.allocations()
    }

    /// `op` on `x` through `layout` when the views its kernel walks there merge to at most the
    /// axes a kernel takes (`fits`, from `launch::fits`), else on a contiguous copy of it, where
    /// they merge to one or two: so every op takes views of any rank.
    fn through_kernel_view<T: Element, R>(
        &self,
        fits: bool,
        x: &ClBuffer<T>,
        layout: &Layout,
        op: impl FnOnce(&ClBuffer<T>, &Layout) -> Result<R>,
    ) -> Result<R> {
        if fits {
            return op(x, layout);
        }
        op(
            &map::dense(&self.runtime, x, layout)?,
            &Layout::contiguous(layout.shape()),
        )
    }

    /// `op` on `x` through `layout`, for a kernel that walks `layout` split into the axes it
    /// folds (`folded`, sorted) and the others ([`Layout::split_reduced`]). When either view has
    /// more axes than a kernel takes once merged (removing axes can part a merged run: the odd
    /// axes of a contiguous `[2; 17]` are 9 that cannot merge), `op` runs on a contiguous copy
    /// of `x` with the folded axes moved last, where each view is one axis; `op` is given the
    /// layout it reads and where the folded axes are in it.
    fn through_folding_view<T: Element, R>(
        &self,
        x: &ClBuffer<T>,
        layout: &Layout,
        folded: &[usize],
        op: impl FnOnce(&ClBuffer<T>, &Layout, &[usize]) -> Result<R>,
    ) -> Result<R> {
        let (kept, reduced) = layout.split_reduced(folded);
        if launch::fits([&kept]) && launch::fits([&reduced]) {
            return op(x, layout, folded);
        }
        let rank = layout.rank();
        let order: Vec<usize> = (0..rank)
            .filter(|a| !folded.contains(a))
            .chain(folded.iter().copied())
            .collect();
        let moved = layout.permute(&order)?;
        let last: Vec<usize> = (rank - folded.len()..rank).collect();
        let dense = map::dense(&self.runtime, x, &moved)?;
        op(&dense, &Layout::contiguous(moved.shape()), &last)
    }

    /// [`OpenCl::through_kernel_view`] for two operands whose views a kernel walks together
    /// (`fits` says whether it can as they are); otherwise both are read through contiguous
    /// copies.
    fn through_kernel_views<T: Element, R>(
        &self,
        fits: bool,
        [a, b]: [(&ClBuffer<T>, &Layout); 2],
        op: impl FnOnce((&ClBuffer<T>, &Layout), (&ClBuffer<T>, &Layout)) -> Result<R>,
    ) -> Result<R> {
        if fits {
            return op(a, b);
        }
        let dense = |(x, layout): (&ClBuffer<T>, &Layout)| {
            Ok::<_, Error>((
                map::dense(&self.runtime, x, layout)?,
                Layout::contiguous(layout.shape()),
            ))
        };
        let ((a, a_layout), (b, b_layout)) = (dense(a)?, dense(b)?);
        op((&a, &a_layout), (&b, &b_layout))
    }
}

impl PartialEq for OpenCl {
    fn eq(&self, other: &OpenCl) -> bool {
        Arc::ptr_eq(&self.runtime, &other.runtime)
    }
}

impl Eq for OpenCl {}

impl fmt::Debug for OpenCl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OpenCl({}: {})", self.index(), self.runtime.info.name)
    }
}

impl Backend for OpenCl {
    type Buffer<T: Element> = ClBuffer<T>;
    type Indices = ClBuffer<u32>;

    fn len<T: Element>(buffer: &ClBuffer<T>) -> usize {
        buffer.len()
    }

    fn from_host<T: Element>(&self, data: &[T]) -> Result<ClBuffer<T>> {
        let mut buffer = ClBuffer::new(&self.runtime, data.len())?;
        host::write_elements(&self.runtime, &mut buffer, data)?;
        Ok(buffer)
    }

    fn indices_from_host(&self, indices: &[u32]) -> Result<ClBuffer<u32>> {
        let mut buffer = ClBuffer::new(&self.runtime, indices.len())?;
        host::write_indices(&self.runtime, &mut buffer, indices)?;
        Ok(buffer)
    }

    /// A contiguous view is one read of its range; any other is copied into a contiguous
    /// temporary first (`map::dense`, which takes views of any rank; still one read).
    fn to_host<T: Element>(&self, x: &ClBuffer<T>, layout: &Layout) -> Result<Vec<T>> {
        match layout.contiguous_range() {
            Some(range) => host::read_elements(&self.runtime, x, range.start, range.len()),
            None => {
                let dense = map::dense(&self.runtime, x, layout)?;
                host::read_elements(&self.runtime, &dense, 0, dense.len())
            }
        }
    }

    fn full<T: Element>(&self, len: usize, value: T) -> Result<ClBuffer<T>> {
        let mut buffer = ClBuffer::new(&self.runtime, len)?;
        host::fill(&self.runtime, &mut buffer, value)?;
        Ok(buffer)
    }

    fn unary<T: Element, Op: UnaryOp>(
        &self,
        x: &ClBuffer<T>,
        layout: &Layout,
    ) -> Result<ClBuffer<T>> {
        self.through_kernel_view(launch::fits([layout]), x, layout, |x, layout| {
            map::unary::<T, Op>(&self.runtime, x, layout)
        })
    }

    fn binary<T: Element, Op: BinaryOp>(
        &self,
        a: &ClBuffer<T>,
        a_layout: &Layout,
        b: &ClBuffer<T>,
        b_layout: &Layout,
    ) -> Result<ClBuffer<T>> {
        let fits = launch::fits([a_layout, b_layout]);
        self.through_kernel_views(fits, [(a, a_layout), (b, b_layout)], |a, b| {
            map::binary::<T, Op>(&self.runtime, a.0, a.1, b.0, b.1)
        })
    }

    fn binary_scalar<T: Element, Op: BinaryOp>(
        &self,
        x: &ClBuffer<T>,
        layout: &Layout,
        value: T,
    ) -> Result<ClBuffer<T>> {
        self.through_kernel_view(launch::fits([layout]), x, layout, |x, layout| {
            map::binary_scalar::<T, Op>(&self.runtime, x, layout, value)
        })
    }

    fn reduce<T: Element, Op: ReduceOp>(
        &self,
        x: &ClBuffer<T>,
        layout: &Layout,
        axes: &[usize],
    ) -> Result<ClBuffer<T>> {
        self.through_folding_view(x, layout, axes, |x, layout, axes| {
            reduce::reduce::<T, Op>(&self.runtime, x, layout, axes)
        })
    }

    fn arg_reduce<T: Element>(
        &self,
        x: &ClBuffer<T>,
        layout: &Layout,
        axis: usize,
        kind: ArgKind,
    ) -> Result<ClBuffer<T>> {
        self.through_folding_view(x, layout, &[axis], |x, layout, axis| {
            reduce::arg_reduce(&self.runtime, x, layout, axis[0], kind)
        })
    }

    fn matmul<T: Element>(
        &self,
        a: &ClBuffer<T>,
        a_layout: &Layout,
        b: &ClBuffer<T>,
        b_layout: &Layout,
    ) -> Result<ClBuffer<T>> {
        let batch = a_layout.rank() - 2;
        let fits = launch::fits([&a_layout.leading(batch), &b_layout.leading(batch)]);
        self.through_kernel_views(fits, [(a, a_layout), (b, b_layout)], |a, b| {
            matmul::matmul(&self.runtime, a.0, a.1, b.0, b.1)
        })
    }

    fn copy_into<T: Element>(
        &self,
        src: &ClBuffer<T>,
        src_layout: &Layout,
        dst: &mut ClBuffer<T>,
        dst_layout: &Layout,
    ) -> Result<()> {
        map::copy_into(&self.runtime, src, src_layout, dst, dst_layout)
    }

    fn index_select<T: Element>(
        &self,
        x: &ClBuffer<T>,
        layout: &Layout,
        axis: usize,
        indices: &ClBuffer<u32>,
        count: usize,
    ) -> Result<ClBuffer<T>> {
        // The kernel walks the view without `axis`, which a contiguous copy merges to two axes.
        let fits = launch::fits([&layout.split_reduced(&[axis]).0]);
        self.through_kernel_view(fits, x, layout, |x, layout| {
            map::pick(
                &self.runtime,
                Pick::IndexSelect,
                x,
                layout,
                axis,
                indices,
                count,
            )
        })
    }

    fn index_add<T: Element>(
        &self,
        dst: &mut ClBuffer<T>,
        dst_shape: &[usize],
        axis: usize,
        indices: &ClBuffer<u32>,
        src: &ClBuffer<T>,
        src_layout: &Layout,
    ) -> Result<()> {
        let fits = launch::fits([&src_layout.split_reduced(&[axis]).0]);
        self.through_kernel_view(fits, src, src_layout, |src, src_layout| {
            map::index_add(
                &self.runtime,
                dst,
                dst_shape,
                axis,
                indices,
                src,
                src_layout,
            )
        })
    }

    fn gather<T: Element>(
        &self,
        x: &ClBuffer<T>,
        layout: &Layout,
        axis: usize,
        index: &ClBuffer<u32>,
        count: usize,
    ) -> Result<ClBuffer<T>> {
        let fits = launch::fits([&layout.split_reduced(&[axis]).0]);
        self.through_kernel_view(fits, x, layout, |x, layout| {
            map::pick(&self.runtime, Pick::Gather, x, layout, axis, index, count)
        })
    }

    fn scatter_add<T: Element>(
        &self,
        dst: &mut ClBuffer<T>,
        dst_layout: &Layout,
        axis: usize,
        index: &ClBuffer<u32>,
        src: &ClBuffer<T>,
        src_layout: &Layout,
    ) -> Result<()> {
        if !launch::fits([&dst_layout.split_reduced(&[axis]).0]) {
            // The destination's part is no view one kernel walks: add into a contiguous copy of
            // it, then copy that back (the same sums, in the same order).
            let part = Layout::contiguous(dst_layout.shape());
            let mut copy = map::dense(&self.runtime, dst, dst_layout)?;
            self.scatter_add(&mut copy, &part, axis, index, src, src_layout)?;
            return map::copy_into(&self.runtime, &copy, &part, dst, dst_layout);
        }
        let fits = launch::fits([&src_layout.split_reduced(&[axis]).0]);
        self.through_kernel_view(fits, src, src_layout, |src, src_layout| {
            map::scatter_add(&self.runtime, dst, dst_layout, axis, index, src, src_layout)
        })
    }

    fn softmax_last<T: Element>(
        &self,
        x: &ClBuffer<T>,
        rows: usize,
        n: usize,
        scale: f64,
        log: bool,
    ) -> Result<ClBuffer<T>> {
        fused::softmax_last(&self.runtime, x, rows, n, scale, log)
    }

    fn softmax_last_backward<T: Element>(
        &self,
        y: &ClBuffer<T>,
        g: &ClBuffer<T>,
        rows: usize,
        n: usize,
        scale: f64,
        log: bool,
    ) -> Result<ClBuffer<T>> {
        fused::softmax_last_backward(&self.runtime, y, g, rows, n, scale, log)
    }

    fn add_scaled<T: Element>(
        &self,
        a: &ClBuffer<T>,
        b: &ClBuffer<T>,
        len: usize,
        alpha: T,
    ) -> Result<ClBuffer<T>> {
        optim::add_scaled(&self.runtime, a, b, len, alpha)
    }

    fn adamw_update<T: Element>(
        &self,
        p: &ClBuffer<T>,
        g: &ClBuffer<T>,
        moments: Option<[&ClBuffer<T>; 2]>,
        len: usize,
        step: &AdamWStep,
    ) -> Result<[ClBuffer<T>; 3]> {
        optim::adamw_update(&self.runtime, p, g, moments, len, step)
    }

    fn layer_norm<T: Element>(
        &self,
        x: &ClBuffer<T>,
        gamma: &ClBuffer<T>,
        beta: &ClBuffer<T>,
        rows: usize,
        d: usize,
        eps: f64,
    ) -> Result<LayerNormOutput<ClBuffer<T>>> {
        fused::layer_norm(&self.runtime, x, gamma, beta, rows, d, eps)
    }

    fn layer_norm_backward<T: Element>(
        &self,
        dy: &ClBuffer<T>,
        x: &ClBuffer<T>,
        mean: &ClBuffer<T>,
        rstd: &ClBuffer<T>,
        gamma: &ClBuffer<T>,
        rows: usize,
        d: usize,
    ) -> Result<LayerNormGrads<ClBuffer<T>>> {
        fused::layer_norm_backward(&self.runtime, dy, x, mean, rstd, gamma, rows, d)
    }
}
