//! `--init-from`: a PolyViT started from a tiny ViT saved by PyTorch in the timm and the Hugging
//! Face layouts (`tests/fixtures/vit_init/`, made by `make_vit_init_fixtures.py` there) computes
//! the logits PyTorch computes for the same surgery: the unmodified image shape, a resized
//! position embedding, video from the central frame and audio from the channel-summed kernel.

use autograd::Var;
use nn::layers::Gelu;
use nn::{Context, Parameters};
use polyvit::data::Modality;
use polyvit::model::{
    init_from_file, init_from_vit, InitReport, ModelConfig, PolyVit, TaskSpec, TokenizerSpec,
    VitLayout, VitWeights,
};
use std::collections::BTreeMap;
use std::path::PathBuf;
use tensor::{DType, Tensor};

/// `max|ours − torch| ≤ TOL · max(1, max|torch|)`.
const TOL: f64 = 1e-5;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/vit_init")
        .join(name)
}

fn read(name: &str) -> BTreeMap<String, Tensor> {
    nn::safetensors_file::read(&fixture(name)).unwrap().tensors
}

/// The fixture ViT's shape: width 16, 2 blocks, 2 heads, MLP 32 (the `tiny` preset).
fn config(adapt_depth: usize) -> ModelConfig {
    ModelConfig {
        adapt_depth,
        ..ModelConfig::preset("tiny").unwrap()
    }
}

/// A model with a 10-class task per tokenizer, named after the modality.
fn model(tokenizers: &[TokenizerSpec], adapt_depth: usize) -> PolyVit {
    model_of(&config(adapt_depth), tokenizers)
}

/// A model of `config`'s shape with a 10-class task per tokenizer, named after the modality.
fn model_of(config: &ModelConfig, tokenizers: &[TokenizerSpec]) -> PolyVit {
    let tasks: Vec<TaskSpec> = tokenizers
        .iter()
        .map(|t| TaskSpec::new(&format!("{:?}", t.modality), t.modality, 10))
        .collect();
    PolyVit::new(config, tokenizers, &tasks, DType::F32, &mut tensor::rng(5)).unwrap()
}

/// Image 8×8 (the checkpoint's own grid), video 4×8×8 in 2×4×4 tubelets, audio 16×8.
fn native_tokenizers() -> Vec<TokenizerSpec> {
    vec![
        TokenizerSpec::new(Modality::Image, &[3, 8, 8], &[4, 4]),
        TokenizerSpec::new(Modality::Video, &[4, 3, 8, 8], &[2, 4, 4]),
        TokenizerSpec::new(Modality::Audio, &[1, 16, 8], &[4, 4]),
    ]
}

/// The largest difference between `model`'s logits for `task` on the input of `case` and the
/// fixture's `logits` entry, and the largest logit (at least 1), the error's scale.
fn logits_error(model: &PolyVit, task: &str, case: &str, logits: &str) -> (f64, f64) {
    let expected = read("expected.safetensors");
    let input = Var::constant(expected[&format!("{case}.input")].clone());
    let ours = model
        .forward(task, &input, 0.0, &mut Context::eval())
        .unwrap()
        .value()
        .to_vec_f64()
        .unwrap();
    let torch = expected[logits].to_vec_f64().unwrap();
    assert_eq!(ours.len(), torch.len(), "{case}: {logits}");
    let scale = torch.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    let error = ours
        .iter()
        .zip(&torch)
        .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
    (error, scale)
}

/// Gives every head the checkpoint's own head, so the logits are comparable with PyTorch's.
fn use_checkpoint_head(model: &mut PolyVit) {
    let timm = read("vit_timm.safetensors");
    for (_, head) in &mut model.heads {
        head.weight.set_value(timm["head.weight"].clone());
        head.bias.set_value(timm["head.bias"].clone());
    }
}

fn assert_logits(model: &PolyVit, task: &str, case: &str, what: &str) {
    let (error, scale) = logits_error(model, task, case, &format!("{case}.logits"));
    assert!(
        error <= TOL * scale,
        "{what}: {case} logits differ from PyTorch's by {error} (scale {scale})"
    );
}

fn initialized(
    file: &str,
    tokenizers: &[TokenizerSpec],
    adapt_depth: usize,
) -> (PolyVit, InitReport) {
    let mut model = model(tokenizers, adapt_depth);
    let report = init_from_file(&mut model, &fixture(file)).unwrap();
    use_checkpoint_head(&mut model);
    (model, report)
}

#[test]
fn both_layouts_give_pytorchs_logits_for_every_modality() {
    for (file, layout) in [
        ("vit_timm.safetensors", VitLayout::Timm),
        ("vit_hf.safetensors", VitLayout::HuggingFace),
    ] {
        let (model, report) = initialized(file, &native_tokenizers(), 0);
        assert_eq!(report.layout, layout);
        assert_logits(&model, "Image", "image", file);
        assert_logits(&model, "Video", "video", file);
        assert_logits(&model, "Audio", "audio", file);
    }
}

/// timm's ViTs compute the exact GELU: with `gelu = Erf` the model gives the original network's
/// logits, which the default tanh form misses by 4e-4 (and the report says so).
#[test]
fn with_the_exact_gelu_the_model_gives_the_timm_networks_own_logits() {
    for gelu in Gelu::ALL {
        let config = ModelConfig { gelu, ..config(0) };
        let mut model = model_of(&config, &native_tokenizers());
        let report = init_from_file(&mut model, &fixture("vit_timm.safetensors")).unwrap();
        use_checkpoint_head(&mut model);
        let (error, scale) = logits_error(&model, "Image", "image", "image.logits_erf");
        let note = "the model's MLPs use the tanh GELU";
        if gelu == Gelu::Erf {
            assert!(error <= TOL * scale, "erf: {error} (scale {scale})");
            assert!(!report.summary().contains(note), "{}", report.summary());
        } else {
            assert!(error > 10.0 * TOL * scale, "tanh: only {error} off");
            assert!(report.summary().contains(note), "{}", report.summary());
        }
    }
}

#[test]
fn a_resized_position_embedding_gives_pytorchs_logits() {
    let tokenizers = [TokenizerSpec::new(Modality::Image, &[3, 16, 16], &[4, 4])];
    for file in ["vit_timm.safetensors", "vit_hf.safetensors"] {
        let (model, report) = initialized(file, &tokenizers, 0);
        assert_logits(&model, "Image", "image16", file);
        let (_, how) = report
            .adapted
            .iter()
            .find(|(name, _)| name == "tokenizers.image.pos_embed")
            .expect("the position embedding is reported as adapted");
        assert!(how.contains("2×2 resized to 4×4"), "{how}");
    }
}

#[test]
fn modality_specific_blocks_start_from_the_first_blocks() {
    // L_adapt = 1: each modality's adapter is block 0, the shared encoder block 1, so the
    // network and its logits are the same as with L_adapt = 0.
    let (model, report) = initialized("vit_timm.safetensors", &native_tokenizers(), 1);
    assert_logits(&model, "Image", "image", "L_adapt = 1");
    assert_logits(&model, "Audio", "audio", "L_adapt = 1");
    let loaded: BTreeMap<&str, &str> = report
        .loaded
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    assert_eq!(
        loaded["adapters.video.0.attn.qkv.weight"],
        "blocks.0.attn.qkv.weight"
    );
    assert_eq!(
        loaded["encoder.blocks.0.mlp.fc2.bias"],
        "blocks.1.mlp.fc2.bias"
    );
}

#[test]
fn the_report_names_what_was_loaded_adapted_fresh_and_ignored() {
    let mut model = model(&native_tokenizers(), 0);
    let report = init_from_file(&mut model, &fixture("vit_timm.safetensors")).unwrap();
    let count = model.named_parameters().len();
    assert_eq!(
        report.loaded.len() + report.adapted.len() + report.fresh.len(),
        count
    );
    let mut fresh = report.fresh.clone();
    fresh.sort();
    assert_eq!(
        fresh,
        [
            "heads.Audio.bias",
            "heads.Audio.weight",
            "heads.Image.bias",
            "heads.Image.weight",
            "heads.Video.bias",
            "heads.Video.weight"
        ]
    );
    assert_eq!(report.ignored, ["head.bias", "head.weight"]);
    let adapted: BTreeMap<&str, &str> = report
        .adapted
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    assert!(adapted["tokenizers.video.patch_embed.weight"].contains("central frame"));
    assert!(adapted["tokenizers.audio.patch_embed.weight"].contains("summed over"));
    assert!(adapted["tokenizers.video.pos_embed"].contains("repeated over 2 time steps"));
    assert!(adapted["tokenizers.audio.pos_embed"].contains("2×2 resized to 4×2"));
    assert!(adapted["tokenizers.image.patch_embed.weight"].contains("conv kernel [16, 3, 4, 4]"));
    // The image's own grid needs no resizing: its position embedding is a plain copy.
    assert!(report
        .loaded
        .iter()
        .any(|(ours, source)| ours == "tokenizers.image.pos_embed" && source == "pos_embed"));
    // Sources are named as the file names them.
    assert!(report.loaded.iter().any(|(ours, source)| {
        ours == "tokenizers.image.patch_embed.bias" && source == "patch_embed.proj.bias"
    }));
    let text = report.to_string();
    assert!(text.starts_with("timm layout: "), "{text}");
    assert!(text.contains("fresh    heads.Image.weight"), "{text}");
}

/// The fixture's tensors written to `name` in the temporary folder, each value as `dtype`
/// ("F64", or "BF16": its top 16 bits), in a safetensors file laid out by hand.
fn fixture_stored_as(dtype: &str, name: &str) -> PathBuf {
    let mut header = serde_json::Map::new();
    let mut data = Vec::new();
    for (tensor, t) in read("vit_timm.safetensors") {
        let start = data.len();
        for v in t.to_vec::<f32>().unwrap() {
            match dtype {
                "F64" => data.extend(f64::from(v).to_le_bytes()),
                _ => data.extend(((v.to_bits() >> 16) as u16).to_le_bytes()),
            }
        }
        let entry = serde_json::json!({
            "dtype": dtype, "shape": t.shape(), "data_offsets": [start, data.len()]
        });
        header.insert(tensor, entry);
    }
    let header = serde_json::Value::Object(header).to_string();
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend(header.as_bytes());
    bytes.extend(data);
    let path = std::env::temp_dir().join(format!("polyvit-{}-{name}", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Values stored in another dtype than f32 are converted, and the report's summary says how: an
/// F64 copy of the fixture gives PyTorch's logits (its values are the f32 ones, exactly).
#[test]
fn the_report_says_what_became_of_f64_and_half_precision_values() {
    let mut plain = model(&native_tokenizers(), 0);
    let report = init_from_file(&mut plain, &fixture("vit_timm.safetensors")).unwrap();
    assert!(report.conversions.is_empty(), "{:?}", report.conversions);
    for (dtype, says) in [
        ("F64", "; F64 values rounded to f32 (to nearest)"),
        ("BF16", "; BF16 values widened to f32 exactly"),
    ] {
        let path = fixture_stored_as(dtype, &format!("vit_{dtype}.safetensors"));
        let mut model = model(&native_tokenizers(), 0);
        let report = init_from_file(&mut model, &path).unwrap();
        std::fs::remove_file(&path).ok();
        assert!(report.summary().ends_with(says), "{}", report.summary());
        if dtype == "F64" {
            use_checkpoint_head(&mut model);
            assert_logits(&model, "Image", "image", "the F64 copy");
        }
    }
}

#[test]
fn the_hugging_face_vit_model_layout_without_prefix_loads_too() {
    // transformers' ViTModel: no `vit.` prefix, a pooler instead of a classifier.
    let mut tensors: BTreeMap<String, Tensor> = read("vit_hf.safetensors")
        .into_iter()
        .filter(|(k, _)| !k.starts_with("classifier."))
        .map(|(k, v)| (k.strip_prefix("vit.").unwrap().to_string(), v))
        .collect();
    tensors.insert(
        "pooler.dense.weight".into(),
        Tensor::zeros(&[16, 16], DType::F32),
    );
    tensors.insert("pooler.dense.bias".into(), Tensor::zeros(&[16], DType::F32));
    let vit = VitWeights::from_tensors(tensors).unwrap();
    let mut model = model(&native_tokenizers(), 0);
    let report = init_from_vit(&mut model, &vit).unwrap();
    assert_eq!(report.ignored, ["pooler.dense.bias", "pooler.dense.weight"]);
    let qkv = report
        .loaded
        .iter()
        .find(|(ours, _)| ours == "encoder.blocks.0.attn.qkv.weight")
        .map(|(_, source)| source.as_str());
    assert_eq!(
        qkv,
        Some(
            "encoder.layer.0.attention.attention.query.weight + \
             encoder.layer.0.attention.attention.key.weight + \
             encoder.layer.0.attention.attention.value.weight"
        )
    );
    use_checkpoint_head(&mut model);
    assert_logits(&model, "Image", "image", "ViTModel layout");
}

/// A change to the tensors of a checkpoint.
type Edit = Box<dyn Fn(&mut BTreeMap<String, Tensor>)>;

/// The error of initializing the native model from the fixture `file` after `edit`.
fn init_error(file: &str, edit: Edit) -> String {
    let mut tensors = read(file);
    edit(&mut tensors);
    let mut model = model(&native_tokenizers(), 0);
    let before: Vec<Vec<f64>> = model
        .named_parameters()
        .iter()
        .map(|(_, p)| p.value().to_vec_f64().unwrap())
        .collect();
    let err = match VitWeights::from_tensors(tensors) {
        Err(e) => e,
        Ok(vit) => init_from_vit(&mut model, &vit).unwrap_err(),
    };
    let after: Vec<Vec<f64>> = model
        .named_parameters()
        .iter()
        .map(|(_, p)| p.value().to_vec_f64().unwrap())
        .collect();
    assert!(
        before == after,
        "a failed initialization changed the model ({err})"
    );
    err
}

#[test]
fn checkpoints_that_do_not_fit_are_explained_and_change_nothing() {
    let cases: Vec<(Edit, &[&str])> = vec![
        (
            Box::new(|t| {
                t.insert("blocks.0.ls1.gamma".into(), Tensor::ones(&[16], DType::F32));
                t.insert("fc_norm.weight".into(), Tensor::ones(&[16], DType::F32));
            }),
            &[
                "blocks.0.ls1.gamma is unexpected",
                "fc_norm.weight is unexpected",
            ],
        ),
        (
            Box::new(|t| {
                t.remove("blocks.1.mlp.fc1.bias");
                t.remove("norm.weight");
            }),
            &["blocks.1.mlp.fc1.bias is missing", "norm.weight is missing"],
        ),
        (
            Box::new(|t| {
                for k in t
                    .keys()
                    .filter(|k| k.starts_with("blocks.1."))
                    .cloned()
                    .collect::<Vec<_>>()
                {
                    t.remove(&k);
                }
            }),
            &["encoder has depth 1, the model's 2 (choose a preset of that depth, or set model.depth)"],
        ),
        (
            Box::new(|t| {
                t.insert("norm.weight".into(), Tensor::zeros(&[32], DType::F32));
            }),
            &["the checkpoint's encoder is 32 wide, the model's 16 (choose a preset of that width, or set model.width)"],
        ),
        (
            Box::new(|t| {
                t.insert(
                    "blocks.0.mlp.fc1.weight".into(),
                    Tensor::zeros(&[48, 16], DType::F32),
                );
            }),
            &[
                "encoder.blocks.0.mlp.fc1.weight has shape [32, 16]",
                "gives [48, 16]",
            ],
        ),
        (
            Box::new(|t| {
                t.insert(
                    "patch_embed.proj.weight".into(),
                    Tensor::zeros(&[16, 3, 2, 2], DType::F32),
                );
            }),
            &["patch [4, 4] does not match the checkpoint's 2×2 patches (set patches.image to a \
               patch of [2, 2] spatially)"],
        ),
        (
            Box::new(|t| {
                t.insert(
                    "patch_embed.proj.weight".into(),
                    Tensor::zeros(&[16, 3, 3, 3], DType::F32),
                );
            }),
            // No patch of the checkpoint's size tiles the 8×8 images: the way out says so.
            &["3×3 patches (and a [3, 3] patch does not tile the run's image inputs of 8×8: \
               leave out the image tasks, or give them inputs it tiles)"],
        ),
        (
            Box::new(|t| {
                t.insert("pos_embed".into(), Tensor::zeros(&[1, 6, 16], DType::F32));
            }),
            &["pos_embed has 6 rows: not a CLS row plus a square grid"],
        ),
        (
            Box::new(|t| {
                let w = t.remove("patch_embed.proj.weight").unwrap();
                t.insert("conv1.weight".into(), w);
            }),
            &["neither the timm layout", "Hugging Face"],
        ),
        (
            Box::new(|t| {
                let w = t.remove("patch_embed.proj.weight").unwrap();
                t.insert("model.tokenizers.image.patch_embed.weight".into(), w);
            }),
            &["a polyvit checkpoint, not a ViT's: --resume continues its run"],
        ),
        (
            Box::new(|t| {
                let mut values = vec![0.5f32; 32 * 16];
                values[7] = f32::NAN;
                values[9] = f32::INFINITY;
                let w = Tensor::from_vec(values, &[32, 16]).unwrap();
                t.insert("blocks.1.mlp.fc1.weight".into(), w);
            }),
            &["blocks.1.mlp.fc1.weight: 2 of its 512 values are NaN or infinite"],
        ),
    ];
    for (edit, needles) in cases {
        let err = init_error("vit_timm.safetensors", edit);
        for needle in needles {
            assert!(err.contains(needle), "{needle:?} in {err}");
        }
    }
}

/// A Hugging Face checkpoint's problems are told in its own names, not in the timm names it is
/// mapped to.
#[test]
fn a_hugging_face_checkpoint_is_explained_in_its_own_names() {
    let zeros = |shape: &[usize]| Tensor::zeros(shape, DType::F32);
    let cases: Vec<(Edit, &[&str])> =
        vec![
        (
            Box::new(|t| {
                t.remove("vit.encoder.layer.1.intermediate.dense.bias");
                t.remove("vit.layernorm.weight");
                t.remove("vit.encoder.layer.0.attention.attention.key.weight");
            }),
            &[
                "vit.encoder.layer.1.intermediate.dense.bias is missing (Hugging Face layout)",
                "vit.layernorm.weight is missing",
                "vit.encoder.layer.0.attention.attention.key.weight is missing",
            ],
        ),
        (
            Box::new(move |t| {
                t.insert(
                    "vit.encoder.layer.0.attention.attention.key.weight".into(),
                    zeros(&[8, 16]),
                );
            }),
            &["vit.encoder.layer.0.attention.attention.query.weight, \
               vit.encoder.layer.0.attention.attention.key.weight and \
               vit.encoder.layer.0.attention.attention.value.weight do not stack into one qkv"],
        ),
        (
            Box::new(move |t| {
                t.insert(
                    "vit.embeddings.position_embeddings".into(),
                    zeros(&[1, 6, 16]),
                );
            }),
            &["vit.embeddings.position_embeddings has 6 rows"],
        ),
        (
            Box::new(move |t| {
                t.insert(
                    "vit.embeddings.position_embeddings".into(),
                    zeros(&[2, 5, 16]),
                );
            }),
            &["vit.embeddings.position_embeddings has shape [2, 5, 16], expected 2 trailing axes"],
        ),
        (
            Box::new(move |t| {
                t.insert(
                    "vit.embeddings.patch_embeddings.projection.weight".into(),
                    zeros(&[16, 48]),
                );
            }),
            &["vit.embeddings.patch_embeddings.projection.weight has shape [16, 48], \
               expected a convolution kernel"],
        ),
    ];
    for (edit, needles) in cases {
        let err = init_error("vit_hf.safetensors", edit);
        for needle in needles {
            assert!(err.contains(needle), "{needle:?} in {err}");
        }
        assert!(
            !err.contains("blocks.") && !err.contains("pos_embed"),
            "{err}"
        );
    }
    let err = init_error(
        "vit_timm.safetensors",
        Box::new(|t| {
            t.remove("patch_embed.proj.bias");
        }),
    );
    assert!(
        err.contains("patch_embed.proj.bias is missing (timm layout)"),
        "{err}"
    );
}

#[test]
fn a_grey_image_tokenizer_sums_the_colour_kernel() {
    let tokenizers = [TokenizerSpec::new(Modality::Image, &[1, 8, 8], &[4, 4])];
    let mut grey = model(&tokenizers, 0);
    let report = init_from_file(&mut grey, &fixture("vit_timm.safetensors")).unwrap();
    assert!(report
        .adapted
        .iter()
        .any(|(n, how)| n == "tokenizers.image.patch_embed.weight"
            && how.contains("summed over the checkpoint's 3 channels")));
    // A grey image repeated over three channels gives the colour model's embedding.
    let kernel = read("vit_timm.safetensors")["patch_embed.proj.weight"]
        .to_vec_f64()
        .unwrap();
    let ours = grey.tokenizers[0]
        .1
        .patch_embed
        .projection
        .weight
        .value()
        .to_vec_f64()
        .unwrap();
    let (o, i) = (5, 7); // output feature 5, kernel position 7 of 16
    let summed: f64 = (0..3).map(|c| kernel[(o * 3 + c) * 16 + i]).sum();
    assert!((ours[o * 16 + i] - summed).abs() < 1e-6);
}
