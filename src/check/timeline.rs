//! Measured outcomes of a run: how long the failover took and why each
//! lost write was lost. Pure functions over the trace. (Unavailability and
//! split brain have their own modules.)

use crate::time::Micros;
use crate::trace::names;
use crate::trace::{Event, Source};

use super::lost::LostWrite;

/// Faults that start a failover story, when they hit a master or the
/// network.
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

/// Times from the first fault that can start a failover: one on a Redis
/// server that was not a replica at the time, or on the network. A fault
/// on a replica or a Sentinel starts none.
pub fn failover_times(events: &[Event]) -> FailoverTimes {
    let sentinels: std::collections::BTreeSet<u32> = events
        .iter()
        .filter(|e| e.source == Source::Sentinel)
        .map(|e| e.node)
        .collect();
    let fault = events
        .iter()
        .find(|e| {
            FAULTS.contains(&e.event.as_ref())
                && !sentinels.contains(&e.node)
                && !replica_at(events, e.node, e.t)
        })
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
        odown: after(names::sentinel::ODOWN),
        elected: after(names::sentinel::ELECTED_LEADER),
        switch_master: after(names::sentinel::SWITCH_MASTER),
        pfail: after(names::redis::POSSIBLY_FAILING),
        fail: after(names::redis::MARKED_FAILING),
        election: after(names::redis::ELECTION_STARTED),
        election_won: after(names::redis::ELECTION_WON),
    }
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
    let resynced = later.find(|e| e.event == names::redis::FULL_RESYNC);
    let restarted = died.and_then(|d| {
        events
            .iter()
            .find(|e| e.t >= d.t && e.node == node && e.event == names::redis::SERVER_INITIALIZED)
    });
    let at = |e: &Event| crate::time::Secs(e.t);
    if replica_at(events, node, l.acked_at)
        && let Some(r) = events
            .iter()
            .find(|e| e.t >= l.acked_at && e.node == node && e.event == names::redis::FULL_RESYNC)
    {
        // A writable replica (replica-read-only no) applies a write locally
        // and never propagates it (replicationFeedSlaves() returns at once
        // on a replica): nobody was demoted, the write was never anywhere
        // else.
        return format!(
            "acknowledged by {name} at {} while it was a replica (replica-read-only no): a \
             replica never propagates the writes it accepts, so its full resync at {} \
             discarded it",
            crate::time::Secs(l.acked_at),
            at(r)
        );
    }
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
            "acknowledged by {name}, which died at {} and restarted at {} without it: it had \
             not been persisted",
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

/// Whether `node` was a replica at `t`, by its last role change at or
/// before `t`: connecting to a master (or turning into a replica) makes it
/// one; a start or a promotion (a new replication ID) makes it a master.
fn replica_at(events: &[Event], node: u32, t: Micros) -> bool {
    events
        .iter()
        .take_while(|e| e.t <= t)
        .filter(|e| e.node == node)
        .filter_map(|e| match e.event.as_ref() {
            names::redis::CONNECTING_TO_MASTER => Some(true),
            names::redis::SERVER_INITIALIZED | names::redis::SECONDARY_REPLID => Some(false),
            _ => None,
        })
        .last()
        .unwrap_or(false)
}

/// The chain behind a write discarded by a demoted master's full resync:
/// where it was acknowledged, where the promoted replica's history split
/// off (offset, epoch), and how many bytes the full resync discarded.
fn demotion_chain(l: &LostWrite, resync: &Event, events: &[Event], names: &[String]) -> String {
    let node = l.node;
    let name = &names[node as usize];
    let secs = crate::time::Secs;
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
        before(resync.t).rfind(|e| e.node != node && e.event == names::redis::SECONDARY_REPLID);
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
            .rfind(|e| e.event == names::sentinel::NEW_EPOCH)
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
        .rfind(|e| e.node == node && e.event == names::redis::TRYING_PARTIAL_RESYNC)
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
    use crate::trace::Level;

    fn ev(t: Micros, node: u32, source: Source, event: &'static str) -> Event {
        Event {
            t,
            node,
            source,
            level: Level::Notice,
            event: event.into(),
            detail: String::new(),
        }
    }

    /// Worked by hand: node 0 is the master, node 1 a replica (it connected
    /// to its master at 1 ms), node 2 a Sentinel. A Sentinel paused at 5 s
    /// and the replica paused at 7 s start no failover; the kill of the
    /// master at 9 s does, so +odown at 14.1 s is 5.1 s after the fault.
    #[test]
    fn the_failover_counts_from_the_first_fault_on_a_master() {
        let events = vec![
            ev(0, 0, Source::Log, names::redis::SERVER_INITIALIZED),
            ev(0, 1, Source::Log, names::redis::SERVER_INITIALIZED),
            ev(1_000, 1, Source::Log, names::redis::CONNECTING_TO_MASTER),
            ev(2_000, 2, Source::Sentinel, names::sentinel::SLAVE),
            ev(5_000_000, 2, Source::Sim, "pause"),
            ev(7_000_000, 1, Source::Sim, "pause"),
            ev(9_000_000, 0, Source::Sim, "kill"),
            ev(14_100_000, 2, Source::Sentinel, names::sentinel::ODOWN),
            ev(
                15_200_000,
                2,
                Source::Sentinel,
                names::sentinel::SWITCH_MASTER,
            ),
        ];
        let t = failover_times(&events);
        assert_eq!(t.fault, Some(9_000_000));
        assert_eq!(t.odown, Some(14_100_000));
        assert_eq!(t.switch_master, Some(15_200_000));
        // A partition (the network's node) starts one too.
        let mut split = events[..4].to_vec();
        split.push(ev(3_000_000, 3, Source::Sim, "partition"));
        assert_eq!(failover_times(&split).fault, Some(3_000_000));
        // With faults on a replica and a Sentinel only, there is none.
        assert_eq!(failover_times(&events[..6]).fault, None);
    }
}
