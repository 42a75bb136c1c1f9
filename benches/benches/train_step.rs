//! One full training step (forward, backward, global clipping, SGD momentum) of a ViT on
//! 32×32 RGB images: width 192, 6 blocks, 3 heads, MLP 768, 4×4 patches (64 tokens + CLS),
//! batch 64, 10 classes. `reference/train_step.py` runs the same step in PyTorch.

use autograd::Var;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use nn::optim::{clip_grad_norm, Optimizer, Sgd};
use nn::Context;
use polyvit::data::Modality;
use polyvit::model::{ModelConfig, PolyVit, TaskSpec, TokenizerSpec};
use std::time::Duration;
use tensor::{DType, Tensor};

const BATCH: usize = 64;

fn train_step(c: &mut Criterion) {
    let config = ModelConfig {
        width: 192,
        depth: 6,
        heads: 3,
        mlp_width: 768,
        adapt_depth: 0,
        dropout: 0.0,
        attention_dropout: 0.0,
    };
    let tokenizer = TokenizerSpec {
        modality: Modality::Image,
        input_shape: vec![3, 32, 32],
        patch: vec![4, 4],
    };
    let task = TaskSpec {
        name: "bench".into(),
        modality: Modality::Image,
        classes: 10,
    };
    let mut rng = tensor::rng(0);
    let mut model = PolyVit::new(&config, &[tokenizer], &[task], DType::F32, &mut rng).unwrap();
    let images = Var::constant(Tensor::randn(
        &[BATCH, 3, 32, 32],
        0.0,
        1.0,
        DType::F32,
        &mut rng,
    ));
    let labels: Vec<usize> = (0..BATCH).map(|i| i % 10).collect();
    let mut optimizer = Sgd::new(0.9);
    let mut ctx = Context::train(0);

    let mut group = c.benchmark_group("train_step");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10))
        .throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("vit_d192_l6_b64_images", |b| {
        b.iter(|| {
            let logits = model.forward("bench", &images, 0.0, &mut ctx).unwrap();
            let loss = nn::loss::cross_entropy_with_labels(&logits, &labels, 0.0).unwrap();
            let mut grads = loss.backward().unwrap();
            clip_grad_norm(&mut grads, 1.0).unwrap();
            optimizer.step(&mut model, &grads, 0.01).unwrap();
        })
    });
    group.finish();
}

criterion_group!(benches, train_step);
criterion_main!(benches);
