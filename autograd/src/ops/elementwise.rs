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
    exp, Exp, |output y| Ok(y);
    /// `y = ln x`; `dx = g/x`.
    log, Log, |input x| x.recip();
    /// `y = √x`; `dx = g/(2y)`.
    sqrt, Sqrt, |output y| y.mul_scalar(2.0)?.recip();
    /// `y = tanh x`; `dx = g·(1 − y²)`.
    tanh, Tanh, |output y| y.square()?.neg()?.add_scalar(1.0);
    /// `y = |x|`; `dx = g·sign(x)` (0 at 0).
    abs, Abs, |input x| x.sign();
    /// `y = 1/x`; `dx = −g·y²`.
    recip, Recip, |output y| y.square()?.neg();
    /// `y = σ(x) = 1/(1 + e⁻ˣ)`; `dx = g·y(1 − y)`.
    sigmoid, Sigmoid, |output y| y.mul(&y.neg()?.add_scalar(1.0)?);
    /// `y = max(x, 0)`; `dx = g·[x > 0]`.
    relu, Relu, |input x| x.gt_scalar(0.0);
    /// `y = ln(1 + eˣ)`; `dx = g·σ(x)`.
    softplus, Softplus, |input x| x.sigmoid();
}

impl Var {
    /// `y = ½x(1 + tanh(u))`, `u = √(2/π)(x + 0.044715x³)` (the tanh form of GELU);
    /// `dx = g·(½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²))` with `t = tanh u`, computed in
    /// one fused pass.
    pub fn gelu(&self) -> Result<Var> {
        let x = self.value().clone();
        Ok(Var::record(Op::Gelu, x.gelu()?, &[self], move |g, _| {
            Ok(vec![Some(x.gelu_backward(g)?)])
        }))
    }

    /// `y = −x`; `dx = −g`.
    pub fn neg(&self) -> Result<Var> {
        Ok(Var::record(
            Op::Neg,
            self.value().neg()?,
            &[self],
            |g, _| Ok(vec![Some(g.neg()?)]),
        ))
    }

    /// `y = xᵖ` for a constant `p`; `dx = g·p·xᵖ⁻¹`.
    pub fn powf(&self, p: f64) -> Result<Var> {
        let x = self.value().clone();
        Ok(Var::record(Op::Powf, x.powf(p)?, &[self], move |g, _| {
            Ok(vec![Some(g.mul(&x.powf(p - 1.0)?.mul_scalar(p)?)?)])
        }))
    }

    /// `y = x²` (as `powf(2)`).
    pub fn square(&self) -> Result<Var> {
        self.powf(2.0)
    }

    /// `y = x + c`; `dx = g`.
    pub fn add_scalar(&self, c: f64) -> Result<Var> {
        Ok(Var::record(
            Op::AddScalar,
            self.value().add_scalar(c)?,
            &[self],
            |g, _| Ok(vec![Some(g.clone())]),
        ))
    }

    /// `y = c·x`; `dx = c·g`.
    pub fn mul_scalar(&self, c: f64) -> Result<Var> {
        Ok(Var::record(
            Op::MulScalar,
            self.value().mul_scalar(c)?,
            &[self],
            move |g, _| Ok(vec![Some(g.mul_scalar(c)?)]),
        ))
    }

    /// `z = a + b` (broadcasting); `da = g`, `db = g` (summed back over broadcast axes).
    pub fn add(&self, other: &Var) -> Result<Var> {
        let value = self.value().add(other.value())?;
        Ok(Var::record(Op::Add, value, &[self, other], |g, _| {
            Ok(vec![Some(g.clone()), Some(g.clone())])
        }))
    }

    /// `z = a − b`; `da = g`, `db = −g`.
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

    /// `z = a/b`; `da = g/b`, `db = −g·a/b²`.
    pub fn div(&self, other: &Var) -> Result<Var> {
        let (a, b) = (self.value().clone(), other.value().clone());
        let value = a.div(&b)?;
        Ok(Var::record(
            Op::Div,
            value,
            &[self, other],
            move |g, needs| {
                let da = needs[0].then(|| g.div(&b)).transpose()?;
                let db = needs[1]
                    .then(|| g.mul(&a)?.div(&b.square()?)?.neg())
                    .transpose()?;
                Ok(vec![da, db])
            },
        ))
    }

    /// `z = aᵇ`; `da = g·b·aᵇ⁻¹`, `db = g·aᵇ·ln a`.
    pub fn pow(&self, other: &Var) -> Result<Var> {
        let (a, b) = (self.value().clone(), other.value().clone());
        let z = a.pow(&b)?;
        let saved = z.clone();
        Ok(Var::record(Op::Pow, z, &[self, other], move |g, needs| {
            let da = needs[0]
                .then(|| g.mul(&b)?.mul(&a.pow(&b.add_scalar(-1.0)?)?))
                .transpose()?;
            let db = needs[1]
                .then(|| g.mul(&saved)?.mul(&a.log()?))
                .transpose()?;
            Ok(vec![da, db])
        }))
    }

    /// `z = max(a, b)`; the gradient goes to the larger input, split evenly on ties:
    /// `da = g·([a > b] + ½[a = b])`, `db = g·([b > a] + ½[a = b])`.
    pub fn maximum(&self, other: &Var) -> Result<Var> {
        self.extremum(other, Op::Maximum)
    }

    /// `z = min(a, b)`; the gradient goes to the smaller input, split evenly on ties.
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
            let a_wins = if op == Op::Maximum {
                a.gt(&b)?
            } else {
                a.lt(&b)?
            };
            let tie = a.eq(&b)?.mul_scalar(0.5)?;
            let share_a = a_wins.add(&tie)?;
            let share_b = share_a.neg()?.add_scalar(1.0)?;
            Ok(vec![Some(g.mul(&share_a)?), Some(g.mul(&share_b)?)])
        }))
    }
}
