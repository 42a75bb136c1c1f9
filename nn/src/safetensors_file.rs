//! Named tensors and string metadata in the safetensors format (an 8-byte header length, a JSON
//! header with each tensor's dtype, shape and byte range plus a free `__metadata__` map, then the
//! raw little-endian data), through the `safetensors` crate's encoder and validating reader. The
//! metadata is written in sorted key order, so equal content gives equal bytes. Files are written
//! atomically.

use crate::checkpoint::CheckpointError;
use safetensors::tensor::{Dtype, SafeTensorError, SafeTensors, TensorView};
use std::collections::BTreeMap;
use std::path::Path;
use tensor::{DType, Tensor};

/// Tensors by name and the `__metadata__` map of one safetensors file.
pub struct SafetensorsContent {
    /// Every tensor of the file under its name there, on the CPU: F32 and F64 entries in their
    /// dtype, F16 and BF16 ones widened to F32.
    pub tensors: BTreeMap<String, Tensor>,
    /// The file's `__metadata__` map as stored, reserved keys included (empty when it has none).
    pub metadata: BTreeMap<String, String>,
    /// Each tensor's dtype as the file stores it (`"F32"`, `"F64"`, `"F16"`, `"BF16"`): the
    /// last two are held widened to `F32` in `tensors`.
    pub stored_dtypes: BTreeMap<String, String>,
}

/// The little-endian bytes of a tensor's logical values (any layout, any device) and its dtype.
pub fn tensor_bytes(t: &Tensor) -> Result<(Dtype, Vec<u8>), tensor::Error> {
    Ok(match t.dtype() {
        DType::F32 => (
            Dtype::F32,
            t.to_vec::<f32>()?
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect(),
        ),
        DType::F64 => (
            Dtype::F64,
            t.to_vec::<f64>()?
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect(),
        ),
    })
}

/// Encodes `tensors` and `metadata` as the bytes of a safetensors file.
pub fn encode(
    tensors: &BTreeMap<String, Tensor>,
    metadata: &BTreeMap<String, String>,
    path: &Path,
) -> Result<Vec<u8>, CheckpointError> {
    let corrupt = |problem: String| CheckpointError::Corrupt {
        path: path.to_path_buf(),
        problem,
    };
    let mut stored = Vec::with_capacity(tensors.len());
    for (name, t) in tensors {
        let (dtype, bytes) = tensor_bytes(t)?;
        stored.push((name.as_str(), dtype, t.shape().to_vec(), bytes));
    }
    let views = stored
        .iter()
        .map(|(name, dtype, shape, bytes)| {
            TensorView::new(*dtype, shape.clone(), bytes)
                .map(|view| (*name, view))
                .map_err(|e| corrupt(format!("cannot encode tensor {name}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let without_metadata =
        safetensors::serialize(views, None).map_err(|e| corrupt(format!("cannot encode: {e}")))?;
    Ok(with_metadata(&without_metadata, metadata))
}

/// `file` (a safetensors encoding without `__metadata__`) with `metadata` added as the header's
/// first entry, keys in sorted order. The crate takes metadata as a `HashMap` and writes it in that
/// map's random order, so two encodings of the same checkpoint would differ in their bytes; this
/// keeps a file a function of its content. Only the header changes: tensor byte ranges are
/// relative to the end of the header, and the header stays padded with spaces to a multiple of 8.
fn with_metadata(file: &[u8], metadata: &BTreeMap<String, String>) -> Vec<u8> {
    if metadata.is_empty() {
        return file.to_vec();
    }
    // The crate wrote `file` just now: an 8-byte length, then that many header bytes.
    let header_len = u64::from_le_bytes(file[..8].try_into().expect("8-byte length")) as usize;
    let tensors_json = std::str::from_utf8(&file[8..8 + header_len])
        .expect("the crate writes its header as JSON text")
        .trim_end();
    let tensor_entries = &tensors_json[1..tensors_json.len() - 1]; // inside the outer braces
    let metadata_json = serde_json::to_string(metadata).expect("strings always encode as JSON");
    let separator = if tensor_entries.is_empty() { "" } else { "," };
    let mut header =
        format!("{{\"__metadata__\":{metadata_json}{separator}{tensor_entries}}}").into_bytes();
    header.resize(header.len().next_multiple_of(8), b' ');
    let mut out = Vec::with_capacity(8 + header.len() + file.len() - 8 - header_len);
    out.extend_from_slice(&(header.len() as u64).to_le_bytes());
    out.extend_from_slice(&header);
    out.extend_from_slice(&file[8 + header_len..]);
    out
}

/// Decodes the bytes of a safetensors file (`path` names it in errors). The reader checks the
/// header against the file's length before anything is allocated, so corrupt input of any kind is
/// an error, never a panic or an allocation larger than twice the input. `F32` and `F64` tensors
/// keep their dtype, `F16` and `BF16` ones are widened to `F32` (exactly); any other dtype is an
/// error naming the tensor.
pub fn decode(bytes: &[u8], path: &Path) -> Result<SafetensorsContent, CheckpointError> {
    let corrupt = |problem: String| CheckpointError::Corrupt {
        path: path.to_path_buf(),
        problem,
    };
    let invalid = |e: safetensors::SafeTensorError| {
        let detail = match e {
            SafeTensorError::HeaderTooSmall | SafeTensorError::InvalidHeaderLength => {
                "truncated (shorter than its header announces)".to_string()
            }
            SafeTensorError::MetadataIncompleteBuffer => {
                "the tensors' byte ranges do not end where the file ends (truncated, or trailing data)"
                    .to_string()
            }
            other => other.to_string(),
        };
        corrupt(format!("not a valid safetensors file: {detail}"))
    };
    if bytes.is_empty() {
        return Err(corrupt(
            "an empty file (0 bytes), not a safetensors file".into(),
        ));
    }
    // The format: an 8-byte little-endian header length, then the header, a JSON object.
    if bytes.len() > 8 && bytes[8] != b'{' {
        return Err(corrupt(
            "not a safetensors file (no JSON header after its first 8 bytes)".into(),
        ));
    }
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(invalid)?;
    let file = SafeTensors::deserialize(bytes).map_err(invalid)?;
    let mut tensors = BTreeMap::new();
    let mut stored_dtypes = BTreeMap::new();
    for (name, view) in file.iter() {
        stored_dtypes.insert(name.to_string(), format!("{:?}", view.dtype()));
        let data = view.data();
        let tensor = match view.dtype() {
            Dtype::F32 => Tensor::from_vec(
                data.chunks_exact(4)
                    .map(|c| f32::from_le_bytes(c.try_into().expect("4-byte chunk")))
                    .collect(),
                view.shape(),
            ),
            Dtype::F64 => Tensor::from_vec(
                data.chunks_exact(8)
                    .map(|c| f64::from_le_bytes(c.try_into().expect("8-byte chunk")))
                    .collect(),
                view.shape(),
            ),
            // Half-precision weights (common for published models) widen to f32 exactly.
            Dtype::BF16 => Tensor::from_vec(
                data.chunks_exact(2)
                    .map(|c| f32::from_bits((u16::from_le_bytes([c[0], c[1]]) as u32) << 16))
                    .collect(),
                view.shape(),
            ),
            Dtype::F16 => Tensor::from_vec(
                data.chunks_exact(2)
                    .map(|c| f16_to_f32(u16::from_le_bytes([c[0], c[1]])))
                    .collect(),
                view.shape(),
            ),
            other => {
                return Err(corrupt(format!(
                    "tensor {name} has dtype {other:?}; only F32, F64, F16 and BF16 are supported"
                )))
            }
        }
        .map_err(|e| corrupt(format!("tensor {name}: {e}")))?;
        tensors.insert(name.to_string(), tensor);
    }
    let metadata = header
        .metadata()
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    Ok(SafetensorsContent {
        tensors,
        metadata,
        stored_dtypes,
    })
}

/// The IEEE 754 half-precision number with bits `h`, exactly, as an `f32`.
fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h >> 15) as u32) << 31;
    let exponent = ((h >> 10) & 0x1f) as u32;
    let mantissa = (h & 0x3ff) as u32;
    let bits = match exponent {
        0 => {
            // Zero or subnormal: mantissa · 2⁻²⁴, exact in f32 (2⁻²⁴ has the bits 0x3380_0000).
            let magnitude = mantissa as f32 * f32::from_bits(0x3380_0000);
            return f32::from_bits(sign | magnitude.to_bits());
        }
        // Infinity or NaN (payload kept).
        0x1f => sign | 0x7f80_0000 | (mantissa << 13),
        _ => sign | ((exponent + 127 - 15) << 23) | (mantissa << 13),
    };
    f32::from_bits(bits)
}

/// Reads and decodes a safetensors file.
pub fn read(path: &Path) -> Result<SafetensorsContent, CheckpointError> {
    decode(&crate::checkpoint::read_whole_file(path)?, path)
}
