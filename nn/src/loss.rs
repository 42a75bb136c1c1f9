//! Classification losses by label. The fused, stable losses against target rows are methods of
//! `Var` (`autograd`): `logits.softmax_cross_entropy(&targets, ε)` for one-hot or soft targets,
//! `logits.sigmoid_binary_cross_entropy(&targets)` for multi-hot ones.

use autograd::{one_hot, Var};
use tensor::Result;

/// Softmax cross-entropy against integer class labels `yᵢ` over a batch of `B` rows of logits
/// `z`: with the targets `t = (1 − ε)·onehot(y) + ε/C` (`C` classes, label smoothing `ε`),
/// `L = −(1/B)·Σᵢ Σ_c tᵢc·log softmax(zᵢ)_c`; `dL/dzᵢ = (softmax(zᵢ) − tᵢ)/B`.
///
/// ```
/// use autograd::Var;
/// use nn::loss::cross_entropy_with_labels;
/// use tensor::{DType, Tensor};
/// let logits = Var::parameter(Tensor::from_f64s(&[0.0, 0.0, 0.0, 0.0], &[2, 2], DType::F64)?);
/// let loss = cross_entropy_with_labels(&logits, &[1, 0], 0.0)?;
/// assert!((loss.value().to_scalar()? - 2f64.ln()).abs() < 1e-12);
/// let grads = loss.backward()?; // (softmax − one-hot)/B
/// assert_eq!(grads.get(&logits).unwrap().to_vec_f64()?, [0.25, -0.25, -0.25, 0.25]);
/// # Ok::<(), tensor::Error>(())
/// ```
pub fn cross_entropy_with_labels(logits: &Var, labels: &[usize], smoothing: f64) -> Result<Var> {
    let [batch, classes] = logits.shape()[..] else {
        return Err(tensor::Error::shape(
            "cross_entropy_with_labels",
            format!("logits {:?} must be [batch, classes]", logits.shape()),
        ));
    };
    if labels.len() != batch {
        return Err(tensor::Error::shape(
            "cross_entropy_with_labels",
            format!(
                "{} labels for logits {:?}: one label per row",
                labels.len(),
                logits.shape()
            ),
        ));
    }
    let targets =
        one_hot(labels, classes, logits.value().dtype())?.to_device(&logits.value().device())?;
    logits.softmax_cross_entropy(&targets, smoothing)
}
