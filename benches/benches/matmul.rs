//! SGEMM through `Tensor::matmul` against raw single-threaded `matrixmultiply::sgemm`, on the
//! shapes of a ViT-Ti training step (4096 = 64 images × 64 tokens, d = 192, MLP 768, QKV 576)
//! plus a square 1024³, and the batched attention products (64 images × 3 heads, 65 tokens).
//!
//! Throughput is in multiply-adds ×2, so criterion's "elem/s" reads as FLOP/s.
//! Run: `cargo bench -p benchmarks --bench matmul -- --warm-up-time 1 --measurement-time 3`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use tensor::{rng, DType, Tensor};

const SHAPES: [(usize, usize, usize); 5] = [
    (4096, 192, 576),
    (4096, 192, 192),
    (4096, 192, 768),
    (4096, 768, 192),
    (1024, 1024, 1024),
];

fn randn(shape: &[usize], seed: u64) -> Tensor {
    Tensor::randn(shape, 0.0, 1.0, DType::F32, &mut rng(seed))
}

/// `c = a·b` for row-major `a` (m×k) and `b` given by its (row, column) strides, single-threaded.
#[allow(clippy::too_many_arguments)]
fn raw_sgemm(
    m: usize,
    k: usize,
    n: usize,
    a: &[f32],
    b: &[f32],
    b_strides: (usize, usize),
    c: &mut [f32],
) {
    assert!(a.len() >= m * k && c.len() >= m * n);
    let (rs, cs) = b_strides;
    let last = (k.saturating_sub(1).checked_mul(rs))
        .zip(n.saturating_sub(1).checked_mul(cs))
        .and_then(|(down, across)| down.checked_add(across));
    assert!(
        rs <= b.len() && cs <= b.len() && (k * n == 0 || last.is_some_and(|l| l < b.len())),
        "the strides {b_strides:?} leave b's {} elements",
        b.len()
    );
    // SAFETY: the asserts above keep every element read (`i·k + j` of `a`, `i·rs + j·cs` of `b`
    // for `i < k`, `j < n`) and written (`i·n + j` of `c`) inside its slice, and the strides
    // (at most a slice's length) fit an isize.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            k as isize,
            1,
            b.as_ptr(),
            rs as isize,
            cs as isize,
            0.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

fn sgemm(c: &mut Criterion) {
    let mut group = c.benchmark_group("sgemm");
    group.sample_size(10);
    for (i, &(m, k, n)) in SHAPES.iter().enumerate() {
        group.throughput(Throughput::Elements((2 * m * k * n) as u64));
        let id = format!("{m}x{k}x{n}");
        let x = randn(&[m, k], 3 * i as u64);
        let w = randn(&[k, n], 3 * i as u64 + 1);
        // A Linear layer stores W as [out, in] and computes x·Wᵀ through a transposed view.
        let w_out_in = randn(&[n, k], 3 * i as u64 + 2);
        let wt = w_out_in.t().unwrap();
        group.bench_function(BenchmarkId::new("tensor", &id), |b| {
            b.iter(|| x.matmul(&w).unwrap())
        });
        group.bench_function(BenchmarkId::new("tensor_wT", &id), |b| {
            b.iter(|| x.matmul(&wt).unwrap())
        });
        let (xs, ws, wts) = (
            x.to_vec::<f32>().unwrap(),
            w.to_vec::<f32>().unwrap(),
            w_out_in.to_vec::<f32>().unwrap(),
        );
        let mut out = vec![0f32; m * n];
        group.bench_function(BenchmarkId::new("raw", &id), |b| {
            b.iter(|| raw_sgemm(m, k, n, &xs, &ws, (n, 1), &mut out))
        });
        group.bench_function(BenchmarkId::new("raw_wT", &id), |b| {
            b.iter(|| raw_sgemm(m, k, n, &xs, &wts, (1, k), &mut out))
        });
    }
    group.finish();
}

/// Attention scores `q·kᵀ` ([64, 3, 65, 64] · [64, 3, 64, 65]) and `p·v` ([64, 3, 65, 65] ·
/// [64, 3, 65, 64]): 192 small products, split over threads by batch entry.
fn attention(c: &mut Criterion) {
    let (batch, heads, tokens, dh) = (64, 3, 65, 64);
    let count = batch * heads;
    let mut group = c.benchmark_group("attention");
    group.sample_size(20);
    group.throughput(Throughput::Elements(
        (2 * count * tokens * tokens * dh) as u64,
    ));
    let q = randn(&[batch, heads, tokens, dh], 10);
    let k = randn(&[batch, heads, tokens, dh], 11);
    let v = randn(&[batch, heads, tokens, dh], 12);
    let p = randn(&[batch, heads, tokens, tokens], 13)
        .softmax(3)
        .unwrap();
    let kt = k.transpose(2, 3).unwrap();
    group.bench_function("tensor_q_kT", |b| b.iter(|| q.matmul(&kt).unwrap()));
    group.bench_function("tensor_p_v", |b| b.iter(|| p.matmul(&v).unwrap()));

    let (qs, ks, vs, ps) = (
        q.to_vec::<f32>().unwrap(),
        k.to_vec::<f32>().unwrap(),
        v.to_vec::<f32>().unwrap(),
        p.to_vec::<f32>().unwrap(),
    );
    let mut out = vec![0f32; count * tokens * tokens];
    let qk = tokens * dh;
    group.bench_function("raw_q_kT", |b| {
        b.iter(|| {
            for h in 0..count {
                raw_sgemm(
                    tokens,
                    dh,
                    tokens,
                    &qs[h * qk..],
                    &ks[h * qk..],
                    (1, dh),
                    &mut out[h * tokens * tokens..],
                );
            }
        })
    });
    group.bench_function("raw_p_v", |b| {
        b.iter(|| {
            for h in 0..count {
                raw_sgemm(
                    tokens,
                    tokens,
                    dh,
                    &ps[h * tokens * tokens..],
                    &vs[h * qk..],
                    (dh, 1),
                    &mut out[h * qk..],
                );
            }
        })
    });
    group.finish();
}

/// Products that are neither one big matrix nor many small ones: a 3-D activation times a
/// shared weight (4 products of 1024×192·192×768, fewer than the cores of a big machine), and the
/// weight gradient of a Linear layer `xᵀ·g` (192×4096·4096×576, few rows, transposed left).
fn batched_and_gradient(c: &mut Criterion) {
    let mut group = c.benchmark_group("sgemm_other");
    group.sample_size(10);
    let x = randn(&[4, 1024, 192], 20);
    let w = randn(&[192, 768], 21);
    group.throughput(Throughput::Elements((2 * 4 * 1024 * 192 * 768) as u64));
    group.bench_function("tensor_batch4_1024x192x768", |b| {
        b.iter(|| x.matmul(&w).unwrap())
    });
    let a = randn(&[4096, 192], 22);
    let g = randn(&[4096, 576], 23);
    let at = a.t().unwrap();
    group.throughput(Throughput::Elements((2 * 192 * 4096 * 576) as u64));
    group.bench_function("tensor_aT_g_192x4096x576", |b| {
        b.iter(|| at.matmul(&g).unwrap())
    });
    let (a_s, g_s) = (a.to_vec::<f32>().unwrap(), g.to_vec::<f32>().unwrap());
    let mut out = vec![0f32; 192 * 576];
    group.bench_function("raw_aT_g_192x4096x576", |b| {
        b.iter(|| {
            // SAFETY: aᵀ is 192×4096 with strides (1, 192) inside `a_s`; g is 4096×576.
            unsafe {
                matrixmultiply::sgemm(
                    192,
                    4096,
                    576,
                    1.0,
                    a_s.as_ptr(),
                    1,
                    192,
                    g_s.as_ptr(),
                    576,
                    1,
                    0.0,
                    out.as_mut_ptr(),
                    576,
                    1,
                )
            }
        })
    });
    group.finish();
}

criterion_group!(benches, sgemm, attention, batched_and_gradient);
criterion_main!(benches);
