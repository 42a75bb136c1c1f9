//! The files a model and a run are stored in: read from regular files and pipes, never a
//! device; written whole or not at all.

use std::path::{Path, PathBuf};

/// The bytes of the file at `path`. A folder, a device or a socket ([`is_device`]: `/dev/zero`
/// never ends) is refused before it is read, with an `InvalidInput` error; a pipe is read to its
/// end.
pub fn read_regular_file(path: &Path) -> std::io::Result<Vec<u8>> {
    if path.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "a folder, not a file",
        ));
    }
    if is_device(path) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "a device or a socket, not a file",
        ));
    }
    std::fs::read(path)
}

/// Whether `path` (through links) is a character or block device or a socket, whose reading
/// could never end or wait forever.
pub fn is_device(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        std::fs::metadata(path).is_ok_and(|m| {
            let kind = m.file_type();
            kind.is_char_device() || kind.is_block_device() || kind.is_socket()
        })
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

/// Writes `bytes` to `path` atomically: to `path.tmp`, synced, renamed over `path`, and the
/// directory synced so the rename itself is durable. A crash leaves either the old file or the
/// new one under the real name, never half of one; a failed write (a full disk) removes the
/// temporary file. The folders above `path` are created.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let written = (|| {
        use std::io::Write;
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        // A disk that filled up keeps no half-written copy: the space goes back.
        std::fs::remove_file(&tmp).ok();
        return Err(e);
    }
    std::fs::File::open(dir).and_then(|d| d.sync_all())
}
