//! The audio tasks: spoken digits and drum mixtures, as standardized log-mel images.

use super::carve_validation;
use super::files::relative_path;
use super::files::LANGUAGE_ID;
use super::{assemble, rng, SuiteConfig, TaskId, DRUM_CLASSES, LANGUAGES};
use crate::data::audio::{normalize_example, remove_band_means, AudioFeatures};
use crate::data::audio_file::Waveform;
use crate::data::augment::augment;
use crate::data::dataset::{Dataset, Labels, Modality, RawSplit};
use crate::data::drums::{mix, DrumMixConfig};
use crate::data::embedded;
use crate::data::error::{DataError, DataResult};
use crate::data::pack::{parse_pack_gz, Clip};
use crate::data::recording::RecordingForm;
use crate::data::resample::resample;
use rand_chacha::ChaCha8Rng;

/// Log-mel features (with band means removed when `band_means` says so, and
/// utterance-normalized when the suite says so) of one waveform at `rate` Hz.
fn speech_features(
    cfg: &SuiteConfig,
    band_means: bool,
    features: &AudioFeatures,
    samples: &[f32],
    rate: u32,
) -> DataResult<Vec<f32>> {
    let mut x = features.features(samples, rate)?;
    if band_means {
        remove_band_means(&mut x, cfg.mel.n_mels);
    }
    if cfg.speech_normalize {
        normalize_example(&mut x);
    }
    Ok(x)
}

/// Log-mel features and labels of clips, each followed by `copies` augmented copies of it.
fn clip_features(
    cfg: &SuiteConfig,
    band_means: bool,
    features: &AudioFeatures,
    clips: &[&Clip],
    copies: usize,
    rng: &mut impl rand::Rng,
) -> DataResult<RawSplit> {
    let (mut inputs, mut labels) = (Vec::new(), Vec::new());
    let rate = features.sample_rate();
    for c in clips {
        inputs.extend(speech_features(
            cfg,
            band_means,
            features,
            &c.wav.samples,
            c.wav.sample_rate,
        )?);
        labels.push(c.label);
        if copies == 0 {
            continue;
        }
        let at_rate = resample(&c.wav.samples, c.wav.sample_rate, rate)?;
        for _ in 0..copies {
            let x = augment(&at_rate, rate, features.window_samples(), &cfg.speech, rng)?;
            inputs.extend(speech_features(cfg, band_means, features, &x, rate)?);
            labels.push(c.label);
        }
    }
    Ok(RawSplit {
        inputs,
        len: labels.len(),
        labels: Labels::Class(labels),
    })
}

/// The clips of the pack at `relative` in the suite's files, and where they came from.
fn read_pack(cfg: &SuiteConfig, relative: &str) -> DataResult<(Vec<Clip>, String)> {
    let file = cfg.files.read(relative)?;
    Ok((parse_pack_gz(&file.bytes, &file.origin)?, file.origin))
}

/// How a speech task turns clips into examples.
#[derive(Clone, Copy, PartialEq)]
enum Examples {
    /// One example per clip (centre-cropped to the window).
    Whole,
    /// One example per window-long segment of a clip ([`segments`]).
    Segments,
}

/// A speech task from its training clips (validation carved out, by clip; the rest augmented)
/// and its test clips, with band means removed when `band_means` says so.
fn speech_like_task(
    task: TaskId,
    cfg: &SuiteConfig,
    band_means: bool,
    features: &AudioFeatures,
    train: &[&Clip],
    test: &[&Clip],
    examples: Examples,
) -> DataResult<Dataset> {
    let (t, v) = carve_validation(
        train.len(),
        cfg.validation_fraction,
        &mut rng(cfg.seed, task.stream()),
    );
    let mut aug = rng(cfg.seed, task.stream() + 1);
    let pick = |ix: &[usize]| ix.iter().map(|&i| train[i]).collect::<Vec<_>>();
    let split = |clips: &[&Clip], copies: usize, aug: &mut ChaCha8Rng| match examples {
        Examples::Whole => clip_features(cfg, band_means, features, clips, copies, aug),
        Examples::Segments => {
            let cut = segments(clips, features.sample_rate(), features.window_samples())?;
            clip_features(
                cfg,
                band_means,
                features,
                &cut.iter().collect::<Vec<_>>(),
                copies,
                aug,
            )
        }
    };
    let raw = [
        split(&pick(&t), cfg.speech.copies, &mut aug)?,
        split(&pick(&v), 0, &mut aug)?,
        split(test, 0, &mut aug)?,
    ];
    let mut dataset = assemble(task, cfg, Modality::Audio, features.shape(), raw)?;
    dataset.band_mean_removal = band_means;
    dataset.example_normalization = cfg.speech_normalize;
    // Every embedded speech clip was trimmed when it was made (`build_speech.py`).
    dataset.recording_form = Some(RecordingForm::TrimmedSpeech);
    Ok(dataset)
}

/// Spoken digits: synthesized clips of espeak-ng, flite and festival voices (validation carved
/// out; the training clips augmented) and the Asterisk test set.
pub(super) fn speech_task(cfg: &SuiteConfig, features: &AudioFeatures) -> DataResult<Dataset> {
    let (synthetic, _) = read_pack(cfg, relative_path(&embedded::SPEECH_SYNTHETIC))?;
    let (asterisk, _) = read_pack(cfg, relative_path(&embedded::SPEECH_ASTERISK))?;
    let train: Vec<&Clip> = synthetic.iter().collect();
    let test: Vec<&Clip> = asterisk.iter().collect();
    speech_like_task(
        TaskId::SpokenDigits,
        cfg,
        cfg.band_mean_removal.spoken_digits,
        features,
        &train,
        &test,
        Examples::Whole,
    )
}

/// The clips of `clips` whose name starts with `split` ("train" or "test") and a space.
fn in_split<'a>(clips: &'a [Clip], split: &str) -> Vec<&'a Clip> {
    clips
        .iter()
        .filter(|c| c.name.split(' ').next() == Some(split))
        .collect()
}

/// Most feature windows cut from one language-ID prompt (the longest prompts last over a
/// minute; the median 1.5 s).
const MAX_SEGMENTS: usize = 8;

/// Cuts each clip into consecutive segments of `window` samples at `rate` Hz (at most
/// [`MAX_SEGMENTS`], the remainder shorter than a window dropped; a clip shorter than a window
/// is one segment), each labelled and named like its clip with `#k` appended.
fn segments(clips: &[&Clip], rate: u32, window: usize) -> DataResult<Vec<Clip>> {
    let mut out = Vec::new();
    for c in clips {
        let samples = resample(&c.wav.samples, c.wav.sample_rate, rate)?;
        let count = (samples.len() / window).clamp(1, MAX_SEGMENTS);
        for k in 0..count {
            let end = ((k + 1) * window).min(samples.len());
            out.push(Clip {
                label: c.label,
                name: format!("{}#{k}", c.name),
                wav: Waveform {
                    sample_rate: rate,
                    channels: 1,
                    samples: samples[k * window..end].to_vec(),
                },
            });
        }
    }
    Ok(out)
}

/// Spoken-language identification over the real Asterisk prompts (full suite only): train and
/// test hold different prompts (the pack's split, by prompt path, so one prompt is in the same
/// split in every language); validation is carved from the training prompts (whole prompts, so
/// no prompt is heard in both). Each prompt is then cut into ~1 s segments ([`segments`]), one
/// example each; the training segments are augmented like the spoken digits.
pub(super) fn language_task(cfg: &SuiteConfig, features: &AudioFeatures) -> DataResult<Dataset> {
    let (clips, origin) = read_pack(cfg, LANGUAGE_ID)?;
    if let Some(c) = clips.iter().find(|c| c.label >= LANGUAGES.len()) {
        return Err(DataError::new(
            origin,
            format!(
                "clip '{}' has label {} of {} languages",
                c.name,
                c.label,
                LANGUAGES.len()
            ),
        ));
    }
    let (train, test) = (in_split(&clips, "train"), in_split(&clips, "test"));
    if train.is_empty() || test.is_empty() || train.len() + test.len() != clips.len() {
        return Err(DataError::new(
            origin,
            format!(
                "{} clips: {} named 'train …', {} named 'test …'; every clip must be in one \
                 of the two, and both must have clips",
                clips.len(),
                train.len(),
                test.len()
            ),
        ));
    }
    speech_like_task(
        TaskId::LanguageId,
        cfg,
        cfg.band_mean_removal.language_id,
        features,
        &train,
        &test,
        Examples::Segments,
    )
}

/// Per-class one-shot waveforms (resampled to the feature rate) of the "train" or "test" pool.
fn drum_pool(
    clips: &[Clip],
    origin: &str,
    split: &str,
    features: &AudioFeatures,
) -> DataResult<Vec<Vec<Vec<f32>>>> {
    let mut pool = vec![Vec::new(); DRUM_CLASSES.len()];
    for c in in_split(clips, split) {
        let shots = pool.get_mut(c.label).ok_or_else(|| {
            DataError::new(
                origin,
                format!(
                    "clip '{}' has label {} of {} classes",
                    c.name,
                    c.label,
                    DRUM_CLASSES.len()
                ),
            )
        })?;
        shots.push(resample(
            &c.wav.samples,
            c.wav.sample_rate,
            features.sample_rate(),
        )?);
    }
    Ok(pool)
}

/// Every one-shot of `pool`, played at each rate of `rates` (pitch and length change together,
/// as a drum tuned higher or lower): a one-shot of `n` samples at rate `r` lasts `n/r`.
fn with_rate_variants(pool: &[Vec<Vec<f32>>], rates: &[f32]) -> DataResult<Vec<Vec<Vec<f32>>>> {
    // Playing at rate r is resampling from r·SCALE Hz to SCALE Hz.
    const SCALE: f32 = 10_000.0;
    pool.iter()
        .map(|shots| {
            let mut variants = Vec::with_capacity(shots.len() * rates.len());
            for shot in shots {
                for &rate in rates {
                    variants.push(resample(shot, (rate * SCALE).round() as u32, SCALE as u32)?);
                }
            }
            Ok(variants)
        })
        .collect()
}

/// Drum mixtures: train and validation from the "train" one-shots, test from the "test" ones.
pub(super) fn drums_task(cfg: &SuiteConfig, features: &AudioFeatures) -> DataResult<Dataset> {
    let task = TaskId::Drums;
    let (clips, origin) = read_pack(cfg, relative_path(&embedded::DRUMS))?;
    let (train_pool, test_pool) = (
        drum_pool(&clips, &origin, "train", features)?,
        drum_pool(&clips, &origin, "test", features)?,
    );
    let mix_cfg = DrumMixConfig {
        clip_samples: features.window_samples(),
        ..cfg.drums.clone()
    };
    // Only the training mixtures hear the one-shots at other rates: validation and test hear
    // them as recorded.
    let train_variants = with_rate_variants(&train_pool, &cfg.drum_rates)?;
    let pools = [&train_variants, &train_pool, &test_pool];
    let raw = [0, 1, 2].map(|k| -> DataResult<RawSplit> {
        let mut r = rng(cfg.seed, task.stream() + k as u64);
        let (mut inputs, mut labels) = (Vec::new(), Vec::new());
        for _ in 0..cfg.drum_mixtures[k] {
            let m = mix(pools[k], &mix_cfg, &mut r)?;
            inputs.extend(features.features(&m.samples, features.sample_rate())?);
            labels.extend(m.labels);
        }
        let len = cfg.drum_mixtures[k];
        Ok(RawSplit {
            inputs,
            labels: Labels::MultiHot(labels),
            len,
        })
    });
    let [train, validation, test] = raw;
    let raw = [train?, validation?, test?];
    let mut dataset = assemble(task, cfg, Modality::Audio, features.shape(), raw)?;
    // The mixtures are of one-shots made so when the pack was built (`build_drums.py`).
    dataset.recording_form = Some(RecordingForm::OneShot);
    Ok(dataset)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each one-shot is heard at every rate, lasting 1/rate as long, in the pool's order.
    #[test]
    fn rate_variants_stretch_every_one_shot() {
        let tone = |n: usize| (0..n).map(|i| (i as f32 * 0.3).sin()).collect::<Vec<f32>>();
        let pool = vec![vec![tone(1000)], vec![tone(400), tone(800)]];
        let variants = with_rate_variants(&pool, &[0.8, 1.0, 1.25]).unwrap();
        let lengths: Vec<Vec<usize>> = variants
            .iter()
            .map(|shots| shots.iter().map(Vec::len).collect())
            .collect();
        assert_eq!(
            lengths,
            [vec![1250, 1000, 800], vec![500, 400, 320, 1000, 800, 640]]
        );
        assert_eq!(variants[1][4], pool[1][1], "rate 1 is the recording itself");
        assert!(with_rate_variants(&pool, &[0.0]).is_err());
    }

    /// Clips are cut into whole windows, at most `MAX_SEGMENTS`, a short clip kept whole.
    #[test]
    fn prompts_are_cut_into_window_segments() {
        let clip = |n: usize| Clip {
            label: 2,
            name: format!("train v/{n}"),
            wav: Waveform {
                sample_rate: 8000,
                channels: 1,
                samples: (0..n).map(|i| i as f32).collect(),
            },
        };
        let (short, long, huge) = (clip(50), clip(250), clip(10_000));
        let cut = segments(&[&short, &long, &huge], 8000, 100).unwrap();
        let lengths: Vec<usize> = cut.iter().map(|c| c.wav.samples.len()).collect();
        assert_eq!(
            lengths,
            [&[50, 100, 100][..], &[100; MAX_SEGMENTS]].concat()
        );
        assert_eq!(cut[2].wav.samples[0], 100.0);
        assert_eq!((cut[2].label, cut[2].name.as_str()), (2, "train v/250#1"));
    }
}
