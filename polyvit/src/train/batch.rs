//! Turning examples into training batches: sampling, targets, and the augmentations of
//! [`super::augmentation`] applied in order. Inputs come from the split ([`Split::gather`]),
//! whether it holds them in memory or decodes them.

use super::augmentation::Augmentation;
use super::run::RunError;
use crate::data::{Dataset, Labels, Split};
use rand::seq::index::sample;
use rand::Rng;
use std::ops::Range;
use tensor::{Device, Error, Tensor};

/// A batch, or why it could not be made: an example that would not decode, or a tensor error.
pub type Result<T> = std::result::Result<T, RunError>;

/// A batch ready for the model: inputs `[B, …example shape]` and targets `[B, classes]`
/// (one-hot rows, multi-hot rows, or their mixup blends).
pub struct Batch {
    /// `[B, …example shape]`: the examples as the model reads them, augmented in a training
    /// batch.
    pub inputs: Tensor,
    /// `[B, classes]`: 1 at each example's classes and 0 elsewhere, blended between paired
    /// examples where mixup is on (label smoothing is the loss's, not applied here).
    pub targets: Tensor,
}

/// Target rows of examples `indices`: one-hot for class labels, the stored rows for multi-hot.
/// `classes` is the dataset's class count, every label of which `Split::checked` proved lower
/// when the split was made (a larger one would set an entry of the next row).
pub fn gather_targets(split: &Split, classes: usize, indices: &[usize]) -> Vec<f32> {
    let mut out = vec![0.0; indices.len() * classes];
    for (row, &i) in indices.iter().enumerate() {
        match &split.labels {
            Labels::Class(labels) => {
                debug_assert!(labels[i] < classes, "label {} of {classes}", labels[i]);
                out[row * classes + labels[i]] = 1.0
            }
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
    augmentation.apply(&mut inputs, &mut targets, &dataset.shape, rng)?;
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
