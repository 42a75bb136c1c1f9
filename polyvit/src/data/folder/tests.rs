//! Folder tasks built from tiny temporary folders: layouts, shapes, splits and every bad-input
//! error with its message.

use super::*;
use crate::data::audio::AudioWindow;
use crate::data::task_info::TaskInfo;
use crate::data::test_util::temp_path;
use crate::data::wav::tests::wav16;
use image::{GrayImage, Luma, Rgb, RgbImage};
use std::path::Path;

/// A fresh, empty folder for one test.
fn fresh(name: &str) -> PathBuf {
    let dir = temp_path(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `n` grey `w×h` PNGs of brightness `level` in `dir/class`.
fn grey_pngs(dir: &Path, class: &str, n: usize, level: u8) {
    let class_dir = dir.join(class);
    std::fs::create_dir_all(&class_dir).unwrap();
    for i in 0..n {
        GrayImage::from_pixel(10, 6, Luma([level]))
            .save(class_dir.join(format!("{i}.png")))
            .unwrap();
    }
}

/// Three reddish 5×9 images in each of `dir/red` and `dir/green`, saved as `extension`.
fn colour_images(dir: &Path, extension: &str) {
    for class in ["red", "green"] {
        std::fs::create_dir_all(dir.join(class)).unwrap();
        for i in 0..3 {
            RgbImage::from_pixel(5, 9, Rgb([200, 10 * i, 0]))
                .save(dir.join(class).join(format!("{i}.{extension}")))
                .unwrap();
        }
    }
}

fn build(spec: &FolderSpec) -> DataResult<Dataset> {
    build_folder_task("mine", spec, &[], &|_, _| {})
}

fn error_of(spec: &FolderSpec) -> DataError {
    build(spec).expect_err("the folder is refused")
}

#[test]
fn class_folders_give_classes_splits_and_the_default_shape() {
    let dir = fresh("folder-basic");
    grey_pngs(&dir, "dark", 10, 20);
    grey_pngs(&dir, "light", 10, 230);
    let reported = std::sync::Mutex::new(Vec::new());
    let record = |done, total| reported.lock().unwrap().push((done, total));
    let d = build_folder_task("mine", &FolderSpec::new(&dir), &[], &record).unwrap();
    let mut reported = reported.into_inner().unwrap();
    reported.sort_unstable();
    assert_eq!(reported, (1..=20).map(|k| (k, 20)).collect::<Vec<_>>());
    assert_eq!((d.name.as_str(), d.modality), ("mine", Modality::Image));
    assert_eq!(d.class_names, ["dark", "light"]);
    assert_eq!(d.shape, [1, DEFAULT_IMAGE_SIDE, DEFAULT_IMAGE_SIDE]);
    // Per class: round(10 · 0.1) = 1 validation, round(10 · 0.2) = 2 test, 7 train.
    assert_eq!(
        (d.train.len(), d.validation.len(), d.test.len()),
        (14, 2, 4)
    );
    assert_eq!(d.train.labels, Labels::Class([[0; 7], [1; 7]].concat()));
    // Standardized with the training statistics: dark below zero, light above.
    assert!(d.train.example(0).unwrap().iter().all(|&v| v < 0.0));
    assert!(d.train.example(13).unwrap().iter().all(|&v| v > 0.0));
    assert_eq!(
        build(&FolderSpec::new(&dir)).unwrap(),
        d,
        "the carving is seeded"
    );
    let mut other_seed = FolderSpec::new(&dir);
    other_seed.split_seed = 7;
    let reseeded = scan(&other_seed).unwrap();
    assert_ne!(
        reseeded.splits,
        scan(&FolderSpec::new(&dir)).unwrap().splits
    );
}

#[test]
fn split_folders_are_used_and_missing_ones_carved() {
    let dir = fresh("folder-splits");
    for class in ["a", "b"] {
        grey_pngs(&dir.join("train"), class, 4, 100);
        grey_pngs(&dir.join("test"), class, 2, 100);
    }
    let s = scan(&FolderSpec::new(&dir)).unwrap();
    let sizes = s.splits.clone().map(|e| e.len());
    // Validation carved from train (1 per class), test as given.
    assert_eq!(sizes, [6, 2, 4]);
    assert!(s.splits[2]
        .iter()
        .all(|e| e.path.starts_with(dir.join("test"))));
    grey_pngs(&dir.join("val"), "zebra", 1, 100);
    let err = scan(&FolderSpec::new(&dir)).unwrap_err();
    assert!(err.origin.ends_with("zebra"), "{err}");
    assert!(
        err.problem
            .contains("not among the training classes (a, b)"),
        "{err}"
    );
    std::fs::write(dir.join("notes.txt"), b"x").unwrap();
    let err = scan(&FolderSpec::new(&dir)).unwrap_err();
    assert!(
        err.origin.ends_with("notes.txt") && err.problem.contains("next to train/"),
        "{err}"
    );
}

/// Split folders are named in any case (`Train/` and `Test/`, as data sets often ship them),
/// not read as two classes; two folders of one split are an error naming both.
#[test]
fn split_folders_are_found_in_any_case() {
    let dir = fresh("folder-splits-case");
    for class in ["a", "b"] {
        grey_pngs(&dir.join("Train"), class, 4, 100);
        grey_pngs(&dir.join("TEST"), class, 2, 100);
    }
    let s = scan(&FolderSpec::new(&dir)).unwrap();
    assert_eq!(s.classes, ["a", "b"]);
    assert_eq!(s.splits.clone().map(|e| e.len()), [6, 2, 4]);
    grey_pngs(&dir.join("train"), "a", 1, 100);
    let err = scan(&FolderSpec::new(&dir)).unwrap_err();
    assert!(
        err.problem
            .contains("two folders of one split: Train/ and train/"),
        "{err}"
    );
}

#[test]
fn colour_images_take_the_majority_channels_and_the_spec_size() {
    let dir = fresh("folder-colour");
    colour_images(&dir, "jpg");
    grey_pngs(&dir, "red", 1, 9);
    let mut spec = FolderSpec::new(&dir);
    spec.size = Some([8, 4]);
    let d = build(&spec).unwrap();
    assert_eq!(d.shape, [3, 8, 4]);
    spec.channels = Some(1);
    assert_eq!(build(&spec).unwrap().shape, [1, 8, 4]);
    // Another image task of the run lends its shape when the spec sets none.
    let like = build(&spec).unwrap();
    let adopted = build_folder_task("other", &FolderSpec::new(&dir), &[&like], &|_, _| {}).unwrap();
    assert_eq!(adopted.shape, [1, 8, 4]);
}

#[test]
fn colour_read_in_grey_is_told_only_when_a_grey_task_lends_its_shape() {
    let dir = fresh("folder-colour-greyed");
    colour_images(&dir, "png");
    let lender = fresh("folder-colour-greyed-lender");
    grey_pngs(&lender, "a", 3, 10);
    grey_pngs(&lender, "b", 3, 200);
    let grey = build(&FolderSpec::new(&lender)).unwrap();
    assert_eq!(grey.shape, [1, 28, 28]);
    let colour = FolderSpec::new(&dir);
    let greyed = |spec: &FolderSpec, others: &[&Dataset]| {
        plan_folder_task("t", spec, others)
            .unwrap()
            .greyed_by()
            .map(str::to_string)
    };
    assert_eq!(greyed(&colour, &[&grey]).as_deref(), Some("mine"));
    // Alone it reads its colour; in grey by its own spec it was asked to.
    assert_eq!(greyed(&colour, &[]), None);
    let mut asked = colour.clone();
    asked.channels = Some(1);
    assert_eq!(greyed(&asked, &[&grey]), None);
    // Grey files beside a grey task lose nothing.
    assert_eq!(greyed(&FolderSpec::new(&lender), &[&grey]), None);
}

#[test]
fn wav_and_clip_folders_are_audio_and_video_tasks() {
    let dir = fresh("folder-audio");
    for (class, freq) in [("low", 300.0), ("high", 2000.0)] {
        std::fs::create_dir_all(dir.join(class)).unwrap();
        for i in 0..3 {
            let tone: Vec<i16> = crate::data::test_util::sine(freq, 8000, 2000 + 100 * i)
                .iter()
                .map(|&v| (v * 10000.0) as i16)
                .collect();
            std::fs::write(dir.join(class).join(format!("{i}.wav")), wav16(8000, &tone)).unwrap();
        }
    }
    let mut spec = FolderSpec::new(&dir);
    spec.frames = Some(16);
    let d = build(&spec).unwrap();
    assert_eq!(
        (d.modality, d.shape.as_slice()),
        (Modality::Audio, &[1, 16, 32][..])
    );
    assert_eq!(d.class_names, ["high", "low"]);
    // What only pictures have is refused for sound, not ignored.
    let mut cropped = spec.clone();
    cropped.fit = crate::data::image_file::Fit::Crop;
    assert!(error_of(&cropped).problem.contains("fit are for images"));

    let dir = fresh("folder-video");
    for class in ["still", "moving"] {
        for clip in 0..3 {
            let clip_dir = dir.join(class).join(format!("clip{clip}"));
            std::fs::create_dir_all(&clip_dir).unwrap();
            for f in 0..5 {
                GrayImage::from_pixel(4, 4, Luma([f * 40]))
                    .save(clip_dir.join(format!("{f}.png")))
                    .unwrap();
            }
        }
    }
    let d = build(&FolderSpec::new(&dir)).unwrap();
    assert_eq!(
        (d.modality, d.shape.as_slice()),
        (Modality::Video, &[8, 1, 32, 32][..])
    );
}

/// A folder of a low and a high tone, each 0.3 s long after 1.5–1.9 s of faint noise and
/// before 0.5 s more: the middle second of each file holds only noise.
fn late_tones(name: &str) -> PathBuf {
    let dir = fresh(name);
    for (class, freq) in [("low", 300.0), ("high", 2000.0)] {
        std::fs::create_dir_all(dir.join(class)).unwrap();
        for i in 0..5 {
            let lead = 12_000 + 800 * i;
            let mut x = crate::data::test_util::noise(lead + 2_400 + 4_000, 0.001, i as u64);
            let tone = crate::data::test_util::sine(freq, 8000, 2_400);
            x[lead..lead + 2_400]
                .iter_mut()
                .zip(&tone)
                .for_each(|(v, t)| *v += 0.5 * t);
            let pcm: Vec<i16> = x.iter().map(|&v| (v * 32767.0) as i16).collect();
            std::fs::write(dir.join(class).join(format!("{i}.wav")), wav16(8000, &pcm)).unwrap();
        }
    }
    dir
}

/// The mel band loudest in the middle frame of each training example of `d`, by class.
fn middle_bands(d: &Dataset) -> Vec<(usize, usize)> {
    let Labels::Class(classes) = &d.train.labels else {
        panic!("one class each")
    };
    let (frames, bands) = (d.shape[1], d.shape[2]);
    (0..d.train.len())
        .map(|i| {
            let x = d.train.example(i).unwrap();
            let frame = &x[frames / 2 * bands..(frames / 2 + 1) * bands];
            let band = (0..bands).max_by(|&a, &b| frame[a].total_cmp(&frame[b]));
            (classes[i], band.unwrap())
        })
        .collect()
}

/// A folder task hears each recording around its loudest sound, not in its middle, unless its
/// spec says `window = "middle"`; the task description carries the window to `predict`.
#[test]
fn an_audio_folder_task_hears_each_file_around_its_loudest_sound() {
    let dir = late_tones("folder-late-tones");
    let d = build(&FolderSpec::new(&dir)).unwrap();
    assert_eq!(d.audio_window, AudioWindow::Loudest);
    assert_eq!(d.class_names, ["high", "low"]);
    let bands = middle_bands(&d);
    // Class 0 is "high" (2 kHz: band 20 or above of 32 up to 4 kHz), class 1 "low" (300 Hz).
    assert!(
        bands
            .iter()
            .all(|&(c, b)| if c == 0 { b >= 20 } else { b <= 6 }),
        "{bands:?}"
    );
    let info = TaskInfo::of(&d, Fit::default()).unwrap();
    assert_eq!(
        info.input_format().unwrap().audio_window(),
        AudioWindow::Loudest
    );
    assert_eq!(
        info.file_format(true).unwrap().audio_window(),
        AudioWindow::Loudest
    );

    let mut middle = FolderSpec::new(&dir);
    middle.window = Some(AudioWindow::Middle);
    let d = build(&middle).unwrap();
    assert_eq!(d.audio_window, AudioWindow::Middle);
    let bands = middle_bands(&d);
    assert!(
        !bands
            .iter()
            .all(|&(c, b)| if c == 0 { b >= 20 } else { b <= 6 }),
        "the middle of the files holds the tones: {bands:?}"
    );

    // Only sound has a window.
    let images = fresh("folder-window-images");
    grey_pngs(&images, "a", 3, 10);
    grey_pngs(&images, "b", 3, 200);
    let mut spec = FolderSpec::new(&images);
    spec.window = Some(AudioWindow::Loudest);
    assert!(error_of(&spec).problem.contains("window is for audio"));
}

#[test]
fn bad_folders_are_refused_with_the_path_and_the_problem() {
    // A corrupt image.
    let dir = fresh("folder-corrupt");
    grey_pngs(&dir, "a", 3, 1);
    grey_pngs(&dir, "b", 3, 1);
    std::fs::write(dir.join("b").join("1.png"), b"not a png").unwrap();
    let err = error_of(&FolderSpec::new(&dir));
    assert!(
        err.origin.ends_with("1.png") && err.problem.contains("not a readable image"),
        "{err}"
    );

    // An empty class folder.
    let dir = fresh("folder-empty-class");
    grey_pngs(&dir, "a", 3, 1);
    std::fs::create_dir_all(dir.join("b")).unwrap();
    let err = error_of(&FolderSpec::new(&dir));
    assert!(
        err.origin.ends_with("b") && err.problem == "empty class folder",
        "{err}"
    );

    // Too few examples to carve validation and test splits.
    let dir = fresh("folder-too-few");
    grey_pngs(&dir, "a", 3, 1);
    grey_pngs(&dir, "b", 2, 1);
    let err = error_of(&FolderSpec::new(&dir));
    assert!(err.origin.ends_with("b"), "{err}");
    assert!(
        err.problem
            .contains("class b has 2 examples: too few to carve a validation and a test example"),
        "{err}"
    );

    // A split folder given but empty (it would score as 0.000).
    let dir = fresh("folder-empty-split");
    for split in ["train", "test"] {
        grey_pngs(&dir.join(split), "a", 3, 1);
        grey_pngs(&dir.join(split), "b", 3, 9);
    }
    std::fs::create_dir_all(dir.join("val")).unwrap();
    let err = error_of(&FolderSpec::new(&dir));
    assert!(
        err.origin.ends_with("val") && err.problem.contains("holds no examples"),
        "{err}"
    );

    // Mixed modalities: both files are named.
    let dir = fresh("folder-mixed");
    grey_pngs(&dir, "a", 3, 1);
    std::fs::create_dir_all(dir.join("b")).unwrap();
    std::fs::write(dir.join("b").join("x.wav"), wav16(8000, &[0; 100])).unwrap();
    let err = error_of(&FolderSpec::new(&dir));
    assert!(err.problem.contains("mixed modalities"), "{err}");
    assert!(
        err.problem.contains("0.png is an image") && err.problem.contains("x.wav is audio"),
        "{err}"
    );

    // A corrupt WAV file.
    let dir = fresh("folder-bad-wav");
    for class in ["a", "b"] {
        std::fs::create_dir_all(dir.join(class)).unwrap();
        for i in 0..3 {
            std::fs::write(
                dir.join(class).join(format!("{i}.wav")),
                wav16(8000, &[1; 50]),
            )
            .unwrap();
        }
    }
    std::fs::write(dir.join("a").join("2.wav"), &wav16(8000, &[1; 50])[..30]).unwrap();
    let err = error_of(&FolderSpec::new(&dir));
    assert!(
        err.origin.ends_with("2.wav") && err.problem.contains("truncated"),
        "{err}"
    );

    // A file of no known kind, a file outside the class folders, one class, no folder.
    let dir = fresh("folder-stray");
    grey_pngs(&dir, "a", 3, 1);
    grey_pngs(&dir, "b", 3, 1);
    std::fs::write(dir.join("a").join("notes.txt"), b"x").unwrap();
    let err = error_of(&FolderSpec::new(&dir));
    assert!(
        err.origin.ends_with("notes.txt") && err.problem.starts_with("not an image (png"),
        "{err}"
    );
    std::fs::remove_file(dir.join("a").join("notes.txt")).unwrap();
    // An empty folder, and a folder of folders, in a class folder: each said for what it is.
    let empty = dir.join("a").join("clip");
    std::fs::create_dir_all(&empty).unwrap();
    let err = error_of(&FolderSpec::new(&dir));
    assert!(
        err.origin.ends_with("clip") && err.problem.starts_with("an empty folder"),
        "{err}"
    );
    std::fs::create_dir_all(empty.join("deeper")).unwrap();
    let err = error_of(&FolderSpec::new(&dir));
    assert!(
        err.origin.ends_with("clip") && err.problem.starts_with("a folder without frames"),
        "{err}"
    );
    std::fs::remove_dir_all(&empty).unwrap();
    std::fs::write(dir.join("README"), b"x").unwrap();
    let err = error_of(&FolderSpec::new(&dir));
    assert!(
        err.origin.ends_with("README") && err.problem.contains("not in a class folder"),
        "{err}"
    );
    let dir = fresh("folder-one-class");
    grey_pngs(&dir, "a", 3, 1);
    let err = error_of(&FolderSpec::new(&dir));
    assert!(err.problem.contains("only one class folder (a)"), "{err}");
    let err = error_of(&FolderSpec::new(dir.join("missing")));
    assert_eq!(err.problem, "no such folder", "{err}");
    let err = error_of(&FolderSpec::new(dir.join("a").join("0.png")));
    assert!(err.problem.starts_with("not a folder"), "{err}");
    // Class names that are not UTF-8 (a Latin-1 archive unpacked on Linux) would all read as
    // `caf�`, and one class's test examples be labelled as the other's.
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let dir = fresh("folder-latin1-classes");
        for name in [b"caf\xe9", b"caf\xe8"] {
            let class_dir = dir.join(std::ffi::OsStr::from_bytes(name));
            std::fs::create_dir_all(&class_dir).unwrap();
            for i in 0..3 {
                GrayImage::from_pixel(10, 6, Luma([i * 40]))
                    .save(class_dir.join(format!("{i}.png")))
                    .unwrap();
            }
        }
        let err = error_of(&FolderSpec::new(&dir));
        assert!(
            err.problem.starts_with("2 problems:") && err.problem.contains("must be text (UTF-8)"),
            "{err}"
        );
    }
}

/// Every bad entry of a folder is named in one run: misplaced, empty and unknown entries
/// together when the folders are read, and, those fixed, the corrupt files of every split
/// together when they are decoded.
#[test]
fn every_problem_of_a_folder_is_named_at_once() {
    let dir = fresh("folder-many-problems");
    grey_pngs(&dir, "a", 4, 1);
    grey_pngs(&dir, "b", 4, 1);
    std::fs::write(dir.join("README"), b"x").unwrap();
    std::fs::write(dir.join("a").join("notes.txt"), b"x").unwrap();
    std::fs::write(dir.join("b").join("notes.txt"), b"x").unwrap();
    std::fs::create_dir_all(dir.join("c")).unwrap();
    let err = error_of(&FolderSpec::new(&dir));
    assert_eq!(err.origin, dir.display().to_string());
    assert!(err.problem.starts_with("4 problems:\n"), "{err}");
    let lines = [
        format!("{}: not in a class folder", dir.join("README").display()),
        format!(
            "{}, {}: not an image",
            dir.join("a").join("notes.txt").display(),
            dir.join("b").join("notes.txt").display()
        ),
        format!("{}: empty class folder", dir.join("c").display()),
    ];
    for line in lines {
        assert!(
            err.problem.contains(&format!("\n  {line}")),
            "{line}\n{err}"
        );
    }

    for stray in ["README", "a/notes.txt", "b/notes.txt", "c"] {
        let path = dir.join(stray);
        match path.is_dir() {
            true => std::fs::remove_dir(path).unwrap(),
            false => std::fs::remove_file(path).unwrap(),
        }
    }
    let corrupt: Vec<PathBuf> = ["a/0.png", "a/3.png", "b/1.png"]
        .iter()
        .map(|file| dir.join(file))
        .collect();
    for file in &corrupt {
        std::fs::write(file, b"not a png").unwrap();
    }
    let spec = FolderSpec::new(&dir);
    let in_splits = scan(&spec)
        .unwrap()
        .splits
        .map(|split| split.iter().filter(|e| corrupt.contains(&e.path)).count());
    assert!(
        in_splits.iter().filter(|&&n| n > 0).count() >= 2,
        "the corrupt files should lie in two splits or more: {in_splits:?}"
    );
    let err = error_of(&spec);
    assert_eq!(err.origin, dir.display().to_string());
    assert!(err.problem.starts_with("3 problems:\n"), "{err}");
    assert!(err.problem.contains(": not a readable image"), "{err}");
    for file in &corrupt {
        let named = file.display().to_string();
        assert!(err.problem.contains(&named), "{named}\n{err}");
    }
}

/// A folder of 8 grey PNGs `0.png` … `7.png` with `labels` written as the label file `name`.
fn labelled_pngs(test: &str, name: &str, labels: &str) -> PathBuf {
    let dir = fresh(test);
    for i in 0..8u8 {
        GrayImage::from_pixel(4, 4, Luma([30 * i]))
            .save(dir.join(format!("{i}.png")))
            .unwrap();
    }
    std::fs::write(dir.join(name), labels).unwrap();
    dir
}

#[test]
fn a_label_file_makes_a_multi_label_task() {
    let rows: String = (0..8)
        .map(|i| {
            format!(
                "{i}.png,{}\n",
                ["kick;snare", "snare", "hihat;kick", ""][i % 4]
            )
        })
        .collect();
    let dir = labelled_pngs("labels-csv", "labels.csv", &format!("file,labels\n{rows}"));
    let d = build(&FolderSpec::new(&dir)).unwrap();
    assert!(d.multi_label);
    assert_eq!(d.class_names, ["hihat", "kick", "snare"]);
    // 8 examples: 1 validation, 2 test (round(8 · 0.2)), 5 train.
    assert_eq!((d.train.len(), d.validation.len(), d.test.len()), (5, 1, 2));
    let all: Vec<f32> = [&d.train, &d.validation, &d.test]
        .iter()
        .flat_map(|s| match &s.labels {
            Labels::MultiHot(m) => m.clone(),
            Labels::Class(_) => panic!("multi-hot labels"),
        })
        .collect();
    assert_eq!(all.iter().sum::<f32>(), 10.0, "2 + 1 + 2 + 0 per 4 rows");

    // Class names are trimmed as in a CSV file: " dog " is dog.
    let json = r#"{"0.png": ["cat"], "1.png": [" dog ", "cat"], "2.png": [], "3.png": ["dog"],
        "4.png": ["cat"], "5.png": ["dog"], "6.png": ["cat"], "7.png": ["dog"]}"#;
    let dir = labelled_pngs("labels-json", "labels.json", json);
    let d = build(&FolderSpec::new(&dir)).unwrap();
    assert_eq!(
        (d.multi_label, d.class_names.clone()),
        (true, vec!["cat".to_string(), "dog".into()])
    );
}

#[test]
fn bad_label_files_are_refused_with_the_file_and_the_line() {
    let cases = [
        (
            "labels.csv",
            "path,tags\n0.png,a\n",
            "the first line must be the header file,labels",
        ),
        (
            "labels.csv",
            "file,labels\n0.png,a\n9.png,b\n",
            "9.png: no such file",
        ),
        (
            "labels.csv",
            "file,labels\n0.png,a\n9.png,b\n1.png,b\n10.png,a\n",
            "2 problems:\n  9.png: no such file\n  10.png: no such file",
        ),
        (
            "labels.csv",
            "file,labels\n0.png,a,b\n1.png,b\n",
            "line 2: more than two fields",
        ),
        (
            "labels.csv",
            "file,labels\n0.png,a\n1.png\n",
            "line 3: expected file,labels",
        ),
        (
            "labels.csv",
            "file,labels\n0.png,a\n1.png,a\n",
            "fewer than two classes",
        ),
        (
            "labels.csv",
            "file,labels\n0.png,a\n1.png,b\n",
            "2 training examples: too few",
        ),
        (
            "labels.json",
            "[1, 2]",
            "not an object of paths to class lists",
        ),
    ];
    for (k, (name, text, want)) in cases.into_iter().enumerate() {
        let dir = labelled_pngs(&format!("labels-bad-{k}"), name, text);
        for i in 0..8 {
            let png = format!("{i}.png");
            if !text.contains(&png) {
                std::fs::remove_file(dir.join(png)).unwrap();
            }
        }
        let err = error_of(&FolderSpec::new(&dir));
        assert!(err.origin.ends_with(name), "{err}");
        assert!(err.problem.contains(want), "{want:?} in {err}");
    }
    let dir = labelled_pngs(
        "labels-mixed",
        "labels.csv",
        "file,labels\n0.png,a\nx.wav,b\n",
    );
    std::fs::write(dir.join("x.wav"), wav16(8000, &[0; 64])).unwrap();
    let err = error_of(&FolderSpec::new(&dir));
    assert!(
        err.problem.contains("mixed modalities") && err.problem.contains("x.wav is audio"),
        "{err}"
    );
}

/// A split of a multi-label task without a class on any example has no mAP (a training split
/// without one, nothing to learn): refused, naming the split.
#[test]
fn a_labelled_split_without_classes_is_refused() {
    let dir = fresh("labels-no-positives");
    let rows = [
        ("train/0.png", "a"),
        ("train/1.png", "b"),
        ("train/2.png", "a;b"),
        ("val/0.png", ""),
        ("val/1.png", ""),
        ("test/0.png", "a"),
    ];
    let mut text = String::from("file,labels\n");
    for (i, (file, labels)) in rows.iter().enumerate() {
        let path = dir.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        GrayImage::from_pixel(10, 6, Luma([20 * i as u8]))
            .save(&path)
            .unwrap();
        text += &format!("{file},{labels}\n");
    }
    std::fs::write(dir.join("labels.csv"), text).unwrap();
    let err = error_of(&FolderSpec::new(&dir));
    assert!(err.origin.ends_with("labels.csv"), "{err}");
    assert_eq!(
        err.problem,
        "the 2 examples of the validation split have no class at all, so mAP cannot score it: \
         give some of them classes"
    );
}

#[test]
fn label_files_are_read_as_spreadsheets_write_them() {
    // A byte-order mark, spaces around the header's names, a quoted path holding a comma and
    // a quote, Windows line ends.
    let dir = labelled_pngs("labels-spreadsheet", "labels.csv", "");
    std::fs::rename(dir.join("7.png"), dir.join("seven, \"b\".png")).unwrap();
    let rows: String = (0..7)
        .map(|i| format!("{i}.png, {}\r\n", ["a", "b"][i % 2]))
        .collect();
    let text = format!("\u{feff}file , labels\r\n{rows}\"seven, \"\"b\"\".png\" , a;b\r\n");
    std::fs::write(dir.join("labels.csv"), text).unwrap();
    let d = build(&FolderSpec::new(&dir)).unwrap();
    assert_eq!(d.class_names, ["a", "b"]);
    assert_eq!(d.train.len() + d.validation.len() + d.test.len(), 8);
}

/// A label file written on Windows names `train\0.png`: its folders are found, and so is the
/// split they give.
#[test]
fn windows_paths_in_a_label_file_name_their_folders() {
    let dir = labelled_pngs("labels-windows", "labels.csv", "");
    let mut rows = String::from("file,labels\r\n");
    for i in 0..8 {
        let split = if i < 6 { "train" } else { "test" };
        std::fs::create_dir_all(dir.join(split)).unwrap();
        std::fs::rename(
            dir.join(format!("{i}.png")),
            dir.join(split).join(format!("{i}.png")),
        )
        .unwrap();
        rows += &format!("{split}\\{i}.png,{}\r\n", ["a", "b"][i % 2]);
    }
    std::fs::write(dir.join("labels.csv"), rows).unwrap();
    let d = build(&FolderSpec::new(&dir)).unwrap();
    assert_eq!(d.class_names, ["a", "b"]);
    assert_eq!((d.train.len(), d.validation.len(), d.test.len()), (5, 1, 2));
}

#[test]
fn every_input_of_a_labelled_folder_is_named_once() {
    let all = |f: &dyn Fn(usize) -> String| (0..8).map(f).collect::<String>();
    let csv_rows = all(&|i| format!("{i}.png,{}\n", ["a", "b"][i % 2]));
    let cases = [
        (
            "labels.csv",
            format!("file,labels\n{csv_rows}./3.png,a\n"),
            "./3.png is named twice",
        ),
        (
            "labels.json",
            format!(
                "{{{} \"5.png\": []}}",
                all(&|i| format!("\"{i}.png\": [\"{}\"], ", ["a", "b"][i % 2]))
            ),
            "5.png is named twice",
        ),
        (
            "labels.csv",
            format!(
                "file,labels\n{}",
                &csv_rows[..csv_rows.find("6.png").unwrap()]
            ),
            "does not name 2 of the files in its folder (the first: ",
        ),
    ];
    for (k, (name, text, want)) in cases.into_iter().enumerate() {
        let dir = labelled_pngs(&format!("labels-once-{k}"), name, &text);
        let err = error_of(&FolderSpec::new(&dir));
        assert!(err.origin.ends_with(name), "{err}");
        assert!(err.problem.contains(want), "{want:?} in {err}");
    }
    // The same file by another way there, with other labels: one file is one example.
    let text = format!("file,labels\n{csv_rows}sub/../3.png,b\n");
    let dir = labelled_pngs("labels-once-dotdot", "labels.csv", &text);
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    let err = error_of(&FolderSpec::new(&dir));
    assert!(
        err.problem == "sub/../3.png and 3.png name the same file: each file is named once",
        "{err}"
    );
    let dir = labelled_pngs(
        "labels-both",
        "labels.csv",
        &format!("file,labels\n{csv_rows}"),
    );
    std::fs::write(dir.join("labels.json"), "{}").unwrap();
    let err = error_of(&FolderSpec::new(&dir));
    assert!(
        err.problem
            .contains("holds both labels.csv and labels.json"),
        "{err}"
    );
}

#[test]
fn a_streamed_task_gives_the_inputs_and_statistics_of_the_task_in_memory() {
    let dir = fresh("folder-stream");
    grey_pngs(&dir, "dark", 6, 20);
    grey_pngs(&dir, "mid", 6, 120);
    grey_pngs(&dir, "light", 6, 230);
    let mut spec = FolderSpec::new(&dir);
    spec.cache = Cache::Memory;
    let memory = build(&spec).unwrap();
    spec.cache = Cache::Stream;
    let streamed = build(&spec).unwrap();
    assert!(!memory.train.streams() && streamed.train.streams());
    assert_eq!(streamed.standardization, memory.standardization);
    let pairs = [
        (&memory.train, &streamed.train),
        (&memory.validation, &streamed.validation),
        (&memory.test, &streamed.test),
    ];
    for (m, s) in pairs {
        assert!(s.streams() && s.in_memory().is_none());
        assert_eq!(
            (m.len(), m.example_len(), &m.labels),
            (s.len(), s.example_len(), &s.labels)
        );
        let all: Vec<usize> = (0..m.len()).rev().collect();
        assert_eq!(m.gather(&all).unwrap(), s.gather(&all).unwrap());
    }
    // 18 files of 1×256×256 floats take 4.5 MiB decoded: over a 1 MiB budget, under 64 MiB
    // (and under the largest budget, which does not wrap to nothing in bytes).
    spec.cache = Cache::Auto;
    spec.size = Some([256, 256]);
    for (mib, streams) in [(1, true), (64, false), (1 << 44, false), (u64::MAX, false)] {
        spec.memory_budget_mib = Some(mib);
        assert_eq!(build(&spec).unwrap().train.streams(), streams, "{mib} MiB");
    }
}
