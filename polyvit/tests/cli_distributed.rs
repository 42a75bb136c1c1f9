//! The command line's guards around `--distributed`, in any build (no MPI launcher needed).

use std::process::Command;

/// The exit success and the standard error of `polyvit args` with `env` set.
fn polyvit(args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_polyvit"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("polyvit runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn ranks_started_without_distributed_are_refused() {
    for variable in ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE"] {
        let (ok, stderr) = polyvit(&["train", "--tasks", "mnist"], &[(variable, "2")]);
        assert!(!ok);
        assert!(
            stderr.contains("one of 2") && stderr.contains("--distributed is missing"),
            "{stderr}"
        );
        // An experiment runs in one process: its copies would all write one folder.
        let (ok, stderr) = polyvit(&["experiment", "single-task"], &[(variable, "3")]);
        assert!(!ok);
        assert!(
            stderr.contains("one of 3") && stderr.contains("an experiment runs in one process"),
            "{stderr}"
        );
    }
}

#[test]
fn replica_checks_need_distributed() {
    for flag in [["--check-every", "5"], ["--exit-rank-at-step", "1:3"]] {
        let (ok, stderr) = polyvit(&[&["train"][..], &flag].concat(), &[]);
        assert!(!ok);
        let says = format!("{} applies only with --distributed", flag[0]);
        assert!(stderr.contains(&says), "{stderr}");
    }
}

#[cfg(not(feature = "mpi"))]
#[test]
fn distributed_without_the_mpi_feature_says_how_to_build_it() {
    let (ok, stderr) = polyvit(&["train", "--distributed"], &[]);
    assert!(!ok);
    assert!(stderr.contains("--features mpi"), "{stderr}");
}

#[cfg(feature = "mpi")]
#[test]
fn a_malformed_planned_exit_is_named() {
    let (ok, stderr) = polyvit(
        &["train", "--distributed", "--exit-rank-at-step", "one:2"],
        &[],
    );
    assert!(!ok);
    assert!(
        stderr.contains("\"one:2\"") && stderr.contains("RANK:STEP"),
        "{stderr}"
    );
}
