//! The built-in co-training suite: seven small tasks over three modalities, built
//! deterministically from the embedded files (see `polyvit/data/README.md`) and a seed; or the
//! full suite ([`SuiteConfig::full`]), the same tasks at full size plus spoken-language
//! identification, from a folder written by `polyvit/scripts/fetch_full_suite.sh` (the
//! [`SuiteFiles`] of the configuration say which).
//!
//! The embedded suite:
//!
//! | task | modality | shape | classes | train / validation / test |
//! |---|---|---|---|---|
//! | `mnist` | image | 1×28×28 | 10 | 8,100 / 900 / 1,000 |
//! | `fashion_mnist` | image | 1×28×28 | 10 | 9,000 / 1,000 / 2,000 |
//! | `moving_mnist_class` | video | 8×1×32×32 | 10 | 8,100 / 900 / 1,000 |
//! | `moving_mnist_direction` | video | 8×1×32×32 | 8 | 8,100 / 900 / 1,000 |
//! | `spoken_digits` | audio | 1×64×32 | 10 | 7,056 / 196 / 60 |
//! | `drums` (multi-label) | audio | 1×64×32 | 5 | 4,000 / 200 / 400 |
//! | `arrow_of_time` | video | 8×1×32×32 | 2 | 1,800 / 200 / 500 |
//!
//! Validation is carved from each training file by a seeded shuffle
//! ([`carve_validation`]). Moving-MNIST draws one clip per MNIST
//! digit of the same split (bouncing for the class task, straight for the direction task). Spoken
//! digits train on synthesized voices (espeak-ng, flite and festival; 1,764 clips, each with 3
//! randomly perturbed copies: speed, telephone-like channel, gain, noise, shift; see
//! [`SpeechAugment`]) and test on the 60 real Asterisk recordings. Drum mixtures for train (each
//! one-shot also played 10–25 % faster and slower) and validation use the "train" one-shots, test
//! mixtures the held-out "test" one-shots. Arrow-of-time clips (forward or reversed, stride 1–3)
//! train on the first 80 % of three real videos, validate on their last 20 % and test on a fourth
//! video. Inputs are scaled (pixels / 255, log-mel) and standardized with the training split's mean
//! and standard deviation.
//!
//! The full suite (sizes from `polyvit/scripts/fetch_full_suite.sh`'s build): Fashion-MNIST
//! 54,000 / 6,000 / 10,000; Moving-MNIST with 28×28 digits on a 64×64 canvas (`video`
//! 8×1×64×64); spoken digits trained on 12,200 synthesized clips (one augmented copy each);
//! drums from all the Hydrogen kits (20,000 / 1,000 / 2,000 mixtures); the arrow of time on
//! 64×64 footage (8,000 / 1,000 / 2,000 clips); and `language_id` (5 classes: en, es, fr, it,
//! ru) over the real Asterisk prompts, each cut into ~1 s segments, train and test split by
//! prompt.

mod audio_tasks;
pub mod class_names;
pub mod files;
mod footage_tasks;
mod image_tasks;
#[cfg(test)]
mod tests;

use super::arrow_of_time::ArrowOfTimeConfig;
use super::audio::AudioFeatures;
use super::augment::SpeechAugment;
use super::dataset::{Dataset, Modality, RawSplit};
use super::drums::DrumMixConfig;
use super::error::DataResult;
use super::moving_mnist::MovingMnistConfig;
use super::spectrogram::MelConfig;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::path::PathBuf;

pub use files::{SuiteFile, SuiteFiles};

/// Parameters of the suite; [`Default`] is the documented default suite.
#[derive(Debug, Clone, PartialEq)]
pub struct SuiteConfig {
    /// Seed of every shuffle and generator (each task and split has its own stream).
    pub seed: u64,
    /// Fraction of each training file held out for validation.
    pub validation_fraction: f32,
    /// Moving-MNIST clip parameters.
    pub video: MovingMnistConfig,
    /// Log-mel parameters of both audio tasks.
    pub mel: MelConfig,
    /// Log-mel frames per audio example.
    pub audio_frames: usize,
    /// Waveform augmentation of the spoken-digit training clips (`copies` extra per clip).
    pub speech: SpeechAugment,
    /// Which speech tasks remove each mel band's mean over the frames from their log-mel
    /// examples (before `speech_normalize`).
    pub band_mean_removal: BandMeanRemoval,
    /// Normalize each speech log-mel example to zero mean and unit variance.
    pub speech_normalize: bool,
    /// Drum mixture parameters (`clip_samples` is overridden by the audio window).
    pub drums: DrumMixConfig,
    /// Drum mixtures in the train, validation and test splits.
    pub drum_mixtures: [usize; 3],
    /// Playback rates of the one-shots in the training mixtures (each one-shot is heard at
    /// every rate; 1 = as recorded).
    pub drum_rates: Vec<f32>,
    /// Arrow-of-time clip parameters (frames and side come from `video`).
    pub arrow_of_time: ArrowOfTimeConfig,
    /// Where the files come from: compiled in, or the full suite's folder.
    pub files: SuiteFiles,
}

impl Default for SuiteConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            validation_fraction: 0.1,
            video: MovingMnistConfig::default(),
            mel: MelConfig::default(),
            audio_frames: 64,
            speech: SpeechAugment::default(),
            band_mean_removal: BandMeanRemoval::default(),
            speech_normalize: true,
            drums: DrumMixConfig::default(),
            drum_mixtures: [4000, 200, 400],
            drum_rates: vec![0.8, 0.9, 1.0, 1.1, 1.25],
            arrow_of_time: ArrowOfTimeConfig::default(),
            files: SuiteFiles::Embedded,
        }
    }
}

impl SuiteConfig {
    /// The full suite, read from `dir` (written by `polyvit/scripts/fetch_full_suite.sh`):
    /// Moving-MNIST as in Srivastava et al. (28×28 digits on a 64×64 canvas), the footage at
    /// 64×64, and more mixtures and clips from the larger pools. The other parameters are the
    /// default suite's.
    pub fn full(dir: PathBuf) -> Self {
        let default = SuiteConfig::default();
        SuiteConfig {
            video: MovingMnistConfig {
                canvas: 64,
                digit_scale: 1,
                ..default.video
            },
            drum_mixtures: [20_000, 1_000, 2_000],
            speech: SpeechAugment {
                copies: 1,
                ..default.speech
            },
            arrow_of_time: ArrowOfTimeConfig {
                clips: [8_000, 1_000, 2_000],
                ..default.arrow_of_time
            },
            files: SuiteFiles::Folder(dir),
            ..default
        }
    }

    /// The tasks this suite can build: every task of [`TaskId::ALL`], except the ones whose
    /// files only the full suite has when the files are the embedded ones.
    pub fn tasks(&self) -> Vec<TaskId> {
        TaskId::ALL
            .into_iter()
            .filter(|t| self.files != SuiteFiles::Embedded || !t.needs_full_suite())
            .collect()
    }
}

/// Which speech tasks remove each mel band's mean over its frames from every log-mel example.
///
/// A recording channel (microphone, telephone line, codec) multiplies the spectrum by a fixed
/// response, which adds a constant to each band of a log spectrum; subtracting each band's mean
/// takes it out, and with it the speaker's average spectral colour.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandMeanRemoval {
    /// On by default: spoken digits train on synthesized voices and are tested on real
    /// telephone recordings, so the channel is noise to them (single-task test top-1 0.567 →
    /// 0.700 on the embedded suite when it was introduced).
    pub spoken_digits: bool,
    /// Off by default: each language is spoken by one or two voices, so a voice's spectral
    /// colour, which the band means carry, is a cue to the language (`docs/full-suite.md` has both runs).
    pub language_id: bool,
}

impl Default for BandMeanRemoval {
    fn default() -> Self {
        BandMeanRemoval {
            spoken_digits: true,
            language_id: false,
        }
    }
}

/// The built-in tasks (the embedded suite has all but the ones [`TaskId::needs_full_suite`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskId {
    /// MNIST digits, 10 classes.
    Mnist,
    /// Fashion-MNIST, 10 classes.
    FashionMnist,
    /// Moving-MNIST: which digit moves (10 classes).
    MovingMnistClass,
    /// Moving-MNIST: which way it moves (`video.directions` classes).
    MovingMnistDirection,
    /// Spoken digits, 10 classes.
    SpokenDigits,
    /// Which drums play in a mixture, 5 classes, multi-label.
    Drums,
    /// Real footage played forward (0) or backwards (1).
    ArrowOfTime,
    /// Which language a real Asterisk prompt is spoken in (full suite only).
    LanguageId,
}

impl TaskId {
    /// Every task, in suite order.
    pub const ALL: [TaskId; 8] = [
        TaskId::Mnist,
        TaskId::FashionMnist,
        TaskId::MovingMnistClass,
        TaskId::MovingMnistDirection,
        TaskId::SpokenDigits,
        TaskId::Drums,
        TaskId::ArrowOfTime,
        TaskId::LanguageId,
    ];

    /// The task's name, as in [`Dataset::name`].
    pub fn name(self) -> &'static str {
        match self {
            TaskId::Mnist => "mnist",
            TaskId::FashionMnist => "fashion_mnist",
            TaskId::MovingMnistClass => "moving_mnist_class",
            TaskId::MovingMnistDirection => "moving_mnist_direction",
            TaskId::SpokenDigits => "spoken_digits",
            TaskId::Drums => "drums",
            TaskId::ArrowOfTime => "arrow_of_time",
            TaskId::LanguageId => "language_id",
        }
    }

    /// The augmentations (by configuration key) that would change this task's label instead of
    /// keeping it, and what the label says: a motion's direction turns with the picture and
    /// reverses with time, and a clip played backwards has the other arrow of time.
    pub fn label_changing_augmentations(self) -> (&'static [&'static str], &'static str) {
        match self {
            TaskId::MovingMnistDirection => (
                &["max_rotation", "time_reversal"],
                "which way the digit moves",
            ),
            TaskId::ArrowOfTime => (&["time_reversal"], "whether the clip plays forwards"),
            _ => (&[], ""),
        }
    }

    /// Which tokenizer the task's examples go through.
    pub fn modality(self) -> Modality {
        match self {
            TaskId::Mnist | TaskId::FashionMnist => Modality::Image,
            TaskId::MovingMnistClass | TaskId::MovingMnistDirection | TaskId::ArrowOfTime => {
                Modality::Video
            }
            TaskId::SpokenDigits | TaskId::Drums | TaskId::LanguageId => Modality::Audio,
        }
    }

    /// Whether only the full suite's folder has this task's files.
    pub fn needs_full_suite(self) -> bool {
        self == TaskId::LanguageId
    }

    /// Base of this task's random streams (each split adds a small offset).
    fn stream(self) -> u64 {
        16 * TaskId::ALL.iter().position(|&t| t == self).unwrap_or(0) as u64
    }
}

/// Languages of the language-identification task, in label order (ISO 639-1 codes).
pub const LANGUAGES: [&str; 5] = ["en", "es", "fr", "it", "ru"];

/// Drum instrument classes, in label order.
pub const DRUM_CLASSES: [&str; 5] = ["kick", "snare", "hihat", "tom", "cymbal"];

/// An independent, value-stable random stream.
fn rng(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(stream);
    r
}

/// Splits `0..n` into (train, validation) index lists: a seeded shuffle puts
/// `round(n · fraction)` indices in validation; both lists are returned in ascending order.
pub fn carve_validation<R: Rng>(n: usize, fraction: f32, rng: &mut R) -> (Vec<usize>, Vec<usize>) {
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(rng);
    let n_val = ((n as f32 * fraction).round() as usize).min(n);
    let mut val = order[..n_val].to_vec();
    let mut train = order[n_val..].to_vec();
    val.sort_unstable();
    train.sort_unstable();
    (train, val)
}

/// Standardizes the raw train / validation / test splits with the train statistics and
/// assembles the dataset of `task` (whose class names give the number of classes).
fn assemble(
    task: TaskId,
    cfg: &SuiteConfig,
    modality: Modality,
    shape: Vec<usize>,
    raw: [RawSplit; 3],
) -> DataResult<Dataset> {
    let names = class_names::class_names(task, cfg);
    Dataset::standardized(task.name(), modality, shape, names, raw)
}

/// Builds one task of the suite.
pub fn build_task(task: TaskId, cfg: &SuiteConfig) -> DataResult<Dataset> {
    let audio = || AudioFeatures::new(cfg.mel.clone(), cfg.audio_frames);
    match task {
        TaskId::Mnist => image_tasks::image_task(task, cfg, image_tasks::mnist_splits(cfg)?),
        TaskId::FashionMnist => {
            image_tasks::image_task(task, cfg, image_tasks::fashion_splits(cfg)?)
        }
        TaskId::MovingMnistClass | TaskId::MovingMnistDirection => {
            image_tasks::video_task(task, cfg, image_tasks::mnist_splits(cfg)?)
        }
        TaskId::SpokenDigits => audio_tasks::speech_task(cfg, &audio()?),
        TaskId::Drums => audio_tasks::drums_task(cfg, &audio()?),
        TaskId::ArrowOfTime => footage_tasks::arrow_of_time_task(cfg),
        TaskId::LanguageId => audio_tasks::language_task(cfg, &audio()?),
    }
}

/// Builds every task of the suite ([`SuiteConfig::tasks`]), in [`TaskId::ALL`] order. The
/// tasks are independent (each draws from random streams of its own), so they are built in
/// parallel, with the same result as one after another.
pub fn build_suite(cfg: &SuiteConfig) -> DataResult<Vec<Dataset>> {
    cfg.tasks()
        .into_par_iter()
        .map(|t| build_task(t, cfg))
        .collect()
}

/// The default suite: [`build_suite`] with [`SuiteConfig::default`].
pub fn default_suite() -> DataResult<Vec<Dataset>> {
    build_suite(&SuiteConfig::default())
}
