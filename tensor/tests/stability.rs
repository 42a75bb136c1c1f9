//! Softmax and log-softmax on inputs of ±1e4 (where a naive `eˣ` overflows f32 and f64 alike):
//! no inf or NaN, and the values a careful f64 computation gives; and where NaN must come out
//! (a row holding +∞, a NaN through ReLU), NaN on every device; a layer norm's constant row
//! centred exactly.

use tensor::{test_devices, DType, Device, Tensor};

/// `log Σ eˣ` computed stably in f64.
fn log_sum_exp(row: &[f64]) -> f64 {
    let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    m + row.iter().map(|v| (v - m).exp()).sum::<f64>().ln()
}

fn rows() -> Vec<Vec<f64>> {
    vec![
        vec![1e4, 1e4 - 1.0, -1e4],
        vec![-1e4, -1e4, -1e4],
        vec![1e4, 1e4, 1e4],
        vec![1e4, -1e4, 0.0],
        vec![-1e4, -1e4 + 2.0, -1e4 + 0.5],
        vec![1e4, 1e4 - 20.0, 9999.5],
    ]
}

fn check(dtype: DType, axis: usize, device: &Device) {
    let rows = rows();
    let n = rows[0].len();
    let flat: Vec<f64> = rows.iter().flatten().copied().collect();
    let x = Tensor::from_f64s_on(&flat, &[rows.len(), n], dtype, device).unwrap();
    // Along axis 0, the rows are the columns of the transposed input.
    let x = if axis == 0 { x.t().unwrap() } else { x };
    let (p, lp) = (x.softmax(axis).unwrap(), x.log_softmax(axis).unwrap());
    let (p, lp) = if axis == 0 {
        (p.t().unwrap(), lp.t().unwrap())
    } else {
        (p, lp)
    };
    let (p, lp) = (p.to_vec_f64().unwrap(), lp.to_vec_f64().unwrap());
    let tol = match dtype {
        DType::F32 => 1e-6,
        DType::F64 => 1e-12,
    };
    for (r, row) in rows.iter().enumerate() {
        let lse = log_sum_exp(row);
        let mut total = 0.0;
        for (j, &v) in row.iter().enumerate() {
            let (got_p, got_lp) = (p[r * n + j], lp[r * n + j]);
            assert!(got_p.is_finite() && got_lp.is_finite(), "{dtype} row {r}");
            let want_lp = v - lse;
            assert!(
                (got_lp - want_lp).abs() <= tol * (1.0 + want_lp.abs()),
                "{dtype} axis {axis} log_softmax row {r}[{j}]: {got_lp} vs {want_lp}"
            );
            let want_p = want_lp.exp();
            assert!(
                (got_p - want_p).abs() <= tol * 10.0,
                "{dtype} axis {axis} softmax row {r}[{j}]: {got_p} vs {want_p}"
            );
            total += got_p;
        }
        assert!((total - 1.0).abs() < 10.0 * tol, "row {r} sums to {total}");
    }
}

#[test]
fn softmax_is_stable_for_huge_inputs() {
    for device in test_devices() {
        for dtype in [DType::F32, DType::F64] {
            for axis in [0, 1] {
                check(dtype, axis, &device);
            }
        }
    }
}

#[test]
fn known_values_at_1e4() {
    for device in test_devices() {
        known_values_at_1e4_on(&device);
    }
}

fn known_values_at_1e4_on(device: &Device) {
    // [1e4, 1e4 − 1, −1e4]: p = [1/(1+e⁻¹), e⁻¹/(1+e⁻¹), 0].
    let x = Tensor::from_f64s_on(&[1e4, 1e4 - 1.0, -1e4], &[3], DType::F32, device).unwrap();
    let p = x.softmax(0).unwrap().to_vec::<f32>().unwrap();
    let e = (-1f64).exp();
    assert!((p[0] as f64 - 1.0 / (1.0 + e)).abs() < 1e-6);
    assert!((p[1] as f64 - e / (1.0 + e)).abs() < 1e-6);
    assert_eq!(p[2], 0.0);
    let lp = x.log_softmax(0).unwrap().to_vec::<f32>().unwrap();
    let l = (1.0 + e).ln();
    assert!((lp[0] as f64 + l).abs() < 1e-6);
    assert!((lp[1] as f64 + 1.0 + l).abs() < 1e-6);
    assert!((lp[2] as f64 + 2e4 + l).abs() < 2e-3, "{}", lp[2]);
}

/// A long row of ±1e4 (parallel path: > 32768 elements in total).
#[test]
fn large_rows_of_huge_values() {
    let (rows, n) = (64, 1000);
    let values: Vec<f64> = (0..rows * n)
        .map(|i| if (i * 7919) % 13 == 0 { 1e4 } else { -1e4 })
        .collect();
    for (device, dtype) in test_devices()
        .into_iter()
        .flat_map(|d| [(d.clone(), DType::F32), (d, DType::F64)])
    {
        let x = Tensor::from_f64s_on(&values, &[rows, n], dtype, &device).unwrap();
        let p = x.softmax(1).unwrap().to_vec_f64().unwrap();
        let lp = x.log_softmax(1).unwrap().to_vec_f64().unwrap();
        for r in 0..rows {
            let row = &values[r * n..(r + 1) * n];
            let winners = row.iter().filter(|&&v| v == 1e4).count() as f64;
            for j in 0..n {
                let (want_p, want_lp) = if row[j] == 1e4 {
                    (1.0 / winners, -winners.ln())
                } else {
                    (0.0, -2e4 - winners.ln())
                };
                assert!((p[r * n + j] - want_p).abs() < 1e-6, "{dtype}");
                assert!(
                    (lp[r * n + j] - want_lp).abs() < 1e-6 * (1.0 + want_lp.abs()),
                    "{dtype}"
                );
            }
        }
    }
}

/// Masked rows (−inf) give zeros where masked; a fully masked row is NaN, as 0/0 should be.
#[test]
fn masked_entries() {
    let inf = f64::INFINITY;
    for device in test_devices() {
        let values = [0.0, -inf, 1e4, -inf, -inf, -inf];
        let x = Tensor::from_f64s_on(&values, &[2, 3], DType::F32, &device).unwrap();
        let p = x.softmax(1).unwrap().to_vec::<f32>().unwrap();
        assert_eq!(&p[..3], &[0.0, 0.0, 1.0], "{device}");
        assert!(p[3..].iter().all(|v| v.is_nan()), "{device}");
    }
}

/// A row holding +∞ is NaN throughout, softmax and log-softmax alike (`∞ − ∞` in its sum), as in
/// PyTorch: not NaN at the +∞ and 0 or −∞ elsewhere, which would hide it from the loss.
#[test]
fn a_row_holding_plus_infinity_is_nan() {
    let inf = f64::INFINITY;
    for device in test_devices() {
        let values = [inf, 0.0, 1.0, 2.0, inf, inf, 0.0, 0.0, 3.0, 1.0, 2.0, 0.5];
        let x = Tensor::from_f64s_on(&values, &[3, 4], DType::F32, &device).unwrap();
        for y in [x.softmax(1).unwrap(), x.log_softmax(1).unwrap()] {
            let y = y.to_vec::<f32>().unwrap();
            assert!(y[..8].iter().all(|v| v.is_nan()), "{device}: {y:?}");
            assert!(y[8..].iter().all(|v| v.is_finite()), "{device}: {y:?}");
        }
    }
}

/// ReLU keeps a NaN (as PyTorch does) instead of turning it into 0, on every device.
#[test]
fn relu_keeps_nan() {
    for device in test_devices() {
        let x = Tensor::from_f64s_on(&[f64::NAN, -1.0, 2.0], &[3], DType::F32, &device).unwrap();
        let y = x.relu().unwrap().to_vec_f64().unwrap();
        assert!(y[0].is_nan() && y[1..] == [0.0, 2.0], "{device}: {y:?}");
    }
}

/// A constant row is centred exactly (mean = its value, y = β, dγ = 0), as in PyTorch, on every
/// device: the mean as `Σx·(1/d)` missed the value by an ulp in most rows, and `1/√(σ² + ε)`
/// amplified that to 4e-3 at ε = 1e-6. The widths cover one lane block, ragged tails and rows
/// longer than an OpenCL work-group.
#[test]
fn layer_norm_centres_a_constant_row_exactly() {
    let values: Vec<f64> = (1..120).map(|i| i as f64 * 0.0371 - 3.0).collect();
    for device in test_devices() {
        for dtype in [DType::F32, DType::F64] {
            for d in [1, 7, 64, 192, 768, 1000] {
                let x: Vec<f64> = values.iter().flat_map(|&v| vec![v; d]).collect();
                let x = Tensor::from_f64s_on(&x, &[values.len(), d], dtype, &device).unwrap();
                let gamma = Tensor::full(&[d], 1.5, dtype).to_device(&device).unwrap();
                let beta = Tensor::full(&[d], 0.25, dtype).to_device(&device).unwrap();
                let stats = x.layer_norm_with_stats(&gamma, &beta, 1e-6).unwrap();
                let case = format!("{device} {dtype} d = {d}");
                let y = stats.y.to_vec_f64().unwrap();
                let off = y.iter().position(|&v| v != 0.25);
                assert!(off.is_none(), "{case}: y[{off:?}] is not β");
                let mean = stats.mean.to_vec_f64().unwrap();
                let want: Vec<f64> = match dtype {
                    DType::F32 => values.iter().map(|&v| v as f32 as f64).collect(),
                    _ => values.clone(),
                };
                assert_eq!(mean, want, "{case}");
                let dy = Tensor::from_f64s_on(
                    &(0..values.len() * d)
                        .map(|i| (i % 5) as f64 - 2.0)
                        .collect::<Vec<_>>(),
                    &[values.len(), d],
                    dtype,
                    &device,
                )
                .unwrap();
                let grads = dy
                    .layer_norm_backward(&x, &stats.mean, &stats.rstd, &gamma)
                    .unwrap();
                let dgamma = grads.dgamma.to_vec_f64().unwrap();
                let off = dgamma.iter().position(|&g| g != 0.0);
                assert!(off.is_none(), "{case}: dγ[{off:?}] is not 0");
            }
        }
    }
}
