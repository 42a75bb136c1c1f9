//! Layers, regularizers, initializers and optimizer details: parameter names and counts, dropout
//! and stochastic depth statistics, seeded reproducibility, init statistics, gradient clipping,
//! momentum without gradients, and frozen parameters.

use autograd::{Gradients, Var};
use nn::init::{lecun_normal, truncated_normal, xavier_uniform};
use nn::layers::{
    block_drop_path_rate, drop_path, patchify, Dropout, Embedding, Encoder, EncoderBlock,
    EncoderConfig, Gelu, LayerNorm, Linear, LinearInit, Mlp, MultiHeadSelfAttention,
    PatchEmbedding,
};
use nn::optim::{clip_grad_norm, AdamW, Optimizer, Sgd};
use nn::{impl_parameters, Context, Module, Parameter, Parameters};
use tensor::{DType, Tensor};

fn config(width: usize, depth: usize, heads: usize, mlp_width: usize) -> EncoderConfig {
    EncoderConfig {
        width,
        depth,
        heads,
        mlp_width,
        gelu: Gelu::Tanh,
        dropout: 0.0,
        attention_dropout: 0.0,
        stochastic_depth: 0.0,
        layer_norm_eps: LayerNorm::DEFAULT_EPS,
    }
}

fn values(t: &Tensor) -> Vec<f64> {
    t.to_vec_f64().unwrap()
}

fn mean_and_std(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

// ---------------------------------------------------------------------------------------------
// Names and counts.

#[test]
fn encoder_parameters_have_dotted_names_in_a_fixed_order() {
    let encoder = Encoder::new(&config(8, 2, 2, 16), DType::F32, &mut tensor::rng(0)).unwrap();
    let named = encoder.named_parameters();
    let names: Vec<&str> = named.iter().map(|(n, _)| n.as_str()).collect();
    let mut expected = Vec::new();
    for block in 0..2 {
        for leaf in [
            "norm1.weight",
            "norm1.bias",
            "attn.qkv.weight",
            "attn.qkv.bias",
            "attn.proj.weight",
            "attn.proj.bias",
            "norm2.weight",
            "norm2.bias",
            "mlp.fc1.weight",
            "mlp.fc1.bias",
            "mlp.fc2.weight",
            "mlp.fc2.bias",
        ] {
            expected.push(format!("blocks.{block}.{leaf}"));
        }
    }
    expected.push("norm.weight".into());
    expected.push("norm.bias".into());
    assert_eq!(names, expected);

    let shape = |name: &str| named.iter().find(|(n, _)| n == name).unwrap().1.shape();
    assert_eq!(shape("blocks.1.attn.qkv.weight"), [24, 8]);
    assert_eq!(shape("blocks.1.attn.qkv.bias"), [24]);
    assert_eq!(shape("blocks.0.mlp.fc1.weight"), [16, 8]);
    assert_eq!(shape("blocks.0.mlp.fc2.weight"), [8, 16]);
    assert_eq!(shape("norm.bias"), [8]);

    // Prefixes nest: the same walk under a parent's name.
    let mut prefixed = Vec::new();
    encoder.visit("encoder", &mut |n, _| prefixed.push(n.to_string()));
    assert_eq!(prefixed[2], "encoder.blocks.0.attn.qkv.weight");
    assert_eq!(prefixed.last().unwrap(), "encoder.norm.bias");
}

#[test]
fn parameter_count_matches_a_hand_count() {
    // Width 8, MLP 16, 2 blocks. Per block:
    //   norm1 8+8 = 16; qkv 24·8+24 = 216; proj 8·8+8 = 72; norm2 16;
    //   fc1 16·8+16 = 144; fc2 8·16+8 = 136  →  600.
    // Two blocks plus the final norm (16): 1216.
    let encoder = Encoder::new(&config(8, 2, 2, 16), DType::F32, &mut tensor::rng(0)).unwrap();
    assert_eq!(encoder.parameter_count(), 1216);

    // Patch embedding of 16×16 RGB patches to width 8: 8·768 + 8.
    let embed = PatchEmbedding::new(3, &[16, 16], 8, DType::F32, &mut tensor::rng(0));
    assert_eq!(embed.parameter_count(), 6152);
    let names: Vec<String> = embed
        .named_parameters()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, ["weight", "bias"]);
    let mut prefixed = Vec::new();
    embed.visit("patch_embed", &mut |n, _| prefixed.push(n.to_string()));
    assert_eq!(prefixed, ["patch_embed.weight", "patch_embed.bias"]);

    // Frozen parameters still count.
    let mut encoder = encoder;
    assert_eq!(encoder.set_frozen("blocks.0.", true), 12);
    assert_eq!(encoder.parameter_count(), 1216);
}

#[test]
fn freezing_by_prefix_counts_what_it_touches() {
    let mut encoder = Encoder::new(&config(8, 2, 2, 16), DType::F32, &mut tensor::rng(0)).unwrap();
    assert_eq!(encoder.set_frozen("blocks.1.attn", true), 4);
    assert_eq!(encoder.set_frozen("norm.", true), 2);
    assert_eq!(encoder.set_frozen("nothing", true), 0);
    let frozen: Vec<String> = encoder
        .named_parameters()
        .into_iter()
        .filter(|(_, p)| p.is_frozen())
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        frozen,
        [
            "blocks.1.attn.qkv.weight",
            "blocks.1.attn.qkv.bias",
            "blocks.1.attn.proj.weight",
            "blocks.1.attn.proj.bias",
            "norm.weight",
            "norm.bias"
        ]
    );
    assert_eq!(encoder.set_frozen("", false), 26);
    assert!(encoder
        .named_parameters()
        .iter()
        .all(|(_, p)| !p.is_frozen()));
}

#[test]
fn attention_rejects_a_width_not_divisible_by_the_heads() {
    for heads in [0, 3] {
        let err = match MultiHeadSelfAttention::new(8, heads, 0.0, DType::F32, &mut tensor::rng(0))
        {
            Ok(_) => panic!("{heads} heads accepted"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains("width 8"), "{err}");
    }
    // `heads` is a public field: a value set after construction is checked in forward.
    let mut attention = MultiHeadSelfAttention::new(8, 2, 0.0, DType::F32, &mut tensor::rng(0))
        .expect("2 heads of 4");
    let x = Var::constant(Tensor::zeros(&[1, 3, 8], DType::F32));
    for heads in [0, 3] {
        attention.heads = heads;
        let err = attention.forward(&x, &mut Context::eval()).err().unwrap();
        assert!(err.to_string().contains("does not split into"), "{err}");
    }
}

#[test]
fn linear_folds_leading_axes_and_rejects_wrong_widths() {
    let layer = Linear::new(
        3,
        2,
        LinearInit::LecunNormal,
        DType::F64,
        &mut tensor::rng(0),
    );
    let w = values(layer.weight.value());
    let x = [1.0, -2.0, 0.5];
    let y = layer
        .forward(
            &Var::constant(Tensor::from_vec(x.to_vec(), &[3]).unwrap()),
            &mut Context::eval(),
        )
        .unwrap();
    assert_eq!(y.shape(), [2]);
    for (o, got) in values(y.value()).iter().enumerate() {
        let want: f64 = (0..3).map(|i| w[o * 3 + i] * x[i]).sum();
        assert!((got - want).abs() < 1e-12);
    }
    let batch = Var::constant(Tensor::zeros(&[2, 4, 5, 3], DType::F64));
    let y = layer.forward(&batch, &mut Context::eval()).unwrap();
    assert_eq!(y.shape(), [2, 4, 5, 2]);
    let wrong = Var::constant(Tensor::zeros(&[2, 4], DType::F64));
    let err = layer
        .forward(&wrong, &mut Context::eval())
        .unwrap_err()
        .to_string();
    assert!(err.contains("[2, 4]") && err.contains("expects 3"), "{err}");
    let scalar = Var::constant(Tensor::scalar(1.0, DType::F64));
    assert!(layer.forward(&scalar, &mut Context::eval()).is_err());
    // A weight replaced by one that is not a matrix is an error, not an index out of bounds.
    let mut flat = layer;
    flat.weight.set_value(Tensor::zeros(&[6], DType::F64));
    let err = flat.forward(&batch, &mut Context::eval()).err().unwrap();
    assert!(err.to_string().contains("[6]"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Patches.

#[test]
fn patch_embedding_of_a_video_is_a_strided_3d_convolution() {
    // [B, C, T, H, W] = [2, 2, 4, 4, 6], tubelets 2×2×3: a 2×2×2 grid of 24-feature tokens.
    let (b, c, t, h, w) = (2, 2, 4, 4, 6);
    let (pt, ph, pw) = (2, 2, 3);
    let width = 3;
    let mut rng = tensor::rng(5);
    let x = Tensor::randn(&[b, c, t, h, w], 0.0, 1.0, DType::F64, &mut rng);
    let mut embed = PatchEmbedding::new(c, &[pt, ph, pw], width, DType::F64, &mut rng);
    embed
        .projection
        .bias
        .set_value(Tensor::randn(&[width], 0.0, 1.0, DType::F64, &mut rng));
    let y = embed
        .forward(&Var::constant(x.clone()), &mut Context::eval())
        .unwrap();
    let (gt, gh, gw) = (t / pt, h / ph, w / pw);
    assert_eq!(y.shape(), [b, gt * gh * gw, width]);

    let xv = values(&x);
    let weight = values(embed.projection.weight.value()); // [width, C·pt·ph·pw]
    let bias = values(embed.projection.bias.value());
    let yv = values(y.value());
    let features = c * pt * ph * pw;
    let at = |bi, ci, ti, hi, wi| xv[(((bi * c + ci) * t + ti) * h + hi) * w + wi];
    for bi in 0..b {
        for (token, (ti, hi, wi)) in (0..gt)
            .flat_map(|i| (0..gh).flat_map(move |j| (0..gw).map(move |k| (i, j, k))))
            .enumerate()
        {
            for o in 0..width {
                // The kernel is a flattened [out, C, pt, ph, pw] convolution kernel.
                let mut sum = bias[o];
                for ci in 0..c {
                    for a in 0..pt {
                        for bb in 0..ph {
                            for cc in 0..pw {
                                let f = ((ci * pt + a) * ph + bb) * pw + cc;
                                sum += weight[o * features + f]
                                    * at(bi, ci, ti * pt + a, hi * ph + bb, wi * pw + cc);
                            }
                        }
                    }
                }
                let got = yv[(bi * gt * gh * gw + token) * width + o];
                assert!(
                    (got - sum).abs() < 1e-12,
                    "batch {bi}, token {token}, output {o}: {got} vs {sum}"
                );
            }
        }
    }
}

#[test]
fn patchify_rejects_sizes_that_do_not_divide() {
    let x = Var::constant(Tensor::zeros(&[1, 3, 5, 4], DType::F32));
    let err = patchify(&x, &[2, 2]).unwrap_err().to_string();
    assert!(
        err.contains("[1, 3, 5, 4]") && err.contains("[2, 2]"),
        "{err}"
    );
    assert!(patchify(&x, &[5, 0]).is_err());
    assert!(patchify(&x, &[5]).is_err());
}

// ---------------------------------------------------------------------------------------------
// Dropout and stochastic depth.

#[test]
fn dropout_is_the_identity_in_evaluation_and_at_rate_zero() {
    let x = Var::constant(Tensor::randn(
        &[4, 5],
        0.0,
        1.0,
        DType::F32,
        &mut tensor::rng(1),
    ));
    let dropout = Dropout { rate: 0.5 };
    let y = dropout.forward(&x, &mut Context::eval()).unwrap();
    assert_eq!(values(y.value()), values(x.value()));
    let y = Dropout { rate: 0.0 }
        .forward(&x, &mut Context::train(1))
        .unwrap();
    assert_eq!(values(y.value()), values(x.value()));
    let y = drop_path(&x, 0.5, &mut Context::eval()).unwrap();
    assert_eq!(values(y.value()), values(x.value()));
}

#[test]
fn dropout_zeroes_about_rate_and_scales_survivors() {
    for (dtype, rate) in [(DType::F32, 0.3), (DType::F64, 0.1), (DType::F32, 0.9)] {
        let n = 100_000;
        let x = Var::constant(Tensor::ones(&[n], dtype));
        let y = Dropout { rate }
            .forward(&x, &mut Context::train(42))
            .unwrap();
        let v = values(y.value());
        let zeros = v.iter().filter(|&&v| v == 0.0).count() as f64 / n as f64;
        // Standard deviation of the fraction: √(r(1−r)/n) ≤ 0.0016; allow ±0.01.
        assert!((zeros - rate).abs() < 0.01, "{dtype}: {zeros} zeroed");
        let scale = 1.0 / (1.0 - rate);
        for &s in v.iter().filter(|&&v| v != 0.0) {
            assert!((s - scale).abs() < 1e-6 * scale, "{dtype}: survivor {s}");
        }
    }
}

#[test]
fn dropout_preserves_the_expectation() {
    let n = 200_000;
    let mut rng = tensor::rng(3);
    let x = Var::constant(Tensor::rand(&[n], 1.0, 2.0, DType::F64, &mut rng));
    let y = Dropout { rate: 0.3 }
        .forward(&x, &mut Context::train(4))
        .unwrap();
    let sum_x: f64 = values(x.value()).iter().sum();
    let sum_y: f64 = values(y.value()).iter().sum();
    // Relative standard deviation ≈ 0.0015; allow 0.01.
    assert!((sum_y / sum_x - 1.0).abs() < 0.01, "{}", sum_y / sum_x);
}

#[test]
fn dropout_gradient_is_its_mask() {
    let x = Var::parameter(Tensor::ones(&[1000], DType::F64));
    let y = Dropout { rate: 0.25 }
        .forward(&x, &mut Context::train(9))
        .unwrap();
    let grads = y.sum_all().unwrap().backward().unwrap();
    // d(Σ x·mask)/dx = mask, and with x = 1 the output is the mask itself.
    assert_eq!(values(grads.get(&x).unwrap()), values(y.value()));
}

#[test]
fn dropout_at_rate_one_drops_everything() {
    let x = Var::constant(Tensor::randn(
        &[3, 4],
        0.0,
        1.0,
        DType::F32,
        &mut tensor::rng(1),
    ));
    let y = Dropout { rate: 1.0 }
        .forward(&x, &mut Context::train(1))
        .unwrap();
    assert!(
        values(y.value()).iter().all(|&v| v == 0.0),
        "{:?}",
        values(y.value())
    );
    let y = drop_path(&x, 1.0, &mut Context::train(1)).unwrap();
    assert!(
        values(y.value()).iter().all(|&v| v == 0.0),
        "{:?}",
        values(y.value())
    );
}

#[test]
fn drop_path_zeroes_whole_examples() {
    let (batch, rate) = (4000, 0.25);
    let x = Var::constant(Tensor::rand(
        &[batch, 3, 5],
        1.0,
        2.0,
        DType::F32,
        &mut tensor::rng(6),
    ));
    let y = drop_path(&x, rate, &mut Context::train(7)).unwrap();
    assert_eq!(y.shape(), x.shape());
    let (xv, yv) = (values(x.value()), values(y.value()));
    let mut dropped = 0;
    for example in 0..batch {
        let range = example * 15..(example + 1) * 15;
        let (xs, ys) = (&xv[range.clone()], &yv[range]);
        if ys.iter().all(|&v| v == 0.0) {
            dropped += 1;
        } else {
            // Kept examples are kept whole, scaled by 1/(1 − rate).
            for (a, b) in xs.iter().zip(ys) {
                assert!(
                    (b - a / (1.0 - rate)).abs() < 1e-5,
                    "example {example}: {a} → {b}"
                );
            }
        }
    }
    let fraction = dropped as f64 / batch as f64;
    // Standard deviation ≈ 0.007; allow ±0.04.
    assert!(
        (fraction - rate).abs() < 0.04,
        "{fraction} of the examples dropped"
    );
}

#[test]
fn stochastic_depth_rises_linearly_over_the_blocks() {
    let rates: Vec<f64> = (0..5).map(|i| block_drop_path_rate(0.4, i, 5)).collect();
    let expected = [0.0, 0.1, 0.2, 0.3, 0.4];
    for (r, e) in rates.iter().zip(expected) {
        assert!((r - e).abs() < 1e-15, "{rates:?}");
    }
    let mut cfg = config(8, 5, 2, 16);
    cfg.stochastic_depth = 0.4;
    let encoder = Encoder::new(&cfg, DType::F32, &mut tensor::rng(0)).unwrap();
    let built: Vec<f64> = encoder.blocks.iter().map(|b| b.drop_path_rate).collect();
    assert_eq!(built, rates);
    // As in the reference (`lyr / max(L − 1, 1) · rate`): a single block is never dropped.
    assert_eq!(block_drop_path_rate(0.4, 0, 1), 0.0);
    assert_eq!(block_drop_path_rate(0.0, 3, 5), 0.0);
}

#[test]
fn a_block_whose_branches_are_always_dropped_is_the_identity() {
    let block =
        EncoderBlock::new(&config(8, 1, 2, 16), 1.0, DType::F64, &mut tensor::rng(0)).unwrap();
    let x = Var::constant(Tensor::randn(
        &[2, 3, 8],
        0.0,
        1.0,
        DType::F64,
        &mut tensor::rng(1),
    ));
    let y = block.forward(&x, &mut Context::train(2)).unwrap();
    assert_eq!(values(y.value()), values(x.value()));
}

#[test]
fn the_same_seed_gives_the_same_masks() {
    let x = Var::constant(Tensor::ones(&[64, 8], DType::F32));
    let dropout = Dropout { rate: 0.5 };
    let run = |seed| {
        values(
            dropout
                .forward(&x, &mut Context::train(seed))
                .unwrap()
                .value(),
        )
    };
    assert_eq!(run(11), run(11));
    assert_ne!(run(11), run(12));
    // Within one context the generator advances: two calls draw two different masks.
    let mut ctx = Context::train(11);
    let first = values(dropout.forward(&x, &mut ctx).unwrap().value());
    let second = values(dropout.forward(&x, &mut ctx).unwrap().value());
    assert_eq!(first, run(11));
    assert_ne!(first, second);

    // A whole encoder with every kind of randomness repeats exactly under the same seed.
    let mut cfg = config(8, 2, 2, 16);
    cfg.dropout = 0.2;
    cfg.attention_dropout = 0.2;
    cfg.stochastic_depth = 0.3;
    let encoder = Encoder::new(&cfg, DType::F32, &mut tensor::rng(0)).unwrap();
    let tokens = Var::constant(Tensor::randn(
        &[16, 5, 8],
        0.0,
        1.0,
        DType::F32,
        &mut tensor::rng(1),
    ));
    let run = |seed| {
        values(
            encoder
                .forward(&tokens, &mut Context::train(seed))
                .unwrap()
                .value(),
        )
    };
    assert_eq!(run(3), run(3));
    assert_ne!(run(3), run(4));
    // In evaluation the rates do not matter at all.
    let plain = Encoder::new(&config(8, 2, 2, 16), DType::F32, &mut tensor::rng(0)).unwrap();
    assert_eq!(
        values(
            encoder
                .forward(&tokens, &mut Context::eval())
                .unwrap()
                .value()
        ),
        values(
            plain
                .forward(&tokens, &mut Context::eval())
                .unwrap()
                .value()
        )
    );
}

// ---------------------------------------------------------------------------------------------
// Initialization.

#[test]
fn xavier_uniform_stays_within_its_bound_and_fills_it() {
    let (fan_in, fan_out) = (300, 200);
    let layer = Linear::new(
        fan_in,
        fan_out,
        LinearInit::XavierUniform,
        DType::F64,
        &mut tensor::rng(0),
    );
    assert_eq!(layer.weight.shape(), [fan_out, fan_in]);
    let w = values(layer.weight.value());
    let bound = (6.0 / (fan_in + fan_out) as f64).sqrt();
    let max = w.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(
        max <= bound && max > 0.99 * bound,
        "max {max}, bound {bound}"
    );
    let (mean, std) = mean_and_std(&w);
    let expected_std = bound / 3f64.sqrt();
    assert!(mean.abs() < 0.01 * bound, "mean {mean}");
    assert!(
        (std / expected_std - 1.0).abs() < 0.02,
        "std {std} vs {expected_std}"
    );
    assert!(values(layer.bias.value()).iter().all(|&b| b == 0.0));

    let direct = xavier_uniform(7, 3, DType::F32, &mut tensor::rng(0));
    assert_eq!(direct.shape(), [7, 3]);
    assert_eq!(direct.dtype(), DType::F32);
}

/// A std that would fill the weights with NaN (or a mirrored normal) stops the construction with
/// a message naming the value: the Linear bias, the truncated normal.
#[test]
fn initializers_refuse_a_std_that_is_not_a_number_or_negative() {
    let message = |f: Box<dyn FnOnce() + std::panic::UnwindSafe>| {
        let payload = std::panic::catch_unwind(f).expect_err("should refuse");
        payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default()
    };
    for std in [f64::NAN, -1e-6, f64::INFINITY] {
        let err = message(Box::new(move || {
            let init = LinearInit::XavierUniformNormalBias(std);
            Linear::new(3, 2, init, DType::F32, &mut tensor::rng(0));
        }));
        assert!(
            err.starts_with("randn: ") && err.contains(&format!("std {std}")),
            "{err}"
        );
        let err = message(Box::new(move || {
            truncated_normal(&[4], std, DType::F32, &mut tensor::rng(0));
        }));
        assert!(err.starts_with("truncated_normal: std = "), "{err}");
    }
    // Zero fans are empty weights, not an infinite bound or std.
    for (inputs, outputs) in [(0, 0), (0, 3)] {
        for init in [LinearInit::XavierUniform, LinearInit::LecunNormal] {
            let layer = Linear::new(inputs, outputs, init, DType::F32, &mut tensor::rng(0));
            assert_eq!(layer.weight.shape(), [outputs, inputs]);
        }
    }
}

#[test]
fn lecun_normal_has_the_right_std_and_truncation() {
    let (fan_in, fan_out) = (400, 300);
    let layer = Linear::new(
        fan_in,
        fan_out,
        LinearInit::LecunNormal,
        DType::F64,
        &mut tensor::rng(1),
    );
    let w = values(layer.weight.value());
    let (mean, std) = mean_and_std(&w);
    let expected = (1.0 / fan_in as f64).sqrt();
    assert!(mean.abs() < 0.01 * expected, "mean {mean}");
    assert!(
        (std / expected - 1.0).abs() < 0.02,
        "std {std} vs {expected}"
    );
    // Truncated at two standard deviations of the underlying (wider) normal.
    let cut = 2.0 * expected / 0.879_625_8;
    let max = w.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(max <= cut && max > 0.98 * cut, "max {max}, cut {cut}");
    assert!(values(layer.bias.value()).iter().all(|&b| b == 0.0));

    // The same from the function directly, in f32.
    let direct = lecun_normal(256, 512, DType::F32, &mut tensor::rng(2));
    let (_, std) = mean_and_std(&values(&direct));
    let expected = (1.0f64 / 512.0).sqrt();
    assert!(
        (std / expected - 1.0).abs() < 0.02,
        "std {std} vs {expected}"
    );
}

#[test]
fn zero_heads_and_the_other_reference_inits() {
    let head = Linear::new(16, 10, LinearInit::Zeros, DType::F32, &mut tensor::rng(0));
    assert!(values(head.weight.value()).iter().all(|&v| v == 0.0));
    assert!(values(head.bias.value()).iter().all(|&v| v == 0.0));

    // MLP biases are N(0, 1e-6): tiny but not zero.
    let mlp = Mlp::new(16, 2000, Gelu::Tanh, 0.0, DType::F64, &mut tensor::rng(0));
    let b = values(mlp.fc1.bias.value());
    let (mean, std) = mean_and_std(&b);
    assert!(b.iter().all(|&v| v != 0.0 && v.abs() < 1e-5));
    assert!(
        mean.abs() < 1e-7 && (std / 1e-6 - 1.0).abs() < 0.1,
        "{mean} {std}"
    );

    // Attention projections: zero biases; LayerNorm: ones and zeros.
    let attn = MultiHeadSelfAttention::new(8, 2, 0.0, DType::F32, &mut tensor::rng(0)).unwrap();
    assert!(values(attn.qkv.bias.value()).iter().all(|&v| v == 0.0));
    assert!(values(attn.proj.bias.value()).iter().all(|&v| v == 0.0));
    let norm = LayerNorm::new(5, LayerNorm::DEFAULT_EPS, DType::F32);
    assert_eq!(values(norm.weight.value()), [1.0; 5]);
    assert_eq!(values(norm.bias.value()), [0.0; 5]);
    assert_eq!(LayerNorm::DEFAULT_EPS, 1e-6);

    // Same seed, same weights; another seed, other weights.
    let a = Linear::new(
        4,
        4,
        LinearInit::XavierUniform,
        DType::F32,
        &mut tensor::rng(9),
    );
    let b = Linear::new(
        4,
        4,
        LinearInit::XavierUniform,
        DType::F32,
        &mut tensor::rng(9),
    );
    let c = Linear::new(
        4,
        4,
        LinearInit::XavierUniform,
        DType::F32,
        &mut tensor::rng(10),
    );
    assert_eq!(values(a.weight.value()), values(b.weight.value()));
    assert_ne!(values(a.weight.value()), values(c.weight.value()));
}

// ---------------------------------------------------------------------------------------------
// Clipping and optimizers.

/// Two parameters and a loss whose gradients are known by heart.
struct Pair {
    p: Parameter,
    q: Parameter,
}

impl_parameters!(Pair { p, q });

impl Pair {
    fn new(dtype: DType) -> Pair {
        Pair {
            p: Parameter::new(Tensor::from_f64s(&[1.0, -2.0], &[2], dtype).unwrap()),
            q: Parameter::new(Tensor::from_f64s(&[0.5], &[1], dtype).unwrap()),
        }
    }

    /// `Σ p ⊙ a + Σ q ⊙ b` (q left out when `b` is `None`): gradients `a` and `b`.
    fn grads(&self, a: &[f64], b: Option<&[f64]>) -> Gradients {
        let dtype = self.p.value().dtype();
        let constant = |v: &[f64]| Var::constant(Tensor::from_f64s(v, &[v.len()], dtype).unwrap());
        let mut loss = self.p.var().mul(&constant(a)).unwrap().sum_all().unwrap();
        if let Some(b) = b {
            let term = self.q.var().mul(&constant(b)).unwrap().sum_all().unwrap();
            loss = loss.add(&term).unwrap();
        }
        loss.backward().unwrap()
    }
}

fn global_norm(grads: &Gradients) -> f64 {
    grads
        .tensors()
        .map(|g| values(g).iter().map(|v| v * v).sum::<f64>())
        .sum::<f64>()
        .sqrt()
}

#[test]
fn clip_grad_norm_returns_the_norm_before_clipping_and_scales_to_the_maximum() {
    for dtype in [DType::F64, DType::F32] {
        let pair = Pair::new(dtype);
        // Gradients [3, 0] and [4]: global norm 5.
        let mut grads = pair.grads(&[3.0, 0.0], Some(&[4.0]));
        let norm = clip_grad_norm(&mut grads, 10.0).unwrap();
        assert!((norm - 5.0).abs() < 1e-6, "{norm}");
        assert_eq!(values(grads.get(pair.p.leaf()).unwrap()), [3.0, 0.0]);
        assert_eq!(values(grads.get(pair.q.leaf()).unwrap()), [4.0]);

        let norm = clip_grad_norm(&mut grads, 1.0).unwrap();
        assert!((norm - 5.0).abs() < 1e-6, "{norm}");
        let p = values(grads.get(pair.p.leaf()).unwrap());
        let q = values(grads.get(pair.q.leaf()).unwrap());
        let tol = if dtype == DType::F64 { 1e-6 } else { 1e-5 };
        assert!((p[0] - 0.6).abs() < tol && p[1] == 0.0 && (q[0] - 0.8).abs() < tol);
        assert!((global_norm(&grads) - 1.0).abs() < tol);

        // Clipping again changes (almost) nothing and reports the clipped norm.
        let norm = clip_grad_norm(&mut grads, 1.0).unwrap();
        assert!((norm - 1.0).abs() < tol, "{norm}");
    }
    let mut empty = Gradients::default();
    assert_eq!(clip_grad_norm(&mut empty, 1.0).unwrap(), 0.0);

    // As PyTorch's: scaled by min(1, c/(‖g‖ + 10⁻⁶)), so a norm just below c is scaled too.
    let pair = Pair::new(DType::F64);
    let mut grads = pair.grads(&[0.6, 0.0], Some(&[0.8 - 4e-7]));
    let norm = clip_grad_norm(&mut grads, 1.0).unwrap();
    let q = values(grads.get(pair.q.leaf()).unwrap())[0];
    assert!(norm < 1.0, "{norm}");
    assert!((q - (0.8 - 4e-7) / (norm + 1e-6)).abs() < 1e-15, "{q}");
}

#[test]
fn sgd_momentum_keeps_moving_a_parameter_without_gradient() {
    // lr 0.1, μ 0.9; m ← g + μm, θ ← θ − lr·m.
    let mut pair = Pair::new(DType::F64);
    let mut sgd = Sgd::new(0.9);
    // Step 1: g_p = [1, 2], g_q = [3].  m_p = [1, 2], p = [0.9, −2.2]; m_q = 3, q = 0.2.
    let grads = pair.grads(&[1.0, 2.0], Some(&[3.0]));
    sgd.step(&mut pair, &grads, 0.1).unwrap();
    // Step 2: q is not in the loss. m_p = [1.9, 3.8], p = [0.71, −2.58]; m_q = 2.7, q = −0.07.
    let grads = pair.grads(&[1.0, 2.0], None);
    assert!(grads.get(pair.q.leaf()).is_none());
    sgd.step(&mut pair, &grads, 0.1).unwrap();
    // Step 3: no gradients at all. m_p = [1.71, 3.42], p = [0.539, −2.922]; m_q = 2.43,
    // q = −0.313.
    sgd.step(&mut pair, &Gradients::default(), 0.1).unwrap();

    let close = |got: Vec<f64>, want: &[f64]| {
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-12, "{got:?} vs {want:?}");
        }
    };
    close(values(pair.p.value()), &[0.539, -2.922]);
    close(values(pair.q.value()), &[-0.313]);
    let (steps, state) = sgd.state();
    assert_eq!(steps, 3);
    let names: Vec<&str> = state.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["momentum.p", "momentum.q"]);
    close(values(&state[0].1), &[1.71, 3.42]);
    close(values(&state[1].1), &[2.43]);
}

/// SGD with L2 weight decay and Nesterov momentum against `torch.optim.SGD(lr=0.05,
/// momentum=0.9, weight_decay=0.01, nesterov=True)` on `L = Σ aᵢwᵢ²/2 + bᵢwᵢ` for five steps
/// (torch 2.15.0, float64; the weights after each step, printed by the script in the comment).
#[test]
fn sgd_with_weight_decay_and_nesterov_follows_pytorch() {
    // w = torch.tensor([1.0, -2.0, 0.5]); a = [1, 3, 0.5]; b = [0.2, -0.1, 0.4]
    let torch = [
        [0.88505, -1.4186, 0.43777499999999997],
        [0.7321244525, -0.7555913300000001, 0.35203730125],
        [0.554469641032625, -0.12997155618650003, 0.24786410137943748],
        [
            0.36465400502103207,
            0.37290676108867965,
            0.13017846184778495,
        ],
        [0.17403202601376322, 0.706259911017572, 0.003642720919430563],
    ];
    for device in tensor::test_devices() {
        let constant = |v: &[f64]| {
            Var::constant(
                Tensor::from_f64s(v, &[3], DType::F64)
                    .unwrap()
                    .to_device(&device)
                    .unwrap(),
            )
        };
        let (a, b) = (constant(&[1.0, 3.0, 0.5]), constant(&[0.2, -0.1, 0.4]));
        let mut w = Parameter::new(
            Tensor::from_f64s(&[1.0, -2.0, 0.5], &[3], DType::F64)
                .unwrap()
                .to_device(&device)
                .unwrap(),
        );
        let mut sgd = Sgd::new(0.9).weight_decay(0.01).nesterov(true);
        for (step, want) in torch.iter().enumerate() {
            let v = w.var();
            let loss = (a.mul(&v.mul(&v).unwrap()).unwrap().mul_scalar(0.5).unwrap())
                .add(&b.mul(&v).unwrap())
                .unwrap()
                .sum_all()
                .unwrap();
            let grads = loss.backward().unwrap();
            sgd.step(&mut w, &grads, 0.05).unwrap();
            let got = w.value().to_vec_f64().unwrap();
            for (g, t) in got.iter().zip(want) {
                assert!(
                    (g - t).abs() < 1e-14,
                    "{device:?} step {step}: {got:?} vs {want:?}"
                );
            }
        }
    }
    // Nesterov needs a momentum, and the decay a finite λ ≥ 0.
    let mut w = Parameter::new(Tensor::ones(&[1], DType::F64));
    let grads = w.var().sum_all().unwrap().backward().unwrap();
    for (mut sgd, needle) in [
        (
            Sgd::new(0.0).nesterov(true),
            "Nesterov momentum needs a momentum",
        ),
        (Sgd::new(0.9).weight_decay(-0.1), "weight_decay = -0.1"),
        (Sgd::new(0.9).weight_decay(f64::NAN), "weight_decay = NaN"),
    ] {
        let err = sgd.step(&mut w, &grads, 0.1).unwrap_err().to_string();
        assert!(err.contains(needle), "{err}");
    }
    assert_eq!(
        w.value().to_scalar().unwrap(),
        1.0,
        "a refused step changes nothing"
    );
}

#[test]
fn frozen_parameters_get_no_gradient_and_are_never_updated() {
    let mut mlp = Mlp::new(4, 6, Gelu::Tanh, 0.0, DType::F32, &mut tensor::rng(0));
    let x = Var::constant(Tensor::randn(
        &[3, 4],
        0.0,
        1.0,
        DType::F32,
        &mut tensor::rng(1),
    ));
    let loss = |mlp: &Mlp| {
        mlp.forward(&x, &mut Context::eval())
            .unwrap()
            .square()
            .unwrap()
            .sum_all()
            .unwrap()
    };
    let snapshot = |mlp: &Mlp| -> Vec<Vec<f64>> {
        mlp.named_parameters()
            .iter()
            .map(|(_, p)| values(p.value()))
            .collect()
    };

    // Build some momentum first, then freeze fc1: its momentum buffer must not move it any more.
    let mut sgd = Sgd::new(0.9);
    let grads = loss(&mlp).backward().unwrap();
    sgd.step(&mut mlp, &grads, 0.1).unwrap();
    assert_eq!(mlp.set_frozen("fc1.", true), 2);

    let grads = loss(&mlp).backward().unwrap();
    assert!(grads.get(mlp.fc1.weight.leaf()).is_none());
    assert!(grads.get(mlp.fc1.bias.leaf()).is_none());
    assert!(grads.get(mlp.fc2.weight.leaf()).is_some());
    let before = snapshot(&mlp);
    sgd.step(&mut mlp, &grads, 0.1).unwrap();
    let after = snapshot(&mlp);
    assert_eq!(after[0], before[0], "fc1.weight moved under SGD");
    assert_eq!(after[1], before[1], "fc1.bias moved under SGD");
    assert_ne!(after[2], before[2]);

    // AdamW with weight decay leaves frozen parameters alone too (no decay, no update).
    let mut adamw = AdamW::new(0.9, 0.999, 1e-8, 0.1);
    let before = snapshot(&mlp);
    let grads = loss(&mlp).backward().unwrap();
    adamw.step(&mut mlp, &grads, 0.01).unwrap();
    let after = snapshot(&mlp);
    assert_eq!(after[0], before[0], "fc1.weight moved under AdamW");
    assert_eq!(after[1], before[1], "fc1.bias moved under AdamW");
    assert_ne!(after[2], before[2]);
    assert_ne!(after[3], before[3]);
    let (_, state) = adamw.state();
    assert!(state.iter().all(|(n, _)| !n.contains("fc1")), "{state:?}");

    // A frozen layer in the middle still passes gradients through to the layers before it.
    let mut mlp = Mlp::new(4, 6, Gelu::Tanh, 0.0, DType::F32, &mut tensor::rng(0));
    mlp.set_frozen("fc2.", true);
    let grads = loss(&mlp).backward().unwrap();
    assert!(grads.get(mlp.fc2.weight.leaf()).is_none());
    assert!(grads.get(mlp.fc1.weight.leaf()).is_some());

    // Unfreezing makes it trainable again.
    mlp.set_frozen("fc2.", false);
    let grads = loss(&mlp).backward().unwrap();
    assert!(grads.get(mlp.fc2.weight.leaf()).is_some());
}

/// What a step cannot use is refused before anything changes: gradients that belong to none of
/// the model's parameters (an earlier step's: each step makes new leaves), hyperparameters out
/// of their ranges, a weight tied by cloning one `Parameter` into two places.
#[test]
fn optimizers_refuse_what_would_silently_train_wrong() {
    let mut pair = Pair::new(DType::F64);
    let optimizers: [(&str, Box<dyn Optimizer>); 2] = [
        ("sgd", Box::new(Sgd::new(0.9))),
        ("adamw", Box::new(AdamW::new(0.9, 0.999, 1e-8, 0.0))),
    ];
    for (name, mut optimizer) in optimizers {
        let stale = pair.grads(&[1.0, 2.0], Some(&[3.0]));
        optimizer.step(&mut pair, &stale, 0.1).unwrap();
        let before = values(pair.p.value());
        let err = optimizer
            .step(&mut pair, &stale, 0.1)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("none of the model's 2 trainable parameters"),
            "{name}: {err}"
        );
        assert_eq!(values(pair.p.value()), before, "{name}: nothing moved");
        for lr in [-0.1, f64::NAN, f64::INFINITY] {
            let grads = pair.grads(&[1.0, 2.0], Some(&[3.0]));
            let err = optimizer
                .step(&mut pair, &grads, lr)
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with(&format!("{name}: the learning rate = {lr} is outside")),
                "{err}"
            );
        }
    }
    let grads = pair.grads(&[1.0, 2.0], Some(&[3.0]));
    let mut sgd = Sgd::new(1.0);
    let err = sgd.step(&mut pair, &grads, 0.1).unwrap_err().to_string();
    assert_eq!(err, "sgd: momentum = 1 is outside 0.0..1.0");
    for (adamw, field) in [
        (AdamW::new(1.0, 0.999, 1e-8, 0.0), "beta1 = 1"),
        (AdamW::new(0.9, f64::NAN, 1e-8, 0.0), "beta2 = NaN"),
        (AdamW::new(0.9, 0.999, -1e-8, 0.0), "eps = -0.00000001"),
        (AdamW::new(0.9, 0.999, 1e-8, -1.0), "weight_decay = -1"),
    ] {
        let err = { adamw }
            .step(&mut pair, &grads, 0.1)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(&format!("adamw: {field} is outside")),
            "{err}"
        );
    }
    let mut tied = Pair::new(DType::F64);
    tied.q = tied.p.clone();
    let grads = tied.p.var().sum_all().unwrap().backward().unwrap();
    let err = Sgd::new(0.0)
        .step(&mut tied, &grads, 0.1)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("p and q are one parameter held under two names"),
        "{err}"
    );
}

/// An optimizer steps one model: stepped on a second (same names, or others), it refuses
/// before changing anything instead of sharing its state between the two and counting two
/// steps per iteration. The same model stays its own through updates and moves, and restored
/// state belongs to the first model stepped.
#[test]
fn an_optimizer_refuses_a_second_model() {
    let rng = &mut tensor::rng(0);
    let x = Var::constant(Tensor::ones(&[1, 2], DType::F64));
    let mut encoder = Linear::new(2, 2, LinearInit::XavierUniform, DType::F64, rng);
    let mut head = Linear::new(2, 2, LinearInit::XavierUniform, DType::F64, rng);
    let mut other_names = Pair::new(DType::F64);
    let grads_of = |encoder: &Linear, head: &Linear| {
        let ctx = &mut Context::eval();
        let y = head
            .forward(&encoder.forward(&x, ctx).unwrap(), ctx)
            .unwrap();
        y.square().unwrap().sum_all().unwrap().backward().unwrap()
    };
    let optimizers: [Box<dyn Fn() -> Box<dyn Optimizer>>; 2] = [
        Box::new(|| Box::new(Sgd::new(0.9))),
        Box::new(|| Box::new(AdamW::new(0.9, 0.999, 1e-8, 0.0))),
    ];
    for make in optimizers {
        let mut optimizer = make();
        for _ in 0..2 {
            let grads = grads_of(&encoder, &head);
            optimizer.step(&mut encoder, &grads, 0.1).unwrap();
        }
        let grads = grads_of(&encoder, &head);
        let before = values(head.weight.value());
        let err = optimizer
            .step(&mut head, &grads, 0.1)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                "the optimizer's state for bias belongs to another parameter of that name"
            ) && err.contains("an optimizer steps one model"),
            "{err}"
        );
        assert_eq!(values(head.weight.value()), before, "nothing moved");
        let grads = other_names.grads(&[1.0, 2.0], Some(&[3.0]));
        let err = optimizer
            .step(&mut other_names, &grads, 0.1)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                "the optimizer holds state for bias, which is no parameter of the model given"
            ),
            "{err}"
        );
        // The model itself still steps, after a move and a new value.
        encoder.to_device(&tensor::Device::Cpu).unwrap();
        encoder.bias.set_value(Tensor::zeros(&[2], DType::F64));
        let grads = grads_of(&encoder, &head);
        optimizer.step(&mut encoder, &grads, 0.1).unwrap();
        // Restored into a new optimizer, the state is the next model's to claim.
        let (steps, state) = optimizer.state();
        let mut restored = make();
        restored.load_state(steps, state).unwrap();
        let grads = grads_of(&encoder, &head);
        restored.step(&mut head, &grads, 0.1).unwrap();
    }
}

/// Labels that do not fit the logits are named as such, not as a target the user never made.
#[test]
fn labels_that_do_not_fit_the_logits_are_named() {
    let logits = Var::parameter(Tensor::zeros(&[2, 3], DType::F64));
    let err = nn::loss::cross_entropy_with_labels(&logits, &[0, 1, 2], 0.0)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "cross_entropy_with_labels: 3 labels for logits [2, 3]: one label per row"
    );
    let scalar = Var::parameter(Tensor::scalar(0.0, DType::F64));
    let err = nn::loss::cross_entropy_with_labels(&scalar, &[0], 0.0)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "cross_entropy_with_labels: logits [] must be [batch, classes]"
    );
}

/// `set_frozen` matches whole name components: `blocks.1` is not `blocks.10`.
#[test]
fn set_frozen_matches_whole_names() {
    let rng = &mut tensor::rng(0);
    let mut blocks: Vec<Linear> = (0..12)
        .map(|_| Linear::new(2, 2, LinearInit::Zeros, DType::F32, rng))
        .collect();
    assert_eq!(blocks.set_frozen("1", true), 2);
    assert_eq!(blocks.set_frozen("1.", false), 2);
    assert_eq!(blocks.set_frozen("1.weight", true), 1);
    assert_eq!(blocks.set_frozen("", true), 24);
}

/// A negative or NaN bound is refused: a negative one would flip every gradient, so training
/// would climb the loss.
#[test]
fn clip_grad_norm_refuses_a_bound_below_zero() {
    let pair = Pair::new(DType::F64);
    for bound in [-1.0, f64::NAN] {
        let mut grads = pair.grads(&[1.0, 2.0], Some(&[3.0]));
        let err = clip_grad_norm(&mut grads, bound).unwrap_err().to_string();
        assert!(err.starts_with("clip_grad_norm: max_norm = "), "{err}");
    }
}

/// Drop rates that are not probabilities are refused by the layers that use them and by the
/// encoder that is configured with them.
#[test]
fn drop_rates_must_be_probabilities() {
    let x = Var::constant(Tensor::ones(&[4, 3], DType::F32));
    for rate in [-0.5, 1.5, f64::NAN] {
        let err = Dropout { rate }
            .forward(&x, &mut Context::train(0))
            .unwrap_err();
        assert!(err.to_string().starts_with("dropout: rate = "), "{err}");
        let err = drop_path(&x, rate, &mut Context::train(0)).unwrap_err();
        assert!(err.to_string().contains("is outside 0.0..=1.0"), "{err}");
    }
    let config = EncoderConfig {
        width: 8,
        depth: 2,
        heads: 2,
        mlp_width: 16,
        gelu: Gelu::Tanh,
        dropout: 0.0,
        attention_dropout: 0.0,
        stochastic_depth: -0.1,
        layer_norm_eps: LayerNorm::DEFAULT_EPS,
    };
    let err = Encoder::new(&config, DType::F32, &mut tensor::rng(0))
        .err()
        .unwrap();
    assert!(
        err.to_string()
            .starts_with("encoder: stochastic_depth: rate = -0.1"),
        "{err}"
    );
    let config = EncoderConfig {
        stochastic_depth: 0.1,
        dropout: 2.0,
        ..config
    };
    assert!(Encoder::new(&config, DType::F32, &mut tensor::rng(0)).is_err());
}

/// An input that does not fit a layer is named in the layer's words: attention of the wrong
/// width, an input on another device than the weights.
#[test]
fn layer_inputs_that_do_not_fit_are_named_by_the_layer() {
    let rng = &mut tensor::rng(0);
    let attn = MultiHeadSelfAttention::new(8, 2, 0.0, DType::F32, rng).unwrap();
    let x = Var::constant(Tensor::zeros(&[1, 5, 6], DType::F32));
    let err = attn
        .forward(&x, &mut Context::eval())
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "attention: input [1, 5, 6] has width 6, the layer expects 8"
    );
    for device in tensor::test_devices().into_iter().skip(1) {
        let x = Var::constant(Tensor::zeros_on(&[1, 5, 8], DType::F32, &device).unwrap());
        let err = attn
            .forward(&x, &mut Context::eval())
            .unwrap_err()
            .to_string();
        let want = format!("attention: the input is on {device} and the layer's weights on cpu");
        assert_eq!(err, want);
        let linear = Linear::new(8, 2, LinearInit::Zeros, DType::F32, rng);
        let err = linear
            .forward(&x, &mut Context::eval())
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("linear: the input is on "), "{err}");
        let norm = LayerNorm::new(8, LayerNorm::DEFAULT_EPS, DType::F32);
        let err = norm
            .forward(&x, &mut Context::eval())
            .unwrap_err()
            .to_string();
        let want = format!("layer_norm: the input is on {device} and the layer's weights on cpu");
        assert_eq!(err, want);
    }
    // A dtype mismatch says which side is which, as the device mismatch does.
    let x64 = Var::constant(Tensor::zeros(&[1, 5, 8], DType::F64));
    let linear = Linear::new(8, 2, LinearInit::Zeros, DType::F32, rng);
    let norm = LayerNorm::new(8, LayerNorm::DEFAULT_EPS, DType::F32);
    for (err, op) in [
        (attn.forward(&x64, &mut Context::eval()), "attention"),
        (linear.forward(&x64, &mut Context::eval()), "linear"),
        (norm.forward(&x64, &mut Context::eval()), "layer_norm"),
    ] {
        let want = format!("{op}: the input is f64 and the layer's weights f32");
        assert_eq!(err.unwrap_err().to_string(), want);
    }
}

/// Non-finite gradients end as in PyTorch's `clip_grad_norm_`: an infinite norm zeroes the
/// finite gradients (NaN at the infinite one), a NaN norm makes them all NaN.
#[test]
fn clip_grad_norm_of_non_finite_gradients_is_pytorchs() {
    let pair = Pair::new(DType::F64);
    let mut grads = pair.grads(&[1.0, f64::INFINITY], Some(&[3.0]));
    assert_eq!(clip_grad_norm(&mut grads, 1.0).unwrap(), f64::INFINITY);
    let p = values(grads.get(pair.p.leaf()).unwrap());
    assert!(p[0] == 0.0 && p[1].is_nan(), "{p:?}");
    assert_eq!(values(grads.get(pair.q.leaf()).unwrap()), [0.0]);
    let mut grads = pair.grads(&[1.0, f64::NAN], Some(&[3.0]));
    assert!(clip_grad_norm(&mut grads, 1.0).unwrap().is_nan());
    assert!(grads.tensors().flat_map(values).all(f64::is_nan));
}

/// f32 ids cannot name every row of a table longer than 2²⁴ (2²⁴ + 1 would arrive as 2²⁴), so
/// such a table refuses them; f64 ids reach its last row.
#[test]
fn a_table_past_f32s_whole_numbers_needs_f64_ids() {
    let count = (1 << 24) + 1;
    let table = Embedding {
        weight: Parameter::new(Tensor::zeros(&[count, 0], DType::F32)),
    };
    let last = (count - 1) as f64;
    let err = table
        .lookup(&Tensor::from_f64s(&[last], &[1], DType::F32).unwrap())
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        "embedding: a table of 16777217 rows needs f64 ids: f32 ids are exact only up to 16777216"
    );
    let ids = Tensor::from_f64s(&[last], &[1], DType::F64).unwrap();
    assert_eq!(table.lookup(&ids).unwrap().shape(), [1, 0]);
}

/// `layer_norm_eps` reaches every LayerNorm of the encoder (a model trained with PyTorch's 1e-5
/// gives its numbers only so), and one that is not finite and ≥ 0 is refused when building.
#[test]
fn the_encoders_layer_norm_eps_reaches_every_norm() {
    let pytorchs = EncoderConfig {
        layer_norm_eps: 1e-5,
        ..config(8, 2, 2, 16)
    };
    let encoder = Encoder::new(&pytorchs, DType::F32, &mut tensor::rng(0)).unwrap();
    let mut eps: Vec<f64> = encoder
        .blocks
        .iter()
        .flat_map(|b| [b.norm1.eps, b.norm2.eps])
        .collect();
    eps.push(encoder.norm.eps);
    assert_eq!(eps, [1e-5; 5]);
    for bad in [-1e-6, f64::NAN] {
        let bad_config = EncoderConfig {
            layer_norm_eps: bad,
            ..config(8, 0, 2, 16)
        };
        let err = Encoder::new(&bad_config, DType::F32, &mut tensor::rng(0)).err();
        let want = format!("encoder: layer_norm_eps = {bad} is outside 0.0..inf");
        assert_eq!(err.unwrap().to_string(), want);
    }
}
