//! Benchmarks live in `benches/benches/` and `src/bin/`; this library holds what they share: the
//! training-step shapes that the comparison with PyTorch (`benches/compare.sh`) times, one step
//! of each, their FLOP counts, and this machine's measured FMA peak.

pub mod peak;

use nn::optim::{clip_grad_norm, AdamW, Optimizer, Sgd};
use nn::{Context, Parameters};
use polyvit::data::Modality;
use polyvit::model::{ModelConfig, PolyVit, TaskSpec, TokenizerSpec};
use polyvit::train::batch::Batch;
use polyvit::train::micro_batch::TaskPass;
use polyvit::train::{LossKind, TaskConfig, TrainConfig};
use tensor::{DType, Device, Result, Tensor};

/// Images per batch of the [`StepShape::small`] step.
pub const BATCH: usize = 64;

/// Classes of every benchmark head.
const CLASSES: usize = 10;

/// The model and batch of one benchmarked training step. `reference/compare_step.py` builds the
/// same shapes in PyTorch under the same names.
#[derive(Clone, Debug)]
pub struct StepShape {
    pub name: &'static str,
    pub model: ModelConfig,
    pub tokenizer: TokenizerSpec,
    pub batch: usize,
    /// The parts each batch goes forward and backward in, at once on the CPU
    /// (`polyvit::train::micro_batch`): 1 for the ViT rows, as PyTorch runs them; the default
    /// run's for its steps.
    pub micro_batches: usize,
}

impl StepShape {
    /// A ViT on 32×32 RGB images: width 192, 6 blocks, 3 heads, MLP 768, 4×4 patches (64 tokens
    /// + CLS), batch 64 (≈ 70 GFLOP per step).
    pub fn small() -> StepShape {
        StepShape {
            name: "small",
            model: ModelConfig { depth: 6, ..ti16() },
            tokenizer: TokenizerSpec::new(Modality::Image, &[3, 32, 32], &[4, 4]),
            batch: BATCH,
            micro_batches: 1,
        }
    }

    /// DeiT-Ti's encoder width on 224×224 RGB images with 16×16 patches (196 tokens + CLS),
    /// 12 blocks, batch 8 (≈ 60 GFLOP per step).
    pub fn vit224() -> StepShape {
        StepShape {
            name: "vit224",
            model: ti16(),
            tokenizer: TokenizerSpec::new(Modality::Image, &[3, 224, 224], &[16, 16]),
            batch: 8,
            micro_batches: 1,
        }
    }

    /// One co-training step of the default run (the `small` preset, batch 32, in its
    /// micro-batches) on a task of `modality`, with the default suite's input shapes and
    /// patches: MNIST digits 1×28×28 in 7×7 patches, Moving-MNIST clips 8×1×32×32 in 2×8×8
    /// tubelets, log-mel spectrograms of 64 frames × 32 mel bands in patches of 2 frames × 32
    /// bands.
    pub fn suite(modality: Modality) -> StepShape {
        let (name, input, patch): (_, &[usize], &[usize]) = match modality {
            Modality::Image => ("suite-image", &[1, 28, 28], &[7, 7]),
            Modality::Video => ("suite-video", &[8, 1, 32, 32], &[2, 8, 8]),
            Modality::Audio => ("suite-audio", &[1, 64, 32], &[2, 32]),
        };
        StepShape {
            name,
            model: ModelConfig::preset("small").expect("a preset"),
            tokenizer: TokenizerSpec::new(modality, input, patch),
            batch: 32,
            micro_batches: TrainConfig::default().micro_batches,
        }
    }

    /// Every shape the comparison runs, in its order.
    pub fn all() -> Vec<StepShape> {
        vec![
            StepShape::small(),
            StepShape::vit224(),
            StepShape::suite(Modality::Image),
            StepShape::suite(Modality::Video),
            StepShape::suite(Modality::Audio),
        ]
    }

    /// The shape called `name`.
    pub fn by_name(name: &str) -> Option<StepShape> {
        StepShape::all().into_iter().find(|s| s.name == name)
    }

    /// Multiply-add FLOPs of one training step, counted from the matrix products: per block and
    /// token, the qkv (2·d·3d), output (2·d²) and MLP (2·2·d·m) projections and the two
    /// attention products (2·2·n·d for n tokens); the patch projection per patch token; the
    /// head per example. Training is three times the forward (the products' two gradients),
    /// less the patch projection's input gradient, which no one needs.
    pub fn train_flops(&self) -> f64 {
        let m = &self.model;
        let (d, mlp) = (m.width as f64, m.mlp_width as f64);
        let patches = self.tokenizer.tokens() as f64;
        let n = patches + 1.0;
        let block = 2.0 * d * 3.0 * d + 2.0 * d * d + 4.0 * d * mlp + 4.0 * n * d;
        let patch_projection = 2.0 * self.tokenizer.patch_features() as f64 * d * patches;
        let head = 2.0 * d * CLASSES as f64;
        let forward = m.depth as f64 * block * n + patch_projection + head;
        self.batch as f64 * (3.0 * forward - patch_projection)
    }
}

/// DeiT-Ti's encoder: width 192, 12 blocks, 3 heads, MLP 768.
fn ti16() -> ModelConfig {
    ModelConfig::preset("ti16").expect("a preset")
}

/// The optimizers the comparison runs, with PyTorch's defaults where both sides have them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OptimizerKind {
    /// SGD, momentum 0.9, learning rate 0.01.
    Sgd,
    /// AdamW, β = (0.9, 0.999), ε = 1e-8, weight decay 0.01, learning rate 1e-3.
    AdamW,
}

impl OptimizerKind {
    /// `sgd` or `adamw`.
    pub fn parse(name: &str) -> Option<OptimizerKind> {
        match name {
            "sgd" => Some(OptimizerKind::Sgd),
            "adamw" => Some(OptimizerKind::AdamW),
            _ => None,
        }
    }

    fn build(self) -> (Box<dyn Optimizer>, f64) {
        match self {
            OptimizerKind::Sgd => (Box::new(Sgd::new(0.9)), 0.01),
            OptimizerKind::AdamW => (Box::new(AdamW::new(0.9, 0.999, 1e-8, 0.01)), 1e-3),
        }
    }
}

/// One full training step (forward, softmax cross-entropy, backward, global clipping at 1.0, an
/// optimizer update) of a [`StepShape`] on a fixed random batch.
pub struct TrainStep {
    pub model: PolyVit,
    batch: Batch,
    micro_batches: usize,
    /// The micro-batches run at once (on the CPU), as in training.
    parallel: bool,
    task: TaskConfig,
    optimizer: Box<dyn Optimizer>,
    lr: f64,
    ctx: Context,
}

impl TrainStep {
    /// The model, a batch of random inputs and its labels, all on `device`.
    pub fn new(shape: &StepShape, optimizer: OptimizerKind, device: &Device) -> Result<TrainStep> {
        let task = TaskSpec::new("bench", shape.tokenizer.modality, CLASSES);
        let mut rng = tensor::rng(0);
        let tokenizers = [shape.tokenizer.clone()];
        let mut model = PolyVit::new(&shape.model, &tokenizers, &[task], DType::F32, &mut rng)?;
        model.to_device(device)?;
        let batch_shape: Vec<usize> = [shape.batch]
            .into_iter()
            .chain(shape.tokenizer.input_shape.iter().copied())
            .collect();
        let inputs = Tensor::randn_on(&batch_shape, 0.0, 1.0, DType::F32, device, &mut rng)?;
        let one_hot: Vec<f32> = (0..shape.batch * CLASSES)
            .map(|i| f32::from(i / CLASSES % CLASSES == i % CLASSES))
            .collect();
        let targets = Tensor::from_vec_on(one_hot, &[shape.batch, CLASSES], device)?;
        let (optimizer, lr) = optimizer.build();
        Ok(TrainStep {
            model,
            batch: Batch { inputs, targets },
            micro_batches: shape.micro_batches,
            parallel: *device == Device::Cpu,
            task: TaskConfig::new("bench"),
            optimizer,
            lr,
            ctx: Context::train(0),
        })
    }

    /// The [`StepShape::small`] step with SGD, as the criterion benches time it.
    pub fn small(device: &Device) -> Result<TrainStep> {
        TrainStep::new(&StepShape::small(), OptimizerKind::Sgd, device)
    }

    /// Runs one step.
    pub fn run(&mut self) -> Result<()> {
        let pass = TaskPass {
            model: &self.model,
            name: "bench",
            config: &self.task,
            loss: LossKind::Softmax,
        };
        let rows = self.batch.inputs.shape()[0];
        let mut grads = pass
            .gradients(
                &self.batch,
                0..rows,
                rows,
                self.micro_batches,
                self.parallel,
                &mut self.ctx,
            )?
            .gradients;
        clip_grad_norm(&mut grads, 1.0)?;
        self.optimizer.step(&mut self.model, &grads, self.lr)
    }
}
