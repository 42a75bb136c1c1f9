//! Every parser of outside bytes, fed truncated, bit-flipped and random inputs: each must return
//! an error or a value, never panic, abort or allocate far beyond its input. The seeds are real
//! files (the embedded data, a checkpoint of a small model, a WAV and an IDX file built here, the
//! FLAC and Ogg Vorbis audio fixtures, the ViT fixture of `--init-from`).
//! `PROPTEST_CASES=100000 cargo test -p polyvit --release --test fuzz_parsers` is the long run.

use flate2::read::GzDecoder;
use polyvit::data::embedded::{DRUMS, MNIST_TEST_LABELS, VIDEO_TREE};
use polyvit::data::glyph::{Centring, GlyphFrame, GlyphRange};
use polyvit::data::{flac, frames, idx, pack, vorbis, wav, Modality};
use polyvit::model::{init_from_vit, ModelConfig, PolyVit, TaskSpec, TokenizerSpec, VitWeights};
use polyvit::train::TrainConfig;
use proptest::prelude::*;
use std::io::Read;
use std::path::Path;
use std::sync::OnceLock;

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    GzDecoder::new(bytes).read_to_end(&mut out).unwrap();
    out
}

/// The bytes of `tests/fixtures/<name>`.
fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap()
}

/// The valid files every case starts from.
struct Seeds {
    idx_labels: Vec<u8>,
    idx_images: Vec<u8>,
    clip_pack: Vec<u8>,
    frame_stack: Vec<u8>,
    wav: Vec<u8>,
    flac: Vec<u8>,
    ogg: Vec<u8>,
    checkpoint: Vec<u8>,
    vit: Vec<u8>,
    config: String,
    /// A small colour image in each format the folder tasks read.
    images: Vec<Vec<u8>>,
}

fn seeds() -> &'static Seeds {
    static SEEDS: OnceLock<Seeds> = OnceLock::new();
    SEEDS.get_or_init(|| {
        // IDX: magic 00 00 08 <rank>, big-endian u32 dims, then u8 data.
        let mut idx_images = vec![0, 0, 8, 3];
        for dim in [3u32, 4, 5] {
            idx_images.extend_from_slice(&dim.to_be_bytes());
        }
        idx_images.extend((0..60).map(|i| i as u8));
        // WAV: PCM, 16-bit mono, 8 kHz, 64 samples.
        let data: Vec<u8> = (0..64i16).flat_map(|s| (s * 300).to_le_bytes()).collect();
        let mut wav = b"RIFF".to_vec();
        wav.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
        wav.extend_from_slice(b"WAVEfmt ");
        for field in [16u32.to_le_bytes().to_vec(), 1u16.to_le_bytes().to_vec()] {
            wav.extend_from_slice(&field);
        }
        wav.extend_from_slice(&1u16.to_le_bytes());
        wav.extend_from_slice(&8000u32.to_le_bytes());
        wav.extend_from_slice(&16000u32.to_le_bytes());
        wav.extend_from_slice(&2u16.to_le_bytes());
        wav.extend_from_slice(&16u16.to_le_bytes());
        wav.extend_from_slice(b"data");
        wav.extend_from_slice(&(data.len() as u32).to_le_bytes());
        wav.extend_from_slice(&data);
        // A checkpoint of a small layer, as `Checkpoint::save` writes it.
        let layer = nn::layers::Linear::new(
            3,
            2,
            nn::layers::LinearInit::XavierUniform,
            tensor::DType::F32,
            &mut tensor::rng(0),
        );
        let mut checkpoint = nn::checkpoint::Checkpoint::default();
        checkpoint.add_parameters("model.", &layer).unwrap();
        checkpoint.metadata.insert("step".into(), "7".into());
        let path =
            std::env::temp_dir().join(format!("polyvit-fuzz-{}.safetensors", std::process::id()));
        checkpoint.save(&path).unwrap();
        let checkpoint = std::fs::read(&path).unwrap();
        std::fs::remove_file(&path).ok();
        Seeds {
            idx_labels: gunzip(MNIST_TEST_LABELS.bytes),
            idx_images,
            clip_pack: gunzip(DRUMS.bytes),
            frame_stack: gunzip(VIDEO_TREE.bytes),
            wav,
            flac: fixture("audio/tones.flac"),
            ogg: fixture("audio/tone.ogg"),
            checkpoint,
            vit: fixture("vit_init/vit_timm.safetensors"),
            config: toml::to_string(&TrainConfig::default()).unwrap(),
            images: [
                image::ImageFormat::Png,
                image::ImageFormat::Jpeg,
                image::ImageFormat::Bmp,
                image::ImageFormat::Gif,
                image::ImageFormat::WebP,
                image::ImageFormat::Tiff,
                image::ImageFormat::Pnm,
            ]
            .into_iter()
            .map(|format| {
                let pixels = image::RgbImage::from_fn(9, 7, |x, y| {
                    image::Rgb([(x * 28) as u8, (y * 36) as u8, ((x + y) * 16) as u8])
                });
                let mut bytes = std::io::Cursor::new(Vec::new());
                image::DynamicImage::ImageRgb8(pixels)
                    .write_to(&mut bytes, format)
                    .unwrap();
                bytes.into_inner()
            })
            .collect(),
        }
    })
}

/// 1,000 cases per parser family, or `$PROPTEST_CASES` for a long run.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
}

/// How a case damages its seed.
#[derive(Clone, Debug)]
enum Damage {
    /// Keep this fraction of the bytes.
    Truncate(f64),
    /// Flip these (position fraction, bit) pairs.
    Flip(Vec<(f64, u8)>),
    /// Overwrite four bytes at this position with a value (a length or count field gone wrong).
    Word(f64, u32),
    /// Replace everything with these bytes.
    Random(Vec<u8>),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (0.0..1.0f64).prop_map(Damage::Truncate),
        prop::collection::vec((0.0..1.0f64, 0u8..8), 1..8).prop_map(Damage::Flip),
        (0.0..1.0f64, any::<u32>()).prop_map(|(at, v)| Damage::Word(at, v)),
        prop::collection::vec(any::<u8>(), 0..256).prop_map(Damage::Random),
    ]
}

fn apply(seed: &[u8], damage: &Damage) -> Vec<u8> {
    let at = |f: f64, len: usize| ((f * len as f64) as usize).min(len.saturating_sub(1));
    match damage {
        Damage::Truncate(f) => seed[..(f * seed.len() as f64) as usize].to_vec(),
        Damage::Flip(flips) => {
            let mut b = seed.to_vec();
            for &(f, bit) in flips {
                if !b.is_empty() {
                    let i = at(f, b.len());
                    b[i] ^= 1 << bit;
                }
            }
            b
        }
        Damage::Word(f, v) => {
            let mut b = seed.to_vec();
            if b.len() >= 4 {
                let i = at(*f, b.len() - 3);
                b[i..i + 4].copy_from_slice(&v.to_le_bytes());
            }
            b
        }
        Damage::Random(bytes) => bytes.clone(),
    }
}

/// A PolyViT of the fixture ViT's shape (the `tiny` preset) with a tokenizer per modality.
fn vit_model() -> PolyVit {
    let tokenizers = [
        TokenizerSpec::new(Modality::Image, &[3, 8, 8], &[4, 4]),
        TokenizerSpec::new(Modality::Video, &[4, 3, 8, 8], &[2, 4, 4]),
        TokenizerSpec::new(Modality::Audio, &[1, 16, 8], &[4, 4]),
    ];
    let tasks = [TaskSpec::new("image", Modality::Image, 3)];
    let config = ModelConfig::preset("tiny").unwrap();
    PolyVit::new(
        &config,
        &tokenizers,
        &tasks,
        tensor::DType::F32,
        &mut tensor::rng(0),
    )
    .unwrap()
}

/// A checkpoint (a safetensors file) with `damage` applied to its JSON header only, and the
/// header length in front rewritten to match: the reader gets past the framing and meets corrupt
/// names, dtypes, shapes, offsets and metadata.
fn with_damaged_header(seed: &[u8], damage: &Damage) -> Vec<u8> {
    let header_len = u64::from_le_bytes(seed[..8].try_into().unwrap()) as usize;
    let header = apply(&seed[8..8 + header_len], damage);
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&header);
    out.extend_from_slice(&seed[8 + header_len..]);
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn binary_parsers_never_panic(damage in damage()) {
        let s = seeds();
        let _ = idx::parse_idx(&apply(&s.idx_labels, &damage), "labels");
        let _ = idx::parse_idx(&apply(&s.idx_images, &damage), "images");
        let _ = pack::parse_pack(&apply(&s.clip_pack, &damage), "pack");
        let _ = frames::parse_frames(&apply(&s.frame_stack, &damage), "frames");
        let _ = wav::parse_wav(&apply(&s.wav, &damage), "wav");
        let _ = flac::parse_flac(&apply(&s.flac, &damage), "flac");
        let _ = vorbis::parse_vorbis(&apply(&s.ogg, &damage), "ogg");
        let _ = idx::parse_idx_gz(&apply(MNIST_TEST_LABELS.bytes, &damage), "labels.gz");
    }

    #[test]
    fn image_files_never_panic(damage in damage()) {
        let frame = GlyphFrame {
            background: 0.0,
            extent: 20.0,
            centring: Centring::Mass,
            contrast: None,
            // Wide enough that pictures of the input's size are tried as they are too.
            range: Some(GlyphRange {
                extent: [1.0, 28.0],
                contrast: [0.0, 1.0],
                off_centre: 28.0,
            }),
        };
        for seed in &seeds().images {
            if let Ok(picture) = polyvit::data::image_file::parse_image(&apply(seed, &damage), "image") {
                // Whatever decodes is read as a new glyph without a panic, at any size.
                assert_eq!(frame.frame(&picture, 28, 28).len(), 28 * 28);
            }
        }
    }

    #[test]
    fn checkpoints_never_panic(damage in damage()) {
        let s = seeds();
        let path = Path::new("fuzzed.safetensors");
        for damaged in [apply(&s.checkpoint, &damage), with_damaged_header(&s.checkpoint, &damage)] {
            if let Ok(c) = nn::checkpoint::Checkpoint::parse(&damaged, path) {
                // Only undamaged tensors and metadata pass the checksum.
                prop_assert_eq!(c.metadata.get("step").map(String::as_str), Some("7"));
                prop_assert_eq!(c.tensors.len(), 2);
            }
        }
    }

    #[test]
    fn vit_weights_never_panic(damage in damage()) {
        let s = seeds();
        let path = Path::new("fuzzed-vit.safetensors");
        for damaged in [apply(&s.vit, &damage), with_damaged_header(&s.vit, &damage)] {
            let Ok(content) = nn::safetensors_file::decode(&damaged, path) else { continue };
            let Ok(vit) = VitWeights::from_tensors(content.tensors) else { continue };
            // Shapes that survived the reader meet the surgery: an error or a model, no panic.
            let _ = init_from_vit(&mut vit_model(), &vit);
        }
    }

    #[test]
    fn configs_never_panic(damage in damage()) {
        let text = apply(seeds().config.as_bytes(), &damage);
        if let Ok(config) = toml::from_str::<TrainConfig>(&String::from_utf8_lossy(&text)) {
            let _ = config.validate();
        }
    }
}

/// The undamaged seeds parse, so the cases above start from real files.
#[test]
fn the_seeds_are_valid() {
    let s = seeds();
    assert!(idx::parse_idx(&s.idx_labels, "labels").is_ok());
    assert!(idx::parse_idx(&s.idx_images, "images").is_ok());
    assert!(pack::parse_pack(&s.clip_pack, "pack").is_ok());
    assert!(frames::parse_frames(&s.frame_stack, "frames").is_ok());
    wav::parse_wav(&s.wav, "wav").unwrap();
    assert_eq!(
        flac::parse_flac(&s.flac, "flac").unwrap().samples.len(),
        1000
    );
    assert_eq!(
        vorbis::parse_vorbis(&s.ogg, "ogg").unwrap().samples.len(),
        1000
    );
    nn::checkpoint::Checkpoint::parse(&s.checkpoint, Path::new("seed")).unwrap();
    let vit = nn::safetensors_file::decode(&s.vit, Path::new("seed")).unwrap();
    init_from_vit(
        &mut vit_model(),
        &VitWeights::from_tensors(vit.tensors).unwrap(),
    )
    .unwrap();
    for image in &s.images {
        let decoded = polyvit::data::image_file::parse_image(image, "seed").unwrap();
        assert_eq!((decoded.width(), decoded.height()), (9, 7));
    }
    let untouched = with_damaged_header(&s.checkpoint, &Damage::Flip(Vec::new()));
    assert_eq!(untouched, s.checkpoint);
}
