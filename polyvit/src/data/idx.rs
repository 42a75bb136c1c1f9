//! Gzipped IDX files (the MNIST format): a big-endian header `0x00 0x00 type ndims`, `ndims`
//! big-endian u32 dimensions, then the elements row-major. Only unsigned bytes (type 0x08) are
//! supported: images are magic 0x803 (n × rows × cols), labels magic 0x801 (n).

use super::error::{gunzip, read_file, DataError, DataResult};
use std::io::Write;
use std::path::Path;

/// The IDX element type code for unsigned bytes.
const TYPE_U8: u8 = 0x08;

/// An n-dimensional array of bytes read from an IDX file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    /// Dimensions, outermost first (e.g. `[n, 28, 28]` for images, `[n]` for labels).
    pub dims: Vec<usize>,
    /// The elements, row-major; `data.len()` is the product of `dims`.
    pub data: Vec<u8>,
}

/// Parses an uncompressed IDX byte buffer. `origin` names the source in errors.
pub fn parse_idx(raw: &[u8], origin: &str) -> DataResult<IdxArray> {
    let err = |p: String| DataError::new(origin, p);
    if raw.len() < 4 {
        return Err(err(format!(
            "truncated IDX header: {} bytes, need at least 4",
            raw.len()
        )));
    }
    if raw[0] != 0 || raw[1] != 0 {
        return Err(err(format!(
            "bad IDX magic {:02x}{:02x}{:02x}{:02x}: must start with 00 00",
            raw[0], raw[1], raw[2], raw[3]
        )));
    }
    if raw[2] != TYPE_U8 {
        return Err(err(format!(
            "unsupported IDX element type 0x{:02x}: only 0x08 (u8) is supported",
            raw[2]
        )));
    }
    let ndims = raw[3] as usize;
    if ndims == 0 {
        return Err(err("IDX header declares 0 dimensions".into()));
    }
    let header = 4 + 4 * ndims;
    if raw.len() < header {
        return Err(err(format!(
            "truncated IDX header: {} bytes, {ndims} dimensions need {header}",
            raw.len()
        )));
    }
    let dims: Vec<usize> = raw[4..header]
        .chunks_exact(4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .collect();
    let count = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| err(format!("IDX dimensions {dims:?} overflow")))?;
    let found = raw.len() - header;
    if found < count {
        return Err(err(format!(
            "truncated IDX data: dimensions {dims:?} need {count} bytes, found {found}"
        )));
    }
    if found > count {
        return Err(err(format!(
            "corrupt IDX file: {} bytes after the {count} declared by dimensions {dims:?}",
            found - count
        )));
    }
    Ok(IdxArray {
        dims,
        data: raw[header..].to_vec(),
    })
}

/// Parses a gzipped IDX buffer (the `.gz` files as distributed).
pub fn parse_idx_gz(gz: &[u8], origin: &str) -> DataResult<IdxArray> {
    parse_idx(&gunzip(gz, origin)?, origin)
}

/// Reads a gzipped IDX file from disk; errors name the path.
pub fn read_idx_gz(path: &Path) -> DataResult<IdxArray> {
    parse_idx_gz(&read_file(path)?, &path.display().to_string())
}

/// Checks that `array` holds `n × rows × cols` images; returns `(n, rows, cols)`.
pub fn expect_images(array: &IdxArray, origin: &str) -> DataResult<(usize, usize, usize)> {
    match array.dims[..] {
        [n, rows, cols] => Ok((n, rows, cols)),
        _ => Err(DataError::new(
            origin,
            format!(
                "expected an image file (3 dimensions, magic 0x803), found dimensions {:?}",
                array.dims
            ),
        )),
    }
}

/// Checks that `array` holds `n` labels, each below `num_classes`; returns them.
pub fn expect_labels(array: &IdxArray, num_classes: usize, origin: &str) -> DataResult<Vec<usize>> {
    if array.dims.len() != 1 {
        return Err(DataError::new(
            origin,
            format!(
                "expected a label file (1 dimension, magic 0x801), found dimensions {:?}",
                array.dims
            ),
        ));
    }
    array
        .data
        .iter()
        .enumerate()
        .map(|(i, &l)| {
            if (l as usize) < num_classes {
                Ok(l as usize)
            } else {
                Err(DataError::new(
                    origin,
                    format!("label {l} of item {i} is not below {num_classes}"),
                ))
            }
        })
        .collect()
}

/// Encodes `array` as a gzipped IDX file (the inverse of [`parse_idx_gz`]).
pub fn encode_idx_gz(array: &IdxArray) -> Vec<u8> {
    let mut raw = vec![0, 0, TYPE_U8, array.dims.len() as u8];
    for &d in &array.dims {
        raw.extend_from_slice(&(d as u32).to_be_bytes());
    }
    raw.extend_from_slice(&array.data);
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&raw).expect("writing to a Vec cannot fail");
    enc.finish().expect("writing to a Vec cannot fail")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::test_util::temp_path;

    fn images() -> IdxArray {
        IdxArray {
            dims: vec![3, 2, 4],
            data: (0..24).map(|i| (i * 10) as u8).collect(),
        }
    }

    #[test]
    fn round_trip_through_a_file() {
        let path = temp_path("round-trip-idx3-ubyte.gz");
        std::fs::write(&path, encode_idx_gz(&images())).unwrap();
        let back = read_idx_gz(&path).unwrap();
        assert_eq!(back, images());
        assert_eq!(expect_images(&back, "x").unwrap(), (3, 2, 4));
        let labels = IdxArray {
            dims: vec![4],
            data: vec![0, 9, 3, 9],
        };
        let back = parse_idx_gz(&encode_idx_gz(&labels), "labels").unwrap();
        assert_eq!(
            expect_labels(&back, 10, "labels").unwrap(),
            vec![0, 9, 3, 9]
        );
        assert!(expect_images(&back, "labels").is_err());
    }

    #[test]
    fn missing_file_names_the_path() {
        let path = temp_path("does-not-exist-idx3-ubyte.gz");
        let e = read_idx_gz(&path).unwrap_err();
        assert_eq!(e.origin, path.display().to_string());
        assert!(
            e.to_string().contains("does-not-exist-idx3-ubyte.gz"),
            "{e}"
        );
        assert!(e.problem.contains("cannot read"), "{e}");
    }

    #[test]
    fn truncated_gzip_is_an_error_naming_the_path() {
        let path = temp_path("truncated-gz-idx3-ubyte.gz");
        let gz = encode_idx_gz(&images());
        std::fs::write(&path, &gz[..gz.len() / 2]).unwrap();
        let e = read_idx_gz(&path).unwrap_err();
        assert!(
            e.to_string().starts_with(&path.display().to_string()),
            "{e}"
        );
        assert!(e.problem.contains("gzip"), "{e}");
    }

    #[test]
    fn corrupt_gzip_is_an_error() {
        let e = parse_idx_gz(b"this is not gzip at all", "plain.gz").unwrap_err();
        assert_eq!(e.origin, "plain.gz");
        assert!(e.problem.contains("gzip"), "{e}");
    }

    #[test]
    fn truncated_data_is_an_error_naming_the_path() {
        let mut short = images();
        short.data.truncate(20);
        let path = temp_path("short-data-idx3-ubyte.gz");
        std::fs::write(&path, encode_idx_gz(&short)).unwrap();
        let e = read_idx_gz(&path).unwrap_err();
        assert_eq!(e.origin, path.display().to_string());
        assert!(e.problem.contains("need 24 bytes, found 20"), "{e}");
    }

    #[test]
    fn bad_headers_are_errors() {
        let cases: [(&[u8], &str); 5] = [
            (&[0, 0], "truncated IDX header"),
            (&[1, 2, 8, 1, 0, 0, 0, 0], "bad IDX magic"),
            (&[0, 0, 0x0d, 1, 0, 0, 0, 0], "unsupported IDX element type"),
            (&[0, 0, 8, 3, 0, 0, 0, 1], "truncated IDX header"),
            (&[0, 0, 8, 1, 0, 0, 0, 1, 7, 7], "after the 1 declared"),
        ];
        for (raw, want) in cases {
            let e = parse_idx(raw, "hdr").unwrap_err();
            assert!(e.problem.contains(want), "{raw:?}: {e}");
        }
    }

    #[test]
    fn label_out_of_range_is_an_error() {
        let labels = IdxArray {
            dims: vec![2],
            data: vec![3, 10],
        };
        let e = expect_labels(&labels, 10, "lab").unwrap_err();
        assert!(e.problem.contains("label 10 of item 1"), "{e}");
    }
}
