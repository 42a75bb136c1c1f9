//! # devices: where numbers live and how kernels run
//!
//! - [`Layout`] says how a flat buffer is read as an n-dimensional array (shape, strides, offset).
//! - [`ops`] defines every element-wise and reduction op once: name, scalar function, OpenCL C.
//! - `Backend` (internal) is the small set of kernels a device provides; `Cpu` is the CPU device,
//!   [`opencl::OpenCl`] an OpenCL device (libOpenCL is loaded at run time).
//!   Fused ops have defaults composed of the primitives (`composed`).
//! - [`Storage`] is a buffer on some [`Device`] of some element type, chosen at run time; it is
//!   the single place where calls are dispatched to a backend and a monomorphized kernel, and the
//!   single door into the kernels, which checks every layout and index against the buffers.
//! - [`transfers`] counts the copies between host and device.

mod backend;
mod composed;
mod cpu;
mod dtype;
mod error;
mod layout;
pub mod opencl;
pub mod ops;
mod storage;
mod transfers;

use backend::Backend;
use cpu::Cpu;

pub use backend::{LayerNormGrads, LayerNormOutput};
pub use cpu::pooled_bytes;
pub use dtype::{DType, Element};
pub use error::{Error, Result};
pub use layout::{broadcast_shapes, checked_numel, contiguous_strides, shape_str, Layout, Walk};
pub use storage::{test_devices, Device, Indices, Storage, TypedElement};
pub use transfers::{transfers, Transfers};
