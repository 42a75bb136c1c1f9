//! Fixed-size audio features: a waveform at any rate is resampled to the mel configuration's
//! rate, centre-cropped or centre-padded with zeros to exactly one window of
//! `(frames − 1) · hop + n_fft` samples, and turned into a `frames × n_mels` log-mel image;
//! then, where a task asks for them, the recording channel taken out ([`remove_band_means`]) and
//! the example brought to zero mean and unit variance on its own ([`normalize_example`]).

use super::dataset::Moments;
use super::error::{DataError, DataResult};
use super::resample::{resample_span, resampled_len};
use super::spectrogram::{LogMel, MelConfig};
use std::ops::Range;

/// The feature extractor of the audio tasks.
#[derive(Debug, Clone)]
pub struct AudioFeatures {
    mel: LogMel,
    frames: usize,
}

impl AudioFeatures {
    /// Features of `frames` log-mel frames under `mel`.
    pub fn new(mel: MelConfig, frames: usize) -> DataResult<Self> {
        if frames == 0 {
            return Err(DataError::new("audio features", "frames must be positive"));
        }
        Ok(Self {
            mel: LogMel::new(mel)?,
            frames,
        })
    }

    /// Samples in one window (at the mel configuration's rate).
    pub fn window_samples(&self) -> usize {
        let c = self.mel.config();
        (self.frames - 1) * c.hop + c.n_fft
    }

    /// Shape of one feature map: `[1, frames, n_mels]`.
    pub fn shape(&self) -> Vec<usize> {
        vec![1, self.frames, self.mel.config().n_mels]
    }

    /// The sample rate features are computed at.
    pub fn sample_rate(&self) -> u32 {
        self.mel.config().sample_rate
    }

    /// Centre-crops or centre-pads (with zeros) `samples` to one window.
    pub fn fit(&self, samples: &[f32]) -> Vec<f32> {
        let n = self.window_samples();
        if samples.len() >= n {
            samples[centred(samples.len(), n)].to_vec()
        } else {
            let mut out = vec![0.0; n];
            let start = (n - samples.len()) / 2;
            out[start..start + samples.len()].copy_from_slice(samples);
            out
        }
    }

    /// The `frames × n_mels` log-mel features of `samples` recorded at `rate` Hz: resampled to
    /// the feature rate and [`fit`](Self::fit) to one window. Only the window's samples are
    /// resampled (the same numbers as resampling all, then cutting), so a long recording costs
    /// no more than a short one.
    pub fn features(&self, samples: &[f32], rate: u32) -> DataResult<Vec<f32>> {
        let to = self.sample_rate();
        let len = resampled_len(samples.len(), rate, to);
        let kept = centred(len, self.window_samples());
        let at_rate = resample_span(samples, rate, to, kept)?;
        self.mel.compute(&self.fit(&at_rate))
    }
}

/// The samples one window of `window` keeps of `len`: the middle ones when there are more,
/// all of them otherwise ([`AudioFeatures::fit`] pads those to the window).
fn centred(len: usize, window: usize) -> Range<usize> {
    match len.checked_sub(window) {
        Some(extra) => extra / 2..extra / 2 + window,
        None => 0..len,
    }
}

/// Brings one example to zero mean and unit variance over all its values (for a spectrogram:
/// removes the recording level and, partly, the channel).
pub fn normalize_example(x: &mut [f32]) {
    let moments = Moments::of(x);
    let scale = 1.0 / (moments.variance().sqrt() + 1e-6);
    x.iter_mut()
        .for_each(|v| *v = ((*v as f64 - moments.mean()) * scale) as f32);
}

/// Takes a fixed recording channel out of a `frames × bands` log-mel example: subtracts from
/// each band its mean over the frames, `x[f, b] ← x[f, b] − (1/F) Σ_g x[g, b]`. A linear filter
/// (a microphone, a telephone line) scales each band's power by a constant, which the logarithm
/// turns into a constant added to that band: this removes it (cepstral mean normalization, done
/// on the mel bands). `x.len()` must be a multiple of `bands`.
pub fn remove_band_means(x: &mut [f32], bands: usize) {
    assert!(
        bands > 0 && x.len().is_multiple_of(bands),
        "{} values are not frames of {bands} bands",
        x.len()
    );
    let frames = x.len() / bands;
    for band in 0..bands {
        let column = || x.iter().skip(band).step_by(bands);
        let mean = column().map(|&v| v as f64).sum::<f64>() / frames as f64;
        x.iter_mut()
            .skip(band)
            .step_by(bands)
            .for_each(|v| *v = (*v as f64 - mean) as f32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::test_util::sine;

    #[test]
    fn fit_centres_crops_and_pads() {
        let f = AudioFeatures::new(MelConfig::default(), 64).unwrap();
        assert_eq!(f.window_samples(), 63 * 120 + 256);
        let long: Vec<f32> = (0..8000).map(|i| i as f32).collect();
        let cropped = f.fit(&long);
        assert_eq!((cropped.len(), cropped[0]), (7816, 92.0));
        let padded = f.fit(&[1.0; 16]);
        assert_eq!(padded.len(), 7816);
        assert_eq!(
            (padded[3899], padded[3900], padded[3915], padded[3916]),
            (0.0, 1.0, 1.0, 0.0)
        );
    }

    /// Resampling only the window gives the numbers of resampling all of it, then cutting.
    #[test]
    fn features_resample_only_the_window_to_the_same_numbers() {
        use crate::data::resample::resample;
        let f = AudioFeatures::new(MelConfig::default(), 64).unwrap();
        for (len, rate) in [
            (3 * 44100 + 17, 44100),
            (22050 / 5, 22050),
            (8000 * 2, 8000),
        ] {
            let x = sine(523.0, rate, len);
            let whole = resample(&x, rate, f.sample_rate()).unwrap();
            let want = f.mel.compute(&f.fit(&whole)).unwrap();
            assert_eq!(
                f.features(&x, rate).unwrap(),
                want,
                "{len} samples at {rate} Hz"
            );
        }
    }

    #[test]
    fn features_have_the_shape_and_ignore_the_input_rate() {
        let f = AudioFeatures::new(MelConfig::default(), 64).unwrap();
        assert_eq!(f.shape(), vec![1, 64, 32]);
        let at8 = f.features(&sine(700.0, 8000, 8000), 8000).unwrap();
        let at22 = f.features(&sine(700.0, 22050, 22050), 22050).unwrap();
        assert_eq!((at8.len(), at22.len()), (64 * 32, 64 * 32));
        let peak = |x: &[f32]| {
            (0..32)
                .max_by(|&a, &b| x[32 * 10 + a].total_cmp(&x[32 * 10 + b]))
                .unwrap()
        };
        assert_eq!(peak(&at8), peak(&at22));
        let diff = (32 * 10..32 * 11)
            .map(|i| (at8[i] - at22[i]).abs())
            .fold(0.0, f32::max);
        assert!(diff < 0.5, "log-mel differs by {diff}");
        assert!(AudioFeatures::new(MelConfig::default(), 0).is_err());
    }

    /// Removing band means zeroes each band's mean over the frames and cancels a constant added
    /// to each band (a channel's gain per band in the log domain); a naive per-band loop agrees.
    #[test]
    fn band_mean_removal_cancels_a_per_band_gain() {
        let (frames, bands) = (5, 3);
        let x: Vec<f32> = (0..frames * bands)
            .map(|i| ((i * 7919) % 13) as f32 * 0.5 - 2.0)
            .collect();
        let mut removed = x.clone();
        remove_band_means(&mut removed, bands);
        for b in 0..bands {
            let mean: f32 = (0..frames).map(|f| x[f * bands + b]).sum::<f32>() / frames as f32;
            for f in 0..frames {
                let want = x[f * bands + b] - mean;
                assert!((removed[f * bands + b] - want).abs() < 1e-6);
            }
        }
        let gain = [3.0f32, -1.5, 0.25];
        let mut channel: Vec<f32> = x
            .iter()
            .enumerate()
            .map(|(i, v)| v + gain[i % bands])
            .collect();
        remove_band_means(&mut channel, bands);
        for (a, b) in channel.iter().zip(&removed) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
    }

    #[test]
    #[should_panic(expected = "not frames of 4 bands")]
    fn band_mean_removal_needs_whole_frames() {
        remove_band_means(&mut [0.0; 6], 4);
    }
}
