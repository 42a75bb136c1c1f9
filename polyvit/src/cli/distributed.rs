//! `polyvit train --distributed`: the MPI job around a data-parallel run, the replicas' periodic
//! agreement check, and the hidden failure injection that tests a lost rank.

use super::train::TrainArgs;
use super::Ended;
use clap::Args;
use polyvit::train::Run;

/// The flags of `polyvit train` for data-parallel training.
#[derive(Args)]
pub struct DistributedArgs {
    /// Data-parallel training as one rank of `mpirun -np N polyvit train --distributed ...`
    /// (a build with the `mpi` feature): each step's batches are split over the ranks, rank 0
    /// writes the output. See docs/distributed.md.
    #[arg(long)]
    pub distributed: bool,
    /// With --distributed: compare the ranks' parameter checksums every this many steps (and at
    /// the start and the end; 0: only then); a difference stops the run. Default 100.
    #[arg(long)]
    check_every: Option<u64>,
    /// Testing only: rank R exits before step S (R:S), as a crashed rank would.
    #[arg(long, hide = true, value_name = "R:S")]
    exit_rank_at_step: Option<String>,
}

/// Runs `polyvit train` as one rank of the MPI job that `mpirun` started. An error on any rank
/// ends the whole job (`MPI_Abort`), since the other ranks would wait for this one forever.
#[cfg(feature = "mpi")]
pub fn train(args: TrainArgs) -> Result<Ended, String> {
    use polyvit::train::mpi_world::MpiWorld;
    use polyvit::train::Collective;
    use std::rc::Rc;
    let world = Rc::new(MpiWorld::initialize()?);
    match super::train::train_with(args, Rc::clone(&world) as Rc<dyn Collective>) {
        Ok(outcome) => Ok(outcome),
        Err(message) => {
            super::set_ending();
            world.fail(&message)
        }
    }
}

/// `--distributed` in a build without MPI: an error saying how to get it.
#[cfg(not(feature = "mpi"))]
pub fn train(_: TrainArgs) -> Result<Ended, String> {
    Err("--distributed needs a polyvit built with MPI: `cargo build --release -p polyvit --features mpi` (with an MPI library and libclang installed; see docs/distributed.md)".into())
}

/// An error when this process is one of several that an MPI launcher started for a command
/// that runs in one process (`train` without `--distributed`, `experiment`): each would do the
/// whole work and write the same files. `why` says what is missing and what would happen.
pub fn refuse_undistributed_ranks(why: &str) -> Result<(), String> {
    // Set by OpenMPI's and by MPICH's (Hydra's) launchers in every process they start.
    for variable in ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE"] {
        let size = std::env::var(variable)
            .ok()
            .and_then(|v| v.parse::<usize>().ok());
        if let Some(size) = size.filter(|&n| n > 1) {
            return Err(format!(
                "this process is one of {size} started by an MPI launcher ({variable}) {why}"
            ));
        }
    }
    Ok(())
}

/// A rank told to die before a step, to test that losing a rank ends the job (`R:S`: rank `R`
/// exits before step `S`, with code 3 and without leaving MPI, as a crash would).
pub struct PlannedExit {
    rank: usize,
    step: u64,
}

impl PlannedExit {
    /// Parses `R:S`.
    pub fn parse(text: &str) -> Result<PlannedExit, String> {
        let bad = || format!("--exit-rank-at-step {text:?}: expected RANK:STEP, e.g. 1:5");
        let (rank, step) = text.split_once(':').ok_or_else(bad)?;
        Ok(PlannedExit {
            rank: rank.parse().map_err(|_| bad())?,
            step: step.parse().map_err(|_| bad())?,
        })
    }
}

/// What a distributed run checks between steps.
pub struct ReplicaChecks {
    /// Compare the ranks' parameter checksums every this many steps (0: only at the start and
    /// the end).
    pub check_every: u64,
    pub planned_exit: Option<PlannedExit>,
}

impl ReplicaChecks {
    /// The checks asked for on the command line; they need `--distributed`.
    pub fn from_args(args: &DistributedArgs) -> Result<ReplicaChecks, String> {
        let exit = args.exit_rank_at_step.as_deref();
        if !args.distributed {
            // Only the flag given is named: --exit-rank-at-step is a hidden flag of the tests.
            let given = [
                ("--check-every", args.check_every.is_some()),
                ("--exit-rank-at-step", exit.is_some()),
            ];
            if let Some((flag, _)) = given.iter().find(|(_, given)| *given) {
                return Err(format!("{flag} applies only with --distributed"));
            }
        }
        Ok(ReplicaChecks {
            check_every: args.check_every.unwrap_or(100),
            planned_exit: exit.map(PlannedExit::parse).transpose()?,
        })
    }

    /// Before the next step: the planned exit, if it is this rank's and this step.
    pub fn before_step(&self, run: &Run) {
        if let Some(exit) = &self.planned_exit {
            if exit.rank == run.collective().rank() && exit.step == run.step {
                errln!(
                    "rank {} exits before step {} as --exit-rank-at-step asks",
                    exit.rank,
                    exit.step
                );
                std::process::exit(3);
            }
        }
    }

    /// After a step: the replicas' agreement, every `check_every` steps.
    pub fn after_step(&self, run: &Run) -> Result<(), String> {
        if self.check_every > 0 && run.step.is_multiple_of(self.check_every) {
            run.check_replicas().map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}
