//! Failure signatures: which failures of a sweep are the same bug.
//!
//! A signature is the violated property plus the shape of its cause chain:
//! the key events (faults applied and milestones such as a full resync that
//! flushed a replica's data, a promotion, a demotion) that lead to the
//! violation, in the order they first happened, with node names and times
//! left out. Two seeds whose runs lose writes the same way share a
//! signature however their irrelevant faults differ.

use crate::check::RunView as _;
use crate::check::invariants::Violation;
use crate::trace::Source;
use crate::trace::names;
use crate::world::World;

/// Milestone events, by the name the trace matches on, and the word a
/// signature uses for them.
const MILESTONES: &[(&str, &str)] = &[
    (names::redis::REPLID_MISMATCH, "psync-refused"),
    (names::redis::NO_BACKLOG_FOR_PSYNC, "backlog-overflow"),
    (names::redis::FLUSHING_OLD_DATA, "data-flushed"),
    (names::sentinel::SWITCH_MASTER, "failover"),
    (names::sentinel::CONVERT_TO_SLAVE, "old-master-converted"),
    (names::sentinel::TILT, "tilt"),
    (
        names::sentinel::FAILOVER_END_FOR_TIMEOUT,
        "failover-timeout",
    ),
    (
        names::sentinel::FAILOVER_ABORT_NOT_ELECTED,
        "failover-aborted",
    ),
    (
        names::sentinel::FAILOVER_ABORT_NO_GOOD_SLAVE,
        "failover-aborted",
    ),
    (
        names::sentinel::FAILOVER_ABORT_SLAVE_TIMEOUT,
        "failover-aborted",
    ),
    (names::redis::OUTPUT_BUFFER_LIMIT, "output-buffer-drop"),
    (names::redis::ELECTION_WON, "cluster-failover"),
    (names::redis::RECONFIGURED_AS_REPLICA, "demoted-by-config"),
    (
        names::redis::CONFIG_EPOCH_COLLISION,
        "config-epoch-collision",
    ),
];

/// The faults the simulator traces when it applies them.
const FAULTS: &[&str] = &[
    "kill",
    "crash",
    "shutdown",
    "restart",
    "pause",
    "resume",
    "partition",
    "heal",
    "link",
    "clock-jump",
    "burst",
];

/// The events that end a lost write's chain on the node that acknowledged
/// it: its data replaced or gone.
const DATA_GONE: &[&str] = &["restart", names::redis::FLUSHING_OLD_DATA];

/// The faults that stop a process.
const STOPS: &[&str] = &["kill", "crash", "shutdown"];

/// Longest cause chain a signature keeps (the events nearest the cause).
const MAX_CHAIN: usize = 8;

fn label(source: Source, event: &str) -> Option<&'static str> {
    if source == Source::Sim {
        return FAULTS.iter().find(|f| **f == event).copied();
    }
    MILESTONES
        .iter()
        .find(|(name, _)| *name == event)
        .map(|(_, l)| *l)
}

/// The cause chain of `violation` in the finished run `w`, as words:
///
/// - lost writes: the node that acknowledged the earliest lost write, from
///   its last lost acknowledgement to the moment it lost its data
///   (restarted, or flushed it for a full resync): the key events on that
///   node and the cluster-wide ones (partitions, failovers);
/// - a split brain or a write outage: the key events before it began,
///   the nearest ones kept;
/// - anything else (convergence, invariants): the key events while faults
///   were being injected (before `faults_stop`).
pub fn cause_chain(w: &World, violation: &Violation, faults_stop: u64) -> Vec<&'static str> {
    let events = &w.trace().events;
    let sim_node = w.plan.nodes.len() as u32;
    let mut chain: Vec<&'static str> = Vec::new();
    let push = |l: &'static str, chain: &mut Vec<&'static str>| {
        if !chain.contains(&l) {
            chain.push(l);
        }
    };
    match violation.property {
        "no-lost-acked-writes" | "max-lost-acked-writes" => {
            let lost = w.lost_writes();
            let Some(first) = lost.iter().min_by_key(|l| (l.acked_at, l.node, l.seq)) else {
                return chain;
            };
            let node = first.node;
            // When the node that acknowledged the earliest lost write lost
            // its data, and its last lost acknowledgement before that.
            let Some(gone) = events.iter().position(|e| {
                e.t >= first.acked_at && e.node == node && DATA_GONE.contains(&e.event.as_ref())
            }) else {
                return chain;
            };
            let from = lost
                .iter()
                .filter(|l| l.node == node && l.acked_at <= events[gone].t)
                .map(|l| l.acked_at)
                .max()
                .unwrap_or(first.acked_at);
            // What happened from then until the node went down (while it
            // is down, other faults cannot touch its data), then how its
            // data went.
            for e in events[..gone].iter().filter(|e| e.t >= from) {
                let Some(l) = label(e.source, &e.event) else {
                    continue;
                };
                // Faults on other nodes only matter if they are cluster-wide.
                if e.node == node || e.node == sim_node || e.source == Source::Sentinel {
                    push(l, &mut chain);
                }
                if e.node == node && STOPS.contains(&l) {
                    break;
                }
            }
            let e = &events[gone];
            if let Some(l) = label(e.source, &e.event) {
                push(l, &mut chain);
            }
            chain.truncate(MAX_CHAIN);
            return chain;
        }
        _ => {}
    }
    let until = match violation.property {
        "no-split-brain" => {
            let history = w.history();
            w.two_writable_masters(&history)
                .iter()
                .map(|(_, _, win)| win.from)
                .min()
        }
        "max-unavailability" => w.write_unavailability().map(|g| g.from),
        _ => None,
    }
    .unwrap_or(faults_stop);
    // The nearest key events before `until`, in the order they happened.
    let before: Vec<&'static str> = events
        .iter()
        .filter(|e| e.t < until)
        .filter_map(|e| label(e.source, &e.event))
        .collect();
    for l in before.iter().rev() {
        push(l, &mut chain);
        if chain.len() == MAX_CHAIN {
            break;
        }
    }
    chain.reverse();
    chain
}

/// An unshrunk failure's signature: `property; events: a > b > c`.
pub fn signature(property: &str, chain: &[&str]) -> String {
    if chain.is_empty() {
        return property.to_string();
    }
    format!("{property}; events: {}", chain.join(" > "))
}

/// A shrunk failure's signature: the property, the kinds of the faults
/// left after shrinking, and the cause chain of the shrunk run.
pub fn shrunk_signature(property: &str, faults: &[&str], chain: &[&str]) -> String {
    let faults = if faults.is_empty() {
        "none".to_string()
    } else {
        faults.join(", ")
    };
    let mut s = format!("{property}; faults: {faults}");
    if !chain.is_empty() {
        s.push_str(&format!("; events: {}", chain.join(" > ")));
    }
    s
}
