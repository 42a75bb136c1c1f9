//! The arrow-of-time task on real footage (see [`crate::data::arrow_of_time`]).

use super::{assemble, rng, SuiteConfig, SuiteFiles, TaskId};
use crate::data::arrow_of_time::{sample_clips, windows};
use crate::data::dataset::{Dataset, Labels, Modality, RawSplit};
use crate::data::embedded::{self, EmbeddedFile};
use crate::data::error::{DataError, DataResult};
use crate::data::frames::{parse_frames_gz, FrameStack};

/// Training / validation footage; validation is the last part of each video in time.
pub(super) const TRAIN_VIDEOS: [EmbeddedFile; 3] = [
    embedded::VIDEO_VTEST,
    embedded::VIDEO_TREE,
    embedded::VIDEO_CARPHONE,
];
/// Test footage: a different video, never used for training or tuning.
pub(super) const TEST_VIDEOS: [EmbeddedFile; 1] = [embedded::VIDEO_BIKES];

/// Loads the frame stacks that `files` holds in place of the embedded `videos`, checking that
/// their frames are `side × side`.
fn load(files: &SuiteFiles, videos: &[EmbeddedFile], side: usize) -> DataResult<Vec<FrameStack>> {
    videos
        .iter()
        .map(|v| {
            let f = files.read_like(v)?;
            let s = parse_frames_gz(&f.bytes, &f.origin)?;
            if (s.height, s.width) != (side, side) {
                return Err(DataError::new(
                    f.origin,
                    format!(
                        "frames are {}×{}, the video tasks need {side}×{side}",
                        s.height, s.width
                    ),
                ));
            }
            Ok(s)
        })
        .collect()
}

/// First frame of the validation segment of a video of `n` frames.
pub(super) fn validation_start(n: usize, fraction: f32) -> usize {
    n - ((n as f32 * fraction).round() as usize).min(n)
}

/// Arrow of time: 8-frame clips of the footage, forward (0) or reversed (1).
pub(super) fn arrow_of_time_task(cfg: &SuiteConfig) -> DataResult<Dataset> {
    let a = &cfg.arrow_of_time;
    let (frames, side) = (cfg.video.frames, cfg.video.canvas);
    let train_videos = load(&cfg.files, &TRAIN_VIDEOS, side)?;
    let test_videos = load(&cfg.files, &TEST_VIDEOS, side)?;
    let cuts: Vec<usize> = train_videos
        .iter()
        .map(|v| validation_start(v.frames, a.validation_segment))
        .collect();
    let train_segments: Vec<_> = cuts.iter().enumerate().map(|(i, &c)| (i, 0..c)).collect();
    let val_segments: Vec<_> = train_videos
        .iter()
        .zip(&cuts)
        .enumerate()
        .map(|(i, (v, &c))| (i, c..v.frames))
        .collect();
    let test_segments: Vec<_> = test_videos
        .iter()
        .enumerate()
        .map(|(i, v)| (i, 0..v.frames))
        .collect();
    let plan = [
        (&train_videos, train_segments, a.flip_train),
        (&train_videos, val_segments, false),
        (&test_videos, test_segments, false),
    ];
    let mut raw = Vec::with_capacity(3);
    for (k, (videos, segments, flip)) in plan.into_iter().enumerate() {
        let w = windows(&segments, frames, a.max_stride);
        let mut r = rng(cfg.seed, TaskId::ArrowOfTime.stream() + k as u64);
        let (pixels, labels) = sample_clips(videos, &w, a.clips[k], frames, flip, &mut r)?;
        raw.push(RawSplit {
            inputs: pixels.iter().map(|&p| p as f32 / 255.0).collect(),
            len: labels.len(),
            labels: Labels::Class(labels),
        });
    }
    let raw: [RawSplit; 3] = raw
        .try_into()
        .map_err(|_| DataError::new("arrow_of_time", "3 splits"))?;
    assemble(
        TaskId::ArrowOfTime,
        cfg,
        Modality::Video,
        vec![frames, 1, side, side],
        raw,
    )
}
