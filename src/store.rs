//! `redsim run --out DIR`: each run's outputs kept in a folder of its own,
//! `DIR/<scenario>/<seed>-<n>/`, with `DIR/latest` pointing at the newest,
//! as Jepsen's and Maelstrom's `store/` keep theirs. The folder is numbered,
//! not stamped with the wall clock, so the same runs make the same names.

use std::path::{Path, PathBuf};

/// Creates the next folder for a run at `seed` of the scenario whose
/// file stem is `stem` (`Plan::file_stem`) under `dir`, and returns it.
pub fn next_run_folder(dir: &Path, stem: &str, seed: u64) -> std::io::Result<PathBuf> {
    let parent = dir.join(stem);
    std::fs::create_dir_all(&parent)?;
    let prefix = format!("{seed}-");
    let taken = std::fs::read_dir(&parent)?
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            name.strip_prefix(&prefix)?.parse::<u64>().ok()
        })
        .max()
        .unwrap_or(0);
    // create_dir (not _all) fails if another run took the number meanwhile.
    let mut n = taken + 1;
    loop {
        let folder = parent.join(format!("{prefix}{n}"));
        match std::fs::create_dir(&folder) {
            Ok(()) => return Ok(folder),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => n += 1,
            Err(e) => return Err(e),
        }
    }
}

/// Points `dir/latest` at `folder` (a relative symbolic link, replaced
/// atomically); where links are not available, `dir/latest` is a text file
/// naming the folder.
pub fn point_latest(dir: &Path, folder: &Path) -> std::io::Result<()> {
    let target = folder.strip_prefix(dir).unwrap_or(folder);
    let tmp = dir.join(".latest.tmp");
    let _ = std::fs::remove_file(&tmp);
    #[cfg(unix)]
    std::os::unix::fs::symlink(target, &tmp)?;
    #[cfg(not(unix))]
    std::fs::write(&tmp, target.display().to_string())?;
    std::fs::rename(&tmp, dir.join("latest"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_are_numbered_per_seed_and_latest_follows() {
        let dir = tempfile::tempdir().unwrap();
        let a = next_run_folder(dir.path(), "sentinel__x", 7).unwrap();
        let b = next_run_folder(dir.path(), "sentinel__x", 7).unwrap();
        let c = next_run_folder(dir.path(), "sentinel__x", 8).unwrap();
        assert_eq!(a, dir.path().join("sentinel__x/7-1"));
        assert_eq!(b, dir.path().join("sentinel__x/7-2"));
        assert_eq!(c, dir.path().join("sentinel__x/8-1"));
        point_latest(dir.path(), &a).unwrap();
        point_latest(dir.path(), &b).unwrap();
        std::fs::write(b.join("f"), "x").unwrap();
        let through = std::fs::read_to_string(dir.path().join("latest/f")).unwrap();
        assert_eq!(through, "x");
    }
}
