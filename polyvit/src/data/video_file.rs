//! Video files (MP4, AVI, WebM, MKV, MOV) as `[T, C, H, W]` clips: decoded by the `ffmpeg`
//! program (`data/ffmpeg.rs`, with the `ffmpeg` cargo feature), scaled to the frame size
//! (stretched, or scaled and centre-cropped as it is shown), converted to grey or RGB, and `T`
//! frames sampled evenly over the whole video (one whose frames at that size would take more
//! than 256 MiB is thinned as it is read).

use super::error::{DataError, DataResult};
use super::image_file::{has_extension, Fit};
#[cfg(feature = "ffmpeg")]
use std::io::{ErrorKind, Read};
use std::path::Path;

/// The most bytes of decoded frames held while one video is read (256 MiB, a few minutes of
/// 224×224 colour frames at 30 per second); see [`thinned_frames`].
#[cfg(feature = "ffmpeg")]
const MAX_HELD_BYTES: usize = 256 << 20;

/// File name extensions (lower case) of the video files read.
pub const VIDEO_EXTENSIONS: [&str; 5] = ["mp4", "avi", "webm", "mkv", "mov"];

/// Whether `path`'s extension names one of the video formats read (case-insensitively).
pub fn is_video_file(path: &Path) -> bool {
    has_extension(path, &VIDEO_EXTENSIONS)
}

/// The video file at `path` as `shape` = `[frames, channels, height, width]` values in [0, 1].
#[cfg(feature = "ffmpeg")]
pub fn load_video(path: &Path, shape: [usize; 4], fit: Fit) -> DataResult<Vec<f32>> {
    use super::input_file::sample_frames;
    let origin = path.display().to_string();
    let err = |p: String| DataError::new(&origin, p);
    let [t, c, h, w] = shape;
    let pix_fmt = match c {
        1 => "gray",
        3 => "rgb24",
        _ => {
            return Err(err(format!(
                "{c} channels: video is read as 1 or 3 channels"
            )))
        }
    };
    // A stretch fills the frame whatever the pixels' shape; a crop keeps the picture's shape
    // as it is shown, so a video of non-square pixels (DV, DVD, some broadcasts: its sample
    // aspect ratio `sar` not 1) is first widened to it.
    let filter = match fit {
        Fit::Resize => format!("scale={w}:{h}"),
        Fit::Crop => format!(
            "scale=iw*sar:ih,setsar=1,scale={w}:{h}:force_original_aspect_ratio=increase,\
             crop={w}:{h}"
        ),
    };
    let frame = c * h * w;
    let most_held = (MAX_HELD_BYTES / frame).max(2 * t);
    let pixels = super::ffmpeg::read_ffmpeg_output(
        path,
        &[
            "-map", "0:V:0", "-vf", &filter, "-f", "rawvideo", "-pix_fmt", pix_fmt,
        ],
        |output| {
            thinned_frames(output, frame, most_held)
                .map_err(|e| err(format!("cannot read ffmpeg's output: {e}")))
        },
    )
    .map_err(|e| without_video_stream(path).unwrap_or(e))?;
    let frames = pixels.len() / frame;
    if frames == 0 {
        return Err(err("holds no video frames".into()));
    }
    let plane = h * w;
    let mut clip = vec![0.0; t * frame];
    for (k, i) in sample_frames(frames, t).into_iter().enumerate() {
        for (p, rgb) in pixels[i * frame..(i + 1) * frame]
            .chunks_exact(c)
            .enumerate()
        {
            for (ch, &v) in rgb.iter().enumerate() {
                clip[k * frame + ch * plane + p] = v as f32 / 255.0;
            }
        }
    }
    Ok(clip)
}

/// The `frame`-byte frames read from `output` to its end (a last frame cut short is left out),
/// thinned so that no more than `most_held` (at least 2) are ever held: when they would be more,
/// every other frame held is dropped and from then on only every other frame is kept, so what
/// is returned is every `2^k`-th frame of the video from its first, for the least `k` that fits.
/// A video within the limit is returned whole, so sampling it is exact; a longer one is sampled
/// from frames spread as evenly, at a bounded memory (but for up to `2^k − 1` frames at its end).
#[cfg(feature = "ffmpeg")]
fn thinned_frames(
    output: &mut dyn Read,
    frame: usize,
    most_held: usize,
) -> std::io::Result<Vec<u8>> {
    let mut held = Vec::new();
    let mut buffer = vec![0; frame];
    let (mut stride, mut read) = (1usize, 0usize);
    loop {
        match output.read_exact(&mut buffer) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => return Ok(held),
            Err(e) => return Err(e),
        }
        if read.is_multiple_of(stride) {
            held.extend_from_slice(&buffer);
        }
        read += 1;
        if held.len() / frame > most_held {
            let kept = held.len() / frame;
            for (to, from) in (0..kept).step_by(2).enumerate() {
                held.copy_within(from * frame..(from + 1) * frame, to * frame);
            }
            held.truncate(kept.div_ceil(2) * frame);
            stride *= 2;
        }
    }
}

/// The error for a file at `path` with no video stream (a recording in a video container: a
/// voice memo, a browser's recording), saying how to read it as audio, when ffprobe finds none;
/// `None` when it finds one or cannot tell.
#[cfg(feature = "ffmpeg")]
fn without_video_stream(path: &Path) -> Option<DataError> {
    let kinds = super::ffmpeg::stream_kinds(path)?;
    if kinds.iter().any(|k| k == "video") {
        return None;
    }
    let problem = if kinds.iter().any(|k| k == "audio") {
        "holds no video stream, only audio (a recording in a video container): to read it as a \
         recording, give it an audio file's extension such as .m4a, or convert it to WAV"
    } else {
        "holds no video stream"
    };
    Some(DataError::new(path.display().to_string(), problem))
}

/// Whether the video file at `path` holds a recording and no video stream (a voice memo as MP4,
/// a browser's WebM recording), as ffprobe lists its streams; `false` when it cannot tell, and
/// always without the `ffmpeg` feature.
pub fn holds_only_audio(path: &Path) -> bool {
    #[cfg(feature = "ffmpeg")]
    return super::ffmpeg::stream_kinds(path).is_some_and(|kinds| {
        kinds.iter().any(|k| k == "audio") && !kinds.iter().any(|k| k == "video")
    });
    #[cfg(not(feature = "ffmpeg"))]
    {
        let _ = path;
        false
    }
}

/// Without the `ffmpeg` feature video files are refused, saying how to read them.
#[cfg(not(feature = "ffmpeg"))]
pub fn load_video(path: &Path, _shape: [usize; 4], _fit: Fit) -> DataResult<Vec<f32>> {
    Err(DataError::new(
        path.display().to_string(),
        "video files are read through FFmpeg: build polyvit with `--features ffmpeg` (or give the \
         clip as a folder of frames)",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(feature = "ffmpeg")]
    use crate::data::test_util::{ffmpeg_encode, temp_path};

    #[cfg(not(feature = "ffmpeg"))]
    #[test]
    fn without_the_feature_video_files_are_refused_with_the_way_out() {
        let err = load_video(Path::new("clip.mp4"), [2, 1, 4, 4], Fit::Resize).unwrap_err();
        assert_eq!(err.origin, "clip.mp4");
        assert!(err.problem.contains("--features ffmpeg"), "{err}");
        assert!(is_video_file(Path::new("a/B.WebM")) && !is_video_file(Path::new("a.png")));
    }

    /// Ten frames (numbered 0 to 9, then half a frame) read whole when they may all be held;
    /// when at most 5, 3 or 2 may, every second, fourth or eighth frame from the first.
    #[cfg(feature = "ffmpeg")]
    #[test]
    fn a_long_video_is_thinned_as_it_is_read() {
        let video: Vec<u8> = (0..10u8).flat_map(|i| [i, i]).chain([99]).collect();
        let read = |most_held| thinned_frames(&mut &video[..], 2, most_held).unwrap();
        assert_eq!(read(10), video[..20]);
        assert_eq!(read(5), [0, 0, 2, 2, 4, 4, 6, 6, 8, 8]);
        assert_eq!(read(3), [0, 0, 4, 4, 8, 8]);
        assert_eq!(read(2), [0, 0, 8, 8]);
    }

    /// Writes a 1-second 64×48 test-pattern video (10 frames/s, MPEG-4 part 2) with `ffmpeg`.
    #[cfg(feature = "ffmpeg")]
    fn test_video(name: &str) -> std::path::PathBuf {
        pattern_video(&temp_path(name), "testsrc")
    }

    /// Writes a 1-second 64×48 video of the lavfi `pattern` source at `path` (MPEG-4 part 2).
    #[cfg(feature = "ffmpeg")]
    fn pattern_video(path: &Path, pattern: &str) -> std::path::PathBuf {
        ffmpeg_encode(
            path,
            &["-f", "lavfi", "-i", &lavfi(pattern), "-c:v", "mpeg4"],
        )
    }

    /// The lavfi source `pattern` at 64×48, 10 frames/s, for 1 second.
    #[cfg(feature = "ffmpeg")]
    fn lavfi(pattern: &str) -> String {
        format!("{pattern}=size=64x48:rate=10:duration=1")
    }

    /// A video cut short that ffmpeg decodes in part (it exits with success after 4 of the 10
    /// frames of an AVI, 7 of a WebM's) is an error saying the file is damaged, not a clip of
    /// repeated frames; a healthy video whose decoding ffmpeg warns about (MJPEG's "deprecated
    /// pixel format") reads.
    #[cfg(feature = "ffmpeg")]
    #[test]
    fn a_damaged_video_is_an_error_not_a_frozen_clip() {
        let testsrc = lavfi("testsrc");
        for (name, codec) in [("cut.avi", "mpeg4"), ("cut.webm", "libvpx")] {
            let path = ffmpeg_encode(
                &temp_path(name),
                &["-f", "lavfi", "-i", &testsrc, "-c:v", codec],
            );
            let bytes = std::fs::read(&path).unwrap();
            std::fs::write(&path, &bytes[..bytes.len() * 5 / 6]).unwrap();
            let err = load_video(&path, [4, 1, 8, 8], Fit::Resize).unwrap_err();
            assert_eq!(err.origin, path.display().to_string());
            assert!(err.problem.contains("damaged"), "{err}");
            assert!(!err.problem.contains(" @ 0x"), "{err}");
        }
        let mjpeg = ffmpeg_encode(
            &temp_path("mjpeg.avi"),
            &["-f", "lavfi", "-i", &testsrc, "-c:v", "mjpeg"],
        );
        assert_eq!(
            load_video(&mjpeg, [4, 1, 8, 8], Fit::Resize).unwrap().len(),
            4 * 64
        );
    }

    /// A recording in a video container (a voice memo as MP4, with or without cover art; a
    /// browser's WebM recording) is an error saying it holds only audio and how to read it.
    #[cfg(feature = "ffmpeg")]
    #[test]
    fn an_audio_only_video_file_says_it_holds_only_audio() {
        let sine = ["-f", "lavfi", "-i", "sine=frequency=440:duration=0.5"];
        let memo = ffmpeg_encode(
            &temp_path("memo.mp4"),
            &[&sine[..], &["-c:a", "aac"]].concat(),
        );
        let voice = ffmpeg_encode(
            &temp_path("voice.webm"),
            &[&sine[..], &["-c:a", "libopus"]].concat(),
        );
        let cover = ffmpeg_encode(
            &temp_path("cover.png"),
            &["-f", "lavfi", "-i", &lavfi("testsrc"), "-frames:v", "1"],
        );
        let with_cover = ffmpeg_encode(
            &temp_path("memo-with-cover.mp4"),
            &[
                &sine[..],
                &["-i", &cover.display().to_string(), "-map", "0", "-map", "1"],
                &[
                    "-c:a",
                    "aac",
                    "-c:v",
                    "png",
                    "-disposition:v",
                    "attached_pic",
                ],
            ]
            .concat(),
        );
        for path in [memo, voice, with_cover] {
            let err = load_video(&path, [2, 1, 8, 8], Fit::Resize).unwrap_err();
            assert_eq!(err.origin, path.display().to_string());
            assert!(err.problem.contains("no video stream, only audio"), "{err}");
            assert!(err.problem.contains(".m4a"), "{err}");
            // As a recording it reads (by what it holds, whatever the extension says).
            assert!(holds_only_audio(&path));
            let recording = crate::data::audio_file::read_audio(&path).unwrap();
            let seconds = recording.samples.len() as f64 / recording.sample_rate as f64;
            assert!(
                (seconds - 0.5).abs() < 0.1,
                "{}: {seconds} s",
                path.display()
            );
        }
        let film = ffmpeg_encode(
            &temp_path("film.webm"),
            &["-f", "lavfi", "-i", &lavfi("testsrc"), "-frames:v", "2"],
        );
        assert!(!holds_only_audio(&film));
    }

    #[cfg(feature = "ffmpeg")]
    #[test]
    fn a_video_file_is_sampled_to_the_clip_shape() {
        let path = test_video("pattern.mp4");
        let clip = load_video(&path, [4, 3, 16, 16], Fit::Crop).unwrap();
        assert_eq!(clip.len(), 4 * 3 * 16 * 16);
        assert!(clip.iter().all(|&v| (0.0..=1.0).contains(&v)));
        let frame = 3 * 16 * 16;
        assert_ne!(&clip[..frame], &clip[3 * frame..], "the pattern moves");
        let grey = load_video(&path, [2, 1, 8, 8], Fit::Resize).unwrap();
        assert_eq!(grey.len(), 2 * 64);
        let corrupt = temp_path("corrupt.mp4");
        std::fs::write(&corrupt, b"not a video").unwrap();
        let err = load_video(&corrupt, [2, 1, 8, 8], Fit::Resize).unwrap_err();
        assert_eq!(err.origin, corrupt.display().to_string());
        assert!(err.problem.starts_with("ffmpeg cannot decode it"), "{err}");
        let empty = temp_path("empty.mp4");
        std::fs::write(&empty, b"").unwrap();
        let err = load_video(&empty, [2, 1, 8, 8], Fit::Resize).unwrap_err();
        assert_eq!(err.problem, "an empty file (0 bytes)");
    }

    /// A video of pixels twice as wide as tall (stored 32×16, shown 64×16) whose middle
    /// quarter is white is cropped as it is shown: a square crop of its middle is that white
    /// quarter, not the middle half of the stored frame (half of it black).
    #[cfg(feature = "ffmpeg")]
    #[test]
    fn non_square_pixels_are_cropped_as_shown() {
        let path = ffmpeg_encode(
            &temp_path("anamorphic.mp4"),
            &[
                "-f",
                "lavfi",
                "-i",
                "color=black:size=32x16:rate=10:duration=0.3",
                "-vf",
                "drawbox=x=12:y=0:w=8:h=16:color=white:t=fill,setsar=2",
                "-c:v",
                "mpeg4",
                "-q:v",
                "2",
            ],
        );
        let clip = load_video(&path, [1, 1, 4, 4], Fit::Crop).unwrap();
        let mean = clip.iter().sum::<f32>() / clip.len() as f32;
        assert!(mean > 0.9, "{clip:?}");
        let stretched = load_video(&path, [1, 1, 4, 4], Fit::Resize).unwrap();
        let mean = stretched.iter().sum::<f32>() / 16.0;
        assert!((0.15..0.4).contains(&mean), "{stretched:?}");
    }

    #[cfg(feature = "ffmpeg")]
    #[test]
    fn a_folder_of_video_files_is_a_video_task() {
        use crate::data::folder::{build_folder_task, FolderSpec};
        let dir = temp_path("video-files");
        let _ = std::fs::remove_dir_all(&dir);
        for (class, pattern) in [("bars", "smptebars"), ("pattern", "testsrc")] {
            std::fs::create_dir_all(dir.join(class)).unwrap();
            for i in 0..3 {
                pattern_video(&dir.join(class).join(format!("{i}.mp4")), pattern);
            }
        }
        let d = build_folder_task("films", &FolderSpec::new(&dir), &[], &|_, _| {}).unwrap();
        assert_eq!(d.shape, [8, 3, 32, 32], "video files count as colour");
        assert_eq!(d.class_names, ["bars", "pattern"]);
        assert_eq!(d.train.len() + d.validation.len() + d.test.len(), 6);
    }
}
