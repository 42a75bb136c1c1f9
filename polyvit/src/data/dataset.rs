//! The in-memory form of a task: inputs as a flat `Vec<f32>` with a per-example shape,
//! class-index or multi-hot targets, and fixed train / validation / test splits.

use super::error::{DataError, DataResult};
use rand::seq::SliceRandom;
use rand::Rng;
use serde::{Deserialize, Serialize};

/// Which tokenizer a task's examples go through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Modality {
    /// `[channels, height, width]` images.
    Image,
    /// `[frames, channels, height, width]` clips.
    Video,
    /// `[1, time, mel]` log-mel spectrograms (a 1-channel image).
    Audio,
}

/// Targets of one split.
#[derive(Debug, Clone, PartialEq)]
pub enum Labels {
    /// One class index per example (softmax cross-entropy, top-1 accuracy).
    Class(Vec<usize>),
    /// `len × num_classes` multi-hot rows, row-major (sigmoid BCE, mAP).
    MultiHot(Vec<f32>),
}

/// One split of a task.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    /// `len × example_len` inputs, row-major; already standardized.
    pub inputs: Vec<f32>,
    /// The targets.
    pub labels: Labels,
    len: usize,
}

impl Split {
    /// A split of `len` examples; the label count must be `len` (times `num_classes` if
    /// multi-hot) and every class index below `num_classes`.
    pub fn new(
        inputs: Vec<f32>,
        labels: Labels,
        len: usize,
        num_classes: usize,
        origin: &str,
    ) -> DataResult<Self> {
        let err = |p: String| Err(DataError::new(origin, p));
        if len > 0 && !inputs.len().is_multiple_of(len) {
            return err(format!(
                "{} input values do not split into {len} examples",
                inputs.len()
            ));
        }
        match &labels {
            Labels::Class(c) if c.len() != len => {
                return err(format!("{} labels for {len} examples", c.len()))
            }
            Labels::Class(c) => {
                if let Some(bad) = c.iter().find(|&&l| l >= num_classes) {
                    return err(format!("class {bad} is not below {num_classes}"));
                }
            }
            Labels::MultiHot(m) if m.len() != len * num_classes => {
                return err(format!(
                    "{} multi-hot values for {len} examples of {num_classes} classes",
                    m.len()
                ))
            }
            Labels::MultiHot(_) => {}
        }
        Ok(Self {
            inputs,
            labels,
            len,
        })
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the split has no examples.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of values in one example (the product of the task's shape).
    pub fn example_len(&self) -> usize {
        self.inputs.len().checked_div(self.len).unwrap_or(0)
    }

    /// The inputs of example `i`, or `None` past the end.
    pub fn example(&self, i: usize) -> Option<&[f32]> {
        let n = self.example_len();
        (i < self.len).then(|| &self.inputs[i * n..(i + 1) * n])
    }
}

/// Input standardization `(x − mean) / std`, with statistics of the training split.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Standardization {
    /// Mean of the training inputs.
    pub mean: f32,
    /// Standard deviation of the training inputs (at least 1e-6).
    pub std: f32,
}

impl Standardization {
    /// Statistics of `values` (all of them, as one population).
    pub fn fit(values: &[f32]) -> Self {
        let n = values.len().max(1) as f64;
        let mean = values.iter().map(|&v| v as f64).sum::<f64>() / n;
        let var = values
            .iter()
            .map(|&v| (v as f64 - mean).powi(2))
            .sum::<f64>()
            / n;
        Self {
            mean: mean as f32,
            std: (var.sqrt() as f32).max(1e-6),
        }
    }

    /// Standardizes `values` in place.
    pub fn apply(&self, values: &mut [f32]) {
        for v in values {
            *v = (*v - self.mean) / self.std;
        }
    }
}

/// One split before standardization: inputs, labels and number of examples.
pub struct RawSplit {
    /// `len × example_len` raw inputs (pixels / 255, log-mel values).
    pub inputs: Vec<f32>,
    /// The targets.
    pub labels: Labels,
    /// Number of examples.
    pub len: usize,
}

/// One task with its three splits.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Task name, e.g. "mnist".
    pub name: String,
    /// Which tokenizer the inputs go through.
    pub modality: Modality,
    /// Shape of one example (see [`Modality`]).
    pub shape: Vec<usize>,
    /// Number of classes (the head's output width).
    pub num_classes: usize,
    /// The name of each class, in label order (`num_classes` of them).
    pub class_names: Vec<String>,
    /// Whether targets are multi-hot (sigmoid BCE, mAP) rather than one class.
    pub multi_label: bool,
    /// Whether each raw example was brought to zero mean and unit variance on its own
    /// ([`normalize_example`]) before the standardization; new inputs must be too.
    pub example_normalization: bool,
    /// Standardization applied to every split, fitted on the raw training inputs.
    pub standardization: Standardization,
    /// Training split.
    pub train: Split,
    /// Validation split (for model selection), disjoint from train.
    pub validation: Split,
    /// Test split, disjoint from both.
    pub test: Split,
}

impl Dataset {
    /// Standardizes the raw train / validation / test splits with the train statistics and
    /// assembles the dataset; the classes are `class_names`, in label order.
    pub fn standardized(
        name: &str,
        modality: Modality,
        shape: Vec<usize>,
        class_names: Vec<String>,
        raw: [RawSplit; 3],
    ) -> DataResult<Dataset> {
        let standardization = Standardization::fit(&raw[0].inputs);
        let multi_label = matches!(raw[0].labels, Labels::MultiHot(_));
        let num_classes = class_names.len();
        let [train, validation, test] = raw.map(|mut r| {
            standardization.apply(&mut r.inputs);
            Split::new(r.inputs, r.labels, r.len, num_classes, name)
        });
        Ok(Dataset {
            name: name.to_string(),
            modality,
            shape,
            num_classes,
            class_names,
            multi_label,
            example_normalization: false,
            standardization,
            train: train?,
            validation: validation?,
            test: test?,
        })
    }
}

/// Brings one example to zero mean and unit variance over all its values (for a spectrogram:
/// removes the recording level and, partly, the channel).
pub fn normalize_example(x: &mut [f32]) {
    let n = x.len().max(1) as f64;
    let mean = x.iter().map(|&v| v as f64).sum::<f64>() / n;
    let var = x.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
    let scale = 1.0 / (var.sqrt() + 1e-6);
    x.iter_mut()
        .for_each(|v| *v = ((*v as f64 - mean) * scale) as f32);
}

/// Splits `0..n` into (train, validation) index lists: a seeded shuffle puts
/// `round(n · fraction)` indices in validation; both lists are returned in ascending order.
pub fn carve_validation<R: Rng>(n: usize, fraction: f32, rng: &mut R) -> (Vec<usize>, Vec<usize>) {
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(rng);
    let n_val = ((n as f32 * fraction).round() as usize).min(n);
    let mut val = order[..n_val].to_vec();
    let mut train = order[n_val..].to_vec();
    val.sort_unstable();
    train.sort_unstable();
    (train, val)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn split_checks_sizes_and_classes() {
        let s = Split::new(
            vec![1.0, 2.0, 3.0, 4.0],
            Labels::Class(vec![0, 2]),
            2,
            3,
            "t",
        )
        .unwrap();
        assert_eq!((s.len(), s.example_len()), (2, 2));
        assert_eq!(s.example(1), Some(&[3.0, 4.0][..]));
        assert_eq!(s.example(2), None);
        assert!(Split::new(vec![1.0; 3], Labels::Class(vec![0, 0]), 2, 3, "t").is_err());
        assert!(Split::new(vec![1.0; 4], Labels::Class(vec![0]), 2, 3, "t").is_err());
        assert!(
            Split::new(vec![1.0; 4], Labels::Class(vec![0, 3]), 2, 3, "t")
                .unwrap_err()
                .problem
                .contains("class 3")
        );
        assert!(Split::new(vec![1.0; 4], Labels::MultiHot(vec![0.0; 5]), 2, 3, "t").is_err());
        assert!(Split::new(vec![1.0; 4], Labels::MultiHot(vec![0.0; 6]), 2, 3, "t").is_ok());
    }

    #[test]
    fn standardization_gives_zero_mean_unit_std() {
        let mut v = vec![1.0, 2.0, 3.0, 4.0];
        let s = Standardization::fit(&v);
        assert_eq!(s.mean, 2.5);
        s.apply(&mut v);
        let back = Standardization::fit(&v);
        assert!(back.mean.abs() < 1e-6 && (back.std - 1.0).abs() < 1e-6);
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
}
