//! Audio files as one decoded mono waveform, whatever their container: WAV (our own reader,
//! [`super::wav`]), FLAC ([`super::flac`]), Ogg Vorbis ([`super::vorbis`]) and Sun/NeXT `.au`
//! ([`super::au`]) are decoded here; with the `ffmpeg` feature, the compressed formats phones and
//! recorders write (MP3, M4A/AAC, Opus, AMR, WMA, and AIFF) are decoded by the `ffmpeg` program
//! into `.au` samples at their own rate and read by the same code as ffmpeg writes them, and so
//! are an Ogg file that holds Opus (voice messages), FLAC or Speex rather than Vorbis and a WAV
//! file whose samples are compressed (ADPCM, GSM, MP3). The format is chosen by what the file
//! holds (its signature), or else by the file name's extension;
//! every decoder mixes its channels down the same way ([`mix_down`]) and scales integer samples the
//! same way (an N-bit value / 2^(N−1)), so a clip stored losslessly in two formats decodes to the
//! same samples.

use super::au::parse_au;
use super::error::{read_file, DataError, DataResult};
use super::flac::parse_flac;
use super::image_file::has_extension;
use super::vorbis::parse_vorbis;
use super::wav::{holds_other_coding, parse_wav};
use std::path::Path;

/// File name extensions of the audio formats decoded here.
pub const AUDIO_EXTENSIONS: [&str; 6] = ["wav", "flac", "ogg", "oga", "au", "snd"];

/// File name extensions of the audio formats decoded by the `ffmpeg` program (with the
/// `ffmpeg` feature; without it such a file is an error that says so).
pub const FFMPEG_AUDIO_EXTENSIONS: [&str; 8] =
    ["mp3", "m4a", "aac", "opus", "amr", "wma", "aif", "aiff"];

/// The audio formats read, in words, for help texts and error messages.
pub const AUDIO_FORMATS: &str =
    "WAV, FLAC, Ogg Vorbis or .au; MP3, M4A, AAC, Opus, AMR, WMA or AIFF with the ffmpeg feature";

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
    has_extension(path, &AUDIO_EXTENSIONS) || has_extension(path, &FFMPEG_AUDIO_EXTENSIONS)
}

/// The sample rates read, in Hz: a rate outside them is a damaged header (resampling from 1 Hz
/// to the features' rate would multiply the samples by thousands).
pub const SAMPLE_RATES: std::ops::RangeInclusive<u32> = 1_000..=768_000;

/// The most mono samples read from one recording (1 GiB of them: 93 minutes at 48 kHz), so
/// that an hours-long file is refused rather than taking the memory of several: a task's model
/// hears a second or two of it.
pub const MAX_SAMPLES: usize = 1 << 28;

/// The largest sample magnitude read. Samples are levels near ±1 (integer formats are scaled
/// there; a float file may clip a little past it); past this bound a window's power spectrum
/// overflows `f32` and the log-mel input becomes infinite.
pub const MAX_LEVEL: f32 = 1e12;

/// The problem of a recording at `rate` Hz longer than `max_samples`.
pub fn too_long(max_samples: usize, rate: u32) -> String {
    format!(
        "longer than the {max_samples} samples read from one recording ({:.0} minutes at its \
         {rate} Hz): cut out the part to classify",
        max_samples as f64 / rate.max(1) as f64 / 60.0
    )
}

/// Reads the audio file at `path` in the format it holds (or else the one its extension names);
/// errors name the path. A file with no samples or more than [`MAX_SAMPLES`], a sample rate
/// outside [`SAMPLE_RATES`] or a sample that is not a finite number (a damaged float file) or
/// beyond ±[`MAX_LEVEL`] is refused.
pub fn read_audio(path: &Path) -> DataResult<Waveform> {
    let wave = decode(path)?;
    let refuse = |problem: String| Err(DataError::new(path.display().to_string(), problem));
    if wave.samples.is_empty() {
        return refuse("holds no audio samples".into());
    }
    if wave.samples.len() > MAX_SAMPLES {
        return refuse(too_long(MAX_SAMPLES, wave.sample_rate));
    }
    if !SAMPLE_RATES.contains(&wave.sample_rate) {
        return refuse(format!(
            "a sample rate of {} Hz is outside the {}–{} Hz read",
            wave.sample_rate,
            SAMPLE_RATES.start(),
            SAMPLE_RATES.end()
        ));
    }
    if let Some(i) = wave.samples.iter().position(|v| !v.is_finite()) {
        return refuse(format!(
            "sample {i} is {} (not a number a recording holds)",
            wave.samples[i]
        ));
    }
    if let Some(i) = wave.samples.iter().position(|v| v.abs() > MAX_LEVEL) {
        return refuse(format!(
            "sample {i} is {:e}, beyond ±{MAX_LEVEL:e} (a recording's samples lie near ±1; its \
             spectrum would overflow)",
            wave.samples[i]
        ));
    }
    Ok(wave)
}

/// The built-in readers' formats, and the formats read through FFmpeg (by name).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Container {
    Wav,
    Flac,
    Ogg,
    Au,
    Ffmpeg(&'static str),
}

impl Container {
    /// The format whose signature `bytes` start with (`RIFF`/`RF64`/`BW64`/`RIFX`…`WAVE`, `fLaC`,
    /// `OggS`, `.snd`; for FFmpeg, AIFF's `FORM`…`AIFF`/`AIFC`, an MP4 `ftyp` box, MP3's `ID3`
    /// tag or the header of its first frame, an AAC stream's ADTS header, `#!AMR`, the ASF
    /// header of WMA, WebM's EBML header, and WAV and Ogg files holding codings read there), if
    /// any: a recording renamed or saved under another extension (a FLAC file called `.wav`, an
    /// AIFF file called `.wav`) is read by what it holds, as images are.
    fn of_content(bytes: &[u8]) -> Option<Container> {
        const ASF_HEADER: [u8; 8] = [0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11];
        const EBML_HEADER: [u8; 4] = [0x1A, 0x45, 0xDF, 0xA3];
        let wave = bytes.get(8..12) == Some(b"WAVE".as_slice());
        let aiff = matches!(bytes.get(8..12), Some(b"AIFF" | b"AIFC"));
        if bytes.get(4..8) == Some(b"ftyp".as_slice()) {
            return Some(Container::Ffmpeg("MP4 (M4A)"));
        }
        if bytes.starts_with(&ASF_HEADER) {
            return Some(Container::Ffmpeg("WMA (ASF)"));
        }
        if bytes.starts_with(&EBML_HEADER) {
            return Some(Container::Ffmpeg("WebM (Matroska)"));
        }
        match bytes.get(..4)? {
            b"RIFF" | b"RF64" | b"BW64" if wave => match holds_other_coding(bytes) {
                true => Some(Container::Ffmpeg("compressed WAV")),
                false => Some(Container::Wav),
            },
            // Big-endian WAV is read here only: FFmpeg (5.1 tried) reads its samples as if
            // little-endian.
            b"RIFX" if wave => Some(Container::Wav),
            b"fLaC" => Some(Container::Flac),
            b"OggS" => Some(ogg_codec(bytes).map_or(Container::Ogg, Container::Ffmpeg)),
            b".snd" => Some(Container::Au),
            b"FORM" if aiff => Some(Container::Ffmpeg("AIFF")),
            [b'I', b'D', b'3', _] => Some(Container::Ffmpeg("MP3")),
            b"#!AM" if bytes.get(4) == Some(&b'R') => Some(Container::Ffmpeg("AMR")),
            // ADTS: 12 bits of sync, the MPEG version, layer 0.
            [0xFF, b, _, _] if b & 0xF6 == 0xF0 => Some(Container::Ffmpeg("AAC (ADTS)")),
            [0xFF, b, c, _] if mpeg_audio_frame(*b, *c) => Some(Container::Ffmpeg("MP3")),
            _ => None,
        }
    }

    /// The format `path`'s extension names (a WAV file when it names none of the others).
    fn of_extension(path: &Path) -> Container {
        if has_extension(path, &["flac"]) {
            Container::Flac
        } else if has_extension(path, &["ogg", "oga"]) {
            Container::Ogg
        } else if has_extension(path, &["au", "snd"]) {
            Container::Au
        } else {
            Container::Wav
        }
    }
}

/// The file at `path` decoded by the reader of the format it holds, or else of the one its
/// extension names (whose reader then says what is wrong with it): by `ffmpeg` for the
/// extensions of [`FFMPEG_AUDIO_EXTENSIONS`], so a WAV or FLAC file named `.mp3` is read here.
fn decode(path: &Path) -> DataResult<Waveform> {
    let bytes = read_file(path)?;
    let origin = path.display().to_string();
    let container = match Container::of_content(&bytes) {
        Some(container) => container,
        None if has_extension(path, &FFMPEG_AUDIO_EXTENSIONS) => Container::Ffmpeg("this"),
        None => Container::of_extension(path),
    };
    match container {
        Container::Flac => parse_flac(&bytes, &origin),
        Container::Ogg => parse_vorbis(&bytes, &origin),
        Container::Au => parse_au(&bytes, &origin),
        Container::Wav => parse_wav(&bytes, &origin),
        Container::Ffmpeg(format) => decode_with_ffmpeg(path, format),
    }
}

/// The format read through FFmpeg of the Ogg stream in `bytes` ("Ogg Opus", as voice messages
/// are, "Ogg FLAC", "Ogg Speex"), by its first page's first packet (its codec's identification
/// header); `None` for Vorbis, read here, or a stream it cannot tell. The page header is 27
/// bytes, then one byte per segment.
fn ogg_codec(bytes: &[u8]) -> Option<&'static str> {
    let &segments = bytes.get(26)?;
    let packet = bytes.get(27 + segments as usize..)?;
    [
        (&b"OpusHead"[..], "Ogg Opus"),
        (b"\x7FFLAC", "Ogg FLAC"),
        (b"Speex   ", "Ogg Speex"),
    ]
    .into_iter()
    .find(|(identification, _)| packet.starts_with(identification))
    .map(|(_, format)| format)
}

/// Whether the bytes `b`, `c` after a leading `FF` begin an MPEG audio frame's header (MP3, and
/// its layers I and II): 11 bits of sync, then a version, layer, bit rate and sample rate that
/// are not the reserved values. An MP3 written without an ID3 tag starts so.
fn mpeg_audio_frame(b: u8, c: u8) -> bool {
    let (sync, version, layer) = (b & 0xE0 == 0xE0, (b >> 3) & 3, (b >> 1) & 3);
    let (bit_rate, sample_rate) = (c >> 4, (c >> 2) & 3);
    sync && version != 1 && layer != 0 && bit_rate != 15 && sample_rate != 3
}

/// The audio file at `path` decoded by the `ffmpeg` program: every channel, at the file's own
/// rate, as 32-bit float `.au` samples (a header that needs no length, so it streams), mixed
/// down and resampled later exactly as a WAV file's would be.
#[cfg(feature = "ffmpeg")]
fn decode_with_ffmpeg(path: &Path, _format: &str) -> DataResult<Waveform> {
    let origin = path.display().to_string();
    super::ffmpeg::read_ffmpeg_output(path, &["-vn", "-f", "au", "-c:a", "pcm_f32be"], |au| {
        super::au::read_au_stream(au, &origin, MAX_SAMPLES)
    })
}

/// Without the `ffmpeg` feature those formats are refused, naming the `format` the file holds
/// (or "this" when only its extension names one) and saying how to read it.
#[cfg(not(feature = "ffmpeg"))]
fn decode_with_ffmpeg(path: &Path, format: &str) -> DataResult<Waveform> {
    Err(DataError::new(
        path.display().to_string(),
        format!(
            "{format} audio format is read through FFmpeg: build polyvit with `--features \
             ffmpeg` (or convert the file to WAV or FLAC)"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::audio::AudioFeatures;
    use crate::data::spectrogram::MelConfig;
    #[cfg(feature = "ffmpeg")]
    use crate::data::test_util::ffmpeg_encode;
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

    /// RIFX files as SoX writes them (24-bit stereo in an extensible `fmt ` chunk, 16-bit mono in
    /// a plain one) hold the fixtures' signals as the WAV files do, big-endian.
    #[test]
    fn rifx_from_sox_decodes_to_exactly_the_samples_of_the_same_wav() {
        let wav = fixture_wav(2, 24, |i| vec![tri(i, 40) * 1_000, tri(i, 25) * 1_500]);
        assert_eq!(read_audio(&fixture("tones-rifx.wav")).unwrap(), wav);
        let wav16 = fixture_wav(1, 16, |i| vec![tri(i, 40) * 500 + tri(i, 25) * 300]);
        assert_eq!(read_audio(&fixture("tone-rifx.wav")).unwrap(), wav16);
    }

    /// An `.au` file holds the fixture's 16-bit signal as the WAV does, big-endian.
    #[test]
    fn au_decodes_to_exactly_the_samples_of_the_same_wav() {
        let wav = fixture_wav(1, 16, |i| vec![tri(i, 40) * 500]);
        let mut au = b".snd".to_vec();
        for field in [24u32, 2000, 3, 8000, 1] {
            au.extend(field.to_be_bytes());
        }
        au.extend((0..1000).flat_map(|i| ((tri(i, 40) * 500) as i16).to_be_bytes()));
        let path = temp_path("tone.AU");
        std::fs::write(&path, au).unwrap();
        assert!(is_audio_file(&path));
        assert_eq!(read_audio(&path).unwrap(), wav);
    }

    /// A recording is read by what it holds, whatever its extension says.
    #[test]
    fn a_recording_under_another_extension_is_read_by_its_content() {
        let flac = std::fs::read(fixture("tones.flac")).unwrap();
        let path = temp_path("tones-saved-as.wav");
        std::fs::write(&path, flac).unwrap();
        assert_eq!(
            read_audio(&path).unwrap(),
            read_audio(&fixture("tones.flac")).unwrap()
        );
        let wav = wav_bytes(1, 8000, 16, &[0, 1, 0, 2]);
        let path = temp_path("tone-saved-as.flac");
        std::fs::write(&path, wav).unwrap();
        assert_eq!(read_audio(&path).unwrap().samples.len(), 2);
        for (start, format) in [
            (&b"ID3\x04 an MP3"[..], "MP3"),
            (b"FORM\0\0\x10\0AIFFCOMM", "AIFF"),
            (b"FORM\0\0\x10\0AIFCFVER", "AIFF"),
            (b"\0\0\0\x20ftypM4A ", "MP4 (M4A)"),
            (b"#!AMR\n", "AMR"),
            (
                &[0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11, 0xA6],
                "WMA (ASF)",
            ),
            (&[0x1A, 0x45, 0xDF, 0xA3, 0x9F], "WebM (Matroska)"),
        ] {
            assert_eq!(
                Container::of_content(start),
                Some(Container::Ffmpeg(format))
            );
        }
        assert_eq!(Container::of_content(b"FORM\0\0\x10\08SVX"), None);
        // Big-endian WAV is read here, whatever its coding (FFmpeg misreads its samples).
        assert_eq!(
            Container::of_content(b"RIFX\0\0\0\x24WAVEfmt "),
            Some(Container::Wav)
        );
    }

    /// A WAV or FLAC recording under the extension of a format read through FFmpeg (a file
    /// saved as `.mp3` or `.m4a`) is read by what it holds, with or without the `ffmpeg` feature.
    #[test]
    fn a_native_recording_named_as_an_ffmpeg_format_is_read_here() {
        let flac = fixture("tones.flac");
        for (name, source) in [("tones-as.m4a", flac.clone()), ("tones-as.mp3", flac)] {
            let path = temp_path(name);
            std::fs::copy(&source, &path).unwrap();
            assert_eq!(read_audio(&path).unwrap(), read_audio(&source).unwrap());
        }
        let path = temp_path("tone-as.mp3");
        std::fs::write(&path, wav_bytes(1, 8000, 16, &[0, 1, 0, 2])).unwrap();
        assert_eq!(read_audio(&path).unwrap().samples.len(), 2);
    }

    /// A float file with a NaN sample or one past ±[`MAX_LEVEL`] (whose spectrum would be
    /// infinite), a file with no samples and one whose header claims 1 Hz are refused, each
    /// naming the file and the problem.
    #[test]
    fn damaged_recordings_are_refused() {
        let float_au = |samples: [f32; 3]| {
            let mut bytes = b".snd".to_vec();
            for field in [24u32, 12, 6, 8000, 1] {
                bytes.extend(field.to_be_bytes());
            }
            for v in samples {
                bytes.extend(v.to_be_bytes());
            }
            bytes
        };
        let nan = float_au([0.5, f32::NAN, -0.5]);
        let loud = float_au([0.5, -0.5, -2e12]);
        let tone: Vec<u8> = (0..400i16).flat_map(|i| (i * 50).to_le_bytes()).collect();
        for (name, bytes, problem) in [
            ("nan.au", nan, "sample 1 is NaN"),
            ("loud.au", loud, "sample 2 is -2e12, beyond ±1e12"),
            ("empty.wav", wav_bytes(1, 8000, 16, &[]), "no audio samples"),
            ("slow.wav", wav_bytes(1, 1, 16, &tone), "1 Hz is outside"),
        ] {
            let path = temp_path(name);
            std::fs::write(&path, bytes).unwrap();
            let err = read_audio(&path).unwrap_err();
            assert!(err.origin.ends_with(name), "{err}");
            assert!(err.problem.contains(problem), "{name}: {err}");
        }
    }

    /// The first page of an Ogg Opus stream: the page header (one 19-byte segment), then Opus's
    /// identification header.
    fn ogg_opus_start() -> Vec<u8> {
        let mut page = b"OggS".to_vec();
        page.extend([0, 2]); // version, first page of its stream
        page.extend([0; 20]); // granule position, serial, sequence number, checksum
        page.extend([1, 19]); // one segment of 19 bytes
        page.extend(b"OpusHead");
        page.extend([1, 1, 0x38, 1, 0x80, 0xBB, 0, 0, 0, 0, 0]);
        page
    }

    #[test]
    fn ogg_opus_is_told_from_ogg_vorbis() {
        assert_eq!(ogg_codec(&ogg_opus_start()), Some("Ogg Opus"));
        let vorbis = std::fs::read(fixture("tone.ogg")).unwrap();
        assert_eq!(ogg_codec(&vorbis), None);
        assert_eq!(Container::of_content(&vorbis), Some(Container::Ogg));
        assert_eq!(ogg_codec(b"OggS"), None);
        assert_eq!(ogg_codec(&ogg_opus_start()[..30]), None);
        let mut flac = ogg_opus_start();
        flac.splice(28..36, *b"\x7FFLAC\x01\x00\x00");
        assert_eq!(
            Container::of_content(&flac),
            Some(Container::Ffmpeg("Ogg FLAC"))
        );
    }

    /// An MP3 without an ID3 tag starts with its first frame's header, an AAC stream with its
    /// ADTS header: both go to FFmpeg whatever their name; bytes that only look like a frame
    /// sync with reserved fields do not.
    #[test]
    fn mpeg_streams_are_told_by_their_frame_headers() {
        let mp3 = [0xFF, 0xFB, 0x90, 0x64]; // MPEG-1 layer III, 128 kbit/s, 44.1 kHz
        let adts = [0xFF, 0xF1, 0x50, 0x80];
        assert_eq!(Container::of_content(&mp3), Some(Container::Ffmpeg("MP3")));
        assert_eq!(
            Container::of_content(&adts),
            Some(Container::Ffmpeg("AAC (ADTS)"))
        );
        for reserved in [
            [0xFF, 0xEB, 0x90, 0],
            [0xFF, 0xFB, 0xF0, 0],
            [0xFF, 0xFB, 0x9C, 0],
        ] {
            assert_eq!(Container::of_content(&reserved), None, "{reserved:x?}");
        }
    }

    #[cfg(not(feature = "ffmpeg"))]
    #[test]
    fn without_the_feature_ffmpeg_formats_are_refused_with_the_way_out() {
        let path = temp_path("memo.m4a");
        std::fs::write(&path, b"\0\0\0\x20ftypM4A ").unwrap();
        assert!(is_audio_file(&path) && is_audio_file(Path::new("a/B.MP3")));
        let err = read_audio(&path).unwrap_err();
        assert_eq!(err.origin, path.display().to_string());
        assert!(err.problem.contains("--features ffmpeg"), "{err}");
        let voice = temp_path("voice-message.ogg");
        std::fs::write(&voice, ogg_opus_start()).unwrap();
        let err = read_audio(&voice).unwrap_err();
        assert!(err.problem.contains("--features ffmpeg"), "Ogg Opus: {err}");
        let aiff = temp_path("aiff-saved-as.wav");
        std::fs::write(&aiff, b"FORM\0\0\0\x40AIFFCOMM\0\0\0\x12").unwrap();
        let err = read_audio(&aiff).unwrap_err();
        assert!(err.problem.starts_with("AIFF audio format"), "{err}");
        assert!(err.problem.contains("--features ffmpeg"), "{err}");
        let mut adpcm = wav_bytes(1, 8000, 4, &[0; 64]);
        adpcm[20] = 17; // IMA ADPCM's format tag
        let path = temp_path("adpcm.wav");
        std::fs::write(&path, adpcm).unwrap();
        let err = read_audio(&path).unwrap_err();
        assert!(
            err.problem.starts_with("compressed WAV audio format"),
            "{err}"
        );
    }

    /// The fixture's signal stored by FFmpeg in `extension`'s format, read back.
    #[cfg(feature = "ffmpeg")]
    fn through_ffmpeg(wav: &Path, extension: &str, codec: &[&str]) -> Waveform {
        let path = temp_path(&format!("tones.{extension}"));
        let input = ["-i", wav.to_str().expect("a UTF-8 fixture path")];
        ffmpeg_encode(&path, &[&input[..], codec].concat());
        read_audio(&path).unwrap()
    }

    /// AIFF and FLAC in Ogg (lossless) decode to the WAV's samples; MP3, AAC, Opus, also in a
    /// `.ogg` file, and IMA ADPCM in a WAV file (lossy, with their coders' delays, Opus at
    /// 48 kHz) to a signal of the same length whose log-mel peaks in the same band; AAC as an ADTS
    /// stream to one as loud, longer by its coder's priming. A file ffmpeg cannot decode is an
    /// error naming it.
    #[cfg(feature = "ffmpeg")]
    #[test]
    fn compressed_formats_decode_through_ffmpeg() {
        let wav = fixture("tones.flac");
        let reference = read_audio(&wav).unwrap();
        let aiff = through_ffmpeg(&wav, "aiff", &["-c:a", "pcm_s24be"]);
        assert_eq!(aiff, reference);
        assert_eq!(through_ffmpeg(&wav, "oga", &["-c:a", "flac"]), reference);
        // Read by what it holds under a WAV file's name too.
        let renamed = temp_path("tones-aiff-saved-as.wav");
        std::fs::copy(temp_path("tones.aiff"), &renamed).unwrap();
        assert_eq!(read_audio(&renamed).unwrap(), reference);
        let features = AudioFeatures::new(MelConfig::default(), 7).unwrap();
        let loudest_band = |w: &Waveform| {
            let x = features.features(&w.samples, w.sample_rate).unwrap();
            let bands = x.len() / 7;
            let energy = |b: usize| (0..7).map(|t| x[t * bands + b]).sum::<f32>();
            (0..bands)
                .max_by(|&a, &b| energy(a).total_cmp(&energy(b)))
                .unwrap()
        };
        let want = loudest_band(&reference);
        for (extension, codec) in [
            ("mp3", &["-c:a", "libmp3lame"][..]),
            ("m4a", &["-c:a", "aac"]),
            ("opus", &["-c:a", "libopus"]),
            ("ogg", &["-c:a", "libopus"]),
            ("wav", &["-c:a", "adpcm_ima_wav"]),
        ] {
            let w = through_ffmpeg(&wav, extension, codec);
            let seconds = w.samples.len() as f64 / w.sample_rate as f64;
            assert!((seconds - 0.125).abs() < 0.1, "{extension}: {seconds} s");
            assert_eq!(loudest_band(&w), want, "{extension}");
        }
        // An AAC stream with no container (ADTS) keeps its coder's priming, a frame longer,
        // and as loud as the tones.
        let adts = through_ffmpeg(&wav, "aac", &["-c:a", "aac", "-f", "adts"]);
        let seconds = adts.samples.len() as f64 / adts.sample_rate as f64;
        assert!((0.125..0.4).contains(&seconds), "ADTS: {seconds} s");
        let peak = |w: &Waveform| w.samples.iter().fold(0f32, |m, v| m.max(v.abs()));
        assert!((peak(&adts) / peak(&reference) - 1.0).abs() < 0.2, "ADTS");
        // An MP3 with no ID3 tag, starting with its first frame, under a WAV file's name.
        let bare = through_ffmpeg(&wav, "mp3", &["-c:a", "libmp3lame", "-id3v2_version", "0"]);
        let renamed = temp_path("tones-mp3-saved-as.wav");
        std::fs::copy(temp_path("tones.mp3"), &renamed).unwrap();
        assert_eq!(read_audio(&renamed).unwrap(), bare);
        let corrupt = temp_path("corrupt.mp3");
        std::fs::write(&corrupt, b"not audio").unwrap();
        let err = read_audio(&corrupt).unwrap_err();
        assert_eq!(err.origin, corrupt.display().to_string());
        assert!(err.problem.starts_with("ffmpeg cannot decode it"), "{err}");
        let empty = temp_path("empty.mp3");
        std::fs::write(&empty, b"").unwrap();
        assert_eq!(
            read_audio(&empty).unwrap_err().problem,
            "an empty file (0 bytes)"
        );
    }

    /// A WMA file cut short, which ffmpeg decodes in part with errors (exiting with success
    /// without `-xerror`), is an error saying it is damaged.
    #[cfg(feature = "ffmpeg")]
    #[test]
    fn a_compressed_recording_cut_short_is_damaged() {
        let path = ffmpeg_encode(
            &temp_path("cut.wma"),
            &["-f", "lavfi", "-i", "sine=duration=2", "-c:a", "wmav2"],
        );
        assert!(read_audio(&path).is_ok());
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() * 2 / 3]).unwrap();
        let err = read_audio(&path).unwrap_err();
        assert_eq!(err.origin, path.display().to_string());
        assert!(err.problem.contains("damaged"), "{err}");
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
        // A FLAC file cut inside its header says so.
        let flac = std::fs::read(fixture("tones.flac")).unwrap();
        let path = temp_path("cut-header.flac");
        std::fs::write(&path, &flac[..40]).unwrap();
        let err = read_audio(&path).unwrap_err();
        assert!(err.problem.starts_with("a FLAC file cut short"), "{err}");
        assert!(is_audio_file(Path::new("a/B.FLAC")) && is_audio_file(Path::new("c.oga")));
        assert!(!is_audio_file(Path::new("notes.txt")));
    }
}
