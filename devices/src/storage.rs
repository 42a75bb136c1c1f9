//! `Storage`: a buffer on some device holding some element type, chosen at run time.
//!
//! Dispatch happens here, in one place: first on the device (which backend runs the kernel), then on
//! the element type (which monomorphized kernel). The tensor crate above only ever sees `Storage`.

use crate::backend::{LayerNormGrads, LayerNormOutput};
use crate::ops::{ArgKind, BinaryOp, ReduceOp, UnaryOp};
use crate::{Backend, Cpu, DType, Element, Error, Layout, Result};
use std::fmt;

/// Where a tensor's numbers live.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Device {
    #[default]
    Cpu,
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Device::Cpu => f.write_str("cpu"),
        }
    }
}

/// A buffer of one backend, tagged with its element type.
pub enum Typed<B: Backend> {
    F32(B::Buffer<f32>),
    F64(B::Buffer<f64>),
}

/// A buffer on a device.
pub enum Storage {
    Cpu(Typed<Cpu>),
}

/// Element types know how to wrap and unwrap their buffers in [`Typed`].
pub trait TypedElement: Element {
    fn wrap<B: Backend>(buffer: B::Buffer<Self>) -> Typed<B>;
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
            (a, b) => {
                return Err(Error::DType {
                    op: $op,
                    lhs: a.dtype(),
                    rhs: b.dtype(),
                })
            }
        }
    };
}

impl<B: Backend> Typed<B> {
    pub fn dtype(&self) -> DType {
        match self {
            Typed::F32(_) => DType::F32,
            Typed::F64(_) => DType::F64,
        }
    }
}

impl Storage {
    /// Copies `data` to `device`.
    pub fn from_host<T: TypedElement>(device: &Device, data: &[T]) -> Result<Storage> {
        match device {
            Device::Cpu => Ok(Storage::Cpu(T::wrap::<Cpu>(Cpu.from_host(data)?))),
        }
    }

    /// `len` copies of `value` (rounded to `dtype`).
    pub fn full(device: &Device, dtype: DType, len: usize, value: f64) -> Result<Storage> {
        match device {
            Device::Cpu => Ok(Storage::Cpu(match dtype {
                DType::F32 => Typed::F32(Cpu.full(len, value as f32)?),
                DType::F64 => Typed::F64(Cpu.full(len, value)?),
            })),
        }
    }

    pub fn dtype(&self) -> DType {
        match self {
            Storage::Cpu(t) => t.dtype(),
        }
    }

    pub fn device(&self) -> Device {
        match self {
            Storage::Cpu(_) => Device::Cpu,
        }
    }

    /// The elements seen through `layout`, in row-major order, as `T` (which must be the dtype).
    pub fn to_host<T: TypedElement>(&self, layout: &Layout) -> Result<Vec<T>> {
        match self {
            Storage::Cpu(t) => {
                let buffer = T::unwrap(t).ok_or(Error::DType {
                    op: "to_vec",
                    lhs: t.dtype(),
                    rhs: T::DTYPE,
                })?;
                Cpu.to_host(buffer, layout)
            }
        }
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

    pub fn unary<Op: UnaryOp>(&self, layout: &Layout) -> Result<Storage> {
        Ok(match self {
            Storage::Cpu(t) => Storage::Cpu(each_dtype!(t, x => Cpu.unary::<_, Op>(x, layout)?)),
        })
    }

    pub fn binary<Op: BinaryOp>(
        &self,
        a_layout: &Layout,
        other: &Storage,
        b_layout: &Layout,
    ) -> Result<Storage> {
        Ok(match (self, other) {
            (Storage::Cpu(a), Storage::Cpu(b)) => {
                Storage::Cpu(each_dtype_pair!(Op::NAME, a, b, (x, y) =>
                Cpu.binary::<_, Op>(x, a_layout, y, b_layout)?))
            }
        })
    }

    pub fn reduce<Op: ReduceOp>(&self, layout: &Layout, axes: &[usize]) -> Result<Storage> {
        Ok(match self {
            Storage::Cpu(t) => {
                Storage::Cpu(each_dtype!(t, x => Cpu.reduce::<_, Op>(x, layout, axes)?))
            }
        })
    }

    pub fn arg_reduce(&self, layout: &Layout, axis: usize, kind: ArgKind) -> Result<Storage> {
        Ok(match self {
            Storage::Cpu(t) => {
                Storage::Cpu(each_dtype!(t, x => Cpu.arg_reduce(x, layout, axis, kind)?))
            }
        })
    }

    pub fn matmul(&self, a_layout: &Layout, other: &Storage, b_layout: &Layout) -> Result<Storage> {
        Ok(match (self, other) {
            (Storage::Cpu(a), Storage::Cpu(b)) => {
                Storage::Cpu(each_dtype_pair!("matmul", a, b, (x, y) =>
                Cpu.matmul(x, a_layout, y, b_layout)?))
            }
        })
    }

    /// Copies `src[src_layout]` into `self[dst_layout]`.
    pub fn copy_from(
        &mut self,
        dst_layout: &Layout,
        src: &Storage,
        src_layout: &Layout,
    ) -> Result<()> {
        match (self, src) {
            (Storage::Cpu(Typed::F32(d)), Storage::Cpu(Typed::F32(s))) => {
                Cpu.copy_into(s, src_layout, d, dst_layout)
            }
            (Storage::Cpu(Typed::F64(d)), Storage::Cpu(Typed::F64(s))) => {
                Cpu.copy_into(s, src_layout, d, dst_layout)
            }
            (d, s) => Err(Error::DType {
                op: "copy",
                lhs: d.dtype(),
                rhs: s.dtype(),
            }),
        }
    }

    pub fn index_select(&self, layout: &Layout, axis: usize, indices: &[usize]) -> Result<Storage> {
        Ok(match self {
            Storage::Cpu(t) => {
                Storage::Cpu(each_dtype!(t, x => Cpu.index_select(x, layout, axis, indices)?))
            }
        })
    }

    /// `self[.., indices[j], ..] += src[.., j, ..]` along `axis`; `self` is contiguous `dst_shape`.
    pub fn index_add(
        &mut self,
        dst_shape: &[usize],
        axis: usize,
        indices: &[usize],
        src: &Storage,
        src_layout: &Layout,
    ) -> Result<()> {
        match (self, src) {
            (Storage::Cpu(Typed::F32(d)), Storage::Cpu(Typed::F32(s))) => {
                Cpu.index_add(d, dst_shape, axis, indices, s, src_layout)
            }
            (Storage::Cpu(Typed::F64(d)), Storage::Cpu(Typed::F64(s))) => {
                Cpu.index_add(d, dst_shape, axis, indices, s, src_layout)
            }
            (d, s) => Err(Error::DType {
                op: "index_add",
                lhs: d.dtype(),
                rhs: s.dtype(),
            }),
        }
    }

    pub fn softmax_last(&self, rows: usize, n: usize, log: bool) -> Result<Storage> {
        Ok(match self {
            Storage::Cpu(t) => {
                Storage::Cpu(each_dtype!(t, x => Cpu.softmax_last(x, rows, n, log)?))
            }
        })
    }

    /// Layer norm of contiguous `[rows, d]` `self`; returns `(y, mean, rstd)`.
    pub fn layer_norm(
        &self,
        gamma: &Storage,
        beta: &Storage,
        rows: usize,
        d: usize,
        eps: f64,
    ) -> Result<(Storage, Storage, Storage)> {
        fn split<B: Backend, T: TypedElement>(
            o: LayerNormOutput<B::Buffer<T>>,
        ) -> (Typed<B>, Typed<B>, Typed<B>) {
            (
                T::wrap::<B>(o.y),
                T::wrap::<B>(o.mean),
                T::wrap::<B>(o.rstd),
            )
        }
        let (y, mean, rstd) = match (self, gamma, beta) {
            (
                Storage::Cpu(Typed::F32(x)),
                Storage::Cpu(Typed::F32(g)),
                Storage::Cpu(Typed::F32(b)),
            ) => split::<Cpu, f32>(Cpu.layer_norm(x, g, b, rows, d, eps)?),
            (
                Storage::Cpu(Typed::F64(x)),
                Storage::Cpu(Typed::F64(g)),
                Storage::Cpu(Typed::F64(b)),
            ) => split::<Cpu, f64>(Cpu.layer_norm(x, g, b, rows, d, eps)?),
            (x, g, _) => {
                return Err(Error::DType {
                    op: "layer_norm",
                    lhs: x.dtype(),
                    rhs: g.dtype(),
                })
            }
        };
        Ok((Storage::Cpu(y), Storage::Cpu(mean), Storage::Cpu(rstd)))
    }

    /// Gradients of [`Storage::layer_norm`]; `self` is the upstream gradient `dy`.
    /// Returns `(dx, dgamma, dbeta)`.
    #[allow(clippy::too_many_arguments)]
    pub fn layer_norm_backward(
        &self,
        x: &Storage,
        mean: &Storage,
        rstd: &Storage,
        gamma: &Storage,
        rows: usize,
        d: usize,
    ) -> Result<(Storage, Storage, Storage)> {
        fn split<B: Backend, T: TypedElement>(
            g: LayerNormGrads<B::Buffer<T>>,
        ) -> (Typed<B>, Typed<B>, Typed<B>) {
            (
                T::wrap::<B>(g.dx),
                T::wrap::<B>(g.dgamma),
                T::wrap::<B>(g.dbeta),
            )
        }
        use Storage::Cpu as C;
        let (dx, dgamma, dbeta) = match (self, x, mean, rstd, gamma) {
            (
                C(Typed::F32(dy)),
                C(Typed::F32(x)),
                C(Typed::F32(m)),
                C(Typed::F32(r)),
                C(Typed::F32(g)),
            ) => split::<Cpu, f32>(Cpu.layer_norm_backward(dy, x, m, r, g, rows, d)?),
            (
                C(Typed::F64(dy)),
                C(Typed::F64(x)),
                C(Typed::F64(m)),
                C(Typed::F64(r)),
                C(Typed::F64(g)),
            ) => split::<Cpu, f64>(Cpu.layer_norm_backward(dy, x, m, r, g, rows, d)?),
            (dy, x, ..) => {
                return Err(Error::DType {
                    op: "layer_norm_backward",
                    lhs: dy.dtype(),
                    rhs: x.dtype(),
                })
            }
        };
        Ok((C(dx), C(dgamma), C(dbeta)))
    }
}
