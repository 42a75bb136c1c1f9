//! The fused kernels against their composed defaults (`composed.rs`), on the same OpenCL device:
//! crate-internal, since the composed functions are not public.

use super::OpenCl;
use crate::{composed, test_devices, Backend, Device, Element};

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
}

#[test]
fn fused_kernels_match_their_composed_defaults() {
    for cl in devices() {
        fused_match_composed::<f32>(&cl, 1e-5);
        fused_match_composed::<f64>(&cl, 1e-12);
    }
}
