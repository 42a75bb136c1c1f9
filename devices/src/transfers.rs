//! Counting the copies between host and device memory.
//!
//! On a GPU every read by the host waits for the queue to drain, and every small upload is a
//! round trip through the driver, so a training step should make only a handful of each. The
//! counters are per thread (a training step runs on one thread) and count on every device, the
//! CPU included, so a test can hold each backend to the same budget.

use std::cell::Cell;
use std::ops::Sub;

/// How many host→device uploads and device→host downloads have been made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Transfers {
    /// Host data copied into a buffer (tensors from host values, index lists).
    pub uploads: usize,
    /// Buffers read back by the host (`to_vec`, `to_scalar`).
    pub downloads: usize,
}

impl Sub for Transfers {
    type Output = Transfers;
    fn sub(self, earlier: Transfers) -> Transfers {
        Transfers {
            uploads: self.uploads - earlier.uploads,
            downloads: self.downloads - earlier.downloads,
        }
    }
}

thread_local! {
    static COUNTS: Cell<Transfers> = const { Cell::new(Transfers { uploads: 0, downloads: 0 }) };
}

/// The transfers made on this thread so far; subtract two readings to count a span of work.
pub fn transfers() -> Transfers {
    COUNTS.with(Cell::get)
}

pub(crate) fn count_upload() {
    COUNTS.with(|c| {
        let mut t = c.get();
        t.uploads += 1;
        c.set(t);
    });
}

pub(crate) fn count_download() {
    COUNTS.with(|c| {
        let mut t = c.get();
        t.downloads += 1;
        c.set(t);
    });
}
