//! Waveform augmentation of the spoken-digit training clips: each clip gets a few randomly
//! perturbed copies, made once when the suite is built (deterministic under the suite seed).
//!
//! One copy of a clip `x` at rate `r` is, in order:
//! 1. **speed**: `x` read as if recorded at `r · s` Hz and resampled to `r` by cubic
//!    (Catmull-Rom) interpolation (tempo and pitch both scale by `s`, like `sox speed`), `s`
//!    uniform in `speed`;
//! 2. **room**: with probability `room_share`, convolved with a synthetic room's impulse
//!    response ([`super::room`]): reverberation time uniform in `t60_s`, direct-to-reverberant
//!    ratio uniform in `drr_db` (a speaker at some distance in a room, as one's own recordings
//!    are made);
//! 3. **channel**: a second-order high-pass (cut-off uniform in `highpass_hz`) and low-pass
//!    (cut-off uniform in `lowpass_hz`) Butterworth filter (RBJ biquads), then a peaking filter
//!    at a log-uniform frequency in 300–3000 Hz with a gain uniform in ±`peak_db` (Q 1): a
//!    random telephone-like channel;
//! 4. **gain**: scaled so that its peak is uniform in `peak` (linear);
//! 5. **noise**: noise at a signal-to-noise ratio (clip RMS over noise RMS) uniform in `snr_db`,
//!    over the whole feature window (so silence is not digital zero): white (uniformly
//!    distributed) noise through a second-order low-pass at a log-uniform corner in
//!    `noise_corner_hz`, from white (a corner near Nyquist) to the low rumble of a room;
//! 6. **shift**: placed in the window with its centre offset by up to `±max_shift` seconds
//!    (clamped so that the clip stays inside the window when it fits).

use super::biquad::{Biquad, BiquadKind, BUTTERWORTH_Q};
use super::error::DataResult;
use super::recording::trim_silence;
use super::room::{convolve, room_response};
use rand::Rng;

/// Parameters of [`augment`]; `copies` is how many augmented copies of each training clip the
/// spoken-digit task adds to its training split (0: no augmentation).
#[derive(Debug, Clone, PartialEq)]
pub struct SpeechAugment {
    /// Augmented copies per training clip (the original is kept too).
    pub copies: usize,
    /// Speed factor range.
    pub speed: (f64, f64),
    /// The share of copies recorded in a synthetic room.
    pub room_share: f64,
    /// The rooms' reverberation time range, in seconds.
    pub t60_s: (f64, f64),
    /// The rooms' direct-to-reverberant ratio range, in dB.
    pub drr_db: (f64, f64),
    /// High-pass cut-off range in Hz.
    pub highpass_hz: (f64, f64),
    /// Low-pass cut-off range in Hz.
    pub lowpass_hz: (f64, f64),
    /// Largest gain of the peaking filter, in dB (either sign).
    pub peak_db: f64,
    /// Range of the output peak amplitude.
    pub peak: (f64, f64),
    /// Signal-to-noise ratio range in dB.
    pub snr_db: (f64, f64),
    /// Range of the noise's low-pass corner in Hz (drawn log-uniformly).
    pub noise_corner_hz: (f64, f64),
    /// Largest offset of the clip's centre from the window's centre, in seconds.
    pub max_shift: f64,
}

impl Default for SpeechAugment {
    fn default() -> Self {
        Self {
            copies: 3,
            speed: (0.85, 1.15),
            room_share: 0.5,
            t60_s: (0.1, 0.7),
            drr_db: (-3.0, 12.0),
            highpass_hz: (60.0, 400.0),
            lowpass_hz: (2600.0, 3900.0),
            peak_db: 8.0,
            peak: (0.1, 0.9),
            snr_db: (15.0, 45.0),
            noise_corner_hz: (150.0, 4000.0),
            max_shift: 0.12,
        }
    }
}

fn uniform(rng: &mut impl Rng, (lo, hi): (f64, f64)) -> f64 {
    if hi > lo {
        rng.gen_range(lo..hi)
    } else {
        lo
    }
}

/// A draw whose logarithm is uniform between those of `lo` and `hi` (both positive).
fn log_uniform(rng: &mut impl Rng, (lo, hi): (f64, f64)) -> f64 {
    (lo.ln() + rng.gen::<f64>() * (hi / lo).ln()).exp()
}

/// `x` played `speed` times faster: sample `n` of the output is `x` at time `n · speed`,
/// interpolated by a Catmull-Rom cubic (zeros outside the signal).
fn change_speed(x: &[f32], speed: f64) -> Vec<f64> {
    let at = |i: i64| -> f64 {
        if (0..x.len() as i64).contains(&i) {
            x[i as usize] as f64
        } else {
            0.0
        }
    };
    let n_out = (x.len() as f64 / speed).round() as usize;
    (0..n_out)
        .map(|n| {
            let t = n as f64 * speed;
            let i = t.floor() as i64;
            let f = t - i as f64;
            let (p0, p1, p2, p3) = (at(i - 1), at(i), at(i + 1), at(i + 2));
            p1 + 0.5
                * f
                * (p2 - p0
                    + f * (2.0 * p0 - 5.0 * p1 + 4.0 * p2 - p3 + f * (3.0 * (p1 - p2) + p3 - p0)))
        })
        .collect()
}

/// `x` (at `rate` Hz) as recorded in a random room, its reverberant tail cut after its last loud
/// window ([`trim_silence`], which keeps it whole when it fits the `window`).
fn in_a_room(
    x: &[f64],
    rate: u32,
    window: usize,
    cfg: &SpeechAugment,
    rng: &mut impl Rng,
) -> DataResult<Vec<f64>> {
    let (t60_s, drr_db) = (uniform(rng, cfg.t60_s), uniform(rng, cfg.drr_db));
    let response = room_response(rate, t60_s, drr_db, rng);
    let dry: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let wet = convolve(&dry, &response)?;
    Ok(trim_silence(&wet, rate, window)
        .iter()
        .map(|&v| v as f64)
        .collect())
}

/// `window` samples of noise (at `fs` Hz) at a random signal-to-noise ratio below `x`: white
/// noise through a low-pass at a random corner, scaled to its RMS.
fn noise(x: &[f64], window: usize, fs: f64, cfg: &SpeechAugment, rng: &mut impl Rng) -> Vec<f64> {
    let rms = |v: &[f64]| (v.iter().map(|v| v * v).sum::<f64>() / v.len().max(1) as f64).sqrt();
    let target = rms(x) / 10f64.powf(uniform(rng, cfg.snr_db) / 20.0);
    let corner = log_uniform(rng, cfg.noise_corner_hz);
    let mut noise: Vec<f64> = (0..window).map(|_| rng.gen_range(-1.0..=1.0)).collect();
    Biquad::new(BiquadKind::LowPass, corner, fs, BUTTERWORTH_Q).run(&mut noise);
    let level = rms(&noise);
    let scale = if level > 0.0 { target / level } else { 0.0 };
    noise.iter_mut().for_each(|v| *v *= scale);
    noise
}

/// One augmented copy of `samples` (at `rate` Hz) in a window of exactly `window` samples.
pub fn augment(
    samples: &[f32],
    rate: u32,
    window: usize,
    cfg: &SpeechAugment,
    rng: &mut impl Rng,
) -> DataResult<Vec<f32>> {
    let mut x = change_speed(samples, uniform(rng, cfg.speed));
    let fs = rate as f64;
    if rng.gen::<f64>() < cfg.room_share {
        x = in_a_room(&x, rate, window, cfg, rng)?;
    }
    let high_pass = uniform(rng, cfg.highpass_hz);
    Biquad::new(BiquadKind::HighPass, high_pass, fs, BUTTERWORTH_Q).run(&mut x);
    let low_pass = uniform(rng, cfg.lowpass_hz);
    Biquad::new(BiquadKind::LowPass, low_pass, fs, BUTTERWORTH_Q).run(&mut x);
    let peak_freq = log_uniform(rng, (300.0, 3000.0));
    let gain_db = uniform(rng, (-cfg.peak_db, cfg.peak_db));
    Biquad::new(BiquadKind::Peaking { gain_db }, peak_freq, fs, 1.0).run(&mut x);
    let max = x.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let gain = if max > 0.0 {
        uniform(rng, cfg.peak) / max
    } else {
        0.0
    };
    x.iter_mut().for_each(|v| *v *= gain);
    let noise = noise(&x, window, fs, cfg, rng);
    let max_shift = (cfg.max_shift * fs) as i64;
    let shift = if max_shift > 0 {
        rng.gen_range(-max_shift..=max_shift)
    } else {
        0
    };
    let slack = window as i64 - x.len() as i64;
    let start = if slack >= 0 {
        (slack / 2 + shift).clamp(0, slack)
    } else {
        slack / 2 + shift
    };
    let mut out: Vec<f32> = noise.into_iter().map(|v| v as f32).collect();
    for (i, v) in x.iter().enumerate() {
        let at = start + i as i64;
        if (0..window as i64).contains(&at) {
            out[at as usize] += *v as f32;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::test_util::sine;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn speed_change_scales_frequency_and_length() {
        let y = change_speed(&sine(500.0, 8000, 8000), 1.25);
        assert_eq!(y.len(), 6400);
        let want = sine(625.0, 8000, 6400);
        let err = (100..6300)
            .map(|i| (y[i] - want[i] as f64).abs())
            .fold(0.0, f64::max);
        assert!(err < 0.01, "max error {err}");
    }

    #[test]
    fn copies_fill_the_window_and_are_deterministic() {
        let clip = sine(500.0, 8000, 3000);
        let cfg = SpeechAugment::default();
        let run = |seed| {
            let mut r = ChaCha8Rng::seed_from_u64(seed);
            augment(&clip, 8000, 7816, &cfg, &mut r).unwrap()
        };
        let (a, b, c) = (run(1), run(1), run(2));
        assert_eq!(a.len(), 7816);
        assert_eq!(a, b);
        assert_ne!(a, c);
        let peak = a.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(peak > 0.05 && peak < 1.0, "peak {peak}");
        // The noise floor is nonzero but well below the signal.
        let edge = a[..200].iter().map(|v| v.abs()).fold(0.0f32, f32::max);
        assert!(
            edge > 0.0 && edge < 0.3 * peak,
            "edge {edge} vs peak {peak}"
        );
        let none = SpeechAugment {
            speed: (1.0, 1.0),
            ..cfg
        };
        let mut r = ChaCha8Rng::seed_from_u64(3);
        assert_eq!(
            augment(&clip, 8000, 2000, &none, &mut r).unwrap().len(),
            2000
        );
    }

    /// A copy with only the room and the noise varying: no speed change, flat channel, fixed
    /// level and place.
    fn plain(room_share: f64, noise_corner_hz: (f64, f64)) -> SpeechAugment {
        SpeechAugment {
            copies: 1,
            speed: (1.0, 1.0),
            room_share,
            t60_s: (0.4, 0.4),
            drr_db: (0.0, 0.0),
            highpass_hz: (20.0, 20.0),
            lowpass_hz: (3990.0, 3990.0),
            peak_db: 0.0,
            peak: (0.5, 0.5),
            snr_db: (40.0, 40.0),
            noise_corner_hz,
            max_shift: 0.0,
        }
    }

    fn energy(x: &[f32]) -> f64 {
        x.iter().map(|v| (*v as f64).powi(2)).sum()
    }

    /// In a room, a 0.2 s tone rings on after it stops (its reverberant tail, as loud as the
    /// direct sound here); without one, only the noise follows it.
    #[test]
    fn a_room_leaves_a_reverberant_tail() {
        let clip = sine(500.0, 8000, 1600);
        let copy = |room_share| {
            let mut r = ChaCha8Rng::seed_from_u64(4);
            augment(
                &clip,
                8000,
                7816,
                &plain(room_share, (3990.0, 3990.0)),
                &mut r,
            )
            .unwrap()
        };
        // Each copy is centred in the window: the dry tone alone, the wet one with its 0.4 s
        // (3,200-sample) tail. `after` is the energy of the 800 samples after the tone over
        // that of its last 800.
        let after = |x: &[f32], len: usize| {
            let end = (7816 - len) / 2 + 1600;
            energy(&x[end..end + 800]) / energy(&x[end - 800..end])
        };
        let (dry, wet) = (copy(0.0), copy(1.0));
        assert!(after(&dry, 1600) < 1e-3, "dry: {}", after(&dry, 1600));
        assert!(after(&wet, 4799) > 0.1, "wet: {}", after(&wet, 4799));
    }

    /// Noise through a low corner is a rumble: most of its power lies below 500 Hz, where white
    /// noise has an eighth of it.
    #[test]
    fn noise_is_coloured_by_its_corner() {
        let silence = vec![0.0f32; 100];
        let low_share = |corner: f64| {
            let mut x: Vec<f64> = {
                let mut r = ChaCha8Rng::seed_from_u64(6);
                let mut clip = silence.clone();
                clip[50] = 1.0;
                let loud_noise = SpeechAugment {
                    snr_db: (-20.0, -20.0),
                    ..plain(0.0, (corner, corner))
                };
                augment(&clip, 8000, 8192, &loud_noise, &mut r)
                    .unwrap()
                    .into_iter()
                    .map(f64::from)
                    .collect()
            };
            let total: f64 = x.iter().map(|v| v * v).sum();
            Biquad::new(BiquadKind::LowPass, 500.0, 8000.0, BUTTERWORTH_Q).run(&mut x);
            x.iter().map(|v| v * v).sum::<f64>() / total
        };
        let (rumble, white) = (low_share(150.0), low_share(3990.0));
        assert!(rumble > 0.8, "rumble below 500 Hz: {rumble}");
        assert!(white < 0.25, "white below 500 Hz: {white}");
    }
}
