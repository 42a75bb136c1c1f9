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

use std::collections::{BTreeMap, BTreeSet};
use tensor::Tensor;

/// Where a checkpoint's names come from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum VitLayout {
    /// timm's names (`patch_embed.proj.weight`, `blocks.N.attn.qkv.weight`, ...): only the
    /// patch embedding's lose their `.proj`.
    Timm,
    /// transformers' `ViTModel` names (`embeddings.patch_embeddings.projection.weight`,
    /// `encoder.layer.N.attention.attention.query.weight`, ...), under `vit.` where
    /// `ViTForImageClassification` saved them: renamed to timm's, query, key and value stacked.
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

/// Hugging Face's names of the tensors outside the blocks, beside timm's (as mapped).
const HUGGING_FACE_EMBEDDINGS: [(&str, &str); 6] = [
    ("embeddings.cls_token", "cls_token"),
    ("embeddings.position_embeddings", "pos_embed"),
    (
        "embeddings.patch_embeddings.projection.weight",
        "patch_embed.weight",
    ),
    (
        "embeddings.patch_embeddings.projection.bias",
        "patch_embed.bias",
    ),
    ("layernorm.weight", "norm.weight"),
    ("layernorm.bias", "norm.bias"),
];

/// Hugging Face's modules of block `encoder.layer.N`, beside timm's of `blocks.N`.
const HUGGING_FACE_BLOCK_MODULES: [(&str, &str); 5] = [
    ("layernorm_before", "norm1"),
    ("layernorm_after", "norm2"),
    ("attention.output.dense", "attn.proj"),
    ("intermediate.dense", "mlp.fc1"),
    ("output.dense", "mlp.fc2"),
];

/// Hugging Face's query, key and value modules, stacked in this order into timm's `attn.qkv`.
const HUGGING_FACE_QKV: [&str; 3] = [
    "attention.attention.query",
    "attention.attention.key",
    "attention.attention.value",
];

/// timm's name of the Hugging Face tensor `name` (without the `vit.` prefix).
fn map_hugging_face(name: &str) -> Option<Mapped> {
    if name.starts_with("classifier.")
        || name.starts_with("pooler.")
        || name == "embeddings.mask_token"
    {
        return Some(Mapped::Ignored);
    }
    if let Some((_, ours)) = HUGGING_FACE_EMBEDDINGS.iter().find(|(hf, _)| *hf == name) {
        return Some(Mapped::To(ours.to_string()));
    }
    let rest = name.strip_prefix("encoder.layer.")?;
    let (index, param) = rest.split_once('.')?;
    let index: usize = index.parse().ok()?;
    let (module, kind) = param.rsplit_once('.')?;
    if kind != "weight" && kind != "bias" {
        return None;
    }
    if let Some(part) = HUGGING_FACE_QKV.iter().position(|&m| m == module) {
        return Some(Mapped::QkvPart(
            format!("blocks.{index}.attn.qkv.{kind}"),
            part,
        ));
    }
    let (_, ours) = HUGGING_FACE_BLOCK_MODULES
        .iter()
        .find(|(hf, _)| *hf == module)?;
    Some(Mapped::To(format!("blocks.{index}.{ours}.{kind}")))
}

/// The names a file of `layout` (its names under `prefix`) gives the tensor timm calls `name`
/// (one of `EMBEDDING_PARAMETERS`, or `blocks.N.` and one of `BLOCK_PARAMETERS`): three for a
/// Hugging Face `qkv`, its query, key and value.
fn file_names(layout: VitLayout, prefix: &str, name: &str) -> Vec<String> {
    let names = match layout {
        VitLayout::Timm => vec![match name.strip_prefix("patch_embed.") {
            Some(kind) => format!("patch_embed.proj.{kind}"),
            None => name.to_string(),
        }],
        VitLayout::HuggingFace => {
            if let Some((hf, _)) = HUGGING_FACE_EMBEDDINGS
                .iter()
                .find(|(_, ours)| *ours == name)
            {
                vec![hf.to_string()]
            } else {
                let rest = name.strip_prefix("blocks.").expect("a block's parameter");
                let (index, param) = rest.split_once('.').expect("blocks.N.param");
                let (module, kind) = param.rsplit_once('.').expect("module.kind");
                let layer = |hf: &str| format!("encoder.layer.{index}.{hf}.{kind}");
                match HUGGING_FACE_BLOCK_MODULES
                    .iter()
                    .find(|(_, ours)| *ours == module)
                {
                    Some((hf, _)) => vec![layer(hf)],
                    None => HUGGING_FACE_QKV.iter().map(|hf| layer(hf)).collect(),
                }
            }
        }
    };
    names.into_iter().map(|n| format!("{prefix}{n}")).collect()
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
            "has shape {shape:?}, expected {keep} trailing axes after axes of size 1"
        ));
    }
    t.reshape(&shape[split..]).map_err(|e| e.to_string())
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
        let present: BTreeSet<String> = tensors.keys().cloned().collect();
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
                    Err(e) => problems.push(format!("{source} {e}")),
                },
                Some(Mapped::QkvPart(name, part)) => {
                    qkv_parts.entry(name).or_default()[part] = Some((source, t));
                }
            }
        }
        // A qkv with a part missing is named by the check for missing tensors below.
        for (name, parts) in qkv_parts {
            if let [Some((q_name, q)), Some((k_name, k)), Some((v_name, v))] = parts {
                match stack_rows(&[q, k, v]) {
                    Ok(t) => {
                        mapped.insert(name.clone(), t);
                        sources.insert(name, format!("{q_name} + {k_name} + {v_name}"));
                    }
                    Err(e) => problems.push(format!(
                        "{q_name}, {k_name} and {v_name} do not stack into one qkv: {e}"
                    )),
                }
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
        for name in required.filter(|name| !mapped.contains_key(name)) {
            let absent: Vec<String> = file_names(layout, strip, &name)
                .into_iter()
                .filter(|n| !present.contains(n))
                .collect();
            if absent.is_empty() {
                continue; // There, but refused above (its shape).
            }
            let verb = if absent.len() == 1 { "is" } else { "are" };
            problems.push(format!(
                "{} {verb} missing ({layout} layout)",
                absent.join(", ")
            ));
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
