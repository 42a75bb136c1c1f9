//! Fixed-size audio features: a waveform at any rate is resampled to the mel configuration's
//! rate, cut to exactly one window of `(frames − 1) · hop + n_fft` samples (where the
//! [`AudioWindow`] says) or centre-padded with zeros to it, and turned into a `frames × n_mels`
//! log-mel image; then, where a task asks for them, the recording channel taken out
//! ([`remove_band_means`]) and the example brought to zero mean and unit variance on its own
//! ([`normalize_example`]).

use super::dataset::Moments;
use super::error::{DataError, DataResult};
use super::recording::around_strongest_sound;
use super::resample::{resample_span, resampled_len};
use super::spectrogram::{LogMel, MelConfig};
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// Which window of a recording longer than the features' window the features hear.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AudioWindow {
    /// The middle of the recording: the built-in tasks, whose clips were cut to their sound
    /// when they were made, and tasks trained before the choice existed.
    #[default]
    Middle,
    /// The window centred on the energy of the recording's strongest sound
    /// ([`around_strongest_sound`]: of the sounds within 40 dB of the loudest 20 ms and 10 dB
    /// above the noise floor, the one with the most energy), the middle when no sound stands
    /// out (a steady sound throughout): a word recorded after a second or two of room noise is
    /// heard, where the middle of the recording may hold none of it. Folder tasks' default.
    Loudest,
}

impl AudioWindow {
    /// Whether this is the middle window (the default, left out of task descriptions).
    pub fn is_middle(&self) -> bool {
        *self == AudioWindow::Middle
    }
}

/// The feature extractor of the audio tasks.
#[derive(Debug, Clone)]
pub struct AudioFeatures {
    mel: LogMel,
    frames: usize,
    window: AudioWindow,
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
            window: AudioWindow::Middle,
        })
    }

    /// The same features of the window `window` of a longer recording.
    pub fn with_window(self, window: AudioWindow) -> Self {
        Self { window, ..self }
    }

    /// Which window of a longer recording the features hear.
    pub fn window(&self) -> AudioWindow {
        self.window
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
    /// the feature rate, cut to the [`AudioWindow`] of a longer recording, a shorter one
    /// [`fit`](Self::fit) to one window. Only the window's samples are resampled (the same
    /// numbers as resampling all, then cutting), so a long recording costs no more than a short
    /// one; the strongest sound is found at the recording's own rate.
    pub fn features(&self, samples: &[f32], rate: u32) -> DataResult<Vec<f32>> {
        let to = self.sample_rate();
        let len = resampled_len(samples.len(), rate, to);
        let kept = self.kept(samples, rate, len);
        let at_rate = resample_span(samples, rate, to, kept)?;
        self.mel.compute(&self.fit(&at_rate))
    }

    /// The samples the features keep of `samples` at `rate` Hz, `len` of them once resampled:
    /// all of a recording that fits the window, else the window [`Self::window`] names.
    fn kept(&self, samples: &[f32], rate: u32, len: usize) -> Range<usize> {
        let window = self.window_samples();
        let middle = centred(len, window);
        if self.window == AudioWindow::Middle || len <= window {
            return middle;
        }
        // The window's length at the recording's rate, rounded up so that the sound found there
        // is cut with all of the window around it.
        let to = self.sample_rate() as u64;
        let fits = (window as u64 * rate as u64).div_ceil(to) as usize;
        let around = around_strongest_sound(samples, rate, fits);
        if around.len() == samples.len() {
            return middle;
        }
        let start = ((around.start as u64 * to) / rate as u64) as usize;
        let start = start.min(len - window);
        start..start + window
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
    use crate::data::test_util::{noise, sine};

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

    /// 3 s of faint noise at 16 kHz with a 0.3 s tone from `at` seconds on.
    fn tone_in_noise(at: f64) -> Vec<f32> {
        let rate = 16_000;
        let mut x = noise(3 * rate, 0.001, 7);
        let start = (at * rate as f64) as usize;
        let tone = sine(700.0, rate as u32, (0.3 * rate as f64) as usize);
        x.iter_mut()
            .skip(start)
            .zip(&tone)
            .for_each(|(v, t)| *v += 0.5 * t);
        x
    }

    /// The frames of a 32-band log-mel example whose loudest band is within 20 dB of the
    /// example's loudest value (the values are natural logs of power: 20 dB is 2·ln 10).
    fn loud_frames(x: &[f32]) -> Vec<usize> {
        let loudest = |v: &[f32]| v.iter().copied().fold(f32::MIN, f32::max);
        let top = loudest(x);
        (0..x.len() / 32)
            .filter(|&f| loudest(&x[f * 32..(f + 1) * 32]) > top - 2.0 * std::f32::consts::LN_10)
            .collect()
    }

    /// The middle second of a recording whose sound comes after two seconds of room noise
    /// holds none of it; the loudest window holds all of it, centred, found at the recording's
    /// own rate and cut where the feature rate puts it (a sound at the very end moves the
    /// window inside the recording).
    #[test]
    fn the_loudest_window_hears_a_sound_the_middle_misses() {
        let middle = AudioFeatures::new(MelConfig::default(), 64).unwrap();
        let loudest = middle.clone().with_window(AudioWindow::Loudest);
        let top = |x: &[f32]| x.iter().copied().fold(f32::MIN, f32::max);
        let late = tone_in_noise(2.0);
        let (m, l) = (
            middle.features(&late, 16_000).unwrap(),
            loudest.features(&late, 16_000).unwrap(),
        );
        // The tone is 54 dB over the noise, ln(10^5.4) ≈ 12.4 between their log powers: the
        // middle holds only noise.
        assert!(top(&l) - top(&m) > 9.0, "{} vs {}", top(&l), top(&m));
        let frames = loud_frames(&l);
        let centre = (frames[0] + frames[frames.len() - 1]) as f64 / 2.0;
        assert!((centre - 31.5).abs() <= 2.0, "tone at frames {frames:?}");
        assert!(
            (15..=25).contains(&frames.len()),
            "tone at frames {frames:?}"
        );
        // At the very end: the window is the recording's last 0.98 s.
        let end = tone_in_noise(2.7);
        let l = loudest.features(&end, 16_000).unwrap();
        let frames = loud_frames(&l);
        assert!(*frames.last().unwrap() >= 60, "tone at frames {frames:?}");
    }

    /// Where no sound stands out, or the recording fits the window, the loudest window is the
    /// middle, to the bit.
    #[test]
    fn the_loudest_window_is_the_middle_without_a_sound_or_when_the_recording_fits() {
        let middle = AudioFeatures::new(MelConfig::default(), 64).unwrap();
        let loudest = middle.clone().with_window(AudioWindow::Loudest);
        for (x, rate) in [
            (sine(440.0, 22_050, 3 * 22_050), 22_050),
            (noise(3 * 8000, 0.2, 3), 8000),
            (tone_in_noise(0.1)[..12_000].to_vec(), 16_000),
        ] {
            assert_eq!(
                loudest.features(&x, rate).unwrap(),
                middle.features(&x, rate).unwrap(),
                "{} samples at {rate} Hz",
                x.len()
            );
        }
    }

    #[test]
    #[should_panic(expected = "not frames of 4 bands")]
    fn band_mean_removal_needs_whole_frames() {
        remove_band_means(&mut [0.0; 6], 4);
    }
}
