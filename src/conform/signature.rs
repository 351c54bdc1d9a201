//! The outcome signature of a run: named fields, each either an exact value
//! (sequences, choices, texts, offsets) or a timing. Extracted by the same
//! code from real and simulated runs. Topologies add their own fields
//! (Cluster: failover winner, MOVED texts) under their own names.

use crate::check::timeline::failover_times;
use crate::history::Outcome;
use crate::time::Micros;
use crate::trace::names;
use crate::trace::{Event, Source};

pub use super::field::{Field, Value};
use super::observe::Observed;
use crate::scenario::conform::ConformSpec;

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
    if spec.compares("moved") {
        sig.push(exact("moved", "-MOVED replies", moved(obs)));
    }
    if spec.compares("cluster-elections") {
        sig.push(exact(
            "cluster-elections",
            "elections won (in order)",
            cluster_elections(obs).join(" | "),
        ));
    }
    if spec.compares("cluster-states") {
        sig.push(exact(
            "cluster-states",
            "cluster state changes after the fault (per node, in order)",
            cluster_states(obs, fault).join(" | "),
        ));
    }
    if spec.compares("resyncs") {
        sig.push(exact(
            "resyncs",
            "resyncs (per replica, in order)",
            resyncs(obs, spec.exact_offsets).join(" | "),
        ));
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
    if spec.compares("acked-writes") {
        let acked = obs
            .history
            .iter()
            .filter(|o| o.kind.is_write() && o.outcome.is_ok())
            .count();
        sig.push(exact(
            "acked-writes",
            "acknowledged writes",
            acked.to_string(),
        ));
    }
    if spec.compares("write-latency") {
        for (client, worst) in longest_write_waits(&obs.history) {
            sig.push(Field {
                group: "write-latency",
                name: format!("workload {client}: longest wait for an acknowledged write"),
                value: Value::Timing(Some(worst)),
            });
        }
    }
    if spec.compares("timings") {
        // Timed from the first fault on the initial master (node 0).
        let from = obs
            .events
            .iter()
            .position(|e| {
                e.source == Source::Sim && e.node == 0 && MASTER_FAULTS.contains(&e.event.as_ref())
            })
            .unwrap_or(0);
        let t = failover_times(&obs.events[from..]);
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
        let convert = obs.events[from..]
            .iter()
            .find(|e| e.event == names::sentinel::CONVERT_TO_SLAVE)
            .map(|e| e.t);
        // Only where a conversion happened: the field is then compared by
        // name, and a run without one shows it as absent.
        if convert.is_some() {
            sig.push(Field {
                group: "timings",
                name: "fault → +convert-to-slave".into(),
                value: Value::Timing(since(convert)),
            });
        }
    }
    if spec.compares("cluster-timings") {
        // Timed from the first scripted fault, whichever node it hits.
        let since = |prefix: &str, suffix: &str| {
            obs.events
                .iter()
                .find(|e| {
                    e.source == Source::Log
                        && e.t >= fault
                        && e.detail.starts_with(prefix)
                        && e.detail.ends_with(suffix)
                })
                .map(|e| e.t - fault)
        };
        sig.push(Field {
            group: "cluster-timings",
            name: "fault → FAIL (quorum reached)".into(),
            value: Value::Timing(since("Marking node ", " as failing (quorum reached).")),
        });
        sig.push(Field {
            group: "cluster-timings",
            name: "fault → failover election won".into(),
            value: Value::Timing(since("Failover election won", "")),
        });
    }
    if spec.compares("tilt") {
        tilt(obs, fault, &mut sig);
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
                        crate::time::format_duration(c.at)
                    ),
                    v,
                ));
            }
        }
    }
    // Every command line's reply, whatever `compare` names.
    sig.extend(super::replies::fields(&obs.replies, &obs.names));
    sig
}

/// Each workload client's longest wait for an acknowledged write, by its
/// number (1, 2, ... in the plan's order, as both runs number them): how
/// long a stalling disk or a blocked server held it up.
fn longest_write_waits(history: &[crate::history::Op]) -> std::collections::BTreeMap<u32, Micros> {
    let mut worst = std::collections::BTreeMap::new();
    for op in history
        .iter()
        .filter(|o| o.kind.is_write() && o.outcome.is_ok())
    {
        let waited = op.completed.map_or(0, |c| c.saturating_sub(op.invoked));
        let w = worst.entry(op.client).or_insert(0);
        *w = waited.max(*w);
    }
    worst
}

/// Faults that start a failover when they hit the master.
const MASTER_FAULTS: &[&str] = &["kill", "crash", "pause", "shutdown", "debug-sleep"];

/// The time of the first scripted fault.
fn first_fault(events: &[Event]) -> Micros {
    events
        .iter()
        .find(|e| e.source == Source::Sim)
        .map_or(0, |e| e.t)
}

/// TILT: each Sentinel's `±tilt` events in order, every failure
/// detection after the fault (TILT must hold them back), and the times
/// from the fault to the first `+tilt` and the first `-tilt`.
fn tilt(obs: &Observed, fault: Micros, sig: &mut Signature) {
    let after: Vec<&Event> = obs
        .events
        .iter()
        .filter(|e| e.source == Source::Sentinel && e.t >= fault)
        .collect();
    let mut per_sentinel: std::collections::BTreeMap<u32, Vec<&str>> = Default::default();
    for e in after.iter().filter(|e| {
        matches!(
            e.event.as_ref(),
            names::sentinel::TILT | names::sentinel::TILT_OFF
        )
    }) {
        per_sentinel
            .entry(e.node)
            .or_default()
            .push(e.event.as_ref());
    }
    let text: Vec<String> = per_sentinel
        .iter()
        .map(|(n, evs)| format!("{} {}", obs.names[*n as usize], evs.join(" ")))
        .collect();
    sig.push(exact("tilt", "±tilt per Sentinel", text.join(", ")));
    let mut downs: Vec<String> = after
        .iter()
        .filter(|e| {
            matches!(
                e.event.as_ref(),
                names::sentinel::SDOWN | names::sentinel::ODOWN
            )
        })
        .map(|e| format!("{} {} {}", obs.names[e.node as usize], e.event, e.detail))
        .collect();
    downs.sort();
    downs.dedup();
    sig.push(exact(
        "tilt",
        "+sdown/+odown after the fault",
        downs.join(" | "),
    ));
    for ev in [names::sentinel::TILT, names::sentinel::TILT_OFF] {
        let t = after.iter().find(|e| e.event == ev).map(|e| e.t - fault);
        sig.push(Field {
            group: "tilt",
            name: format!("fault → {ev}"),
            value: Value::Timing(t),
        });
    }
}

/// The Sentinel that led the last failover: the last to announce
/// `+elected-leader`.
fn leader(events: &[Event]) -> Option<u32> {
    events
        .iter()
        .rev()
        .find(|e| e.event == names::sentinel::ELECTED_LEADER)
        .map(|e| e.node)
}

/// Sentinel events that tell the failover's story. Left out: `+slave`,
/// `±role-change`, `±sdown slave` and hellos, whose order against the
/// others follows each Sentinel's INFO and PING timers, and the leader's
/// `-odown`, which comes only if one of its once-a-second
/// is-master-down-by-addr rounds reaches the others after they switched.
const STORY: &[&str] = &[
    names::sentinel::SDOWN,
    names::sentinel::ODOWN,
    names::sentinel::NEW_EPOCH,
    names::sentinel::TRY_FAILOVER,
    names::sentinel::VOTE_FOR_LEADER,
    names::sentinel::ELECTED_LEADER,
    names::sentinel::FAILOVER_STATE_SELECT_SLAVE,
    names::sentinel::SELECTED_SLAVE,
    names::sentinel::FAILOVER_STATE_SEND_SLAVEOF_NOONE,
    names::sentinel::FAILOVER_STATE_WAIT_PROMOTION,
    names::sentinel::PROMOTED_SLAVE,
    names::sentinel::FAILOVER_STATE_RECONF_SLAVES,
    names::sentinel::SLAVE_RECONF_SENT,
    names::sentinel::SLAVE_RECONF_INPROG,
    names::sentinel::SLAVE_RECONF_DONE,
    names::sentinel::FAILOVER_END,
    names::sentinel::FAILOVER_END_FOR_TIMEOUT,
    names::sentinel::SWITCH_MASTER,
    names::sentinel::CONVERT_TO_SLAVE,
    names::sentinel::FAILOVER_ABORT_NOT_ELECTED,
    names::sentinel::FAILOVER_ABORT_NO_GOOD_SLAVE,
    names::sentinel::FAILOVER_ABORT_SLAVE_TIMEOUT,
    names::sentinel::TILT,
    names::sentinel::TILT_OFF,
];

/// The leader's failover events from the fault on (master SDOWN/ODOWN and
/// the failover's own steps), consecutive repeats collapsed; the quorum
/// count of `+odown` (how many had seen SDOWN by then) is left out.
fn leader_events(obs: &Observed, fault: Micros) -> Vec<String> {
    let Some(l) = leader(&obs.events) else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    for e in obs.events.iter().filter(|e| {
        e.source == Source::Sentinel
            && e.node == l
            && e.t >= fault
            && STORY.contains(&e.event.as_ref())
            && (e.event != names::sentinel::SDOWN || e.detail.starts_with("master "))
    }) {
        let detail = match e.detail.split_once(" #quorum") {
            Some((d, _)) => d,
            None => e.detail.as_str(),
        };
        let s = format!("{} {detail}", e.event).trim_end().to_string();
        if out.last() != Some(&s) {
            out.push(s);
        }
    }
    out
}

/// Per Sentinel (in node order): the node its last `+switch-master` named.
fn switch_per_sentinel(obs: &Observed) -> Vec<String> {
    let mut per: std::collections::BTreeMap<u32, String> = Default::default();
    for e in obs
        .events
        .iter()
        .filter(|e| e.event == names::sentinel::SWITCH_MASTER)
    {
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
        .find(|e| e.event == names::sentinel::SWITCH_MASTER)
        .and_then(|e| e.detail.split(' ').next_back())
        .unwrap_or("none")
        .to_string()
}

/// Cluster: whether every `-MOVED <slot> <node>` a client got names the
/// slot of the key it sent (CRC16 mod 16384) and which nodes they named.
fn moved(obs: &Observed) -> String {
    use crate::proto::slots::key_hash_slot;
    let mut targets: Vec<&str> = Vec::new();
    let mut slots_match = true;
    for o in &obs.history {
        let Outcome::Error(t) = &o.outcome else {
            continue;
        };
        let Some((slot, node)) = t.strip_prefix("MOVED ").and_then(|r| r.split_once(' ')) else {
            continue;
        };
        if slot.parse::<u16>().ok() != Some(key_hash_slot(o.key.as_bytes())) {
            slots_match = false;
        }
        if !targets.contains(&node) {
            targets.push(node);
        }
    }
    targets.sort_unstable();
    format!(
        "slots {}; to {}",
        if slots_match {
            "match the keys"
        } else {
            "DIFFER from the keys"
        },
        targets.join(", ")
    )
}

/// Cluster: the replicas that won an election, in order, with the epochs
/// they asked for (from the log lines real and simulated nodes share).
fn cluster_elections(obs: &Observed) -> Vec<String> {
    let mut out = Vec::new();
    let mut asked: Vec<Option<String>> = vec![None; obs.names.len()];
    for e in obs.events.iter().filter(|e| e.source == Source::Log) {
        let d = e.detail.as_str();
        let node = e.node as usize;
        if let Some(epoch) = d
            .strip_prefix("Starting a failover election for epoch ")
            .and_then(|r| r.strip_suffix('.'))
        {
            asked[node] = Some(epoch.to_string());
        } else if d == names::redis::ELECTION_WON {
            let epoch = asked[node].take().unwrap_or_else(|| "?".into());
            out.push(format!("{} won epoch {epoch}", obs.names[node]));
        }
    }
    out
}

/// Each node's cluster state changes from the first fault on, in node
/// order (`master-1 fail ok`), for the nodes whose state changed.
fn cluster_states(obs: &Observed, fault: Micros) -> Vec<String> {
    let mut states: Vec<Vec<&str>> = vec![Vec::new(); obs.names.len()];
    for e in obs
        .events
        .iter()
        .filter(|e| e.source == Source::Log && e.t >= fault)
    {
        if let Some(s) = e.detail.strip_prefix("Cluster state changed: ") {
            states[e.node as usize].push(s.trim());
        }
    }
    (obs.names.iter().zip(&states))
        .filter(|(_, s)| !s.is_empty())
        .map(|(name, s)| format!("{name} {}", s.join(" ")))
        .collect()
}

/// Every resync a master granted, grouped by replica (in name order) and in
/// order for each: partial or full with the master's reason, and with
/// `offsets`, the offsets the logs name. Across replicas the order follows
/// each one's reconnect timer, so it is not part of the signature.
fn resyncs(obs: &Observed, offsets: bool) -> Vec<String> {
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
                text: if offsets {
                    format!("{replica}←{me} partial from {from} ({bytes} bytes)")
                } else {
                    format!("{replica}←{me} partial")
                },
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
                text: if offsets {
                    format!("{replica}←{me} full (lack of backlog, request {req})")
                } else {
                    format!("{replica}←{me} full (lack of backlog)")
                },
                replica,
                full: true,
            });
        } else if let Some(rest) = d.strip_prefix("Partial resynchronization not accepted: ") {
            let replica = pending(&mut asking).unwrap_or_else(|| "?".into());
            let why = if rest.starts_with("Replication ID mismatch") {
                "replication ID mismatch".to_string()
            } else if !offsets {
                "request beyond replid2 end".to_string()
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
    out.sort_by(|a, b| a.replica.cmp(&b.replica));
    out.into_iter()
        .map(|r| {
            if !r.full || !offsets {
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
    let mut ops: Vec<&crate::history::Op> = obs.history.iter().collect();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{Op, OpKind};
    use crate::scenario::conform::FIELDS;
    use crate::trace::Level;

    fn spec(exact_offsets: bool) -> ConformSpec {
        ConformSpec {
            simulator_only: None,
            seeds: 1,
            compare: FIELDS.iter().map(|f| f.to_string()).collect(),
            timing_slack: 0,
            exact_offsets,
            checkpoints: Vec::new(),
        }
    }

    fn ev(t: Micros, node: u32, source: Source, event: &str, detail: &str) -> Event {
        Event {
            t,
            node,
            source,
            level: Level::Notice,
            event: event.to_string().into(),
            detail: detail.into(),
        }
    }

    fn observed() -> Observed {
        let names = [
            "master",
            "replica-1",
            "replica-2",
            "sentinel-1",
            "sentinel-2",
            "client-1",
        ];
        let log = |t, n, d: &str| ev(t, n, Source::Log, "", d);
        let sen = |t, n, e: &str, d: &str| ev(t, n, Source::Sentinel, e, d);
        let events = vec![
            log(1, 0, "Replica replica-2 asks for synchronization"),
            log(1, 0, "Full resync requested by replica replica-2"),
            log(2, 2, "Full resync from master: <id>:0"),
            log(3, 0, "Replica replica-1 asks for synchronization"),
            log(3, 0, "Full resync requested by replica replica-1"),
            log(4, 1, "Full resync from master: <id>:14"),
            ev(10, 0, Source::Sim, "kill", "SIGKILL master"),
            sen(11, 3, "+sdown", "master mymaster master"),
            sen(11, 4, "+sdown", "master mymaster master"),
            sen(12, 4, "+odown", "master mymaster master #quorum 2/2"),
            sen(
                12,
                4,
                "+slave",
                "slave replica-1 replica-1 @ mymaster master",
            ),
            sen(13, 4, "+elected-leader", "master mymaster master"),
            sen(14, 3, "+switch-master", "mymaster master replica-2"),
            sen(15, 4, "+switch-master", "mymaster master replica-2"),
            log(
                16,
                2,
                "Partial resynchronization request from replica-1 accepted. Sending 5 bytes of backlog starting from offset 100.",
            ),
        ];
        let op = |seq, outcome| Op {
            completed: Some(seq as Micros),
            outcome,
            ..Op::pending(1, seq, OpKind::Set, "key:0".into(), 0, seq as Micros)
        };
        Observed {
            names: names.iter().map(|n| n.to_string()).collect(),
            events,
            samples: Vec::new(),
            history: vec![
                op(1, Outcome::Ok),
                op(2, Outcome::Error("READONLY x".into())),
                op(3, Outcome::Timeout),
                op(4, Outcome::Error("READONLY x".into())),
                op(5, Outcome::Error("NOREPLICAS y".into())),
            ],
            lost_writes: 3,
            replies: Vec::new(),
        }
    }

    fn get<'a>(sig: &'a Signature, name: &str) -> &'a Value {
        &sig.iter().find(|f| f.name == name).expect(name).value
    }

    #[test]
    fn extracts_the_failover_story_of_the_leader() {
        let sig = extract(&observed(), &spec(true));
        assert_eq!(
            get(&sig, "leader's events after the fault"),
            &Value::Exact(
                "+sdown master mymaster master | +odown master mymaster master | +elected-leader master mymaster master | +switch-master mymaster master replica-2".into()
            )
        );
        assert_eq!(get(&sig, "promoted"), &Value::Exact("replica-2".into()));
        assert_eq!(
            get(&sig, "+switch-master per Sentinel"),
            &Value::Exact("sentinel-1→replica-2, sentinel-2→replica-2".into())
        );
        assert_eq!(get(&sig, "fault → +odown"), &Value::Timing(Some(2)));
        assert_eq!(get(&sig, "fault → +switch-master"), &Value::Timing(Some(4)));
        assert_eq!(
            get(&sig, "acknowledged writes lost"),
            &Value::Exact("3".into())
        );
        assert_eq!(
            get(&sig, "client error texts"),
            &Value::Exact("READONLY x | NOREPLICAS y".into())
        );
    }

    #[test]
    fn resyncs_are_grouped_by_replica_with_their_offsets() {
        let sig = extract(&observed(), &spec(true));
        assert_eq!(
            get(&sig, "resyncs (per replica, in order)"),
            &Value::Exact(
                "replica-1←master full (no cached master) at 14 | replica-1←replica-2 partial from 100 (5 bytes) | replica-2←master full (no cached master) at 0".into()
            )
        );
        let sig = extract(&observed(), &spec(false));
        assert_eq!(
            get(&sig, "resyncs (per replica, in order)"),
            &Value::Exact(
                "replica-1←master full (no cached master) | replica-1←replica-2 partial | replica-2←master full (no cached master)".into()
            )
        );
    }

    #[test]
    fn only_compared_groups_are_extracted() {
        let mut s = spec(true);
        s.compare = vec!["promoted".into()];
        let sig = extract(&observed(), &s);
        assert_eq!(sig.len(), 1);
        assert_eq!(sig[0].group, "promoted");
    }

    /// Cluster fields: the elections won with their epochs, and whether
    /// Each node's cluster states after the fault, in order; a change
    /// before the fault is not one the fault caused.
    #[test]
    fn cluster_state_changes_per_node() {
        let mut obs = observed();
        let log = |t, n, d: &str| ev(t, n, Source::Log, "", d);
        obs.events.extend([
            log(5, 1, "Cluster state changed: ok"),
            log(20, 2, "Cluster state changed: fail"),
            log(21, 0, "Cluster state changed: fail"),
            log(22, 2, "Cluster state changed: ok"),
            log(30, 0, "Cluster state changed: ok"),
        ]);
        obs.events.sort_by_key(|e| e.t);
        let sig = extract(&obs, &spec(true));
        assert_eq!(
            get(
                &sig,
                "cluster state changes after the fault (per node, in order)"
            ),
            &Value::Exact("master fail ok | replica-2 fail ok".into())
        );
    }

    /// each MOVED names the key's slot (key:0 hashes to slot 2592).
    #[test]
    fn cluster_elections_and_moved_replies() {
        let mut obs = observed();
        let log = |t, n, d: &str| ev(t, n, Source::Log, "", d);
        obs.events.extend([
            log(20, 2, "Starting a failover election for epoch 7."),
            log(21, 2, "Failover election won: I'm the new master."),
            log(22, 1, "Failover election won: I'm the new master."),
        ]);
        let base = obs.history[0].clone();
        let moved = |t: &str| Op {
            outcome: Outcome::Error(t.into()),
            ..base.clone()
        };
        obs.history = vec![moved("MOVED 2592 replica-2"), moved("MOVED 2592 master")];
        let sig = extract(&obs, &spec(true));
        assert_eq!(
            get(&sig, "elections won (in order)"),
            &Value::Exact("replica-2 won epoch 7 | replica-1 won epoch ?".into())
        );
        assert_eq!(
            get(&sig, "-MOVED replies"),
            &Value::Exact("slots match the keys; to master, replica-2".into())
        );
        obs.history = vec![moved("MOVED 12182 master")];
        let sig = extract(&obs, &spec(true));
        assert_eq!(
            get(&sig, "-MOVED replies"),
            &Value::Exact("slots DIFFER from the keys; to master".into())
        );
    }

    #[test]
    fn cluster_timings_run_from_the_fault_to_the_first_fail_and_win() {
        let mut obs = observed();
        let log = |t, n, d: &str| ev(t, n, Source::Log, "", d);
        let fail = |t, n| log(t, n, "Marking node abc as failing (quorum reached).");
        obs.events.extend([
            fail(5, 1),
            fail(40, 1),
            fail(44, 2),
            log(45, 2, "Failover election won: I'm the new master."),
            log(60, 1, "Failover election won: I'm the new master."),
        ]);
        obs.events.sort_by_key(|e| e.t);
        let sig = extract(&obs, &spec(true));
        // The fault is the kill at 10: a FAIL before it does not count.
        assert_eq!(
            get(&sig, "fault → FAIL (quorum reached)"),
            &Value::Timing(Some(30))
        );
        assert_eq!(
            get(&sig, "fault → failover election won"),
            &Value::Timing(Some(35))
        );
        // A run without a failover has neither.
        obs.events.retain(|e| e.source != Source::Log || e.t < 40);
        let sig = extract(&obs, &spec(true));
        assert_eq!(
            get(&sig, "fault → FAIL (quorum reached)"),
            &Value::Timing(None)
        );
        assert_eq!(
            get(&sig, "fault → failover election won"),
            &Value::Timing(None)
        );
    }

    #[test]
    fn tilt_lists_each_sentinels_tilts_and_times_them_from_the_fault() {
        let mut obs = observed();
        let sen = |t, n, e: &str, d: &str| ev(t, n, Source::Sentinel, e, d);
        // Replace the kill with a clock jump on sentinel-1 at 10.
        obs.events.retain(|e| e.t < 10);
        obs.events.extend([
            ev(
                10,
                3,
                Source::Sim,
                "clock-jump",
                "sentinel-1's clock jumps +30s",
            ),
            sen(12, 3, "+tilt", "#tilt mode entered"),
            sen(42, 3, "-tilt", "#tilt mode exited"),
        ]);
        let sig = extract(&obs, &spec(true));
        assert_eq!(
            get(&sig, "±tilt per Sentinel"),
            &Value::Exact("sentinel-1 +tilt -tilt".into())
        );
        assert_eq!(
            get(&sig, "+sdown/+odown after the fault"),
            &Value::Exact("".into())
        );
        assert_eq!(get(&sig, "fault → +tilt"), &Value::Timing(Some(2)));
        assert_eq!(get(&sig, "fault → -tilt"), &Value::Timing(Some(32)));
        // A Sentinel that acted during TILT shows in the detections.
        obs.events
            .push(sen(20, 3, "+sdown", "master mymaster master"));
        obs.events.sort_by_key(|e| e.t);
        let sig = extract(&obs, &spec(true));
        assert_eq!(
            get(&sig, "+sdown/+odown after the fault"),
            &Value::Exact("sentinel-1 +sdown master mymaster master".into())
        );
    }

    /// Each workload's slowest acknowledged write, worked out by hand: a
    /// refused or unanswered write does not count, however long it took.
    #[test]
    fn the_longest_wait_is_per_workload_over_acknowledged_writes_only() {
        let op = |client, seq, invoked: Micros, took: Micros, outcome| Op {
            completed: Some(invoked + took),
            outcome,
            ..Op::pending(client, seq, OpKind::Set, "key:0".into(), 0, invoked)
        };
        let history = vec![
            op(1, 1, 0, 5, Outcome::Ok),
            op(1, 2, 10, 1_000_000, Outcome::Ok),
            op(1, 3, 2_000_000, 7, Outcome::Ok),
            op(2, 1, 0, 3_000_000, Outcome::Timeout),
            op(2, 2, 0, 2_500_000, Outcome::Error("MISCONF x".into())),
            op(2, 3, 3_000_000, 1_999_000, Outcome::Ok),
            Op {
                kind: OpKind::Get,
                ..op(2, 4, 0, 9_000_000, Outcome::Ok)
            },
        ];
        let worst = longest_write_waits(&history);
        assert_eq!(
            worst.into_iter().collect::<Vec<_>>(),
            vec![(1, 1_000_000), (2, 1_999_000)]
        );
    }
}
