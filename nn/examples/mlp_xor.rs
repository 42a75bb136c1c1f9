//! An MLP learning XOR: two Linear layers, tanh, softmax cross-entropy and SGD with momentum.
//!
//! `cargo run --release --example mlp_xor`
//!
//! XOR is the classic problem a linear model cannot solve: no line separates {(0,1), (1,0)}
//! from {(0,0), (1,1)}. One hidden layer of 8 tanh units learns it in a few hundred steps.

use autograd::Var;
use nn::layers::{Linear, LinearInit};
use nn::loss::cross_entropy_with_labels;
use nn::optim::{Optimizer, Sgd};
use nn::{impl_parameters, Context, Module, Parameters};
use tensor::{DType, Result, Tensor};

/// `fc2(tanh(fc1(x)))`; its parameters are named `fc1.weight`, `fc1.bias`, `fc2.weight`, ...
struct Mlp {
    fc1: Linear,
    fc2: Linear,
}

impl_parameters!(Mlp { fc1, fc2 });

impl Module for Mlp {
    fn forward(&self, x: &Var, ctx: &mut Context) -> Result<Var> {
        self.fc2.forward(&self.fc1.forward(x, ctx)?.tanh()?, ctx)
    }
}

/// (final loss, predicted class of each of the four inputs).
fn run() -> Result<(f64, Vec<usize>)> {
    let mut rng = tensor::rng(0);
    let mut model = Mlp {
        fc1: Linear::new(2, 8, LinearInit::XavierUniform, DType::F32, &mut rng),
        fc2: Linear::new(8, 2, LinearInit::XavierUniform, DType::F32, &mut rng),
    };
    for (name, p) in model.named_parameters() {
        println!("{name:10} {:?}", p.shape());
    }
    let inputs = Tensor::from_vec(vec![0.0f32, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0], &[4, 2])?;
    let labels = [0, 1, 1, 0];
    let x = Var::constant(inputs);
    let mut optimizer = Sgd::new(0.9);
    let mut ctx = Context::train(0);
    let mut loss_value = f64::NAN;
    for step in 0..300 {
        let loss = cross_entropy_with_labels(&model.forward(&x, &mut ctx)?, &labels, 0.0)?;
        loss_value = loss.value().to_scalar()?;
        if step % 50 == 0 {
            println!("step {step:3}  loss {loss_value:.4}");
        }
        let grads = loss.backward()?;
        optimizer.step(&mut model, &grads, 0.1)?;
    }
    let logits = model.forward(&x, &mut Context::eval())?;
    let predicted: Vec<usize> = logits
        .value()
        .argmax(1, false)?
        .to_vec_f64()?
        .into_iter()
        .map(|c| c as usize)
        .collect();
    println!("final loss {loss_value:.4}");
    for (i, (&label, &guess)) in labels.iter().zip(&predicted).enumerate() {
        let [a, b] = [i / 2, i % 2];
        println!("  {a} xor {b} = {label}, the MLP says {guess}");
    }
    Ok((loss_value, predicted))
}

fn main() -> Result<()> {
    run().map(|_| ())
}

#[test]
fn the_mlp_learns_xor() {
    let (loss, predicted) = run().unwrap();
    assert_eq!(predicted, [0, 1, 1, 0]);
    assert!(loss < 0.1, "loss {loss}");
}
