//! MPI ranks as a [`Collective`] (the `mpi` feature): the system's MPI library, through rsmpi,
//! started by `mpirun`.

use super::collective::Collective;
use mpi::collective::{CommunicatorCollectives, Root, SystemOperation};
use mpi::environment::Universe;
use mpi::topology::{Communicator, SimpleCommunicator};
use mpi::Threading;
use std::io::Write;

/// The most elements one MPI call moves: MPI counts are C `int`s, so larger buffers go in
/// pieces (a buffer of up to 2³⁰ elements, 4 GiB of `f32`, is one call).
const MAX_CALL_ELEMENTS: usize = 1 << 30;

/// The collective operations, as [`MpiWorld::agree_on_call`] names them.
#[derive(Clone, Copy, Debug)]
enum Operation {
    SumF32 = 1,
    MaxU64 = 2,
    BroadcastBytes = 3,
}

/// Every process of `MPI_COMM_WORLD`. MPI is finalized when this is dropped.
pub struct MpiWorld {
    world: SimpleCommunicator,
    // Declared after `world`, so dropped after it: `MPI_Finalize` comes last.
    _universe: Universe,
}

impl MpiWorld {
    /// Initializes MPI. MPI is called by one thread at a time, the one running the training
    /// loop, but that is a compute thread (`devices::on_compute_thread`), not necessarily the
    /// thread that initialized MPI, so `MPI_THREAD_SERIALIZED` support is what the library must
    /// offer.
    pub fn initialize() -> Result<MpiWorld, String> {
        let (universe, threading) = mpi::initialize_with_threading(Threading::Serialized)
            .ok_or("MPI is already initialized in this process")?;
        if matches!(threading, Threading::Single | Threading::Funneled) {
            return Err(format!("the MPI library offers {threading:?} thread support; MPI_THREAD_SERIALIZED is needed (the training loop calls MPI from a compute thread)"));
        }
        Ok(MpiWorld {
            world: universe.world(),
            _universe: universe,
        })
    }

    /// Ends every rank of the job (`MPI_Abort`, status 1) after printing `message` as this
    /// rank's error: for an error on one rank, which the others, waiting in a collective, would
    /// never learn of. The line goes out in one write, so the ranks' lines do not interleave.
    pub fn fail(&self, message: &str) -> ! {
        let line = format!(
            "error on rank {} of {}: {message}\n",
            self.rank(),
            self.size()
        );
        std::io::stderr().write_all(line.as_bytes()).ok();
        self.world.abort(1)
    }

    /// Before every operation: checks, in one exchange of fixed size that every rank makes
    /// alike, that every rank is making the same call (`operation` on `len` elements). MPI
    /// requires matching calls and corrupts memory without them; ranks that drifted apart (a
    /// difference the start-up check did not see, such as `--resume` on some ranks only) end
    /// the job here with a message instead.
    fn agree_on_call(&self, operation: Operation, len: usize) {
        assert!(len < 1 << 56, "a collective of {len} elements");
        let call = (operation as u64) << 56 | len as u64;
        let mut extremes = [call, !call];
        let send = extremes;
        self.world
            .all_reduce_into(&send[..], &mut extremes[..], SystemOperation::max());
        if extremes[0] != !extremes[1] {
            self.fail(&format!(
                "the ranks are out of step (this one calls {operation:?} on {len} elements, \
                 another rank something else): their runs differ"
            ))
        }
    }
}

impl Collective for MpiWorld {
    fn rank(&self) -> usize {
        self.world.rank() as usize
    }

    fn size(&self) -> usize {
        self.world.size() as usize
    }

    fn sum_f32(&self, send: &[f32], receive: &mut [f32]) {
        assert_eq!(
            send.len(),
            receive.len(),
            "sum_f32: buffers differ in length"
        );
        self.agree_on_call(Operation::SumF32, send.len());
        for (send, receive) in send
            .chunks(MAX_CALL_ELEMENTS)
            .zip(receive.chunks_mut(MAX_CALL_ELEMENTS))
        {
            self.world
                .all_reduce_into(send, receive, SystemOperation::sum());
        }
    }

    fn max_u64(&self, values: &mut [u64]) {
        self.agree_on_call(Operation::MaxU64, values.len());
        let send = values.to_vec();
        for (send, receive) in send
            .chunks(MAX_CALL_ELEMENTS)
            .zip(values.chunks_mut(MAX_CALL_ELEMENTS))
        {
            self.world
                .all_reduce_into(send, receive, SystemOperation::max());
        }
    }

    fn broadcast_bytes(&self, bytes: &mut Vec<u8>) {
        // Only rank 0 knows the length: the ranks agree on it below.
        self.agree_on_call(Operation::BroadcastBytes, 0);
        let root = self.world.process_at_rank(0);
        let mut len = bytes.len() as u64;
        root.broadcast_into(&mut len);
        bytes.resize(len as usize, 0);
        for piece in bytes.chunks_mut(MAX_CALL_ELEMENTS) {
            root.broadcast_into(piece);
        }
    }
}
