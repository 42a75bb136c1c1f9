//! Passing arguments to kernels and enqueueing them.
//!
//! Layouts travel as [`Strided`] structs by value (never as uploaded buffers), scalars as plain
//! arguments. A launch holds the kernel's lock from the first argument to the enqueue, so two
//! threads cannot interleave their arguments on the shared kernel object.

use super::pool::{ClBuffer, MAX_ELEMENTS};
use super::runtime::{KernelEntry, Runtime};
use crate::{DType, Element, Error, Layout, Result, Walk};
use opencl3::kernel::Kernel;
use std::sync::MutexGuard;

/// The most axes a kernel view has (after merging), `MAX_RANK` in `common.cl`.
pub(crate) const MAX_RANK: usize = 8;

/// The `Strided` struct of `common.cl`: element `i` (row-major) of a view of `shape` is at
/// `offset + Σ_a idx_a(i)·stride[a]`. Same field order and types as the OpenCL C struct, all
/// 32-bit, so `repr(C)` gives the same layout on both sides.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Strided {
    rank: u32,
    offset: u32,
    shape: [u32; MAX_RANK],
    stride: [u32; MAX_RANK],
}

/// `value` as a kernel's `uint`, or an error naming `what`.
pub(crate) fn uint(what: &str, value: usize) -> Result<u32> {
    u32::try_from(value).map_err(|_| {
        Error::Backend(format!(
            "OpenCL: {what} = {value} does not fit the kernels' 32-bit indices"
        ))
    })
}

/// `value`, the length of a loop a kernel steps through by a work-group (or a tile) at a time,
/// as a `uint`; an error beyond [`MAX_ELEMENTS`], where the counter's last step could wrap past
/// 2³² and the loop never end. A buffer is never that long, but a broadcast view's fold is.
pub(crate) fn loop_count(what: &str, value: usize) -> Result<u32> {
    if value > MAX_ELEMENTS {
        return Err(Error::Backend(format!(
            "OpenCL: {what} = {value} is more than the {MAX_ELEMENTS} a kernel's 32-bit loop \
             counter steps through"
        )));
    }
    uint(what, value)
}

/// Whether `K` same-shaped layouts, walked together, merge to at most [`MAX_RANK`] axes: the
/// views one kernel takes. The backend reads any other view through a contiguous copy
/// (`map::dense`).
pub(crate) fn fits<const K: usize>(layouts: [&Layout; K]) -> bool {
    Walk::new(layouts).dims().len() <= MAX_RANK
}

/// The views of `K` same-shaped layouts walked together, with adjacent axes merged as [`Walk`]
/// merges them; an error when more than [`MAX_RANK`] axes remain.
pub(crate) fn strided<const K: usize>(layouts: [&Layout; K]) -> Result<[Strided; K]> {
    let walk = Walk::new(layouts);
    let dims = walk.dims();
    if dims.len() > MAX_RANK {
        return Err(Error::Backend(format!(
            "OpenCL: a view of shape {:?} has {} axes that cannot be merged; the kernels take at \
             most {MAX_RANK}",
            layouts[0].shape(),
            dims.len()
        )));
    }
    let starts = walk.starts();
    let mut out = [Strided::default(); K];
    for (k, view) in out.iter_mut().enumerate() {
        view.rank = dims.len() as u32;
        view.offset = uint("a view offset", starts[k])?;
        for (a, (&d, s)) in dims.iter().zip(walk.axis_strides()).enumerate() {
            view.shape[a] = uint("an axis size", d)?;
            view.stride[a] = uint("a stride", s[k])?;
        }
    }
    Ok(out)
}

/// The view of one layout (see [`strided`]).
pub(crate) fn strided1(layout: &Layout) -> Result<Strided> {
    let [view] = strided([layout])?;
    Ok(view)
}

/// The largest power of two ≤ `want` that the kernel and the device allow in one work-group.
pub(crate) fn group_size(entry: &KernelEntry, want: usize) -> usize {
    let limit = want.min(entry.max_group).max(1);
    1 << limit.ilog2()
}

/// The most work-groups one enqueue puts along axes 1 and 2. NVIDIA's OpenCL runs an enqueue as
/// a CUDA grid, whose y and z extents stop at 65,535 blocks (axis 0 takes 2³¹ − 1, more than a
/// buffer's elements need); a launch with more groups there (a product over more batch entries,
/// or of more row tiles) is enqueued in parts, each with a global offset, and a kernel with
/// more than one axis counts its groups from the whole launch's origin (`GROUP` in
/// `matmul.cl`). Elsewhere the limit costs an enqueue per part, and only for such launches.
pub(crate) const MAX_GROUPS_PAST_AXIS_0: usize = 65_535;

/// One enqueue of a launch split by [`parts`]: its first work item and its size, per axis.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Part {
    pub offset: Vec<usize>,
    pub size: Vec<usize>,
}

/// The enqueues that cover `global` work items in groups of `local`, with at most
/// [`MAX_GROUPS_PAST_AXIS_0`] groups along each axis after the first: every combination of one
/// span per axis, axis 0 whole. None when some axis is empty.
pub(crate) fn parts(global: &[usize], local: &[usize]) -> Vec<Part> {
    let mut parts = vec![Part {
        offset: Vec::new(),
        size: Vec::new(),
    }];
    for (axis, (&items, &group)) in global.iter().zip(local).enumerate() {
        let step = if axis == 0 {
            items.max(1)
        } else {
            MAX_GROUPS_PAST_AXIS_0 * group
        };
        let spans: Vec<(usize, usize)> = (0..items)
            .step_by(step)
            .map(|start| (start, step.min(items - start)))
            .collect();
        parts = parts
            .iter()
            .flat_map(|part| {
                spans.iter().map(|&(start, len)| Part {
                    offset: [&part.offset[..], &[start]].concat(),
                    size: [&part.size[..], &[len]].concat(),
                })
            })
            .collect();
    }
    parts
}

/// A kernel whose arguments are being set, in order.
pub(crate) struct Launch<'a> {
    runtime: &'a Runtime,
    entry: &'a KernelEntry,
    kernel: MutexGuard<'a, Kernel>,
    next: u32,
}

impl<'a> Launch<'a> {
    pub fn new(runtime: &'a Runtime, entry: &'a KernelEntry) -> Self {
        Launch {
            runtime,
            entry,
            kernel: entry.kernel.lock().unwrap_or_else(|e| e.into_inner()),
            next: 0,
        }
    }

    fn check(&self, r: opencl3::Result<()>) -> Result<()> {
        r.map_err(|e| {
            Error::Backend(format!(
                "OpenCL: argument {} of kernel {}: {e}",
                self.next, self.entry.name
            ))
        })
    }

    /// The next argument, passed by value: a `uint`, `int`, `T` or `Strided`.
    pub fn arg<A: KernelArg>(mut self, value: &A) -> Result<Self> {
        // SAFETY: `value` is a live reference to `size_of::<A>()` initialized bytes of a plain
        // old data type (`KernelArg` is implemented only for such), which is all clSetKernelArg
        // reads; OpenCL checks the size against the kernel's parameter and copies the bytes.
        let r = unsafe { self.kernel.set_arg(self.next, value) };
        self.check(r)?;
        self.next += 1;
        Ok(self)
    }

    /// The next argument, a `T` (`float` or `double`) scalar of an element type.
    pub fn scalar<T: Element>(self, value: T) -> Result<Self> {
        match T::DTYPE {
            DType::F32 => self.arg(&(value.to_f64() as f32)),
            DType::F64 => self.arg(&value.to_f64()),
        }
    }

    /// The next argument, a `__global` buffer.
    pub fn buffer<T>(self, buffer: &ClBuffer<T>) -> Result<Self> {
        self.arg(&Handle(buffer.handle()))
    }

    /// The next argument, a `__local` array of `elements` values of `E`.
    pub fn local<E>(mut self, elements: usize) -> Result<Self> {
        // SAFETY: a local-memory argument passes only a size (no host pointer is read); the
        // size is nonzero because every launch passes at least one element per work item.
        let r = unsafe {
            self.kernel
                .set_arg_local_buffer(self.next, elements.max(1) * std::mem::size_of::<E>())
        };
        self.check(r)?;
        self.next += 1;
        Ok(self)
    }

    /// Enqueues the kernel over `global` work items in groups of `local` (one entry per
    /// dimension, each `global[d]` a multiple of `local[d]`), in as many parts as
    /// [`MAX_GROUPS_PAST_AXIS_0`] asks; does not wait for it.
    pub fn run(self, global: &[usize], local: &[usize]) -> Result<()> {
        if self.next != self.entry.args {
            return Err(Error::Backend(format!(
                "OpenCL: kernel {} takes {} arguments but {} were set",
                self.entry.name, self.entry.args, self.next
            )));
        }
        debug_assert!(global.iter().zip(local).all(|(g, l)| g % l == 0));
        for part in parts(global, local) {
            self.enqueue(&part.offset, &part.size, local)?;
        }
        Ok(())
    }

    /// Enqueues the kernel, its arguments all set, over `size` work items from `offset`.
    fn enqueue(&self, offset: &[usize], size: &[usize], local: &[usize]) -> Result<()> {
        let dims = local.len();
        if offset.len() != dims || size.len() != dims || !(1..=3).contains(&dims) {
            return Err(Error::Backend(format!(
                "OpenCL: kernel {} enqueued over {size:?} items from {offset:?} in groups of \
                 {local:?}: one to three axes, as many of each",
                self.entry.name
            )));
        }
        // SAFETY: every argument of the kernel is set (`run` counted them); their types are the
        // ones its OpenCL signature declares because each launch site passes them in the
        // order of its kernel's `.cl` signature (checked by hand for every launch, and by the
        // conformance tests, which run every kernel). Buffers are live `ClBuffer`s (OpenCL
        // retains them until the command completes), and `offset`, `size` and `local` point to
        // `work_dim` sizes each (checked above). Every index a kernel forms stays inside its
        // buffers: `Storage` checked each layout against its buffer, the kernels bounds-check
        // their work items against the sizes passed, every size fits the kernels' 32-bit
        // arithmetic (`ClBuffer::new`, `uint`), and the op text spliced into a kernel is a
        // plain expression of its operands (the contract of the `unsafe` op traits).
        let event = unsafe {
            self.runtime.queue.enqueue_nd_range_kernel(
                self.kernel.get(),
                dims as u32,
                offset.as_ptr(),
                size.as_ptr(),
                local.as_ptr(),
                &[],
            )
        };
        let event = event.map_err(|e| {
            Error::Backend(format!(
                "OpenCL: enqueueing kernel {} on {} failed: {e}",
                self.entry.name, self.runtime.info.name
            ))
        })?;
        match &self.runtime.profile {
            Some(profile) => profile
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .record(&self.entry.label, event),
            None => Ok(()),
        }
    }

    /// Enqueues a one-dimensional kernel over `n ≥ 1` items in groups of up to 256 (the kernel
    /// ignores the items past `n`).
    pub fn run_1d(self, n: usize) -> Result<()> {
        let group = group_size(self.entry, 256);
        self.run(&[n.div_ceil(group) * group], &[group])
    }
}

/// A `cl_mem` handle as a kernel argument.
#[repr(transparent)]
#[derive(Clone, Copy)]
pub(crate) struct Handle(opencl3::types::cl_mem);

/// Plain old data that can be a kernel argument by value.
pub(crate) trait KernelArg: Copy {}
impl KernelArg for u32 {}
impl KernelArg for i32 {}
impl KernelArg for f32 {}
impl KernelArg for f64 {}
impl KernelArg for Strided {}
impl KernelArg for Handle {}
