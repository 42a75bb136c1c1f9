//! # tensor: shapes and operations
//!
//! [`Tensor`] is a cheap handle: a reference-counted [`Storage`](devices::Storage) plus a
//! [`Layout`](devices::Layout). Views (reshape of contiguous data, permute, transpose, narrow,
//! broadcast, squeeze, unsqueeze) share the storage and only change the layout; every other op
//! allocates a fresh contiguous result through the device's kernels.
//!
//! Every op validates its arguments and returns [`Result`]; messages name the op and the shapes,
//! e.g. `matmul: [2, 3] x [4, 5]: inner dimensions 3 and 4 differ`.

mod create;
mod display;
mod elementwise;
mod join;
mod matmul;
mod normalize;
mod reduce;
mod tensor;
mod view;

pub use devices::{
    test_devices, transfers, DType, Device, Element, Error, Indices, Result, Transfers,
};
pub use normalize::LayerNormStats;
pub use tensor::Tensor;

/// A seeded random number generator for [`Tensor::rand`] and [`Tensor::randn`].
pub type Rng = rand::rngs::StdRng;

/// A generator seeded with `seed`: the same seed always gives the same numbers.
pub fn rng(seed: u64) -> Rng {
    rand::SeedableRng::seed_from_u64(seed)
}
