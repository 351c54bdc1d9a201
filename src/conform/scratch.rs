//! Where a conformance run keeps its files: configurations (with the
//! scenario's passwords), logs, the clock shim. By default a fresh private
//! directory (mode 0700, a random name, `mkdtemp` semantics) in the
//! system's temporary directory, removed when the command ends; with
//! `--keep DIR`, under DIR, never removed. Each real run gets a directory
//! of its own inside, created fresh by the harness and named from the
//! scenario's name with every character outside `[A-Za-z0-9._-]` replaced,
//! so no scenario name can reach outside it; the harness deletes only
//! directories it created itself.

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

/// The private scratch directory of one `redsim conform`: created with a
/// unique name and mode 0700, removed with everything in it when dropped
/// (on any return, `?` or panic).
#[derive(Debug)]
pub struct TempRoot(tempfile::TempDir);

impl TempRoot {
    /// Creates `redsim-conform-XXXXXX` in the system's temporary directory
    /// (`$TMPDIR`, else /tmp).
    pub fn create() -> Result<Self, String> {
        let base = std::env::temp_dir();
        tempfile::Builder::new()
            .prefix("redsim-conform-")
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .tempdir_in(&base)
            .map(Self)
            .map_err(|e| {
                format!(
                    "cannot create a scratch directory in {}: {e}",
                    base.display()
                )
            })
    }

    pub fn path(&self) -> &Path {
        self.0.path()
    }
}

/// `name` as one safe path component: only `[A-Za-z0-9._-]` (anything else
/// becomes `_`), never empty, never starting with a dot (so never `.` or
/// `..`), at most 100 bytes.
pub fn safe_name(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    if s.is_empty() || s.starts_with('.') {
        s.insert(0, '_');
    }
    s
}

/// One real run's directory, created fresh (mode 0700) by [`RunDir::create`];
/// removed when dropped unless kept.
#[derive(Debug)]
pub struct RunDir {
    path: PathBuf,
    keep: bool,
}

impl RunDir {
    /// Creates `root/<safe name>` (or `-2`, `-3`, ... after it when taken:
    /// an earlier run's files are never touched). `root` must exist.
    pub fn create(root: &Path, name: &str, keep: bool) -> Result<Self, String> {
        let base = safe_name(name);
        let mut builder = std::fs::DirBuilder::new();
        builder.mode(0o700);
        for i in 1..=1000 {
            let leaf = if i == 1 {
                base.clone()
            } else {
                format!("{base}-{i}")
            };
            let path = root.join(&leaf);
            match builder.create(&path) {
                Ok(()) => return Ok(Self { path, keep }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(format!("cannot create {}: {e}", path.display())),
            }
        }
        Err(format!(
            "cannot create a run directory for {name:?} in {}: 1000 are taken",
            root.display()
        ))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// Creates `dir` (and its parents) with mode 0700 if missing.
pub fn create_private_dir(dir: &Path) -> Result<(), String> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))
}

/// Writes `text` to a new file `path` readable by its owner only (a
/// configuration may hold passwords).
pub fn write_private(path: &Path, text: &str) -> Result<(), String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn safe_names_are_one_plain_component() {
        for (name, want) in [
            ("..", "_.."),
            (".", "_."),
            ("", "_"),
            ("../x", "_.._x"),
            ("a/../../b", "a_.._.._b"),
            ("/etc", "_etc"),
            ("conform/partial resync", "conform_partial_resync"),
            ("ok-name_1.2", "ok-name_1.2"),
            ("nul\0\n", "nul__"),
        ] {
            assert_eq!(safe_name(name), want, "{name:?}");
        }
        assert_eq!(safe_name(&"x".repeat(300)).len(), 100);
    }

    #[test]
    fn temp_roots_are_private_unique_and_removed() {
        let a = TempRoot::create().unwrap();
        let b = TempRoot::create().unwrap();
        assert_ne!(a.path(), b.path());
        assert_eq!(mode(a.path()), 0o700);
        let name = a.path().file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with("redsim-conform-") && name.len() > "redsim-conform-".len());
        assert_ne!(name, format!("redsim-conform-{}", std::process::id()));
        let p = a.path().to_path_buf();
        std::fs::write(p.join("f"), "x").unwrap();
        drop(a);
        assert!(!p.exists());
    }

    #[test]
    fn run_dirs_stay_inside_their_root_and_remove_only_themselves() {
        let outer = TempRoot::create().unwrap();
        let root = outer.path().join("root");
        std::fs::create_dir(&root).unwrap();
        std::fs::write(outer.path().join("canary"), "x").unwrap();
        std::fs::write(root.join("canary"), "x").unwrap();
        for name in ["..", "../x", "a/../../b", ".", "/", ""] {
            let d = RunDir::create(&root, name, false).unwrap();
            assert_eq!(d.path().parent(), Some(root.as_path()), "{name:?}");
            assert_eq!(mode(d.path()), 0o700);
            std::fs::write(d.path().join("redis.conf"), "x").unwrap();
            drop(d);
            assert!(outer.path().join("canary").exists(), "{name:?}");
            assert!(root.join("canary").exists(), "{name:?}");
            assert_eq!(std::fs::read_dir(&root).unwrap().count(), 1, "{name:?}");
        }
        // Taken names are never reused, and kept directories stay.
        let first = RunDir::create(&root, "s", true).unwrap();
        std::fs::write(first.path().join("log"), "first").unwrap();
        let second = RunDir::create(&root, "s", true).unwrap();
        assert_eq!(second.path(), root.join("s-2"));
        drop((first, second));
        assert_eq!(
            std::fs::read_to_string(root.join("s/log")).unwrap(),
            "first"
        );
    }
}
