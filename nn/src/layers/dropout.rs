//! Dropout and stochastic depth.

use crate::hyperparameter::check_range;
use crate::{BatchRows, Context, Module, Parameter, Parameters};
use autograd::Var;
use tensor::{Error, Result, Tensor};

/// Zeroes each element with probability `rate` during training and scales the survivors by
/// `1/(1 − rate)`, so the expected value is unchanged; the identity in evaluation.
///
/// ```
/// use autograd::Var;
/// use nn::layers::{drop_path, Dropout};
/// use nn::{Context, Module};
/// use tensor::{DType, Tensor};
/// let dropout = Dropout { rate: 0.5 };
/// let x = Var::constant(Tensor::ones(&[1000], DType::F32));
/// let y = dropout.forward(&x, &mut Context::train(0))?.value().to_vec_f64()?;
/// assert!(y.iter().all(|&v| v == 0.0 || v == 2.0), "dropped, or kept and scaled by 2");
/// let kept = y.iter().filter(|&&v| v == 2.0).count();
/// assert!((400..600).contains(&kept), "about half are kept: {kept}");
/// let same = dropout.forward(&x, &mut Context::eval())?;
/// assert_eq!(same.value().to_vec_f64()?, vec![1.0; 1000]);
/// # Ok::<(), tensor::Error>(())
/// ```
pub struct Dropout {
    /// The probability of dropping an element, in `[0, 1]`.
    pub rate: f64,
}

impl Parameters for Dropout {
    fn visit<'a>(&'a self, _: &str, _: &mut dyn FnMut(&str, &'a Parameter)) {}
    fn visit_mut(&mut self, _: &str, _: &mut dyn FnMut(&str, &mut Parameter)) {}
}

/// A mask of `shape` holding `1/keep` with probability `keep`, else 0. With
/// `ctx.batch_rows`, axis 0 of `shape` covers those rows of the batch (each row one or more
/// entries of it): the mask of the whole batch is drawn and those rows of it kept.
fn keep_mask(shape: &[usize], keep: f64, like: &Tensor, ctx: &mut Context) -> Result<Tensor> {
    if keep <= 0.0 {
        // Everything is dropped; `1/keep` would turn the mask into 0·∞ = NaN.
        return Tensor::zeros_on(shape, like.dtype(), &like.device());
    }
    // Drawn on the host (the same numbers on every device) and uploaded once per layer.
    let mut draw = |shape: &[usize]| {
        Tensor::rand_on(shape, 0.0, 1.0, like.dtype(), &like.device(), &mut ctx.rng)
    };
    let uniform = match ctx.batch_rows.clone() {
        None => draw(shape)?,
        Some(BatchRows { rows, batch }) => {
            let Some(&entries) = shape.first() else {
                return Err(Error::shape(
                    "dropout",
                    format!("a scalar has no batch axis to hold rows {rows:?} of a batch"),
                ));
            };
            if rows.is_empty() || entries % rows.len() != 0 || rows.end > batch {
                return Err(Error::shape(
                    "dropout",
                    format!("a mask of shape {shape:?} does not fit rows {rows:?} of a batch of {batch}"),
                ));
            }
            let per_row = entries / rows.len();
            let mut whole = shape.to_vec();
            whole[0] = batch * per_row;
            draw(&whole)?.narrow(0, rows.start * per_row, entries)?
        }
    };
    uniform.lt_scalar(keep)?.mul_scalar(1.0 / keep)
}

/// An error unless `rate`, the drop probability of `op`, lies in `[0, 1]` (a rate of −0.1 would
/// scale every activation by 1/1.1 and drop none; one above 1 would drop everything).
pub(crate) fn check_rate(op: &'static str, rate: f64) -> Result<()> {
    check_range(op, "rate", rate, 0.0..=1.0)
}

impl Module for Dropout {
    fn forward(&self, x: &Var, ctx: &mut Context) -> Result<Var> {
        check_rate("dropout", self.rate)?;
        if !ctx.train || self.rate == 0.0 {
            return Ok(x.clone());
        }
        let mask = keep_mask(x.shape(), 1.0 - self.rate, x.value(), ctx)?;
        x.mul(&Var::constant(mask))
    }
}

/// Stochastic depth: during training, drops the whole residual branch `x` of each example (axis 0)
/// with probability `rate`, scaling kept ones by `1/(1 − rate)`; the identity in evaluation.
///
/// ```
/// use autograd::Var;
/// use nn::layers::{drop_path, Dropout};
/// use nn::{Context, Module};
/// use tensor::{DType, Tensor};
/// // 64 examples of 3 features each: every example's branch is kept whole or dropped whole.
/// let branch = Var::constant(Tensor::ones(&[64, 3], DType::F32));
/// let y = drop_path(&branch, 0.25, &mut Context::train(1))?.value().to_vec_f64()?;
/// for row in y.chunks(3) {
///     assert!(row == [0.0; 3] || row.iter().all(|&v| (v - 4.0 / 3.0).abs() < 1e-6), "{row:?}");
/// }
/// assert!(y.contains(&0.0) && y.iter().any(|&v| v > 1.0));
/// # Ok::<(), tensor::Error>(())
/// ```
pub fn drop_path(x: &Var, rate: f64, ctx: &mut Context) -> Result<Var> {
    check_rate("drop_path", rate)?;
    if !ctx.train || rate == 0.0 {
        return Ok(x.clone());
    }
    let Some(&examples) = x.shape().first() else {
        return Err(Error::shape(
            "drop_path",
            "a scalar has no example axis to drop along",
        ));
    };
    let mut shape = vec![1; x.rank()];
    shape[0] = examples;
    let mask = keep_mask(&shape, 1.0 - rate, x.value(), ctx)?;
    x.mul(&Var::constant(mask))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The masks of a batch's rows, drawn in pieces, are those of the whole batch.
    #[test]
    fn masks_of_batch_rows_are_rows_of_the_whole_batch_mask() {
        let x = Var::constant(Tensor::ones(&[5, 2, 3], tensor::DType::F32));
        let dropout = Dropout { rate: 0.5 };
        let whole = dropout.forward(&x, &mut Context::train(7)).unwrap();
        let whole = whole.value().to_vec::<f32>().unwrap();
        let mut pieces = Vec::new();
        for rows in [0..2, 2..5] {
            let mut ctx = Context::train(7);
            ctx.batch_rows = Some(BatchRows {
                rows: rows.clone(),
                batch: 5,
            });
            let part = Var::constant(Tensor::ones(&[rows.len(), 2, 3], tensor::DType::F32));
            let y = dropout.forward(&part, &mut ctx).unwrap();
            pieces.extend(y.value().to_vec::<f32>().unwrap());
        }
        assert_eq!(pieces, whole);
        assert!(whole.contains(&0.0) && whole.contains(&2.0));
        // Rows folded with their tokens (axis 0 = rows × tokens) split alike.
        let folded = Var::constant(Tensor::ones(&[2 * 3, 4], tensor::DType::F32));
        let mut ctx = Context::train(1);
        ctx.batch_rows = Some(BatchRows {
            rows: 1..3,
            batch: 4,
        });
        assert_eq!(dropout.forward(&folded, &mut ctx).unwrap().shape(), &[6, 4]);
        ctx.batch_rows = Some(BatchRows {
            rows: 0..4,
            batch: 4,
        });
        let err = dropout
            .forward(&folded, &mut ctx)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("[6, 4]") && err.contains("0..4"), "{err}");
    }

    /// A scalar has no batch axis: an error, not an index out of bounds.
    #[test]
    fn a_scalar_has_no_rows_to_drop() {
        let x = Var::constant(Tensor::ones(&[], tensor::DType::F32));
        let err = drop_path(&x, 0.5, &mut Context::train(0)).err().unwrap();
        assert!(err.to_string().contains("no example axis"), "{err}");
        let mut ctx = Context::train(0);
        ctx.batch_rows = Some(BatchRows {
            rows: 0..1,
            batch: 2,
        });
        let err = Dropout { rate: 0.5 }.forward(&x, &mut ctx).err().unwrap();
        assert!(err.to_string().contains("no batch axis"), "{err}");
    }
}
