//! Row-wise and element-wise kernels on ViT-Ti activation shapes: softmax and log-softmax over
//! (4096, 192) rows, layer norm forward and backward over (4096, 192), GELU over 4096×768; and
//! softmax and its backward over the attention scores of the default run's video step (32 clips ×
//! 4 heads × 65 rows of 65), where rows are short enough for the per-row work to count.
//!
//! Throughput is in elements of the input.
//! Run: `cargo bench -p benchmarks --bench row_ops -- --warm-up-time 1 --measurement-time 3`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tensor::{rng, DType, Tensor};

fn randn(shape: &[usize], seed: u64) -> Tensor {
    Tensor::randn(shape, 0.0, 1.0, DType::F32, &mut rng(seed))
}

fn softmax(c: &mut Criterion) {
    let (rows, n) = (4096, 192);
    let x = randn(&[rows, n], 0);
    let mut group = c.benchmark_group("softmax");
    group.throughput(Throughput::Elements((rows * n) as u64));
    group.bench_function("softmax_4096x192", |b| b.iter(|| x.softmax(1).unwrap()));
    group.bench_function("log_softmax_4096x192", |b| {
        b.iter(|| x.log_softmax(1).unwrap())
    });
    group.finish();

    let (rows, n) = (32 * 4 * 65, 65);
    let scores = randn(&[rows, n], 7);
    let mut group = c.benchmark_group("softmax_short_rows");
    group.throughput(Throughput::Elements((rows * n) as u64));
    group.bench_function("softmax_8320x65", |b| b.iter(|| scores.softmax(1).unwrap()));
    let (y, grad) = (scores.softmax(1).unwrap(), randn(&[rows, n], 8));
    group.bench_function("softmax_backward_8320x65", |b| {
        b.iter(|| y.softmax_backward(&grad, 1, 1.0).unwrap())
    });
    group.finish();
}

fn layer_norm(c: &mut Criterion) {
    let (rows, d) = (4096, 192);
    let x = randn(&[rows, d], 1);
    let gamma = randn(&[d], 2);
    let beta = randn(&[d], 3);
    let dy = randn(&[rows, d], 4);
    let stats = x.layer_norm_with_stats(&gamma, &beta, 1e-6).unwrap();
    let mut group = c.benchmark_group("layer_norm");
    group.throughput(Throughput::Elements((rows * d) as u64));
    group.bench_function("forward_4096x192", |b| {
        b.iter(|| x.layer_norm_with_stats(&gamma, &beta, 1e-6).unwrap())
    });
    group.bench_function("backward_4096x192", |b| {
        b.iter(|| {
            dy.layer_norm_backward(&x, &stats.mean, &stats.rstd, &gamma)
                .unwrap()
        })
    });
    group.finish();
}

fn gelu(c: &mut Criterion) {
    let x = randn(&[4096, 768], 5);
    let mut group = c.benchmark_group("gelu");
    group.throughput(Throughput::Elements((4096 * 768) as u64));
    group.bench_function("gelu_4096x768", |b| b.iter(|| x.gelu().unwrap()));
    let grad = randn(&[4096, 768], 6);
    group.bench_function("gelu_backward_4096x768", |b| {
        b.iter(|| x.gelu_backward(&grad).unwrap())
    });
    group.bench_function("gelu_erf_4096x768", |b| b.iter(|| x.gelu_erf().unwrap()));
    group.bench_function("gelu_erf_backward_4096x768", |b| {
        b.iter(|| x.gelu_erf_backward(&grad).unwrap())
    });
    group.finish();
}

criterion_group!(benches, softmax, layer_norm, gelu);
criterion_main!(benches);
