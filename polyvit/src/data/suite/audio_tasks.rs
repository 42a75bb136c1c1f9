//! The audio tasks: spoken digits and drum mixtures, as standardized log-mel images.

use super::{assemble, rng, SuiteConfig, TaskId, DRUM_CLASSES};
use crate::data::audio::AudioFeatures;
use crate::data::augment::augment;
use crate::data::dataset::{carve_validation, Dataset, Labels, Modality, RawSplit};
use crate::data::drums::{mix, DrumMixConfig};
use crate::data::embedded;
use crate::data::error::{DataError, DataResult};
use crate::data::pack::{parse_pack_gz, Clip};
use crate::data::resample::resample;

/// Per-utterance normalization of one log-mel example: zero mean and unit variance over all
/// its frames and bands (removes the recording level and, partly, the channel).
fn normalize_utterance(x: &mut [f32]) {
    let n = x.len().max(1) as f64;
    let mean = x.iter().map(|&v| v as f64).sum::<f64>() / n;
    let var = x.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
    let scale = 1.0 / (var.sqrt() + 1e-6);
    x.iter_mut()
        .for_each(|v| *v = ((*v as f64 - mean) * scale) as f32);
}

/// Log-mel features (optionally utterance-normalized) of one waveform at `rate` Hz.
fn speech_features(
    cfg: &SuiteConfig,
    features: &AudioFeatures,
    samples: &[f32],
    rate: u32,
) -> DataResult<Vec<f32>> {
    let mut x = features.features(samples, rate)?;
    if cfg.speech_normalize {
        normalize_utterance(&mut x);
    }
    Ok(x)
}

/// Log-mel features and labels of clips, each followed by `copies` augmented copies of it.
fn clip_features(
    cfg: &SuiteConfig,
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
            inputs.extend(speech_features(cfg, features, &x, rate)?);
            labels.push(c.label);
        }
    }
    Ok(RawSplit {
        inputs,
        len: labels.len(),
        labels: Labels::Class(labels),
    })
}

/// Spoken digits: espeak-ng clips (validation carved out; the training clips augmented) and
/// the Asterisk test set.
pub(super) fn speech_task(cfg: &SuiteConfig, features: &AudioFeatures) -> DataResult<Dataset> {
    let task = TaskId::SpokenDigits;
    let espeak = parse_pack_gz(embedded::SPEECH_ESPEAK.bytes, embedded::SPEECH_ESPEAK.path)?;
    let asterisk = parse_pack_gz(
        embedded::SPEECH_ASTERISK.bytes,
        embedded::SPEECH_ASTERISK.path,
    )?;
    let (t, v) = carve_validation(
        espeak.len(),
        cfg.validation_fraction,
        &mut rng(cfg.seed, task.stream()),
    );
    let mut aug = rng(cfg.seed, task.stream() + 1);
    let pick = |ix: &[usize]| ix.iter().map(|&i| &espeak[i]).collect::<Vec<_>>();
    let raw = [
        clip_features(cfg, features, &pick(&t), cfg.speech.copies, &mut aug)?,
        clip_features(cfg, features, &pick(&v), 0, &mut aug)?,
        clip_features(
            cfg,
            features,
            &asterisk.iter().collect::<Vec<_>>(),
            0,
            &mut aug,
        )?,
    ];
    assemble(task, cfg, Modality::Audio, features.shape(), raw)
}

/// Per-class one-shot waveforms (resampled to the feature rate) of the "train" or "test" pool.
fn drum_pool(
    clips: &[Clip],
    split: &str,
    features: &AudioFeatures,
) -> DataResult<Vec<Vec<Vec<f32>>>> {
    let mut pool = vec![Vec::new(); DRUM_CLASSES.len()];
    for c in clips
        .iter()
        .filter(|c| c.name.split(' ').next() == Some(split))
    {
        let shots = pool.get_mut(c.label).ok_or_else(|| {
            DataError::new(
                embedded::DRUMS.path,
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

/// Drum mixtures: train and validation from the "train" one-shots, test from the "test" ones.
pub(super) fn drums_task(cfg: &SuiteConfig, features: &AudioFeatures) -> DataResult<Dataset> {
    let task = TaskId::Drums;
    let clips = parse_pack_gz(embedded::DRUMS.bytes, embedded::DRUMS.path)?;
    let (train_pool, test_pool) = (
        drum_pool(&clips, "train", features)?,
        drum_pool(&clips, "test", features)?,
    );
    let mix_cfg = DrumMixConfig {
        clip_samples: features.window_samples(),
        ..cfg.drums.clone()
    };
    let pools = [&train_pool, &train_pool, &test_pool];
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
    assemble(task, cfg, Modality::Audio, features.shape(), raw)
}
