//! Model shapes: presets of the paper and small ones for a CPU, and what each task and modality
//! looks like to the model.

use crate::data::Modality;
use nn::layers::Gelu;

/// The shape of the transformer.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelConfig {
    /// The token width `d` (768 for `b16`).
    pub width: usize,
    /// Transformer blocks in all, `L_adapt` modality-specific ones included.
    pub depth: usize,
    /// Attention heads per block (they divide `width`).
    pub heads: usize,
    /// The hidden width of each block's MLP (`4d` in the paper's presets).
    pub mlp_width: usize,
    /// `L_adapt`: the first this-many blocks are modality-specific, the rest shared.
    pub adapt_depth: usize,
    /// Dropout rate on the tokens entering the first block and on each block's attention and MLP
    /// outputs (and its MLP's hidden layer).
    pub dropout: f64,
    /// Dropout rate on the attention weights.
    pub attention_dropout: f64,
    /// The form of GELU in the MLPs: tanh (the reference's), or erf to match a model trained
    /// with it (timm's ViTs, for `--init-from`).
    pub gelu: Gelu,
}

impl ModelConfig {
    /// A preset by name: the paper's `b16` and `l16`, DeiT's `ti16`, and `small` / `tiny` for a
    /// 2-core CPU (`tiny` is for tests); another name is an error that lists them.
    pub fn preset(name: &str) -> Result<ModelConfig, String> {
        let (width, depth, heads, mlp_width) = match name {
            "b16" => (768, 12, 12, 3072),
            "l16" => (1024, 24, 16, 4096),
            "ti16" => (192, 12, 3, 768),
            "small" => (64, 4, 4, 128),
            "tiny" => (16, 2, 2, 32),
            _ => {
                return Err(format!(
                    "unknown preset {name:?} (known: {})",
                    Self::PRESETS.join(", ")
                ))
            }
        };
        Ok(ModelConfig {
            width,
            depth,
            heads,
            mlp_width,
            adapt_depth: 0,
            dropout: 0.0,
            attention_dropout: 0.0,
            gelu: Gelu::Tanh,
        })
    }

    /// The names [`ModelConfig::preset`] accepts.
    pub const PRESETS: [&'static str; 5] = ["b16", "l16", "ti16", "small", "tiny"];
}

/// How one modality's examples are cut into tokens.
#[derive(Clone, Debug, PartialEq)]
pub struct TokenizerSpec {
    /// The kind of input it cuts (and the tokenizer's name in the checkpoint).
    pub modality: Modality,
    /// One example's shape: image `[C, H, W]`, video `[T, C, H, W]`, audio `[1, time, mel]`.
    pub input_shape: Vec<usize>,
    /// Patch size: `[height, width]` for images and spectrograms (`[frames, mel bands]`, e.g.
    /// `[2, 32]`), `[t, p, p]` (a tubelet) for video.
    pub patch: Vec<usize>,
}

impl TokenizerSpec {
    /// Channels and the patched axes, in the `[C, D₁, …]` order the patch embedding expects.
    pub fn channels_and_extent(&self) -> (usize, Vec<usize>) {
        match self.modality {
            Modality::Video => (
                self.input_shape[1],
                [self.input_shape[0]]
                    .into_iter()
                    .chain(self.input_shape[2..].iter().copied())
                    .collect(),
            ),
            Modality::Image | Modality::Audio => {
                (self.input_shape[0], self.input_shape[1..].to_vec())
            }
        }
    }

    /// Tokens per example, CLS excluded.
    pub fn tokens(&self) -> usize {
        let (_, extent) = self.channels_and_extent();
        extent.iter().zip(&self.patch).map(|(d, p)| d / p).product()
    }

    /// Features of one flattened patch (`C·∏pᵢ`).
    pub fn patch_features(&self) -> usize {
        self.channels_and_extent().0 * self.patch.iter().product::<usize>()
    }

    /// True when this is a video tokenizer whose tubelet extends `image`'s patch over time with
    /// the same channels (so the image kernel can initialize its central frame).
    pub fn is_tubelet_of(&self, image: &TokenizerSpec) -> bool {
        self.modality == Modality::Video
            && image.modality == Modality::Image
            && self.patch.len() == 3
            && self.patch[1..] == image.patch[..]
            && self.channels_and_extent().0 == image.channels_and_extent().0
    }

    /// Checks that the patch fits the input.
    pub fn validate(&self) -> Result<(), String> {
        let expected_rank = if self.modality == Modality::Video {
            4
        } else {
            3
        };
        let (_, extent) = if self.input_shape.len() == expected_rank {
            self.channels_and_extent()
        } else {
            (0, Vec::new())
        };
        if self.input_shape.len() != expected_rank
            || extent.len() != self.patch.len()
            || extent
                .iter()
                .zip(&self.patch)
                .any(|(&d, &p)| p == 0 || d % p != 0)
        {
            return Err(format!(
                "{} tokenizer: patch {:?} does not tile input {:?}",
                self.modality.name(),
                self.patch,
                self.input_shape
            ));
        }
        Ok(())
    }
}

/// A task as the model sees it: which tokenizer, how many outputs.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskSpec {
    /// The task's name (its head's name in the checkpoint).
    pub name: String,
    /// Which tokenizer its inputs go through.
    pub modality: Modality,
    /// The head's outputs: one per class.
    pub classes: usize,
}

impl TokenizerSpec {
    /// A tokenizer of `modality` for examples of `input_shape`, cut in patches of `patch`.
    pub fn new(modality: Modality, input_shape: &[usize], patch: &[usize]) -> TokenizerSpec {
        TokenizerSpec {
            modality,
            input_shape: input_shape.to_vec(),
            patch: patch.to_vec(),
        }
    }
}

impl TaskSpec {
    /// A task of `classes` classes on `modality`.
    pub fn new(name: &str, modality: Modality, classes: usize) -> TaskSpec {
        TaskSpec {
            name: name.into(),
            modality,
            classes,
        }
    }
}

/// The paper's nine tasks at the reference's input sizes: images 384² in 16×16 patches (576
/// tokens), video 32 frames of 224² in 4×16×16 tubelets (1,568), audio 800×128 spectrograms in
/// 16×16 patches (400).
pub fn paper_tasks() -> (Vec<TokenizerSpec>, Vec<TaskSpec>) {
    let tokenizers = vec![
        TokenizerSpec::new(Modality::Image, &[3, 384, 384], &[16, 16]),
        TokenizerSpec::new(Modality::Video, &[32, 3, 224, 224], &[4, 16, 16]),
        TokenizerSpec::new(Modality::Audio, &[1, 800, 128], &[16, 16]),
    ];
    let tasks = vec![
        TaskSpec::new("imagenet1k", Modality::Image, 1000),
        TaskSpec::new("cifar10", Modality::Image, 10),
        TaskSpec::new("cifar100", Modality::Image, 100),
        TaskSpec::new("pets", Modality::Image, 37),
        TaskSpec::new("resisc45", Modality::Image, 45),
        TaskSpec::new("kinetics400", Modality::Video, 400),
        TaskSpec::new("moments_in_time", Modality::Video, 339),
        TaskSpec::new("vggsound", Modality::Audio, 309),
        TaskSpec::new("audioset", Modality::Audio, 527),
    ];
    (tokenizers, tasks)
}
