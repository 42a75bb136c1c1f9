//! The form of a task the training loop reads: inputs of a fixed per-example shape (held in
//! memory as one flat `Vec<f32>`, or decoded from their files when a batch needs them, see
//! [`Split::gather`]), class-index or multi-hot targets, and fixed train / validation / test
//! splits.

use super::audio::AudioWindow;
use super::error::{DataError, DataResult};
use super::recording::RecordingForm;
use super::stream::StreamedInputs;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

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

impl Modality {
    /// The modality's name in lower case, as configurations, parameter names and messages
    /// write it: "image", "video", "audio".
    pub fn name(self) -> &'static str {
        match self {
            Modality::Image => "image",
            Modality::Video => "video",
            Modality::Audio => "audio",
        }
    }

    /// The modality with its indefinite article, for messages: "an image", "a video", "an audio".
    pub fn with_article(self) -> &'static str {
        match self {
            Modality::Image => "an image",
            Modality::Video => "a video",
            Modality::Audio => "an audio",
        }
    }
}

/// Targets of one split.
#[derive(Debug, Clone, PartialEq)]
pub enum Labels {
    /// One class index per example (softmax cross-entropy, top-1 accuracy).
    Class(Vec<usize>),
    /// `len × num_classes` multi-hot rows, row-major (sigmoid BCE, mAP).
    MultiHot(Vec<f32>),
}

/// Where a split's standardized inputs come from.
#[derive(Debug, Clone, PartialEq)]
enum Inputs {
    /// `len × example_len` values, row-major.
    Memory(Vec<f32>),
    /// Decoded from the examples' files on demand (shared by the clones of the split).
    Streamed(Arc<StreamedInputs>),
}

/// One split of a task.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    inputs: Inputs,
    /// The targets.
    pub labels: Labels,
    len: usize,
    example_len: usize,
}

impl Split {
    /// A split of `len` examples held in memory; the label count must be `len` (times
    /// `num_classes` if multi-hot) and every class index below `num_classes`.
    pub fn new(
        inputs: Vec<f32>,
        labels: Labels,
        len: usize,
        num_classes: usize,
        origin: &str,
    ) -> DataResult<Self> {
        if len > 0 && !inputs.len().is_multiple_of(len) {
            return Err(DataError::new(
                origin,
                format!(
                    "{} input values do not split into {len} examples",
                    inputs.len()
                ),
            ));
        }
        let example_len = inputs.len().checked_div(len).unwrap_or(0);
        Self::checked(
            Inputs::Memory(inputs),
            labels,
            len,
            example_len,
            num_classes,
            origin,
        )
    }

    /// A split whose inputs are decoded from their files when a batch needs them.
    pub fn streamed(
        inputs: StreamedInputs,
        labels: Labels,
        num_classes: usize,
        origin: &str,
    ) -> DataResult<Self> {
        let (len, example_len) = (inputs.len(), inputs.example_len());
        let inputs = Inputs::Streamed(Arc::new(inputs));
        Self::checked(inputs, labels, len, example_len, num_classes, origin)
    }

    /// A split of no examples, with class or multi-hot targets.
    pub fn empty(multi_label: bool) -> Self {
        Self {
            inputs: Inputs::Memory(Vec::new()),
            labels: match multi_label {
                true => Labels::MultiHot(Vec::new()),
                false => Labels::Class(Vec::new()),
            },
            len: 0,
            example_len: 0,
        }
    }

    /// The split, once its labels are checked against `len` and `num_classes`.
    fn checked(
        inputs: Inputs,
        labels: Labels,
        len: usize,
        example_len: usize,
        num_classes: usize,
        origin: &str,
    ) -> DataResult<Self> {
        let err = |p: String| Err(DataError::new(origin, p));
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
            example_len,
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

    /// The classes (of `num_classes`) that no example of the split belongs to: scores over
    /// the split say nothing about them (top-1 counts none of them, mAP leaves them out).
    pub fn classes_without_examples(&self, num_classes: usize) -> Vec<usize> {
        let counts = self.examples_per_class(num_classes);
        (0..num_classes).filter(|&c| counts[c] == 0).collect()
    }

    /// How many examples of the split belong to each class (of `num_classes`; a multi-label
    /// example counts for each of its classes).
    pub fn examples_per_class(&self, num_classes: usize) -> Vec<usize> {
        let mut counts = vec![0; num_classes];
        match &self.labels {
            Labels::Class(labels) => labels.iter().for_each(|&c| counts[c] += 1),
            Labels::MultiHot(rows) => {
                for row in rows.chunks(num_classes.max(1)) {
                    for (count, &target) in counts.iter_mut().zip(row) {
                        *count += usize::from(target > 0.5);
                    }
                }
            }
        }
        counts
    }

    /// Number of values in one example (the product of the task's shape).
    pub fn example_len(&self) -> usize {
        self.example_len
    }

    /// All inputs, row-major, when the split holds them in memory.
    pub fn in_memory(&self) -> Option<&[f32]> {
        match &self.inputs {
            Inputs::Memory(values) => Some(values),
            Inputs::Streamed(_) => None,
        }
    }

    /// Whether the inputs are decoded from files on demand rather than held in memory.
    pub fn streams(&self) -> bool {
        matches!(self.inputs, Inputs::Streamed(_))
    }

    /// The inputs of examples `indices`, one after the other: copied from memory, or decoded
    /// (a batch [`Split::prefetch`] started is waited for rather than decoded again). An index
    /// past the end, or a file that no longer decodes, is an error.
    pub fn gather(&self, indices: &[usize]) -> DataResult<Vec<f32>> {
        if let Some(&bad) = indices.iter().find(|&&i| i >= self.len) {
            return Err(DataError::new(
                "split",
                format!("example {bad} asked of a split of {}", self.len),
            ));
        }
        match &self.inputs {
            Inputs::Memory(values) => {
                let n = self.example_len;
                let mut out = Vec::with_capacity(indices.len() * n);
                for &i in indices {
                    out.extend_from_slice(&values[i * n..(i + 1) * n]);
                }
                Ok(out)
            }
            Inputs::Streamed(files) => files.gather(indices),
        }
    }

    /// The inputs of example `i` (see [`Split::gather`]).
    pub fn example(&self, i: usize) -> DataResult<Vec<f32>> {
        self.gather(&[i])
    }

    /// Starts decoding examples `indices` in the background, for a later [`Split::gather`] of
    /// exactly these indices; nothing to do for a split held in memory.
    pub fn prefetch(&self, indices: &[usize]) {
        if let Inputs::Streamed(files) = &self.inputs {
            if indices.iter().all(|&i| i < self.len) {
                files.prefetch(indices);
            }
        }
    }
}

/// The least standard deviation a [`Standardization`] divides by: that of inputs with no spread.
pub const STD_FLOOR: f32 = 1e-6;

/// Input standardization `(x − mean) / std`, with statistics of the training split.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Standardization {
    /// Mean of the training inputs.
    pub mean: f32,
    /// Standard deviation of the training inputs (at least [`STD_FLOOR`]).
    pub std: f32,
}

impl Standardization {
    /// Statistics of `values` (all of them, as one population).
    pub fn fit(values: &[f32]) -> Self {
        Moments::of(values).standardization()
    }

    /// Standardizes `values` in place.
    pub fn apply(&self, values: &mut [f32]) {
        for v in values {
            *v = (*v - self.mean) / self.std;
        }
    }

    /// Whether the statistics are those of inputs without any spread: every value the same.
    pub fn without_spread(&self) -> bool {
        self.std <= STD_FLOOR
    }
}

/// Count, mean and sum of squared deviations of a population, in f64, mergeable: the statistics
/// of inputs that are never all in memory at once, merged example by example in a fixed order.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Moments {
    count: u64,
    mean: f64,
    m2: f64,
}

impl Moments {
    /// The moments of `values`, in two passes (the mean, then the squared deviations from it).
    pub fn of(values: &[f32]) -> Self {
        let mean = values.iter().map(|&v| v as f64).sum::<f64>() / values.len().max(1) as f64;
        let m2 = values.iter().map(|&v| (v as f64 - mean).powi(2)).sum();
        Self {
            count: values.len() as u64,
            mean,
            m2,
        }
    }

    /// Adds the population of `other` (Chan, Golub and LeVeque's pairwise update).
    pub fn merge(&mut self, other: Moments) {
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = other;
            return;
        }
        let (a, b) = (self.count as f64, other.count as f64);
        let n = a + b;
        let delta = other.mean - self.mean;
        self.mean += delta * b / n;
        self.m2 += other.m2 + delta * delta * a * b / n;
        self.count += other.count;
    }

    /// The population's mean (0 for an empty one).
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// The population's variance (0 for an empty one).
    pub fn variance(&self) -> f64 {
        self.m2 / self.count.max(1) as f64
    }

    /// The standardization of the population: its mean and standard deviation (at least
    /// [`STD_FLOOR`]).
    pub fn standardization(&self) -> Standardization {
        Standardization {
            mean: self.mean as f32,
            std: (self.variance().sqrt() as f32).max(STD_FLOOR),
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
    /// Whether each raw log-mel example had its mel bands' means removed
    /// ([`remove_band_means`](super::audio::remove_band_means)) first; new inputs must too.
    pub band_mean_removal: bool,
    /// Whether each raw example was brought to zero mean and unit variance on its own
    /// ([`normalize_example`](super::audio::normalize_example)) before the standardization; new
    /// inputs must be too.
    pub example_normalization: bool,
    /// How the training recordings were made (the embedded speech and drum packs), so that new
    /// ones are made the same way ([`RecordingForm`]).
    pub recording_form: Option<RecordingForm>,
    /// Which window of a recording longer than the features' window each audio example was
    /// heard in ([`AudioWindow`]); new recordings are heard in the same.
    pub audio_window: AudioWindow,
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
        let num_classes = class_names.len();
        let [train, validation, test] = raw.map(|mut r| {
            standardization.apply(&mut r.inputs);
            Split::new(r.inputs, r.labels, r.len, num_classes, name)
        });
        Ok(Self::new(
            name,
            modality,
            shape,
            class_names,
            standardization,
            [train?, validation?, test?],
        ))
    }

    /// Assembles a dataset from splits already standardized by `standardization`; the classes
    /// are `class_names`, in label order, multi-label when the training targets are multi-hot.
    pub fn new(
        name: &str,
        modality: Modality,
        shape: Vec<usize>,
        class_names: Vec<String>,
        standardization: Standardization,
        splits: [Split; 3],
    ) -> Dataset {
        let [train, validation, test] = splits;
        Dataset {
            name: name.to_string(),
            modality,
            shape,
            num_classes: class_names.len(),
            class_names,
            multi_label: matches!(train.labels, Labels::MultiHot(_)),
            band_mean_removal: false,
            example_normalization: false,
            recording_form: None,
            audio_window: AudioWindow::Middle,
            standardization,
            train,
            validation,
            test,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(s.example(1), Ok(vec![3.0, 4.0]));
        assert_eq!(s.gather(&[1, 0]), Ok(vec![3.0, 4.0, 1.0, 2.0]));
        assert!(s.example(2).unwrap_err().problem.contains("example 2"));
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
    fn merged_moments_are_those_of_the_whole_population() {
        let values: Vec<f32> = (0..50).map(|i| (i * i % 17) as f32 * 0.3 - 1.0).collect();
        let mut merged = Moments::default();
        for part in values.chunks(7) {
            merged.merge(Moments::of(part));
        }
        merged.merge(Moments::of(&[]));
        let (whole, parts) = (Moments::of(&values), merged);
        assert_eq!(parts.count, 50);
        assert!(
            (whole.mean - parts.mean).abs() < 1e-12,
            "{whole:?} {parts:?}"
        );
        assert!(
            (whole.m2 - parts.m2).abs() < 1e-9 * whole.m2,
            "{whole:?} {parts:?}"
        );
        assert_eq!(Standardization::fit(&[]).std, STD_FLOOR);
        assert!(Standardization::fit(&[0.5; 9]).without_spread());
        assert!(!Standardization::fit(&[0.5, 0.5, 0.6]).without_spread());
    }
}
