//! Multi-label drum mixtures: a clip of silence into which 1–3 one-shots of distinct
//! instrument classes are added, each at a random onset and gain. The target is the multi-hot
//! vector of the classes present (an AudioSet-like task, scored by mAP).

use super::error::{DataError, DataResult};
use rand::seq::index::sample;
use rand::Rng;

/// Parameters of the mixtures.
#[derive(Debug, Clone, PartialEq)]
pub struct DrumMixConfig {
    /// Length of every mixture in samples.
    pub clip_samples: usize,
    /// Fewest instruments in a mixture (at least 1).
    pub min_instruments: usize,
    /// Most instruments in a mixture (at most the number of classes).
    pub max_instruments: usize,
    /// Quietest gain applied to a one-shot.
    pub min_gain: f32,
    /// Loudest gain applied to a one-shot.
    pub max_gain: f32,
    /// Latest onset, as a fraction of `clip_samples` (0 = all start together).
    pub latest_onset: f32,
}

impl Default for DrumMixConfig {
    /// 7816 samples (the default audio window at 8 kHz), 1–3 instruments, gains 0.3–1,
    /// onsets in the first half.
    fn default() -> Self {
        Self {
            clip_samples: 7816,
            min_instruments: 1,
            max_instruments: 3,
            min_gain: 0.3,
            max_gain: 1.0,
            latest_onset: 0.5,
        }
    }
}

/// One one-shot placed in a mixture.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    /// Instrument class.
    pub class: usize,
    /// Index of the one-shot within its class's pool.
    pub shot: usize,
    /// First sample of the mixture where it sounds.
    pub onset: usize,
    /// Gain it was scaled by.
    pub gain: f32,
}

/// A generated mixture.
#[derive(Debug, Clone, PartialEq)]
pub struct DrumMix {
    /// The mixed waveform, `clip_samples` long.
    pub samples: Vec<f32>,
    /// Multi-hot targets, one per class: 1.0 where the class is in the mix.
    pub labels: Vec<f32>,
    /// What was mixed, in the order it was added.
    pub parts: Vec<Placement>,
}

fn validate(pool: &[Vec<Vec<f32>>], config: &DrumMixConfig) -> DataResult<()> {
    let err = |p: String| Err(DataError::new("drum mixtures", p));
    if let Some(c) = pool.iter().position(|shots| shots.is_empty()) {
        return err(format!("class {c} has no one-shots"));
    }
    if !(1 <= config.min_instruments
        && config.min_instruments <= config.max_instruments
        && config.max_instruments <= pool.len())
    {
        return err(format!(
            "need 1 <= min_instruments ({}) <= max_instruments ({}) <= classes ({})",
            config.min_instruments,
            config.max_instruments,
            pool.len()
        ));
    }
    if config.min_gain <= 0.0
        || config.min_gain > config.max_gain
        || !(0.0..1.0).contains(&config.latest_onset)
        || config.clip_samples == 0
    {
        return err(format!(
            "invalid gains {}..{}, latest onset {} or clip length {}",
            config.min_gain, config.max_gain, config.latest_onset, config.clip_samples
        ));
    }
    Ok(())
}

/// Mixes one clip from `pool` (per class, its one-shot waveforms).
pub fn mix<R: Rng>(
    pool: &[Vec<Vec<f32>>],
    config: &DrumMixConfig,
    rng: &mut R,
) -> DataResult<DrumMix> {
    validate(pool, config)?;
    let count = rng.gen_range(config.min_instruments..=config.max_instruments);
    let latest = (config.latest_onset * config.clip_samples as f32) as usize;
    let mut samples = vec![0.0f32; config.clip_samples];
    let mut labels = vec![0.0f32; pool.len()];
    let mut parts = Vec::with_capacity(count);
    for class in sample(rng, pool.len(), count).into_iter() {
        let shot = rng.gen_range(0..pool[class].len());
        let onset = rng.gen_range(0..=latest);
        let gain = rng.gen_range(config.min_gain..=config.max_gain);
        for (out, &s) in samples[onset..].iter_mut().zip(&pool[class][shot]) {
            *out += gain * s;
        }
        labels[class] = 1.0;
        parts.push(Placement {
            class,
            shot,
            onset,
            gain,
        });
    }
    Ok(DrumMix {
        samples,
        labels,
        parts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// Five classes of two distinguishable one-shots each (shot value = 10·class + shot + 1).
    fn pool() -> Vec<Vec<Vec<f32>>> {
        (0..5)
            .map(|c| (0..2).map(|s| vec![(10 * c + s + 1) as f32; 100]).collect())
            .collect()
    }

    #[test]
    fn labels_are_exactly_the_mixed_classes() {
        let cfg = DrumMixConfig {
            clip_samples: 400,
            ..DrumMixConfig::default()
        };
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut sizes = [0; 4];
        for _ in 0..300 {
            let m = mix(&pool(), &cfg, &mut rng).unwrap();
            let k = m.parts.len();
            assert!((1..=3).contains(&k));
            sizes[k] += 1;
            let mut want = vec![0.0; 5];
            let mut wave = vec![0.0f32; 400];
            for p in &m.parts {
                assert_eq!(want[p.class], 0.0, "classes are distinct");
                want[p.class] = 1.0;
                assert!(p.onset <= 200 && (0.3..=1.0).contains(&p.gain));
                for w in wave.iter_mut().skip(p.onset).take(100) {
                    *w += p.gain * (10 * p.class + p.shot + 1) as f32;
                }
            }
            assert_eq!(m.labels, want);
            assert_eq!(
                m.samples, wave,
                "the waveform is the sum of the placed one-shots"
            );
        }
        assert!(
            sizes[1..].iter().all(|&n| n > 60),
            "1, 2 and 3 instruments all occur: {sizes:?}"
        );
    }

    #[test]
    fn same_seed_same_mixture() {
        let cfg = DrumMixConfig::default();
        let a = mix(&pool(), &cfg, &mut ChaCha8Rng::seed_from_u64(9)).unwrap();
        let b = mix(&pool(), &cfg, &mut ChaCha8Rng::seed_from_u64(9)).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.samples.len(), 7816);
    }

    #[test]
    fn bad_pools_and_configs_are_errors() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let mut empty = pool();
        empty[2].clear();
        assert!(mix(&empty, &DrumMixConfig::default(), &mut rng)
            .unwrap_err()
            .problem
            .contains("class 2"));
        let too_many = DrumMixConfig {
            max_instruments: 6,
            ..DrumMixConfig::default()
        };
        assert!(mix(&pool(), &too_many, &mut rng).is_err());
        let bad_onset = DrumMixConfig {
            latest_onset: 1.5,
            ..DrumMixConfig::default()
        };
        assert!(mix(&pool(), &bad_onset, &mut rng).is_err());
    }
}
