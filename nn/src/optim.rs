//! Optimizers and gradient clipping.
//!
//! A parameter that got no gradient this step (say, the head of a task that was not sampled) is
//! treated as having a zero gradient, as in optax (the reference's library): its momentum keeps
//! moving it. Frozen parameters are skipped entirely.

use crate::hyperparameter::check_range;
use crate::{Parameter, Parameters};
use autograd::{no_grad, Gradients};
use std::collections::BTreeMap;
use tensor::{AdamWStep, Device, Error, Result, Tensor};

/// Updates parameters from gradients.
pub trait Optimizer {
    /// Applies one update with learning rate `lr` (finite, ≥ 0) to `model`, always the same
    /// model (its state is kept by parameter name). Before it changes anything it checks the
    /// hyperparameters, that `model` is the model the optimizer's state belongs to, that the
    /// parameters have names of their own and are not tied, and that `grads`, unless empty,
    /// holds a gradient for at least one trainable parameter; an error after that names the
    /// parameter.
    fn step(&mut self, model: &mut dyn Parameters, grads: &Gradients, lr: f64) -> Result<()>;

    /// The optimizer's state as named tensors (for checkpoints), plus the step count.
    fn state(&self) -> (u64, Vec<(String, Tensor)>);

    /// Restores what [`Optimizer::state`] returned.
    fn load_state(&mut self, steps: u64, state: Vec<(String, Tensor)>) -> Result<()>;

    /// Moves the state to `device` (where the parameters now live).
    fn to_device(&mut self, device: &Device) -> Result<()>;

    /// Checks restored state against `model`: after any step, each kind of state (`momentum.`,
    /// `first_moment.`, ...) must hold exactly the model's trainable parameters, with their
    /// shapes. A checkpoint without optimizer state would otherwise resume from zero momentum
    /// without a word, and one with state for other parameters would silently drop it.
    fn check_covers(&self, model: &dyn Parameters) -> Result<()> {
        let (steps, state) = self.state();
        let mut trainable = BTreeMap::new();
        model.visit("", &mut |name, p| {
            if !p.is_frozen() {
                trainable.insert(name.to_string(), p.shape().to_vec());
            }
        });
        if steps > 0 && state.is_empty() && !trainable.is_empty() {
            return Err(Error::invalid(
                "optimizer state",
                format!("none restored after {steps} steps: the run would resume from zero state"),
            ));
        }
        let mut kinds: BTreeMap<&str, BTreeMap<&str, &Tensor>> = BTreeMap::new();
        for (name, t) in &state {
            let (kind, param) = name.split_once('.').unwrap_or(("", name));
            kinds.entry(kind).or_default().insert(param, t);
        }
        for (kind, entries) in &kinds {
            if let Some(missing) = trainable.keys().find(|p| !entries.contains_key(p.as_str())) {
                return Err(Error::invalid(
                    "optimizer state",
                    format!("{kind}.{missing} is missing"),
                ));
            }
            for (param, t) in entries {
                match trainable.get(*param) {
                    None => {
                        return Err(Error::invalid(
                            "optimizer state",
                            format!(
                                "{kind}.{param} belongs to no trainable parameter of the model"
                            ),
                        ))
                    }
                    Some(shape) if shape != t.shape() => {
                        return Err(Error::shape(
                            "optimizer state",
                            format!(
                                "{kind}.{param}: state {:?} does not match parameter {shape:?}",
                                t.shape()
                            ),
                        ))
                    }
                    Some(_) => {}
                }
            }
        }
        Ok(())
    }
}

/// Which parameter each name's state belongs to, by [`Parameter::id`]. An optimizer keeps its
/// state by parameter name and steps the one model it is given, so one optimizer stepped on two
/// models would silently share the state of their same-named parameters (or keep the other's
/// state aside) and count two steps per iteration.
#[derive(Default)]
struct Owners(BTreeMap<String, u64>);

impl Owners {
    /// Checks, before a step changes anything, that `model` is the model whose state the
    /// optimizer holds (`held`, by name): each name with state is a parameter of it, and the
    /// same parameter as at the last step. Returns the owners to keep once the step is done.
    /// Restored state (after [`Optimizer::load_state`]) belongs to the first model stepped.
    fn check<'a>(
        &self,
        model: &dyn Parameters,
        mut held: impl Iterator<Item = &'a String>,
    ) -> Result<Owners> {
        let mut ids = BTreeMap::new();
        model.visit("", &mut |name, p| {
            ids.insert(name.to_string(), p.id());
        });
        let another_model = |problem: String| {
            Error::invalid(
                "optimizer step",
                format!(
                    "{problem}: an optimizer steps one model (give each model its own, or hold \
                     them in one struct that implements Parameters)"
                ),
            )
        };
        if let Some(name) = held.find(|name| !ids.contains_key(*name)) {
            return Err(another_model(format!(
                "the optimizer holds state for {name}, which is no parameter of the model given"
            )));
        }
        let changed = ids
            .iter()
            .find(|(name, id)| self.0.get(*name).is_some_and(|owner| owner != *id));
        if let Some((name, _)) = changed {
            return Err(another_model(format!(
                "the optimizer's state for {name} belongs to another parameter of that name"
            )));
        }
        Ok(Owners(ids))
    }
}

/// Moves every tensor of an optimizer state to `device`.
fn move_state(state: &mut BTreeMap<String, Tensor>, device: &Device) -> Result<()> {
    for t in state.values_mut() {
        *t = t.to_device(device)?;
    }
    Ok(())
}

/// Scales all gradients so their global L2 norm is at most `max_norm`: by
/// `min(1, max_norm/(‖g‖ + 1e-6))`, as PyTorch's `clip_grad_norm_` does, so also a norm less
/// than 10⁻⁶ below `max_norm` is scaled a little. Returns the norm before clipping. `max_norm`
/// must be ≥ 0 (infinite: a finite norm is never clipped). Non-finite gradients
/// end as PyTorch's do: an infinite norm scales every gradient by 0 (NaN where one is infinite),
/// a NaN norm makes every gradient NaN, and the norm returned tells the caller to stop
/// (`polyvit train` stops, naming the task and the step).
///
/// The sum of squares is accumulated on the gradients' device and read by the host once.
///
/// ```
/// use autograd::Var;
/// use nn::optim::{clip_grad_norm, AdamW, Optimizer, Sgd};
/// use nn::Parameter;
/// use tensor::{DType, Tensor};
/// let (a, b) = (Parameter::new(Tensor::ones(&[1], DType::F64)), Parameter::new(Tensor::ones(&[1], DType::F64)));
/// // Gradients 3 and 4: the global norm is 5.
/// let loss = a.var().mul_scalar(3.0)?.add(&b.var().mul_scalar(4.0)?)?.sum_all()?;
/// let mut grads = loss.backward()?;
/// assert!((clip_grad_norm(&mut grads, 1.0)? - 5.0).abs() < 1e-12);
/// let clipped = grads.get(a.leaf()).unwrap().to_scalar()?;
/// assert!((clipped - 0.6).abs() < 1e-6, "{clipped}");
/// # Ok::<(), tensor::Error>(())
/// ```
pub fn clip_grad_norm(grads: &mut Gradients, max_norm: f64) -> Result<f64> {
    if max_norm.is_nan() || max_norm < 0.0 {
        return Err(Error::invalid(
            "clip_grad_norm",
            format!("max_norm = {max_norm}: it must be a number ≥ 0"),
        ));
    }
    let mut squares: Option<Tensor> = None;
    for g in grads.tensors() {
        let part = g.sum_of_squares_all()?;
        squares = Some(match squares {
            Some(total) => total.add(&part)?,
            None => part,
        });
    }
    let Some(squares) = squares else {
        return Ok(0.0);
    };
    let norm = squares.to_scalar()?.sqrt();
    let factor = max_norm / (norm + 1e-6);
    // A NaN factor (a NaN norm, or ∞/∞) scales too, as PyTorch's clamp passes NaN on.
    if factor < 1.0 || factor.is_nan() {
        grads.scale(factor)?;
    }
    Ok(norm)
}

/// The gradient of `p`, or zeros when the loss did not depend on it.
fn grad_or_zeros(grads: &Gradients, p: &Parameter) -> Result<Tensor> {
    match grads.get(p.leaf()) {
        Some(g) => Ok(g.clone()),
        None => p.value().zeros_like(),
    }
}

/// Runs `update(name, parameter)` for every trainable parameter, without recording a graph,
/// once [`check_step`] has found nothing wrong; an error names the parameter.
fn for_each_trainable(
    model: &mut dyn Parameters,
    grads: &Gradients,
    mut update: impl FnMut(&str, &mut Parameter) -> Result<()>,
) -> Result<()> {
    check_step(model, grads)?;
    let mut result = Ok(());
    no_grad(|| {
        model.visit_mut("", &mut |name, p| {
            if result.is_ok() && !p.is_frozen() {
                result = update(name, p).map_err(|e| {
                    Error::invalid("optimizer step", format!("parameter {name}: {e}"))
                });
            }
        })
    });
    result
}

/// What a step needs before it changes anything: parameters with names of their own
/// ([`crate::parameter::check_distinct`]), and, unless `grads` is empty (a step without
/// gradients, which only momentum and decay move), a gradient for at least one trainable
/// parameter. Gradients of an earlier step (each step makes new leaves), of another model or of
/// the model before `to_device` match none, and stepping on them would silently train nothing.
fn check_step(model: &dyn Parameters, grads: &Gradients) -> Result<()> {
    crate::parameter::check_distinct(model)?;
    let (mut trainable, mut with_gradient) = (0, 0);
    model.visit("", &mut |_, p| {
        if !p.is_frozen() {
            trainable += 1;
            with_gradient += usize::from(grads.get(p.leaf()).is_some());
        }
    });
    if trainable > 0 && with_gradient == 0 && !grads.is_empty() {
        return Err(Error::invalid(
            "optimizer step",
            format!(
                "none of the model's {trainable} trainable parameters has a gradient among the \
                 {} given (gradients of an earlier step, of another model, or from before \
                 to_device?)",
                grads.len()
            ),
        ));
    }
    Ok(())
}

/// The learning rate of a step: finite and ≥ 0 (a negative one would climb the loss).
fn check_lr(op: &'static str, lr: f64) -> Result<()> {
    check_range(op, "the learning rate", lr, 0.0..f64::INFINITY)
}

/// Checks that a restored state tensor matches its parameter.
fn check_state(state: &BTreeMap<String, Tensor>, name: &str, p: &Parameter) -> Result<()> {
    match state.get(name) {
        Some(t) if t.shape() != p.shape() => Err(Error::shape(
            "optimizer state",
            format!(
                "{name}: state {:?} does not match parameter {:?}",
                t.shape(),
                p.shape()
            ),
        )),
        _ => Ok(()),
    }
}

/// SGD with heavy-ball momentum in the reference's form: `m ← g + μ·m`, `θ ← θ − lr·m`; with
/// PyTorch's two options (both off unless set): L2 weight decay `λ`, which first adds `λθ` to
/// the gradient (`g ← g + λθ`, coupled: it goes through the momentum, unlike AdamW's), and
/// Nesterov momentum, which steps along `g + μ·m` instead of `m` (it needs `μ > 0`). There is
/// no dampening: PyTorch's `dampening` at its default 0, which the reference's form is. As the
/// module says, a parameter without a gradient this step counts as having a zero one, so the
/// decay shrinks it too (optax's rule, which the reference follows; PyTorch skips such a
/// parameter, decay included).
///
/// ```
/// use autograd::Var;
/// use nn::optim::{clip_grad_norm, AdamW, Optimizer, Sgd};
/// use nn::Parameter;
/// use tensor::{DType, Tensor};
/// // L = 2w, so g = 2 at every step. Step 1: m = 2, w = 1 − 0.1·2 = 0.8.
/// // Step 2: m = 2 + 0.9·2 = 3.8, w = 0.8 − 0.38 = 0.42.
/// let mut w = Parameter::new(Tensor::from_f64s(&[1.0], &[1], DType::F64)?);
/// let mut sgd = Sgd::new(0.9);
/// for expected in [0.8, 0.42] {
///     let grads = w.var().mul_scalar(2.0)?.sum_all()?.backward()?;
///     sgd.step(&mut w, &grads, 0.1)?;
///     assert!((w.value().to_scalar()? - expected).abs() < 1e-12);
/// }
/// // Nesterov with decay λ = 0.5 at w = 1: g = 2 + 0.5·1 = 2.5, m = 2.5, step along
/// // g + μm = 2.5 + 0.9·2.5 = 4.75, so w = 1 − 0.1·4.75 = 0.525.
/// let mut w = Parameter::new(Tensor::from_f64s(&[1.0], &[1], DType::F64)?);
/// let grads = w.var().mul_scalar(2.0)?.sum_all()?.backward()?;
/// Sgd::new(0.9).weight_decay(0.5).nesterov(true).step(&mut w, &grads, 0.1)?;
/// assert!((w.value().to_scalar()? - 0.525).abs() < 1e-12);
/// # Ok::<(), tensor::Error>(())
/// ```
pub struct Sgd {
    /// `μ`.
    pub momentum: f64,
    /// `λ` of the L2 weight decay added to each gradient (0: none).
    pub weight_decay: f64,
    /// Step along `g + μ·m` (Nesterov) rather than `m`.
    pub nesterov: bool,
    /// `m` of each parameter, by name (saved as `momentum.NAME`).
    buffer: BTreeMap<String, Tensor>,
    owners: Owners,
    steps: u64,
}

impl Sgd {
    /// SGD with momentum `μ` in `[0, 1)` (0 for plain SGD; checked at each step) and no state yet.
    pub fn new(momentum: f64) -> Self {
        Sgd {
            momentum,
            weight_decay: 0.0,
            nesterov: false,
            buffer: BTreeMap::new(),
            owners: Owners::default(),
            steps: 0,
        }
    }

    /// The same optimizer with L2 weight decay `λ ≥ 0` (checked at each step).
    pub fn weight_decay(self, weight_decay: f64) -> Self {
        Sgd {
            weight_decay,
            ..self
        }
    }

    /// The same optimizer with Nesterov momentum on or off.
    pub fn nesterov(self, nesterov: bool) -> Self {
        Sgd { nesterov, ..self }
    }
}

impl Optimizer for Sgd {
    fn step(&mut self, model: &mut dyn Parameters, grads: &Gradients, lr: f64) -> Result<()> {
        check_lr("sgd", lr)?;
        check_range("sgd", "momentum", self.momentum, 0.0..1.0)?;
        check_range("sgd", "weight_decay", self.weight_decay, 0.0..f64::INFINITY)?;
        if self.nesterov && self.momentum == 0.0 {
            return Err(Error::invalid(
                "sgd",
                "Nesterov momentum needs a momentum above 0 (it is 0)",
            ));
        }
        let owners = self.owners.check(model, self.buffer.keys())?;
        for_each_trainable(model, grads, |name, p| {
            check_state(&self.buffer, name, p)?;
            let mut g = grad_or_zeros(grads, p)?;
            if self.weight_decay != 0.0 {
                g = g.add_scaled(p.value(), self.weight_decay)?;
            }
            // One pass each (`Tensor::add_scaled`), with the bits of `g + m·μ` and `θ − m·lr`.
            let m = match self.buffer.get(name) {
                Some(m) => g.add_scaled(m, self.momentum)?,
                None => g.clone(),
            };
            let direction = if self.nesterov {
                g.add_scaled(&m, self.momentum)?
            } else {
                m.clone()
            };
            p.set_value(p.value().add_scaled(&direction, -lr)?);
            self.buffer.insert(name.to_string(), m);
            Ok(())
        })?;
        self.owners = owners;
        self.steps += 1;
        Ok(())
    }

    fn state(&self) -> (u64, Vec<(String, Tensor)>) {
        (
            self.steps,
            self.buffer
                .iter()
                .map(|(k, v)| (format!("momentum.{k}"), v.clone()))
                .collect(),
        )
    }

    fn load_state(&mut self, steps: u64, state: Vec<(String, Tensor)>) -> Result<()> {
        let [momentum] = split_state("sgd", ["momentum."], state)?;
        self.steps = steps;
        self.buffer = momentum;
        self.owners = Owners::default();
        Ok(())
    }

    fn to_device(&mut self, device: &Device) -> Result<()> {
        move_state(&mut self.buffer, device)
    }
}

/// Adam with decoupled weight decay (AdamW, PyTorch's update):
/// `θ ← θ·(1 − lr·λ)`, `m ← β₁m + (1 − β₁)g`, `v ← β₂v + (1 − β₂)g²`,
/// `θ ← θ − lr·m̂/(√v̂ + ε)` with `m̂ = m/(1 − β₁ᵗ)`, `v̂ = v/(1 − β₂ᵗ)`, `t` the optimizer's
/// steps (a parameter without a gradient counts as having a zero one, as the module says, so
/// `t` is the same for every parameter, as in optax; PyTorch skips such a parameter and counts
/// its steps apart). A frozen parameter is skipped, and its moments start at zero when it is
/// unfrozen, still under the optimizer's `t`: unfrozen after many steps, its first update is
/// `lr·(1 − β₁)/√(1 − β₂)` (3.16·lr with β₁ = 0.9, β₂ = 0.999) where PyTorch's is `lr`, so a
/// part of a model to be unfrozen later is better stepped by an optimizer of its own, made
/// when it is unfrozen.
///
/// ```
/// use autograd::Var;
/// use nn::optim::{clip_grad_norm, AdamW, Optimizer, Sgd};
/// use nn::Parameter;
/// use tensor::{DType, Tensor};
/// // Adam's first step moves each weight by about lr, whatever the gradient's scale; the decay
/// // (λ = 0.5) first shrinks w by lr·λ·w.
/// let mut w = Parameter::new(Tensor::from_f64s(&[1.0, 1.0], &[2], DType::F64)?);
/// let scale = Var::constant(Tensor::from_f64s(&[100.0, -0.01], &[2], DType::F64)?);
/// let grads = w.var().mul(&scale)?.sum_all()?.backward()?;
/// AdamW::new(0.9, 0.999, 1e-12, 0.5).step(&mut w, &grads, 0.1)?;
/// let w = w.value().to_vec_f64()?;
/// assert!((w[0] - (0.95 - 0.1)).abs() < 1e-9 && (w[1] - (0.95 + 0.1)).abs() < 1e-9, "{w:?}");
/// # Ok::<(), tensor::Error>(())
/// ```
pub struct AdamW {
    /// `β₁`, the decay of the first moment.
    pub beta1: f64,
    /// `β₂`, the decay of the second moment.
    pub beta2: f64,
    /// `ε`, added to `√v̂`.
    pub eps: f64,
    /// `λ`, the decoupled weight decay.
    pub weight_decay: f64,
    first: BTreeMap<String, Tensor>,
    second: BTreeMap<String, Tensor>,
    owners: Owners,
    steps: u64,
}

impl AdamW {
    /// AdamW with `β₁`, `β₂` in `[0, 1)`, `ε ≥ 0` and `λ ≥ 0` (checked at each step) and no state
    /// yet.
    pub fn new(beta1: f64, beta2: f64, eps: f64, weight_decay: f64) -> Self {
        AdamW {
            beta1,
            beta2,
            eps,
            weight_decay,
            first: BTreeMap::new(),
            second: BTreeMap::new(),
            owners: Owners::default(),
            steps: 0,
        }
    }
}

impl Optimizer for AdamW {
    fn step(&mut self, model: &mut dyn Parameters, grads: &Gradients, lr: f64) -> Result<()> {
        check_lr("adamw", lr)?;
        check_range("adamw", "beta1", self.beta1, 0.0..1.0)?;
        check_range("adamw", "beta2", self.beta2, 0.0..1.0)?;
        check_range("adamw", "eps", self.eps, 0.0..f64::INFINITY)?;
        check_range(
            "adamw",
            "weight_decay",
            self.weight_decay,
            0.0..f64::INFINITY,
        )?;
        let owners = self
            .owners
            .check(model, self.first.keys().chain(self.second.keys()))?;
        // β^t underflows to 0 long before t leaves i32 (β < 1), so larger counts (a checkpoint
        // can hold any u64) take the limit, where the correction is 1.
        let t = i32::try_from(self.steps.saturating_add(1)).unwrap_or(i32::MAX);
        let step = AdamWStep {
            lr,
            beta1: self.beta1,
            beta2: self.beta2,
            eps: self.eps,
            weight_decay: self.weight_decay,
            bias_correction1: 1.0 - self.beta1.powi(t),
            bias_correction2: 1.0 - self.beta2.powi(t),
        };
        for_each_trainable(model, grads, |name, p| {
            check_state(&self.first, name, p)?;
            check_state(&self.second, name, p)?;
            let g = grad_or_zeros(grads, p)?;
            // One fused pass per parameter (`Tensor::adamw_update`): the formula above, rounded
            // step by step as separate element-wise ops would round it.
            let moments = match (self.first.get(name), self.second.get(name)) {
                (Some(m), Some(v)) => Some((m, v)),
                (None, None) => None,
                _ => {
                    return Err(Error::invalid(
                        "adamw",
                        format!("{name} has only one of its two moments"),
                    ))
                }
            };
            let (value, m, v) = p.value().adamw_update(&g, moments, &step)?;
            p.set_value(value);
            self.first.insert(name.to_string(), m);
            self.second.insert(name.to_string(), v);
            Ok(())
        })?;
        self.owners = owners;
        self.steps += 1;
        Ok(())
    }

    fn state(&self) -> (u64, Vec<(String, Tensor)>) {
        let first = self
            .first
            .iter()
            .map(|(k, v)| (format!("first_moment.{k}"), v.clone()));
        let second = self
            .second
            .iter()
            .map(|(k, v)| (format!("second_moment.{k}"), v.clone()));
        (self.steps, first.chain(second).collect())
    }

    fn load_state(&mut self, steps: u64, state: Vec<(String, Tensor)>) -> Result<()> {
        let [first, second] = split_state("adamw", ["first_moment.", "second_moment."], state)?;
        self.steps = steps;
        self.first = first;
        self.second = second;
        self.owners = Owners::default();
        Ok(())
    }

    fn to_device(&mut self, device: &Device) -> Result<()> {
        move_state(&mut self.first, device)?;
        move_state(&mut self.second, device)
    }
}

/// `state` split by kind: entry `KIND + NAME` goes to the map of its kind, under `NAME`. A name
/// that starts with none of the `kinds` of state `optimizer` keeps (another optimizer's state,
/// most likely) is an error naming it and the kinds expected, before anything is taken.
fn split_state<const KINDS: usize>(
    optimizer: &str,
    kinds: [&str; KINDS],
    state: Vec<(String, Tensor)>,
) -> Result<[BTreeMap<String, Tensor>; KINDS]> {
    let mut maps = std::array::from_fn(|_| BTreeMap::new());
    for (name, t) in state {
        let found = kinds
            .iter()
            .enumerate()
            .find_map(|(k, kind)| name.strip_prefix(kind).map(|rest| (k, rest.to_string())));
        let Some((k, rest)) = found else {
            return Err(Error::invalid(
                "optimizer state",
                format!(
                    "unexpected entry {name}: {optimizer} keeps {} (is this another optimizer's \
                     state?)",
                    kinds.map(|kind| format!("{kind}NAME")).join(" and ")
                ),
            ));
        };
        maps[k].insert(rest, t);
    }
    Ok(maps)
}
