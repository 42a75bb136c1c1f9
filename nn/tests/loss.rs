//! `cross_entropy` with PyTorch's options against `torch.nn.functional.cross_entropy`.

use autograd::Var;
use nn::loss::{cross_entropy, cross_entropy_with_labels, CrossEntropyOptions};
use tensor::{DType, Tensor};

const LOGITS: [f64; 20] = [
    0.5, -1.0, 2.0, 0.0, 1.5, 0.3, -0.7, 0.2, 0.0, 0.0, 0.0, 3.0, -2.0, 1.0, 0.5, 0.25, 0.1, 0.2,
    0.3, 0.4,
];
const LABELS: [usize; 5] = [2, 0, 3, 1, 3];

/// Class weights [1, 2, 0.5, 3], `ignore_index` 1 (the fourth row), label smoothing 0 and 0.1:
/// loss and gradient from torch 2.15.0 in float64 (`F.cross_entropy(z, y, weight=w,
/// ignore_index=1, label_smoothing=ε)`), on every device.
#[test]
fn weights_ignore_index_and_smoothing_follow_pytorch() {
    let torch: [(f64, f64, [f64; 20]); 2] = [
        (
            0.0,
            0.6450515224896266,
            [
                0.010562980634331982,
                0.002356919560583258,
                -0.01932667180758838,
                0.006406771612673147,
                -0.05418164143180751,
                0.023840031463797498,
                0.008770257452411426,
                0.021571352515598566,
                0.017326865791812297,
                0.017326865791812297,
                0.017326865791812297,
                -0.05198059737543686,
                0.0,
                0.0,
                0.0,
                0.0,
                0.08553528814639377,
                0.09453111292861507,
                0.10447303686203023,
                -0.28453943793703906,
            ],
        ),
        (
            0.1,
            0.7363672165618845,
            [
                0.009606317943723346,
                -0.003779440204952176,
                -0.0036751729642957687,
                -0.0021517047744753948,
                -0.039234660687962136,
                0.01866336676361818,
                0.007651731876520475,
                0.01291956204782348,
                0.013199384443020901,
                0.009866051109687567,
                0.014866051109687568,
                -0.03793148666239601,
                0.0,
                0.0,
                0.0,
                0.0,
                0.07828158743968405,
                0.08353177025272022,
                0.09801802267252051,
                -0.2598313803649248,
            ],
        ),
    ];
    for device in tensor::test_devices() {
        for (smoothing, loss_want, grad_want) in &torch {
            let logits = Var::parameter(
                Tensor::from_f64s(&LOGITS, &[5, 4], DType::F64)
                    .unwrap()
                    .to_device(&device)
                    .unwrap(),
            );
            let options = CrossEntropyOptions {
                smoothing: *smoothing,
                class_weights: Some(vec![1.0, 2.0, 0.5, 3.0]),
                ignore_index: Some(1),
            };
            let loss = cross_entropy(&logits, &LABELS, &options).unwrap();
            let got = loss.value().to_scalar().unwrap();
            assert!(
                (got - loss_want).abs() < 1e-14,
                "{device:?} ε {smoothing}: {got}"
            );
            let grads = loss.backward().unwrap();
            let grad = grads.get(&logits).unwrap().to_vec_f64().unwrap();
            for (g, w) in grad.iter().zip(grad_want) {
                assert!((g - w).abs() < 1e-14, "{device:?} ε {smoothing}: {grad:?}");
            }
        }
    }
}

/// Without weights or an ignored label it is `cross_entropy_with_labels`, to rounding.
#[test]
fn the_default_options_are_plain_cross_entropy() {
    let logits = Var::constant(Tensor::from_f64s(&LOGITS, &[5, 4], DType::F64).unwrap());
    for smoothing in [0.0, 0.2] {
        let options = CrossEntropyOptions {
            smoothing,
            ..CrossEntropyOptions::default()
        };
        let a = cross_entropy(&logits, &LABELS, &options).unwrap();
        let b = cross_entropy_with_labels(&logits, &LABELS, smoothing).unwrap();
        let (a, b) = (
            a.value().to_scalar().unwrap(),
            b.value().to_scalar().unwrap(),
        );
        assert!((a - b).abs() < 1e-14, "{a} vs {b}");
    }
}

#[test]
fn bad_labels_and_weights_are_named() {
    let logits = Var::constant(Tensor::from_f64s(&LOGITS, &[5, 4], DType::F64).unwrap());
    let refused = |labels: &[usize], options: CrossEntropyOptions| {
        cross_entropy(&logits, labels, &options)
            .unwrap_err()
            .to_string()
    };
    let weights = |w: Vec<f64>| CrossEntropyOptions {
        class_weights: Some(w),
        ..CrossEntropyOptions::default()
    };
    let cases = [
        (
            refused(&[2, 0, 4, 1, 3], CrossEntropyOptions::default()),
            "label 4 of row 2 is not one of the 4 classes",
        ),
        (
            refused(&LABELS, weights(vec![1.0; 3])),
            "3 class weights for logits [5, 4]",
        ),
        (
            refused(&LABELS, weights(vec![1.0, -1.0, 1.0, 1.0])),
            "class weight 1 is -1",
        ),
        (
            refused(&LABELS, weights(vec![1.0, f64::NAN, 1.0, 1.0])),
            "class weight 1 is NaN",
        ),
        (
            refused(
                &[1, 1, 1, 1, 1],
                CrossEntropyOptions {
                    ignore_index: Some(1),
                    ..Default::default()
                },
            ),
            "the 5 labels are all ignored or of weight 0",
        ),
        (
            refused(&[2, 0], CrossEntropyOptions::default()),
            "2 labels for logits [5, 4]",
        ),
        (
            refused(
                &LABELS,
                CrossEntropyOptions {
                    smoothing: 1.5,
                    ..Default::default()
                },
            ),
            "label smoothing 1.5 is outside [0, 1]",
        ),
    ];
    for (err, needle) in cases {
        assert!(err.contains(needle), "{err:?} should contain {needle:?}");
    }
}
