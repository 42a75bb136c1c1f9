//! Checkpoints: named tensors and metadata in one safetensors file.
//!
//! Tensors are stored under their dotted names (`model.encoder.blocks.0.attn.qkv.weight`,
//! `optimizer.momentum.…`) as plain F32/F64 safetensors entries, so `safetensors.torch.load_file`
//! opens a checkpoint as is. The string metadata goes to the file's `__metadata__` map, next to
//! three reserved entries: `format` (`pt`, what PyTorch tools expect), [`VERSION_KEY`] and
//! [`CHECKSUM_KEY`] (FNV-1a 64 of every tensor and metadata entry, verified on load). Files are
//! written atomically (temporary file, fsync, rename, fsync of the directory).
//!
//! Files of format version 1 (a private bincode layout starting with the bytes `PVRSCKPT`) are
//! recognized and refused with an error saying so; they are not converted.

use crate::fnv::Fnv1a;
use crate::optim::Optimizer;
use crate::safetensors_file;
use crate::Parameters;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use tensor::{DType, Tensor};

/// Bumped whenever the layout changes (1: bincode; 2: safetensors).
pub const FORMAT_VERSION: u32 = 2;
/// The `__metadata__` key holding [`FORMAT_VERSION`].
pub const VERSION_KEY: &str = "polyvit.format_version";
/// The `__metadata__` key holding the integrity checksum.
pub const CHECKSUM_KEY: &str = "polyvit.checksum";
/// The `__metadata__` key PyTorch tools read to know the file holds PyTorch-style tensors.
const FORMAT_KEY: &str = "format";
/// How a version-1 checkpoint starts.
const VERSION_1_MAGIC: &[u8; 8] = b"PVRSCKPT";

/// What went wrong with a checkpoint, naming the file and the problem.
#[derive(Debug)]
pub enum CheckpointError {
    /// The file could not be read or written (missing, not permitted, a full disk, a folder, a
    /// device or a socket given as the file, ...): `checkpoint PATH: SOURCE`.
    Io {
        /// The file read or written.
        path: PathBuf,
        /// The operating system's error, or an `InvalidInput` one for a folder, a device or a
        /// socket, refused before it is read.
        source: std::io::Error,
    },
    /// The bytes are no checkpoint this build reads (not safetensors, an unsupported dtype, a
    /// missing or other format version, a checksum that does not match), or, on save, metadata
    /// under a reserved key: `checkpoint PATH: PROBLEM`.
    Corrupt {
        /// The file read, or about to be written.
        path: PathBuf,
        /// What is wrong, in words (e.g. `checksum mismatch: the file is corrupt`).
        problem: String,
    },
    /// The model and the checkpoint disagree (missing, unexpected or mis-shaped tensors).
    Mismatch {
        /// One entry per tensor that does not fit, naming it (e.g. `model.norm.weight is
        /// missing`); the message joins them all with `; `.
        problems: Vec<String>,
    },
    /// An error of the numerical stack on the way: reading a tensor's values back from its
    /// device, moving one to the model's device, or a model with two parameters under one name.
    Tensor(tensor::Error),
}

/// The bytes of the file at `path` (a checkpoint, a pretrained model), read by
/// [`read_regular_file`](crate::file::read_regular_file): a device or a socket is refused, a pipe
/// is read to its end (`--checkpoint <(…)` in a shell).
pub fn read_whole_file(path: &Path) -> Result<Vec<u8>, CheckpointError> {
    crate::file::read_regular_file(path).map_err(|source| CheckpointError::Io {
        path: path.to_path_buf(),
        source,
    })
}

impl fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckpointError::Io { path, source } => {
                write!(f, "checkpoint {}: {source}", path.display())
            }
            CheckpointError::Corrupt { path, problem } => {
                write!(f, "checkpoint {}: {problem}", path.display())
            }
            CheckpointError::Mismatch { problems } => write!(
                f,
                "checkpoint does not fit the model: {}",
                problems.join("; ")
            ),
            CheckpointError::Tensor(e) => write!(f, "checkpoint: {e}"),
        }
    }
}

impl std::error::Error for CheckpointError {}

impl From<tensor::Error> for CheckpointError {
    fn from(e: tensor::Error) -> Self {
        CheckpointError::Tensor(e)
    }
}

/// A checkpoint error as an error of the numerical stack, so code returning [`tensor::Result`]
/// can use `?` on checkpoint calls: an [`Error::Invalid`](tensor::Error::Invalid) of op
/// `checkpoint` with the same message (a [`CheckpointError::Tensor`] gives back its error).
///
/// ```
/// use nn::checkpoint::Checkpoint;
/// fn resume(path: &std::path::Path) -> tensor::Result<Checkpoint> {
///     Ok(Checkpoint::load(path)?)
/// }
/// let err = resume(std::path::Path::new("/no/such/run.safetensors")).unwrap_err();
/// assert!(err.to_string().starts_with("checkpoint: /no/such/run.safetensors: "), "{err}");
/// ```
impl From<CheckpointError> for tensor::Error {
    fn from(e: CheckpointError) -> Self {
        let msg = match e {
            CheckpointError::Tensor(e) => return e,
            CheckpointError::Io { path, source } => format!("{}: {source}", path.display()),
            CheckpointError::Corrupt { path, problem } => format!("{}: {problem}", path.display()),
            CheckpointError::Mismatch { problems } => {
                format!("does not fit the model: {}", problems.join("; "))
            }
        };
        tensor::Error::invalid("checkpoint", msg)
    }
}

/// The metadata key an optimizer's step count is saved under, next to its tensors under
/// `prefix`: `optimizer.` gives `optimizer_steps`.
fn optimizer_steps_key(prefix: &str) -> String {
    format!("{}_steps", prefix.trim_end_matches('.'))
}

/// Named tensors plus free-form metadata (step counts, configuration, seeds).
#[derive(Clone, Debug, Default)]
pub struct Checkpoint {
    /// Tensors by dotted name, each under the prefix of what it belongs to (`model.`,
    /// `optimizer.`); saved as F32 or F64 entries, whatever device they are on.
    pub tensors: BTreeMap<String, Tensor>,
    /// Free-form string entries, saved in the file's `__metadata__` map. The reserved keys
    /// (`format`, [`VERSION_KEY`], [`CHECKSUM_KEY`]) are refused on save and removed on load.
    pub metadata: BTreeMap<String, String>,
}

/// The checksum stored under [`CHECKSUM_KEY`]: every tensor's name, dtype, shape and data, and
/// every other metadata entry, in name order.
fn checksum(
    tensors: &BTreeMap<String, Tensor>,
    metadata: &BTreeMap<String, String>,
) -> Result<String, tensor::Error> {
    let mut hash = Fnv1a::default();
    for (name, t) in tensors {
        let (_, bytes) = safetensors_file::tensor_bytes(t)?;
        // The safetensors names, spelled out so the checksum does not hang on a Debug format.
        let dtype = match t.dtype() {
            DType::F32 => "F32",
            DType::F64 => "F64",
        };
        let shape: Vec<u8> = t
            .shape()
            .iter()
            .flat_map(|&d| (d as u64).to_le_bytes())
            .collect();
        hash.field(name.as_bytes())
            .field(dtype.as_bytes())
            .field(&shape)
            .field(&bytes);
    }
    for (key, value) in metadata.iter().filter(|(k, _)| *k != CHECKSUM_KEY) {
        hash.field(key.as_bytes()).field(value.as_bytes());
    }
    Ok(format!("fnv1a64:{:016x}", hash.value()))
}

impl Checkpoint {
    /// Every parameter of `model`, under `prefix` (e.g. `model.`); an error, adding nothing, when
    /// two parameters share a name or one is held under two names
    /// ([`crate::parameter::check_distinct`]): one tensor would silently stand for both.
    pub fn add_parameters(
        &mut self,
        prefix: &str,
        model: &dyn Parameters,
    ) -> Result<(), CheckpointError> {
        crate::parameter::check_distinct(model)?;
        model.visit("", &mut |name, p| {
            self.tensors
                .insert(format!("{prefix}{name}"), p.value().clone());
        });
        Ok(())
    }

    /// Sets every parameter of `model` from the entries under `prefix`; reports every missing
    /// name, every shape that differs and every entry under `prefix` that is no parameter of the
    /// model (and changes nothing) when they do not fit. Entries under other prefixes are left to
    /// their own loaders (see [`Checkpoint::check_prefixes`]).
    pub fn load_parameters(
        &self,
        prefix: &str,
        model: &mut dyn Parameters,
    ) -> Result<(), CheckpointError> {
        crate::parameter::check_distinct(model)?;
        let mut problems = Vec::new();
        let mut known = std::collections::BTreeSet::new();
        model.visit("", &mut |name, _| {
            known.insert(format!("{prefix}{name}"));
        });
        model.visit(
            "",
            &mut |name, p| match self.tensors.get(&format!("{prefix}{name}")) {
                None => problems.push(format!("{prefix}{name} is missing")),
                Some(t) if t.shape() != p.shape() || t.dtype() != p.value().dtype() => problems
                    .push(format!(
                        "{prefix}{name} has shape {:?} ({}), the model expects {:?} ({})",
                        t.shape(),
                        t.dtype(),
                        p.shape(),
                        p.value().dtype()
                    )),
                Some(_) => {}
            },
        );
        problems.extend(
            self.tensors
                .keys()
                .filter(|k| k.starts_with(prefix) && !known.contains(*k))
                .map(|k| format!("{k} is not a parameter of the model")),
        );
        if !problems.is_empty() {
            return Err(CheckpointError::Mismatch { problems });
        }
        let mut result = Ok(());
        model.visit_mut("", &mut |name, p| {
            if let Some(t) = self.tensors.get(&format!("{prefix}{name}")) {
                match t.to_device(&p.value().device()) {
                    Ok(t) => p.set_value(t),
                    Err(e) => result = Err(e.into()),
                }
            }
        });
        result
    }

    /// `optimizer`'s state under `prefix` (e.g. `optimizer.`: `optimizer.momentum.fc.weight`, …)
    /// and its step count in the metadata (`optimizer_steps`: the prefix without its final dot,
    /// then `_steps`), for [`Checkpoint::load_optimizer`] to resume from. As with
    /// [`Checkpoint::add_parameters`], the prefix normally ends with a dot; two optimizers in
    /// one checkpoint need prefixes that differ by more than that dot.
    ///
    /// ```
    /// use autograd::Var;
    /// use nn::checkpoint::Checkpoint;
    /// use nn::layers::{Linear, LinearInit};
    /// use nn::optim::{AdamW, Optimizer};
    /// use nn::{Context, Module};
    /// use tensor::{DType, Tensor};
    /// let mut model = Linear::new(2, 1, LinearInit::XavierUniform, DType::F32, &mut tensor::rng(0));
    /// let mut adamw = AdamW::new(0.9, 0.999, 1e-8, 0.01);
    /// let x = Var::constant(Tensor::ones(&[1, 2], DType::F32));
    /// let grads = model.forward(&x, &mut Context::eval())?.sum_all()?.backward()?;
    /// adamw.step(&mut model, &grads, 1e-3)?;
    ///
    /// let mut checkpoint = Checkpoint::default();
    /// checkpoint.add_parameters("model.", &model)?;
    /// checkpoint.add_optimizer("optimizer.", &adamw);
    /// assert_eq!(checkpoint.metadata["optimizer_steps"], "1");
    /// assert!(checkpoint.tensors.contains_key("optimizer.first_moment.weight"));
    ///
    /// // Later, into a fresh optimizer (after `Checkpoint::save` and `Checkpoint::load`):
    /// let mut resumed = AdamW::new(0.9, 0.999, 1e-8, 0.01);
    /// checkpoint.load_optimizer("optimizer.", &mut resumed, &model)?;
    /// assert_eq!(resumed.state().0, 1);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn add_optimizer(&mut self, prefix: &str, optimizer: &dyn Optimizer) {
        let (steps, state) = optimizer.state();
        for (name, tensor) in state {
            self.tensors.insert(format!("{prefix}{name}"), tensor);
        }
        self.metadata
            .insert(optimizer_steps_key(prefix), steps.to_string());
    }

    /// Restores into `optimizer` what [`Checkpoint::add_optimizer`] saved under `prefix`, checks
    /// that it covers exactly `model`'s trainable parameters ([`Optimizer::check_covers`]: state
    /// missing, for another parameter or of another shape is an error naming it), and moves it
    /// to the device of `model`'s parameters.
    pub fn load_optimizer(
        &self,
        prefix: &str,
        optimizer: &mut dyn Optimizer,
        model: &dyn Parameters,
    ) -> Result<(), CheckpointError> {
        let key = optimizer_steps_key(prefix);
        let refused = |problem: String| tensor::Error::invalid("optimizer state", problem);
        let text = self.metadata.get(&key).ok_or_else(|| {
            refused(format!(
                "the metadata has no {key}: no optimizer state was saved under {prefix:?}"
            ))
        })?;
        let steps = text
            .parse()
            .map_err(|_| refused(format!("{key} is {text:?}, not a count of steps")))?;
        optimizer.load_state(steps, self.entries_with_prefix(prefix))?;
        optimizer.check_covers(model)?;
        let mut device = None;
        model.visit("", &mut |_, p| {
            device.get_or_insert_with(|| p.value().device());
        });
        if let Some(device) = device {
            optimizer.to_device(&device)?;
        }
        Ok(())
    }

    /// The entries under `prefix`, with the prefix removed.
    pub fn entries_with_prefix(&self, prefix: &str) -> Vec<(String, Tensor)> {
        self.tensors
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix(prefix)
                    .map(|rest| (rest.to_string(), v.clone()))
            })
            .collect()
    }

    /// Fails naming every tensor that lies under none of `prefixes` (an entry nobody reads
    /// would otherwise be dropped without a word).
    pub fn check_prefixes(&self, prefixes: &[&str]) -> Result<(), CheckpointError> {
        let problems: Vec<String> = self
            .tensors
            .keys()
            .filter(|k| !prefixes.iter().any(|p| k.starts_with(p)))
            .map(|k| format!("{k} is unexpected (expected only entries under {prefixes:?})"))
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(CheckpointError::Mismatch { problems })
        }
    }

    /// Writes the checkpoint as a safetensors file, atomically (see the module docs), creating
    /// the folders above it that do not exist yet. Metadata may not use the reserved keys.
    pub fn save(&self, path: &Path) -> Result<(), CheckpointError> {
        if let Some(key) = [FORMAT_KEY, VERSION_KEY, CHECKSUM_KEY]
            .into_iter()
            .find(|k| self.metadata.contains_key(*k))
        {
            return Err(CheckpointError::Corrupt {
                path: path.to_path_buf(),
                problem: format!("metadata key {key:?} is reserved for the file format"),
            });
        }
        let mut metadata = self.metadata.clone();
        metadata.insert(FORMAT_KEY.into(), "pt".into());
        metadata.insert(VERSION_KEY.into(), FORMAT_VERSION.to_string());
        let sum = checksum(&self.tensors, &metadata)?;
        metadata.insert(CHECKSUM_KEY.into(), sum);
        let bytes = safetensors_file::encode(&self.tensors, &metadata, path)?;
        crate::file::write_atomically(path, &bytes).map_err(|source| CheckpointError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Reads and verifies a checkpoint.
    pub fn load(path: &Path) -> Result<Checkpoint, CheckpointError> {
        Checkpoint::parse(&read_whole_file(path)?, path)
    }

    /// Verifies and decodes the bytes of a checkpoint file; `path` names it in errors. Corrupt
    /// input of any kind is an error, never a panic or an allocation larger than twice the input
    /// (the bound of [`crate::safetensors_file::decode`], which widens F16 and BF16 to F32).
    pub fn parse(bytes: &[u8], path: &Path) -> Result<Checkpoint, CheckpointError> {
        let corrupt = |problem: String| CheckpointError::Corrupt {
            path: path.to_path_buf(),
            problem,
        };
        if bytes.starts_with(VERSION_1_MAGIC) {
            return Err(corrupt(format!(
                "format version 1 (the bincode layout before safetensors) is not supported; this build reads version {FORMAT_VERSION}: retrain, or convert the file with a build from before the change"
            )));
        }
        let content = safetensors_file::decode(bytes, path)?;
        let mut metadata = content.metadata;
        let version = metadata.get(VERSION_KEY).ok_or_else(|| {
            // Every checkpoint carries both keys: one without the other was damaged.
            corrupt(match metadata.contains_key(CHECKSUM_KEY) {
                true => format!(
                    "{CHECKSUM_KEY} but no {VERSION_KEY} in its metadata: a damaged polyvit-rs \
                     checkpoint"
                ),
                false => format!(
                    "a safetensors file without {VERSION_KEY} in its metadata: not a polyvit-rs checkpoint (pretrained weights: polyvit train --init-from, or in code nn::safetensors_file::read, then Checkpoint::load_parameters)"
                ),
            })
        })?;
        if *version != FORMAT_VERSION.to_string() {
            return Err(corrupt(format!(
                "format version {version}, this build reads version {FORMAT_VERSION}"
            )));
        }
        let stored = metadata
            .get(CHECKSUM_KEY)
            .ok_or_else(|| corrupt(format!("no {CHECKSUM_KEY} in the metadata")))?;
        if *stored != checksum(&content.tensors, &metadata)? {
            return Err(corrupt("checksum mismatch: the file is corrupt".into()));
        }
        for key in [FORMAT_KEY, VERSION_KEY, CHECKSUM_KEY] {
            metadata.remove(key);
        }
        Ok(Checkpoint {
            tensors: content.tensors,
            metadata,
        })
    }
}
