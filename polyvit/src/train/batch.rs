//! Turning examples into training batches: sampling, targets, mixup and SpecAugment. Inputs
//! come from the split ([`Split::gather`]), whether it holds them in memory or decodes them.

use super::run::RunError;
use crate::data::{Dataset, Labels, Split};
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
