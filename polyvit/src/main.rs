//! `polyvit`: co-train, evaluate and inspect PolyViT models from the command line.

mod cli;

fn main() {
    if let Err(message) = cli::run() {
        eprintln!("error: {message}");
        std::process::exit(1);
    }
}
