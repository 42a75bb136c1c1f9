//! Element-wise ops and their derivatives.

use crate::{Op, Var};
use tensor::{Result, Tensor};

/// Defines a unary op `y = f(x)` whose gradient is `g · f'(x)`, with `f'` written in terms of
/// either the saved input (`input x`) or the saved output (`output y`): only that one tensor is
/// kept for the backward pass.
macro_rules! unary {
    ($($(#[$doc:meta])* $method:ident, $op:ident, |$saves:ident $v:ident| $derivative:expr;)*) => {
        impl Var {
            $(
                $(#[$doc])*
                pub fn $method(&self) -> Result<Var> {
                    let value = self.value().$method()?;
                    let $v = unary!(@saved $saves, self.value(), &value);
                    Ok(Var::record(Op::$op, value, &[self], move |g, _| {
                        let derivative: Result<Tensor> = $derivative;
                        Ok(vec![Some(g.mul(&derivative?)?)])
                    }))
                }
            )*
        }
    };
    (@saved input, $x:expr, $y:expr) => { $x.clone() };
    (@saved output, $x:expr, $y:expr) => { $y.clone() };
}

unary! {
    /// `y = eˣ`; `dx = g·y`.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let x = Var::parameter(Tensor::from_f64s(&[0.0, 1.0], &[2], DType::F64)?);
    /// let y = x.exp()?;
    /// let grads = y.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&x).unwrap().to_vec_f64()?, y.value().to_vec_f64()?); // dx = y
    /// # Ok::<(), tensor::Error>(())
    /// ```
    exp, Exp, |output y| Ok(y.clone());
    /// `y = ln x`; `dx = g/x`.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let x = Var::parameter(Tensor::from_f64s(&[1.0, 4.0], &[2], DType::F64)?);
    /// let y = x.log()?;
    /// assert_eq!(y.value().to_vec_f64()?[0], 0.0);
    /// let grads = y.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&x).unwrap().to_vec_f64()?, [1.0, 0.25]); // 1/x
    /// # Ok::<(), tensor::Error>(())
    /// ```
    log, Log, |input x| x.recip();
    /// `y = √x`; `dx = g/(2y)`.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let x = Var::parameter(Tensor::from_f64s(&[1.0, 4.0], &[2], DType::F64)?);
    /// let y = x.sqrt()?;
    /// assert_eq!(y.value().to_vec_f64()?, [1.0, 2.0]);
    /// let grads = y.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&x).unwrap().to_vec_f64()?, [0.5, 0.25]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    sqrt, Sqrt, |output y| y.mul_scalar(2.0)?.recip();
    /// `y = tanh x`; `dx = g·(1 − y²)`.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let x = Var::parameter(Tensor::from_f64s(&[0.0, 1.0], &[2], DType::F64)?);
    /// let y = x.tanh()?;
    /// let t = y.value().to_vec_f64()?;
    /// let grads = y.sum_all()?.backward()?;
    /// let dx = grads.get(&x).unwrap().to_vec_f64()?;
    /// assert_eq!(dx[0], 1.0);
    /// assert!((dx[1] - (1.0 - t[1] * t[1])).abs() < 1e-12);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    tanh, Tanh, |output y| y.square()?.neg()?.add_scalar(1.0);
    /// `y = |x|`; `dx = g·sign(x)` (0 at 0).
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let x = Var::parameter(Tensor::from_f64s(&[-2.0, 3.0], &[2], DType::F64)?);
    /// let y = x.abs()?;
    /// assert_eq!(y.value().to_vec_f64()?, [2.0, 3.0]);
    /// let grads = y.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&x).unwrap().to_vec_f64()?, [-1.0, 1.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    abs, Abs, |input x| x.sign();
    /// `y = 1/x`; `dx = −g·y²`.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let x = Var::parameter(Tensor::from_f64s(&[2.0, -0.5], &[2], DType::F64)?);
    /// let y = x.recip()?;
    /// assert_eq!(y.value().to_vec_f64()?, [0.5, -2.0]);
    /// let grads = y.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&x).unwrap().to_vec_f64()?, [-0.25, -4.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    recip, Recip, |output y| y.square()?.neg();
    /// `y = σ(x) = 1/(1 + e⁻ˣ)`; `dx = g·y(1 − y)`.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let x = Var::parameter(Tensor::from_f64s(&[0.0], &[1], DType::F64)?);
    /// let y = x.sigmoid()?;
    /// assert_eq!(y.value().to_vec_f64()?, [0.5]);
    /// let grads = y.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&x).unwrap().to_vec_f64()?, [0.25]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    sigmoid, Sigmoid, |output y| y.mul(&y.neg()?.add_scalar(1.0)?);
    /// `y = ln(1 + eˣ)`; `dx = g·σ(x)`.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let x = Var::parameter(Tensor::from_f64s(&[0.0], &[1], DType::F64)?);
    /// let y = x.softplus()?;
    /// assert!((y.value().to_scalar()? - 2f64.ln()).abs() < 1e-12);
    /// let grads = y.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&x).unwrap().to_vec_f64()?, [0.5]); // σ(0)
    /// # Ok::<(), tensor::Error>(())
    /// ```
    softplus, Softplus, |input x| x.sigmoid();
    /// `y = sin x`; `dx = g·cos x`.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let x = Var::parameter(Tensor::from_f64s(&[0.0, std::f64::consts::PI], &[2], DType::F64)?);
    /// let grads = x.sin()?.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&x).unwrap().to_vec_f64()?, [1.0, -1.0]); // cos x
    /// # Ok::<(), tensor::Error>(())
    /// ```
    sin, Sin, |input x| x.cos();
    /// `y = cos x`; `dx = −g·sin x`.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let x = Var::parameter(Tensor::from_f64s(&[0.0, std::f64::consts::FRAC_PI_2], &[2], DType::F64)?);
    /// let grads = x.cos()?.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&x).unwrap().to_vec_f64()?, [-0.0, -1.0]); // −sin x
    /// # Ok::<(), tensor::Error>(())
    /// ```
    cos, Cos, |input x| x.sin()?.neg();
}

impl Var {
    /// `y = ½x(1 + tanh(u))`, `u = √(2/π)(x + 0.044715x³)` (the tanh form of GELU);
    /// `dx = g·(½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²))` with `t = tanh u`, computed in
    /// one fused pass.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let x = Var::parameter(Tensor::from_f64s(&[0.0], &[1], DType::F64)?);
    /// let y = x.gelu()?;
    /// assert_eq!(y.value().to_vec_f64()?, [0.0]);
    /// let grads = y.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&x).unwrap().to_vec_f64()?, [0.5]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn gelu(&self) -> Result<Var> {
        let x = self.value().clone();
        Ok(Var::record(Op::Gelu, x.gelu()?, &[self], move |g, _| {
            Ok(vec![Some(x.gelu_backward(g)?)])
        }))
    }

    /// `y = x·Φ(x) = ½x·erfc(−x/√2)` (the exact GELU, as `torch.nn.GELU()` and timm's ViTs);
    /// `dx = g·(Φ(x) + x·φ(x))` with `φ(x) = e^{−x²/2}/√(2π)`, computed in one fused pass.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let x = Var::parameter(Tensor::from_f64s(&[0.0, 3.0], &[2], DType::F64)?);
    /// let y = x.gelu_erf()?;
    /// assert_eq!(y.value().to_vec_f64()?[0], 0.0);
    /// let grads = y.sum_all()?.backward()?;
    /// let dx = grads.get(&x).unwrap().to_vec_f64()?;
    /// assert_eq!(dx[0], 0.5);
    /// assert!((dx[1] - 1.011_945_6).abs() < 1e-7); // Φ(3) + 3φ(3)
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn gelu_erf(&self) -> Result<Var> {
        let x = self.value().clone();
        Ok(Var::record(
            Op::GeluErf,
            x.gelu_erf()?,
            &[self],
            move |g, _| Ok(vec![Some(x.gelu_erf_backward(g)?)]),
        ))
    }

    /// `y = max(x, 0)`, NaN kept; `dx = g·[y ≠ 0]`: `g` where `x > 0`, and where `x` is NaN (as
    /// PyTorch's backward does), 0 elsewhere, even where `g` is infinite or NaN (a `√y` or `1/y`
    /// above: PyTorch's 0, not `0·∞ = NaN`).
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let x = Var::parameter(Tensor::from_f64s(&[-1.0, 2.0, f64::NAN], &[3], DType::F64)?);
    /// let y = x.relu()?;
    /// assert_eq!(y.value().to_vec_f64()?[..2], [0.0, 2.0]);
    /// assert!(y.value().to_vec_f64()?[2].is_nan());
    /// let grads = y.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&x).unwrap().to_vec_f64()?, [0.0, 1.0, 1.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn relu(&self) -> Result<Var> {
        let y = self.value().relu()?;
        let saved = y.clone();
        Ok(Var::record(Op::Relu, y, &[self], move |g, _| {
            Ok(vec![Some(saved.ne_scalar(0.0)?.zero_safe_mul(g)?)])
        }))
    }

    /// `y = min(max(x, min), max)`; `dx = g·[min < x < max]`: 0 at the bounds themselves and
    /// where `x` is NaN, as PyTorch 2.15's (see [`Tensor::clamp`]). Outside the range `dx` is 0
    /// whatever `g` is, also an infinite or NaN `g` (from a `sqrt` or `1/x` after the clamp).
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let x = Var::parameter(Tensor::from_f64s(&[-2.0, 0.5, 1.0, 3.0], &[4], DType::F64)?);
    /// let y = x.clamp(-1.0, 1.0)?;
    /// assert_eq!(y.value().to_vec_f64()?, [-1.0, 0.5, 1.0, 1.0]);
    /// let grads = y.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&x).unwrap().to_vec_f64()?, [0.0, 1.0, 0.0, 0.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn clamp(&self, min: f64, max: f64) -> Result<Var> {
        let x = self.value().clone();
        Ok(Var::record(
            Op::Clamp,
            x.clamp(min, max)?,
            &[self],
            move |g, _| {
                let inside = x.gt_scalar(min)?.mul(&x.lt_scalar(max)?)?;
                Ok(vec![Some(inside.zero_safe_mul(g)?)])
            },
        ))
    }

    /// `z = on_true` where `condition ≠ 0`, `on_false` where it is 0 (see
    /// [`Tensor::where_cond`]); `d on_true = g·[condition ≠ 0]`, `d on_false = g·[condition = 0]`,
    /// each summed over the axes it was broadcast along; the side not taken gets 0, even where
    /// `g` is infinite or NaN (as PyTorch's). The condition is a constant.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let condition = Tensor::from_f64s(&[1.0, 0.0, 1.0], &[3], DType::F64)?;
    /// let a = Var::parameter(Tensor::from_f64s(&[1.0, 2.0, 3.0], &[3], DType::F64)?);
    /// let b = Var::parameter(Tensor::from_f64s(&[-1.0], &[1], DType::F64)?);
    /// let z = Var::where_cond(&condition, &a, &b)?;
    /// assert_eq!(z.value().to_vec_f64()?, [1.0, -1.0, 3.0]);
    /// let grads = z.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&a).unwrap().to_vec_f64()?, [1.0, 0.0, 1.0]);
    /// assert_eq!(grads.get(&b).unwrap().to_vec_f64()?, [1.0]); // one pick, broadcast
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn where_cond(condition: &Tensor, on_true: &Var, on_false: &Var) -> Result<Var> {
        let value = condition.where_cond(on_true.value(), on_false.value())?;
        let (take_true, take_false) = condition.where_masks()?;
        Ok(Var::record(
            Op::WhereCond,
            value,
            &[on_true, on_false],
            move |g, needs| {
                Ok(vec![
                    needs[0].then(|| take_true.zero_safe_mul(g)).transpose()?,
                    needs[1].then(|| take_false.zero_safe_mul(g)).transpose()?,
                ])
            },
        ))
    }

    /// The upper triangle of the last two axes, 0 below (see [`Tensor::triu`]), as a
    /// [`Var::where_cond`] against zeros: `dx = g` in the triangle, 0 outside it.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let x = Var::parameter(Tensor::ones(&[2, 2], DType::F64));
    /// let grads = x.triu(0)?.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&x).unwrap().to_vec_f64()?, [1.0, 1.0, 0.0, 1.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn triu(&self, diagonal: i64) -> Result<Var> {
        let keep = self.value().triangle_mask("triu", diagonal, true)?;
        Var::where_cond(&keep, self, &Var::constant(self.value().zeros_like()?))
    }

    /// The lower triangle of the last two axes, 0 above (see [`Tensor::tril`]); `dx = g` in the
    /// triangle, 0 outside it.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let x = Var::parameter(Tensor::ones(&[2, 2], DType::F64));
    /// let grads = x.tril(0)?.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&x).unwrap().to_vec_f64()?, [1.0, 0.0, 1.0, 1.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn tril(&self, diagonal: i64) -> Result<Var> {
        let keep = self.value().triangle_mask("tril", diagonal, false)?;
        Var::where_cond(&keep, self, &Var::constant(self.value().zeros_like()?))
    }

    /// `y = −x`; `dx = −g`.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let x = Var::parameter(Tensor::from_f64s(&[1.0, -2.0], &[2], DType::F64)?);
    /// let y = x.neg()?;
    /// assert_eq!(y.value().to_vec_f64()?, [-1.0, 2.0]);
    /// let grads = y.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&x).unwrap().to_vec_f64()?, [-1.0, -1.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn neg(&self) -> Result<Var> {
        Ok(Var::record(
            Op::Neg,
            self.value().neg()?,
            &[self],
            |g, _| Ok(vec![Some(g.neg()?)]),
        ))
    }

    /// `y = xᵖ` for a constant `p`; `dx = g·p·xᵖ⁻¹`, and `dx = 0` for `p = 0` (`y ≡ 1`), even
    /// at `x = 0` where `0·x⁻¹` would be NaN and where `g` is infinite (as [`Var::pow`] and
    /// PyTorch).
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let x = Var::parameter(Tensor::from_f64s(&[2.0, 3.0], &[2], DType::F64)?);
    /// let y = x.pow_scalar(3.0)?;
    /// assert_eq!(y.value().to_vec_f64()?, [8.0, 27.0]);
    /// let grads = y.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&x).unwrap().to_vec_f64()?, [12.0, 27.0]); // 3x²
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn pow_scalar(&self, p: f64) -> Result<Var> {
        let x = self.value().clone();
        Ok(Var::record(
            Op::PowScalar,
            x.pow_scalar(p)?,
            &[self],
            move |g, _| {
                if p == 0.0 {
                    return Ok(vec![Some(x.zeros_like()?)]);
                }
                Ok(vec![Some(g.mul(&x.pow_scalar(p - 1.0)?.mul_scalar(p)?)?)])
            },
        ))
    }

    /// `y = x·x` (the product of `x` with itself, correctly rounded as [`Tensor::square`], where
    /// `pow` may be a few ulps off); `dx = 2·g·x`, one `g·x` through each operand.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let x = Var::parameter(Tensor::from_f64s(&[3.0, -1.0], &[2], DType::F64)?);
    /// let y = x.square()?;
    /// assert_eq!(y.value().to_vec_f64()?, [9.0, 1.0]);
    /// let grads = y.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&x).unwrap().to_vec_f64()?, [6.0, -2.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn square(&self) -> Result<Var> {
        self.mul(self)
    }

    /// `y = x + c`; `dx = g`.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let x = Var::parameter(Tensor::from_f64s(&[1.0, 2.0], &[2], DType::F64)?);
    /// let y = x.add_scalar(10.0)?;
    /// assert_eq!(y.value().to_vec_f64()?, [11.0, 12.0]);
    /// let grads = y.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&x).unwrap().to_vec_f64()?, [1.0, 1.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn add_scalar(&self, c: f64) -> Result<Var> {
        Ok(Var::record(
            Op::AddScalar,
            self.value().add_scalar(c)?,
            &[self],
            |g, _| Ok(vec![Some(g.clone())]),
        ))
    }

    /// `y = x − c` (as [`Var::add_scalar`] of `−c`: the same value, bit for bit); `dx = g`.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let x = Var::parameter(Tensor::from_f64s(&[1.0, 2.0], &[2], DType::F64)?);
    /// assert_eq!(x.sub_scalar(0.5)?.value().to_vec_f64()?, [0.5, 1.5]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn sub_scalar(&self, c: f64) -> Result<Var> {
        self.add_scalar(-c)
    }

    /// `y = x / c` (a division, which `x·(1/c)` would round differently); `dx = g / c`.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let x = Var::parameter(Tensor::from_f64s(&[1.0, 3.0], &[2], DType::F64)?);
    /// let y = x.div_scalar(3.0)?;
    /// assert_eq!(y.value().to_vec_f64()?, [1.0 / 3.0, 1.0]);
    /// let grads = y.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&x).unwrap().to_vec_f64()?, [1.0 / 3.0; 2]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn div_scalar(&self, c: f64) -> Result<Var> {
        Ok(Var::record(
            Op::DivScalar,
            self.value().div_scalar(c)?,
            &[self],
            move |g, _| Ok(vec![Some(g.div_scalar(c)?)]),
        ))
    }

    /// `y = c·x`; `dx = c·g`.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let x = Var::parameter(Tensor::from_f64s(&[1.0, 2.0], &[2], DType::F64)?);
    /// let y = x.mul_scalar(3.0)?;
    /// assert_eq!(y.value().to_vec_f64()?, [3.0, 6.0]);
    /// let grads = y.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&x).unwrap().to_vec_f64()?, [3.0, 3.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn mul_scalar(&self, c: f64) -> Result<Var> {
        Ok(Var::record(
            Op::MulScalar,
            self.value().mul_scalar(c)?,
            &[self],
            move |g, _| Ok(vec![Some(g.mul_scalar(c)?)]),
        ))
    }

    /// `z = a + b` (broadcasting); `da = g`, `db = g` (summed back over broadcast axes).
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let a = Var::parameter(Tensor::from_f64s(&[1.0, 2.0, 3.0, 4.0], &[2, 2], DType::F64)?);
    /// let b = Var::parameter(Tensor::from_f64s(&[10.0, 20.0], &[2], DType::F64)?);
    /// let z = a.add(&b)?; // b is broadcast over a's two rows
    /// assert_eq!(z.value().to_vec_f64()?, [11.0, 22.0, 13.0, 24.0]);
    /// let grads = z.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&a).unwrap().to_vec_f64()?, [1.0; 4]);
    /// assert_eq!(grads.get(&b).unwrap().to_vec_f64()?, [2.0, 2.0]); // summed over the rows
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn add(&self, other: &Var) -> Result<Var> {
        let value = self.value().add(other.value())?;
        Ok(Var::record(Op::Add, value, &[self, other], |g, _| {
            Ok(vec![Some(g.clone()), Some(g.clone())])
        }))
    }

    /// `z = a − b`; `da = g`, `db = −g`.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let a = Var::parameter(Tensor::from_f64s(&[5.0, 1.0], &[2], DType::F64)?);
    /// let b = Var::parameter(Tensor::from_f64s(&[2.0, 2.0], &[2], DType::F64)?);
    /// let z = a.sub(&b)?;
    /// assert_eq!(z.value().to_vec_f64()?, [3.0, -1.0]);
    /// let grads = z.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&a).unwrap().to_vec_f64()?, [1.0, 1.0]);
    /// assert_eq!(grads.get(&b).unwrap().to_vec_f64()?, [-1.0, -1.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn sub(&self, other: &Var) -> Result<Var> {
        let value = self.value().sub(other.value())?;
        Ok(Var::record(Op::Sub, value, &[self, other], |g, needs| {
            Ok(vec![
                Some(g.clone()),
                needs[1].then(|| g.neg()).transpose()?,
            ])
        }))
    }

    /// `z = a·b`; `da = g·b`, `db = g·a`.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let a = Var::parameter(Tensor::from_f64s(&[2.0, 3.0], &[2], DType::F64)?);
    /// let b = Var::parameter(Tensor::from_f64s(&[4.0, 5.0], &[2], DType::F64)?);
    /// let z = a.mul(&b)?;
    /// assert_eq!(z.value().to_vec_f64()?, [8.0, 15.0]);
    /// let grads = z.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&a).unwrap().to_vec_f64()?, [4.0, 5.0]); // b
    /// assert_eq!(grads.get(&b).unwrap().to_vec_f64()?, [2.0, 3.0]); // a
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn mul(&self, other: &Var) -> Result<Var> {
        let (a, b) = (self.value().clone(), other.value().clone());
        let value = a.mul(&b)?;
        Ok(Var::record(
            Op::Mul,
            value,
            &[self, other],
            move |g, needs| {
                Ok(vec![
                    needs[0].then(|| g.mul(&b)).transpose()?,
                    needs[1].then(|| g.mul(&a)).transpose()?,
                ])
            },
        ))
    }

    /// `z = a/b`; `da = g/b`, `db = −g·a/b²`, computed as `−g·(z/b)` (PyTorch's order), so
    /// that `b²` cannot overflow or underflow where the gradient itself is representable
    /// (`a = 10⁻³⁰`, `b = 10⁻²⁵` in f32: `db = −10²⁰`, not `−∞`).
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let a = Var::parameter(Tensor::from_f64s(&[1.0, 6.0], &[2], DType::F64)?);
    /// let b = Var::parameter(Tensor::from_f64s(&[2.0, 4.0], &[2], DType::F64)?);
    /// let z = a.div(&b)?;
    /// assert_eq!(z.value().to_vec_f64()?, [0.5, 1.5]);
    /// let grads = z.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&a).unwrap().to_vec_f64()?, [0.5, 0.25]); // 1/b
    /// assert_eq!(grads.get(&b).unwrap().to_vec_f64()?, [-0.25, -0.375]); // −a/b²
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn div(&self, other: &Var) -> Result<Var> {
        let b = other.value().clone();
        let z = self.value().div(&b)?;
        Ok(Var::record(
            Op::Div,
            z.clone(),
            &[self, other],
            move |g, needs| {
                let da = needs[0].then(|| g.div(&b)).transpose()?;
                let db = needs[1].then(|| g.mul(&z.div(&b)?)?.neg()).transpose()?;
                Ok(vec![da, db])
            },
        ))
    }

    /// `z = aᵇ`; `da = g·b·aᵇ⁻¹`, `db = g·aᵇ·ln a`, with these values where those products are
    /// `0·∞`: `da = 0` wherever `b = 0` (`a⁰ = 1` does not depend on `a`, not even at `a = 0`),
    /// whatever `g` is, and `db = g·0` where `aᵇ = 0`: at `a = 0` with `b ≥ 0` (`0ᵇ = 0` for
    /// every `b > 0`; at `b = 0` the limit from above), as PyTorch's, and at `a = ∞` with
    /// `b < 0`, where PyTorch gives NaN; NaN under an infinite `g`, as in PyTorch.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let a = Var::parameter(Tensor::from_f64s(&[2.0, 3.0, 0.0, 0.0], &[4], DType::F64)?);
    /// let b = Var::parameter(Tensor::from_f64s(&[3.0, 2.0, 0.0, 2.0], &[4], DType::F64)?);
    /// let z = a.pow(&b)?;
    /// assert_eq!(z.value().to_vec_f64()?, [8.0, 9.0, 1.0, 0.0]);
    /// let grads = z.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&a).unwrap().to_vec_f64()?, [12.0, 6.0, 0.0, 0.0]); // b·aᵇ⁻¹
    /// let db = grads.get(&b).unwrap().to_vec_f64()?; // aᵇ·ln a
    /// assert!((db[0] - 8.0 * 2f64.ln()).abs() < 1e-12 && (db[1] - 9.0 * 3f64.ln()).abs() < 1e-12);
    /// assert_eq!(db[2..], [0.0, 0.0]); // at a = 0, b ≥ 0
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn pow(&self, other: &Var) -> Result<Var> {
        let (a, b) = (self.value().clone(), other.value().clone());
        let z = a.pow(&b)?;
        let saved = z.clone();
        Ok(Var::record(Op::Pow, z, &[self, other], move |g, needs| {
            let da = needs[0]
                .then(|| {
                    let slope = g.mul(&b.mul(&a.pow(&b.add_scalar(-1.0)?)?)?)?;
                    b.ne_scalar(0.0)?.zero_safe_mul(&slope)
                })
                .transpose()?;
            let db = needs[1]
                .then(|| {
                    // aᵇ where it weighs ln a, 0 where a = 0 and b ≥ 0 (a flag's `max` is "or").
                    let weighs = a.ne_scalar(0.0)?.maximum(&b.lt_scalar(0.0)?)?;
                    let weight = weighs.zero_safe_mul(&saved)?;
                    g.mul(&weight.zero_safe_mul(&a.log()?)?)
                })
                .transpose()?;
            Ok(vec![da, db])
        }))
    }

    /// `z = max(a, b)`; the gradient goes to the larger input, split evenly on ties, and to both
    /// where either is NaN (as in PyTorch): `da = g·(1 − [a < b] − ½[a = b])`,
    /// `db = g·(1 − [b < a] − ½[a = b])` (no comparison with NaN holds). The input that loses
    /// gets 0 even where `g` is infinite or NaN (PyTorch's 0, not `0·∞ = NaN`).
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let a = Var::parameter(Tensor::from_f64s(&[1.0, 5.0, 2.0], &[3], DType::F64)?);
    /// let b = Var::parameter(Tensor::from_f64s(&[3.0, 4.0, 2.0], &[3], DType::F64)?);
    /// let z = a.maximum(&b)?;
    /// assert_eq!(z.value().to_vec_f64()?, [3.0, 5.0, 2.0]);
    /// let grads = z.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&a).unwrap().to_vec_f64()?, [0.0, 1.0, 0.5]); // a tie splits
    /// assert_eq!(grads.get(&b).unwrap().to_vec_f64()?, [1.0, 0.0, 0.5]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn maximum(&self, other: &Var) -> Result<Var> {
        self.extremum(other, Op::Maximum)
    }

    /// `z = min(a, b)`; the gradient goes to the smaller input, split evenly on ties, and to both
    /// where either is NaN: `da = g·(1 − [a > b] − ½[a = b])`, `db = g·(1 − [b > a] − ½[a = b])`;
    /// the input that loses gets 0 even where `g` is infinite or NaN.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let a = Var::parameter(Tensor::from_f64s(&[1.0, 5.0, 2.0], &[3], DType::F64)?);
    /// let b = Var::parameter(Tensor::from_f64s(&[3.0, 4.0, 2.0], &[3], DType::F64)?);
    /// let z = a.minimum(&b)?;
    /// assert_eq!(z.value().to_vec_f64()?, [1.0, 4.0, 2.0]);
    /// let grads = z.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&a).unwrap().to_vec_f64()?, [1.0, 0.0, 0.5]);
    /// assert_eq!(grads.get(&b).unwrap().to_vec_f64()?, [0.0, 1.0, 0.5]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn minimum(&self, other: &Var) -> Result<Var> {
        self.extremum(other, Op::Minimum)
    }

    fn extremum(&self, other: &Var, op: Op) -> Result<Var> {
        let (a, b) = (self.value().clone(), other.value().clone());
        let value = if op == Op::Maximum {
            a.maximum(&b)?
        } else {
            a.minimum(&b)?
        };
        Ok(Var::record(op, value, &[self, other], move |g, _| {
            let (a_loses, b_loses) = if op == Op::Maximum {
                (a.lt(&b)?, a.gt(&b)?)
            } else {
                (a.gt(&b)?, a.lt(&b)?)
            };
            let tie = a.eq(&b)?.mul_scalar(0.5)?;
            let share = |loses: Tensor| loses.add(&tie)?.neg()?.add_scalar(1.0);
            let (share_a, share_b) = (share(a_loses)?, share(b_loses)?);
            let (da, db) = (share_a.zero_safe_mul(g)?, share_b.zero_safe_mul(g)?);
            Ok(vec![Some(da), Some(db)])
        }))
    }
}
