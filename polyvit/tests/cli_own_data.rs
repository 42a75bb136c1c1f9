//! The command line on the user's own folders: training tasks from folders of images, audio clips
//! (WAV, FLAC, Ogg Vorbis) and frames (alone and next to a built-in task), predicting files with
//! the checkpoint's class names, scoring a labelled folder, exporting an embedded task, and the
//! errors of bad input (with nothing written).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Runs `polyvit` with the whitespace-separated words of `line` (the temporary paths hold no
/// spaces).
fn polyvit(line: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_polyvit"))
        .args(line.split_whitespace())
        .output()
        .expect("polyvit runs")
}

fn succeeds(line: &str) -> String {
    let out = polyvit(line);
    assert!(
        out.status.success(),
        "polyvit {line} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn fails(line: &str) -> String {
    let out = polyvit(line);
    assert!(!out.status.success(), "polyvit {line} should fail");
    String::from_utf8(out.stderr).unwrap()
}

fn fresh(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("polyvit-own-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `n` 12×12 colour PNGs of red stripes in `dir/class` (horizontal or vertical, shifted per
/// file).
fn stripes(dir: &Path, class: &str, n: u32, horizontal: bool) {
    let class_dir = dir.join(class);
    std::fs::create_dir_all(&class_dir).unwrap();
    for i in 0..n {
        let img = image::RgbImage::from_fn(12, 12, |x, y| {
            let t = if horizontal { y } else { x };
            image::Rgb([if (t + i) % 4 < 2 { 255 } else { 0 }, 0, 40])
        });
        img.save(class_dir.join(format!("{i}.png"))).unwrap();
    }
}

/// `n` WAV clips of a tone of `freq` Hz (8 kHz, 16-bit) in `dir/class`.
fn tones(dir: &Path, class: &str, n: usize, freq: f32) {
    let class_dir = dir.join(class);
    std::fs::create_dir_all(&class_dir).unwrap();
    for i in 0..n {
        let samples: Vec<f32> = (0..4000 + 200 * i)
            .map(|t| 0.3 * (std::f32::consts::TAU * freq * t as f32 / 8000.0).sin())
            .collect();
        let bytes = polyvit::data::wav::encode_wav16(8000, &samples);
        std::fs::write(class_dir.join(format!("{i}.wav")), bytes).unwrap();
    }
}

/// `n` clip folders in `dir/class` of 6 grey 16×16 frames of a bar moving down (or up).
fn clips(dir: &Path, class: &str, n: u32, down: bool) {
    for c in 0..n {
        let clip = dir.join(class).join(format!("clip{c}"));
        std::fs::create_dir_all(&clip).unwrap();
        for f in 0..6u32 {
            let row = if down { 2 * f + c } else { 15 - 2 * f - c };
            let frame = image::GrayImage::from_fn(16, 16, |_, y| {
                image::Luma([if y.abs_diff(row) < 2 { 255 } else { 0 }])
            });
            frame.save(clip.join(format!("frame{f}.png"))).unwrap();
        }
    }
}

/// Trains the folder task `task` of `data` alone, two steps of the tiny preset, into `out`;
/// its standard output.
fn train_tiny(task: &str, data: &Path, out: &Path) -> String {
    succeeds(&format!(
        "train --tasks {task} --task {task}={} --preset tiny --steps 2 --output {}",
        s(data),
        s(out)
    ))
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// A grey `width × height` picture of one bar (horizontal or vertical) of `ink` on `paper`,
/// `long × thick` pixels with its top-left corner at (`x`, `y`).
#[allow(clippy::too_many_arguments)]
fn bar(
    width: u32,
    height: u32,
    horizontal: bool,
    (x, y): (u32, u32),
    long: u32,
    thick: u32,
    ink: u8,
    paper: u8,
) -> image::GrayImage {
    let (w, h) = if horizontal {
        (long, thick)
    } else {
        (thick, long)
    };
    image::GrayImage::from_fn(width, height, |px, py| {
        let inside = (x..x + w).contains(&px) && (y..y + h).contains(&py);
        image::Luma([if inside { ink } else { paper }])
    })
}

#[test]
fn a_folder_task_trains_next_to_a_built_in_one_predicts_and_scores() {
    let root = fresh("stripes");
    let data = root.join("data");
    stripes(&data, "horizontal", 8, true);
    stripes(&data, "vertical", 8, false);
    let (out, checkpoint) = (
        s(&root.join("run")),
        s(&root.join("run/checkpoint.safetensors")),
    );
    // Next to a built-in image task, the colour stripes take its 1×28×28 input.
    let log = succeeds(&format!(
        "train --tasks mnist,stripes --task stripes={} --preset tiny --steps 30 --eval-every 0 \
         --output {out}",
        s(&data)
    ));
    assert!(log.contains("(mnist, stripes)"), "{log}");
    // 16 pictures leave fewer training examples than a batch: said, not silently cut.
    assert!(
        log.contains("note: task stripes: batch_size 32 is more than its"),
        "{log}"
    );
    let file = s(&data.join("vertical/3.png"));
    let both = succeeds(&format!("predict --checkpoint {checkpoint} {file}"));
    assert!(
        both.contains("3.png [mnist] ") && both.contains("3.png [stripes] "),
        "{both}"
    );

    // A file and a walked folder, through the stored preprocessing and class names.
    let json = succeeds(&format!(
        "predict --checkpoint {checkpoint} --task stripes --top 2 --json {} {}",
        s(&data.join("horizontal/0.png")),
        s(&data.join("vertical"))
    ));
    let predictions: serde_json::Value = serde_json::from_str(&json).unwrap();
    let predictions = predictions.as_array().unwrap();
    assert_eq!(predictions.len(), 9, "one file and a folder of 8: {json}");
    for p in predictions {
        assert_eq!(p["task"], "stripes");
        let top = p["top"].as_array().unwrap();
        let names: Vec<&str> = top.iter().map(|c| c["class"].as_str().unwrap()).collect();
        assert!(
            names.contains(&"horizontal") && names.contains(&"vertical"),
            "{p}"
        );
        let p_of = |k: usize| top[k]["probability"].as_f64().unwrap();
        assert!(
            (p_of(0) + p_of(1) - 1.0).abs() < 1e-4,
            "softmax sums to 1: {p}"
        );
        assert!(p_of(0) >= p_of(1), "sorted: {p}");
    }

    let scored = succeeds(&format!(
        "eval --checkpoint {checkpoint} --data {}",
        s(&data)
    ));
    assert!(
        scored.contains("stripes on") && scored.contains("(16 examples, 2 classes): top1"),
        "{scored}"
    );

    // Inputs the checkpoint cannot take.
    let wav = root.join("sound.wav");
    std::fs::write(&wav, b"RIFF").unwrap();
    let err = fails(&format!("predict --checkpoint {checkpoint} {}", s(&wav)));
    assert!(
        err.contains("sound.wav: no task of the checkpoint takes audio inputs"),
        "{err}"
    );
    // A file that cannot be predicted is named; the others are still predicted.
    let empty_png = root.join("empty.png");
    std::fs::write(&empty_png, b"").unwrap();
    let mixed = polyvit(&format!(
        "predict --checkpoint {checkpoint} {} {file} {}",
        s(&empty_png),
        s(&wav)
    ));
    let (stdout, stderr) = (
        String::from_utf8_lossy(&mixed.stdout),
        String::from_utf8_lossy(&mixed.stderr),
    );
    assert_eq!(mixed.status.code(), Some(1), "{stderr}");
    assert!(stdout.contains(&format!("{file} [stripes]")), "{stdout}");
    assert!(!stdout.contains("empty.png") && !stdout.contains("sound.wav"));
    for said in [
        "empty.png: not a readable image: an empty file (0 bytes)",
        "sound.wav: no task of the checkpoint takes audio inputs",
        "2 of the 3 inputs could not be predicted (each named above); the other one was",
    ] {
        assert!(stderr.contains(said), "{stderr}");
    }
    let err = fails(&format!(
        "predict --checkpoint {checkpoint} --task drums {file}"
    ));
    assert!(
        err.contains("no task \"drums\" in the checkpoint (it has mnist, stripes)"),
        "{err}"
    );
    let err = fails(&format!(
        "eval --checkpoint {checkpoint} --data {}",
        s(&root.join("missing"))
    ));
    assert!(err.contains("not a folder"), "{err}");
    // A folder no task fits: the classes each task lacks, and split folders told from classes.
    let odd = root.join("odd");
    stripes(&odd, "horizontal", 2, true);
    stripes(&odd, "diagonal", 2, true);
    let err = fails(&format!(
        "eval --checkpoint {checkpoint} --data {}",
        s(&odd)
    ));
    assert!(
        err.contains("task stripes has no class diagonal (its classes: horizontal, vertical)"),
        "{err}"
    );
    let split = root.join("split");
    stripes(&split.join("train"), "horizontal", 2, true);
    stripes(&split.join("test"), "horizontal", 2, true);
    let err = fails(&format!(
        "eval --checkpoint {checkpoint} --data {}",
        s(&split)
    ));
    assert!(
        err.contains("test, train are split folders, not classes: give --data one of them"),
        "{err}"
    );
    // Unreadable files past the first batch scored are named with the rest, all counted.
    let bad = root.join("bad");
    for class in ["horizontal", "vertical"] {
        stripes(&bad, class, 2, class == "horizontal");
        for i in 0..150 {
            std::fs::write(bad.join(class).join(format!("empty{i}.png")), b"").unwrap();
        }
    }
    let err = fails(&format!(
        "eval --checkpoint {checkpoint} --data {}",
        s(&bad)
    ));
    assert!(err.contains("300 problems:"), "{err}");
    // Named in another case, as data sets often ship them.
    let caps = root.join("caps");
    stripes(&caps.join("Train"), "horizontal", 2, true);
    stripes(&caps.join("Test"), "horizontal", 2, true);
    let err = fails(&format!(
        "eval --checkpoint {checkpoint} --data {}",
        s(&caps)
    ));
    assert!(
        err.contains("Test, Train are split folders, not classes")
            && err.contains(&format!("e.g. {}", s(&caps.join("Test")))),
        "{err}"
    );
    // Nothing to predict is an error, not an empty answer.
    let missing = s(&root.join("no-such.png"));
    let err = fails(&format!("predict --checkpoint {checkpoint} {missing}"));
    assert!(err.contains("no-such.png: no such file or folder"), "{err}");
    // A picture with nothing in it is predicted, with a note that the answer says nothing.
    let blank = root.join("blank.png");
    image::RgbImage::from_pixel(1, 1, image::Rgb([255, 255, 255]))
        .save(&blank)
        .unwrap();
    let flat = polyvit(&format!(
        "predict --checkpoint {checkpoint} {} {file}",
        s(&blank)
    ));
    let stderr = String::from_utf8_lossy(&flat.stderr);
    assert!(flat.status.success(), "{stderr}");
    assert!(
        stderr.contains("note: task stripes: ")
            && stderr.contains("blank.png is blank")
            && !stderr.contains("3.png is blank"),
        "{stderr}"
    );
    // A missing path beside a file is named, and the file still predicted.
    let beside = polyvit(&format!(
        "predict --checkpoint {checkpoint} {missing} {file}"
    ));
    let (stdout, stderr) = (
        String::from_utf8_lossy(&beside.stdout),
        String::from_utf8_lossy(&beside.stderr),
    );
    assert_eq!(beside.status.code(), Some(1), "{stderr}");
    assert!(stdout.contains(&format!("{file} [stripes]")), "{stdout}");
    assert!(
        stderr.contains("no-such.png: no such file or folder")
            && stderr.contains("1 of the 2 inputs could not be predicted"),
        "{stderr}"
    );
    // In JSON, in input order: the blank picture's prediction marked flat, the missing path's
    // failure, the file's prediction unmarked.
    let json = polyvit(&format!(
        "predict --checkpoint {checkpoint} --json {} {missing} {file}",
        s(&blank)
    ));
    assert_eq!(json.status.code(), Some(1));
    let entries: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let entries = entries.as_array().unwrap();
    let files: Vec<&str> = entries
        .iter()
        .map(|e| e["file"].as_str().unwrap())
        .collect();
    let place = |f: &str| files.iter().position(|&g| g == f).unwrap();
    let missing_at = place(&missing);
    assert!(
        place(&s(&blank)) < missing_at && missing_at < place(&file),
        "{files:?}"
    );
    assert!(entries[missing_at]["error"]
        .as_str()
        .is_some_and(|e| e.contains("no such file or folder")));
    let blank = s(&blank);
    let of = |f: &str| -> Vec<&serde_json::Value> {
        (entries.iter())
            .filter(|e| e["file"].as_str() == Some(f))
            .collect()
    };
    assert!(!of(&blank).is_empty() && of(&blank).iter().all(|e| e["flat"] == true));
    assert!(!of(&file).is_empty());
    assert!(of(&file)
        .iter()
        .all(|e| e.get("flat").is_none() && e.get("error").is_none()));
    assert_eq!(entries.len(), 1 + of(&blank).len() + of(&file).len());
    let empty = root.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let err = fails(&format!("predict --checkpoint {checkpoint} {}", s(&empty)));
    assert!(err.contains("empty: holds nothing to predict"), "{err}");

    // A reader that stops early closes the pipe: the rest of the output is dropped quietly.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_polyvit"))
        .args(["predict", "--checkpoint", &checkpoint, &s(&data)])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !stderr.contains("panicked"),
        "{stderr}"
    );

    // The folder moves: the checkpoint is scored, and its run resumed, once told where it is
    // now; a folder of other files is refused as such.
    let moved = root.join("moved");
    std::fs::rename(&data, &moved).unwrap();
    let err = fails(&format!("eval --checkpoint {checkpoint}"));
    assert!(
        err.contains(
            "no such folder; if it moved, say where it is now with --task-dir stripes=DIR"
        ),
        "{err}"
    );
    let task_dir = format!("--task-dir stripes={}", s(&moved));
    let scored = succeeds(&format!("eval --checkpoint {checkpoint} {task_dir}"));
    assert!(
        scored.contains("stripes ") && scored.contains("(step 30)"),
        "{scored}"
    );
    let resumed = succeeds(&format!("train --resume {checkpoint} {task_dir}"));
    assert!(resumed.contains("the run ended at step 30"), "{resumed}");
    // A finished run reads no data, so where its folder is now does not matter.
    let resumed = succeeds(&format!("train --resume {checkpoint}"));
    assert!(resumed.contains("the run ended at step 30"), "{resumed}");
    let err = fails(&format!(
        "eval --checkpoint {checkpoint} --task-dir mnist={}",
        s(&moved)
    ));
    assert!(
        err.contains("the run reads no task mnist from a folder (it reads stripes from folders)"),
        "{err}"
    );
    let other = root.join("other");
    stripes(&other, "horizontal", 6, true);
    stripes(&other, "vertical", 8, false);
    let err = fails(&format!(
        "eval --checkpoint {checkpoint} --task-dir stripes={}",
        s(&other)
    ));
    assert!(
        err.contains(
            "was trained on other inputs than it reads now: the examples' classes \
                      (files added, removed or moved between classes)"
        ) && err.contains("In detail: labels: "),
        "{err}"
    );
    std::fs::remove_dir_all(&root).ok();
}

/// The help texts of the commands that read the user's files name the video files they read.
/// 3 s at 8 kHz of uniform noise of peak 0.1 (a seeded ChaCha stream), with a 300 Hz tone of
/// peak 0.26 (10 dB over the noise) from 1 to 1.4 s when `burst`: a word-long sound.
fn noise_recording(burst: bool) -> Vec<u8> {
    let mut rng = ChaCha8Rng::seed_from_u64(0x2545_f491);
    let samples: Vec<f32> = (0..24_000)
        .map(|t| {
            let noise = rng.gen_range(-0.1..0.1);
            let tone = 0.26 * (std::f32::consts::TAU * 300.0 * t as f32 / 8000.0).sin();
            noise
                + if burst && (8000..11_200).contains(&t) {
                    tone
                } else {
                    0.0
                }
        })
        .collect();
    polyvit::data::wav::encode_wav16(8000, &samples)
}

/// A recording for a task of words that holds none standing out of its steady noise is
/// predicted with a note that its answer says little (in JSON, `"no_sound": true`); a
/// word-long sound over the same noise is predicted without one.
#[test]
fn recordings_of_noise_alone_are_named() {
    let root = fresh("noise-alone");
    let run = root.join("run");
    succeeds(&format!(
        "train --tasks spoken_digits --preset tiny --steps 2 --eval-every 0 --output {}",
        s(&run)
    ));
    let checkpoint = s(&run.join("checkpoint.safetensors"));
    let (noise, word) = (root.join("noise.wav"), root.join("word.wav"));
    std::fs::write(&noise, noise_recording(false)).unwrap();
    std::fs::write(&word, noise_recording(true)).unwrap();
    let out = polyvit(&format!(
        "predict --checkpoint {checkpoint} {} {}",
        s(&noise),
        s(&word)
    ));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let note = format!(
        "note: task spoken_digits: {} holds no sound that stands out of its background \
         (steady noise or a tone throughout), so its prediction says little",
        s(&noise)
    );
    assert!(stderr.contains(&note), "{stderr}");
    assert!(!stderr.contains("word.wav holds"), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("noise.wav [spoken_digits]"), "{stdout}");
    let json = succeeds(&format!(
        "predict --checkpoint {checkpoint} --json {} {}",
        s(&noise),
        s(&word)
    ));
    let entries: serde_json::Value = serde_json::from_str(&json).unwrap();
    let marked: Vec<(&str, bool)> = (entries.as_array().unwrap().iter())
        .map(|e| (e["file"].as_str().unwrap(), e.get("no_sound").is_some()))
        .collect();
    assert_eq!(
        marked,
        [(s(&noise).as_str(), true), (s(&word).as_str(), false)]
    );
    assert!(entries[0]["no_sound"] == true && entries[0].get("flat").is_none());
    std::fs::remove_dir_all(&root).ok();
}

#[test]
fn help_texts_name_video_files() {
    for command in ["train", "predict"] {
        let help = succeeds(&format!("{command} --help"));
        assert!(
            help.contains("video files (MP4, WebM, AVI, MKV, MOV; with the ffmpeg feature)"),
            "{command}: {help}"
        );
    }
}

/// A link back to a folder above it is walked once, not until the system's limit on nested
/// links, and the folder reached again through it is named; a picture named twice, or named and
/// inside a named folder, is predicted once, and said so.
#[cfg(unix)]
#[test]
fn predict_walks_each_folder_once() {
    let root = fresh("links");
    let data = root.join("data");
    stripes(&data, "horizontal", 4, true);
    stripes(&data, "vertical", 4, false);
    let out = s(&root.join("run"));
    succeeds(&format!(
        "train --tasks stripes --task stripes={} --preset tiny --steps 2 --output {out}",
        s(&data)
    ));
    std::os::unix::fs::symlink("..", data.join("vertical/up")).unwrap();
    std::os::unix::fs::symlink("../vertical", data.join("horizontal/sideways")).unwrap();
    std::os::unix::fs::symlink("../nowhere", data.join("horizontal/gone")).unwrap();
    // Each picture once, whatever the paths named: stdout and stderr.
    let predict = |inputs: &str| {
        let run = polyvit(&format!(
            "predict --checkpoint {out}/checkpoint.safetensors {inputs}"
        ));
        assert!(run.status.success());
        let (stdout, stderr) = (
            String::from_utf8(run.stdout).unwrap(),
            String::from_utf8(run.stderr).unwrap(),
        );
        assert_eq!(stdout.lines().count(), 8, "each picture once: {stdout}");
        (stdout, stderr)
    };
    let (_, stderr) = predict(&s(&data));
    assert!(
        stderr.contains("skipped 2 folder(s) walked once already, named twice or reached again")
            && stderr.contains("skipped 1 broken link(s), whose target does not exist")
            && !stderr.contains("that are not")
            && !stderr.contains("predicted"),
        "{stderr}"
    );
    let picture = data.join("vertical/2.png");
    let (stdout, stderr) = predict(&format!(
        "{} {} {}/../vertical",
        s(&picture),
        s(&data),
        s(&data.join("horizontal"))
    ));
    assert!(
        stdout.lines().next().unwrap().contains("vertical/2.png")
            && stderr.contains(
                "predicted 1 input(s) once that were named twice, or named and also inside a \
                 named folder"
            )
            && stderr.contains("skipped 3 folder(s) walked once already"),
        "{stdout}\n{stderr}"
    );
    std::fs::remove_dir_all(&root).ok();
}

#[test]
fn image_audio_and_video_folders_co_train_and_predict() {
    let root = fresh("three");
    stripes(&root.join("pics"), "horizontal", 4, true);
    stripes(&root.join("pics"), "vertical", 4, false);
    tones(&root.join("tones"), "low", 4, 300.0);
    tones(&root.join("tones"), "high", 4, 2500.0);
    // FLAC and Ogg Vorbis clips train next to WAV ones (tones of 200 and 320 Hz).
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/audio");
    for name in ["tones.flac", "tone.ogg"] {
        std::fs::copy(fixtures.join(name), root.join("tones/low").join(name)).unwrap();
    }
    clips(&root.join("clips"), "down", 4, true);
    clips(&root.join("clips"), "up", 4, false);
    let (out, checkpoint) = (
        s(&root.join("run")),
        s(&root.join("run/checkpoint.safetensors")),
    );
    let task = |name: &str| format!("--task {name}={}", s(&root.join(name)));
    let log = succeeds(&format!(
        "train --tasks pics,tones,clips {} {} {} --preset tiny --steps 12 --eval-every 0 \
         --output {out}",
        task("pics"),
        task("tones"),
        task("clips")
    ));
    assert!(
        log.contains("co-training 3 tasks (pics, tones, clips)"),
        "{log}"
    );
    let text = succeeds(&format!(
        "predict --checkpoint {checkpoint} --top 1 {} {} {}",
        s(&root.join("pics/vertical/1.png")),
        s(&root.join("tones/high/2.wav")),
        s(&root.join("tones/low/tones.flac"))
    ));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[0].contains("1.png [pics] ")
            && lines[1].contains("2.wav [tones] ")
            && lines[2].contains("tones.flac [tones] "),
        "{text}"
    );
    assert!(
        lines[1].contains(" high ") || lines[1].contains(" low "),
        "{text}"
    );
    // With a video task, folders of frames are clips: a class folder walks to its 4 clips.
    let text = succeeds(&format!(
        "predict --checkpoint {checkpoint} --task clips {}",
        s(&root.join("clips/up"))
    ));
    assert_eq!(text.lines().count(), 4, "{text}");
    assert!(
        text.lines()
            .all(|l| l.contains(" [clips] ") && l.contains("down") && l.contains("up")),
        "{text}"
    );
    let err = fails(&format!(
        "predict --checkpoint {checkpoint} --task clips {}",
        s(&root.join("pics/vertical/1.png"))
    ));
    assert!(
        err.contains("1.png: an image input, but task clips takes video inputs"),
        "{err}"
    );
    // Without --task, a checkpoint with image tasks reads frames as pictures, and says so.
    let out = polyvit(&format!(
        "predict --checkpoint {checkpoint} {}",
        s(&root.join("clips/up"))
    ));
    let notes = String::from_utf8_lossy(&out.stderr);
    assert!(
        notes.contains("note: the pictures in 4 folder(s) were each read as one picture")
            && notes.contains("a clip's frames, --task clips reads it as one clip"),
        "{notes}"
    );
    // One task picked out of a mixed folder: the other modalities' files met while walking are
    // skipped with one note, not errors.
    let out = polyvit(&format!(
        "predict --checkpoint {checkpoint} --task tones {}",
        s(&root)
    ));
    let (text, notes) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{notes}");
    assert_eq!(text.lines().count(), 10, "{text}");
    assert!(text.lines().all(|l| l.contains(" [tones] ")), "{text}");
    // The 8 pictures and the 6 frames of each of the 8 clips.
    assert!(
        notes.contains("skipped 56 file(s) that no task here takes (they take audio inputs"),
        "{notes}"
    );
    let err = fails(&format!(
        "predict --checkpoint {checkpoint} --task tones {}",
        s(&root.join("pics"))
    ));
    assert!(
        err.contains("holds nothing to predict: it holds only image inputs"),
        "{err}"
    );
    std::fs::remove_dir_all(&root).ok();
}

/// A given test split that lacks one of the training classes trains, and the log says which
/// class its score leaves out (the carved validation split has every class: no note for it).
/// Writes `dir/name` with `ffmpeg -v error -y ARGS... PATH`.
#[cfg(feature = "ffmpeg")]
fn ffmpeg(dir: &Path, name: &str, args: &str) -> PathBuf {
    let path = dir.join(name);
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y"])
        .args(args.split_whitespace())
        .arg(&path)
        .status()
        .expect("ffmpeg runs");
    assert!(status.success(), "ffmpeg writes {}", path.display());
    path
}

/// With an audio task and no video task, the video files met while walking are looked into: a
/// recording in a video container (a voice memo as MP4, a WebM recording) is predicted as
/// audio, in the order of the walk; a file with pictures is left out with the other inputs no
/// task takes, and named on its own it is told that the task takes audio.
#[cfg(feature = "ffmpeg")]
#[test]
fn recordings_in_video_containers_are_predicted_by_an_audio_task() {
    let root = fresh("memos");
    tones(&root.join("tones"), "low", 3, 300.0);
    tones(&root.join("tones"), "high", 3, 2500.0);
    let checkpoint = s(&root.join("run/checkpoint.safetensors"));
    succeeds(&format!(
        "train --tasks tones --task tones={} --preset tiny --steps 4 --eval-every 0 --output {}",
        s(&root.join("tones")),
        s(&root.join("run"))
    ));
    let memos = root.join("memos");
    std::fs::create_dir_all(&memos).unwrap();
    let sine = "-f lavfi -i sine=frequency=400:duration=0.5";
    for name in ["a.mp4", "c.mov", "e.mp4"] {
        ffmpeg(&memos, name, &format!("{sine} -c:a aac"));
    }
    ffmpeg(&memos, "d.webm", &format!("{sine} -c:a libopus"));
    let film = ffmpeg(
        &memos,
        "b.mp4",
        &format!("-f lavfi -i testsrc=size=32x32:rate=5:duration=1 {sine} -c:v mpeg4 -c:a aac"),
    );
    std::fs::copy(root.join("tones/low/0.wav"), memos.join("f.wav")).unwrap();
    let out = polyvit(&format!("predict --checkpoint {checkpoint} {}", s(&memos)));
    let (text, notes) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{notes}");
    let files: Vec<&str> = (text.lines())
        .map(|l| l.split(" [tones] ").next().unwrap())
        .collect();
    let want: Vec<String> = ["a.mp4", "c.mov", "d.webm", "e.mp4", "f.wav"]
        .iter()
        .map(|name| s(&memos.join(name)))
        .collect();
    assert_eq!(files, want, "{text}");
    assert!(
        notes.contains(&format!(
            "skipped 1 file(s) that no task here takes (they take audio inputs; the first: {})",
            s(&film)
        )),
        "{notes}"
    );
    let err = fails(&format!("predict --checkpoint {checkpoint} {}", s(&film)));
    assert!(
        err.contains("b.mp4: no task of the checkpoint takes video inputs"),
        "{err}"
    );
    std::fs::remove_dir_all(&root).ok();
}

#[test]
fn a_test_split_lacking_a_class_is_named() {
    let root = fresh("lacking");
    let data = root.join("pics");
    for (class, horizontal) in [("across", true), ("down", false), ("both", true)] {
        stripes(&data.join("train"), class, 6, horizontal);
    }
    stripes(&data.join("test"), "across", 2, true);
    stripes(&data.join("test"), "down", 2, false);
    let log = succeeds(&format!(
        "train --tasks pics --task pics={} --preset tiny --steps 2 --eval-every 0 --output {}",
        s(&data),
        s(&root.join("run"))
    ));
    assert!(
        log.contains(
            "note: task pics: the test split has no examples of both; its test score says \
             nothing about that class"
        ),
        "{log}"
    );
    assert!(!log.contains("the validation split has no"), "{log}");
    std::fs::remove_dir_all(&root).ok();
}

/// A class of one example among many, as a label typed wrong makes one, is named in the run's
/// header.
#[test]
fn a_class_of_one_example_is_named() {
    let root = fresh("typo");
    let data = root.join("tagged");
    std::fs::create_dir_all(&data).unwrap();
    let mut rows = String::from("file,labels\n");
    for i in 0..40u32 {
        image::GrayImage::from_fn(8, 8, |x, _| image::Luma([((x * 30 + i) % 256) as u8]))
            .save(data.join(format!("{i}.png")))
            .unwrap();
        let label = match i {
            7 => "hihg",
            _ if i % 2 == 0 => "high",
            _ => "low",
        };
        rows += &format!("{i}.png,{label}\n");
    }
    std::fs::write(data.join("labels.csv"), rows).unwrap();
    let log = train_tiny("tagged", &data, &root.join("run"));
    assert!(
        log.contains("note: task tagged: class hihg has only 1 of its")
            && log.contains("a mistyped label, or too few to learn from"),
        "{log}"
    );
    std::fs::remove_dir_all(&root).ok();
}

/// A class only the test split has (a label file's classes are every name it uses) and inputs
/// that are all the same are each named in the run's header; `eval --data` on a label file with
/// split folders scores its test/ examples.
#[test]
fn untrainable_classes_and_blank_inputs_are_named() {
    let root = fresh("unseen");
    let data = root.join("tagged");
    let mut rows = String::from("file,labels\n");
    for (split, n) in [("train", 8u32), ("val", 2), ("test", 3)] {
        std::fs::create_dir_all(data.join(split)).unwrap();
        for i in 0..n {
            image::GrayImage::from_fn(8, 8, |x, _| image::Luma([((x * 30 + i) % 256) as u8]))
                .save(data.join(split).join(format!("{i}.png")))
                .unwrap();
            let label = match (split, i) {
                ("test", 0) => "bird",
                _ if i % 2 == 0 => "cat",
                _ => "dog",
            };
            rows += &format!("{split}/{i}.png,{label}\n");
        }
    }
    std::fs::write(data.join("labels.csv"), rows).unwrap();
    let log = train_tiny("tagged", &data, &root.join("run"));
    assert!(
        log.contains(
            "note: task tagged: class bird has no training example: the model cannot learn it"
        ),
        "{log}"
    );
    assert!(
        !log.contains("every value of every training input"),
        "{log}"
    );
    // Its validation split's chance level (positive rates 1/2, 1/2) is not the test split's
    // (1/3 each), which the table's column holds.
    assert!(
        log.contains("chance is the test split's; the validation split's: tagged 0.500"),
        "{log}"
    );
    // The folder as `eval --data`: its label file's test/ examples are scored.
    let checkpoint = root.join("run").join("checkpoint.safetensors");
    let scored = succeeds(&format!(
        "eval --checkpoint {} --data {}",
        s(&checkpoint),
        s(&data)
    ));
    let test = data.join("test");
    assert!(
        scored.contains(&format!(
            "tagged on {} (3 examples, 3 classes): mAP",
            s(&test)
        )),
        "{scored}"
    );

    let blank = root.join("blank");
    for class in ["a", "b"] {
        std::fs::create_dir_all(blank.join(class)).unwrap();
        for i in 0..5 {
            image::GrayImage::from_pixel(8, 8, image::Luma([77]))
                .save(blank.join(class).join(format!("{i}.png")))
                .unwrap();
        }
    }
    let log = train_tiny("blank", &blank, &root.join("blank-run"));
    assert!(
        log.contains("note: task blank: every value of every training input is the same"),
        "{log}"
    );
    assert!(!log.contains("no training example"), "{log}");
    std::fs::remove_dir_all(&root).ok();
}

#[test]
fn a_label_file_trains_a_multi_label_task_scored_by_sigmoids() {
    let root = fresh("multi");
    let data = root.join("shapes");
    std::fs::create_dir_all(&data).unwrap();
    let mut rows = String::from("file,labels\n");
    for i in 0..10u32 {
        let (horizontal, red) = (i % 2 == 0, i % 3 == 0);
        let img = image::RgbImage::from_fn(12, 12, |x, y| {
            let on = (if horizontal { y } else { x } + i) % 4 < 2;
            image::Rgb(if on {
                [if red { 255 } else { 0 }, 0, 255]
            } else {
                [0; 3]
            })
        });
        img.save(data.join(format!("{i}.png"))).unwrap();
        let labels = [
            (horizontal, "horizontal"),
            (!horizontal, "vertical"),
            (red, "red"),
        ];
        let names: Vec<&str> = labels
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, n)| *n)
            .collect();
        rows += &format!("{i}.png,{}\n", names.join(";"));
    }
    std::fs::write(data.join("labels.csv"), rows).unwrap();
    let (out, checkpoint) = (
        s(&root.join("run")),
        s(&root.join("run/checkpoint.safetensors")),
    );
    succeeds(&format!(
        "train --tasks shapes --task shapes={} --preset tiny --steps 10 --output {out}",
        s(&data)
    ));
    let json = succeeds(&format!(
        "predict --checkpoint {checkpoint} --top 3 --json {}",
        s(&data.join("0.png"))
    ));
    let predictions: serde_json::Value = serde_json::from_str(&json).unwrap();
    let top = predictions[0]["top"].as_array().unwrap();
    let mut names: Vec<&str> = top.iter().map(|c| c["class"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(names, ["horizontal", "red", "vertical"], "{json}");
    let p: Vec<f64> = top
        .iter()
        .map(|c| c["probability"].as_f64().unwrap())
        .collect();
    assert!(p.iter().all(|&p| p > 0.0 && p < 1.0), "{json}");
    assert!(
        (p.iter().sum::<f64>() - 1.0).abs() > 1e-3,
        "independent sigmoids: {json}"
    );
    let scored = succeeds(&format!(
        "eval --checkpoint {checkpoint} --data {}",
        s(&data)
    ));
    assert!(scored.contains("(10 examples, 3 classes): mAP"), "{scored}");
    // A folder whose examples have no class at all has no mAP to report.
    let unlabelled = root.join("unlabelled");
    std::fs::create_dir_all(&unlabelled).unwrap();
    std::fs::copy(data.join("0.png"), unlabelled.join("0.png")).unwrap();
    std::fs::write(unlabelled.join("labels.csv"), "file,labels\n0.png,\n").unwrap();
    let err = fails(&format!(
        "eval --checkpoint {checkpoint} --data {}",
        s(&unlabelled)
    ));
    assert!(err.contains("no example has a class"), "{err}");
    std::fs::remove_dir_all(&root).ok();
}

#[test]
fn bad_folders_stop_training_before_anything_is_written() {
    let root = fresh("bad");
    let data = root.join("data");
    stripes(&data, "horizontal", 5, true);
    std::fs::create_dir_all(data.join("vertical")).unwrap();
    let out = root.join("run");
    let train = format!(
        "train --tasks stripes --task stripes={} --preset tiny --steps 2 --output {}",
        s(&data),
        s(&out)
    );
    let err = fails(&train);
    assert!(
        err.contains("task stripes: ") && err.contains("vertical: empty class folder"),
        "{err}"
    );
    assert!(!out.exists(), "nothing is written");
    stripes(&data, "vertical", 1, false);
    let err = fails(&train);
    assert!(
        err.contains("class vertical has 1 example: too few"),
        "{err}"
    );
    let file = root.join("a-file");
    std::fs::write(&file, "").unwrap();
    // Enough vertical stripes that the checks below are the ones that fail.
    stripes(&data, "vertical", 3, false);
    let config = root.join("odd-size.toml");
    std::fs::write(
        &config,
        format!(
            "[[task]]\nname = \"stripes\"\nsteps = 2\nbatch_size = 4\nlr = 0.001\n\
             [task.data]\npath = \"{}\"\nsize = [30, 30]\n",
            s(&data)
        ),
    )
    .unwrap();
    let beside_mnist = root.join("beside-mnist.toml");
    let mnist = "[[task]]\nname = \"mnist\"\nsteps = 2\nbatch_size = 4\nlr = 0.001\n";
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &beside_mnist,
        format!("{mnist}{}", text.replace("30, 30", "28, 56")),
    )
    .unwrap();
    let mnist_patch = root.join("mnist-patch.toml");
    std::fs::write(&mnist_patch, format!("[patches]\nimage = [5, 5]\n{mnist}")).unwrap();
    let (data, root, out) = (s(&data), s(&root), s(&out));
    let cases = [
        (
            format!("train --task mnist={data} --output {out}"),
            "task mnist: a built-in task's name; the task of the folder",
        ),
        (
            format!("train --task nodir --output {out}"),
            "expected NAME=DIR",
        ),
        (
            format!("train --tasks gone --task gone={root}/gone --output {out}"),
            "gone: no such folder",
        ),
        (
            format!(
                "train --tasks stripes --task stripes={} --output {out}",
                s(&file)
            ),
            "a-file: not a folder (a task folder holds one subfolder per class)",
        ),
        (
            format!("train --tasks mnist --steps 1 --output {}", s(&file)),
            "a-file: the output folder is a file",
        ),
        // The output folder is checked before any data is read (a full suite's takes minutes).
        (
            format!(
                "train --tasks gone --task gone={root}/gone --output {}",
                s(&file)
            ),
            "a-file: the output folder is a file",
        ),
        (
            format!("train --tasks mnist --steps 1 --output {}/run", s(&file)),
            "a-file is a file; give --output a folder",
        ),
        // A patch that does not tile the pictures names the task and the keys to change.
        (
            format!("train --config {} --output {out}", s(&config)),
            "task stripes: image tokenizer: patch [7, 7] does not tile input [3, 30, 30]; \
             choose patches.image (or the folder task's size or frames) so that it does",
        ),
        // A built-in task's pictures have their size: only the patch is the user's to change.
        (
            format!("train --config {} --output {out}", s(&mnist_patch)),
            "does not tile input [1, 28, 28]; choose patches.image so that it does",
        ),
        // Tasks of one modality share its tokenizer: the clash names both tasks.
        (
            format!("train --config {} --output {out}", s(&beside_mnist)),
            "task stripes has image examples of shape [1, 28, 56], task mnist has [1, 28, 28]",
        ),
        // A task is one folder, and --tasks names every task trained.
        (
            format!("train --task stripes={data} --task stripes={root} --output {out}"),
            "two folders for task stripes",
        ),
        (
            format!("train --tasks mnist --task stripes={data} --output {out}"),
            "stripes is not among --tasks (mnist)",
        ),
    ];
    for (line, says) in cases {
        let err = fails(&line);
        assert!(err.contains(says), "{line}: {err}");
    }
    assert!(!Path::new(&out).exists(), "nothing is written");
    std::fs::remove_dir_all(&root).ok();
}

/// A size the patch cannot tile, one whose single example's attention maps would not fit in
/// memory, or one that differs from another task's of the modality, is refused before the
/// first pass: the broken file beside the pictures, which the
/// first pass would name, is never decoded.
#[test]
fn impossible_sizes_are_refused_before_any_file_is_decoded() {
    let root = fresh("sizes");
    let data = root.join("data");
    stripes(&data, "horizontal", 4, true);
    stripes(&data, "vertical", 4, false);
    // A PNG cut short (the configurations below set the channels, so the scan need not read
    // any picture).
    let whole = std::fs::read(data.join("vertical").join("0.png")).unwrap();
    std::fs::write(data.join("vertical").join("broken.png"), &whole[..40]).unwrap();
    let out = root.join("run");
    let cases = [
        (
            "[30, 30]",
            "task stripes: image tokenizer: patch [7, 7] does not tile input [3, 30, 30]",
        ),
        (
            "[7000, 7000]",
            "task stripes: one example's attention maps in a training step alone take",
        ),
    ];
    for (size, says) in cases {
        let config = root.join("config.toml");
        std::fs::write(
            &config,
            format!(
                "preset = \"tiny\"\n[[task]]\nname = \"stripes\"\nsteps = 2\nbatch_size = 4\n\
                 lr = 0.001\n[task.data]\npath = \"{}\"\nsize = {size}\nchannels = 3\n",
                s(&data)
            ),
        )
        .unwrap();
        let config = s(&config);
        let lines = [
            format!("train --config {config} --output {}", s(&out)),
            format!("info --config {config}"),
        ];
        for line in lines {
            let err = fails(&line);
            assert!(
                err.contains(says) && !err.contains("broken.png"),
                "{line}: {err}"
            );
        }
    }
    // A size other than the shape of a built-in task of the same modality, whose tokenizer
    // the folder task would share, is refused as early.
    let config = root.join("beside-mnist.toml");
    std::fs::write(
        &config,
        format!(
            "preset = \"tiny\"\n[[task]]\nname = \"mnist\"\nsteps = 2\nbatch_size = 4\n\
             lr = 0.001\n[[task]]\nname = \"stripes\"\nsteps = 2\nbatch_size = 4\n\
             lr = 0.001\n[task.data]\npath = \"{}\"\nsize = [28, 56]\nchannels = 1\n",
            s(&data)
        ),
    )
    .unwrap();
    let err = fails(&format!(
        "train --config {} --output {}",
        s(&config),
        s(&out)
    ));
    assert!(
        err.contains(
            "task stripes has image examples of shape [1, 28, 56], task mnist has [1, 28, 28]"
        ) && !err.contains("broken.png"),
        "{err}"
    );
    assert!(!out.exists(), "nothing is written");
    // The same folder at a size that fits reaches the first pass, which names the broken file.
    let err = fails(&format!(
        "train --tasks stripes --task stripes={} --preset tiny --steps 2 --output {}",
        s(&data),
        s(&out)
    ));
    assert!(err.contains("broken.png"), "{err}");
    std::fs::remove_dir_all(&root).ok();
}

#[test]
fn exported_digits_are_a_folder_task() {
    let root = fresh("export");
    let dir = root.join("digits");
    let said = succeeds(&format!("data export mnist {}", s(&dir)));
    assert!(said.contains("wrote 10000 examples of mnist"), "{said}");
    let count = |p: PathBuf| std::fs::read_dir(p).unwrap().count();
    let train: usize = (0..10).map(|d| count(dir.join(format!("train/{d}")))).sum();
    assert_eq!(train, 8100);
    assert_eq!(count(dir.join("test/0")), 100);
    let digit = image::open(dir.join("test/0/00000.png")).unwrap();
    assert_eq!((digit.width(), digit.height()), (28, 28));
    let err = fails(&format!("data export mnist {}", s(&dir)));
    assert!(err.contains("already exists"), "{err}");
    let err = fails(&format!("data export drums {}", s(&root.join("drums"))));
    assert!(err.contains("multi-label"), "{err}");
    assert!(
        !root.join("drums").exists(),
        "a failed export leaves nothing"
    );
    std::fs::remove_dir_all(&root).ok();
}

#[test]
fn a_folder_task_streamed_by_its_configuration_trains_as_one_in_memory() {
    let root = fresh("stream");
    let data = root.join("stripes");
    stripes(&data, "horizontal", 6, true);
    stripes(&data, "vertical", 6, false);
    let config = succeeds(&format!(
        "train --tasks stripes --task stripes={} --preset tiny --steps 6 --eval-every 0 \
         --print-config",
        s(&data)
    ));
    assert!(config.contains("cache = \"auto\""), "{config}");
    let mut steps = Vec::new();
    for cache in ["memory", "stream"] {
        let file = root.join(format!("{cache}.toml"));
        let text = config.replace("cache = \"auto\"", &format!("cache = \"{cache}\""));
        std::fs::write(&file, text).unwrap();
        let out = root.join(cache);
        let run = polyvit(&format!("train --config {} --output {}", s(&file), s(&out)));
        let said = String::from_utf8_lossy(&run.stderr);
        assert!(run.status.success(), "{said}");
        assert_eq!(
            said.contains("MiB) are streamed from its files"),
            cache == "stream",
            "{said}"
        );
        steps.push(std::fs::read_to_string(out.join("steps.jsonl")).unwrap());
    }
    assert_eq!(steps[0].lines().count(), 6);
    assert_eq!(steps[0], steps[1], "the same losses and gradient norms");
    std::fs::write(
        root.join("bad.toml"),
        config.replace("\"auto\"", "\"disk\""),
    )
    .unwrap();
    let err = fails(&format!("train --config {}", s(&root.join("bad.toml"))));
    assert!(err.contains("unknown variant `disk`"), "{err}");
    std::fs::remove_dir_all(&root).ok();
}

/// Glyphs centred by their bounding box, not by mass (an "L" in four orientations at 78 % on
/// black, the box in the middle), are read in that form: the task's own test files score as in
/// training. Re-centred by mass at full intensity, as every glyph task's pictures once were,
/// they read at chance or below.
#[test]
fn box_centred_glyphs_are_read_as_they_were_trained() {
    let root = fresh("box-glyphs");
    let data = root.join("letters");
    // The L's stem (3 × 20) and foot (12 × 3) in a 12 × 20 box at columns 8–19, rows 4–23.
    let stroke = |x: u32, y: u32| {
        let (x, y) = (x as i64 - 8, y as i64 - 4);
        (0..12).contains(&x) && (0..20).contains(&y) && (x < 3 || y >= 17)
    };
    /// Where a pixel of the turned letter comes from in the upright one.
    type Turn = fn(u32, u32) -> (u32, u32);
    let orientations: [(&str, Turn); 4] = [
        ("upright", |x, y| (x, y)),
        ("mirrored", |x, y| (27 - x, y)),
        ("upside_down", |x, y| (x, 27 - y)),
        ("turned", |x, y| (27 - x, 27 - y)),
    ];
    for split in ["train", "val", "test"] {
        for (class, turn) in orientations {
            let folder = data.join(split).join(class);
            std::fs::create_dir_all(&folder).unwrap();
            for i in 0..12u32 {
                let letter = image::GrayImage::from_fn(28, 28, |x, y| {
                    let (x, y) = turn(x, y);
                    image::Luma([if stroke(x, y) { 200 } else { (i % 3) as u8 }])
                });
                letter.save(folder.join(format!("{i}.png"))).unwrap();
            }
        }
    }
    let out = root.join("run");
    let said = succeeds(&format!(
        "train --tasks letters --task letters={} --preset tiny --steps 300 --eval-every 0 \
         --output {}",
        s(&data),
        s(&out)
    ));
    assert!(
        said.contains("letters                  image  top1         1.000    1.000"),
        "{said}"
    );
    let scored = polyvit(&format!(
        "eval --checkpoint {} --data {}",
        s(&out.join("checkpoint.safetensors")),
        s(&data.join("test"))
    ));
    let (told, noted) = (
        String::from_utf8_lossy(&scored.stdout),
        String::from_utf8_lossy(&scored.stderr),
    );
    assert!(noted.contains("centred by its bounding box"), "{noted}");
    assert!(told.contains("top1 1.000"), "{told}");
    std::fs::remove_dir_all(&root).ok();
}

/// A streamed task whose files go away in the middle of the run stops it with the file's name,
/// a checkpoint of the step it reached and the way to go on; once the files are back, the run
/// resumes after that step. The task is read in grey, so the checkpoint's description of it
/// holds a glyph frame measured on its training files: measured before the first step, not
/// when the files are gone (no checkpoint was saved before).
#[cfg(unix)]
#[test]
fn a_streamed_file_gone_mid_run_saves_the_run_for_a_resume() {
    let root = fresh("gone");
    let data = root.join("stripes");
    stripes(&data, "horizontal", 6, true);
    stripes(&data, "vertical", 6, false);
    let config = root.join("stream.toml");
    std::fs::write(
        &config,
        format!(
            "preset = \"tiny\"\neval_every = 0\n[[task]]\nname = \"stripes\"\nsteps = 100000\n\
             batch_size = 4\nlr = 0.001\n[task.data]\npath = \"{}\"\ncache = \"stream\"\n\
             channels = 1\n",
            s(&data)
        ),
    )
    .unwrap();
    let out = root.join("run");
    let child = Command::new(env!("CARGO_BIN_EXE_polyvit"))
        .args(["train", "--config", &s(&config), "--output", &s(&out)])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("polyvit runs");
    let steps = out.join("steps.jsonl");
    let started = std::time::Instant::now();
    while std::fs::read_to_string(&steps).map_or(true, |s| s.is_empty()) {
        assert!(started.elapsed().as_secs() < 300, "no step logged");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let away = root.join("away");
    std::fs::rename(&data, &away).unwrap();
    let run = child.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{said}");
    let checkpoint = out.join("checkpoint.safetensors");
    let hint = format!(
        "checkpoint saved; once the file reads again, continue with --resume {}",
        s(&checkpoint)
    );
    assert!(
        said.contains(&format!("error: {}", s(&data))) && said.contains(&hint),
        "{said}"
    );
    let stopped_at: u64 = said
        .split("stopped at step ")
        .nth(1)
        .and_then(|rest| rest.split(':').next())
        .and_then(|step| step.parse().ok())
        .unwrap_or_else(|| panic!("no step in {said}"));
    assert!(stopped_at > 0, "{said}");
    // Back in place, the files are the ones the checkpoint trained on: the run goes on.
    std::fs::rename(&away, &data).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_polyvit"))
        .args(["train", "--resume", &s(&checkpoint)])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("polyvit runs");
    let logged = |step: u64| {
        std::fs::read_to_string(&steps)
            .unwrap()
            .contains(&format!("\"step\":{step},"))
    };
    let started = std::time::Instant::now();
    while !logged(stopped_at + 1) {
        assert!(
            started.elapsed().as_secs() < 300,
            "the resumed run logs no step"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    let resumed = child.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&resumed.stdout);
    assert!(
        said.contains(&format!("resuming after step {stopped_at}")),
        "{said}"
    );
    std::fs::remove_dir_all(&root).ok();
}

/// A task trained on glyphs on a plain background (light bars on black, as MNIST's digits)
/// reads new pictures in its training images' form: a dark bar drawn on white paper, larger and
/// off-centre, is made light on black, scaled and centred first; `--as-is` only resizes it.
#[test]
fn pictures_for_a_glyph_task_are_brought_to_its_training_form() {
    let root = fresh("glyphs");
    let data = root.join("bars");
    for (class, horizontal) in [("horizontal", true), ("vertical", false)] {
        std::fs::create_dir_all(data.join(class)).unwrap();
        for i in 0..24u32 {
            let at = (4 + i % 6, 4 + (i / 6) % 6);
            bar(28, 28, horizontal, at, 16, 3, 255, 0)
                .save(data.join(class).join(format!("{i}.png")))
                .unwrap();
        }
    }
    let out = root.join("run");
    succeeds(&format!(
        "train --tasks bars --task bars={} --preset tiny --steps 80 --eval-every 0 --output {}",
        s(&data),
        s(&out)
    ));
    let checkpoint = s(&out.join("checkpoint.safetensors"));
    let paper = root.join("paper");
    for (class, horizontal) in [("horizontal", true), ("vertical", false)] {
        std::fs::create_dir_all(paper.join(class)).unwrap();
        for i in 0..4u32 {
            bar(
                300,
                200,
                horizontal,
                (40 + 30 * i, 20 + 10 * i),
                120,
                20,
                10,
                240,
            )
            .save(paper.join(class).join(format!("{i}.png")))
            .unwrap();
        }
    }
    let framed = polyvit(&format!(
        "predict --checkpoint {checkpoint} --top 1 --json {}",
        s(&paper)
    ));
    let said = String::from_utf8_lossy(&framed.stderr);
    assert!(framed.status.success(), "{said}");
    assert!(
        said.contains(
            "task bars: pictures were read in the form of its training images: a light \
                       glyph on a dark background (whatever the picture's polarity), scaled to 16 \
                       pixels and centred by mass"
        ),
        "{said}"
    );
    let predictions: serde_json::Value = serde_json::from_slice(&framed.stdout).unwrap();
    for p in predictions.as_array().unwrap() {
        let file = p["file"].as_str().unwrap();
        let class = p["top"][0]["class"].as_str().unwrap();
        assert!(file.contains(&format!("/{class}/")), "{p}");
    }
    let scored = polyvit(&format!(
        "eval --checkpoint {checkpoint} --data {}",
        s(&paper)
    ));
    let said = String::from_utf8_lossy(&scored.stdout);
    assert!(
        said.contains("(8 examples, 2 classes): top1 1.000"),
        "{said}"
    );
    let as_is = polyvit(&format!(
        "predict --checkpoint {checkpoint} --as-is {}",
        s(&paper)
    ));
    assert!(as_is.status.success());
    assert!(!String::from_utf8_lossy(&as_is.stderr).contains("form of its training images"));
    // Only resized, the same pictures are a grey smear of a bar the model barely tells apart.
    let scored = succeeds(&format!(
        "eval --checkpoint {checkpoint} --data {} --as-is",
        s(&paper)
    ));
    assert!(!scored.contains("top1 1.000"), "{scored}");
    std::fs::remove_dir_all(&root).ok();
}

/// `n` WAV clips in `dir/class` of a tone of `freq` Hz lasting 0.3 s after 1.5–2 s of faint
/// noise and before 0.5 s more (8 kHz, 16-bit): the middle second of each holds only noise.
fn late_tones(dir: &Path, class: &str, n: usize, freq: f32) {
    let class_dir = dir.join(class);
    std::fs::create_dir_all(&class_dir).unwrap();
    for i in 0..n {
        let lead = 12_000 + 700 * i;
        let samples: Vec<f32> = (0..lead + 2_400 + 4_000)
            .map(|t| {
                let hash = (t as u32 ^ i as u32).wrapping_mul(2_654_435_761) >> 8;
                let noise = 0.002 * (hash as f32 / (1u32 << 24) as f32 - 0.5);
                let phase = std::f32::consts::TAU * freq * t as f32 / 8000.0;
                noise
                    + if (lead..lead + 2_400).contains(&t) {
                        0.5 * phase.sin()
                    } else {
                        0.0
                    }
            })
            .collect();
        let bytes = polyvit::data::wav::encode_wav16(8000, &samples);
        std::fs::write(class_dir.join(format!("{i}.wav")), bytes).unwrap();
    }
}

/// A folder task hears each recording around its loudest sound; a run that heard the middle,
/// trained before `window` existed (its configuration without the key), is still scored on
/// the middle, as it trained, instead of being refused as trained on other inputs.
#[test]
fn runs_of_recordings_heard_in_their_middle_are_scored_as_they_trained() {
    let root = fresh("late");
    late_tones(&root.join("late"), "low", 5, 300.0);
    late_tones(&root.join("late"), "high", 5, 2500.0);
    let config = root.join("middle.toml");
    std::fs::write(
        &config,
        format!(
            "preset = \"tiny\"\n[[task]]\nname = \"late\"\nsteps = 2\nbatch_size = 4\nlr = 0.001\n\
             [task.data]\npath = \"{}\"\nwindow = \"middle\"\n",
            s(&root.join("late"))
        ),
    )
    .unwrap();
    let run = root.join("run");
    succeeds(&format!(
        "train --config {} --output {}",
        s(&config),
        s(&run)
    ));
    let path = run.join("checkpoint.safetensors");
    let scored = succeeds(&format!("eval --checkpoint {}", s(&path)));
    // The checkpoint as a run from before the key wrote it: no window in its configuration
    // (and none in its task descriptions, where the middle is never written).
    let mut checkpoint = nn::checkpoint::Checkpoint::load(&path).unwrap();
    assert!(!checkpoint.metadata["tasks"].contains("audio_window"));
    let config = checkpoint.metadata["config"].replace("window = \"middle\"\n", "");
    assert_ne!(config, checkpoint.metadata["config"]);
    checkpoint.metadata.insert("config".into(), config);
    checkpoint.save(&path).unwrap();
    assert_eq!(succeeds(&format!("eval --checkpoint {}", s(&path))), scored);

    // Trained now, the task hears the tones: its description says so.
    let run = root.join("loudest");
    train_tiny("late", &root.join("late"), &run);
    let checkpoint = nn::checkpoint::Checkpoint::load(&run.join("checkpoint.safetensors")).unwrap();
    assert!(checkpoint.metadata["tasks"].contains("\"audio_window\":\"loudest\""));
    assert!(!checkpoint.metadata["config"].contains("window"));
    succeeds(&format!(
        "eval --checkpoint {}",
        s(&run.join("checkpoint.safetensors"))
    ));
}
