//! The model's shapes, parameter accounting, gradients per task and initialization.

use autograd::Var;
use nn::{Context, Module, Parameters};
use polyvit::data::Modality;
use polyvit::model::{
    paper_tasks, parameter_table, planned_parameter_count, single_task_parameter_count,
    ModelConfig, PolyVit, TaskSpec, TokenizerSpec,
};
use tensor::{DType, Tensor};

fn spec(modality: Modality, input_shape: &[usize], patch: &[usize]) -> TokenizerSpec {
    TokenizerSpec::new(modality, input_shape, patch)
}

fn task(name: &str, modality: Modality, classes: usize) -> TaskSpec {
    TaskSpec::new(name, modality, classes)
}

#[test]
fn token_counts_follow_the_paper() {
    assert_eq!(
        spec(Modality::Image, &[3, 384, 384], &[16, 16]).tokens(),
        576
    );
    assert_eq!(
        spec(Modality::Video, &[32, 3, 224, 224], &[4, 16, 16]).tokens(),
        1568
    );
    assert_eq!(
        spec(Modality::Audio, &[1, 800, 128], &[16, 16]).tokens(),
        400
    );
    assert!(spec(Modality::Image, &[3, 30, 30], &[16, 16])
        .validate()
        .is_err());
}

/// The paper's nine tasks on ViT-B/16 shapes.
fn paper_model(adapt_depth: usize) -> PolyVit {
    let mut config = ModelConfig::preset("b16").unwrap();
    config.adapt_depth = adapt_depth;
    let (tokenizers, tasks) = paper_tasks();
    PolyVit::new(
        &config,
        &tokenizers,
        &tasks,
        DType::F32,
        &mut tensor::rng(0),
    )
    .unwrap()
}

#[test]
fn paper_parameter_counts() {
    let model = paper_model(0);
    // One ViT-B block: qkv 3d²+3d, proj d²+d, MLP 2·d·3072 + 3072 + d, two LayerNorms 4d.
    let d = 768;
    let block = 4 * d * d + 4 * d + 2 * d * 3072 + 3072 + d + 4 * d;
    let encoder = 12 * block + 2 * d;
    let rows = parameter_table(&model);
    assert_eq!(
        rows.iter()
            .find(|r| r.part == "shared encoder")
            .unwrap()
            .count,
        encoder
    );
    assert_eq!(
        rows.iter()
            .find(|r| r.part == "tokenizers.image")
            .unwrap()
            .count,
        3 * 256 * d + d + d + 577 * d
    );
    let polyvit = model.parameter_count();
    assert_eq!(polyvit, rows.iter().map(|r| r.count).sum::<usize>());
    let singles: usize = model
        .heads
        .iter()
        .map(|(t, _)| single_task_parameter_count(&model, &t.name).unwrap())
        .sum();
    let ratio = singles as f64 / polyvit as f64;
    assert!(
        (8.3..8.6).contains(&ratio),
        "nine ViT-B/16s over one PolyViT: {ratio:.3} (paper: 8.3, reference shapes ≈ 8.4)"
    );
    // L_adapt = 6: each of the three modalities has its own first six blocks, and six are shared,
    // so 24 blocks instead of 12 (the paper's 177.7 M).
    assert_eq!(
        paper_model(6).parameter_count(),
        polyvit + (3 - 1) * 6 * block
    );
}

/// The count made without building a model is the built model's, for the paper's shapes with
/// and without adapter blocks and for the tiny one's three modalities.
#[test]
fn parameters_are_counted_before_the_model_is_built() {
    let (tokenizers, tasks) = paper_tasks();
    for adapt_depth in [0, 6, 12] {
        let mut config = ModelConfig::preset("b16").unwrap();
        config.adapt_depth = adapt_depth;
        assert_eq!(
            planned_parameter_count(&config, &tokenizers, &tasks),
            paper_model(adapt_depth).parameter_count() as u128,
            "L_adapt = {adapt_depth}"
        );
    }
    let tiny = tiny_model();
    let tokenizers: Vec<TokenizerSpec> = tiny
        .tokenizers
        .iter()
        .map(|(_, t)| t.spec.clone())
        .collect();
    let tasks: Vec<TaskSpec> = tiny.heads.iter().map(|(t, _)| t.clone()).collect();
    assert_eq!(
        planned_parameter_count(&tiny.config, &tokenizers, &tasks),
        tiny.parameter_count() as u128
    );
    // A width no machine holds is counted, not overflowed.
    let mut huge = ModelConfig::preset("tiny").unwrap();
    huge.width = usize::MAX;
    huge.mlp_width = usize::MAX;
    assert_eq!(
        planned_parameter_count(&huge, &tokenizers, &tasks),
        u128::MAX
    );
    huge.width = 1 << 20;
    assert!(planned_parameter_count(&huge, &tokenizers, &tasks) > 4 << 40);
}

fn tiny_model() -> PolyVit {
    let config = ModelConfig::preset("tiny").unwrap();
    let tokenizers = [
        spec(Modality::Image, &[1, 8, 8], &[4, 4]),
        spec(Modality::Video, &[4, 1, 8, 8], &[2, 4, 4]),
        spec(Modality::Audio, &[1, 8, 4], &[4, 4]),
    ];
    let tasks = [
        task("a", Modality::Image, 3),
        task("b", Modality::Image, 5),
        task("v", Modality::Video, 2),
        task("s", Modality::Audio, 4),
    ];
    PolyVit::new(
        &config,
        &tokenizers,
        &tasks,
        DType::F32,
        &mut tensor::rng(1),
    )
    .unwrap()
}

#[test]
fn a_task_step_leaves_other_heads_and_tokenizers_without_gradient() {
    let model = tiny_model();
    let images = Var::constant(Tensor::randn(
        &[2, 1, 8, 8],
        0.0,
        1.0,
        DType::F32,
        &mut tensor::rng(2),
    ));
    let logits = model
        .forward("a", &images, 0.0, &mut Context::eval())
        .unwrap();
    assert_eq!(logits.shape(), &[2, 3]);
    let grads = logits
        .square()
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    for (name, p) in model.named_parameters() {
        let has_grad = grads.get(p.leaf()).is_some();
        let should = !(name.starts_with("heads.b")
            || name.starts_with("heads.v")
            || name.starts_with("heads.s")
            || name.starts_with("tokenizers.video")
            || name.starts_with("tokenizers.audio"));
        assert_eq!(has_grad, should, "{name}");
    }
}

#[test]
fn every_modality_produces_logits_and_bad_inputs_are_explained() {
    let model = tiny_model();
    let mut ctx = Context::eval();
    let video = Var::constant(Tensor::zeros(&[3, 4, 1, 8, 8], DType::F32));
    assert_eq!(
        model.forward("v", &video, 0.0, &mut ctx).unwrap().shape(),
        &[3, 2]
    );
    let audio = Var::constant(Tensor::zeros(&[1, 1, 8, 4], DType::F32));
    assert_eq!(
        model.forward("s", &audio, 0.0, &mut ctx).unwrap().shape(),
        &[1, 4]
    );
    let err = model
        .forward("v", &audio, 0.0, &mut ctx)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("[1, 1, 8, 4]") && err.contains("[4, 1, 8, 8]"),
        "{err}"
    );
    let err = model
        .forward("nope", &audio, 0.0, &mut ctx)
        .unwrap_err()
        .to_string();
    assert!(err.contains("nope"), "{err}");
}

#[test]
fn video_tokenizer_starts_as_the_image_tokenizer_on_the_central_frame() {
    let model = tiny_model();
    let find = |m: Modality| &model.tokenizers.iter().find(|(mm, _)| *mm == m).unwrap().1;
    let (image, video) = (find(Modality::Image), find(Modality::Video));
    let mut rng = tensor::rng(5);
    let frame = Tensor::randn(&[1, 1, 8, 8], 0.0, 1.0, DType::F32, &mut rng);
    let noise = Tensor::randn(&[1, 1, 8, 8], 0.0, 1.0, DType::F32, &mut rng);
    // Tubelets of 2 frames: the central frame (index 1) is what the image kernel sees.
    let clip = Tensor::concat(
        &[noise.clone(), frame.clone(), noise.clone(), frame.clone()],
        0,
    )
    .unwrap()
    .reshape(&[1, 4, 1, 8, 8])
    .unwrap();
    let mut ctx = Context::eval();
    let from_video = video
        .patch_embed
        .forward(
            &Var::constant(clip.permute(&[0, 2, 1, 3, 4]).unwrap()),
            &mut ctx,
        )
        .unwrap();
    let from_image = image
        .patch_embed
        .forward(&Var::constant(frame), &mut ctx)
        .unwrap();
    let first_tubelets = from_video.value().narrow(1, 0, 4).unwrap();
    let diff = first_tubelets
        .sub(from_image.value())
        .unwrap()
        .abs()
        .unwrap()
        .max(&[0, 1, 2], false)
        .unwrap()
        .to_scalar()
        .unwrap();
    assert!(
        diff < 1e-5,
        "the first time slice of tubelets equals the image patches ({diff})"
    );
}

/// Dropout (the model's `dropout` rate) acts on the tokens entering the first block, as the
/// reference's: with every block's weights at zero (each block the identity) the logits depend
/// on the CLS token alone, the same for every example in evaluation, but dropped differently for
/// each example in training.
#[test]
fn dropout_acts_on_the_tokens_entering_the_blocks() {
    let mut config = ModelConfig::preset("tiny").unwrap();
    config.dropout = 0.5;
    let tokenizers = [spec(Modality::Image, &[1, 8, 8], &[4, 4])];
    let tasks = [task("a", Modality::Image, 3)];
    let mut model = PolyVit::new(
        &config,
        &tokenizers,
        &tasks,
        DType::F32,
        &mut tensor::rng(1),
    )
    .unwrap();
    model.visit_mut("", &mut |name, p| {
        if name.starts_with("encoder.blocks") {
            p.set_value(p.value().zeros_like().unwrap());
        }
    });
    let images = Var::constant(Tensor::randn(
        &[8, 1, 8, 8],
        0.0,
        1.0,
        DType::F32,
        &mut tensor::rng(2),
    ));
    let rows = |ctx: &mut Context| -> Vec<Vec<f64>> {
        let logits = model.forward("a", &images, 0.0, ctx).unwrap();
        let values = logits.value().to_vec_f64().unwrap();
        values.chunks(3).map(<[f64]>::to_vec).collect()
    };
    let eval = rows(&mut Context::eval());
    assert!(eval.iter().all(|r| r == &eval[0]), "{eval:?}");
    let train = rows(&mut Context::train(3));
    assert!(train.iter().any(|r| r != &train[0]), "{train:?}");
}
