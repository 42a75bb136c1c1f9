//! Our `Tensor::matmul` against raw `matrixmultiply::sgemm` on the same operands and strides,
//! measured *interleaved* (ours, raw, ours, raw, ...) and reporting the best of many runs of
//! each, which makes the ratio meaningful even on a loaded, shared machine where sequential
//! criterion runs drift by ±20%.
//!
//! Run: `RAYON_NUM_THREADS=1 cargo bench -p benchmarks --bench sgemm_ratio`
//! (`-- ROUNDS` to change the number of rounds, default 15).

use std::time::{Duration, Instant};
use tensor::{rng, DType, Tensor};

fn randn(shape: &[usize], seed: u64) -> Tensor {
    Tensor::randn(shape, 0.0, 1.0, DType::F32, &mut rng(seed))
}

fn best_of(times: &mut Duration, f: impl FnOnce()) {
    let start = Instant::now();
    f();
    *times = (*times).min(start.elapsed());
}

/// One case: `a` (m×k, any layout) times `b` (k×n, any layout).
fn case(name: &str, a: &Tensor, b: &Tensor, rounds: usize) {
    assert!(
        a.rank() == 2 && b.rank() == 2 && a.shape()[1] == b.shape()[0],
        "{name}: {:?} x {:?} is not a matrix product",
        a.shape(),
        b.shape()
    );
    let (m, k, n) = (a.shape()[0], a.shape()[1], b.shape()[1]);
    let (la, lb) = (a.layout(), b.layout());
    let (a_data, b_data) = (a.contiguous().unwrap(), b.contiguous().unwrap());
    // The raw call reads the same strides as our kernel: rebuild strided copies of the data.
    let strided = |t: &Tensor, dense: &Tensor| {
        let values = dense.to_vec::<f32>().unwrap();
        let l = t.layout();
        let mut buffer = vec![0f32; l.end().expect("a layout of a live tensor fits in memory")];
        for i in 0..l.shape()[0] {
            for j in 0..l.shape()[1] {
                buffer[l.offset() + i * l.strides()[0] + j * l.strides()[1]] =
                    values[i * l.shape()[1] + j];
            }
        }
        buffer
    };
    let (ra, rb) = (strided(a, &a_data), strided(b, &b_data));
    let mut c = vec![0f32; m * n];
    let (mut ours, mut raw) = (Duration::MAX, Duration::MAX);
    for _ in 0..rounds {
        best_of(&mut ours, || drop(a.matmul(b).unwrap()));
        best_of(&mut raw, || {
            // SAFETY: `ra` and `rb` hold the layouts `la` and `lb` (built above, so every
            // stride of an axis longer than 1 is below their lengths; a size-1 axis's is given
            // as 0), of an m×k and a k×n matrix (asserted); `c` is m×n.
            unsafe {
                matrixmultiply::sgemm(
                    m,
                    k,
                    n,
                    1.0,
                    ra.as_ptr().add(la.offset()),
                    la.walk_stride(0) as isize,
                    la.walk_stride(1) as isize,
                    rb.as_ptr().add(lb.offset()),
                    lb.walk_stride(0) as isize,
                    lb.walk_stride(1) as isize,
                    0.0,
                    c.as_mut_ptr(),
                    n as isize,
                    1,
                )
            }
        });
    }
    let gflops = |t: Duration| 2.0 * (m * k * n) as f64 / t.as_secs_f64() / 1e9;
    println!(
        "{name:<28} {:>8.1} {:>8.1} {:>7.3}",
        gflops(ours),
        gflops(raw),
        gflops(ours) / gflops(raw)
    );
}

fn main() {
    let rounds: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(15);
    println!(
        "threads {}, best of {rounds} interleaved rounds (GFLOP/s)",
        rayon_threads()
    );
    println!("{:<28} {:>8} {:>8} {:>7}", "case", "ours", "raw", "ratio");
    let shapes = [
        (4096, 192, 576),
        (4096, 192, 192),
        (4096, 192, 768),
        (4096, 768, 192),
        (1024, 1024, 1024),
    ];
    for (i, &(m, k, n)) in shapes.iter().enumerate() {
        let x = randn(&[m, k], i as u64);
        let w = randn(&[k, n], 100 + i as u64);
        let w_out_in = randn(&[n, k], 200 + i as u64);
        case(&format!("{m}x{k}x{n}"), &x, &w, rounds);
        case(
            &format!("{m}x{k}x{n} wT"),
            &x,
            &w_out_in.t().unwrap(),
            rounds,
        );
    }
    let a = randn(&[4096, 192], 300);
    let g = randn(&[4096, 576], 301);
    case("aT_g 192x4096x576", &a.t().unwrap(), &g, rounds);
}

/// The number of threads rayon uses (what `RAYON_NUM_THREADS` or the core count gives).
fn rayon_threads() -> String {
    std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "default".into())
}
