//! Every device side by side: SGEMM at 4096³ and at the ViT's shapes, the cost of one small
//! element-wise op from the host's call to its result, and one full training step of the
//! `train_step` bench's ViT (width 192, 6 blocks, batch 64 of 32×32 RGB images), on the CPU and
//! on each OpenCL device. Prints one markdown table. `benches/gpu-check.sh` runs it on a GPU
//! machine; `cargo bench -p benchmarks --bench device_table` runs it here.
//!
//! A GPU queue runs asynchronously, so each timing ends with a one-element read, which waits for
//! every kernel before it. With `POLYVIT_OPENCL_PROFILE=1` it also prints, per OpenCL device, the
//! kernels of one training step with their launches and device time.

use benchmarks::{TrainStep, BATCH};
use nn::Parameters;
use std::time::{Duration, Instant};
use tensor::{DType, Device, Tensor};

/// Waits for `t` by reading one of its elements.
fn sync(t: &Tensor) {
    t.flatten_all()
        .and_then(|f| f.narrow(0, 0, 1))
        .and_then(|f| f.to_vec::<f32>())
        .expect("read one element");
}

/// The fastest of `rounds` runs of `f`, after one warm-up run (kernel builds, pool fill).
fn fastest(rounds: usize, mut f: impl FnMut()) -> Duration {
    f();
    (0..rounds)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .min()
        .expect("at least one round")
}

/// GFLOP/s of `[batch, m, k] · [batch, k, n]` on `device`.
fn sgemm(device: &Device, batch: usize, m: usize, k: usize, n: usize) -> f64 {
    let mut rng = tensor::rng(1);
    let a = Tensor::randn_on(&[batch, m, k], 0.0, 1.0, DType::F32, device, &mut rng).unwrap();
    let b = Tensor::randn_on(&[batch, k, n], 0.0, 1.0, DType::F32, device, &mut rng).unwrap();
    let rounds = if m * n * k * batch > 1 << 32 { 3 } else { 10 };
    let time = fastest(rounds, || sync(&a.matmul(&b).unwrap()));
    2.0 * (batch * m * k * n) as f64 / time.as_secs_f64() / 1e9
}

/// Microseconds per op of a chain of 2,000 dependent one-element adds on `device`, from the
/// first call to the last result: what a launch costs the host and the device when the kernel
/// itself has no work (a training step of the bench ViT makes about 850 launches).
fn small_op_micros(device: &Device) -> f64 {
    const OPS: usize = 2000;
    let one = Tensor::ones_on(&[1], DType::F32, device).unwrap();
    let time = fastest(3, || {
        let mut sum = one.clone();
        for _ in 0..OPS {
            sum = sum.add(&one).unwrap();
        }
        sync(&sum);
    });
    time.as_secs_f64() * 1e6 / OPS as f64
}

/// Milliseconds per training step of the bench ViT on `device`.
fn train_step(device: &Device) -> f64 {
    let mut step = TrainStep::small(device).unwrap();
    let rounds = if quick() { 1 } else { 5 };
    let time = fastest(rounds, || {
        step.run().unwrap();
        sync(step.model.named_parameters()[0].1.value());
    });
    time.as_secs_f64() * 1e3
}

/// `POLYVIT_BENCH_QUICK` is set: skip 4096³ and time one training step (for slow devices such
/// as PoCL, where a table only shows that everything runs).
fn quick() -> bool {
    std::env::var_os("POLYVIT_BENCH_QUICK").is_some()
}

fn main() {
    let mut devices = vec![Device::Cpu];
    match devices::opencl::list() {
        Ok(found) => {
            devices.extend(found.iter().map(|d| Device::opencl(d.index).unwrap()));
        }
        Err(e) => eprintln!("no OpenCL device: {e}"),
    }
    let tokens = BATCH * 65;
    // (label, batch, m, k, n): 4096³, then the ViT's projections (qkv, MLP in, MLP out) over
    // 64 images × 65 tokens, a weight gradient's shape (a small output, summed over every
    // token), and the per-head attention products (64 images × 3 heads).
    let shapes = [
        ("4096³", 1, 4096, 4096, 4096),
        ("qkv 4160×192·192×576", 1, tokens, 192, 576),
        ("mlp 4160×192·192×768", 1, tokens, 192, 768),
        ("mlp 4160×768·768×192", 1, tokens, 768, 192),
        ("weight gradient 192×4160·4160×768", 1, 192, tokens, 768),
        ("attention 192×(65×64·64×65)", BATCH * 3, 65, 64, 65),
    ];
    println!(
        "| measurement | {} |",
        devices
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(" | ")
    );
    println!("|---|{}", "---:|".repeat(devices.len()));
    for (label, batch, m, k, n) in shapes {
        let cells: Vec<String> = devices
            .iter()
            .map(|d| {
                if quick() && m * n * k > 1 << 32 {
                    "skipped".to_string()
                } else {
                    format!("{:.0} GFLOP/s", sgemm(d, batch, m, k, n))
                }
            })
            .collect();
        println!("| SGEMM {label} | {} |", cells.join(" | "));
    }
    let cells: Vec<String> = devices
        .iter()
        .map(|d| format!("{:.1} µs", small_op_micros(d)))
        .collect();
    println!(
        "| one-element add, call to result (per op of 2,000) | {} |",
        cells.join(" | ")
    );
    let steps: Vec<f64> = devices.iter().map(train_step).collect();
    let cells: Vec<String> = steps
        .iter()
        .map(|ms| format!("{ms:.1} ms ({:.2}× the CPU)", steps[0] / ms))
        .collect();
    println!(
        "| ViT training step (d192, L6, batch 64) | {} |",
        cells.join(" | ")
    );
    if std::env::var_os("POLYVIT_OPENCL_PROFILE").is_some() {
        for device in &devices {
            if let Device::OpenCl(cl) = device {
                print_kernel_times(device, cl);
            }
        }
    }
}

/// Where one training step's device time goes on `cl`, per kernel (`POLYVIT_OPENCL_PROFILE=1`):
/// the 20 kernels that take the most, and the sum over all of them against the step's wall time.
fn print_kernel_times(device: &Device, cl: &devices::opencl::OpenCl) {
    let mut step = TrainStep::small(device).unwrap();
    let run = |step: &mut TrainStep| {
        step.run().unwrap();
        sync(step.model.named_parameters()[0].1.value());
    };
    run(&mut step); // Kernel builds and the buffer pool.
    cl.kernel_times().expect("kernel times");
    let start = Instant::now();
    run(&mut step);
    let wall = start.elapsed().as_secs_f64() * 1e3;
    let times = cl.kernel_times().expect("kernel times");
    let total: f64 = times.iter().map(|t| t.seconds).sum::<f64>() * 1e3;
    let launches: u64 = times.iter().map(|t| t.launches).sum();
    println!("\nOne training step on {device}: {launches} kernel launches, {total:.2} ms of kernel time in {wall:.2} ms wall time\n");
    println!("| kernel | launches | ms | share of kernel time |");
    println!("|---|---:|---:|---:|");
    for t in times.iter().take(20) {
        let ms = t.seconds * 1e3;
        println!(
            "| {} | {} | {ms:.3} | {:.1} % |",
            t.kernel,
            t.launches,
            100.0 * ms / total
        );
    }
}
