//! Lost acknowledged writes: a write the client saw acknowledged whose value
//! is absent from the final state, although no write that could have
//! legitimately replaced it (one that overlapped it or started after it was
//! acknowledged) is there instead.

use rustc_hash::FxHashMap;

use crate::client::{Op, OpKind};
use crate::proto::{Value, WriteTag};
use crate::redis::dataset::Dataset;
use crate::sim::time::Micros;

/// One lost write.
#[derive(Clone, Debug, PartialEq)]
pub struct LostWrite {
    pub client: u32,
    pub seq: u32,
    pub key: u32,
    pub node: u32,
    pub acked_at: Micros,
    /// What the final state holds for the key instead (None: nothing).
    pub found: Option<WriteTag>,
}

/// Every acknowledged SET in `history` that the final dataset lost.
pub fn lost_acked_writes(history: &[&Op], final_data: &Dataset) -> Vec<LostWrite> {
    // Index every write by its tag so the final value can be traced to the
    // operation that wrote it, and the final values by workload key number.
    let by_tag: FxHashMap<WriteTag, &Op> = history
        .iter()
        .filter(|o| o.kind == OpKind::Set)
        .map(|o| (o.tag(), *o))
        .collect();
    let final_by_key: FxHashMap<u32, WriteTag> = final_data
        .iter()
        .filter_map(|(k, v)| {
            let n = k.strip_prefix("key:")?.parse().ok()?;
            match v {
                Value::Blob { tag, .. } => Some((n, *tag)),
                _ => None,
            }
        })
        .collect();
    let mut lost = Vec::new();
    for op in history
        .iter()
        .filter(|o| o.kind == OpKind::Set && o.outcome.is_ok())
    {
        let acked_at = op.completed.expect("acknowledged ops completed");
        let found = final_by_key.get(&op.key).copied();
        if found == Some(op.tag()) {
            continue;
        }
        // A write that may legitimately have replaced this one: any write
        // that had not finished before this one began (it overlapped it, or
        // was invoked after it was acknowledged).
        let replaced = found.and_then(|t| by_tag.get(&t)).is_some_and(|other| {
            let finished_before = other.completed.is_some_and(|c| c < op.invoked);
            !finished_before
        });
        if !replaced {
            lost.push(LostWrite {
                client: op.client,
                seq: op.seq,
                key: op.key,
                node: op.node,
                acked_at,
                found,
            });
        }
    }
    lost
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{Outcome, key_name};

    fn set(client: u32, seq: u32, key: u32, invoked: Micros, done: Micros, ok: bool) -> Op {
        Op {
            client,
            seq,
            kind: OpKind::Set,
            key,
            node: 0,
            invoked,
            completed: Some(done),
            outcome: if ok { Outcome::Ok } else { Outcome::Timeout },
            read: None,
            wait_acked: None,
        }
    }

    fn data(entries: &[(u32, u32, u32)]) -> Dataset {
        let mut d = Dataset::default();
        for &(key, client, seq) in entries {
            d.set(
                key_name(key),
                Value::Blob {
                    tag: WriteTag { client, seq },
                    len: 10,
                },
            );
        }
        d
    }

    #[test]
    fn overwritten_is_not_lost_but_reverted_is() {
        let a = set(1, 1, 7, 0, 10, true);
        let b = set(1, 2, 7, 20, 30, true);
        let h = vec![&a, &b];
        // Final value is the later write: nothing lost.
        assert!(lost_acked_writes(&h, &data(&[(7, 1, 2)])).is_empty());
        // Final value is the earlier write: the later acknowledged one is lost.
        let lost = lost_acked_writes(&h, &data(&[(7, 1, 1)]));
        assert_eq!(lost.len(), 1);
        assert_eq!(lost[0].seq, 2);
        // Key gone: both lost.
        assert_eq!(lost_acked_writes(&h, &Dataset::default()).len(), 2);
    }

    fn get(client: u32, seq: u32, invoked: Micros, saw: Option<(u32, u32)>) -> Op {
        Op {
            client,
            seq,
            kind: OpKind::Get,
            key: 7,
            node: 1,
            invoked,
            completed: Some(invoked + 1),
            outcome: Outcome::Ok,
            read: Some(saw.map(|(client, seq)| WriteTag { client, seq })),
            wait_acked: None,
        }
    }

    #[test]
    fn reads_older_than_an_acknowledged_write_are_stale() {
        let a = set(1, 1, 7, 0, 10, true);
        let b = set(1, 2, 7, 20, 30, true);
        // Sees the older write after the newer one was acknowledged: stale.
        let r1 = get(2, 1, 40, Some((1, 1)));
        // Sees the newer one: fine. Overlapping the newer write: fine.
        let r2 = get(2, 2, 40, Some((1, 2)));
        let r3 = get(2, 3, 25, Some((1, 1)));
        // Sees nothing although a write was acknowledged: stale.
        let r4 = get(2, 4, 40, None);
        let h = vec![&a, &b, &r1, &r2, &r3, &r4];
        let stale: Vec<u32> = stale_reads(&h).iter().map(|s| s.seq).collect();
        assert_eq!(stale, vec![1, 4]);
    }

    #[test]
    fn concurrent_writes_may_win_and_unacked_writes_never_count() {
        let a = set(1, 1, 7, 0, 10, true);
        let b = set(2, 1, 7, 5, 15, false);
        let h = vec![&a, &b];
        assert!(lost_acked_writes(&h, &data(&[(7, 2, 1)])).is_empty());
        assert!(lost_acked_writes(&[&b], &Dataset::default()).is_empty());
    }
}

/// A read that returned a value older than one already acknowledged.
#[derive(Clone, Debug, PartialEq)]
pub struct StaleRead {
    pub client: u32,
    pub seq: u32,
    pub key: u32,
    pub node: u32,
    pub at: Micros,
    /// The write it saw (None: the key was missing).
    pub saw: Option<WriteTag>,
    /// A write acknowledged before the read began that it should have seen
    /// (or something newer).
    pub missed: WriteTag,
}

/// Reads that returned a value older than a write acknowledged before the
/// read was invoked: the read missed it, and the value it returned was
/// written strictly before that write began (a replica lagging behind, or
/// an old master after a failover).
pub fn stale_reads(history: &[&Op]) -> Vec<StaleRead> {
    let by_tag: FxHashMap<WriteTag, &Op> = history
        .iter()
        .filter(|o| o.kind == OpKind::Set)
        .map(|o| (o.tag(), *o))
        .collect();
    let mut acked: FxHashMap<u32, Vec<&Op>> = FxHashMap::default();
    for o in history
        .iter()
        .filter(|o| o.kind == OpKind::Set && o.outcome.is_ok())
    {
        acked.entry(o.key).or_default().push(o);
    }
    let mut out = Vec::new();
    for r in history
        .iter()
        .filter(|o| o.kind == OpKind::Get && o.outcome.is_ok())
    {
        let Some(saw) = r.read else { continue };
        let seen = saw.and_then(|t| by_tag.get(&t));
        let missed = acked.get(&r.key).and_then(|writes| {
            writes.iter().rev().find(|w| {
                let done_before_read = w.completed.is_some_and(|c| c < r.invoked);
                let newer_than_seen = match seen {
                    None => true,
                    Some(s) => s.completed.is_some_and(|c| c < w.invoked),
                };
                done_before_read && newer_than_seen
            })
        });
        if let Some(w) = missed {
            out.push(StaleRead {
                client: r.client,
                seq: r.seq,
                key: r.key,
                node: r.node,
                at: r.invoked,
                saw,
                missed: w.tag(),
            });
        }
    }
    out
}
