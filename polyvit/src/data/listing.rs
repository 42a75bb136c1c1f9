//! Listing a folder the way a person reads it: hidden entries (names starting with `.`) and the
//! bookkeeping that operating systems leave in folders left out, names in natural order
//! (`frame2` before `frame10`).

use super::error::{DataError, DataResult};
use std::cmp::Ordering;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Compares two names with runs of digits compared as numbers, everything else as text.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a, b);
    loop {
        let (Some(ca), Some(cb)) = (a.chars().next(), b.chars().next()) else {
            return a.len().cmp(&b.len());
        };
        if ca.is_ascii_digit() && cb.is_ascii_digit() {
            let da = a.len() - a.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            let db = b.len() - b.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            let (na, nb) = (
                a[..da].trim_start_matches('0'),
                b[..db].trim_start_matches('0'),
            );
            let by_value = na.len().cmp(&nb.len()).then_with(|| na.cmp(nb));
            let order = by_value.then_with(|| da.cmp(&db));
            if order != Ordering::Equal {
                return order;
            }
            (a, b) = (&a[da..], &b[db..]);
        } else {
            if ca != cb {
                return ca.cmp(&cb);
            }
            (a, b) = (&a[ca.len_utf8()..], &b[cb.len_utf8()..]);
        }
    }
}

/// Entries that operating systems and archivers write into folders of their own accord, never
/// data: Windows' thumbnail caches and folder settings, the resource-fork folder that macOS's
/// archiver adds to zip files, macOS's custom-icon file (`Icon` + carriage return) and the
/// recycle-bin and volume folders at the root of a Windows drive. Names are matched whole, and
/// the first three in any case, as Windows writes them in varying case.
fn is_system_entry(name: &str) -> bool {
    const ANY_CASE: [&str; 3] = ["thumbs.db", "ehthumbs.db", "desktop.ini"];
    const EXACT: [&str; 4] = [
        "__MACOSX",
        "Icon\r",
        "$RECYCLE.BIN",
        "System Volume Information",
    ];
    ANY_CASE.iter().any(|n| name.eq_ignore_ascii_case(n)) || EXACT.contains(&name)
}

/// Whether `path` (through links) is a named pipe, which opening for reading would wait on until
/// some program opens it for writing: forever, for one left in a data folder.
fn is_named_pipe(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        std::fs::metadata(path).is_ok_and(|m| m.file_type().is_fifo())
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

/// The visible entries of `dir`, in natural order of their names: hidden ones (a leading `.`,
/// such as macOS's `.DS_Store`) and operating-system bookkeeping (`Thumbs.db`, `desktop.ini`,
/// `__MACOSX`, ...; see `is_system_entry`) are left out. An unreadable folder is an error
/// naming it, and so is a named pipe in it (a pipe given by name, as `<(…)` gives one, is read;
/// one in a folder is never data, and reading it would wait forever).
pub fn list_dir(dir: &Path) -> DataResult<Vec<PathBuf>> {
    let err = |e: std::io::Error| {
        DataError::new(
            dir.display().to_string(),
            format!("cannot read folder: {e}"),
        )
    };
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(err)? {
        let path = entry.map_err(err)?.path();
        let name = file_name(&path);
        if name.starts_with('.') || is_system_entry(&name) {
            continue;
        }
        if is_named_pipe(&path) {
            return Err(DataError::new(
                path.display().to_string(),
                "a named pipe in a folder, not a file: reading it would wait for a writer",
            ));
        }
        entries.push(path);
    }
    entries.sort_by(|a, b| natural_cmp(&file_name(a), &file_name(b)));
    Ok(entries)
}

/// The folders a walk has entered, by their canonical paths, so that each is entered once: a
/// link to a folder above it (or two links into each other) would otherwise be followed until
/// the system's limit on nested links.
#[derive(Default)]
pub struct FoldersSeen(HashSet<PathBuf>);

impl FoldersSeen {
    /// Whether `dir` is entered for the first time (it is then recorded); a folder whose path
    /// cannot be resolved is an error naming it.
    pub fn first_visit(&mut self, dir: &Path) -> DataResult<bool> {
        let canonical = dir.canonicalize().map_err(|e| {
            DataError::new(dir.display().to_string(), format!("cannot resolve: {e}"))
        })?;
        Ok(self.0.insert(canonical))
    }
}

/// The last component of `path`, as text.
pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_sort_by_value() {
        let mut names = vec!["f10.png", "f2.png", "f1.png", "a.png", "f02.png", "f"];
        names.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            names,
            ["a.png", "f", "f1.png", "f2.png", "f02.png", "f10.png"]
        );
    }

    #[test]
    fn hidden_and_system_entries_are_left_out() {
        let dir = crate::data::test_util::temp_path("listing");
        std::fs::create_dir_all(&dir).unwrap();
        for name in [
            "b10",
            "b9",
            ".DS_Store",
            "Thumbs.db",
            "desktop.ini",
            "Icon\r",
        ] {
            std::fs::write(dir.join(name), b"").unwrap();
        }
        // Windows writes its thumbnail cache in either case; macOS's archiver adds a folder.
        std::fs::write(dir.join("THUMBS.DB"), b"").unwrap();
        std::fs::create_dir_all(dir.join("__MACOSX").join("b9")).unwrap();
        // Names that only resemble them are data.
        std::fs::write(dir.join("thumbs.db.png"), b"").unwrap();
        std::fs::write(dir.join("Icon"), b"").unwrap();
        let names: Vec<String> = list_dir(&dir)
            .unwrap()
            .iter()
            .map(|p| file_name(p))
            .collect();
        assert_eq!(names, ["Icon", "b9", "b10", "thumbs.db.png"]);
        let err = list_dir(&dir.join("missing")).unwrap_err();
        assert!(err.problem.contains("cannot read folder"), "{err}");
    }

    /// A named pipe left in a folder is an error naming it: opening it to read would wait for
    /// a writer that never comes (a folder task, `eval --data` and `predict` on a folder hung).
    #[cfg(unix)]
    #[test]
    fn a_named_pipe_in_a_folder_is_an_error_naming_it() {
        let dir = crate::data::test_util::temp_path("listing-pipe");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("1.png"), b"").unwrap();
        let pipe = dir.join("2.png");
        let made = std::process::Command::new("mkfifo").arg(&pipe).status();
        assert!(made.is_ok_and(|s| s.success()), "mkfifo {}", pipe.display());
        let err = list_dir(&dir).unwrap_err();
        assert_eq!(err.origin, pipe.display().to_string());
        assert!(err.problem.starts_with("a named pipe in a folder"), "{err}");
    }
}
