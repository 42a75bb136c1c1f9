//! The data layer: readers for the embedded files (gzipped IDX images, WAV clip packs),
//! raw video frame stacks, audio features (resampling, log-mel spectrograms), the run-time
//! generators (Moving-MNIST, drum mixtures, arrow-of-time clips from real footage), and the default co-training suite with fixed train / validation / test
//! splits. Everything is pure Rust over `Vec<f32>` plus shapes; nothing is downloaded.

pub mod arrow_of_time;
pub mod audio;
pub mod augment;
pub mod dataset;
pub mod drums;
pub mod embedded;
pub mod error;
pub mod fft;
pub mod frames;
pub mod idx;
pub mod moving_mnist;
pub mod pack;
pub mod resample;
pub mod spectrogram;
pub mod suite;
pub mod wav;

#[cfg(test)]
mod test_util;

pub use dataset::{Dataset, Labels, Modality, Split, Standardization};
pub use error::{DataError, DataResult};
pub use suite::{build_suite, build_task, default_suite, SuiteConfig, TaskId};
