//! `linspace`, `eye`, `triu` and `tril` against naive references, on every test device.

use tensor::{DType, Tensor};

#[test]
fn linspace_has_exact_ends_and_even_steps() {
    for device in tensor::test_devices() {
        for (start, end, steps) in [
            (0.0, 1.0, 11),
            (-3.0, 7.5, 4),
            (2.0, -2.0, 5),
            (0.1, 0.7, 7),
        ] {
            let got = Tensor::linspace_on(start, end, steps, DType::F64, &device)
                .unwrap()
                .to_vec_f64()
                .unwrap();
            assert_eq!(got.len(), steps);
            assert_eq!((got[0], got[steps - 1]), (start, end), "{device:?}");
            let delta = (end - start) / (steps - 1) as f64;
            for (i, v) in got.iter().enumerate() {
                assert!((v - (start + i as f64 * delta)).abs() < 1e-14, "{got:?}");
            }
        }
        let one = Tensor::linspace_on(4.0, 9.0, 1, DType::F32, &device).unwrap();
        assert_eq!(one.to_vec_f64().unwrap(), [4.0]);
        let none = Tensor::linspace_on(4.0, 9.0, 0, DType::F32, &device).unwrap();
        assert_eq!(none.shape(), [0]);
        let err = Tensor::linspace_on(f64::NAN, 1.0, 3, DType::F32, &device).unwrap_err();
        assert!(err.to_string().contains("must be finite"), "{err}");
    }
}

#[test]
fn eye_is_the_identity() {
    for device in tensor::test_devices() {
        for n in [0, 1, 3] {
            let got = Tensor::eye_on(n, DType::F32, &device).unwrap();
            assert_eq!(got.shape(), [n, n]);
            let want: Vec<f64> = (0..n * n)
                .map(|k| {
                    if k / n.max(1) == k % n.max(1) {
                        1.0
                    } else {
                        0.0
                    }
                })
                .collect();
            assert_eq!(got.to_vec_f64().unwrap(), want);
        }
    }
}

/// Every diagonal offset on a batch of non-square matrices, read through a transposed view,
/// with a NaN and an infinity outside the kept triangle (they become 0, as in PyTorch).
#[test]
fn triangles_keep_what_the_diagonal_offset_says() {
    for device in tensor::test_devices() {
        let (batch, rows, columns) = (2, 3, 4);
        let mut data: Vec<f64> = (0..batch * rows * columns)
            .map(|v| v as f64 + 1.0)
            .collect();
        // Stored as [batch, columns, rows] and transposed, so the op reads a strided view.
        data[1] = f64::NAN; // stored (0, 0, 1): x[0, 1, 0], below the diagonal
        data[rows * 2] = f64::INFINITY; // stored (0, 2, 0): x[0, 0, 2], above it
        let stored = Tensor::from_f64s(&data, &[batch, columns, rows], DType::F64)
            .unwrap()
            .to_device(&device)
            .unwrap();
        let x = stored.transpose(1, 2).unwrap();
        let at = |b: usize, i: usize, j: usize| data[b * rows * columns + j * rows + i];
        for diagonal in -3..=4 {
            for upper in [true, false] {
                let got = if upper {
                    x.triu(diagonal)
                } else {
                    x.tril(diagonal)
                }
                .unwrap()
                .to_vec_f64()
                .unwrap();
                let mut k = 0;
                for b in 0..batch {
                    for i in 0..rows {
                        for j in 0..columns {
                            let offset = j as i64 - i as i64;
                            let kept = if upper {
                                offset >= diagonal
                            } else {
                                offset <= diagonal
                            };
                            let want = if kept { at(b, i, j) } else { 0.0 };
                            let same = got[k] == want || (got[k].is_nan() && want.is_nan());
                            assert!(
                                same,
                                "{device:?} upper {upper} diagonal {diagonal}: {got:?}"
                            );
                            k += 1;
                        }
                    }
                }
            }
        }
        let err = Tensor::ones(&[3], DType::F32).triu(0).unwrap_err();
        assert!(err.to_string().contains("no matrix axes"), "{err}");
    }
}
