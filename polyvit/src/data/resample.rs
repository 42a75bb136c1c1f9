//! Band-limited sample-rate conversion by windowed-sinc interpolation.
//!
//! Each output sample at input time `t` is `Σ_k x[k] · c · sinc(c (t − k)) · w((t − k) / W)`,
//! where `c = 0.95 · min(1, to / from)` is the low-pass cutoff (its −6 dB point) as a fraction
//! of the input Nyquist frequency, `W = 16 / c` input samples is the half-width (16 zero
//! crossings each side), and `w` is a Blackman window. Samples outside the signal count as
//! zeros. The window spreads the cutoff over a transition band: from 44.1 to 8 kHz, a tone at
//! 0.85 of the output Nyquist frequency loses 0.3 dB, at 0.9 1.8 dB, at 0.95 6 dB, and above it
//! 30 dB at 1.05, 61 dB at 1.1 and 84 dB at 1.15 (the window's stop band, past −74 dB, starts
//! near 1.13). So downsampling folds what lies up to 13 % above the new Nyquist frequency back
//! into its top band, 6 to 74 dB down, rather than removing it all.

use super::error::{DataError, DataResult};
use rayon::prelude::*;
use std::f64::consts::PI;
use std::ops::Range;

/// Zero crossings of the sinc kernel kept on each side.
const ZERO_CROSSINGS: f64 = 16.0;
/// Cutoff as a fraction of the lower Nyquist frequency.
const ROLLOFF: f64 = 0.95;
/// Output samples computed together on one core (a few milliseconds of work at 44.1 kHz).
const PARALLEL_OUTPUTS: usize = 4096;

fn sinc(x: f64) -> f64 {
    if x.abs() < 1e-12 {
        1.0
    } else {
        (PI * x).sin() / (PI * x)
    }
}

/// Blackman window on u ∈ [−1, 1] (1 at the centre, 0 at the ends).
fn blackman(u: f64) -> f64 {
    0.42 + 0.5 * (PI * u).cos() + 0.08 * (2.0 * PI * u).cos()
}

/// Resamples `samples` from `from` Hz to `to` Hz; the output has `round(len · to / from)`
/// samples ([`resampled_len`]). Equal rates return a copy. A zero rate is an error.
pub fn resample(samples: &[f32], from: u32, to: u32) -> DataResult<Vec<f32>> {
    resample_span(samples, from, to, 0..resampled_len(samples.len(), from, to))
}

/// How many samples `len` samples at `from` Hz make at `to` Hz: `round(len · to / from)` (`len`
/// when a rate is 0, which [`resample`] refuses).
pub fn resampled_len(len: usize, from: u32, to: u32) -> usize {
    match from == to || from == 0 || to == 0 {
        true => len,
        false => (len as f64 * to as f64 / from as f64).round() as usize,
    }
}

/// The output samples `span` of [`resample`]`(samples, from, to)`, exactly as it computes them
/// (each output sample depends only on the input within the kernel's half-width of its time),
/// without the others: a one-second cut of an hour-long recording costs a second's work.
/// `span` must lie within [`resampled_len`].
pub fn resample_span(
    samples: &[f32],
    from: u32,
    to: u32,
    span: Range<usize>,
) -> DataResult<Vec<f32>> {
    if from == 0 || to == 0 {
        return Err(DataError::new(
            "resample",
            format!("sample rates must be positive, got {from} Hz -> {to} Hz"),
        ));
    }
    let len = resampled_len(samples.len(), from, to);
    if span.start > span.end || span.end > len {
        return Err(DataError::new(
            "resample",
            format!("output samples {span:?} of {len}"),
        ));
    }
    if from == to || samples.is_empty() {
        return Ok(samples[span].to_vec());
    }
    let ratio = to as f64 / from as f64;
    let cutoff = ROLLOFF * ratio.min(1.0);
    let half_width = ZERO_CROSSINGS / cutoff;
    let last = samples.len() as f64 - 1.0;
    let output_sample = |n: usize| {
        let t = n as f64 / ratio;
        let lo = (t - half_width).ceil().max(0.0) as usize;
        let hi = (t + half_width).floor().min(last) as usize;
        let acc: f64 = (lo..=hi)
            .map(|k| {
                let x = t - k as f64;
                samples[k] as f64 * cutoff * sinc(cutoff * x) * blackman(x / half_width)
            })
            .sum();
        acc as f32
    };
    // Each output sample is summed on its own in a fixed order, so splitting a long span over
    // the cores gives the same samples as one thread (a recording of minutes is millions of
    // them, each a few hundred taps).
    Ok(span
        .into_par_iter()
        .with_min_len(PARALLEL_OUTPUTS)
        .map(output_sample)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::test_util;

    /// `seconds` of a unit sine.
    fn sine(freq: f64, rate: u32, seconds: f64) -> Vec<f32> {
        test_util::sine(freq, rate, (rate as f64 * seconds) as usize)
    }

    /// Frequency from the rising zero crossings strictly inside the middle of the signal.
    fn zero_crossing_freq(x: &[f32], rate: u32) -> f64 {
        let (a, b) = (x.len() / 4, 3 * x.len() / 4);
        let ups: Vec<f64> = (a..b)
            .filter(|&i| x[i - 1] < 0.0 && x[i] >= 0.0)
            .map(|i| i as f64 - 1.0 + x[i - 1] as f64 / (x[i - 1] - x[i]) as f64)
            .collect();
        (ups.len() - 1) as f64 * rate as f64 / (ups[ups.len() - 1] - ups[0])
    }

    /// A span of the output is exactly those samples of the whole output, at either end too.
    #[test]
    fn a_span_is_the_same_samples_as_the_whole() {
        let x = sine(440.0, 22050, 0.2);
        for (from, to) in [(22050, 8000), (22050, 44100), (22050, 22050)] {
            let whole = resample(&x, from, to).unwrap();
            assert_eq!(whole.len(), resampled_len(x.len(), from, to));
            for span in [0..5, 100..900, whole.len() - 7..whole.len()] {
                let part = resample_span(&x, from, to, span.clone()).unwrap();
                assert_eq!(part, whole[span]);
            }
        }
    }

    fn rms(x: &[f32]) -> f64 {
        (x.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
    }

    #[test]
    fn downsampling_keeps_a_sines_frequency() {
        let y = resample(&sine(440.0, 22050, 1.0), 22050, 8000).unwrap();
        assert_eq!(y.len(), 8000);
        let f = zero_crossing_freq(&y, 8000);
        assert!((f - 440.0).abs() < 0.5, "measured {f} Hz");
        let mid = &y[2000..6000];
        assert!(
            (rms(mid) - std::f64::consts::FRAC_1_SQRT_2).abs() < 0.01,
            "rms {}",
            rms(mid)
        );
    }

    #[test]
    fn upsampling_interpolates_the_sine() {
        let y = resample(&sine(1000.0, 8000, 0.5), 8000, 16000).unwrap();
        assert_eq!(y.len(), 8000);
        let want = sine(1000.0, 16000, 0.5);
        let err = (1000..7000)
            .map(|i| (y[i] - want[i]).abs())
            .fold(0.0f32, f32::max);
        assert!(err < 2e-3, "max error {err}");
    }

    #[test]
    fn downsampling_removes_what_would_alias() {
        // 6 kHz cannot be represented at 8 kHz: it must be filtered out, not folded to 2 kHz.
        let y = resample(&sine(6000.0, 22050, 0.5), 22050, 8000).unwrap();
        assert!(rms(&y[500..3500]) < 1e-3, "rms {}", rms(&y[500..3500]));
    }

    #[test]
    fn equal_rates_copy_and_zero_rates_fail() {
        assert_eq!(resample(&[0.5, -0.5], 8000, 8000).unwrap(), vec![0.5, -0.5]);
        assert!(resample_span(&[0.5, -0.5], 8000, 16000, 3..5).is_err());
        assert!(resample(&[0.5], 0, 8000)
            .unwrap_err()
            .problem
            .contains("positive"));
    }
}
