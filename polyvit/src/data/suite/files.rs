//! Where the suite's files come from: compiled into the binary (the default suite) or a folder
//! prepared by `polyvit/scripts/fetch_full_suite.sh` (the full suite). Both hold the same
//! formats under the same relative paths (`image/…`, `audio/…`, `video/…`), so every task is
//! built by one code path whichever source it reads.

use crate::data::embedded::{self, EmbeddedFile};
use crate::data::error::{DataError, DataResult};
use std::borrow::Cow;
use std::path::PathBuf;

/// The source of the suite's files.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SuiteFiles {
    /// The files under `polyvit/data/`, compiled in.
    #[default]
    Embedded,
    /// A folder written by `fetch_full_suite.sh`: the same files at full size, and more.
    Folder(PathBuf),
}

/// One file of the suite, read into memory.
pub struct SuiteFile {
    /// Where it came from, for error messages: the path on disk or inside the repository.
    pub origin: String,
    /// Its contents.
    pub bytes: Cow<'static, [u8]>,
}

/// Relative paths of the files that only the full suite has.
pub const LANGUAGE_ID: &str = "audio/language-id.pack.gz";

/// The path of an embedded file relative to `polyvit/data/`.
pub fn relative_path(file: &EmbeddedFile) -> &'static str {
    file.path.strip_prefix("polyvit/data/").unwrap_or(file.path)
}

impl SuiteFiles {
    /// Reads the file at `relative` (e.g. `"audio/drums.pack.gz"`); a file the source lacks is
    /// an error that names it and says how to get it.
    pub fn read(&self, relative: &str) -> DataResult<SuiteFile> {
        match self {
            SuiteFiles::Embedded => embedded::ALL
                .iter()
                .find(|f| relative_path(f) == relative)
                .map(|f| SuiteFile {
                    origin: f.path.to_string(),
                    bytes: Cow::Borrowed(f.bytes),
                })
                .ok_or_else(|| {
                    DataError::new(
                        relative,
                        "only the full suite has this file: prepare it with \
                         `sudo bash polyvit/scripts/fetch_full_suite.sh DIR`, then train with \
                         `--suite full --suite-dir DIR`",
                    )
                }),
            SuiteFiles::Folder(dir) => {
                self.check()?;
                let path = dir.join(relative);
                let bytes = std::fs::read(&path).map_err(|e| {
                    DataError::new(
                        path.display().to_string(),
                        format!(
                            "cannot read the full suite's file ({e}); prepare the folder with \
                             `sudo bash polyvit/scripts/fetch_full_suite.sh {}`",
                            dir.display()
                        ),
                    )
                })?;
                Ok(SuiteFile {
                    origin: path.display().to_string(),
                    bytes: Cow::Owned(bytes),
                })
            }
        }
    }

    /// An error naming the folder when the files are a folder that is not there (or not a
    /// folder): what to do then is prepare it, or say where it went, not hunt for one file.
    pub fn check(&self) -> DataResult<()> {
        match self {
            SuiteFiles::Folder(dir) if !dir.is_dir() => {
                let what = match dir.exists() {
                    true => "is not a folder",
                    false => "does not exist",
                };
                Err(DataError::new(
                    dir.display().to_string(),
                    format!(
                        "the full suite's folder {what}: prepare it with `sudo bash \
                         polyvit/scripts/fetch_full_suite.sh {}`, or, if it has moved, give its \
                         place with --suite-dir",
                        dir.display()
                    ),
                ))
            }
            _ => Ok(()),
        }
    }

    /// Reads the full-size counterpart of an embedded file (the embedded file itself for
    /// [`SuiteFiles::Embedded`]).
    pub fn read_like(&self, file: &EmbeddedFile) -> DataResult<SuiteFile> {
        self.read(relative_path(file))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_files_are_found_by_relative_path() {
        let f = SuiteFiles::Embedded.read("audio/drums.pack.gz").unwrap();
        assert_eq!(f.origin, embedded::DRUMS.path);
        assert_eq!(f.bytes.len(), embedded::DRUMS.bytes.len());
        let err = SuiteFiles::Embedded.read(LANGUAGE_ID).err().unwrap();
        assert_eq!(err.origin, LANGUAGE_ID);
        assert!(err.problem.contains("fetch_full_suite.sh"), "{err}");
    }

    #[test]
    fn a_folder_is_read_at_the_same_relative_paths() {
        let dir = std::env::temp_dir().join(format!("polyvit-suite-files-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("audio")).unwrap();
        std::fs::write(dir.join("audio/drums.pack.gz"), b"abc").unwrap();
        let files = SuiteFiles::Folder(dir.clone());
        let f = files.read_like(&embedded::DRUMS).unwrap();
        assert_eq!(&*f.bytes, b"abc");
        let err = files.read(LANGUAGE_ID).err().unwrap();
        assert!(err.origin.ends_with("language-id.pack.gz"), "{err}");
        assert!(err.problem.contains(&dir.display().to_string()), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A folder that is missing, or a file given as the folder, is named as the folder.
    #[test]
    fn a_missing_folder_is_named_before_any_file() {
        let gone = std::env::temp_dir().join(format!("polyvit-no-suite-{}", std::process::id()));
        let err = SuiteFiles::Folder(gone.clone())
            .read(LANGUAGE_ID)
            .err()
            .unwrap();
        assert_eq!(err.origin, gone.display().to_string());
        assert!(err.problem.contains("folder does not exist"), "{err}");
        assert!(err.problem.contains("--suite-dir"), "{err}");
        let file = SuiteFiles::Folder("/etc/passwd".into())
            .check()
            .unwrap_err();
        assert!(file.problem.contains("is not a folder"), "{file}");
        assert!(SuiteFiles::Embedded.check().is_ok());
    }
}
