//! The one error type of the data layer: where the data came from and what is wrong with it.

use std::fmt;
use std::io::Read;
use std::path::Path;

/// A failure to load or build data. `origin` names the file (a path on disk, or the embedded
/// file's path inside the crate), `problem` says what went wrong, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataError {
    /// The file (or the embedded file, or the generator) the error is about.
    pub origin: String,
    /// What is wrong, e.g. "truncated: expected 784 bytes of pixels, found 12".
    pub problem: String,
}

impl DataError {
    /// An error about `origin`.
    pub fn new(origin: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            origin: origin.into(),
            problem: problem.into(),
        }
    }
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.origin, self.problem)
    }
}

impl std::error::Error for DataError {}

/// Result of every fallible data-layer function.
pub type DataResult<T> = Result<T, DataError>;

/// Problems found over many files, gathered so that one run names them all instead of stopping
/// at the first: whoever has five bad files in a folder of thousands learns of the five at once.
#[derive(Debug, Default)]
pub struct Problems(Vec<DataError>);

impl Problems {
    /// How many problems the gathered error names; the rest are counted.
    pub const NAMED: usize = 20;

    /// Adds one problem.
    pub fn push(&mut self, error: DataError) {
        self.0.push(error);
    }

    /// The value of `result`, or `None` with its error added.
    pub fn keep<T>(&mut self, result: DataResult<T>) -> Option<T> {
        result.map_err(|e| self.push(e)).ok()
    }

    /// `Ok` when none was found; a single problem as its own error; several as one error about
    /// `origin` (the folder or file they were found in) naming the first [`Self::NAMED`] in the
    /// order they were found, the paths of one problem on one line (`origin` itself not
    /// repeated), and counting the rest.
    pub fn into_result(self, origin: &Path) -> DataResult<()> {
        let origin = origin.display().to_string();
        let mut problems = self.0;
        match problems.len() {
            0 => return Ok(()),
            1 => return Err(problems.remove(0)),
            _ => {}
        }
        let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
        for e in problems.iter().take(Self::NAMED) {
            match groups.iter_mut().find(|(problem, _)| *problem == e.problem) {
                Some((_, origins)) => origins.push(&e.origin),
                None => groups.push((&e.problem, vec![&e.origin])),
            }
        }
        let mut text = format!("{} problems:", problems.len());
        for (problem, mut origins) in groups {
            origins.retain(|o| *o != origin);
            match origins.is_empty() {
                true => text += &format!("\n  {problem}"),
                false => text += &format!("\n  {}: {problem}", origins.join(", ")),
            }
        }
        if let Some(more) = problems.len().checked_sub(Self::NAMED).filter(|&m| m > 0) {
            text += &format!("\n  and {more} more");
        }
        Err(DataError::new(origin, text))
    }
}

/// Reads a whole file; the error names the path (and, for a link whose target is gone, the
/// target).
pub fn read_file(path: &Path) -> DataResult<Vec<u8>> {
    refuse_special(path)?;
    std::fs::read(path).map_err(|e| unreadable(path, e))
}

/// Opens a file to read part of it, buffered; the error names the path as [`read_file`]'s does.
pub fn open_file(path: &Path) -> DataResult<std::io::BufReader<std::fs::File>> {
    refuse_special(path)?;
    std::fs::File::open(path)
        .map(std::io::BufReader::new)
        .map_err(|e| unreadable(path, e))
}

/// An error for a path (through links) that is a device or a socket, whose reading could never
/// end (`/dev/zero`) or wait forever. Anything else passes, to be read or to fail with its own
/// error: a pipe too, which ends when its writer closes it (`<(…)` in a shell).
pub fn refuse_special(path: &Path) -> DataResult<()> {
    match nn::file::is_device(path) {
        true => Err(DataError::new(
            path.display().to_string(),
            "a device or a socket, not a file: inputs are read from files",
        )),
        false => Ok(()),
    }
}

/// The error of a file that cannot be read: the path, and for a link whose target is gone, the
/// target.
fn unreadable(path: &Path, e: std::io::Error) -> DataError {
    let problem = match std::fs::read_link(path) {
        Ok(target) if !path.exists() => broken_link(&target),
        _ => format!("cannot read file: {e}"),
    };
    DataError::new(path.display().to_string(), problem)
}

/// The problem of a path that does not exist: a link whose target is gone says so, naming the
/// target; anything else is "no such `what`".
pub fn missing(path: &Path, what: &str) -> String {
    match std::fs::read_link(path) {
        Ok(target) => broken_link(&target),
        Err(_) => format!("no such {what}"),
    }
}

/// The problem of a link whose `target` does not exist.
fn broken_link(target: &Path) -> String {
    format!(
        "a broken link: its target {} does not exist",
        target.display()
    )
}

/// Decompresses a complete gzip stream; a corrupt or truncated stream is an error about `origin`.
pub fn gunzip(bytes: &[u8], origin: &str) -> DataResult<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .map_err(|e| DataError::new(origin, format!("not a valid gzip stream: {e}")))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::test_util::temp_path;

    /// A device, which would never end, is refused before it is read.
    #[cfg(unix)]
    #[test]
    fn a_device_is_not_read() {
        for read in [
            |p: &Path| read_file(p).map(drop),
            |p: &Path| open_file(p).map(drop),
        ] {
            let e = read(Path::new("/dev/zero")).unwrap_err();
            assert_eq!(e.origin, "/dev/zero");
            assert!(e.problem.starts_with("a device or a socket"), "{e}");
        }
    }

    /// No problem is `Ok`, one is itself, several are one error about the folder that names
    /// the first [`Problems::NAMED`] (the paths of one problem together) and counts the rest.
    #[test]
    fn gathered_problems_are_named_together() {
        let folder = Path::new("/data/task");
        assert_eq!(Problems::default().into_result(folder), Ok(()));
        let one = DataError::new("/data/task/a/1.png", "not a readable image");
        let mut problems = Problems::default();
        assert_eq!(problems.keep::<()>(Err(one.clone())), None);
        assert_eq!(problems.keep(Ok(7)), Some(7));
        assert_eq!(problems.into_result(folder), Err(one));

        let mut problems = Problems::default();
        for i in 0..Problems::NAMED + 3 {
            let problem = match i {
                1 => "empty class folder",
                _ => "not a readable image",
            };
            problems.push(DataError::new(format!("/data/task/{i}"), problem));
        }
        let e = problems.into_result(folder).unwrap_err();
        assert_eq!(e.origin, "/data/task");
        let unreadable: Vec<String> = (0..Problems::NAMED)
            .filter(|&i| i != 1)
            .map(|i| format!("/data/task/{i}"))
            .collect();
        let expected = format!(
            "23 problems:\n  {}: not a readable image\n  /data/task/1: empty class folder\n  \
             and 3 more",
            unreadable.join(", ")
        );
        assert_eq!(e.problem, expected);

        // Problems about the origin itself (a label file's rows) do not repeat it.
        let mut problems = Problems::default();
        for row in ["9.png", "10.png"] {
            problems.push(DataError::new(
                "/data/task/labels.csv",
                format!("{row}: no such file"),
            ));
        }
        let e = problems
            .into_result(Path::new("/data/task/labels.csv"))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "/data/task/labels.csv: 2 problems:\n  9.png: no such file\n  10.png: no such file"
        );
    }

    /// A link whose target is gone is named as one, with the target.
    #[cfg(unix)]
    #[test]
    fn a_broken_link_names_its_target() {
        let link = temp_path("dangling.png");
        std::fs::remove_file(&link).ok();
        std::os::unix::fs::symlink("/nonexistent/target.png", &link).unwrap();
        let e = read_file(&link).unwrap_err();
        assert_eq!(e.origin, link.display().to_string());
        assert!(
            e.problem == "a broken link: its target /nonexistent/target.png does not exist",
            "{e}"
        );
        let missing = temp_path("no-such-file.png");
        let e = read_file(&missing).unwrap_err();
        assert!(e.problem.starts_with("cannot read file: "), "{e}");
        std::fs::remove_file(&link).ok();
    }
}
