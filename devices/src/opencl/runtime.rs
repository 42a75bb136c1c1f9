//! Finding OpenCL devices, and what one opened device holds: its context, its ONE in-order
//! command queue, its buffer pool, and the programs built for it (once per process).

use super::pool::Pool;
use super::profile::{self, Profile};
use super::source::{ProgramKey, ProgramSource};
use super::DeviceInfo;
use crate::{DType, Error, Result};
use opencl3::command_queue::{CommandQueue, CL_QUEUE_PROFILING_ENABLE};
use opencl3::context::Context;
use opencl3::device::{
    Device as ClDevice, CL_DEVICE_TYPE_ALL, CL_DEVICE_TYPE_GPU, CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT,
};
use opencl3::error_codes::ClError;
use opencl3::kernel::Kernel;
use opencl3::platform::get_platforms;
use opencl3::program::Program;
use opencl3::types::cl_device_id;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// `cl3`'s code for "libOpenCL.so.1 could not be loaded" (feature `dynamic`).
const LOADER_MISSING: i32 = -2000;
/// `CL_PLATFORM_NOT_FOUND_KHR`: the ICD loader is there but no driver registered a platform.
const NO_PLATFORM: i32 = -1001;
/// `CL_DEVICE_NOT_FOUND`: a platform with no device of the requested type.
const NO_DEVICE: i32 = -1;

/// Every device of every platform, in platform order, with its platform's name.
pub(crate) fn discover() -> Result<Vec<(String, cl_device_id)>> {
    let platforms = get_platforms().map_err(|e| {
        Error::Backend(match e.0 {
            LOADER_MISSING => {
                "no OpenCL platform found (libOpenCL.so.1 could not be loaded)".to_string()
            }
            NO_PLATFORM => "no OpenCL platform found (the ICD loader found no platform: is an \
                            OpenCL driver such as PoCL installed?)"
                .to_string(),
            _ => format!("no OpenCL platform found (clGetPlatformIDs failed: {e})"),
        })
    })?;
    if platforms.is_empty() {
        return Err(Error::Backend(
            "no OpenCL platform found (the ICD loader found no platform: is an OpenCL driver \
             such as PoCL installed?)"
                .to_string(),
        ));
    }
    let mut found = Vec::new();
    let mut empty = Vec::new();
    for platform in &platforms {
        let name = platform.name().unwrap_or_else(|_| "?".to_string());
        match platform.get_devices(CL_DEVICE_TYPE_ALL) {
            Ok(ids) if !ids.is_empty() => {
                found.extend(ids.into_iter().map(|id| (name.clone(), id)))
            }
            Ok(_) | Err(ClError(NO_DEVICE)) => empty.push(name),
            Err(e) => {
                return Err(Error::Backend(format!(
                    "OpenCL platform {name}: listing its devices failed: {e}"
                )))
            }
        }
    }
    if found.is_empty() {
        return Err(Error::Backend(format!(
            "no OpenCL device found: platform {} has no devices (PoCL reports none when \
             POCL_DEVICES names none of its drivers{}, or when it cannot write its cache: set \
             POCL_CACHE_DIR to a writable folder)",
            empty.join(", platform "),
            match std::env::var("POCL_DEVICES") {
                Ok(v) => format!(", as POCL_DEVICES={v:?} may"),
                Err(_) => String::new(),
            }
        )));
    }
    Ok(found)
}

fn query<V>(what: &str, r: opencl3::Result<V>) -> Result<V> {
    r.map_err(|e| Error::Backend(format!("OpenCL: querying {what} failed: {e}")))
}

/// What the device says about itself.
pub(crate) fn describe(index: usize, platform: &str, id: cl_device_id) -> Result<DeviceInfo> {
    let device = ClDevice::new(id);
    let extensions = query("the extensions", device.extensions())?;
    let single_fp = query("the f32 capabilities", device.single_fp_config())?;
    Ok(DeviceInfo {
        index,
        platform: platform.to_string(),
        name: query("the name", device.name())?.trim().to_string(),
        version: query("the version", device.version())?.trim().to_string(),
        c_version: query("the OpenCL C version", device.opencl_c_version())?
            .trim()
            .to_string(),
        global_memory: query("the memory size", device.global_mem_size())?,
        max_allocation: query("the allocation limit", device.max_mem_alloc_size())?,
        compute_units: query("the compute units", device.max_compute_units())?,
        gpu: query("the device type", device.dev_type())? & CL_DEVICE_TYPE_GPU != 0,
        fp64: extensions.split_whitespace().any(|e| e == "cl_khr_fp64"),
        correctly_rounded_divide_sqrt: single_fp & CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT != 0,
    })
}

/// A kernel object and how many work items one group of it may have on this device.
pub(crate) struct KernelEntry {
    pub kernel: Mutex<Kernel>,
    /// `min(CL_KERNEL_WORK_GROUP_SIZE, CL_DEVICE_MAX_WORK_GROUP_SIZE)`.
    pub max_group: usize,
    pub args: u32,
    pub name: &'static str,
    /// The name, op, element type and build options: what kernel times are summed by.
    pub label: Arc<str>,
}

/// One opened device.
pub(crate) struct Runtime {
    pub info: DeviceInfo,
    pub device: ClDevice,
    pub context: Context,
    /// The one in-order queue: every command of this device goes through it, which orders
    /// every write after the earlier reads of the same buffer (see `pool.rs`).
    pub queue: CommandQueue,
    pub pool: Pool,
    max_group: usize,
    programs: Mutex<HashMap<ProgramKey, Program>>,
    kernels: Mutex<HashMap<(ProgramKey, &'static str), Arc<KernelEntry>>>,
    /// The launches' events, when `POLYVIT_OPENCL_PROFILE` asked for kernel times.
    pub profile: Option<Mutex<Profile>>,
}

impl Runtime {
    /// Creates the context, queue and pool of the device `id`.
    pub fn open(info: DeviceInfo, id: cl_device_id) -> Result<Runtime> {
        let device = ClDevice::new(id);
        let fail = |what: &str, e: ClError| {
            Error::Backend(format!("OpenCL: {what} on {} failed: {e}", info.name))
        };
        let context = Context::from_device(&device).map_err(|e| fail("creating a context", e))?;
        let profiled = profile::requested();
        let properties = if profiled {
            CL_QUEUE_PROFILING_ENABLE
        } else {
            0
        };
        let queue = CommandQueue::create_default(&context, properties)
            .map_err(|e| fail("creating a command queue", e))?;
        let max_group = query("the work-group size limit", device.max_work_group_size())?.max(1);
        let limit = usize::try_from(info.global_memory / 2).unwrap_or(usize::MAX);
        Ok(Runtime {
            device,
            context,
            queue,
            pool: Pool::new(limit),
            max_group,
            programs: Mutex::new(HashMap::new()),
            kernels: Mutex::new(HashMap::new()),
            profile: profiled.then(|| Mutex::new(Profile::default())),
            info,
        })
    }

    /// The kernel `name` of the program `source`, building the program on first use (once per
    /// process; later calls find it in the cache). A build failure reports the program, the op
    /// and the full build log; an `f64` program on a device without `cl_khr_fp64` is refused.
    pub fn kernel(&self, source: &ProgramSource, name: &'static str) -> Result<Arc<KernelEntry>> {
        let cache_key = (source.key.clone(), name);
        let mut kernels = self.kernels.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = kernels.get(&cache_key) {
            return Ok(Arc::clone(entry));
        }
        if source.key.dtype == DType::F64 && !self.info.fp64 {
            return Err(Error::Backend(format!(
                "OpenCL device {} has no fp64 support (cl_khr_fp64): cannot run {} in f64",
                self.info.name,
                source.describe()
            )));
        }
        let mut programs = self.programs.lock().unwrap_or_else(|e| e.into_inner());
        if !programs.contains_key(&source.key) {
            let options = if self.info.correctly_rounded_divide_sqrt {
                format!(
                    "{} -cl-fp32-correctly-rounded-divide-sqrt",
                    source.key.options
                )
            } else {
                source.key.options.to_string()
            };
            let program =
                Program::create_and_build_from_source(&self.context, &source.text(), &options)
                    .map_err(|log| {
                        Error::Backend(format!(
                            "OpenCL: building {} on {} failed: {log}",
                            source.describe(),
                            self.info.name
                        ))
                    })?;
            programs.insert(source.key.clone(), program);
        }
        let program = &programs[&source.key];
        let fail = |what: &str, e: ClError| {
            Error::Backend(format!(
                "OpenCL: {what} of kernel {name} ({}) failed: {e}",
                source.describe()
            ))
        };
        let kernel = Kernel::create(program, name).map_err(|e| fail("creating", e))?;
        let group = kernel
            .get_work_group_size(self.device.id())
            .map_err(|e| fail("querying the work-group size", e))?;
        let args = kernel
            .num_args()
            .map_err(|e| fail("querying the arguments", e))?;
        let key = &source.key;
        let op = if key.op.is_empty() {
            String::new()
        } else {
            format!(" {}", key.op)
        };
        let options = if key.options.is_empty() {
            String::new()
        } else {
            format!(" {}", key.options)
        };
        let entry = Arc::new(KernelEntry {
            kernel: Mutex::new(kernel),
            max_group: group.min(self.max_group).max(1),
            args,
            name,
            label: format!("{name}{op} {}{options}", key.dtype).into(),
        });
        kernels.insert(cache_key, Arc::clone(&entry));
        Ok(entry)
    }
}
