//! Audio files as one decoded mono waveform, whatever their container: WAV (our own reader,
//! [`super::wav`]), FLAC ([`super::flac`]) and Ogg Vorbis ([`super::vorbis`]). The format is
//! chosen by the file name's extension; every decoder mixes its channels down the same way
//! ([`mix_down`]) and scales integer samples the same way (an N-bit value / 2^(N−1)), so a clip
//! stored losslessly in two formats decodes to the same samples.

use super::error::{read_file, DataResult};
use super::flac::parse_flac;
use super::image_file::has_extension;
use super::vorbis::parse_vorbis;
use super::wav::parse_wav;
use std::path::Path;

/// File name extensions of the audio formats read.
pub const AUDIO_EXTENSIONS: [&str; 4] = ["wav", "flac", "ogg", "oga"];

/// The audio formats read, in words, for help texts and error messages.
pub const AUDIO_FORMATS: &str = "WAV, FLAC or Ogg Vorbis";

/// A decoded mono waveform.
#[derive(Debug, Clone, PartialEq)]
pub struct Waveform {
    /// Samples per second.
    pub sample_rate: u32,
    /// Channels in the file before the mono mix-down.
    pub channels: u16,
    /// Mono samples, nominally in [-1, 1).
    pub samples: Vec<f32>,
}

/// The mono value of one frame: the mean of its `channels` samples, summed in channel order.
pub fn mix_down(frame: impl Iterator<Item = f32>, channels: usize) -> f32 {
    frame.sum::<f32>() / channels as f32
}

/// Whether `path` names an audio file this module reads.
pub fn is_audio_file(path: &Path) -> bool {
    has_extension(path, &AUDIO_EXTENSIONS)
}

/// Reads the audio file at `path` in the format its extension names; errors name the path.
pub fn read_audio(path: &Path) -> DataResult<Waveform> {
    let bytes = read_file(path)?;
    let origin = path.display().to_string();
    if has_extension(path, &["flac"]) {
        parse_flac(&bytes, &origin)
    } else if has_extension(path, &["ogg", "oga"]) {
        parse_vorbis(&bytes, &origin)
    } else {
        parse_wav(&bytes, &origin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::audio::AudioFeatures;
    use crate::data::spectrogram::MelConfig;
    use crate::data::test_util::temp_path;
    use crate::data::wav::tests::wav_bytes;
    use std::path::PathBuf;

    /// A fixture of `polyvit/tests/fixtures/audio` (written by its `make_fixtures.py`).
    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/audio")
            .join(name)
    }

    /// The fixtures' triangle wave from -period to period (as `make_fixtures.py` computes it).
    fn tri(i: i32, period: i32) -> i32 {
        2 * (2 * (i % period) - period).abs() - period
    }

    /// The WAV file of the fixtures' signal: 1,000 frames at 8 kHz of `channels` values of
    /// `bits` bits each, made by `frame` (8-bit WAV samples are unsigned, offset by 128).
    fn fixture_wav(channels: u16, bits: u16, frame: impl Fn(i32) -> Vec<i32>) -> Waveform {
        let width = bits as usize / 8;
        let offset = if bits == 8 { 128 } else { 0 };
        let data: Vec<u8> = (0..1000)
            .flat_map(frame)
            .flat_map(|v| (v + offset).to_le_bytes()[..width].to_vec())
            .collect();
        parse_wav(&wav_bytes(channels, 8000, bits, &data), "fixture.wav").unwrap()
    }

    #[test]
    fn flac_decodes_to_exactly_the_samples_of_the_same_wav() {
        let wav = fixture_wav(2, 24, |i| vec![tri(i, 40) * 1_000, tri(i, 25) * 1_500]);
        let flac = read_audio(&fixture("tones.flac")).unwrap();
        assert_eq!((flac.sample_rate, flac.channels), (8000, 2));
        assert_eq!(flac.samples.len(), 1000);
        assert_eq!(flac, wav);
        let wav8 = fixture_wav(1, 8, |i| vec![tri(i, 40) * 2 + tri(i, 25)]);
        let flac8 = read_audio(&fixture("tone8.flac")).unwrap();
        assert_eq!((flac8.channels, flac8.samples.len()), (1, 1000));
        assert_eq!(flac8, wav8);
    }

    #[test]
    fn vorbis_decodes_to_the_log_mel_of_the_same_wav() {
        let wav = fixture_wav(1, 16, |i| vec![tri(i, 40) * 500 + tri(i, 25) * 300]);
        let ogg = read_audio(&fixture("tone.ogg")).unwrap();
        assert_eq!((ogg.sample_rate, ogg.channels), (8000, 1));
        assert_eq!(ogg.samples.len(), 1000);
        // Measured with the fixture: 37.4 dB, mean 0.064, worst 0.81 (a quiet band).
        let noise: f32 = wav
            .samples
            .iter()
            .zip(&ogg.samples)
            .map(|(x, y)| (x - y).powi(2))
            .sum();
        let power: f32 = wav.samples.iter().map(|x| x * x).sum();
        let snr = 10.0 * (power / noise).log10();
        assert!(snr > 30.0, "signal to coding noise {snr} dB");
        let features = AudioFeatures::new(MelConfig::default(), 7).unwrap();
        let [a, b] = [&wav, &ogg].map(|w| features.features(&w.samples, 8000).unwrap());
        let diffs: Vec<f32> = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).collect();
        let mean = diffs.iter().sum::<f32>() / diffs.len() as f32;
        let worst = diffs.iter().copied().fold(0.0, f32::max);
        assert!(
            mean < 0.1 && worst < 1.0,
            "log-mel differs by {mean} on average, {worst} at worst"
        );
    }

    #[test]
    fn damaged_files_are_errors_naming_the_file() {
        for (name, want) in [("tones.flac", "FLAC"), ("tone.ogg", "Ogg Vorbis")] {
            let bytes = std::fs::read(fixture(name)).unwrap();
            let path = temp_path(name);
            for damaged in [
                &bytes[..bytes.len() / 2],
                &bytes[..40],
                &b"RIFF not audio"[..],
            ] {
                std::fs::write(&path, damaged).unwrap();
                let err = read_audio(&path).unwrap_err();
                assert_eq!(err.origin, path.display().to_string());
                assert!(err.problem.contains(want), "{err}");
            }
        }
        assert!(is_audio_file(Path::new("a/B.FLAC")) && is_audio_file(Path::new("c.oga")));
        assert!(!is_audio_file(Path::new("notes.txt")));
    }
}
