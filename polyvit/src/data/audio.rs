//! Fixed-size audio features: a waveform at any rate is resampled to the mel configuration's
//! rate, centre-cropped or centre-padded with zeros to exactly one window of
//! `(frames − 1) · hop + n_fft` samples, and turned into a `frames × n_mels` log-mel image.

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
}
