//! A task's training loss: softmax cross-entropy or sigmoid binary cross-entropy, with label
//! smoothing.

use autograd::Var;
use serde::{Deserialize, Serialize};
use tensor::{Result, Tensor};

/// The loss a task trains with (`loss` in its configuration).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LossKind {
    /// Softmax cross-entropy: one class per example. Single-label tasks only.
    Softmax,
    /// Sigmoid binary cross-entropy, summed over classes: every class its own yes/no. The only
    /// choice for multi-label tasks; the reference also trains its image tasks with it.
    Sigmoid,
}

impl LossKind {
    /// The loss a task trains with: the configured one, else softmax for single-label tasks and
    /// sigmoid for multi-label ones. Softmax on a multi-label task is an error naming it.
    pub fn resolve(
        configured: Option<LossKind>,
        multi_label: bool,
        task: &str,
    ) -> std::result::Result<LossKind, String> {
        match (configured, multi_label) {
            (Some(LossKind::Softmax), true) => Err(format!(
                "task {task}: loss = \"softmax\" needs one class per example, and this task is multi-label (use \"sigmoid\")"
            )),
            (Some(kind), _) => Ok(kind),
            (None, true) => Ok(LossKind::Sigmoid),
            (None, false) => Ok(LossKind::Softmax),
        }
    }

    /// The mean loss of `[B, C]` logits against target rows (one-hot, multi-hot or mixup's
    /// blends), with label smoothing `ε`.
    ///
    /// Softmax: `t' = (1 − ε)t + ε/C` (one distribution over the C classes). Sigmoid:
    /// `t' = (1 − ε)t + ε/2` (each class is a two-way choice of its own).
    pub fn loss(self, logits: &Var, targets: &Tensor, smoothing: f64) -> Result<Var> {
        match self {
            LossKind::Softmax => logits.softmax_cross_entropy(targets, smoothing),
            LossKind::Sigmoid if smoothing == 0.0 => logits.sigmoid_binary_cross_entropy(targets),
            LossKind::Sigmoid => logits.sigmoid_binary_cross_entropy(
                &targets
                    .mul_scalar(1.0 - smoothing)?
                    .add_scalar(smoothing / 2.0)?,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tensor::DType;

    #[test]
    fn the_task_decides_unless_configured_and_softmax_needs_single_labels() {
        use LossKind::*;
        assert_eq!(LossKind::resolve(None, false, "a"), Ok(Softmax));
        assert_eq!(LossKind::resolve(None, true, "a"), Ok(Sigmoid));
        assert_eq!(LossKind::resolve(Some(Sigmoid), false, "a"), Ok(Sigmoid));
        let err = LossKind::resolve(Some(Softmax), true, "drums").unwrap_err();
        assert!(err.contains("task drums: loss = \"softmax\""), "{err}");
    }

    /// Smoothing moves each sigmoid target towards ½: with ε = 1 every target is ½, and
    /// zero logits are then the minimum, where the gradient vanishes.
    #[test]
    fn sigmoid_smoothing_pulls_targets_to_one_half() -> Result<()> {
        let logits = Var::parameter(Tensor::zeros(&[2, 3], DType::F64));
        let targets = Tensor::from_f64s(&[1.0, 0.0, 0.0, 0.0, 1.0, 1.0], &[2, 3], DType::F64)?;
        let smoothed = LossKind::Sigmoid.loss(&logits, &targets, 0.999_999)?;
        let grads = smoothed.backward()?;
        let g = grads.get(&logits).unwrap().to_vec_f64()?;
        assert!(g.iter().all(|v| v.abs() < 1e-6), "{g:?}");
        // ε = 0.2 on a target of 1 is the plain loss against 0.9.
        let plain = LossKind::Sigmoid.loss(
            &logits,
            &Tensor::from_f64s(&[0.9, 0.1, 0.1, 0.1, 0.9, 0.9], &[2, 3], DType::F64)?,
            0.0,
        )?;
        let smoothed = LossKind::Sigmoid.loss(&logits, &targets, 0.2)?;
        assert!((plain.value().to_scalar()? - smoothed.value().to_scalar()?).abs() < 1e-12);
        Ok(())
    }
}
