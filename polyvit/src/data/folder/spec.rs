//! The configuration of a task read from a folder: where it is and how its files become inputs.

use super::cache::Cache;
use crate::data::audio::AudioWindow;
use crate::data::image_file::Fit;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use std::path::PathBuf;

fn default_validation_fraction() -> f64 {
    0.1
}

fn default_test_fraction() -> f64 {
    0.2
}

/// A task read from a folder (the `[task.data]` table of a task in the TOML configuration, or
/// `--task NAME=DIR`). Unset sizes take those of the run's other tasks of the same modality (so
/// that they share a tokenizer), else the defaults of the embedded suite: images 28×28, video 8
/// frames of 32×32, audio 64 log-mel frames; unset channels are likewise those of the run's
/// other task of the same modality, else those of most of the images.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FolderSpec {
    /// The folder: one subfolder per class, optionally inside `train/`, `val/` and `test/`.
    pub path: PathBuf,
    /// `[height, width]` of images and video frames.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "height_and_width"
    )]
    pub size: Option<[usize; 2]>,
    /// Channels of images and video frames: 1 (grey) or 3 (colour).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channels: Option<usize>,
    /// Frames of a video clip, or log-mel frames of an audio clip.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frames: Option<usize>,
    /// How images of another aspect ratio are brought to size: `resize` or `crop`.
    #[serde(default)]
    pub fit: Fit,
    /// Which second of a longer recording an audio task hears: `loudest` (the default: the
    /// window centred on the energy of its strongest sound) or `middle`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<AudioWindow>,
    /// Share of each class carved out for validation when there is no `val/` folder.
    #[serde(default = "default_validation_fraction")]
    pub validation_fraction: f64,
    /// Share of each class carved out for testing when there is no `test/` folder.
    #[serde(default = "default_test_fraction")]
    pub test_fraction: f64,
    /// Seed of the carving shuffle (fixed, so every run sees the same splits).
    #[serde(default)]
    pub split_seed: u64,
    /// Whether the decoded inputs are held in memory or decoded for each batch: `auto` (the
    /// default), `memory` or `stream`.
    #[serde(default)]
    pub cache: Cache,
    /// The memory budget of `cache = "auto"`, in MiB (default: half the available memory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_budget_mib: Option<u64>,
}

/// `size` as written: exactly two sizes (a fixed-size array would drop the sizes after two, so
/// `size = [224, 224, 3]`, written as image shapes often are, would read as `[224, 224]`).
fn height_and_width<'de, D: Deserializer<'de>>(d: D) -> Result<Option<[usize; 2]>, D::Error> {
    let sizes = Vec::<usize>::deserialize(d)?;
    match sizes[..] {
        [height, width] => Ok(Some([height, width])),
        _ => Err(D::Error::custom(format!(
            "size = {sizes:?}: must be [height, width] (the colour channels are `channels`)"
        ))),
    }
}

impl FolderSpec {
    /// The folder at `path` with every option at its default.
    pub fn new(path: impl Into<PathBuf>) -> FolderSpec {
        FolderSpec {
            path: path.into(),
            size: None,
            channels: None,
            frames: None,
            fit: Fit::default(),
            window: None,
            validation_fraction: default_validation_fraction(),
            test_fraction: default_test_fraction(),
            split_seed: 0,
            cache: Cache::Auto,
            memory_budget_mib: None,
        }
    }

    /// Parses the command-line form `NAME=DIR`: the task's name and its folder.
    pub fn from_arg(arg: &str) -> Result<(String, PathBuf), String> {
        match arg.split_once('=') {
            Some((name, dir)) if !name.is_empty() && !dir.is_empty() => {
                Ok((name.to_string(), PathBuf::from(dir)))
            }
            _ => Err(format!(
                "--task {arg:?}: expected NAME=DIR, e.g. --task pets=photos/pets"
            )),
        }
    }

    /// Checks the values that types cannot; the error names the key and the value.
    pub fn validate(&self) -> Result<(), String> {
        for (key, v) in [
            ("validation_fraction", self.validation_fraction),
            ("test_fraction", self.test_fraction),
        ] {
            if !(v > 0.0 && v < 1.0) {
                return Err(format!("{key} = {v}: must be in (0, 1)"));
            }
        }
        if self.validation_fraction + self.test_fraction >= 1.0 {
            return Err(format!(
                "validation_fraction + test_fraction = {}: must leave some examples to train on",
                self.validation_fraction + self.test_fraction
            ));
        }
        if let Some(size) = self.size.filter(|s| s.contains(&0)) {
            return Err(format!("size = {size:?}: must be positive"));
        }
        if let Some(c) = self.channels.filter(|c| ![1, 3].contains(c)) {
            return Err(format!("channels = {c}: must be 1 (grey) or 3 (colour)"));
        }
        if self.frames == Some(0) {
            return Err("frames = 0: must be positive".into());
        }
        match (self.memory_budget_mib, self.cache) {
            (Some(0), _) => return Err("memory_budget_mib = 0: must be positive".into()),
            (Some(mib), Cache::Memory | Cache::Stream) => {
                let cache = match self.cache {
                    Cache::Memory => "memory",
                    _ => "stream",
                };
                return Err(format!(
                    "memory_budget_mib = {mib}: only read with cache = \"auto\", not \"{cache}\""
                ));
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_form_and_bad_values() {
        let (name, dir) = FolderSpec::from_arg("pets=photos/pets").unwrap();
        assert_eq!((name.as_str(), dir), ("pets", PathBuf::from("photos/pets")));
        for bad in ["pets", "=dir", "pets="] {
            assert!(FolderSpec::from_arg(bad).unwrap_err().contains("NAME=DIR"));
        }
        type Edit = fn(&mut FolderSpec);
        let cases: [(Edit, &str); 7] = [
            (|s| s.test_fraction = 0.0, "test_fraction = 0"),
            (
                |s| s.validation_fraction = 0.8,
                "test_fraction = 1: must leave",
            ),
            (|s| s.size = Some([0, 4]), "size = [0, 4]"),
            (|s| s.channels = Some(4), "channels = 4"),
            (|s| s.frames = Some(0), "frames = 0"),
            (|s| s.memory_budget_mib = Some(0), "memory_budget_mib = 0"),
            (
                |s| {
                    s.memory_budget_mib = Some(64);
                    s.cache = Cache::Stream;
                },
                "only read with cache = \"auto\", not \"stream\"",
            ),
        ];
        for (edit, want) in cases {
            let mut spec = FolderSpec::new("d");
            edit(&mut spec);
            let err = spec.validate().unwrap_err();
            assert!(err.contains(want), "{err:?} should contain {want:?}");
        }
        let text = "path = \"d\"\nsize = [64, 48]\nfit = \"crop\"\n";
        let spec: FolderSpec = toml::from_str(text).unwrap();
        assert_eq!((spec.size, spec.fit), (Some([64, 48]), Fit::Crop));
        let spec: FolderSpec = toml::from_str("path = \"d\"\ncache = \"stream\"\n").unwrap();
        assert_eq!(spec.cache, Cache::Stream);
        let err = toml::from_str::<FolderSpec>("path = \"d\"\ncache = \"disk\"\n").unwrap_err();
        assert!(err.to_string().contains("unknown variant `disk`"), "{err}");
        let spec: FolderSpec = toml::from_str("path = \"d\"\nwindow = \"middle\"\n").unwrap();
        assert_eq!(spec.window, Some(AudioWindow::Middle));
        let err = toml::from_str::<FolderSpec>("path = \"d\"\nwindow = \"first\"\n").unwrap_err();
        assert!(
            err.to_string()
                .contains("unknown variant `first`, expected `middle` or `loudest`"),
            "{err}"
        );
        for sizes in ["[28, 28, 3]", "[28]", "[]"] {
            let text = format!("path = \"d\"\nsize = {sizes}\n");
            let err = toml::from_str::<FolderSpec>(&text).unwrap_err();
            assert!(err.to_string().contains("must be [height, width]"), "{err}");
        }
        let err = toml::from_str::<FolderSpec>("path = \"d\"\nsize = [28, \"x\"]\n").unwrap_err();
        assert!(err.to_string().contains("size"), "{err}");
        let err = toml::from_str::<FolderSpec>("path = \"d\"\nresolution = 3\n").unwrap_err();
        assert!(err.to_string().contains("resolution"), "{err}");
    }
}
