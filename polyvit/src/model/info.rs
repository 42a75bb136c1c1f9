//! Parameter accounting: where a model's parameters are, and what one model per task would cost.

use super::{ModelConfig, PolyVit, TaskSpec, TokenizerSpec};
use nn::Parameters;

/// One line of the parameter table.
#[derive(Clone, Debug, PartialEq)]
pub struct ParameterRow {
    /// `shared encoder`, or the first two segments of the part's parameter names
    /// (`tokenizers.image`, `adapters.video`, `heads.mnist`).
    pub part: String,
    /// The number of scalars in the part's parameters (elements of all its tensors).
    pub count: usize,
}

/// Parameters grouped by part: each tokenizer, each modality's adapter blocks, the shared encoder,
/// each head (in that order), from the model's own parameter names.
pub fn parameter_table(model: &PolyVit) -> Vec<ParameterRow> {
    let mut rows: Vec<ParameterRow> = Vec::new();
    for (name, p) in model.named_parameters() {
        let segments: Vec<&str> = name.split('.').collect();
        let part = match segments[0] {
            "encoder" => "shared encoder".to_string(),
            group => format!("{group}.{}", segments.get(1).copied().unwrap_or("")),
        };
        match rows.iter_mut().find(|r| r.part == part) {
            Some(row) => row.count += p.value().numel(),
            None => rows.push(ParameterRow {
                part,
                count: p.value().numel(),
            }),
        }
    }
    rows
}

/// The parameters of a single-task ViT for `task`: the task's tokenizer, all `L` blocks, the
/// final LayerNorm and the task's head (what training one model per task costs).
pub fn single_task_parameter_count(model: &PolyVit, task: &str) -> Option<usize> {
    let spec = &model.heads.iter().find(|(t, _)| t.name == task)?.0;
    let modality = spec.modality;
    let tokenizer = model
        .tokenizers
        .iter()
        .find(|(m, _)| *m == modality)?
        .1
        .parameter_count();
    let adapters = model
        .adapters
        .iter()
        .find(|(m, _)| *m == modality)?
        .1
        .parameter_count();
    let head = model
        .heads
        .iter()
        .find(|(t, _)| t.name == task)?
        .1
        .parameter_count();
    Some(tokenizer + adapters + model.encoder.parameter_count() + head)
}

/// The parameters of the model [`PolyVit::new`] would build from `config`, `tokenizers` and
/// `tasks`, counted without building it (so that a model too large for the memory is refused,
/// not allocated): per tokenizer, its patch kernel and bias, CLS token and position embeddings;
/// per block, its two LayerNorms (`4d`), the attention's qkv (`3d² + 3d`) and projection
/// (`d² + d`), and the MLP (`2·d·m + m + d`); `L − L_adapt` shared blocks, `L_adapt` more per
/// tokenizer's modality, the final LayerNorm (`2d`); per task, its head (`d·k + k`). Counted in
/// `u128`, saturating, so that no width overflows it.
pub fn planned_parameter_count(
    config: &ModelConfig,
    tokenizers: &[TokenizerSpec],
    tasks: &[TaskSpec],
) -> u128 {
    let sum = |terms: &[u128]| terms.iter().fold(0u128, |a, &b| a.saturating_add(b));
    let times = |a: u128, b: u128| a.saturating_mul(b);
    let d = config.width as u128;
    let m = config.mlp_width as u128;
    let block = sum(&[times(4, times(d, d)), times(2, times(d, m)), 9 * d, m]);
    let tokenizer = |t: &TokenizerSpec| {
        let (features, tokens) = (t.patch_features() as u128, t.tokens() as u128);
        sum(&[times(features, d), 2 * d, times(tokens + 1, d)])
    };
    let adapt = config.adapt_depth.min(config.depth) as u128;
    let shared = config.depth as u128 - adapt;
    let parts: Vec<u128> = (tokenizers.iter().map(tokenizer))
        .chain(tasks.iter().map(|t| times(d + 1, t.classes as u128)))
        .chain([
            times(times(tokenizers.len() as u128, adapt), block),
            times(shared, block),
            2 * d,
        ])
        .collect();
    sum(&parts)
}
