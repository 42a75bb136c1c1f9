//! Every differentiable op's forward pass against a naive `f64` reference written by its
//! definition (`tensor/tests/common`: plain loops over multi-indices), through `Var`, on every
//! device, in f32 and f64, on inputs that are mostly non-contiguous views.
//!
//! The match in [`check`] has no wildcard: a new [`Op`] does not compile until it has its
//! reference here, as `gradcheck.rs` makes it have a gradient check. Each arm also asserts that
//! the node it made is tagged with its op, so an arm cannot check some other op by mistake.
//! `Op::Custom` is the tag of a user's own ops, each its author's to check.

#[path = "../../tensor/tests/common/mod.rs"]
mod common;

use autograd::{Op, Var};
use common::reference::*;
use common::*;
use proptest::test_runner::TestCaseError;
use tensor::{DType, Indices, Tensor};

type TestResult = Result<(), TestCaseError>;

/// Four seeds of each op, f32 and f64, on every device.
#[test]
fn every_op_matches_its_reference() {
    for &op in Op::ALL {
        for seed in 0..4 {
            for dtype in [DType::F32, DType::F64] {
                on_every_device(seed, |g| check(op, g, dtype))
                    .unwrap_or_else(|e| panic!("{} ({dtype:?}, seed {seed}): {e}", op.name()));
            }
        }
    }
}

/// How close an op's values must be to the reference's, relative to `|want| + scale`.
#[derive(Clone, Copy)]
enum Accuracy {
    /// The values only move or compare numbers: equal.
    Exact,
    /// A few roundings: within [`tol`] of `|want|` plus the magnitude `scale` of the terms
    /// (0 for ops accurate relative to their result).
    Rounded(f64),
}

/// A parameter holding `input`'s tensor, so the op records its node.
fn leaf(input: &Input) -> Var {
    Var::parameter(input.t.clone())
}

/// Checks that `y` is a node of `op` and that its value is `want` to `accuracy`.
fn expect(
    op: Op,
    y: tensor::Result<Var>,
    want: &Nd,
    dtype: DType,
    accuracy: Accuracy,
) -> TestResult {
    let y = made_by(op, y)?;
    let what = format!("{} of {:?}", op.name(), want.shape);
    match accuracy {
        Accuracy::Exact => check_exact(&what, y.value(), want, dtype),
        Accuracy::Rounded(scale) => {
            check_scaled(&what, y.value(), want, dtype, tol(dtype), |_| scale)
        }
    }
}

/// `y`, if the op succeeded and made a node of `op`.
fn made_by(op: Op, y: tensor::Result<Var>) -> Result<Var, TestCaseError> {
    let y = y.map_err(|e| TestCaseError::fail(format!("{}: {e}", op.name())))?;
    if y.op() != Some(op) {
        return Err(TestCaseError::fail(format!(
            "the arm of {} made a node of {:?}",
            op.name(),
            y.op()
        )));
    }
    Ok(y)
}

/// Index values `(i·7 + 3) mod size` in `shape`, as a float tensor on `g`'s device (repeats and
/// every order), and their reference.
fn index_tensor(g: &Gen, shape: &[usize], size: usize, dtype: DType) -> (Tensor, Nd) {
    let len: usize = shape.iter().product();
    let values: Vec<f64> = (0..len).map(|i| ((i * 7 + 3) % size) as f64).collect();
    let t = Tensor::from_f64s_on(&values, shape, dtype, &g.device).unwrap();
    (t, Nd::new(shape, values))
}

/// One random case of `op`: sizes 1–4 per axis, values in `[-2, 2]` (positive where the op needs
/// it), inputs nested views.
fn check(op: Op, g: &mut Gen, dtype: DType) -> TestResult {
    let (a, b, c) = (1 + g.below(4), 1 + g.below(4), 1 + g.below(4));
    let signed = Values::Uniform(-2.0, 2.0);
    let positive = Values::Uniform(0.25, 2.0);
    let values = Values::mixed(g);
    let x = any_input(g, &[a, b, c], dtype, values);
    let p = any_input(g, &[a, b, c], dtype, positive);
    let rhs_shape = broadcastable_to(g, &[a, b, c]);
    let y = any_input(g, &rhs_shape, dtype, signed);
    let y_positive = any_input(g, &rhs_shape, dtype, positive);
    let (lx, lp, ly) = (leaf(&x), leaf(&p), leaf(&y));
    let transcendental = Accuracy::Rounded(1.0);
    let relative = Accuracy::Rounded(0.0);
    let unary = |v: tensor::Result<Var>, input: &Input, f: fn(f64) -> f64, accuracy| {
        expect(op, v, &input.r.map(f), dtype, accuracy)
    };
    let binary = |v: tensor::Result<Var>, rhs: &Input, f: fn(f64, f64) -> f64, accuracy| {
        expect(op, v, &x.r.zip(&rhs.r, f), dtype, accuracy)
    };
    let sum_scale = 4.0 * (a * b * c) as f64;
    match op {
        Op::Neg => unary(lx.neg(), &x, |v| -v, Accuracy::Exact),
        Op::Exp => unary(lx.exp(), &x, f64::exp, relative),
        Op::Log => unary(lp.log(), &p, f64::ln, transcendental),
        Op::Sqrt => unary(lp.sqrt(), &p, f64::sqrt, relative),
        Op::Tanh => unary(lx.tanh(), &x, f64::tanh, transcendental),
        Op::Abs => unary(lx.abs(), &x, f64::abs, Accuracy::Exact),
        Op::Recip => unary(lp.recip(), &p, f64::recip, relative),
        Op::Sigmoid => unary(
            lx.sigmoid(),
            &x,
            |v| 1.0 / (1.0 + (-v).exp()),
            transcendental,
        ),
        Op::Relu => unary(lx.relu(), &x, |v| v.max(0.0), Accuracy::Exact),
        Op::Softplus => unary(lx.softplus(), &x, |v| v.exp().ln_1p(), transcendental),
        Op::Gelu => unary(lx.gelu(), &x, gelu_ref, Accuracy::Rounded(3.0)),
        Op::GeluErf => unary(lx.gelu_erf(), &x, gelu_erf_ref, Accuracy::Rounded(3.0)),
        Op::Sin => unary(lx.sin(), &x, f64::sin, transcendental),
        Op::Cos => unary(lx.cos(), &x, f64::cos, transcendental),
        Op::Clamp => unary(
            lx.clamp(-0.75, 1.25),
            &x,
            |v| v.clamp(-0.75, 1.25),
            Accuracy::Exact,
        ),
        Op::PowScalar => unary(lp.pow_scalar(-1.5), &p, |v| v.powf(-1.5), relative),
        Op::AddScalar => unary(lx.add_scalar(3.0), &x, |v| v + 3.0, Accuracy::Rounded(3.0)),
        Op::MulScalar => unary(lx.mul_scalar(-2.5), &x, |v| v * -2.5, relative),
        Op::DivScalar => unary(lx.div_scalar(-0.3), &x, |v| v / -0.3, relative),
        Op::Add => binary(lx.add(&ly), &y, |u, v| u + v, Accuracy::Rounded(4.0)),
        Op::Sub => binary(lx.sub(&ly), &y, |u, v| u - v, Accuracy::Rounded(4.0)),
        Op::Mul => binary(lx.mul(&ly), &y, |u, v| u * v, relative),
        Op::Div => binary(
            lx.div(&leaf(&y_positive)),
            &y_positive,
            |u, v| u / v,
            relative,
        ),
        Op::Pow => expect(
            op,
            lp.pow(&ly),
            &p.r.zip(&y.r, f64::powf),
            dtype,
            Accuracy::Rounded(1.0),
        ),
        Op::Maximum => binary(lx.maximum(&ly), &y, f64::max, Accuracy::Exact),
        Op::Minimum => binary(lx.minimum(&ly), &y, f64::min, Accuracy::Exact),
        Op::WhereCond => {
            let flags: Vec<f64> = (0..a * b * c).map(|_| g.below(2) as f64).collect();
            let condition = Tensor::from_f64s_on(&flags, &[a, b, c], dtype, &g.device).unwrap();
            let condition_r = Nd::new(&[a, b, c], flags);
            let picked = |(t, (u, v)): (&f64, (&f64, &f64))| if *t != 0.0 { *u } else { *v };
            let on_false = y.r.broadcast_to(&[a, b, c]);
            let want: Vec<f64> = condition_r
                .data
                .iter()
                .zip(x.r.data.iter().zip(&on_false.data))
                .map(picked)
                .collect();
            let want = Nd::new(&[a, b, c], want);
            expect(
                op,
                Var::where_cond(&condition, &lx, &ly),
                &want,
                dtype,
                Accuracy::Exact,
            )
        }
        Op::Sum | Op::Mean | Op::Max | Op::Min => {
            let axes: Vec<usize> = (0..3).filter(|_| g.coin(0.5)).collect();
            let keepdim = g.coin(0.5);
            let folded = fold(&x.r, &axes, keepdim);
            let count = folded.count.max(1) as f64;
            let reversed: Vec<usize> = axes.iter().rev().copied().collect();
            match op {
                Op::Sum => {
                    let scale = Accuracy::Rounded(sum_scale);
                    expect(op, lx.sum(&reversed, keepdim), &folded.sum, dtype, scale)
                }
                Op::Mean => {
                    let mean = folded.sum.map(|s| s / count);
                    let scale = Accuracy::Rounded(sum_scale / count);
                    expect(op, lx.mean(&reversed, keepdim), &mean, dtype, scale)
                }
                Op::Max => expect(
                    op,
                    lx.max(&axes, keepdim),
                    &folded.max,
                    dtype,
                    Accuracy::Exact,
                ),
                _ => expect(
                    op,
                    lx.min(&axes, keepdim),
                    &folded.min,
                    dtype,
                    Accuracy::Exact,
                ),
            }
        }
        Op::Reshape => {
            let want = x.r.reshape(&[a * b, c]);
            expect(op, lx.reshape(&[a * b, c]), &want, dtype, Accuracy::Exact)
        }
        Op::Permute => {
            let want = x.r.permute(&[2, 0, 1]);
            expect(op, lx.permute(&[2, 0, 1]), &want, dtype, Accuracy::Exact)
        }
        Op::Narrow => {
            let want = x.r.narrow(1, b / 2, b - b / 2);
            expect(
                op,
                lx.narrow(1, b / 2, b - b / 2),
                &want,
                dtype,
                Accuracy::Exact,
            )
        }
        Op::BroadcastTo => {
            let row = any_input(g, &[1, c], dtype, signed);
            let want = row.r.broadcast_to(&[b, a, c]);
            let got = leaf(&row).broadcast_to(&[b, a, c]);
            expect(op, got, &want, dtype, Accuracy::Exact)
        }
        Op::Concat => {
            let other = any_input(g, &[a, b + 1, c], dtype, signed);
            let want = concat_reference(&[x.r.clone(), other.r.clone(), x.r.clone()], 1);
            let got = Var::concat(&[lx.clone(), leaf(&other), lx.clone()], 1);
            expect(op, got, &want, dtype, Accuracy::Exact)
        }
        Op::IndexSelect => {
            let picks: Vec<usize> = (0..b + 2).map(|i| (i * 7 + 3) % b).collect();
            let indices = Indices::new(&g.device, &picks).unwrap();
            let want = index_select_reference(&x.r, 1, &picks);
            expect(
                op,
                lx.index_select(1, &indices),
                &want,
                dtype,
                Accuracy::Exact,
            )
        }
        Op::Gather => {
            let (index, index_r) = index_tensor(g, &[a, b + 2, c], b, dtype);
            let want = gather_reference(&x.r, 1, &index_r);
            expect(op, lx.gather(1, &index), &want, dtype, Accuracy::Exact)
        }
        Op::ScatterAdd => {
            let (index, index_r) = index_tensor(g, &[a, b, c + 2], c, dtype);
            let src = any_input(g, &[a + 1, b, c + 2], dtype, signed);
            let want = scatter_add_reference(&x.r, 2, &index_r, &src.r);
            let got = lx.scatter_add(2, &index, &leaf(&src));
            expect(
                op,
                got,
                &want,
                dtype,
                Accuracy::Rounded(4.0 * (c + 3) as f64),
            )
        }
        Op::Matmul => {
            // A batch against a matrix (broadcast), then a row vector against the batch.
            let matrix = any_input(g, &[c, b], dtype, signed);
            let vector = any_input(g, &[b], dtype, signed);
            let (want, _) = matmul_reference(&x.r, &matrix.r);
            let scale = Accuracy::Rounded(4.0 * c as f64);
            expect(op, lx.matmul(&leaf(&matrix)), &want, dtype, scale)?;
            // `Var::matmul` squeezes the vector's axis away again: its node is a reshape.
            let (want, _) = matmul_reference(&vector.r, &x.r);
            let got = leaf(&vector).matmul(&lx).unwrap();
            let what = format!("matmul of {:?} and {:?}", vector.r.shape, x.r.shape);
            check_scaled(&what, got.value(), &want, dtype, tol(dtype), |_| {
                4.0 * b as f64
            })
        }
        Op::Softmax => {
            let (want, _) = softmax_reference(&x.r, 1, false);
            expect(op, lx.softmax(1), &want, dtype, Accuracy::Rounded(1.0))?;
            let scaled = x.r.map(|v| v * round_to(dtype, 0.7));
            let (want, _) = softmax_reference(&scaled, 2, false);
            expect(
                op,
                lx.scaled_softmax(2, 0.7),
                &want,
                dtype,
                Accuracy::Rounded(1.0),
            )
        }
        Op::LogSoftmax => {
            let (want, _) = softmax_reference(&x.r, 0, true);
            expect(op, lx.log_softmax(0), &want, dtype, Accuracy::Rounded(8.0))
        }
        Op::LayerNorm => {
            let gamma = any_input(g, &[c], dtype, Values::Uniform(0.5, 2.0));
            let beta = any_input(g, &[c], dtype, signed);
            let want = layer_norm_reference(&x.r, &gamma.r, &beta.r, 1e-6);
            let y = made_by(op, lx.layer_norm(&leaf(&gamma), &leaf(&beta), 1e-6))?;
            let what = format!("layer_norm of {:?}", x.r.shape);
            check_scaled(&what, y.value(), &want.y, dtype, tol(dtype), |i| {
                want.y_scale.data[i]
            })
        }
        Op::SoftmaxCrossEntropy => {
            let logits = x.r.reshape(&[a * b, c]);
            let targets = dense(g, &[a * b, c], dtype, Values::Uniform(0.0, 1.0));
            let smoothing = 0.1;
            let (log_p, _) = softmax_reference(&logits, 1, true);
            let smoothed = targets
                .r
                .map(|t| (1.0 - smoothing) * t + smoothing / c as f64);
            let total: f64 = smoothed
                .data
                .iter()
                .zip(&log_p.data)
                .map(|(t, l)| -t * l)
                .sum();
            let want = Nd::new(&[], vec![total / (a * b) as f64]);
            let got = lx
                .reshape(&[a * b, c])
                .and_then(|v| v.softmax_cross_entropy(&targets.t, smoothing));
            expect(op, got, &want, dtype, Accuracy::Rounded(8.0 * c as f64))
        }
        Op::SigmoidBinaryCrossEntropy => {
            let logits = x.r.reshape(&[a * b, c]).map(|v| 5.0 * v);
            let targets = dense(g, &[a * b, c], dtype, Values::Uniform(0.0, 1.0));
            let terms = logits.zip(&targets.r, |v, t| {
                v.max(0.0) - v * t + (-v.abs()).exp().ln_1p()
            });
            let want = Nd::new(&[], vec![terms.data.iter().sum::<f64>() / (a * b) as f64]);
            let got = lx
                .reshape(&[a * b, c])
                .and_then(|v| v.mul_scalar(5.0))
                .and_then(|v| v.sigmoid_binary_cross_entropy(&targets.t));
            expect(op, got, &want, dtype, Accuracy::Rounded(16.0 * c as f64))
        }
        Op::Custom => Ok(()),
    }
}
