//! The image tasks (MNIST, Fashion-MNIST) and the Moving-MNIST video tasks built on MNIST.

use super::carve_validation;
use super::SuiteFiles;
use super::{assemble, rng, SuiteConfig, TaskId};
use crate::data::dataset::{Dataset, Labels, Modality, RawSplit};
use crate::data::embedded::{self, EmbeddedFile};
use crate::data::error::{DataError, DataResult};
use crate::data::idx::{expect_images, expect_labels, parse_idx_gz};
use crate::data::moving_mnist::{generate, Motion};

/// Raw u8 images of one IDX pair with their labels.
pub(super) struct Images {
    pixels: Vec<u8>,
    labels: Vec<usize>,
    side: usize,
}

impl Images {
    /// The images and labels of the IDX pair that `files` holds in place of the embedded pair.
    fn load(files: &SuiteFiles, images: &EmbeddedFile, labels: &EmbeddedFile) -> DataResult<Self> {
        let (images, labels) = (files.read_like(images)?, files.read_like(labels)?);
        let im = parse_idx_gz(&images.bytes, &images.origin)?;
        let (n, rows, cols) = expect_images(&im, &images.origin)?;
        let lab = expect_labels(
            &parse_idx_gz(&labels.bytes, &labels.origin)?,
            10,
            &labels.origin,
        )?;
        if lab.len() != n || rows != cols {
            return Err(DataError::new(
                images.origin,
                format!("{n} images of {rows}×{cols} with {} labels", lab.len()),
            ));
        }
        Ok(Self {
            pixels: im.data,
            labels: lab,
            side: rows,
        })
    }

    fn image(&self, i: usize) -> &[u8] {
        &self.pixels[i * self.side * self.side..(i + 1) * self.side * self.side]
    }

    fn subset(&self, idx: &[usize]) -> Self {
        Self {
            pixels: idx.iter().flat_map(|&i| self.image(i).to_vec()).collect(),
            labels: idx.iter().map(|&i| self.labels[i]).collect(),
            side: self.side,
        }
    }
}

/// Train, validation and test images of an image task.
fn image_splits(
    cfg: &SuiteConfig,
    files: [EmbeddedFile; 4],
    stream: u64,
) -> DataResult<[Images; 3]> {
    let train = Images::load(&cfg.files, &files[0], &files[1])?;
    let test = Images::load(&cfg.files, &files[2], &files[3])?;
    let (t, v) = carve_validation(
        train.labels.len(),
        cfg.validation_fraction,
        &mut rng(cfg.seed, stream),
    );
    Ok([train.subset(&t), train.subset(&v), test])
}

/// MNIST splits: validation carved from the training digits.
pub(super) fn mnist_splits(cfg: &SuiteConfig) -> DataResult<[Images; 3]> {
    use embedded::*;
    let files = [
        MNIST_TRAIN_IMAGES,
        MNIST_TRAIN_LABELS,
        MNIST_TEST_IMAGES,
        MNIST_TEST_LABELS,
    ];
    image_splits(cfg, files, TaskId::Mnist.stream())
}

/// Fashion-MNIST splits: validation carved from the training images.
pub(super) fn fashion_splits(cfg: &SuiteConfig) -> DataResult<[Images; 3]> {
    use embedded::*;
    let files = [
        FASHION_TRAIN_IMAGES,
        FASHION_TRAIN_LABELS,
        FASHION_TEST_IMAGES,
        FASHION_TEST_LABELS,
    ];
    image_splits(cfg, files, TaskId::FashionMnist.stream())
}

/// An image task: pixels / 255, standardized.
pub(super) fn image_task(
    task: TaskId,
    cfg: &SuiteConfig,
    splits: [Images; 3],
) -> DataResult<Dataset> {
    let side = splits[0].side;
    let raw = splits.map(|s| RawSplit {
        inputs: s.pixels.iter().map(|&p| p as f32 / 255.0).collect(),
        len: s.labels.len(),
        labels: Labels::Class(s.labels),
    });
    assemble(task, cfg, Modality::Image, vec![1, side, side], raw)
}

/// A Moving-MNIST task: one clip per digit of each split; the class task bounces, the
/// direction task moves straight.
pub(super) fn video_task(
    task: TaskId,
    cfg: &SuiteConfig,
    splits: [Images; 3],
) -> DataResult<Dataset> {
    let motion = match task {
        TaskId::MovingMnistDirection => Motion::Straight,
        _ => Motion::Bounce,
    };
    let raw = [0, 1, 2].map(|k| -> DataResult<RawSplit> {
        let (s, mut r) = (&splits[k], rng(cfg.seed, task.stream() + k as u64));
        let (mut inputs, mut labels) = (Vec::new(), Vec::new());
        for (i, &digit) in s.labels.iter().enumerate() {
            let clip = generate(s.image(i), &cfg.video, motion, &mut r)?;
            inputs.extend(clip.pixels.iter().map(|&p| p as f32 / 255.0));
            labels.push(match motion {
                Motion::Straight => clip.direction,
                Motion::Bounce => digit,
            });
        }
        let len = labels.len();
        Ok(RawSplit {
            inputs,
            labels: Labels::Class(labels),
            len,
        })
    });
    let [train, validation, test] = raw;
    let raw = [train?, validation?, test?];
    let c = cfg.video.canvas;
    assemble(
        task,
        cfg,
        Modality::Video,
        vec![cfg.video.frames, 1, c, c],
        raw,
    )
}
