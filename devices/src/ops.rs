//! Element-wise and reduction operations, each defined exactly once.
//!
//! An op is a type carrying its name, its scalar Rust function (what the CPU backend runs) and its
//! OpenCL C expression (what the OpenCL backend splices into one templated kernel). Kernels are
//! generic over the op type, so the CPU loops are monomorphized and inlined per op.
//!
//! The three op traits are `unsafe` to implement: an op's OpenCL text is compiled into a kernel
//! as it is, so text that is not a plain expression (one that ends the function, defines a
//! macro, writes through a pointer) would let the kernel touch memory outside its buffers,
//! which PoCL runs in this very process. The ops of this module are plain expressions.

use crate::Element;

/// `y = f(x)`, applied to every element.
///
/// # Safety
///
/// `OPENCL` must be a side-effect-free OpenCL C expression of `x` (and of constants): no
/// statement, no `#` directive, no unbalanced bracket, no pointer, no call but to OpenCL's
/// built-in math functions and `common.cl`'s. The OpenCL backend splices it into a kernel as it
/// is and relies on it touching nothing but `x`.
pub unsafe trait UnaryOp: Send + Sync + 'static {
    /// The op's name in messages and in OpenCL kernel names.
    const NAME: &'static str;
    /// OpenCL C expression of the result in terms of `x` (of type `T`).
    const OPENCL: &'static str;
    /// `f(x)` for one element: what the CPU runs.
    fn apply<T: Element>(x: T) -> T;
}

/// `z = f(a, b)`, applied to every pair of (broadcast) elements.
///
/// # Safety
///
/// `OPENCL` must be a side-effect-free OpenCL C expression of `a` and `b`, as
/// [`UnaryOp::OPENCL`] is of `x`.
pub unsafe trait BinaryOp: Send + Sync + 'static {
    /// The op's name in messages and in OpenCL kernel names.
    const NAME: &'static str;
    /// OpenCL C expression of the result in terms of `a` and `b` (of type `T`).
    const OPENCL: &'static str;
    /// `f(a, b)` for one pair of elements: what the CPU runs.
    fn apply<T: Element>(a: T, b: T) -> T;
}

/// A fold `acc = combine(acc, map(x))` over the elements `x`, starting from `identity`.
///
/// # Safety
///
/// `OPENCL_IDENTITY` (of nothing), `OPENCL_MAP` (of `x`) and `OPENCL_COMBINE` (of `acc` and `x`)
/// must be side-effect-free OpenCL C expressions, as [`UnaryOp::OPENCL`] is.
pub unsafe trait ReduceOp: Send + Sync + 'static {
    /// The op's name in messages and in OpenCL kernel names.
    const NAME: &'static str;
    /// Whether a fold over no elements is defined (it gives the identity); where it is not
    /// (`max`, `min`), reducing an empty axis is an error, as in PyTorch.
    const DEFINED_WHEN_EMPTY: bool;
    /// OpenCL C expression of the identity element.
    const OPENCL_IDENTITY: &'static str;
    /// OpenCL C expression of what each element `x` contributes.
    const OPENCL_MAP: &'static str;
    /// OpenCL C expression combining `acc` and `x` (a contribution or another partial fold).
    const OPENCL_COMBINE: &'static str;
    /// The fold's starting value: what a fold over no elements gives, where that is defined.
    fn identity<T: Element>() -> T;
    /// What one element contributes to the fold (`x` itself, or `x²` for a sum of squares).
    fn map<T: Element>(x: T) -> T;
    /// Combines a partial fold with a contribution or with another partial fold, so the
    /// contributions can be folded in several partial folds and those combined.
    fn combine<T: Element>(acc: T, x: T) -> T;
}

/// Calls [`UnaryVisitor::visit`] once per unary op: lets tests (and backends) enumerate every op
/// without a hand-written list that a new op could be left out of.
pub trait UnaryVisitor {
    /// Called once with each unary op as `Op`.
    fn visit<Op: UnaryOp>(&mut self);
}

/// Like [`UnaryVisitor`] for the binary ops.
pub trait BinaryVisitor {
    /// Called once with each binary op as `Op`.
    fn visit<Op: BinaryOp>(&mut self);
}

/// Like [`UnaryVisitor`] for the reductions.
pub trait ReduceVisitor {
    /// Called once with each reduction as `Op`.
    fn visit<Op: ReduceOp>(&mut self);
}

/// Defines every unary op (a unit struct and its [`UnaryOp`] impl) and [`for_each_unary_op`],
/// from one list, so the enumeration cannot miss an op.
macro_rules! unary_ops {
    ($($(#[$doc:meta])* $name:ident, $label:literal, $cl:literal, |$x:ident| $body:expr;)*) => {
        $(
            $(#[$doc])*
            #[derive(Clone, Copy, Debug)]
            pub struct $name;
            // SAFETY: the OpenCL text of each op listed in this module is a plain expression
            // of `x`.
            unsafe impl UnaryOp for $name {
                const NAME: &'static str = $label;
                const OPENCL: &'static str = $cl;
                #[inline(always)]
                fn apply<T: Element>($x: T) -> T {
                    $body
                }
            }
        )*

        /// Visits every unary op of this module, in definition order.
        pub fn for_each_unary_op(visitor: &mut impl UnaryVisitor) {
            $(visitor.visit::<$name>();)*
        }
    };
}

/// Defines every binary op and [`for_each_binary_op`] from one list (see `unary_ops!`).
macro_rules! binary_ops {
    ($($(#[$doc:meta])* $name:ident, $label:literal, $cl:literal, |$a:ident, $b:ident| $body:expr;)*) => {
        $(
            $(#[$doc])*
            #[derive(Clone, Copy, Debug)]
            pub struct $name;
            // SAFETY: the OpenCL text of each op listed in this module is a plain expression of
            // `a` and `b`.
            unsafe impl BinaryOp for $name {
                const NAME: &'static str = $label;
                const OPENCL: &'static str = $cl;
                #[inline(always)]
                fn apply<T: Element>($a: T, $b: T) -> T {
                    $body
                }
            }
        )*

        /// Visits every binary op of this module, in definition order.
        pub fn for_each_binary_op(visitor: &mut impl BinaryVisitor) {
            $(visitor.visit::<$name>();)*
        }
    };
}

/// Defines every reduction and [`for_each_reduce_op`] from one list (see `unary_ops!`).
macro_rules! reduce_ops {
    ($($(#[$doc:meta])* $name:ident, $label:literal, empty: $empty:literal,
       identity: $cl_id:literal => $id:expr,
       map: $cl_map:literal => |$m:ident| $map:expr,
       combine: $cl_combine:literal => |$acc:ident, $x:ident| $body:expr;)*) => {
        $(
            $(#[$doc])*
            #[derive(Clone, Copy, Debug)]
            pub struct $name;
            // SAFETY: every OpenCL text of this module's reductions is a plain expression.
            unsafe impl ReduceOp for $name {
                const NAME: &'static str = $label;
                const DEFINED_WHEN_EMPTY: bool = $empty;
                const OPENCL_IDENTITY: &'static str = $cl_id;
                const OPENCL_MAP: &'static str = $cl_map;
                const OPENCL_COMBINE: &'static str = $cl_combine;
                #[inline(always)]
                fn identity<T: Element>() -> T {
                    $id
                }
                #[inline(always)]
                fn map<T: Element>($m: T) -> T {
                    $map
                }
                #[inline(always)]
                fn combine<T: Element>($acc: T, $x: T) -> T {
                    $body
                }
            }
        )*

        /// Visits every reduction of this module, in definition order.
        pub fn for_each_reduce_op(visitor: &mut impl ReduceVisitor) {
            $(visitor.visit::<$name>();)*
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

/// `tanh u = 1 − 2/(e^{2u} + 1)` (the OpenCL kernels define `tanh_via_exp` with the same formula,
/// see `opencl/kernels/common.cl`): one `exp` instead of libm's `tanh` (which goes through the
/// slower `expm1`), and that `exp` is `Element::exp_lanes`, so GELU's loops vectorize. Exact at
/// both tails (±1 once `e^{2u}` saturates); its absolute error near 0 is a few ulps of 1, which
/// is all GELU needs since it only ever uses `1 ± tanh u`. Far out on the negative side `1 +
/// tanh u` cancels, so GELU's *relative* error grows there (in f32 about −30 % at x = −4.8,
/// where PyTorch's tanh form is 1.4 % off the exact value), while its absolute error stays a
/// few 10⁻⁷ on values below 10⁻⁵: nothing a training step feels. Writing `½(1 + tanh u)` as
/// `σ(2u)` would mend the tail, and change the numbers of every run recorded in the guides.
#[inline(always)]
fn tanh_via_exp<T: Element>(u: T) -> T {
    let two = T::from_f64(2.0);
    T::one() - two / ((two * u).exp_lanes() + T::one())
}

/// `√(2/π)`, the scale inside the tanh form of GELU (OpenCL's `GELU_C`, defined from it).
pub(crate) const GELU_C: f64 = 0.797_884_560_802_865_4;
/// The cubic coefficient of the tanh form of GELU (OpenCL's `GELU_A`, defined from it).
pub(crate) const GELU_A: f64 = 0.044_715;
/// `1/√2`, which turns the normal CDF into `erfc`: `Φ(x) = ½erfc(−x/√2)` (OpenCL's `SQRT_HALF`).
pub(crate) const SQRT_HALF: f64 = std::f64::consts::FRAC_1_SQRT_2;
/// `1/√(2π)`, the normal density's scale: `φ(x) = e^{−x²/2}/√(2π)` (OpenCL's `INV_SQRT_2PI`).
pub(crate) const INV_SQRT_2PI: f64 = 0.398_942_280_401_432_7;

unary_ops! {
    /** `y = x` (a copy). */ Identity, "identity", "x", |x| x;
    /** `y = -x`. */ Neg, "neg", "-x", |x| -x;
    /** `y = eˣ`. */ Exp, "exp", "exp(x)", |x| x.exp();
    /** `y = ln x`. */ Log, "log", "log(x)", |x| x.ln();
    /** `y = √x`. */ Sqrt, "sqrt", "sqrt(x)", |x| x.sqrt();
    /** `y = tanh x`. OpenCL's builtin may stop one ulp short of ±1 (PoCL's f32 `tanh` gives
        ±0.99999994 from 9 to ∞), which would leave `1 − y²` a slope where there is none; past
        the point where `tanh x` rounds to ±1 (`|x| > 13·ln 2` in f32, `27.5·ln 2` in f64) the
        expression gives ±1 itself. */
        Tanh, "tanh",
        "(fabs(x) > (sizeof(T) == 4 ? (T)9.011 : (T)19.062)) ? copysign((T)1, x) : tanh(x)",
        |x| x.tanh();
    /** `y = sin x` (radians). */ Sin, "sin", "sin(x)", |x| x.sin();
    /** `y = cos x` (radians). */ Cos, "cos", "cos(x)", |x| x.cos();
    /** `y = |x|`. */ Abs, "abs", "fabs(x)", |x| x.abs();
    /** `y = 1/x`. */ Recip, "recip", "(T)1 / x", |x| x.recip();
    /** `y = sign(x)` in {-1, 0, 1}. */ Sign, "sign",
        "(x > (T)0) ? (T)1 : ((x < (T)0) ? (T)-1 : (T)0)",
        |x| if x > T::zero() { T::one() } else if x < T::zero() { -T::one() } else { T::zero() };
    /** `y = 1 / (1 + e⁻ˣ)`, computed without overflow for large `|x|`. */ Sigmoid, "sigmoid",
        "(x >= (T)0) ? (T)1 / ((T)1 + exp(-x)) : exp(x) / ((T)1 + exp(x))",
        |x| if x >= T::zero() { T::one() / (T::one() + (-x).exp()) } else { let e = x.exp(); e / (T::one() + e) };
    /** `y = ln(1 + eˣ)`, computed as `max(x, 0) + ln(1 + e^{−|x|})` so it never overflows. */
        Softplus, "softplus",
        "fmax(x, (T)0) + log1p(exp(-fabs(x)))",
        |x| x.max(T::zero()) + (-x.abs()).exp().ln_1p();
    /** `y = max(x, 0)`; NaN stays NaN (as in PyTorch), so a NaN upstream is not hidden. */
        Relu, "relu", "(x < (T)0) ? (T)0 : x", |x| if x < T::zero() { T::zero() } else { x };
    /// GELU, tanh form: `y = ½x(1 + tanh(c(x + a x³)))` with `c = √(2/π)`, `a = 0.044715`; the
    /// tanh is `tanh_via_exp` on both sides (OpenCL's `gelu_tanh` in `common.cl` computes it with
    /// the helper of that name, which has the same formula).
        GeluTanh, "gelu_tanh",
        "(T)0.5 * x * ((T)1 + gelu_tanh(x))",
        |x| {
            let half = T::from_f64(0.5);
            let inner = T::from_f64(GELU_C) * (x + T::from_f64(GELU_A) * x * x * x);
            half * x * (T::one() + tanh_via_exp(inner))
        };
    /// GELU, exact (erf) form, as `torch.nn.GELU()` and timm's ViTs: `y = x·Φ(x)` with the
    /// normal CDF `Φ(x) = ½(1 + erf(x/√2)) = ½erfc(−x/√2)`; through `erfc`, so the negative tail
    /// (a tiny `Φ`) keeps its relative precision.
        GeluErf, "gelu_erf",
        "(T)0.5 * x * erfc(-x * SQRT_HALF)",
        |x| T::from_f64(0.5) * x * (-x * T::from_f64(SQRT_HALF)).erfc();
}

binary_ops! {
    /** `a + b`. */ Add, "add", "a + b", |a, b| a + b;
    /// The backward pass of the tanh-form GELU in one sweep: `a` is GELU's input `x`, `b` the
    /// gradient of its output. With `u = c(x + a₃x³)` and `t = tanh u` (computed as
    /// `tanh_via_exp`, on both sides), `b · (½(1 + t) + ½x(1 − t²)·c(1 + 3a₃x²))` (OpenCL's
    /// `gelu_tanh_slope` in `common.cl`, in the same order). The forward's tail cancellation
    /// (see `tanh_via_exp`) is in `½(1 + t)` here too: for x from −3 to −9 the slope is within
    /// 1.6·10⁻⁶ of the exact tanh form's in f32 (PyTorch's 4.7·10⁻⁷) and 10⁻¹⁴ in f64, on slopes
    /// below 10⁻⁵, so its relative error there is large (a slope of 2·10⁻⁶ may come out 0 or
    /// twice that).
        GeluTanhBackward, "gelu_tanh_backward",
        "b * gelu_tanh_slope(a)",
        |a, b| {
            let half = T::from_f64(0.5);
            let c = T::from_f64(GELU_C);
            let cubic = T::from_f64(GELU_A);
            let t = tanh_via_exp(c * (a + cubic * a * a * a));
            let slope = half * (T::one() + t) + half * a * (T::one() - t * t) * c * (T::one() + T::from_f64(3.0) * cubic * a * a);
            b * slope
        };
    /// The backward pass of the exact GELU in one sweep: `a` is its input `x`, `b` the gradient
    /// of its output: `b · (Φ(x) + x·φ(x))`, with `Φ(x) = ½erfc(−x/√2)` and the normal density
    /// `φ(x) = e^{−x²/2}/√(2π)` (OpenCL's `gelu_erf_slope` in `common.cl`).
        GeluErfBackward, "gelu_erf_backward",
        "b * gelu_erf_slope(a)",
        |a, b| {
            let half = T::from_f64(0.5);
            let cdf = half * (-a * T::from_f64(SQRT_HALF)).erfc();
            let density = (-half * a * a).exp_lanes() * T::from_f64(INV_SQRT_2PI);
            b * (cdf + a * density)
        };
    /** `a − b`. */ Sub, "sub", "a - b", |a, b| a - b;
    /** `a · b`. */ Mul, "mul", "a * b", |a, b| a * b;
    /// `a · b`, but `0` wherever `a = 0`, whatever `b` is: a zero weight masks an infinite or NaN
    /// `b` (`0 · log 0 = 0` in a cross-entropy, where `Mul` gives NaN).
        ZeroSafeMul, "zero_safe_mul",
        "(a == (T)0) ? (T)0 : a * b",
        |a, b| if a == T::zero() { T::zero() } else { a * b };
    /** `a / b`. */ Div, "div", "a / b", |a, b| a / b;
    /** `aᵇ`. */ Pow, "pow", "pow(a, b)", |a, b| a.powf(b);
    /** `max(a, b)`; NaN if either is NaN. */ Maximum, "maximum",
        "(isnan(a) || a > b) ? a : b",
        |a, b| if a.is_nan() || a > b { a } else { b };
    /** `min(a, b)`; NaN if either is NaN. */ Minimum, "minimum",
        "(isnan(a) || a < b) ? a : b",
        |a, b| if a.is_nan() || a < b { a } else { b };
    /** `1` where `a = b`, else `0`. */ Eq, "eq", "(T)(a == b)", |a, b| flag(a == b);
    /** `1` where `a ≠ b`, else `0`. */ Ne, "ne", "(T)(a != b)", |a, b| flag(a != b);
    /** `1` where `a < b`, else `0`. */ Lt, "lt", "(T)(a < b)", |a, b| flag(a < b);
    /** `1` where `a ≤ b`, else `0`. */ Le, "le", "(T)(a <= b)", |a, b| flag(a <= b);
    /** `1` where `a > b`, else `0`. */ Gt, "gt", "(T)(a > b)", |a, b| flag(a > b);
    /** `1` where `a ≥ b`, else `0`. */ Ge, "ge", "(T)(a >= b)", |a, b| flag(a >= b);
}

reduce_ops! {
    /// `Σ x`.
    Sum, "sum", empty: true, identity: "(T)0" => T::zero(), map: "x" => |x| x,
        combine: "acc + x" => |acc, x| acc + x;
    /// `Σ x²`, each square rounded as `Mul` rounds it: the same numbers as squaring and then
    /// summing, without the squares' pass over memory (a gradient's norm).
    SumOfSquares, "sum_of_squares", empty: true, identity: "(T)0" => T::zero(),
        map: "x * x" => |x| x * x,
        combine: "acc + x" => |acc, x| acc + x;
    /// `max x` (NaN wins, as in PyTorch).
    Max, "max", empty: false, identity: "-INFINITY" => T::neg_infinity(), map: "x" => |x| x,
        combine: "(isnan(acc) || acc > x) ? acc : x" => |acc, x| Maximum::apply(acc, x);
    /// `min x` (NaN wins, as in PyTorch).
    Min, "min", empty: false, identity: "INFINITY" => T::infinity(), map: "x" => |x| x,
        combine: "(isnan(acc) || acc < x) ? acc : x" => |acc, x| Minimum::apply(acc, x);
}

/// Which extreme an arg-reduction looks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgKind {
    /// The index of the largest element (`argmax`).
    Max,
    /// The index of the smallest element (`argmin`).
    Min,
}

impl ArgKind {
    /// The op's name in messages: `argmax` or `argmin`.
    pub fn name(self) -> &'static str {
        match self {
            ArgKind::Max => "argmax",
            ArgKind::Min => "argmin",
        }
    }
}
