//! The data layer: readers for the embedded files (gzipped IDX images, WAV clip packs),
//! raw video frame stacks, audio features (resampling, log-mel spectrograms), the run-time
//! generators (Moving-MNIST, drum mixtures, arrow-of-time clips from real footage), the default
//! co-training suite with fixed train / validation / test splits, and tasks from the user's own
//! folders of images, audio clips and frames ([`folder`]), held in memory or decoded batch by
//! batch ([`stream`]). Everything is pure Rust over `Vec<f32>` plus shapes (with the `ffmpeg`
//! feature, video files and compressed audio are decoded by the `ffmpeg` program); nothing is
//! downloaded.

pub mod arrow_of_time;
pub mod au;
pub mod audio;
pub mod audio_file;
pub mod augment;
pub mod biquad;
pub mod class_list;
pub mod dataset;
pub mod drums;
pub mod embedded;
pub mod error;
pub mod export;
#[cfg(feature = "ffmpeg")]
pub mod ffmpeg;
pub mod fft;
pub mod flac;
pub mod folder;
pub mod frames;
pub mod glyph;
pub mod idx;
pub mod image_file;
pub mod ink;
pub mod input_file;
pub mod lighting;
pub mod listing;
pub mod moving_mnist;
pub mod pack;
pub mod recording;
pub mod resample;
pub mod room;
pub mod spectrogram;
pub mod stream;
pub mod suite;
pub mod task_info;
pub mod video_file;
pub mod vorbis;
pub mod wav;

#[cfg(test)]
mod test_util;

pub use class_list::class_list;
pub use dataset::{Dataset, Labels, Modality, RawSplit, Split, Standardization};
pub use error::{DataError, DataResult};
pub use folder::{build_folder_task, plan_folder_task, FolderSpec, PlannedFolderTask};
pub use suite::{build_suite, build_task, default_suite, BandMeanRemoval, SuiteConfig, TaskId};
