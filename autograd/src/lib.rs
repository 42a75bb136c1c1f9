//! # autograd: reverse-mode differentiation of tensor programs.
