//! Starting a PolyViT from a pretrained ViT, with the reference's surgery:
//!
//! - every tokenizer takes the ViT's patch embedding, CLS token and position embedding. The
//!   position embedding keeps its CLS row; its patch rows, a square grid, are resized by bilinear
//!   interpolation (PyTorch's `align_corners=False`) to the tokenizer's spatial grid, and for
//!   video repeated over the tubelets' time steps;
//! - the patch-embedding convolution `[d, C, p, p]` becomes the linear projection `[d, C·p·p]`
//!   (the same numbers: our patch features are in the kernel's `(C, p, p)` order). A tokenizer
//!   with one channel (spectrograms, grey images) gets the kernel summed over the colour
//!   channels; a video tokenizer's tubelet kernel is the image kernel at the central frame
//!   (`t/2`) and zero at the others;
//! - modality `m`'s `L_adapt` adapter blocks take the ViT's first `L_adapt` blocks, the shared
//!   encoder the rest, then the final LayerNorm;
//! - task heads stay as initialized (fresh).
//!
//! The ViT must have the model's width, MLP width and depth, and its patch must be the
//! tokenizers' spatial patch; anything else is an error naming both sides. The number of
//! attention heads is not stored in a checkpoint: the model's preset decides it.

use super::grid_resize::resize_bilinear;
use super::tokenizer::central_frame_kernel;
use super::vit_layouts::{VitLayout, VitWeights, BLOCK_PARAMETERS};
use super::{PolyVit, TokenizerSpec};
use crate::data::Modality;
use nn::checkpoint::CheckpointError;
use nn::layers::Gelu;
use nn::Parameters;
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use tensor::Tensor;

/// What initialization from a ViT did, parameter by parameter (our names).
#[derive(Clone, Debug)]
pub struct InitReport {
    /// Whose names the file used (timm's or Hugging Face's), recognized from its patch
    /// embedding's name.
    pub layout: VitLayout,
    /// Copied unchanged (up to a reshape), with the source name.
    pub loaded: Vec<(String, String)>,
    /// Changed on the way, with what was done.
    pub adapted: Vec<(String, String)>,
    /// Left as initialized (the heads).
    pub fresh: Vec<String>,
    /// Tensors of the checkpoint set aside (its heads, pooler).
    pub ignored: Vec<String>,
    /// What became of values the file stores in another dtype than the model's f32, one entry
    /// per such dtype (e.g. "BF16 values widened to f32 exactly").
    pub conversions: Vec<String>,
    /// The model's form of GELU. timm's and Hugging Face's ViTs are trained with the exact
    /// (erf) form, so the summary says when the model computes another.
    pub gelu: Gelu,
}

impl InitReport {
    /// One line: the layout and how many parameters went which way.
    pub fn summary(&self) -> String {
        let mut summary = format!(
            "{} layout: {} parameters loaded, {} adapted, {} left fresh; {} tensors of the checkpoint ignored",
            self.layout,
            self.loaded.len(),
            self.adapted.len(),
            self.fresh.len(),
            self.ignored.len()
        );
        if self.gelu != Gelu::Erf {
            summary += &format!(
                "; the model's MLPs use the {} GELU, timm's and Hugging Face's ViTs the exact one \
                 (`gelu = \"erf\"` in the configuration)",
                self.gelu.name()
            );
        }
        for conversion in &self.conversions {
            summary += &format!("; {conversion}");
        }
        summary
    }
}

/// The summary, then one line per parameter.
impl fmt::Display for InitReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.summary())?;
        for (ours, source) in &self.loaded {
            writeln!(f, "  loaded   {ours} ← {source}")?;
        }
        for (ours, how) in &self.adapted {
            writeln!(f, "  adapted  {ours}: {how}")?;
        }
        for ours in &self.fresh {
            writeln!(f, "  fresh    {ours}")?;
        }
        for source in &self.ignored {
            writeln!(f, "  ignored  {source}")?;
        }
        Ok(())
    }
}

/// One parameter's new value: from `source`, `how` it was changed (`None`: unchanged).
struct Planned {
    value: Tensor,
    source: String,
    how: Option<String>,
}

/// The side of a square grid of `tokens` patches.
fn square_side(tokens: usize) -> Option<usize> {
    let side = (tokens as f64).sqrt().round() as usize;
    (side > 0 && side * side == tokens).then_some(side)
}

/// The tokenizer's patch kernel `[d, C·∏p]` made from the ViT's `[d, C', p, p]`, which the
/// file names `source`.
fn patch_kernel(
    spec: &TokenizerSpec,
    kernel: &Tensor,
    source: &str,
) -> Result<(Tensor, Option<String>), String> {
    let &[width, source_channels, kh, kw] = kernel.shape() else {
        return Err(format!(
            "{source} has shape {:?}, expected a convolution kernel [d, C, p, p]",
            kernel.shape()
        ));
    };
    let (channels, extent) = spec.channels_and_extent();
    let spatial = &spec.patch[spec.patch.len().saturating_sub(2)..];
    if spatial != [kh, kw] {
        let name = spec.modality.name();
        let [h, w] = [extent[extent.len() - 2], extent[extent.len() - 1]];
        let fix = match h % kh == 0 && w % kw == 0 {
            true => format!("set patches.{name} to a patch of [{kh}, {kw}] spatially"),
            false => format!(
                "and a [{kh}, {kw}] patch does not tile the run's {name} inputs of {h}×{w}: \
                 leave out the {name} tasks, or give them inputs it tiles"
            ),
        };
        return Err(format!(
            "the {name} tokenizer's patch {:?} does not match the checkpoint's {kh}×{kw} \
             patches ({fix})",
            spec.patch,
        ));
    }
    let area = kh * kw;
    let source = kernel.to_vec_f64().map_err(|e| e.to_string())?;
    let mut notes = Vec::new();
    // [d, C, area] in the tokenizer's channels.
    let per_channel: Vec<f64> = if channels == source_channels {
        source
    } else if channels == 1 {
        notes.push(format!(
            "summed over the checkpoint's {source_channels} channels"
        ));
        (0..width)
            .flat_map(|o| {
                let filter = &source[o * source_channels * area..][..source_channels * area];
                (0..area).map(move |i| (0..source_channels).map(|c| filter[c * area + i]).sum())
            })
            .collect()
    } else {
        return Err(format!(
            "the {} tokenizer has {channels} channels, the checkpoint's patch embedding {source_channels} (only equal counts, or 1, can be initialized)",
            spec.modality.name()
        ));
    };
    let frames = if spec.modality == Modality::Video {
        spec.patch[0]
    } else {
        1
    };
    let weight = central_frame_kernel(&per_channel, width * channels, frames, area);
    if frames > 1 {
        notes.push(format!(
            "tubelet kernel from the image kernel at frame {} of {frames} (central frame), zero elsewhere",
            frames / 2
        ));
    }
    notes.insert(
        0,
        format!(
            "conv kernel {:?} → linear [{width}, {}]",
            kernel.shape(),
            channels * frames * area
        ),
    );
    let tensor = Tensor::from_f64s(&weight, &[width, channels * frames * area], kernel.dtype())
        .map_err(|e| e.to_string())?;
    Ok((tensor, Some(notes.join("; "))))
}

/// The tokenizer's position embedding `[1 + N, d]` made from the ViT's `[1 + g², d]`, which
/// the file names `source`.
fn position_embedding(
    spec: &TokenizerSpec,
    positions: &Tensor,
    source: &str,
) -> Result<(Tensor, Option<String>), String> {
    let &[rows, width] = positions.shape() else {
        return Err(format!(
            "{source} has shape {:?}, expected [1 + N, d]",
            positions.shape()
        ));
    };
    let side = square_side(rows.saturating_sub(1)).ok_or_else(|| {
        format!("{source} has {rows} rows: not a CLS row plus a square grid of patches")
    })?;
    let (_, extent) = spec.channels_and_extent();
    let grid: Vec<usize> = extent.iter().zip(&spec.patch).map(|(d, p)| d / p).collect();
    let (time, spatial) = if spec.modality == Modality::Video {
        (grid[0], (grid[1], grid[2]))
    } else {
        (1, (grid[0], grid[1]))
    };
    if time == 0 || spatial.0 == 0 || spatial.1 == 0 {
        return Err(format!(
            "the {} tokenizer's input {:?} has no patches",
            spec.modality.name(),
            spec.input_shape
        ));
    }
    let values = positions.to_vec_f64().map_err(|e| e.to_string())?;
    let (cls, patches) = values.split_at(width);
    let resized = resize_bilinear(patches, (side, side), width, spatial);
    let mut out = cls.to_vec();
    for _ in 0..time {
        out.extend_from_slice(&resized);
    }
    let mut notes = Vec::new();
    if spatial != (side, side) {
        notes.push(format!(
            "patch grid {side}×{side} resized to {}×{} (bilinear, align_corners=False), CLS kept",
            spatial.0, spatial.1
        ));
    }
    if time > 1 {
        notes.push(format!("repeated over {time} time steps"));
    }
    let tensor = Tensor::from_f64s(
        &out,
        &[1 + time * spatial.0 * spatial.1, width],
        positions.dtype(),
    )
    .map_err(|e| e.to_string())?;
    Ok((tensor, (!notes.is_empty()).then(|| notes.join("; "))))
}

/// Every parameter the ViT gives a value, under our names.
fn plan(model: &PolyVit, vit: &VitWeights) -> Result<BTreeMap<String, Planned>, String> {
    let depth = model.config.depth;
    if vit.depth() != depth {
        return Err(format!(
            "the checkpoint's encoder has depth {}, the model's {depth} (choose a preset of \
             that depth, or set model.depth)",
            vit.depth()
        ));
    }
    if vit.width() != model.config.width {
        return Err(format!(
            "the checkpoint's encoder is {} wide, the model's {} (choose a preset of that width, or set model.width)",
            vit.width(),
            model.config.width
        ));
    }
    let mut planned = BTreeMap::new();
    let copy = |planned: &mut BTreeMap<String, Planned>, ours: String, source: &str| {
        planned.insert(
            ours,
            Planned {
                value: vit.get(source).clone(),
                source: vit.source(source).to_string(),
                how: None,
            },
        );
    };
    let adapt = model.config.adapt_depth;
    for (modality, _) in &model.adapters {
        for i in 0..adapt {
            for p in BLOCK_PARAMETERS {
                copy(
                    &mut planned,
                    format!("adapters.{}.{i}.{p}", modality.name()),
                    &format!("blocks.{i}.{p}"),
                );
            }
        }
    }
    for j in 0..depth - adapt {
        for p in BLOCK_PARAMETERS {
            copy(
                &mut planned,
                format!("encoder.blocks.{j}.{p}"),
                &format!("blocks.{}.{p}", adapt + j),
            );
        }
    }
    for p in ["weight", "bias"] {
        copy(
            &mut planned,
            format!("encoder.norm.{p}"),
            &format!("norm.{p}"),
        );
    }
    for (modality, tokenizer) in &model.tokenizers {
        let prefix = format!("tokenizers.{}", modality.name());
        copy(&mut planned, format!("{prefix}.cls"), "cls_token");
        copy(
            &mut planned,
            format!("{prefix}.patch_embed.bias"),
            "patch_embed.bias",
        );
        let (value, how) = patch_kernel(
            &tokenizer.spec,
            vit.get("patch_embed.weight"),
            vit.source("patch_embed.weight"),
        )?;
        planned.insert(
            format!("{prefix}.patch_embed.weight"),
            Planned {
                value,
                source: vit.source("patch_embed.weight").into(),
                how,
            },
        );
        let (value, how) = position_embedding(
            &tokenizer.spec,
            vit.get("pos_embed"),
            vit.source("pos_embed"),
        )?;
        planned.insert(
            format!("{prefix}.pos_embed"),
            Planned {
                value,
                source: vit.source("pos_embed").into(),
                how,
            },
        );
    }
    Ok(planned)
}

/// Sets `model`'s parameters from `vit` (see the module docs). Nothing changes when anything
/// does not fit; the error lists every problem.
pub fn init_from_vit(model: &mut PolyVit, vit: &VitWeights) -> Result<InitReport, String> {
    let planned = plan(model, vit)?;
    let mut problems = Vec::new();
    let mut report = InitReport {
        layout: vit.layout(),
        loaded: Vec::new(),
        adapted: Vec::new(),
        fresh: Vec::new(),
        ignored: vit.ignored().to_vec(),
        conversions: Vec::new(),
        gelu: model.config.gelu,
    };
    let mut visited = std::collections::BTreeSet::new();
    model.visit("", &mut |name, p| {
        let Some(plan) = planned.get(name) else {
            report.fresh.push(name.to_string());
            return;
        };
        visited.insert(name.to_string());
        if plan.value.shape() != p.shape() {
            problems.push(format!(
                "{name} has shape {:?}, the checkpoint's {} gives {:?}",
                p.shape(),
                plan.source,
                plan.value.shape()
            ));
            return;
        }
        match &plan.how {
            None => report.loaded.push((name.to_string(), plan.source.clone())),
            Some(how) => report
                .adapted
                .push((name.to_string(), format!("from {}: {how}", plan.source))),
        }
    });
    problems.extend(
        planned
            .keys()
            .filter(|k| !visited.contains(*k))
            .map(|k| format!("{k} is planned but the model has no such parameter")),
    );
    if !problems.is_empty() {
        return Err(format!(
            "the checkpoint does not fit the model: {}",
            problems.join("; ")
        ));
    }
    let mut result = Ok(());
    model.visit_mut("", &mut |name, p| {
        if let Some(plan) = planned.get(name) {
            match plan
                .value
                .to_dtype(p.value().dtype())
                .and_then(|t| t.to_device(&p.value().device()))
            {
                Ok(t) => p.set_value(t),
                Err(e) => result = Err(format!("{name}: {e}")),
            }
        }
    });
    result.map(|()| report)
}

/// Reads the safetensors file at `path` (timm or Hugging Face ViT layout) and initializes
/// `model` from it; errors name the file as `init_from` (the key and the flag), so that it is
/// not taken for a run's checkpoint.
pub fn init_from_file(model: &mut PolyVit, path: &Path) -> Result<InitReport, String> {
    let in_file = |problem: String| format!("init_from {}: {problem}", path.display());
    let content = nn::safetensors_file::read(path).map_err(|e| {
        in_file(match e {
            CheckpointError::Io { source, .. } => source.to_string(),
            CheckpointError::Corrupt { problem, .. } => problem,
            other => other.to_string(),
        })
    })?;
    let vit = VitWeights::from_tensors(content.tensors).map_err(in_file)?;
    let mut report = init_from_vit(model, &vit).map_err(in_file)?;
    report.conversions = conversions(content.stored_dtypes.values());
    Ok(report)
}

/// What the file's values stored in `dtypes` (safetensors' names) became in f32 parameters, one
/// entry per dtype other than F32: F16 and BF16 widen exactly, F64 rounds to nearest.
fn conversions<'a>(dtypes: impl IntoIterator<Item = &'a String>) -> Vec<String> {
    let others: std::collections::BTreeSet<&str> = dtypes
        .into_iter()
        .map(String::as_str)
        .filter(|&d| d != "F32")
        .collect();
    others
        .into_iter()
        .map(|dtype| match dtype {
            "F64" => "F64 values rounded to f32 (to nearest)".to_string(),
            half => format!("{half} values widened to f32 exactly"),
        })
        .collect()
}
