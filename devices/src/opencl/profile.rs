//! Kernel times from the device's own clock, for finding where a GPU's time goes.
//!
//! With `POLYVIT_OPENCL_PROFILE=1` in the environment when a device is opened, its queue is
//! created with `CL_QUEUE_PROFILING_ENABLE` and every kernel launch keeps its event;
//! [`super::OpenCl::kernel_times`] waits for them and returns the time between each kernel's
//! start and end, summed per kernel (its function, op, element type and build options), most
//! time first. Events are folded into the sums every [`FOLD_EVERY`] launches, so a long run
//! holds a bounded number of them. Without the variable nothing is recorded.

use opencl3::event::Event;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use crate::{Error, Result};

/// How many launches' events are kept before they are waited for and summed.
const FOLD_EVERY: usize = 1 << 16;

/// The device time of one kernel over the launches since the last
/// [`OpenCl::kernel_times`](super::OpenCl::kernel_times).
#[derive(Clone, Debug, PartialEq)]
pub struct KernelTime {
    /// The kernel function, its op, element type and build options, e.g. `binary mul f32`.
    pub kernel: Arc<str>,
    /// How many times it was launched in that period.
    pub launches: u64,
    /// Summed `CL_PROFILING_COMMAND_END − CL_PROFILING_COMMAND_START`.
    pub seconds: f64,
}

/// Whether `POLYVIT_OPENCL_PROFILE` asks for kernel times (set and not `0`); read once.
pub(crate) fn requested() -> bool {
    static REQUESTED: OnceLock<bool> = OnceLock::new();
    *REQUESTED.get_or_init(|| std::env::var_os("POLYVIT_OPENCL_PROFILE").is_some_and(|v| v != "0"))
}

/// The launches of one device not yet read.
#[derive(Default)]
pub(crate) struct Profile {
    pending: Vec<(Arc<str>, Event)>,
    /// Per kernel: launches and nanoseconds.
    totals: HashMap<Arc<str>, (u64, u64)>,
}

impl Profile {
    /// Keeps the event of a launch of `kernel`.
    pub fn record(&mut self, kernel: &Arc<str>, event: Event) -> Result<()> {
        self.pending.push((Arc::clone(kernel), event));
        if self.pending.len() >= FOLD_EVERY {
            self.fold()?;
        }
        Ok(())
    }

    /// Waits for every kept event and adds its time to its kernel's sum.
    fn fold(&mut self) -> Result<()> {
        let fail = |e| Error::Backend(format!("OpenCL: reading a kernel's time failed: {e}"));
        for (kernel, event) in self.pending.drain(..) {
            event.wait().map_err(fail)?;
            let start = event.profiling_command_start().map_err(fail)?;
            let end = event.profiling_command_end().map_err(fail)?;
            let total = self.totals.entry(kernel).or_default();
            total.0 += 1;
            total.1 += end.saturating_sub(start);
        }
        Ok(())
    }

    /// The sums since the last call, most time first; starts new ones.
    pub fn take(&mut self) -> Result<Vec<KernelTime>> {
        self.fold()?;
        let mut times: Vec<KernelTime> = self
            .totals
            .drain()
            .map(|(kernel, (launches, nanos))| KernelTime {
                kernel,
                launches,
                seconds: nanos as f64 * 1e-9,
            })
            .collect();
        times.sort_by(|a, b| {
            b.seconds
                .total_cmp(&a.seconds)
                .then(a.kernel.cmp(&b.kernel))
        });
        Ok(times)
    }
}
