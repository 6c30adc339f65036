//! The file operations every strass reader and writer goes through.
//!
//! * [`write_atomic`]: a file is written to a temporary file in the same directory, flushed to
//!   disk and renamed over the target, so a full disk or a crash leaves either the old content or
//!   the new, never a truncated file, and no temporary file is left behind on failure.
//! * [`check_writable`]: a command checks every output it will write before it replaces any.
//! * [`read_bounded`]: reads only regular files (never a FIFO or a device such as `/dev/zero`) and
//!   at most a given number of bytes.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Largest scheme file strass reads (bytes). The largest shipped scheme is a few kilobytes; a
/// `<4096,1,1;4096>` classical scheme written out is about 50 MB.
pub const MAX_SCHEME_FILE: u64 = 64 << 20;

/// Largest tuning file strass reads (bytes).
pub const MAX_TUNE_FILE: u64 = 1 << 20;

fn temp_path(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let seq = COUNTER.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!(".{name}.tmp{}.{seq}", std::process::id()))
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Writes `bytes` to `path` atomically: temporary file in the same directory, `fsync`, rename
/// over `path`, `fsync` of the directory. On any failure the temporary file is removed and
/// `path` keeps its old content.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if path.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::IsADirectory,
            "is a directory",
        ));
    }
    let tmp = temp_path(path);
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result?;
    // Make the rename itself durable; a directory that cannot be opened for this (unusual
    // permissions) does not undo the write.
    if let Ok(d) = std::fs::File::open(parent_dir(path)) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Checks that [`write_atomic`] can write `path`: its directory exists and accepts a new file,
/// and `path` is not a directory. Creates and removes a probe file; never touches `path`.
pub fn check_writable(path: &Path) -> std::io::Result<()> {
    if path.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::IsADirectory,
            "is a directory",
        ));
    }
    let dir = parent_dir(path);
    if !dir.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("directory {} does not exist", dir.display()),
        ));
    }
    let probe = temp_path(path);
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)?;
    std::fs::remove_file(&probe)
}

/// Reads a regular file of at most `max` bytes as UTF-8. A FIFO, device or directory is refused
/// before it is opened (so a FIFO cannot block the reader), and a larger file is refused without
/// reading past `max` bytes.
pub fn read_bounded(path: &Path, max: u64) -> std::io::Result<String> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    let too_large = || {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("file larger than the limit of {max} bytes"),
        )
    };
    if meta.len() > max {
        return Err(too_large());
    }
    let f = std::fs::File::open(path)?;
    let mut text = String::with_capacity(meta.len() as usize);
    f.take(max + 1).read_to_string(&mut text)?;
    if text.len() as u64 > max {
        return Err(too_large());
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.json");
        write_atomic(&p, b"old").unwrap();
        write_atomic(&p, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let bad = dir.path().join("missing").join("y.json");
        assert!(write_atomic(&bad, b"z").is_err());
        assert!(check_writable(&bad).is_err());
        assert!(check_writable(&p).is_ok());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn bounded_read_refuses_devices_and_large_files() {
        assert!(read_bounded(Path::new("/dev/zero"), 10).is_err());
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big");
        std::fs::write(&p, "0123456789ab").unwrap();
        assert!(read_bounded(&p, 10).is_err());
        assert_eq!(read_bounded(&p, 12).unwrap(), "0123456789ab");
    }
}
