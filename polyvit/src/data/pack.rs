//! Clip packs: many labelled WAV files in one gzip stream (written by
//! `polyvit/scripts/clip_pack.py`). Layout of the decompressed stream, integers little-endian:
//!
//! ```text
//! magic "PVCLIPS1" (8 bytes) | count: u32 | count × ( label: u16 | name_len: u16 |
//! name: UTF-8 | wav_len: u32 | wav: a complete RIFF/WAVE file )
//! ```

use super::audio_file::Waveform;
use super::error::{gunzip, DataError, DataResult};
use super::wav::parse_wav;

/// The first 8 bytes of a decompressed clip pack.
pub const MAGIC: &[u8; 8] = b"PVCLIPS1";

/// One labelled clip of a pack.
#[derive(Debug, Clone, PartialEq)]
pub struct Clip {
    /// Class index.
    pub label: usize,
    /// Where the clip came from (voice, kit and instrument, split tag ...).
    pub name: String,
    /// The decoded waveform.
    pub wav: Waveform,
}

/// A cursor over the decompressed pack that reports truncation as an error.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    origin: &'a str,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> DataResult<&'a [u8]> {
        let left = self.bytes.len() - self.at;
        if left < n {
            return Err(DataError::new(
                self.origin,
                format!(
                    "truncated clip pack: {what} needs {n} bytes at offset {}, {left} remain",
                    self.at
                ),
            ));
        }
        self.at += n;
        Ok(&self.bytes[self.at - n..self.at])
    }

    fn u16(&mut self, what: &str) -> DataResult<u16> {
        let b = self.take(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self, what: &str) -> DataResult<u32> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// Parses an uncompressed clip pack. Errors name `origin` (and the clip, for a bad WAV).
pub fn parse_pack(raw: &[u8], origin: &str) -> DataResult<Vec<Clip>> {
    let mut r = Reader {
        bytes: raw,
        at: 0,
        origin,
    };
    if r.take(8, "magic")? != MAGIC {
        return Err(DataError::new(
            origin,
            "not a clip pack (bad magic, expected PVCLIPS1)",
        ));
    }
    let count = r.u32("clip count")?;
    let mut clips = Vec::new();
    for i in 0..count {
        let label = r.u16(&format!("clip {i} label"))? as usize;
        let name_len = r.u16(&format!("clip {i} name length"))? as usize;
        let name =
            String::from_utf8_lossy(r.take(name_len, &format!("clip {i} name"))?).into_owned();
        let wav_len = r.u32(&format!("clip {i} WAV length"))? as usize;
        let wav = parse_wav(
            r.take(wav_len, &format!("clip {i} WAV"))?,
            &format!("{origin} (clip {i}: {name})"),
        )?;
        clips.push(Clip { label, name, wav });
    }
    if r.at != raw.len() {
        return Err(DataError::new(
            origin,
            format!(
                "corrupt clip pack: {} bytes after the {count} declared clips",
                raw.len() - r.at
            ),
        ));
    }
    Ok(clips)
}

/// Parses a gzipped clip pack (the `.pack.gz` files).
pub fn parse_pack_gz(gz: &[u8], origin: &str) -> DataResult<Vec<Clip>> {
    parse_pack(&gunzip(gz, origin)?, origin)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::wav::tests::wav16;

    fn pack(clips: &[(u16, &str, Vec<u8>)]) -> Vec<u8> {
        let mut b = MAGIC.to_vec();
        b.extend_from_slice(&(clips.len() as u32).to_le_bytes());
        for (label, name, wav) in clips {
            b.extend_from_slice(&label.to_le_bytes());
            b.extend_from_slice(&(name.len() as u16).to_le_bytes());
            b.extend_from_slice(name.as_bytes());
            b.extend_from_slice(&(wav.len() as u32).to_le_bytes());
            b.extend_from_slice(wav);
        }
        b
    }

    #[test]
    fn reads_labels_names_and_waveforms() {
        let raw = pack(&[
            (3, "three", wav16(8000, &[16384])),
            (7, "seven", wav16(16000, &[-16384, 0])),
        ]);
        let clips = parse_pack(&raw, "p").unwrap();
        assert_eq!(clips.len(), 2);
        assert_eq!(
            (
                clips[0].label,
                clips[0].name.as_str(),
                clips[0].wav.samples.clone()
            ),
            (3, "three", vec![0.5])
        );
        assert_eq!(
            (
                clips[1].label,
                clips[1].wav.sample_rate,
                clips[1].wav.samples.len()
            ),
            (7, 16000, 2)
        );
    }

    #[test]
    fn truncated_and_corrupt_packs_are_errors() {
        let raw = pack(&[(1, "one", wav16(8000, &[1, 2, 3]))]);
        for cut in [4, 10, 14, 19, raw.len() - 1] {
            let e = parse_pack(&raw[..cut], "cut.pack").unwrap_err();
            assert!(e.origin.starts_with("cut.pack"), "{e}");
            assert!(e.problem.contains("truncated"), "cut {cut}: {e}");
        }
        let mut bad_magic = raw.clone();
        bad_magic[0] = b'X';
        assert!(parse_pack(&bad_magic, "m")
            .unwrap_err()
            .problem
            .contains("bad magic"));
        let mut extra = raw.clone();
        extra.push(0);
        assert!(parse_pack(&extra, "x")
            .unwrap_err()
            .problem
            .contains("1 bytes after"));
        let mut bad_wav = raw.clone();
        let riff = bad_wav.len() - wav16(8000, &[1, 2, 3]).len();
        bad_wav[riff] = b'X';
        let e = parse_pack(&bad_wav, "w.pack").unwrap_err();
        assert_eq!(e.origin, "w.pack (clip 0: one)");
        assert!(e.problem.contains("not a RIFF/WAVE"), "{e}");
        assert!(parse_pack_gz(&raw, "plain")
            .unwrap_err()
            .problem
            .contains("gzip"));
    }
}
