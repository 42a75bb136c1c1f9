//! Turning examples into training batches: sampling, targets, and the augmentations (random
//! shifts, time reversal, SpecAugment, mixup). Inputs come from the split ([`Split::gather`]),
//! whether it holds them in memory or decodes them.

use super::config::TaskConfig;
use super::run::RunError;
use crate::data::{Dataset, Labels, Modality, Split};
use rand::seq::index::sample;
use rand::Rng;
use rand_distr::{Beta, Distribution};
use std::ops::Range;
use tensor::{Device, Error, Tensor};

/// A batch, or why it could not be made: an example that would not decode, or a tensor error.
pub type Result<T> = std::result::Result<T, RunError>;

/// A batch ready for the model: inputs `[B, …example shape]` and targets `[B, classes]`
/// (one-hot rows, multi-hot rows, or their mixup blends).
pub struct Batch {
    pub inputs: Tensor,
    pub targets: Tensor,
}

/// Target rows of examples `indices`: one-hot for class labels, the stored rows for multi-hot.
pub fn gather_targets(split: &Split, classes: usize, indices: &[usize]) -> Vec<f32> {
    let mut out = vec![0.0; indices.len() * classes];
    for (row, &i) in indices.iter().enumerate() {
        match &split.labels {
            Labels::Class(labels) => out[row * classes + labels[i]] = 1.0,
            Labels::MultiHot(hot) => out[row * classes..(row + 1) * classes]
                .copy_from_slice(&hot[i * classes..(i + 1) * classes]),
        }
    }
    out
}

/// Examples `indices` of `split` as tensors on `device` (one upload each).
pub fn batch_of(
    dataset: &Dataset,
    split: &Split,
    indices: &[usize],
    device: &Device,
) -> Result<Batch> {
    let shape: Vec<usize> = [indices.len()]
        .into_iter()
        .chain(dataset.shape.iter().copied())
        .collect();
    Ok(Batch {
        inputs: Tensor::from_vec_on(split.gather(indices)?, &shape, device)?,
        targets: Tensor::from_vec_on(
            gather_targets(split, dataset.num_classes, indices),
            &[indices.len(), dataset.num_classes],
            device,
        )?,
    })
}

/// How training examples are perturbed.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Augmentation {
    /// Random translation of images and video frames by up to this many pixels.
    pub max_shift: usize,
    /// Mixup `α` (0 = off).
    pub mixup: f64,
    /// SpecAugment masks on spectrograms.
    pub spec_augment: bool,
    /// Each clip played backwards with probability ½ (for labels that do not depend on the
    /// direction of time).
    pub time_reversal: bool,
}

impl Augmentation {
    /// The augmentation `task` asks for on examples of `modality` and `shape`: an error naming
    /// the task and the key when one does not apply to that modality (a shift of audio,
    /// SpecAugment of pixels, time reversal of a still image or a spectrogram), so no setting
    /// is ignored, or when a shift could move the whole picture out of its frame.
    pub fn for_task(
        task: &TaskConfig,
        modality: Modality,
        shape: &[usize],
    ) -> std::result::Result<Augmentation, String> {
        let misplaced = |setting: String, applies: &str| {
            Err(format!(
                "task {}: {setting}: applies to {applies}, and this is {} task",
                task.name,
                modality.with_article()
            ))
        };
        if task.max_shift > 0 && modality == Modality::Audio {
            return misplaced(
                format!("max_shift = {}", task.max_shift),
                "images and video",
            );
        }
        let side = shape[shape.len().saturating_sub(2)..].iter().min();
        if let Some(&side) = side.filter(|&&side| task.max_shift >= side) {
            return Err(format!(
                "task {}: max_shift = {}: must be less than {side}, the shorter side of the \
                 frames (examples of shape {shape:?}), or a picture could be shifted out whole",
                task.name, task.max_shift
            ));
        }
        if task.spec_augment && modality != Modality::Audio {
            return misplaced("spec_augment = true".into(), "audio");
        }
        if task.time_reversal && modality != Modality::Video {
            return misplaced("time_reversal = true".into(), "video");
        }
        Ok(Augmentation {
            max_shift: task.max_shift,
            mixup: task.mixup,
            spec_augment: task.spec_augment,
            time_reversal: task.time_reversal,
        })
    }
}

/// How many examples a training batch of `size` holds: `size`, or the whole training split
/// when it is smaller.
pub fn drawn_batch_size(dataset: &Dataset, size: usize) -> usize {
    size.min(dataset.train.len())
}

/// The training examples of a batch of `size`: the first draw [`training_batch`] makes from
/// `rng`, so a caller holding a copy of the batch's generator knows the batch ahead of time.
pub fn batch_indices(dataset: &Dataset, size: usize, rng: &mut impl Rng) -> Vec<usize> {
    let drawn = drawn_batch_size(dataset, size);
    sample(rng, dataset.train.len(), drawn).into_vec()
}

/// A random training batch of [`drawn_batch_size`] distinct examples, with the given
/// augmentation, drawn from `rng` and assembled on the host, then uploaded to `device` as two
/// tensors.
pub fn training_batch(
    dataset: &Dataset,
    size: usize,
    augmentation: Augmentation,
    rng: &mut impl Rng,
    device: &Device,
) -> Result<Batch> {
    let rows = 0..drawn_batch_size(dataset, size);
    training_batch_rows(dataset, size, augmentation, rows, rng, device)
}

/// Rows `rows` of the batch [`training_batch`] would draw. The whole batch is drawn and
/// augmented whatever `rows` is, so the data-parallel replicas that each take their rows of it
/// together see exactly the batch of one process.
pub fn training_batch_rows(
    dataset: &Dataset,
    size: usize,
    augmentation: Augmentation,
    rows: Range<usize>,
    rng: &mut impl Rng,
    device: &Device,
) -> Result<Batch> {
    let Augmentation {
        max_shift,
        mixup,
        spec_augment,
        time_reversal,
    } = augmentation;
    let split = &dataset.train;
    let drawn = drawn_batch_size(dataset, size);
    if rows.start > rows.end || rows.end > drawn {
        return Err(Error::shape(
            "training batch",
            format!("rows {rows:?} are not within a batch of {drawn}"),
        )
        .into());
    }
    let indices = batch_indices(dataset, size, rng);
    let mut inputs = split.gather(&indices)?;
    let mut targets = gather_targets(split, dataset.num_classes, &indices);
    if max_shift > 0 {
        apply_random_shift(&mut inputs, &dataset.shape, max_shift, rng);
    }
    if time_reversal {
        apply_time_reversal(&mut inputs, &dataset.shape, rng);
    }
    if spec_augment {
        apply_spec_augment(&mut inputs, &dataset.shape, rng);
    }
    if mixup > 0.0 {
        let beta = Beta::new(mixup, mixup).map_err(|e| {
            Error::shape(
                "mixup",
                format!("alpha {mixup} gives no Beta distribution: {e}"),
            )
        })?;
        let lambda = beta.sample(rng) as f32;
        mix_with_reversed(&mut inputs, indices.len(), lambda);
        mix_with_reversed(&mut targets, indices.len(), lambda);
    }
    let (example, classes) = (split.example_len(), dataset.num_classes);
    let inputs = inputs[rows.start * example..rows.end * example].to_vec();
    let targets = targets[rows.start * classes..rows.end * classes].to_vec();
    let shape: Vec<usize> = [rows.len()]
        .into_iter()
        .chain(dataset.shape.iter().copied())
        .collect();
    Ok(Batch {
        inputs: Tensor::from_vec_on(inputs, &shape, device)?,
        targets: Tensor::from_vec_on(targets, &[rows.len(), classes], device)?,
    })
}

/// Translates each example (all its channels and frames alike) by a random offset of up to
/// `max_shift` pixels along its last two axes; pixels shifted in repeat the nearest edge pixel
/// (the background, for digits).
pub fn apply_random_shift(
    inputs: &mut [f32],
    shape: &[usize],
    max_shift: usize,
    rng: &mut impl Rng,
) {
    let (height, width) = (shape[shape.len() - 2], shape[shape.len() - 1]);
    let per_example: usize = shape.iter().product();
    let range = -(max_shift as isize)..=max_shift as isize;
    let mut plane = vec![0.0; height * width];
    for example in inputs.chunks_mut(per_example) {
        let (dy, dx) = (rng.gen_range(range.clone()), rng.gen_range(range.clone()));
        let source =
            |i: usize, d: isize, n: usize| (i as isize - d).clamp(0, n as isize - 1) as usize;
        for image in example.chunks_mut(height * width) {
            plane.copy_from_slice(image);
            for y in 0..height {
                for x in 0..width {
                    image[y * width + x] =
                        plane[source(y, dy, height) * width + source(x, dx, width)];
                }
            }
        }
    }
}

/// Plays each `[frames, ...]` example backwards with probability ½: its frames in reverse
/// order. A bouncing digit's clip played backwards is another bouncing digit's clip, so this
/// doubles the trajectories a task whose label is the digit sees.
pub fn apply_time_reversal(inputs: &mut [f32], shape: &[usize], rng: &mut impl Rng) {
    let frames = shape[0];
    let per_frame: usize = shape[1..].iter().product();
    for example in inputs.chunks_mut(frames * per_frame) {
        if rng.gen_bool(0.5) {
            for t in 0..frames / 2 {
                let (head, tail) = example.split_at_mut((frames - 1 - t) * per_frame);
                head[t * per_frame..(t + 1) * per_frame].swap_with_slice(&mut tail[..per_frame]);
            }
        }
    }
}

/// Mixup as in the reference: row `i` becomes `λ·row_i + (1 − λ)·row_{B−1−i}`.
pub fn mix_with_reversed(rows: &mut [f32], batch: usize, lambda: f32) {
    let width = rows.len() / batch.max(1);
    let original = rows.to_vec();
    for i in 0..batch {
        let j = batch - 1 - i;
        for k in 0..width {
            rows[i * width + k] =
                lambda * original[i * width + k] + (1.0 - lambda) * original[j * width + k];
        }
    }
}

/// SpecAugment on `[1, time, mel]` examples: one frequency band of up to an eighth of the mel bins
/// and one time span of up to an eighth of the frames are set to 0 (the mean after
/// standardization) in each example.
pub fn apply_spec_augment(inputs: &mut [f32], shape: &[usize], rng: &mut impl Rng) {
    let (time, mel) = (shape[shape.len() - 2], shape[shape.len() - 1]);
    let per_example = time * mel;
    for example in inputs.chunks_mut(per_example) {
        let f = rng.gen_range(0..=mel / 8);
        let f0 = rng.gen_range(0..=mel - f);
        let t = rng.gen_range(0..=time / 8);
        let t0 = rng.gen_range(0..=time - t);
        for row in example.chunks_mut(mel) {
            row[f0..f0 + f].fill(0.0);
        }
        example[t0 * mel..(t0 + t) * mel].fill(0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixup_pairs_each_row_with_its_mirror() {
        let mut rows = vec![1.0, 0.0, /**/ 0.0, 0.0, /**/ 0.0, 1.0];
        mix_with_reversed(&mut rows, 3, 0.75);
        assert_eq!(rows, vec![0.75, 0.25, 0.0, 0.0, 0.25, 0.75]);
    }

    #[test]
    fn a_shift_moves_every_frame_of_an_example_alike() {
        // One example of 2 frames of 3×3, each with a single bright pixel in the centre.
        let mut frame = vec![0.0; 9];
        frame[4] = 1.0;
        let mut inputs = [frame.clone(), frame].concat();
        apply_random_shift(&mut inputs, &[2, 1, 3, 3], 1, &mut tensor::rng(11));
        let bright: Vec<usize> = inputs
            .iter()
            .enumerate()
            .filter(|(_, &v)| v == 1.0)
            .map(|(i, _)| i % 9)
            .collect();
        assert_eq!(
            bright.len(),
            2,
            "a one-pixel shift keeps the centre pixel inside a 3×3 frame"
        );
        assert_eq!(bright[0], bright[1], "both frames moved by the same offset");
    }

    #[test]
    fn time_reversal_plays_some_clips_backwards_and_leaves_the_others() {
        // 64 clips of 3 frames of 1×2 pixels; frame t of clip c holds the values 10·c + t.
        let (clips, frames, pixels) = (64, 3, 2);
        let mut inputs: Vec<f32> = (0..clips * frames * pixels)
            .map(|i| (10 * (i / (frames * pixels)) + (i / pixels) % frames) as f32)
            .collect();
        apply_time_reversal(&mut inputs, &[frames, 1, 1, pixels], &mut tensor::rng(5));
        let mut reversed = 0;
        for (c, clip) in inputs.chunks(frames * pixels).enumerate() {
            let order: Vec<f32> = clip
                .chunks(pixels)
                .map(|f| f[0] - (10 * c) as f32)
                .collect();
            assert!(
                clip.chunks(pixels).all(|f| f[0] == f[1]),
                "frames stay whole"
            );
            match order.as_slice() {
                [0.0, 1.0, 2.0] => {}
                [2.0, 1.0, 0.0] => reversed += 1,
                other => panic!("clip {c} has frames in the order {other:?}"),
            }
        }
        assert!(
            (16..=48).contains(&reversed),
            "{reversed} of {clips} reversed"
        );
    }

    #[test]
    fn an_augmentation_for_another_modality_is_refused_by_name() {
        let task = |edit: fn(&mut TaskConfig)| {
            let mut t = TaskConfig::new("clips");
            edit(&mut t);
            t
        };
        let shifted = task(|t| t.max_shift = 2);
        let masked = task(|t| t.spec_augment = true);
        let reversed = task(|t| t.time_reversal = true);
        let refused = |t: &TaskConfig, m| Augmentation::for_task(t, m, &[1, 28, 28]).unwrap_err();
        assert_eq!(
            refused(&shifted, Modality::Audio),
            "task clips: max_shift = 2: applies to images and video, and this is an audio task"
        );
        assert!(refused(&masked, Modality::Video).contains("spec_augment = true: applies to audio"));
        assert!(
            refused(&reversed, Modality::Image).contains("time_reversal = true: applies to video")
        );
        assert!(refused(&reversed, Modality::Audio).contains("an audio task"));
        assert!(
            Augmentation::for_task(&reversed, Modality::Video, &[8, 1, 32, 32])
                .unwrap()
                .time_reversal
        );
        assert_eq!(
            Augmentation::for_task(&shifted, Modality::Image, &[1, 28, 28])
                .unwrap()
                .max_shift,
            2
        );
        let too_far = task(|t| t.max_shift = 16);
        assert_eq!(
            Augmentation::for_task(&too_far, Modality::Video, &[8, 1, 32, 16]).unwrap_err(),
            "task clips: max_shift = 16: must be less than 16, the shorter side of the frames \
             (examples of shape [8, 1, 32, 16]), or a picture could be shifted out whole"
        );
        assert!(Augmentation::for_task(&too_far, Modality::Image, &[3, 17, 20]).is_ok());
    }

    #[test]
    fn spec_augment_masks_stay_inside_each_example() {
        let mut rng = tensor::rng(3);
        let mut inputs = vec![1.0; 2 * 16 * 8];
        apply_spec_augment(&mut inputs, &[1, 16, 8], &mut rng);
        let zeros = inputs.iter().filter(|&&v| v == 0.0).count();
        assert!(
            zeros <= 2 * (16 + 2 * 8),
            "at most one band and one span per example"
        );
    }
}
