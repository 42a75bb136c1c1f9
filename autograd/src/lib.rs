//! # autograd: reverse-mode differentiation of tensor programs
//!
//! A [`Var`] is a [`Tensor`](tensor::Tensor) that remembers how it was made. Every op on `Var`s
//! computes its value with the tensor crate and, when an input needs a gradient, records a graph
//! node holding the op's backward rule and exactly the tensors that rule needs.
//! [`Var::backward`] walks the nodes from the loss back to the leaves and returns [`Gradients`].
//!
//! - Only inputs that lead to a parameter get gradients; constants cost nothing.
//! - Gradients accumulate when a value is used more than once (fan-out).
//! - Nodes are visited in decreasing creation id: every node is created after its inputs, so
//!   that is a reverse topological order, with no sort and no recursion.
//! - Broadcasting is undone in one place: a gradient of a broadcast shape is summed back to the
//!   input's shape by the backward pass itself, not by each rule.
//! - A node's saved tensors are released as soon as its rule has run.
//! - [`no_grad`] turns recording off; [`Var::detach`] cuts a value out of the graph.
//! - [`gradcheck`] compares every rule with central finite differences in `f64`; [`Op::ALL`]
//!   lists every differentiable op, and the test suite fails when one has no check.
//! - [`Var::custom`] records an op of your own with its backward rule.
//!
//! ```
//! use autograd::Var;
//! use tensor::{DType, Tensor};
//!
//! // L = Σ (w·x + b)² at w = 3, b = 1, x = [1, 2]: dL/dw = Σ 2(wx + b)·x, dL/db = Σ 2(wx + b).
//! let x = Var::constant(Tensor::from_f64s(&[1.0, 2.0], &[2], DType::F64)?);
//! let w = Var::parameter(Tensor::scalar(3.0, DType::F64));
//! let b = Var::parameter(Tensor::scalar(1.0, DType::F64));
//! let loss = x.mul(&w)?.add(&b)?.square()?.sum_all()?;
//! assert_eq!(loss.value().to_scalar()?, 16.0 + 49.0);
//! let grads = loss.backward()?;
//! assert_eq!(grads.get(&w).unwrap().to_scalar()?, 2.0 * 4.0 * 1.0 + 2.0 * 7.0 * 2.0);
//! assert_eq!(grads.get(&b).unwrap().to_scalar()?, 2.0 * 4.0 + 2.0 * 7.0);
//! # Ok::<(), tensor::Error>(())
//! ```
//!
//! `examples/autograd_by_hand.rs` draws a graph and checks it by hand and by finite
//! differences; `examples/custom_op.rs` adds an op.

#![warn(missing_docs)]

mod backward;
mod gradcheck;
mod op;
mod ops;
mod var;

pub use backward::Gradients;
pub use gradcheck::{gradcheck, GradcheckOptions};
pub use op::Op;
pub use ops::loss::one_hot;
pub use var::{is_grad_enabled, live_nodes, no_grad, Var};
