//! Tests of the default suite: sizes, splits, classes, determinism, embedded files.

use super::*;
use crate::data::dataset::{Labels, Split, Standardization};
use crate::data::embedded;
use crate::data::frames::parse_frames_gz;
use crate::data::idx::parse_idx_gz;
use crate::data::pack::parse_pack_gz;
use crate::data::recording::RecordingForm;
use std::collections::HashSet;
use std::sync::OnceLock;

fn suite() -> &'static [Dataset] {
    static SUITE: OnceLock<Vec<Dataset>> = OnceLock::new();
    SUITE.get_or_init(|| {
        let start = std::time::Instant::now();
        let s = default_suite().unwrap();
        eprintln!("default suite built in {:.2?}", start.elapsed());
        s
    })
}

fn class_counts(labels: &Labels, classes: usize) -> Vec<usize> {
    let mut counts = vec![0; classes];
    match labels {
        Labels::Class(c) => c.iter().for_each(|&l| counts[l] += 1),
        Labels::MultiHot(m) => m.chunks_exact(classes).for_each(|row| {
            row.iter()
                .enumerate()
                .for_each(|(c, &v)| counts[c] += (v == 1.0) as usize)
        }),
    }
    counts
}

/// Name, modality, example shape, classes, multi-label, train / validation / test sizes.
type Expected = (
    &'static str,
    Modality,
    &'static [usize],
    usize,
    bool,
    [usize; 3],
);

#[test]
fn sizes_shapes_and_classes_are_as_documented() {
    let want: [Expected; 7] = [
        (
            "mnist",
            Modality::Image,
            &[1, 28, 28],
            10,
            false,
            [8100, 900, 1000],
        ),
        (
            "fashion_mnist",
            Modality::Image,
            &[1, 28, 28],
            10,
            false,
            [9000, 1000, 2000],
        ),
        (
            "moving_mnist_class",
            Modality::Video,
            &[8, 1, 32, 32],
            10,
            false,
            [8100, 900, 1000],
        ),
        (
            "moving_mnist_direction",
            Modality::Video,
            &[8, 1, 32, 32],
            8,
            false,
            [8100, 900, 1000],
        ),
        (
            "spoken_digits",
            Modality::Audio,
            &[1, 64, 32],
            10,
            false,
            [7056, 196, 60],
        ),
        (
            "drums",
            Modality::Audio,
            &[1, 64, 32],
            5,
            true,
            [4000, 200, 400],
        ),
        (
            "arrow_of_time",
            Modality::Video,
            &[8, 1, 32, 32],
            2,
            false,
            [1800, 200, 500],
        ),
    ];
    let suite = suite();
    assert_eq!(suite.len(), 7);
    for (d, (name, modality, shape, classes, multi, sizes)) in suite.iter().zip(want) {
        assert_eq!(
            (
                d.name.as_str(),
                d.modality,
                d.shape.as_slice(),
                d.num_classes,
                d.multi_label
            ),
            (name, modality, shape, classes, multi)
        );
        let example: usize = shape.iter().product();
        for (split, n) in [&d.train, &d.validation, &d.test].into_iter().zip(sizes) {
            assert_eq!(
                (
                    split.len(),
                    split.example_len(),
                    split.in_memory().map(<[f32]>::len)
                ),
                (n, example, Some(n * example)),
                "{name}"
            );
            let inputs = split.in_memory().unwrap();
            assert!(inputs.iter().all(|v| v.is_finite()), "{name}");
            let counts = class_counts(&split.labels, classes);
            assert!(
                counts.iter().all(|&c| c > 0),
                "{name}: every class occurs in every split: {counts:?}"
            );
            assert_eq!(matches!(split.labels, Labels::MultiHot(_)), multi);
        }
        let train = Standardization::fit(d.train.in_memory().unwrap());
        assert!(
            train.mean.abs() < 1e-3 && (train.std - 1.0).abs() < 1e-3,
            "{name}: standardized train {train:?}"
        );
    }
}

#[test]
fn test_sets_are_balanced_where_documented() {
    let s = suite();
    assert_eq!(
        class_counts(&s[0].test.labels, 10),
        vec![100; 10],
        "MNIST test: 100 per digit"
    );
    assert_eq!(
        class_counts(&s[4].test.labels, 10),
        vec![6; 10],
        "Asterisk: 6 voices per digit"
    );
    let c = class_counts(&s[0].train.labels, 10)
        .iter()
        .zip(class_counts(&s[0].validation.labels, 10))
        .map(|(a, b)| a + b)
        .collect::<Vec<_>>();
    assert_eq!(
        c,
        vec![901, 1027, 891, 932, 880, 763, 914, 970, 844, 878],
        "MNIST train file: all but the last 100 of each digit"
    );
}

#[test]
fn splits_do_not_share_examples() {
    for d in suite().iter().filter(|d| d.modality == Modality::Image) {
        let key = |s: &Split, i: usize| {
            s.example(i)
                .unwrap()
                .iter()
                .map(|v| v.to_bits())
                .collect::<Vec<_>>()
        };
        let train: HashSet<Vec<u32>> = (0..d.train.len()).map(|i| key(&d.train, i)).collect();
        let leaked = (0..d.validation.len())
            .filter(|&i| train.contains(&key(&d.validation, i)))
            .count();
        assert_eq!(leaked, 0, "{}: validation images also in train", d.name);
        let leaked = (0..d.test.len())
            .filter(|&i| train.contains(&key(&d.test, i)))
            .count();
        assert!(
            leaked <= 1,
            "{}: {leaked} test images also in train",
            d.name
        );
    }
}

#[test]
fn drum_mixtures_hold_one_to_three_instruments() {
    let d = &suite()[5];
    for split in [&d.train, &d.validation, &d.test] {
        let Labels::MultiHot(m) = &split.labels else {
            panic!("drums are multi-label")
        };
        let mut sizes = [0; 6];
        for row in m.chunks_exact(5) {
            assert!(row.iter().all(|&v| v == 0.0 || v == 1.0));
            sizes[row.iter().sum::<f32>() as usize] += 1;
        }
        assert_eq!(sizes[0] + sizes[4] + sizes[5], 0, "{sizes:?}");
        assert!(
            sizes[1..4].iter().all(|&n| n > split.len() / 5),
            "{sizes:?}"
        );
    }
}

#[test]
fn the_same_seed_rebuilds_the_same_task_and_another_seed_does_not() {
    let cfg = SuiteConfig {
        drum_mixtures: [20, 5, 5],
        ..SuiteConfig::default()
    };
    let cfg = SuiteConfig {
        speech: crate::data::augment::SpeechAugment {
            copies: 1,
            ..cfg.speech
        },
        ..cfg
    };
    for task in [
        TaskId::MovingMnistDirection,
        TaskId::Drums,
        TaskId::SpokenDigits,
        TaskId::ArrowOfTime,
    ] {
        let a = build_task(task, &cfg).unwrap();
        assert_eq!(a, build_task(task, &cfg).unwrap());
        let b = build_task(
            task,
            &SuiteConfig {
                seed: 1,
                ..cfg.clone()
            },
        )
        .unwrap();
        assert_ne!(a.train.in_memory(), b.train.in_memory());
    }
    assert_eq!(build_task(TaskId::Mnist, &cfg).unwrap(), suite()[0]);
}

#[test]
fn embedded_files_hold_the_documented_data() {
    let synthetic = parse_pack_gz(
        embedded::SPEECH_SYNTHETIC.bytes,
        embedded::SPEECH_SYNTHETIC.path,
    )
    .unwrap();
    let asterisk = parse_pack_gz(
        embedded::SPEECH_ASTERISK.bytes,
        embedded::SPEECH_ASTERISK.path,
    )
    .unwrap();
    let drums = parse_pack_gz(embedded::DRUMS.bytes, embedded::DRUMS.path).unwrap();
    assert_eq!(
        (synthetic.len(), asterisk.len(), drums.len()),
        (1960, 60, 133)
    );
    let by_engine = |prefix: &str| {
        synthetic
            .iter()
            .filter(|c| c.name.starts_with(prefix))
            .count()
    };
    assert_eq!(
        (
            by_engine("espeak-ng "),
            by_engine("flite "),
            by_engine("festival ")
        ),
        (1300, 300, 360)
    );
    for c in synthetic.iter().chain(&asterisk).chain(&drums) {
        assert_eq!((c.wav.sample_rate, c.wav.channels), (8000, 1), "{}", c.name);
        assert!(
            !c.wav.samples.is_empty() && c.wav.samples.iter().any(|&v| v.abs() > 0.5),
            "{}",
            c.name
        );
    }
    assert!(asterisk.iter().all(|c| c.name.starts_with("asterisk ")));
    let test_shots = drums.iter().filter(|c| c.name.starts_with("test ")).count();
    assert_eq!((test_shots, drums.len() - test_shots), (10, 123));
    let soundfont = drums
        .iter()
        .filter(|c| c.name.starts_with("train FluidR3_GM/"));
    assert_eq!(soundfont.count(), 96);
    assert!(drums
        .iter()
        .all(|c| c.wav.samples.len() == 4000 && c.label < 5));
    let bytes: usize = embedded::ALL.iter().map(|f| f.bytes.len()).sum();
    assert!(bytes < 15_000_000, "embedded data is {bytes} bytes");
}

#[test]
fn corrupt_embedded_style_input_names_the_file() {
    let e = parse_idx_gz(
        &embedded::MNIST_TRAIN_IMAGES.bytes[..1000],
        embedded::MNIST_TRAIN_IMAGES.path,
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("polyvit/data/image/mnist-train-images-idx3-ubyte.gz: "),
        "{e}"
    );
}

#[test]
fn footage_files_hold_the_documented_frames() {
    let stacks: Vec<_> = [
        embedded::VIDEO_VTEST,
        embedded::VIDEO_TREE,
        embedded::VIDEO_CARPHONE,
        embedded::VIDEO_BIKES,
    ]
    .iter()
    .map(|f| parse_frames_gz(f.bytes, f.path).unwrap())
    .collect();
    let shapes: Vec<_> = stacks
        .iter()
        .map(|s| (s.frames, s.height, s.width))
        .collect();
    assert_eq!(
        shapes,
        vec![(398, 32, 32), (68, 32, 32), (120, 32, 32), (250, 32, 32)]
    );
    for s in &stacks {
        // Real footage: frames differ, and pixels span a real range.
        assert_ne!(s.frame(0), s.frame(s.frames - 1));
        let (lo, hi) = (
            s.pixels.iter().min().unwrap(),
            s.pixels.iter().max().unwrap(),
        );
        assert!(hi - lo > 100, "{lo}..{hi}");
    }
}

#[test]
fn arrow_of_time_splits_are_balanced_and_use_disjoint_footage() {
    let d = &suite()[6];
    for split in [&d.train, &d.validation, &d.test] {
        let c = class_counts(&split.labels, 2);
        assert_eq!(c[0], c[1], "forward and backward clips are balanced");
    }
    // Train and validation windows lie on either side of each video's cut, and the test
    // footage is another file.
    let files: Vec<_> = footage_tasks::TRAIN_VIDEOS.iter().map(|f| f.path).collect();
    assert!(!files.contains(&footage_tasks::TEST_VIDEOS[0].path));
    assert_eq!(footage_tasks::validation_start(398, 0.2), 318);
    assert_eq!(footage_tasks::validation_start(68, 0.2), 54);
    // A backward clip is a forward clip with its frames reversed: so standardized train
    // clips in both classes have the same pixel statistics, and one frame alone carries
    // no label information (checked on the class means).
    let frame = 32 * 32;
    let Labels::Class(labels) = &d.train.labels else {
        panic!("single-label")
    };
    let mut mean = [0.0f64; 2];
    for (i, &l) in labels.iter().enumerate() {
        let x = d.train.example(i).unwrap();
        mean[l] += x[..frame].iter().map(|&v| v as f64).sum::<f64>();
    }
    let per = (labels.len() / 2 * frame) as f64;
    assert!(
        (mean[0] / per - mean[1] / per).abs() < 0.2,
        "first-frame means {:?}",
        mean.map(|m| m / per)
    );
}

/// A fresh temporary folder for one test.
fn temp_folder(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("polyvit-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A folder holding the embedded files under their relative paths builds the same tasks as
/// the embedded files: one code path reads both sources.
#[test]
fn a_folder_with_the_embedded_files_builds_the_same_tasks() {
    let dir = temp_folder("suite-folder");
    for f in embedded::ALL {
        let path = dir.join(files::relative_path(&f));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, f.bytes).unwrap();
    }
    let embedded_cfg = SuiteConfig {
        drum_mixtures: [20, 5, 5],
        ..SuiteConfig::default()
    };
    let folder_cfg = SuiteConfig {
        files: SuiteFiles::Folder(dir.clone()),
        ..embedded_cfg.clone()
    };
    for task in [TaskId::FashionMnist, TaskId::Drums, TaskId::ArrowOfTime] {
        assert_eq!(
            build_task(task, &folder_cfg).unwrap(),
            build_task(task, &embedded_cfg).unwrap(),
            "{}",
            task.name()
        );
    }
    // A corrupt file in the folder is an error naming its path on disk.
    std::fs::write(dir.join("audio/drums.pack.gz"), b"not gzip").unwrap();
    let err = build_task(TaskId::Drums, &folder_cfg).unwrap_err();
    assert!(err.origin.starts_with(&dir.display().to_string()), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Writes a clip pack of 8 kHz tones to `path` (gzip, as the builders write it).
fn write_tone_pack(path: &std::path::Path, clips: &[(u16, &str, usize)]) {
    use std::io::Write;
    let mut raw = b"PVCLIPS1".to_vec();
    raw.extend_from_slice(&(clips.len() as u32).to_le_bytes());
    for &(label, name, samples) in clips {
        let freq = 200.0 + 150.0 * label as f32;
        let tone: Vec<f32> = (0..samples)
            .map(|i| 0.5 * (std::f32::consts::TAU * freq * i as f32 / 8000.0).sin())
            .collect();
        let wav = crate::data::wav::encode_wav16(8000, &tone);
        raw.extend_from_slice(&label.to_le_bytes());
        raw.extend_from_slice(&(name.len() as u16).to_le_bytes());
        raw.extend_from_slice(name.as_bytes());
        raw.extend_from_slice(&(wav.len() as u32).to_le_bytes());
        raw.extend_from_slice(&wav);
    }
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&raw).unwrap();
    std::fs::write(path, gz.finish().unwrap()).unwrap();
}

/// The language task exists only with a full-suite folder; there it cuts each prompt into
/// window-long segments, keeps the pack's train / test split, and rejects a pack that breaks
/// its rules with an error naming the file.
#[test]
fn language_id_is_built_from_the_full_suite_folder_only() {
    assert!(!SuiteConfig::default().tasks().contains(&TaskId::LanguageId));
    let err = build_task(TaskId::LanguageId, &SuiteConfig::default()).unwrap_err();
    assert!(err.problem.contains("fetch_full_suite.sh"), "{err}");

    let dir = temp_folder("suite-language");
    let cfg = SuiteConfig {
        speech: crate::data::augment::SpeechAugment {
            copies: 1,
            ..SuiteConfig::default().speech
        },
        ..SuiteConfig::full(dir.clone())
    };
    assert!(cfg.tasks().contains(&TaskId::LanguageId));
    let window = AudioFeatures::new(cfg.mel.clone(), cfg.audio_frames)
        .unwrap()
        .window_samples();
    let pack = dir.join(files::LANGUAGE_ID);
    // 10 training prompts per language, one of them three windows long; 2 test prompts each.
    let names: Vec<(u16, String, usize)> = (0..5u16)
        .flat_map(|lang| {
            (0..12).map(move |i| {
                let split = if i < 10 { "train" } else { "test" };
                let len = if i == 0 { 3 * window + 10 } else { window / 2 };
                (lang, format!("{split} v{lang}/p{i}.wav"), len)
            })
        })
        .collect();
    let clips: Vec<(u16, &str, usize)> =
        names.iter().map(|(l, n, s)| (*l, n.as_str(), *s)).collect();
    write_tone_pack(&pack, &clips);
    let d = build_task(TaskId::LanguageId, &cfg).unwrap();
    assert_eq!(d.num_classes, 5);
    assert_eq!(d.test.len(), 10);
    // 12 training segments per language (10 prompts, one cut in 3), 10 % carved out for
    // validation before augmentation, then one augmented copy of each training segment.
    let training_segments = 5 * 12;
    let validation = d.validation.len();
    assert!((1..training_segments).contains(&validation), "{validation}");
    assert_eq!(d.train.len(), 2 * (training_segments - validation));
    // By default language ID keeps each voice's band means (a cue to its language); the
    // switch removes them, as for spoken digits.
    assert!(!d.band_mean_removal && largest_test_band_mean(&d) > 0.1);
    let removed = SuiteConfig {
        band_mean_removal: BandMeanRemoval {
            language_id: true,
            ..BandMeanRemoval::default()
        },
        ..cfg.clone()
    };
    let d = build_task(TaskId::LanguageId, &removed).unwrap();
    assert!(d.band_mean_removal && largest_test_band_mean(&d) < 1e-3);

    write_tone_pack(&pack, &[(0, "train a", 100), (5, "test b", 100)]);
    let err = build_task(TaskId::LanguageId, &cfg).unwrap_err();
    assert!(err.problem.contains("label 5 of 5 languages"), "{err}");
    write_tone_pack(&pack, &[(0, "train a", 100), (1, "b", 100)]);
    let err = build_task(TaskId::LanguageId, &cfg).unwrap_err();
    assert!(err.origin.ends_with("language-id.pack.gz"), "{err}");
    assert!(
        err.problem.contains("1 named 'train …', 0 named 'test …'"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Each mel band's mean over the frames of one standardized `[1, frames, bands]` example of
/// `d`, after undoing the task's standardization.
fn band_means(d: &Dataset, example: &[f32]) -> Vec<f32> {
    let s = d.standardization;
    let raw: Vec<f32> = example.iter().map(|v| v * s.std + s.mean).collect();
    let bands = d.shape[2];
    (0..bands)
        .map(|b| raw.iter().skip(b).step_by(bands).sum::<f32>() / d.shape[1] as f32)
        .collect()
}

/// The largest band mean (in absolute value) over the examples of `d`'s test split.
fn largest_test_band_mean(d: &Dataset) -> f32 {
    let size: usize = d.shape.iter().product();
    let test = d.test.in_memory().unwrap();
    test.chunks_exact(size)
        .flat_map(|example| band_means(d, example))
        .fold(0.0f32, |m, v| m.max(v.abs()))
}

/// Every spoken-digit example reaches the model with each mel band's mean over its frames
/// removed and then unit variance (before the task's standardization); drum examples keep
/// their spectra. New recordings are made as each task's clips were: speech trimmed of silence,
/// drums cut as one-shots.
#[test]
fn speech_examples_have_band_means_removed_and_drums_do_not() {
    let by_name = |name: &str| suite().iter().find(|d| d.name == name).unwrap();
    let speech = by_name("spoken_digits");
    assert!(speech.band_mean_removal && speech.example_normalization);
    assert_eq!(speech.recording_form, Some(RecordingForm::TrimmedSpeech));
    let worst = largest_test_band_mean(speech);
    assert!(worst < 1e-3, "a band's mean is {worst}");
    let drums = by_name("drums");
    assert!(!drums.band_mean_removal);
    assert_eq!(drums.recording_form, Some(RecordingForm::OneShot));
    assert!(largest_test_band_mean(drums) > 0.1);
}

#[test]
fn carving_is_seeded_disjoint_and_complete() {
    let (t, v) = carve_validation(100, 0.1, &mut ChaCha8Rng::seed_from_u64(1));
    let (t2, v2) = carve_validation(100, 0.1, &mut ChaCha8Rng::seed_from_u64(1));
    let (_, v3) = carve_validation(100, 0.1, &mut ChaCha8Rng::seed_from_u64(2));
    assert_eq!((t.len(), v.len()), (90, 10));
    assert_eq!((&t, &v), (&t2, &v2));
    assert_ne!(v, v3);
    let mut all: Vec<usize> = t.iter().chain(&v).cloned().collect();
    all.sort_unstable();
    assert_eq!(all, (0..100).collect::<Vec<_>>());
}
