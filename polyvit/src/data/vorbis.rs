//! Ogg Vorbis files through the `lewton` decoder: any channel count and sample rate the format
//! allows, decoded to float samples and mixed down to mono as WAV files are. Only the first
//! logical stream of a chained file is read (the next may have other channels and rate).

use super::audio_file::{mix_down, Waveform};
use super::error::{DataError, DataResult};
use lewton::inside_ogg::OggStreamReader;
use lewton::samples::InterleavedSamples;
use std::io::Cursor;

/// Parses an Ogg Vorbis file held in memory. `origin` names the source in errors.
pub fn parse_vorbis(bytes: &[u8], origin: &str) -> DataResult<Waveform> {
    let err = |p: String| DataError::new(origin, p);
    let mut reader = OggStreamReader::new(Cursor::new(bytes))
        .map_err(|e| err(format!("not an Ogg Vorbis file: {e}")))?;
    let (channels, sample_rate) = (
        reader.ident_hdr.audio_channels as usize,
        reader.ident_hdr.audio_sample_rate,
    );
    if channels == 0 || sample_rate == 0 {
        return Err(err(format!(
            "invalid Vorbis stream: {channels} channels at {sample_rate} Hz"
        )));
    }
    let serial = reader.stream_serial();
    let (mut samples, mut end) = (Vec::new(), None);
    loop {
        let packet: InterleavedSamples<f32> = match reader.read_dec_packet_generic() {
            Ok(Some(packet)) => packet,
            Ok(None) => break,
            Err(e) => {
                return Err(err(format!(
                    "corrupt Ogg Vorbis data after {} samples: {e}",
                    samples.len()
                )))
            }
        };
        if reader.stream_serial() != serial {
            break;
        }
        end = reader.get_last_absgp();
        samples.extend(
            packet
                .samples
                .chunks_exact(channels)
                .map(|frame| mix_down(frame.iter().copied(), channels)),
        );
    }
    // The last page's granule position is where the stream ends: the decoder trims the last
    // packet to it only when an earlier page gave it a start, so a one-page stream is trimmed
    // here.
    if let Some(end) = end.filter(|&end| end < samples.len() as u64) {
        samples.truncate(end as usize);
    }
    Ok(Waveform {
        sample_rate,
        channels: channels as u16,
        samples,
    })
}
