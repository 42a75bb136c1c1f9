//! A finite-difference gradient check for every differentiable op.
//!
//! `check` matches on [`Op`] without a wildcard, so adding an op without a check does not even
//! compile; `every_op_has_a_passing_check` also verifies that each check really exercises its op.
//! The property tests repeat every check on random shapes and on non-contiguous inputs.

use autograd::{gradcheck, one_hot, GradcheckOptions, Op, Var};
use proptest::prelude::*;
use tensor::{DType, Device, Indices, Result, Tensor};

/// How an input reaches the op: as is, or through a view that makes it non-contiguous.
#[derive(Clone, Copy, Debug)]
enum Access {
    Dense,
    /// Stored transposed (last two axes swapped), transposed back before the op.
    Transposed,
    /// Stored with one extra entry on the first axis, narrowed away before the op.
    Narrowed,
}

/// Builds an input of logical `shape` stored according to `access`, with values drawn by `draw`.
struct Inputs {
    access: Access,
    rng: tensor::Rng,
    device: Device,
}

impl Inputs {
    fn new(seed: u64, access: Access, device: &Device) -> Self {
        Inputs {
            access,
            rng: tensor::rng(seed),
            device: device.clone(),
        }
    }

    /// Values in ±[0.5, 2] (away from the kinks of abs, relu, max at 0).
    fn signed(&mut self, shape: &[usize]) -> Tensor {
        let magnitude = self.stored(shape, 0.5, 2.0);
        let sign = self.stored_shape_rand(shape).sign().unwrap();
        magnitude.mul(&sign).unwrap()
    }

    /// Values in [0.5, 2].
    fn positive(&mut self, shape: &[usize]) -> Tensor {
        self.stored(shape, 0.5, 2.0)
    }

    fn stored_shape(&self, shape: &[usize]) -> Vec<usize> {
        let mut stored = shape.to_vec();
        match self.access {
            Access::Dense => {}
            Access::Transposed if stored.len() >= 2 => {
                let r = stored.len();
                stored.swap(r - 2, r - 1);
            }
            Access::Transposed => {}
            Access::Narrowed if !stored.is_empty() => stored[0] += 1,
            Access::Narrowed => {}
        }
        stored
    }

    fn stored(&mut self, shape: &[usize], low: f64, high: f64) -> Tensor {
        let shape = self.stored_shape(shape);
        self.uniform(&shape, low, high)
    }

    fn stored_shape_rand(&mut self, shape: &[usize]) -> Tensor {
        self.stored(shape, -1.0, 1.0)
    }

    /// Uniform values in `[low, high)` of exactly `shape`, on the checked device.
    fn uniform(&mut self, shape: &[usize], low: f64, high: f64) -> Tensor {
        Tensor::rand_on(shape, low, high, DType::F64, &self.device, &mut self.rng).unwrap()
    }

    /// Undoes the storage trick inside the checked function.
    fn view(&self, v: &Var) -> Result<Var> {
        match self.access {
            Access::Dense => Ok(v.clone()),
            Access::Transposed if v.rank() >= 2 => v.transpose(v.rank() - 2, v.rank() - 1),
            Access::Transposed => Ok(v.clone()),
            Access::Narrowed if v.rank() >= 1 => v.narrow(0, 1, v.shape()[0] - 1),
            Access::Narrowed => Ok(v.clone()),
        }
    }
}

/// A tensor of `shape` holding indices below `size`, repeating, in a scrambled order.
fn index_tensor(shape: &[usize], size: usize) -> Tensor {
    let len: usize = shape.iter().product();
    let values: Vec<f64> = (0..len).map(|i| ((i * 7 + 3) % size) as f64).collect();
    Tensor::from_f64s(&values, shape, DType::F64).unwrap()
}

/// Random sizes for the checks.
#[derive(Clone, Copy, Debug)]
struct Dims {
    a: usize,
    b: usize,
    c: usize,
}

/// Runs the gradient check of `op` and returns the ops its graph contained.
fn check(
    op: Op,
    dims: Dims,
    seed: u64,
    access: Access,
    device: &Device,
) -> std::result::Result<std::collections::BTreeSet<Op>, String> {
    let Dims { a, b, c } = dims;
    let mut inputs = Inputs::new(seed, access, device);
    let options = GradcheckOptions {
        seed,
        ..GradcheckOptions::default()
    };
    macro_rules! unary {
        ($input:expr, |$x:ident| $body:expr) => {{
            let input = $input;
            gradcheck(
                |v| {
                    let $x = inputs.view(&v[0])?;
                    $body
                },
                &[input],
                &options,
            )
        }};
    }
    macro_rules! binary {
        ($lhs:expr, $rhs:expr, |$x:ident, $y:ident| $body:expr) => {{
            let (lhs, rhs) = ($lhs, $rhs);
            gradcheck(
                |v| {
                    let ($x, $y) = (inputs.view(&v[0])?, inputs.view(&v[1])?);
                    $body
                },
                &[lhs, rhs],
                &options,
            )
        }};
    }
    match op {
        Op::Neg => unary!(inputs.signed(&[a, b]), |x| x.neg()),
        Op::Exp => unary!(inputs.signed(&[a, b]), |x| x.exp()),
        Op::Log => unary!(inputs.positive(&[a, b]), |x| x.log()),
        Op::Sqrt => unary!(inputs.positive(&[a, b]), |x| x.sqrt()),
        Op::Tanh => unary!(inputs.signed(&[a, b]), |x| x.tanh()),
        Op::Abs => unary!(inputs.signed(&[a, b]), |x| x.abs()),
        Op::Recip => unary!(inputs.signed(&[a, b]), |x| x.recip()),
        Op::Sigmoid => unary!(inputs.signed(&[a, b]), |x| x.sigmoid()),
        Op::Relu => unary!(inputs.signed(&[a, b]), |x| x.relu()),
        Op::Softplus => unary!(inputs.signed(&[a, b]), |x| x.softplus()),
        Op::Gelu => unary!(inputs.signed(&[a, b]), |x| x.gelu()),
        Op::GeluErf => unary!(inputs.signed(&[a, b]), |x| x.gelu_erf()),
        Op::Sin => unary!(inputs.signed(&[a, b]), |x| x.sin()),
        Op::Cos => unary!(inputs.signed(&[a, b]), |x| x.cos()),
        // Inputs of magnitude 0.5–2, so the bounds cut some off and none sits at a bound.
        Op::Clamp => unary!(inputs.signed(&[a, b]), |x| x.clamp(-1.25, 0.75)),
        Op::PowScalar => unary!(inputs.positive(&[a, b]), |x| x.pow_scalar(-1.5)),
        Op::AddScalar => unary!(inputs.signed(&[a, b]), |x| x.add_scalar(3.0)),
        Op::MulScalar => unary!(inputs.signed(&[a, b]), |x| x.mul_scalar(-2.5)),
        Op::DivScalar => unary!(inputs.signed(&[a, b]), |x| x.div_scalar(-0.3)),
        // Binary ops broadcast a [b] row against [a, b], so the central un-broadcasting is checked.
        Op::Add => binary!(inputs.signed(&[a, b]), inputs.signed(&[a, b]), |x, y| x
            .add(&y.sum(&[0], false)?)),
        Op::Sub => binary!(inputs.signed(&[a, b]), inputs.signed(&[1, b]), |x, y| x
            .sub(&y)),
        Op::Mul => binary!(inputs.signed(&[a, b]), inputs.signed(&[a, 1]), |x, y| x
            .mul(&y)),
        Op::Div => binary!(inputs.signed(&[a, b]), inputs.signed(&[a, b]), |x, y| x
            .div(&y)),
        Op::Pow => binary!(inputs.positive(&[a, b]), inputs.signed(&[a, b]), |x, y| x
            .pow(&y)),
        // The condition picks about half of each side; `on_false` is a broadcast row.
        Op::WhereCond => {
            let condition = inputs.uniform(&[a, b], -1.0, 1.0).gt_scalar(0.0).unwrap();
            binary!(inputs.signed(&[a, b]), inputs.signed(&[1, b]), |x, y| {
                Var::where_cond(&condition, &x, &y)
            })
        }
        Op::Maximum => binary!(inputs.signed(&[a, b]), inputs.signed(&[a, b]), |x, y| x
            .maximum(&y)),
        Op::Minimum => binary!(inputs.signed(&[a, b]), inputs.signed(&[a, b]), |x, y| x
            .minimum(&y)),
        Op::Sum => unary!(inputs.signed(&[a, b, c]), |x| x.sum(&[0, 2], false)),
        Op::Mean => unary!(inputs.signed(&[a, b, c]), |x| x.mean(&[2, 0], true)),
        Op::Max => unary!(inputs.signed(&[a, b, c]), |x| x.max(&[1], true)),
        Op::Min => unary!(inputs.signed(&[a, b, c]), |x| x.min(&[0, 2], false)),
        Op::Reshape => unary!(inputs.signed(&[a, b, c]), |x| x
            .reshape(&[a * b, c])?
            .unsqueeze(1)?
            .squeeze(1)),
        Op::Permute => unary!(inputs.signed(&[a, b, c]), |x| x
            .permute(&[2, 0, 1])?
            .mul_scalar(1.0)),
        Op::Narrow => unary!(inputs.signed(&[a + 2, b]), |x| x.narrow(0, 1, a)),
        Op::BroadcastTo => unary!(inputs.signed(&[1, b]), |x| x
            .broadcast_to(&[a, c, 1, b])?
            .mul_scalar(1.0)),
        Op::Concat => binary!(inputs.signed(&[a, b]), inputs.signed(&[c, b]), |x, y| {
            Var::concat(&[x, y.clone(), y], 0)
        }),
        Op::IndexSelect => {
            let indices: Vec<usize> = (0..a + 2).map(|i| (i * 7 + 3) % a).collect();
            let indices = Indices::new(device, &indices).unwrap();
            unary!(inputs.signed(&[a, b]), |x| x.index_select(0, &indices))
        }
        // Along the middle axis with an index longer than it (entries picked repeatedly), then
        // along the first with an index shorter than the input on the last axis.
        Op::Gather => {
            let along_1 = index_tensor(&[a, b + 2, c], b);
            let along_0 = index_tensor(&[a + 1, b, c.max(2) - 1], a);
            unary!(inputs.signed(&[a, b, c]), |x| x.gather(1, &along_1))
                .and(unary!(inputs.signed(&[a, b, c]), |x| x.gather(0, &along_0)))
        }
        // More sources than entries along the axis (repeats add up), and a source larger than
        // the index on the other axis (its extra row gets no gradient).
        Op::ScatterAdd => {
            let index = index_tensor(&[a, c + 2], b);
            binary!(
                inputs.signed(&[a, b]),
                inputs.signed(&[a + 1, c + 2]),
                |x, y| x.scatter_add(1, &index, &y)
            )
        }
        // A batch against a matrix, then the vector forms (`Var::matmul` unsqueezes and squeezes
        // them itself): a row vector against a batch, a batch against a column vector, a dot.
        Op::Matmul => binary!(inputs.signed(&[c, a, b]), inputs.signed(&[b, a]), |x, y| x
            .matmul(&y))
        .and(binary!(
            inputs.signed(&[b]),
            inputs.signed(&[c, b, a]),
            |x, y| x.matmul(&y)
        ))
        .and(binary!(
            inputs.signed(&[c, a, b]),
            inputs.signed(&[b]),
            |x, y| x.matmul(&y)
        ))
        .and(binary!(inputs.signed(&[b]), inputs.signed(&[b]), |x, y| x
            .matmul(&y))),
        Op::Softmax => unary!(inputs.signed(&[a, b, c]), |x| x.scaled_softmax(1, 0.7)),
        Op::LogSoftmax => unary!(inputs.signed(&[a, b, c]), |x| x.log_softmax(2))
            .and(unary!(inputs.signed(&[a, b, c]), |x| x.log_softmax(1))),
        Op::LayerNorm => {
            let x = inputs.signed(&[a, b, c + 1]);
            let gamma = inputs.uniform(&[c + 1], 0.5, 2.0);
            let beta = inputs.uniform(&[c + 1], -1.0, 1.0);
            gradcheck(
                |v| inputs.view(&v[0])?.layer_norm(&v[1], &v[2], 1e-6),
                &[x, gamma, beta],
                &options,
            )
        }
        Op::SoftmaxCrossEntropy => {
            let labels: Vec<usize> = (0..a).map(|i| (i * 5 + 1) % (b + 1)).collect();
            let targets = one_hot(&labels, b + 1, DType::F64)
                .and_then(|t| t.to_device(device))
                .unwrap();
            // Soft targets whose rows do not sum to 1 weigh the gradient's `Σt'` term too.
            let soft = inputs.uniform(&[a, b + 1], 0.0, 1.0);
            unary!(inputs.signed(&[a, b + 1]), |x| x
                .mul_scalar(3.0)?
                .softmax_cross_entropy(&targets, 0.1))
            .and(unary!(inputs.signed(&[a, b + 1]), |x| x
                .mul_scalar(3.0)?
                .softmax_cross_entropy(&soft, 0.1)))
        }
        Op::SigmoidBinaryCrossEntropy => {
            let targets = inputs.uniform(&[a, b], 0.0, 1.0);
            unary!(inputs.signed(&[a, b]), |x| x
                .mul_scalar(5.0)?
                .sigmoid_binary_cross_entropy(&targets))
        }
        // A user-defined op whose rule returns a broadcast-shaped gradient for `y`.
        Op::Custom => binary!(inputs.signed(&[a, b]), inputs.signed(&[1, b]), |x, y| {
            square_times(&x, &y)
        }),
    }
}

/// `x²·y` (broadcasting) as a custom op: `dx = g·2xy`, `dy = g·x²`, the latter left in the
/// broadcast shape for the backward pass to sum.
fn square_times(x: &Var, y: &Var) -> Result<Var> {
    let (xv, yv) = (x.value().clone(), y.value().clone());
    let value = xv.square()?.mul(&yv)?;
    Ok(Var::custom(value, &[x, y], move |g, needs| {
        let dx = if needs[0] {
            Some(g.mul(&xv.mul(&yv)?.mul_scalar(2.0)?)?)
        } else {
            None
        };
        let dy = if needs[1] {
            Some(g.mul(&xv.square()?)?)
        } else {
            None
        };
        Ok(vec![dx, dy])
    }))
}

#[test]
fn a_custom_rule_with_the_wrong_number_of_gradients_is_an_error() {
    let x = Var::parameter(Tensor::from_f64s(&[1.0, 2.0], &[2], DType::F64).unwrap());
    let y = Var::custom(x.value().clone(), &[&x], |_, _| Ok(vec![]));
    let err = y
        .sum_all()
        .unwrap()
        .backward()
        .expect_err("backward must fail");
    assert!(err.to_string().contains("custom"), "{err}");
}

/// A rule's gradient must be its input's shape, or that shape broadcast (summed back); a
/// gradient of the same elements in another shape (a transpose forgotten) and one of another
/// dtype are errors naming the op, not numbers read in the wrong order.
#[test]
fn a_custom_rule_with_a_misshapen_or_mistyped_gradient_is_an_error() {
    let x = Var::parameter(
        Tensor::from_f64s(&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0], &[2, 3], DType::F64).unwrap(),
    );
    let backward_of = |rule: fn(&Tensor) -> Tensor| {
        let y = Var::custom(x.value().t().unwrap(), &[&x], move |g, _| {
            Ok(vec![Some(rule(g))])
        });
        y.sum_all().unwrap().backward()
    };
    // The gradient of xᵀ, given back without its transpose: [3, 2] for a [2, 3] input.
    let err = backward_of(|g| g.clone()).expect_err("a [3, 2] gradient");
    assert!(
        err.to_string()
            .contains("custom: backward produced a gradient that does not fit its input: backward: gradient [3, 2] is not its input [2, 3] broadcast"),
        "{err}"
    );
    let err =
        backward_of(|g| g.t().unwrap().to_dtype(DType::F32).unwrap()).expect_err("an f32 gradient");
    assert!(
        err.to_string()
            .contains("custom: backward produced a f32 gradient for a f64 input"),
        "{err}"
    );
    // Broadcast forms are summed back: a leading axis added, a 1 stretched.
    let sums = backward_of(|g| {
        g.t()
            .unwrap()
            .broadcast_to(&[4, 2, 3])
            .unwrap()
            .contiguous()
            .unwrap()
    })
    .unwrap();
    assert_eq!(sums.get(&x).unwrap().to_vec_f64().unwrap(), [4.0; 6]);
}

#[test]
fn every_op_has_a_passing_check() {
    let dims = Dims { a: 3, b: 4, c: 2 };
    for device in tensor::test_devices() {
        for &op in Op::ALL {
            let ops = check(op, dims, 7, Access::Dense, &device)
                .unwrap_or_else(|msg| panic!("{device}: {msg}"));
            assert!(
                ops.contains(&op),
                "the check of {} does not exercise it (graph has {ops:?})",
                op.name()
            );
        }
    }
}

fn access() -> impl Strategy<Value = Access> {
    prop_oneof![
        Just(Access::Dense),
        Just(Access::Transposed),
        Just(Access::Narrowed)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn every_op_passes_on_random_shapes_and_layouts(a in 1usize..5, b in 1usize..5, c in 1usize..4, seed in 0u64..1000, access in access(), device in proptest::sample::select(tensor::test_devices())) {
        for &op in Op::ALL {
            if let Err(msg) = check(op, Dims { a, b, c }, seed, access, &device) {
                prop_assert!(false, "{:?} with {:?} on {}: {}", op, access, device, msg);
            }
        }
    }
}

#[test]
fn a_wrong_rule_is_caught() {
    // A function whose "gradient" is deliberately wrong: detach cuts half of x·x out of the graph.
    let x = Tensor::from_f64s(&[0.5, -1.0, 2.0], &[3], DType::F64).unwrap();
    let result = gradcheck(
        |v| v[0].mul(&v[0].detach()),
        &[x],
        &GradcheckOptions::default(),
    );
    let msg = result.expect_err("the check must fail");
    assert!(
        msg.contains("analytic") && msg.contains("numeric") && msg.contains("mul"),
        "{msg}"
    );
}

/// A forward that gives NaN fails the check even when its rule's gradient is finite: the numeric
/// derivative is NaN, which compares as neither close nor far.
#[test]
fn a_nan_forward_is_caught() {
    let x = Tensor::from_f64s(&[0.5, -1.0], &[2], DType::F64).unwrap();
    let nan_forward = |v: &[Var]| {
        let value = v[0].value().mul_scalar(f64::NAN)?;
        let rule = |g: &Tensor, _: &[bool]| Ok(vec![Some(g.zeros_like()?)]);
        Ok(Var::custom(value, &[&v[0]], rule))
    };
    let msg = gradcheck(nan_forward, &[x], &GradcheckOptions::default())
        .expect_err("the check must fail");
    assert!(msg.contains("numeric NaN"), "{msg}");
}

/// `x⁰ ≡ 1` has gradient 0 everywhere, at `x = ±0` too (where `0·x⁻¹` is NaN), on every device,
/// as PyTorch's `pow(x, 0.0)`.
#[test]
fn pow_scalar_of_zero_has_a_zero_gradient() {
    for device in tensor::test_devices() {
        let x = Tensor::from_f64s_on(&[0.0, -0.0, 2.0], &[3], DType::F32, &device).unwrap();
        let x = Var::parameter(x);
        let grads = x
            .pow_scalar(0.0)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        let dx = grads.get(&x).unwrap().to_vec_f64().unwrap();
        assert_eq!(dx, [0.0, 0.0, 0.0], "{device}");
    }
}

/// `maximum` and `minimum` send the gradient to both inputs where either is NaN (the output is
/// NaN), as PyTorch does, and otherwise to the winner, half each on a tie, on every device.
#[test]
fn extremum_gradients_with_nan_are_pytorchs() {
    let nan = f64::NAN;
    for device in tensor::test_devices() {
        let var = |values: &[f64]| {
            Var::parameter(Tensor::from_f64s_on(values, &[4], DType::F32, &device).unwrap())
        };
        let (a, b) = (var(&[nan, 1.0, 2.0, 3.0]), var(&[1.0, nan, 2.0, 1.0]));
        for (z, da_want, db_want) in [
            (a.maximum(&b), [1.0, 1.0, 0.5, 1.0], [1.0, 1.0, 0.5, 0.0]),
            (a.minimum(&b), [1.0, 1.0, 0.5, 0.0], [1.0, 1.0, 0.5, 1.0]),
        ] {
            let grads = z.unwrap().sum_all().unwrap().backward().unwrap();
            let da = grads.get(&a).unwrap().to_vec_f64().unwrap();
            let db = grads.get(&b).unwrap().to_vec_f64().unwrap();
            assert_eq!((da, db), (da_want.to_vec(), db_want.to_vec()), "{device}");
        }
    }
}

/// Where `b·aᵇ⁻¹` or `aᵇ·ln a` is `0·∞`, `pow`'s gradients take PyTorch's values, on every
/// device: `da = 0` where `b = 0`, `db = 0` where `a = 0` and `b ≥ 0`; `a = 0`, `b < 0` stays
/// infinite (`0⁻¹ = ∞`).
#[test]
fn pow_gradients_at_a_zero_base_are_pytorchs() {
    for device in tensor::test_devices() {
        let var = |values: &[f64]| {
            Var::parameter(Tensor::from_f64s_on(values, &[4], DType::F32, &device).unwrap())
        };
        let (a, b) = (var(&[0.0, 0.0, 0.0, 2.0]), var(&[0.0, 2.0, -1.0, 0.0]));
        let grads = a.pow(&b).unwrap().sum_all().unwrap().backward().unwrap();
        let da = grads.get(&a).unwrap().to_vec_f64().unwrap();
        let db = grads.get(&b).unwrap().to_vec_f64().unwrap();
        let inf = f64::INFINITY;
        assert_eq!(da, [0.0, 0.0, -inf, 0.0], "{device}");
        assert_eq!(db[..3], [0.0, 0.0, -inf], "{device}");
        assert!((db[3] - 2f64.ln()).abs() < 1e-6, "{device}: {db:?}");
    }
}

/// Where `relu`, `maximum`, `minimum` or `pow` and `pow_scalar` (at an exponent of 0) pass no
/// gradient, an infinite one from above (a `√z` or `1/z` of the 0 they made) stays 0, as in
/// PyTorch, instead of `0·∞ = NaN`, on every device; where they pass it, it stays infinite.
#[test]
fn a_blocked_gradient_stays_zero_under_an_infinite_upstream() {
    let inf = f64::INFINITY;
    for device in tensor::test_devices() {
        let var = |values: &[f64]| {
            let n = values.len();
            Var::parameter(Tensor::from_f64s_on(values, &[n], DType::F32, &device).unwrap())
        };
        let gradients = |z: Var, of: &[&Var]| {
            let grads = z.sum_all().unwrap().backward().unwrap();
            let grad = |v: &Var| grads.get(v).unwrap().to_vec_f64().unwrap();
            of.iter().map(|v| grad(v)).collect::<Vec<_>>()
        };
        let x = var(&[-1.0, 0.0, 4.0]);
        let dx = gradients(x.relu().unwrap().sqrt().unwrap(), &[&x]);
        assert_eq!(dx, [vec![0.0, 0.0, 0.25]], "{device}: relu");

        let (a, b) = (var(&[0.0, 0.0, 4.0]), var(&[-1.0, 0.0, 1.0]));
        let grads = gradients(a.maximum(&b).unwrap().sqrt().unwrap(), &[&a, &b]);
        assert_eq!(
            grads,
            [vec![inf, inf, 0.25], vec![0.0, inf, 0.0]],
            "{device}: max"
        );

        let (a, b) = (var(&[0.0, 2.0, 1.0]), var(&[3.0, 0.0, 1.0]));
        let grads = gradients(a.minimum(&b).unwrap().recip().unwrap(), &[&a, &b]);
        let want = [vec![-inf, 0.0, -0.5], vec![0.0, -inf, -0.5]];
        assert_eq!(grads, want, "{device}: min");

        let (a, b) = (var(&[0.0, 2.0]), var(&[0.0, 2.0]));
        let z = a.pow(&b).unwrap().mul_scalar(inf).unwrap();
        assert_eq!(gradients(z, &[&a])[0], [0.0, inf], "{device}: pow");
        let z = a.pow_scalar(0.0).unwrap().mul_scalar(inf).unwrap();
        assert_eq!(gradients(z, &[&a])[0], [0.0, 0.0], "{device}: pow_scalar");
    }
}
