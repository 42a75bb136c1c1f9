//! Crate-internal kernel tests, on each OpenCL device: the fused kernels (row ops and the AdamW
//! update) against their composed defaults (`composed.rs`), and every GEMM blocking against a
//! naive product (the default run uses only one of them per device).

use super::matmul::{large_tiles_fill, matmul_with, BLOCKINGS};
use super::OpenCl;
use crate::{composed, test_devices, AdamWStep, Backend, DType, Device, Element, Layout};

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

/// `a · b` of two rank-3 views, in f64 from the stored elements, with the sum of `|a·b|` terms
/// per output (the scale of its rounding error).
fn naive_matmul<T: Element>(a: &[T], al: &Layout, b: &[T], bl: &Layout) -> Vec<(f64, f64)> {
    let at = |x: &[T], l: &Layout, index: [usize; 3]| {
        let offset: usize = index.iter().zip(l.strides()).map(|(i, s)| i * s).sum();
        Element::to_f64(x[l.offset() + offset])
    };
    let (batches, m, k, n) = (al.shape()[0], al.shape()[1], al.shape()[2], bl.shape()[2]);
    let mut out = Vec::with_capacity(batches * m * n);
    for z in 0..batches {
        for r in 0..m {
            for c in 0..n {
                let terms = (0..k).map(|q| at(a, al, [z, r, q]) * at(b, bl, [z, q, c]));
                out.push(terms.fold((0.0, 0.0), |(s, bound), t| (s + t, bound + t.abs())));
            }
        }
    }
    out
}

fn blockings_match_naive<T: Element>(cl: &OpenCl) {
    // (batches, m, k, n): edges in every direction for both tile sizes, one-element products,
    // and k longer than several steps of the kernel's 16.
    for (batches, m, k, n) in [
        (3, 130, 37, 129),
        (2, 1, 1, 1),
        (1, 65, 64, 65),
        (2, 7, 300, 200),
    ] {
        let a = data::<T>(m * k, false);
        // A broadcast over the batch (stride 0), B stored transposed ([batches, n, k]).
        let al = Layout::contiguous(&[1, m, k])
            .broadcast_to(&[batches, m, k])
            .unwrap();
        let b: Vec<T> = data::<T>(batches * n * k + 5, false)[5..].to_vec();
        let bl = Layout::contiguous(&[batches, n, k])
            .transpose(1, 2)
            .unwrap();
        let expected = naive_matmul(&a, &al, &b, &bl);
        let (a_cl, b_cl) = (cl.from_host(&a).unwrap(), cl.from_host(&b).unwrap());
        let tolerance = if T::DTYPE == DType::F32 { 1e-5 } else { 1e-13 };
        for blocking in BLOCKINGS {
            let c = matmul_with(&cl.runtime, blocking, &a_cl, &al, &b_cl, &bl).unwrap();
            let c = cl
                .to_host(&c, &Layout::contiguous(&[batches * m * n]))
                .unwrap();
            for (i, (got, (want, bound))) in c.iter().zip(&expected).enumerate() {
                let got = Element::to_f64(*got);
                assert!(
                    (got - want).abs() <= tolerance * (1.0 + bound),
                    "GEMM {} {} {batches}×({m}×{k}·{k}×{n}): element {i}: {got} vs {want}",
                    blocking.name,
                    T::DTYPE
                );
            }
        }
    }
}

#[test]
fn every_gemm_blocking_matches_a_naive_product() {
    for cl in devices() {
        blockings_match_naive::<f32>(&cl);
        if cl.info().fp64 {
            blockings_match_naive::<f64>(&cl);
        }
    }
}

#[test]
fn large_gemm_tiles_only_for_products_that_fill_a_gpu() {
    let h200 = super::DeviceInfo {
        index: 0,
        platform: "NVIDIA CUDA".into(),
        name: "NVIDIA H200".into(),
        version: "OpenCL 3.0 CUDA".into(),
        c_version: "OpenCL C 1.2".into(),
        global_memory: 150 << 30,
        max_allocation: 37 << 30,
        compute_units: 132,
        gpu: true,
        fp64: true,
        correctly_rounded_divide_sqrt: true,
    };
    // 4096³: 1,024 tiles of 128² for 132 units.
    assert!(large_tiles_fill(&h200, 4096, 4096, 1));
    // The ViT's qkv projection (165 tiles), its MLP (198), a weight gradient (10) and the
    // attention products (192 of one tile each): fewer than two per unit.
    for (m, n, batches) in [(4160, 576, 1), (4160, 768, 1), (192, 576, 1), (65, 65, 192)] {
        assert!(
            !large_tiles_fill(&h200, m, n, batches),
            "{m}×{n} × {batches}"
        );
    }
    let cpu = super::DeviceInfo {
        gpu: false,
        compute_units: 2,
        ..h200
    };
    assert!(!large_tiles_fill(&cpu, 4096, 4096, 1));
}

#[test]
fn launches_past_the_group_limit_are_split_along_axes_1_and_2() {
    use super::launch::{parts, Part, MAX_GROUPS_PAST_AXIS_0 as LIMIT};
    let one = |offset: &[usize], size: &[usize]| Part {
        offset: offset.to_vec(),
        size: size.to_vec(),
    };
    // Within the limit, and any length along axis 0: one enqueue of the whole launch.
    assert_eq!(parts(&[1 << 40], &[256]), [one(&[0], &[1 << 40])]);
    assert_eq!(
        parts(&[32, 16 * LIMIT, LIMIT], &[16, 16, 1]),
        [one(&[0, 0, 0], &[32, 16 * LIMIT, LIMIT])]
    );
    // One group past it on axis 2, two past it on axis 1: every pair of spans.
    assert_eq!(
        parts(&[16, 16 * (LIMIT + 2), LIMIT + 1], &[16, 16, 1]),
        [
            one(&[0, 0, 0], &[16, 16 * LIMIT, LIMIT]),
            one(&[0, 0, LIMIT], &[16, 16 * LIMIT, 1]),
            one(&[0, 16 * LIMIT, 0], &[16, 32, LIMIT]),
            one(&[0, 16 * LIMIT, LIMIT], &[16, 32, 1]),
        ]
    );
    // Nothing to run: no enqueue.
    assert_eq!(parts(&[16, 0, 4], &[16, 16, 1]), []);
}

/// Products with more work-groups along the batch axis, then along the rows, than one enqueue
/// takes on NVIDIA's OpenCL, against a naive product: the parts' offsets reach the kernel.
#[test]
fn products_past_the_group_limit_match_a_naive_product() {
    use super::launch::MAX_GROUPS_PAST_AXIS_0 as LIMIT;
    let blocking = BLOCKINGS[0];
    for cl in devices() {
        for (batches, m, k, n) in [(LIMIT + 3, 1, 2, 3), (1, blocking.tile * LIMIT + 5, 1, 2)] {
            let al = Layout::contiguous(&[batches, m, k]);
            let bl = Layout::contiguous(&[batches, k, n]);
            let (a, b) = (
                data::<f32>(al.numel(), false),
                data::<f32>(bl.numel() + 3, false)[3..].to_vec(),
            );
            let expected = naive_matmul(&a, &al, &b, &bl);
            let (a_cl, b_cl) = (cl.from_host(&a).unwrap(), cl.from_host(&b).unwrap());
            let c = matmul_with(&cl.runtime, blocking, &a_cl, &al, &b_cl, &bl).unwrap();
            let c = cl
                .to_host(&c, &Layout::contiguous(&[expected.len()]))
                .unwrap();
            for (i, (got, (want, bound))) in c.iter().zip(&expected).enumerate() {
                assert!(
                    (f64::from(*got) - want).abs() <= 1e-5 * (1.0 + bound),
                    "{batches}×({m}×{k}·{k}×{n}): element {i}: {got} vs {want}"
                );
            }
        }
    }
}

#[test]
fn buffers_past_either_limit_are_refused_before_allocating() {
    for cl in devices() {
        let error = super::ClBuffer::<f32>::new(&cl.runtime, super::pool::MAX_ELEMENTS + 1)
            .err()
            .expect("past the 32-bit indices");
        assert!(error.to_string().contains("index with 32 bits"), "{error}");
        // Elements of 64 bytes, so one past the largest allocation stays under the element
        // limit on any device of less than 128 GiB per allocation.
        let len = (cl.info().max_allocation / 64 + 1) as usize;
        assert!(len <= super::pool::MAX_ELEMENTS);
        let error = super::ClBuffer::<[f64; 8]>::new(&cl.runtime, len)
            .err()
            .expect("past the largest allocation");
        assert!(error.to_string().contains("largest allocation"), "{error}");
        assert_eq!(
            cl.info().largest_buffer(4),
            (cl.info().max_allocation / 4).min(super::pool::MAX_ELEMENTS as u64)
        );
    }
}

#[test]
fn the_largest_buffer_is_bound_by_the_allocation_and_the_32_bit_indices() {
    let device = |max_allocation: u64| super::DeviceInfo {
        index: 0,
        platform: "p".into(),
        name: "d".into(),
        version: "OpenCL 3.0".into(),
        c_version: "OpenCL C 1.2".into(),
        global_memory: 80 << 30,
        max_allocation,
        compute_units: 1,
        gpu: true,
        fp64: false,
        correctly_rounded_divide_sqrt: true,
    };
    assert_eq!(device(1 << 30).largest_buffer(4), 1 << 28);
    assert_eq!(device(1 << 30).largest_buffer(8), 1 << 27);
    assert_eq!(device(20 << 30).largest_buffer(4), (1 << 31) - 1);
}
