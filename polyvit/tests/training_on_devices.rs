//! Training on every device: the same losses as the CPU, few host↔device transfers per step, and
//! checkpoints that move between devices.

mod common;

use common::{suite, tiny_config};
use polyvit::train::{Run, TrainConfig};
use tensor::{test_devices, transfers, Device, Transfers};

fn run_on(config: &TrainConfig, device: &Device) -> Run {
    let mut run = Run::new(config.clone(), suite()).unwrap();
    run.to_device(device).unwrap();
    run
}

/// The per-task losses of every step until the run ends.
fn losses(run: &mut Run) -> Vec<f64> {
    let mut out = Vec::new();
    while run.step < run.total_steps() {
        out.extend(run.train_step().unwrap().losses.iter().map(|l| l.loss));
    }
    out
}

/// One single-task step uploads its batch (inputs and targets: 2) plus one stochastic-depth mask
/// per residual branch that drops and per micro-batch (2 per block, and block `i`'s rate is
/// `rate·i/(depth − 1)`, so block 0 draws none; each micro-batch uploads its rows of the mask),
/// and reads the host twice: the loss (to stop on NaN) and the global gradient norm (to clip).
/// Nothing else may cross: no per-parameter reads, no one-element scalar tensors, no per-layer
/// index uploads. The counters are per thread, and the CPU runs two or more micro-batches on
/// its pool's threads, so there only one micro-batch is counted.
#[test]
fn a_training_step_makes_only_the_transfers_it_needs() {
    let depth = 2; // the tiny preset
    for device in test_devices() {
        let micro_batches: &[usize] = if device == Device::Cpu { &[1] } else { &[1, 2] };
        for (&parts, stochastic_depth) in micro_batches.iter().flat_map(|m| [(m, 0.0), (m, 0.2)]) {
            let mut config = tiny_config(2, 8);
            config.micro_batches = parts;
            for task in &mut config.tasks {
                task.stochastic_depth = stochastic_depth;
            }
            let mut run = run_on(&config, &device);
            while run.step < run.total_steps() {
                let before = transfers();
                run.train_step().unwrap();
                let used = transfers() - before;
                let masks = if stochastic_depth > 0.0 {
                    2 * (depth - 1) * parts
                } else {
                    0
                };
                assert_eq!(
                    used,
                    Transfers {
                        uploads: 2 + masks,
                        downloads: 2
                    },
                    "step {} on {device} ({parts} micro-batches, stochastic depth \
                     {stochastic_depth})",
                    run.step - 1
                );
            }
        }
    }
}

/// Every device logs the CPU's losses (relative difference ≤ 1e-3 at every step).
#[test]
fn every_device_trains_like_the_cpu() {
    let config = tiny_config(4, 8);
    let reference = losses(&mut run_on(&config, &Device::Cpu));
    for device in test_devices() {
        let got = losses(&mut run_on(&config, &device));
        assert_eq!(got.len(), reference.len());
        for (step, (a, b)) in got.iter().zip(&reference).enumerate() {
            assert!(
                (a - b).abs() <= 1e-3 * b.abs(),
                "{device}, entry {step}: loss {a} vs the cpu's {b}"
            );
        }
    }
}

/// A checkpoint written on one device resumes on every other one, continuing the run.
#[test]
fn a_checkpoint_moves_between_devices() {
    let config = tiny_config(2, 8);
    let dir = std::env::temp_dir().join(format!("polyvit-devices-{}", std::process::id()));
    let path = dir.join("checkpoint.safetensors");
    let reference = losses(&mut run_on(&config, &Device::Cpu));
    let half = reference.len() / 2;
    for from in test_devices() {
        let mut first = run_on(&config, &from);
        while first.step < first.total_steps() / 2 {
            first.train_step().unwrap();
        }
        first.save(&path).unwrap();
        for to in test_devices() {
            let checkpoint = nn::checkpoint::Checkpoint::load(&path).unwrap();
            let mut resumed = run_on(&config, &to);
            resumed.restore(&checkpoint).unwrap();
            let rest = losses(&mut resumed);
            assert_eq!(rest.len(), reference.len() - half);
            for (i, (a, b)) in rest.iter().zip(&reference[half..]).enumerate() {
                assert!(
                    (a - b).abs() <= 1e-3 * b.abs(),
                    "written on {from}, resumed on {to}: loss {i} after the checkpoint is {a}, \
                     the uninterrupted cpu run's {b}"
                );
            }
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}
