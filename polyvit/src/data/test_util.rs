//! Helpers shared by the data-layer unit tests.

use std::path::PathBuf;

/// A fresh path under the system temp dir, unique to this process and `name`.
pub fn temp_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("polyvit-data-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir.join(name)
}
