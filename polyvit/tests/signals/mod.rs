//! Stopping a command-line run part way, as a user does once it is training.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

/// `command` with SIGINT, SIGTERM and SIGHUP set to their default disposition in the child, as
/// a terminal starts a command: the tests may run where some are ignored (a background job
/// ignores SIGINT, `nohup` SIGHUP), and polyvit leaves an inherited ignored signal ignored.
pub fn with_default_signals(command: &mut Command) -> &mut Command {
    // SAFETY: runs in the forked child before exec, calling only `signal`, which is
    // async-signal-safe, with valid signal numbers and SIG_DFL.
    unsafe {
        command.pre_exec(|| {
            for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
                libc::signal(signal, libc::SIG_DFL);
            }
            Ok(())
        })
    }
}

/// Waits until `log` holds a line (the run trains, so its signal handler is installed), sends
/// `signal` (`INT`, `TERM`, `HUP`) to `child`, and returns `child`'s output once it has ended.
pub fn signal_once_training(child: Child, log: &Path, signal: &str) -> Output {
    let started = Instant::now();
    while std::fs::read_to_string(log).map_or(true, |s| s.is_empty()) {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "no step logged in {}",
            log.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let sent = Command::new("kill")
        .args([format!("-{signal}"), child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success(), "kill -{signal} failed");
    child.wait_with_output().expect("the run ends")
}
