//! `Storage`: a buffer on some device holding some element type, chosen at run time.
//!
//! Dispatch happens here, in one place: first on the device (which backend runs the kernel), then
//! on the element type (which monomorphized kernel). This is also the one door into the kernels
//! from outside the crate, so every method checks its layouts, axes and indices against the buffers
//! first: no call from safe code can make a kernel read or write outside a buffer.

use crate::backend::{AdamWStep, LayerNormGrads, LayerNormOutput};
use crate::opencl::OpenCl;
use crate::ops::{ArgKind, BinaryOp, ReduceOp, UnaryOp};
use crate::transfers::{count_download, count_upload};
use crate::{
    checked_numel, shape_str, Backend, Cpu, DType, Device, Element, Error, Layout, Result,
};
use std::fmt;
use std::sync::Arc;

/// A buffer of one backend, tagged with its element type.
pub enum Typed<B: Backend> {
    F32(B::Buffer<f32>),
    F64(B::Buffer<f64>),
}

/// The buffer of one device.
enum Data {
    Cpu(Typed<Cpu>),
    OpenCl(OpenCl, Typed<OpenCl>),
}

impl Data {
    fn device(&self) -> Device {
        match self {
            Data::Cpu(_) => Device::Cpu,
            Data::OpenCl(cl, _) => Device::OpenCl(cl.clone()),
        }
    }
}

/// The error for operands of one operation on two devices.
fn mismatch(op: &'static str, a: Device, b: Device) -> Error {
    Error::Device {
        op,
        msg: format!("operands are on {a} and {b}"),
    }
}

/// A buffer on a device, of a run-time element type.
pub struct Storage {
    data: Data,
}

/// A list of indices on a device, for [`Storage::index_select`] and [`Storage::index_add`], and
/// for [`Storage::gather`] and [`Storage::scatter_add`] (one index per position).
///
/// It is uploaded once and can be used many times (a gather in the forward pass and its
/// scatter-add in the backward pass share it). It remembers its length and one past its largest
/// index, so uses are checked without reading it back.
#[derive(Clone)]
pub struct Indices {
    data: Arc<IndexData>,
    len: usize,
    bound: usize,
}

enum IndexData {
    Cpu(<Cpu as Backend>::Indices),
    OpenCl(OpenCl, <OpenCl as Backend>::Indices),
}

/// The element types a tensor holds (`f32`, `f64`): they know how to wrap and unwrap their
/// buffers in `Typed`. Code generic over a tensor's elements (`Tensor::from_vec::<T>`) bounds `T`
/// by it; `tensor` re-exports it.
pub trait TypedElement: Element {
    /// Tags a buffer of `Self` with its type: `Typed::F32` for `f32`, `Typed::F64` for `f64`.
    fn wrap<B: Backend>(buffer: B::Buffer<Self>) -> Typed<B>;
    /// The buffer when `typed` holds elements of `Self`; `None` when it holds the other type
    /// (which callers turn into an [`Error::DType`]).
    fn unwrap<B: Backend>(typed: &Typed<B>) -> Option<&B::Buffer<Self>>;
}

impl TypedElement for f32 {
    fn wrap<B: Backend>(buffer: B::Buffer<f32>) -> Typed<B> {
        Typed::F32(buffer)
    }
    fn unwrap<B: Backend>(typed: &Typed<B>) -> Option<&B::Buffer<f32>> {
        match typed {
            Typed::F32(b) => Some(b),
            Typed::F64(_) => None,
        }
    }
}

impl TypedElement for f64 {
    fn wrap<B: Backend>(buffer: B::Buffer<f64>) -> Typed<B> {
        Typed::F64(buffer)
    }
    fn unwrap<B: Backend>(typed: &Typed<B>) -> Option<&B::Buffer<f64>> {
        match typed {
            Typed::F64(b) => Some(b),
            Typed::F32(_) => None,
        }
    }
}

/// Runs `$body` with `$x` bound to the buffer, for whichever element type `$typed` holds, and
/// wraps the result back in the same variant.
macro_rules! each_dtype {
    ($typed:expr, $x:ident => $body:expr) => {
        match $typed {
            Typed::F32($x) => Typed::F32($body),
            Typed::F64($x) => Typed::F64($body),
        }
    };
}

/// Like `each_dtype!` for two operands, which must have the same element type.
macro_rules! each_dtype_pair {
    ($op:expr, $a:expr, $b:expr, ($x:ident, $y:ident) => $body:expr) => {
        match ($a, $b) {
            (Typed::F32($x), Typed::F32($y)) => Typed::F32($body),
            (Typed::F64($x), Typed::F64($y)) => Typed::F64($body),
            (a, b) => return Err(Error::dtype($op, a.dtype(), b.dtype())),
        }
    };
}

/// Runs `$body` with `$backend` bound to the backend of `$data` and `$x` to its buffer; the
/// `Typed` result is wrapped back on the same device.
macro_rules! on_device {
    ($data:expr, |$backend:ident, $x:ident| $body:expr) => {
        match $data {
            Data::Cpu($x) => {
                let $backend = &Cpu;
                Data::Cpu($body)
            }
            Data::OpenCl(cl, $x) => {
                let $backend = cl;
                Data::OpenCl(cl.clone(), $body)
            }
        }
    };
}

/// Like `on_device!` for a result that is not a buffer.
macro_rules! with_device {
    ($data:expr, |$backend:ident, $x:ident| $body:expr) => {
        match $data {
            Data::Cpu($x) => {
                let $backend = &Cpu;
                $body
            }
            Data::OpenCl(cl, $x) => {
                let $backend = cl;
                $body
            }
        }
    };
}

/// Like `on_device!` for two operands, which must live on the same device (else an
/// `Error::Device` naming both is returned from the enclosing function).
macro_rules! on_same_device {
    ($op:expr, $a:expr, $b:expr, |$backend:ident, $x:ident, $y:ident| $body:expr) => {
        match ($a, $b) {
            (Data::Cpu($x), Data::Cpu($y)) => {
                let $backend = &Cpu;
                Data::Cpu($body)
            }
            (Data::OpenCl(cl, $x), Data::OpenCl(other, $y)) if cl == other => {
                let $backend = cl;
                Data::OpenCl(cl.clone(), $body)
            }
            (a, b) => return Err(mismatch($op, a.device(), b.device())),
        }
    };
}

/// Like `on_device!` for an op of three or more operands, once `check_device` has proved every
/// operand on `$data`'s device: `$operand` gives another operand's buffer on that backend
/// ([`cpu_operand`] or [`opencl_operand`]), and each of the op's `Typed` results (an array) is
/// wrapped back on the device. (Two operands go through `on_same_device!`, which checks and
/// dispatches at once.)
macro_rules! on_checked_device {
    ($data:expr, |$backend:ident, $x:ident, $operand:ident| $body:expr) => {
        match $data {
            Data::Cpu($x) => {
                let ($backend, $operand) = (&Cpu, cpu_operand);
                $body.map(Data::Cpu)
            }
            Data::OpenCl(cl, $x) => {
                let ($backend, $operand) = (cl, opencl_operand);
                $body.map(|t| Data::OpenCl(cl.clone(), t))
            }
        }
    };
}

/// What `launch` returns, with a backend's own error (an OpenCL limit, which knows neither)
/// given `op` and the operands' `shapes`, as every error of the stack names them.
fn naming<T>(op: &str, shapes: &[&[usize]], launch: impl FnOnce() -> Result<T>) -> Result<T> {
    launch().map_err(|e| match e {
        Error::Backend(msg) => {
            let shapes: Vec<String> = shapes.iter().map(|s| shape_str(s)).collect();
            Error::Backend(format!("{op}: {}: {msg}", shapes.join(" and ")))
        }
        e => e,
    })
}

/// The data of an operand of an op of three or more operands, once `check_device` has proved
/// every operand on the first one's device, here the CPU (see `on_checked_device!`).
fn cpu_operand(s: &Storage) -> &Typed<Cpu> {
    match &s.data {
        Data::Cpu(x) => x,
        Data::OpenCl(..) => unreachable!("checked: every operand is on the CPU"),
    }
}

/// As [`cpu_operand`], for operands proved on one OpenCL device.
fn opencl_operand(s: &Storage) -> &Typed<OpenCl> {
    match &s.data {
        Data::OpenCl(_, x) => x,
        Data::Cpu(_) => unreachable!("checked: every operand is on one OpenCL device"),
    }
}

impl<B: Backend> Typed<B> {
    pub fn dtype(&self) -> DType {
        match self {
            Typed::F32(_) => DType::F32,
            Typed::F64(_) => DType::F64,
        }
    }

    fn len(&self) -> usize {
        match self {
            Typed::F32(b) => B::len(b),
            Typed::F64(b) => B::len(b),
        }
    }

    fn full(backend: &B, dtype: DType, len: usize, value: f64) -> Result<Self> {
        Ok(match dtype {
            DType::F32 => Typed::F32(backend.full(len, value as f32)?),
            DType::F64 => Typed::F64(backend.full(len, value)?),
        })
    }

    fn to_host<T: TypedElement>(&self, backend: &B, layout: &Layout) -> Result<Vec<T>> {
        let buffer = T::unwrap(self).ok_or(Error::dtype("to_vec", self.dtype(), T::DTYPE))?;
        backend.to_host(buffer, layout)
    }

    fn copy_from(
        &mut self,
        backend: &B,
        dst_layout: &Layout,
        src: &Typed<B>,
        src_layout: &Layout,
    ) -> Result<()> {
        match (self, src) {
            (Typed::F32(d), Typed::F32(s)) => backend.copy_into(s, src_layout, d, dst_layout),
            (Typed::F64(d), Typed::F64(s)) => backend.copy_into(s, src_layout, d, dst_layout),
            (d, s) => Err(Error::dtype("copy", d.dtype(), s.dtype())),
        }
    }

    fn index_add(
        &mut self,
        backend: &B,
        dst_shape: &[usize],
        axis: usize,
        indices: &B::Indices,
        src: &Typed<B>,
        src_layout: &Layout,
    ) -> Result<()> {
        match (self, src) {
            (Typed::F32(d), Typed::F32(s)) => {
                backend.index_add(d, dst_shape, axis, indices, s, src_layout)
            }
            (Typed::F64(d), Typed::F64(s)) => {
                backend.index_add(d, dst_shape, axis, indices, s, src_layout)
            }
            (d, s) => Err(Error::dtype("index_add", d.dtype(), s.dtype())),
        }
    }

    fn scatter_add(
        &mut self,
        backend: &B,
        dst_layout: &Layout,
        axis: usize,
        index: &B::Indices,
        src: &Typed<B>,
        src_layout: &Layout,
    ) -> Result<()> {
        match (self, src) {
            (Typed::F32(d), Typed::F32(s)) => {
                backend.scatter_add(d, dst_layout, axis, index, s, src_layout)
            }
            (Typed::F64(d), Typed::F64(s)) => {
                backend.scatter_add(d, dst_layout, axis, index, s, src_layout)
            }
            (d, s) => Err(Error::dtype("scatter_add", d.dtype(), s.dtype())),
        }
    }

    fn adamw_update(
        &self,
        backend: &B,
        g: &Typed<B>,
        moments: Option<[&Typed<B>; 2]>,
        len: usize,
        step: &AdamWStep,
    ) -> Result<[Typed<B>; 3]> {
        fn typed<B: Backend, T: TypedElement>(
            backend: &B,
            p: &Typed<B>,
            g: &Typed<B>,
            moments: Option<[&Typed<B>; 2]>,
            len: usize,
            step: &AdamWStep,
        ) -> Result<[Typed<B>; 3]> {
            fn buffer<'a, B: Backend, T: TypedElement>(
                p: &Typed<B>,
                t: &'a Typed<B>,
            ) -> Result<&'a B::Buffer<T>> {
                T::unwrap(t).ok_or(Error::dtype("adamw_update", p.dtype(), t.dtype()))
            }
            let moments = match moments {
                Some([m, v]) => Some([buffer::<B, T>(p, m)?, buffer::<B, T>(p, v)?]),
                None => None,
            };
            let (p_buffer, g_buffer) = (buffer::<B, T>(p, p)?, buffer::<B, T>(p, g)?);
            let out = backend.adamw_update(p_buffer, g_buffer, moments, len, step)?;
            Ok(out.map(T::wrap::<B>))
        }
        match self.dtype() {
            DType::F32 => typed::<B, f32>(backend, self, g, moments, len, step),
            DType::F64 => typed::<B, f64>(backend, self, g, moments, len, step),
        }
    }

    fn layer_norm(
        &self,
        backend: &B,
        gamma: &Typed<B>,
        beta: &Typed<B>,
        rows: usize,
        d: usize,
        eps: f64,
    ) -> Result<[Typed<B>; 3]> {
        fn split<B: Backend, T: TypedElement>(o: LayerNormOutput<B::Buffer<T>>) -> [Typed<B>; 3] {
            [T::wrap(o.y), T::wrap(o.mean), T::wrap(o.rstd)]
        }
        match (self, gamma, beta) {
            (Typed::F32(x), Typed::F32(g), Typed::F32(b)) => {
                Ok(split::<B, f32>(backend.layer_norm(x, g, b, rows, d, eps)?))
            }
            (Typed::F64(x), Typed::F64(g), Typed::F64(b)) => {
                Ok(split::<B, f64>(backend.layer_norm(x, g, b, rows, d, eps)?))
            }
            (x, g, b) => {
                let other = if g.dtype() != x.dtype() {
                    g.dtype()
                } else {
                    b.dtype()
                };
                Err(Error::dtype("layer_norm", x.dtype(), other))
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn layer_norm_backward(
        &self,
        backend: &B,
        x: &Typed<B>,
        mean: &Typed<B>,
        rstd: &Typed<B>,
        gamma: &Typed<B>,
        rows: usize,
        d: usize,
    ) -> Result<[Typed<B>; 3]> {
        fn split<B: Backend, T: TypedElement>(g: LayerNormGrads<B::Buffer<T>>) -> [Typed<B>; 3] {
            [T::wrap(g.dx), T::wrap(g.dgamma), T::wrap(g.dbeta)]
        }
        use Typed::{F32, F64};
        match (self, x, mean, rstd, gamma) {
            (F32(dy), F32(x), F32(m), F32(r), F32(g)) => Ok(split::<B, f32>(
                backend.layer_norm_backward(dy, x, m, r, g, rows, d)?,
            )),
            (F64(dy), F64(x), F64(m), F64(r), F64(g)) => Ok(split::<B, f64>(
                backend.layer_norm_backward(dy, x, m, r, g, rows, d)?,
            )),
            (dy, ..) => {
                let other = [x, mean, rstd, gamma]
                    .into_iter()
                    .map(Typed::dtype)
                    .find(|&t| t != dy.dtype())
                    .unwrap_or(dy.dtype());
                Err(Error::dtype("layer_norm_backward", dy.dtype(), other))
            }
        }
    }
}

/// An error unless a buffer of `have` elements holds the `need` that `op` reads as `what`.
fn check_len(op: &'static str, what: &str, have: usize, need: usize) -> Result<()> {
    if need > have {
        return Err(Error::shape(
            op,
            format!("{what} needs {need} elements, but its buffer holds {have}"),
        ));
    }
    Ok(())
}

/// `rows · cols`, or an error when it overflows.
fn area(op: &'static str, rows: usize, cols: usize) -> Result<usize> {
    checked_numel(op, &[rows, cols])
}

/// An error unless two layouts have the same shape.
fn check_same_shape(op: &'static str, a: &Layout, b: &Layout) -> Result<()> {
    if a.shape() != b.shape() {
        return Err(Error::shape(
            op,
            format!(
                "operand shapes {} and {} differ",
                shape_str(a.shape()),
                shape_str(b.shape())
            ),
        ));
    }
    Ok(())
}

impl Storage {
    fn new(data: Data) -> Storage {
        Storage { data }
    }

    /// Copies `data` to `device`.
    pub fn from_host<T: TypedElement>(device: &Device, data: &[T]) -> Result<Storage> {
        let storage = Storage::new(match device {
            Device::Cpu => Data::Cpu(T::wrap::<Cpu>(Cpu.from_host(data)?)),
            Device::OpenCl(cl) => Data::OpenCl(cl.clone(), T::wrap::<OpenCl>(cl.from_host(data)?)),
        });
        count_upload(); // Counted once made: a refused copy is no transfer.
        Ok(storage)
    }

    /// `len` copies of `value` (rounded to `dtype`).
    pub fn full(device: &Device, dtype: DType, len: usize, value: f64) -> Result<Storage> {
        // No buffer may span more than `isize::MAX` bytes (Rust's and OpenCL's limit alike).
        let bytes = len.checked_mul(dtype.size_in_bytes());
        if bytes.is_none_or(|b| b > isize::MAX as usize) {
            return Err(Error::shape(
                "full",
                format!("{len} elements of {dtype} are more than one buffer can hold"),
            ));
        }
        Ok(Storage::new(match device {
            Device::Cpu => Data::Cpu(Typed::full(&Cpu, dtype, len, value)?),
            Device::OpenCl(cl) => Data::OpenCl(cl.clone(), Typed::full(cl, dtype, len, value)?),
        }))
    }

    /// The element type of the buffer, fixed when it was made.
    pub fn dtype(&self) -> DType {
        with_device!(&self.data, |_b, x| x.dtype())
    }

    /// The device whose memory holds the buffer; operands of one op must all be on it.
    pub fn device(&self) -> Device {
        self.data.device()
    }

    /// The number of elements in the buffer.
    pub fn len(&self) -> usize {
        with_device!(&self.data, |_b, x| x.len())
    }

    /// True when the buffer holds no element, so any layout over it must have no element either.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// An error unless `layout` lies inside this buffer.
    fn check(&self, op: &'static str, layout: &Layout) -> Result<()> {
        layout.check_within(op, self.len())
    }

    /// An error unless `other` lives on the same device.
    fn check_device(&self, op: &'static str, other: &Device) -> Result<()> {
        if self.device() != *other {
            return Err(mismatch(op, self.device(), other.clone()));
        }
        Ok(())
    }

    /// The elements seen through `layout`, in row-major order, as `T` (which must be the dtype).
    pub fn to_host<T: TypedElement>(&self, layout: &Layout) -> Result<Vec<T>> {
        self.check("to_vec", layout)?;
        let values = with_device!(&self.data, |backend, x| x.to_host(backend, layout))?;
        count_download(); // Counted once made: a refused copy is no transfer.
        Ok(values)
    }

    /// The elements seen through `layout`, converted to `f64`.
    pub fn to_host_f64(&self, layout: &Layout) -> Result<Vec<f64>> {
        match self.dtype() {
            DType::F32 => Ok(self
                .to_host::<f32>(layout)?
                .into_iter()
                .map(f64::from)
                .collect()),
            DType::F64 => self.to_host::<f64>(layout),
        }
    }

    /// `Op(x)` for every element `x` seen through `layout`, in a fresh contiguous buffer of the
    /// layout's shape and this buffer's type; an error naming `Op` when `layout` reaches outside
    /// the buffer.
    pub fn unary<Op: UnaryOp>(&self, layout: &Layout) -> Result<Storage> {
        self.check(Op::NAME, layout)?;
        naming(Op::NAME, &[layout.shape()], || {
            Ok(Storage::new(on_device!(&self.data, |backend, t| {
                each_dtype!(t, x => backend.unary::<_, Op>(x, layout)?)
            })))
        })
    }

    /// `Op(a, b)` for each pair of elements at one index, `a` seen through `a_layout` in this
    /// buffer and `b` through `b_layout` in `other`, in a fresh contiguous buffer. The layouts
    /// must have the same shape (broadcast one first with [`Layout::broadcast_to`]) and the two
    /// buffers the same device and type: each mismatch is an error naming `Op`.
    pub fn binary<Op: BinaryOp>(
        &self,
        a_layout: &Layout,
        other: &Storage,
        b_layout: &Layout,
    ) -> Result<Storage> {
        check_same_shape(Op::NAME, a_layout, b_layout)?;
        self.check(Op::NAME, a_layout)?;
        other.check(Op::NAME, b_layout)?;
        self.check_device(Op::NAME, &other.device())?;
        naming(Op::NAME, &[a_layout.shape(), b_layout.shape()], || {
            Ok(Storage::new(on_same_device!(
                Op::NAME,
                &self.data,
                &other.data,
                |backend, a, b| {
                    each_dtype_pair!(Op::NAME, a, b, (x, y) => backend.binary::<_, Op>(x, a_layout, y, b_layout)?)
                }
            )))
        })
    }

    /// `Op(x, value)` for every element `x`, with `value` (rounded to the dtype) passed to the
    /// kernel, not stored in a buffer.
    pub fn binary_scalar<Op: BinaryOp>(&self, layout: &Layout, value: f64) -> Result<Storage> {
        self.check(Op::NAME, layout)?;
        naming(Op::NAME, &[layout.shape()], || {
            Ok(Storage::new(on_device!(&self.data, |backend, t| match t {
                Typed::F32(x) => {
                    Typed::F32(backend.binary_scalar::<_, Op>(x, layout, value as f32)?)
                }
                Typed::F64(x) => Typed::F64(backend.binary_scalar::<_, Op>(x, layout, value)?),
            })))
        })
    }

    /// Folds `Op` over `axes`, which must be sorted, distinct and in range.
    pub fn reduce<Op: ReduceOp>(&self, layout: &Layout, axes: &[usize]) -> Result<Storage> {
        self.check(Op::NAME, layout)?;
        for (i, &axis) in axes.iter().enumerate() {
            layout.check_axis(Op::NAME, axis)?;
            if i > 0 && axes[i - 1] >= axis {
                return Err(Error::shape(
                    Op::NAME,
                    format!("axes {axes:?} are not sorted and distinct"),
                ));
            }
        }
        if !Op::DEFINED_WHEN_EMPTY && axes.iter().any(|&a| layout.shape()[a] == 0) {
            return Err(Error::shape(
                Op::NAME,
                format!(
                    "cannot reduce an empty axis of {}",
                    shape_str(layout.shape())
                ),
            ));
        }
        if layout.numel() == 0 {
            // Every result is the fold of nothing (or there is none), without a kernel whose
            // views of the empty input would carry strides checked against nothing.
            let (kept, _) = layout.split_reduced(axes);
            let identity = Op::identity::<f64>();
            return Storage::full(&self.device(), self.dtype(), kept.numel(), identity);
        }
        naming(Op::NAME, &[layout.shape()], || {
            Ok(Storage::new(on_device!(&self.data, |backend, t| {
                each_dtype!(t, x => backend.reduce::<_, Op>(x, layout, axes)?)
            })))
        })
    }

    /// The index of the largest (`ArgKind::Max`) or smallest (`ArgKind::Min`) element along
    /// `axis`, the first one on ties, stored as this buffer's type in a fresh contiguous buffer
    /// with `axis` kept at size 1. An axis out of range, of size 0, or with indices past what
    /// the element type holds exactly (`2²⁴` in `f32`) is an error naming `argmax` or `argmin`.
    pub fn arg_reduce(&self, layout: &Layout, axis: usize, kind: ArgKind) -> Result<Storage> {
        let op = kind.name();
        self.check(op, layout)?;
        layout.check_axis(op, axis)?;
        if layout.shape()[axis] == 0 {
            return Err(Error::shape(
                op,
                format!("axis {axis} of {} is empty", shape_str(layout.shape())),
            ));
        }
        let exact = self.dtype().largest_exact_integer();
        if layout.shape()[axis] as u64 - 1 > exact {
            return Err(Error::shape(
                op,
                format!(
                    "axis {axis} of {} has indices past {exact}, which {} cannot hold exactly \
                     (the indices are values of the tensor's dtype); use f64",
                    shape_str(layout.shape()),
                    self.dtype()
                ),
            ));
        }
        naming(op, &[layout.shape()], || {
            Ok(Storage::new(on_device!(&self.data, |backend, t| {
                each_dtype!(t, x => backend.arg_reduce(x, layout, axis, kind)?)
            })))
        })
    }

    /// The batched product of `[..., m, k]` and `[..., k, n]` layouts with equal batch shapes.
    pub fn matmul(&self, a_layout: &Layout, other: &Storage, b_layout: &Layout) -> Result<Storage> {
        let (ra, rb) = (a_layout.rank(), b_layout.rank());
        let fits = ra >= 2
            && ra == rb
            && a_layout.shape()[..ra - 2] == b_layout.shape()[..rb - 2]
            && a_layout.shape()[ra - 1] == b_layout.shape()[rb - 2];
        if !fits {
            return Err(Error::shape(
                "matmul",
                format!(
                    "{} x {}: need [..., m, k] x [..., k, n] with equal batch shapes",
                    shape_str(a_layout.shape()),
                    shape_str(b_layout.shape())
                ),
            ));
        }
        // The output's size is what the kernels allocate and write: it must be a `usize`.
        let mut out = a_layout.shape().to_vec();
        out[ra - 1] = b_layout.shape()[rb - 1];
        let out_len = checked_numel("matmul", &out)?;
        self.check("matmul", a_layout)?;
        other.check("matmul", b_layout)?;
        self.check_device("matmul", &other.device())?;
        if a_layout.shape()[ra - 1] == 0 {
            // Sums of no product: zeros, without a kernel (whose views of the empty operands
            // would carry strides checked against nothing).
            if self.dtype() != other.dtype() {
                return Err(Error::dtype("matmul", self.dtype(), other.dtype()));
            }
            return Storage::full(&self.device(), self.dtype(), out_len, 0.0);
        }
        naming("matmul", &[a_layout.shape(), b_layout.shape()], || {
            Ok(Storage::new(on_same_device!(
                "matmul",
                &self.data,
                &other.data,
                |backend, a, b| {
                    each_dtype_pair!("matmul", a, b, (x, y) => backend.matmul(x, a_layout, y, b_layout)?)
                }
            )))
        })
    }

    /// Copies `src[src_layout]` into `self[dst_layout]`; `dst_layout` must not name an element
    /// twice.
    pub fn copy_from(
        &mut self,
        dst_layout: &Layout,
        src: &Storage,
        src_layout: &Layout,
    ) -> Result<()> {
        check_same_shape("copy", dst_layout, src_layout)?;
        self.check("copy", dst_layout)?;
        src.check("copy", src_layout)?;
        self.check_device("copy", &src.device())?;
        if !dst_layout.is_non_overlapping() {
            return Err(Error::shape(
                "copy",
                format!(
                    "the destination layout {} with strides {:?} names some elements twice",
                    shape_str(dst_layout.shape()),
                    dst_layout.strides()
                ),
            ));
        }
        match (&mut self.data, &src.data) {
            (Data::Cpu(d), Data::Cpu(s)) => d.copy_from(&Cpu, dst_layout, s, src_layout),
            (Data::OpenCl(cl, d), Data::OpenCl(other, s)) if cl == other => {
                d.copy_from(cl, dst_layout, s, src_layout)
            }
            (d, s) => Err(mismatch("copy", d.device(), s.device())),
        }
    }

    /// An error unless `indices` live on this device and index an axis of size `size`.
    fn check_indices(
        &self,
        op: &'static str,
        indices: &Indices,
        axis: usize,
        shape: &[usize],
    ) -> Result<()> {
        self.check_device(op, &indices.device())?;
        let size = shape[axis];
        if indices.bound > size {
            return Err(Error::shape(
                op,
                format!(
                    "index {} is out of range for axis {axis} of size {size} (shape {})",
                    indices.bound - 1,
                    shape_str(shape)
                ),
            ));
        }
        Ok(())
    }

    /// `y[.., j, ..] = self[.., indices[j], ..]` along `axis`.
    pub fn index_select(&self, layout: &Layout, axis: usize, indices: &Indices) -> Result<Storage> {
        self.check("index_select", layout)?;
        layout.check_axis("index_select", axis)?;
        self.check_indices("index_select", indices, axis, layout.shape())?;
        let count = indices.len;
        let mut out = layout.shape().to_vec();
        out[axis] = count;
        checked_numel("index_select", &out)?;
        naming("index_select", &[layout.shape()], || {
            Ok(Storage::new(match (&self.data, &*indices.data) {
                (Data::Cpu(t), IndexData::Cpu(i)) => Data::Cpu(each_dtype!(t, x =>
                    Cpu.index_select(x, layout, axis, i, count)?)),
                (Data::OpenCl(cl, t), IndexData::OpenCl(other, i)) if cl == other => Data::OpenCl(
                    cl.clone(),
                    each_dtype!(t, x => cl.index_select(x, layout, axis, i, count)?),
                ),
                (t, _) => return Err(mismatch("index_select", t.device(), indices.device())),
            }))
        })
    }

    /// `self[.., indices[j], ..] += src[.., j, ..]` along `axis`; `self` is contiguous `dst_shape`.
    pub fn index_add(
        &mut self,
        dst_shape: &[usize],
        axis: usize,
        indices: &Indices,
        src: &Storage,
        src_layout: &Layout,
    ) -> Result<()> {
        let dst_layout = Layout::contiguous(dst_shape);
        self.check("index_add", &dst_layout)?;
        dst_layout.check_axis("index_add", axis)?;
        self.check_indices("index_add", indices, axis, dst_shape)?;
        src.check("index_add", src_layout)?;
        self.check_device("index_add", &src.device())?;
        let mut expected = dst_shape.to_vec();
        expected[axis] = indices.len;
        if src_layout.shape() != expected {
            return Err(Error::shape(
                "index_add",
                format!(
                    "source {} does not match {} with {} indices along axis {axis}",
                    shape_str(src_layout.shape()),
                    shape_str(dst_shape),
                    indices.len
                ),
            ));
        }
        let added = match (&mut self.data, &*indices.data, &src.data) {
            (Data::Cpu(d), IndexData::Cpu(i), Data::Cpu(s)) => {
                d.index_add(&Cpu, dst_shape, axis, i, s, src_layout)
            }
            (Data::OpenCl(cl, d), IndexData::OpenCl(ci, i), Data::OpenCl(cs, s))
                if cl == ci && cl == cs =>
            {
                d.index_add(cl, dst_shape, axis, i, s, src_layout)
            }
            (d, _, s) => {
                let here = d.device();
                let other = if here == s.device() {
                    indices.device()
                } else {
                    s.device()
                };
                Err(mismatch("index_add", here, other))
            }
        };
        naming("index_add", &[src_layout.shape(), dst_shape], || added)
    }

    /// `y[p] = self[p with p[axis] = index[p]]` for every row-major position `p` of
    /// `index_shape` (`index` holds one entry per position), PyTorch's `gather`: `index_shape`
    /// has `layout`'s rank and fits inside its shape on every axis but `axis`, where each index
    /// is below the size. The output is contiguous, of `index_shape`.
    pub fn gather(
        &self,
        layout: &Layout,
        axis: usize,
        index: &Indices,
        index_shape: &[usize],
    ) -> Result<Storage> {
        self.check("gather", layout)?;
        let Some(boxed) = self.index_box("gather", layout, axis, index, index_shape)? else {
            return Storage::full(&self.device(), self.dtype(), 0, 0.0);
        };
        let count = index_shape[axis];
        naming("gather", &[layout.shape(), index_shape], || {
            Ok(Storage::new(match (&self.data, &*index.data) {
                (Data::Cpu(t), IndexData::Cpu(i)) => Data::Cpu(each_dtype!(t, x =>
                    Cpu.gather(x, &boxed, axis, i, count)?)),
                (Data::OpenCl(cl, t), IndexData::OpenCl(other, i)) if cl == other => Data::OpenCl(
                    cl.clone(),
                    each_dtype!(t, x => cl.gather(x, &boxed, axis, i, count)?),
                ),
                (t, _) => return Err(mismatch("gather", t.device(), index.device())),
            }))
        })
    }

    /// The adjoint of [`gather`](Storage::gather): `self[p with p[axis] = index[p]] += src[p]`
    /// for every row-major position `p` of `src_layout`'s shape (`index` holds one entry per
    /// position; several landing on one element add up in order of `p[axis]`); `self` is the
    /// contiguous `dst_shape`, in which that shape fits as `gather`'s index shape must.
    pub fn scatter_add(
        &mut self,
        dst_shape: &[usize],
        axis: usize,
        index: &Indices,
        src: &Storage,
        src_layout: &Layout,
    ) -> Result<()> {
        let dst_layout = Layout::contiguous(dst_shape);
        self.check("scatter_add", &dst_layout)?;
        src.check("scatter_add", src_layout)?;
        self.check_device("scatter_add", &src.device())?;
        let Some(boxed) =
            self.index_box("scatter_add", &dst_layout, axis, index, src_layout.shape())?
        else {
            return Ok(());
        };
        let added = match (&mut self.data, &*index.data, &src.data) {
            (Data::Cpu(d), IndexData::Cpu(i), Data::Cpu(s)) => {
                d.scatter_add(&Cpu, &boxed, axis, i, s, src_layout)
            }
            (Data::OpenCl(cl, d), IndexData::OpenCl(ci, i), Data::OpenCl(cs, s))
                if cl == ci && cl == cs =>
            {
                d.scatter_add(cl, &boxed, axis, i, s, src_layout)
            }
            (d, _, _) => Err(mismatch("scatter_add", d.device(), index.device())),
        };
        naming("scatter_add", &[src_layout.shape(), dst_shape], || added)
    }

    /// `layout` cut to `index_shape` on every axis but `axis`, after checking that `index`
    /// (on this device, one entry per position of `index_shape`) can index it: the same rank,
    /// no larger on the other axes, every index below the size of `axis`. `None` for an index
    /// of no position, which picks nothing whatever its shape (PyTorch's rule too).
    fn index_box(
        &self,
        op: &'static str,
        layout: &Layout,
        axis: usize,
        index: &Indices,
        index_shape: &[usize],
    ) -> Result<Option<Layout>> {
        layout.check_axis(op, axis)?;
        let positions = checked_numel(op, index_shape)?;
        if positions == 0 && index.len == 0 {
            self.check_device(op, &index.device())?;
            return Ok(None);
        }
        let fits = index_shape.len() == layout.rank()
            && (0..layout.rank()).all(|d| d == axis || index_shape[d] <= layout.shape()[d]);
        if !fits {
            return Err(Error::shape(
                op,
                format!(
                    "an index of shape {} does not fit {} (same rank, no larger on any axis but \
                     {axis})",
                    shape_str(index_shape),
                    shape_str(layout.shape())
                ),
            ));
        }
        if index.len != positions {
            return Err(Error::shape(
                op,
                format!(
                    "{} indices for an index of shape {} ({positions} positions)",
                    index.len,
                    shape_str(index_shape)
                ),
            ));
        }
        self.check_indices(op, index, axis, layout.shape())?;
        (0..layout.rank())
            .filter(|&d| d != axis)
            .try_fold(layout.clone(), |boxed, d| {
                boxed.narrow(d, 0, index_shape[d])
            })
            .map(Some)
    }

    /// Softmax (or log-softmax) of each row of the contiguous `[rows, n]` buffer times `scale`.
    pub fn softmax_last(&self, rows: usize, n: usize, scale: f64, log: bool) -> Result<Storage> {
        let op = if log { "log_softmax" } else { "softmax" };
        check_len(op, "the input", self.len(), area(op, rows, n)?)?;
        naming(op, &[&[rows, n]], || {
            Ok(Storage::new(on_device!(&self.data, |backend, t| {
                each_dtype!(t, x => backend.softmax_last(x, rows, n, scale, log)?)
            })))
        })
    }

    /// The backward pass of [`Storage::softmax_last`] (the gradient with respect to its unscaled
    /// input): `self` is its output `y`, `g` the upstream gradient, both contiguous `[rows, n]`.
    pub fn softmax_last_backward(
        &self,
        g: &Storage,
        rows: usize,
        n: usize,
        scale: f64,
        log: bool,
    ) -> Result<Storage> {
        let op = if log {
            "log_softmax_backward"
        } else {
            "softmax_backward"
        };
        let len = area(op, rows, n)?;
        check_len(op, "the output", self.len(), len)?;
        check_len(op, "the gradient", g.len(), len)?;
        self.check_device(op, &g.device())?;
        naming(op, &[&[rows, n]], || {
            Ok(Storage::new(on_same_device!(
                op,
                &self.data,
                &g.data,
                |backend, a, b| {
                    each_dtype_pair!(op, a, b, (y, g) => backend.softmax_last_backward(y, g, rows, n, scale, log)?)
                }
            )))
        })
    }

    /// `self + α·other` over `len` contiguous elements of each (see `Backend::add_scaled`).
    pub fn add_scaled(&self, other: &Storage, len: usize, alpha: f64) -> Result<Storage> {
        let op = "add_scaled";
        check_len(op, "the first operand", self.len(), len)?;
        check_len(op, "the second operand", other.len(), len)?;
        self.check_device(op, &other.device())?;
        naming(op, &[&[len]], || {
            Ok(Storage::new(on_same_device!(
                op,
                &self.data,
                &other.data,
                |backend, a, b| {
                    each_dtype_pair!(op, a, b, (x, y) => backend.add_scaled(x, y, len, Element::from_f64(alpha))?)
                }
            )))
        })
    }

    /// One AdamW update of the parameter `self` from its gradient `g` and moments `(m, v)` (none
    /// on the first step), all read as `len` contiguous elements; returns `[p', m', v']`. See
    /// [`AdamWStep`] for the scalars and `Backend::adamw_update` for the formula.
    pub fn adamw_update(
        &self,
        g: &Storage,
        moments: Option<[&Storage; 2]>,
        len: usize,
        step: &AdamWStep,
    ) -> Result<[Storage; 3]> {
        let op = "adamw_update";
        check_len(op, "the parameter", self.len(), len)?;
        check_len(op, "the gradient", g.len(), len)?;
        self.check_device(op, &g.device())?;
        if let Some([m, v]) = moments {
            check_len(op, "the first moment", m.len(), len)?;
            check_len(op, "the second moment", v.len(), len)?;
            self.check_device(op, &m.device())?;
            self.check_device(op, &v.device())?;
        }
        let out = naming(op, &[&[len]], || {
            Ok(on_checked_device!(&self.data, |backend, p, operand| {
                let moments = moments.map(|[m, v]| [operand(m), operand(v)]);
                p.adamw_update(backend, operand(g), moments, len, step)?
            }))
        })?;
        Ok(out.map(Storage::new))
    }

    /// Layer norm of contiguous `[rows, d]` `self`.
    pub fn layer_norm(
        &self,
        gamma: &Storage,
        beta: &Storage,
        rows: usize,
        d: usize,
        eps: f64,
    ) -> Result<LayerNormOutput<Storage>> {
        let op = "layer_norm";
        check_len(op, "the input", self.len(), area(op, rows, d)?)?;
        check_len(op, "the scale", gamma.len(), d)?;
        check_len(op, "the shift", beta.len(), d)?;
        self.check_device(op, &gamma.device())?;
        self.check_device(op, &beta.device())?;
        let [y, mean, rstd] = naming(op, &[&[rows, d]], || {
            Ok(on_checked_device!(&self.data, |backend, x, operand| {
                x.layer_norm(backend, operand(gamma), operand(beta), rows, d, eps)?
            }))
        })?;
        let [y, mean, rstd] = [y, mean, rstd].map(Storage::new);
        Ok(LayerNormOutput { y, mean, rstd })
    }

    /// Gradients of [`Storage::layer_norm`]; `self` is the upstream gradient `dy`.
    #[allow(clippy::too_many_arguments)]
    pub fn layer_norm_backward(
        &self,
        x: &Storage,
        mean: &Storage,
        rstd: &Storage,
        gamma: &Storage,
        rows: usize,
        d: usize,
    ) -> Result<LayerNormGrads<Storage>> {
        let op = "layer_norm_backward";
        let n = area(op, rows, d)?;
        check_len(op, "the gradient", self.len(), n)?;
        check_len(op, "the input", x.len(), n)?;
        check_len(op, "the mean", mean.len(), rows)?;
        check_len(op, "the rstd", rstd.len(), rows)?;
        check_len(op, "the scale", gamma.len(), d)?;
        for other in [x, mean, rstd, gamma] {
            self.check_device(op, &other.device())?;
        }
        let [dx, dgamma, dbeta] = naming(op, &[&[rows, d]], || {
            Ok(on_checked_device!(&self.data, |backend, dy, operand| {
                let [x, m, r, g] = [x, mean, rstd, gamma].map(operand);
                dy.layer_norm_backward(backend, x, m, r, g, rows, d)?
            }))
        })?;
        let [dx, dgamma, dbeta] = [dx, dgamma, dbeta].map(Storage::new);
        Ok(LayerNormGrads { dx, dgamma, dbeta })
    }
}

impl Indices {
    /// Uploads `indices` to `device`.
    pub fn new(device: &Device, indices: &[usize]) -> Result<Indices> {
        let narrow: Vec<u32> = indices
            .iter()
            .map(|&i| u32::try_from(i))
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| {
                Error::shape(
                    "indices",
                    format!(
                        "index {} does not fit in 32 bits",
                        indices.iter().max().copied().unwrap_or(0)
                    ),
                )
            })?;
        let data = match device {
            Device::Cpu => IndexData::Cpu(Cpu.indices_from_host(&narrow)?),
            Device::OpenCl(cl) => IndexData::OpenCl(cl.clone(), cl.indices_from_host(&narrow)?),
        };
        count_upload();
        Ok(Indices {
            data: Arc::new(data),
            len: indices.len(),
            bound: indices.iter().max().map_or(0, |&m| m + 1),
        })
    }

    /// How many indices the list holds.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True for a list of no index (a gather of no row).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// One past the largest index (0 for an empty list): the smallest axis size it can index.
    pub fn bound(&self) -> usize {
        self.bound
    }

    /// The device the list was uploaded to: it can only index storage on that device.
    pub fn device(&self) -> Device {
        match &*self.data {
            IndexData::Cpu(_) => Device::Cpu,
            IndexData::OpenCl(cl, _) => Device::OpenCl(cl.clone()),
        }
    }
}

impl fmt::Debug for Indices {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Indices({} on {}, all below {})",
            self.len,
            self.device(),
            self.bound
        )
    }
}
