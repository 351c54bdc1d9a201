//! Lost acknowledged writes: a write the client saw acknowledged whose value
//! is absent from the final state, although no write that could have
//! legitimately replaced it (one that overlapped it or started after it was
//! acknowledged) is there instead.

use rustc_hash::FxHashMap;

use crate::history::{Op, OpKind};
use crate::proto::keyspace::Dataset;
use crate::proto::{Value, WriteTag};
use crate::sim::time::Micros;

/// One lost write.
#[derive(Clone, Debug, PartialEq)]
pub struct LostWrite {
    pub client: u32,
    pub seq: u32,
    pub key: u32,
    /// The key's name (`key:<n>`, or `{tag}key:<n>`).
    pub name: crate::proto::Key,
    pub node: u32,
    pub acked_at: Micros,
    /// What the final state holds for the key instead (None: nothing).
    pub found: Option<WriteTag>,
}

/// Every acknowledged SET in `history` that the final dataset lost.
pub fn lost_acked_writes(history: &[&Op], final_data: &Dataset) -> Vec<LostWrite> {
    // Index every write by its tag so the final value can be traced to the
    // operation that wrote it, and the final values by key.
    let by_tag: FxHashMap<WriteTag, &Op> = history
        .iter()
        .filter(|o| o.kind == OpKind::Set)
        .map(|o| (o.tag(), *o))
        .collect();
    let final_by_key: FxHashMap<(Option<&str>, u32), WriteTag> = final_data
        .iter()
        .filter_map(|(k, v)| match v {
            Value::Blob { tag, .. } => Some((crate::history::parse_key_name(k)?, *tag)),
            _ => None,
        })
        .collect();
    let mut lost = Vec::new();
    for op in history
        .iter()
        .filter(|o| o.kind == OpKind::Set && o.outcome.is_ok())
    {
        let acked_at = op.completed.expect("acknowledged ops completed");
        let found = final_by_key.get(&(op.hash_tag.as_deref(), op.key)).copied();
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
                name: op.key_name(),
                node: op.node,
                acked_at,
                found,
            });
        }
    }
    lost
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::history::{Outcome, key_name};

    pub(in crate::check) fn set(
        client: u32,
        seq: u32,
        key: u32,
        invoked: Micros,
        done: Micros,
        ok: bool,
    ) -> Op {
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
            hash_tag: None,
        }
    }

    /// A final dataset holding `(key, client, seq)` writes.
    pub(in crate::check) fn data(entries: &[(u32, u32, u32)]) -> Dataset {
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

    #[test]
    fn concurrent_writes_may_win_and_unacked_writes_never_count() {
        let a = set(1, 1, 7, 0, 10, true);
        let b = set(2, 1, 7, 5, 15, false);
        let h = vec![&a, &b];
        assert!(lost_acked_writes(&h, &data(&[(7, 2, 1)])).is_empty());
        assert!(lost_acked_writes(&[&b], &Dataset::default()).is_empty());
    }
}
