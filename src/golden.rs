//! Golden traces and the determinism self-check. A golden file is the JSONL
//! trace of a bundled scenario at its own seed; tests compare byte for byte
//! and only `redsim golden --update` rewrites them.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::check::RunView as _;
use crate::report::{Format, render_trace};
use crate::scenario::{self, Plan};
use crate::sim::SimError;
use crate::world;

/// Every `.toml` file under the given files and directories, sorted.
/// Symbolic links are followed, but each directory is walked once (by its
/// canonical path), so a link back to an ancestor cannot loop, and a file
/// reached twice through links is listed once.
pub fn scenario_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut walk = Walk::default();
    for p in paths {
        walk.collect(p)?;
    }
    let mut out = walk.out;
    out.sort();
    out.dedup();
    if out.is_empty() {
        let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(format!(
            "no scenario files (*.toml) under {}",
            names.join(", ")
        ));
    }
    Ok(out)
}

#[derive(Default)]
struct Walk {
    out: Vec<PathBuf>,
    /// Canonical paths of the directories walked and files listed.
    seen: std::collections::BTreeSet<PathBuf>,
}

impl Walk {
    fn collect(&mut self, p: &Path) -> Result<(), String> {
        let meta = std::fs::metadata(p).map_err(|e| format!("{}: {e}", p.display()))?;
        // A path that cannot be canonicalised is used as given.
        let canonical = std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        if !self.seen.insert(canonical) {
            return Ok(());
        }
        if meta.is_dir() {
            let entries = std::fs::read_dir(p).map_err(|e| format!("{}: {e}", p.display()))?;
            let mut paths = Vec::new();
            for entry in entries {
                paths.push(entry.map_err(|e| format!("{}: {e}", p.display()))?.path());
            }
            // Sorted, so that of two links to one file the same is kept.
            paths.sort();
            for path in paths {
                if path.is_dir() || path.extension().is_some_and(|x| x == "toml") {
                    self.collect(&path)?;
                }
            }
        } else {
            self.out.push(p.to_path_buf());
        }
        Ok(())
    }
}

/// The JSONL trace of a plan at its own seed.
pub fn trace_of(plan: &Plan) -> Result<String, SimError> {
    let o = world::run(plan, plan.seed)?;
    Ok(render_trace(&o.world, Format::Jsonl, plan.seed))
}

/// The golden file for a scenario: [`Plan::file_stem`].jsonl.
pub fn golden_path(dir: &Path, plan: &Plan) -> PathBuf {
    dir.join(format!("{}.jsonl", plan.file_stem()))
}

pub struct GoldenReport {
    pub text: String,
    pub mismatches: usize,
}

/// Why a golden comparison could not run.
#[derive(Debug, Clone, PartialEq)]
pub enum GoldenError {
    /// A path or scenario is unreadable or invalid.
    BadInput(String),
    /// A scenario's run stopped (e.g. a runaway run).
    Simulation(String),
}

impl std::fmt::Display for GoldenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GoldenError::BadInput(m) | GoldenError::Simulation(m) => f.write_str(m),
        }
    }
}

/// Compares every scenario's trace with its golden file (or rewrites them).
pub fn compare_all(
    dir: &Path,
    paths: &[PathBuf],
    update: bool,
) -> Result<GoldenReport, GoldenError> {
    let mut text = String::new();
    let mut mismatches = 0;
    for file in scenario_files(paths).map_err(GoldenError::BadInput)? {
        let plan = scenario::load(&file).map_err(|e| GoldenError::BadInput(e.to_string()))?;
        let trace = trace_of(&plan)
            .map_err(|e| GoldenError::Simulation(format!("{}: {e}", file.display())))?;
        let golden = golden_path(dir, &plan);
        if update {
            std::fs::create_dir_all(dir)
                .map_err(|e| GoldenError::BadInput(format!("{}: {e}", dir.display())))?;
            std::fs::write(&golden, &trace)
                .map_err(|e| GoldenError::BadInput(format!("{}: {e}", golden.display())))?;
            let _ = writeln!(text, "wrote  {}", golden.display());
            continue;
        }
        match std::fs::read_to_string(&golden) {
            Ok(want) if want == trace => {
                let _ = writeln!(text, "same   {}", golden.display());
            }
            Ok(want) => {
                mismatches += 1;
                let _ = writeln!(
                    text,
                    "DIFFER {}: {}",
                    golden.display(),
                    first_difference(&want, &trace)
                );
            }
            Err(e) => {
                mismatches += 1;
                let _ = writeln!(text, "MISSING {}: {e}", golden.display());
            }
        }
    }
    Ok(GoldenReport { text, mismatches })
}

/// Describes the first line at which two traces differ.
pub fn first_difference(a: &str, b: &str) -> String {
    let mut la = a.lines();
    let mut lb = b.lines();
    let mut n = 1;
    loop {
        match (la.next(), lb.next()) {
            (Some(x), Some(y)) if x == y => n += 1,
            (None, None) => return "identical".into(),
            (x, y) => {
                return format!(
                    "line {n}:\n    expected: {}\n    actual:   {}",
                    x.unwrap_or("<end of trace>"),
                    y.unwrap_or("<end of trace>")
                );
            }
        }
    }
}

/// Runs the plan twice in this process; `Some(description)` of the first
/// diverging event if the two traces differ.
pub fn determinism(plan: &Plan, seed: u64) -> Result<Option<String>, SimError> {
    let a = world::run(plan, seed)?;
    let b = world::run(plan, seed)?;
    let ta = render_trace(&a.world, Format::Jsonl, seed);
    let tb = render_trace(&b.world, Format::Jsonl, seed);
    if ta == tb && a.world.history().iter().eq(b.world.history().iter()) {
        return Ok(None);
    }
    if ta != tb {
        return Ok(Some(first_difference(&ta, &tb)));
    }
    Ok(Some("traces match but client histories differ".into()))
}
