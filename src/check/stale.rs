//! Stale reads: a read that returned a value older than a write the
//! clients had already seen acknowledged before the read began.

use rustc_hash::FxHashMap;

use crate::history::{Op, OpKind};
use crate::proto::WriteTag;
use crate::sim::time::Micros;

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
    let mut acked: FxHashMap<(Option<&str>, u32), Vec<&Op>> = FxHashMap::default();
    for o in history
        .iter()
        .filter(|o| o.kind == OpKind::Set && o.outcome.is_ok())
    {
        acked
            .entry((o.hash_tag.as_deref(), o.key))
            .or_default()
            .push(o);
    }
    let mut out = Vec::new();
    for r in history
        .iter()
        .filter(|o| o.kind == OpKind::Get && o.outcome.is_ok())
    {
        let Some(saw) = r.read else { continue };
        let seen = saw.and_then(|t| by_tag.get(&t));
        let missed = acked
            .get(&(r.hash_tag.as_deref(), r.key))
            .and_then(|writes| {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::lost::tests::set;
    use crate::history::Outcome;

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
            hash_tag: None,
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
}
