//! Arrow of time (Pickup et al. 2014; Wei et al. 2018): short clips cut from real footage,
//! played forward (label 0) or backwards (label 1). One frame cannot tell the two apart; the
//! model has to see how the scene changes.
//!
//! A clip is a [`Window`] of a [`FrameStack`]: `frames` frames starting at `start`, taking every
//! `stride`-th frame. [`windows`] lists every window that fits inside a segment of a video;
//! [`sample_clips`] draws clips from such a list with a seeded generator.

use super::error::{DataError, DataResult};
use super::frames::FrameStack;
use rand::Rng;
use std::ops::Range;

/// Label of a clip played forward.
pub const FORWARD: usize = 0;
/// Label of a clip played backwards.
pub const BACKWARD: usize = 1;

/// Parameters of the arrow-of-time clips.
#[derive(Debug, Clone, PartialEq)]
pub struct ArrowOfTimeConfig {
    /// Each clip takes every `s`-th frame, `s` uniform in `1..=max_stride`.
    pub max_stride: usize,
    /// The last fraction of each training video (in time) is held out for validation.
    pub validation_segment: f32,
    /// Clips in the train, validation and test splits.
    pub clips: [usize; 3],
    /// Mirror each training clip left–right with probability 1/2 (time direction unchanged).
    pub flip_train: bool,
}

impl Default for ArrowOfTimeConfig {
    /// Strides 1–3, the last 20 % of each training video for validation, 1,800 / 200 / 500
    /// clips, training clips randomly mirrored.
    fn default() -> Self {
        Self {
            max_stride: 3,
            validation_segment: 0.2,
            clips: [1800, 200, 500],
            flip_train: true,
        }
    }
}

/// Where one clip comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Index of the video in the list given to [`sample_clips`].
    pub video: usize,
    /// First frame (in playing-forward order).
    pub start: usize,
    /// Frames between consecutive clip frames.
    pub stride: usize,
}

impl Window {
    /// The frames of the clip, in forward order.
    pub fn frame_indices(&self, frames: usize) -> impl Iterator<Item = usize> + '_ {
        (0..frames).map(move |t| self.start + t * self.stride)
    }
}

/// Every window of `frames` frames with stride `1..=max_stride` that lies inside one of the
/// `segments` (video index, range of its frames).
pub fn windows(
    segments: &[(usize, Range<usize>)],
    frames: usize,
    max_stride: usize,
) -> Vec<Window> {
    let mut out = Vec::new();
    for (video, range) in segments {
        for stride in 1..=max_stride {
            let span = (frames.max(1) - 1) * stride + 1;
            if range.len() < span {
                continue;
            }
            out.extend((range.start..=range.end - span).map(|start| Window {
                video: *video,
                start,
                stride,
            }));
        }
    }
    out
}

/// Draws `n` clips of `frames` frames uniformly from `windows`; clip `i` plays backwards when
/// `i` is odd, so the labels are exactly balanced (0, 1, 0, 1, ...). With `flip`, each clip is
/// mirrored left–right with probability 1/2. Returns `n × frames × H × W` pixels (frame-major)
/// and the labels.
pub fn sample_clips(
    videos: &[FrameStack],
    windows: &[Window],
    n: usize,
    frames: usize,
    flip: bool,
    rng: &mut impl Rng,
) -> DataResult<(Vec<u8>, Vec<usize>)> {
    if windows.is_empty() && n > 0 {
        return Err(DataError::new(
            "arrow-of-time clips",
            format!("no window of {frames} frames fits the footage"),
        ));
    }
    let mut pixels = Vec::new();
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let w = windows[rng.gen_range(0..windows.len())];
        let v = &videos[w.video];
        let mirror = flip && rng.gen_bool(0.5);
        let label = if i % 2 == 0 { FORWARD } else { BACKWARD };
        let mut order: Vec<usize> = w.frame_indices(frames).collect();
        if label == BACKWARD {
            order.reverse();
        }
        for f in order {
            let frame = v.frame(f);
            if mirror {
                for row in frame.chunks_exact(v.width) {
                    pixels.extend(row.iter().rev());
                }
            } else {
                pixels.extend_from_slice(frame);
            }
        }
        labels.push(label);
    }
    Ok((pixels, labels))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// A bright pixel moving one column to the right per frame, in row `row`.
    fn moving_dot(frames: usize, side: usize, row: usize) -> FrameStack {
        let mut pixels = vec![0u8; frames * side * side];
        for f in 0..frames {
            pixels[f * side * side + row * side + f % side] = 255;
        }
        FrameStack {
            frames,
            height: side,
            width: side,
            pixels,
        }
    }

    fn dot_columns(clip: &[u8], side: usize) -> Vec<usize> {
        clip.chunks_exact(side * side)
            .map(|f| f.iter().position(|&p| p == 255).unwrap() % side)
            .collect()
    }

    #[test]
    fn windows_fit_their_segments() {
        let w = windows(&[(0, 0..10), (1, 5..9)], 4, 3);
        // Video 0: stride 1 → 7 starts, stride 2 → 4, stride 3 → 1; video 1: stride 1 → 1.
        assert_eq!(w.len(), 7 + 4 + 1 + 1);
        for x in &w {
            let last = x.frame_indices(4).last().unwrap();
            let range = if x.video == 0 { 0..10 } else { 5..9 };
            assert!(range.contains(&x.start) && range.contains(&last), "{x:?}");
        }
        assert!(windows(&[(0, 0..3)], 4, 3).is_empty());
    }

    #[test]
    fn labels_follow_the_direction_of_time() {
        let (side, frames) = (16, 4);
        let videos = [moving_dot(16, side, 3)];
        let w = windows(&[(0, 0..16)], frames, 3);
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let (pixels, labels) = sample_clips(&videos, &w, 40, frames, false, &mut rng).unwrap();
        assert_eq!(pixels.len(), 40 * frames * side * side);
        let mut strides = std::collections::HashSet::new();
        for (clip, &label) in pixels.chunks_exact(frames * side * side).zip(&labels) {
            let cols = dot_columns(clip, side);
            let steps: Vec<i64> = cols.windows(2).map(|c| c[1] as i64 - c[0] as i64).collect();
            assert!(steps.iter().all(|&s| s == steps[0] && s != 0), "{cols:?}");
            assert_eq!(label == FORWARD, steps[0] > 0, "label {label}: {cols:?}");
            strides.insert(steps[0].abs());
        }
        assert_eq!(strides.len(), 3, "every stride 1–3 occurs");
        assert_eq!(labels.iter().filter(|&&l| l == BACKWARD).count(), 20);
    }

    #[test]
    fn mirroring_keeps_the_label_and_the_row() {
        let (side, frames) = (16, 4);
        let videos = [moving_dot(16, side, 5)];
        let w = windows(&[(0, 0..16)], frames, 1);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let (pixels, labels) = sample_clips(&videos, &w, 40, frames, true, &mut rng).unwrap();
        let mut mirrored = 0;
        for (clip, &label) in pixels.chunks_exact(frames * side * side).zip(&labels) {
            assert!(clip
                .chunks_exact(side * side)
                .all(|f| f[5 * side..6 * side].contains(&255)));
            let cols = dot_columns(clip, side);
            let right = cols[1] > cols[0];
            let forward_in_source = (right && label == FORWARD) || (!right && label == BACKWARD);
            mirrored += !forward_in_source as usize;
        }
        assert!(mirrored > 5 && mirrored < 35, "{mirrored} of 40 mirrored");
    }

    #[test]
    fn sampling_is_deterministic_per_seed() {
        let videos = [moving_dot(20, 8, 0), moving_dot(12, 8, 4)];
        let w = windows(&[(0, 0..20), (1, 0..12)], 4, 3);
        let draw = |seed| {
            sample_clips(
                &videos,
                &w,
                30,
                4,
                true,
                &mut ChaCha8Rng::seed_from_u64(seed),
            )
            .unwrap()
        };
        assert_eq!(draw(1), draw(1));
        assert_ne!(draw(1).0, draw(2).0);
        assert!(
            sample_clips(&videos, &[], 1, 4, false, &mut ChaCha8Rng::seed_from_u64(0))
                .unwrap_err()
                .problem
                .contains("no window")
        );
    }
}
