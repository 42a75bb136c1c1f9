//! An MLP learning the embedded MNIST digits: 784 → 128 → 10, ReLU, softmax cross-entropy,
//! SGD with momentum, evaluated on 1,000 test digits it never saw.
//!
//! `cargo run --release --example mlp_mnist`
//!
//! The digits come from the suite's `mnist` task (8,100 training images, standardized), so the
//! example needs no download. A plain two-layer MLP reaches about 95 % on the test digits in a
//! few seconds; chance is 10 %.

use autograd::Var;
use nn::layers::{Linear, LinearInit};
use nn::optim::{Optimizer, Sgd};
use nn::{impl_parameters, Context, Module};
use polyvit::data::{build_task, Dataset, Labels, Split, SuiteConfig, TaskId};
use polyvit::train::batch::{batch_of, training_batch};
use polyvit::train::metrics::top1_accuracy;
use polyvit::train::Augmentation;
use std::error::Error;
use tensor::{DType, Device};

/// `fc2(relu(fc1(flatten(x))))`.
struct Mlp {
    fc1: Linear,
    fc2: Linear,
}

impl_parameters!(Mlp { fc1, fc2 });

impl Module for Mlp {
    fn forward(&self, x: &Var, ctx: &mut Context) -> tensor::Result<Var> {
        let flat = x.reshape(&[x.shape()[0], self.fc1.in_features()])?;
        self.fc2
            .forward(&self.fc1.forward(&flat, ctx)?.relu()?, ctx)
    }
}

/// The model's top-1 accuracy on `split`, all examples in one batch.
fn accuracy(model: &Mlp, dataset: &Dataset, split: &Split) -> Result<f64, Box<dyn Error>> {
    let Labels::Class(labels) = &split.labels else {
        return Err("MNIST has one class per image".into());
    };
    let all: Vec<usize> = (0..split.len()).collect();
    let batch = batch_of(dataset, split, &all, &Device::Cpu)?;
    let logits =
        autograd::no_grad(|| model.forward(&Var::constant(batch.inputs), &mut Context::eval()))?;
    let scores = logits.value().to_vec::<f32>()?;
    Ok(top1_accuracy(&scores, dataset.num_classes, labels))
}

/// Trains for `steps` steps of 64 digits; returns (first loss, last loss, test accuracy).
fn run(steps: usize) -> Result<(f64, f64, f64), Box<dyn Error>> {
    let mnist = build_task(TaskId::Mnist, &SuiteConfig::default())?;
    println!(
        "{} training digits of shape {:?}, {} test digits",
        mnist.train.len(),
        mnist.shape,
        mnist.test.len()
    );
    let mut rng = tensor::rng(0);
    let mut model = Mlp {
        fc1: Linear::new(
            28 * 28,
            128,
            LinearInit::XavierUniform,
            DType::F32,
            &mut rng,
        ),
        fc2: Linear::new(128, 10, LinearInit::XavierUniform, DType::F32, &mut rng),
    };
    let mut optimizer = Sgd::new(0.9);
    let mut ctx = Context::train(0);
    let mut losses = Vec::with_capacity(steps);
    for step in 0..steps {
        // 64 distinct random training digits, as [64, 1, 28, 28] inputs and [64, 10] one-hots.
        let batch = training_batch(&mnist, 64, Augmentation::default(), &mut rng, &Device::Cpu)?;
        let logits = model.forward(&Var::constant(batch.inputs), &mut ctx)?;
        let loss = logits.softmax_cross_entropy(&batch.targets, 0.0)?;
        losses.push(loss.value().to_scalar()?);
        if step % 50 == 0 {
            println!("step {step:4}  loss {:.4}", losses[step]);
        }
        optimizer.step(&mut model, &loss.backward()?, 0.02)?;
    }
    let test = accuracy(&model, &mnist, &mnist.test)?;
    let (first, last) = (losses[0], losses[steps - 1]);
    println!("loss {first:.3} -> {last:.3}; test accuracy {test:.3} (chance 0.100)");
    Ok((first, last, test))
}

fn main() -> Result<(), Box<dyn Error>> {
    run(600).map(|_| ())
}

#[test]
fn the_mlp_learns_the_digits() {
    let (first, last, test) = run(150).unwrap();
    assert!(last < 0.5 * first, "loss {first} -> {last}");
    assert!(test > 0.8, "test accuracy {test}");
}
