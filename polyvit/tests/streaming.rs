//! Folder tasks decoded batch by batch (`cache = "stream"`) train to exactly the numbers of the
//! same tasks held in memory, evaluate alike, and resume from a checkpoint exactly.

use polyvit::data::folder::Cache;
use polyvit::data::{build_folder_task, Dataset, FolderSpec};
use polyvit::train::{Run, TaskConfig, TrainConfig};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// An image folder (stripes, two classes) and an audio folder (tones, two classes), written once
/// per test binary.
fn folders() -> &'static [PathBuf; 2] {
    static FOLDERS: OnceLock<[PathBuf; 2]> = OnceLock::new();
    FOLDERS.get_or_init(|| {
        let root = std::env::temp_dir().join(format!("polyvit-streaming-{}", std::process::id()));
        let (images, audio) = (root.join("stripes"), root.join("tones"));
        for (class, horizontal) in [("across", true), ("down", false)] {
            let dir = images.join(class);
            std::fs::create_dir_all(&dir).unwrap();
            for i in 0..12u32 {
                image::GrayImage::from_fn(14, 14, |x, y| {
                    let t = if horizontal { y } else { x };
                    image::Luma([if (t + i) % 4 < 2 {
                        200
                    } else {
                        30 + 5 * i as u8
                    }])
                })
                .save(dir.join(format!("{i}.png")))
                .unwrap();
            }
        }
        for (class, freq) in [("low", 300.0), ("high", 1800.0)] {
            let dir = audio.join(class);
            std::fs::create_dir_all(&dir).unwrap();
            for i in 0..10 {
                let samples: Vec<f32> = (0..3000 + 150 * i)
                    .map(|t| 0.3 * (std::f32::consts::TAU * freq * t as f32 / 8000.0).sin())
                    .collect();
                let wav = polyvit::data::wav::encode_wav16(8000, &samples);
                std::fs::write(dir.join(format!("{i}.wav")), wav).unwrap();
            }
        }
        [images, audio]
    })
}

/// Both folder tasks, with their decoded inputs held as `cache` says.
fn tasks(cache: Cache) -> Vec<Dataset> {
    let [images, audio] = folders();
    let spec = |path: &Path| FolderSpec {
        cache,
        ..FolderSpec::new(path)
    };
    let stripes = build_folder_task("stripes", &spec(images), &[], &|_, _| {}).unwrap();
    let tones = build_folder_task("tones", &spec(audio), &[], &|_, _| {}).unwrap();
    assert_eq!(stripes.train.streams(), cache == Cache::Stream);
    vec![stripes, tones]
}

/// The tiny preset on both tasks, 5 steps each with every augmentation that draws from the
/// batch's random stream after its examples (shifts, mixup, SpecAugment).
fn config() -> TrainConfig {
    let task = |name: &str| TaskConfig {
        steps: 5,
        batch_size: 6,
        warmup: 1,
        mixup: 0.3,
        ..TaskConfig::new(name)
    };
    TrainConfig {
        preset: "tiny".into(),
        tasks: vec![
            TaskConfig {
                max_shift: 2,
                ..task("stripes")
            },
            TaskConfig {
                spec_augment: true,
                ..task("tones")
            },
        ],
        ..TrainConfig::default()
    }
}

/// The losses and the gradient norm of `run`'s next step.
fn step(run: &mut Run) -> (Vec<f64>, f64) {
    let report = run.train_step().unwrap();
    let losses = report.losses.iter().map(|l| l.loss).collect();
    (losses, report.grad_norm)
}

/// Every step's losses and gradient norm from `run`'s current step to its end.
fn train_to_end(run: &mut Run) -> Vec<(Vec<f64>, f64)> {
    let mut steps = Vec::new();
    while run.step < run.total_steps() {
        steps.push(step(run));
    }
    steps
}

#[test]
fn streamed_tasks_train_and_evaluate_to_the_numbers_of_tasks_in_memory() {
    let mut memory = Run::new(config(), tasks(Cache::Memory)).unwrap();
    let mut streamed = Run::new(config(), tasks(Cache::Stream)).unwrap();
    let expected = train_to_end(&mut memory);
    assert_eq!(expected.len(), 10);
    assert_eq!(train_to_end(&mut streamed), expected);
    for test in [false, true] {
        assert_eq!(
            streamed.evaluate(test).unwrap(),
            memory.evaluate(test).unwrap()
        );
    }
}

#[test]
fn a_streamed_run_resumes_exactly() {
    let mut straight = Run::new(config(), tasks(Cache::Memory)).unwrap();
    let expected = train_to_end(&mut straight);
    let mut first = Run::new(config(), tasks(Cache::Stream)).unwrap();
    let mut steps: Vec<(Vec<f64>, f64)> = (0..4).map(|_| step(&mut first)).collect();
    let dir = std::env::temp_dir().join(format!("polyvit-stream-resume-{}", std::process::id()));
    let path = dir.join("checkpoint.safetensors");
    first.save(&path).unwrap();
    let checkpoint = nn::checkpoint::Checkpoint::load(&path).unwrap();
    let config = Run::config_in_checkpoint(&checkpoint).unwrap();
    let mut resumed = Run::new(config, tasks(Cache::Stream)).unwrap();
    resumed.restore(&checkpoint).unwrap();
    steps.extend(train_to_end(&mut resumed));
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(steps, expected);
}

/// A task of glyphs on a plain background is described alike whether its training images are
/// held or streamed (its checkpoint reads new pictures alike), so a run held in memory resumes
/// streamed, as `cache = "auto"` may decide on a machine with less memory free.
#[test]
fn a_streamed_task_is_described_as_a_held_one() {
    let dir = std::env::temp_dir().join(format!("polyvit-stream-glyphs-{}", std::process::id()));
    for (class, side) in [("small", 6u32), ("large", 12)] {
        std::fs::create_dir_all(dir.join(class)).unwrap();
        for i in 0..12u32 {
            let (side, at) = (side + i % 3, 14 + i % 4);
            image::GrayImage::from_fn(28, 28, |x, y| {
                let inside = |v: u32| v + side / 2 >= at && v < at + side / 2;
                image::Luma([if inside(x) && inside(y) { 230 } else { 0 }])
            })
            .save(dir.join(class).join(format!("{i}.png")))
            .unwrap();
        }
    }
    let glyphs = |cache| {
        let spec = FolderSpec {
            cache,
            ..FolderSpec::new(&dir)
        };
        vec![build_folder_task("glyphs", &spec, &[], &|_, _| {}).unwrap()]
    };
    let config = TrainConfig {
        preset: "tiny".into(),
        tasks: vec![TaskConfig {
            steps: 2,
            batch_size: 4,
            warmup: 0,
            ..TaskConfig::new("glyphs")
        }],
        ..TrainConfig::default()
    };
    let held = Run::new(config.clone(), glyphs(Cache::Memory)).unwrap();
    let streamed = Run::new(config.clone(), glyphs(Cache::Stream)).unwrap();
    assert!(streamed.datasets[0].train.streams());
    let described = held.task_infos();
    assert!(described[0].glyph_frame.is_some(), "{described:?}");
    assert_eq!(streamed.task_infos(), described);
    let path = dir.with_extension("safetensors");
    held.save(&path).unwrap();
    let checkpoint = nn::checkpoint::Checkpoint::load(&path).unwrap();
    let mut resumed = Run::new(config, glyphs(Cache::Stream)).unwrap();
    resumed.restore(&checkpoint).unwrap();
    std::fs::remove_dir_all(&dir).ok();
    std::fs::remove_file(&path).ok();
}
