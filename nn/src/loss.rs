//! Classification losses by label. The fused, stable losses against target rows are methods of
//! `Var` (`autograd`): `logits.softmax_cross_entropy(&targets, ε)` for one-hot or soft targets,
//! `logits.sigmoid_binary_cross_entropy(&targets)` for multi-hot ones.

use autograd::{one_hot, Var};
use tensor::{Error, Result, Tensor};

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
    let (_, classes) = check_labels("cross_entropy_with_labels", logits, labels)?;
    let targets =
        one_hot(labels, classes, logits.value().dtype())?.to_device(&logits.value().device())?;
    logits.softmax_cross_entropy(&targets, smoothing)
}

/// `[batch, classes]` of `logits`, or an error naming `op` when they are not a matrix or
/// `labels` has not one label per row.
fn check_labels(op: &'static str, logits: &Var, labels: &[usize]) -> Result<(usize, usize)> {
    let [batch, classes] = logits.shape()[..] else {
        return Err(Error::shape(
            op,
            format!("logits {:?} must be [batch, classes]", logits.shape()),
        ));
    };
    if labels.len() != batch {
        return Err(Error::shape(
            op,
            format!(
                "{} labels for logits {:?}: one label per row",
                labels.len(),
                logits.shape()
            ),
        ));
    }
    Ok((batch, classes))
}

/// The options of [`cross_entropy`]: PyTorch's `CrossEntropyLoss` `label_smoothing`, `weight`
/// and `ignore_index`. The default is plain cross-entropy, [`cross_entropy_with_labels`]'s.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CrossEntropyOptions {
    /// Label smoothing `ε ∈ [0, 1]`.
    pub smoothing: f64,
    /// One weight `w_c ≥ 0` per class (finite, not all the labels' zero); `None`: all 1.
    pub class_weights: Option<Vec<f64>>,
    /// A label value whose rows add nothing to the loss or its gradient (padding; unless their
    /// logits are not finite, which make NaN there, as in PyTorch); it need not be a class
    /// (`usize::MAX` is fine, as PyTorch's −100).
    pub ignore_index: Option<usize>,
}

/// Softmax cross-entropy against integer labels with PyTorch's `CrossEntropyLoss` options: over
/// the rows `i` whose label `yᵢ` is not `ignore_index`, with class weights `w` (all 1 if none),
/// `L = Σᵢ [(1 − ε)·w_{yᵢ}·(−log pᵢ,yᵢ) + (ε/C)·Σ_c w_c·(−log pᵢ,c)] / Σᵢ w_{yᵢ}`, `p =
/// softmax(z)`: the weighted mean PyTorch's `reduction="mean"` takes. It is the fused
/// [`Var::softmax_cross_entropy`] against the targets `tᵢ = (1 − ε)·w_{yᵢ}·onehot(yᵢ) +
/// (ε/C)·w` (zero for an ignored row), scaled from the batch mean to this one, so
/// `dL/dzᵢ = (pᵢ·Σ_c tᵢc − tᵢ)/Σᵢ w_{yᵢ}`.
///
/// Refused, naming the problem: a label out of range (other than `ignore_index`), weights of
/// another count than the classes or negative or not finite, and a batch whose labels all have
/// weight 0 or are all ignored (PyTorch returns NaN there).
///
/// ```
/// use autograd::Var;
/// use nn::loss::{cross_entropy, CrossEntropyOptions};
/// use tensor::{DType, Tensor};
/// let logits = Var::parameter(Tensor::from_f64s(&[0.0; 6], &[3, 2], DType::F64)?);
/// let options = CrossEntropyOptions {
///     class_weights: Some(vec![1.0, 3.0]),
///     ignore_index: Some(9),
///     ..CrossEntropyOptions::default()
/// };
/// // The third row is ignored: ln 2, weighted by 3 and 1, over a weight of 4.
/// let loss = cross_entropy(&logits, &[1, 0, 9], &options)?;
/// assert!((loss.value().to_scalar()? - 2f64.ln()).abs() < 1e-12);
/// let grads = loss.backward()?;
/// assert_eq!(grads.get(&logits).unwrap().to_vec_f64()?[4..], [0.0, 0.0]);
/// # Ok::<(), tensor::Error>(())
/// ```
pub fn cross_entropy(logits: &Var, labels: &[usize], options: &CrossEntropyOptions) -> Result<Var> {
    const OP: &str = "cross_entropy";
    let (batch, classes) = check_labels(OP, logits, labels)?;
    let smoothing = options.smoothing;
    if !(0.0..=1.0).contains(&smoothing) {
        return Err(Error::invalid(
            OP,
            format!("label smoothing {smoothing} is outside [0, 1]"),
        ));
    }
    let ones = vec![1.0; classes];
    let weights = options.class_weights.as_deref().unwrap_or(&ones);
    if weights.len() != classes {
        return Err(Error::shape(
            OP,
            format!(
                "{} class weights for logits {:?}: one weight per class",
                weights.len(),
                logits.shape()
            ),
        ));
    }
    if let Some((c, w)) = weights
        .iter()
        .enumerate()
        .find(|(_, w)| !(w.is_finite() && **w >= 0.0))
    {
        return Err(Error::invalid(
            OP,
            format!("class weight {c} is {w}: weights must be finite and ≥ 0"),
        ));
    }
    let mut targets = vec![0.0; batch * classes];
    let mut total_weight = 0.0;
    for (i, &label) in labels.iter().enumerate() {
        if Some(label) == options.ignore_index {
            continue;
        }
        if label >= classes {
            return Err(Error::invalid(
                OP,
                format!("label {label} of row {i} is not one of the {classes} classes"),
            ));
        }
        let row = &mut targets[i * classes..(i + 1) * classes];
        for (t, w) in row.iter_mut().zip(weights) {
            *t = smoothing / classes as f64 * w;
        }
        row[label] += (1.0 - smoothing) * weights[label];
        total_weight += weights[label];
    }
    if total_weight == 0.0 {
        return Err(Error::invalid(
            OP,
            format!(
                "the {batch} labels are all ignored or of weight 0: the weighted mean is undefined"
            ),
        ));
    }
    let value = logits.value();
    let targets = Tensor::from_f64s(&targets, &[batch, classes], value.dtype())?
        .to_device(&value.device())?;
    logits
        .softmax_cross_entropy(&targets, 0.0)?
        .mul_scalar(batch as f64 / total_weight)
}
