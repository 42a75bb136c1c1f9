//! `MultiHeadSelfAttention::forward_masked`: causal, key-padding and additive masks against a
//! naive `f64` reference written out per head and query; padding that changes nothing it must
//! not; a query with no allowed key (zero weights, zero gradient, no NaN); gradient checks of
//! the masked forward; bad masks as errors naming both shapes; the encoder passing the mask to
//! every block. Everything in `f64`, on every device of `tensor::test_devices()`.

use autograd::{gradcheck, GradcheckOptions, Op, Var};
use nn::layers::{AttentionMask, Encoder, EncoderConfig, Gelu, LayerNorm, MultiHeadSelfAttention};
use nn::{Context, Module, Parameters};
use tensor::{DType, Device, Tensor};

const F64: DType = DType::F64;
const WIDTH: usize = 8;
const HEADS: usize = 2;

fn randn(shape: &[usize], seed: u64) -> Tensor {
    Tensor::randn(shape, 0.0, 1.0, F64, &mut tensor::rng(seed))
}

/// An attention layer with nonzero biases (they start at zero), on `device`.
fn layer(device: &Device) -> MultiHeadSelfAttention {
    let mut attn =
        MultiHeadSelfAttention::new(WIDTH, HEADS, 0.0, F64, &mut tensor::rng(1)).unwrap();
    let mut rng = tensor::rng(2);
    attn.visit_mut("", &mut |_, p| {
        let noise = Tensor::randn(p.shape(), 0.0, 0.3, F64, &mut rng);
        p.set_value(p.value().add(&noise).unwrap());
    });
    attn.to_device(device).unwrap();
    attn
}

fn masked(attn: &MultiHeadSelfAttention, x: &Tensor, mask: &AttentionMask) -> Vec<f64> {
    attn.forward_masked(&Var::constant(x.clone()), Some(mask), &mut Context::eval())
        .unwrap()
        .value()
        .to_vec_f64()
        .unwrap()
}

/// The layer's output written out by hand: per sequence `b`, head `h` and query `i`, the scores
/// `sⱼ = qᵢ·kⱼ/√d_head + bias(b, h, i, j)` (`bias = −∞` blocks key `j`), the softmax over the
/// allowed keys (all weights 0 when none is), the weighted sum of the values; heads concatenated,
/// then the output projection.
fn reference(
    attn: &MultiHeadSelfAttention,
    x: &Tensor,
    bias: impl Fn(usize, usize, usize, usize) -> f64,
) -> Vec<f64> {
    let &[batch, tokens, dim] = x.shape() else {
        panic!("input shape {:?}", x.shape())
    };
    let head_dim = dim / HEADS;
    let get = |t: &Tensor| t.to_vec_f64().unwrap();
    let (x, w, b) = (
        get(x),
        get(attn.qkv.weight.value()),
        get(attn.qkv.bias.value()),
    );
    let (pw, pb) = (get(attn.proj.weight.value()), get(attn.proj.bias.value()));
    // qkv[b][n][r] = Σ_c x[b][n][c]·w[r][c] + b[r], r < 3d: q, then k, then v.
    let qkv = |bt: usize, n: usize, r: usize| -> f64 {
        (0..dim)
            .map(|c| x[(bt * tokens + n) * dim + c] * w[r * dim + c])
            .sum::<f64>()
            + b[r]
    };
    let mut out = vec![0.0; batch * tokens * dim];
    for bt in 0..batch {
        let mut mixed = vec![0.0; tokens * dim]; // [N, d], heads concatenated
        for h in 0..HEADS {
            let feature =
                |part: usize, n: usize, e: usize| qkv(bt, n, part * dim + h * head_dim + e);
            for i in 0..tokens {
                let scores: Vec<f64> = (0..tokens)
                    .map(|j| {
                        let dot: f64 = (0..head_dim)
                            .map(|e| feature(0, i, e) * feature(1, j, e))
                            .sum();
                        dot / (head_dim as f64).sqrt() + bias(bt, h, i, j)
                    })
                    .collect();
                let max = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                if max == f64::NEG_INFINITY {
                    continue; // no allowed key: weights 0, attention output 0
                }
                let exps: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
                let total: f64 = exps.iter().sum();
                for e in 0..head_dim {
                    mixed[i * dim + h * head_dim + e] = (0..tokens)
                        .map(|j| exps[j] / total * feature(2, j, e))
                        .sum();
                }
            }
        }
        for n in 0..tokens {
            for o in 0..dim {
                out[(bt * tokens + n) * dim + o] = (0..dim)
                    .map(|c| mixed[n * dim + c] * pw[o * dim + c])
                    .sum::<f64>()
                    + pb[o];
            }
        }
    }
    out
}

fn assert_near(what: &str, actual: &[f64], expected: &[f64]) {
    assert_eq!(actual.len(), expected.len(), "{what}: lengths");
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!(
            (a - e).abs() <= 1e-12 * (1.0 + e.abs()),
            "{what}: element {i}: {a} vs the reference {e}"
        );
    }
}

/// Key padding of `[2, 5]`: sequence 0 has 3 real tokens, sequence 1 has 4 (padding at the end
/// and one in the middle, so not only a suffix is tested).
const PADDING: [f64; 10] = [1.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 1.0];

#[test]
fn causal_mask_matches_a_naive_reference() {
    let x = randn(&[2, 5, WIDTH], 3);
    for device in tensor::test_devices() {
        let attn = layer(&device);
        let expected = reference(
            &attn,
            &x,
            |_, _, i, j| if j <= i { 0.0 } else { f64::NEG_INFINITY },
        );
        let actual = masked(
            &attn,
            &x.to_device(&device).unwrap(),
            &AttentionMask::Causal,
        );
        assert_near(&format!("causal on {device}"), &actual, &expected);
    }
}

#[test]
fn key_padding_mask_matches_a_naive_reference() {
    let x = randn(&[2, 5, WIDTH], 4);
    for device in tensor::test_devices() {
        let attn = layer(&device);
        let expected = reference(&attn, &x, |b, _, _, j| {
            if PADDING[b * 5 + j] != 0.0 {
                0.0
            } else {
                f64::NEG_INFINITY
            }
        });
        // Any nonzero value marks a real token, not only 1.
        let marks: Vec<f64> = PADDING.iter().map(|&m| m * -2.5).collect();
        let mask = Tensor::from_f64s_on(&marks, &[2, 5], F64, &device).unwrap();
        let actual = masked(
            &attn,
            &x.to_device(&device).unwrap(),
            &AttentionMask::KeyPadding(mask),
        );
        assert_near(&format!("key padding on {device}"), &actual, &expected);
    }
}

/// A `[batch, 1, tokens, tokens]` additive mask: finite biases, −∞ blocks, and in sequence 1 a
/// query (row 2) with no allowed key.
fn additive_values() -> Vec<f64> {
    let mut rng_values = randn(&[2, 1, 4, 4], 5).to_vec_f64().unwrap();
    for (index, value) in rng_values.iter_mut().enumerate() {
        let (b, i, j) = (index / 16, index / 4 % 4, index % 4);
        if (j + i + b) % 3 == 0 || (b == 1 && i == 2) {
            *value = f64::NEG_INFINITY;
        }
    }
    rng_values
}

#[test]
fn additive_mask_matches_a_naive_reference() {
    let x = randn(&[2, 4, WIDTH], 6);
    let values = additive_values();
    for device in tensor::test_devices() {
        let attn = layer(&device);
        let expected = reference(&attn, &x, |b, _, i, j| values[(b * 4 + i) * 4 + j]);
        let mask = Tensor::from_f64s_on(&values, &[2, 1, 4, 4], F64, &device).unwrap();
        let actual = masked(
            &attn,
            &x.to_device(&device).unwrap(),
            &AttentionMask::Additive(mask),
        );
        assert_near(&format!("additive on {device}"), &actual, &expected);
        // [tokens, tokens], the same for every sequence and head, broadcasts as well.
        let shared = &values[16..];
        let expected = reference(&attn, &x, |_, _, i, j| shared[i * 4 + j]);
        let mask = Tensor::from_f64s_on(shared, &[4, 4], F64, &device).unwrap();
        let actual = masked(
            &attn,
            &x.to_device(&device).unwrap(),
            &AttentionMask::Additive(mask),
        );
        assert_near(&format!("additive [4, 4] on {device}"), &actual, &expected);
    }
}

#[test]
fn a_padding_tokens_input_changes_nothing_for_the_real_tokens() {
    // Sequence 0 of PADDING: tokens 3 and 4 are padding. Changing their inputs (wildly) must
    // leave the real tokens' outputs bit for bit, and their gradient from the real tokens'
    // outputs must be exactly 0: their keys get weight 0, their values are multiplied by it.
    let x = randn(&[2, 5, WIDTH], 7);
    let mut noise = vec![0.0; 2 * 5 * WIDTH];
    for token in [3, 4] {
        for c in 0..WIDTH {
            noise[token * WIDTH + c] = 50.0 * (c as f64 - 3.5);
        }
    }
    let changed = x
        .add(&Tensor::from_f64s(&noise, &[2, 5, WIDTH], F64).unwrap())
        .unwrap();
    let real = 3 * WIDTH;
    for device in tensor::test_devices() {
        let attn = layer(&device);
        let mask = AttentionMask::KeyPadding(
            Tensor::from_f64s_on(&PADDING, &[2, 5], F64, &device).unwrap(),
        );
        let before = masked(&attn, &x.to_device(&device).unwrap(), &mask);
        let after = masked(&attn, &changed.to_device(&device).unwrap(), &mask);
        assert_eq!(before[..real], after[..real], "on {device}");
        assert_ne!(
            before[real..5 * WIDTH],
            after[real..5 * WIDTH],
            "on {device}: padding queries still attend"
        );
        // Gradient of Σ (real tokens' outputs of sequence 0) w.r.t. the input.
        let input = Var::parameter(x.to_device(&device).unwrap());
        let y = attn
            .forward_masked(&input, Some(&mask), &mut Context::eval())
            .unwrap();
        let mut pick = vec![0.0; 2 * 5 * WIDTH];
        pick[..real].fill(1.0);
        let pick = Tensor::from_f64s_on(&pick, &[2, 5, WIDTH], F64, &device).unwrap();
        let grads = y
            .mul(&Var::constant(pick))
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        let dx = grads.get(&input).unwrap().to_vec_f64().unwrap();
        assert!(dx[..real].iter().any(|&g| g != 0.0), "on {device}");
        assert!(
            dx[real..5 * WIDTH].iter().all(|&g| g == 0.0),
            "on {device}: {dx:?}"
        );
    }
}

#[test]
fn a_query_with_no_allowed_key_gets_zero_weights_and_zero_gradient() {
    // Sequence 1 is all padding: its attention outputs are 0, so the layer gives the projection
    // bias there (PyTorch's scaled_dot_product_attention gives 0 too), nothing is NaN, and its
    // inputs get exactly 0 gradient. Sequence 0 is what it would be alone.
    let x = randn(&[2, 4, WIDTH], 8);
    for device in tensor::test_devices() {
        let attn = layer(&device);
        let padding = [1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0];
        let mask = AttentionMask::KeyPadding(
            Tensor::from_f64s_on(&padding, &[2, 4], F64, &device).unwrap(),
        );
        let input = Var::parameter(x.to_device(&device).unwrap());
        let y = attn
            .forward_masked(&input, Some(&mask), &mut Context::eval())
            .unwrap();
        let out = y.value().to_vec_f64().unwrap();
        let bias = attn.proj.bias.value().to_vec_f64().unwrap();
        for token in 4..8 {
            assert_eq!(
                out[token * WIDTH..(token + 1) * WIDTH],
                bias[..],
                "on {device}"
            );
        }
        let alone = {
            let first = x
                .narrow(1, 0, 4)
                .unwrap()
                .narrow(0, 0, 1)
                .unwrap()
                .to_device(&device)
                .unwrap();
            let mask = AttentionMask::KeyPadding(
                Tensor::from_f64s_on(&padding[..4], &[1, 4], F64, &device).unwrap(),
            );
            masked(&attn, &first, &mask)
        };
        assert_eq!(out[..4 * WIDTH], alone[..], "on {device}");
        let projection = randn(&[2, 4, WIDTH], 9).to_device(&device).unwrap();
        let grads = y
            .mul(&Var::constant(projection))
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        let dx = grads.get(&input).unwrap().to_vec_f64().unwrap();
        assert!(
            dx[..4 * WIDTH].iter().all(|g| g.is_finite())
                && dx[..4 * WIDTH].iter().any(|&g| g != 0.0)
        );
        assert!(
            dx[4 * WIDTH..].iter().all(|&g| g == 0.0),
            "on {device}: {dx:?}"
        );
        for (name, p) in attn.named_parameters() {
            let g = grads.get(p.leaf()).unwrap().to_vec_f64().unwrap();
            assert!(
                g.iter().all(|v| v.is_finite()),
                "on {device}: grad.{name} {g:?}"
            );
        }
    }
}

#[test]
fn masked_attention_passes_gradcheck_on_every_device() {
    let x = randn(&[2, 4, WIDTH], 10); // 64 elements: every one is checked
    let options = GradcheckOptions::default();
    let padding = [1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]; // sequence 1: no allowed key at all
    for device in tensor::test_devices() {
        let attn = layer(&device);
        let masks = [
            ("causal", AttentionMask::Causal),
            (
                "key padding",
                AttentionMask::KeyPadding(
                    Tensor::from_f64s_on(&padding, &[2, 4], F64, &device).unwrap(),
                ),
            ),
            (
                "additive",
                AttentionMask::Additive(
                    Tensor::from_f64s_on(&additive_values(), &[2, 1, 4, 4], F64, &device).unwrap(),
                ),
            ),
        ];
        for (label, mask) in &masks {
            let ops = gradcheck(
                |v| attn.forward_masked(&v[0], Some(mask), &mut Context::eval()),
                &[x.to_device(&device).unwrap()],
                &options,
            )
            .unwrap_or_else(|e| panic!("{label} on {device}: {e}"));
            assert!(
                ops.contains(&Op::Softmax) && ops.contains(&Op::WhereCond),
                "{ops:?}"
            );
        }
    }
}

#[test]
fn bad_masks_are_errors_naming_both_shapes() {
    let x = randn(&[2, 4, WIDTH], 11);
    let attn = layer(&Device::Cpu);
    let error = |mask: AttentionMask| -> String {
        attn.forward_masked(&Var::constant(x.clone()), Some(&mask), &mut Context::eval())
            .err()
            .unwrap_or_else(|| panic!("{mask:?} was accepted"))
            .to_string()
    };
    for shape in [vec![3, 4], vec![2, 5], vec![4, 2], vec![2, 4, 1], vec![8]] {
        let message = error(AttentionMask::KeyPadding(Tensor::ones(&shape, F64)));
        assert!(
            message.contains(&format!("{shape:?}")) && message.contains("[2, 4, 8]"),
            "{message}"
        );
    }
    for shape in [
        vec![4, 5],
        vec![3, 1, 4, 4],
        vec![2, 3, 4, 4],
        vec![4],
        vec![1, 2, 2, 4, 4],
    ] {
        let message = error(AttentionMask::Additive(Tensor::zeros(&shape, F64)));
        assert!(
            message.contains(&format!("{shape:?}")) && message.contains("[2, 4, 8]"),
            "{message}"
        );
    }
    let message = error(AttentionMask::KeyPadding(Tensor::ones(&[2, 4], DType::F32)));
    assert!(
        message.contains("[2, 4] (f32") && message.contains("[2, 4, 8] (f64"),
        "{message}"
    );
    let message = error(AttentionMask::Additive(Tensor::zeros(&[4, 4], DType::F32)));
    assert!(
        message.contains("[4, 4] (f32") && message.contains("[2, 4, 8] (f64"),
        "{message}"
    );
    for device in tensor::test_devices()
        .into_iter()
        .filter(|d| *d != Device::Cpu)
    {
        let mask = Tensor::ones_on(&[2, 4], F64, &device).unwrap();
        let message = error(AttentionMask::KeyPadding(mask));
        assert!(
            message.contains("[2, 4] (f64 on opencl") && message.contains("[2, 4, 8] (f64 on cpu"),
            "{message}"
        );
    }
    // Shapes that broadcast are accepted.
    for shape in [vec![4, 4], vec![1, 4], vec![2, 1, 4, 4], vec![1, 2, 1, 4]] {
        let mask = AttentionMask::Additive(Tensor::zeros(&shape, F64));
        attn.forward_masked(&Var::constant(x.clone()), Some(&mask), &mut Context::eval())
            .unwrap_or_else(|e| panic!("{shape:?}: {e}"));
    }
}

#[test]
fn the_encoder_passes_the_mask_to_every_block() {
    let config = EncoderConfig {
        width: WIDTH,
        depth: 2,
        heads: HEADS,
        mlp_width: 12,
        gelu: Gelu::Tanh,
        dropout: 0.0,
        attention_dropout: 0.0,
        stochastic_depth: 0.0,
        layer_norm_eps: LayerNorm::DEFAULT_EPS,
    };
    let encoder = Encoder::new(&config, F64, &mut tensor::rng(12)).unwrap();
    let x = randn(&[1, 4, WIDTH], 13);
    let run = |x: &Tensor, mask: Option<&AttentionMask>| -> Vec<f64> {
        let y = encoder.forward_masked(&Var::constant(x.clone()), mask, &mut Context::eval());
        y.unwrap().value().to_vec_f64().unwrap()
    };
    let plain = encoder
        .forward(&Var::constant(x.clone()), &mut Context::eval())
        .unwrap();
    assert_eq!(run(&x, None), plain.value().to_vec_f64().unwrap());
    // Causal through both blocks: a change to the last token reaches no earlier token (in the
    // second block a token would see the first block's output of later tokens otherwise).
    let mut bump = vec![0.0; 4 * WIDTH];
    bump[3 * WIDTH..].fill(1.0);
    let changed = x
        .add(&Tensor::from_f64s(&bump, &[1, 4, WIDTH], F64).unwrap())
        .unwrap();
    let (a, b) = (
        run(&x, Some(&AttentionMask::Causal)),
        run(&changed, Some(&AttentionMask::Causal)),
    );
    assert_eq!(a[..3 * WIDTH], b[..3 * WIDTH]);
    assert_ne!(a[3 * WIDTH..], b[3 * WIDTH..]);
    assert_ne!(a, run(&x, None));
}
