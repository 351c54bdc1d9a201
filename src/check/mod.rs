//! Checkers: pure functions over the client history, the trace and node
//! state, and the expectations a scenario states about them.

pub mod availability;
pub mod groups;
pub mod invariants;
pub mod lost;
pub mod outside;
pub mod rates;
pub mod split_brain;
pub mod stale;
pub mod timeline;
pub mod view;
pub mod windows;

pub use view::RunView;

use std::fmt;

use crate::time::{Micros, Secs};
use crate::trace::names;

/// A comparison such as `> 0`, `>= 1`, `= 0`, `<= 10` or a bare number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cmp {
    Eq(u64),
    AtLeast(u64),
    AtMost(u64),
    Greater(u64),
    Less(u64),
}

impl Cmp {
    pub fn parse(s: &str) -> Result<Cmp, String> {
        let t = s.trim();
        let (op, num) = if let Some(r) = t.strip_prefix(">=") {
            (">=", r)
        } else if let Some(r) = t.strip_prefix("<=") {
            ("<=", r)
        } else if let Some(r) = t.strip_prefix("==") {
            ("=", r)
        } else if let Some(r) = t.strip_prefix('>') {
            (">", r)
        } else if let Some(r) = t.strip_prefix('<') {
            ("<", r)
        } else if let Some(r) = t.strip_prefix('=') {
            ("=", r)
        } else {
            ("=", t)
        };
        let n: u64 = num.trim().replace('_', "").parse().map_err(|_| {
            format!("`{s}` is not a comparison: use e.g. \"> 0\", \">= 1\", \"= 0\", \"<= 10\"")
        })?;
        Ok(match op {
            ">=" => Cmp::AtLeast(n),
            "<=" => Cmp::AtMost(n),
            ">" => Cmp::Greater(n),
            "<" => Cmp::Less(n),
            _ => Cmp::Eq(n),
        })
    }

    pub fn holds(&self, v: u64) -> bool {
        match *self {
            Cmp::Eq(n) => v == n,
            Cmp::AtLeast(n) => v >= n,
            Cmp::AtMost(n) => v <= n,
            Cmp::Greater(n) => v > n,
            Cmp::Less(n) => v < n,
        }
    }
}

impl fmt::Display for Cmp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cmp::Eq(n) => write!(f, "= {n}"),
            Cmp::AtLeast(n) => write!(f, ">= {n}"),
            Cmp::AtMost(n) => write!(f, "<= {n}"),
            Cmp::Greater(n) => write!(f, "> {n}"),
            Cmp::Less(n) => write!(f, "< {n}"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResyncKind {
    Partial,
    Full,
}

impl ResyncKind {
    /// The replica's log line that marks this kind of resync.
    pub fn replica_event(self) -> &'static str {
        match self {
            ResyncKind::Partial => names::redis::PARTIAL_RESYNC_DONE,
            ResyncKind::Full => names::redis::FULL_RESYNC,
        }
    }
}

/// Something a scenario claims about its run. Node fields are node indices.
#[derive(Clone, Debug, PartialEq)]
pub enum Expectation {
    /// The node's role at a time (`master` or `replica`).
    Role {
        at: Micros,
        node: usize,
        role: String,
    },
    /// An `INFO replication` field's value at a time.
    Info {
        at: Micros,
        node: usize,
        field: String,
        equals: String,
    },
    /// How often an event (by its name) occurred, optionally on one node and
    /// within `[after, before]`.
    Event {
        node: Option<usize>,
        name: String,
        count: Cmp,
        after: Option<Micros>,
        before: Option<Micros>,
    },
    /// How often a replica resynced partially or fully.
    Resync {
        node: usize,
        kind: ResyncKind,
        count: Cmp,
        after: Option<Micros>,
        before: Option<Micros>,
    },
    /// Acknowledged writes absent from the final state.
    LostAckedWrites(Cmp),
    /// Lost acknowledged writes whose WAIT reported at least one replica.
    LostWaitedWrites(Cmp),
    /// Acknowledged DELs whose key came back (counted among the lost
    /// writes too).
    LostAckedDeletes(Cmp),
    /// Writes the clients saw acknowledged.
    AckedWrites(Cmp),
    /// Reads that returned a value older than an acknowledged write.
    StaleReads(Cmp),
    /// Never longer than this without an acknowledged write.
    MaxUnavailability(Micros),
    /// One master that every replica (chain) follows and every Sentinel
    /// names, at a time.
    Converged { at: Micros },
    /// Error replies clients got that start with a prefix (e.g. NOREPLICAS).
    ClientErrors { prefix: String, count: Cmp },
    /// The number of keys a node holds at a time.
    Keys { at: Micros, node: usize, count: Cmp },
    /// The average wire size of the Cluster bus messages a node sent from
    /// its start until a time, in bytes.
    BusBytesPerMessage { at: Micros, node: usize, count: Cmp },
    /// An invariant or property holds over the whole run (`converges`,
    /// `one-leader-per-epoch`, ...).
    Invariant(String),
    /// The reply to a named `[[command]]`, as redis-cli prints it, or one
    /// `field:value` line of it (INFO's form).
    Reply {
        name: String,
        field: Option<String>,
        want: ReplyWant,
    },
    /// How many messages the session of a named SUBSCRIBE or PSUBSCRIBE
    /// `[[command]]` received, on one channel or on any.
    Messages {
        name: String,
        channel: Option<String>,
        count: Cmp,
    },
}

/// What a reply (or one field of it) must be.
#[derive(Clone, Debug, PartialEq)]
pub enum ReplyWant {
    Equals(String),
    Prefix(String),
    /// A glob-style pattern, as Redis matches them (stringmatchlen():
    /// `*`, `?`, `[a-z]`, `\` escapes).
    Pattern(String),
}

impl ReplyWant {
    pub fn holds(&self, got: &str) -> bool {
        match self {
            ReplyWant::Equals(s) => got == s,
            ReplyWant::Prefix(p) => got.starts_with(p.as_str()),
            ReplyWant::Pattern(p) => crate::proto::util::stringmatch(p, got, false),
        }
    }
}

impl Expectation {
    /// When this must be checked: at a time during the run, or at the end.
    pub fn checkpoint(&self) -> Option<Micros> {
        match self {
            Expectation::Role { at, .. }
            | Expectation::Info { at, .. }
            | Expectation::Keys { at, .. }
            | Expectation::BusBytesPerMessage { at, .. }
            | Expectation::Converged { at } => Some(*at),
            _ => None,
        }
    }

    /// Describes the expectation in words, naming nodes by `names`.
    pub fn describe(&self, names: &[String]) -> String {
        let window = |after: &Option<Micros>, before: &Option<Micros>| match (after, before) {
            (Some(a), Some(b)) => format!(" between {} and {}", Secs(*a), Secs(*b)),
            (Some(a), None) => format!(" after {}", Secs(*a)),
            (None, Some(b)) => format!(" before {}", Secs(*b)),
            (None, None) => String::new(),
        };
        match self {
            Expectation::Role { at, node, role } => {
                format!("{} is {role} at {}", names[*node], Secs(*at))
            }
            Expectation::Info {
                at,
                node,
                field,
                equals,
            } => format!("{} INFO {field} = {equals} at {}", names[*node], Secs(*at)),
            Expectation::Event {
                node,
                name,
                count,
                after,
                before,
            } => format!(
                "event \"{name}\"{} occurs {count} times{}",
                node.map(|n| format!(" on {}", names[n]))
                    .unwrap_or_default(),
                window(after, before)
            ),
            Expectation::Resync {
                node,
                kind,
                count,
                after,
                before,
            } => format!(
                "{} {} resyncs {count}{}",
                names[*node],
                match kind {
                    ResyncKind::Partial => "partial",
                    ResyncKind::Full => "full",
                },
                window(after, before)
            ),
            Expectation::LostAckedWrites(c) => format!("lost acknowledged writes {c}"),
            Expectation::LostWaitedWrites(c) => {
                format!("lost writes that WAIT confirmed on a replica {c}")
            }
            Expectation::LostAckedDeletes(c) => format!("lost acknowledged deletes {c}"),
            Expectation::AckedWrites(c) => format!("acknowledged writes {c}"),
            Expectation::StaleReads(c) => format!("stale reads {c}"),
            Expectation::MaxUnavailability(d) => {
                format!("never more than {} without an acknowledged write", Secs(*d))
            }
            Expectation::Converged { at } => format!("converged at {}", Secs(*at)),
            Expectation::ClientErrors { prefix, count } => {
                format!("client errors starting with {prefix} {count}")
            }
            Expectation::Keys { at, node, count } => {
                format!("{} holds {count} keys at {}", names[*node], Secs(*at))
            }
            Expectation::Reply { name, field, want } => {
                let what = match field {
                    Some(f) => format!("the reply to `{name}` has {f}"),
                    None => format!("the reply to `{name}`"),
                };
                match want {
                    ReplyWant::Equals(s) => format!("{what} = {s:?}"),
                    ReplyWant::Prefix(p) => format!("{what} starting with {p:?}"),
                    ReplyWant::Pattern(p) => format!("{what} matching {p:?}"),
                }
            }
            Expectation::Messages {
                name,
                channel,
                count,
            } => match channel {
                Some(ch) => format!("`{name}` receives {count} messages on {ch}"),
                None => format!("`{name}` receives {count} messages"),
            },
            Expectation::BusBytesPerMessage { at, node, count } => format!(
                "{}'s cluster bus messages average {count} bytes until {}",
                names[*node],
                Secs(*at)
            ),
            Expectation::Invariant(name) => format!("invariant {name} holds"),
        }
    }
}

/// The verdict on one expectation, with what was observed.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    pub description: String,
    pub holds: bool,
    pub observed: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparisons_parse_and_hold() {
        assert_eq!(Cmp::parse("> 0"), Ok(Cmp::Greater(0)));
        assert_eq!(Cmp::parse(">=1"), Ok(Cmp::AtLeast(1)));
        assert_eq!(Cmp::parse("= 0"), Ok(Cmp::Eq(0)));
        assert_eq!(Cmp::parse("12"), Ok(Cmp::Eq(12)));
        assert!(Cmp::parse("lots").is_err());
        assert!(Cmp::Greater(0).holds(1));
        assert!(!Cmp::AtMost(10).holds(11));
    }

    #[test]
    fn a_reply_pattern_is_a_redis_glob() {
        let want = ReplyWant::Pattern("1) \"10.0.0.[23]\"*".into());
        assert!(want.holds("1) \"10.0.0.3\"\n2) \"6379\""));
        assert!(!want.holds("1) \"10.0.0.1\"\n2) \"6379\""));
        assert!(ReplyWant::Pattern("OK".into()).holds("OK"));
        assert!(!ReplyWant::Pattern("OK".into()).holds("OK!"));
    }
}
