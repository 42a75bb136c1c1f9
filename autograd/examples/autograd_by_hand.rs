//! Autograd by hand: a tiny expression, its graph, and its gradients next to the chain rule
//! worked out on paper and to central finite differences.
//!
//! `cargo run --release --example autograd_by_hand`
//!
//! `L = tanh(a·b + a) · b` at `a = 0.5`, `b = −1.5`. Every op on `Var`s records a node (its op,
//! its inputs, a backward rule); `backward` visits the nodes newest first and returns `∂L/∂a`
//! and `∂L/∂b`.

use autograd::Var;
use tensor::{DType, Result, Tensor};

const A: f64 = 0.5;
const B: f64 = -1.5;

/// The expression on plain numbers, for the finite differences.
fn loss(a: f64, b: f64) -> f64 {
    (a * b + a).tanh() * b
}

/// (autograd, chain rule by hand, finite differences) for `∂L/∂a` and for `∂L/∂b`.
fn run() -> Result<[[f64; 3]; 2]> {
    let a = Var::parameter(Tensor::scalar(A, DType::F64));
    let b = Var::parameter(Tensor::scalar(B, DType::F64));

    // The graph, one node per op; each node remembers the op that made it.
    let ab = a.mul(&b)?;
    let u = ab.add(&a)?;
    let t = u.tanh()?;
    let l = t.mul(&b)?;
    println!("the graph, in creation order (backward visits it bottom-up):");
    for (name, var) in [("ab", &ab), ("u", &u), ("t", &t), ("L", &l)] {
        println!(
            "  {name:2} = {:8.5}  made by {:?}",
            var.value().to_scalar()?,
            var.op().expect("recorded").name()
        );
    }

    let grads = l.backward()?;
    let autograd = [
        grads.get(&a).expect("L depends on a").to_scalar()?,
        grads.get(&b).expect("L depends on b").to_scalar()?,
    ];

    // The chain rule on paper: with u = ab + a and t = tanh u, dt/du = 1 − t²,
    // ∂L/∂a = b·(1 − t²)·(b + 1) and ∂L/∂b = t + b·(1 − t²)·a.
    let tv = (A * B + A).tanh();
    let by_hand = [
        B * (1.0 - tv * tv) * (B + 1.0),
        tv + B * (1.0 - tv * tv) * A,
    ];

    // Central differences: (L(x + h) − L(x − h)) / 2h.
    let h = 1e-6;
    let numeric = [
        (loss(A + h, B) - loss(A - h, B)) / (2.0 * h),
        (loss(A, B + h) - loss(A, B - h)) / (2.0 * h),
    ];

    println!("          autograd     by hand      finite diff.");
    for (k, name) in ["∂L/∂a", "∂L/∂b"].iter().enumerate() {
        println!(
            "  {name}  {:+.9}  {:+.9}  {:+.9}",
            autograd[k], by_hand[k], numeric[k]
        );
    }
    Ok([
        [autograd[0], by_hand[0], numeric[0]],
        [autograd[1], by_hand[1], numeric[1]],
    ])
}

fn main() -> Result<()> {
    run().map(|_| ())
}

#[test]
fn autograd_matches_the_chain_rule_and_finite_differences() {
    for [autograd, by_hand, numeric] in run().unwrap() {
        assert!(
            (autograd - by_hand).abs() < 1e-12,
            "{autograd} vs {by_hand}"
        );
        assert!((autograd - numeric).abs() < 1e-7, "{autograd} vs {numeric}");
    }
}
