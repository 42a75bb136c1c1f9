//! The backward pass: gradients from the loss back to the leaves.

use crate::var::Node;
use crate::Var;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::sync::Arc;
use tensor::{Error, Result, Tensor};

/// The gradients of one backward pass, by leaf.
///
/// Kept in leaf-creation order, so anything folded over them (the global norm) is computed in
/// the same order in every run.
#[derive(Debug, Default)]
pub struct Gradients {
    by_leaf: BTreeMap<u64, Tensor>,
}

impl Gradients {
    /// The gradient of the loss with respect to `var` (a parameter), if the loss depends on it.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let (a, b) = (Var::parameter(Tensor::ones(&[1], DType::F64)), Var::parameter(Tensor::ones(&[1], DType::F64)));
    /// let grads = a.mul_scalar(4.0)?.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&a).unwrap().to_vec_f64()?, [4.0]);
    /// assert!(grads.get(&b).is_none(), "the loss does not depend on b");
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn get(&self, var: &Var) -> Option<&Tensor> {
        self.by_leaf.get(&var.id()?)
    }

    /// The gradient of `var`, to replace in place (e.g. by its sum over data-parallel replicas).
    pub fn get_mut(&mut self, var: &Var) -> Option<&mut Tensor> {
        self.by_leaf.get_mut(&var.id()?)
    }

    /// Takes the gradient of `var` out of the set.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let a = Var::parameter(Tensor::ones(&[1], DType::F64));
    /// let mut grads = a.mul_scalar(4.0)?.sum_all()?.backward()?;
    /// assert_eq!(grads.remove(&a).unwrap().to_vec_f64()?, [4.0]);
    /// assert!(grads.is_empty());
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn remove(&mut self, var: &Var) -> Option<Tensor> {
        self.by_leaf.remove(&var.id()?)
    }

    /// How many leaves received a gradient.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let a = Var::parameter(Tensor::ones(&[1], DType::F64));
    /// let b = Var::parameter(Tensor::ones(&[1], DType::F64));
    /// assert_eq!(a.mul(&b)?.sum_all()?.backward()?.len(), 2);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        self.by_leaf.len()
    }

    /// True when the set holds no gradient: `Gradients::default()` before anything is
    /// [accumulated](Gradients::accumulate), or once every gradient was
    /// [removed](Gradients::remove).
    pub fn is_empty(&self) -> bool {
        self.by_leaf.is_empty()
    }

    /// Every gradient, in the order the leaves were created.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let a = Var::parameter(Tensor::ones(&[1], DType::F64));
    /// let b = Var::parameter(Tensor::ones(&[2], DType::F64));
    /// let grads = b.sum_all()?.add(&a.mul_scalar(3.0)?.sum_all()?)?.backward()?;
    /// let shapes: Vec<&[usize]> = grads.tensors().map(|g| g.shape()).collect();
    /// assert_eq!(shapes, [&[1][..], &[2][..]]); // a was created first
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn tensors(&self) -> impl Iterator<Item = &Tensor> {
        self.by_leaf.values()
    }

    /// Adds the gradients of another backward pass (of the same leaves, or others) into this
    /// set: the gradient of a sum of losses, one loss back-propagated at a time. A leaf only
    /// `other` has is moved in as it is, so a sum over passes starts from the empty
    /// `Gradients::default()`. Losses computed through one shared graph (two heads on one
    /// encoder pass) need [`Var::backward_retain_graph`] for all but the last, or one backward
    /// of their sum: [`Var::backward`] frees what it passes through.
    ///
    /// ```
    /// use autograd::{Gradients, Var};
    /// use tensor::{DType, Tensor};
    /// let w = Var::parameter(Tensor::from_f64s(&[1.0], &[1], DType::F64)?);
    /// // The gradient of L₁ + L₂, one loss at a time (as co-training sums its tasks).
    /// let mut grads = Gradients::default();
    /// grads.accumulate(w.mul_scalar(2.0)?.sum_all()?.backward()?)?;
    /// assert_eq!(grads.get(&w).unwrap().to_vec_f64()?, [2.0]);
    /// grads.accumulate(w.mul_scalar(5.0)?.sum_all()?.backward()?)?;
    /// assert_eq!(grads.get(&w).unwrap().to_vec_f64()?, [7.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn accumulate(&mut self, other: Gradients) -> Result<()> {
        for (leaf, grad) in other.by_leaf {
            let summed = match self.by_leaf.remove(&leaf) {
                Some(existing) => existing.add(&grad)?,
                None => grad,
            };
            self.by_leaf.insert(leaf, summed);
        }
        Ok(())
    }

    /// Multiplies every gradient by `factor` (e.g. to clip the global norm).
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let w = Var::parameter(Tensor::from_f64s(&[1.0], &[1], DType::F64)?);
    /// let mut grads = w.mul_scalar(4.0)?.sum_all()?.backward()?;
    /// grads.scale(0.25)?;
    /// assert_eq!(grads.get(&w).unwrap().to_vec_f64()?, [1.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn scale(&mut self, factor: f64) -> Result<()> {
        for grad in self.by_leaf.values_mut() {
            *grad = grad.mul_scalar(factor)?;
        }
        Ok(())
    }
}

/// Sums `grad` over the axes that broadcasting added or stretched, giving it `shape`.
/// This is the single place where broadcasting is undone.
pub(crate) fn sum_to_shape(grad: Tensor, shape: &[usize]) -> Result<Tensor> {
    if grad.shape() == shape {
        return Ok(grad);
    }
    let lead = grad.rank().checked_sub(shape.len()).ok_or_else(|| {
        Error::shape(
            "backward",
            format!(
                "gradient {:?} has fewer axes than its input {:?}",
                grad.shape(),
                shape
            ),
        )
    })?;
    // Past the added leading axes, each axis is the input's or stretched from its 1.
    if (lead..grad.rank()).any(|a| grad.shape()[a] != shape[a - lead] && shape[a - lead] != 1) {
        return Err(Error::shape(
            "backward",
            format!(
                "gradient {:?} is not its input {:?} broadcast",
                grad.shape(),
                shape
            ),
        ));
    }
    let axes: Vec<usize> = (0..grad.rank())
        .filter(|&a| a < lead || (shape[a - lead] == 1 && grad.shape()[a] != 1))
        .collect();
    let summed = grad.sum(&axes, true)?;
    summed.reshape(shape)
}

/// A node waiting in the backward queue, ordered by id so the newest node comes out first.
struct Pending(Arc<Node>);

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        self.0.id == other.0.id
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.id.cmp(&other.0.id)
    }
}

impl Var {
    /// Back-propagates from this scalar (the loss) and returns the gradient of every leaf it
    /// depends on.
    ///
    /// Nodes are visited in decreasing creation order, which is a reverse topological order: a
    /// node is created after its inputs, so when it is visited every node that consumed it has
    /// already contributed its share. Each rule runs once and its saved tensors are then freed, so
    /// a graph can be back-propagated only once (see [`Var::backward_retain_graph`]). A loss
    /// that depends on no parameter (computed under [`no_grad`](crate::no_grad), or from
    /// constants only) is an error, as in PyTorch.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// // f(x) = x·x + x: x is used three times (fan-out), so its gradient sums three paths.
    /// let x = Var::parameter(Tensor::from_f64s(&[2.0, 3.0], &[2], DType::F64)?);
    /// let f = x.mul(&x)?.add(&x)?.sum_all()?;
    /// let grads = f.backward()?;
    /// assert_eq!(grads.get(&x).unwrap().to_vec_f64()?, [5.0, 7.0]); // 2x + 1
    /// assert!(x.mul(&x)?.backward().is_err(), "the loss must be a scalar");
    /// let constant = autograd::no_grad(|| x.mul(&x)?.sum_all())?;
    /// assert!(constant.backward().is_err(), "nothing to differentiate");
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn backward(&self) -> Result<Gradients> {
        self.back_propagate(false)
    }

    /// [`Var::backward`] that keeps the graph's saved tensors (PyTorch's `retain_graph=True`), so
    /// another loss computed through part of the same graph can be back-propagated afterwards;
    /// they are freed when the graph's last `Var` is dropped.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let x = Var::parameter(Tensor::from_f64s(&[1.0, 2.0], &[2], DType::F64)?);
    /// let shared = x.exp()?; // one pass, two losses
    /// let (first, second) = (shared.sum_all()?, shared.mul_scalar(3.0)?.sum_all()?);
    /// let g1 = first.backward_retain_graph()?;
    /// let g2 = second.backward()?; // through `exp` again
    /// let (g1, g2) = (g1.get(&x).unwrap().to_vec_f64()?, g2.get(&x).unwrap().to_vec_f64()?);
    /// assert_eq!(g2, [3.0 * g1[0], 3.0 * g1[1]]);
    /// assert!(first.backward().is_err(), "`second.backward()` freed the shared part");
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn backward_retain_graph(&self) -> Result<Gradients> {
        self.back_propagate(true)
    }

    /// The backward pass of [`Var::backward`]; with `retain`, each rule is kept after it runs.
    fn back_propagate(&self, retain: bool) -> Result<Gradients> {
        if self.value().numel() != 1 {
            return Err(Error::shape(
                "backward",
                format!(
                    "the loss must have one element, got shape {:?}",
                    self.shape()
                ),
            ));
        }
        let mut gradients = Gradients::default();
        let Some(root) = self.node() else {
            // As PyTorch: an empty set of gradients would let a step silently train nothing.
            return Err(Error::invalid(
                "backward",
                "the loss depends on no parameter (computed under no_grad, or from constants \
                 and frozen parameters only): there is nothing to differentiate",
            ));
        };
        let mut pending: HashMap<u64, Tensor> = HashMap::new();
        pending.insert(root.id, self.value().ones_like()?);
        let mut queue = BinaryHeap::from([Pending(Arc::clone(root))]);
        while let Some(Pending(node)) = queue.pop() {
            let grad = pending
                .remove(&node.id)
                .expect("every queued node has a gradient");
            let Some(op) = node.op else {
                gradients.by_leaf.insert(node.id, grad);
                continue;
            };
            let needs: Vec<bool> = node.inputs.iter().map(Option::is_some).collect();
            let mut slot = node
                .backward
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let ran_twice = || {
                Error::invalid(
                    op.name(),
                    "backward ran twice through this graph (its saved tensors are freed after the \
                     first; backward_retain_graph keeps them)",
                )
            };
            let input_grads = if retain {
                let rule = slot.as_ref().ok_or_else(ran_twice)?;
                rule(&grad, &needs)?
            } else {
                let rule = slot.take().ok_or_else(ran_twice)?;
                drop(slot);
                rule(&grad, &needs)?
            };
            if input_grads.len() != node.inputs.len() {
                return Err(Error::shape(
                    op.name(),
                    format!(
                        "backward returned {} gradients for {} inputs",
                        input_grads.len(),
                        node.inputs.len()
                    ),
                ));
            }
            let forms = node.input_shapes.iter().zip(&node.input_dtypes);
            for ((input, input_grad), (shape, &dtype)) in
                node.inputs.iter().zip(input_grads).zip(forms)
            {
                let (Some(input), Some(input_grad)) = (input, input_grad) else {
                    continue;
                };
                if input_grad.dtype() != dtype {
                    return Err(Error::invalid(
                        op.name(),
                        format!(
                            "backward produced a {} gradient for a {dtype} input",
                            input_grad.dtype()
                        ),
                    ));
                }
                let input_grad = sum_to_shape(input_grad, shape).map_err(|e| {
                    Error::shape(
                        op.name(),
                        format!("backward produced a gradient that does not fit its input: {e}"),
                    )
                })?;
                match pending.remove(&input.id) {
                    Some(existing) => {
                        pending.insert(input.id, existing.add(&input_grad)?);
                    }
                    None => {
                        pending.insert(input.id, input_grad);
                        queue.push(Pending(Arc::clone(input)));
                    }
                }
            }
        }
        Ok(gradients)
    }
}
