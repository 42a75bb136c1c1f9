//! RIFF/WAVE reader for PCM (8-bit unsigned, 16-, 24- or 32-bit signed samples, and sizes between
//! them, such as 12 or 20 bits, in the next whole number of bytes), IEEE float (32 or 64 bits)
//! and 8-bit G.711 A-law and mu-law (the telephone codings), any number of channels (mixed down
//! to mono by averaging) and any sample rate. Chunks other than `fmt ` and `data` are skipped, and
//! so is whatever follows the last whole chunk once both are read (a tagger's ID3v1 block, a
//! stray byte). WAVE_FORMAT_EXTENSIBLE is accepted when its sub-format is one of those. RF64 (EBU
//! Tech 3306: the 64-bit form that FFmpeg and broadcast recorders write for long recordings, its
//! sizes in a `ds64` chunk where the 32-bit fields hold 0xFFFFFFFF) is read as well, and so is
//! BW64 (ITU-R BS.2088, the same layout under another name), and RIFX, the big-endian form
//! (every size, header field and sample byte-swapped; SoX writes it, and old Mac and Sun
//! tools did).

use super::audio_file::{mix_down, too_long, Waveform, MAX_SAMPLES};
use super::error::{read_file, DataError, DataResult};
use std::path::Path;

/// Format tag of plain PCM.
const FORMAT_PCM: u16 = 1;
/// Format tag of IEEE floating-point samples (32 or 64 bits).
const FORMAT_FLOAT: u16 = 3;
/// Format tag of G.711 A-law (8 bits per sample).
const FORMAT_ALAW: u16 = 6;
/// Format tag of G.711 mu-law (8 bits per sample).
const FORMAT_MULAW: u16 = 7;
/// Format tag of WAVE_FORMAT_EXTENSIBLE (the real format is the sub-format GUID's first 2 bytes).
const FORMAT_EXTENSIBLE: u16 = 0xFFFE;
/// The codings decoded here.
const DECODED_FORMATS: [u16; 4] = [FORMAT_PCM, FORMAT_FLOAT, FORMAT_ALAW, FORMAT_MULAW];

/// The fields of the `fmt ` chunk that decoding needs.
struct Format {
    channels: u16,
    sample_rate: u32,
    /// Bytes that hold one sample: its bits rounded up to whole bytes (a 12-bit sample fills
    /// two, its value in their top bits, as the format lays it out).
    width: usize,
    tag: u16,
    /// Whether the file is RIFX: its samples' bytes most significant first.
    big_endian: bool,
}

/// The 16-bit linear value of a G.711 mu-law byte (range ±32124).
pub fn mulaw_to_linear(byte: u8) -> i16 {
    let u = !byte;
    let exponent = (u >> 4) & 7;
    let magnitude = ((((u & 0x0F) as i32) << 3) + 0x84) << exponent;
    let v = magnitude - 0x84;
    if u & 0x80 != 0 {
        -v as i16
    } else {
        v as i16
    }
}

/// The 16-bit linear value of a G.711 A-law byte (range ±32256). The byte, its even bits
/// inverted, is a sign bit, a 3-bit segment and a 4-bit step: segment 0 is linear in steps of
/// 16, each further segment doubles the step; the value is the middle of the step's interval.
pub fn alaw_to_linear(byte: u8) -> i16 {
    let a = byte ^ 0x55;
    let step = ((a & 0x0F) as i32) << 4;
    let segment = (a >> 4) & 7;
    let magnitude = match segment {
        0 => step + 8,
        s => (step + 0x108) << (s - 1),
    };
    if a & 0x80 != 0 {
        magnitude as i16
    } else {
        -magnitude as i16
    }
}

/// The 16-bit field at `at`, least significant byte first unless `big_endian` (RIFX).
fn u16_at(b: &[u8], at: usize, big_endian: bool) -> u16 {
    let bytes = [b[at], b[at + 1]];
    match big_endian {
        false => u16::from_le_bytes(bytes),
        true => u16::from_be_bytes(bytes),
    }
}

/// The 32-bit field at `at`, least significant byte first unless `big_endian` (RIFX).
fn u32_at(b: &[u8], at: usize, big_endian: bool) -> u32 {
    let bytes = [b[at], b[at + 1], b[at + 2], b[at + 3]];
    match big_endian {
        false => u32::from_le_bytes(bytes),
        true => u32::from_be_bytes(bytes),
    }
}

fn parse_format(body: &[u8], origin: &str, big_endian: bool) -> DataResult<Format> {
    let u16_at = |at| u16_at(body, at, big_endian);
    let err = |p: String| DataError::new(origin, p);
    if body.len() < 16 {
        return Err(err(format!(
            "fmt chunk is {} bytes, need at least 16",
            body.len()
        )));
    }
    let mut tag = u16_at(0);
    if tag == FORMAT_EXTENSIBLE {
        if body.len() < 26 {
            return Err(err(format!(
                "WAVE_FORMAT_EXTENSIBLE fmt chunk is {} bytes, need 26",
                body.len()
            )));
        }
        // The sub-format GUID's first two bytes (a 16-bit field in the file's order: SoX's
        // RIFX swaps them alone).
        tag = u16_at(24);
    }
    if !DECODED_FORMATS.contains(&tag) {
        return Err(err(format!(
            "unsupported WAV format tag {tag}: only PCM (1), float (3), A-law (6) and mu-law (7) \
             are supported"
        )));
    }
    let (channels, sample_rate, block_align, bits) = (
        u16_at(2),
        u32_at(body, 4, big_endian),
        u16_at(12),
        u16_at(14),
    );
    if channels == 0 || sample_rate == 0 {
        return Err(err(format!(
            "invalid WAV format: {channels} channels at {sample_rate} Hz"
        )));
    }
    let (kind, sizes, supported) = match tag {
        FORMAT_PCM => ("PCM", "1 to 32", (1..=32).contains(&bits)),
        FORMAT_FLOAT => ("float", "32 or 64", bits == 32 || bits == 64),
        FORMAT_ALAW => ("A-law", "8", bits == 8),
        _ => ("mu-law", "8", bits == 8),
    };
    if !supported {
        return Err(err(format!(
            "unsupported {kind} WAV sample size {bits} bits: only {sizes} are supported"
        )));
    }
    let width = usize::from(bits.div_ceil(8));
    if block_align as usize != channels as usize * width {
        return Err(err(format!(
            "corrupt WAV fmt chunk: block align {block_align} for {channels} channels of {bits} \
             bits (need {})",
            channels as usize * width
        )));
    }
    Ok(Format {
        channels,
        sample_rate,
        width,
        tag,
        big_endian,
    })
}

fn decode(format: &Format, data: &[u8], origin: &str) -> DataResult<Vec<f32>> {
    let channels = format.channels as usize;
    let width = format.width;
    let frame = channels * width;
    if !data.len().is_multiple_of(frame) {
        return Err(DataError::new(
            origin,
            format!(
                "truncated WAV data: {} bytes is not a whole number of {frame}-byte frames",
                data.len()
            ),
        ));
    }
    let sample = |sample: &[u8]| -> f32 {
        // The sample's bytes least significant first, as the arms below read them.
        let mut b = [0u8; 8];
        b[..width].copy_from_slice(sample);
        if format.big_endian {
            b[..width].reverse();
        }
        match (format.tag, width) {
            (FORMAT_ALAW, _) => alaw_to_linear(b[0]) as f32 / 32768.0,
            (FORMAT_MULAW, _) => mulaw_to_linear(b[0]) as f32 / 32768.0,
            (FORMAT_FLOAT, 4) => f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            (FORMAT_FLOAT, _) => {
                f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32
            }
            (_, 1) => (b[0] as f32 - 128.0) / 128.0,
            (_, 2) => i16::from_le_bytes([b[0], b[1]]) as f32 / 32768.0,
            // 24 bits: the three bytes as the top of an i32, so the sign carries.
            (_, 3) => i32::from_le_bytes([0, b[0], b[1], b[2]]) as f32 / 2_147_483_648.0,
            _ => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f32 / 2_147_483_648.0,
        }
    };
    Ok(data
        .chunks_exact(frame)
        .map(|f| mix_down(f.chunks_exact(width).map(sample), channels))
        .collect())
}

/// The data sizes that writers put in the header of a WAV file they cannot seek back into (one
/// written to a pipe): FFmpeg's 0xFFFFFFFF, SoX's 0x7FFFF000 and `arecord`'s 0x80000000 (its
/// 2 GiB limit of a WAV file). Such a data chunk, declaring more than the file holds, runs to
/// the end of the file.
const STREAMED_DATA_SIZES: [u32; 3] = [u32::MAX, 0x7FFF_F000, 0x8000_0000];

/// Parses a WAV file held in memory. `origin` names the source in errors. Samples in [-1, 1):
/// N-bit signed values / 2^(N-1), 8-bit values (v - 128) / 128, float samples as they are,
/// A-law and mu-law bytes expanded to their 16-bit linear value (ITU-T G.711) / 32768. A chunk
/// cut short is an error, unless both the format and the samples are already read: then it is
/// bytes after the recording, which players ignore too. More than [`MAX_SAMPLES`] frames is an
/// error, raised before they are decoded (4 bytes each, whatever their width).
pub fn parse_wav(bytes: &[u8], origin: &str) -> DataResult<Waveform> {
    parse_wav_of_at_most(bytes, origin, MAX_SAMPLES)
}

/// [`parse_wav`], refusing more than `max_samples` frames.
fn parse_wav_of_at_most(bytes: &[u8], origin: &str, max_samples: usize) -> DataResult<Waveform> {
    let err = |p: String| DataError::new(origin, p);
    if bytes.len() < 12 {
        return Err(err(format!(
            "truncated WAV header: {} bytes, need at least 12",
            bytes.len()
        )));
    }
    let rf64 = matches!(&bytes[0..4], b"RF64" | b"BW64");
    let big_endian = &bytes[0..4] == b"RIFX";
    if !(&bytes[0..4] == b"RIFF" || rf64 || big_endian) || &bytes[8..12] != b"WAVE" {
        return Err(err(
            "not a RIFF/WAVE file (missing RIFF....WAVE header)".into()
        ));
    }
    let (mut format, mut data) = (None, None);
    // An RF64 file's data size, from its `ds64` chunk.
    let mut data_size_64: Option<u64> = None;
    let mut at = 12;
    while at < bytes.len() {
        let read_both = format.is_some() && data.is_some();
        if bytes.len() - at < 8 {
            if read_both {
                break;
            }
            return Err(err(format!("truncated WAV chunk header at byte {at}")));
        }
        let id = &bytes[at..at + 4];
        let declared = u32_at(bytes, at + 4, big_endian);
        let mut size = declared as usize;
        if let (b"data", u32::MAX, Some(real)) = (id, declared, data_size_64) {
            size = usize::try_from(real).unwrap_or(usize::MAX);
        }
        let body_start = at + 8;
        let remaining = bytes.len() - body_start;
        let streamed = id == b"data"
            && size > remaining
            && data_size_64.is_none()
            && STREAMED_DATA_SIZES.contains(&declared);
        if streamed {
            // The samples run to the end of the file; the stream may have ended mid-frame.
            let frame = format
                .as_ref()
                .map_or(1, |f: &Format| f.channels as usize * f.width);
            size = remaining - remaining % frame;
        }
        if size > remaining {
            if data.is_some_and(<[u8]>::is_empty) {
                return Err(err(format!(
                    "its data chunk declares 0 bytes, and the {} bytes after it are no chunk: \
                     a recording whose writer never filled in its size? (re-save it, e.g. with \
                     ffmpeg or an audio editor)",
                    bytes.len() - at
                )));
            }
            if read_both {
                break;
            }
            return Err(err(format!(
                "truncated WAV chunk '{}': declares {size} bytes, only {remaining} remain",
                id.escape_ascii()
            )));
        }
        let body = &bytes[body_start..body_start + size];
        match id {
            b"fmt " => format = Some(parse_format(body, origin, big_endian)?),
            b"data" => data = Some(body),
            // Its fields: the RIFF size, the data size, the sample count (64 bits each).
            b"ds64" if rf64 => {
                let field = body.get(8..16).ok_or_else(|| {
                    err(format!(
                        "RF64 ds64 chunk of {} bytes, need at least 16",
                        body.len()
                    ))
                })?;
                data_size_64 = Some(u64::from_le_bytes(field.try_into().expect("8 bytes")));
            }
            _ => {}
        }
        if streamed {
            break;
        }
        at = body_start + size + (size & 1);
    }
    let format = format.ok_or_else(|| err("WAV file has no fmt chunk".into()))?;
    let data = data.ok_or_else(|| err("WAV file has no data chunk".into()))?;
    if data.len() / (format.channels as usize * format.width) > max_samples {
        return Err(err(too_long(max_samples, format.sample_rate)));
    }
    Ok(Waveform {
        sample_rate: format.sample_rate,
        channels: format.channels,
        samples: decode(&format, data, origin)?,
    })
}

/// Whether the WAV file in `bytes` holds samples in a coding not decoded here (ADPCM, GSM, MP3
/// in a WAV file…), by its `fmt ` chunk's format tag (an extensible one's sub-format): such a
/// file is for FFmpeg. A file whose `fmt ` chunk cannot be read is not; [`parse_wav`] says what
/// is wrong with it.
pub fn holds_other_coding(bytes: &[u8]) -> bool {
    let mut at = 12;
    while let Some(header) = bytes.get(at..at + 8) {
        let size = u32_at(header, 4, false) as usize;
        if &header[..4] == b"fmt " {
            // The chunk alone: a sub-format read past it (an extensible chunk cut short) would be
            // the next chunk's bytes, taken for a coding of FFmpeg's.
            let body = &bytes[at + 8..at.saturating_add(8).saturating_add(size).min(bytes.len())];
            let tag = match body.get(..2).map(|t| u16_at(t, 0, false)) {
                Some(FORMAT_EXTENSIBLE) => body.get(24..26).map(|t| u16_at(t, 0, false)),
                tag => tag,
            };
            return tag.is_some_and(|tag| !DECODED_FORMATS.contains(&tag));
        }
        at = at
            .saturating_add(8)
            .saturating_add(size.saturating_add(size & 1));
    }
    false
}

/// A 16-bit PCM mono WAV file of `samples` (clamped to [-1, 1]) at `sample_rate` Hz.
pub fn encode_wav16(sample_rate: u32, samples: &[f32]) -> Vec<u8> {
    let data_len = 2 * samples.len() as u32;
    let mut b = Vec::with_capacity(44 + data_len as usize);
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data_len).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&FORMAT_PCM.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&sample_rate.to_le_bytes());
    b.extend_from_slice(&(2 * sample_rate).to_le_bytes());
    b.extend_from_slice(&2u16.to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data_len.to_le_bytes());
    for &s in samples {
        let v = (s.clamp(-1.0, 1.0) * 32767.0).round() as i16;
        b.extend_from_slice(&v.to_le_bytes());
    }
    b
}

/// Reads a WAV file from disk; errors name the path.
pub fn read_wav(path: &Path) -> DataResult<Waveform> {
    parse_wav(&read_file(path)?, &path.display().to_string())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::data::test_util::temp_path;

    /// A PCM WAV file with the given raw interleaved sample bytes.
    pub(crate) fn wav_bytes(channels: u16, rate: u32, bits: u16, data: &[u8]) -> Vec<u8> {
        let align = channels * bits / 8;
        let mut b = Vec::new();
        b.extend_from_slice(b"RIFF");
        b.extend_from_slice(&(4 + (8 + 16) + (8 + 4) + 8 + data.len() as u32).to_le_bytes());
        b.extend_from_slice(b"WAVE");
        b.extend_from_slice(b"fmt ");
        b.extend_from_slice(&16u32.to_le_bytes());
        b.extend_from_slice(&FORMAT_PCM.to_le_bytes());
        b.extend_from_slice(&channels.to_le_bytes());
        b.extend_from_slice(&rate.to_le_bytes());
        b.extend_from_slice(&(rate * align as u32).to_le_bytes());
        b.extend_from_slice(&align.to_le_bytes());
        b.extend_from_slice(&bits.to_le_bytes());
        // An odd-sized chunk that must be skipped, with its pad byte.
        b.extend_from_slice(b"LIST");
        b.extend_from_slice(&3u32.to_le_bytes());
        b.extend_from_slice(b"abc\0");
        b.extend_from_slice(b"data");
        b.extend_from_slice(&(data.len() as u32).to_le_bytes());
        b.extend_from_slice(data);
        b
    }

    /// A 16-bit mono WAV file of `samples`.
    pub(crate) fn wav16(rate: u32, samples: &[i16]) -> Vec<u8> {
        let data: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        wav_bytes(1, rate, 16, &data)
    }

    #[test]
    fn reads_16_bit_mono() {
        let w = parse_wav(&wav16(8000, &[0, 16384, -32768, 32767]), "m16").unwrap();
        assert_eq!((w.sample_rate, w.channels), (8000, 1));
        assert_eq!(w.samples, vec![0.0, 0.5, -1.0, 32767.0 / 32768.0]);
    }

    #[test]
    fn reads_8_bit_unsigned() {
        let w = parse_wav(&wav_bytes(1, 11025, 8, &[128, 255, 0, 192]), "u8").unwrap();
        assert_eq!(w.sample_rate, 11025);
        assert_eq!(w.samples, vec![0.0, 127.0 / 128.0, -1.0, 0.5]);
    }

    #[test]
    fn encoded_16_bit_files_read_back() {
        let w = parse_wav(&encode_wav16(8000, &[0.0, 0.5, -1.0, 2.0]), "enc").unwrap();
        assert_eq!((w.sample_rate, w.channels), (8000, 1));
        assert_eq!(
            w.samples,
            vec![
                0.0,
                16384.0 / 32768.0,
                -32767.0 / 32768.0,
                32767.0 / 32768.0
            ]
        );
    }

    #[test]
    fn reads_24_and_32_bit_pcm_and_float() {
        let pcm24 = wav_bytes(1, 48000, 24, &[0, 0, 0x40, 0, 0, 0x80, 0xFF, 0xFF, 0xFF]);
        let w = parse_wav(&pcm24, "p24").unwrap();
        assert_eq!(w.samples, vec![0.5, -1.0, -1.0 / 8_388_608.0]);
        let pcm32: Vec<u8> = [1 << 30, i32::MIN]
            .iter()
            .flat_map(|s: &i32| s.to_le_bytes())
            .collect();
        assert_eq!(
            parse_wav(&wav_bytes(1, 8000, 32, &pcm32), "p32")
                .unwrap()
                .samples,
            vec![0.5, -1.0]
        );
        let float_data: Vec<u8> = [0.25f32, -0.75]
            .iter()
            .flat_map(|s| s.to_le_bytes())
            .collect();
        let mut f32_wav = wav_bytes(2, 22050, 32, &float_data);
        f32_wav[20..22].copy_from_slice(&FORMAT_FLOAT.to_le_bytes());
        let w = parse_wav(&f32_wav, "f32").unwrap();
        assert_eq!((w.channels, w.samples.clone()), (2, vec![-0.25]));
        let f64_data: Vec<u8> = [0.125f64].iter().flat_map(|s| s.to_le_bytes()).collect();
        let mut f64_wav = wav_bytes(1, 8000, 64, &f64_data);
        f64_wav[20..22].copy_from_slice(&FORMAT_FLOAT.to_le_bytes());
        assert_eq!(parse_wav(&f64_wav, "f64").unwrap().samples, vec![0.125]);
    }

    #[test]
    fn reads_mu_law() {
        // G.711 reference points: 0xFF and 0x7F are zero, 0x80 / 0x00 the extremes.
        let table = [
            (0xFF, 0),
            (0x7F, 0),
            (0x80, 32124),
            (0x00, -32124),
            (0xFE, 8),
            (0xEF, 132),
            (0xCF, 924),
        ];
        for (byte, want) in table {
            assert_eq!(mulaw_to_linear(byte), want, "byte {byte:#04x}");
        }
        // Monotonic over each half of the code space.
        for b in 0x80u8..0xFF {
            assert!(mulaw_to_linear(b) > mulaw_to_linear(b + 1));
        }
        let mut b = wav_bytes(1, 8000, 8, &[0xFF, 0x80, 0x00]);
        b[20..22].copy_from_slice(&FORMAT_MULAW.to_le_bytes());
        let w = parse_wav(&b, "ulaw").unwrap();
        assert_eq!(w.samples, vec![0.0, 32124.0 / 32768.0, -32124.0 / 32768.0]);
        b[34..36].copy_from_slice(&16u16.to_le_bytes());
        assert!(parse_wav(&b, "ulaw16").is_err());
    }

    #[test]
    fn reads_a_law() {
        // G.711 reference points: 0xD5 / 0x55 the smallest magnitudes, 0xAA / 0x2A the
        // extremes, 0x80 / 0x00 the start of the fifth segment.
        let table = [
            (0xD5, 8),
            (0x55, -8),
            (0xD4, 24),
            (0xC5, 264),
            (0xAA, 32256),
            (0x2A, -32256),
            (0x80, 5504),
            (0x00, -5504),
            (0xFF, 848),
            (0x7F, -848),
        ];
        for (byte, want) in table {
            assert_eq!(alaw_to_linear(byte), want, "byte {byte:#04x}");
        }
        // Odd in the sign bit, and 128 distinct magnitudes.
        let mut magnitudes: Vec<i16> = (0x80u8..=0xFF).map(alaw_to_linear).collect();
        for b in 0x80u8..=0xFF {
            assert_eq!(alaw_to_linear(b), -alaw_to_linear(b & 0x7F));
        }
        magnitudes.sort();
        magnitudes.dedup();
        assert_eq!(magnitudes.len(), 128);
        let mut b = wav_bytes(1, 8000, 8, &[0xD5, 0xAA, 0x2A]);
        b[20..22].copy_from_slice(&FORMAT_ALAW.to_le_bytes());
        let w = parse_wav(&b, "alaw").unwrap();
        assert_eq!(
            w.samples,
            vec![8.0 / 32768.0, 32256.0 / 32768.0, -32256.0 / 32768.0]
        );
        b[34..36].copy_from_slice(&16u16.to_le_bytes());
        let e = parse_wav(&b, "alaw16").unwrap_err();
        assert!(e.problem.contains("A-law WAV sample size 16"), "{e}");
    }

    #[test]
    fn mixes_stereo_to_mono() {
        let frames: [i16; 6] = [16384, 0, -16384, -16384, 8192, 24576];
        let data: Vec<u8> = frames.iter().flat_map(|s| s.to_le_bytes()).collect();
        let w = parse_wav(&wav_bytes(2, 44100, 16, &data), "st").unwrap();
        assert_eq!(w.channels, 2);
        assert_eq!(w.samples, vec![0.25, -0.5, 0.5]);
        let w8 = parse_wav(&wav_bytes(2, 8000, 8, &[255, 1, 192, 192]), "st8").unwrap();
        assert_eq!(w8.samples, vec![0.0, 0.5]);
    }

    /// `b`, a file of `wav_bytes`' layout, with its fmt chunk rewritten in place as
    /// WAVE_FORMAT_EXTENSIBLE with a PCM sub-format.
    fn extensible(mut b: Vec<u8>) -> Vec<u8> {
        let fmt_at = 12;
        let mut ext = b[fmt_at + 8..fmt_at + 24].to_vec();
        ext[0..2].copy_from_slice(&FORMAT_EXTENSIBLE.to_le_bytes());
        ext.extend_from_slice(&[
            22, 0, 16, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0, 0, 16, 0, 128, 0, 0, 170, 0, 56, 155, 113,
        ]);
        let mut chunk = b"fmt ".to_vec();
        chunk.extend_from_slice(&(ext.len() as u32).to_le_bytes());
        chunk.extend_from_slice(&ext);
        b.splice(fmt_at..fmt_at + 24, chunk);
        b
    }

    #[test]
    fn accepts_extensible_pcm() {
        let w = parse_wav(&extensible(wav16(16000, &[100, -100])), "ext").unwrap();
        assert_eq!(w.samples, vec![100.0 / 32768.0, -100.0 / 32768.0]);
    }

    #[test]
    fn truncated_file_names_the_path() {
        let full = wav16(8000, &[1, 2, 3, 4, 5]);
        let path = temp_path("truncated.wav");
        std::fs::write(&path, &full[..full.len() - 3]).unwrap();
        let e = read_wav(&path).unwrap_err();
        assert_eq!(e.origin, path.display().to_string());
        assert!(e.problem.contains("truncated WAV chunk 'data'"), "{e}");
    }

    /// A WAV file written to a pipe, whose writer could not fill in its sizes, is read to its end
    /// (in whole frames); a size that is no such placeholder is still a truncated file.
    #[test]
    fn a_streamed_file_is_read_to_its_end() {
        let full = wav16(8000, &[1, 2, 3, 4, 5]);
        let data_size_at = full.len() - 10 - 4;
        assert_eq!(&full[data_size_at - 4..data_size_at], b"data");
        for placeholder in STREAMED_DATA_SIZES {
            let mut b = full.clone();
            b[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
            b[data_size_at..data_size_at + 4].copy_from_slice(&placeholder.to_le_bytes());
            let whole = parse_wav(&b, "pipe").unwrap();
            assert_eq!(whole.samples, parse_wav(&full, "file").unwrap().samples);
            b.push(7); // Half a frame: the stream ended mid-sample.
            assert_eq!(parse_wav(&b, "pipe").unwrap().samples, whole.samples);
        }
        let mut b = full.clone();
        b[data_size_at..data_size_at + 4].copy_from_slice(&12u32.to_le_bytes());
        let e = parse_wav(&b, "short").unwrap_err();
        assert!(
            e.problem.contains("declares 12 bytes, only 10 remain"),
            "{e}"
        );
        // A chunk whose name is not text (a damaged file) is named by its bytes, escaped.
        let mut b = full.clone();
        b[data_size_at - 4..data_size_at].copy_from_slice(b"\0\x01d\xff");
        b[data_size_at..data_size_at + 4].copy_from_slice(&12u32.to_le_bytes());
        let e = parse_wav(&b, "damaged").unwrap_err();
        assert!(e.problem.contains(r"chunk '\x00\x01d\xff'"), "{e}");
    }

    /// An RF64 file (as `ffmpeg -rf64 always` writes) reads as the same samples as its RIFF
    /// form: the data chunk's size comes from the ds64 chunk (a chunk after the data is not
    /// taken for samples), and a file shorter than ds64 says is refused as truncated.
    #[test]
    fn reads_rf64() {
        let full = wav16(8000, &[1, 2, 3, 4, 5]);
        let data_at = full.len() - 10 - 8;
        assert_eq!(&full[data_at..data_at + 4], b"data");
        let rf64 = |data_size: u64| {
            let mut b = b"RF64".to_vec();
            b.extend(u32::MAX.to_le_bytes());
            b.extend(b"WAVE");
            b.extend(b"ds64");
            b.extend(28u32.to_le_bytes());
            b.extend(0u64.to_le_bytes()); // RIFF size: not read
            b.extend(data_size.to_le_bytes());
            b.extend(5u64.to_le_bytes());
            b.extend(0u32.to_le_bytes()); // no table entries
            b.extend(&full[12..data_at]);
            b.extend(b"data");
            b.extend(u32::MAX.to_le_bytes());
            b.extend(&full[data_at + 8..]);
            b.extend(b"LIST");
            b.extend(4u32.to_le_bytes());
            b.extend(b"abcd");
            b
        };
        let riff = parse_wav(&full, "riff.wav").unwrap();
        assert_eq!(parse_wav(&rf64(10), "rf64.wav").unwrap(), riff);
        let mut bw64 = rf64(10);
        bw64[..4].copy_from_slice(b"BW64");
        assert_eq!(parse_wav(&bw64, "bw64.wav").unwrap(), riff);
        let e = parse_wav(&rf64(1_000), "rf64.wav").unwrap_err();
        assert!(e.problem.contains("declares 1000 bytes"), "{e}");
    }

    /// `le`, a RIFF file, as RIFX: every chunk size, every `fmt ` field and every sample of
    /// `width` bytes byte-swapped (an extensible `fmt `'s GUID only in its first two bytes, the
    /// format tag, as SoX writes it).
    fn to_rifx(le: &[u8], width: usize) -> Vec<u8> {
        let swap = |b: &[u8]| b.iter().rev().copied().collect::<Vec<u8>>();
        let mut b = b"RIFX".to_vec();
        b.extend(swap(&le[4..8]));
        b.extend(&le[8..12]);
        let mut at = 12;
        while at + 8 <= le.len() {
            let (id, size) = (&le[at..at + 4], u32_at(le, at + 4, false) as usize);
            let body = &le[at + 8..(at + 8 + size + (size & 1)).min(le.len())];
            b.extend(id);
            b.extend(swap(&le[at + 4..at + 8]));
            match id {
                b"fmt " => {
                    for field in [0..2, 2..4, 4..8, 8..12, 12..14, 14..16, 16..18, 18..20] {
                        b.extend(swap(body.get(field).unwrap_or(&[])));
                    }
                    b.extend(swap(body.get(20..24).unwrap_or(&[])));
                    b.extend(swap(body.get(24..26).unwrap_or(&[])));
                    b.extend(body.get(26..).unwrap_or(&[]));
                }
                b"data" => body.chunks(width).for_each(|v| b.extend(swap(v))),
                _ => b.extend(body),
            }
            at += 8 + size + (size & 1);
        }
        b
    }

    /// RIFX, the big-endian form, reads as the same samples as its RIFF form, for every sample
    /// coding and size (8-bit bytes are the same in both; 12 bits sit in the top of 2 bytes).
    #[test]
    fn reads_big_endian_rifx() {
        let stereo16: Vec<u8> = [1000i16, -1000, 32767, -32768, 5, -5]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let mut cases = vec![
            (wav_bytes(2, 8000, 16, &stereo16), 2),
            (
                wav_bytes(1, 8000, 24, &[0x01, 0x02, 0x83, 0xFF, 0xFF, 0x7F]),
                3,
            ),
            (wav_bytes(1, 16000, 32, &(-7i32 << 20).to_le_bytes()), 4),
            (wav_bytes(1, 8000, 8, &[0, 128, 255]), 1),
        ];
        let mut float = wav_bytes(1, 8000, 32, &0.3f32.to_le_bytes());
        float[20..22].copy_from_slice(&FORMAT_FLOAT.to_le_bytes());
        cases.push((float, 4));
        let mut twelve = wav_bytes(1, 8000, 16, &(-2048i16 << 4).to_le_bytes());
        twelve[12 + 8 + 14] = 12;
        cases.push((twelve, 2));
        cases.push((extensible(wav_bytes(2, 8000, 16, &stereo16)), 2));
        for (le, width) in cases {
            let want = parse_wav(&le, "riff.wav").unwrap();
            assert_eq!(parse_wav(&to_rifx(&le, width), "rifx.wav").unwrap(), want);
        }
        // What a RIFF reader would make of it: the sizes read wrongly, an error, not noise.
        let rifx = to_rifx(&wav_bytes(1, 8000, 16, &stereo16), 2);
        let mut as_riff = rifx.clone();
        as_riff[..4].copy_from_slice(b"RIFF");
        assert!(parse_wav(&as_riff, "mislabelled.wav").is_err());
    }

    /// Samples of 12 and 20 bits, stored in 2 and 3 bytes with their value in the top bits (as
    /// recorders of such sizes write them), read as 16- and 24-bit samples whose low bits are 0.
    #[test]
    fn reads_sample_sizes_between_whole_bytes() {
        let twelve: Vec<u8> = [2047i16 << 4, -2048 << 4, 5 << 4]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let mut b = wav_bytes(1, 8000, 16, &twelve);
        b[12 + 8 + 14] = 12;
        let w = parse_wav(&b, "12.wav").unwrap();
        assert_eq!(w.samples, vec![2047.0 / 2048.0, -1.0, 5.0 / 2048.0]);
        // 20 bits: 0x7FFFF and -3, shifted into the top of three bytes.
        let twenty = [0xF0, 0xFF, 0x7F, 0xD0, 0xFF, 0xFF];
        let mut b = wav_bytes(1, 8000, 24, &twenty);
        b[12 + 8 + 14] = 20;
        let w = parse_wav(&b, "20.wav").unwrap();
        assert_eq!(w.samples, vec![524_287.0 / 524_288.0, -3.0 / 524_288.0]);
        // The block align must still be the channels' whole bytes.
        b[12 + 8 + 12] = 4;
        let e = parse_wav(&b, "20.wav").unwrap_err();
        assert!(
            e.problem
                .contains("block align 4 for 1 channels of 20 bits (need 3)"),
            "{e}"
        );
    }

    /// Bytes after the last chunk, once the format and the samples are read, are not the
    /// recording's: a stray byte, a tagger's ID3v1 block, a chunk cut short after the data. The
    /// same bytes where the samples should be are still an error, and a data chunk whose size
    /// was never filled in (0) is named as such.
    #[test]
    fn bytes_after_the_recording_are_ignored() {
        let full = wav16(8000, &[1, 2, 3, 4, 5]);
        let whole = parse_wav(&full, "file").unwrap();
        let mut id3v1 = b"TAG".to_vec();
        id3v1.resize(128, b'x');
        let mut cut_list = b"LIST".to_vec();
        cut_list.extend(100u32.to_le_bytes());
        cut_list.extend(b"INFO");
        for tail in [&[0u8][..], &id3v1, &cut_list] {
            let mut b = full.clone();
            b.extend_from_slice(tail);
            assert_eq!(parse_wav(&b, "tail.wav").unwrap(), whole);
        }
        let data_at = full.len() - 10 - 8;
        let mut before_data = full[..data_at].to_vec();
        before_data.extend_from_slice(&cut_list);
        let e = parse_wav(&before_data, "cut.wav").unwrap_err();
        assert!(e.problem.contains("truncated WAV chunk 'LIST'"), "{e}");
        let mut never_sized = full.clone();
        never_sized[data_at + 4..data_at + 8].copy_from_slice(&0u32.to_le_bytes());
        let e = parse_wav(&never_sized, "unsized.wav").unwrap_err();
        assert!(e.problem.contains("data chunk declares 0 bytes"), "{e}");
    }

    #[test]
    fn missing_file_names_the_path() {
        let path = temp_path("no-such-file.wav");
        let e = read_wav(&path).unwrap_err();
        assert!(
            e.to_string().contains("no-such-file.wav") && e.problem.contains("cannot read"),
            "{e}"
        );
    }

    #[test]
    fn corrupt_files_are_errors() {
        let good = wav16(8000, &[1, 2]);
        let mut not_riff = good.clone();
        not_riff[0] = b'X';
        let mut bits33 = good.clone();
        bits33[12 + 8 + 14] = 33;
        let mut float16 = good.clone();
        float16[12 + 8] = 3;
        let mut adpcm = good.clone();
        adpcm[12 + 8] = 17;
        let no_data = good[..12 + 24].to_vec();
        let half_frame = wav_bytes(2, 8000, 16, &[1, 2, 3, 4, 5, 6]);
        let cases: [(&[u8], &str); 7] = [
            (&good[..8], "truncated WAV header"),
            (&not_riff, "not a RIFF/WAVE file"),
            (
                &bits33,
                "unsupported PCM WAV sample size 33 bits: only 1 to 32",
            ),
            (&float16, "unsupported float WAV sample size 16"),
            (&adpcm, "unsupported WAV format tag 17"),
            (&no_data, "no data chunk"),
            (&half_frame, "not a whole number of 4-byte frames"),
        ];
        for (bytes, want) in cases {
            let e = parse_wav(bytes, "bad.wav").unwrap_err();
            assert_eq!(e.origin, "bad.wav");
            assert!(e.problem.contains(want), "want {want:?}, got {e}");
        }
        // ADPCM is another coding (for FFmpeg); the rest are damaged or unsupported WAV files,
        // an extensible `fmt ` chunk cut short before its sub-format among them (the data chunk
        // after it was read as the sub-format).
        assert!(holds_other_coding(&adpcm));
        let mut short = extensible(wav16(8000, &[1000; 40]));
        short[16..20].copy_from_slice(&18u32.to_le_bytes());
        short.drain(20 + 18..20 + 40);
        assert!(!holds_other_coding(&short));
        let e = parse_wav(&short, "short.wav").unwrap_err();
        assert!(e.problem.contains("fmt chunk is 18 bytes, need 26"), "{e}");
        for bytes in [&good[..], &bits33, &float16, &no_data[..20], &not_riff] {
            assert!(!holds_other_coding(bytes));
        }
    }

    /// More frames than the limit are refused before they are decoded, naming the limit and
    /// the rate; as many as the limit are read.
    #[test]
    fn more_frames_than_the_limit_are_refused_before_decoding() {
        let stereo = wav_bytes(2, 8000, 16, &[0; 4 * 5]);
        assert_eq!(
            parse_wav_of_at_most(&stereo, "five.wav", 5)
                .unwrap()
                .samples
                .len(),
            5
        );
        let e = parse_wav_of_at_most(&stereo, "five.wav", 4).unwrap_err();
        assert_eq!(e.origin, "five.wav");
        assert!(
            e.problem
                .starts_with("longer than the 4 samples read from one recording")
                && e.problem.contains("8000 Hz"),
            "{e}"
        );
    }
}
