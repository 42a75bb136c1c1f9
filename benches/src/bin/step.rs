//! Times training steps for `benches/compare.sh`, one JSON line per call:
//!
//! ```text
//! step SHAPE OPTIMIZER [STEPS] [WARMUP]   # e.g. `step small sgd 10 3`
//! step peak                               # this machine's FMA peak at RAYON_NUM_THREADS threads
//! ```
//!
//! SHAPE is a `benchmarks::StepShape` name, OPTIMIZER `sgd` or `adamw`. The thread count is the
//! rayon pool's (`RAYON_NUM_THREADS`). `reference/compare_step.py` prints the same fields for
//! PyTorch.

use benchmarks::peak::measured_peak_gflops;
use benchmarks::{OptimizerKind, StepShape, TrainStep};
use std::process::ExitCode;
use std::time::Instant;
use tensor::Device;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // As `polyvit` does: the steps run on a compute thread (see `devices::on_compute_thread`).
    match devices::on_compute_thread(|| run(&args)) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("step: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<String, String> {
    let threads = rayon::current_num_threads();
    if args.first().map(String::as_str) == Some("peak") {
        let (gflops, isa) = measured_peak_gflops(threads);
        return Ok(format!(
            r#"{{"peak_gflops": {gflops:.1}, "isa": "{isa}", "threads": {threads}}}"#
        ));
    }
    let [shape, optimizer, rest @ ..] = args else {
        return Err("usage: step SHAPE OPTIMIZER [STEPS] [WARMUP] | step peak".into());
    };
    let names: Vec<_> = StepShape::all().iter().map(|s| s.name).collect();
    let shape = StepShape::by_name(shape)
        .ok_or_else(|| format!("unknown shape {shape:?} (one of {})", names.join(", ")))?;
    let optimizer = OptimizerKind::parse(optimizer)
        .ok_or_else(|| format!("unknown optimizer {optimizer:?} (sgd or adamw)"))?;
    let count = |i: usize, default: usize| -> Result<usize, String> {
        rest.get(i).map_or(Ok(default), |s| {
            s.parse().map_err(|_| format!("not a step count: {s:?}"))
        })
    };
    let (steps, warmup) = (count(0, 10)?, count(1, 3)?);
    let mut step = TrainStep::new(&shape, optimizer, &Device::Cpu).map_err(|e| e.to_string())?;
    for _ in 0..warmup {
        step.run().map_err(|e| e.to_string())?;
    }
    let mut ms = Vec::with_capacity(steps);
    for _ in 0..steps {
        let start = Instant::now();
        step.run().map_err(|e| e.to_string())?;
        ms.push(format!("{:.3}", start.elapsed().as_secs_f64() * 1e3));
    }
    Ok(format!(
        r#"{{"impl": "polyvit-rs", "shape": "{}", "optimizer": "{}", "threads": {threads}, "batch": {}, "flops": {:.0}, "ms": [{}], "peak_rss_mib": {:.1}}}"#,
        shape.name,
        args[1],
        shape.batch,
        shape.train_flops(),
        ms.join(", "),
        peak_rss_mib()?
    ))
}

/// The process's peak resident set (`VmHWM` in `/proc/self/status`), in MiB.
fn peak_rss_mib() -> Result<f64, String> {
    let status = std::fs::read_to_string("/proc/self/status")
        .map_err(|e| format!("/proc/self/status: {e}"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kib| kib / 1024.0)
        .ok_or_else(|| "/proc/self/status has no VmHWM line".into())
}
