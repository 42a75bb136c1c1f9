//! Standard output for every command, through [`out!`] and [`outln!`] instead of `print!` and
//! `println!`, which panic when the reader has gone: `polyvit info | head -3` closes the pipe
//! after three lines, and the next line written would end the process with a panic. Here the
//! rest of the output is dropped instead (the reader wanted no more of it) and the command goes
//! on; any other failure to write (a full disk under `> file`) is said once on standard error,
//! if it can still be written to. Notes and errors go to standard error through [`errln!`]
//! instead of `eprintln!`, which panics in the same way when standard error is gone
//! (`2>&1 | head -n 0`, a closed terminal): there is nowhere left to say anything then.

use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once standard output can take no more.
static CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes `text` to standard output, unless it was closed (see the module docs).
pub fn write(text: fmt::Arguments) {
    if CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_fmt(text) {
        CLOSED.store(true, Ordering::Relaxed);
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            // Not `eprintln!`, which panics when standard error is gone too (a closed terminal).
            let _ = writeln!(
                std::io::stderr(),
                "cannot write to standard output ({e}); the rest of it is dropped"
            );
        }
    }
}

/// Writes `text` to standard error; a failure to write there is ignored (see the module docs).
pub fn write_error(text: fmt::Arguments) {
    let _ = std::io::stderr().write_fmt(text);
}
