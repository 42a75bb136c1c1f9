//! The fused kernels (row ops and the AdamW update) against their composed defaults (`composed.rs`), on the same OpenCL device:
//! crate-internal, since the composed functions are not public.

use super::OpenCl;
use crate::{composed, test_devices, AdamWStep, Backend, Device, Element};

fn devices() -> Vec<OpenCl> {
    test_devices()
        .into_iter()
        .filter_map(|d| match d {
            Device::OpenCl(cl) => Some(cl),
            Device::Cpu => None,
        })
        .collect()
}

/// Values in [−3, 3) with a few −∞ (never a whole row) when `masked`.
fn data<T: Element>(n: usize, masked: bool) -> Vec<T> {
    (0..n)
        .map(|i| {
            if masked && i % 11 == 3 {
                T::neg_infinity()
            } else {
                T::from_f64(((i * 37 + 5) % 101) as f64 / 101.0 * 6.0 - 3.0)
            }
        })
        .collect()
}

/// Both buffers read back and compared with relative tolerance `rel` (NaN matches NaN).
fn compare<T: Element>(
    cl: &OpenCl,
    what: &str,
    fused: &super::ClBuffer<T>,
    composed: &super::ClBuffer<T>,
    rel: f64,
) {
    let dense = |b: &super::ClBuffer<T>| {
        cl.to_host(b, &crate::Layout::contiguous(&[b.len()]))
            .unwrap()
    };
    let (f, c) = (dense(fused), dense(composed));
    assert_eq!(f.len(), c.len(), "{what}");
    for (i, (a, b)) in f.iter().zip(&c).enumerate() {
        let (a, b) = (Element::to_f64(*a), Element::to_f64(*b));
        let ok = a == b
            || (a.is_nan() && b.is_nan())
            || (a - b).abs() <= rel * (1.0 + a.abs().max(b.abs()));
        assert!(
            ok,
            "{what} {}: element {i}: fused {a} vs composed {b}",
            T::DTYPE
        );
    }
}

fn fused_match_composed<T: Element>(cl: &OpenCl, rel: f64) {
    let (rows, n) = (9, 130);
    let x = cl.from_host(&data::<T>(rows * n, true)).unwrap();
    for log in [false, true] {
        let scale = if log { 1.0 } else { 0.25 };
        let fused = cl.softmax_last(&x, rows, n, scale, log).unwrap();
        let reference = composed::softmax_last(cl, &x, rows, n, scale, log).unwrap();
        compare(cl, &format!("softmax log={log}"), &fused, &reference, rel);
        let g = cl.from_host(&data::<T>(rows * n, false)).unwrap();
        let fused = cl
            .softmax_last_backward(&fused, &g, rows, n, scale, log)
            .unwrap();
        let reference =
            composed::softmax_last_backward(cl, &reference, &g, rows, n, scale, log).unwrap();
        compare(
            cl,
            &format!("softmax backward log={log}"),
            &fused,
            &reference,
            rel,
        );
    }
    let x = cl.from_host(&data::<T>(rows * n, false)).unwrap();
    let gamma = cl.from_host(&data::<T>(n, false)).unwrap();
    let beta = cl
        .from_host(&data::<T>(n, false)[1..].to_vec().repeat(2)[..n])
        .unwrap();
    let fused = cl.layer_norm(&x, &gamma, &beta, rows, n, 1e-5).unwrap();
    let reference = composed::layer_norm(cl, &x, &gamma, &beta, rows, n, 1e-5).unwrap();
    compare(cl, "layer_norm y", &fused.y, &reference.y, rel);
    compare(cl, "layer_norm mean", &fused.mean, &reference.mean, rel);
    compare(cl, "layer_norm rstd", &fused.rstd, &reference.rstd, rel);
    let dy = cl
        .from_host(&data::<T>(rows * n, false)[3..].to_vec().repeat(2)[..rows * n])
        .unwrap();
    let (mean, rstd) = (&fused.mean, &fused.rstd);
    let fused = cl
        .layer_norm_backward(&dy, &x, mean, rstd, &gamma, rows, n)
        .unwrap();
    let reference =
        composed::layer_norm_backward(cl, &dy, &x, mean, rstd, &gamma, rows, n).unwrap();
    compare(cl, "layer_norm dx", &fused.dx, &reference.dx, rel);
    compare(
        cl,
        "layer_norm dgamma",
        &fused.dgamma,
        &reference.dgamma,
        rel * rows as f64,
    );
    compare(
        cl,
        "layer_norm dbeta",
        &fused.dbeta,
        &reference.dbeta,
        rel * rows as f64,
    );
    adamw_matches_composed::<T>(cl, rel);
}

/// The fused AdamW update against its composition, on the first step (no moments) and a later
/// one.
fn adamw_matches_composed<T: Element>(cl: &OpenCl, rel: f64) {
    let len = 1000;
    let upload = |skip: usize, f: fn(f64) -> f64| {
        let values: Vec<T> = data::<T>(len + skip, false)[skip..]
            .iter()
            .map(|&x| T::from_f64(f(x.to_f64())))
            .collect();
        cl.from_host(&values).unwrap()
    };
    let p = upload(0, |x| x);
    let g = upload(7, |x| x);
    let m = upload(13, |x| x * 0.1);
    let v = upload(29, |x| x * x * 0.01);
    for (t, moments) in [(1, None), (4, Some([&m, &v]))] {
        let step = AdamWStep {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.05,
            bias_correction1: 1.0 - 0.9f64.powi(t),
            bias_correction2: 1.0 - 0.999f64.powi(t),
        };
        let fused = cl.adamw_update(&p, &g, moments, len, &step).unwrap();
        let reference = composed::adamw_update(cl, &p, &g, moments, len, &step).unwrap();
        for (name, (f, c)) in ["p", "m", "v"].iter().zip(fused.iter().zip(&reference)) {
            compare(cl, &format!("adamw step {t} {name}'"), f, c, rel);
        }
    }
}

#[test]
fn fused_kernels_match_their_composed_defaults() {
    for cl in devices() {
        fused_match_composed::<f32>(&cl, 1e-5);
        fused_match_composed::<f64>(&cl, 1e-12);
    }
}
