//! Gradient checking by central finite differences in `f64`.
//!
//! For a function `f` of tensors, the check reduces the output to a scalar with a fixed random
//! projection, `L = Σ f(x) ⊙ R`, then compares, for each checked input element `xⱼ`, the analytic
//! `∂L/∂xⱼ` from [`Var::backward`] with `(L(x + h·eⱼ) − L(x − h·eⱼ)) / 2h`. Everything runs on the
//! device of the inputs, so the same check covers every backend.

use crate::{no_grad, Op, Var};
use std::collections::BTreeSet;
use std::sync::Arc;
use tensor::{DType, Tensor};

/// Tolerances and sampling of a gradient check.
#[derive(Clone, Debug)]
pub struct GradcheckOptions {
    /// Finite-difference step `h`.
    pub step: f64,
    /// Relative tolerance: pass when `|a − n| ≤ atol + rtol·max(|a|, |n|)`.
    pub rtol: f64,
    /// Absolute tolerance.
    pub atol: f64,
    /// Inputs with more elements are checked on a random sample of this many.
    pub max_elements: usize,
    /// Seed of the projection `R` and of the element sample.
    pub seed: u64,
}

impl Default for GradcheckOptions {
    fn default() -> Self {
        GradcheckOptions {
            step: 1e-6,
            rtol: 1e-5,
            atol: 1e-8,
            max_elements: 64,
            seed: 0,
        }
    }
}

/// The ops recorded in the graph that produced `var`.
fn ops_in_graph(var: &Var) -> BTreeSet<Op> {
    let mut seen_nodes = BTreeSet::new();
    let mut ops = BTreeSet::new();
    let mut stack: Vec<Arc<crate::var::Node>> = var.node().cloned().into_iter().collect();
    while let Some(node) = stack.pop() {
        if !seen_nodes.insert(node.id) {
            continue;
        }
        ops.extend(node.op);
        stack.extend(node.inputs.iter().flatten().cloned());
    }
    ops
}

/// Checks the gradients of `f` at `inputs` (converted to `f64`). Returns the ops found in `f`'s
/// graph, or a message naming the ops, the input, the element and both derivatives.
///
/// ```
/// use autograd::Var;
/// use tensor::{DType, Tensor};
/// use autograd::{gradcheck, GradcheckOptions, Op};
/// // f(a, b) = tanh(a·b), checked at random 3×4 and 4×2 inputs.
/// let mut rng = tensor::rng(0);
/// let a = Tensor::randn(&[3, 4], 0.0, 1.0, DType::F64, &mut rng);
/// let b = Tensor::randn(&[4, 2], 0.0, 1.0, DType::F64, &mut rng);
/// let f = |x: &[Var]| x[0].matmul(&x[1])?.tanh();
/// let ops = gradcheck(f, &[a.clone(), b.clone()], &GradcheckOptions::default()).unwrap();
/// assert!(ops.contains(&Op::Matmul) && ops.contains(&Op::Tanh));
/// // A wrong rule fails: here, `y = x·detach(x)` passed off as `x²`.
/// let wrong = |x: &[Var]| x[0].mul(&x[0].detach());
/// let err = gradcheck(wrong, &[a], &GradcheckOptions::default()).unwrap_err();
/// assert!(err.contains("mul"), "{err}");
/// # Ok::<(), tensor::Error>(())
/// ```
pub fn gradcheck(
    f: impl Fn(&[Var]) -> tensor::Result<Var>,
    inputs: &[Tensor],
    options: &GradcheckOptions,
) -> Result<BTreeSet<Op>, String> {
    let fail = |e: tensor::Error| format!("gradcheck: the function failed: {e}");
    let inputs: Vec<Tensor> = inputs
        .iter()
        .map(|t| t.to_dtype(DType::F64))
        .collect::<tensor::Result<_>>()
        .map_err(fail)?;
    let params: Vec<Var> = inputs.iter().cloned().map(Var::parameter).collect();
    let output = f(&params).map_err(fail)?;
    let ops = ops_in_graph(&output);
    let mut rng = tensor::rng(options.seed);
    let device = output.value().device();
    let projection =
        Tensor::randn_on(output.shape(), 0.0, 1.0, DType::F64, &device, &mut rng).map_err(fail)?;
    let objective = |out: &Var| out.mul(&Var::constant(projection.clone()))?.sum_all();
    let grads = objective(&output).map_err(fail)?.backward().map_err(fail)?;

    for (i, (input, param)) in inputs.iter().zip(&params).enumerate() {
        let values = input.to_vec::<f64>().map_err(fail)?;
        let analytic = match grads.get(param) {
            Some(g) => g.to_vec::<f64>().map_err(fail)?,
            None => vec![0.0; values.len()],
        };
        let elements = sample_elements(values.len(), options.max_elements, &mut rng);
        for j in elements {
            let evaluate = |delta: f64| -> tensor::Result<f64> {
                let mut shifted = values.clone();
                shifted[j] += delta;
                let mut vars: Vec<Var> = params
                    .iter()
                    .map(|p| Var::constant(p.value().clone()))
                    .collect();
                vars[i] = Var::constant(Tensor::from_vec_on(
                    shifted,
                    input.shape(),
                    &input.device(),
                )?);
                no_grad(|| objective(&f(&vars)?))?.value().to_scalar()
            };
            let numeric = (evaluate(options.step).map_err(fail)?
                - evaluate(-options.step).map_err(fail)?)
                / (2.0 * options.step);
            let a = analytic[j];
            let tolerance = options.atol + options.rtol * a.abs().max(numeric.abs());
            // Written so that a NaN on either side fails: `NaN > tolerance` would not.
            let agree = (a - numeric).abs() <= tolerance;
            if !(agree && a.is_finite() && numeric.is_finite()) {
                let names: Vec<&str> = ops.iter().map(|op| op.name()).collect();
                return Err(format!(
                    "gradcheck failed for ops {names:?}: input {i} of shape {:?}, element {j} (index {:?}): analytic {a:.10e} vs numeric {numeric:.10e}",
                    input.shape(),
                    multi_index(j, input.shape()),
                ));
            }
        }
    }
    Ok(ops)
}

/// All element indices, or a random sample of `max` of them.
fn sample_elements(len: usize, max: usize, rng: &mut tensor::Rng) -> Vec<usize> {
    use rand::seq::index::sample;
    if len <= max {
        return (0..len).collect();
    }
    sample(rng, len, max).into_vec()
}

fn multi_index(mut flat: usize, shape: &[usize]) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    for axis in (0..shape.len()).rev() {
        index[axis] = flat % shape[axis];
        flat /= shape[axis];
    }
    index
}
