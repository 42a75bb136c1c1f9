//! Shared by the property tests: a naive reference n-d array in `f64`, a tiny deterministic random
//! generator, generators of (often non-contiguous) input tensors, and tolerant comparisons.
//!
//! The reference array is deliberately simple: a shape, a row-major `Vec<f64>` and an index
//! function. Every reference op is written with plain loops over multi-indices, so it shares no
//! code (and no bugs) with the strided kernels it checks.

// Each test binary that includes this module (properties, properties_linalg) uses a different
// part of it, so each would warn about the part the other uses.
#![allow(dead_code)]

pub mod reference;

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use tensor::{DType, Device, Tensor};

/// The reference n-d array: `data[Σ i_k · Π_{j>k} shape[j]]` holds element `[i_0, i_1, ...]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Nd {
    pub shape: Vec<usize>,
    pub data: Vec<f64>,
}

/// Every multi-index of `shape` in row-major order.
pub fn indices(shape: &[usize]) -> Vec<Vec<usize>> {
    let numel: usize = shape.iter().product();
    let mut out = Vec::with_capacity(numel);
    let mut index = vec![0; shape.len()];
    for _ in 0..numel {
        out.push(index.clone());
        for axis in (0..shape.len()).rev() {
            index[axis] += 1;
            if index[axis] < shape[axis] {
                break;
            }
            index[axis] = 0;
        }
    }
    out
}

impl Nd {
    pub fn new(shape: &[usize], data: Vec<f64>) -> Nd {
        assert_eq!(shape.iter().product::<usize>(), data.len());
        Nd {
            shape: shape.to_vec(),
            data,
        }
    }

    /// `f(index)` at every multi-index of `shape`.
    pub fn from_fn(shape: &[usize], mut f: impl FnMut(&[usize]) -> f64) -> Nd {
        let data = indices(shape).iter().map(|i| f(i)).collect();
        Nd::new(shape, data)
    }

    pub fn rank(&self) -> usize {
        self.shape.len()
    }

    pub fn numel(&self) -> usize {
        self.data.len()
    }

    /// Row-major position of `index`.
    pub fn position(&self, index: &[usize]) -> usize {
        assert_eq!(index.len(), self.rank());
        let mut pos = 0;
        for (k, &i) in index.iter().enumerate() {
            assert!(
                i < self.shape[k],
                "index {index:?} outside {:?}",
                self.shape
            );
            pos = pos * self.shape[k] + i;
        }
        pos
    }

    pub fn at(&self, index: &[usize]) -> f64 {
        self.data[self.position(index)]
    }

    pub fn map(&self, f: impl Fn(f64) -> f64) -> Nd {
        Nd::new(&self.shape, self.data.iter().map(|&v| f(v)).collect())
    }

    /// Result axis `k` is input axis `axes[k]`.
    pub fn permute(&self, axes: &[usize]) -> Nd {
        let shape: Vec<usize> = axes.iter().map(|&a| self.shape[a]).collect();
        Nd::from_fn(&shape, |i| {
            let mut src = vec![0; self.rank()];
            for (k, &a) in axes.iter().enumerate() {
                src[a] = i[k];
            }
            self.at(&src)
        })
    }

    pub fn transpose(&self, a: usize, b: usize) -> Nd {
        let mut axes: Vec<usize> = (0..self.rank()).collect();
        axes.swap(a, b);
        self.permute(&axes)
    }

    pub fn narrow(&self, axis: usize, start: usize, len: usize) -> Nd {
        let mut shape = self.shape.clone();
        shape[axis] = len;
        Nd::from_fn(&shape, |i| {
            let mut src = i.to_vec();
            src[axis] += start;
            self.at(&src)
        })
    }

    /// NumPy broadcasting: align on the right, size-1 axes repeat.
    pub fn broadcast_to(&self, shape: &[usize]) -> Nd {
        assert!(shape.len() >= self.rank());
        let lead = shape.len() - self.rank();
        Nd::from_fn(shape, |i| {
            let src: Vec<usize> = (0..self.rank())
                .map(|k| {
                    if self.shape[k] == 1 {
                        0
                    } else {
                        assert_eq!(self.shape[k], shape[lead + k]);
                        i[lead + k]
                    }
                })
                .collect();
            self.at(&src)
        })
    }

    /// Same row-major data, new shape.
    pub fn reshape(&self, shape: &[usize]) -> Nd {
        Nd::new(shape, self.data.clone())
    }

    /// `f(a, b)` with both broadcast to their common shape.
    pub fn zip(&self, other: &Nd, f: impl Fn(f64, f64) -> f64) -> Nd {
        let shape = broadcast(&self.shape, &other.shape).expect("broadcastable");
        let (a, b) = (self.broadcast_to(&shape), other.broadcast_to(&shape));
        Nd::new(
            &shape,
            a.data.iter().zip(&b.data).map(|(&x, &y)| f(x, y)).collect(),
        )
    }
}

/// The NumPy broadcast of two shapes, or `None`.
pub fn broadcast(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let rank = a.len().max(b.len());
    let get = |s: &[usize], k: usize| {
        let lead = rank - s.len();
        if k < lead {
            1
        } else {
            s[k - lead]
        }
    };
    (0..rank)
        .map(|k| {
            let (x, y) = (get(a, k), get(b, k));
            if x == y || y == 1 {
                Some(x)
            } else if x == 1 {
                Some(y)
            } else {
                None
            }
        })
        .collect()
}

/// SplitMix64: a tiny deterministic generator, seeded by proptest, for the random choices that
/// do not need shrinking (values, views), with the device its inputs are made on. Its draws do
/// not depend on the device: the same seed gives the same inputs on every device.
#[derive(Clone, Debug)]
pub struct Gen {
    state: u64,
    pub device: Device,
}

impl Gen {
    /// Inputs on the CPU.
    pub fn new(seed: u64) -> Gen {
        Gen::on(seed, &Device::Cpu)
    }

    /// Inputs on `device`.
    pub fn on(seed: u64, device: &Device) -> Gen {
        Gen {
            state: seed,
            device: device.clone(),
        }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    pub fn coin(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut p: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            p.swap(i, self.below(i + 1));
        }
        p
    }
}

/// How input values are drawn.
#[derive(Clone, Copy, Debug)]
pub enum Values {
    /// Uniform in `[lo, hi)`.
    Uniform(f64, f64),
    /// Multiples of 1/4 in `[-2, 2]`: exact in both dtypes, with many ties and exact zeros.
    Discrete,
}

impl Values {
    /// Discrete or uniform in `[-2, 2)`, chosen at random.
    pub fn mixed(g: &mut Gen) -> Values {
        if g.coin(0.3) {
            Values::Discrete
        } else {
            Values::Uniform(-2.0, 2.0)
        }
    }

    fn draw(self, g: &mut Gen) -> f64 {
        match self {
            Values::Uniform(lo, hi) => g.uniform(lo, hi),
            Values::Discrete => (g.below(17) as f64 - 8.0) / 4.0,
        }
    }
}

/// Rounds to what `dtype` can hold, so the reference sees exactly the tensor's inputs.
pub fn round_to(dtype: DType, v: f64) -> f64 {
    match dtype {
        DType::F32 => v as f32 as f64,
        DType::F64 => v,
    }
}

/// A tensor and the reference array it should equal.
#[derive(Clone, Debug)]
pub struct Input {
    pub t: Tensor,
    pub r: Nd,
}

/// A dense tensor of `shape` with random values.
pub fn dense(g: &mut Gen, shape: &[usize], dtype: DType, values: Values) -> Input {
    let numel: usize = shape.iter().product();
    let data: Vec<f64> = (0..numel)
        .map(|_| round_to(dtype, values.draw(g)))
        .collect();
    Input {
        t: Tensor::from_f64s_on(&data, shape, dtype, &g.device).unwrap(),
        r: Nd::new(shape, data),
    }
}

/// A tensor of `shape` with random values, often a non-contiguous view: the permutation of a
/// dense tensor, a narrowed slice of a larger one, a stride-0 broadcast of a smaller one, or a
/// squeezed one, nested up to `depth` times. The reference array applies the same views with its
/// own naive index arithmetic.
pub fn input(g: &mut Gen, shape: &[usize], dtype: DType, values: Values, depth: u32) -> Input {
    let rank = shape.len();
    let choice = if depth == 0 { 0 } else { g.below(6) };
    match choice {
        1 | 2 if rank >= 2 => {
            // A permuted view: base axis q[k] becomes result axis k.
            let q = g.permutation(rank);
            let mut base_shape = vec![0; rank];
            for (k, &a) in q.iter().enumerate() {
                base_shape[a] = shape[k];
            }
            let base = input(g, &base_shape, dtype, values, depth - 1);
            Input {
                t: base.t.permute(&q).unwrap(),
                r: base.r.permute(&q),
            }
        }
        3 if rank >= 1 => {
            // A narrowed view of a larger tensor (an offset and a gap in the strides).
            let axis = g.below(rank);
            let (before, after) = (g.below(3), g.below(3));
            let mut big = shape.to_vec();
            big[axis] += before + after;
            let base = input(g, &big, dtype, values, depth - 1);
            Input {
                t: base.t.narrow(axis, before, shape[axis]).unwrap(),
                r: base.r.narrow(axis, before, shape[axis]),
            }
        }
        4 => {
            // A stride-0 broadcast of a smaller tensor: drop some leading axes, shrink some to 1.
            let lead = g.below(rank + 1);
            let small: Vec<usize> = shape[lead..]
                .iter()
                .map(|&d| if g.coin(0.4) { 1 } else { d })
                .collect();
            let base = input(g, &small, dtype, values, depth - 1);
            Input {
                t: base.t.broadcast_to(shape).unwrap(),
                r: base.r.broadcast_to(shape),
            }
        }
        5 => {
            // A squeezed size-1 axis, or an unsqueezed one squeezed back (odd strides on size-1
            // axes are legal and must be ignored by every kernel).
            let at = g.below(rank + 1);
            let mut with_one = shape.to_vec();
            with_one.insert(at, 1);
            let base = input(g, &with_one, dtype, values, depth - 1);
            let t = if g.coin(0.5) {
                base.t.squeeze(at).unwrap()
            } else {
                base.t
                    .squeeze(at)
                    .unwrap()
                    .unsqueeze(at)
                    .unwrap()
                    .squeeze(at)
                    .unwrap()
            };
            Input {
                t,
                r: Nd::new(shape, base.r.data),
            }
        }
        _ => dense(g, shape, dtype, values),
    }
}

/// An input of `shape` nested two views deep.
pub fn any_input(g: &mut Gen, shape: &[usize], dtype: DType, values: Values) -> Input {
    input(g, shape, dtype, values, 2)
}

/// A shape whose broadcast with others gives `out`: some leading axes dropped, some axes 1.
pub fn broadcastable_to(g: &mut Gen, out: &[usize]) -> Vec<usize> {
    let lead = if g.coin(0.3) {
        g.below(out.len() + 1)
    } else {
        0
    };
    out[lead..]
        .iter()
        .map(|&d| if g.coin(0.25) { 1 } else { d })
        .collect()
}

/// Relative tolerance of one rounding-heavy op in `dtype`.
pub fn tol(dtype: DType) -> f64 {
    match dtype {
        DType::F32 => 1e-5,
        DType::F64 => 1e-12,
    }
}

/// `|got − want| ≤ tol·(|want| + scale)`, with NaN matching NaN and infinities matching exactly.
/// `scale` is the magnitude that rounding errors are proportional to when it is not `|want|`
/// (e.g. `Σ|xᵢ|` for a sum).
pub fn close(got: f64, want: f64, tol: f64, scale: f64) -> bool {
    if want.is_nan() || got.is_nan() {
        return want.is_nan() && got.is_nan();
    }
    if want.is_infinite() || got.is_infinite() {
        return got == want;
    }
    (got - want).abs() <= tol * (want.abs() + scale)
}

/// Checks shape, dtype and every value of `got` against `want` (scale 0: purely relative).
pub fn check(what: &str, got: &Tensor, want: &Nd, dtype: DType) -> Result<(), TestCaseError> {
    check_scaled(what, got, want, dtype, tol(dtype), |_| 0.0)
}

/// Checks that the values match exactly (element-wise ops that only move or compare numbers).
pub fn check_exact(what: &str, got: &Tensor, want: &Nd, dtype: DType) -> Result<(), TestCaseError> {
    check_scaled(what, got, want, dtype, 0.0, |_| 0.0)
}

/// Like [`check`] with a per-element error scale (indexed by row-major position) and tolerance.
pub fn check_scaled(
    what: &str,
    got: &Tensor,
    want: &Nd,
    dtype: DType,
    tol: f64,
    scale: impl Fn(usize) -> f64,
) -> Result<(), TestCaseError> {
    prop_assert_eq!(got.shape(), &want.shape[..], "{}: shape", what);
    prop_assert_eq!(got.dtype(), dtype, "{}: dtype", what);
    let values = got.to_vec_f64().unwrap();
    prop_assert_eq!(values.len(), want.numel(), "{}: numel", what);
    // Results below the smallest normal number of the dtype (e.g. a softmax probability of
    // 1e-77 in f32) flush towards zero and keep no relative precision.
    let tiny = match (tol > 0.0, dtype) {
        (false, _) => 0.0,
        (true, DType::F32) => f32::MIN_POSITIVE as f64,
        (true, DType::F64) => f64::MIN_POSITIVE,
    };
    for (pos, (&g, &w)) in values.iter().zip(&want.data).enumerate() {
        if !close(g, w, tol, scale(pos)) && (g - w).abs() > tiny {
            let index = indices(&want.shape)[pos].clone();
            return Err(TestCaseError::fail(format!(
                "{what}: at {index:?} (of {:?}) got {g:e}, want {w:e} (tol {tol:e}, scale {:e})",
                want.shape,
                scale(pos)
            )));
        }
    }
    Ok(())
}

/// A random shape: rank `0..=max_rank`, dims `0..=5` (0 rarely, 1 often enough).
pub fn shape_strategy(min_rank: usize, max_rank: usize) -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(dim_strategy(), min_rank..=max_rank)
}

/// A dimension in `0..=5`, rarely 0.
pub fn dim_strategy() -> impl Strategy<Value = usize> {
    prop_oneof![1 => Just(0usize), 3 => Just(1usize), 8 => 2usize..=5]
}

/// A large shape (at least 32768 elements, so the parallel code paths run).
pub fn large_shape_strategy() -> impl Strategy<Value = Vec<usize>> {
    prop_oneof![
        (32usize..40, 32usize..40, 32usize..40).prop_map(|(a, b, c)| vec![a, b, c]),
        (2usize..4, 16usize..24, 32usize..40, 32usize..40)
            .prop_map(|(a, b, c, d)| vec![a, b, c, d]),
        (180usize..260, 180usize..260).prop_map(|(a, b)| vec![a, b]),
    ]
}

/// Runs one property case on every device the conformance tests cover (`tensor::test_devices()`:
/// the CPU, and OpenCL where a platform exists), in turn, each time with a fresh [`Gen`] seeded
/// with `seed` on that device: every device sees the same generated values, shapes and views,
/// and the reference arrays are the same. A failure (or a panic) names the device it happened on.
///
/// Every case checks every device, so no run can skip a backend, however few cases a test has.
pub fn on_every_device(
    seed: u64,
    mut check: impl FnMut(&mut Gen) -> Result<(), TestCaseError>,
) -> Result<(), TestCaseError> {
    for device in tensor::test_devices() {
        let mut g = Gen::on(seed, &device);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&mut g)))
            .unwrap_or_else(|panic| Err(TestCaseError::fail(panic_message(panic.as_ref()))));
        outcome.map_err(|error| match error {
            TestCaseError::Fail(reason) => TestCaseError::fail(format!("on {device}: {reason}")),
            reject => reject,
        })?;
    }
    Ok(())
}

/// The text of a caught panic.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    let text = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(a panic without a message)");
    format!("panicked: {text}")
}

pub fn dtype_strategy() -> impl Strategy<Value = DType> {
    prop_oneof![Just(DType::F32), Just(DType::F64)]
}

/// A proptest config with `cases` cases and no regression files.
pub fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}
