//! # tensor: shapes and operations
//!
//! [`Tensor`] is a cheap handle: a reference-counted [`Storage`] plus a
//! [`Layout`]. Views (reshape of contiguous data, permute, transpose, narrow,
//! broadcast, squeeze, unsqueeze) share the storage and only change the layout; every other op
//! allocates a fresh contiguous result through the device's kernels.
//!
//! Every op validates its arguments and returns [`Result`]; messages name the op and the shapes,
//! e.g. `matmul: [2, 3] x [4, 5]: inner dimensions 3 and 4 differ`. An op along an axis takes
//! the axes a tensor has: a scalar (rank 0) has none, so `sum(&[0])` of one is an error, where
//! PyTorch takes `dim=0` of a 0-d tensor as the tensor itself. The CPU constructors
//! `zeros`, `ones`, `full`, `rand` and `randn` are the exception, for brevity in examples and
//! tests: they panic where their `_on` forms (`zeros_on`, …) return the error.
//!
//! Tensors hold `f32` (training) or `f64` (gradient checks), chosen at run time by [`DType`], on
//! a [`Device`]: the CPU, or an OpenCL device (constructors ending in `_on` take one).
//!
//! ```
//! use tensor::{DType, Tensor};
//!
//! let x = Tensor::arange(0.0, 6.0, 1.0, DType::F32)?.reshape(&[2, 3])?; // [[0, 1, 2], [3, 4, 5]]
//! let xt = x.t()?; // a view: strides [1, 3], no copy
//! assert_eq!(xt.layout().strides(), [1, 3]);
//! assert!(xt.shares_storage_with(&x));
//! let gram = x.matmul(&xt)?; // reads the view through its strides
//! assert_eq!(gram.to_vec::<f32>()?, [5.0, 14.0, 14.0, 50.0]);
//! let centered = x.sub(&x.mean(&[1], true)?)?; // [2, 3] − [2, 1], broadcast
//! assert_eq!(centered.to_vec::<f32>()?, [-1.0, 0.0, 1.0, -1.0, 0.0, 1.0]);
//! let err = x.matmul(&x).unwrap_err();
//! assert_eq!(err.to_string(), "matmul: [2, 3] x [2, 3]: inner dimensions 3 and 2 differ");
//! # Ok::<(), tensor::Error>(())
//! ```
//!
//! The ops by file: `create.rs` (constructors), `view.rs`, `elementwise.rs`, `reduce.rs`,
//! `matmul.rs`, `join.rs` (concat, stack, gathers), `normalize.rs` (softmax, layer norm).
//! `examples/tensors_and_views.rs` walks through layouts and views.

#![warn(missing_docs)]

mod create;
mod display;
mod elementwise;
mod join;
mod matmul;
mod normalize;
mod optim;
mod reduce;
mod tensor;
mod view;

pub use devices::{
    checked_numel, filled_vec, test_devices, transfers, AdamWStep, DType, Device, Element, Error,
    Indices, LayerNormGrads, LayerNormOutput, Result, Transfers, TypedElement,
};
pub use devices::{ops, Layout, Storage};
pub use matmul::matmul_shape;
pub use tensor::Tensor;

/// A seeded random number generator for [`Tensor::rand`] and [`Tensor::randn`].
pub type Rng = rand::rngs::StdRng;

/// A generator seeded with `seed`: the same seed always gives the same numbers.
pub fn rng(seed: u64) -> Rng {
    rand::SeedableRng::seed_from_u64(seed)
}
