//! The `cotrain` example on an OpenCL device: the same model, data, batches and schedule, with
//! every tensor on the device (per step, only the batch crosses to the device, and the loss and
//! the gradient norm come back).
//!
//! `cargo run --release --example cotrain_opencl` (set `POCL_CACHE_DIR` to a writable folder
//! when the platform is PoCL, which runs OpenCL on the CPU: there it takes several times as long
//! as `cotrain`, 1.6 s a step on two cores). With no OpenCL platform it says why and exits
//! successfully.
//!
//! Batches are drawn on the host from seeded streams, so the device run sees the same batches as
//! the CPU run, and its losses agree with the CPU's up to rounding (which grows over a run).

mod common;

use polyvit::train::RunError;
use tensor::Device;

fn main() -> Result<(), RunError> {
    let device = match Device::parse("opencl") {
        Ok(device) => device,
        Err(reason) => {
            println!("no OpenCL device, nothing to run: {reason}");
            return Ok(());
        }
    };
    let mut run = common::new_run(&device, common::STEPS_PER_TASK)?;
    common::train(&mut run)?;
    common::test_scores(&run).map(|_| ())
}

/// On every OpenCL test device (none without a platform; with `CI` set, a missing platform
/// fails), the first steps' losses match the CPU run's.
#[test]
fn the_device_run_repeats_the_cpu_run() {
    let losses = |device: &Device| common::train(&mut common::new_run(device, 3).unwrap()).unwrap();
    let on_cpu = losses(&Device::Cpu);
    for device in tensor::test_devices()
        .into_iter()
        .filter(|d| *d != Device::Cpu)
    {
        let on_device = losses(&device);
        assert_eq!(on_device.iter().map(Vec::len).sum::<usize>(), 6);
        for (a, b) in on_cpu.iter().flatten().zip(on_device.iter().flatten()) {
            assert!(
                (a - b).abs() <= 1e-4 * a.abs(),
                "{device}: loss {b} vs {a} on the CPU"
            );
        }
    }
}
