//! Tasks from the user's own folders (the ImageFolder layout): one subfolder per class, holding
//! images, audio clips (WAV, FLAC, Ogg Vorbis, ...) or clip folders of frames, optionally inside
//! `train/`, `val/` (or `validation/`) and `test/`; splits the folder does not give are carved
//! from the training files per class by a seeded shuffle ([`FolderSpec::split_seed`]). The modality
//! comes from the files (one per task). A label file `labels.csv` or `labels.json` at the root
//! makes a multi-label task instead (see the `labels` module).
//!
//! Every file is decoded once, on every core, before training (the first pass): that checks
//! them all, so unreadable, corrupt or misplaced files are one error naming each of them (up to
//! [`Problems::NAMED`]) and nothing is built, and it gives the training split's statistics, by which every input is standardized as
//! for the embedded tasks. The decoded splits are then held in memory, or, when they would not
//! fit (see [`Cache`]), dropped: the task keeps its file lists and decodes each batch when the
//! training loop asks for it ([`crate::data::stream`]). The statistics are merged example by
//! example in folder order, so both ways give the same numbers.

mod cache;
mod carve;
mod labels;
mod scan;
mod spec;
#[cfg(test)]
mod tests;

pub use cache::Cache;
pub use labels::label_file;
pub use scan::{labelled_folder, scan, split_named, Example, Scan};
pub use spec::FolderSpec;

use super::audio::AudioWindow;
use super::dataset::{Dataset, Labels, Modality, Moments, Split};
use super::error::{DataError, DataResult, Problems};
use super::image_file::{colour_channels, Fit};
use super::input_file::{clip_frames, InputFormat};
use super::spectrogram::MelConfig;
use super::stream::{load_in_parallel, StreamedInputs};
use cache::default_budget;
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Image side of a folder task when no other image task sets it (the default image patch, 7,
/// tiles it).
pub const DEFAULT_IMAGE_SIDE: usize = 28;
/// Video frames and frame side of a folder task when no other video task sets them.
pub const DEFAULT_VIDEO: [usize; 2] = [8, 32];
/// Log-mel frames of a folder audio task when no other audio task sets them.
pub const DEFAULT_AUDIO_FRAMES: usize = 64;

/// The colour channels of most of `images` (3 on a tie). A file whose channels cannot be read
/// has no say: the first pass names it with every other file it cannot decode.
fn majority_channels(images: &[PathBuf]) -> usize {
    let channels: Vec<DataResult<usize>> = images.par_iter().map(|p| colour_channels(p)).collect();
    let grey = channels.iter().filter(|c| matches!(c, Ok(1))).count();
    let read = channels.iter().filter(|c| c.is_ok()).count();
    if 2 * grey > read {
        1
    } else {
        3
    }
}

/// The images whose colour channels stand for a task's files: every image of an image task, the
/// first frame of each folder of frames of a video task (video files count as colour: only
/// folders of frames are looked at; a folder whose frames cannot be listed is left to the first
/// pass, as in [`majority_channels`]).
fn channel_samples(scan: &Scan) -> Vec<PathBuf> {
    let examples = scan.splits.iter().flatten().map(|e| e.path.clone());
    match scan.modality {
        Modality::Image => examples.collect(),
        Modality::Video => examples
            .filter(|clip| clip.is_dir())
            .filter_map(|clip| Some(clip_frames(&clip).ok()?[0].clone()))
            .collect(),
        Modality::Audio => Vec::new(),
    }
}

/// The channels of a folder task: the spec's, else `like`'s, else those of most of `images()`.
fn channels(
    spec: &FolderSpec,
    like: Option<usize>,
    images: impl FnOnce() -> Vec<PathBuf>,
) -> usize {
    spec.channels
        .or(like)
        .unwrap_or_else(|| majority_channels(&images()))
}

/// The input shape of a folder task: the spec's sizes, else those of `like` (another task of the
/// same modality in the run), else the defaults; channels from the spec, `like`, or most files.
fn input_shape(scan: &Scan, spec: &FolderSpec, like: Option<&[usize]>) -> DataResult<Vec<usize>> {
    let refuse = |problem: &str| Err(DataError::new(spec.path.display().to_string(), problem));
    Ok(match scan.modality {
        Modality::Audio => {
            if spec.size.is_some() || spec.channels.is_some() || spec.fit != Fit::default() {
                return refuse(
                    "size, channels and fit are for images and video; audio takes only frames",
                );
            }
            let frames = spec
                .frames
                .or(like.map(|s| s[1]))
                .unwrap_or(DEFAULT_AUDIO_FRAMES);
            vec![1, frames, MelConfig::default().n_mels]
        }
        Modality::Image | Modality::Video if spec.window.is_some() => {
            return refuse("window is for audio; images and video take size, channels and fit");
        }
        Modality::Image => {
            if spec.frames.is_some() {
                return refuse(
                    "frames is for video and audio; an image task takes size and channels",
                );
            }
            let side = DEFAULT_IMAGE_SIDE;
            let [h, w] = spec
                .size
                .or(like.map(|s| [s[1], s[2]]))
                .unwrap_or([side, side]);
            let c = channels(spec, like.map(|s| s[0]), || channel_samples(scan));
            vec![c, h, w]
        }
        Modality::Video => {
            let [frames, side] = DEFAULT_VIDEO;
            let t = spec.frames.or(like.map(|s| s[0])).unwrap_or(frames);
            let [h, w] = spec
                .size
                .or(like.map(|s| [s[2], s[3]]))
                .unwrap_or([side, side]);
            let c = channels(spec, like.map(|s| s[1]), || channel_samples(scan));
            vec![t, c, h, w]
        }
    })
}

/// The targets of `examples`: one class each, or multi-hot rows over `classes`.
pub fn labels_of(examples: &[Example], classes: usize, multi_label: bool) -> Labels {
    if !multi_label {
        return Labels::Class(examples.iter().map(|e| e.labels[0]).collect());
    }
    let mut hot = vec![0.0; examples.len() * classes];
    for (i, e) in examples.iter().enumerate() {
        e.labels.iter().for_each(|&c| hot[i * classes + c] = 1.0);
    }
    Labels::MultiHot(hot)
}

/// Decoded bytes the first pass aims to hold at a time when it keeps nothing.
const PASS_BYTES: usize = 64 << 20;

/// Files the first pass decodes at a time: [`PASS_BYTES`] worth, at least two per core (so
/// every core has work) and at most 1,024.
fn pass_chunk(example_len: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (PASS_BYTES / (4 * example_len).max(1))
        .max(2 * cores)
        .min(1024)
}

/// The first pass over `examples`: decodes each (on every core, [`pass_chunk`] at a time) and
/// merges the moments of each example in order; the raw inputs are kept only when `keep`. Every
/// file that fails to decode is added to `problems`, in folder order, and the pass goes on.
fn first_pass(
    format: &InputFormat,
    examples: &[Example],
    keep: bool,
    progress: &Progress,
    problems: &mut Problems,
) -> DataResult<(Vec<f32>, Moments)> {
    let example_len: usize = format.shape().iter().product();
    let mut kept = Vec::with_capacity(if keep {
        examples.len() * example_len
    } else {
        0
    });
    let mut moments = Moments::default();
    for chunk in examples.chunks(pass_chunk(example_len)) {
        let paths: Vec<&Path> = chunk.iter().map(|e| e.path.as_path()).collect();
        for input in load_in_parallel(format, &paths, &|| progress.file_done())? {
            let Some(input) = problems.keep(input) else {
                continue;
            };
            moments.merge(Moments::of(&input));
            if keep {
                kept.extend(input);
            }
        }
    }
    Ok((kept, moments))
}

/// Counts decoded files for a caller's progress report.
struct Progress<'a> {
    done: AtomicUsize,
    total: usize,
    report: &'a (dyn Fn(usize, usize) + Sync),
}

impl Progress<'_> {
    fn file_done(&self) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        (self.report)(done, self.total);
    }
}

/// A folder task scanned and given its input shape, before any of its files is decoded: what
/// a caller may check (the shape against the model's patches) before the first pass.
pub struct PlannedFolderTask<'a> {
    name: &'a str,
    spec: &'a FolderSpec,
    scan: Scan,
    shape: Vec<usize>,
    format: InputFormat,
    /// The task whose grey input shape it took, when most of its files are in colour.
    greyed_by: Option<String>,
}

/// Scans the folder of `spec` for the task `name` and chooses its input shape. `others` are the
/// run's other tasks: the first of the same modality lends its input shape where the spec sets
/// none.
pub fn plan_folder_task<'a>(
    name: &'a str,
    spec: &'a FolderSpec,
    others: &[&Dataset],
) -> DataResult<PlannedFolderTask<'a>> {
    let origin = spec.path.display().to_string();
    spec.validate().map_err(|p| DataError::new(&origin, p))?;
    let scan = scan(spec)?;
    let lender = others.iter().find(|d| d.modality == scan.modality);
    let like = lender.map(|d| d.shape.as_slice());
    let shape = input_shape(&scan, spec, like)?;
    let window = match scan.modality {
        Modality::Audio => spec.window.unwrap_or(AudioWindow::Loudest),
        Modality::Image | Modality::Video => AudioWindow::Middle,
    };
    let format = InputFormat::new(scan.modality, &shape, spec.fit)
        .and_then(|format| format.with_audio_window(window))
        .map_err(|e| DataError::new(&origin, e.problem))?;
    let channels = match scan.modality {
        Modality::Image => Some(shape[0]),
        Modality::Video => Some(shape[1]),
        Modality::Audio => None,
    };
    let greyed_by = match lender {
        Some(lender)
            if channels == Some(1)
                && spec.channels.is_none()
                && majority_channels(&channel_samples(&scan)) == 3 =>
        {
            Some(lender.name.clone())
        }
        _ => None,
    };
    Ok(PlannedFolderTask {
        name,
        spec,
        scan,
        shape,
        format,
        greyed_by,
    })
}

impl PlannedFolderTask<'_> {
    /// The modality of the task's files (one for all of them), which decides the tokenizer
    /// that reads them.
    pub fn modality(&self) -> Modality {
        self.scan.modality
    }

    /// One example's shape (as [`Dataset::shape`]).
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The grey task of the run whose input shape this one took, when most of its files are in
    /// colour: it reads them in grey (the tasks of one modality share a tokenizer, and so its
    /// input shape).
    pub fn greyed_by(&self) -> Option<&str> {
        self.greyed_by.as_deref()
    }

    /// Decodes every file (the first pass) and builds the task. `progress` is called with
    /// (files decoded, files in all) after each file, from any thread.
    pub fn build(self, progress: &(dyn Fn(usize, usize) + Sync)) -> DataResult<Dataset> {
        let PlannedFolderTask {
            name,
            spec,
            scan,
            shape,
            format,
            ..
        } = self;
        let (classes, multi) = (scan.classes.len(), scan.multi_label);
        let [train, validation, test] = &scan.splits;
        let progress = Progress {
            done: AtomicUsize::new(0),
            total: train.len() + validation.len() + test.len(),
            report: progress,
        };
        let example_bytes = 4 * format.shape().iter().product::<usize>() as u64;
        let budget = || {
            spec.memory_budget_mib
                .map_or_else(default_budget, |mib| mib.saturating_mul(1 << 20))
        };
        let keep = !spec
            .cache
            .streams(progress.total as u64 * example_bytes, budget);
        let mut problems = Problems::default();
        let mut pass =
            |examples: &[Example]| first_pass(&format, examples, keep, &progress, &mut problems);
        let passes = [
            (train.as_slice(), pass(train)?),
            (validation.as_slice(), pass(validation)?),
            (test.as_slice(), pass(test)?),
        ];
        problems.into_result(&spec.path)?;
        let standardization = passes[0].1 .1.standardization();
        let split = |(examples, (mut inputs, _)): (&[Example], (Vec<f32>, Moments))| {
            let labels = labels_of(examples, classes, multi);
            if keep {
                standardization.apply(&mut inputs);
                Split::new(inputs, labels, examples.len(), classes, name)
            } else {
                let files = examples.iter().map(|e| e.path.clone()).collect();
                let inputs = StreamedInputs::new(files, format.clone(), standardization);
                Split::streamed(inputs, labels, classes, name)
            }
        };
        let [train, validation, test] = passes.map(split);
        let splits = [train?, validation?, test?];
        let mut dataset = Dataset::new(
            name,
            scan.modality,
            shape,
            scan.classes,
            standardization,
            splits,
        );
        dataset.audio_window = format.audio_window();
        Ok(dataset)
    }
}

/// Builds the task `name` from the folder of `spec` ([`plan_folder_task`], then
/// [`PlannedFolderTask::build`]).
pub fn build_folder_task(
    name: &str,
    spec: &FolderSpec,
    others: &[&Dataset],
    progress: &(dyn Fn(usize, usize) + Sync),
) -> DataResult<Dataset> {
    plan_folder_task(name, spec, others)?.build(progress)
}
