//! This machine's single-precision peak, measured rather than taken from a data sheet: every
//! thread runs twelve independent chains of fused multiply-adds in the widest vector ISA the CPU
//! reports at run time (enough chains to cover the FMA latency on current x86 cores), so the
//! number is what the cores actually sustain, clock and vector width included.

use std::time::Instant;

/// Independent accumulators per thread.
const CHAINS: usize = 12;

/// FMA rounds per thread: about a quarter of a second on a current core.
const ROUNDS: u64 = 20_000_000;

/// GFLOP/s of `threads` threads running FMA chains at once, and the ISA they ran in.
pub fn measured_peak_gflops(threads: usize) -> (f64, &'static str) {
    let (isa, lanes) = widest_isa();
    let start = Instant::now();
    let checksum: f32 = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.max(1))
            .map(|_| scope.spawn(move || fma_chains(isa, ROUNDS)))
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("FMA thread"))
            .sum()
    });
    let seconds = start.elapsed().as_secs_f64();
    // Keeps the chains' results alive, so the loops cannot be removed.
    assert!(checksum.is_finite(), "FMA chains overflowed");
    let flops = threads.max(1) as f64 * ROUNDS as f64 * (CHAINS * lanes * 2) as f64;
    (flops / seconds / 1e9, isa)
}

/// The widest FMA ISA this CPU has and its f32 lanes.
pub fn widest_isa() -> (&'static str, usize) {
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx512f") {
            return ("avx512f", 16);
        }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            return ("avx2+fma", 8);
        }
    }
    ("scalar", 1)
}

/// Runs `rounds` rounds of [`CHAINS`] FMAs in `isa` (a name [`widest_isa`] returned) and
/// returns the sum of the accumulators.
fn fma_chains(isa: &str, rounds: u64) -> f32 {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: each function is compiled for the ISA its name says, and `isa` comes from
        // `widest_isa`, which returns that name only after detecting the features at run time.
        match isa {
            "avx512f" => return unsafe { x86::avx512(rounds) },
            "avx2+fma" => return unsafe { x86::avx2(rounds) },
            _ => {}
        }
    }
    let mut acc = [0.0f32; CHAINS];
    for _ in 0..rounds {
        for a in &mut acc {
            *a = a.mul_add(0.999_999, 1e-7);
        }
    }
    acc.iter().sum()
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::CHAINS;
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx512f")]
    pub(super) fn avx512(rounds: u64) -> f32 {
        let (a, b) = (_mm512_set1_ps(0.999_999), _mm512_set1_ps(1e-7));
        let mut acc = [_mm512_setzero_ps(); CHAINS];
        for _ in 0..rounds {
            for r in &mut acc {
                *r = _mm512_fmadd_ps(*r, a, b);
            }
        }
        let sum = acc
            .iter()
            .fold(_mm512_setzero_ps(), |s, &r| _mm512_add_ps(s, r));
        _mm512_reduce_add_ps(sum)
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) fn avx2(rounds: u64) -> f32 {
        let (a, b) = (_mm256_set1_ps(0.999_999), _mm256_set1_ps(1e-7));
        let mut acc = [_mm256_setzero_ps(); CHAINS];
        for _ in 0..rounds {
            for r in &mut acc {
                *r = _mm256_fmadd_ps(*r, a, b);
            }
        }
        let mut lanes = [0.0f32; 8];
        let sum = acc
            .iter()
            .fold(_mm256_setzero_ps(), |s, &r| _mm256_add_ps(s, r));
        // SAFETY: `lanes` holds exactly the 8 floats an unaligned 256-bit store writes.
        unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), sum) };
        lanes.iter().sum()
    }
}
