//! The `ffmpeg` program, run to decode what no decoder here reads (video files, compressed
//! audio) when polyvit is built with the `ffmpeg` feature. Running the program rather than
//! linking FFmpeg's C libraries keeps the build free of system libraries and of their ABI
//! versions; the program must be installed where polyvit runs.

use super::error::{DataError, DataResult};
use std::path::Path;

/// What `ffmpeg -v error -nostdin -i PATH OUTPUT_ARGS... pipe:1` writes to its standard
/// output: the file at `path` decoded as `output_args` say. A missing program or a file it
/// cannot decode is an error naming the path (with ffmpeg's own message).
pub fn ffmpeg_output(path: &Path, output_args: &[&str]) -> DataResult<Vec<u8>> {
    let err = |p: String| DataError::new(path.display().to_string(), p);
    let output = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-i"])
        .arg(path)
        .args(output_args)
        .arg("pipe:1")
        .output()
        .map_err(|e| err(format!("cannot run ffmpeg (is FFmpeg installed?): {e}")))?;
    if !output.status.success() {
        let message = String::from_utf8_lossy(&output.stderr);
        return Err(err(format!("ffmpeg cannot decode it: {}", message.trim())));
    }
    Ok(output.stdout)
}
