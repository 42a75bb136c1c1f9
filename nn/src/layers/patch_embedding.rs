//! Cutting images (or videos, or spectrograms) into non-overlapping patches and embedding them.

use super::{Linear, LinearInit};
use crate::{Context, Module, Parameter, Parameters};
use autograd::Var;
use tensor::{DType, Error, Result, Rng};

/// Cuts `x` of shape `[B, C, D₁, …, D_k]` into non-overlapping patches of size `p₁ × … × p_k`:
/// the result is `[B, ∏ Dᵢ/pᵢ, C·∏ pᵢ]`, tokens in row-major order over the patch grid, each
/// token's features in `(C, p₁, …, p_k)` order (the order of a flattened convolution kernel).
/// Done with one reshape and one permutation; the copy happens in the final reshape.
///
/// ```
/// use autograd::Var;
/// use nn::layers::{patchify, PatchEmbedding};
/// use nn::{Context, Module, Parameters};
/// use tensor::{DType, Tensor};
/// // One 4×4 single-channel image cut into four 2×2 patches.
/// let x = Var::constant(Tensor::arange(0.0, 16.0, 1.0, DType::F64)?.reshape(&[1, 1, 4, 4])?);
/// let tokens = patchify(&x, &[2, 2])?;
/// assert_eq!(tokens.shape(), [1, 4, 4]);
/// assert_eq!(tokens.value().narrow(1, 0, 2)?.to_vec_f64()?, [0.0, 1.0, 4.0, 5.0, 2.0, 3.0, 6.0, 7.0]);
/// assert!(patchify(&x, &[3, 3]).is_err(), "4 is not a multiple of 3");
/// # Ok::<(), tensor::Error>(())
/// ```
pub fn patchify(x: &Var, patch: &[usize]) -> Result<Var> {
    let shape = x.shape().to_vec();
    let k = patch.len();
    if shape.len() != k + 2
        || patch.contains(&0)
        || shape[2..].iter().zip(patch).any(|(&d, &p)| d % p != 0)
    {
        return Err(Error::shape(
            "patchify",
            format!("input {shape:?} cannot be cut into patches of {patch:?} (expected [batch, channels, …] with sizes divisible by the patch)"),
        ));
    }
    let (batch, channels) = (shape[0], shape[1]);
    let grid: Vec<usize> = shape[2..].iter().zip(patch).map(|(&d, &p)| d / p).collect();
    let mut split = vec![batch, channels];
    for (&g, &p) in grid.iter().zip(patch) {
        split.extend([g, p]);
    }
    let mut order = vec![0];
    order.extend((0..k).map(|i| 2 + 2 * i));
    order.push(1);
    order.extend((0..k).map(|i| 3 + 2 * i));
    let tokens = grid.iter().product();
    let features = channels * patch.iter().product::<usize>();
    x.reshape(&split)?
        .permute(&order)?
        .reshape(&[batch, tokens, features])
}

/// Patches followed by a linear projection to the model width: the ViT tokenizer (a convolution
/// with stride equal to its kernel, written as patchify + matmul).
///
/// ```
/// use autograd::Var;
/// use nn::layers::{patchify, PatchEmbedding};
/// use nn::{Context, Module, Parameters};
/// use tensor::{DType, Tensor};
/// // 4×4 images, 2×2 patches, width 3: four tokens of three features per image.
/// let embed = PatchEmbedding::new(1, &[2, 2], 3, DType::F64, &mut tensor::rng(0));
/// let images = Var::constant(Tensor::zeros(&[2, 1, 4, 4], DType::F64));
/// assert_eq!(embed.forward(&images, &mut Context::eval())?.shape(), [2, 4, 3]);
/// let names: Vec<String> = embed.named_parameters().into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names, ["weight", "bias"]);
/// assert_eq!(embed.projection.weight.shape(), [3, 4]);
/// let rgb = Var::constant(Tensor::zeros(&[2, 3, 4, 4], DType::F64));
/// let err = embed.forward(&rgb, &mut Context::eval()).unwrap_err().to_string();
/// assert!(err.contains("[2, 3, 4, 4] has 3 channels (axis 1), the layer expects 1"), "{err}");
/// # Ok::<(), tensor::Error>(())
/// ```
pub struct PatchEmbedding {
    /// `weight` is `[width, C·∏ pᵢ]`, `bias` is `[width]`.
    pub projection: Linear,
    /// The patch size along each patched axis.
    pub patch: Vec<usize>,
}

/// The projection's parameters appear directly under this module's name (`patch_embed.weight`).
impl Parameters for PatchEmbedding {
    fn visit<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a Parameter)) {
        self.projection.visit(prefix, f);
    }
    fn visit_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Parameter)) {
        self.projection.visit_mut(prefix, f);
    }
}

impl PatchEmbedding {
    /// Patches of `patch` over `channels` channels, projected to `width` (LeCun-normal weight,
    /// zero bias).
    pub fn new(
        channels: usize,
        patch: &[usize],
        width: usize,
        dtype: DType,
        rng: &mut Rng,
    ) -> Self {
        let features = channels * patch.iter().product::<usize>();
        PatchEmbedding {
            projection: Linear::new(features, width, LinearInit::LecunNormal, dtype, rng),
            patch: patch.to_vec(),
        }
    }

    /// The channels an input must have: the projection's input features over a patch's size.
    pub fn channels(&self) -> usize {
        self.projection.weight.shape()[1] / self.patch.iter().product::<usize>().max(1)
    }
}

impl Module for PatchEmbedding {
    /// An input with other channels than the layer's is an error naming both (its features
    /// would not match the projection's, which would say so only in features per patch).
    fn forward(&self, x: &Var, ctx: &mut Context) -> Result<Var> {
        let channels = self.channels();
        if x.rank() >= 2 && x.shape()[1] != channels {
            return Err(Error::shape(
                "patch embedding",
                format!(
                    "input {:?} has {} channels (axis 1), the layer expects {channels}",
                    x.shape(),
                    x.shape()[1]
                ),
            ));
        }
        self.projection.forward(&patchify(x, &self.patch)?, ctx)
    }
}
