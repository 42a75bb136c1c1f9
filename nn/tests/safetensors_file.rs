//! The safetensors reader on files other tools write: half-precision weights widen to f32
//! exactly, other dtypes are refused by name.

use nn::safetensors_file::decode;
use safetensors::tensor::{Dtype, TensorView};
use std::path::Path;

/// A safetensors file with one tensor `w` of `dtype`, shape `[n]` and these raw 16-bit words.
fn file_of_words(dtype: Dtype, words: &[u16]) -> Vec<u8> {
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    let view = TensorView::new(dtype, vec![words.len()], &bytes).unwrap();
    safetensors::serialize([("w", view)], None).unwrap()
}

/// The values of a file's tensor `w` of `dtype` and these words, held as f32 (the file's dtype
/// kept in `stored_dtypes`).
fn decoded(dtype: Dtype, words: &[u16]) -> Vec<f32> {
    let bytes = file_of_words(dtype, words);
    let content = decode(&bytes, Path::new("half.safetensors")).unwrap();
    assert_eq!(content.stored_dtypes["w"], format!("{dtype:?}"));
    assert_eq!(content.tensors["w"].dtype(), tensor::DType::F32);
    content.tensors["w"].to_vec::<f32>().unwrap()
}

#[test]
fn f16_weights_widen_exactly() {
    let words = [
        0x3c00, 0xc000, 0x0001, 0x8000, 0x7bff, 0x7c00, 0xfc00, 0x3555, 0x03ff,
    ];
    let values = decoded(Dtype::F16, &words);
    let expected = [
        1.0,
        -2.0,
        2f32.powi(-24), // the smallest subnormal
        -0.0,
        65504.0, // the largest finite value
        f32::INFINITY,
        f32::NEG_INFINITY,
        0.333_251_95,            // 0x3555 = 1365/4096
        1023.0 * 2f32.powi(-24), // the largest subnormal
    ];
    for (v, e) in values.iter().zip(expected) {
        assert_eq!(v.to_bits(), e.to_bits(), "{values:?}");
    }
    assert!(decoded(Dtype::F16, &[0x7e00])[0].is_nan());
}

#[test]
fn bf16_weights_widen_exactly() {
    let values = decoded(Dtype::BF16, &[0x3f80, 0xc0a0, 0x7f80, 0x0001]);
    assert_eq!(
        values.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        [0x3f80_0000, 0xc0a0_0000, 0x7f80_0000, 0x0001_0000]
    );
}

#[test]
fn other_dtypes_are_refused_naming_the_tensor() {
    let bytes = [1u8, 0, 0, 0];
    let view = TensorView::new(Dtype::I32, vec![1], &bytes).unwrap();
    let file = safetensors::serialize([("step", view)], None).unwrap();
    let err = match decode(&file, Path::new("ints.safetensors")) {
        Ok(_) => panic!("an I32 tensor was accepted"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.contains("ints.safetensors") && err.contains("tensor step has dtype I32"),
        "{err}"
    );
}

/// The same checkpoint content always encodes to the same bytes (the crate alone writes the
/// metadata in a `HashMap`'s random order), and the metadata round-trips through the reader,
/// with tensors and without.
#[test]
fn encoding_is_a_function_of_the_content() {
    use std::collections::BTreeMap;
    let path = Path::new("same.safetensors");
    let metadata: BTreeMap<String, String> = ["zeta", "alpha", "mid", "beta", "omega", "gamma"]
        .iter()
        .map(|k| (k.to_string(), format!("value of {k}, \"quoted\"")))
        .collect();
    let mut tensors = BTreeMap::new();
    tensors.insert(
        "w".to_string(),
        tensor::Tensor::from_vec(vec![1.0f32, 2.0, 3.0], &[3]).unwrap(),
    );
    tensors.insert(
        "b".to_string(),
        tensor::Tensor::from_vec(vec![0.5f64], &[1]).unwrap(),
    );
    for tensors in [tensors, BTreeMap::new()] {
        let first = nn::safetensors_file::encode(&tensors, &metadata, path).unwrap();
        for _ in 0..8 {
            let again = nn::safetensors_file::encode(&tensors, &metadata, path).unwrap();
            assert_eq!(again, first);
        }
        let header_len = u64::from_le_bytes(first[..8].try_into().unwrap()) as usize;
        assert_eq!(header_len % 8, 0);
        let header = std::str::from_utf8(&first[8..8 + header_len]).unwrap();
        let keys: Vec<usize> = metadata.keys().map(|k| header.find(k).unwrap()).collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "{header}");
        let content = decode(&first, path).unwrap();
        assert_eq!(content.metadata, metadata);
        assert_eq!(content.tensors.len(), tensors.len());
        for (name, t) in &tensors {
            assert_eq!(
                content.tensors[name].to_vec_f64().unwrap(),
                t.to_vec_f64().unwrap()
            );
        }
    }
}
