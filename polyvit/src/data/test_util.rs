//! Helpers shared by the data-layer unit tests.

#[cfg(feature = "ffmpeg")]
use std::path::Path;
use std::path::PathBuf;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A fresh path under the system temp dir, unique to this process and `name`.
pub fn temp_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("polyvit-data-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir.join(name)
}

/// `n` samples of a unit sine of `freq` Hz sampled at `rate` Hz.
pub fn sine(freq: f64, rate: u32, n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| (2.0 * std::f64::consts::PI * freq * i as f64 / rate as f64).sin() as f32)
        .collect()
}

/// `n` samples of white noise spread evenly over `[−level, level)`, drawn from a ChaCha stream
/// seeded with `seed` (the same samples every run, independent from sample to sample).
pub fn noise(n: usize, level: f32, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| rng.gen_range(-level..level)).collect()
}

/// Writes the file `path` with `ffmpeg -v error -y ARGS... PATH` (tests of the `ffmpeg`
/// feature, which make their media files with the program they read them with).
#[cfg(feature = "ffmpeg")]
pub fn ffmpeg_encode(path: &Path, args: &[&str]) -> PathBuf {
    let status = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y"])
        .args(args)
        .arg(path)
        .status()
        .expect("ffmpeg runs");
    assert!(status.success(), "ffmpeg writes {}", path.display());
    path.to_path_buf()
}
