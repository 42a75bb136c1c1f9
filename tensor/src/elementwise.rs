//! Element-wise math with NumPy broadcasting.

use crate::Tensor;
use devices::ops::{self, BinaryOp, UnaryOp};
use devices::{broadcast_shapes, Error, Result};

impl Tensor {
    /// Applies the element-wise op `Op` (any of [`tensor::ops`](crate::ops), which is
    /// `devices::ops`).
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// // The same op as `x.sqrt()`, named by its type in `tensor::ops`.
    /// let x = Tensor::from_f64s(&[4.0, 16.0], &[2], DType::F64)?;
    /// assert_eq!(x.map::<tensor::ops::Sqrt>()?.to_vec_f64()?, [2.0, 4.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn map<Op: UnaryOp>(&self) -> Result<Tensor> {
        Ok(Tensor::from_storage(
            self.storage().unary::<Op>(self.layout())?,
            self.shape(),
        ))
    }

    /// Applies the binary op `Op` after broadcasting both operands to a common shape.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let a = Tensor::from_f64s(&[1.0, 2.0], &[2, 1], DType::F64)?;
    /// let b = Tensor::from_f64s(&[10.0, 20.0, 30.0], &[3], DType::F64)?;
    /// let c = a.zip::<tensor::ops::Add>(&b)?;
    /// assert_eq!(c.shape(), [2, 3]);
    /// assert_eq!(c.to_vec_f64()?, [11.0, 21.0, 31.0, 12.0, 22.0, 32.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
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
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let x = Tensor::from_f64s(&[1.0, -2.0, 0.0], &[3], DType::F64)?;
    /// assert_eq!(x.neg()?.to_vec_f64()?, [-1.0, 2.0, -0.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    neg => Neg;
    /// `eˣ`.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let y = Tensor::from_f64s(&[0.0, 1.0], &[2], DType::F64)?.exp()?.to_vec_f64()?;
    /// assert_eq!(y[0], 1.0);
    /// assert!((y[1] - std::f64::consts::E).abs() < 1e-12);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    exp => Exp;
    /// `ln x`.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let x = Tensor::from_f64s(&[1.0, std::f64::consts::E], &[2], DType::F64)?;
    /// let y = x.log()?.to_vec_f64()?;
    /// assert_eq!(y[0], 0.0);
    /// assert!((y[1] - 1.0).abs() < 1e-12);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    log => Log;
    /// `√x`.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let x = Tensor::from_f64s(&[4.0, 9.0, 0.25], &[3], DType::F64)?;
    /// assert_eq!(x.sqrt()?.to_vec_f64()?, [2.0, 3.0, 0.5]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    sqrt => Sqrt;
    /// `tanh x`.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let y = Tensor::from_f64s(&[0.0, 1.0], &[2], DType::F64)?.tanh()?.to_vec_f64()?;
    /// assert_eq!(y[0], 0.0);
    /// assert!((y[1] - 0.761_594_155_955_764_9).abs() < 1e-12);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    tanh => Tanh;
    /// `|x|`.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let x = Tensor::from_f64s(&[-1.5, 0.0, 2.0], &[3], DType::F64)?;
    /// assert_eq!(x.abs()?.to_vec_f64()?, [1.5, 0.0, 2.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    abs => Abs;
    /// `1/x`.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let x = Tensor::from_f64s(&[2.0, -4.0, 0.5], &[3], DType::F64)?;
    /// assert_eq!(x.recip()?.to_vec_f64()?, [0.5, -0.25, 2.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    recip => Recip;
    /// `sign x` in {-1, 0, 1}.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let x = Tensor::from_f64s(&[-3.0, 0.0, 0.1], &[3], DType::F64)?;
    /// assert_eq!(x.sign()?.to_vec_f64()?, [-1.0, 0.0, 1.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    sign => Sign;
    /// `1/(1 + e⁻ˣ)`.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let y = Tensor::from_f64s(&[0.0, 2.0], &[2], DType::F64)?.sigmoid()?.to_vec_f64()?;
    /// assert_eq!(y[0], 0.5);
    /// assert!((y[1] - 1.0 / (1.0 + (-2.0f64).exp())).abs() < 1e-12);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    sigmoid => Sigmoid;
    /// `max(x, 0)`, NaN kept (as PyTorch: a NaN is not turned into 0).
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let x = Tensor::from_f64s(&[-1.0, 0.0, 2.5, f64::NAN], &[4], DType::F64)?;
    /// let y = x.relu()?.to_vec_f64()?;
    /// assert_eq!(y[..3], [0.0, 0.0, 2.5]);
    /// assert!(y[3].is_nan());
    /// # Ok::<(), tensor::Error>(())
    /// ```
    relu => Relu;
    /// `ln(1 + eˣ)`, stable for large `|x|`.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// // 1000 would overflow eˣ; softplus(1000) is 1000.
    /// let y = Tensor::from_f64s(&[0.0, 1000.0], &[2], DType::F64)?.softplus()?.to_vec_f64()?;
    /// assert!((y[0] - 2f64.ln()).abs() < 1e-12);
    /// assert_eq!(y[1], 1000.0);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    softplus => Softplus;
    /// GELU in its tanh form: `½x(1 + tanh(√(2/π)(x + 0.044715x³)))`.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// // ≈ x for large x, ≈ 0 for very negative x, 0 at 0, and 0.8412 at 1.
    /// let x = Tensor::from_f64s(&[0.0, 1.0, 10.0, -10.0], &[4], DType::F64)?;
    /// let y = x.gelu()?.to_vec_f64()?;
    /// assert_eq!(y[0], 0.0);
    /// assert!((y[1] - 0.841_192).abs() < 1e-6);
    /// assert!((y[2] - 10.0).abs() < 1e-12 && y[3].abs() < 1e-12);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    gelu => GeluTanh;
    /// GELU in its exact form, `x·Φ(x) = ½x·erfc(−x/√2)` (`torch.nn.GELU()`'s default and timm's
    /// ViTs'); [`Tensor::gelu`] is the tanh form, within 5·10⁻⁴ of it. In f32 the CPU's `erfc`
    /// gives 0 below `x ≈ −13.2`, where OpenCL's may keep a subnormal value (both round values
    /// under 10⁻³⁸ that PyTorch already gives as −0 from `x = −12`).
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// // Φ(1) = 0.841345 (the tanh form gives 0.841192), Φ(−1) = 0.158655.
    /// let x = Tensor::from_f64s(&[0.0, 1.0, -1.0, -10.0], &[4], DType::F64)?;
    /// let y = x.gelu_erf()?.to_vec_f64()?;
    /// assert_eq!(y[0], 0.0);
    /// assert!((y[1] - 0.841_344_746).abs() < 1e-9 && (y[2] + 0.158_655_254).abs() < 1e-9);
    /// assert!(y[3] < 0.0 && y[3] > -1e-22); // −10·Φ(−10) = −7.6·10⁻²³, not rounded to 0
    /// # Ok::<(), tensor::Error>(())
    /// ```
    gelu_erf => GeluErf;
    /// `sin x`, `x` in radians.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let x = Tensor::from_f64s(&[0.0, std::f64::consts::FRAC_PI_2], &[2], DType::F64)?;
    /// assert_eq!(x.sin()?.to_vec_f64()?, [0.0, 1.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    sin => Sin;
    /// `cos x`, `x` in radians.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let x = Tensor::from_f64s(&[0.0, std::f64::consts::PI], &[2], DType::F64)?;
    /// assert_eq!(x.cos()?.to_vec_f64()?, [1.0, -1.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    cos => Cos;
}

binary_methods! {
    /// `a + b`, broadcasting.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let a = Tensor::from_f64s(&[1.0, 2.0, 3.0, 4.0], &[2, 2], DType::F64)?;
    /// // b is a [2] row, broadcast over a's two rows.
    /// let b = Tensor::from_f64s(&[10.0, 20.0], &[2], DType::F64)?;
    /// assert_eq!(a.add(&b)?.to_vec_f64()?, [11.0, 22.0, 13.0, 24.0]);
    /// assert_eq!(a.add_scalar(0.5)?.to_vec_f64()?, [1.5, 2.5, 3.5, 4.5]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    add, add_scalar => Add;
    /// `a − b`, broadcasting.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let a = Tensor::from_f64s(&[1.0, 2.0, 3.0, 4.0], &[2, 2], DType::F64)?;
    /// // b is a [2, 1] column, broadcast over a's two columns.
    /// let b = Tensor::from_f64s(&[1.0, 2.0], &[2, 1], DType::F64)?;
    /// assert_eq!(a.sub(&b)?.to_vec_f64()?, [0.0, 1.0, 1.0, 2.0]);
    /// assert_eq!(a.sub_scalar(1.0)?.to_vec_f64()?, [0.0, 1.0, 2.0, 3.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    sub, sub_scalar => Sub;
    /// `a · b`, broadcasting.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let a = Tensor::from_f64s(&[1.0, 2.0, 3.0, 4.0], &[2, 2], DType::F64)?;
    /// let b = Tensor::from_f64s(&[10.0, 100.0], &[2], DType::F64)?;
    /// assert_eq!(a.mul(&b)?.to_vec_f64()?, [10.0, 200.0, 30.0, 400.0]);
    /// assert_eq!(a.mul_scalar(-2.0)?.to_vec_f64()?, [-2.0, -4.0, -6.0, -8.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    mul, mul_scalar => Mul;
    /// `a · b`, broadcasting, but `0` wherever `a = 0` even if `b` is infinite or NaN: `a` weighs
    /// `b` and a zero weight drops it (a cross-entropy's `t · log p` with `t = 0`, `p = 0`).
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let weights = Tensor::from_f64s(&[0.0, 0.5, 0.0], &[3], DType::F64)?;
    /// let log_p = Tensor::from_f64s(&[f64::NEG_INFINITY, -2.0, f64::NAN], &[3], DType::F64)?;
    /// assert_eq!(weights.zero_safe_mul(&log_p)?.to_vec_f64()?, [0.0, -1.0, 0.0]);
    /// assert!(weights.mul(&log_p)?.to_vec_f64()?[0].is_nan()); // 0 · (−∞) with `mul`
    /// assert_eq!(weights.zero_safe_mul_scalar(4.0)?.to_vec_f64()?, [0.0, 2.0, 0.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    zero_safe_mul, zero_safe_mul_scalar => ZeroSafeMul;
    /// `a / b`, broadcasting.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let a = Tensor::from_f64s(&[1.0, 2.0, 3.0, 4.0], &[2, 2], DType::F64)?;
    /// let b = Tensor::from_f64s(&[2.0, 4.0], &[2], DType::F64)?;
    /// assert_eq!(a.div(&b)?.to_vec_f64()?, [0.5, 0.5, 1.5, 1.0]);
    /// assert_eq!(a.div_scalar(4.0)?.to_vec_f64()?, [0.25, 0.5, 0.75, 1.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    div, div_scalar => Div;
    /// `aᵇ`, broadcasting.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let a = Tensor::from_f64s(&[1.0, 2.0, 3.0, 4.0], &[2, 2], DType::F64)?;
    /// let b = Tensor::from_f64s(&[2.0, 3.0], &[2], DType::F64)?;
    /// assert_eq!(a.pow(&b)?.to_vec_f64()?, [1.0, 8.0, 9.0, 64.0]);
    /// assert_eq!(a.pow_scalar(0.5)?.to_vec_f64()?[3], 2.0);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pow, pow_scalar => Pow;
    /// `max(a, b)`, broadcasting.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let a = Tensor::from_f64s(&[1.0, 2.0, 3.0, 4.0], &[2, 2], DType::F64)?;
    /// let b = Tensor::from_f64s(&[2.0, 2.0], &[2], DType::F64)?;
    /// assert_eq!(a.maximum(&b)?.to_vec_f64()?, [2.0, 2.0, 3.0, 4.0]);
    /// assert_eq!(a.maximum_scalar(3.0)?.to_vec_f64()?, [3.0, 3.0, 3.0, 4.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    maximum, maximum_scalar => Maximum;
    /// `min(a, b)`, broadcasting.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let a = Tensor::from_f64s(&[1.0, 2.0, 3.0, 4.0], &[2, 2], DType::F64)?;
    /// let b = Tensor::from_f64s(&[2.0, 2.0], &[2], DType::F64)?;
    /// assert_eq!(a.minimum(&b)?.to_vec_f64()?, [1.0, 2.0, 2.0, 2.0]);
    /// assert_eq!(a.minimum_scalar(3.0)?.to_vec_f64()?, [1.0, 2.0, 3.0, 3.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    minimum, minimum_scalar => Minimum;
    /// `1` where `a = b`, else `0`.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let a = Tensor::from_f64s(&[1.0, 2.0, 3.0, 4.0], &[2, 2], DType::F64)?;
    /// let b = Tensor::from_f64s(&[2.0, 4.0], &[2], DType::F64)?;
    /// assert_eq!(a.eq(&b)?.to_vec_f64()?, [0.0, 0.0, 0.0, 1.0]);
    /// assert_eq!(a.eq_scalar(2.0)?.to_vec_f64()?, [0.0, 1.0, 0.0, 0.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    eq, eq_scalar => Eq;
    /// `1` where `a ≠ b`, else `0`.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let a = Tensor::from_f64s(&[1.0, 2.0, 3.0, 4.0], &[2, 2], DType::F64)?;
    /// let b = Tensor::from_f64s(&[2.0, 4.0], &[2], DType::F64)?;
    /// assert_eq!(a.ne(&b)?.to_vec_f64()?, [1.0, 1.0, 1.0, 0.0]);
    /// assert_eq!(a.ne_scalar(2.0)?.to_vec_f64()?, [1.0, 0.0, 1.0, 1.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    ne, ne_scalar => Ne;
    /// `1` where `a < b`, else `0`.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let a = Tensor::from_f64s(&[1.0, 2.0, 3.0, 4.0], &[2, 2], DType::F64)?;
    /// let b = Tensor::from_f64s(&[2.0, 4.0], &[2], DType::F64)?;
    /// assert_eq!(a.lt(&b)?.to_vec_f64()?, [1.0, 1.0, 0.0, 0.0]);
    /// assert_eq!(a.lt_scalar(2.0)?.to_vec_f64()?, [1.0, 0.0, 0.0, 0.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    lt, lt_scalar => Lt;
    /// `1` where `a ≤ b`, else `0`.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let a = Tensor::from_f64s(&[1.0, 2.0, 3.0, 4.0], &[2, 2], DType::F64)?;
    /// let b = Tensor::from_f64s(&[2.0, 4.0], &[2], DType::F64)?;
    /// assert_eq!(a.le(&b)?.to_vec_f64()?, [1.0, 1.0, 0.0, 1.0]);
    /// assert_eq!(a.le_scalar(2.0)?.to_vec_f64()?, [1.0, 1.0, 0.0, 0.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    le, le_scalar => Le;
    /// `1` where `a > b`, else `0`.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let a = Tensor::from_f64s(&[1.0, 2.0, 3.0, 4.0], &[2, 2], DType::F64)?;
    /// let b = Tensor::from_f64s(&[2.0, 4.0], &[2], DType::F64)?;
    /// assert_eq!(a.gt(&b)?.to_vec_f64()?, [0.0, 0.0, 1.0, 0.0]);
    /// assert_eq!(a.gt_scalar(2.0)?.to_vec_f64()?, [0.0, 0.0, 1.0, 1.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    gt, gt_scalar => Gt;
    /// `1` where `a ≥ b`, else `0`.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let a = Tensor::from_f64s(&[1.0, 2.0, 3.0, 4.0], &[2, 2], DType::F64)?;
    /// let b = Tensor::from_f64s(&[2.0, 4.0], &[2], DType::F64)?;
    /// assert_eq!(a.ge(&b)?.to_vec_f64()?, [0.0, 0.0, 1.0, 1.0]);
    /// assert_eq!(a.ge_scalar(2.0)?.to_vec_f64()?, [0.0, 1.0, 1.0, 1.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    ge, ge_scalar => Ge;
}

impl Tensor {
    /// The gradient of [`Tensor::gelu`] at `self` for the output gradient `grad`, fused into one
    /// pass: `grad · gelu'(self)`.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// // gelu'(0) = ½ and gelu'(x) → 1 for large x.
    /// let x = Tensor::from_f64s(&[0.0, 10.0], &[2], DType::F64)?;
    /// let g = Tensor::from_f64s(&[2.0, 3.0], &[2], DType::F64)?;
    /// let dx = x.gelu_backward(&g)?.to_vec_f64()?;
    /// assert_eq!(dx[0], 1.0);
    /// assert!((dx[1] - 3.0).abs() < 1e-12);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn gelu_backward(&self, grad: &Tensor) -> Result<Tensor> {
        self.zip::<ops::GeluTanhBackward>(grad)
    }

    /// The gradient of [`Tensor::gelu_erf`] at `self` for the output gradient `grad`, fused into
    /// one pass: `grad · (Φ(x) + x·φ(x))`, `φ` the standard normal density.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// // At 0: Φ(0) = ½; at 1: Φ(1) + φ(1) = 0.841345 + 0.241971.
    /// let x = Tensor::from_f64s(&[0.0, 1.0], &[2], DType::F64)?;
    /// let g = Tensor::from_f64s(&[2.0, 1.0], &[2], DType::F64)?;
    /// let dx = x.gelu_erf_backward(&g)?.to_vec_f64()?;
    /// assert_eq!(dx[0], 1.0);
    /// assert!((dx[1] - 1.083_315_47).abs() < 1e-8);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn gelu_erf_backward(&self, grad: &Tensor) -> Result<Tensor> {
        self.zip::<ops::GeluErfBackward>(grad)
    }

    /// `min(max(x, min), max)`: every element brought into `[min, max]` (NaN stays NaN; as in
    /// PyTorch, `min > max` sets every element to `max`). Either bound may be infinite, for a
    /// one-sided clamp; a NaN bound is an error.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let x = Tensor::from_f64s(&[-2.0, 0.5, 3.0], &[3], DType::F64)?;
    /// assert_eq!(x.clamp(-1.0, 1.0)?.to_vec_f64()?, [-1.0, 0.5, 1.0]);
    /// assert_eq!(x.clamp(0.0, f64::INFINITY)?.to_vec_f64()?, [0.0, 0.5, 3.0]);
    /// assert!(x.clamp(f64::NAN, 1.0).is_err());
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn clamp(&self, min: f64, max: f64) -> Result<Tensor> {
        if min.is_nan() || max.is_nan() {
            return Err(Error::invalid(
                "clamp",
                format!("bounds [{min}, {max}]: a bound is NaN"),
            ));
        }
        self.maximum_scalar(min)?.minimum_scalar(max)
    }

    /// `on_true` where `self` (the condition) is nonzero, `on_false` where it is zero, the three
    /// broadcast together (`torch.where(condition, on_true, on_false)`; NaN counts as true, as
    /// in PyTorch). The unselected side does not leak into the result: an infinity or NaN there
    /// is ignored (a selected −0 comes out as +0). Shapes that do not broadcast together, or an
    /// operand of another element type or device than the condition, are errors naming all
    /// three.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let condition = Tensor::from_f64s(&[1.0, 0.0, 1.0], &[3], DType::F64)?;
    /// let on_true = Tensor::from_f64s(&[10.0, 20.0, 30.0], &[3], DType::F64)?;
    /// let on_false = Tensor::from_f64s(&[f64::INFINITY], &[1], DType::F64)?; // broadcast
    /// let picked = condition.where_cond(&on_true, &on_false)?;
    /// assert_eq!(picked.to_vec_f64()?, [10.0, f64::INFINITY, 30.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn where_cond(&self, on_true: &Tensor, on_false: &Tensor) -> Result<Tensor> {
        let operands = [
            ("the condition", self),
            ("on_true", on_true),
            ("on_false", on_false),
        ];
        let describe = |what: &dyn Fn(&Tensor) -> String| {
            let parts: Vec<String> = operands
                .iter()
                .map(|(name, t)| format!("{name} {}", what(t)))
                .collect();
            parts.join(", ")
        };
        if operands
            .iter()
            .any(|(_, t)| t.dtype() != self.dtype() || t.device() != self.device())
        {
            return Err(Error::invalid(
                "where_cond",
                format!(
                    "{}: the three must have one element type and device",
                    describe(&|t| format!("is {} on {}", t.dtype(), t.device()))
                ),
            ));
        }
        broadcast_shapes("where_cond", self.shape(), on_true.shape())
            .and_then(|shape| broadcast_shapes("where_cond", &shape, on_false.shape()))
            .map_err(|_| {
                Error::shape(
                    "where_cond",
                    format!(
                        "{} do not broadcast together",
                        describe(&|t| format!("{:?}", t.shape()))
                    ),
                )
            })?;
        let (take_true, take_false) = self.where_masks()?;
        take_true
            .zero_safe_mul(on_true)?
            .add(&take_false.zero_safe_mul(on_false)?)
    }

    /// The upper triangle of the last two axes (`torch.triu`): `x[.., i, j]` where `j − i ≥
    /// diagonal`, 0 elsewhere (also where `x` is NaN or infinite). `diagonal` 0 keeps the main
    /// diagonal, 1 starts above it, −1 below.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let x = Tensor::arange(1.0, 10.0, 1.0, DType::F64)?.reshape(&[3, 3])?;
    /// assert_eq!(x.triu(0)?.to_vec_f64()?, [1.0, 2.0, 3.0, 0.0, 5.0, 6.0, 0.0, 0.0, 9.0]);
    /// assert_eq!(x.tril(-1)?.to_vec_f64()?, [0.0, 0.0, 0.0, 4.0, 0.0, 0.0, 7.0, 8.0, 0.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn triu(&self, diagonal: i64) -> Result<Tensor> {
        let keep = self.triangle_mask("triu", diagonal, true)?;
        keep.where_cond(self, &self.zeros_like()?)
    }

    /// The lower triangle of the last two axes (`torch.tril`): `x[.., i, j]` where `j − i ≤
    /// diagonal`, 0 elsewhere (see [`Tensor::triu`]).
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let x = Tensor::arange(1.0, 7.0, 1.0, DType::F64)?.reshape(&[2, 3])?;
    /// assert_eq!(x.tril(0)?.to_vec_f64()?, [1.0, 0.0, 0.0, 4.0, 5.0, 0.0]);
    /// assert_eq!(x.tril(1)?.to_vec_f64()?, [1.0, 2.0, 0.0, 4.0, 5.0, 6.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn tril(&self, diagonal: i64) -> Result<Tensor> {
        let keep = self.triangle_mask("tril", diagonal, false)?;
        keep.where_cond(self, &self.zeros_like()?)
    }

    /// `[rows, columns]` 0/1 on this tensor's device and of its element type: 1 where `j − i ≥
    /// diagonal` (`upper`) or `j − i ≤ diagonal` (not `upper`), for the last two axes; an
    /// error naming `op` for a tensor of rank below 2.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let x = Tensor::zeros(&[2, 3], DType::F32);
    /// assert_eq!(x.triangle_mask("triu", 1, true)?.to_vec_f64()?, [0.0, 1.0, 1.0, 0.0, 0.0, 1.0]);
    /// assert!(Tensor::zeros(&[3], DType::F32).triangle_mask("tril", 0, false).is_err());
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn triangle_mask(&self, op: &'static str, diagonal: i64, upper: bool) -> Result<Tensor> {
        let &[.., rows, columns] = self.shape() else {
            return Err(Error::shape(
                op,
                format!(
                    "a tensor of shape {:?} has no matrix axes (rank 2 or more)",
                    self.shape()
                ),
            ));
        };
        let (dtype, device) = (self.dtype(), self.device());
        let i = Tensor::arange_on(0.0, rows as f64, 1.0, dtype, &device)?.reshape(&[rows, 1])?;
        let j =
            Tensor::arange_on(0.0, columns as f64, 1.0, dtype, &device)?.reshape(&[1, columns])?;
        // j − i − diagonal, exact in f32 for matrices below 2²⁴ on a side.
        let offset = j.sub(&i)?.add_scalar(-(diagonal as f64))?;
        if upper {
            offset.ge_scalar(0.0)
        } else {
            offset.le_scalar(0.0)
        }
    }

    /// The 0/1 masks of [`Tensor::where_cond`]'s two sides: `[self ≠ 0]` and `[self = 0]` (a
    /// NaN condition is true, since NaN ≠ 0).
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let condition = Tensor::from_f64s(&[2.0, 0.0, f64::NAN], &[3], DType::F64)?;
    /// let (take_true, take_false) = condition.where_masks()?;
    /// assert_eq!(take_true.to_vec_f64()?, [1.0, 0.0, 1.0]);
    /// assert_eq!(take_false.to_vec_f64()?, [0.0, 1.0, 0.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn where_masks(&self) -> Result<(Tensor, Tensor)> {
        Ok((self.ne_scalar(0.0)?, self.eq_scalar(0.0)?))
    }

    /// `x²`.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let x = Tensor::from_f64s(&[-3.0, 0.5], &[2], DType::F64)?;
    /// assert_eq!(x.square()?.to_vec_f64()?, [9.0, 0.25]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn square(&self) -> Result<Tensor> {
        self.mul(self)
    }

    /// `a·x + b` with scalars `a` and `b`.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let x = Tensor::from_f64s(&[0.0, 1.0, 2.0], &[3], DType::F64)?;
    /// assert_eq!(x.affine(2.0, 1.0)?.to_vec_f64()?, [1.0, 3.0, 5.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn affine(&self, a: f64, b: f64) -> Result<Tensor> {
        self.mul_scalar(a)?.add_scalar(b)
    }
}
