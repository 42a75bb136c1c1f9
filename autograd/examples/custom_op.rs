//! Adding your own op: a value computed with tensor ops, a backward rule, and a gradient check.
//!
//! `cargo run --release --example custom_op`
//!
//! The op is the "swish" activation `y = x·σ(x)`. Written with built-in ops it records two nodes
//! (sigmoid, then mul) and back-propagates through both; as one custom op it records a single
//! node whose rule keeps `x` and `σ(x)` and applies `dy/dx = σ(x)·(1 + x·(1 − σ(x)))` directly.
//! [`autograd::gradcheck`] then compares the rule with central finite differences.

use autograd::{gradcheck, GradcheckOptions, Op, Var};
use tensor::{DType, Result, Tensor};

/// `y = x·σ(x)`, recorded as one node with a hand-written backward rule.
fn swish(x: &Var) -> Result<Var> {
    let input = x.value().clone();
    let sigmoid = input.sigmoid()?;
    let value = input.mul(&sigmoid)?;
    Ok(Var::custom(value, &[x], move |g, _needs| {
        // σ(x)·(1 + x·(1 − σ(x))), times the incoming gradient.
        let one_minus = sigmoid.neg()?.add_scalar(1.0)?;
        let derivative = sigmoid.mul(&input.mul(&one_minus)?.add_scalar(1.0)?)?;
        Ok(vec![Some(g.mul(&derivative)?)])
    }))
}

/// The same function built from autograd's own ops, to compare with.
fn swish_composed(x: &Var) -> Result<Var> {
    x.mul(&x.sigmoid()?)
}

/// (values agree, gradients agree, the check passed with the op in the graph, a wrong rule was
/// caught).
fn run() -> Result<(bool, bool, bool, bool)> {
    let data = Tensor::from_f64s(&[-2.0, -0.5, 0.0, 0.5, 2.0], &[5], DType::F64)?;

    let x = Var::parameter(data.clone());
    let y = swish(&x)?;
    println!("x          = {:?}", data.to_vec::<f64>()?);
    println!("swish(x)   = {:.6?}", y.value().to_vec::<f64>()?);
    println!("recorded as {:?} (one node)", y.op());
    let grad = y
        .sum_all()?
        .backward()?
        .remove(&x)
        .expect("x has a gradient");

    let x2 = Var::parameter(data.clone());
    let y2 = swish_composed(&x2)?;
    let grad2 = y2
        .sum_all()?
        .backward()?
        .remove(&x2)
        .expect("x has a gradient");
    println!("dy/dx, custom rule    = {:.6?}", grad.to_vec::<f64>()?);
    println!("dy/dx, composed ops   = {:.6?}", grad2.to_vec::<f64>()?);
    let close = |a: &Tensor, b: &Tensor| -> Result<bool> {
        let (a, b) = (a.to_vec::<f64>()?, b.to_vec::<f64>()?);
        Ok(a.iter().zip(&b).all(|(p, q)| (p - q).abs() < 1e-12))
    };
    let values_agree = close(y.value(), y2.value())?;
    let grads_agree = close(&grad, &grad2)?;

    // The finite-difference check that every built-in op passes, on a random [3, 4] input.
    let random = Tensor::randn(&[3, 4], 0.0, 1.5, DType::F64, &mut tensor::rng(1));
    let options = GradcheckOptions::default();
    let checked = match gradcheck(|v| swish(&v[0]), std::slice::from_ref(&random), &options) {
        Ok(ops) => {
            println!("gradcheck passed; ops in the graph: {ops:?}");
            ops.contains(&Op::Custom)
        }
        Err(msg) => {
            println!("gradcheck FAILED: {msg}");
            false
        }
    };

    // A rule with a mistake (the `1 +` forgotten) is caught by the same check.
    let wrong = |x: &Var| -> Result<Var> {
        let input = x.value().clone();
        let sigmoid = input.sigmoid()?;
        Ok(Var::custom(input.mul(&sigmoid)?, &[x], move |g, _| {
            let one_minus = sigmoid.neg()?.add_scalar(1.0)?;
            Ok(vec![Some(g.mul(&sigmoid.mul(&input.mul(&one_minus)?)?)?)])
        }))
    };
    let caught = match gradcheck(|v| wrong(&v[0]), &[random], &options) {
        Ok(_) => false,
        Err(msg) => {
            println!("a wrong rule is caught: {msg}");
            true
        }
    };
    Ok((values_agree, grads_agree, checked, caught))
}

fn main() -> Result<()> {
    run().map(|_| ())
}

#[test]
fn the_custom_rule_passes_and_a_wrong_one_fails() {
    assert_eq!(run().unwrap(), (true, true, true, true));
}
