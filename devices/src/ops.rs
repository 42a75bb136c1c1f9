//! Element-wise and reduction operations, each defined exactly once.
//!
//! An op is a type carrying its name, its scalar Rust function (what the CPU backend runs) and its
//! OpenCL C expression (what the OpenCL backend splices into one templated kernel). Kernels are
//! generic over the op type, so the CPU loops are monomorphized and inlined per op.

use crate::Element;

/// `y = f(x)`, applied to every element.
pub trait UnaryOp: Send + Sync + 'static {
    const NAME: &'static str;
    /// OpenCL C expression of the result in terms of `x` (of type `T`).
    const OPENCL: &'static str;
    fn apply<T: Element>(x: T) -> T;
}

/// `z = f(a, b)`, applied to every pair of (broadcast) elements.
pub trait BinaryOp: Send + Sync + 'static {
    const NAME: &'static str;
    /// OpenCL C expression of the result in terms of `a` and `b` (of type `T`).
    const OPENCL: &'static str;
    fn apply<T: Element>(a: T, b: T) -> T;
}

/// A fold `acc = combine(acc, x)` starting from `identity`.
pub trait ReduceOp: Send + Sync + 'static {
    const NAME: &'static str;
    /// OpenCL C expression of the identity element.
    const OPENCL_IDENTITY: &'static str;
    /// OpenCL C expression combining `acc` and `x`.
    const OPENCL_COMBINE: &'static str;
    fn identity<T: Element>() -> T;
    fn combine<T: Element>(acc: T, x: T) -> T;
}

macro_rules! unary_op {
    ($(#[$doc:meta])* $name:ident, $label:literal, $cl:literal, |$x:ident| $body:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug)]
        pub struct $name;
        impl UnaryOp for $name {
            const NAME: &'static str = $label;
            const OPENCL: &'static str = $cl;
            #[inline(always)]
            fn apply<T: Element>($x: T) -> T {
                $body
            }
        }
    };
}

macro_rules! binary_op {
    ($(#[$doc:meta])* $name:ident, $label:literal, $cl:literal, |$a:ident, $b:ident| $body:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug)]
        pub struct $name;
        impl BinaryOp for $name {
            const NAME: &'static str = $label;
            const OPENCL: &'static str = $cl;
            #[inline(always)]
            fn apply<T: Element>($a: T, $b: T) -> T {
                $body
            }
        }
    };
}

fn flag<T: Element>(condition: bool) -> T {
    if condition {
        T::one()
    } else {
        T::zero()
    }
}

/// `tanh u = 1 − 2/(e^{2u} + 1)`: one `exp` instead of libm's `tanh` (which goes through the
/// slower `expm1`; GELU and its derivative were a quarter of a training step's time). Exact at
/// both tails (`e^{2u}` = ∞ or 0); its absolute error near 0 is a few ulps of 1, which is all
/// GELU needs since it only ever uses `1 ± tanh u`.
#[inline(always)]
fn tanh_via_exp<T: Element>(u: T) -> T {
    let two = T::from_f64(2.0);
    T::one() - two / ((two * u).exp() + T::one())
}

/// `√(2/π)`, the scale inside the tanh form of GELU.
const GELU_C: f64 = 0.797_884_560_802_865_4;
/// The cubic coefficient of the tanh form of GELU.
const GELU_A: f64 = 0.044_715;

unary_op!(/** `y = x` (a copy). */ Identity, "identity", "x", |x| x);
unary_op!(/** `y = -x`. */ Neg, "neg", "-x", |x| -x);
unary_op!(/** `y = eˣ`. */ Exp, "exp", "exp(x)", |x| x.exp());
unary_op!(/** `y = ln x`. */ Log, "log", "log(x)", |x| x.ln());
unary_op!(/** `y = √x`. */ Sqrt, "sqrt", "sqrt(x)", |x| x.sqrt());
unary_op!(/** `y = tanh x`. */ Tanh, "tanh", "tanh(x)", |x| x.tanh());
unary_op!(/** `y = |x|`. */ Abs, "abs", "fabs(x)", |x| x.abs());
unary_op!(/** `y = 1/x`. */ Recip, "recip", "(T)1 / x", |x| x.recip());
unary_op!(
    /** `y = sign(x)` in {-1, 0, 1}. */ Sign, "sign",
    "(x > (T)0) ? (T)1 : ((x < (T)0) ? (T)-1 : (T)0)",
    |x| if x > T::zero() { T::one() } else if x < T::zero() { -T::one() } else { T::zero() }
);
unary_op!(
    /** `y = 1 / (1 + e⁻ˣ)`, computed without overflow for large `|x|`. */ Sigmoid, "sigmoid",
    "(x >= (T)0) ? (T)1 / ((T)1 + exp(-x)) : exp(x) / ((T)1 + exp(x))",
    |x| if x >= T::zero() { T::one() / (T::one() + (-x).exp()) } else { let e = x.exp(); e / (T::one() + e) }
);
unary_op!(
    /** `y = ln(1 + eˣ)`, computed as `max(x, 0) + ln(1 + e^{−|x|})` so it never overflows. */
    Softplus, "softplus",
    "fmax(x, (T)0) + log1p(exp(-fabs(x)))",
    |x| x.max(T::zero()) + (-x.abs()).exp().ln_1p()
);
unary_op!(/** `y = max(x, 0)`. */ Relu, "relu", "fmax(x, (T)0)", |x| if x > T::zero() { x } else { T::zero() });
unary_op!(
    /// GELU, tanh form: `y = ½x(1 + tanh(c(x + a x³)))` with `c = √(2/π)`, `a = 0.044715`.
    GeluTanh, "gelu_tanh",
    "(T)0.5 * x * ((T)1 + tanh((T)0.7978845608028654 * (x + (T)0.044715 * x * x * x)))",
    |x| {
        let half = T::from_f64(0.5);
        let inner = T::from_f64(GELU_C) * (x + T::from_f64(GELU_A) * x * x * x);
        half * x * (T::one() + tanh_via_exp(inner))
    }
);
binary_op!(/** `a + b`. */ Add, "add", "a + b", |a, b| a + b);
binary_op!(
    /// The backward pass of the tanh-form GELU in one sweep: `a` is GELU's input `x`, `b` the
    /// gradient of its output. With `u = c(x + a₃x³)` and `t = tanh u`,
    /// `b · (½(1 + t) + ½x(1 − t²)·c(1 + 3a₃x²))`.
    GeluTanhBackward, "gelu_tanh_backward",
    "b * ((T)0.5 * ((T)1 + tanh((T)0.7978845608028654 * (a + (T)0.044715 * a * a * a))) + (T)0.5 * a * ((T)1 - tanh((T)0.7978845608028654 * (a + (T)0.044715 * a * a * a)) * tanh((T)0.7978845608028654 * (a + (T)0.044715 * a * a * a))) * (T)0.7978845608028654 * ((T)1 + (T)3 * (T)0.044715 * a * a))",
    |a, b| {
        let half = T::from_f64(0.5);
        let c = T::from_f64(GELU_C);
        let cubic = T::from_f64(GELU_A);
        let t = tanh_via_exp(c * (a + cubic * a * a * a));
        let slope = half * (T::one() + t) + half * a * (T::one() - t * t) * c * (T::one() + T::from_f64(3.0) * cubic * a * a);
        b * slope
    }
);
binary_op!(/** `a − b`. */ Sub, "sub", "a - b", |a, b| a - b);
binary_op!(/** `a · b`. */ Mul, "mul", "a * b", |a, b| a * b);
binary_op!(/** `a / b`. */ Div, "div", "a / b", |a, b| a / b);
binary_op!(/** `aᵇ`. */ Pow, "pow", "pow(a, b)", |a, b| a.powf(b));
binary_op!(
    /** `max(a, b)`; NaN if either is NaN. */ Maximum, "maximum",
    "(isnan(a) || a > b) ? a : b",
    |a, b| if a.is_nan() || a > b { a } else { b }
);
binary_op!(
    /** `min(a, b)`; NaN if either is NaN. */ Minimum, "minimum",
    "(isnan(a) || a < b) ? a : b",
    |a, b| if a.is_nan() || a < b { a } else { b }
);
binary_op!(/** `1` where `a = b`, else `0`. */ Eq, "eq", "(T)(a == b)", |a, b| flag(a == b));
binary_op!(/** `1` where `a ≠ b`, else `0`. */ Ne, "ne", "(T)(a != b)", |a, b| flag(a != b));
binary_op!(/** `1` where `a < b`, else `0`. */ Lt, "lt", "(T)(a < b)", |a, b| flag(a < b));
binary_op!(/** `1` where `a ≤ b`, else `0`. */ Le, "le", "(T)(a <= b)", |a, b| flag(a <= b));
binary_op!(/** `1` where `a > b`, else `0`. */ Gt, "gt", "(T)(a > b)", |a, b| flag(a > b));
binary_op!(/** `1` where `a ≥ b`, else `0`. */ Ge, "ge", "(T)(a >= b)", |a, b| flag(a >= b));

/// `Σ x`.
#[derive(Clone, Copy, Debug)]
pub struct Sum;
impl ReduceOp for Sum {
    const NAME: &'static str = "sum";
    const OPENCL_IDENTITY: &'static str = "(T)0";
    const OPENCL_COMBINE: &'static str = "acc + x";
    #[inline(always)]
    fn identity<T: Element>() -> T {
        T::zero()
    }
    #[inline(always)]
    fn combine<T: Element>(acc: T, x: T) -> T {
        acc + x
    }
}

/// `max x` (NaN wins, as in PyTorch).
#[derive(Clone, Copy, Debug)]
pub struct Max;
impl ReduceOp for Max {
    const NAME: &'static str = "max";
    const OPENCL_IDENTITY: &'static str = "-INFINITY";
    const OPENCL_COMBINE: &'static str = "(isnan(acc) || acc >= x) ? acc : x";
    #[inline(always)]
    fn identity<T: Element>() -> T {
        T::neg_infinity()
    }
    #[inline(always)]
    fn combine<T: Element>(acc: T, x: T) -> T {
        Maximum::apply(acc, x)
    }
}

/// `min x` (NaN wins, as in PyTorch).
#[derive(Clone, Copy, Debug)]
pub struct Min;
impl ReduceOp for Min {
    const NAME: &'static str = "min";
    const OPENCL_IDENTITY: &'static str = "INFINITY";
    const OPENCL_COMBINE: &'static str = "(isnan(acc) || acc <= x) ? acc : x";
    #[inline(always)]
    fn identity<T: Element>() -> T {
        T::infinity()
    }
    #[inline(always)]
    fn combine<T: Element>(acc: T, x: T) -> T {
        Minimum::apply(acc, x)
    }
}

/// Which extreme an arg-reduction looks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgKind {
    Max,
    Min,
}
