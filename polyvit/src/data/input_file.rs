//! One example from disk, as a task's tokenizer expects it: an image file (`[C, H, W]`), an audio
//! file (any format [`super::audio_file`] reads; a `[1, frames, mel]` log-mel image,
//! see [`AudioFeatures`]), or a folder of frames or a
//! video file (`[T, C, H, W]`, `T` frames sampled evenly over the clip; video files need the
//! `ffmpeg` feature, see [`super::video_file`]). Values are raw (pixels / 255,
//! log-mel), before the task's standardization. Training on folders and `polyvit predict` read
//! files through this one path.

use super::audio::{normalize_example, remove_band_means};
use super::audio::{AudioFeatures, AudioWindow};
use super::audio_file::{is_audio_file, read_audio, Waveform, AUDIO_FORMATS};
use super::dataset::Modality;
use super::error::{DataError, DataResult};
use super::glyph::GlyphFrame;
use super::image_file::{decode_image, is_image_file, load_image, Fit, IMAGE_EXTENSIONS};
use super::listing::list_dir;
use super::recording::RecordingForm;
use super::resample::resample;
use super::spectrogram::MelConfig;
use super::video_file::{is_video_file, load_video, VIDEO_EXTENSIONS};
use std::path::{Path, PathBuf};

/// What kind of example the file or folder at `path` is, from its name (and, for a folder,
/// whether it holds image files); `None` for anything else.
pub fn modality_of(path: &Path) -> DataResult<Option<Modality>> {
    if path.is_dir() {
        let frames = list_dir(path)?.iter().any(|p| is_image_file(p));
        return Ok(frames.then_some(Modality::Video));
    }
    Ok(if is_image_file(path) {
        Some(Modality::Image)
    } else if is_video_file(path) {
        Some(Modality::Video)
    } else if is_audio_file(path) {
        Some(Modality::Audio)
    } else {
        None
    })
}

/// Why `path`, for which [`modality_of`] found no modality, is not an input, for error messages.
pub fn not_an_input(path: &Path) -> String {
    match list_dir(path) {
        Ok(entries) if entries.is_empty() => {
            "an empty folder (a clip's folder holds its frames)".into()
        }
        Ok(_) => format!(
            "a folder without frames (a clip's folder holds only its frames, images named in \
             order; a class folder holds inputs, not other folders): not {}",
            accepted_inputs()
        ),
        Err(_) => format!("not {}", accepted_inputs()),
    }
}

/// The words for what [`modality_of`] accepts, for error messages.
pub fn accepted_inputs() -> String {
    format!(
        "an image ({}), an audio file ({AUDIO_FORMATS}), a video file ({}; with the ffmpeg \
         feature) or a folder of frames",
        IMAGE_EXTENSIONS.join(", "),
        VIDEO_EXTENSIONS.join(", ")
    )
}

/// The frame files of the clip folder `dir`, in natural order. A folder without any, or with
/// anything else in it (another file, a folder), is an error naming it: it would otherwise be
/// left out without a word, as it is not where the class folders of images allow it.
pub fn clip_frames(dir: &Path) -> DataResult<Vec<PathBuf>> {
    let (frames, others): (Vec<PathBuf>, Vec<PathBuf>) =
        list_dir(dir)?.into_iter().partition(|p| is_image_file(p));
    if let Some(other) = others.first() {
        return Err(DataError::new(
            other.display().to_string(),
            "not a frame: a clip folder holds only its frames (images)",
        ));
    }
    if frames.is_empty() {
        return Err(DataError::new(
            dir.display().to_string(),
            "clip folder holds no image frames",
        ));
    }
    Ok(frames)
}

/// Indices of `count` frames spread evenly over a clip of `len` (the middle of each of `count`
/// equal parts; frames repeat when the clip is shorter).
pub fn sample_frames(len: usize, count: usize) -> Vec<usize> {
    (0..count)
        .map(|i| ((2 * i + 1) * len) / (2 * count))
        .collect()
}

/// How files become inputs of one shape.
#[derive(Debug, Clone)]
pub struct InputFormat {
    modality: Modality,
    shape: Vec<usize>,
    fit: Fit,
    audio: Option<AudioFeatures>,
    /// Whether each log-mel input has its bands' means removed once read.
    band_mean_removal: bool,
    /// Whether each input is brought to zero mean and unit variance on its own once read.
    example_normalization: bool,
    /// The form recordings are brought to before their features, if any.
    recording_form: Option<RecordingForm>,
    /// The form grey glyph images are brought to instead of being resized, if any.
    glyph_frame: Option<GlyphFrame>,
}

impl InputFormat {
    /// Inputs of `modality` and `shape` (`[C, H, W]`, `[T, C, H, W]` or `[1, frames, mel]`, with
    /// the default log-mel bands); images are brought to size by `fit`.
    pub fn new(modality: Modality, shape: &[usize], fit: Fit) -> DataResult<Self> {
        let err = |p: String| Err(DataError::new("input format", p));
        let rank = if modality == Modality::Video { 4 } else { 3 };
        if shape.len() != rank || shape.contains(&0) {
            return err(format!(
                "{} inputs of shape {shape:?}: need {rank} positive sizes",
                modality.name()
            ));
        }
        let audio = if modality == Modality::Audio {
            let mel = MelConfig::default();
            if shape[0] != 1 || shape[2] != mel.n_mels {
                return err(format!(
                    "audio inputs of shape {shape:?}: need [1, frames, {}]",
                    mel.n_mels
                ));
            }
            Some(AudioFeatures::new(mel, shape[1])?)
        } else {
            None
        };
        Ok(Self {
            modality,
            shape: shape.to_vec(),
            fit,
            audio,
            band_mean_removal: false,
            example_normalization: false,
            recording_form: None,
            glyph_frame: None,
        })
    }

    /// The same format, with each recording brought to `form` ([`RecordingForm::prepare`])
    /// before its features are computed when it is `Some`: how tasks trained on clips made in a
    /// form read new recordings. Only audio has recordings; for other inputs this is an error.
    pub fn with_recording_form(self, form: Option<RecordingForm>) -> DataResult<Self> {
        if form.is_some() && self.audio.is_none() {
            return Err(DataError::new(
                "input format",
                format!("{} inputs are not recordings", self.modality.name()),
            ));
        }
        Ok(Self {
            recording_form: form,
            ..self
        })
    }

    /// The form recordings are brought to before their features, if any.
    pub fn recording_form(&self) -> Option<RecordingForm> {
        self.recording_form
    }

    /// The same format, hearing `window` of a recording longer than the features' window, in
    /// training as in `predict` (unlike a [`RecordingForm`], it is how the task's own files are
    /// read, so `--as-is` keeps it). Only audio has recordings; another window for other inputs
    /// is an error.
    pub fn with_audio_window(self, window: AudioWindow) -> DataResult<Self> {
        match self.audio {
            Some(features) => Ok(Self {
                audio: Some(features.with_window(window)),
                ..self
            }),
            None if window.is_middle() => Ok(self),
            None => Err(DataError::new(
                "input format",
                format!("{} inputs are not recordings", self.modality.name()),
            )),
        }
    }

    /// Which window of a longer recording audio inputs hear (the middle for other inputs).
    pub fn audio_window(&self) -> AudioWindow {
        self.audio
            .as_ref()
            .map_or(AudioWindow::Middle, |f| f.window())
    }

    /// The same format, with image files brought to `frame` ([`GlyphFrame::frame`]) instead of
    /// resized when it is `Some`: how tasks trained on glyphs on a plain background read new
    /// pictures. Only grey images can be framed; for other inputs this is an error.
    pub fn with_glyph_frame(self, frame: Option<GlyphFrame>) -> DataResult<Self> {
        if frame.is_some() && (self.modality != Modality::Image || self.shape[0] != 1) {
            return Err(DataError::new(
                "input format",
                format!(
                    "{} inputs of shape {:?} are not grey images to frame as glyphs",
                    self.modality.name(),
                    self.shape
                ),
            ));
        }
        Ok(Self {
            glyph_frame: frame,
            ..self
        })
    }

    /// The glyph form image files are brought to, if any.
    pub fn glyph_frame(&self) -> Option<GlyphFrame> {
        self.glyph_frame
    }

    /// The same format, with each input normalized on its own ([`normalize_example`]) once read
    /// when `on`: how tasks trained on normalized examples read new files.
    pub fn with_example_normalization(self, on: bool) -> Self {
        Self {
            example_normalization: on,
            ..self
        }
    }

    /// The same format, with each log-mel input's band means removed ([`remove_band_means`])
    /// once read when `on` (before any example normalization). Only audio inputs have bands;
    /// for the other modalities this is an error.
    pub fn with_band_mean_removal(self, on: bool) -> DataResult<Self> {
        match (on, &self.audio) {
            (true, None) => Err(DataError::new(
                "input format",
                format!(
                    "{} inputs have no mel bands to remove the means of",
                    self.modality.name()
                ),
            )),
            _ => Ok(Self {
                band_mean_removal: on,
                ..self
            }),
        }
    }

    /// Whether each log-mel input has its band means removed once read.
    pub fn removes_band_means(&self) -> bool {
        self.band_mean_removal
    }

    /// Whether each input is normalized on its own once read.
    pub fn normalizes_each_example(&self) -> bool {
        self.example_normalization
    }

    /// The same format reading files as they are: pictures only resized, recordings not brought
    /// to a [`RecordingForm`] (still heard in the task's [`AudioWindow`], as its own files were).
    pub fn as_is(self) -> Self {
        Self {
            glyph_frame: None,
            recording_form: None,
            ..self
        }
    }

    /// What this format does to a new file to bring it to the form the training data was made
    /// in, in words (`None` when it reads files as they are).
    pub fn preparation(&self) -> Option<String> {
        match (self.glyph_frame, self.recording_form) {
            (Some(frame), _) => Some(format!(
                "pictures were read in the form of its training images: {}",
                frame.describe()
            )),
            (None, Some(form)) => Some(format!(
                "recordings were read in the form of its training clips: {}",
                form.describe()
            )),
            (None, None) => None,
        }
    }

    /// The modality the inputs are for.
    pub fn modality(&self) -> Modality {
        self.modality
    }

    /// The shape of one input.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The input from the file (or clip folder) at `path`; errors name the file.
    pub fn load(&self, path: &Path) -> DataResult<Vec<f32>> {
        Ok(self.load_from(&mut SourceFile::new(path))?.values)
    }

    /// The inputs of the file (or clip folder) at `path` for each of `formats`, in their order,
    /// each what [`InputFormat::load`] gives and whether it holds a sound, with the file read
    /// once: a recording is decoded once and brought to each sample rate once, however many
    /// formats read it (`polyvit predict` scoring one recording with every audio task of a
    /// checkpoint).
    pub fn load_each(path: &Path, formats: &[&InputFormat]) -> Vec<DataResult<Input>> {
        let mut source = SourceFile::new(path);
        formats.iter().map(|f| f.load_from(&mut source)).collect()
    }

    fn load_from(&self, source: &mut SourceFile) -> DataResult<Input> {
        let mut input = self.decode(source)?;
        if self.band_mean_removal {
            remove_band_means(&mut input.values, self.shape[2]);
        }
        if self.example_normalization {
            normalize_example(&mut input.values);
        }
        Ok(input)
    }

    /// The input of `source` as decoded: pixels / 255, or log-mel features.
    fn decode(&self, source: &mut SourceFile) -> DataResult<Input> {
        let (path, s) = (source.path, &self.shape);
        // Inputs of no recording form are not judged for a sound.
        let unjudged = |values| Input {
            values,
            no_sound: false,
        };
        match (&self.audio, self.modality) {
            (Some(features), _) => {
                let in_path = |e: DataError| DataError::new(path.display().to_string(), e.problem);
                match self.recording_form {
                    // Made in the form at the feature rate, as the packs' clips were levelled
                    // after their conversion to it (a hi-hat peak-normalized with its treble is
                    // far quieter without it).
                    Some(form) => {
                        let rate = features.sample_rate();
                        let at_rate = source.samples_at(rate)?;
                        let fits = features.window_samples();
                        let prepared = form.prepare(at_rate, rate, fits);
                        Ok(Input {
                            values: features.features(&prepared, rate).map_err(in_path)?,
                            no_sound: !form.holds_a_sound(at_rate, rate, fits),
                        })
                    }
                    None => {
                        let audio = source.recording()?;
                        features
                            .features(&audio.samples, audio.sample_rate)
                            .map(unjudged)
                            .map_err(in_path)
                    }
                }
            }
            (None, Modality::Video) if !path.is_dir() => {
                load_video(path, [s[0], s[1], s[2], s[3]], self.fit).map(unjudged)
            }
            (None, Modality::Video) => {
                let frames = clip_frames(path)?;
                let mut clip = Vec::with_capacity(s.iter().product());
                for i in sample_frames(frames.len(), s[0]) {
                    clip.extend(load_image(&frames[i], [s[1], s[2], s[3]], self.fit)?);
                }
                Ok(unjudged(clip))
            }
            (None, _) => match self.glyph_frame {
                Some(frame) => Ok(unjudged(frame.frame(&decode_image(path)?, s[1], s[2]))),
                None => load_image(path, [s[0], s[1], s[2]], self.fit).map(unjudged),
            },
        }
    }
}

/// One input as a task reads it ([`InputFormat::load_each`]).
#[derive(Debug)]
pub struct Input {
    /// What the task takes, as [`InputFormat::load`] gives it.
    pub values: Vec<f32>,
    /// A recording read in a form that expects a sound (a word, a hit) in which no sound
    /// stands out of its background ([`RecordingForm::holds_a_sound`]): steady noise or a
    /// tone throughout, of which the task's answer says little.
    pub no_sound: bool,
}

/// A file being read for one or more input formats: its recording decoded on first use and
/// kept, with each sample rate it was brought to.
struct SourceFile<'p> {
    path: &'p Path,
    recording: Option<DataResult<Waveform>>,
    resampled: Vec<(u32, Vec<f32>)>,
}

impl<'p> SourceFile<'p> {
    fn new(path: &'p Path) -> Self {
        Self {
            path,
            recording: None,
            resampled: Vec::new(),
        }
    }

    /// The file's recording as decoded (or why it could not be, for each format that asks).
    fn recording(&mut self) -> DataResult<&Waveform> {
        let path = self.path;
        self.recording
            .get_or_insert_with(|| read_audio(path))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The file's recording at `rate` Hz.
    fn samples_at(&mut self, rate: u32) -> DataResult<&[f32]> {
        if !self.resampled.iter().any(|(r, _)| *r == rate) {
            let path = self.path.display().to_string();
            let audio = self.recording()?;
            let samples = resample(&audio.samples, audio.sample_rate, rate)
                .map_err(|e| DataError::new(path, e.problem))?;
            self.resampled.push((rate, samples));
        }
        Ok(&self
            .resampled
            .iter()
            .find(|(r, _)| *r == rate)
            .expect("resampled above")
            .1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::test_util::temp_path;
    use crate::data::wav::tests::wav16;
    use image::{GrayImage, Luma};

    #[test]
    fn frames_are_spread_over_the_clip() {
        assert_eq!(sample_frames(16, 4), [2, 6, 10, 14]);
        assert_eq!(sample_frames(8, 8), (0..8).collect::<Vec<_>>());
        assert_eq!(sample_frames(2, 4), [0, 0, 1, 1]);
    }

    #[test]
    fn a_clip_folder_is_sampled_frame_by_frame() {
        let dir = temp_path("clip");
        std::fs::create_dir_all(&dir).unwrap();
        for i in 0..4u8 {
            GrayImage::from_pixel(3, 3, Luma([i * 60]))
                .save(dir.join(format!("f{i}.png")))
                .unwrap();
        }
        assert_eq!(modality_of(&dir).unwrap(), Some(Modality::Video));
        let format = InputFormat::new(Modality::Video, &[2, 1, 2, 2], Fit::Resize).unwrap();
        let clip = format.load(&dir).unwrap();
        // Frames 1 and 3 of 4, each 2×2.
        let want: Vec<f32> = [60.0, 180.0].iter().flat_map(|v| [v / 255.0; 4]).collect();
        assert_eq!(clip, want);
        let empty = temp_path("empty-clip");
        std::fs::create_dir_all(&empty).unwrap();
        let err = format.load(&empty).unwrap_err();
        assert!(err.problem.contains("no image frames"), "{err}");
        std::fs::write(dir.join("notes.txt"), "shot on a phone").unwrap();
        let err = format.load(&dir).unwrap_err();
        assert!(err.origin.ends_with("notes.txt"), "{err}");
        assert!(err.problem.contains("not a frame"), "{err}");
    }

    /// A half-second tone of `hz` at 8 kHz and `amplitude` (of 32,767) written to a temporary WAV
    /// file `name`, and the plain audio format of 8 log-mel frames that reads it.
    fn tone_file(name: &str, hz: f64, amplitude: f32) -> (std::path::PathBuf, InputFormat) {
        let path = temp_path(name);
        let tone: Vec<i16> = crate::data::test_util::sine(hz, 8000, 4000)
            .iter()
            .map(|&v| (v * amplitude) as i16)
            .collect();
        std::fs::write(&path, wav16(8000, &tone)).unwrap();
        let plain = InputFormat::new(Modality::Audio, &[1, 8, 32], Fit::Resize).unwrap();
        (path, plain)
    }

    /// Brought to trimmed speech, a recording that starts with 1.5 s of room noise reads as the
    /// word alone would; as it is, the centred window holds only the noise. Images are not
    /// recordings.
    #[test]
    fn silence_trimming_finds_a_late_word() {
        // Near full scale, as the clips were levelled: the hiss stays under the log-mel floor.
        let (path, plain) = tone_file("word.wav", 400.0, 29_000.0);
        let trimming = plain
            .clone()
            .with_recording_form(Some(RecordingForm::TrimmedSpeech))
            .unwrap();
        let word = trimming.load(&path).unwrap();
        let tone: Vec<i16> = crate::data::test_util::sine(400.0, 8000, 4000)
            .iter()
            .map(|&v| (v * 29_000.0) as i16)
            .collect();
        let hiss = |n: usize| (0..n).map(|i| [3i16, -3][i % 2]).collect::<Vec<_>>();
        let late = temp_path("late-word.wav");
        std::fs::write(
            &late,
            wav16(8000, &[hiss(12_000), tone, hiss(800)].concat()),
        )
        .unwrap();
        assert_eq!(plain.recording_form(), None);
        let gap = |x: &[f32]| {
            x.iter()
                .zip(&word)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max)
        };
        assert!(gap(&trimming.load(&late).unwrap()) < 0.5);
        assert!(gap(&plain.load(&late).unwrap()) > 5.0);
        let image = InputFormat::new(Modality::Image, &[1, 2, 2], Fit::Resize).unwrap();
        let err = image
            .with_recording_form(Some(RecordingForm::OneShot))
            .unwrap_err();
        assert!(err.problem.contains("not recordings"), "{err}");
    }

    /// Read once for several formats, a recording (at 16 kHz, so each form resamples it) gives
    /// each format exactly what reading it for that format alone gives; a file that cannot be
    /// read is an error for each of them.
    #[test]
    fn one_reading_serves_every_format() {
        let path = temp_path("shared.wav");
        let tone: Vec<i16> = crate::data::test_util::sine(700.0, 16_000, 12_000)
            .iter()
            .enumerate()
            .map(|(i, &v)| (v * 9_000.0 * (i as f32 / 12_000.0)) as i16)
            .collect();
        std::fs::write(&path, wav16(16_000, &tone)).unwrap();
        let plain = InputFormat::new(Modality::Audio, &[1, 8, 32], Fit::Resize).unwrap();
        let speech = (plain.clone())
            .with_recording_form(Some(RecordingForm::TrimmedSpeech))
            .unwrap()
            .with_band_mean_removal(true)
            .unwrap()
            .with_example_normalization(true);
        let one_shot = (plain.clone())
            .with_recording_form(Some(RecordingForm::OneShot))
            .unwrap();
        let loudest = (plain.clone())
            .with_audio_window(AudioWindow::Loudest)
            .unwrap();
        let formats = [&speech, &plain, &one_shot, &loudest, &speech];
        let each = InputFormat::load_each(&path, &formats);
        assert_eq!(each.len(), formats.len());
        for (format, input) in formats.iter().zip(each) {
            assert_eq!(input.unwrap().values, format.load(&path).unwrap());
        }
        let missing = temp_path("not-recorded.wav");
        for input in InputFormat::load_each(&missing, &formats) {
            assert!(input.unwrap_err().origin.ends_with("not-recorded.wav"));
        }
    }

    /// Only recordings have a window to hear (the middle, the default, is no choice).
    #[test]
    fn only_recordings_take_a_window() {
        let image = InputFormat::new(Modality::Image, &[1, 4, 4], Fit::Resize).unwrap();
        let refused = image.clone().with_audio_window(AudioWindow::Loudest);
        assert!(refused
            .unwrap_err()
            .problem
            .contains("image inputs are not recordings"));
        let kept = image.with_audio_window(AudioWindow::Middle).unwrap();
        assert_eq!(kept.audio_window(), AudioWindow::Middle);
    }

    /// Made a one-shot, a quiet hit recorded at 16 kHz after half a second of near-silence reads
    /// as the same hit recorded loud and on time: both are cut at their onset and levelled.
    #[test]
    fn one_shots_read_alike_whatever_their_lead_in_and_level() {
        let hit = |gain: f32| -> Vec<i16> {
            (0..32_000)
                .map(|t| {
                    let t = t as f32 / 16_000.0;
                    (gain * (-t * 6.0).exp() * (std::f32::consts::TAU * 180.0 * t).sin()) as i16
                })
                .collect()
        };
        let (on_time, late) = (temp_path("hit.wav"), temp_path("late-hit.wav"));
        std::fs::write(&on_time, wav16(16_000, &hit(20_000.0))).unwrap();
        let lead_in: Vec<i16> = (0..8000).map(|i| [2i16, -2][i % 2]).collect();
        std::fs::write(&late, wav16(16_000, &[lead_in, hit(3000.0)].concat())).unwrap();
        let plain = InputFormat::new(Modality::Audio, &[1, 64, 32], Fit::Resize).unwrap();
        let shots = plain
            .clone()
            .with_recording_form(Some(RecordingForm::OneShot))
            .unwrap();
        // The mean distance of two log-mel inputs (the quiet hit's quantization noise, levelled
        // up with it, lifts its empty bands a little: the largest distance is not the measure).
        let gap = |a: &[f32], b: &[f32]| {
            a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f32>() / a.len() as f32
        };
        let (a, b) = (shots.load(&on_time).unwrap(), shots.load(&late).unwrap());
        let (c, d) = (plain.load(&on_time).unwrap(), plain.load(&late).unwrap());
        assert!(gap(&a, &b) < 0.005, "{}", gap(&a, &b));
        assert!(gap(&c, &d) > 0.02, "as they are: {}", gap(&c, &d));
        assert!(shots
            .preparation()
            .unwrap()
            .contains("one-shots from their onset"));
        assert_eq!(shots.as_is().preparation(), None);
    }

    /// With example normalization, a loaded input is the decoded one brought to zero mean and
    /// unit variance on its own.
    #[test]
    fn example_normalization_applies_to_each_loaded_input() {
        let (path, plain) = tone_file("level.wav", 300.0, 3000.0);
        let mut want = plain.load(&path).unwrap();
        crate::data::audio::normalize_example(&mut want);
        let normalized = plain.clone().with_example_normalization(true);
        assert!(normalized.normalizes_each_example() && !plain.normalizes_each_example());
        assert_eq!(normalized.load(&path).unwrap(), want);
        let mean = want.iter().sum::<f32>() / want.len() as f32;
        assert!(mean.abs() < 1e-4, "{mean}");
    }

    /// With band mean removal (and then example normalization), a loaded input is the decoded one
    /// with each band's mean removed, then normalized; images have no bands to remove.
    #[test]
    fn band_mean_removal_applies_before_example_normalization() {
        let (path, plain) = tone_file("channel.wav", 500.0, 2000.0);
        let mut want = plain.load(&path).unwrap();
        crate::data::audio::remove_band_means(&mut want, 32);
        crate::data::audio::normalize_example(&mut want);
        let both = plain
            .clone()
            .with_band_mean_removal(true)
            .unwrap()
            .with_example_normalization(true);
        assert!(both.removes_band_means() && !plain.removes_band_means());
        assert_eq!(both.load(&path).unwrap(), want);
        let image = InputFormat::new(Modality::Image, &[1, 4, 4], Fit::Resize).unwrap();
        let err = image.with_band_mean_removal(true).unwrap_err();
        assert!(err.problem.contains("no mel bands"), "{err}");
    }

    #[test]
    fn a_wav_file_becomes_log_mel_features() {
        let path = temp_path("tone.wav");
        let tone: Vec<i16> = crate::data::test_util::sine(440.0, 16000, 8000)
            .iter()
            .map(|&v| (v * 8000.0) as i16)
            .collect();
        std::fs::write(&path, wav16(16000, &tone)).unwrap();
        assert_eq!(modality_of(&path).unwrap(), Some(Modality::Audio));
        let format = InputFormat::new(Modality::Audio, &[1, 16, 32], Fit::Resize).unwrap();
        assert_eq!(format.load(&path).unwrap().len(), 16 * 32);
        let err = InputFormat::new(Modality::Audio, &[1, 16, 20], Fit::Resize).unwrap_err();
        assert!(err.problem.contains("need [1, frames, 32]"), "{err}");
        assert_eq!(modality_of(Path::new("notes.txt")).unwrap(), None);
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/audio");
        for name in ["tones.flac", "tone.ogg"] {
            let path = fixtures.join(name);
            assert_eq!(modality_of(&path).unwrap(), Some(Modality::Audio));
            assert_eq!(format.load(&path).unwrap().len(), 16 * 32);
        }
    }
}
