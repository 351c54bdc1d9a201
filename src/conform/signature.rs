//! The outcome signature of a run: named fields, each either an exact value
//! (sequences, choices, texts, offsets) or a timing. Extracted by the same
//! code from real and simulated runs. Topologies add their own fields
//! (Cluster: failover winner, MOVED texts) under their own names.

use crate::check::timeline::failover_times;
use crate::client::Outcome;
use crate::sim::time::Micros;
use crate::trace::{Event, Source};

use super::observe::Observed;
use super::spec::ConformSpec;

/// One field's value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// Compared exactly.
    Exact(String),
    /// Compared against the simulator's range over seeds.
    Timing(Option<Micros>),
}

/// A field: its name, the group it belongs to (a `compare` entry) and value.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub group: &'static str,
    pub name: String,
    pub value: Value,
}

pub type Signature = Vec<Field>;

fn exact(group: &'static str, name: impl Into<String>, v: impl Into<String>) -> Field {
    Field {
        group,
        name: name.into(),
        value: Value::Exact(v.into()),
    }
}

/// Extracts the fields `spec` compares from what a run showed.
pub fn extract(obs: &Observed, spec: &ConformSpec) -> Signature {
    let mut sig = Vec::new();
    let fault = first_fault(&obs.events);
    if spec.compares("sentinel-events") {
        sig.push(exact(
            "sentinel-events",
            "leader's events after the fault",
            leader_events(obs, fault).join(" | "),
        ));
        sig.push(exact(
            "sentinel-events",
            "+switch-master per Sentinel",
            switch_per_sentinel(obs).join(", "),
        ));
    }
    if spec.compares("promoted") {
        sig.push(exact("promoted", "promoted", promoted(&obs.events)));
    }
    if spec.compares("resyncs") {
        sig.push(exact("resyncs", "resyncs", resyncs(obs).join(" | ")));
    }
    if spec.compares("client-errors") {
        sig.push(exact(
            "client-errors",
            "client error texts",
            client_errors(obs).join(" | "),
        ));
    }
    if spec.compares("lost-writes") {
        sig.push(exact(
            "lost-writes",
            "acknowledged writes lost",
            obs.lost_writes.to_string(),
        ));
    }
    if spec.compares("timings") {
        let t = failover_times(&obs.events);
        let since = |x: Option<Micros>| t.fault.zip(x).map(|(f, x)| x.saturating_sub(f));
        sig.push(Field {
            group: "timings",
            name: "fault → +odown".into(),
            value: Value::Timing(since(t.odown)),
        });
        sig.push(Field {
            group: "timings",
            name: "fault → +switch-master".into(),
            value: Value::Timing(since(t.switch_master)),
        });
    }
    if spec.compares("checkpoints") {
        for (c, s) in spec.checkpoints.iter().zip(&obs.samples) {
            for f in &c.fields {
                let v = s.fields.get(f).cloned().unwrap_or_else(|| "-".into());
                sig.push(exact(
                    "checkpoints",
                    format!(
                        "{} {f} @{}",
                        obs.names[c.node],
                        crate::sim::time::format_duration(c.at)
                    ),
                    v,
                ));
            }
        }
    }
    sig
}

/// The time of the first scripted fault.
fn first_fault(events: &[Event]) -> Micros {
    events
        .iter()
        .find(|e| e.source == Source::Sim)
        .map_or(0, |e| e.t)
}

/// The Sentinel that announced the first `+switch-master` (else the first
/// `+elected-leader`).
fn leader(events: &[Event]) -> Option<u32> {
    let by = |name: &str| events.iter().find(|e| e.event == name).map(|e| e.node);
    by("+switch-master").or_else(|| by("+elected-leader"))
}

/// The leader's Sentinel events from the fault on, consecutive repeats
/// collapsed. Empty when no Sentinel led a failover.
fn leader_events(obs: &Observed, fault: Micros) -> Vec<String> {
    let Some(l) = leader(&obs.events) else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    for e in obs
        .events
        .iter()
        .filter(|e| e.source == Source::Sentinel && e.node == l && e.t >= fault)
    {
        let s = format!("{} {}", e.event, e.detail).trim_end().to_string();
        if out.last() != Some(&s) {
            out.push(s);
        }
    }
    out
}

/// Per Sentinel (in node order): the node its last `+switch-master` named.
fn switch_per_sentinel(obs: &Observed) -> Vec<String> {
    let mut per: std::collections::BTreeMap<u32, String> = Default::default();
    for e in obs.events.iter().filter(|e| e.event == "+switch-master") {
        let to = e.detail.split(' ').next_back().unwrap_or("").to_string();
        per.insert(e.node, to);
    }
    per.into_iter()
        .map(|(n, to)| format!("{}→{to}", obs.names[n as usize]))
        .collect()
}

/// The node the first `+switch-master` named, or `none`.
fn promoted(events: &[Event]) -> String {
    events
        .iter()
        .find(|e| e.event == "+switch-master")
        .and_then(|e| e.detail.split(' ').next_back())
        .unwrap_or("none")
        .to_string()
}

/// Every resync a master granted, in order: the replica, partial or full
/// with the master's reason, and the offsets the logs name.
fn resyncs(obs: &Observed) -> Vec<String> {
    struct R {
        replica: String,
        text: String,
        full: bool,
    }
    let mut out: Vec<R> = Vec::new();
    let mut asking: Vec<Option<String>> = vec![None; obs.names.len()];
    let mut full_offsets: Vec<(String, String)> = Vec::new();
    for e in obs.events.iter().filter(|e| e.source == Source::Log) {
        let d = e.detail.as_str();
        let me = obs.names[e.node as usize].clone();
        let pending = |a: &mut Vec<Option<String>>| a[e.node as usize].take();
        if let Some(r) = d
            .strip_prefix("Replica ")
            .and_then(|r| r.strip_suffix(" asks for synchronization"))
        {
            asking[e.node as usize] = Some(r.to_string());
        } else if let Some(rest) = d.strip_prefix("Partial resynchronization request from ") {
            let replica = rest.split(' ').next().unwrap_or("").to_string();
            let bytes = between(rest, "Sending ", " bytes");
            let from = between(rest, "from offset ", ".");
            pending(&mut asking);
            out.push(R {
                text: format!("{replica}←{me} partial from {from} ({bytes} bytes)"),
                replica,
                full: false,
            });
        } else if let Some(replica) = d.strip_prefix("Full resync requested by replica ") {
            pending(&mut asking);
            out.push(R {
                text: format!("{replica}←{me} full (no cached master)"),
                replica: replica.to_string(),
                full: true,
            });
        } else if let Some(rest) = d.strip_prefix("Unable to partial resync with replica ") {
            let replica = rest.split(' ').next().unwrap_or("").to_string();
            let req = between(rest, "request was: ", ")");
            pending(&mut asking);
            out.push(R {
                text: format!("{replica}←{me} full (lack of backlog, request {req})"),
                replica,
                full: true,
            });
        } else if let Some(rest) = d.strip_prefix("Partial resynchronization not accepted: ") {
            let replica = pending(&mut asking).unwrap_or_else(|| "?".into());
            let why = if rest.starts_with("Replication ID mismatch") {
                "replication ID mismatch".to_string()
            } else {
                format!(
                    "request {} beyond replid2 end {}",
                    between(rest, "second ID was ", ","),
                    rest.rsplit(' ').next().unwrap_or("")
                )
            };
            out.push(R {
                text: format!("{replica}←{me} full ({why})"),
                replica,
                full: true,
            });
        } else if let Some(rest) = d.strip_prefix("Full resync from master: ") {
            let off = rest.rsplit(':').next().unwrap_or("").to_string();
            full_offsets.push((me, off));
        }
    }
    // The k-th "Full resync from master" line of a replica belongs to the
    // k-th full resync granted to it.
    let mut used = vec![false; full_offsets.len()];
    out.into_iter()
        .map(|r| {
            if !r.full {
                return r.text;
            }
            let k = full_offsets
                .iter()
                .enumerate()
                .position(|(i, (n, _))| !used[i] && *n == r.replica);
            match k {
                Some(i) => {
                    used[i] = true;
                    format!("{} at {}", r.text, full_offsets[i].1)
                }
                None => r.text,
            }
        })
        .collect()
}

/// `s` between the first `a` and the next `b` after it.
fn between<'a>(s: &'a str, a: &str, b: &str) -> &'a str {
    s.split_once(a)
        .map(|(_, r)| r.split_once(b).map_or(r, |(x, _)| x))
        .unwrap_or("")
}

/// Distinct error texts clients saw, in order of first appearance.
fn client_errors(obs: &Observed) -> Vec<String> {
    let mut ops: Vec<&crate::client::Op> = obs.history.iter().collect();
    ops.sort_by_key(|o| o.completed.unwrap_or(o.invoked));
    let mut out: Vec<String> = Vec::new();
    for o in ops {
        if let Outcome::Error(t) = &o.outcome
            && !out.contains(t)
        {
            out.push(t.clone());
        }
    }
    out
}
