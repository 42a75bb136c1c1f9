//! The `ffmpeg` program, run to decode what no decoder here reads (video files, compressed
//! audio) when polyvit is built with the `ffmpeg` feature. Running the program rather than
//! linking FFmpeg's C libraries keeps the build free of system libraries and of their ABI
//! versions; the program must be installed where polyvit runs.

use super::error::{DataError, DataResult};
use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

/// At most this many distinct lines of ffmpeg's error output are quoted in an error message.
const QUOTED_LINES: usize = 3;

/// What `ffmpeg -v error -nostdin -xerror -i file:PATH OUTPUT_ARGS... pipe:1` writes to its
/// standard output: the file at `path` decoded as `output_args` say. An empty file, a missing
/// program, a file it cannot decode and a file it decodes only with errors (damaged or cut
/// short: ffmpeg may then exit with success after decoding a part of it) are errors naming the
/// path, with ffmpeg's own message.
pub fn ffmpeg_output(path: &Path, output_args: &[&str]) -> DataResult<Vec<u8>> {
    read_ffmpeg_output(path, output_args, |output| {
        let mut bytes = Vec::new();
        output.read_to_end(&mut bytes).map_err(|e| {
            DataError::new(
                path.display().to_string(),
                format!("cannot read ffmpeg's output: {e}"),
            )
        })?;
        Ok(bytes)
    })
}

/// What `read` makes of ffmpeg's output (as [`ffmpeg_output`]'s) while ffmpeg writes it, so
/// that the whole output need never be held; `read` reads it to its end, or fails, and ffmpeg
/// is then stopped. The errors are [`ffmpeg_output`]'s; when ffmpeg reports one, it is the
/// error, whatever `read` made of the output (which then stops short).
pub fn read_ffmpeg_output<T>(
    path: &Path,
    output_args: &[&str],
    read: impl FnOnce(&mut dyn Read) -> DataResult<T>,
) -> DataResult<T> {
    let err = |p: String| DataError::new(path.display().to_string(), p);
    super::error::refuse_special(path)?;
    if std::fs::metadata(path).is_ok_and(|m| m.len() == 0) {
        return Err(err("an empty file (0 bytes)".into()));
    }
    let mut child = decoder(path, output_args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| err(format!("cannot run ffmpeg (is FFmpeg installed?): {e}")))?;
    // Read on a thread of its own, so that ffmpeg never waits on a full error pipe.
    let mut stderr = child.stderr.take().expect("the error output is piped");
    let errors = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = stderr.read_to_end(&mut text);
        text
    });
    let mut stdout = child.stdout.take().expect("the output is piped");
    let made = read(&mut stdout);
    if made.is_err() {
        let _ = child.kill();
    }
    drop(stdout);
    let status = child
        .wait()
        .map_err(|e| err(format!("ffmpeg did not finish: {e}")))?;
    let stderr = errors.join().unwrap_or_default();
    let message = error_lines(&String::from_utf8_lossy(&stderr), &local_file_url(path));
    if !message.is_empty() && !status.success() {
        return Err(err(format!(
            "ffmpeg cannot decode it (damaged, cut short or not a media file): {message}"
        )));
    }
    if !message.is_empty() {
        return Err(err(format!(
            "damaged: ffmpeg decodes it only with errors: {message}"
        )));
    }
    let made = made?;
    if !status.success() {
        return Err(err(format!(
            "ffmpeg cannot decode it (damaged, cut short or not a media file): it stopped with {status}"
        )));
    }
    Ok(made)
}

/// The `ffmpeg` command that decodes the file at `path` as `output_args` say to its standard
/// output, stopping at the first decoding error, with only errors on its standard error.
fn decoder(path: &Path, output_args: &[&str]) -> Command {
    let mut command = Command::new("ffmpeg");
    command
        .args(["-v", "error", "-nostdin", "-xerror", "-i"])
        .arg(local_file_url(path))
        .args(output_args)
        .arg("pipe:1");
    command
}

/// The kinds of the streams of the file at `path` (`video`, `audio`, `subtitle`...), as
/// `ffprobe` lists them, leaving out pictures attached to audio (cover art); `None` when
/// ffprobe cannot tell (not installed, or the file is not one it reads).
pub fn stream_kinds(path: &Path) -> Option<Vec<String>> {
    let output = Command::new("ffprobe")
        .args(["-v", "error", "-show_entries"])
        .args([
            "stream=codec_type:stream_disposition=attached_pic",
            "-of",
            "csv=p=0",
        ])
        .arg(local_file_url(path))
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let listing = String::from_utf8_lossy(&output.stdout);
    let kinds = listing.lines().filter_map(|line| {
        let mut fields = line.split(',').map(str::trim);
        let kind = fields.next().filter(|k| !k.is_empty())?;
        let attached = fields.next() == Some("1");
        (!attached).then(|| kind.to_string())
    });
    Some(kinds.collect())
}

/// `path` as an input URL of ffmpeg's `file:` protocol, so that a name with a colon
/// (`clip:1.mp4`, `file:a.mp4`) is read as the local file it names, not as a protocol's URL.
fn local_file_url(path: &Path) -> OsString {
    let mut url = OsString::from("file:");
    url.push(path);
    url
}

/// The useful part of ffmpeg's error output `stderr` about the input `url`, on one line: its
/// first distinct lines (at most [`QUOTED_LINES`]), each without the `[demuxer @ 0x…] ` tag of
/// the component that wrote it, without the `URL: ` the error's origin already names and
/// without a final full stop, joined by `; `.
fn error_lines(stderr: &str, url: &OsStr) -> String {
    let url_prefix = format!("{}: ", url.to_string_lossy());
    let mut lines: Vec<&str> = Vec::new();
    for line in stderr.lines() {
        let line = without_component_tag(line.trim());
        let line = line.strip_prefix(&url_prefix).unwrap_or(line);
        let line = line.trim_end_matches('.');
        if !line.is_empty() && !lines.contains(&line) {
            lines.push(line);
        }
    }
    lines.truncate(QUOTED_LINES);
    lines.join("; ")
}

/// `line` without a leading `[name @ 0x…] ` tag (the component of ffmpeg that wrote it and its
/// address in memory).
fn without_component_tag(line: &str) -> &str {
    match line
        .strip_prefix('[')
        .and_then(|rest| rest.split_once("] "))
    {
        Some((tag, message)) if tag.contains(" @ 0x") => message.trim_start(),
        _ => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ffmpeg's messages lose the components' addresses, the input URL and repeated lines.
    #[test]
    fn error_output_is_cut_to_its_useful_lines() {
        let url = local_file_url(Path::new("edge/a: b.mp4"));
        let error_lines = |stderr: &str| error_lines(stderr, &url);
        let stderr = "[mov,mp4,m4a,3gp,3g2,mj2 @ 0x5606c3d03900] moov atom not found\n\
                      file:edge/a: b.mp4: Invalid data found when processing input\n";
        assert_eq!(
            error_lines(stderr),
            "moov atom not found; Invalid data found when processing input"
        );
        let repeated = "[h264 @ 0x55] Invalid NAL unit size (685 > 639).\n".repeat(9)
            + "[h264 @ 0x55] missing picture in access unit\n\
               Error while decoding stream #0:0: Invalid data found when processing input\n\
               [h264 @ 0x55] error while decoding MB 3 2\n";
        assert_eq!(
            error_lines(&repeated),
            "Invalid NAL unit size (685 > 639); missing picture in access unit; \
             Error while decoding stream #0:0: Invalid data found when processing input"
        );
        assert_eq!(
            error_lines("[tag] kept: not an address\n"),
            "[tag] kept: not an address"
        );
        assert_eq!(error_lines(" \n"), "");
    }

    /// A reader that stops early (a recording past the limit) stops ffmpeg with it: its error
    /// is the error, and no wait on a writer blocked on a full pipe.
    #[test]
    fn a_reader_that_stops_early_stops_ffmpeg() {
        let dir = crate::data::test_util::temp_path("ffmpeg-early");
        std::fs::create_dir_all(&dir).unwrap();
        let long = dir.join("long.au");
        let mut au = b".snd".to_vec();
        for field in [24, u32::MAX, 2, 8000, 1] {
            au.extend(field.to_be_bytes());
        }
        au.extend(vec![0; 8 << 20]);
        std::fs::write(&long, au).unwrap();
        let args = ["-f", "au", "-c:a", "pcm_f32be"];
        let e = read_ffmpeg_output(&long, &args, |output| {
            let mut first = [0; 64];
            output.read_exact(&mut first).unwrap();
            Err::<(), _>(DataError::new("long.au", "stopped"))
        })
        .unwrap_err();
        assert_eq!(e.problem, "stopped");
        let all = read_ffmpeg_output(&long, &args, |output| {
            Ok(std::io::copy(output, &mut std::io::sink()).unwrap())
        })
        .unwrap();
        // Every 8-bit sample as a 32-bit float, after ffmpeg's header.
        let samples = 4 * (8 << 20);
        assert!((samples + 24..samples + 128).contains(&all), "{all} bytes");
    }

    #[test]
    fn every_path_is_a_local_file_url() {
        assert_eq!(local_file_url(Path::new("clip:1.mp4")), "file:clip:1.mp4");
        assert_eq!(
            local_file_url(Path::new("/a/file:b.mp4")),
            "file:/a/file:b.mp4"
        );
    }

    /// Files whose names look like URLs of ffmpeg's protocols are read as the local files they
    /// are, and an empty file says so in plain words.
    #[test]
    fn local_files_are_read_whatever_their_name() {
        let dir = crate::data::test_util::temp_path("ffmpeg-names");
        std::fs::create_dir_all(&dir).unwrap();
        let raw = ["-f", "u8", "-ar", "8000", "-ac", "1", "-c:a", "pcm_u8"];
        for (name, level) in [("b0.au", 40u8), ("file:b0.au", 7), ("clip:1.au", 9)] {
            let mut au = b".snd".to_vec();
            for field in [24, level as u32, 2, 8000, 1] {
                au.extend(field.to_be_bytes());
            }
            au.extend(vec![level; level as usize]);
            std::fs::write(dir.join(name), au).unwrap();
        }
        for (name, level) in [("file:b0.au", 7u8), ("clip:1.au", 9)] {
            let output = decoder(Path::new(name), &raw)
                .current_dir(&dir)
                .output()
                .unwrap();
            assert!(output.status.success(), "{name}: {output:?}");
            assert_eq!(output.stdout, vec![128 + level; level as usize], "{name}");
        }
        let empty = dir.join("empty.mp4");
        std::fs::write(&empty, b"").unwrap();
        let e = ffmpeg_output(&empty, &raw).unwrap_err();
        assert_eq!(e.problem, "an empty file (0 bytes)");
    }
}
