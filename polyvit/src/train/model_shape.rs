//! The `[model]` table of a run's configuration: the transformer's shape key by key, each key
//! overriding its preset's value, as one would resize a timm ViT (`width = 96`, `heads = 6`).

use crate::model::ModelConfig;
use serde::{Deserialize, Serialize};

/// The shape keys a configuration sets; a key left out keeps the preset's value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelShape {
    /// `d`: the width of every token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<usize>,
    /// `L`: encoder blocks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depth: Option<usize>,
    /// Attention heads per block; each attends over `width / heads` features.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heads: Option<usize>,
    /// The hidden width of each block's MLP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mlp_width: Option<usize>,
}

impl ModelShape {
    /// Whether no key is set (the preset as it is; the table is then not written).
    pub fn is_empty(&self) -> bool {
        *self == ModelShape::default()
    }

    /// The keys that are set, in order, as `(key, value)`.
    fn keys(&self) -> Vec<(&'static str, usize)> {
        [
            ("width", self.width),
            ("depth", self.depth),
            ("heads", self.heads),
            ("mlp_width", self.mlp_width),
        ]
        .into_iter()
        .filter_map(|(key, value)| value.map(|v| (key, v)))
        .collect()
    }

    /// `model` with the keys that are set, checked: every size at least 1, and the heads
    /// dividing the width.
    pub fn apply(&self, mut model: ModelConfig) -> Result<ModelConfig, String> {
        if let Some((key, _)) = self.keys().into_iter().find(|&(_, v)| v == 0) {
            return Err(format!("model.{key} = 0: must be at least 1"));
        }
        model.width = self.width.unwrap_or(model.width);
        model.depth = self.depth.unwrap_or(model.depth);
        model.heads = self.heads.unwrap_or(model.heads);
        model.mlp_width = self.mlp_width.unwrap_or(model.mlp_width);
        if !model.width.is_multiple_of(model.heads) {
            return Err(format!(
                "model.heads = {} does not divide model.width = {} (each head attends over \
                 width / heads features)",
                model.heads, model.width
            ));
        }
        Ok(model)
    }

    /// What the keys change, for the run's header: `""`, or ` with width 96, heads 6`.
    pub fn describe(&self) -> String {
        match self.keys().as_slice() {
            [] => String::new(),
            keys => {
                let set: Vec<String> = keys.iter().map(|(k, v)| format!("{k} {v}")).collect();
                format!(" with {}", set.join(", "))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_override_the_preset_and_are_checked() {
        let small = ModelConfig::preset("small").unwrap();
        assert_eq!(ModelShape::default().apply(small.clone()).unwrap(), small);
        let wider = ModelShape {
            width: Some(96),
            heads: Some(6),
            ..ModelShape::default()
        };
        let model = wider.apply(small.clone()).unwrap();
        assert_eq!(
            (model.width, model.depth, model.heads, model.mlp_width),
            (96, 4, 6, 128)
        );
        assert_eq!(wider.describe(), " with width 96, heads 6");
        let odd = ModelShape {
            heads: Some(5),
            ..ModelShape::default()
        };
        let err = odd.apply(small.clone()).unwrap_err();
        assert!(
            err.starts_with("model.heads = 5 does not divide model.width = 64"),
            "{err}"
        );
        let none = ModelShape {
            depth: Some(0),
            ..ModelShape::default()
        };
        assert_eq!(
            none.apply(small).unwrap_err(),
            "model.depth = 0: must be at least 1"
        );
    }
}
