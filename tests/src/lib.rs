//! Shared helpers of the cross-crate tests in `tests/tests/`: reading the PyTorch fixtures and
//! comparing tensors with a scale-aware tolerance.

use std::collections::BTreeMap;
use std::path::PathBuf;
use tensor::{DType, Device, Tensor};

/// One fixture file: named tensors as written by `tests/fixtures/make_fixtures.py`.
pub struct Fixture {
    /// The case, and the device its tensors are made on.
    pub name: String,
    tensors: BTreeMap<String, (Vec<usize>, Vec<f64>)>,
    device: Device,
}

/// The path of a committed fixture: in `tests/fixtures`, or in `$POLYVIT_FIXTURES_DIR` when set
/// (for test binaries run away from the source tree, as `benches/gpu-check.sh` does).
pub fn fixture_path(case: &str) -> PathBuf {
    let dir = match std::env::var_os("POLYVIT_FIXTURES_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures"),
    };
    dir.join(format!("{case}.json"))
}

impl Fixture {
    /// The fixture once for every device of `tensor::test_devices()`, its tensors made there:
    /// every parity test runs on each backend.
    pub fn load_all(case: &str) -> Vec<Fixture> {
        tensor::test_devices()
            .into_iter()
            .map(|device| {
                let mut fixture = Fixture::load(case);
                fixture.name = format!("{case} on {device}");
                fixture.device = device;
                fixture
            })
            .collect()
    }

    /// Reads `tests/fixtures/<case>.json`; its tensors are made on the CPU.
    pub fn load(case: &str) -> Fixture {
        let path = fixture_path(case);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let json: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let object = json.as_object().expect("a fixture is a JSON object");
        let tensors = object
            .iter()
            .map(|(name, entry)| {
                let shape = entry["shape"]
                    .as_array()
                    .expect("shape")
                    .iter()
                    .map(|d| d.as_u64().expect("dim") as usize)
                    .collect();
                let data = entry["data"]
                    .as_array()
                    .expect("data")
                    .iter()
                    .map(|v| v.as_f64().expect("number"))
                    .collect();
                (name.clone(), (shape, data))
            })
            .collect();
        Fixture {
            name: case.to_string(),
            tensors,
            device: Device::Cpu,
        }
    }

    /// The entry `name` as an f32 tensor.
    pub fn tensor(&self, name: &str) -> Tensor {
        let (shape, data) = self
            .tensors
            .get(name)
            .unwrap_or_else(|| panic!("{}: no entry {name}", self.name));
        Tensor::from_f64s_on(data, shape, DType::F32, &self.device).unwrap()
    }

    /// The scalar entry `name`.
    pub fn scalar(&self, name: &str) -> f64 {
        self.tensors
            .get(name)
            .unwrap_or_else(|| panic!("{}: no entry {name}", self.name))
            .1[0]
    }

    /// Names of entries starting with `prefix`, with the prefix removed.
    pub fn names_with_prefix(&self, prefix: &str) -> Vec<String> {
        self.tensors
            .keys()
            .filter_map(|k| k.strip_prefix(prefix).map(str::to_string))
            .collect()
    }
}

/// Asserts `actual ≈ expected` with `max|a − e| ≤ tol·max(max|e|, 1e-3)`: a tolerance relative to
/// the tensor's scale, so entries that are round-off noise around 0 in the reference do not count
/// as large relative errors.
pub fn assert_close(what: &str, actual: &Tensor, expected: &Tensor, tol: f64) {
    assert_eq!(actual.shape(), expected.shape(), "{what}: shapes differ");
    let (a, e) = (actual.to_vec_f64().unwrap(), expected.to_vec_f64().unwrap());
    let scale = e.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-3);
    let (worst, index) = a
        .iter()
        .zip(&e)
        .enumerate()
        .fold((0.0f64, 0), |(w, wi), (i, (x, y))| {
            let d = (x - y).abs();
            if d > w || d.is_nan() {
                (d, i)
            } else {
                (w, wi)
            }
        });
    assert!(
        worst <= tol * scale,
        "{what}: max error {worst:.3e} at element {index} (ours {}, reference {}) exceeds {tol:.0e} × scale {scale:.3e}",
        a[index],
        e[index]
    );
}
