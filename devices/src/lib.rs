//! # devices: where numbers live and how kernels run
//!
//! - [`Layout`] says how a flat buffer is read as an n-dimensional array (shape, strides, offset).
//! - [`ops`] defines every element-wise and reduction op once: name, scalar function, OpenCL C.
//! - [`Backend`] is the small set of kernels a device must provide; [`Cpu`] is the CPU device.
//! - [`Storage`] is a buffer on some device of some element type, chosen at run time; it is the
//!   single place where calls are dispatched to a backend and a monomorphized kernel.

mod backend;
pub mod cpu;
mod dtype;
mod error;
mod layout;
pub mod ops;
mod storage;

pub use backend::{Backend, LayerNormGrads, LayerNormOutput};
pub use cpu::Cpu;
pub use dtype::{DType, Element};
pub use error::{Error, Result};
pub use layout::{broadcast_shapes, contiguous_strides, shape_str, Layout, Walk};
pub use storage::{Device, Storage, Typed, TypedElement};
