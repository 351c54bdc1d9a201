//! Standard output for the command line. `println!` panics when the reader
//! has gone (`redsim run … | head`); these end redsim quietly instead, as a
//! reader that stops early ends any Unix tool.

use std::fmt;
use std::io::{ErrorKind, Write};

/// Writes `args` and a newline to standard output; see [`write`].
pub fn write_line(args: fmt::Arguments<'_>) {
    write(format_args!("{args}\n"));
}

/// Writes `args` to standard output. A closed pipe exits with status 0 (the
/// reader wanted no more); any other write error is reported and exits with 1.
pub fn write(args: fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args) {
        if e.kind() == ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        crate::errln!("redsim: cannot write to standard output: {e}");
        std::process::exit(1);
    }
}

/// `println!` for the command line, quiet when the reader has gone.
#[macro_export]
macro_rules! outln {
    () => { $crate::out::write_line(format_args!("")) };
    ($($arg:tt)*) => { $crate::out::write_line(format_args!($($arg)*)) };
}

/// `print!` for the command line, quiet when the reader has gone.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::out::write(format_args!($($arg)*)) };
}

/// Writes `args` and a newline to standard error, ignoring failure: with
/// stderr closed or full there is nowhere left to report anything, and
/// `eprintln!` would panic instead.
pub fn write_err_line(args: fmt::Arguments<'_>) {
    let _ = std::io::stderr().lock().write_fmt(format_args!("{args}\n"));
}

/// `eprintln!` for the command line, quiet when stderr cannot be written.
#[macro_export]
macro_rules! errln {
    () => { $crate::out::write_err_line(format_args!("")) };
    ($($arg:tt)*) => { $crate::out::write_err_line(format_args!($($arg)*)) };
}

/// Whether `path` must be written in place rather than replaced: it
/// exists and is not a plain file of its own, but a device such as
/// `/dev/null`, a FIFO, or a link such as `/dev/stdout`. Renaming a file
/// over one of those would replace the device or the link itself, for
/// everyone on the host (as root, it can).
fn is_special(path: &std::path::Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

/// Whether `path` leads to the very file this process's stdout writes to.
fn is_stdout(path: &std::path::Path) -> bool {
    use std::os::fd::AsFd;
    use std::os::unix::fs::MetadataExt;
    let Ok(target) = std::fs::metadata(path) else {
        return false;
    };
    let stdout = std::io::stdout().as_fd().try_clone_to_owned();
    stdout
        .and_then(|fd| std::fs::File::from(fd).metadata())
        .is_ok_and(|m| (m.dev(), m.ino()) == (target.dev(), target.ino()))
}

/// Writes `bytes` to `path` whole or not at all: into a temporary file
/// beside it, flushed to disk, then renamed over `path`. A run killed
/// midway leaves the previous file intact (and at worst a stray
/// `.NAME.redsim-tmp-PID` beside it), never a file cut mid-line. A device
/// or a FIFO (`/dev/null`, `/dev/stdout`) is written in place instead.
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    if is_special(path) {
        // `/dev/stdout` with stdout sent to a file: a second opening of
        // that file would write from its start, under what stdout writes.
        if is_stdout(path) {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes)?;
            return out.flush();
        }
        return std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(path)?
            .write_all(bytes);
    }
    let tmp = temp_beside(path);
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Checks, before any work starts, that `path` can be written: its folder
/// exists and takes a new file, and `path` is not a folder. The error names
/// the path and says why.
pub fn ensure_writable(path: &std::path::Path) -> Result<(), String> {
    if path.is_dir() {
        return Err(format!("{} is a folder, not a file", path.display()));
    }
    if is_special(path) {
        return std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map(drop)
            .map_err(|e| format!("cannot write {}: {e}", path.display()));
    }
    let tmp = temp_beside(path);
    match std::fs::File::create(&tmp) {
        Ok(_) => {
            let _ = std::fs::remove_file(&tmp);
            Ok(())
        }
        Err(e) => Err(format!("cannot write {}: {e}", path.display())),
    }
}

/// Checks that `dir` exists or can be created and takes new files.
pub fn ensure_writable_dir(dir: &std::path::Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    ensure_writable(&dir.join(".redsim-probe"))
}

fn temp_beside(path: &std::path::Path) -> std::path::PathBuf {
    let name = path
        .file_name()
        .map_or("out".into(), |n| n.to_string_lossy().into_owned());
    let tmp = format!(".{name}.redsim-tmp-{}", std::process::id());
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.join(tmp),
        _ => std::path::PathBuf::from(tmp),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_whole_and_leaves_no_temp_file() {
        let dir = std::env::temp_dir().join(format!("redsim-out-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("trace.jsonl");
        write_atomic(&f, b"first\n").unwrap();
        write_atomic(&f, b"second\n").unwrap();
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "second\n");
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        assert!(ensure_writable(&f).is_ok());
        assert!(ensure_writable(&dir).unwrap_err().contains("is a folder"));
        assert!(
            ensure_writable(&dir.join("no/such/dir/x"))
                .unwrap_err()
                .starts_with("cannot write")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// `--trace /dev/null` writes into the device: renamed over, the
    /// device would become a plain file for every process on the host.
    #[test]
    fn a_device_is_written_in_place_never_replaced() {
        use std::os::unix::fs::FileTypeExt;
        let null = std::path::Path::new("/dev/null");
        assert!(ensure_writable(null).is_ok());
        write_atomic(null, b"a trace nobody keeps\n").unwrap();
        let kind = std::fs::symlink_metadata(null).unwrap().file_type();
        assert!(kind.is_char_device(), "/dev/null is still the device");
        assert_eq!(std::fs::read(null).unwrap(), b"");
        let names: Vec<_> = std::fs::read_dir("/dev")
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains("redsim-tmp"))
            .collect();
        assert!(names.is_empty(), "no temporary file in /dev: {names:?}");
    }

    /// A link (as `/dev/stdout` is) is written through, and stays a link.
    #[test]
    fn a_link_is_written_through_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let (file, link) = (dir.path().join("file"), dir.path().join("link"));
        std::fs::write(&file, "old and longer\n").unwrap();
        std::os::unix::fs::symlink(&file, &link).unwrap();
        write_atomic(&link, b"new\n").unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "new\n");
    }
}
