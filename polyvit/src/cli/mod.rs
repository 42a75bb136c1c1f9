//! The command-line interface: `train`, `eval`, `experiment`, `predict`, `data`, `info` and
//! `devices`.

/// `print!` to standard output, through [`output::write`].
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::output::write(format_args!($($arg)*))
    };
}

/// `println!` to standard output, through [`output::write`].
macro_rules! outln {
    () => {
        $crate::cli::output::write(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::cli::output::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `eprintln!` to standard error, through [`output::write_error`].
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::cli::output::write_error(format_args!("{}\n", format_args!($($arg)*)))
    };
}

mod config_edits;
mod curves;
mod data;
mod devices;
mod distributed;
mod driver;
mod eval;
mod eval_folder;
mod experiment;
mod info;
pub(crate) mod output;
mod plot;
mod predict;
mod report;
mod tasks;
mod train;

use clap::{Parser, Subcommand};
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Co-train one vision transformer on image, video and audio tasks (PolyViT).
#[derive(Parser)]
#[command(name = "polyvit", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Co-train on the embedded suite or the full one (or a subset, and tasks from folders) and
    /// print each task's result.
    // Boxed: its many flags make it several times larger than the other variants.
    Train(Box<train::TrainArgs>),
    /// Evaluate a checkpoint on every task it was trained on (or on a labelled folder).
    Eval(eval::EvalArgs),
    /// Run one of the paper's experiments (every row over several seeds) and write its table
    /// (CSV, JSON) and plot.
    Experiment(experiment::ExperimentArgs),
    /// Print a checkpoint's most probable classes for images, audio clips (WAV, FLAC, Ogg Vorbis,
    /// .au; MP3, M4A, Opus and more with the ffmpeg feature) and clips of frames.
    Predict(predict::PredictArgs),
    /// Work with data folders (export an embedded task as files).
    Data(data::DataArgs),
    /// Print a model's parameters by part and the saving over one model per task.
    Info(info::InfoArgs),
    /// List the devices to compute on (the CPU and every OpenCL device).
    Devices(devices::DevicesArgs),
}

/// How a command that did not fail ended.
pub enum Ended {
    /// It did all it was asked.
    Finished,
    /// It was asked to stop ([`stop_requests`]) and saved its work; the process exits with
    /// status 130, as a shell reports a command ended by SIGINT, so a script does not go on as
    /// if it had finished.
    Interrupted,
}

/// A flag set when the process is asked to stop: Ctrl-C (SIGINT), SIGTERM (`kill`, a job
/// scheduler, or `mpirun` passing a Ctrl-C on to its ranks) or SIGHUP (the terminal closed).
/// A long command reads it between steps, saves its work and ends with [`Ended::Interrupted`].
/// An evaluation can take minutes, so the first request says it is heard (when `say` is true:
/// one rank of several keeps quiet), and a second one ends the process at once, unsaved, with
/// status 130.
///
/// A signal the process was started ignoring stays ignored: `nohup polyvit train &` goes on
/// when the terminal closes, and a script's background job is not stopped by Ctrl-C.
fn stop_requests(say: bool) -> Result<Arc<AtomicBool>, String> {
    let ignored = ignored_signals();
    let requested = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&requested);
    // ctrlc runs this on a thread of its own, not in the signal handler: it may print and exit.
    ctrlc::set_handler(move || {
        if ENDING.load(Ordering::SeqCst) {
            return;
        }
        if PREPARING.load(Ordering::SeqCst) {
            if say {
                let _ = writeln!(
                    std::io::stderr(),
                    "\ninterrupted while preparing the data: nothing was written"
                );
            }
            std::process::exit(130);
        }
        if flag.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        if say {
            let _ = writeln!(
                std::io::stderr(),
                "\nstopping after this step or evaluation, with a checkpoint (asked again, \
                 the process ends at once, unsaved)"
            );
        }
    })
    .map_err(|e| {
        format!("cannot install the handler of SIGINT (Ctrl-C), SIGTERM and SIGHUP: {e}")
    })?;
    ignore(&ignored);
    Ok(requested)
}

/// Whether the command is still preparing its work (reading its data), with nothing written
/// yet: then a request to stop ([`stop_requests`]) ends the process at once, saying so, as
/// there is nothing to save.
static PREPARING: AtomicBool = AtomicBool::new(false);

/// Whether the command has failed and its process is ending with the error: a request to stop
/// then changes nothing and says nothing. (A rank of a distributed run ends the job with its
/// error; `mpirun` then asks the other ranks to stop, and they must not say they will save.)
static ENDING: AtomicBool = AtomicBool::new(false);

/// Marks the command as failed and ending ([`ENDING`]).
#[cfg(feature = "mpi")]
fn set_ending() {
    ENDING.store(true, Ordering::SeqCst);
}

/// Says whether the command is preparing its work ([`PREPARING`]).
fn set_preparing(preparing: bool) {
    PREPARING.store(preparing, Ordering::SeqCst);
}

/// Which of the signals [`stop_requests`] handles are ignored now (inherited from the parent).
#[cfg(unix)]
fn ignored_signals() -> Vec<libc::c_int> {
    [libc::SIGINT, libc::SIGTERM, libc::SIGHUP]
        .into_iter()
        .filter(|&signal| {
            // SAFETY: `sigaction` is a C struct of integers, pointers and a signal set, for
            // which all-zero bytes are a valid value.
            let mut current: libc::sigaction = unsafe { std::mem::zeroed() };
            // SAFETY: with a null new action, `sigaction` only writes the current disposition of
            // `signal` (a valid signal number) into `current`, which is owned here.
            let read = unsafe { libc::sigaction(signal, std::ptr::null(), &mut current) };
            read == 0 && current.sa_sigaction == libc::SIG_IGN
        })
        .collect()
}

/// Sets `signals` to be ignored (again).
#[cfg(unix)]
fn ignore(signals: &[libc::c_int]) {
    for &signal in signals {
        // SAFETY: SIG_IGN is a valid disposition for SIGINT, SIGTERM and SIGHUP (the only
        // signals `ignored_signals` returns); it replaces ctrlc's handler, which then never runs.
        unsafe { libc::signal(signal, libc::SIG_IGN) };
    }
}

#[cfg(not(unix))]
fn ignored_signals() -> Vec<i32> {
    Vec::new()
}

#[cfg(not(unix))]
fn ignore(_: &[i32]) {}

/// Parses the command line and runs the chosen command.
pub fn run() -> Result<Ended, String> {
    let finished = |result: Result<(), String>| result.map(|()| Ended::Finished);
    match Cli::parse().command {
        Command::Train(args) => train::train(*args),
        Command::Eval(args) => finished(eval::eval(args)),
        Command::Experiment(args) => experiment::experiment(args),
        Command::Predict(args) => finished(predict::predict(args)),
        Command::Data(args) => finished(data::data(args)),
        Command::Info(args) => finished(info::info(args)),
        Command::Devices(args) => finished(devices::devices(args)),
    }
}
