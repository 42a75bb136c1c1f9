//! Checkpoints: bit-exact round trips, atomic writes, errors that name the file and the problem,
//! loading that reports every mismatch and changes nothing, and resuming training from a saved
//! optimizer state bit-identically.

use autograd::Var;
use nn::checkpoint::{Checkpoint, CheckpointError, CHECKSUM_KEY, FORMAT_VERSION, VERSION_KEY};
use nn::layers::{Gelu, LayerNorm, Linear, LinearInit, Mlp};
use nn::lr_schedule::WarmupCosine;
use nn::optim::{clip_grad_norm, AdamW, Optimizer, Sgd};
use nn::safetensors_file;
use nn::{impl_parameters, Context, Module, Parameter, Parameters};
use std::path::{Path, PathBuf};
use tensor::{DType, Tensor};

/// A fresh, empty directory for one test.
fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("nn-checkpoint-tests")
        .join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The file names in `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A tensor's dtype, shape and the exact bit patterns of its values.
type Bits = (DType, Vec<usize>, Vec<u64>);

/// The exact bit patterns of a tensor's values (f32 widened without conversion), plus its dtype.
fn bits(t: &Tensor) -> Bits {
    let values = match t.dtype() {
        DType::F32 => t
            .to_vec::<f32>()
            .unwrap()
            .iter()
            .map(|v| v.to_bits() as u64)
            .collect(),
        DType::F64 => t
            .to_vec::<f64>()
            .unwrap()
            .iter()
            .map(|v| v.to_bits())
            .collect(),
    };
    (t.dtype(), t.shape().to_vec(), values)
}

fn parameter_bits(model: &dyn Parameters) -> Vec<(String, Bits)> {
    model
        .named_parameters()
        .into_iter()
        .map(|(name, p)| (name, bits(p.value())))
        .collect()
}

/// A small model mixing `f32` and `f64` parameters, one of them holding awkward values.
struct Tiny {
    embed: Linear,
    norm: LayerNorm,
    special: Parameter,
}

impl_parameters!(Tiny {
    embed,
    norm,
    special
});

impl Tiny {
    fn new(seed: u64) -> Tiny {
        let mut rng = tensor::rng(seed);
        let mut norm = LayerNorm::new(3, LayerNorm::DEFAULT_EPS, DType::F64);
        norm.weight
            .set_value(Tensor::randn(&[3], 1.0, 0.1, DType::F64, &mut rng));
        norm.bias
            .set_value(Tensor::randn(&[3], 0.0, 0.1, DType::F64, &mut rng));
        let special = Tensor::from_vec(
            vec![
                -0.0f32,
                f32::INFINITY,
                f32::NEG_INFINITY,
                f32::MIN_POSITIVE / 8.0, // subnormal
                f32::MAX,
                1.0 + f32::EPSILON,
                f32::from_bits(0x7fc0_1234), // a NaN with a payload
                std::f32::consts::PI + seed as f32,
            ],
            &[2, 4],
        )
        .unwrap();
        Tiny {
            embed: Linear::new(4, 3, LinearInit::LecunNormal, DType::F32, &mut rng),
            norm,
            special: Parameter::new(special),
        }
    }
}

fn expect_corrupt(result: Result<Checkpoint, CheckpointError>, path: &Path, needle: &str) {
    let err = match result {
        Ok(_) => panic!("loading {} should fail with {needle:?}", path.display()),
        Err(e) => e,
    };
    let message = err.to_string();
    assert!(
        matches!(err, CheckpointError::Corrupt { .. }),
        "expected a corrupt-file error, got {message}"
    );
    assert!(
        message.contains(&path.display().to_string()),
        "the message names the file: {message}"
    );
    assert!(
        message.contains(needle),
        "the message says {needle:?}: {message}"
    );
}

/// Saves a small checkpoint and returns its bytes.
fn saved_bytes(dir: &Path) -> (PathBuf, Vec<u8>) {
    let path = dir.join("good.ckpt");
    let mut checkpoint = Checkpoint::default();
    checkpoint.add_parameters("model.", &Tiny::new(1)).unwrap();
    checkpoint.metadata.insert("step".into(), "7".into());
    checkpoint.save(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    (path, bytes)
}

#[test]
fn parameters_and_metadata_round_trip_bit_exactly() {
    let dir = scratch("round_trip");
    let path = dir.join("model.ckpt");
    let model = Tiny::new(1);
    let mut checkpoint = Checkpoint::default();
    checkpoint.add_parameters("model.", &model).unwrap();
    // A non-contiguous view is stored by its logical values.
    let matrix = Tensor::from_vec((0..6).map(|v| v as f64 * 0.1).collect(), &[2, 3]).unwrap();
    checkpoint
        .tensors
        .insert("view".into(), matrix.transpose(0, 1).unwrap());
    checkpoint
        .tensors
        .insert("scalar".into(), Tensor::scalar(-2.5, DType::F64));
    checkpoint
        .tensors
        .insert("empty".into(), Tensor::zeros(&[0, 3], DType::F32));
    checkpoint.metadata.insert("step".into(), "1234".into());
    checkpoint
        .metadata
        .insert("config".into(), "width=8, ünïcode ✓\nsecond line".into());
    checkpoint.save(&path).unwrap();

    let loaded = Checkpoint::load(&path).unwrap();
    assert_eq!(loaded.metadata, checkpoint.metadata);
    let names: Vec<&String> = loaded.tensors.keys().collect();
    let expected: Vec<&String> = checkpoint.tensors.keys().collect();
    assert_eq!(names, expected);
    for (name, t) in &checkpoint.tensors {
        assert_eq!(bits(&loaded.tensors[name]), bits(t), "{name}");
    }
    assert_eq!(
        loaded.tensors["view"].to_vec::<f64>().unwrap(),
        vec![0.0, 0.30000000000000004, 0.1, 0.4, 0.2, 0.5]
    );

    // Loading into a differently initialized model reproduces the original exactly.
    let mut other = Tiny::new(99);
    assert_ne!(parameter_bits(&other), parameter_bits(&model));
    loaded.load_parameters("model.", &mut other).unwrap();
    assert_eq!(parameter_bits(&other), parameter_bits(&model));
    // Loaded parameters are fresh, trainable leaves.
    assert!(other.embed.weight.var().requires_grad());
}

/// A model on any device saves the same file as on the CPU (non-contiguous views included, by
/// their logical values) and loads back onto that device bit for bit.
#[test]
fn a_model_on_every_device_round_trips_bit_exactly() {
    let dir = scratch("every_device");
    let on_cpu = dir.join("reference.ckpt");
    let mut checkpoint = Checkpoint::default();
    checkpoint.add_parameters("model.", &Tiny::new(1)).unwrap();
    checkpoint.save(&on_cpu).unwrap();
    for device in tensor::test_devices() {
        let mut model = Tiny::new(1);
        model.to_device(&device).unwrap();
        let mut checkpoint = Checkpoint::default();
        checkpoint.add_parameters("model.", &model).unwrap();
        let matrix = Tensor::from_vec((0..6).map(|v| v as f64 * 0.1).collect(), &[2, 3]).unwrap();
        let view = matrix.to_device(&device).unwrap().transpose(0, 1).unwrap();
        checkpoint.tensors.insert("view".into(), view);
        let path = dir.join(format!("{device}.ckpt").replace(':', "-"));
        checkpoint.save(&path).unwrap();

        let loaded = Checkpoint::load(&path).unwrap();
        assert_eq!(
            loaded.tensors["view"].to_vec::<f64>().unwrap(),
            matrix.transpose(0, 1).unwrap().to_vec::<f64>().unwrap(),
            "{device}"
        );
        let mut other = Tiny::new(99);
        other.to_device(&device).unwrap();
        loaded.load_parameters("model.", &mut other).unwrap();
        assert_eq!(parameter_bits(&other), parameter_bits(&model), "{device}");
        for (name, p) in other.named_parameters() {
            assert_eq!(p.value().device(), device, "{name} stays on {device}");
        }
        let mut parameters_only = Checkpoint::default();
        parameters_only.add_parameters("model.", &model).unwrap();
        let again = dir.join("again.ckpt");
        parameters_only.save(&again).unwrap();
        let same = std::fs::read(&again).unwrap() == std::fs::read(&on_cpu).unwrap();
        assert!(same, "{device}: the file differs from the CPU model's");
    }
}

#[test]
fn an_empty_checkpoint_round_trips() {
    let dir = scratch("empty");
    let path = dir.join("empty.ckpt");
    Checkpoint::default().save(&path).unwrap();
    let loaded = Checkpoint::load(&path).unwrap();
    assert!(loaded.tensors.is_empty() && loaded.metadata.is_empty());
}

#[test]
fn saving_is_atomic_and_leaves_no_temporary_file() {
    let dir = scratch("atomic");
    let path = dir.join("run.ckpt");
    let mut first = Checkpoint::default();
    first.add_parameters("", &Tiny::new(1)).unwrap();
    first.metadata.insert("step".into(), "1".into());
    first.save(&path).unwrap();
    assert_eq!(listing(&dir), ["run.ckpt"]);

    // A stale temporary file from a crashed save does not get in the way, and is gone afterwards.
    std::fs::write(dir.join("run.ckpt.tmp"), b"half a checkpoint").unwrap();
    let mut second = Checkpoint::default();
    second.add_parameters("", &Tiny::new(2)).unwrap();
    second.metadata.insert("step".into(), "2".into());
    second.save(&path).unwrap();
    assert_eq!(listing(&dir), ["run.ckpt"]);
    let loaded = Checkpoint::load(&path).unwrap();
    assert_eq!(loaded.metadata["step"], "2");
    assert_eq!(
        bits(&loaded.tensors["special"]),
        bits(Tiny::new(2).special.value())
    );

    // When the write fails (here the temporary name is taken by a directory), the error names the
    // file and the checkpoint under the real name is still the complete previous one.
    std::fs::create_dir(dir.join("run.ckpt.tmp")).unwrap();
    let mut third = Checkpoint::default();
    third.metadata.insert("step".into(), "3".into());
    let err = third.save(&path).unwrap_err();
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
    assert_eq!(Checkpoint::load(&path).unwrap().metadata["step"], "2");

    // A write that fails after the temporary file is made (here the rename, the real name being
    // a folder with a file in it) removes that file: a full disk gets its space back.
    std::fs::remove_dir(dir.join("run.ckpt.tmp")).unwrap();
    let taken = dir.join("taken.ckpt");
    std::fs::create_dir_all(taken.join("inside")).unwrap();
    assert!(third.save(&taken).is_err());
    assert!(!dir.join("taken.ckpt.tmp").exists(), "{:?}", listing(&dir));
}

#[test]
fn saving_creates_missing_directories() {
    let dir = scratch("nested");
    let path = dir.join("a").join("b").join("c.ckpt");
    Checkpoint::default().save(&path).unwrap();
    assert!(Checkpoint::load(&path).is_ok());
    assert_eq!(listing(&dir.join("a").join("b")), ["c.ckpt"]);
}

/// A device given as a checkpoint (or a pretrained model) is refused, not read without end.
#[cfg(unix)]
#[test]
fn a_device_is_not_read_as_a_checkpoint() {
    let path = std::path::Path::new("/dev/zero");
    for err in [
        Checkpoint::load(path).expect_err("/dev/zero is no checkpoint"),
        nn::safetensors_file::read(path)
            .err()
            .expect("nor a safetensors file"),
    ] {
        let message = err.to_string();
        assert!(
            message.contains("/dev/zero") && message.contains("a device or a socket"),
            "{message}"
        );
    }
}

#[test]
fn a_missing_file_is_reported_with_its_name() {
    let dir = scratch("missing");
    let path = dir.join("nowhere.ckpt");
    let err = match Checkpoint::load(&path) {
        Ok(_) => panic!("loading a missing file succeeded"),
        Err(e) => e,
    };
    let message = err.to_string();
    match &err {
        CheckpointError::Io { source, .. } => {
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound, "{message}")
        }
        _ => panic!("expected an I/O error, got {message}"),
    }
    assert!(message.contains("nowhere.ckpt"), "{message}");
    assert!(message.contains(&path.display().to_string()), "{message}");
}

/// A folder given for a checkpoint is refused as a folder, before any read; an empty file is
/// said to be empty.
#[test]
fn a_folder_or_an_empty_file_is_named_as_such() {
    let dir = scratch("folder-or-empty");
    let err = Checkpoint::load(&dir).expect_err("a folder is no checkpoint");
    let message = err.to_string();
    assert!(
        message.contains(&dir.display().to_string()) && message.contains("a folder, not a file"),
        "{message}"
    );
    let empty = dir.join("empty.safetensors");
    std::fs::write(&empty, b"").unwrap();
    expect_corrupt(Checkpoint::load(&empty), &empty, "an empty file (0 bytes)");
}

#[test]
fn a_checkpoint_is_a_valid_safetensors_file_with_its_metadata() {
    let dir = scratch("safetensors");
    let (_, bytes) = saved_bytes(&dir);
    // The format's reference reader accepts the file as is and sees the model's tensors under
    // their dotted names, with the values written.
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut names = file.names();
    names.sort();
    assert_eq!(
        names,
        [
            "model.embed.bias",
            "model.embed.weight",
            "model.norm.bias",
            "model.norm.weight",
            "model.special"
        ]
    );
    let weight = file.tensor("model.embed.weight").unwrap();
    assert_eq!(weight.dtype(), safetensors::Dtype::F32);
    assert_eq!(weight.shape(), [3, 4]);
    let values: Vec<f32> = weight
        .data()
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(
        values,
        Tiny::new(1).embed.weight.value().to_vec::<f32>().unwrap()
    );
    assert_eq!(
        file.tensor("model.norm.bias").unwrap().dtype(),
        safetensors::Dtype::F64
    );
    let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let metadata = header.metadata().clone().unwrap();
    assert_eq!(metadata["step"], "7");
    assert_eq!(metadata["format"], "pt");
    assert_eq!(metadata[VERSION_KEY], FORMAT_VERSION.to_string());
    assert!(metadata[CHECKSUM_KEY].starts_with("fnv1a64:"));
    // The reserved entries are the file's business, not the caller's.
    let loaded = Checkpoint::parse(&bytes, Path::new("x")).unwrap();
    assert_eq!(loaded.metadata.keys().collect::<Vec<_>>(), ["step"]);
}

#[test]
fn reserved_metadata_keys_are_refused_on_save() {
    let dir = scratch("reserved");
    for key in ["format", VERSION_KEY, CHECKSUM_KEY] {
        let mut checkpoint = Checkpoint::default();
        checkpoint.metadata.insert(key.into(), "1".into());
        let err = checkpoint
            .save(&dir.join("r.ckpt"))
            .unwrap_err()
            .to_string();
        assert!(err.contains(key) && err.contains("reserved"), "{err}");
    }
}

#[test]
fn files_that_are_not_checkpoints_are_reported() {
    let dir = scratch("magic");
    let (_, mut bytes) = saved_bytes(&dir);
    bytes[..8].copy_from_slice(b"PK\x03\x04zip!");
    let path = dir.join("not-a-checkpoint.zip");
    std::fs::write(&path, &bytes).unwrap();
    expect_corrupt(
        Checkpoint::load(&path),
        &path,
        "not a valid safetensors file",
    );

    // A text file: its first 8 bytes read as a huge header length, and no header follows.
    let path = dir.join("notes.safetensors");
    std::fs::write(&path, "weights will go here, once trained\n".repeat(8)).unwrap();
    expect_corrupt(
        Checkpoint::load(&path),
        &path,
        "not a safetensors file (no JSON header after its first 8 bytes)",
    );

    // A file too short to hold a header at all.
    let path = dir.join("tiny.ckpt");
    std::fs::write(&path, b"PVRS").unwrap();
    expect_corrupt(Checkpoint::load(&path), &path, "truncated");

    // A valid safetensors file that polyvit-rs did not write (ViT weights, say).
    let mut tensors = std::collections::BTreeMap::new();
    tensors.insert(
        "pos_embed".to_string(),
        Tensor::zeros(&[1, 5, 4], DType::F32),
    );
    let plain = safetensors_file::encode(&tensors, &Default::default(), Path::new("p")).unwrap();
    let path = dir.join("vit.safetensors");
    std::fs::write(&path, plain).unwrap();
    expect_corrupt(
        Checkpoint::load(&path),
        &path,
        "not a polyvit-rs checkpoint",
    );
}

/// A bit flipped in the version key's name leaves a checkpoint of ours without it: damaged,
/// not someone else's file.
#[test]
fn a_damaged_version_key_is_not_taken_for_a_foreign_file() {
    let dir = scratch("version-key");
    let (_, bytes) = saved_bytes(&dir);
    let at = bytes
        .windows(VERSION_KEY.len())
        .position(|w| w == VERSION_KEY.as_bytes())
        .unwrap();
    let mut flipped = bytes.clone();
    flipped[at + VERSION_KEY.len() - 1] ^= 0x02;
    let path = dir.join("flipped.ckpt");
    std::fs::write(&path, &flipped).unwrap();
    expect_corrupt(
        Checkpoint::load(&path),
        &path,
        "polyvit.checksum but no polyvit.format_version in its metadata: a damaged polyvit-rs checkpoint",
    );
}

#[test]
fn format_version_1_files_are_refused_by_name() {
    let dir = scratch("version1");
    // The start of a version-1 file: magic, version 1, a payload length and a checksum.
    let mut old = b"PVRSCKPT".to_vec();
    old.extend_from_slice(&1u32.to_le_bytes());
    old.extend_from_slice(&[0; 16]);
    let path = dir.join("old.pvrs");
    std::fs::write(&path, &old).unwrap();
    expect_corrupt(Checkpoint::load(&path), &path, "format version 1");
    expect_corrupt(Checkpoint::load(&path), &path, "not supported");
}

#[test]
fn an_unsupported_format_version_is_reported() {
    let dir = scratch("version");
    let future = FORMAT_VERSION + 1;
    let mut metadata = std::collections::BTreeMap::new();
    metadata.insert(VERSION_KEY.to_string(), future.to_string());
    metadata.insert(CHECKSUM_KEY.to_string(), "fnv1a64:0".to_string());
    let bytes = safetensors_file::encode(&Default::default(), &metadata, Path::new("f")).unwrap();
    let path = dir.join("future.ckpt");
    std::fs::write(&path, &bytes).unwrap();
    expect_corrupt(
        Checkpoint::load(&path),
        &path,
        &format!("format version {future}"),
    );
}

#[test]
fn a_truncated_file_is_reported() {
    let dir = scratch("truncated");
    let (_, bytes) = saved_bytes(&dir);
    for keep in [bytes.len() - 1, bytes.len() / 2, 30, 5] {
        let path = dir.join(format!("cut-{keep}.ckpt"));
        std::fs::write(&path, &bytes[..keep]).unwrap();
        expect_corrupt(Checkpoint::load(&path), &path, "truncated");
    }
    // Trailing garbage is as wrong as missing bytes.
    let path = dir.join("longer.ckpt");
    let mut longer = bytes.clone();
    longer.extend_from_slice(b"extra");
    std::fs::write(&path, &longer).unwrap();
    expect_corrupt(Checkpoint::load(&path), &path, "trailing");
}

#[test]
fn a_flipped_data_byte_fails_the_checksum() {
    let dir = scratch("flipped");
    let (_, bytes) = saved_bytes(&dir);
    let header = 8 + u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    // First, middle and last byte of the tensor data, each one bit flipped.
    for position in [header, (header + bytes.len()) / 2, bytes.len() - 1] {
        let mut corrupt = bytes.clone();
        corrupt[position] ^= 0x10;
        let path = dir.join(format!("flipped-{position}.ckpt"));
        std::fs::write(&path, &corrupt).unwrap();
        expect_corrupt(Checkpoint::load(&path), &path, "checksum mismatch");
    }
    // A changed metadata value (same length, so the header stays valid JSON) fails it too.
    let text = String::from_utf8_lossy(&bytes[8..header]).into_owned();
    let edited = text.replace("\"step\":\"7\"", "\"step\":\"8\"");
    assert_ne!(edited, text);
    let mut corrupt = bytes[..8].to_vec();
    corrupt.extend_from_slice(edited.as_bytes());
    corrupt.extend_from_slice(&bytes[header..]);
    let path = dir.join("edited-step.ckpt");
    std::fs::write(&path, &corrupt).unwrap();
    expect_corrupt(Checkpoint::load(&path), &path, "checksum mismatch");
}

#[test]
fn loading_into_a_model_that_does_not_fit_lists_every_problem_and_changes_nothing() {
    let mut checkpoint = Checkpoint::default();
    checkpoint.add_parameters("model.", &Tiny::new(1)).unwrap();
    checkpoint.tensors.remove("model.norm.bias");
    checkpoint.tensors.insert(
        "model.embed.weight".into(),
        Tensor::zeros(&[4, 3], DType::F32),
    );
    checkpoint
        .tensors
        .insert("model.special".into(), Tensor::zeros(&[2, 4], DType::F64));
    checkpoint
        .tensors
        .insert("model.unused".into(), Tensor::zeros(&[1], DType::F32));

    let mut model = Tiny::new(5);
    let before = parameter_bits(&model);
    let err = checkpoint
        .load_parameters("model.", &mut model)
        .unwrap_err();
    let CheckpointError::Mismatch { problems } = &err else {
        panic!("expected a mismatch, got {err}");
    };
    assert_eq!(problems.len(), 4, "{problems:?}");
    let message = err.to_string();
    for needle in [
        "model.norm.bias is missing",
        "model.unused is not a parameter of the model",
        "model.embed.weight has shape [4, 3]",
        "expects [3, 4]",
        "model.special",
        "f64",
    ] {
        assert!(message.contains(needle), "{needle:?} in {message}");
    }
    // Entries that fit (embed.bias, norm.weight) were not applied either.
    assert_eq!(parameter_bits(&model), before);

    // Under the wrong prefix, every parameter is missing.
    let err = checkpoint
        .load_parameters("other.", &mut model)
        .unwrap_err();
    let CheckpointError::Mismatch { problems } = err else {
        panic!("expected a mismatch");
    };
    assert_eq!(problems.len(), model.named_parameters().len());
    assert_eq!(parameter_bits(&model), before);
}

#[test]
fn entries_under_other_prefixes_are_left_to_their_loaders_and_strays_are_named() {
    let mut checkpoint = Checkpoint::default();
    checkpoint.add_parameters("model.", &Tiny::new(1)).unwrap();
    checkpoint
        .tensors
        .insert("optim.momentum.x".into(), Tensor::zeros(&[3], DType::F32));
    let mut model = Tiny::new(2);
    checkpoint.load_parameters("model.", &mut model).unwrap();
    assert_eq!(parameter_bits(&model), parameter_bits(&Tiny::new(1)));
    let optim = checkpoint.entries_with_prefix("optim.");
    assert_eq!(optim.len(), 1);
    assert_eq!(optim[0].0, "momentum.x");
    checkpoint.check_prefixes(&["model.", "optim."]).unwrap();

    // An entry nobody reads is an error naming it.
    checkpoint
        .tensors
        .insert("ema.embed.weight".into(), Tensor::zeros(&[3], DType::F32));
    let err = checkpoint
        .check_prefixes(&["model.", "optim."])
        .unwrap_err()
        .to_string();
    assert!(err.contains("ema.embed.weight is unexpected"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Resuming training.

/// An MLP plus a head the loss never uses (its optimizer state must survive a resume too).
struct Net {
    mlp: Mlp,
    unused: Linear,
}

impl_parameters!(Net { mlp, unused });

impl Net {
    fn new(seed: u64) -> Net {
        let mut rng = tensor::rng(seed);
        Net {
            mlp: Mlp::new(4, 8, Gelu::Tanh, 0.1, DType::F32, &mut rng),
            unused: Linear::new(4, 2, LinearInit::LecunNormal, DType::F32, &mut rng),
        }
    }
}

/// Steps `steps` of training; batch, dropout mask and learning rate depend only on the step index.
fn train(net: &mut Net, optimizer: &mut dyn Optimizer, steps: std::ops::Range<u64>) {
    let schedule = WarmupCosine {
        base: 0.05,
        warmup: 2,
        total: 6,
    };
    for step in steps {
        let mut rng = tensor::rng(1000 + step);
        let x = Var::constant(Tensor::randn(&[5, 4], 0.0, 1.0, DType::F32, &mut rng));
        let target = Var::constant(Tensor::randn(&[5, 4], 0.0, 1.0, DType::F32, &mut rng));
        let mut ctx = Context::train(2000 + step);
        let loss = net
            .mlp
            .forward(&x, &mut ctx)
            .unwrap()
            .sub(&target)
            .unwrap()
            .square()
            .unwrap()
            .mean_all()
            .unwrap();
        let mut grads = loss.backward().unwrap();
        clip_grad_norm(&mut grads, 0.5).unwrap();
        optimizer.step(net, &grads, schedule.at(step)).unwrap();
    }
}

fn state_bits(optimizer: &dyn Optimizer) -> (u64, Vec<(String, Bits)>) {
    let (steps, state) = optimizer.state();
    (
        steps,
        state.iter().map(|(n, t)| (n.clone(), bits(t))).collect(),
    )
}

/// Trains 3 steps, checkpoints model and optimizer, restores both into fresh objects in a new
/// file round trip, trains 3 more, and compares with 6 uninterrupted steps bit for bit.
fn resume_is_bit_identical(name: &str, make: impl Fn() -> Box<dyn Optimizer>) {
    let dir = scratch(name);
    let path = dir.join("resume.ckpt");

    let mut straight = Net::new(3);
    let mut straight_opt = make();
    train(&mut straight, straight_opt.as_mut(), 0..6);

    let mut first = Net::new(3);
    let mut first_opt = make();
    train(&mut first, first_opt.as_mut(), 0..3);
    let mut checkpoint = Checkpoint::default();
    checkpoint.add_parameters("model.", &first).unwrap();
    checkpoint.add_optimizer("optim.", first_opt.as_ref());
    assert_eq!(checkpoint.metadata["optim_steps"], "3");
    assert!(checkpoint.tensors.keys().any(|k| k.starts_with("optim.")));
    checkpoint.save(&path).unwrap();
    drop((first, first_opt));

    let loaded = Checkpoint::load(&path).unwrap();
    let mut resumed = Net::new(77);
    loaded.load_parameters("model.", &mut resumed).unwrap();
    let mut resumed_opt = make();
    loaded
        .load_optimizer("optim.", resumed_opt.as_mut(), &resumed)
        .unwrap();
    train(&mut resumed, resumed_opt.as_mut(), 3..6);

    assert_eq!(
        parameter_bits(&resumed),
        parameter_bits(&straight),
        "{name}"
    );
    assert_eq!(
        state_bits(resumed_opt.as_ref()),
        state_bits(straight_opt.as_ref()),
        "{name}"
    );

    // The optimizer state matters: resuming with a fresh optimizer gives other numbers.
    let mut forgetful = Net::new(77);
    loaded.load_parameters("model.", &mut forgetful).unwrap();
    let mut fresh_opt = make();
    train(&mut forgetful, fresh_opt.as_mut(), 3..6);
    assert_ne!(
        parameter_bits(&forgetful),
        parameter_bits(&straight),
        "{name}"
    );
}

/// `load_optimizer` refuses a checkpoint without the step count or with one that is no number,
/// and state that does not cover the model, naming what is wrong; a refused checkpoint converts
/// into a `tensor::Error` with the same words.
#[test]
fn optimizer_state_that_does_not_fit_is_refused_by_name() {
    let mut net = Net::new(3);
    let mut sgd = Sgd::new(0.9);
    train(&mut net, &mut sgd, 0..2);
    let mut saved = Checkpoint::default();
    saved.add_optimizer("optimizer.", &sgd);
    let refusal = |edit: &dyn Fn(&mut Checkpoint)| {
        let mut checkpoint = saved.clone();
        edit(&mut checkpoint);
        let err = checkpoint
            .load_optimizer("optimizer.", &mut Sgd::new(0.9), &net)
            .unwrap_err();
        let message = err.to_string();
        let converted = tensor::Error::from(err).to_string();
        let problem = message.rsplit(": ").next().unwrap();
        assert!(converted.ends_with(problem), "{converted} / {message}");
        message
    };
    let none = refusal(&|c| {
        c.metadata.remove("optimizer_steps");
    });
    assert!(
        none.contains("the metadata has no optimizer_steps"),
        "{none}"
    );
    let garbled = refusal(&|c| {
        c.metadata.insert("optimizer_steps".into(), "two".into());
    });
    assert!(garbled.contains("optimizer_steps is \"two\""), "{garbled}");
    let partial = refusal(&|c| {
        let name = c.tensors.keys().next().unwrap().clone();
        c.tensors.remove(&name);
    });
    assert!(partial.contains("is missing"), "{partial}");
    let empty = refusal(&|c| c.tensors.clear());
    assert!(empty.contains("zero state"), "{empty}");
    let wrong_prefix = saved
        .load_optimizer("opt.", &mut Sgd::new(0.9), &net)
        .unwrap_err()
        .to_string();
    assert!(
        wrong_prefix.contains("no optimizer state was saved under \"opt.\""),
        "{wrong_prefix}"
    );
    let another = saved
        .load_optimizer("optimizer.", &mut AdamW::new(0.9, 0.999, 1e-8, 0.0), &net)
        .unwrap_err()
        .to_string();
    assert!(
        another.contains("adamw keeps first_moment.NAME and second_moment.NAME")
            && another.contains("another optimizer's state"),
        "{another}"
    );
    assert!(saved
        .load_optimizer("optimizer.", &mut Sgd::new(0.9), &net)
        .is_ok());
}

#[test]
fn sgd_training_resumes_bit_identically() {
    resume_is_bit_identical("resume_sgd", || Box::new(Sgd::new(0.9)));
}

#[test]
fn adamw_training_resumes_bit_identically() {
    resume_is_bit_identical("resume_adamw", || {
        Box::new(AdamW::new(0.9, 0.999, 1e-8, 0.01))
    });
}

#[test]
fn a_state_for_a_mis_shaped_parameter_is_rejected_at_the_next_step() {
    let mut net = Net::new(1);
    let mut sgd = Sgd::new(0.9);
    sgd.load_state(
        1,
        vec![(
            "momentum.unused.weight".into(),
            Tensor::zeros(&[2, 2], DType::F32),
        )],
    )
    .unwrap();
    let grads = autograd::Gradients::default();
    let err = sgd.step(&mut net, &grads, 0.1).unwrap_err().to_string();
    assert!(err.contains("unused.weight"), "{err}");
    assert!(err.contains("[2, 2]") && err.contains("[2, 4]"), "{err}");

    let mut adamw = AdamW::new(0.9, 0.999, 1e-8, 0.0);
    let err = adamw
        .load_state(
            1,
            vec![("velocity.x".into(), Tensor::zeros(&[1], DType::F32))],
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("velocity.x"), "{err}");

    // Either moment of AdamW, whichever is mis-shaped.
    for moment in ["first_moment", "second_moment"] {
        let mut adamw = AdamW::new(0.9, 0.999, 1e-8, 0.0);
        adamw
            .load_state(
                1,
                vec![(
                    format!("{moment}.unused.weight"),
                    Tensor::zeros(&[1], DType::F32),
                )],
            )
            .unwrap();
        let err = adamw.step(&mut net, &grads, 0.1).unwrap_err().to_string();
        assert!(
            err.contains("unused.weight") && err.contains("[1]"),
            "{moment}: {err}"
        );
    }
}
