//! Pretrained ViT weights in the timm and the Hugging Face (transformers `ViTModel` /
//! `ViTForImageClassification`) layouts, brought under one set of names: timm's, which our
//! encoder uses too (`blocks.N.attn.qkv.weight`, ...).
//!
//! After mapping, the weights are: `cls_token` `[d]`, `pos_embed` `[1 + N, d]` (CLS row first),
//! `patch_embed.weight` `[d, C, p, p]` (the convolution kernel), `patch_embed.bias` `[d]`,
//! `blocks.N.{norm1, attn.qkv, attn.proj, norm2, mlp.fc1, mlp.fc2}.{weight, bias}` (PyTorch
//! `[out, in]` linear weights; Hugging Face's separate query, key and value are stacked into
//! `qkv` in that order, which is timm's) and `norm.{weight, bias}`. Classification heads and
//! poolers are set aside (a PolyViT's heads start fresh); any other tensor is an error.

use std::collections::BTreeMap;
use tensor::Tensor;

/// Where a checkpoint's names come from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum VitLayout {
    Timm,
    HuggingFace,
}

impl std::fmt::Display for VitLayout {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(match self {
            VitLayout::Timm => "timm",
            VitLayout::HuggingFace => "Hugging Face",
        })
    }
}

/// A ViT's weights under timm's names (see the module docs), complete: made only by
/// [`VitWeights::from_tensors`], which checks that every tensor of the embedding, the final norm
/// and each block is there.
pub struct VitWeights {
    layout: VitLayout,
    tensors: BTreeMap<String, Tensor>,
    /// The file's name of each tensor (`a + b + c` for a `qkv` stacked from three).
    sources: BTreeMap<String, String>,
    ignored: Vec<String>,
    depth: usize,
}

/// The parameters of one encoder block, under timm's (and our) names.
pub const BLOCK_PARAMETERS: [&str; 12] = [
    "norm1.weight",
    "norm1.bias",
    "attn.qkv.weight",
    "attn.qkv.bias",
    "attn.proj.weight",
    "attn.proj.bias",
    "norm2.weight",
    "norm2.bias",
    "mlp.fc1.weight",
    "mlp.fc1.bias",
    "mlp.fc2.weight",
    "mlp.fc2.bias",
];

/// The tensors outside the blocks, under timm's names.
const EMBEDDING_PARAMETERS: [&str; 6] = [
    "cls_token",
    "pos_embed",
    "patch_embed.weight",
    "patch_embed.bias",
    "norm.weight",
    "norm.bias",
];

/// What one source tensor becomes.
enum Mapped {
    /// A tensor under this name.
    To(String),
    /// Part `index` (0 query, 1 key, 2 value) of `blocks.N.attn.qkv.{weight, bias}`.
    QkvPart(String, usize),
    /// Set aside (a head, a pooler).
    Ignored,
}

/// timm's name of `name`, or `None` for a tensor that has no place in a ViT.
fn map_timm(name: &str) -> Option<Mapped> {
    if name.starts_with("head.") || name.starts_with("pre_logits.") {
        return Some(Mapped::Ignored);
    }
    let renamed = match name {
        "patch_embed.proj.weight" => "patch_embed.weight".to_string(),
        "patch_embed.proj.bias" => "patch_embed.bias".to_string(),
        "cls_token" | "pos_embed" | "norm.weight" | "norm.bias" => name.to_string(),
        _ => {
            let rest = name.strip_prefix("blocks.")?;
            let (index, param) = rest.split_once('.')?;
            index.parse::<usize>().ok()?;
            if !BLOCK_PARAMETERS.contains(&param) {
                return None;
            }
            name.to_string()
        }
    };
    Some(Mapped::To(renamed))
}

/// timm's name of the Hugging Face tensor `name` (without the `vit.` prefix).
fn map_hugging_face(name: &str) -> Option<Mapped> {
    if name.starts_with("classifier.")
        || name.starts_with("pooler.")
        || name == "embeddings.mask_token"
    {
        return Some(Mapped::Ignored);
    }
    let fixed = match name {
        "embeddings.cls_token" => Some("cls_token"),
        "embeddings.position_embeddings" => Some("pos_embed"),
        "embeddings.patch_embeddings.projection.weight" => Some("patch_embed.weight"),
        "embeddings.patch_embeddings.projection.bias" => Some("patch_embed.bias"),
        "layernorm.weight" => Some("norm.weight"),
        "layernorm.bias" => Some("norm.bias"),
        _ => None,
    };
    if let Some(fixed) = fixed {
        return Some(Mapped::To(fixed.to_string()));
    }
    let rest = name.strip_prefix("encoder.layer.")?;
    let (index, param) = rest.split_once('.')?;
    let index: usize = index.parse().ok()?;
    let (module, kind) = param.rsplit_once('.')?;
    if kind != "weight" && kind != "bias" {
        return None;
    }
    let block = |ours: &str| Some(Mapped::To(format!("blocks.{index}.{ours}.{kind}")));
    let qkv = |part| {
        Some(Mapped::QkvPart(
            format!("blocks.{index}.attn.qkv.{kind}"),
            part,
        ))
    };
    match module {
        "layernorm_before" => block("norm1"),
        "layernorm_after" => block("norm2"),
        "attention.attention.query" => qkv(0),
        "attention.attention.key" => qkv(1),
        "attention.attention.value" => qkv(2),
        "attention.output.dense" => block("attn.proj"),
        "intermediate.dense" => block("mlp.fc1"),
        "output.dense" => block("mlp.fc2"),
        _ => None,
    }
}

/// Shapes as the mapped names promise: `cls_token` `[1, 1, d]` → `[d]`, `pos_embed`
/// `[1, 1 + N, d]` → `[1 + N, d]` (either may come without the leading ones).
fn squeeze_leading_ones(name: &str, t: Tensor) -> Result<Tensor, String> {
    let keep = match name {
        "cls_token" => 1,
        "pos_embed" => 2,
        _ => return Ok(t),
    };
    let shape = t.shape().to_vec();
    let split = shape.len().saturating_sub(keep);
    if shape.len() < keep || shape[..split].iter().any(|&d| d != 1) {
        return Err(format!(
            "{name} has shape {shape:?}, expected {} trailing axes after axes of size 1",
            keep
        ));
    }
    t.reshape(&shape[split..])
        .map_err(|e| format!("{name}: {e}"))
}

impl VitWeights {
    /// Recognizes the layout of `tensors` (timm: `patch_embed.proj.weight`; Hugging Face:
    /// `embeddings.patch_embeddings.projection.weight`, optionally under `vit.`) and maps every
    /// name. Fails listing every tensor that belongs to neither, every one that is missing and
    /// every block index gap.
    pub fn from_tensors(tensors: BTreeMap<String, Tensor>) -> Result<VitWeights, String> {
        let has = |name: &str| tensors.contains_key(name);
        let (layout, strip) = if has("patch_embed.proj.weight") {
            (VitLayout::Timm, "")
        } else if has("embeddings.patch_embeddings.projection.weight") {
            (VitLayout::HuggingFace, "")
        } else if has("vit.embeddings.patch_embeddings.projection.weight") {
            (VitLayout::HuggingFace, "vit.")
        } else if tensors.keys().any(|k| k.starts_with("model.tokenizers.")) {
            return Err(
                "a polyvit checkpoint, not a ViT's: --resume continues its run, and \
                        eval and predict use it; --init-from reads timm and Hugging Face ViTs"
                    .into(),
            );
        } else {
            return Err("neither the timm layout (no patch_embed.proj.weight) nor the Hugging Face ViT layout (no [vit.]embeddings.patch_embeddings.projection.weight)".into());
        };
        let mut problems = Vec::new();
        let mut mapped = BTreeMap::new();
        let mut sources = BTreeMap::new();
        let mut qkv_parts: BTreeMap<String, [Option<(String, Tensor)>; 3]> = BTreeMap::new();
        let mut ignored = Vec::new();
        for (source, t) in tensors {
            let local = source.strip_prefix(strip).unwrap_or(&source);
            let target = match layout {
                VitLayout::Timm => map_timm(local),
                // `classifier.*` sits beside `vit.*` in ViTForImageClassification.
                VitLayout::HuggingFace => map_hugging_face(local),
            };
            match target {
                None => problems.push(format!(
                    "{source} is unexpected in a ViT of the {layout} layout"
                )),
                Some(Mapped::Ignored) => ignored.push(source),
                Some(Mapped::To(name)) => match squeeze_leading_ones(&name, t) {
                    Ok(t) => {
                        mapped.insert(name.clone(), t);
                        sources.insert(name, source);
                    }
                    Err(e) => problems.push(format!("{source}: {e}")),
                },
                Some(Mapped::QkvPart(name, part)) => {
                    qkv_parts.entry(name).or_default()[part] = Some((source, t));
                }
            }
        }
        for (name, parts) in qkv_parts {
            match parts {
                [Some((q_name, q)), Some((k_name, k)), Some((v_name, v))] => {
                    match stack_rows(&[q, k, v]) {
                        Ok(t) => {
                            mapped.insert(name.clone(), t);
                            sources.insert(name, format!("{q_name} + {k_name} + {v_name}"));
                        }
                        Err(e) => problems.push(format!("{name} from query, key and value: {e}")),
                    }
                }
                _ => problems.push(format!(
                    "{name}: the query, key and value tensors are not all there"
                )),
            }
        }
        // A NaN or infinity would be trained from and show up later as a diverging loss.
        for (name, t) in &mapped {
            let values = t
                .to_vec_f64()
                .map_err(|e| format!("{}: {e}", sources[name]))?;
            let bad = values.iter().filter(|v| !v.is_finite()).count();
            if bad > 0 {
                problems.push(format!(
                    "{}: {bad} of its {} values are NaN or infinite",
                    sources[name],
                    t.numel()
                ));
            }
        }
        let depth = mapped
            .keys()
            .filter_map(|k| {
                k.strip_prefix("blocks.")?
                    .split_once('.')?
                    .0
                    .parse::<usize>()
                    .ok()
            })
            .map(|i| i + 1)
            .max()
            .unwrap_or(0);
        let required =
            EMBEDDING_PARAMETERS
                .iter()
                .map(|n| n.to_string())
                .chain((0..depth).flat_map(|i| {
                    BLOCK_PARAMETERS
                        .iter()
                        .map(move |p| format!("blocks.{i}.{p}"))
                }));
        for name in required {
            if !mapped.contains_key(&name) {
                problems.push(format!("{name} is missing ({layout} layout)"));
            }
        }
        if depth == 0 {
            problems.push("the checkpoint has no encoder blocks".into());
        }
        if !problems.is_empty() {
            return Err(problems.join("; "));
        }
        Ok(VitWeights {
            layout,
            tensors: mapped,
            sources,
            ignored,
            depth,
        })
    }

    /// The tensor `name`: one of the embedding and final-norm names, or `blocks.{i}.{name}`
    /// for each name of `BLOCK_PARAMETERS` and each `i` below [`VitWeights::depth`] (all
    /// checked present by [`VitWeights::from_tensors`]).
    pub fn get(&self, name: &str) -> &Tensor {
        &self.tensors[name]
    }

    /// The file's name of the tensor `name` (see [`VitWeights::get`]).
    pub fn source(&self, name: &str) -> &str {
        &self.sources[name]
    }

    /// Encoder width: the length of the final norm's weight.
    pub fn width(&self) -> usize {
        self.tensors["norm.weight"].shape().iter().product()
    }

    /// Where the names came from.
    pub fn layout(&self) -> VitLayout {
        self.layout
    }

    /// Source names set aside on purpose (heads, poolers, mask tokens).
    pub fn ignored(&self) -> &[String] {
        &self.ignored
    }

    /// Encoder blocks (`blocks.0` .. `blocks.{depth-1}`).
    pub fn depth(&self) -> usize {
        self.depth
    }
}

/// `parts` stacked along their first axis (query, key and value into `qkv`).
fn stack_rows(parts: &[Tensor]) -> Result<Tensor, String> {
    let shapes: Vec<&[usize]> = parts.iter().map(|t| t.shape()).collect();
    if shapes.iter().any(|s| s.is_empty() || *s != shapes[0]) {
        return Err(format!("shapes {shapes:?} differ"));
    }
    Tensor::concat(parts, 0).map_err(|e| e.to_string())
}
