//! Scenario files: TOML with redis.conf names. Parsing checks every key and
//! value and resolves names, producing a [`Plan`] the simulation runs.

mod build;
mod builder;
pub mod bundled;
pub mod command;
pub mod conform;
pub mod connection;
pub mod error;
mod expect;
pub mod fault;
mod fuzz;
mod groups;
pub mod limits;
pub mod liveness;
pub mod overrides;
mod plan;
pub mod publish;
mod raw;
pub mod settings;
pub mod template;
mod workload;

use crate::proto::slots::{SLOTS, SlotSet};
pub use error::ScenarioError;
use error::Source;

use builder::Builder;
pub use fault::{FAULT_KEYS, Fault, FaultKind};
pub use groups::redis_names;
pub use plan::{
    Bounds, ClusterPlan, FuzzSettings, Group, NodeKind, NodePlan, PROPERTIES, Plan, Publish,
    SENTINEL_OFFSET, SwarmRange,
};
use raw::RawScenario;

/// `0-5460 5462 6000-6100`: slot numbers and inclusive ranges.
fn parse_slot_ranges(text: &str) -> Result<SlotSet, String> {
    let mut set = SlotSet::default();
    let bad = |p: &str| format!("`{p}` is not a slot or a range of slots (0-{})", SLOTS - 1);
    for part in text.split_whitespace() {
        let (lo, hi) = match part.split_once('-') {
            Some((a, b)) => (a.parse::<u16>(), b.parse::<u16>()),
            None => (part.parse::<u16>(), part.parse::<u16>()),
        };
        let (Ok(lo), Ok(hi)) = (lo, hi) else {
            return Err(bad(part));
        };
        if lo > hi || usize::from(hi) >= SLOTS {
            return Err(bad(part));
        }
        for slot in lo..=hi {
            set.insert(slot);
        }
    }
    if set.is_empty() {
        return Err("a master needs at least one slot".into());
    }
    Ok(set)
}

/// Reads and validates a scenario file.
pub fn load(path: &std::path::Path) -> Result<Plan, ScenarioError> {
    let text = read_text(path)?;
    parse(&path.display().to_string(), &text)
}

/// A scenario file's plan with `--set` overrides applied (see
/// [`overrides`]): the file is checked first, so its own errors keep their
/// lines and columns.
pub fn load_with(path: &std::path::Path, sets: &[String]) -> Result<Plan, ScenarioError> {
    load_text_with(path, sets).map(|(plan, _)| plan)
}

/// [`load_with`], and the scenario's text with the overrides written in.
pub fn load_text_with(
    path: &std::path::Path,
    sets: &[String],
) -> Result<(Plan, String), ScenarioError> {
    let text = read_text(path)?;
    let file = path.display().to_string();
    let plan = parse(&file, &text)?;
    if sets.is_empty() {
        return Ok((plan, text));
    }
    let text = overrides::apply(&file, &text, sets)?;
    Ok((parse(&file, &text)?, text))
}

/// Reads a scenario file's text: at most [`limits::MAX_FILE_BYTES`], and
/// UTF-8 (the first invalid byte is reported at its line and column).
pub fn read_text(path: &std::path::Path) -> Result<String, ScenarioError> {
    use std::io::Read;
    let file = path.display().to_string();
    let unreadable = |message: String| ScenarioError {
        file: file.clone(),
        line: 0,
        col: 0,
        message,
        hint: None,
    };
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        // Not on disk: a bundled scenario by that name, embedded in the
        // binary, so that an installed redsim runs them anywhere.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some((_, text)) = bundled::find(&file) {
                return Ok(text.to_string());
            }
            let mut err = unreadable(format!("cannot read the scenario: {e}"));
            err.hint = bundled::closest(&file).map(|n| {
                format!("did you mean the bundled scenario `{n}`? (`redsim list` lists them)")
            });
            return Err(err);
        }
        Err(e) => return Err(unreadable(format!("cannot read the scenario: {e}"))),
    };
    if f.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(unreadable(
            "cannot read the scenario: it is a directory".into(),
        ));
    }
    // Read at most one byte past the limit: a huge file (or /dev/zero)
    // is refused without reading it all.
    let mut bytes = Vec::new();
    f.take(limits::MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| unreadable(format!("cannot read the scenario: {e}")))?;
    if bytes.len() as u64 > limits::MAX_FILE_BYTES {
        return Err(unreadable(format!(
            "the scenario is larger than {} bytes (1 MiB): scenario files are small text files",
            limits::MAX_FILE_BYTES
        )));
    }
    if let Some((at, message)) = limits::utf8_error(&bytes) {
        let valid = std::str::from_utf8(&bytes[..at]).unwrap_or_default();
        let src = Source {
            file: &file,
            text: valid,
        };
        return Err(src.error(at..at, message));
    }
    String::from_utf8(bytes).map_err(|e| unreadable(e.to_string()))
}

/// Parses scenario text; `file` is used in error messages.
pub fn parse(file: &str, text: &str) -> Result<Plan, ScenarioError> {
    let src = Source { file, text };
    let raw: RawScenario = toml::from_str(text).map_err(|e| src.from_toml(&e))?;
    limits::check_document(text).map_err(|(span, m)| src.error(span, m))?;
    Builder { src: &src }.build(raw)
}
