//! `polyvit devices`: the devices this machine can compute on.

use clap::Args;

#[derive(Args)]
pub struct DevicesArgs {}

/// Prints the CPU and every OpenCL device with its name, OpenCL version, memory, fp64 support and
/// whether its f32 division and square root are correctly rounded (and, for a device that is
/// not a GPU, that the CPU backend is the faster way to use it), or why no OpenCL device can be
/// used.
pub fn devices(_: DevicesArgs) -> Result<(), String> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    outln!("cpu        {threads} hardware threads");
    match devices::opencl::list() {
        Ok(found) => {
            for d in found {
                outln!(
                    "opencl:{}   {} ({}); {}, {}; {} compute units, {:.1} GiB (at most {:.1} GiB per buffer), fp64 {}, f32 ÷ and √ correctly rounded {}",
                    d.index,
                    d.name,
                    d.platform,
                    d.version,
                    d.c_version,
                    d.compute_units,
                    d.global_memory as f64 / (1u64 << 30) as f64,
                    d.max_allocation as f64 / (1u64 << 30) as f64,
                    if d.fp64 { "yes" } else { "no" },
                    if d.correctly_rounded_divide_sqrt { "yes" } else { "no" }
                );
                if !d.gpu {
                    outln!(
                        "           not a GPU: OpenCL run on a processor (as PoCL does), where --device cpu is many \
                         times faster"
                    );
                }
            }
        }
        Err(e) => outln!("opencl     none: {e}"),
    }
    Ok(())
}
