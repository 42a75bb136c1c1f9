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
    /// Both losses smooth a target row as the reference does (Scenic's `apply_label_smoothing`,
    /// for its softmax and its sigmoid loss alike): `t' = (1 − ε)t + ε/C` over the `C` classes.
    /// For sigmoid this is not TensorFlow's `(1 − ε)t + ε/2`, which pulls each class towards ½.
    pub fn loss(self, logits: &Var, targets: &Tensor, smoothing: f64) -> Result<Var> {
        match self {
            LossKind::Softmax => logits.softmax_cross_entropy(targets, smoothing),
            LossKind::Sigmoid if smoothing == 0.0 => logits.sigmoid_binary_cross_entropy(targets),
            LossKind::Sigmoid => {
                let classes = targets.shape().last().copied().unwrap_or(1).max(1);
                logits.sigmoid_binary_cross_entropy(
                    &targets
                        .mul_scalar(1.0 - smoothing)?
                        .add_scalar(smoothing / classes as f64)?,
                )
            }
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

    /// Sigmoid targets are smoothed as softmax ones, towards `1/C`: with ε = 1 every target is
    /// `1/C`, and logits at `ln(1/(C − 1))` (sigmoid `1/C`) are then the minimum.
    #[test]
    fn sigmoid_smoothing_pulls_targets_to_one_over_the_classes() -> Result<()> {
        let at_a_third = -(2f64.ln());
        let logits = Var::parameter(Tensor::full(&[2, 3], at_a_third, DType::F64));
        let targets = Tensor::from_f64s(&[1.0, 0.0, 0.0, 0.0, 1.0, 1.0], &[2, 3], DType::F64)?;
        let smoothed = LossKind::Sigmoid.loss(&logits, &targets, 0.999_999)?;
        let grads = smoothed.backward()?;
        let g = grads.get(&logits).unwrap().to_vec_f64()?;
        assert!(g.iter().all(|v| v.abs() < 1e-6), "{g:?}");
        // ε = 0.3 on 3 classes: a target of 1 becomes 0.8, a target of 0 becomes 0.1.
        let plain = LossKind::Sigmoid.loss(
            &logits,
            &Tensor::from_f64s(&[0.8, 0.1, 0.1, 0.1, 0.8, 0.8], &[2, 3], DType::F64)?,
            0.0,
        )?;
        let smoothed = LossKind::Sigmoid.loss(&logits, &targets, 0.3)?;
        assert!((plain.value().to_scalar()? - smoothed.value().to_scalar()?).abs() < 1e-12);
        Ok(())
    }
}
