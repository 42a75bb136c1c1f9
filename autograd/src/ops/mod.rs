//! The differentiable ops on [`Var`](crate::Var), one file per family. Each op's doc comment
//! gives its forward math and its gradient (`g` is the gradient of the output).

mod custom;
mod elementwise;
mod join;
pub(crate) mod loss;
mod matmul;
mod normalize;
mod reduce;
mod view;
