//! # devices: where numbers live and how kernels run
//!
//! The bottom of the stack (devices → tensor → autograd → nn → polyvit): flat buffers of `f32`
//! or `f64` on the CPU or an OpenCL device, read through layouts, and the kernels that compute
//! on them. It knows nothing of tensors as values, gradients or layers.
//!
//! - [`Layout`] says how a flat buffer is read as an n-dimensional array (shape, strides, offset).
//! - [`ops`] defines every element-wise and reduction op once: name, scalar function, OpenCL C
//!   (GELU's OpenCL side calls helpers of `opencl/kernels/common.cl` with the same formula).
//! - `Backend` (internal) is the small set of kernels a device provides; `Cpu` is the CPU device,
//!   [`opencl::OpenCl`] an OpenCL device (libOpenCL is loaded at run time).
//!   Fused ops have defaults composed of the primitives (`composed`).
//! - [`Storage`] is a buffer on some [`Device`] of some element type, chosen at run time; it is
//!   the single place where calls are dispatched to a backend and a monomorphized kernel, and the
//!   single door into the kernels, which checks every layout and index against the buffers.
//! - [`transfers`] counts the copies between host and device.
//!
//! ```
//! use devices::ops::{Neg, Sigmoid, UnaryOp};
//! use devices::{Device, Layout, Storage};
//!
//! // A 2×3 row-major matrix steps 3 elements per row; its transpose is the same buffer read
//! // with the strides swapped, and a broadcast row has stride 0.
//! let m = Layout::contiguous(&[2, 3]);
//! assert_eq!(m.strides(), [3, 1]);
//! assert_eq!(m.transpose(0, 1)?.strides(), [1, 3]);
//! assert_eq!(Layout::contiguous(&[3]).broadcast_to(&[2, 3])?.strides(), [0, 1]);
//!
//! // One op, one definition: the CPU runs `apply`, OpenCL compiles the expression.
//! assert_eq!(Sigmoid::apply(0.0f64), 0.5);
//! assert!(Sigmoid::OPENCL.contains("exp"));
//!
//! // Kernels run through Storage, which checks the layout against the buffer first.
//! let buffer = Storage::from_host(&Device::Cpu, &[0.0f32, 1.0, 2.0, 3.0, 4.0, 5.0])?;
//! let column = m.narrow(1, 1, 1)?; // [1, 4]
//! let negated = buffer.unary::<Neg>(&column)?; // a fresh, dense [2, 1] buffer
//! assert_eq!(negated.to_host::<f32>(&Layout::contiguous(&[2, 1]))?, [-1.0, -4.0]);
//! assert!(buffer.unary::<Neg>(&Layout::contiguous(&[7])).is_err(), "7 elements in a buffer of 6");
//! # Ok::<(), devices::Error>(())
//! ```

#![warn(missing_docs)]

mod backend;
mod composed;
mod cpu;
mod device;
mod dtype;
mod erfc;
mod error;
mod host_memory;
mod layout;
pub mod opencl;
pub mod ops;
mod storage;
mod transfers;

use backend::Backend;
use cpu::Cpu;

pub use backend::{AdamWStep, LayerNormGrads, LayerNormOutput};
pub use cpu::on_compute_thread;
pub use device::{test_devices, Device};
pub use dtype::{DType, Element};
pub use error::{Error, Result};
pub use host_memory::filled_vec;
pub use layout::{broadcast_shapes, checked_numel, contiguous_strides, shape_str, Layout, Walk};
pub use storage::{Indices, Storage, TypedElement};
pub use transfers::{transfers, Transfers};
