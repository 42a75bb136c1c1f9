//! Classification losses (the fused, stable implementations live in `autograd`).

use autograd::{one_hot, Var};
use tensor::{Result, Tensor};

/// Softmax cross-entropy of `[B, C]` logits against target distributions (one-hot or soft,
/// e.g. from mixup), with label smoothing `ε`, averaged over the batch.
pub fn softmax_cross_entropy(logits: &Var, targets: &Tensor, smoothing: f64) -> Result<Var> {
    logits.softmax_cross_entropy(targets, smoothing)
}

/// Softmax cross-entropy against integer class labels.
pub fn cross_entropy_with_labels(logits: &Var, labels: &[usize], smoothing: f64) -> Result<Var> {
    let classes = logits.shape().last().copied().unwrap_or(0);
    let targets =
        one_hot(labels, classes, logits.value().dtype())?.to_device(&logits.value().device())?;
    logits.softmax_cross_entropy(&targets, smoothing)
}

/// Sigmoid binary cross-entropy with logits, summed over classes and averaged over the batch;
/// targets are multi-hot (or soft) `[B, C]`.
pub fn sigmoid_binary_cross_entropy(logits: &Var, targets: &Tensor) -> Result<Var> {
    logits.sigmoid_binary_cross_entropy(targets)
}
