//! One full training step of the bench ViT (`benchmarks::StepShape::small`: width 192, 6 blocks,
//! batch 64 of 32×32 RGB images) on the CPU. `reference/compare_step.py small sgd` runs the same
//! step in PyTorch.

use benchmarks::{TrainStep, BATCH};
use criterion::{criterion_group, Criterion, Throughput};
use std::time::Duration;
use tensor::Device;

fn train_step(c: &mut Criterion) {
    let mut step = TrainStep::small(&Device::Cpu).unwrap();
    let mut group = c.benchmark_group("train_step");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10))
        .throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("vit_d192_l6_b64_images", |b| b.iter(|| step.run().unwrap()));
    group.finish();
}

criterion_group!(benches, train_step);

/// `criterion_main!`'s body, run as `polyvit` runs its commands: on a compute thread (see
/// `devices::on_compute_thread`).
fn main() {
    devices::on_compute_thread(|| {
        benches();
        Criterion::default().configure_from_args().final_summary();
    });
}
