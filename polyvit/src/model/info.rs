//! Parameter accounting: where a model's parameters are, and what one model per task would cost.

use super::PolyVit;
use nn::Parameters;

/// One line of the parameter table.
#[derive(Clone, Debug, PartialEq)]
pub struct ParameterRow {
    pub part: String,
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
