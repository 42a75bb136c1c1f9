//! `Var`: a tensor plus the graph node that made it.

use crate::Op;
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tensor::{DType, Result, Tensor};

/// A backward rule: given the gradient of the node's output and which inputs need a gradient,
/// returns one gradient per input (`None` where not needed). It runs once and is then dropped,
/// releasing the tensors it saved, unless the pass retains the graph
/// ([`Var::backward_retain_graph`]), which may run it again.
pub(crate) type BackwardFn = Box<dyn Fn(&Tensor, &[bool]) -> Result<Vec<Option<Tensor>>> + Send>;

/// One recorded operation (or, with no rule, a leaf that wants a gradient).
pub(crate) struct Node {
    /// Increases with creation order, so every node's inputs have smaller ids than the node.
    pub(crate) id: u64,
    /// `None` for leaves (parameters).
    pub(crate) op: Option<Op>,
    /// The nodes of the inputs (`None` for inputs that need no gradient).
    pub(crate) inputs: Vec<Option<Arc<Node>>>,
    /// The inputs' shapes, to sum broadcast gradients back to them.
    pub(crate) input_shapes: Vec<Vec<usize>>,
    /// The inputs' dtypes, which their gradients must have.
    pub(crate) input_dtypes: Vec<DType>,
    pub(crate) backward: Mutex<Option<BackwardFn>>,
    /// The live-node count of the thread that created the node, which its drop decreases on
    /// whichever thread that happens ([`live_nodes`]).
    creator_count: Arc<AtomicUsize>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
    static LIVE_NODES: Arc<AtomicUsize> = Arc::new(AtomicUsize::new(0));
}

impl Node {
    fn new(
        op: Option<Op>,
        inputs: Vec<Option<Arc<Node>>>,
        input_shapes: Vec<Vec<usize>>,
        input_dtypes: Vec<DType>,
        backward: Option<BackwardFn>,
    ) -> Arc<Node> {
        let creator_count = LIVE_NODES.with(Arc::clone);
        creator_count.fetch_add(1, Ordering::Relaxed);
        Arc::new(Node {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            op,
            inputs,
            input_shapes,
            input_dtypes,
            backward: Mutex::new(backward),
            creator_count,
        })
    }
}

impl Drop for Node {
    /// Frees the graph behind this node without recursion: dropping a node drops its inputs,
    /// theirs in turn, and so on down a chain as long as the model is deep (a 2,000-block model
    /// overflowed the stack that way). The inputs this node held the last reference to are
    /// taken apart here, one at a time, each emptied of its own inputs before it is dropped.
    fn drop(&mut self) {
        self.creator_count.fetch_sub(1, Ordering::Relaxed);
        let mut pending: Vec<Arc<Node>> = self.inputs.drain(..).flatten().collect();
        while let Some(node) = pending.pop() {
            if let Some(mut last) = Arc::into_inner(node) {
                pending.extend(last.inputs.drain(..).flatten());
            }
        }
    }
}

/// Graph nodes created on this thread and still alive, wherever they have been dropped (a
/// micro-batch's graph is built on a pool thread and may be dropped on another): a leak
/// detector for tests.
///
/// ```
/// use autograd::Var;
/// use tensor::{DType, Tensor};
/// let before = autograd::live_nodes();
/// let x = Var::parameter(Tensor::ones(&[2], DType::F64));
/// let y = x.exp()?;
/// assert_eq!(autograd::live_nodes(), before + 2); // the leaf and exp's node
/// drop((x, y));
/// assert_eq!(autograd::live_nodes(), before);
/// # Ok::<(), tensor::Error>(())
/// ```
pub fn live_nodes() -> usize {
    LIVE_NODES.with(|n| n.load(Ordering::Relaxed))
}

/// Whether ops on this thread currently record graph nodes.
///
/// ```
/// use autograd::Var;
/// use tensor::{DType, Tensor};
/// assert!(autograd::is_grad_enabled());
/// assert!(!autograd::no_grad(autograd::is_grad_enabled));
/// # Ok::<(), tensor::Error>(())
/// ```
pub fn is_grad_enabled() -> bool {
    GRAD_ENABLED.with(|g| g.get())
}

/// Runs `f` without recording: results have no graph and no gradients (evaluation, updates).
///
/// ```
/// use autograd::Var;
/// use tensor::{DType, Tensor};
/// let w = Var::parameter(Tensor::ones(&[2], DType::F64));
/// let y = autograd::no_grad(|| w.mul_scalar(2.0))?;
/// assert!(!y.requires_grad(), "nothing was recorded");
/// assert_eq!(y.value().to_vec_f64()?, [2.0, 2.0]);
/// # Ok::<(), tensor::Error>(())
/// ```
pub fn no_grad<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            GRAD_ENABLED.with(|g| g.set(self.0));
        }
    }
    let _restore = Restore(GRAD_ENABLED.with(|g| g.replace(false)));
    f()
}

/// A tensor that remembers how it was made.
#[derive(Clone)]
pub struct Var {
    value: Tensor,
    node: Option<Arc<Node>>,
}

impl Var {
    /// A value that needs no gradient (data, targets, frozen weights).
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let data = Var::constant(Tensor::ones(&[2], DType::F64));
    /// let w = Var::parameter(Tensor::ones(&[2], DType::F64));
    /// let grads = data.mul(&w)?.sum_all()?.backward()?;
    /// assert!(grads.get(&data).is_none() && grads.get(&w).is_some());
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn constant(value: Tensor) -> Var {
        Var { value, node: None }
    }

    /// A leaf whose gradient [`Var::backward`] will report (a trainable parameter).
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let w = Var::parameter(Tensor::from_f64s(&[3.0], &[1], DType::F64)?);
    /// assert!(w.requires_grad() && w.op().is_none()); // a leaf
    /// let grads = w.square()?.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&w).unwrap().to_vec_f64()?, [6.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn parameter(value: Tensor) -> Var {
        Var {
            value,
            node: Some(Node::new(None, Vec::new(), Vec::new(), Vec::new(), None)),
        }
    }

    /// The same value, cut out of the graph: no gradient flows through the result.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let w = Var::parameter(Tensor::from_f64s(&[3.0], &[1], DType::F64)?);
    /// // w·stop(w): the detached factor counts as a constant, so d/dw = stop(w) = 3, not 2w = 6.
    /// let y = w.mul(&w.detach())?;
    /// let grads = y.sum_all()?.backward()?;
    /// assert_eq!(grads.get(&w).unwrap().to_vec_f64()?, [3.0]);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn detach(&self) -> Var {
        Var::constant(self.value.clone())
    }

    /// The value (the tensor this variable holds).
    pub fn value(&self) -> &Tensor {
        &self.value
    }

    /// The value's shape.
    pub fn shape(&self) -> &[usize] {
        self.value.shape()
    }

    /// The value's number of axes.
    pub fn rank(&self) -> usize {
        self.value.rank()
    }

    /// True when a gradient can flow into this value (it is a parameter or depends on one).
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let w = Var::parameter(Tensor::ones(&[1], DType::F64));
    /// let c = Var::constant(Tensor::ones(&[1], DType::F64));
    /// assert!(w.add(&c)?.requires_grad());
    /// assert!(!c.exp()?.requires_grad());
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn requires_grad(&self) -> bool {
        self.node.is_some()
    }

    /// The op that made this value (`None` for leaves and constants).
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let w = Var::parameter(Tensor::ones(&[1], DType::F64));
    /// assert_eq!(w.exp()?.op(), Some(autograd::Op::Exp));
    /// assert_eq!(w.op(), None);
    /// # Ok::<(), tensor::Error>(())
    /// ```
    pub fn op(&self) -> Option<Op> {
        self.node.as_ref().and_then(|n| n.op)
    }

    /// The same graph position with an equal value in another layout (e.g. a dense copy).
    pub(crate) fn with_value(&self, value: Tensor) -> Var {
        debug_assert_eq!(value.shape(), self.shape());
        Var {
            value,
            node: self.node.clone(),
        }
    }

    pub(crate) fn node(&self) -> Option<&Arc<Node>> {
        self.node.as_ref()
    }

    /// The identity of the graph node behind this `Var` (`None` for a constant): clones of one
    /// parameter share it, and gradients are looked up by it.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::{DType, Tensor};
    /// let w = Var::parameter(Tensor::ones(&[2], DType::F32));
    /// let other = Var::parameter(Tensor::ones(&[2], DType::F32));
    /// assert_eq!(w.clone().id(), w.id());
    /// assert_ne!(other.id(), w.id());
    /// assert_eq!(Var::constant(Tensor::ones(&[2], DType::F32)).id(), None);
    /// ```
    pub fn id(&self) -> Option<u64> {
        self.node.as_ref().map(|n| n.id)
    }

    /// Wraps the result `value` of `op` applied to `inputs`, recording a node with `backward` when
    /// recording is on and some input needs a gradient.
    pub(crate) fn record(
        op: Op,
        value: Tensor,
        inputs: &[&Var],
        backward: impl Fn(&Tensor, &[bool]) -> Result<Vec<Option<Tensor>>> + Send + 'static,
    ) -> Var {
        if !is_grad_enabled() || inputs.iter().all(|v| v.node.is_none()) {
            return Var::constant(value);
        }
        let node = Node::new(
            Some(op),
            inputs.iter().map(|v| v.node.clone()).collect(),
            inputs.iter().map(|v| v.shape().to_vec()).collect(),
            inputs.iter().map(|v| v.value.dtype()).collect(),
            Some(Box::new(backward)),
        );
        Var {
            value,
            node: Some(node),
        }
    }
}

impl std::fmt::Debug for Var {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Var({}, op={:?}, requires_grad={})",
            self.value,
            self.op(),
            self.requires_grad()
        )
    }
}
