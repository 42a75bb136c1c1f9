//! Gradient checks of every layer, in `f64`, with respect to its input and to every parameter.
//!
//! The input is checked with [`autograd::gradcheck`] (the module is captured by the checked
//! function). Parameters are checked by [`check_parameters`]: the analytic gradient is the one the
//! backward pass reports for each `Parameter`'s own leaf (so it really flows through the
//! parameter, as an optimizer would see it), the numeric one is a central difference obtained by
//! shifting the parameter's value with `set_value` and running the forward pass again. Both use the
//! same scalar objective `L = Σ f(x) ⊙ R` with a fixed random projection `R`.

use autograd::{gradcheck, no_grad, GradcheckOptions, Op, Var};
use nn::layers::{
    Embedding, Encoder, EncoderBlock, EncoderConfig, Gelu, LayerNorm, Linear, LinearInit, Mlp,
    MultiHeadSelfAttention, PatchEmbedding,
};
use nn::{Context, Module, Parameters};
use std::collections::BTreeSet;
use tensor::{DType, Tensor};

const F64: DType = DType::F64;

fn options() -> GradcheckOptions {
    GradcheckOptions {
        max_elements: 32,
        ..GradcheckOptions::default()
    }
}

fn randn(shape: &[usize], seed: u64) -> Tensor {
    Tensor::randn(shape, 0.0, 1.0, F64, &mut tensor::rng(seed))
}

/// Moves every parameter away from its initial value (biases start at zero, LayerNorm at ones),
/// so the check does not run at a special point where some terms vanish.
fn perturb(module: &mut dyn Module, seed: u64) {
    let mut rng = tensor::rng(seed);
    module.visit_mut("", &mut |_, p| {
        let noise = Tensor::randn(p.shape(), 0.0, 0.3, F64, &mut rng);
        p.set_value(p.value().add(&noise).unwrap());
    });
}

/// How each forward pass of a check starts: evaluation, or training with the same seed every time
/// (then dropout masks repeat exactly, and the function being checked is deterministic).
#[derive(Clone, Copy)]
enum Mode {
    Eval,
    Train(u64),
}

impl Mode {
    fn context(self) -> Context {
        match self {
            Mode::Eval => Context::eval(),
            Mode::Train(seed) => Context::train(seed),
        }
    }
}

/// `Σ module(x) ⊙ projection`, without recording a graph.
fn objective(module: &dyn Module, x: &Tensor, projection: &Tensor, mode: Mode) -> f64 {
    no_grad(|| {
        module
            .forward(&Var::constant(x.clone()), &mut mode.context())
            .and_then(|y| y.mul(&Var::constant(projection.clone())))
            .and_then(|y| y.sum_all())
            .and_then(|l| l.value().to_scalar())
            .expect("forward pass")
    })
}

/// Up to `max` element indices of a tensor of `len` elements, spread over the whole tensor.
fn sample(len: usize, max: usize) -> Vec<usize> {
    if len <= max {
        (0..len).collect()
    } else {
        (0..max).map(|i| (i * len + len / 3) / max % len).collect()
    }
}

/// Compares the backward pass's gradient of every parameter with central differences.
/// Returns how many parameter tensors were checked, or a message naming the parameter, the element
/// and both derivatives. A parameter that gets no gradient at all is an error.
fn check_parameters(
    module: &mut dyn Module,
    x: &Tensor,
    options: &GradcheckOptions,
    mode: Mode,
) -> Result<usize, String> {
    let output = module
        .forward(&Var::constant(x.clone()), &mut mode.context())
        .map_err(|e| e.to_string())?;
    let projection = Tensor::randn_on(
        output.shape(),
        0.0,
        1.0,
        F64,
        &x.device(),
        &mut tensor::rng(options.seed),
    )
    .unwrap();
    let grads = output
        .mul(&Var::constant(projection.clone()))
        .and_then(|l| l.sum_all())
        .and_then(|l| l.backward())
        .map_err(|e| e.to_string())?;
    let mut analytic = Vec::new();
    for (name, p) in module.named_parameters() {
        let Some(g) = grads.get(p.leaf()) else {
            return Err(format!("parameter {name} got no gradient"));
        };
        assert_eq!(g.shape(), p.shape(), "gradient shape of {name}");
        analytic.push((name, p.value().clone(), g.to_vec::<f64>().unwrap()));
    }
    let set = |module: &mut dyn Module, target: &str, value: Tensor| {
        module.visit_mut("", &mut |name, p| {
            if name == target {
                p.set_value(value.clone());
            }
        });
    };
    for (name, original, grad) in &analytic {
        let values = original.to_vec::<f64>().unwrap();
        for j in sample(values.len(), options.max_elements) {
            let mut at = |delta: f64| {
                let mut shifted = values.clone();
                shifted[j] += delta;
                set(
                    module,
                    name,
                    Tensor::from_vec_on(shifted, original.shape(), &original.device()).unwrap(),
                );
                objective(module, x, &projection, mode)
            };
            let numeric = (at(options.step) - at(-options.step)) / (2.0 * options.step);
            let a = grad[j];
            if !a.is_finite()
                || (a - numeric).abs() > options.atol + options.rtol * a.abs().max(numeric.abs())
            {
                set(module, name, original.clone());
                return Err(format!(
                    "parameter {name} {:?}, element {j}: analytic {a:.10e} vs numeric {numeric:.10e}",
                    original.shape()
                ));
            }
        }
        set(module, name, original.clone());
    }
    Ok(analytic.len())
}

/// Checks `module` w.r.t. its input (autograd::gradcheck) and every parameter, on every device of
/// `tensor::test_devices()`; returns the ops of the input check's graph.
fn check(label: &str, module: &mut dyn Module, x: Tensor, parameters: usize) -> BTreeSet<Op> {
    check_in(Mode::Eval, label, module, x, parameters)
}

fn check_in(
    mode: Mode,
    label: &str,
    module: &mut dyn Module,
    x: Tensor,
    parameters: usize,
) -> BTreeSet<Op> {
    assert_eq!(x.dtype(), F64);
    let opts = options();
    let mut ops = BTreeSet::new();
    for device in tensor::test_devices() {
        module.to_device(&device).unwrap();
        let x = x.to_device(&device).unwrap();
        ops = {
            let module: &dyn Module = module;
            gradcheck(
                |v| module.forward(&v[0], &mut mode.context()),
                std::slice::from_ref(&x),
                &opts,
            )
            .unwrap_or_else(|e| panic!("{label} on {device}: input: {e}"))
        };
        let checked = check_parameters(module, &x, &opts, mode)
            .unwrap_or_else(|e| panic!("{label} on {device}: {e}"));
        assert_eq!(checked, parameters, "{label}: parameter tensors checked");
    }
    ops
}

fn config(depth: usize) -> EncoderConfig {
    EncoderConfig {
        width: 8,
        depth,
        heads: 2,
        mlp_width: 12,
        gelu: Gelu::Tanh,
        dropout: 0.0,
        attention_dropout: 0.0,
        stochastic_depth: 0.0,
        layer_norm_eps: LayerNorm::DEFAULT_EPS,
    }
}

#[test]
fn linear_on_a_3d_input() {
    let mut layer = Linear::new(5, 4, LinearInit::XavierUniform, F64, &mut tensor::rng(1));
    perturb(&mut layer, 2);
    let ops = check("linear", &mut layer, randn(&[2, 3, 5], 3), 2);
    assert!(ops.contains(&Op::Matmul), "{ops:?}");
}

#[test]
fn linear_with_lecun_and_zero_init() {
    // A zero head still has well-defined gradients (w.r.t. its weight they are the inputs).
    for init in [LinearInit::LecunNormal, LinearInit::Zeros] {
        let mut layer = Linear::new(3, 2, init, F64, &mut tensor::rng(4));
        check(&format!("{init:?}"), &mut layer, randn(&[4, 3], 5), 2);
    }
}

#[test]
fn layer_norm() {
    let mut layer = LayerNorm::new(6, LayerNorm::DEFAULT_EPS, F64);
    perturb(&mut layer, 6);
    let ops = check("layer_norm", &mut layer, randn(&[2, 3, 6], 7), 2);
    assert!(ops.contains(&Op::LayerNorm), "{ops:?}");
}

#[test]
fn mlp() {
    for (gelu, op) in [(Gelu::Tanh, Op::Gelu), (Gelu::Erf, Op::GeluErf)] {
        let mut layer = Mlp::new(6, 10, gelu, 0.0, F64, &mut tensor::rng(8));
        perturb(&mut layer, 9);
        let ops = check("mlp", &mut layer, randn(&[2, 3, 6], 10), 4);
        assert!(ops.contains(&op), "{gelu:?}: {ops:?}");
    }
}

#[test]
fn multi_head_self_attention() {
    let mut layer = MultiHeadSelfAttention::new(8, 2, 0.0, F64, &mut tensor::rng(11)).unwrap();
    perturb(&mut layer, 12);
    let ops = check("attention", &mut layer, randn(&[2, 4, 8], 13), 4);
    assert!(ops.contains(&Op::Softmax), "{ops:?}");
}

#[test]
fn encoder_block() {
    let mut block = EncoderBlock::new(&config(1), 0.0, F64, &mut tensor::rng(14)).unwrap();
    perturb(&mut block, 15);
    check("encoder block", &mut block, randn(&[2, 3, 8], 16), 12);
}

#[test]
fn encoder_with_two_blocks() {
    let mut encoder = Encoder::new(&config(2), F64, &mut tensor::rng(17)).unwrap();
    perturb(&mut encoder, 18);
    check("encoder", &mut encoder, randn(&[2, 3, 8], 19), 2 * 12 + 2);
}

#[test]
fn encoder_in_training_mode_with_dropout_and_stochastic_depth() {
    // With the seed fixed per call, the masks are constants and the gradients must match them.
    let mut cfg = config(2);
    cfg.dropout = 0.2;
    cfg.attention_dropout = 0.3;
    cfg.stochastic_depth = 0.5;
    let mut encoder = Encoder::new(&cfg, F64, &mut tensor::rng(31)).unwrap();
    perturb(&mut encoder, 32);
    let x = randn(&[4, 3, 8], 33);
    // The check is meaningful only if some randomness actually acts: training differs from eval.
    let train = encoder
        .forward(&Var::constant(x.clone()), &mut Mode::Train(34).context())
        .unwrap();
    let eval = encoder
        .forward(&Var::constant(x.clone()), &mut Context::eval())
        .unwrap();
    assert_ne!(
        train.value().to_vec::<f64>().unwrap(),
        eval.value().to_vec::<f64>().unwrap()
    );
    check_in(
        Mode::Train(34),
        "encoder (train)",
        &mut encoder,
        x,
        2 * 12 + 2,
    );
}

#[test]
fn patch_embedding_of_images() {
    // [B, C, H, W] = [2, 3, 4, 6] in 2×3 patches: 2·2 tokens of 3·2·3 = 18 features.
    let mut layer = PatchEmbedding::new(3, &[2, 3], 5, F64, &mut tensor::rng(20));
    perturb(&mut layer, 21);
    check(
        "patch embedding 2-D",
        &mut layer,
        randn(&[2, 3, 4, 6], 22),
        2,
    );
}

#[test]
fn patch_embedding_of_videos_with_tubelets() {
    // [B, C, T, H, W] = [1, 2, 4, 4, 4] in 2×2×2 tubelets: 8 tokens of 16 features.
    let mut layer = PatchEmbedding::new(2, &[2, 2, 2], 3, F64, &mut tensor::rng(23));
    perturb(&mut layer, 24);
    check(
        "patch embedding 3-D",
        &mut layer,
        randn(&[1, 2, 4, 4, 4], 25),
        2,
    );
}

/// An embedding's table against central differences (its input, the ids, takes no gradient),
/// with repeated ids, on every device.
#[test]
fn embedding_table() {
    let mut table = Embedding::new(5, 3, F64, &mut tensor::rng(31));
    let ids = Tensor::from_f64s(&[4.0, 0.0, 4.0, 2.0, 2.0, 4.0], &[2, 3], F64).unwrap();
    for device in tensor::test_devices() {
        table.to_device(&device).unwrap();
        let ids = ids.to_device(&device).unwrap();
        let checked = check_parameters(&mut table, &ids, &options(), Mode::Eval)
            .unwrap_or_else(|e| panic!("embedding on {device}: {e}"));
        assert_eq!(checked, 1);
    }
}

#[test]
fn the_parameter_check_fails_when_a_parameter_gets_no_gradient() {
    // A frozen weight enters the graph as a constant: the checker must notice.
    let mut layer = Linear::new(3, 2, LinearInit::XavierUniform, F64, &mut tensor::rng(26));
    layer.weight.set_frozen(true);
    let err =
        check_parameters(&mut layer, &randn(&[4, 3], 27), &options(), Mode::Eval).unwrap_err();
    assert!(err.contains("weight got no gradient"), "{err}");
}

#[test]
fn the_parameter_check_fails_on_a_wrong_gradient() {
    // The output depends on the bias through a path the graph does not record, so the analytic
    // and numeric derivatives differ: the checker must report the bias.
    struct Scaled {
        inner: Linear,
    }
    nn::impl_parameters!(Scaled { inner });
    impl Module for Scaled {
        fn forward(&self, x: &Var, ctx: &mut Context) -> tensor::Result<Var> {
            // y = inner(x) · (1 + Σ b²) with the factor computed from a detached bias: the
            // numeric derivative w.r.t. b sees the factor, the analytic one does not.
            let factor = self
                .inner
                .bias
                .value()
                .square()?
                .sum_all()?
                .add_scalar(1.0)?;
            self.inner.forward(x, ctx)?.mul(&Var::constant(factor))
        }
    }
    let mut layer = Scaled {
        inner: Linear::new(3, 2, LinearInit::XavierUniform, F64, &mut tensor::rng(28)),
    };
    perturb(&mut layer, 29);
    let err =
        check_parameters(&mut layer, &randn(&[4, 3], 30), &options(), Mode::Eval).unwrap_err();
    assert!(err.contains("inner.bias"), "{err}");
}
