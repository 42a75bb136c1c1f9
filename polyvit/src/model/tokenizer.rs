//! Modality tokenizers: patches (or tubelets) → linear embedding, a CLS token, position embeddings.

use super::TokenizerSpec;
use crate::data::Modality;
use autograd::Var;
use nn::layers::PatchEmbedding;
use nn::{impl_parameters, Context, Module, Parameter};
use tensor::{DType, Error, Result, Rng, Tensor};

/// Turns a batch of one modality into `[B, 1 + N, d]` tokens.
pub struct Tokenizer {
    /// The modality, example shape and patch it was built for: [`Tokenizer::forward`] takes
    /// only inputs of that example shape.
    pub spec: TokenizerSpec,
    /// Cuts each example into patches (tubelets for video) and projects each to `d`: the `N`
    /// tokens after the CLS token.
    pub patch_embed: PatchEmbedding,
    /// The modality's CLS token `[d]`, initialized to zeros.
    pub cls: Parameter,
    /// Learned position embeddings `[1 + N, d]`, initialized `N(0, 0.02²)`.
    pub pos_embed: Parameter,
}

impl_parameters!(Tokenizer {
    patch_embed,
    cls,
    pos_embed
});

impl Tokenizer {
    /// A tokenizer for `spec` making tokens of `width` (`d`), its parameters of `dtype` drawn
    /// from `rng`: a LeCun-normal patch projection with zero bias, a zero CLS token and
    /// `N(0, 0.02²)` position embeddings. An error when the patch does not tile the example
    /// shape.
    pub fn new(
        spec: &TokenizerSpec,
        width: usize,
        dtype: DType,
        rng: &mut Rng,
    ) -> Result<Tokenizer> {
        spec.validate()
            .map_err(|msg| Error::shape("tokenizer", msg))?;
        let (channels, _) = spec.channels_and_extent();
        Ok(Tokenizer {
            spec: spec.clone(),
            patch_embed: PatchEmbedding::new(channels, &spec.patch, width, dtype, rng),
            cls: Parameter::new(Tensor::zeros(&[width], dtype)),
            pos_embed: Parameter::new(Tensor::randn(
                &[spec.tokens() + 1, width],
                0.0,
                0.02,
                dtype,
                rng,
            )),
        })
    }

    /// `[B, …example shape]` → `[B, 1 + N, d]`: patch embedding, CLS prepended, positions added.
    pub fn forward(&self, input: &Var, ctx: &mut Context) -> Result<Var> {
        let expected = &self.spec.input_shape;
        if input.rank() != expected.len() + 1 || &input.shape()[1..] != expected.as_slice() {
            return Err(Error::shape(
                "tokenizer",
                format!(
                    "{} input {:?} does not match the configured example shape {:?}",
                    self.spec.modality.name(),
                    input.shape(),
                    expected
                ),
            ));
        }
        // Video arrives as [B, T, C, H, W]; the patch embedding wants [B, C, T, H, W].
        let input = match self.spec.modality {
            Modality::Video => input.permute(&[0, 2, 1, 3, 4])?,
            Modality::Image | Modality::Audio => input.clone(),
        };
        let patches = self.patch_embed.forward(&input, ctx)?;
        let (batch, width) = (patches.shape()[0], patches.shape()[2]);
        let cls = self
            .cls
            .var()
            .reshape(&[1, 1, width])?
            .broadcast_to(&[batch, 1, width])?;
        Var::concat(&[cls, patches], 1)?.add(&self.pos_embed.var())
    }

    /// "Central frame" initialization of a video tokenizer from an image tokenizer: the tubelet
    /// kernel is the image kernel at temporal index `t/2` and zero at the other `t − 1` frames,
    /// so the video model starts out seeing the middle frame of each tubelet as an image.
    pub fn init_central_frame_from(&mut self, image: &Tokenizer) -> Result<()> {
        let (video_patch, image_patch) = (&self.spec.patch, &image.spec.patch);
        let (channels, _) = self.spec.channels_and_extent();
        if !self.spec.is_tubelet_of(&image.spec) {
            return Err(Error::shape(
                "central frame init",
                format!("video tubelet {video_patch:?} and image patch {image_patch:?} (with their channels) do not correspond"),
            ));
        }
        let (frames, area) = (video_patch[0], image_patch[0] * image_patch[1]);
        let image_weight = image.patch_embed.projection.weight.value().to_vec_f64()?;
        let width = image.patch_embed.projection.weight.shape()[0];
        let video_weight = central_frame_kernel(&image_weight, width * channels, frames, area);
        let dtype = image.patch_embed.projection.weight.value().dtype();
        self.patch_embed
            .projection
            .weight
            .set_value(Tensor::from_f64s(
                &video_weight,
                &[width, channels * frames * area],
                dtype,
            )?);
        self.patch_embed
            .projection
            .bias
            .set_value(image.patch_embed.projection.bias.value().clone());
        Ok(())
    }
}

/// A tubelet kernel `[filters, frames, area]` (flattened) holding the image kernel
/// `[filters, area]` at frame `frames/2` and zeros at the others: the "central frame"
/// initialization (`filters` counts output features times channels).
pub(crate) fn central_frame_kernel(
    image: &[f64],
    filters: usize,
    frames: usize,
    area: usize,
) -> Vec<f64> {
    let mut video = vec![0.0; filters * frames * area];
    for f in 0..filters {
        let dst = (f * frames + frames / 2) * area;
        video[dst..dst + area].copy_from_slice(&image[f * area..(f + 1) * area]);
    }
    video
}
