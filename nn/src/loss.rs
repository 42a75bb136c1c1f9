//! Classification losses (the fused, stable implementations live in `autograd`).

use autograd::{one_hot, Var};
use tensor::{Result, Tensor};

/// Softmax cross-entropy of `[B, C]` logits against target distributions (one-hot or soft,
/// e.g. from mixup), with label smoothing `ε`, averaged over the batch.
///
/// ```
/// use autograd::Var;
/// use nn::loss::{cross_entropy_with_labels, sigmoid_binary_cross_entropy, softmax_cross_entropy};
/// use tensor::{DType, Tensor};
/// // Uninformed logits over 4 classes cost ln 4, whatever the targets.
/// let logits = Var::constant(Tensor::zeros(&[2, 4], DType::F64));
/// let soft = Tensor::full(&[2, 4], 0.25, DType::F64);
/// let loss = softmax_cross_entropy(&logits, &soft, 0.0)?.value().to_scalar()?;
/// assert!((loss - 4f64.ln()).abs() < 1e-12);
/// # Ok::<(), tensor::Error>(())
/// ```
pub fn softmax_cross_entropy(logits: &Var, targets: &Tensor, smoothing: f64) -> Result<Var> {
    logits.softmax_cross_entropy(targets, smoothing)
}

/// Softmax cross-entropy against integer class labels.
///
/// ```
/// use autograd::Var;
/// use nn::loss::{cross_entropy_with_labels, sigmoid_binary_cross_entropy, softmax_cross_entropy};
/// use tensor::{DType, Tensor};
/// let logits = Var::parameter(Tensor::from_f64s(&[0.0, 0.0, 0.0, 0.0], &[2, 2], DType::F64)?);
/// let loss = cross_entropy_with_labels(&logits, &[1, 0], 0.0)?;
/// assert!((loss.value().to_scalar()? - 2f64.ln()).abs() < 1e-12);
/// let grads = loss.backward()?; // (softmax − one-hot)/B
/// assert_eq!(grads.get(&logits).unwrap().to_vec_f64()?, [0.25, -0.25, -0.25, 0.25]);
/// # Ok::<(), tensor::Error>(())
/// ```
pub fn cross_entropy_with_labels(logits: &Var, labels: &[usize], smoothing: f64) -> Result<Var> {
    let classes = logits.shape().last().copied().unwrap_or(0);
    let targets =
        one_hot(labels, classes, logits.value().dtype())?.to_device(&logits.value().device())?;
    logits.softmax_cross_entropy(&targets, smoothing)
}

/// Sigmoid binary cross-entropy with logits, summed over classes and averaged over the batch;
/// targets are multi-hot (or soft) `[B, C]`.
///
/// ```
/// use autograd::Var;
/// use nn::loss::{cross_entropy_with_labels, sigmoid_binary_cross_entropy, softmax_cross_entropy};
/// use tensor::{DType, Tensor};
/// let logits = Var::constant(Tensor::zeros(&[1, 3], DType::F64));
/// let targets = Tensor::from_f64s(&[1.0, 0.0, 1.0], &[1, 3], DType::F64)?;
/// let loss = sigmoid_binary_cross_entropy(&logits, &targets)?.value().to_scalar()?;
/// assert!((loss - 3.0 * 2f64.ln()).abs() < 1e-12); // ln 2 per class, summed
/// # Ok::<(), tensor::Error>(())
/// ```
pub fn sigmoid_binary_cross_entropy(logits: &Var, targets: &Tensor) -> Result<Var> {
    logits.sigmoid_binary_cross_entropy(targets)
}
