//! Dropout and stochastic depth.

use crate::{Context, Module, Parameter, Parameters};
use autograd::Var;
use tensor::{Result, Tensor};

/// Zeroes each element with probability `rate` during training and scales the survivors by
/// `1/(1 − rate)`, so the expected value is unchanged; the identity in evaluation.
pub struct Dropout {
    pub rate: f64,
}

impl Parameters for Dropout {
    fn visit<'a>(&'a self, _: &str, _: &mut dyn FnMut(&str, &'a Parameter)) {}
    fn visit_mut(&mut self, _: &str, _: &mut dyn FnMut(&str, &mut Parameter)) {}
}

/// A mask of `shape` holding `1/keep` with probability `keep`, else 0.
fn keep_mask(shape: &[usize], keep: f64, like: &Tensor, ctx: &mut Context) -> Result<Tensor> {
    if keep <= 0.0 {
        // Everything is dropped; `1/keep` would turn the mask into 0·∞ = NaN.
        return Tensor::zeros_on(shape, like.dtype(), &like.device());
    }
    // Drawn on the host (the same numbers on every device) and uploaded once per layer.
    let uniform = Tensor::rand_on(shape, 0.0, 1.0, like.dtype(), &like.device(), &mut ctx.rng)?;
    uniform.lt_scalar(keep)?.mul_scalar(1.0 / keep)
}

impl Module for Dropout {
    fn forward(&self, x: &Var, ctx: &mut Context) -> Result<Var> {
        if !ctx.train || self.rate == 0.0 {
            return Ok(x.clone());
        }
        let mask = keep_mask(x.shape(), 1.0 - self.rate, x.value(), ctx)?;
        x.mul(&Var::constant(mask))
    }
}

/// Stochastic depth: during training, drops the whole residual branch `x` of each example (axis 0)
/// with probability `rate`, scaling kept ones by `1/(1 − rate)`; the identity in evaluation.
pub fn drop_path(x: &Var, rate: f64, ctx: &mut Context) -> Result<Var> {
    if !ctx.train || rate == 0.0 {
        return Ok(x.clone());
    }
    let mut shape = vec![1; x.rank()];
    shape[0] = x.shape()[0];
    let mask = keep_mask(&shape, 1.0 - rate, x.value(), ctx)?;
    x.mul(&Var::constant(mask))
}
