//! Benchmarks live in `benches/benches/`; this library holds what several of them share.

use autograd::Var;
use nn::optim::{clip_grad_norm, Optimizer, Sgd};
use nn::{Context, Parameters};
use polyvit::data::Modality;
use polyvit::model::{ModelConfig, PolyVit, TaskSpec, TokenizerSpec};
use tensor::{DType, Device, Result, Tensor};

/// Images per batch of [`VitStep`].
pub const BATCH: usize = 64;

/// One full training step (forward, backward, global clipping, SGD momentum) of a ViT on
/// 32×32 RGB images: width 192, 6 blocks, 3 heads, MLP 768, 4×4 patches (64 tokens + CLS),
/// batch 64, 10 classes. `reference/train_step.py` runs the same step in PyTorch.
pub struct VitStep {
    pub model: PolyVit,
    images: Var,
    labels: Vec<usize>,
    optimizer: Sgd,
    ctx: Context,
}

impl VitStep {
    /// The model, a batch of random images and its labels, all on `device`.
    pub fn new(device: &Device) -> Result<VitStep> {
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
        let mut model = PolyVit::new(&config, &[tokenizer], &[task], DType::F32, &mut rng)?;
        model.to_device(device)?;
        let shape = [BATCH, 3, 32, 32];
        let images = Tensor::randn_on(&shape, 0.0, 1.0, DType::F32, device, &mut rng)?;
        Ok(VitStep {
            model,
            images: Var::constant(images),
            labels: (0..BATCH).map(|i| i % 10).collect(),
            optimizer: Sgd::new(0.9),
            ctx: Context::train(0),
        })
    }

    /// Runs one step.
    pub fn run(&mut self) -> Result<()> {
        let logits = self
            .model
            .forward("bench", &self.images, 0.0, &mut self.ctx)?;
        let loss = nn::loss::cross_entropy_with_labels(&logits, &self.labels, 0.0)?;
        let mut grads = loss.backward()?;
        clip_grad_norm(&mut grads, 1.0)?;
        self.optimizer.step(&mut self.model, &grads, 0.01)
    }
}
