//! The complementary error function `erfc z = (2/√π)∫_z^∞ e^{−s²} ds = 1 − erf z`, which the
//! exact GELU needs (`Φ(x) = ½erfc(−x/√2)`). Rust's standard library has none, so it is written
//! here: in `f64` to near full precision (gradient checks difference it), in `f32` as a
//! branch-free formula that vectorizes (a training step runs it on every MLP activation).
//!
//! Away from 0 both use `erfc(−z) = 2 − erfc z` for negative arguments. Working from `erfc`
//! rather than `erf` keeps the tails exact in relative terms: `Φ(x)` for very negative `x` is a
//! tiny `erfc`, which `1 + erf` would round to zero.

use crate::dtype::{exp_f32_lanes_of_sum, mul_add_lanes};

/// `erfc x` in `f64`, within 5·10⁻¹⁵ relative of the exact value.
///
/// - `|x| < 1`: `erfc = 1 − erf`, with `erf z = (2/√π) e^{−z²} Σₙ 2ⁿ z^{2n+1} / (1·3···(2n+1))`,
///   a series of positive terms (no cancellation inside it), each term the previous times
///   `2z²/(2n+3)`; at most about 20 terms. (Further out, `1 − erf` cancels: at `z = 2` it
///   would lose two digits.)
/// - `|x| ≥ 1`: the continued fraction `erfc z = (e^{−z²}/√π) / (z + ½/(z + 1/(z + (3/2)/(z +
///   …))))`, 200 levels deep, evaluated from the bottom up (converged to within 6·10⁻¹⁶ from
///   `z = 1` on; `e^{−z²}` underflows to 0 past `z ≈ 27`).
pub(crate) fn erfc_f64(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    let z = x.abs();
    let tail = if z < 1.0 {
        let (mut term, mut sum, mut n) = (z, z, 0.0);
        while term > sum * 1e-17 {
            term *= 2.0 * z * z / (2.0 * n + 3.0);
            sum += term;
            n += 1.0;
        }
        1.0 - std::f64::consts::FRAC_2_SQRT_PI * (-z * z).exp() * sum
    } else {
        let mut fraction = z;
        for level in (1..=200).rev() {
            fraction = z + f64::from(level) / 2.0 / fraction;
        }
        (-z * z).exp() / (std::f64::consts::PI.sqrt() * fraction)
    };
    if x < 0.0 {
        2.0 - tail
    } else {
        tail
    }
}

/// `erfc x` in `f32` lanes, within 5 ulp of the exact value wherever that is a normal `f32` (4.9
/// at worst, near `x = 6.63`, over 4 million points and every power of 1.0001 from 10⁻⁷ to 1).
///
/// For `z = |x|` and `t = 1/(1 + z/2)`, `erfc z = t·e^{−z² + P(t)}` with `P` a degree-9
/// polynomial fitted to `ln(erfc(z)/t) + z²` on `z ∈ [0, 10]` (to 5·10⁻⁸;
/// `devices/scripts/fit_erfc.py` derives the coefficients). `z²` itself is not exact in `f32`, and
/// at `z = 4` one rounding of it moves `e^{−z²}` by 16 ulp, so `z` is split into `h` (`z` rounded
/// to a multiple of 1/256, whose square is exact) and `ℓ = z − h`: the exponent is `−h² + (P(t)
/// − ℓ(z + h))`, and [`exp_f32_lanes_of_sum`] takes its two parts without rounding their sum.
/// It flushes to 0 where the exponent is below −87.34, where `erfc` is below `f32::MIN_POSITIVE`
/// anyway (`z > 9.3`; `P(t) − ℓ(z + h)` is negative there, so a lane whose `−h²` is past that
/// limit is always one that flushes).
///
/// Every multiply-add is fused ([`mul_add_lanes`]): one rounding fewer per step, and on one
/// AVX-512 core the exact GELU over 4096×768 took 5.4–5.5 ms with the steps rounded twice and
/// 3.5–3.7 ms fused (its backward 7.3–7.5 and 4.7–4.9 ms). A CPU without FMA (x86-64 before AVX2) runs each
/// fused step as a libm call: the same numbers, far slower.
#[inline(always)]
pub(crate) fn erfc_f32_lanes(x: f32) -> f32 {
    const P: [f32; 10] = [
        -1.265448,
        0.9986328,
        0.3866404,
        0.034602802,
        0.0012675847,
        -0.08028043,
        -0.6962519,
        1.1567338,
        -0.6808272,
        0.14493021,
    ];
    // Adding and subtracting 1.5·2¹⁵ rounds a z below 2¹⁵ to a multiple of 1/256 (the lane way
    // of rounding, as in `exp_lanes`); past 2¹⁵ e^{−h²} is 0 whatever h is.
    const ROUND_TO_256THS: f32 = 49_152.0;
    let z = x.abs().min(16.0);
    let t = 1.0 / (1.0 + 0.5 * z);
    let p = P
        .iter()
        .rev()
        .fold(0.0, |acc, &c| mul_add_lanes::<true>(acc, t, c));
    let h = (z + ROUND_TO_256THS) - ROUND_TO_256THS;
    let l = z - h;
    let tail = t * exp_f32_lanes_of_sum::<true>(-(h * h), mul_add_lanes::<true>(-l, z + h, p));
    let far = if x < 0.0 { 2.0 - tail } else { tail };
    // Below |x| = ½ the two exponentials' roundings are most of erfc's few ulps, so there it is
    // 1 − erf x, erf by its Maclaurin series (2/√π)·Σₙ (−1)ⁿ x^{2n+1}/(n!(2n + 1)) to n = 6
    // (the next term is below 10⁻¹⁰ of erf there).
    const MACLAURIN: [f32; 7] = [
        1.0,
        -1.0 / 3.0,
        1.0 / 10.0,
        -1.0 / 42.0,
        1.0 / 216.0,
        -1.0 / 1320.0,
        1.0 / 9360.0,
    ];
    let x2 = x * x;
    let series = MACLAURIN
        .iter()
        .rev()
        .fold(0.0, |acc, &c| mul_add_lanes::<true>(acc, x2, c));
    let near = mul_add_lanes::<true>(-std::f32::consts::FRAC_2_SQRT_PI * x, series, 1.0);
    if x.is_nan() {
        x
    } else if z < 0.5 {
        near
    } else {
        far
    }
}

#[cfg(test)]
mod tests {
    use super::{erfc_f32_lanes, erfc_f64};

    /// `erfc`, computed with 30 significant digits (mpmath) and rounded to the nearest f64.
    const EXACT: [(f64, f64); 23] = [
        (-3.0, 1.9999779095030015),
        (-1.0, 1.8427007929497148),
        (-0.5, 1.5204998778130465),
        (-1e-3, 1.0011283787909693),
        (0.0, 1.0),
        (1e-8, 0.9999999887162083),
        (0.25, 0.7236736098317631),
        (0.5, 0.4795001221869535),
        (0.999, 0.15771472979350307),
        (1.0, 0.15729920705028513),
        (1.001, 0.15688451452192367),
        (1.4, 0.04771488023735119),
        (1.5, 0.033894853524689274),
        (1.99, 0.004888586800383002),
        (1.9935, 0.004813830050981544),
        (2.0, 0.004677734981047266),
        (2.01, 0.004475150644751759),
        (2.5, 0.0004069520174449589),
        (3.0, 2.209049699858544e-05),
        (5.0, 1.537459794428035e-12),
        (9.0, 4.13703174651381e-37),
        (15.0, 7.212994172451207e-100),
        (26.0, 5.663192408856143e-296),
    ];

    #[test]
    fn the_f64_erfc_matches_reference_values() {
        for (x, want) in EXACT {
            let got = erfc_f64(x);
            assert!(
                (got - want).abs() <= 5e-15 * want,
                "erfc({x}) = {got}, want {want}"
            );
        }
        assert_eq!(erfc_f64(40.0), 0.0);
        assert_eq!(erfc_f64(f64::INFINITY), 0.0);
        assert_eq!(erfc_f64(f64::NEG_INFINITY), 2.0);
        assert!(erfc_f64(f64::NAN).is_nan());
    }

    /// Against the f64 function (itself checked above) on a fine grid of the range where
    /// `erfc` is a normal f32, and at the edges.
    #[test]
    fn the_f32_erfc_is_within_five_ulp() {
        let mut worst = 0f64;
        let mut check = |x: f32| {
            let want = erfc_f64(x as f64);
            if want >= f32::MIN_POSITIVE as f64 {
                let got = erfc_f32_lanes(x) as f64;
                // ulp of the result: 2^(exponent − 23).
                let ulp = 2f64.powi(want.log2().floor() as i32 - 23);
                worst = worst.max((got - want).abs() / ulp);
            }
        };
        for i in 0..=4_000_000 {
            check(-9.0 + 18.3 * i as f32 / 4_000_000.0);
        }
        // Near 0, where the grid is coarse for erfc's slope: every power of 1.0001 up to 1.
        let mut x = 1e-7f32;
        while x < 1.0 {
            check(x);
            check(-x);
            x *= 1.0001;
        }
        assert!(worst <= 5.0, "worst error {worst} ulp");
        for (x, want) in [(0.0f32, 1.0f32), (-20.0, 2.0), (20.0, 0.0)] {
            assert_eq!(erfc_f32_lanes(x), want, "erfc({x})");
        }
        assert_eq!(erfc_f32_lanes(f32::INFINITY), 0.0);
        assert_eq!(erfc_f32_lanes(f32::NEG_INFINITY), 2.0);
        assert!(erfc_f32_lanes(f32::NAN).is_nan());
    }
}
