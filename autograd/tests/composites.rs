//! Gradient checks of whole transformer pieces written with `Var` ops, on every device: if every
//! rule is right, their composition must be too, but these catch mistakes in how rules interact
//! (views of views, fan-out through residuals, broadcasting biases).

use autograd::{gradcheck, GradcheckOptions, Var};
use tensor::{DType, Result, Tensor};

fn randn(shape: &[usize], std: f64, rng: &mut tensor::Rng) -> Tensor {
    Tensor::randn(shape, 0.0, std, DType::F64, rng)
}

/// `x·Wᵀ + b` with `W` of shape `[out, in]` (the PyTorch convention).
fn linear(x: &Var, w: &Var, b: &Var) -> Result<Var> {
    x.matmul(&w.transpose(0, 1)?)?.add(b)
}

/// Multi-head self-attention on `x` of shape `[B, N, d]` with fused `qkv` weights `[3d, d]`.
fn attention(x: &Var, p: &[Var], heads: usize) -> Result<Var> {
    let (batch, tokens, d) = (x.shape()[0], x.shape()[1], x.shape()[2]);
    let head_dim = d / heads;
    let qkv = linear(x, &p[0], &p[1])?
        .reshape(&[batch, tokens, 3, heads, head_dim])?
        .permute(&[2, 0, 3, 1, 4])?;
    let part = |i: usize| qkv.narrow(0, i, 1)?.squeeze(0);
    let (q, k, v) = (part(0)?, part(1)?, part(2)?);
    let scores = q
        .matmul(&k.transpose(2, 3)?)?
        .mul_scalar(1.0 / (head_dim as f64).sqrt())?;
    let mixed = scores
        .softmax(3)?
        .matmul(&v)?
        .permute(&[0, 2, 1, 3])?
        .reshape(&[batch, tokens, d])?;
    linear(&mixed, &p[2], &p[3])
}

/// `fc2(gelu(fc1(x)))`.
fn mlp(x: &Var, p: &[Var]) -> Result<Var> {
    linear(&linear(x, &p[0], &p[1])?.gelu()?, &p[2], &p[3])
}

/// Pre-LN block: `x + attn(ln1(x))`, then `+ mlp(ln2(·))`.
fn encoder_block(x: &Var, p: &[Var], heads: usize) -> Result<Var> {
    let x = x.add(&attention(
        &x.layer_norm(&p[0], &p[1], 1e-6)?,
        &p[2..6],
        heads,
    )?)?;
    x.add(&mlp(&x.layer_norm(&p[6], &p[7], 1e-6)?, &p[8..12])?)
}

/// Checks `f`'s gradients at `inputs` (made on the CPU) against finite differences on every
/// test device, naming the device that fails.
fn check(f: impl Fn(&[Var]) -> Result<Var>, inputs: &[Tensor]) {
    let options = GradcheckOptions {
        max_elements: 24,
        ..GradcheckOptions::default()
    };
    for device in tensor::test_devices() {
        let on_device: Vec<Tensor> = inputs
            .iter()
            .map(|t| t.to_device(&device).unwrap())
            .collect();
        gradcheck(&f, &on_device, &options).unwrap_or_else(|e| panic!("{device}: {e}"));
    }
}

#[test]
fn mlp_gradients_match_finite_differences() {
    let mut rng = tensor::rng(1);
    let (d, hidden) = (6, 10);
    let inputs = [
        randn(&[2, 3, d], 1.0, &mut rng),
        randn(&[hidden, d], 0.4, &mut rng),
        randn(&[hidden], 0.1, &mut rng),
        randn(&[d, hidden], 0.4, &mut rng),
        randn(&[d], 0.1, &mut rng),
    ];
    check(|v| mlp(&v[0], &v[1..]), &inputs);
}

#[test]
fn attention_gradients_match_finite_differences() {
    let mut rng = tensor::rng(2);
    let d = 8;
    let inputs = [
        randn(&[2, 5, d], 1.0, &mut rng),
        randn(&[3 * d, d], 0.4, &mut rng),
        randn(&[3 * d], 0.1, &mut rng),
        randn(&[d, d], 0.4, &mut rng),
        randn(&[d], 0.1, &mut rng),
    ];
    check(|v| attention(&v[0], &v[1..], 2), &inputs);
}

#[test]
fn layer_norm_linear_gelu_chain_gradients_match() {
    let mut rng = tensor::rng(3);
    let d = 7;
    let inputs = [
        randn(&[4, d], 2.0, &mut rng),
        randn(&[d], 1.0, &mut rng),
        randn(&[d], 0.5, &mut rng),
        randn(&[5, d], 0.5, &mut rng),
        randn(&[5], 0.2, &mut rng),
    ];
    check(
        |v| linear(&v[0].layer_norm(&v[1], &v[2], 1e-6)?, &v[3], &v[4])?.gelu(),
        &inputs,
    );
}

#[test]
fn pre_ln_encoder_block_gradients_match() {
    let mut rng = tensor::rng(4);
    let (d, hidden, heads) = (8, 12, 2);
    let ln = |rng: &mut tensor::Rng| {
        [
            randn(&[d], 0.3, rng).add_scalar(1.0).unwrap(),
            randn(&[d], 0.1, rng),
        ]
    };
    let mut inputs = vec![randn(&[2, 4, d], 1.0, &mut rng)];
    inputs.extend(ln(&mut rng));
    inputs.extend([
        randn(&[3 * d, d], 0.3, &mut rng),
        randn(&[3 * d], 0.1, &mut rng),
        randn(&[d, d], 0.3, &mut rng),
        randn(&[d], 0.1, &mut rng),
    ]);
    inputs.extend(ln(&mut rng));
    inputs.extend([
        randn(&[hidden, d], 0.3, &mut rng),
        randn(&[hidden], 0.1, &mut rng),
        randn(&[d, hidden], 0.3, &mut rng),
        randn(&[d], 0.1, &mut rng),
    ]);
    check(|v| encoder_block(&v[0], &v[1..], heads), &inputs);
}

/// `var` and `std` are composed of recorded ops: their gradients over one axis and over two,
/// biased and unbiased, kept dims or not.
#[test]
fn variance_and_standard_deviation_gradients_match() {
    let mut rng = tensor::rng(9);
    let inputs = [randn(&[3, 4, 5], 1.0, &mut rng)];
    check(|v| v[0].var(&[1], 1, false), &inputs);
    check(|v| v[0].var(&[0, 2], 0, true), &inputs);
    check(|v| v[0].std(&[2], 1, false), &inputs);
}

/// A constant group has standard deviation 0, where `√`'s slope is infinite: its gradient is 0,
/// as PyTorch's, not NaN; the other group's is `(x − x̄)/((n − 1)·y)`. On every device.
#[test]
fn a_constant_groups_standard_deviation_has_gradient_zero() {
    let values = [2.0, 2.0, 2.0, 1.0, 3.0, 2.0];
    for device in tensor::test_devices() {
        let x = Tensor::from_f64s_on(&values, &[2, 3], DType::F64, &device).unwrap();
        let x = Var::parameter(x);
        let std = x.std(&[1], 1, false).unwrap();
        assert_eq!(std.value().to_vec_f64().unwrap(), [0.0, 1.0], "{device}");
        let grads = std.sum_all().unwrap().backward().unwrap();
        let dx = grads.get(&x).unwrap().to_vec_f64().unwrap();
        assert_eq!(dx, [0.0, 0.0, 0.0, -0.5, 0.5, 0.0], "{device}");
    }
}

/// `triu` and `tril` pass the gradient inside their triangle only (a batch of 3×4 matrices).
#[test]
fn triangle_gradients_match() {
    let mut rng = tensor::rng(10);
    let inputs = [randn(&[2, 3, 4], 1.0, &mut rng)];
    check(|v| v[0].triu(1), &inputs);
    check(|v| v[0].tril(-1), &inputs);
}

/// `Var::var` and `Var::std` (composed of recorded ops) give `Tensor::var`'s and `Tensor::std`'s
/// values bit for bit, on every device: one variance whether or not it is differentiated.
#[test]
fn variance_values_are_the_tensors() {
    let mut rng = tensor::rng(11);
    let x = Tensor::randn(&[3, 4, 5], 0.5, 2.0, DType::F32, &mut rng);
    for device in tensor::test_devices() {
        let x = x.to_device(&device).unwrap();
        let v = Var::parameter(x.clone());
        for (axes, correction, keepdim) in [(&[1][..], 1, false), (&[0, 2], 0, true)] {
            let bits = |t: Tensor| -> Vec<u64> {
                let values = t.to_vec_f64().unwrap();
                values.iter().map(|f| f.to_bits()).collect()
            };
            let var = v.var(axes, correction, keepdim).unwrap().value().clone();
            let want = x.var(axes, correction, keepdim).unwrap();
            assert_eq!(bits(var), bits(want), "{device}: var over {axes:?}");
            let std = v.std(axes, correction, keepdim).unwrap().value().clone();
            let want = x.std(axes, correction, keepdim).unwrap();
            assert_eq!(bits(std), bits(want), "{device}: std over {axes:?}");
        }
    }
}
