//! Reading the files a model is stored in: regular files and pipes, never a device.

use std::path::Path;

/// The bytes of the file at `path`. A device or a socket ([`is_device`]: `/dev/zero` never
/// ends) is refused before it is read, with an `InvalidInput` error; a pipe is read to its end.
pub fn read_regular_file(path: &Path) -> std::io::Result<Vec<u8>> {
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
