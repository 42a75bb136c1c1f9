//! Listing a folder the way a person reads it: hidden entries (names starting with `.`) left
//! out, names in natural order (`frame2` before `frame10`).

use super::error::{DataError, DataResult};
use std::cmp::Ordering;
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

/// The visible entries of `dir`, in natural order of their names; an unreadable folder is an
/// error naming it.
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
        if !file_name(&path).starts_with('.') {
            entries.push(path);
        }
    }
    entries.sort_by(|a, b| natural_cmp(&file_name(a), &file_name(b)));
    Ok(entries)
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
    fn hidden_entries_are_left_out() {
        let dir = crate::data::test_util::temp_path("listing");
        std::fs::create_dir_all(&dir).unwrap();
        for name in ["b10", "b9", ".DS_Store"] {
            std::fs::write(dir.join(name), b"").unwrap();
        }
        let names: Vec<String> = list_dir(&dir)
            .unwrap()
            .iter()
            .map(|p| file_name(p))
            .collect();
        assert_eq!(names, ["b9", "b10"]);
        let err = list_dir(&dir.join("missing")).unwrap_err();
        assert!(err.problem.contains("cannot read folder"), "{err}");
    }
}
