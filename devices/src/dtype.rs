//! Element types: the numbers a buffer can hold.
//!
//! Training runs in `f32`; `f64` exists so gradient checks by finite differences are precise.

use std::fmt;

/// The runtime tag of an element type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DType {
    /// 32-bit IEEE 754 (`f32`): training.
    F32,
    /// 64-bit IEEE 754 (`f64`): gradient checks and references.
    F64,
}

impl DType {
    /// Bytes per element.
    pub fn size_in_bytes(self) -> usize {
        match self {
            DType::F32 => 4,
            DType::F64 => 8,
        }
    }

    /// The largest `n` such that every integer in `0..=n` has an exact value of this type:
    /// `2²⁴` for `f32`, `2⁵³` for `f64` (one past it rounds to a neighbour).
    pub fn largest_exact_integer(self) -> u64 {
        match self {
            DType::F32 => 1 << f32::MANTISSA_DIGITS,
            DType::F64 => 1 << f64::MANTISSA_DIGITS,
        }
    }

    /// The OpenCL C spelling of this type.
    pub fn opencl_name(self) -> &'static str {
        match self {
            DType::F32 => "float",
            DType::F64 => "double",
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DType::F32 => f.write_str("f32"),
            DType::F64 => f.write_str("f64"),
        }
    }
}

/// A Rust scalar type that can live in a buffer.
pub trait Element:
    num_traits::Float
    + Copy
    + Default
    + Send
    + Sync
    + fmt::Debug
    + fmt::Display
    + std::iter::Sum
    + 'static
{
    /// The runtime tag of `Self`.
    const DTYPE: DType;

    /// Converts from `f64`, rounding to the nearest representable value.
    fn from_f64(value: f64) -> Self;

    /// Converts to `f64` exactly.
    fn to_f64(self) -> f64;

    /// `eˣ` written so that a loop of it vectorizes: for `f32` a branch-free polynomial (within
    /// 2 ulp on the finite range, `0` below −126·ln 2 ≈ −87.34, where `eˣ` is smaller than the
    /// smallest normal f32, saturating at `e^88` above 88, NaN for NaN);
    /// for `f64` (gradient checks) libm's `exp`. For uses that tolerate a saturated tail, such as
    /// `tanh u = 1 − 2/(e^{2u} + 1)`.
    fn exp_lanes(self) -> Self;

    /// `erfc x = 1 − erf x`, the complementary error function (Rust's standard library has
    /// none): for `f32` branch-free formulas within 5 ulp that vectorize, for `f64` a series and
    /// a continued fraction within 5·10⁻¹⁵ relative (see `erfc.rs`).
    fn erfc(self) -> Self;
}

/// `eˣ` in f32 lanes ([`exp_f32_lanes_of_sum`] with nothing to add, each step rounded).
///
/// Fused steps made softmax 15 % and the tanh-form GELU 20 % faster alone (8320×65 and
/// 4096×768 on one AVX-512 core) but left every training step within noise, and they would move
/// every result of the default run and the recorded experiments by a rounding; so this
/// exponential, which training runs on, keeps its separate roundings.
#[inline(always)]
fn exp_f32_lanes(x: f32) -> f32 {
    // Adding −0 changes no value (x + −0 = x, for x = −0 too), so the compiler drops it: this is
    // the one-argument exponential, instruction for instruction.
    exp_f32_lanes_of_sum::<false>(x, -0.0)
}

/// `a·b + c`, rounded once (`FUSED`: a fused multiply-add where the kernel's ISA has one, a
/// libm call where it has not) or twice.
#[inline(always)]
pub(crate) fn mul_add_lanes<const FUSED: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FUSED {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// `e^{x + small}` in f32 lanes, for an `x` whose every bit matters and a `small` (|small| ≲ 2)
/// that the sum `x + small` would round away. `x + small = n·ln 2 + r` with `|r| ≤ ln 2 / 2`,
/// `r` formed as `(x − n·ln 2ₕᵢ) − n·ln 2ₗₒ + small`, `eʳ` by a degree-6 polynomial (Cephes'
/// `expf` coefficients), `2ⁿ` by building the exponent bits; each step `a·b + c` fused or not
/// as [`mul_add_lanes`]. `ln 2ₕᵢ` has 9 significant bits and `|n| ≤ 127`, so `n·ln 2ₕᵢ` is
/// exact, and so is the difference from `x` where it fits 24 bits: always when `small` is 0
/// (Sterbenz's lemma), and for the exact `erfc`'s `x = −h²`, a multiple of 2⁻¹⁶. Within 2 ulp
/// on the finite range, `0` where `x + small` is below −126·ln 2 ≈ −87.34 (smaller than the
/// smallest normal f32), saturating near `e^88` where `x` is above 88, NaN for NaN.
///
/// Every step is a lane operation: `n` is rounded by adding 1.5·2²³ (no `floor`, which on the
/// baseline x86-64 target is a libm call), and the integer `n` is read from that sum's low
/// mantissa bits rather than by `n as i32`, whose saturating, NaN-checking conversion compiles
/// to one scalar instruction sequence per lane and kept the whole loop scalar.
#[inline(always)]
pub(crate) fn exp_f32_lanes_of_sum<const FUSED: bool>(x: f32, small: f32) -> f32 {
    const LOG2_E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    const ROUND: f32 = 12_582_912.0;
    // The f32 just below −126·ln 2: from here down, eˣ < f32::MIN_POSITIVE and is returned as 0.
    const FLUSH_BELOW: f32 = -87.336_55;
    let madd = mul_add_lanes::<FUSED>;
    let sum = x + small;
    let clamped = x.clamp(FLUSH_BELOW, 88.0);
    // |n| ≤ 127 after the clamp, so the sum below stays in ROUND's binade, where one unit of the
    // last place is 1: its bits are ROUND's plus the rounded n.
    let shifted = sum.clamp(FLUSH_BELOW, 88.0) * LOG2_E + ROUND;
    let n = shifted - ROUND;
    let r = madd(n, -LN2_LO, madd(n, -LN2_HI, clamped)) + small;
    let p = [
        1.398_199_9e-3,
        8.333_452e-3,
        4.166_579_6e-2,
        0.166_666_65,
        0.5,
    ]
    .into_iter()
    .fold(1.987_569_1e-4, |acc, c| madd(acc, r, c));
    let e_r = madd(p * r, r, r) + 1.0;
    // n ∈ [−126, 127] after the clamp, so the biased exponent n + 127 is a normal one.
    let biased = shifted
        .to_bits()
        .wrapping_sub(ROUND.to_bits())
        .wrapping_add(127);
    let scale = f32::from_bits(biased << 23);
    let e = if sum < FLUSH_BELOW { 0.0 } else { e_r * scale };
    if sum.is_nan() {
        sum
    } else {
        e
    }
}

impl Element for f32 {
    const DTYPE: DType = DType::F32;
    fn from_f64(value: f64) -> Self {
        value as f32
    }
    fn to_f64(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn exp_lanes(self) -> Self {
        exp_f32_lanes(self)
    }
    #[inline(always)]
    fn erfc(self) -> Self {
        crate::erfc::erfc_f32_lanes(self)
    }
}

impl Element for f64 {
    const DTYPE: DType = DType::F64;
    fn from_f64(value: f64) -> Self {
        value
    }
    fn to_f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn exp_lanes(self) -> Self {
        self.exp()
    }
    fn erfc(self) -> Self {
        crate::erfc::erfc_f64(self)
    }
}

#[cfg(test)]
mod tests {
    use super::exp_f32_lanes;

    /// Against f64's `exp` over the finite range, at the clamps and on non-finite inputs.
    #[test]
    fn the_f32_lane_exp_is_within_two_ulp() {
        let mut worst = 0f64;
        for i in 0..=200_000 {
            let x = -87.0 + 175.0 * i as f32 / 200_000.0;
            let want = (x as f64).exp();
            let got = exp_f32_lanes(x) as f64;
            worst = worst.max((got - want).abs() / (want * f32::EPSILON as f64));
        }
        assert!(worst <= 2.0, "worst error {worst} ulp");
        assert_eq!(exp_f32_lanes(0.0), 1.0);
        assert_eq!(exp_f32_lanes(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp_f32_lanes(-100.0), 0.0);
        // The smallest normal results are kept (a softmax test once met e^−87.32 flushed to 0),
        // and only results below f32::MIN_POSITIVE are flushed.
        for x in [-87.336_54f32, -87.33, -87.32, -87.3] {
            let (got, want) = (exp_f32_lanes(x) as f64, (x as f64).exp());
            assert!(
                (got - want).abs() <= 2.0 * want * f32::EPSILON as f64,
                "e^{x}: {got} vs {want}"
            );
        }
        assert_eq!(exp_f32_lanes(-87.34), 0.0);
        assert!((-87.336_548f64).exp() < f32::MIN_POSITIVE as f64);
        assert!(exp_f32_lanes(f32::INFINITY) > 1e38);
        assert!(exp_f32_lanes(f32::NAN).is_nan());
    }
}
