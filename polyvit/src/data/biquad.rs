//! Second-order (biquad) filters from the RBJ audio-EQ cookbook, run in direct form I: the
//! random telephone channel of the spoken-digit augmentation and the high-pass that new speech
//! recordings pass through.
//!
//! A section computes `y[n] = b0 x[n] + b1 x[n−1] + b2 x[n−2] − a1 y[n−1] − a2 y[n−2]` (all
//! coefficients divided by `a0`), with `x` and `y` zero before the first sample. With
//! `w0 = 2π f / rate` and `α = sin w0 / (2Q)`:
//!
//! | kind | b0, b1, b2 | a0, a1, a2 |
//! |---|---|---|
//! | low-pass | (1 − cos w0)/2, 1 − cos w0, (1 − cos w0)/2 | 1 + α, −2 cos w0, 1 − α |
//! | high-pass | (1 + cos w0)/2, −(1 + cos w0), (1 + cos w0)/2 | 1 + α, −2 cos w0, 1 − α |
//! | peaking (gain g dB, A = 10^(g/40)) | 1 + αA, −2 cos w0, 1 − αA | 1 + α/A, −2 cos w0, 1 − α/A |

use std::f64::consts::PI;

/// What a [`Biquad`] does to the frequencies around its corner.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BiquadKind {
    /// Passes what is below the corner, −12 dB per octave above it.
    LowPass,
    /// Passes what is above the corner, −12 dB per octave below it.
    HighPass,
    /// Raises (or, negative, lowers) a band around the corner by `gain_db`.
    Peaking {
        /// The gain at the corner in decibels (`A = 10^(gain_db/40)` in the table above); `q`
        /// sets how wide the band is.
        gain_db: f64,
    },
}

/// The quality factor of a Butterworth section (maximally flat pass band).
pub const BUTTERWORTH_Q: f64 = std::f64::consts::FRAC_1_SQRT_2;

/// One biquad section, its coefficients normalized by `a0`.
#[derive(Debug, Clone, PartialEq)]
pub struct Biquad {
    b: [f64; 3],
    a: [f64; 2],
}

impl Biquad {
    /// A `kind` filter with its corner at `freq` Hz for signals at `rate` Hz, quality `q` (a
    /// corner at or above Nyquist is held just below it).
    pub fn new(kind: BiquadKind, freq: f64, rate: f64, q: f64) -> Self {
        let w0 = 2.0 * PI * (freq / rate).min(0.49);
        let (sin, cos) = w0.sin_cos();
        let alpha = sin / (2.0 * q);
        let (b, a) = match kind {
            BiquadKind::LowPass => (
                [(1.0 - cos) / 2.0, 1.0 - cos, (1.0 - cos) / 2.0],
                [1.0 + alpha, -2.0 * cos, 1.0 - alpha],
            ),
            BiquadKind::HighPass => (
                [(1.0 + cos) / 2.0, -(1.0 + cos), (1.0 + cos) / 2.0],
                [1.0 + alpha, -2.0 * cos, 1.0 - alpha],
            ),
            BiquadKind::Peaking { gain_db } => {
                let amp = 10f64.powf(gain_db / 40.0);
                (
                    [1.0 + alpha * amp, -2.0 * cos, 1.0 - alpha * amp],
                    [1.0 + alpha / amp, -2.0 * cos, 1.0 - alpha / amp],
                )
            }
        };
        Self {
            b: b.map(|v| v / a[0]),
            a: [a[1] / a[0], a[2] / a[0]],
        }
    }

    /// Filters `x` in place.
    pub fn run(&self, x: &mut [f64]) {
        let (mut x1, mut x2, mut y1, mut y2) = (0.0, 0.0, 0.0, 0.0);
        for v in x.iter_mut() {
            let y =
                self.b[0] * *v + self.b[1] * x1 + self.b[2] * x2 - self.a[0] * y1 - self.a[1] * y2;
            (x2, x1, y2, y1) = (x1, *v, y1, y);
            *v = y;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::test_util::sine;

    fn rms(x: &[f64]) -> f64 {
        (x.iter().map(|v| v * v).sum::<f64>() / x.len() as f64).sqrt()
    }

    /// The gain of `filter` on a steady tone of `f` Hz at 8 kHz (its first half second, the
    /// filter's transient, left out).
    fn gain(filter: &Biquad, f: f64) -> f64 {
        let tone: Vec<f64> = sine(f, 8000, 8000).into_iter().map(f64::from).collect();
        let mut x = tone.clone();
        filter.run(&mut x);
        rms(&x[4000..]) / rms(&tone[4000..])
    }

    #[test]
    fn filters_pass_and_stop_where_they_should() {
        let butterworth = |kind| Biquad::new(kind, 1000.0, 8000.0, BUTTERWORTH_Q);
        let low = butterworth(BiquadKind::LowPass);
        assert!(gain(&low, 200.0) > 0.98 && gain(&low, 3500.0) < 0.05);
        let high = butterworth(BiquadKind::HighPass);
        assert!(gain(&high, 3500.0) > 0.98 && gain(&high, 100.0) < 0.02);
        // A Butterworth section is 3 dB down at its corner.
        assert!((gain(&high, 1000.0) - BUTTERWORTH_Q).abs() < 0.01);
        let peak = Biquad::new(BiquadKind::Peaking { gain_db: 6.0 }, 1000.0, 8000.0, 1.0);
        let g = gain(&peak, 1000.0);
        assert!((g - 10f64.powf(6.0 / 20.0)).abs() < 0.02, "peak gain {g}");
        assert!((gain(&peak, 100.0) - 1.0).abs() < 0.02);
    }
}
