//! Ops defined outside this crate: a value computed with tensor ops plus a backward rule.

use crate::{Op, Var};
use tensor::{Result, Tensor};

impl Var {
    /// Records a user-defined op: `value` is its result, computed by the caller from the values
    /// of `inputs`, and `backward` its rule. Given `g`, the gradient of the result, and which
    /// inputs need a gradient, the rule returns one entry per input: `Some(∂L/∂input)` or `None`
    /// (read as zero). A gradient has its input's dtype and shape, or that shape broadcast; the
    /// backward pass sums a broadcast one back to the input's shape, as it does for the
    /// built-in ops. The node is tagged [`Op::Custom`].
    ///
    /// Nothing is recorded (the result is a constant) under [`no_grad`](crate::no_grad) or when
    /// no input needs a gradient, exactly as for the built-in ops. A rule that returns the wrong
    /// number of gradients, or one of another dtype or of a shape its input's does not
    /// broadcast to, makes [`Var::backward`] fail with an error naming the op.
    ///
    /// `y = x³` with its rule `dx = g·3x²`:
    ///
    /// ```
    /// use autograd::{Op, Var};
    /// use tensor::{DType, Tensor};
    ///
    /// let x = Var::parameter(Tensor::from_f64s(&[1.0, 2.0], &[2], DType::F64)?);
    /// let saved = x.value().clone();
    /// let y = Var::custom(saved.pow_scalar(3.0)?, &[&x], move |g, _| {
    ///     Ok(vec![Some(g.mul(&saved.square()?.mul_scalar(3.0)?)?)])
    /// });
    /// assert_eq!(y.op(), Some(Op::Custom));
    /// let grads = y.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&x).unwrap().to_vec::<f64>()?, [3.0, 12.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    ///
    /// The rule is an `Fn`: [`Var::backward_retain_graph`] may run it more than once, so it
    /// returns clones of what it saved (a `Tensor` clone is a reference count) rather than
    /// moving them out.
    pub fn custom(
        value: Tensor,
        inputs: &[&Var],
        backward: impl Fn(&Tensor, &[bool]) -> Result<Vec<Option<Tensor>>> + Send + 'static,
    ) -> Var {
        Var::record(Op::Custom, value, inputs, backward)
    }
}
