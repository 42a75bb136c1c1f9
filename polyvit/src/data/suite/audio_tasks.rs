//! The audio tasks: spoken digits and drum mixtures, as standardized log-mel images.

use super::{assemble, rng, SuiteConfig, TaskId, DRUM_CLASSES};
use crate::data::audio::AudioFeatures;
use crate::data::augment::augment;
use crate::data::dataset::{
    carve_validation, normalize_example, Dataset, Labels, Modality, RawSplit,
};
use crate::data::drums::{mix, DrumMixConfig};
use crate::data::embedded;
use crate::data::error::{DataError, DataResult};
use crate::data::pack::{parse_pack_gz, Clip};
use crate::data::resample::resample;

/// Log-mel features (optionally utterance-normalized) of one waveform at `rate` Hz.
fn speech_features(
    cfg: &SuiteConfig,
    features: &AudioFeatures,
    samples: &[f32],
    rate: u32,
) -> DataResult<Vec<f32>> {
    let mut x = features.features(samples, rate)?;
    if cfg.speech_normalize {
        normalize_example(&mut x);
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

/// Spoken digits: synthesized clips of espeak-ng, flite and festival voices (validation carved
/// out; the training clips augmented) and the Asterisk test set.
pub(super) fn speech_task(cfg: &SuiteConfig, features: &AudioFeatures) -> DataResult<Dataset> {
    let task = TaskId::SpokenDigits;
    let synthetic = parse_pack_gz(
        embedded::SPEECH_SYNTHETIC.bytes,
        embedded::SPEECH_SYNTHETIC.path,
    )?;
    let asterisk = parse_pack_gz(
        embedded::SPEECH_ASTERISK.bytes,
        embedded::SPEECH_ASTERISK.path,
    )?;
    let (t, v) = carve_validation(
        synthetic.len(),
        cfg.validation_fraction,
        &mut rng(cfg.seed, task.stream()),
    );
    let mut aug = rng(cfg.seed, task.stream() + 1);
    let pick = |ix: &[usize]| ix.iter().map(|&i| &synthetic[i]).collect::<Vec<_>>();
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
    let mut dataset = assemble(task, cfg, Modality::Audio, features.shape(), raw)?;
    dataset.example_normalization = cfg.speech_normalize;
    Ok(dataset)
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
    let clips = parse_pack_gz(embedded::DRUMS.bytes, embedded::DRUMS.path)?;
    let (train_pool, test_pool) = (
        drum_pool(&clips, "train", features)?,
        drum_pool(&clips, "test", features)?,
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
    assemble(task, cfg, Modality::Audio, features.shape(), raw)
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
}
