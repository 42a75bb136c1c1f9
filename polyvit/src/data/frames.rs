//! Raw frame stacks: the decoded grayscale frames of one video (written by
//! `polyvit/scripts/build_video.py`). Layout of the decompressed stream, integers
//! little-endian:
//!
//! ```text
//! magic "PVFRAME1" (8 bytes) | frames: u32 | height: u16 | width: u16 |
//! frames × height × width pixels (u8, frame-major, row-major)
//! ```

use super::error::{gunzip, DataError, DataResult};

/// The first 8 bytes of a decompressed frame stack.
pub const MAGIC: &[u8; 8] = b"PVFRAME1";

/// Bytes before the pixels: magic, frame count, height, width.
pub const HEADER_LEN: usize = 16;

/// The frames of one video.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameStack {
    /// Number of frames.
    pub frames: usize,
    /// Frame height in pixels.
    pub height: usize,
    /// Frame width in pixels.
    pub width: usize,
    /// `frames × height × width` pixels, frame-major.
    pub pixels: Vec<u8>,
}

impl FrameStack {
    /// Pixels of one frame.
    pub fn frame(&self, i: usize) -> &[u8] {
        let n = self.height * self.width;
        &self.pixels[i * n..(i + 1) * n]
    }
}

/// Parses an uncompressed frame stack. Errors name `origin`.
pub fn parse_frames(raw: &[u8], origin: &str) -> DataResult<FrameStack> {
    let err = |p: String| Err(DataError::new(origin, p));
    if raw.len() < HEADER_LEN {
        return err(format!(
            "truncated frame stack: header needs {HEADER_LEN} bytes, found {}",
            raw.len()
        ));
    }
    if &raw[..8] != MAGIC {
        return err("not a frame stack (bad magic, expected PVFRAME1)".into());
    }
    let frames = u32::from_le_bytes([raw[8], raw[9], raw[10], raw[11]]) as usize;
    let height = u16::from_le_bytes([raw[12], raw[13]]) as usize;
    let width = u16::from_le_bytes([raw[14], raw[15]]) as usize;
    if frames == 0 || height == 0 || width == 0 {
        return err(format!(
            "empty frame stack: {frames} frames of {height}×{width}"
        ));
    }
    let found = raw.len() - HEADER_LEN;
    let want = frames.saturating_mul(height).saturating_mul(width);
    if found < want {
        return err(format!(
            "truncated frame stack: {frames} frames of {height}×{width} need {want} bytes of \
             pixels, found {found}"
        ));
    }
    if found > want {
        return err(format!(
            "corrupt frame stack: {} bytes after the {frames} declared frames",
            found - want
        ));
    }
    Ok(FrameStack {
        frames,
        height,
        width,
        pixels: raw[HEADER_LEN..].to_vec(),
    })
}

/// Parses a gzipped frame stack (the `.frames.gz` files).
pub fn parse_frames_gz(gz: &[u8], origin: &str) -> DataResult<FrameStack> {
    parse_frames(&gunzip(gz, origin)?, origin)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::error::read_file;
    use crate::data::test_util::temp_path;
    use std::io::Write;
    use std::path::Path;

    impl FrameStack {
        /// The uncompressed file bytes of this stack (the inverse of [`parse_frames`]).
        fn to_bytes(&self) -> Vec<u8> {
            let mut b = MAGIC.to_vec();
            b.extend_from_slice(&(self.frames as u32).to_le_bytes());
            b.extend_from_slice(&(self.height as u16).to_le_bytes());
            b.extend_from_slice(&(self.width as u16).to_le_bytes());
            b.extend_from_slice(&self.pixels);
            b
        }
    }

    /// Reads a gzipped frame stack from disk, as the suite does; every error names the path.
    fn load_frames(path: &Path) -> DataResult<FrameStack> {
        parse_frames_gz(&read_file(path)?, &path.display().to_string())
    }

    fn stack() -> FrameStack {
        FrameStack {
            frames: 3,
            height: 2,
            width: 4,
            pixels: (0..24).collect(),
        }
    }

    fn gz(raw: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(raw).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn round_trips_through_bytes_gzip_and_disk() {
        let s = stack();
        assert_eq!(parse_frames(&s.to_bytes(), "s").unwrap(), s);
        assert_eq!(s.frame(1), &[8, 9, 10, 11, 12, 13, 14, 15]);
        let path = temp_path("round.frames.gz");
        std::fs::write(&path, gz(&s.to_bytes())).unwrap();
        assert_eq!(load_frames(&path).unwrap(), s);
    }

    #[test]
    fn truncated_corrupt_and_missing_files_are_errors_naming_the_file() {
        let raw = stack().to_bytes();
        for cut in [0, 7, 15] {
            let e = parse_frames(&raw[..cut], "cut.frames").unwrap_err();
            assert_eq!(e.origin, "cut.frames");
            assert!(
                e.problem.contains("truncated") && e.problem.contains("header"),
                "{e}"
            );
        }
        let e = parse_frames(&raw[..raw.len() - 1], "cut.frames").unwrap_err();
        assert!(
            e.problem.contains("need 24 bytes of pixels, found 23"),
            "{e}"
        );
        let mut extra = raw.clone();
        extra.push(0);
        assert!(parse_frames(&extra, "x")
            .unwrap_err()
            .problem
            .contains("1 bytes after"));
        let mut bad_magic = raw.clone();
        bad_magic[0] = b'X';
        assert!(parse_frames(&bad_magic, "m")
            .unwrap_err()
            .problem
            .contains("bad magic"));
        let mut empty = raw[..HEADER_LEN].to_vec();
        empty[8..12].copy_from_slice(&0u32.to_le_bytes());
        assert!(parse_frames(&empty, "e")
            .unwrap_err()
            .problem
            .contains("empty"));
        assert!(parse_frames_gz(&raw, "plain")
            .unwrap_err()
            .problem
            .contains("gzip"));

        let path = temp_path("truncated.frames.gz");
        let z = gz(&raw);
        std::fs::write(&path, &z[..z.len() - 5]).unwrap();
        let e = load_frames(&path).unwrap_err();
        assert_eq!(e.origin, path.display().to_string());
        assert!(e.problem.contains("gzip"), "{e}");
        let missing = temp_path("missing.frames.gz");
        let e = load_frames(&missing).unwrap_err();
        assert_eq!(e.origin, missing.display().to_string());
        assert!(e.problem.contains("cannot read"), "{e}");
    }
}
