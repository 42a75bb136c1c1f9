//! The OpenCL backend against the CPU backend, through the public `Storage` API only.
//!
//! Every test runs on each OpenCL device of `test_devices()` (none: the test passes after the
//! note "skipping OpenCL" on stderr; under CI that is a failure instead).
//!
//! Tolerances (relative to the larger magnitude, with the absolute floor noted):
//! - element-wise ops and copies: f32 1e-5, f64 1e-12 (PoCL's `exp`/`log` are within a few ulps);
//! - the AdamW update: f32 1e-4, f64 1e-11 (division and `sqrt` may be a few ulps apart);
//! - reductions, softmax, layer norm: f32 1e-5, f64 1e-12, absolute floor scaled by the number
//!   of terms summed (the tree order differs from the CPU's);
//! - GEMM: absolute `k · 2e-6` in f32 and `k · 1e-14` in f64 for operands in [−1, 1].

use devices::opencl::{self, OpenCl};
use devices::ops::{
    self, ArgKind, BinaryOp, BinaryVisitor, ReduceOp, ReduceVisitor, Tanh, UnaryOp, UnaryVisitor,
};
use devices::{test_devices, transfers, AdamWStep, DType, Device, Error, Indices, Layout, Storage};

/// The OpenCL devices to test (empty when there is none).
fn cl_devices() -> Vec<OpenCl> {
    test_devices()
        .into_iter()
        .filter_map(|d| match d {
            Device::OpenCl(cl) => Some(cl),
            Device::Cpu => None,
        })
        .collect()
}

/// A deterministic stream of values in [−1, 1).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }

    fn vec(&mut self, n: usize) -> Vec<f64> {
        (0..n).map(|_| self.next()).collect()
    }
}

fn upload(device: &Device, dtype: DType, data: &[f64]) -> Storage {
    match dtype {
        DType::F32 => {
            let narrow: Vec<f32> = data.iter().map(|&v| v as f32).collect();
            Storage::from_host(device, &narrow).unwrap()
        }
        DType::F64 => Storage::from_host(device, data).unwrap(),
    }
}

fn download(s: &Storage, shape: &[usize]) -> Vec<f64> {
    s.to_host_f64(&Layout::contiguous(shape)).unwrap()
}

/// Relative tolerance of element-wise results.
fn tol(dtype: DType) -> f64 {
    match dtype {
        DType::F32 => 1e-5,
        DType::F64 => 1e-12,
    }
}

fn close(a: f64, b: f64, rel: f64, abs: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan()) || (a - b).abs() <= rel * a.abs().max(b.abs()) + abs
}

fn check(what: &str, cpu: &[f64], cl: &[f64], rel: f64, abs: f64) {
    assert_eq!(cpu.len(), cl.len(), "{what}: lengths differ");
    for (i, (&a, &b)) in cpu.iter().zip(cl).enumerate() {
        assert!(
            close(a, b, rel, abs),
            "{what}: element {i}: cpu {a} vs opencl {b}"
        );
    }
}

/// Runs `f` on the CPU and on `cl` and compares the results.
fn same(cl: &OpenCl, what: &str, rel: f64, abs: f64, f: impl Fn(&Device) -> Vec<f64>) {
    let cpu = f(&Device::Cpu);
    let gpu = f(&Device::OpenCl(cl.clone()));
    check(&format!("{what} on {}", cl.name()), &cpu, &gpu, rel, abs);
}

const DTYPES: [DType; 2] = [DType::F32, DType::F64];

/// Four views of shape [3, 4, 5] into a buffer of 120: contiguous, transposed (all axes
/// reversed), narrowed (nonzero offset, gaps) and broadcast (stride 0 on axis 1).
fn views() -> Vec<(&'static str, Layout)> {
    vec![
        ("contiguous", Layout::contiguous(&[3, 4, 5])),
        (
            "transposed",
            Layout::contiguous(&[5, 4, 3]).permute(&[2, 1, 0]).unwrap(),
        ),
        (
            "narrowed",
            Layout::contiguous(&[4, 6, 5])
                .narrow(0, 1, 3)
                .unwrap()
                .narrow(1, 2, 4)
                .unwrap(),
        ),
        (
            "broadcast",
            Layout::contiguous(&[3, 1, 5])
                .broadcast_to(&[3, 4, 5])
                .unwrap(),
        ),
    ]
}

const EDGES: [f64; 17] = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    -0.5,
    1e4,
    -1e4,
    80.0,
    -80.0,
    1e-30,
    -1e-30,
    3.0,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
    -2.5,
];

/// `tanh` reaches ±1 exactly where the exact value rounds to it, as the CPU's does, so that its
/// gradient `1 − y²` is 0 there (PoCL's f32 builtin stops at ±0.99999994).
#[test]
fn tanh_saturates_at_one_as_on_the_cpu() {
    let xs = [
        9.02,
        10.0,
        20.0,
        1e30,
        f64::INFINITY,
        -9.02,
        -20.0,
        f64::NEG_INFINITY,
        19.07,
    ];
    for (cl, dtype) in cl_devices()
        .into_iter()
        .flat_map(|cl| [(cl.clone(), DType::F32), (cl, DType::F64)])
    {
        let device = Device::OpenCl(cl);
        let input = upload(&device, dtype, &xs);
        let layout = Layout::contiguous(&[xs.len()]);
        let got = download(&input.unary::<Tanh>(&layout).unwrap(), &[xs.len()]);
        for (&x, &y) in xs.iter().zip(&got) {
            let want = match dtype {
                DType::F32 => f64::from((x as f32).tanh()),
                DType::F64 => x.tanh(),
            };
            assert_eq!(y, want, "tanh({x}) in {dtype} on {device}");
        }
    }
}

struct UnaryEdges<'a> {
    cl: &'a OpenCl,
    dtype: DType,
}

impl UnaryVisitor for UnaryEdges<'_> {
    fn visit<Op: UnaryOp>(&mut self) {
        let device = Device::OpenCl(self.cl.clone());
        let input = upload(&device, self.dtype, &EDGES);
        let layout = Layout::contiguous(&[EDGES.len()]);
        let got = download(&input.unary::<Op>(&layout).unwrap(), &[EDGES.len()]);
        for (&x, &g) in EDGES.iter().zip(&got) {
            let want = match self.dtype {
                DType::F32 => f64::from(Op::apply(x as f32)),
                DType::F64 => Op::apply(x),
            };
            assert!(
                close(want, g, tol(self.dtype), 1e-37),
                "{}({x}) in {}: Rust {want}, OpenCL {g} (`{}`)",
                Op::NAME,
                self.dtype,
                Op::OPENCL
            );
        }
    }
}

struct BinaryEdges<'a> {
    cl: &'a OpenCl,
    dtype: DType,
}

impl BinaryVisitor for BinaryEdges<'_> {
    fn visit<Op: BinaryOp>(&mut self) {
        let device = Device::OpenCl(self.cl.clone());
        let n = EDGES.len();
        let a: Vec<f64> = (0..n * n).map(|i| EDGES[i / n]).collect();
        let b: Vec<f64> = (0..n * n).map(|i| EDGES[i % n]).collect();
        let layout = Layout::contiguous(&[n * n]);
        let (sa, sb) = (
            upload(&device, self.dtype, &a),
            upload(&device, self.dtype, &b),
        );
        let got = download(&sa.binary::<Op>(&layout, &sb, &layout).unwrap(), &[n * n]);
        for ((&x, &y), &g) in a.iter().zip(&b).zip(&got) {
            let want = match self.dtype {
                DType::F32 => f64::from(Op::apply(x as f32, y as f32)),
                DType::F64 => Op::apply(x, y),
            };
            assert!(
                close(want, g, tol(self.dtype), 1e-37),
                "{}({x}, {y}) in {}: Rust {want}, OpenCL {g} (`{}`)",
                Op::NAME,
                self.dtype,
                Op::OPENCL
            );
        }
    }
}

struct ReduceEdges<'a> {
    cl: &'a OpenCl,
    dtype: DType,
}

impl ReduceVisitor for ReduceEdges<'_> {
    fn visit<Op: ReduceOp>(&mut self) {
        // Each row folds a pair of edge values (and an empty fold gives the identity).
        let n = EDGES.len();
        let data: Vec<f64> = (0..n * n)
            .flat_map(|i| [EDGES[i / n], EDGES[i % n]])
            .collect();
        let cl = Device::OpenCl(self.cl.clone());
        let rows = upload(&cl, self.dtype, &data);
        let got = download(
            &rows
                .reduce::<Op>(&Layout::contiguous(&[n * n, 2]), &[1])
                .unwrap(),
            &[n * n],
        );
        for (pair, &g) in data.chunks(2).zip(&got) {
            let want = match self.dtype {
                DType::F32 => {
                    let acc = Op::combine(Op::identity::<f32>(), Op::map(pair[0] as f32));
                    f64::from(Op::combine(acc, Op::map(pair[1] as f32)))
                }
                DType::F64 => {
                    let acc = Op::combine(Op::identity(), Op::map(pair[0]));
                    Op::combine(acc, Op::map(pair[1]))
                }
            };
            assert!(
                close(want, g, tol(self.dtype), 1e-37),
                "{} of {pair:?} in {}: Rust {want}, OpenCL {g}",
                Op::NAME,
                self.dtype
            );
        }
        let empty = rows.reduce::<Op>(&Layout::contiguous(&[2, 0]), &[1]);
        if Op::DEFINED_WHEN_EMPTY {
            let empty = download(&empty.unwrap(), &[2]);
            assert_eq!(empty, vec![Op::identity::<f64>(); 2], "empty {}", Op::NAME);
        } else {
            assert!(empty.is_err(), "{} of an empty axis", Op::NAME);
        }
    }
}

#[test]
fn every_op_matches_its_rust_function_on_edge_values() {
    for cl in cl_devices() {
        for dtype in DTYPES {
            ops::for_each_unary_op(&mut UnaryEdges { cl: &cl, dtype });
            ops::for_each_binary_op(&mut BinaryEdges { cl: &cl, dtype });
            ops::for_each_reduce_op(&mut ReduceEdges { cl: &cl, dtype });
        }
    }
}

/// Where the device can round `f32` division and square root correctly, every program is built
/// so (`DeviceInfo::correctly_rounded_divide_sqrt`) and both agree with the CPU's to the bit.
/// Without that build option an H200's driver divided within its allowed 2.5 ulp, which moved
/// `gelu_tanh_backward(−2.5, 1)` by 1e-5 (2026-12-04).
#[test]
fn f32_division_and_square_root_round_as_the_cpu_does_where_the_device_can() {
    for cl in cl_devices() {
        if !cl.info().correctly_rounded_divide_sqrt {
            eprintln!(
                "{}: f32 division and sqrt are not correctly rounded there",
                cl.info().name
            );
            continue;
        }
        let n = 65_536;
        let numerators: Vec<f64> = Rng(3).vec(n).iter().map(|v| v * 1e3).collect();
        let denominators = Rng(5).vec(n);
        let dense = Layout::contiguous(&[n]);
        same(&cl, "f32 division", 0.0, 0.0, |d| {
            let a = upload(d, DType::F32, &numerators);
            let b = upload(d, DType::F32, &denominators);
            download(&a.binary::<ops::Div>(&dense, &b, &dense).unwrap(), &[n])
        });
        same(&cl, "f32 square root", 0.0, 0.0, |d| {
            let x = upload(d, DType::F32, &numerators).unary::<ops::Abs>(&dense);
            download(&x.unwrap().unary::<ops::Sqrt>(&dense).unwrap(), &[n])
        });
    }
}

#[test]
fn element_wise_ops_and_copies_on_every_view() {
    for cl in cl_devices() {
        for dtype in DTYPES {
            let data = Rng(7).vec(120);
            let other = Rng(11).vec(120);
            for (name, view) in views() {
                let shape = view.shape().to_vec();
                let t = tol(dtype);
                same(&cl, &format!("to_host {name} {dtype}"), t, 0.0, |d| {
                    upload(d, dtype, &data).to_host_f64(&view).unwrap()
                });
                same(&cl, &format!("exp {name} {dtype}"), t, 0.0, |d| {
                    download(
                        &upload(d, dtype, &data).unary::<ops::Exp>(&view).unwrap(),
                        &shape,
                    )
                });
                same(&cl, &format!("gelu {name} {dtype}"), t, 1e-7, |d| {
                    let x = upload(d, dtype, &data);
                    download(&x.unary::<ops::GeluTanh>(&view).unwrap(), &shape)
                });
                same(&cl, &format!("scalar pow {name} {dtype}"), t, 0.0, |d| {
                    let x = upload(d, dtype, &data).unary::<ops::Abs>(&view).unwrap();
                    let dense = Layout::contiguous(&shape);
                    download(&x.binary_scalar::<ops::Pow>(&dense, 1.5).unwrap(), &shape)
                });
                for (other_name, other_view) in views() {
                    same(
                        &cl,
                        &format!("mul {name} x {other_name} {dtype}"),
                        t,
                        0.0,
                        |d| {
                            let (a, b) = (upload(d, dtype, &data), upload(d, dtype, &other));
                            download(
                                &a.binary::<ops::Mul>(&view, &b, &other_view).unwrap(),
                                &shape,
                            )
                        },
                    );
                }
                // A strided copy into the transposed positions of a destination of zeros.
                same(&cl, &format!("copy {name} {dtype}"), 0.0, 0.0, |d| {
                    let src = upload(d, dtype, &data);
                    let mut dst = Storage::full(d, dtype, 60, 0.0).unwrap();
                    let dst_view = Layout::contiguous(&[5, 4, 3]).permute(&[2, 1, 0]).unwrap();
                    dst.copy_from(&dst_view, &src, &view).unwrap();
                    download(&dst, &[60])
                });
            }
            same(&cl, &format!("full {dtype}"), 0.0, 0.0, |d| {
                download(&Storage::full(d, dtype, 1000, -2.25).unwrap(), &[1000])
            });
        }
    }
}

/// Every subset of the axes of `rank`, as sorted lists.
fn subsets(rank: usize) -> Vec<Vec<usize>> {
    (0..1usize << rank)
        .map(|mask| (0..rank).filter(|a| mask >> a & 1 == 1).collect())
        .collect()
}

#[test]
fn reductions_over_every_axis_subset() {
    let shapes: [&[usize]; 4] = [&[3, 4, 5], &[2, 1, 70, 3], &[2, 3, 1, 4], &[3, 0, 2]];
    for cl in cl_devices() {
        for dtype in DTYPES {
            let data = Rng(3).vec(4 * 6 * 70 * 5);
            let mut layouts: Vec<(String, Layout)> = views()
                .into_iter()
                .map(|(n, l)| (n.to_string(), l))
                .collect();
            for shape in shapes {
                let dense = Layout::contiguous(shape);
                let rank = shape.len();
                let reversed = Layout::contiguous(&shape.iter().rev().copied().collect::<Vec<_>>())
                    .permute(&(0..rank).rev().collect::<Vec<_>>())
                    .unwrap();
                layouts.push((format!("{shape:?}"), dense));
                layouts.push((format!("{shape:?} transposed"), reversed));
            }
            for (name, layout) in &layouts {
                let rank = layout.rank();
                let terms = layout.numel().max(1) as f64;
                for axes in subsets(rank) {
                    let kept: Vec<usize> = (0..rank)
                        .map(|a| {
                            if axes.contains(&a) {
                                1
                            } else {
                                layout.shape()[a]
                            }
                        })
                        .collect();
                    let what = format!("{name} over {axes:?} {dtype}");
                    same(
                        &cl,
                        &format!("sum {what}"),
                        tol(dtype),
                        tol(dtype) * terms,
                        |d| {
                            let x = upload(d, dtype, &data);
                            download(&x.reduce::<ops::Sum>(layout, &axes).unwrap(), &kept)
                        },
                    );
                    // A max or min over an empty axis is an error (checked in `soundness.rs`).
                    if axes.iter().any(|&a| layout.shape()[a] == 0) {
                        continue;
                    }
                    same(&cl, &format!("max {what}"), 0.0, 0.0, |d| {
                        let x = upload(d, dtype, &data);
                        download(&x.reduce::<ops::Max>(layout, &axes).unwrap(), &kept)
                    });
                    same(&cl, &format!("min {what}"), 0.0, 0.0, |d| {
                        let x = upload(d, dtype, &data);
                        download(&x.reduce::<ops::Min>(layout, &axes).unwrap(), &kept)
                    });
                }
                for axis in 0..rank {
                    if layout.shape()[axis] == 0 {
                        continue;
                    }
                    let mut kept = layout.shape().to_vec();
                    kept[axis] = 1;
                    for kind in [ArgKind::Max, ArgKind::Min] {
                        same(
                            &cl,
                            &format!("{kind:?} {name} axis {axis} {dtype}"),
                            0.0,
                            0.0,
                            |d| {
                                // Rounded values, so ties occur (the first index must win).
                                let rounded: Vec<f64> =
                                    data.iter().map(|v| (v * 3.0).round()).collect();
                                let x = upload(d, dtype, &rounded);
                                download(&x.arg_reduce(layout, axis, kind).unwrap(), &kept)
                            },
                        );
                    }
                }
            }
        }
    }
}

/// `[batch.., m, k]` (optionally stored transposed) in a fresh buffer of random values.
fn matrix(
    d: &Device,
    dtype: DType,
    batch: &[usize],
    rows: usize,
    cols: usize,
    transposed: bool,
    seed: u64,
) -> (Storage, Layout) {
    let mut shape = batch.to_vec();
    let r = shape.len();
    let layout = if transposed {
        shape.extend([cols, rows]);
        Layout::contiguous(&shape).transpose(r, r + 1).unwrap()
    } else {
        shape.extend([rows, cols]);
        Layout::contiguous(&shape)
    };
    let data = Rng(seed).vec(layout.numel());
    (upload(d, dtype, &data), layout)
}

fn gemm_tol(dtype: DType, k: usize) -> f64 {
    k.max(1) as f64
        * match dtype {
            DType::F32 => 2e-6,
            DType::F64 => 1e-14,
        }
}

#[test]
fn gemm_on_edge_sizes_with_transposes() {
    const SIZES: [usize; 6] = [1, 7, 33, 64, 65, 129];
    for cl in cl_devices() {
        for dtype in DTYPES {
            let mut case = 0;
            for m in SIZES {
                for n in SIZES {
                    for k in [1, 33, 129] {
                        case += 1;
                        let (ta, tb) = (case % 2 == 1, case % 4 >= 2);
                        same(
                            &cl,
                            &format!("matmul {m}x{k}x{n} ta={ta} tb={tb} {dtype}"),
                            0.0,
                            gemm_tol(dtype, k),
                            |d| {
                                let (a, al) = matrix(d, dtype, &[], m, k, ta, 1);
                                let (b, bl) = matrix(d, dtype, &[], k, n, tb, 2);
                                download(&a.matmul(&al, &b, &bl).unwrap(), &[m, n])
                            },
                        );
                    }
                }
            }
            for k in [0, 1, 65] {
                same(
                    &cl,
                    &format!("empty/degenerate k={k} {dtype}"),
                    0.0,
                    gemm_tol(dtype, k),
                    |d| {
                        let (a, al) = matrix(d, dtype, &[], 5, k, false, 1);
                        let (b, bl) = matrix(d, dtype, &[], k, 3, true, 2);
                        download(&a.matmul(&al, &b, &bl).unwrap(), &[5, 3])
                    },
                );
            }
        }
    }
}

#[test]
fn gemm_with_broadcast_batch_axes() {
    for cl in cl_devices() {
        for dtype in DTYPES {
            same(
                &cl,
                &format!("batched broadcast {dtype}"),
                0.0,
                gemm_tol(dtype, 70),
                |d| {
                    // a: [2, 3, 33, 70]; b: [70, 65] seen as [2, 3, 70, 65] (stride 0 batch axes),
                    // transposed.
                    let (a, al) = matrix(d, dtype, &[2, 3], 33, 70, false, 5);
                    let (b, bl) = matrix(d, dtype, &[], 70, 65, true, 6);
                    let bl = bl.broadcast_to(&[2, 3, 70, 65]).unwrap();
                    download(&a.matmul(&al, &b, &bl).unwrap(), &[2, 3, 33, 65])
                },
            );
            same(
                &cl,
                &format!("batch broadcast on a {dtype}"),
                0.0,
                gemm_tol(dtype, 16),
                |d| {
                    let (a, al) = matrix(d, dtype, &[1, 4], 9, 16, true, 7);
                    let al = al.broadcast_to(&[3, 4, 9, 16]).unwrap();
                    let (b, bl) = matrix(d, dtype, &[3, 4], 16, 12, false, 8);
                    download(&a.matmul(&al, &b, &bl).unwrap(), &[3, 4, 9, 12])
                },
            );
        }
    }
}

#[test]
fn gemm_of_a_vit_sized_projection() {
    let (m, k, n) = (512, 192, 768);
    for cl in cl_devices() {
        same(
            &cl,
            "matmul 512x192x768 f32",
            0.0,
            gemm_tol(DType::F32, k),
            |d| {
                let (a, al) = matrix(d, DType::F32, &[], m, k, false, 9);
                let (b, bl) = matrix(d, DType::F32, &[], k, n, true, 10);
                let c = a.matmul(&al, &b, &bl).unwrap();
                if matches!(d, Device::OpenCl(_)) {
                    // Timed after the warm-up above (program build, first launch); the download
                    // waits for all of them (one in-order queue).
                    let repeats = 5;
                    let start = std::time::Instant::now();
                    let products: Vec<Storage> = (0..repeats)
                        .map(|_| a.matmul(&al, &b, &bl).unwrap())
                        .collect();
                    download(&products[repeats - 1], &[m, n]);
                    let seconds = start.elapsed().as_secs_f64();
                    eprintln!(
                        "GEMM {m}x{k}x{n} f32 on {}: {:.1} GFLOP/s",
                        d,
                        (2 * m * n * k * repeats) as f64 / seconds / 1e9
                    );
                }
                download(&c, &[m, n])
            },
        );
    }
}

#[test]
fn gathers_and_scatters_with_repeated_indices() {
    for cl in cl_devices() {
        for dtype in DTYPES {
            let data = Rng(13).vec(120);
            for (name, view) in views() {
                for axis in 0..3 {
                    let size = view.shape()[axis];
                    let picks: Vec<usize> = [0, size - 1, 0, size / 2, size - 1, 0].to_vec();
                    let mut shape = view.shape().to_vec();
                    shape[axis] = picks.len();
                    same(
                        &cl,
                        &format!("index_select {name} axis {axis} {dtype}"),
                        0.0,
                        0.0,
                        |d| {
                            let x = upload(d, dtype, &data);
                            let i = Indices::new(d, &picks).unwrap();
                            download(&x.index_select(&view, axis, &i).unwrap(), &shape)
                        },
                    );
                    // Scatter the selected rows back (strided source), accumulating repeats.
                    same(
                        &cl,
                        &format!("index_add {name} axis {axis} {dtype}"),
                        tol(dtype),
                        0.0,
                        |d| {
                            let x = upload(d, dtype, &data);
                            let i = Indices::new(d, &picks).unwrap();
                            let mut dst = Storage::full(d, dtype, 60, 0.5).unwrap();
                            let src_view = view.narrow(axis, 0, 1).unwrap();
                            let src_view = src_view.broadcast_to(&shape).unwrap_or_else(|_| {
                                // Broadcasting a size-1 axis to the index count.
                                let mut s = view.shape().to_vec();
                                s[axis] = 1;
                                Layout::contiguous(&s).broadcast_to(&shape).unwrap()
                            });
                            dst.index_add(&[3, 4, 5], axis, &i, &x, &src_view).unwrap();
                            download(&dst, &[60])
                        },
                    );
                }
            }
        }
    }
}

/// `gather` and `scatter_add`: one index per position (repeats, longer than the axis, one
/// entry short on the next axis), through every view, bit for bit (each destination sums its
/// sources in the same order on both devices).
#[test]
fn gathers_and_scatter_adds_by_position() {
    for cl in cl_devices() {
        for dtype in DTYPES {
            let data = Rng(17).vec(120);
            for (name, view) in views() {
                for axis in 0..3 {
                    let size = view.shape()[axis];
                    let mut index_shape = view.shape().to_vec();
                    index_shape[axis] = 7;
                    index_shape[(axis + 1) % 3] -= 1;
                    let positions: usize = index_shape.iter().product();
                    let picks: Vec<usize> = (0..positions).map(|p| (p * 5 + 2) % size).collect();
                    same(
                        &cl,
                        &format!("gather {name} axis {axis} {dtype}"),
                        0.0,
                        0.0,
                        |d| {
                            let x = upload(d, dtype, &data);
                            let i = Indices::new(d, &picks).unwrap();
                            download(
                                &x.gather(&view, axis, &i, &index_shape).unwrap(),
                                &index_shape,
                            )
                        },
                    );
                    // Scatter the data back through the index, from a transposed source.
                    let src = Layout::contiguous(&[index_shape[2], index_shape[1], index_shape[0]])
                        .permute(&[2, 1, 0])
                        .unwrap();
                    same(
                        &cl,
                        &format!("scatter_add {name} axis {axis} {dtype}"),
                        0.0,
                        0.0,
                        |d| {
                            let x = upload(d, dtype, &data[..positions]);
                            let i = Indices::new(d, &picks).unwrap();
                            let mut dst = Storage::full(d, dtype, 60, 0.5).unwrap();
                            dst.scatter_add(&[3, 4, 5], axis, &i, &x, &src).unwrap();
                            download(&dst, &[60])
                        },
                    );
                }
            }
        }
    }
}

/// A scatter-add whose destination part has more axes than a kernel view takes (rank 10, the
/// index two entries on each axis of three) is made through a contiguous copy, as the CPU
/// makes it.
#[test]
fn scatter_add_into_a_rank_ten_destination() {
    for cl in cl_devices() {
        let index_shape = [2; 10];
        let picks: Vec<usize> = (0..1024).map(|p| (p * 7 + 1) % 3).collect();
        same(&cl, "scatter_add rank 10", 0.0, 0.0, |d| {
            let src = upload(d, DType::F32, &Rng(5).vec(1024));
            let i = Indices::new(d, &picks).unwrap();
            let mut dst = Storage::full(d, DType::F32, 59_049, 0.25).unwrap();
            let src_layout = Layout::contiguous(&index_shape);
            dst.scatter_add(&[3; 10], 4, &i, &src, &src_layout).unwrap();
            download(&dst, &[59_049])
        });
    }
}

/// Programs are told apart by their op's type, not its name: an op of one's own named `exp`
/// neither takes the built-in `exp`'s program nor lends it its own, in either order.
#[test]
fn ops_that_share_a_name_keep_their_own_programs() {
    struct PlusOne;
    // SAFETY: the OpenCL text is a plain expression of `x`.
    unsafe impl UnaryOp for PlusOne {
        const NAME: &'static str = "exp";
        const OPENCL: &'static str = "x + (T)1";
        fn apply<T: devices::Element>(x: T) -> T {
            x + T::from_f64(1.0)
        }
    }
    for cl in cl_devices() {
        let device = Device::OpenCl(cl);
        let x = upload(&device, DType::F32, &[0.0, 1.0, 2.0]);
        let l = Layout::contiguous(&[3]);
        for _ in 0..2 {
            let plus_one = download(&x.unary::<PlusOne>(&l).unwrap(), &[3]);
            assert_eq!(plus_one, [1.0, 2.0, 3.0]);
            let exp = download(&x.unary::<ops::Exp>(&l).unwrap(), &[3]);
            assert!((exp[2] - 2f64.exp()).abs() < 1e-5, "exp {exp:?}");
        }
    }
}

#[test]
fn softmax_and_its_backward_with_large_values_and_minus_infinity() {
    let n = 300;
    let mut rows = Vec::new();
    let mut rng = Rng(17);
    rows.extend(rng.vec(n)); // ordinary
    rows.extend(rng.vec(n).iter().map(|v| v * 1e4)); // large
    rows.extend((0..n).map(|j| {
        if j % 3 == 0 {
            f64::NEG_INFINITY
        } else {
            rng.next() * 80.0
        }
    }));
    rows.extend(vec![f64::NEG_INFINITY; n]); // fully masked: NaN, as on the CPU
    rows.extend(rng.vec(n).iter().map(|v| v + 1e3)); // shifted
    let upstream = rng.vec(rows.len());
    for cl in cl_devices() {
        for dtype in DTYPES {
            for (scale, log) in [(1.0, false), (1.0, true), (0.125, false)] {
                for width in [n, 1, 7] {
                    let count = rows.len() / width;
                    same(
                        &cl,
                        &format!("softmax scale={scale} log={log} n={width} {dtype}"),
                        tol(dtype) * 10.0,
                        tol(dtype) * 1e-3,
                        |d| {
                            let x = upload(d, dtype, &rows);
                            download(
                                &x.softmax_last(count, width, scale, log).unwrap(),
                                &[count * width],
                            )
                        },
                    );
                    // The backward pass, both devices given the CPU's forward output. Each
                    // dx_j is a difference of terms as large as g (|g| < 1 here), so its
                    // rounding error is relative to g, not to dx_j.
                    let y = download(
                        &upload(&Device::Cpu, dtype, &rows)
                            .softmax_last(count, width, scale, log)
                            .unwrap(),
                        &[count * width],
                    );
                    same(
                        &cl,
                        &format!("softmax backward scale={scale} log={log} n={width} {dtype}"),
                        tol(dtype) * 10.0,
                        tol(dtype),
                        |d| {
                            let g = upload(d, dtype, &upstream);
                            let dx = upload(d, dtype, &y)
                                .softmax_last_backward(&g, count, width, scale, log)
                                .unwrap();
                            download(&dx, &[count * width])
                        },
                    );
                }
            }
        }
    }
}

#[test]
fn layer_norm_forward_and_backward() {
    for cl in cl_devices() {
        for dtype in DTYPES {
            // 4160×64: the rows of 64 images of 65 tokens, whose column sums run in 65 chunks.
            for (rows, d) in [(37, 300), (5, 1), (3, 768), (4160, 64), (0, 4), (4, 0)] {
                let mut rng = Rng(19);
                let x: Vec<f64> = rng.vec(rows * d).iter().map(|v| v * 3.0 + 1.0).collect();
                let dy = rng.vec(rows * d);
                let gamma = rng.vec(d);
                let beta = rng.vec(d);
                let t = tol(dtype);
                let floor = t * (rows.max(d) as f64);
                same(
                    &cl,
                    &format!("layer_norm {rows}x{d} {dtype}"),
                    t * 10.0,
                    floor,
                    |dev| {
                        let (xs, g, b) = (
                            upload(dev, dtype, &x),
                            upload(dev, dtype, &gamma),
                            upload(dev, dtype, &beta),
                        );
                        let devices::LayerNormOutput { y, mean, rstd } =
                            xs.layer_norm(&g, &b, rows, d, 1e-5).unwrap();
                        let dys = upload(dev, dtype, &dy);
                        let devices::LayerNormGrads {
                            dx,
                            dgamma: dg,
                            dbeta: db,
                        } = dys
                            .layer_norm_backward(&xs, &mean, &rstd, &g, rows, d)
                            .unwrap();
                        [
                            download(&y, &[rows * d]),
                            download(&mean, &[rows]),
                            download(&rstd, &[rows]),
                            download(&dx, &[rows * d]),
                            download(&dg, &[d]),
                            download(&db, &[d]),
                        ]
                        .concat()
                    },
                );
            }
        }
    }
}

/// `a + α·b` (SGD's momentum and step): a product and a sum, each rounded once and correctly
/// on every device, so the CPU's bits.
#[test]
fn add_scaled_matches_the_cpu_bit_for_bit() {
    let len = 4099;
    let mut rng = Rng(29);
    let (a, b) = (rng.vec(len), rng.vec(len));
    for cl in cl_devices() {
        for dtype in DTYPES {
            for alpha in [0.9, -3e-3] {
                same(&cl, &format!("add_scaled {alpha} {dtype}"), 0.0, 0.0, |d| {
                    let sum = upload(d, dtype, &a)
                        .add_scaled(&upload(d, dtype, &b), len, alpha)
                        .unwrap();
                    download(&sum, &[len])
                });
            }
        }
    }
}

#[test]
fn adamw_update_on_the_first_step_and_after() {
    let len = 4099;
    let mut rng = Rng(23);
    let (p, g, m) = (rng.vec(len), rng.vec(len), rng.vec(len));
    let v: Vec<f64> = rng.vec(len).iter().map(|x| x * x * 0.01).collect();
    for cl in cl_devices() {
        for dtype in DTYPES {
            for (t, with_moments) in [(1, false), (9, true)] {
                let step = AdamWStep {
                    lr: 3e-3,
                    beta1: 0.9,
                    beta2: 0.98,
                    eps: 1e-8,
                    weight_decay: 0.1,
                    bias_correction1: 1.0 - 0.9f64.powi(t),
                    bias_correction2: 1.0 - 0.98f64.powi(t),
                };
                // p' sums p·(1 − lr·λ) and an update of size ≈ lr, so its error is relative
                // to p; division and sqrt may be a few ulps off the CPU's on a device.
                same(
                    &cl,
                    &format!("adamw_update step {t} {dtype}"),
                    tol(dtype) * 10.0,
                    tol(dtype) * 1e-3,
                    |d| {
                        let (ms, vs) = (upload(d, dtype, &m), upload(d, dtype, &v));
                        let moments = with_moments.then_some([&ms, &vs]);
                        let out = upload(d, dtype, &p)
                            .adamw_update(&upload(d, dtype, &g), moments, len, &step)
                            .unwrap();
                        out.iter().flat_map(|s| download(s, &[len])).collect()
                    },
                );
            }
        }
    }
}

#[test]
fn transfers_are_counted_once() {
    for cl in cl_devices() {
        let device = Device::OpenCl(cl.clone());
        let x = upload(&device, DType::F32, &Rng(1).vec(120));
        let view = Layout::contiguous(&[5, 4, 6]).permute(&[2, 1, 0]).unwrap();
        let before = transfers();
        let y = x.binary_scalar::<ops::Mul>(&view, 3.0).unwrap();
        assert_eq!(
            transfers() - before,
            Default::default(),
            "a scalar op uploads nothing"
        );
        let before = transfers();
        x.to_host::<f32>(&view).unwrap();
        y.to_host::<f32>(&Layout::contiguous(&[6, 4, 5])).unwrap();
        let spent = transfers() - before;
        assert_eq!(
            (spent.uploads, spent.downloads),
            (0, 2),
            "one download per to_host"
        );
    }
}

#[test]
fn operands_on_different_devices_are_an_error() {
    for cl in cl_devices() {
        let gpu = Device::OpenCl(cl.clone());
        let l = Layout::contiguous(&[4]);
        let a = upload(&Device::Cpu, DType::F32, &[1.0, 2.0, 3.0, 4.0]);
        let b = upload(&gpu, DType::F32, &[1.0, 2.0, 3.0, 4.0]);
        let is_device_error = |e: Error, op: &str| match e {
            Error::Device { msg, .. } => {
                assert!(
                    msg.contains("cpu") && msg.contains("opencl:"),
                    "{op}: {msg}"
                );
            }
            other => panic!("{op}: expected a device error, got {other:?}"),
        };
        is_device_error(a.binary::<ops::Add>(&l, &b, &l).err().unwrap(), "add");
        is_device_error(b.binary::<ops::Add>(&l, &a, &l).err().unwrap(), "add");
        let m = Layout::contiguous(&[2, 2]);
        is_device_error(b.matmul(&m, &a, &m).err().unwrap(), "matmul");
        let mut c = upload(&gpu, DType::F32, &[0.0; 4]);
        is_device_error(c.copy_from(&l, &a, &l).err().unwrap(), "copy");
        let cpu_indices = Indices::new(&Device::Cpu, &[0, 1]).unwrap();
        is_device_error(
            b.index_select(&l, 0, &cpu_indices).err().unwrap(),
            "index_select",
        );
        is_device_error(
            c.index_add(&[4], 0, &cpu_indices, &b, &Layout::contiguous(&[2]))
                .err()
                .unwrap(),
            "index_add",
        );
        let (g, bt) = (
            upload(&Device::Cpu, DType::F32, &[1.0; 2]),
            upload(&gpu, DType::F32, &[0.0; 2]),
        );
        is_device_error(
            b.layer_norm(&g, &bt, 2, 2, 1e-5).err().unwrap(),
            "layer_norm",
        );
    }
}

#[test]
fn kernel_times_need_the_profiling_variable() {
    if std::env::var_os("POLYVIT_OPENCL_PROFILE").is_some() {
        return; // Set by whoever runs the tests: this process records them.
    }
    for cl in cl_devices() {
        let message = cl.kernel_times().unwrap_err().to_string();
        assert!(message.contains("POLYVIT_OPENCL_PROFILE=1"), "{message}");
    }
}

#[test]
fn devices_are_opened_once_and_named() {
    for cl in cl_devices() {
        let again = OpenCl::open(cl.index()).unwrap();
        assert_eq!(again, cl, "the same index gives the same handle");
        let parsed = Device::parse(&format!("opencl:{}", cl.index())).unwrap();
        assert_eq!(parsed, Device::OpenCl(cl.clone()));
        assert_eq!(Device::parse("opencl").unwrap(), Device::opencl(0).unwrap());
        assert!(parsed
            .to_string()
            .starts_with(&format!("opencl:{} (", cl.index())));
        let infos = opencl::list().unwrap();
        assert_eq!(infos[cl.index()].name, cl.name());
        assert_eq!(infos[cl.index()].fp64, cl.info().fp64);
    }
}

#[test]
fn device_specs_that_name_nothing_are_clear_errors() {
    assert_eq!(Device::parse("cpu").unwrap(), Device::Cpu);
    let unknown = Device::parse("gpu").unwrap_err().to_string();
    assert!(
        unknown.contains("gpu") && unknown.contains("cpu, opencl and opencl:N"),
        "{unknown}"
    );
    let missing = Device::parse("opencl:99").unwrap_err().to_string();
    assert!(missing.contains("opencl:99"), "{missing}");
    if !cl_devices().is_empty() {
        assert!(
            missing.contains("99") && missing.contains("found"),
            "{missing}"
        );
    }
}
