//! # autograd: reverse-mode differentiation of tensor programs
//!
//! A [`Var`] is a [`Tensor`](tensor::Tensor) that remembers how it was made. Every op on `Var`s
//! computes its value with the tensor crate and, when an input needs a gradient, records a graph
//! node holding the op's backward rule and exactly the tensors that rule needs.
//! [`Var::backward`] walks the nodes from the loss back to the leaves and returns [`Gradients`].
//!
//! - Only inputs that lead to a parameter get gradients; constants cost nothing.
//! - Gradients accumulate when a value is used more than once (fan-out).
//! - Broadcasting is undone in one place: a gradient of a broadcast shape is summed back to the
//!   input's shape by the backward pass itself, not by each rule.
//! - A node's saved tensors are released as soon as its rule has run.
//! - [`no_grad`] turns recording off; [`Var::detach`] cuts a value out of the graph.
//! - [`gradcheck`] compares every rule with central finite differences in `f64`; [`Op::ALL`]
//!   lists every differentiable op, and the test suite fails when one has no check.

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
