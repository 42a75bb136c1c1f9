//! PolyViT: one encoder shared by every task.

use super::{ModelConfig, TaskSpec, Tokenizer, TokenizerSpec};
use crate::data::Modality;
use autograd::Var;
use nn::layers::{Dropout, Encoder, EncoderBlock, EncoderConfig, LayerNorm, Linear, LinearInit};
use nn::parameter::ParameterKey;
use nn::{impl_parameters, Context, Module};
use tensor::{DType, Error, Result, Rng};

/// The reference's head initialization: LeCun normal for image tasks, zeros for video and audio.
fn head_init(modality: Modality) -> LinearInit {
    match modality {
        Modality::Image => LinearInit::LecunNormal,
        Modality::Video | Modality::Audio => LinearInit::Zeros,
    }
}

/// Tokenizer of the task's modality → dropout (the model's `dropout` rate, on the tokens as the
/// reference's encoder applies it to its input) → that modality's `L_adapt` blocks → the shared
/// blocks → the shared final LayerNorm → the task's linear head on the CLS token.
pub struct PolyVit {
    /// The transformer's shape it was built with (width, depth, heads, MLP width, `L_adapt`,
    /// dropout rates).
    pub config: ModelConfig,
    /// One tokenizer per modality in use.
    pub tokenizers: Vec<(Modality, Tokenizer)>,
    /// The first `L_adapt` blocks of each modality (empty when `L_adapt = 0`).
    pub adapters: Vec<(Modality, Vec<EncoderBlock>)>,
    /// Blocks `L_adapt..L` and the final LayerNorm, shared by every task.
    pub encoder: Encoder,
    /// One head per task.
    pub heads: Vec<(TaskSpec, Linear)>,
}

impl PolyVit {
    /// Builds a model for `tasks`, with one tokenizer per entry of `tokenizers` (each task's
    /// modality must have one). Video tokenizers are initialized from the image tokenizer's
    /// central frame when both exist and fit.
    pub fn new(
        config: &ModelConfig,
        tokenizers: &[TokenizerSpec],
        tasks: &[TaskSpec],
        dtype: DType,
        rng: &mut Rng,
    ) -> Result<PolyVit> {
        if config.adapt_depth > config.depth {
            return Err(Error::invalid(
                "polyvit",
                format!(
                    "adapt_depth (L_adapt) = {}: more than the model's {} blocks",
                    config.adapt_depth, config.depth
                ),
            ));
        }
        if let Some(task) = tasks
            .iter()
            .find(|t| !tokenizers.iter().any(|s| s.modality == t.modality))
        {
            return Err(Error::invalid(
                "polyvit",
                format!(
                    "task {} needs {} tokenizer",
                    task.name,
                    task.modality.with_article()
                ),
            ));
        }
        let block_config = EncoderConfig {
            width: config.width,
            depth: config.depth,
            heads: config.heads,
            mlp_width: config.mlp_width,
            gelu: config.gelu,
            dropout: config.dropout,
            attention_dropout: config.attention_dropout,
            stochastic_depth: 0.0,
            layer_norm_eps: LayerNorm::DEFAULT_EPS,
        };
        let mut built = Vec::new();
        for spec in tokenizers {
            built.push((
                spec.modality,
                Tokenizer::new(spec, config.width, dtype, rng)?,
            ));
        }
        let image = built.iter().position(|(m, _)| *m == Modality::Image);
        let video = built.iter().position(|(m, _)| *m == Modality::Video);
        if let (Some(image), Some(video)) = (image, video) {
            if built[video].1.spec.is_tubelet_of(&built[image].1.spec) {
                let (_, mut video_tokenizer) = built.remove(video);
                let image = if image > video { image - 1 } else { image };
                video_tokenizer.init_central_frame_from(&built[image].1)?;
                built.insert(video, (Modality::Video, video_tokenizer));
            }
        }
        let adapters = tokenizers
            .iter()
            .map(|spec| {
                let blocks = (0..config.adapt_depth)
                    .map(|_| EncoderBlock::new(&block_config, 0.0, dtype, rng))
                    .collect::<Result<_>>()?;
                Ok((spec.modality, blocks))
            })
            .collect::<Result<_>>()?;
        let shared = EncoderConfig {
            depth: config.depth - config.adapt_depth,
            ..block_config
        };
        let encoder = Encoder::new(&shared, dtype, rng)?;
        let heads = tasks
            .iter()
            .map(|t| {
                (
                    t.clone(),
                    Linear::new(config.width, t.classes, head_init(t.modality), dtype, rng),
                )
            })
            .collect();
        Ok(PolyVit {
            config: config.clone(),
            tokenizers: built,
            adapters,
            encoder,
            heads,
        })
    }

    /// The task called `name`.
    pub fn task(&self, name: &str) -> Result<&TaskSpec> {
        self.heads
            .iter()
            .map(|(t, _)| t)
            .find(|t| t.name == name)
            .ok_or_else(|| {
                let known: Vec<&str> = self.heads.iter().map(|(t, _)| t.name.as_str()).collect();
                Error::invalid(
                    "polyvit",
                    format!("unknown task {name:?} (the model has {})", known.join(", ")),
                )
            })
    }

    /// The tokenizer of `modality` (every task's modality has one: checked in [`PolyVit::new`]).
    fn tokenizer(&self, modality: Modality) -> &Tokenizer {
        &self
            .tokenizers
            .iter()
            .find(|(m, _)| *m == modality)
            .expect("validated in new")
            .1
    }

    /// The tokens one example of task `task` is to the encoder: its modality's patches and the
    /// CLS token. Each block's attention map holds `heads · tokens²` scores per example, the
    /// largest tensors of a pass when the inputs are cut into thousands of tokens.
    pub fn tokens_per_example(&self, task: &str) -> Result<usize> {
        Ok(self.tokenizer(self.task(task)?.modality).spec.tokens() + 1)
    }

    /// The scores of one block's attention map for one example of task `task`:
    /// `heads · tokens²` (see [`PolyVit::tokens_per_example`]).
    pub fn attention_scores_per_example(&self, task: &str) -> Result<usize> {
        let tokens = self.tokens_per_example(task)?;
        Ok(self.config.heads * tokens * tokens)
    }

    /// Logits `[B, classes]` of task `task` for a batch `[B, …example shape]`.
    /// `stochastic_depth` (the task's key of that name) is the drop-path rate of the last block
    /// (linear in depth), active in training only.
    pub fn forward(
        &self,
        task: &str,
        input: &Var,
        stochastic_depth: f64,
        ctx: &mut Context,
    ) -> Result<Var> {
        let modality = self.task(task)?.modality;
        let tokenizer = self.tokenizer(modality);
        let adapters = &self
            .adapters
            .iter()
            .find(|(m, _)| *m == modality)
            .expect("one per tokenizer")
            .1;
        let tokens = tokenizer.forward(input, ctx)?;
        let mut x = Dropout {
            rate: self.config.dropout,
        }
        .forward(&tokens, ctx)?;
        let depth = self.config.depth;
        let blocks = adapters.iter().chain(&self.encoder.blocks);
        for (i, block) in blocks.enumerate() {
            x = block.forward_with_drop_path(
                &x,
                nn::layers::block_drop_path_rate(stochastic_depth, i, depth),
                ctx,
            )?;
        }
        let cls = self
            .encoder
            .norm
            .forward(&x, ctx)?
            .narrow(1, 0, 1)?
            .squeeze(1)?;
        let head = &self
            .heads
            .iter()
            .find(|(t, _)| t.name == task)
            .expect("task exists")
            .1;
        head.forward(&cls, ctx)
    }
}

impl_parameters!(PolyVit {
    tokenizers,
    adapters,
    encoder,
    heads
});

/// A modality's tokenizer and adapter blocks are named by it: `tokenizers.image`.
impl ParameterKey for Modality {
    fn key(&self) -> &str {
        self.name()
    }
}

/// A task's head is named by it: `heads.mnist`.
impl ParameterKey for TaskSpec {
    fn key(&self) -> &str {
        &self.name
    }
}
