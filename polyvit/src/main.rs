//! `polyvit`: co-train, evaluate and inspect PolyViT models from the command line.

mod cli;

fn main() {
    // Every command runs on a compute thread, so the CPU kernels it calls share out their work
    // without putting this thread to sleep and waking it once per kernel.
    match devices::on_compute_thread(cli::run) {
        Ok(cli::Ended::Finished) => {}
        Ok(cli::Ended::Interrupted) => std::process::exit(130),
        Err(message) => {
            // Not `eprintln!`, which panics when standard error is gone (`2>&1 | head -n 0`).
            cli::output::write_error(format_args!("error: {message}\n"));
            std::process::exit(1);
        }
    }
}
