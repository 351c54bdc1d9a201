//! The scenario's `[conform]` table: whether the scenario can be run on real
//! Redis, how many simulator seeds to compare against, which signature
//! fields to compare and the INFO checkpoints to take. The replies to the
//! scenario's `[[command]]` lines are compared whatever `compare` names.

use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::ScenarioError;
use super::error::suggest;
use crate::time::{Micros, ms, parse_duration, parse_time};

/// `[conform]` as written in the scenario.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawConform {
    real: Option<Spanned<bool>>,
    reason: Option<Spanned<String>>,
    seeds: Option<Spanned<u32>>,
    compare: Option<Vec<Spanned<String>>>,
    timing_slack: Option<Spanned<String>>,
    exact_offsets: Option<bool>,
    #[serde(default)]
    checkpoint: Vec<RawCheckpoint>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawCheckpoint {
    at: Spanned<String>,
    node: Spanned<String>,
    fields: Vec<Spanned<String>>,
}

/// The signature fields a scenario can compare.
pub const FIELDS: &[&str] = &[
    "sentinel-events",
    "promoted",
    "resyncs",
    "client-errors",
    "lost-writes",
    "timings",
    "checkpoints",
    "acked-writes",
    "write-latency",
    "cluster-elections",
    "cluster-states",
    "cluster-timings",
    "moved",
    "tilt",
];

/// Compared unless `compare` says otherwise: the Sentinel and replication
/// groups, but not `acked-writes`, whose count is exact only where no
/// failover window decides it; Cluster and TILT scenarios name theirs.
pub const DEFAULT_FIELDS: &[&str] = &[
    "sentinel-events",
    "promoted",
    "resyncs",
    "client-errors",
    "lost-writes",
    "timings",
    "checkpoints",
];

/// INFO replication fields a checkpoint can read, plus two derived ones:
/// `master_node` (master_host:master_port as a node name) and `in_sync`
/// (the replica's offset equals its master's), and a Sentinel's
/// `sentinel_tilt`.
pub const INFO_FIELDS: &[&str] = &[
    "role",
    "connected_slaves",
    "master_link_status",
    "master_sync_in_progress",
    "slave_read_repl_offset",
    "slave_repl_offset",
    "slave_priority",
    "master_repl_offset",
    "second_repl_offset",
    "repl_backlog_active",
    "repl_backlog_size",
    "repl_backlog_first_byte_offset",
    "repl_backlog_histlen",
    "min_slaves_good_slaves",
    "master_node",
    "in_sync",
    "sentinel_tilt",
];

/// One INFO checkpoint: read `fields` of `node` at `at`.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    pub at: Micros,
    pub node: usize,
    pub fields: Vec<String>,
}

/// The validated `[conform]` table.
#[derive(Clone, Debug, PartialEq)]
pub struct ConformSpec {
    /// `Some(reason)`: the scenario is compared on the simulator only.
    pub simulator_only: Option<String>,
    /// Simulator seeds: the scenario's seed and the next `seeds - 1`.
    pub seeds: u32,
    pub compare: Vec<String>,
    /// Timings may fall this far outside the simulator's range over seeds
    /// (scheduling noise of a loaded host) and still match.
    pub timing_slack: Micros,
    /// Resyncs name their offsets (false where real timing decides them,
    /// e.g. with Sentinel hellos in the stream).
    pub exact_offsets: bool,
    pub checkpoints: Vec<Checkpoint>,
}

impl ConformSpec {
    pub fn compares(&self, field: &str) -> bool {
        self.compare.iter().any(|f| f == field)
    }
}

/// Validates `[conform]`; `err` builds a file:line:col error from a span.
/// The first `n_servers` of `names` are the Redis servers and Sentinels,
/// whose INFO a checkpoint may read.
pub fn build(
    raw: &RawConform,
    names: &[String],
    n_servers: usize,
    duration: Micros,
    err: &dyn Fn(Range<usize>, String) -> ScenarioError,
) -> Result<ConformSpec, ScenarioError> {
    let real = raw.real.as_ref().is_none_or(|r| *r.get_ref());
    let simulator_only = match (real, &raw.reason) {
        (false, Some(r)) => Some(r.get_ref().clone()),
        (false, None) => {
            return Err(err(
                raw.real.as_ref().map_or(0..0, |r| r.span()),
                "[conform] real = false needs `reason = \"...\"` saying why".into(),
            ));
        }
        (true, Some(r)) => {
            return Err(err(
                r.span(),
                "`reason` explains `real = false`; this scenario runs for real".into(),
            ));
        }
        (true, None) => None,
    };
    let seeds = match &raw.seeds {
        Some(s) if !(1..=1000).contains(s.get_ref()) => {
            return Err(err(s.span(), "seeds is between 1 and 1000".into()));
        }
        Some(s) => *s.get_ref(),
        None => 8,
    };
    let mut compare = Vec::new();
    match &raw.compare {
        None => compare.extend(DEFAULT_FIELDS.iter().map(|f| f.to_string())),
        Some(list) => {
            for f in list {
                one_of(f, FIELDS, "signature field", err)?;
                compare.push(f.get_ref().clone());
            }
        }
    }
    let timing_slack = match &raw.timing_slack {
        Some(s) => parse_duration(s.get_ref()).map_err(|m| err(s.span(), m))?,
        None => ms(250),
    };
    let mut checkpoints = Vec::new();
    for c in &raw.checkpoint {
        let at = parse_time(c.at.get_ref()).map_err(|m| err(c.at.span(), m))?;
        if at > duration {
            return Err(err(
                c.at.span(),
                format!("`{}` is after the end of the run", c.at.get_ref()),
            ));
        }
        let servers: Vec<&str> = names[..n_servers].iter().map(String::as_str).collect();
        let node = one_of(&c.node, &servers, "Redis server or Sentinel", err)?;
        let mut fields = Vec::new();
        for f in &c.fields {
            one_of(f, INFO_FIELDS, "checkpoint field", err)?;
            fields.push(f.get_ref().clone());
        }
        checkpoints.push(Checkpoint { at, node, fields });
    }
    checkpoints.sort_by_key(|c| c.at);
    Ok(ConformSpec {
        simulator_only,
        seeds,
        compare,
        timing_slack,
        exact_offsets: raw.exact_offsets.unwrap_or(true),
        checkpoints,
    })
}

/// The index of `s` in `allowed`, or an error with a suggestion.
fn one_of(
    s: &Spanned<String>,
    allowed: &[&str],
    what: &str,
    err: &dyn Fn(Range<usize>, String) -> ScenarioError,
) -> Result<usize, ScenarioError> {
    allowed
        .iter()
        .position(|a| *a == s.get_ref())
        .ok_or_else(|| {
            let mut e = err(s.span(), format!("unknown {what} `{}`", s.get_ref()));
            e.hint = Some(match suggest(s.get_ref(), allowed) {
                Some(c) => format!("did you mean `{c}`?"),
                None => format!("one of: {}", allowed.join(", ")),
            });
            e
        })
}

#[cfg(test)]
mod tests {
    use crate::scenario::parse;

    const BASE: &str = "name = \"t\"\nduration = \"10s\"\n[topology]\nmasters = 1\nreplicas = 1\n";

    #[test]
    fn a_conform_table_is_validated() {
        let text = format!(
            "{BASE}[conform]\nseeds = 3\ncompare = [\"resyncs\"]\n[[conform.checkpoint]]\nat = \"5s\"\nnode = \"replica-1\"\nfields = [\"in_sync\"]\n"
        );
        let plan = parse("t.toml", &text).unwrap();
        let c = plan.conform.unwrap();
        assert_eq!(c.seeds, 3);
        assert!(c.compares("resyncs") && !c.compares("timings"));
        assert_eq!(c.checkpoints[0].node, 1);
        assert!(parse("t.toml", BASE).unwrap().conform.is_none());
    }

    #[test]
    fn mistakes_name_the_place_and_suggest() {
        let e = parse(
            "t.toml",
            &format!("{BASE}[conform]\ncompare = [\"resync\"]\n"),
        )
        .unwrap_err();
        assert_eq!(e.line, 7);
        assert_eq!(e.hint.as_deref(), Some("did you mean `resyncs`?"));
        let e = parse("t.toml", &format!("{BASE}[conform]\nreal = false\n")).unwrap_err();
        assert!(e.message.contains("reason"), "{}", e.message);
        assert_eq!(e.line, 7);
        let e = parse("t.toml", &format!("{BASE}[conform]\nsedes = 3\n")).unwrap_err();
        assert!(e.message.contains("sedes"), "{}", e.message);
        let text = format!(
            "{BASE}[[conform.checkpoint]]\nat = \"5s\"\nnode = \"replica-2\"\nfields = [\"role\"]\n"
        );
        let e = parse("t.toml", &text).unwrap_err();
        assert!(e.message.contains("replica-2"), "{}", e.message);
        let text = format!(
            "{BASE}[[conform.checkpoint]]\nat = \"50s\"\nnode = \"master\"\nfields = [\"role\"]\n"
        );
        assert!(parse("t.toml", &text).is_err());
    }
}
