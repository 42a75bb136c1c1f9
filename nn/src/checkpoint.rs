//! Checkpoints: named tensors and metadata in one file.
//!
//! Layout: the magic bytes `PVRSCKPT`, the format version (u32 LE), the payload length (u64 LE),
//! an FNV-1a 64 checksum of the payload (u64 LE), then the payload (`bincode` of named tensors and
//! string metadata). Files are written to a temporary name and renamed into place, so a crash
//! never leaves a half-written checkpoint under the real name.

use crate::Parameters;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use tensor::{DType, Tensor};

const MAGIC: &[u8; 8] = b"PVRSCKPT";
/// Bumped whenever the payload's structure changes.
pub const FORMAT_VERSION: u32 = 1;
const HEADER_LEN: usize = 8 + 4 + 8 + 8;

/// What went wrong with a checkpoint, naming the file and the problem.
#[derive(Debug)]
pub enum CheckpointError {
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    Corrupt {
        path: PathBuf,
        problem: String,
    },
    /// The model and the checkpoint disagree (missing names, other shapes).
    Mismatch {
        problems: Vec<String>,
    },
    Tensor(tensor::Error),
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

#[derive(Serialize, Deserialize)]
enum StoredData {
    F32(Vec<f32>),
    F64(Vec<f64>),
}

#[derive(Serialize, Deserialize)]
struct StoredTensor {
    shape: Vec<usize>,
    data: StoredData,
}

#[derive(Serialize, Deserialize)]
struct Payload {
    tensors: BTreeMap<String, StoredTensor>,
    metadata: BTreeMap<String, String>,
}

/// Named tensors plus free-form metadata (step counts, configuration, seeds).
#[derive(Clone, Default)]
pub struct Checkpoint {
    pub tensors: BTreeMap<String, Tensor>,
    pub metadata: BTreeMap<String, String>,
}

/// FNV-1a, 64 bits: a small, dependency-free checksum that catches corruption (not tampering).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

impl Checkpoint {
    /// Every parameter of `model`, under `prefix` (e.g. `model.`).
    pub fn add_parameters(&mut self, prefix: &str, model: &dyn Parameters) {
        model.visit("", &mut |name, p| {
            self.tensors
                .insert(format!("{prefix}{name}"), p.value().clone());
        });
    }

    /// Sets every parameter of `model` from the entries under `prefix`; reports every missing
    /// name and every shape that differs (and changes nothing) when they do not fit.
    pub fn load_parameters(
        &self,
        prefix: &str,
        model: &mut dyn Parameters,
    ) -> Result<(), CheckpointError> {
        let mut problems = Vec::new();
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

    /// Writes the checkpoint atomically: to `path.tmp`, flushed, then renamed to `path`.
    pub fn save(&self, path: &Path) -> Result<(), CheckpointError> {
        let mut tensors = BTreeMap::new();
        for (name, t) in &self.tensors {
            let data = match t.dtype() {
                DType::F32 => StoredData::F32(t.to_vec::<f32>()?),
                DType::F64 => StoredData::F64(t.to_vec::<f64>()?),
            };
            tensors.insert(
                name.clone(),
                StoredTensor {
                    shape: t.shape().to_vec(),
                    data,
                },
            );
        }
        let payload = bincode::serialize(&Payload {
            tensors,
            metadata: self.metadata.clone(),
        })
        .map_err(|e| CheckpointError::Corrupt {
            path: path.to_path_buf(),
            problem: format!("cannot encode: {e}"),
        })?;
        let mut bytes = Vec::with_capacity(HEADER_LEN + payload.len());
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&fnv1a(&payload).to_le_bytes());
        bytes.extend_from_slice(&payload);

        let io = |source| CheckpointError::Io {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        {
            use std::io::Write;
            let mut file = std::fs::File::create(&tmp).map_err(io)?;
            file.write_all(&bytes).map_err(io)?;
            file.sync_all().map_err(io)?;
        }
        std::fs::rename(&tmp, path).map_err(io)?;
        // The rename is durable only once the directory entry is on disk too.
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io)
    }

    /// Reads and verifies a checkpoint.
    pub fn load(path: &Path) -> Result<Checkpoint, CheckpointError> {
        let bytes = std::fs::read(path).map_err(|source| CheckpointError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Checkpoint::parse(&bytes, path)
    }

    /// Verifies and decodes the bytes of a checkpoint file; `path` names it in errors. Corrupt
    /// input of any kind is an error, never a panic or an allocation larger than the input.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<Checkpoint, CheckpointError> {
        let corrupt = |problem: String| CheckpointError::Corrupt {
            path: path.to_path_buf(),
            problem,
        };
        if bytes.len() < HEADER_LEN || &bytes[..8] != MAGIC {
            return Err(corrupt(
                "not a polyvit-rs checkpoint (bad magic bytes or too short)".into(),
            ));
        }
        let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        if version != FORMAT_VERSION {
            return Err(corrupt(format!(
                "format version {version}, this build reads version {FORMAT_VERSION}"
            )));
        }
        let length = u64::from_le_bytes(bytes[12..20].try_into().expect("8 bytes")) as usize;
        let checksum = u64::from_le_bytes(bytes[20..28].try_into().expect("8 bytes"));
        let payload = &bytes[HEADER_LEN..];
        if payload.len() < length {
            return Err(corrupt(format!(
                "truncated: the header announces {length} payload bytes, the file has {}",
                payload.len()
            )));
        }
        if payload.len() > length {
            return Err(corrupt(format!(
                "{} bytes of trailing data: the header announces {length} payload bytes, the file has {}",
                payload.len() - length,
                payload.len()
            )));
        }
        if fnv1a(payload) != checksum {
            return Err(corrupt("checksum mismatch: the file is corrupt".into()));
        }
        // The format of `bincode::serialize`, with reads limited to the payload: a corrupt
        // length field then fails instead of asking for a buffer of that size.
        use bincode::Options;
        let decoded: Payload = bincode::options()
            .with_fixint_encoding()
            .allow_trailing_bytes()
            .with_limit(payload.len() as u64)
            .deserialize(payload)
            .map_err(|e| corrupt(format!("cannot decode: {e}")))?;
        let mut tensors = BTreeMap::new();
        for (name, stored) in decoded.tensors {
            let tensor = match stored.data {
                StoredData::F32(v) => Tensor::from_vec(v, &stored.shape),
                StoredData::F64(v) => Tensor::from_vec(v, &stored.shape),
            }
            .map_err(|e| corrupt(format!("entry {name}: {e}")))?;
            tensors.insert(name, tensor);
        }
        Ok(Checkpoint {
            tensors,
            metadata: decoded.metadata,
        })
    }
}
