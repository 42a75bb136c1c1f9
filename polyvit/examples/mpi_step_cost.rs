//! What the scaling model of `docs/distributed.md` is built from: the time of one data-parallel
//! training step of a preset on the ranks of `mpirun`, and the time of the allreduce of one
//! step's gradients alone (the `mpi` feature).
//!
//! ```sh
//! cargo build --release -p polyvit --features mpi --example mpi_step_cost
//! mpirun -np 2 -x RAYON_NUM_THREADS=1 target/release/examples/mpi_step_cost small 50
//! ```
//!
//! The run trains MNIST alone (batch 32), so every parameter of its model gets a gradient at
//! every step: the fused buffer holds them all.

use nn::Parameters;
use polyvit::data::default_suite;
use polyvit::train::mpi_world::MpiWorld;
use polyvit::train::{Collective, Run, TrainConfig};
use std::rc::Rc;
use std::time::Instant;

/// Allreduces timed per buffer size.
const ALLREDUCE_REPEATS: usize = 5;

fn main() {
    let world = match MpiWorld::initialize() {
        Ok(world) => Rc::new(world),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = measure(&world) {
        world.fail(&e);
    }
}

fn measure(world: &Rc<MpiWorld>) -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let preset = args.first().map_or("small", String::as_str);
    let steps: u32 = match args.get(1) {
        Some(text) => text
            .parse()
            .map_err(|_| format!("steps {text:?}: expected a whole number"))?,
        None => 20,
    };
    let mut config = TrainConfig {
        preset: preset.into(),
        ..TrainConfig::default()
    };
    config.select_tasks(&["mnist".into()]);
    let mut run =
        Run::new(config, default_suite().map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    run.set_collective(Rc::clone(world) as Rc<dyn Collective>)
        .map_err(|e| e.to_string())?;
    run.train_step().map_err(|e| e.to_string())?; // warm-up
    let started = Instant::now();
    for _ in 0..steps {
        run.train_step().map_err(|e| e.to_string())?;
    }
    let step_ms = started.elapsed().as_secs_f64() * 1e3 / steps.max(1) as f64;

    let parameters = run.model.parameter_count();
    let send = vec![1.0f32; parameters];
    let mut sum = vec![0.0f32; parameters];
    world.sum_f32(&send, &mut sum); // warm-up
    let started = Instant::now();
    for _ in 0..ALLREDUCE_REPEATS {
        world.sum_f32(&send, &mut sum);
    }
    let allreduce_ms = started.elapsed().as_secs_f64() * 1e3 / ALLREDUCE_REPEATS as f64;
    if sum[0] != world.size() as f32 {
        return Err(format!(
            "the allreduce summed to {} over {} ranks",
            sum[0],
            world.size()
        ));
    }
    if world.rank() == 0 {
        println!(
            "preset {preset}: {} ranks × {} threads, {parameters} parameters ({:.1} MB of gradients): step {step_ms:.1} ms, allreduce {allreduce_ms:.2} ms",
            world.size(),
            std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "all".into()),
            parameters as f64 * 4.0 / 1e6
        );
    }
    Ok(())
}
