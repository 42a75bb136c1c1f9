//! Fused losses: stable for large logits, with one-step gradients.

use crate::{Op, Var};
use tensor::{Error, Result, Tensor};

/// Checks that logits are `[batch, classes]` and targets match them in shape, dtype and device.
fn check_pair(op: &'static str, logits: &Var, targets: &Tensor) -> Result<(usize, usize)> {
    logits
        .value()
        .check_kind_against(op, targets, ["the logits are", "the targets"])?;
    if logits.rank() != 2 || targets.shape() != logits.shape() {
        return Err(Error::shape(
            op,
            format!(
                "logits {:?} and targets {:?} must both be [batch, classes]",
                logits.shape(),
                targets.shape()
            ),
        ));
    }
    if logits.shape()[0] == 0 {
        return Err(Error::shape(
            op,
            format!(
                "logits {:?}: an empty batch has no mean loss",
                logits.shape()
            ),
        ));
    }
    Ok((logits.shape()[0], logits.shape()[1]))
}

impl Var {
    /// Softmax cross-entropy averaged over the batch, for logits `x` of shape `[B, C]` and target
    /// distributions `t` (rows of one-hot labels, or soft targets such as mixup's), with label
    /// smoothing `ε ∈ [0, 1]`: `t' = (1 − ε)t + ε/C`, `ℓ = −(1/B) Σ t'·log_softmax(x)`.
    /// Gradient: `dx = g·(softmax(x)·Σ_c t' − t')/B`.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let logits = Var::parameter(Tensor::from_f64s(&[0.0, 0.0], &[1, 2], DType::F64)?);
    /// let targets = Tensor::from_f64s(&[1.0, 0.0], &[1, 2], DType::F64)?;
    /// let loss = logits.softmax_cross_entropy(&targets, 0.0)?;
    /// assert!((loss.value().to_scalar()? - 2f64.ln()).abs() < 1e-12); // −ln ½
    /// let grads = loss.backward()?;
    /// assert_eq!(grads.get(&logits).unwrap().to_vec_f64()?, [-0.5, 0.5]); // softmax − t
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn softmax_cross_entropy(&self, targets: &Tensor, smoothing: f64) -> Result<Var> {
        let (batch, classes) = check_pair("softmax_cross_entropy", self, targets)?;
        if !(0.0..=1.0).contains(&smoothing) {
            return Err(Error::invalid(
                "softmax_cross_entropy",
                format!("label smoothing {smoothing} is outside [0, 1]"),
            ));
        }
        let targets = targets.affine(1.0 - smoothing, smoothing / classes as f64)?;
        let log_probs = self.value().log_softmax(1)?;
        // A class with no target mass adds nothing, even if its logit is −∞ (a masked class):
        // `0 · log 0` is 0 here, as in the limit, where `mul` would make the loss NaN.
        let loss = targets
            .zero_safe_mul(&log_probs)?
            .sum_all()?
            .mul_scalar(-1.0 / batch as f64)?;
        Ok(Var::record(
            Op::SoftmaxCrossEntropy,
            loss,
            &[self],
            move |g, _| {
                let mass = targets.sum(&[1], true)?;
                let dx = log_probs
                    .exp()?
                    .mul(&mass)?
                    .sub(&targets)?
                    .mul_scalar(1.0 / batch as f64)?;
                Ok(vec![Some(dx.mul(g)?)])
            },
        ))
    }

    /// Sigmoid binary cross-entropy with logits, summed over classes and averaged over the batch
    /// (the PolyViT reference's loss): `ℓ = (1/B) Σ [softplus(x) − x·t]`, which equals
    /// `−(1/B) Σ [t·ln σ(x) + (1 − t)·ln(1 − σ(x))]` without overflow for large `|x|`.
    /// Gradient: `dx = g·(σ(x) − t)/B`. PyTorch's `binary_cross_entropy_with_logits` with its
    /// default `mean` also averages over the `C` classes: `C` times smaller than this.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let logits = Var::parameter(Tensor::from_f64s(&[0.0, 0.0], &[1, 2], DType::F64)?);
    /// let targets = Tensor::from_f64s(&[1.0, 0.0], &[1, 2], DType::F64)?;
    /// let loss = logits.sigmoid_binary_cross_entropy(&targets)?;
    /// assert!((loss.value().to_scalar()? - 2.0 * 2f64.ln()).abs() < 1e-12); // ln 2 per class
    /// let grads = loss.backward()?;
    /// assert_eq!(grads.get(&logits).unwrap().to_vec_f64()?, [-0.5, 0.5]); // σ(x) − t
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn sigmoid_binary_cross_entropy(&self, targets: &Tensor) -> Result<Var> {
        let (batch, _) = check_pair("sigmoid_binary_cross_entropy", self, targets)?;
        let x = self.value().clone();
        let per_element = x.softplus()?.sub(&x.mul(targets)?)?;
        let loss = per_element.sum_all()?.mul_scalar(1.0 / batch as f64)?;
        let targets = targets.clone();
        Ok(Var::record(
            Op::SigmoidBinaryCrossEntropy,
            loss,
            &[self],
            move |g, _| {
                let dx = x.sigmoid()?.sub(&targets)?.mul_scalar(1.0 / batch as f64)?;
                Ok(vec![Some(dx.mul(g)?)])
            },
        ))
    }
}

/// One-hot rows for integer `labels` over `classes`, in `dtype` (targets for cross-entropy).
///
/// ```
/// use autograd::Var;
/// use tensor::{DType, Tensor};
/// let t = autograd::one_hot(&[2, 0], 3, DType::F32)?;
/// assert_eq!(t.shape(), [2, 3]);
/// assert_eq!(t.to_vec_f64()?, [0.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
/// let err = autograd::one_hot(&[0, 3], 3, DType::F32).unwrap_err().to_string();
/// assert!(err.contains("label 3 (row 1) is out of range for 3 classes"), "{err}");
/// # Ok::<(), tensor::Error>(())
/// ```
pub fn one_hot(labels: &[usize], classes: usize, dtype: tensor::DType) -> Result<Tensor> {
    if let Some((row, bad)) = labels.iter().enumerate().find(|(_, &l)| l >= classes) {
        return Err(Error::invalid(
            "one_hot",
            format!("label {bad} (row {row}) is out of range for {classes} classes"),
        ));
    }
    let len = tensor::checked_numel("one_hot", &[labels.len(), classes])?;
    let mut values = tensor::filled_vec("one_hot", len, 0.0)?;
    for (row, &label) in labels.iter().enumerate() {
        values[row * classes + label] = 1.0;
    }
    Tensor::from_f64s(&values, &[labels.len(), classes], dtype)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tensor::DType;

    /// A class whose logit is −∞ (masked) and whose target is 0 adds nothing to the loss, as in
    /// PyTorch: `ln(1 + e)` for logits `[0, −∞, 1]` and label 0, not NaN; its gradient is 0, on
    /// every device.
    #[test]
    fn a_masked_class_without_target_mass_adds_nothing() {
        for device in tensor::test_devices() {
            let logits = [0.0, f64::NEG_INFINITY, 1.0];
            let logits = Var::parameter(
                Tensor::from_f64s_on(&logits, &[1, 3], DType::F32, &device).unwrap(),
            );
            let targets = one_hot(&[0], 3, DType::F32)
                .and_then(|t| t.to_device(&device))
                .unwrap();
            let loss = logits.softmax_cross_entropy(&targets, 0.0).unwrap();
            let value = loss.value().to_scalar().unwrap();
            assert!(
                (value - (1.0 + 1f64.exp()).ln()).abs() < 1e-6,
                "{device}: {value}"
            );
            let grads = loss.backward().unwrap();
            let grad = grads.get(&logits).unwrap().to_vec_f64().unwrap();
            let p = 1.0 / (1.0 + 1f64.exp());
            for (got, want) in grad.iter().zip([p - 1.0, 0.0, 1.0 - p]) {
                assert!((got - want).abs() < 1e-6, "{device}: {grad:?}");
            }
        }
    }

    /// Targets of another dtype are refused by the loss, naming both dtypes.
    #[test]
    fn targets_of_another_dtype_are_named_by_the_loss() {
        let logits = Var::parameter(Tensor::zeros(&[2, 3], DType::F32));
        let targets = Tensor::zeros(&[2, 3], DType::F64);
        let err = logits.softmax_cross_entropy(&targets, 0.0).err().unwrap();
        let msg = err.to_string();
        assert!(
            msg.contains("softmax_cross_entropy") && msg.contains("f64"),
            "{msg}"
        );
    }

    /// Targets on another device than the logits are refused by the loss, naming both devices
    /// (with an OpenCL device; on the CPU alone there is no other device).
    #[test]
    fn targets_on_another_device_are_named_by_the_loss() {
        let devices = tensor::test_devices();
        for (logits_on, targets_on) in devices.iter().zip(devices.iter().rev()) {
            if logits_on == targets_on {
                continue;
            }
            let logits = Var::parameter(Tensor::zeros_on(&[2, 3], DType::F32, logits_on).unwrap());
            let targets = Tensor::zeros_on(&[2, 3], DType::F32, targets_on).unwrap();
            let msg = logits
                .sigmoid_binary_cross_entropy(&targets)
                .err()
                .unwrap()
                .to_string();
            let want = format!("the logits are on {logits_on} and the targets on {targets_on}");
            assert!(
                msg.starts_with("sigmoid_binary_cross_entropy: ") && msg.contains(&want),
                "{msg}"
            );
        }
    }

    /// Label smoothing outside [0, 1] (or NaN) is refused, as PyTorch refuses it.
    #[test]
    fn label_smoothing_must_lie_in_0_1() {
        let logits = Var::parameter(Tensor::zeros(&[2, 3], DType::F32));
        let targets = one_hot(&[0, 1], 3, DType::F32).unwrap();
        for smoothing in [-0.1, 1.5, f64::NAN, f64::INFINITY] {
            let err = logits
                .softmax_cross_entropy(&targets, smoothing)
                .unwrap_err();
            assert!(err.to_string().contains("is outside [0, 1]"), "{err}");
        }
        assert!(logits.softmax_cross_entropy(&targets, 1.0).is_ok());
    }

    /// One-hot rows too many to count or to hold are errors, not panics.
    #[test]
    fn one_hot_of_absurd_sizes_is_an_error() {
        let err = one_hot(&[0, 1], usize::MAX / 2 + 1, DType::F32).unwrap_err();
        assert!(err.to_string().contains("too many elements"), "{err}");
        let err = one_hot(&[0], 1 << 60, DType::F32).unwrap_err();
        assert!(
            err.to_string().starts_with("one_hot: out of memory"),
            "{err}"
        );
    }

    /// Mismatched shapes name both; an empty batch is refused instead of averaging to 0/0.
    #[test]
    fn losses_refuse_what_they_cannot_average() {
        let logits = |shape: &[usize]| Var::parameter(Tensor::zeros(shape, DType::F64));
        let targets = Tensor::zeros(&[2, 4], DType::F64);
        let err = logits(&[2, 3])
            .softmax_cross_entropy(&targets, 0.0)
            .err()
            .unwrap();
        assert!(err.to_string().contains("[2, 3]") && err.to_string().contains("[2, 4]"));
        let empty = Tensor::zeros(&[0, 3], DType::F64);
        for err in [
            logits(&[0, 3]).softmax_cross_entropy(&empty, 0.0).err(),
            logits(&[0, 3]).sigmoid_binary_cross_entropy(&empty).err(),
        ] {
            let err = err.expect("an empty batch is an error").to_string();
            assert!(err.contains("empty batch"), "{err}");
        }
    }
}
