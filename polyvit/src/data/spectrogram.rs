//! Log-mel spectrograms: frames of `n_fft` samples every `hop` samples (no padding; a signal
//! shorter than one frame gives zero frames), a periodic Hann window, the FFT power spectrum
//! `|X[k]|²` for bins `0..=n_fft/2`, a triangular mel filterbank, then `ln(mel + eps)`.
//!
//! The mel scale is HTK's: `mel(f) = 2595 · log10(1 + f / 700)`. The `n_mels` triangles have
//! their corners at `n_mels + 2` points equally spaced in mel from `f_min` to `f_max`; each
//! triangle peaks at 1 (no area normalization).

use super::error::{DataError, DataResult};
use super::fft::Fft;
use std::f64::consts::PI;

/// Hz to mel, HTK formula.
pub fn hz_to_mel(hz: f64) -> f64 {
    2595.0 * (1.0 + hz / 700.0).log10()
}

/// Mel to Hz, inverse of [`hz_to_mel`].
pub fn mel_to_hz(mel: f64) -> f64 {
    700.0 * (10f64.powf(mel / 2595.0) - 1.0)
}

/// Parameters of a log-mel spectrogram.
#[derive(Debug, Clone, PartialEq)]
pub struct MelConfig {
    /// Sample rate of the input in Hz.
    pub sample_rate: u32,
    /// Frame (and FFT) length in samples; a power of two.
    pub n_fft: usize,
    /// Samples between the starts of consecutive frames.
    pub hop: usize,
    /// Number of mel bands.
    pub n_mels: usize,
    /// Lowest filterbank edge in Hz.
    pub f_min: f64,
    /// Highest filterbank edge in Hz (at most the Nyquist frequency).
    pub f_max: f64,
    /// Added to the mel power before the log, so silence maps to `ln(eps)`.
    pub eps: f32,
}

impl Default for MelConfig {
    /// 8 kHz audio, 32 ms frames every 15 ms, 32 bands over 0–4 kHz, eps 1e-3.
    fn default() -> Self {
        Self {
            sample_rate: 8000,
            n_fft: 256,
            hop: 120,
            n_mels: 32,
            f_min: 0.0,
            f_max: 4000.0,
            eps: 1e-3,
        }
    }
}

/// A planned log-mel transform: window, FFT and filterbank computed once.
#[derive(Debug, Clone)]
pub struct LogMel {
    config: MelConfig,
    fft: Fft,
    window: Vec<f32>,
    /// `n_mels × (n_fft / 2 + 1)` filter weights, row-major.
    filters: Vec<f32>,
}

impl LogMel {
    /// Plans the transform; an invalid configuration (hop 0, f_max above Nyquist, a band that
    /// covers no FFT bin, ...) is an error.
    pub fn new(config: MelConfig) -> DataResult<Self> {
        let err = |p: String| DataError::new("log-mel config", p);
        let fft = Fft::new(config.n_fft)?;
        let nyquist = config.sample_rate as f64 / 2.0;
        if config.hop == 0 || config.n_mels == 0 || config.eps <= 0.0 {
            return Err(err(format!(
                "hop {}, n_mels {} and eps {} must be positive",
                config.hop, config.n_mels, config.eps
            )));
        }
        if !(0.0 <= config.f_min && config.f_min < config.f_max && config.f_max <= nyquist) {
            return Err(err(format!(
                "need 0 <= f_min ({}) < f_max ({}) <= Nyquist ({nyquist})",
                config.f_min, config.f_max
            )));
        }
        let n = config.n_fft;
        let window = (0..n)
            .map(|i| (0.5 - 0.5 * (2.0 * PI * i as f64 / n as f64).cos()) as f32)
            .collect();
        let filters = mel_filterbank(&config);
        let bins = n / 2 + 1;
        if let Some(band) = filters
            .chunks_exact(bins)
            .position(|row| row.iter().all(|&w| w == 0.0))
        {
            return Err(err(format!(
                "mel band {band} covers no FFT bin: use fewer bands or a longer n_fft"
            )));
        }
        Ok(Self {
            config,
            fft,
            window,
            filters,
        })
    }

    /// The configuration this transform was planned with.
    pub fn config(&self) -> &MelConfig {
        &self.config
    }

    /// Number of frames for a signal of `len` samples.
    pub fn frames(&self, len: usize) -> usize {
        if len < self.config.n_fft {
            0
        } else {
            (len - self.config.n_fft) / self.config.hop + 1
        }
    }

    /// Power spectrum `|FFT(window · frame)|²` of the frame starting at `start`, bins
    /// `0..=n_fft/2`. The caller guarantees `start + n_fft <= samples.len()`.
    fn power(
        &self,
        samples: &[f32],
        start: usize,
        re: &mut [f32],
        im: &mut [f32],
    ) -> DataResult<()> {
        for (i, (r, w)) in re.iter_mut().zip(&self.window).enumerate() {
            *r = samples[start + i] * w;
        }
        im.fill(0.0);
        self.fft.transform(re, im)?;
        for k in 0..=self.config.n_fft / 2 {
            re[k] = re[k] * re[k] + im[k] * im[k];
        }
        Ok(())
    }

    /// Power spectrogram, `frames × (n_fft/2 + 1)` row-major.
    pub fn power_spectrogram(&self, samples: &[f32]) -> DataResult<Vec<f32>> {
        let n = self.config.n_fft;
        let (mut re, mut im) = (vec![0.0; n], vec![0.0; n]);
        let mut out = Vec::with_capacity(self.frames(samples.len()) * (n / 2 + 1));
        for t in 0..self.frames(samples.len()) {
            self.power(samples, t * self.config.hop, &mut re, &mut im)?;
            out.extend_from_slice(&re[..=n / 2]);
        }
        Ok(out)
    }

    /// Log-mel spectrogram, `frames × n_mels` row-major (time major, as a 1-channel image).
    pub fn compute(&self, samples: &[f32]) -> DataResult<Vec<f32>> {
        let bins = self.config.n_fft / 2 + 1;
        let power = self.power_spectrogram(samples)?;
        let mut out = Vec::with_capacity(power.len() / bins * self.config.n_mels);
        for frame in power.chunks_exact(bins) {
            for filter in self.filters.chunks_exact(bins) {
                let e: f32 = filter.iter().zip(frame).map(|(w, p)| w * p).sum();
                out.push((e + self.config.eps).ln());
            }
        }
        Ok(out)
    }
}

/// The HTK triangular filterbank, `n_mels × (n_fft/2 + 1)` row-major.
pub fn mel_filterbank(config: &MelConfig) -> Vec<f32> {
    let bins = config.n_fft / 2 + 1;
    let (lo, hi) = (hz_to_mel(config.f_min), hz_to_mel(config.f_max));
    let corners: Vec<f64> = (0..config.n_mels + 2)
        .map(|i| mel_to_hz(lo + (hi - lo) * i as f64 / (config.n_mels + 1) as f64))
        .collect();
    let mut out = vec![0.0; config.n_mels * bins];
    for m in 0..config.n_mels {
        let (left, centre, right) = (corners[m], corners[m + 1], corners[m + 2]);
        for k in 0..bins {
            let f = k as f64 * config.sample_rate as f64 / config.n_fft as f64;
            let w = ((f - left) / (centre - left)).min((right - f) / (right - centre));
            out[m * bins + k] = w.max(0.0) as f32;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::test_util::sine;

    #[test]
    fn power_spectrum_matches_a_naive_dft() {
        let mel = LogMel::new(MelConfig::default()).unwrap();
        let x: Vec<f32> = (0..600)
            .map(|i| ((i * 37) % 101) as f32 / 50.0 - 1.0)
            .collect();
        let power = mel.power_spectrogram(&x).unwrap();
        assert_eq!(mel.frames(600), 3);
        assert_eq!(power.len(), 3 * 129);
        let (n, hop) = (256, 120);
        for t in 0..3 {
            for k in 0..=n / 2 {
                let (mut re, mut im) = (0.0f64, 0.0f64);
                for i in 0..n {
                    let w = 0.5 - 0.5 * (2.0 * PI * i as f64 / n as f64).cos();
                    let a = -2.0 * PI * (k * i) as f64 / n as f64;
                    re += x[t * hop + i] as f64 * w * a.cos();
                    im += x[t * hop + i] as f64 * w * a.sin();
                }
                let want = re * re + im * im;
                let got = power[t * 129 + k] as f64;
                assert!(
                    (got - want).abs() <= 1e-3 * want.max(1.0),
                    "frame {t} bin {k}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn a_sine_peaks_at_its_bin_and_its_mel_band() {
        let cfg = MelConfig::default();
        let mel = LogMel::new(cfg.clone()).unwrap();
        let x = sine(1000.0, 8000, 2000);
        let power = mel.power_spectrogram(&x).unwrap();
        let frame = &power[..129];
        let peak = (0..129)
            .max_by(|&a, &b| frame[a].total_cmp(&frame[b]))
            .unwrap();
        assert_eq!(peak, 32, "1000 Hz at 8 kHz with n_fft 256 is bin 32");
        let logmel = mel.compute(&x).unwrap();
        assert_eq!(logmel.len(), mel.frames(2000) * 32);
        let row = &logmel[..32];
        let band = (0..32).max_by(|&a, &b| row[a].total_cmp(&row[b])).unwrap();
        let (lo, hi) = (hz_to_mel(0.0), hz_to_mel(4000.0));
        let centre = |m: usize| mel_to_hz(lo + (hi - lo) * (m + 1) as f64 / 33.0);
        let nearest = (0..32)
            .min_by(|&a, &b| {
                (centre(a) - 1000.0)
                    .abs()
                    .total_cmp(&(centre(b) - 1000.0).abs())
            })
            .unwrap();
        assert_eq!(band, nearest);
        assert!(
            row[band] > row[0] + 5.0,
            "peak {} vs band 0 {}",
            row[band],
            row[0]
        );
    }

    #[test]
    fn silence_is_log_eps_and_short_input_has_no_frames() {
        let mel = LogMel::new(MelConfig::default()).unwrap();
        let out = mel.compute(&[0.0; 256]).unwrap();
        assert_eq!(out.len(), 32);
        assert!(out.iter().all(|&v| (v - 1e-3f32.ln()).abs() < 1e-6));
        assert!(mel.compute(&[0.0; 255]).unwrap().is_empty());
    }

    #[test]
    fn mel_scale_round_trips_and_filters_peak_at_one() {
        for hz in [0.0, 440.0, 1000.0, 3999.0] {
            assert!((mel_to_hz(hz_to_mel(hz)) - hz).abs() < 1e-6);
        }
        assert!(
            (hz_to_mel(1000.0) - 1000.0).abs() < 0.1,
            "HTK maps 1 kHz to ~1000 mel"
        );
        let fb = mel_filterbank(&MelConfig::default());
        for row in fb.chunks_exact(129) {
            let max = row.iter().cloned().fold(0.0, f32::max);
            assert!(max > 0.5 && max <= 1.0, "band peak {max}");
        }
    }

    #[test]
    fn bad_configs_are_errors() {
        let bad = [
            MelConfig {
                n_fft: 200,
                ..MelConfig::default()
            },
            MelConfig {
                hop: 0,
                ..MelConfig::default()
            },
            MelConfig {
                f_max: 5000.0,
                ..MelConfig::default()
            },
            MelConfig {
                n_mels: 200,
                ..MelConfig::default()
            },
        ];
        for cfg in bad {
            assert!(LogMel::new(cfg.clone()).is_err(), "{cfg:?}");
        }
    }
}
