//! Element-wise math with NumPy broadcasting.

use crate::Tensor;
use devices::ops::{self, BinaryOp, UnaryOp};
use devices::{broadcast_shapes, Result};

impl Tensor {
    /// Applies the element-wise op `Op` (any of [`devices::ops`]).
    pub fn map<Op: UnaryOp>(&self) -> Result<Tensor> {
        Ok(Tensor::from_storage(
            self.storage().unary::<Op>(self.layout())?,
            self.shape(),
        ))
    }

    /// Applies the binary op `Op` after broadcasting both operands to a common shape.
    pub fn zip<Op: BinaryOp>(&self, other: &Tensor) -> Result<Tensor> {
        self.check_same_kind(Op::NAME, other)?;
        let shape = broadcast_shapes(Op::NAME, self.shape(), other.shape())?;
        let a = self.layout().broadcast_to(&shape)?;
        let b = other.layout().broadcast_to(&shape)?;
        Ok(Tensor::from_storage(
            self.storage().binary::<Op>(&a, other.storage(), &b)?,
            &shape,
        ))
    }

    /// Applies `Op(self, value)` with a scalar right-hand side, which the kernel receives as an
    /// argument (no one-element tensor is made for it).
    fn zip_scalar<Op: BinaryOp>(&self, value: f64) -> Result<Tensor> {
        Ok(Tensor::from_storage(
            self.storage().binary_scalar::<Op>(self.layout(), value)?,
            self.shape(),
        ))
    }
}

macro_rules! unary_methods {
    ($($(#[$doc:meta])* $method:ident => $op:ident;)*) => {
        impl Tensor {
            $($(#[$doc])* pub fn $method(&self) -> Result<Tensor> { self.map::<ops::$op>() })*
        }
    };
}

macro_rules! binary_methods {
    ($($(#[$doc:meta])* $method:ident, $scalar:ident => $op:ident;)*) => {
        impl Tensor {
            $(
                $(#[$doc])* pub fn $method(&self, other: &Tensor) -> Result<Tensor> { self.zip::<ops::$op>(other) }
                $(#[$doc])* #[doc = "The right-hand side is a scalar."]
                pub fn $scalar(&self, value: f64) -> Result<Tensor> { self.zip_scalar::<ops::$op>(value) }
            )*
        }
    };
}

unary_methods! {
    /// `-x`.
    neg => Neg;
    /// `eˣ`.
    exp => Exp;
    /// `ln x`.
    log => Log;
    /// `√x`.
    sqrt => Sqrt;
    /// `tanh x`.
    tanh => Tanh;
    /// `|x|`.
    abs => Abs;
    /// `1/x`.
    recip => Recip;
    /// `sign x` in {-1, 0, 1}.
    sign => Sign;
    /// `1/(1 + e⁻ˣ)`.
    sigmoid => Sigmoid;
    /// `max(x, 0)`.
    relu => Relu;
    /// `ln(1 + eˣ)`, stable for large `|x|`.
    softplus => Softplus;
    /// GELU in its tanh form: `½x(1 + tanh(√(2/π)(x + 0.044715x³)))`.
    gelu => GeluTanh;
}

binary_methods! {
    /// `a + b`, broadcasting.
    add, add_scalar => Add;
    /// `a − b`, broadcasting.
    sub, sub_scalar => Sub;
    /// `a · b`, broadcasting.
    mul, mul_scalar => Mul;
    /// `a / b`, broadcasting.
    div, div_scalar => Div;
    /// `aᵇ`, broadcasting.
    pow, powf => Pow;
    /// `max(a, b)`, broadcasting.
    maximum, maximum_scalar => Maximum;
    /// `min(a, b)`, broadcasting.
    minimum, minimum_scalar => Minimum;
    /// `1` where `a = b`, else `0`.
    eq, eq_scalar => Eq;
    /// `1` where `a ≠ b`, else `0`.
    ne, ne_scalar => Ne;
    /// `1` where `a < b`, else `0`.
    lt, lt_scalar => Lt;
    /// `1` where `a ≤ b`, else `0`.
    le, le_scalar => Le;
    /// `1` where `a > b`, else `0`.
    gt, gt_scalar => Gt;
    /// `1` where `a ≥ b`, else `0`.
    ge, ge_scalar => Ge;
}

impl Tensor {
    /// The gradient of [`Tensor::gelu`] at `self` for the output gradient `grad`, fused into one
    /// pass: `grad · gelu'(self)`.
    pub fn gelu_backward(&self, grad: &Tensor) -> Result<Tensor> {
        self.zip::<ops::GeluTanhBackward>(grad)
    }

    /// `x²`.
    pub fn square(&self) -> Result<Tensor> {
        self.mul(self)
    }

    /// `a·x + b` with scalars `a` and `b`.
    pub fn affine(&self, a: f64, b: f64) -> Result<Tensor> {
        self.mul_scalar(a)?.add_scalar(b)
    }
}
