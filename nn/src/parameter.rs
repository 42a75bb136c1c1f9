//! Trainable tensors and the walk over them by name.

use autograd::Var;
use std::sync::atomic::{AtomicU64, Ordering};
use tensor::{Device, Result, Tensor};

/// A tensor the optimizer may change.
///
/// It holds a graph leaf, so the gradients of a backward pass can be looked up by it. A frozen
/// parameter enters the graph as a constant: it gets no gradient and is never updated.
///
/// ```
/// use nn::Parameter;
/// use tensor::{DType, Tensor};
/// let mut w = Parameter::new(Tensor::from_f64s(&[2.0], &[1], DType::F64)?);
/// let grads = w.var().square()?.sum_all()?.backward()?;
/// assert_eq!(grads.get(w.leaf()).unwrap().to_vec_f64()?, [4.0]);
/// // Frozen, it enters the graph as a constant and gets no gradient (a loss of it alone has
/// // nothing to differentiate).
/// w.set_frozen(true);
/// let v = Parameter::new(Tensor::from_f64s(&[1.0], &[1], DType::F64)?);
/// let grads = w.var().mul(&v.var())?.sum_all()?.backward()?;
/// assert!(grads.get(w.leaf()).is_none() && grads.get(v.leaf()).is_some());
/// assert!(w.var().square()?.sum_all()?.backward().is_err());
/// # Ok::<(), tensor::Error>(())
/// ```
#[derive(Debug)]
pub struct Parameter {
    var: Var,
    frozen: bool,
    id: u64,
}

/// The next [`Parameter::id`].
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

impl Parameter {
    /// A trainable parameter holding `value`.
    pub fn new(value: Tensor) -> Self {
        Parameter {
            var: Var::parameter(value),
            frozen: false,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// The parameter's identity, unique in the process and kept by [`Parameter::set_value`]
    /// (an update, a move to another device, a checkpoint load), where the leaf is new after
    /// each update; a clone is another parameter, with an identity of its own. Optimizers use
    /// it to tell this parameter's state from that of another model's parameter of the same
    /// name.
    ///
    /// ```
    /// use nn::Parameter;
    /// use tensor::{DType, Tensor};
    /// let mut w = Parameter::new(Tensor::ones(&[2], DType::F32));
    /// let id = w.id();
    /// w.set_value(Tensor::zeros(&[2], DType::F32));
    /// assert_eq!(w.id(), id);
    /// assert_ne!(w.clone().id(), id);
    /// ```
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The value to use in a forward pass: the leaf itself, or a constant when frozen.
    pub fn var(&self) -> Var {
        if self.frozen {
            self.var.detach()
        } else {
            self.var.clone()
        }
    }

    /// The leaf that gradients are reported for.
    pub fn leaf(&self) -> &Var {
        &self.var
    }

    /// The current value.
    pub fn value(&self) -> &Tensor {
        self.var.value()
    }

    /// The value's shape.
    pub fn shape(&self) -> &[usize] {
        self.var.shape()
    }

    /// Replaces the value (an optimizer step or a checkpoint load); the parameter becomes a new
    /// leaf, so gradients of earlier graphs no longer refer to it.
    pub fn set_value(&mut self, value: Tensor) {
        self.var = Var::parameter(value);
    }

    /// True when the parameter is excluded from gradients and updates.
    pub fn is_frozen(&self) -> bool {
        self.frozen
    }

    /// Freezes (`true`) or unfreezes the parameter.
    pub fn set_frozen(&mut self, frozen: bool) {
        self.frozen = frozen;
    }
}

/// A clone holds the same leaf (until either is updated) under an identity of its own.
impl Clone for Parameter {
    fn clone(&self) -> Self {
        Parameter {
            var: self.var.clone(),
            frozen: self.frozen,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        }
    }
}

/// Something that owns parameters and can list them by dotted name.
///
/// ```
/// use nn::Parameter;
/// use tensor::{DType, Tensor};
/// use nn::layers::{Linear, LinearInit};
/// use nn::{impl_parameters, Parameters};
/// struct Net { encoder: Vec<Linear>, head: Linear }
/// impl_parameters!(Net { encoder, head });
///
/// let rng = &mut tensor::rng(0);
/// let mut net = Net {
///     encoder: (0..2).map(|_| Linear::new(4, 4, LinearInit::XavierUniform, DType::F32, rng)).collect(),
///     head: Linear::new(4, 2, LinearInit::Zeros, DType::F32, rng),
/// };
/// let names: Vec<String> = net.named_parameters().into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names, ["encoder.0.weight", "encoder.0.bias", "encoder.1.weight", "encoder.1.bias", "head.weight", "head.bias"]);
/// assert_eq!(net.parameter_count(), 2 * (16 + 4) + (8 + 2));
/// assert_eq!(net.set_frozen("encoder.", true), 4);
/// # Ok::<(), tensor::Error>(())
/// ```
pub trait Parameters {
    /// Calls `f(name, parameter)` for every parameter, names prefixed with `prefix`.
    fn visit<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a Parameter));

    /// Calls `f(name, parameter)` for every parameter, mutably.
    fn visit_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Parameter));

    /// Every parameter with its full name, in a fixed order.
    fn named_parameters(&self) -> Vec<(String, &Parameter)> {
        let mut out = Vec::new();
        self.visit("", &mut |name, p| out.push((name.to_string(), p)));
        out
    }

    /// The number of scalar parameters (frozen ones included).
    fn parameter_count(&self) -> usize {
        let mut count = 0;
        self.visit("", &mut |_, p| count += p.value().numel());
        count
    }

    /// Moves every parameter to `device` (one upload each; a no-op for those already there).
    /// Gradients of graphs built before the move no longer refer to the moved parameters.
    fn to_device(&mut self, device: &Device) -> Result<()> {
        let mut result = Ok(());
        self.visit_mut("", &mut |_, p| {
            if result.is_ok() && p.value().device() != *device {
                match p.value().to_device(device) {
                    Ok(moved) => p.set_value(moved),
                    Err(e) => result = Err(e),
                }
            }
        });
        result
    }

    /// Freezes (or unfreezes) the parameters under `prefix`, a whole dotted name or its first
    /// components (`blocks.1` is `blocks.1.*`, not `blocks.10.*`; `blocks.1.` means the same);
    /// returns how many.
    fn set_frozen(&mut self, prefix: &str, frozen: bool) -> usize {
        let prefix = prefix.strip_suffix('.').unwrap_or(prefix);
        let mut count = 0;
        self.visit_mut("", &mut |name, p| {
            let under = match name.strip_prefix(prefix) {
                Some(rest) => rest.is_empty() || rest.starts_with('.') || prefix.is_empty(),
                None => false,
            };
            if under {
                p.set_frozen(frozen);
                count += 1;
            }
        });
        count
    }
}

/// Checks that every parameter of `model` has a name of its own and that no parameter is held
/// under two names (weights tied by cloning a `Parameter`): optimizers keep state and checkpoints
/// keep tensors by name, and each holder of a tied weight would be updated, saved and loaded on
/// its own, untying it at the first step. Optimizers and checkpoints call it first.
///
/// ```
/// use nn::{parameter::check_distinct, Parameter};
/// use tensor::{DType, Tensor};
/// let w = Parameter::new(Tensor::ones(&[2], DType::F32));
/// let tied = vec![w.clone(), w];
/// let err = check_distinct(&tied).unwrap_err().to_string();
/// assert_eq!(err, "parameters: 0 and 1 are one parameter held under two names (tied weights are not supported: give each its own Parameter)");
/// ```
pub fn check_distinct(model: &dyn Parameters) -> Result<()> {
    let mut names = std::collections::HashSet::new();
    let mut holders = std::collections::HashMap::new();
    let mut problem = None;
    model.visit("", &mut |name, p| {
        if problem.is_some() {
            return;
        }
        if !names.insert(name.to_string()) {
            problem = Some(format!(
                "two parameters are named {name:?}: names must be unique"
            ));
        } else if let Some(first) = p
            .leaf()
            .id()
            .and_then(|id| holders.insert(id, name.to_string()))
        {
            problem = Some(format!(
                "{first} and {name} are one parameter held under two names (tied weights are \
                 not supported: give each its own Parameter)"
            ));
        }
    });
    match problem {
        Some(msg) => Err(tensor::Error::invalid("parameters", msg)),
        None => Ok(()),
    }
}

/// `prefix.name`, or `name` at the root.
pub fn join_name(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

impl Parameters for Parameter {
    fn visit<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a Parameter)) {
        f(prefix, self);
    }

    fn visit_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Parameter)) {
        f(prefix, self);
    }
}

/// A list of modules is named by index: `blocks.0`, `blocks.1`, ...
impl<T: Parameters> Parameters for Vec<T> {
    fn visit<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a Parameter)) {
        for (i, item) in self.iter().enumerate() {
            item.visit(&join_name(prefix, &i.to_string()), f);
        }
    }

    fn visit_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Parameter)) {
        for (i, item) in self.iter_mut().enumerate() {
            item.visit_mut(&join_name(prefix, &i.to_string()), f);
        }
    }
}

/// What names one module of a keyed list (`Vec<(K, T)>`, below) in the dotted parameter names.
///
/// ```
/// use nn::parameter::ParameterKey;
/// use nn::{Parameter, Parameters};
/// use tensor::{DType, Tensor};
/// struct Language(&'static str);
/// impl ParameterKey for Language {
///     fn key(&self) -> &str {
///         self.0
///     }
/// }
/// let scales = vec![
///     (Language("en"), Parameter::new(Tensor::ones(&[2], DType::F32))),
///     (Language("fr"), Parameter::new(Tensor::ones(&[2], DType::F32))),
/// ];
/// let names: Vec<String> = scales.named_parameters().into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names, ["en", "fr"]);
/// ```
pub trait ParameterKey {
    /// The name segment of this entry's parameters (`mnist` in `heads.mnist.weight`). The keys
    /// of one list must differ: two entries with one key would give two parameters one name,
    /// which [`check_distinct`] refuses.
    fn key(&self) -> &str;
}

/// A list of modules with keys is named by key: `heads.mnist`, `tokenizers.image`, ...
impl<K: ParameterKey, T: Parameters> Parameters for Vec<(K, T)> {
    fn visit<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a Parameter)) {
        for (key, item) in self {
            item.visit(&join_name(prefix, key.key()), f);
        }
    }

    fn visit_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Parameter)) {
        for (key, item) in self {
            item.visit_mut(&join_name(prefix, key.key()), f);
        }
    }
}

/// Implements [`Parameters`] for a struct by visiting the listed fields under their own names.
#[macro_export]
macro_rules! impl_parameters {
    ($ty:ty { $($field:ident),* $(,)? }) => {
        impl $crate::Parameters for $ty {
            fn visit<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a $crate::Parameter)) {
                $( $crate::Parameters::visit(&self.$field, &$crate::parameter::join_name(prefix, stringify!($field)), f); )*
            }
            fn visit_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut $crate::Parameter)) {
                $( $crate::Parameters::visit_mut(&mut self.$field, &$crate::parameter::join_name(prefix, stringify!($field)), f); )*
            }
        }
    };
}
