//! Property tests of matrix products, softmax / log-softmax and layer norm (forward and backward)
//! against naive `f64` references, on non-contiguous inputs, in f32 and f64, small and large.
//! Every case runs on every device of `tensor::test_devices()`, with the same inputs
//! (`on_every_device`).

mod common;

use common::reference::*;
use common::*;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use tensor::{DType, Device, LayerNormGrads, Tensor};

type TestResult = std::result::Result<(), TestCaseError>;

// ---------------------------------------------------------------- matmul

fn check_matmul(a: &Input, b: &Input, dtype: DType) -> TestResult {
    let what = format!(
        "matmul {:?} x {:?} (layouts {:?}, {:?})",
        a.r.shape,
        b.r.shape,
        a.t.layout(),
        b.t.layout()
    );
    let got =
        a.t.matmul(&b.t)
            .map_err(|e| TestCaseError::fail(format!("{what}: {e}")))?;
    let (want, abs) = matmul_reference(&a.r, &b.r);
    let k = if a.r.rank() == 1 {
        a.r.shape[0]
    } else {
        a.r.shape[a.r.rank() - 1]
    };
    check_scaled(&what, &got, &want, dtype, tol(dtype), |p| {
        abs.data[p] * (k as f64).sqrt() / 10.0
    })
}

/// Operand shapes of a matmul with batch `batch` and sizes `m, k, n`; 1-D operands sometimes.
fn matmul_shapes(g: &mut Gen, batch: &[usize], m: usize, k: usize, n: usize) -> [Vec<usize>; 2] {
    let a = if g.coin(0.15) {
        vec![k]
    } else {
        let mut s = broadcastable_to(g, batch);
        s.extend([m, k]);
        s
    };
    let b = if g.coin(0.15) {
        vec![k]
    } else {
        let mut s = broadcastable_to(g, batch);
        s.extend([k, n]);
        s
    };
    [a, b]
}

proptest! {
    #![proptest_config(config(256))]

    /// `matmul` of small operands (1-D ones, broadcast batches, empty dims, non-contiguous
    /// views) against NumPy's definition, on every device.
    #[test]
    fn matmul_matches_reference(
        batch in shape_strategy(0, 2),
        (m, k, n) in (dim_strategy(), dim_strategy(), dim_strategy()),
        dtype in dtype_strategy(),
        seed in any::<u64>(),
    ) {
        on_every_device(seed, |g| {
            let [sa, sb] = matmul_shapes(g, &batch, m, k, n);
            let values = Values::mixed(g);
            let a = any_input(g, &sa, dtype, values);
            let b = any_input(g, &sb, dtype, values);
            check_matmul(&a, &b, dtype)
        })?;
    }
}

proptest! {
    #![proptest_config(config(10))]

    /// `matmul` of operands large enough for the parallel split, and `x·Wᵀ` through a transposed
    /// view as in a Linear layer, against the reference, on every device.
    #[test]
    fn matmul_of_large_operands(
        batch in prop_oneof![Just(vec![]), (2usize..=4).prop_map(|b| vec![b]), Just(vec![2, 3])],
        (m, k, n) in (40usize..80, 40usize..80, 40usize..80),
        dtype in dtype_strategy(),
        seed in any::<u64>(),
    ) {
        // Above 2^18 multiply-adds the kernel splits work over threads: over batch entries when
        // there are enough, else over row blocks of each product.
        on_every_device(seed, |g| {
            let [sa, sb] = matmul_shapes(g, &batch, m, k, n);
            let a = any_input(g, &sa, dtype, Values::Uniform(-1.0, 1.0));
            let b = any_input(g, &sb, dtype, Values::Uniform(-1.0, 1.0));
            check_matmul(&a, &b, dtype)?;
            // x·Wᵀ as in a Linear layer: W stored [n, k], used through a transposed view.
            let x = any_input(g, &[m, k], dtype, Values::Uniform(-1.0, 1.0));
            let w = dense(g, &[n, k], dtype, Values::Uniform(-1.0, 1.0));
            let wt = Input { t: w.t.t().unwrap(), r: w.r.transpose(0, 1) };
            check_matmul(&x, &wt, dtype)
        })?;
    }
}

// ---------------------------------------------------------------- softmax and log-softmax

/// The backward of softmax (`dx = y·(g − Σ g·y)`) or log-softmax (`dx = g − e^y·Σ g`) along
/// `axis` for the forward's output `y` and the upstream `g`, in f64; with, per element, the
/// magnitude its rounding errors are proportional to (the terms it is made of).
fn softmax_backward_reference(y: &Nd, g: &Nd, axis: usize, log: bool) -> (Nd, Nd) {
    let mut out = Nd::from_fn(&y.shape, |_| 0.0);
    let mut scale = out.clone();
    for positions in rows_along(&y.shape, axis) {
        let probability = |p: usize| if log { y.data[p].exp() } else { y.data[p] };
        let weighed = |p: usize| {
            if log {
                g.data[p]
            } else {
                g.data[p] * y.data[p]
            }
        };
        let sum: f64 = positions.iter().map(|&p| weighed(p)).sum();
        let sum_abs: f64 = positions.iter().map(|&p| weighed(p).abs()).sum();
        for &p in &positions {
            let (gp, yp) = (g.data[p], probability(p));
            if log {
                out.data[p] = gp - yp * sum;
                scale.data[p] = gp.abs() + yp * sum_abs;
            } else {
                out.data[p] = yp * (gp - sum);
                scale.data[p] = yp * (gp.abs() + sum_abs);
            }
        }
    }
    (out, scale)
}

/// Softmax and log-softmax of `x` along `axis` (refused past its rank) against their definition,
/// and their backwards with the upstream gradient `upstream` (of `x`'s shape).
fn check_softmax(x: &Input, upstream: &Input, axis: usize, dtype: DType) -> TestResult {
    let rank = x.r.rank();
    for log in [false, true] {
        let name = if log { "log_softmax" } else { "softmax" };
        let result = if log {
            x.t.log_softmax(axis)
        } else {
            x.t.softmax(axis)
        };
        if axis >= rank {
            let err = result.expect_err("softmax along a missing axis must fail");
            prop_assert!(err.to_string().starts_with(name), "{}", err);
            continue;
        }
        let what = format!(
            "{name} along {axis} of {:?} ({:?})",
            x.r.shape,
            x.t.layout()
        );
        let (want, spread) = softmax_reference(&x.r, axis, log);
        let n = x.r.shape[axis] as f64;
        let got = result.unwrap();
        check_scaled(&what, &got, &want, dtype, tol(dtype), |p| {
            let rel = 2.0 * (1.0 + spread.data[p]) + n / 16.0;
            if log {
                rel
            } else {
                want.data[p].abs() * rel
            }
        })?;
        // The backward, from the output the kernel made, against its definition.
        let y = Nd::new(&x.r.shape, got.to_vec_f64().unwrap());
        let dx = if log {
            got.log_softmax_backward(&upstream.t, axis)
        } else {
            got.softmax_backward(&upstream.t, axis, 1.0)
        };
        let (want, scale) = softmax_backward_reference(&y, &upstream.r, axis, log);
        let what = format!("{name}_backward along {axis} of {:?}", x.r.shape);
        check_scaled(&what, &dx.unwrap(), &want, dtype, tol(dtype), |p| {
            scale.data[p] * (2.0 + n / 16.0)
        })?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(160))]

    /// Softmax and log-softmax along a random axis (refused past the rank) of inputs of three
    /// magnitudes against the definition, on every device.
    #[test]
    fn softmax_matches_reference(
        shape in shape_strategy(0, 4),
        dtype in dtype_strategy(),
        scale in prop_oneof![Just(1.0), Just(10.0), Just(100.0)],
        seed in any::<u64>(),
    ) {
        on_every_device(seed, |g| {
            let x = any_input(g, &shape, dtype, Values::Uniform(-2.0 * scale, 2.0 * scale));
            let upstream = dense(g, &shape, dtype, Values::Uniform(-1.0, 1.0));
            let axis = g.below(shape.len() + 1);
            check_softmax(&x, &upstream, axis, dtype)
        })?;
    }
}

/// `got` equals `want` bit for bit when `exact` (the CPU), else to rounding (an OpenCL compiler
/// may fuse the scaling multiply into what follows it).
fn same_numbers(what: &str, got: &Tensor, want: &Tensor, exact: bool, dtype: DType) -> TestResult {
    let (got, want) = (got.to_vec_f64().unwrap(), want.to_vec_f64().unwrap());
    prop_assert_eq!(got.len(), want.len());
    for (i, (a, b)) in got.iter().zip(&want).enumerate() {
        let ok = if exact {
            a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
        } else {
            (a - b).abs() <= 10.0 * tol(dtype) * (1.0 + a.abs().max(b.abs()))
        };
        prop_assert!(ok, "{what}: element {i}: {a} vs {b}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(48))]

    /// Attention's softmax(Q·Kᵀ·s): the scale inside the kernel gives the numbers of a separate
    /// multiplication, forward and backward (bit for bit on the CPU), on every device.
    #[test]
    fn scaled_softmax_is_softmax_of_the_scaled_input(
        shape in shape_strategy(1, 4),
        dtype in dtype_strategy(),
        scale in prop_oneof![Just(0.25), Just(0.125), Just(-1.5), 0.01f64..4.0],
        seed in any::<u64>(),
    ) {
        on_every_device(seed, |g| {
            let x = any_input(g, &shape, dtype, Values::Uniform(-6.0, 6.0));
            let upstream = dense(g, &shape, dtype, Values::Uniform(-1.0, 1.0));
            let axis = g.below(shape.len());
            let on = format!("along {axis} of {shape:?} {dtype}");
            let exact = matches!(g.device, Device::Cpu);
            let y = x.t.scaled_softmax(axis, scale).unwrap();
            let separate = x.t.mul_scalar(scale).unwrap().softmax(axis).unwrap();
            same_numbers(&format!("forward {on}"), &y, &separate, exact, dtype)?;
            let dx = y.softmax_backward(&upstream.t, axis, scale).unwrap();
            let separate = y
                .softmax_backward(&upstream.t, axis, 1.0)
                .unwrap()
                .mul_scalar(scale)
                .unwrap();
            same_numbers(&format!("backward {on}"), &dx, &separate, exact, dtype)
        })?;
    }
}

proptest! {
    #![proptest_config(config(6))]

    /// Softmax and log-softmax of inputs large enough for the parallel code paths, along a
    /// random axis and the last one, against the definition, on every device.
    #[test]
    fn softmax_of_large_inputs(
        shape in prop_oneof![
            (200usize..300, 130usize..200).prop_map(|(a, b)| vec![a, b]),
            (8usize..12, 65usize..70, 65usize..70).prop_map(|(a, b, c)| vec![a, b, c]),
        ],
        dtype in dtype_strategy(),
        seed in any::<u64>(),
    ) {
        on_every_device(seed, |g| {
            let x = any_input(g, &shape, dtype, Values::Uniform(-8.0, 8.0));
            let upstream = dense(g, &shape, dtype, Values::Uniform(-1.0, 1.0));
            let axis = g.below(shape.len());
            check_softmax(&x, &upstream, axis, dtype)?;
            check_softmax(&x, &upstream, shape.len() - 1, dtype)
        })?;
    }
}

// ---------------------------------------------------------------- layer norm

/// The backward pass by the chain rule through the explicit Jacobian of `x̂ = (x − μ)·r` with
/// `r = (σ² + ε)^{-1/2}`: `∂x̂_j/∂x_i = r(δ_ij − 1/d) − r³(x_j − μ)(x_i − μ)/d`. O(d²) per row, and
/// deliberately a different formula from the kernel's. Returns `(dx, dγ, dβ)` and error scales.
struct LayerNormGradsReference {
    dx: Nd,
    dgamma: Nd,
    dbeta: Nd,
    dx_scale: Nd,
    dgamma_scale: Nd,
    dbeta_scale: Nd,
}

fn layer_norm_backward_reference(
    dy: &Nd,
    x: &Nd,
    gamma: &Nd,
    f: &LayerNormReference,
) -> LayerNormGradsReference {
    let d = x.shape[x.rank() - 1];
    let rows = f.mean.numel();
    let mut dx = vec![0.0; rows * d];
    let mut dx_scale = vec![0.0; rows * d];
    let (mut dgamma, mut dbeta) = (vec![0.0; d], vec![0.0; d]);
    let (mut dgamma_abs, mut dbeta_abs) = (vec![0.0; d], vec![0.0; d]);
    for r in 0..rows {
        let (xs, dys) = (&x.data[r * d..(r + 1) * d], &dy.data[r * d..(r + 1) * d]);
        let (mu, rs, max_abs) = (f.mean.data[r], f.rstd.data[r], f.max_abs.data[r]);
        let xhat: Vec<f64> = xs.iter().map(|v| (v - mu) * rs).collect();
        let row_abs: f64 = (0..d).map(|j| (dys[j] * gamma.data[j]).abs()).sum();
        let max_xhat = xhat.iter().fold(0.0, |m: f64, v| m.max(v.abs()));
        for i in 0..d {
            let xi = xs[i] - mu;
            let mut sum = 0.0;
            for j in 0..d {
                let xj = xs[j] - mu;
                let delta = if i == j { 1.0 } else { 0.0 };
                let jac = rs * (delta - 1.0 / d as f64) - rs.powi(3) * xj * xi / d as f64;
                sum += dys[j] * gamma.data[j] * jac;
            }
            dx[r * d + i] = sum;
            dx_scale[r * d + i] = (1.0 + d as f64 / 4.0)
                * rs
                * row_abs
                * (1.0 + max_xhat * max_xhat)
                * (1.0 + max_abs * rs);
        }
        for j in 0..d {
            dgamma[j] += dys[j] * xhat[j];
            dgamma_abs[j] += (dys[j] * (xhat[j].abs() + max_abs * rs)).abs();
            dbeta[j] += dys[j];
            dbeta_abs[j] += dys[j].abs();
        }
    }
    let grow = (rows as f64).sqrt() / 10.0 + 1.0;
    let scaled = |v: Vec<f64>| Nd::new(&[d], v.iter().map(|a| a * grow).collect());
    LayerNormGradsReference {
        dx: Nd::new(&x.shape, dx),
        dgamma: Nd::new(&[d], dgamma),
        dbeta: Nd::new(&[d], dbeta),
        dx_scale: Nd::new(&x.shape, dx_scale),
        dgamma_scale: scaled(dgamma_abs),
        dbeta_scale: scaled(dbeta_abs),
    }
}

fn check_layer_norm(
    g: &mut Gen,
    rows_shape: &[usize],
    d: usize,
    dtype: DType,
    offset: f64,
) -> TestResult {
    let mut shape = rows_shape.to_vec();
    shape.push(d);
    let x = any_input(
        g,
        &shape,
        dtype,
        Values::Uniform(offset - 2.0, offset + 2.0),
    );
    let gamma = any_input(g, &[d], dtype, Values::Uniform(-2.0, 2.0));
    let beta = any_input(g, &[d], dtype, Values::Uniform(-2.0, 2.0));
    let eps = if g.coin(0.5) { 1e-5 } else { 1e-6 };
    let what = |name: &str| {
        format!(
            "{name} of {shape:?} (layouts {:?}, {:?}, {:?})",
            x.t.layout(),
            gamma.t.layout(),
            beta.t.layout()
        )
    };
    let stats = x.t.layer_norm_with_stats(&gamma.t, &beta.t, eps).unwrap();
    let f = layer_norm_reference(&x.r, &gamma.r, &beta.r, eps);
    let t = tol(dtype);
    check_scaled(&what("layer_norm y"), &stats.y, &f.y, dtype, t, |p| {
        f.y_scale.data[p]
    })?;
    check_scaled(
        &what("layer_norm mean"),
        &stats.mean,
        &f.mean,
        dtype,
        t,
        |p| f.max_abs.data[p],
    )?;
    check_scaled(
        &what("layer_norm rstd"),
        &stats.rstd,
        &f.rstd,
        dtype,
        t,
        |p| f.rstd_scale.data[p],
    )?;
    let y = x.t.layer_norm(&gamma.t, &beta.t, eps).unwrap();
    check_scaled(&what("layer_norm"), &y, &f.y, dtype, t, |p| {
        f.y_scale.data[p]
    })?;

    // Backward, with a non-contiguous upstream gradient.
    let dy = any_input(g, &shape, dtype, Values::Uniform(-2.0, 2.0));
    let LayerNormGrads { dx, dgamma, dbeta } =
        dy.t.layer_norm_backward(&x.t, &stats.mean, &stats.rstd, &gamma.t)
            .unwrap();
    let b = layer_norm_backward_reference(&dy.r, &x.r, &gamma.r, &f);
    check_scaled(&what("layer_norm_backward dx"), &dx, &b.dx, dtype, t, |p| {
        b.dx_scale.data[p]
    })?;
    check_scaled(
        &what("layer_norm_backward dgamma"),
        &dgamma,
        &b.dgamma,
        dtype,
        t,
        |p| b.dgamma_scale.data[p],
    )?;
    check_scaled(
        &what("layer_norm_backward dbeta"),
        &dbeta,
        &b.dbeta,
        dtype,
        t,
        |p| b.dbeta_scale.data[p],
    )
}

proptest! {
    #![proptest_config(config(160))]

    /// Layer norm (output, mean, rstd) and its backward pass (dx, dγ, dβ) of small inputs, some
    /// far from zero, against the references, on every device.
    #[test]
    fn layer_norm_and_its_backward_match_reference(
        rows_shape in shape_strategy(0, 2),
        d in prop_oneof![1 => Just(0usize), 8 => 1usize..=8],
        dtype in dtype_strategy(),
        offset in prop_oneof![Just(0.0), Just(5.0)],
        seed in any::<u64>(),
    ) {
        on_every_device(seed, |g| check_layer_norm(g, &rows_shape, d, dtype, offset))?;
    }
}

proptest! {
    #![proptest_config(config(4))]

    /// Layer norm and its backward pass on inputs large enough for the parallel code paths,
    /// against the references, on every device.
    #[test]
    fn layer_norm_of_large_inputs(
        rows in 200usize..260,
        d in 170usize..200,
        dtype in dtype_strategy(),
        seed in any::<u64>(),
    ) {
        on_every_device(seed, |g| check_layer_norm(g, &[rows], d, dtype, 1.0))?;
    }
}

/// Central differences of `L = Σ w ⊙ layer_norm(x, γ, β)` in f64 against the backward pass with
/// upstream gradient `w`: an independent check of both the kernel and the reference formula.
#[test]
fn layer_norm_backward_matches_finite_differences() {
    for device in tensor::test_devices() {
        layer_norm_backward_matches_finite_differences_on(&device);
    }
}

fn layer_norm_backward_matches_finite_differences_on(device: &tensor::Device) {
    let mut g = Gen::on(11, device);
    for (rows, d) in [(1, 1), (1, 2), (3, 4), (2, 7), (5, 16)] {
        let dt = DType::F64;
        let x = dense(&mut g, &[rows, d], dt, Values::Uniform(-2.0, 2.0)).r;
        let gamma = dense(&mut g, &[d], dt, Values::Uniform(-2.0, 2.0)).r;
        let beta = dense(&mut g, &[d], dt, Values::Uniform(-2.0, 2.0)).r;
        let w = dense(&mut g, &[rows, d], dt, Values::Uniform(-2.0, 2.0)).r;
        let eps = 1e-5;
        let tensor = |n: &Nd| Tensor::from_f64s_on(&n.data, &n.shape, dt, device).unwrap();
        let loss = |x: &Nd, gamma: &Nd, beta: &Nd| -> f64 {
            let y = tensor(x)
                .layer_norm(&tensor(gamma), &tensor(beta), eps)
                .unwrap()
                .to_vec_f64()
                .unwrap();
            y.iter().zip(&w.data).map(|(a, b)| a * b).sum()
        };
        let stats = tensor(&x)
            .layer_norm_with_stats(&tensor(&gamma), &tensor(&beta), eps)
            .unwrap();
        let LayerNormGrads { dx, dgamma, dbeta } = tensor(&w)
            .layer_norm_backward(&tensor(&x), &stats.mean, &stats.rstd, &tensor(&gamma))
            .unwrap();
        let h = 1e-6;
        let numeric = |which: usize, i: usize| {
            let bump = |s: f64| {
                let (mut x, mut gamma, mut beta) = (x.clone(), gamma.clone(), beta.clone());
                [&mut x, &mut gamma, &mut beta][which].data[i] += s;
                loss(&x, &gamma, &beta)
            };
            (bump(h) - bump(-h)) / (2.0 * h)
        };
        for (which, grad) in [(0, &dx), (1, &dgamma), (2, &dbeta)] {
            for (i, &analytic) in grad.to_vec_f64().unwrap().iter().enumerate() {
                let fd = numeric(which, i);
                assert!(
                    (fd - analytic).abs() < 1e-6 * (1.0 + analytic.abs()),
                    "[{rows}, {d}] grad {which} entry {i}: finite difference {fd}, backward {analytic}"
                );
            }
        }
        // And the reference formula agrees with the finite differences too.
        let f = layer_norm_reference(&x, &gamma, &beta, eps);
        let b = layer_norm_backward_reference(&w, &x, &gamma, &f);
        for (i, &want) in b.dx.data.iter().enumerate() {
            let fd = numeric(0, i);
            assert!(
                (fd - want).abs() < 1e-6 * (1.0 + want.abs()),
                "reference dx {i}"
            );
        }
    }
}
