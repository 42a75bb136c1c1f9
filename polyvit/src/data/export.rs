//! Writing an embedded task out as a folder of ordinary files in the layout folder tasks read
//! (`train/`, `val/`, `test/`, one subfolder per class): PNG images, clip folders of PNG frames,
//! or WAV clips. A way to see the data, and a worked example of training on one's own folders.

use super::dataset::{Dataset, Labels, Modality, Split};
use super::embedded;
use super::error::{DataError, DataResult};
use super::pack::{parse_pack_gz, Clip};
use super::suite::class_names::class_names;
use super::suite::{build_task, SuiteConfig, TaskId};
use super::wav::encode_wav16;
use image::{GrayImage, RgbImage};
use std::path::{Path, PathBuf};

fn io_error(path: &Path, e: impl std::fmt::Display) -> DataError {
    DataError::new(path.display().to_string(), format!("cannot write: {e}"))
}

fn create_dir(path: &Path) -> DataResult<()> {
    std::fs::create_dir_all(path).map_err(|e| io_error(path, e))
}

/// One `[C, H, W]` input of a standardized dataset back as 8-bit pixels, saved as a PNG.
fn save_image(dataset: &Dataset, x: &[f32], shape: &[usize], path: &Path) -> DataResult<()> {
    let s = dataset.standardization;
    let pixel = |v: f32| ((v * s.std + s.mean) * 255.0).round().clamp(0.0, 255.0) as u8;
    let (c, h, w) = (shape[0], shape[1] as u32, shape[2] as u32);
    let plane = (h * w) as usize;
    let saved = if c == 1 {
        GrayImage::from_raw(w, h, x.iter().map(|&v| pixel(v)).collect())
            .expect("one plane of pixels")
            .save(path)
    } else {
        let rgb = (0..plane).flat_map(|i| (0..3).map(move |k| pixel(x[k * plane + i])));
        RgbImage::from_raw(w, h, rgb.collect())
            .expect("three planes of pixels")
            .save(path)
    };
    saved.map_err(|e| io_error(path, e))
}

/// Writes one split of an image or video task into `dir/<class>/`.
fn export_split(dataset: &Dataset, split: &Split, dir: &Path) -> DataResult<usize> {
    let Labels::Class(labels) = &split.labels else {
        return Err(DataError::new(
            &dataset.name,
            "a multi-label task does not fit a folder of class subfolders",
        ));
    };
    for (i, &label) in labels.iter().enumerate() {
        let class_dir = dir.join(&dataset.class_names[label]);
        let x = split.example(i)?;
        if dataset.modality == Modality::Video {
            let clip = class_dir.join(format!("{i:05}"));
            create_dir(&clip)?;
            let frame_shape = &dataset.shape[1..];
            let frame_len: usize = frame_shape.iter().product();
            for (t, frame) in x.chunks_exact(frame_len).enumerate() {
                save_image(
                    dataset,
                    frame,
                    frame_shape,
                    &clip.join(format!("{t:02}.png")),
                )?;
            }
        } else {
            create_dir(&class_dir)?;
            save_image(
                dataset,
                &x,
                &dataset.shape,
                &class_dir.join(format!("{i:05}.png")),
            )?;
        }
    }
    Ok(labels.len())
}

/// Writes clips as WAV files into `dir/<class>/`.
fn export_clips(clips: &[Clip], classes: &[String], dir: &Path) -> DataResult<usize> {
    for (i, clip) in clips.iter().enumerate() {
        let class_dir = dir.join(&classes[clip.label]);
        create_dir(&class_dir)?;
        let path = class_dir.join(format!("{i:05}.wav"));
        std::fs::write(&path, encode_wav16(clip.wav.sample_rate, &clip.wav.samples))
            .map_err(|e| io_error(&path, e))?;
    }
    Ok(clips.len())
}

/// Why `task` cannot be written as a folder of class subfolders, if it cannot.
fn not_exportable(task: TaskId) -> Option<&'static str> {
    match task {
        TaskId::Drums => Some(
            "its examples are mixed from one-shots and turned into log-mel features as the \
             suite is built, so there are no recordings to write out (a folder of one's own \
             multi-label recordings is read with a labels.csv: docs/folders.md)",
        ),
        TaskId::LanguageId => Some(
            "not embedded: the full suite holds it (polyvit/scripts/fetch_full_suite.sh), \
             already as files",
        ),
        _ => None,
    }
}

/// The task called `name`, if it exports to a folder. An unknown name is an error listing the
/// tasks that do; drums (multi-label) and language ID (full suite only) are refused by name
/// before anything is built.
pub fn task_named(name: &str) -> DataResult<TaskId> {
    let task = TaskId::ALL
        .into_iter()
        .find(|t| t.name() == name)
        .ok_or_else(|| {
            let names: Vec<&str> = TaskId::ALL
                .iter()
                .filter(|&&t| not_exportable(t).is_none())
                .map(|t| t.name())
                .collect();
            DataError::new(
                name,
                format!(
                    "no such embedded task to export (there are {})",
                    names.join(", ")
                ),
            )
        })?;
    match not_exportable(task) {
        Some(why) => Err(DataError::new(name, why)),
        None => Ok(task),
    }
}

/// Writes `task` of the default suite into `dir`, which must not exist yet or be an empty
/// folder (the files go to a temporary sibling folder first, renamed to `dir` when complete, so
/// a failure leaves nothing half-written). Image and video tasks keep their three splits;
/// spoken digits are the embedded synthesized clips (unaugmented) in `train/` and the real
/// recordings in `test/`. Returns the number of examples written.
pub fn export_task(task: TaskId, dir: &Path) -> DataResult<usize> {
    if let Some(why) = not_exportable(task) {
        return Err(DataError::new(task.name(), why));
    }
    // `symlink_metadata`, not `exists`: a link whose target is gone exists too.
    let empty_folder = match std::fs::symlink_metadata(dir) {
        Err(_) => false,
        Ok(meta)
            if meta.is_dir() && std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_none()) =>
        {
            true
        }
        Ok(meta) => {
            let what = match meta.file_type() {
                t if t.is_dir() => "already exists and is not an empty folder",
                t if t.is_symlink() => "already exists, as a link",
                _ => "is a file",
            };
            return Err(DataError::new(
                dir.display().to_string(),
                format!("{what}; export into a new or empty folder"),
            ));
        }
    };
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let partial = dir.with_file_name(format!(".{name}.partial-{}", std::process::id()));
    // Where the temporary folder cannot be made, the error names the user's folder, not it.
    std::fs::create_dir_all(&partial).map_err(|e| {
        DataError::new(
            dir.display().to_string(),
            format!("cannot create the folder: {e}"),
        )
    })?;
    let written = write_task(task, &partial).and_then(|n| {
        // The empty folder gives way to the complete one (not every system's rename replaces
        // a folder).
        if empty_folder {
            std::fs::remove_dir(dir).map_err(|e| io_error(dir, e))?;
        }
        std::fs::rename(&partial, dir)
            .map(|()| n)
            .map_err(|e| io_error(dir, e))
    });
    if written.is_err() {
        let _ = std::fs::remove_dir_all(&partial);
    }
    written
}

fn write_task(task: TaskId, dir: &Path) -> DataResult<usize> {
    let cfg = SuiteConfig::default();
    if task == TaskId::SpokenDigits {
        let classes = class_names(task, &cfg);
        let pack = |f: embedded::EmbeddedFile| parse_pack_gz(f.bytes, f.path);
        return Ok(export_clips(
            &pack(embedded::SPEECH_SYNTHETIC)?,
            &classes,
            &dir.join("train"),
        )? + export_clips(
            &pack(embedded::SPEECH_ASTERISK)?,
            &classes,
            &dir.join("test"),
        )?);
    }
    let dataset = build_task(task, &cfg)?;
    let splits: [(&Split, PathBuf); 3] = [
        (&dataset.train, dir.join("train")),
        (&dataset.validation, dir.join("val")),
        (&dataset.test, dir.join("test")),
    ];
    let mut written = 0;
    for (split, split_dir) in splits {
        written += export_split(&dataset, split, &split_dir)?;
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::dataset::RawSplit;
    use crate::data::folder::{build_folder_task, FolderSpec};
    use crate::data::test_util::temp_path;

    /// A raw split of `n` examples of `len` pixel values (multiples of 1/255), classes 0, 1, 0, …
    fn raw(n: usize, len: usize, offset: usize) -> RawSplit {
        let inputs = (0..n * len)
            .map(|i| ((i * 37 + offset) % 256) as f32 / 255.0)
            .collect();
        RawSplit {
            inputs,
            labels: Labels::Class((0..n).map(|i| i % 2).collect()),
            len: n,
        }
    }

    /// Exported image and video tasks read back as folder tasks with the same inputs.
    #[test]
    fn exported_folders_read_back_unchanged() {
        let classes = vec!["even".to_string(), "odd".to_string()];
        for (modality, shape) in [
            (Modality::Image, vec![3, 4, 5]),
            (Modality::Video, vec![3, 1, 4, 4]),
        ] {
            let len: usize = shape.iter().product();
            let splits = [raw(6, len, 0), raw(2, len, 1), raw(2, len, 2)];
            let task = Dataset::standardized("t", modality, shape.clone(), classes.clone(), splits)
                .unwrap();
            let dir = temp_path(&format!("export-{modality:?}"));
            let _ = std::fs::remove_dir_all(&dir);
            for (split, name) in [
                (&task.train, "train"),
                (&task.validation, "val"),
                (&task.test, "test"),
            ] {
                export_split(&task, split, &dir.join(name)).unwrap();
            }
            let mut spec = FolderSpec::new(&dir);
            spec.size = Some([4, shape[shape.len() - 1]]);
            let back = build_folder_task("t", &spec, &[&task], &|_, _| {}).unwrap();
            assert_eq!(back.shape, task.shape);
            assert_eq!(back.class_names, classes);
            // Files are read class by class; compare the examples of each class in order.
            for (a, b) in [(&task.train, &back.train), (&task.test, &back.test)] {
                let by_class = |s: &Split| {
                    let Labels::Class(l) = &s.labels else {
                        unreachable!()
                    };
                    let mut rows: Vec<(usize, Vec<f32>)> = (0..s.len())
                        .map(|i| (l[i], s.example(i).unwrap()))
                        .collect();
                    rows.sort_by_key(|r| r.0);
                    rows
                };
                for ((ca, xa), (cb, xb)) in by_class(a).iter().zip(by_class(b)) {
                    assert_eq!(*ca, cb);
                    let worst = xa
                        .iter()
                        .zip(&xb)
                        .map(|(p, q)| (p - q).abs())
                        .fold(0.0, f32::max);
                    assert!(worst < 1e-4, "{modality:?}: inputs differ by {worst}");
                }
            }
        }
    }

    #[test]
    fn spoken_digits_export_as_wav_clips() {
        let dir = temp_path("export-speech");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap(); // An empty folder is taken as a new one.
        assert_eq!(export_task(TaskId::SpokenDigits, &dir).unwrap(), 1960 + 60);
        let wav = crate::data::wav::read_wav(
            &dir.join("test/7").join(
                std::fs::read_dir(dir.join("test/7"))
                    .unwrap()
                    .next()
                    .unwrap()
                    .unwrap()
                    .file_name(),
            ),
        )
        .unwrap();
        assert_eq!(wav.sample_rate, 8000);
        let err = export_task(TaskId::SpokenDigits, &dir).unwrap_err();
        assert!(err.problem.contains("not an empty folder"), "{err}");
        let file = dir.join("labels.txt");
        std::fs::write(&file, b"x").unwrap();
        let err = export_task(TaskId::SpokenDigits, &file).unwrap_err();
        assert_eq!(err.problem, "is a file; export into a new or empty folder");
        assert!(task_named("mnist").is_ok());
        let err = task_named("cifar").unwrap_err();
        assert!(
            err.problem
                .contains("no such embedded task to export (there are mnist,")
                && !err.problem.contains("drums"),
            "{err}"
        );
        let err = task_named("drums").unwrap_err();
        assert!(err.problem.contains("multi-label"), "{err}");
        let err = task_named("language_id").unwrap_err();
        assert!(err.problem.contains("the full suite holds it"), "{err}");
        std::fs::remove_dir_all(&dir).ok();
    }

    /// A folder that cannot be made is named as the user gave it, and nothing is left behind;
    /// a broken link in its place counts as taken.
    #[cfg(unix)]
    #[test]
    fn a_failed_export_names_the_folder_and_leaves_nothing() {
        let root = temp_path("export-fails");
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("a-file"), b"x").unwrap();
        let inside_a_file = root.join("a-file").join("digits");
        let err = export_task(TaskId::Mnist, &inside_a_file).unwrap_err();
        assert_eq!(err.origin, inside_a_file.display().to_string());
        assert!(err.problem.starts_with("cannot create the folder"), "{err}");
        let link = root.join("dangling");
        std::os::unix::fs::symlink(root.join("nowhere"), &link).unwrap();
        let err = export_task(TaskId::Mnist, &link).unwrap_err();
        assert!(err.problem.contains("already exists"), "{err}");
        let left: Vec<_> = std::fs::read_dir(&root).unwrap().collect();
        assert_eq!(left.len(), 2, "only the file and the link: {left:?}");
        std::fs::remove_dir_all(&root).ok();
    }
}
