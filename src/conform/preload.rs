//! Small libraries preloaded into real processes (the clock shim, the host
//! fault shim): each is built once per run with the system's C compiler,
//! and each process it goes into gets a control file of its own, which the
//! harness rewrites in place while the process has it mapped.

use std::os::unix::fs::FileExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use std::collections::BTreeSet;

use crate::scenario::{Fault, Plan};

use super::topology::RealNode;

/// The C compiler: `$CC`, else `cc` on the PATH.
pub(super) fn compiler() -> Option<PathBuf> {
    if let Some(cc) = std::env::var_os("CC") {
        return Some(cc.into());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("cc"))
        .find(|p| p.exists())
}

/// One preloaded library of a run, built the first time a process needs it.
pub(super) struct Library<'a> {
    root: &'a Path,
    stem: &'static str,
    source: &'static str,
    built: Option<PathBuf>,
}

impl<'a> Library<'a> {
    pub fn new(root: &'a Path, stem: &'static str, source: &'static str) -> Self {
        Self {
            root,
            stem,
            source,
            built: None,
        }
    }

    /// Preloads the library into `r` (after any library already preloaded)
    /// with a control file `name` in its directory holding `initial`, whose
    /// path the library reads from the environment variable `var`.
    pub fn attach(
        &mut self,
        r: &mut RealNode,
        name: &str,
        initial: &[u8],
        var: &str,
    ) -> Result<PathBuf, String> {
        let lib = match &self.built {
            Some(lib) => lib.clone(),
            None => self
                .built
                .insert(build_library(self.root, self.stem, self.source)?)
                .clone(),
        };
        let file = r.dir.join(name);
        std::fs::write(&file, initial)
            .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
        let preload = match r.launch.env.iter().position(|(k, _)| k == "LD_PRELOAD") {
            Some(i) => format!("{}:{}", r.launch.env.remove(i).1, lib.display()),
            None => lib.display().to_string(),
        };
        r.launch.env.extend([
            ("LD_PRELOAD".into(), preload),
            (var.into(), file.display().to_string()),
        ]);
        Ok(file)
    }
}

/// The nodes the plan's faults `pick` names, each once, in node order.
pub(super) fn targets(plan: &Plan, pick: impl Fn(&Fault) -> Option<usize>) -> BTreeSet<usize> {
    plan.faults.iter().filter_map(|(_, a)| pick(a)).collect()
}

/// The real process of plan node `node`.
pub(super) fn process<'n>(
    plan: &Plan,
    nodes: &'n mut [RealNode],
    node: usize,
) -> Result<&'n mut RealNode, String> {
    nodes
        .iter_mut()
        .find(|r| r.node == node)
        .ok_or_else(|| format!("{} is not a real process", plan.nodes[node].name))
}

/// Writes a control file in place, never truncated: the process has it
/// mapped.
pub(super) fn rewrite(file: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::OpenOptions::new()
        .write(true)
        .open(file)
        .and_then(|f| f.write_all_at(bytes, 0))
        .map_err(|e| format!("cannot write {}: {e}", file.display()))
}

/// Compiles a preloaded library's C `source` into `root` as
/// `libredsim_<stem>.so`.
pub(super) fn build_library(root: &Path, stem: &str, source: &str) -> Result<PathBuf, String> {
    let cc = compiler().ok_or("redsim's shims need a C compiler (cc)")?;
    let src = root.join(format!("{stem}.c"));
    let lib = root.join(format!("libredsim_{stem}.so"));
    std::fs::write(&src, source).map_err(|e| format!("cannot write {}: {e}", src.display()))?;
    // In a process group of its own: a Ctrl-C is the harness's to handle.
    let out = Command::new(&cc)
        .args(["-shared", "-fPIC", "-O2", "-o"])
        .arg(&lib)
        .arg(&src)
        .process_group(0)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", cc.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} could not build {stem}.c: {}",
            cc.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(lib)
}
