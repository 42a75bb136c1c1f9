//! What a trained model needs to know about each task to read new files: the input modality and
//! shape, how images are fitted, the training split's standardization and the class names.
//! Stored in the checkpoint's metadata (as JSON under [`TASKS_KEY`]), so `polyvit predict` needs
//! neither the training data nor the embedded suite.

use super::audio::AudioWindow;
use super::dataset::{Dataset, Labels, Modality, Split, Standardization};
use super::error::{DataError, DataResult};
use super::glyph::GlyphFrame;
use super::image_file::Fit;
use super::input_file::InputFormat;
use super::recording::RecordingForm;
use nn::fnv::Fnv1a;
use serde::{Deserialize, Serialize};

/// The checkpoint metadata key of the task descriptions.
pub const TASKS_KEY: &str = "tasks";

/// One task as a trained model sees new inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskInfo {
    /// The task's name (its head in the model).
    pub name: String,
    /// Which tokenizer its inputs go through.
    pub modality: Modality,
    /// Shape of one input.
    pub shape: Vec<usize>,
    /// How images and frames of another aspect ratio are brought to size.
    pub fit: Fit,
    /// Whether each log-mel input has its bands' means removed first (see
    /// [`Dataset::band_mean_removal`]; absent in checkpoints from before it existed).
    #[serde(default)]
    pub band_mean_removal: bool,
    /// Whether each input is normalized on its own before the standardization (see
    /// [`Dataset::example_normalization`]; absent in checkpoints from before it existed).
    #[serde(default)]
    pub example_normalization: bool,
    /// How the training recordings were made, so that new ones are made the same way first
    /// (see [`Dataset::recording_form`]; written only when set, absent in checkpoints from
    /// before it existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording_form: Option<RecordingForm>,
    /// Which window of a longer recording an audio task hears (see [`Dataset::audio_window`];
    /// written only when not the middle, which checkpoints from before it existed heard).
    #[serde(default, skip_serializing_if = "AudioWindow::is_middle")]
    pub audio_window: AudioWindow,
    /// For grey images: what the training images share when they are glyphs on a plain
    /// background (MNIST's digits, Fashion-MNIST's items), so that new pictures are brought to
    /// that form first (see [`GlyphFrame`]); absent for other tasks and in checkpoints from
    /// before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub glyph_frame: Option<GlyphFrame>,
    /// A fingerprint of every split's labels, in order (a 64-bit FNV-1a hash): a run resumed
    /// on files moved between classes is refused even when the inputs' statistics did not move
    /// (written by runs; absent in checkpoints from before it existed, which are not checked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<String>,
    /// The standardization of the training inputs.
    pub standardization: Standardization,
    /// Whether the scores are independent sigmoids (several classes at once).
    pub multi_label: bool,
    /// Class names, in label order.
    pub classes: Vec<String>,
}

impl TaskInfo {
    /// The description of `dataset`, whose images are fitted by `fit`. A streamed training
    /// split's sample for the [`GlyphFrame`] is decoded from its files, so a file that no longer
    /// decodes is an error.
    pub fn of(dataset: &Dataset, fit: Fit) -> DataResult<TaskInfo> {
        Ok(TaskInfo {
            name: dataset.name.clone(),
            modality: dataset.modality,
            shape: dataset.shape.clone(),
            fit,
            band_mean_removal: dataset.band_mean_removal,
            example_normalization: dataset.example_normalization,
            recording_form: dataset.recording_form,
            audio_window: dataset.audio_window,
            glyph_frame: glyph_frame_of(dataset)?,
            labels: Some(labels_fingerprint(dataset)),
            standardization: dataset.standardization,
            multi_label: dataset.multi_label,
            classes: dataset.class_names.clone(),
        })
    }

    /// How files become this task's inputs: pictures framed like the training glyphs only
    /// where those were prepared ([`GlyphFrame::prepared`]), otherwise resized as the training
    /// files were.
    pub fn input_format(&self) -> DataResult<InputFormat> {
        InputFormat::new(self.modality, &self.shape, self.fit)?
            .with_band_mean_removal(self.band_mean_removal)?
            .with_example_normalization(self.example_normalization)
            .with_recording_form(self.recording_form)?
            .with_audio_window(self.audio_window)?
            .with_glyph_frame(self.glyph_frame.filter(GlyphFrame::prepared))
    }

    /// How `predict` and `eval-folder` read files: [`input_format`](Self::input_format), or with
    /// `as_is` the files as they are ([`InputFormat::as_is`], their `--as-is`).
    pub fn file_format(&self, as_is: bool) -> DataResult<InputFormat> {
        let format = self.input_format()?;
        Ok(if as_is { format.as_is() } else { format })
    }

    /// How `rebuilt`, the same task as this build makes it, differs from this description
    /// (each differing field, by its name in the checkpoint, with both values), or `None` when
    /// it does not. Every field is compared, so one added later is too; a glyph frame recorded
    /// before frames measured their centring and contrast, or their range, is compared on what
    /// it recorded.
    pub fn difference(&self, rebuilt: &TaskInfo) -> Option<String> {
        (self.changes(rebuilt).into_iter())
            .map(|(key, then, now)| format!("{key}: {then} in the checkpoint, {now} now"))
            .reduce(|a, b| format!("{a}; {b}"))
    }

    /// What differs between this description and `rebuilt` ([`Self::difference`]), in plain
    /// words: which of the task's inputs changed and what changes them, or `None`.
    pub fn difference_in_words(&self, rebuilt: &TaskInfo) -> Option<String> {
        let words: Vec<String> = (self.changes(rebuilt).into_iter())
            .map(|(key, _, _)| match key.as_str() {
                "labels" => "the examples' classes (files added, removed or moved between \
                             classes)"
                    .to_string(),
                "standardization" => {
                    "the inputs' mean and spread (files added, removed or changed)".to_string()
                }
                "glyph_frame" => "the form of its pictures' glyphs (pictures changed)".to_string(),
                "audio_window" => {
                    "which second of a longer recording it hears (`window` in its [task.data])"
                        .to_string()
                }
                other => format!("its {}", other.replace('_', " ")),
            })
            .collect();
        (!words.is_empty()).then(|| words.join("; "))
    }

    /// Each field of this description that `rebuilt` holds otherwise: its name in the
    /// checkpoint, then this value and `rebuilt`'s.
    fn changes(&self, rebuilt: &TaskInfo) -> Vec<(String, serde_json::Value, serde_json::Value)> {
        let mut rebuilt = rebuilt.clone();
        if let (Some(then), Some(now)) = (self.glyph_frame, rebuilt.glyph_frame.as_mut()) {
            if then.contrast.is_none() {
                (now.centring, now.contrast) = (then.centring, then.contrast);
            }
            if then.range.is_none() {
                now.range = None;
            }
        }
        let rebuilt = &rebuilt;
        let fields = |info: &TaskInfo| match serde_json::to_value(info) {
            Ok(serde_json::Value::Object(fields)) => Some(fields),
            _ => None,
        };
        let (Some(mut then), Some(mut now)) = (fields(self), fields(rebuilt)) else {
            // Not reached (a derived struct serializes to an object); still an answer.
            let whole = || serde_json::Value::String("the task description".into());
            return match self != rebuilt {
                true => vec![("description".into(), whole(), whole())],
                false => Vec::new(),
            };
        };
        // The middle window is left out of a description (so those written before the window
        // existed read as what they heard), but it decides the inputs: compared on both sides.
        for (fields, window) in [
            (&mut then, self.audio_window),
            (&mut now, rebuilt.audio_window),
        ] {
            let window = serde_json::to_value(window).unwrap_or(serde_json::Value::Null);
            fields.entry("audio_window").or_insert(window);
        }
        then.into_iter()
            .filter(|(key, value)| now.get(key) != Some(value))
            .map(|(key, value)| {
                let current = now.get(&key).cloned().unwrap_or(serde_json::Value::Null);
                (key, value, current)
            })
            .collect()
    }

    /// A dataset of this task holding `inputs` (raw, standardized here) with `labels` as its
    /// test split and nothing else: what the model's task specs and the evaluation need.
    pub fn dataset_with(
        &self,
        mut inputs: Vec<f32>,
        labels: Labels,
        len: usize,
    ) -> DataResult<Dataset> {
        self.standardization.apply(&mut inputs);
        let test = Split::new(inputs, labels, len, self.classes.len(), &self.name)?;
        Ok(self.dataset_testing(test))
    }

    /// A dataset of this task with `test` (already standardized) as its test split and nothing
    /// else.
    pub fn dataset_testing(&self, test: Split) -> Dataset {
        let empty = || Split::empty(self.multi_label);
        let mut dataset = Dataset::new(
            &self.name,
            self.modality,
            self.shape.clone(),
            self.classes.clone(),
            self.standardization,
            [empty(), empty(), test],
        );
        dataset.band_mean_removal = self.band_mean_removal;
        dataset.example_normalization = self.example_normalization;
        dataset.recording_form = self.recording_form;
        dataset.audio_window = self.audio_window;
        dataset
    }
}

/// A 64-bit FNV-1a hash, as 16 hex digits, of each split's length and labels (class indices,
/// or the bits of multi-hot rows), training, validation and test in turn: the same however the
/// inputs are held, different when an example changes class or a split changes.
fn labels_fingerprint(dataset: &Dataset) -> String {
    let mut hash = Fnv1a::default();
    let mut eat = |word: u64| {
        hash.bytes(&word.to_le_bytes());
    };
    for split in [&dataset.train, &dataset.validation, &dataset.test] {
        eat(split.len() as u64);
        match &split.labels {
            Labels::Class(classes) => classes.iter().for_each(|&c| eat(c as u64)),
            Labels::MultiHot(rows) => rows.iter().for_each(|v| eat(v.to_bits() as u64)),
        }
    }
    format!("{:016x}", hash.value())
}

/// Training images measured for a [`GlyphFrame`], at most (evenly spaced over the split).
const GLYPH_SAMPLE: usize = 2000;

/// The [`GlyphFrame`] of a grey image task's training split, when its images are glyphs on a
/// plain background: measured on up to [`GLYPH_SAMPLE`] of them, the same ones whether the
/// split is held in memory or streamed from its files (a streamed run's checkpoint reads new
/// pictures as a held one's does).
fn glyph_frame_of(dataset: &Dataset) -> DataResult<Option<GlyphFrame>> {
    let &[1, height, width] = dataset.shape.as_slice() else {
        return Ok(None);
    };
    if dataset.modality != Modality::Image || dataset.example_normalization {
        return Ok(None);
    }
    let count = dataset.train.len();
    let sample: Vec<usize> = (0..count.min(GLYPH_SAMPLE))
        .map(|i| i * count / count.min(GLYPH_SAMPLE))
        .collect();
    let Standardization { mean, std } = dataset.standardization;
    let raw: Vec<f32> = (dataset.train.gather(&sample)?.into_iter())
        .map(|v| v * std + mean)
        .collect();
    Ok(GlyphFrame::measure(&raw, height, width))
}

/// The task descriptions as checkpoint metadata text.
pub fn tasks_to_metadata(tasks: &[TaskInfo]) -> String {
    serde_json::to_string(tasks).expect("task descriptions serialize")
}

/// The task descriptions of checkpoint metadata text; `origin` names the checkpoint in errors.
pub fn tasks_from_metadata(text: &str, origin: &str) -> DataResult<Vec<TaskInfo>> {
    let tasks: Vec<TaskInfo> = serde_json::from_str(text)
        .map_err(|e| DataError::new(origin, format!("corrupt task descriptions: {e}")))?;
    // Inputs are divided by the standard deviation: 0 would make them infinite or NaN, and a
    // negative one would flip them.
    for task in &tasks {
        let Standardization { mean, std } = task.standardization;
        if !(mean.is_finite() && std.is_finite() && std > 0.0) {
            return Err(DataError::new(
                origin,
                format!(
                    "corrupt task descriptions: task {} standardizes its inputs with mean {mean} \
                     and standard deviation {std} (a positive, finite one is needed)",
                    task.name
                ),
            ));
        }
    }
    Ok(tasks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::glyph::Centring;

    /// A two-class image task of 1×2×2 inputs.
    fn pets() -> TaskInfo {
        TaskInfo {
            name: "pets".into(),
            modality: Modality::Image,
            shape: vec![1, 2, 2],
            fit: Fit::Crop,
            band_mean_removal: false,
            example_normalization: false,
            recording_form: None,
            audio_window: AudioWindow::Middle,
            glyph_frame: None,
            labels: None,
            standardization: Standardization {
                mean: 0.5,
                std: 0.25,
            },
            multi_label: false,
            classes: vec!["cat".into(), "dog".into()],
        }
    }

    #[test]
    fn descriptions_round_trip_and_hold_standardized_inputs() {
        let info = pets();
        let text = tasks_to_metadata(std::slice::from_ref(&info));
        assert!(text.contains("\"modality\":\"image\""), "{text}");
        assert_eq!(tasks_from_metadata(&text, "c").unwrap(), vec![info.clone()]);
        let err = tasks_from_metadata("[{}]", "c.safetensors").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("c.safetensors: corrupt task descriptions"),
            "{err}"
        );
        let d = info
            .dataset_with(vec![0.5; 4], Labels::Class(vec![1]), 1)
            .unwrap();
        assert_eq!(
            (d.num_classes, d.test.in_memory()),
            (2, Some(&[0.0; 4][..]))
        );
        // The same description, but for the labels of its one test example.
        let described = TaskInfo::of(&d, Fit::Crop).unwrap();
        assert!(described.labels.is_some());
        assert_eq!(
            TaskInfo {
                labels: None,
                ..described
            },
            info
        );

        // `difference` names each differing field with both values, and nothing else.
        assert_eq!(info.difference(&info.clone()), None);
        let rebuilt = TaskInfo {
            shape: vec![1, 4, 4],
            classes: vec!["cat".into()],
            ..info.clone()
        };
        assert_eq!(
            info.difference(&rebuilt).as_deref(),
            Some(
                "classes: [\"cat\",\"dog\"] in the checkpoint, [\"cat\"] now; \
                 shape: [1,2,2] in the checkpoint, [1,4,4] now"
            )
        );
        // The middle window, left out of the description, still differs from another.
        let heard = |audio_window| TaskInfo {
            modality: Modality::Audio,
            shape: vec![1, 4, 32],
            audio_window,
            ..info.clone()
        };
        let (middle, loudest) = (heard(AudioWindow::Middle), heard(AudioWindow::Loudest));
        assert!(!tasks_to_metadata(std::slice::from_ref(&middle)).contains("audio_window"));
        for (then, now, want) in [
            (
                &middle,
                &loudest,
                "\"middle\" in the checkpoint, \"loudest\" now",
            ),
            (
                &loudest,
                &middle,
                "\"loudest\" in the checkpoint, \"middle\" now",
            ),
        ] {
            let difference = then.difference(now).unwrap();
            assert_eq!(difference, format!("audio_window: {want}"));
            let words = then.difference_in_words(now).unwrap();
            assert!(
                words.starts_with("which second of a longer recording"),
                "{words}"
            );
        }
        assert_eq!(middle.difference(&middle.clone()), None);
    }

    /// A speech task's settings (per-example normalization, band means removed, recordings
    /// trimmed, the loudest window) reach the input format; descriptions written before the
    /// keys existed read as none of them (the middle window), and a middle window is not
    /// written.
    #[test]
    fn speech_settings_reach_the_input_format_and_default_to_off() {
        let info = TaskInfo {
            name: "speech".into(),
            modality: Modality::Audio,
            shape: vec![1, 4, 32],
            fit: Fit::default(),
            band_mean_removal: true,
            example_normalization: true,
            recording_form: Some(RecordingForm::TrimmedSpeech),
            audio_window: AudioWindow::Loudest,
            glyph_frame: None,
            labels: None,
            standardization: Standardization {
                mean: 0.0,
                std: 1.0,
            },
            multi_label: false,
            classes: vec!["a".into(), "b".into()],
        };
        let format = info.input_format().unwrap();
        assert!(format.normalizes_each_example() && format.removes_band_means());
        assert_eq!(format.recording_form(), Some(RecordingForm::TrimmedSpeech));
        assert_eq!(format.audio_window(), AudioWindow::Loudest);
        let d = info.dataset_testing(Split::empty(false));
        let again = TaskInfo::of(&d, Fit::default()).unwrap();
        assert!(again.example_normalization && again.band_mean_removal);
        assert_eq!(again.recording_form, Some(RecordingForm::TrimmedSpeech));
        assert_eq!(again.audio_window, AudioWindow::Loudest);
        let mut text = tasks_to_metadata(std::slice::from_ref(&info));
        for written in [
            "\"recording_form\":\"trimmed_speech\",",
            "\"audio_window\":\"loudest\",",
        ] {
            assert!(text.contains(written), "{text}");
        }
        text = text.replace("\"example_normalization\":true,", "");
        text = text.replace("\"band_mean_removal\":true,", "");
        text = text.replace("\"recording_form\":\"trimmed_speech\",", "");
        text = text.replace("\"audio_window\":\"loudest\",", "");
        let old = &tasks_from_metadata(&text, "old").unwrap()[0];
        assert!(!old.example_normalization && !old.band_mean_removal);
        assert_eq!(
            (old.recording_form, old.audio_window),
            (None, AudioWindow::Middle)
        );
        let format = old.input_format().unwrap();
        assert!(!format.normalizes_each_example() && !format.removes_band_means());
        assert_eq!(format.recording_form(), None);
        assert_eq!(format.audio_window(), AudioWindow::Middle);
        assert!(!tasks_to_metadata(std::slice::from_ref(old)).contains("audio_window"));
    }

    /// A grey task whose training images are glyphs on a plain background records their form,
    /// and reads new pictures in it; other tasks, and descriptions from before the key, do not.
    #[test]
    fn glyph_tasks_record_their_frame() {
        // Four 6×6 images of a light 3×2 block on black, standardized as a task's split is.
        let mut images = Vec::new();
        for i in 0..4 {
            let mut image = vec![0.0f32; 36];
            for (y, x) in [(1, 1), (1, 2), (2, 1), (2, 2), (3, 1), (3, 2)] {
                image[(y + i % 2) * 6 + x + i / 2] = 1.0;
            }
            images.extend(image);
        }
        let standardization = Standardization::fit(&images);
        let dataset = |mut inputs: Vec<f32>, shape: Vec<usize>| {
            standardization.apply(&mut inputs);
            let train = Split::new(inputs, Labels::Class(vec![0, 1, 0, 1]), 4, 2, "t").unwrap();
            let empty = || Split::empty(false);
            Dataset::new(
                "blocks",
                Modality::Image,
                shape,
                vec!["a".into(), "b".into()],
                standardization,
                [train, empty(), empty()],
            )
        };
        let info = TaskInfo::of(&dataset(images.clone(), vec![1, 6, 6]), Fit::default()).unwrap();
        // Examples that change class change the description, though the inputs do not.
        let mut relabelled = dataset(images.clone(), vec![1, 6, 6]);
        relabelled.train.labels = Labels::Class(vec![1, 0, 0, 1]);
        let moved = TaskInfo::of(&relabelled, Fit::default()).unwrap();
        let difference = info.difference(&moved).expect("a difference");
        assert!(
            difference.starts_with("labels: ") && !difference.contains("standardization"),
            "{difference}"
        );
        let frame = info.glyph_frame.expect("blocks on black are glyphs");
        assert!(
            frame.background.abs() < 1e-5 && frame.extent == 3.0,
            "{frame:?}"
        );
        assert_eq!(info.input_format().unwrap().glyph_frame(), Some(frame));
        // The same values as colour images are not framed.
        let colour = TaskInfo::of(&dataset(images.clone(), vec![3, 2, 6]), Fit::default()).unwrap();
        assert_eq!(colour.glyph_frame, None);
        let err = InputFormat::new(Modality::Image, &[3, 2, 6], Fit::default())
            .unwrap()
            .with_glyph_frame(Some(frame))
            .unwrap_err();
        assert!(err.problem.contains("not grey images"), "{err}");
        // Written only when present; a description without it reads as none.
        let text = tasks_to_metadata(&[info.clone(), colour.clone()]);
        assert_eq!(text.matches("glyph_frame").count(), 1, "{text}");
        let without = text.replacen(
            &format!(
                ",\"glyph_frame\":{}",
                serde_json::to_string(&frame).unwrap()
            ),
            "",
            1,
        );
        assert_eq!(
            tasks_from_metadata(&without, "old").unwrap()[0].glyph_frame,
            None
        );
        // A frame recorded before centring and contrast were measured (no contrast) compares
        // on its background and extent alone, so that such a checkpoint still resumes; a
        // recent one on every field.
        let other = match frame.centring {
            Centring::Mass => Centring::Box,
            Centring::Box => Centring::Mass,
        };
        let with_frame = |frame: GlyphFrame| TaskInfo {
            glyph_frame: Some(frame),
            ..info.clone()
        };
        let older = GlyphFrame {
            centring: Centring::Mass,
            contrast: None,
            ..frame
        };
        assert_eq!(with_frame(older).difference(&info), None);
        let larger = GlyphFrame {
            extent: 4.0,
            ..older
        };
        let difference = with_frame(larger).difference(&info).expect("a difference");
        assert!(difference.starts_with("glyph_frame: "), "{difference}");
        let recent = GlyphFrame {
            centring: other,
            ..frame
        };
        assert!(with_frame(recent).difference(&info).is_some());
        // One recorded before frames measured their range compares on the rest.
        let rangeless = GlyphFrame {
            range: None,
            ..frame
        };
        assert!(frame.range.is_some());
        assert_eq!(with_frame(rangeless).difference(&info), None);
        assert!(with_frame(GlyphFrame {
            range: None,
            ..recent
        })
        .difference(&info)
        .is_some());
    }

    #[test]
    fn a_standardization_that_would_make_inputs_nan_is_refused() {
        // (JSON has no NaN or infinity: those are written as null and refused as corrupt.)
        for (mean, std) in [(0.5, 0.0), (0.5, -1.0)] {
            let mut info = pets();
            info.standardization = Standardization { mean, std };
            let text = tasks_to_metadata(std::slice::from_ref(&info));
            let err = tasks_from_metadata(&text, "ckpt").unwrap_err().to_string();
            assert!(
                err.contains(&format!("mean {mean} and standard deviation {std}")),
                "{err}"
            );
        }
    }
}
