//! How the graph behaves: fan-out, dead branches, no_grad, detach, and memory.

use autograd::{live_nodes, no_grad, Var};
use tensor::{DType, Tensor};

fn param(values: &[f64]) -> Var {
    Var::parameter(Tensor::from_f64s(values, &[values.len()], DType::F64).unwrap())
}

fn grad_of(grads: &autograd::Gradients, v: &Var) -> Vec<f64> {
    grads.get(v).expect("a gradient").to_vec_f64().unwrap()
}

/// An empty stack and a loss with nothing to differentiate are errors naming themselves.
#[test]
fn an_empty_stack_and_a_constant_loss_are_named() {
    assert_eq!(
        Var::stack(&[], 0).unwrap_err().to_string(),
        "stack: needs at least one tensor"
    );
    let w = Var::parameter(Tensor::ones(&[2], DType::F64));
    let loss = no_grad(|| w.square()?.sum_all()).unwrap();
    let err = loss
        .backward()
        .expect_err("nothing to differentiate")
        .to_string();
    assert!(
        err.starts_with("backward: the loss depends on no parameter"),
        "{err}"
    );
}

#[test]
fn fan_out_accumulates() {
    // y = Σ x·x + 3x  ⇒  dy/dx = 2x + 3.
    let x = param(&[1.0, -2.0, 0.5]);
    let y = x
        .mul(&x)
        .unwrap()
        .add(&x.mul_scalar(3.0).unwrap())
        .unwrap()
        .sum_all()
        .unwrap();
    let grads = y.backward().unwrap();
    assert_eq!(grad_of(&grads, &x), vec![5.0, -1.0, 4.0]);
}

#[test]
fn a_branch_that_misses_the_loss_gets_nothing_and_constants_need_nothing() {
    let x = param(&[1.0, 2.0]);
    let unused = param(&[5.0]);
    let _dead = unused.exp().unwrap();
    let c = Var::constant(Tensor::from_f64s(&[3.0, 4.0], &[2], DType::F64).unwrap());
    let y = x.mul(&c).unwrap().sum_all().unwrap();
    let grads = y.backward().unwrap();
    assert_eq!(grad_of(&grads, &x), vec![3.0, 4.0]);
    assert!(grads.get(&unused).is_none());
    assert!(grads.get(&c).is_none());
    assert_eq!(grads.len(), 1);
    assert!(
        !c.mul_scalar(2.0).unwrap().requires_grad(),
        "ops on constants record nothing"
    );
}

#[test]
fn no_grad_records_nothing_and_restores_recording() {
    let x = param(&[1.0, 2.0]);
    let y = no_grad(|| x.exp().unwrap());
    assert!(!y.requires_grad());
    assert!(
        x.exp().unwrap().requires_grad(),
        "recording is back on after the scope"
    );
}

#[test]
fn detach_stops_the_gradient() {
    // y = Σ x·detach(x) ⇒ dy/dx = detach(x) only (not 2x).
    let x = param(&[1.0, -3.0]);
    let y = x.mul(&x.detach()).unwrap().sum_all().unwrap();
    assert_eq!(grad_of(&y.backward().unwrap(), &x), vec![1.0, -3.0]);
}

#[test]
fn broadcast_gradients_are_summed_back_to_the_input_shape() {
    let bias = param(&[0.0, 0.0, 0.0]);
    let x = Var::constant(Tensor::ones(&[4, 3], DType::F64));
    let y = x
        .add(&bias)
        .unwrap()
        .mul_scalar(2.0)
        .unwrap()
        .sum_all()
        .unwrap();
    assert_eq!(grad_of(&y.backward().unwrap(), &bias), vec![8.0, 8.0, 8.0]);
}

#[test]
fn backward_twice_is_a_clear_error() {
    let x = param(&[1.0]);
    let y = x.exp().unwrap().sum_all().unwrap();
    y.backward().unwrap();
    let err = y.backward().expect_err("second backward must fail");
    assert!(
        matches!(&err, tensor::Error::Invalid { msg, .. } if msg.contains("backward ran twice")),
        "{err:?}"
    );
}

/// Retaining the graph lets a loss be back-propagated again, with the same gradients, and a
/// second loss through the shared part gets what one backward of the sum would split off; the
/// first plain backward after that frees the graph.
#[test]
fn a_retained_graph_back_propagates_again() {
    let x = param(&[0.5, -1.0]);
    let hidden = x.tanh().unwrap().mul(&x).unwrap();
    let first = hidden.sum_all().unwrap();
    let second = hidden.exp().unwrap().sum_all().unwrap();
    let once = grad_of(&first.backward_retain_graph().unwrap(), &x);
    assert_eq!(grad_of(&first.backward_retain_graph().unwrap(), &x), once);
    let other = grad_of(&second.backward_retain_graph().unwrap(), &x);
    let both = grad_of(&first.add(&second).unwrap().backward().unwrap(), &x);
    for i in 0..2 {
        assert!(
            (once[i] + other[i] - both[i]).abs() < 1e-12,
            "{once:?} + {other:?} vs {both:?}"
        );
    }
    let err = second.backward().unwrap_err().to_string();
    assert!(err.contains("backward ran twice"), "{err}");
}

/// Where clamp or where_cond passes no gradient, an infinite or NaN gradient from above (a
/// `sqrt` or `1/x` of the 0 the clamp made) stays 0, as in PyTorch, instead of 0·∞ = NaN.
#[test]
fn a_blocked_gradient_stays_zero_under_an_infinite_upstream() {
    let x = param(&[-1.0, 4.0]);
    let y = x.clamp(0.0, f64::INFINITY).unwrap().sqrt().unwrap();
    let grads = y.sum_all().unwrap().backward().unwrap();
    assert_eq!(grad_of(&grads, &x), [0.0, 0.25]);

    let (a, b) = (param(&[0.0, 1.0]), param(&[5.0, 0.0]));
    let condition = Tensor::from_f64s(&[1.0, 0.0], &[2], DType::F64).unwrap();
    let z = Var::where_cond(&condition, &a, &b).unwrap();
    let grads = z.recip().unwrap().sum_all().unwrap().backward().unwrap();
    assert_eq!(grad_of(&grads, &a), [f64::NEG_INFINITY, 0.0]);
    assert_eq!(grad_of(&grads, &b), [0.0, f64::NEG_INFINITY]);
}

#[test]
fn non_scalar_loss_is_rejected() {
    let x = param(&[1.0, 2.0]);
    let err = x.exp().unwrap().backward().err().unwrap().to_string();
    assert!(err.contains("[2]"), "{err}");
}

#[test]
fn training_loop_does_not_leak_graph_nodes() {
    let mut rng = tensor::rng(0);
    let mut w = Var::parameter(Tensor::randn(&[8, 4], 0.0, 0.3, DType::F32, &mut rng));
    let x = Var::constant(Tensor::randn(&[16, 8], 0.0, 1.0, DType::F32, &mut rng));
    let before = live_nodes();
    let mut after_first = None;
    for step in 0..1000 {
        let loss = x
            .matmul(&w)
            .unwrap()
            .tanh()
            .unwrap()
            .square()
            .unwrap()
            .mean_all()
            .unwrap();
        let logged = loss.value().clone(); // holding the value for logging keeps no graph alive
        let grads = loss.backward().unwrap();
        let g = grads.get(&w).unwrap().clone();
        let updated = no_grad(|| w.value().sub(&g.mul_scalar(0.1).unwrap()).unwrap());
        w = Var::parameter(updated);
        drop((loss, grads));
        assert!(logged.to_scalar().unwrap().is_finite());
        if step == 0 {
            after_first = Some(live_nodes());
        }
    }
    assert_eq!(
        live_nodes(),
        after_first.unwrap(),
        "graph nodes accumulate across steps"
    );
    assert_eq!(
        live_nodes(),
        before,
        "only the current parameter's leaf node stays alive"
    );
}

/// A graph built on one thread and dropped on another is counted off its creator's count, and
/// leaves the other thread's alone.
#[test]
fn a_graph_dropped_on_another_thread_is_no_longer_live() {
    let before = live_nodes();
    let x = param(&[1.0, 2.0]);
    let y = x.exp().unwrap().sum_all().unwrap();
    assert_eq!(live_nodes(), before + 3);
    let elsewhere = std::thread::spawn(move || {
        let there = live_nodes();
        drop((x, y));
        live_nodes() - there
    });
    assert_eq!(elsewhere.join().unwrap(), 0);
    assert_eq!(live_nodes(), before);
}

/// Back-propagating two losses one at a time and accumulating gives the gradient of their sum.
#[test]
fn accumulated_gradients_equal_the_gradient_of_the_sum() {
    let x = Var::parameter(Tensor::from_f64s(&[0.5, -1.5, 2.0], &[3], DType::F64).unwrap());
    let y = Var::parameter(Tensor::from_f64s(&[1.0, 3.0], &[2], DType::F64).unwrap());
    let f = || x.mul(&x).unwrap().sum_all().unwrap();
    let g = || {
        x.sum_all()
            .unwrap()
            .mul(&y.exp().unwrap().sum_all().unwrap())
            .unwrap()
    };
    let together = f().add(&g()).unwrap().backward().unwrap();
    let mut apart = f().backward().unwrap();
    apart.accumulate(g().backward().unwrap()).unwrap();
    assert_eq!(apart.len(), 2, "x from both losses, y from the second");
    for v in [&x, &y] {
        let (a, b) = (apart.get(v).unwrap(), together.get(v).unwrap());
        let (a, b) = (a.to_vec::<f64>().unwrap(), b.to_vec::<f64>().unwrap());
        for (p, q) in a.iter().zip(&b) {
            assert!((p - q).abs() < 1e-12, "{a:?} vs {b:?}");
        }
    }
}

/// A graph as deep as a model of thousands of blocks is freed, and back-propagated through,
/// without recursion: dropping it node by node overflowed the stack.
#[test]
fn a_very_deep_graph_is_freed_without_recursion() {
    let before = live_nodes();
    let x = Var::parameter(Tensor::ones(&[1], DType::F32));
    let mut y = x.clone();
    for _ in 0..200_000 {
        y = y.mul_scalar(1.0).unwrap();
    }
    let grads = y.backward().unwrap();
    assert_eq!(grads.get(&x).unwrap().to_vec_f64().unwrap(), [1.0]);
    drop((y, grads));
    assert_eq!(live_nodes(), before + 1, "only the leaf is left");
    drop(x);
    assert_eq!(live_nodes(), before);
}

/// A product of vectors that do not fit names the shapes given, not the matrices the vectors
/// are reshaped to.
#[test]
fn matmul_errors_name_the_shapes_given() {
    let var = |shape: &[usize]| Var::parameter(Tensor::zeros(shape, DType::F32));
    let msg = |a: &[usize], b: &[usize]| var(a).matmul(&var(b)).err().unwrap().to_string();
    assert_eq!(
        msg(&[3], &[4]),
        "matmul: [3] x [4]: inner dimensions 3 and 4 differ"
    );
    assert_eq!(
        msg(&[2, 3], &[4]),
        "matmul: [2, 3] x [4]: inner dimensions 3 and 4 differ"
    );
    assert_eq!(
        msg(&[], &[4]),
        "matmul: [] x [4]: both operands need at least one axis"
    );
}

/// A scatter-add by an empty index (of any shape, as PyTorch allows) reads none of its source:
/// the output is the destination, whose gradient passes through, and the source's is zeros.
#[test]
fn an_empty_scatter_add_gives_its_source_zero_gradient() {
    let x = param(&[1.0, 2.0, 3.0]);
    let src = param(&[4.0, 5.0]);
    let index = Tensor::zeros(&[0, 4], DType::F64);
    let y = x.scatter_add(0, &index, &src).unwrap();
    assert_eq!(y.value().to_vec_f64().unwrap(), [1.0, 2.0, 3.0]);
    let grads = y.sum_all().unwrap().backward().unwrap();
    assert_eq!(grad_of(&grads, &x), [1.0, 1.0, 1.0]);
    assert_eq!(grad_of(&grads, &src), [0.0, 0.0]);
}
