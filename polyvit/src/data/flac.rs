//! FLAC files through the `claxon` decoder: 8, 12, 16, 20 or 24 bits per sample (the depths a
//! frame header names, as the format stood at FLAC 1.3; other depths and FLAC 1.4's 32 bits are
//! refused by the decoder), any channel count and sample rate. Samples are scaled as WAV's (an
//! N-bit value / 2^(N−1)) and mixed down to mono the same way, so a clip decodes to the same
//! samples from a FLAC file as from a WAV file.

use super::audio_file::{mix_down, Waveform};
use super::error::{DataError, DataResult};
use claxon::FlacReader;

/// Parses a FLAC file held in memory. `origin` names the source in errors; a stream that ends
/// before the sample count its header declares is an error too.
pub fn parse_flac(bytes: &[u8], origin: &str) -> DataResult<Waveform> {
    let err = |p: String| DataError::new(origin, p);
    let mut reader = FlacReader::new(bytes).map_err(|e| {
        err(match e {
            claxon::Error::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
                format!(
                    "a FLAC file cut short: its {} bytes end inside its header",
                    bytes.len()
                )
            }
            e if bytes.starts_with(b"fLaC") => format!("a damaged FLAC header: {e}"),
            e => format!("not a FLAC file: {e}"),
        })
    })?;
    let info = reader.streaminfo();
    if info.channels == 0 || info.sample_rate == 0 || !(4..=32).contains(&info.bits_per_sample) {
        return Err(err(format!(
            "invalid FLAC stream: {} channels of {} bits at {} Hz",
            info.channels, info.bits_per_sample, info.sample_rate
        )));
    }
    let scale = (1u64 << (info.bits_per_sample - 1)) as f32;
    let channels = info.channels as usize;
    let mut samples = Vec::new();
    let mut blocks = reader.blocks();
    let mut buffer = Vec::new();
    loop {
        let block = match blocks.read_next_or_eof(buffer) {
            Ok(Some(block)) => block,
            Ok(None) => break,
            Err(e) => {
                return Err(err(format!(
                    "cannot decode the FLAC frame after {} samples: {e}",
                    samples.len()
                )))
            }
        };
        if block.channels() as usize != channels {
            return Err(err(format!(
                "corrupt FLAC frame after {} samples: {} channels in a {channels}-channel stream",
                samples.len(),
                block.channels()
            )));
        }
        samples.extend((0..block.duration()).map(|i| {
            let frame = (0..block.channels()).map(|c| block.sample(c, i) as f32 / scale);
            mix_down(frame, channels)
        }));
        buffer = block.into_buffer();
    }
    if let Some(declared) = info.samples.filter(|&n| n != samples.len() as u64) {
        return Err(err(format!(
            "truncated FLAC stream: its header declares {declared} samples, the frames hold {}",
            samples.len()
        )));
    }
    Ok(Waveform {
        sample_rate: info.sample_rate,
        channels: info.channels as u16,
        samples,
    })
}
