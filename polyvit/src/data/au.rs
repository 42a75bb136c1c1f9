//! Sun/NeXT audio (`.au`, `.snd`): a 24-byte big-endian header (the magic `.snd`, the offset of
//! the samples, their size in bytes or `0xFFFFFFFF` when unknown, the encoding, the sample rate
//! and the channel count), then interleaved big-endian samples. Read here for its own sake (it
//! is the oldest audio format still written) and because it is what the `ffmpeg` program writes
//! decoded audio as for [`super::audio_file`]: unlike WAV, its header need not know the length,
//! so it can be streamed through a pipe.
//!
//! Encodings read: 1 (G.711 mu-law), 2, 3, 4 and 5 (8-, 16-, 24- and 32-bit signed linear), 6
//! and 7 (32- and 64-bit IEEE float) and 27 (G.711 A-law). Samples are scaled as the WAV reader
//! scales them (an N-bit value / 2^(N−1)) and mixed down to mono the same way.

use super::audio_file::{mix_down, too_long, Waveform};
use super::error::{DataError, DataResult};
use super::wav::{alaw_to_linear, mulaw_to_linear};
use std::io::Read;

/// The file's first four bytes.
const MAGIC: &[u8; 4] = b".snd";
/// The header's size: six big-endian 32-bit fields.
const HEADER: usize = 24;
/// The data size of a stream whose length was not known when its header was written.
const UNKNOWN_SIZE: u32 = u32::MAX;

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// The bytes per sample of `encoding`, or `None` for an encoding not read.
fn sample_width(encoding: u32) -> Option<usize> {
    match encoding {
        1 | 2 | 27 => Some(1),
        3 => Some(2),
        4 => Some(3),
        5 | 6 => Some(4),
        7 => Some(8),
        _ => None,
    }
}

/// One big-endian sample of `encoding` (its bytes `b`) in [-1, 1).
fn sample(encoding: u32, b: &[u8]) -> f32 {
    match encoding {
        1 => mulaw_to_linear(b[0]) as f32 / 32768.0,
        27 => alaw_to_linear(b[0]) as f32 / 32768.0,
        2 => b[0] as i8 as f32 / 128.0,
        3 => i16::from_be_bytes([b[0], b[1]]) as f32 / 32768.0,
        // 24 bits: the three bytes as the top of an i32, so the sign carries.
        4 => i32::from_be_bytes([b[0], b[1], b[2], 0]) as f32 / 2_147_483_648.0,
        5 => i32::from_be_bytes([b[0], b[1], b[2], b[3]]) as f32 / 2_147_483_648.0,
        6 => f32::from_be_bytes([b[0], b[1], b[2], b[3]]),
        _ => f64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32,
    }
}

/// What an `.au` header says.
struct Header {
    /// Where the samples start.
    offset: usize,
    /// Their size in bytes, or [`UNKNOWN_SIZE`].
    size: u32,
    encoding: u32,
    /// Bytes per sample.
    width: usize,
    sample_rate: u32,
    channels: u16,
}

impl Header {
    /// The header at the start of `bytes` (at least [`HEADER`] long to be one).
    fn parse(bytes: &[u8], origin: &str) -> DataResult<Header> {
        let err = |p: String| DataError::new(origin, p);
        if bytes.len() < HEADER || &bytes[..4] != MAGIC {
            return Err(err("not a Sun/NeXT audio file (missing .snd header)".into()));
        }
        let (offset, size, encoding, sample_rate, channels) = (
            u32_at(bytes, 4) as usize,
            u32_at(bytes, 8),
            u32_at(bytes, 12),
            u32_at(bytes, 16),
            u32_at(bytes, 20),
        );
        let width = sample_width(encoding).ok_or_else(|| {
            err(format!(
                "unsupported .au encoding {encoding}: only mu-law (1), 8/16/24/32-bit linear \
                 (2-5), 32/64-bit float (6, 7) and A-law (27) are read"
            ))
        })?;
        if sample_rate == 0 || channels == 0 || channels > u16::MAX as u32 {
            return Err(err(format!(
                "invalid .au header: {channels} channels at {sample_rate} Hz"
            )));
        }
        if offset < HEADER {
            return Err(err(format!(
                "corrupt .au header: samples at byte {offset}, inside the header"
            )));
        }
        Ok(Header {
            offset,
            size,
            encoding,
            width,
            sample_rate,
            channels: channels as u16,
        })
    }

    /// Bytes per frame (one sample of each channel).
    fn frame(&self) -> usize {
        self.width * self.channels as usize
    }

    /// The mono value of each whole frame of `data`, appended to `mono`.
    fn mix_down_into(&self, data: &[u8], mono: &mut Vec<f32>) {
        mono.extend(data.chunks_exact(self.frame()).map(|f| {
            let values = f.chunks_exact(self.width).map(|b| sample(self.encoding, b));
            mix_down(values, self.channels as usize)
        }));
    }

    /// The error of data that ends inside a frame.
    fn partial_frame(&self, bytes: usize, origin: &str) -> DataError {
        DataError::new(
            origin,
            format!(
                "truncated .au data: {bytes} bytes is not a whole number of {}-byte frames",
                self.frame()
            ),
        )
    }
}

/// Parses a Sun/NeXT audio file held in memory; `origin` names it in errors. A stream of
/// unknown size runs to the end of the bytes.
pub fn parse_au(bytes: &[u8], origin: &str) -> DataResult<Waveform> {
    let header = Header::parse(bytes, origin)?;
    let offset = header.offset;
    if offset > bytes.len() {
        return Err(DataError::new(
            origin,
            format!(
                "corrupt .au header: samples at byte {offset} of a {}-byte file",
                bytes.len()
            ),
        ));
    }
    let available = bytes.len() - offset;
    let data = match header.size {
        UNKNOWN_SIZE => &bytes[offset..],
        size if size as usize <= available => &bytes[offset..offset + size as usize],
        size => {
            return Err(DataError::new(
                origin,
                format!(
                    "truncated .au data: the header says {size} bytes, the file holds {available}"
                ),
            ))
        }
    };
    if !data.len().is_multiple_of(header.frame()) {
        return Err(header.partial_frame(data.len(), origin));
    }
    let mut samples = Vec::with_capacity(data.len() / header.frame());
    header.mix_down_into(data, &mut samples);
    Ok(Waveform {
        sample_rate: header.sample_rate,
        channels: header.channels,
        samples,
    })
}

/// Bytes of samples read from a stream at a time.
const STREAM_CHUNK: usize = 1 << 16;

/// Reads a Sun/NeXT audio stream from `source` as it comes (`origin` names it in errors),
/// mixing each frame down once read, so that only the mono samples are ever held (a pipe from
/// ffmpeg carries every channel as 32-bit floats: four times the mono samples of a stereo
/// recording, were it held whole). More than `max_samples` frames is an error, raised once they
/// are read: the stream is then not read to its end.
pub fn read_au_stream(
    source: &mut dyn Read,
    origin: &str,
    max_samples: usize,
) -> DataResult<Waveform> {
    let err = |p: String| DataError::new(origin, p);
    let io = |e: std::io::Error| err(format!("cannot read the audio stream: {e}"));
    let mut start = [0; HEADER];
    let got = read_up_to(source, &mut start).map_err(io)?;
    let header = Header::parse(&start[..got], origin)?;
    let skipped = std::io::copy(
        &mut source.take((header.offset - HEADER) as u64),
        &mut std::io::sink(),
    )
    .map_err(io)?;
    if skipped < (header.offset - HEADER) as u64 {
        return Err(err(format!(
            "corrupt .au header: samples at byte {}, after the end of the stream",
            header.offset
        )));
    }
    let limit = match header.size {
        UNKNOWN_SIZE => u64::MAX,
        size => size as u64,
    };
    let mut data = source.take(limit);
    let frame = header.frame();
    let mut samples = Vec::new();
    let mut buffer = vec![0; STREAM_CHUNK.div_ceil(frame) * frame];
    let mut total = 0u64;
    loop {
        let got = read_up_to(&mut data, &mut buffer).map_err(io)?;
        total += got as u64;
        let whole = got - got % frame;
        header.mix_down_into(&buffer[..whole], &mut samples);
        if samples.len() > max_samples {
            return Err(err(too_long(max_samples, header.sample_rate)));
        }
        if got < buffer.len() {
            if whole < got {
                return Err(header.partial_frame(total as usize, origin));
            }
            break;
        }
    }
    if header.size != UNKNOWN_SIZE && total < header.size as u64 {
        return Err(err(format!(
            "truncated .au data: the header says {} bytes, the stream holds {total}",
            header.size
        )));
    }
    Ok(Waveform {
        sample_rate: header.sample_rate,
        channels: header.channels,
        samples,
    })
}

/// Reads into `buffer` until it is full or the source ends; the bytes read.
fn read_up_to(source: &mut dyn Read, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match source.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An .au file of `channels` at 8 kHz in `encoding`, its data size `size` (None: as long as
    /// `data`), with a 4-byte annotation after the header.
    fn au(encoding: u32, channels: u32, size: Option<u32>, data: &[u8]) -> Vec<u8> {
        let size = size.unwrap_or(data.len() as u32);
        let fields = [28, size, encoding, 8000, channels];
        let mut b = MAGIC.to_vec();
        b.extend(fields.iter().flat_map(|v| v.to_be_bytes()));
        b.extend_from_slice(b"note");
        b.extend_from_slice(data);
        b
    }

    #[test]
    fn reads_every_encoding_as_the_wav_reader_scales_it() {
        let f32s: Vec<u8> = [0.5f32, -0.25]
            .iter()
            .flat_map(|v| v.to_be_bytes())
            .collect();
        let f64s: Vec<u8> = [0.5f64, -0.25]
            .iter()
            .flat_map(|v| v.to_be_bytes())
            .collect();
        let cases: [(u32, Vec<u8>, [f32; 2]); 8] = [
            (2, vec![0x40, 0xE0], [0.5, -0.25]),
            (3, vec![0x40, 0x00, 0xE0, 0x00], [0.5, -0.25]),
            (4, vec![0x40, 0, 0, 0xE0, 0, 0], [0.5, -0.25]),
            (5, vec![0x40, 0, 0, 0, 0xE0, 0, 0, 0], [0.5, -0.25]),
            (6, f32s, [0.5, -0.25]),
            (7, f64s, [0.5, -0.25]),
            (1, vec![0x80, 0x00], [32124.0 / 32768.0, -32124.0 / 32768.0]),
            (
                27,
                vec![0xAA, 0x2A],
                [32256.0 / 32768.0, -32256.0 / 32768.0],
            ),
        ];
        for (encoding, data, want) in cases {
            let w = parse_au(&au(encoding, 1, None, &data), "t.au").unwrap();
            assert_eq!(
                (w.sample_rate, w.channels),
                (8000, 1),
                "encoding {encoding}"
            );
            assert_eq!(w.samples, want, "encoding {encoding}");
        }
    }

    /// A stream of unknown size (as ffmpeg writes one into a pipe) runs to the end; two
    /// channels are mixed down.
    #[test]
    fn an_unknown_size_runs_to_the_end_and_channels_mix_down() {
        let data = [0x40, 0x00, 0x20, 0x00, 0xC0, 0x00, 0x00, 0x00];
        let w = parse_au(&au(3, 2, Some(UNKNOWN_SIZE), &data), "pipe").unwrap();
        assert_eq!(w.channels, 2);
        assert_eq!(w.samples, [0.375, -0.25]);
        let shorter = parse_au(&au(3, 2, Some(4), &data), "t.au").unwrap();
        assert_eq!(shorter.samples, [0.375]);
    }

    /// A reader that hands out at most `step` bytes a call, as a pipe may.
    struct Trickle<'a> {
        bytes: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.bytes.len());
            buf[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            Ok(n)
        }
    }

    fn stream(bytes: &[u8], step: usize, max_samples: usize) -> DataResult<Waveform> {
        read_au_stream(&mut Trickle { bytes, step }, "pipe", max_samples)
    }

    /// Read as it comes, in pieces of any size, a stream gives what the whole file gives.
    #[test]
    fn a_stream_read_in_pieces_gives_the_samples_of_the_whole_file() {
        let data: Vec<u8> = (0..3 * STREAM_CHUNK as u32 + 6)
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        for (channels, size) in [(2, None), (2, Some(UNKNOWN_SIZE)), (3, Some(9000))] {
            let whole = &data[..data.len() - data.len() % (2 * channels as usize)];
            let file = au(3, channels, size, whole);
            let want = parse_au(&file, "t.au").unwrap();
            for step in [1, 5, 4096, usize::MAX] {
                let got = stream(&file, step, usize::MAX).unwrap();
                assert_eq!(got, want, "{channels} channels, size {size:?}, step {step}");
            }
        }
    }

    #[test]
    fn a_stream_past_the_limit_or_cut_short_is_refused() {
        let long = au(3, 1, Some(UNKNOWN_SIZE), &[0; 2 * 1000]);
        assert_eq!(stream(&long, 64, 1000).unwrap().samples.len(), 1000);
        let e = stream(&long, 64, 999).unwrap_err();
        assert!(
            e.problem.contains("longer than the 999 samples")
                && e.problem.contains("at its 8000 Hz"),
            "{e}"
        );
        let cases: [(Vec<u8>, &str); 4] = [
            (
                au(3, 2, None, &[0; 6]),
                "6 bytes is not a whole number of 4-byte frames",
            ),
            (
                au(3, 1, Some(8), &[0; 4]),
                "header says 8 bytes, the stream holds 4",
            ),
            (b".snd\0\0".to_vec(), "missing .snd header"),
            (
                au(3, 1, None, &[])[..26].to_vec(),
                "after the end of the stream",
            ),
        ];
        for (bytes, want) in cases {
            let e = stream(&bytes, 3, usize::MAX).unwrap_err();
            assert_eq!(e.origin, "pipe");
            assert!(e.problem.contains(want), "want {want:?}, got {e}");
        }
    }

    #[test]
    fn bad_files_are_errors_naming_the_problem() {
        let good = au(3, 1, None, &[0, 1, 0, 2]);
        let mut offset_past_end = good.clone();
        offset_past_end[4..8].copy_from_slice(&1000u32.to_be_bytes());
        let mut no_rate = good.clone();
        no_rate[16..20].copy_from_slice(&0u32.to_be_bytes());
        let cases: [(Vec<u8>, &str); 7] = [
            (good[..10].to_vec(), "missing .snd header"),
            (
                b"RIFF....WAVEfmt of a wav file".to_vec(),
                "missing .snd header",
            ),
            (au(23, 1, None, &[0; 4]), "unsupported .au encoding 23"),
            (no_rate, "0 Hz"),
            (offset_past_end, "samples at byte 1000"),
            (
                au(3, 1, Some(8), &[0; 4]),
                "header says 8 bytes, the file holds 4",
            ),
            (
                au(3, 2, None, &[0; 6]),
                "not a whole number of 4-byte frames",
            ),
        ];
        for (bytes, want) in cases {
            let e = parse_au(&bytes, "bad.au").unwrap_err();
            assert_eq!(e.origin, "bad.au");
            assert!(e.problem.contains(want), "want {want:?}, got {e}");
        }
    }
}
