//! Measured outcomes of a run: how long the failover took, when no node or
//! two nodes accepted writes, and why each lost write was lost. Pure
//! functions over the trace and the client history.

use crate::client::{Op, OpKind};
use crate::sim::time::Micros;
use crate::trace::Event;

use super::lost::LostWrite;

/// Faults that start a failover story.
const FAULTS: &[&str] = &[
    "kill",
    "crash",
    "pause",
    "partition",
    "shutdown",
    "debug-sleep",
];

/// Times from the first fault to the failover's milestones.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FailoverTimes {
    pub fault: Option<Micros>,
    pub odown: Option<Micros>,
    pub elected: Option<Micros>,
    pub switch_master: Option<Micros>,
    /// Cluster: the first PFAIL, FAIL, election start and win after the fault.
    pub pfail: Option<Micros>,
    pub fail: Option<Micros>,
    pub election: Option<Micros>,
    pub election_won: Option<Micros>,
}

pub fn failover_times(events: &[Event]) -> FailoverTimes {
    let fault = events
        .iter()
        .find(|e| FAULTS.contains(&e.event.as_ref()))
        .map(|e| e.t);
    let after = |name: &str| {
        fault.and_then(|f| {
            events
                .iter()
                .find(|e| e.t >= f && e.event == name)
                .map(|e| e.t)
        })
    };
    FailoverTimes {
        fault,
        odown: after("+odown"),
        elected: after("+elected-leader"),
        switch_master: after("+switch-master"),
        pfail: after("*** NODE possibly failing"),
        fail: after("Marking node as failing (quorum reached)"),
        election: after("Starting a failover election for epoch"),
        election_won: after("Failover election won: I'm the new master."),
    }
}

/// A span of time, `[from, to]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub from: Micros,
    pub to: Micros,
}

impl Window {
    pub fn len(&self) -> Micros {
        self.to.saturating_sub(self.from)
    }

    pub fn is_empty(&self) -> bool {
        self.to <= self.from
    }
}

/// The longest time without any acknowledged write while clients kept
/// trying, after `from` (the first fault): the unavailability clients saw.
pub fn longest_write_gap(history: &[&Op], from: Micros) -> Option<Window> {
    let mut acks: Vec<Micros> = history
        .iter()
        .filter(|o| o.kind == OpKind::Set && o.outcome.is_ok())
        .filter_map(|o| o.completed)
        .collect();
    acks.sort_unstable();
    let last_attempt = history.iter().map(|o| o.invoked).max()?;
    let mut prev = acks
        .iter()
        .rev()
        .find(|&&t| t <= from)
        .copied()
        .unwrap_or(from);
    let mut best: Option<Window> = None;
    for &t in acks
        .iter()
        .filter(|&&t| t > from)
        .chain(std::iter::once(&last_attempt))
    {
        let w = Window { from: prev, to: t };
        if !w.is_empty() && best.is_none_or(|b| w.len() > b.len()) {
            best = Some(w);
        }
        prev = prev.max(t);
    }
    best.filter(|w| !w.is_empty())
}

/// Windows in which two different nodes acknowledged writes: from the later
/// of their first acknowledgements after `from` to the earlier of their
/// last ones.
pub fn two_writable_masters(
    history: &[&Op],
    nodes: &[u32],
    from: Micros,
) -> Vec<(u32, u32, Window)> {
    overlaps(history, nodes, from)
}

/// The same for a Redis Cluster, where masters of different shards accept
/// writes side by side: only two nodes acknowledging writes to keys of the
/// same slot count. Windows are merged per pair of nodes. (The caller leaves
/// out writes to slots being resharded, which legitimately have two.)
pub fn two_writable_masters_per_slot(
    history: &[&Op],
    nodes: &[u32],
    from: Micros,
) -> Vec<(u32, u32, Window)> {
    use crate::redis::cluster::slots::key_hash_slot;
    let mut by_slot: std::collections::BTreeMap<u16, Vec<&Op>> = Default::default();
    for o in history {
        by_slot
            .entry(key_hash_slot(o.key_name().as_bytes()))
            .or_default()
            .push(o);
    }
    let mut merged: std::collections::BTreeMap<(u32, u32), Window> = Default::default();
    for ops in by_slot.values() {
        for (a, b, w) in overlaps(ops, nodes, from) {
            let e = merged.entry((a, b)).or_insert(w);
            e.from = e.from.min(w.from);
            e.to = e.to.max(w.to);
        }
    }
    merged.into_iter().map(|((a, b), w)| (a, b, w)).collect()
}

fn overlaps(history: &[&Op], nodes: &[u32], from: Micros) -> Vec<(u32, u32, Window)> {
    let span = |n: u32| {
        let acks = history
            .iter()
            .filter(|o| o.node == n && o.kind == OpKind::Set && o.outcome.is_ok())
            .filter_map(|o| o.completed)
            .filter(|&t| t >= from);
        let (mut lo, mut hi) = (Micros::MAX, 0);
        for t in acks {
            lo = lo.min(t);
            hi = hi.max(t);
        }
        (lo <= hi).then_some(Window { from: lo, to: hi })
    };
    let mut out = Vec::new();
    for (i, &a) in nodes.iter().enumerate() {
        for &b in &nodes[i + 1..] {
            if let (Some(x), Some(y)) = (span(a), span(b)) {
                let w = Window {
                    from: x.from.max(y.from),
                    to: x.to.min(y.to),
                };
                if !w.is_empty() {
                    out.push((a, b, w));
                }
            }
        }
    }
    out
}

/// Why a lost write was lost: what happened next to the node that
/// acknowledged it.
pub fn loss_reason(l: &LostWrite, events: &[Event], names: &[String]) -> String {
    let node = l.node;
    let name = &names[node as usize];
    let mut later = events
        .iter()
        .filter(|e| e.t >= l.acked_at && e.node == node);
    let died = later
        .clone()
        .find(|e| matches!(e.event.as_ref(), "kill" | "crash"));
    let resynced = later.find(|e| e.event == "Full resync from master");
    let restarted = died.and_then(|d| {
        events
            .iter()
            .find(|e| e.t >= d.t && e.node == node && e.event == "Server initialized")
    });
    let at = |e: &Event| crate::sim::time::Secs(e.t);
    match (died, restarted, resynced) {
        (_, _, Some(r)) if died.is_none_or(|d| r.t < d.t) => demotion_chain(l, r, events, names),
        // It came back (with the write, if it was persisted) and was then
        // demoted: its own full resync discarded the write.
        (Some(d), Some(s), Some(r)) if r.t >= s.t => format!(
            "acknowledged by {name}, which died at {}, restarted at {} and was then demoted: \
             its full resync at {} discarded whatever it had kept",
            at(d),
            at(s),
            at(r)
        ),
        (Some(d), Some(s), _) => format!(
            "acknowledged by {name}, which died at {} and restarted at {} without it (not persisted), \
             so its replicas resynced to the loss",
            at(d),
            at(s)
        ),
        (Some(d), None, _) => format!(
            "acknowledged by {name}, which died at {} before a promoted replica had it",
            at(d)
        ),
        _ => format!("acknowledged by {name}; the final master never received it"),
    }
}

/// The chain behind a write discarded by a demoted master's full resync:
/// where it was acknowledged, where the promoted replica's history split
/// off (offset, epoch), and how many bytes the full resync discarded.
fn demotion_chain(l: &LostWrite, resync: &Event, events: &[Event], names: &[String]) -> String {
    let node = l.node;
    let name = &names[node as usize];
    let secs = crate::sim::time::Secs;
    let before = |t: u64| events.iter().filter(move |e| e.t <= t);
    let partitioned = before(l.acked_at)
        .rfind(|e| matches!(e.event.as_ref(), "partition" | "heal"))
        .is_some_and(|e| e.event == "partition");
    let mut chain = format!(
        "acknowledged by {name} at {}{}",
        secs(l.acked_at),
        if partitioned {
            " while partitioned"
        } else {
            ""
        }
    );
    // The promotion: "Setting secondary replication ID to <id>, valid up to offset: <n>".
    let promotion =
        before(resync.t).rfind(|e| e.node != node && e.event == "Setting secondary replication ID");
    let promoted_at = promotion.and_then(|p| {
        let n: u64 = p
            .detail
            .split("offset: ")
            .nth(1)?
            .split('.')
            .next()?
            .parse()
            .ok()?;
        Some(n.saturating_sub(1))
    });
    if let (Some(p), Some(offset)) = (promotion, promoted_at) {
        let epoch = before(p.t)
            .rfind(|e| e.event == "+new-epoch")
            .map(|e| format!(", epoch {}", e.detail))
            .unwrap_or_default();
        chain.push_str(&format!(
            "; {} promoted at offset {offset} ({}{epoch})",
            names[p.node as usize],
            secs(p.t)
        ));
    }
    // The demoted node's own offset: "Trying a partial resynchronization (request <id>:<off>)".
    let own = before(resync.t)
        .rfind(|e| e.node == node && e.event == "Trying a partial resynchronization")
        .and_then(|e| {
            let off: u64 = e
                .detail
                .rsplit(':')
                .next()?
                .trim_end_matches(").")
                .parse()
                .ok()?;
            Some(off.saturating_sub(1))
        });
    chain.push_str(&format!(
        "; {name} demoted and full-resynced at {}",
        secs(resync.t)
    ));
    if let Some(own) = own {
        chain.push_str(&format!(" from offset {own}"));
        if let Some(p) = promoted_at.filter(|p| own > *p) {
            chain.push_str(&format!(", discarding {} bytes", own - p));
        }
    }
    chain
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::Outcome;

    fn set(node: u32, invoked: Micros, done: Micros, ok: bool) -> Op {
        Op {
            client: 1,
            seq: invoked as u32,
            kind: OpKind::Set,
            key: 1,
            node,
            invoked,
            completed: Some(done),
            outcome: if ok { Outcome::Ok } else { Outcome::Timeout },
            read: None,
            wait_acked: None,
            hash_tag: None,
        }
    }

    #[test]
    fn write_gaps_and_overlaps() {
        let ops = [
            set(0, 0, 1, true),
            set(0, 10, 11, true),
            set(0, 20, 1020, false),
            set(1, 1030, 1031, true),
            set(0, 1040, 1041, true),
            set(1, 1050, 1051, true),
            set(0, 1060, 1061, true),
        ];
        let h: Vec<&Op> = ops.iter().collect();
        let gap = longest_write_gap(&h, 15).expect("a gap");
        assert_eq!(gap, Window { from: 11, to: 1031 });
        let two = two_writable_masters(&h, &[0, 1], 15);
        assert_eq!(
            two,
            vec![(
                0,
                1,
                Window {
                    from: 1041,
                    to: 1051
                }
            )]
        );
    }
}
