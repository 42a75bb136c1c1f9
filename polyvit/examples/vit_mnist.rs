//! A vision transformer on the embedded MNIST digits, in one file, from `nn`'s layers: 7×7
//! patches → linear embedding, a CLS token, learned position embeddings, a pre-LN encoder, a
//! linear head on the CLS token. SGD with momentum, warmup + cosine learning rate, clipping.
//!
//! `cargo run --release --example vit_mnist`
//!
//! This is PolyViT with one modality and one task; `polyvit::model` generalizes exactly these
//! pieces (a tokenizer per modality, a head per task, the encoder shared).

use autograd::Var;
use nn::layers::{Encoder, EncoderConfig, Gelu, LayerNorm, Linear, LinearInit, PatchEmbedding};
use nn::lr_schedule::WarmupCosine;
use nn::optim::{clip_grad_norm, Optimizer, Sgd};
use nn::{impl_parameters, Context, Module, Parameter, Parameters};
use polyvit::data::{build_task, Labels, SuiteConfig, TaskId};
use polyvit::train::batch::{batch_of, training_batch};
use polyvit::train::metrics::top1_accuracy;
use polyvit::train::Augmentation;
use std::error::Error;
use tensor::{DType, Device, Tensor};

/// `head(encoder(pos_embed + [cls; patch_embed(x)])[:, 0])`.
struct Vit {
    patch_embed: PatchEmbedding,
    cls: Parameter,
    pos_embed: Parameter,
    encoder: Encoder,
    head: Linear,
}

impl_parameters!(Vit {
    patch_embed,
    cls,
    pos_embed,
    encoder,
    head
});

impl Module for Vit {
    /// `[B, 1, 28, 28]` → `[B, 16, d]` patch tokens → `[B, 17, d]` with CLS → `[B, 10]` logits.
    fn forward(&self, x: &Var, ctx: &mut Context) -> tensor::Result<Var> {
        let patches = self.patch_embed.forward(x, ctx)?;
        let (batch, width) = (patches.shape()[0], patches.shape()[2]);
        let cls = self.cls.var().broadcast_to(&[batch, 1, width])?;
        let tokens = Var::concat(&[cls, patches], 1)?.add(&self.pos_embed.var())?;
        let encoded = self.encoder.forward(&tokens, ctx)?;
        let cls_out = encoded.narrow(1, 0, 1)?.reshape(&[batch, width])?;
        self.head.forward(&cls_out, ctx)
    }
}

/// Trains for `steps` steps of 32 digits; returns (mean loss of the first and of the last 20
/// steps, test accuracy).
fn run(steps: u64) -> Result<(f64, f64, f64), Box<dyn Error>> {
    let mnist = build_task(TaskId::Mnist, &SuiteConfig::default())?;
    let mut rng = tensor::rng(0);
    let (width, tokens) = (32, (28 / 7) * (28 / 7) + 1);
    let config = EncoderConfig {
        width,
        depth: 2,
        heads: 4,
        mlp_width: 2 * width,
        gelu: Gelu::Tanh,
        dropout: 0.0,
        attention_dropout: 0.0,
        stochastic_depth: 0.0,
        layer_norm_eps: LayerNorm::DEFAULT_EPS,
    };
    let positions = Tensor::randn(&[tokens, width], 0.0, 0.02, DType::F32, &mut rng);
    let mut model = Vit {
        patch_embed: PatchEmbedding::new(1, &[7, 7], width, DType::F32, &mut rng),
        cls: Parameter::new(Tensor::zeros(&[1, 1, width], DType::F32)),
        pos_embed: Parameter::new(positions),
        encoder: Encoder::new(&config, DType::F32, &mut rng)?,
        head: Linear::new(width, 10, LinearInit::LecunNormal, DType::F32, &mut rng),
    };
    for (name, p) in model.named_parameters().iter().take(6) {
        println!("{name:28} {:?}", p.shape());
    }
    println!("... {} parameters in all", model.parameter_count());
    let mut optimizer = Sgd::new(0.9);
    let mut ctx = Context::train(0);
    let mut losses = Vec::new();
    // Linear warmup over the first tenth of the steps, then cosine decay to 0.
    let schedule = WarmupCosine {
        base: 0.05,
        warmup: steps / 10,
        total: steps,
    };
    for step in 0..steps {
        let batch = training_batch(&mnist, 32, Augmentation::default(), &mut rng, &Device::Cpu)?;
        let logits = model.forward(&Var::constant(batch.inputs), &mut ctx)?;
        let loss = logits.softmax_cross_entropy(&batch.targets, 0.0)?;
        losses.push(loss.value().to_scalar()?);
        let mut grads = loss.backward()?;
        let norm = clip_grad_norm(&mut grads, 1.0)?;
        let lr = schedule.at(step);
        if step % 50 == 0 {
            let loss = losses[step as usize];
            println!("step {step:4}  loss {loss:.4}  lr {lr:.4}  grad norm {norm:.3}");
        }
        optimizer.step(&mut model, &grads, lr)?;
    }
    let Labels::Class(labels) = &mnist.test.labels else {
        return Err("MNIST has one class per image".into());
    };
    let all: Vec<usize> = (0..mnist.test.len()).collect();
    let test = batch_of(&mnist, &mnist.test, &all, &Device::Cpu)?;
    let logits =
        autograd::no_grad(|| model.forward(&Var::constant(test.inputs), &mut Context::eval()))?;
    let accuracy = top1_accuracy(&logits.value().to_vec::<f32>()?, 10, labels);
    let mean = |s: &[f64]| s.iter().sum::<f64>() / s.len() as f64;
    let (first, last) = (mean(&losses[..20]), mean(&losses[losses.len() - 20..]));
    println!("mean loss {first:.3} -> {last:.3}; test accuracy {accuracy:.3} (chance 0.100)");
    Ok((first, last, accuracy))
}

fn main() -> Result<(), Box<dyn Error>> {
    run(600).map(|_| ())
}

#[test]
fn the_vit_learns_the_digits() {
    let (first, last, accuracy) = run(200).unwrap();
    assert!(last < 0.7 * first, "loss {first} -> {last}");
    assert!(accuracy > 0.5, "test accuracy {accuracy}");
}
