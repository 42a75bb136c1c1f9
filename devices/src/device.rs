//! `Device`: where a tensor's numbers live (the CPU or one OpenCL device), how the command line
//! names one, and which devices the tests run on.

use crate::opencl::OpenCl;
use crate::{Error, Result};
use std::fmt;
use std::sync::OnceLock;

/// Where a tensor's numbers live.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Device {
    /// The host processor, in host memory (`cpu`); the default. Large kernels are spread over
    /// its cores.
    #[default]
    Cpu,
    /// An OpenCL device (one context and one in-order queue).
    OpenCl(OpenCl),
}

impl Device {
    /// The `index`-th OpenCL device over all platforms (`opencl:index`).
    pub fn opencl(index: usize) -> Result<Device> {
        OpenCl::open(index).map(Device::OpenCl)
    }

    /// A device from its command-line spelling: `cpu`, `opencl` (= `opencl:0`) or `opencl:N`.
    pub fn parse(spec: &str) -> Result<Device> {
        let spec = spec.trim();
        let index = match spec {
            "cpu" => return Ok(Device::Cpu),
            "opencl" => Some(0),
            _ => spec
                .strip_prefix("opencl:")
                .and_then(|n| n.parse::<usize>().ok()),
        };
        let Some(index) = index else {
            return Err(Error::Backend(format!(
                "unknown device \"{spec}\": the accepted forms are cpu, opencl and opencl:N \
                 (N = 0, 1, ... counts the OpenCL devices of all platforms)"
            )));
        };
        Device::opencl(index).map_err(|e| Error::Backend(format!("device \"{spec}\": {e}")))
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Device::Cpu => f.write_str("cpu"),
            Device::OpenCl(cl) => write!(f, "opencl:{} ({})", cl.index(), cl.name()),
        }
    }
}

/// The devices tests should run on: the CPU, plus `opencl:0` when an OpenCL device exists (the
/// workspace's tests and examples use it; so can tests of ops of one's own).
///
/// Without one, the OpenCL half is skipped with a note on stderr (once per process), except under
/// CI (the `CI` environment variable set), where that is a failure: CI must run the OpenCL tests.
///
/// # Panics
/// When `CI` is set and no OpenCL device can be opened.
pub fn test_devices() -> Vec<Device> {
    static PROBE: OnceLock<std::result::Result<OpenCl, String>> = OnceLock::new();
    let probe = PROBE.get_or_init(|| {
        let found = OpenCl::open(0).map_err(|e| e.to_string());
        if let Err(reason) = &found {
            if std::env::var_os("CI").is_some() {
                panic!("CI is set but OpenCL is not usable: {reason}");
            }
            eprintln!("skipping OpenCL: {reason}");
        }
        found
    });
    match probe {
        Ok(cl) => vec![Device::Cpu, Device::OpenCl(cl.clone())],
        Err(_) => vec![Device::Cpu],
    }
}
