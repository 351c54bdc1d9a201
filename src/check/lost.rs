//! Lost acknowledged writes: a write the client saw acknowledged whose value
//! is absent from the final state, although no operation that could have
//! legitimately replaced it (one that overlapped it or started after it was
//! acknowledged, and that was not refused) left what is there instead: a
//! later write's value, a counter an INCR made, or no key after a DEL or an
//! EXPIRE. An acknowledged DEL is lost the same way when its key is back
//! with a value nothing written after it can have left.
//!
//! An INCR's loss is not counted: a counter's value does not say which
//! increments made it.

use rustc_hash::FxHashMap;

use crate::history::{History, OpKind, Outcome, Seen};
use crate::proto::keyspace::Dataset;
use crate::proto::{Key, Value};
use crate::time::Micros;

/// One lost write (an MSET loses each of its keys separately).
#[derive(Clone, Debug, PartialEq)]
pub struct LostWrite {
    pub client: u32,
    pub seq: u32,
    /// SET, MSET or DEL.
    pub kind: OpKind,
    /// The key whose write was lost.
    pub key: Key,
    pub node: u32,
    pub acked_at: Micros,
    /// What the final state holds for the key instead.
    pub found: Seen,
}

/// What the final state holds for `key`.
pub fn final_value(data: &Dataset, key: &str) -> Seen {
    match data.get(key) {
        None => Seen::Missing,
        Some(Value::Blob { tag, .. }) => Seen::Write(*tag),
        Some(_) => Seen::Counter,
    }
}

impl LostWrite {
    /// What the write did, for reports: `written` or `deleted`.
    pub fn verb(&self) -> &'static str {
        if self.kind == OpKind::Del {
            "deleted"
        } else {
            "written"
        }
    }
}

/// Every acknowledged SET, MSET or DEL in `history` that the final dataset
/// lost.
pub fn lost_acked_writes(history: &History, final_data: &Dataset) -> Vec<LostWrite> {
    lost_acked_writes_by(history, &|key| final_value(final_data, key))
}

/// [`lost_acked_writes`], with `found` saying what the final state holds
/// for a key (`check::outside` names the outside writes' values).
pub fn lost_acked_writes_by(history: &History, found: &dyn Fn(&str) -> Seen) -> Vec<LostWrite> {
    // Which operation can have left each final value: a tagged write is
    // found by its tag (the history looks it up); for a missing key or a
    // counter, what matters is when the last DEL/EXPIRE or INCR on the key
    // that may have taken effect (a refused one did not) finished (never,
    // if it got no reply).
    let mut last_end: FxHashMap<(Key, Seen), Micros> = FxHashMap::default();
    for op in history.iter().filter(|o| o.kind.is_write()) {
        let leaves = match (op.kind, &op.outcome) {
            // A tag in the final state proves its write took effect.
            (OpKind::Set | OpKind::MSet, _) => continue,
            (_, Outcome::Error(_)) => continue,
            (OpKind::Incr, _) => Seen::Counter,
            _ => Seen::Missing,
        };
        let end = op.completed.unwrap_or(Micros::MAX);
        for k in op.keys() {
            let e = last_end.entry((k.clone(), leaves)).or_insert(end);
            *e = (*e).max(end);
        }
    }
    let mut lost = Vec::new();
    for op in history
        .iter()
        .filter(|o| (o.kind.writes_tag() || o.kind == OpKind::Del) && o.outcome.is_ok())
    {
        let left = if op.kind == OpKind::Del {
            Seen::Missing
        } else {
            Seen::Write(op.tag())
        };
        let acked_at = op.completed.expect("acknowledged ops completed");
        for key in op.keys() {
            let found = found(key);
            // An operation that may legitimately have come after this one
            // had not finished before this one began: it overlapped it, or
            // was invoked after it was acknowledged.
            let replaced = match found {
                _ if found == left => continue,
                Seen::Write(t) => history
                    .completed_by_tag(t)
                    .is_some_and(|done| done.is_none_or(|c| c >= op.invoked)),
                other => last_end
                    .get(&(key.clone(), other))
                    .is_some_and(|&end| end >= op.invoked),
            };
            if !replaced {
                lost.push(LostWrite {
                    client: op.client,
                    seq: op.seq,
                    kind: op.kind,
                    key: key.clone(),
                    node: op.node,
                    acked_at,
                    found,
                });
            }
        }
    }
    lost
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::history::{Op, key_name};
    use crate::proto::WriteTag;
    use proptest::prelude::*;

    /// An operation of `kind` on `keys` (numbers: `key:<n>`), invoked and
    /// completed at the given instants, with `outcome`.
    pub(in crate::check) fn op(
        kind: OpKind,
        (client, seq): (u32, u32),
        keys: &[u32],
        (invoked, done): (Micros, Option<Micros>),
        outcome: Outcome,
    ) -> Op {
        let mut o = Op::pending(client, seq, kind, key_name(keys[0]), 0, invoked);
        o.more_keys = keys[1..].iter().map(|&k| key_name(k)).collect();
        o.completed = done;
        o.outcome = outcome;
        o
    }

    pub(in crate::check) fn set(
        client: u32,
        seq: u32,
        key: u32,
        invoked: Micros,
        done: Micros,
        ok: bool,
    ) -> Op {
        let outcome = if ok { Outcome::Ok } else { Outcome::Timeout };
        op(
            OpKind::Set,
            (client, seq),
            &[key],
            (invoked, Some(done)),
            outcome,
        )
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

    fn lost_seqs(h: &[&Op], d: &Dataset) -> Vec<(u32, String)> {
        lost_acked_writes(&History::of(h), d)
            .iter()
            .map(|l| (l.seq, l.key.to_string()))
            .collect()
    }

    #[test]
    fn overwritten_is_not_lost_but_reverted_is() {
        let a = set(1, 1, 7, 0, 10, true);
        let b = set(1, 2, 7, 20, 30, true);
        let h = vec![&a, &b];
        // Final value is the later write: nothing lost.
        assert!(lost_acked_writes(&History::of(&h), &data(&[(7, 1, 2)])).is_empty());
        // Final value is the earlier write: the later acknowledged one is lost.
        let lost = lost_acked_writes(&History::of(&h), &data(&[(7, 1, 1)]));
        assert_eq!(lost.len(), 1);
        assert_eq!(lost[0].seq, 2);
        assert_eq!(lost[0].found, Seen::Write(WriteTag { client: 1, seq: 1 }));
        // Key gone: both lost.
        assert_eq!(
            lost_acked_writes(&History::of(&h), &Dataset::default()).len(),
            2
        );
    }

    #[test]
    fn concurrent_writes_may_win_and_unacked_writes_never_count() {
        let a = set(1, 1, 7, 0, 10, true);
        let b = set(2, 1, 7, 5, 15, false);
        let h = vec![&a, &b];
        assert!(lost_acked_writes(&History::of(&h), &data(&[(7, 2, 1)])).is_empty());
        assert!(lost_acked_writes(&History::of(&[&b]), &Dataset::default()).is_empty());
    }

    #[test]
    fn a_del_after_the_write_explains_a_missing_key_a_refused_one_does_not() {
        let w = set(1, 1, 7, 0, 10, true);
        let del = op(OpKind::Del, (1, 2), &[7], (20, Some(30)), Outcome::Ok);
        let empty = Dataset::default();
        assert!(lost_seqs(&[&w, &del], &empty).is_empty());
        // A DEL that timed out may have happened: still explained.
        let unsure = op(OpKind::Del, (1, 2), &[7], (20, None), Outcome::Timeout);
        assert!(lost_seqs(&[&w, &unsure], &empty).is_empty());
        // Refused (READONLY): it deleted nothing.
        let refused = op(
            OpKind::Del,
            (1, 2),
            &[7],
            (20, Some(30)),
            Outcome::Error("READONLY".into()),
        );
        assert_eq!(
            lost_seqs(&[&w, &refused], &empty),
            vec![(1, "key:7".into())]
        );
        // A DEL that finished before the write began cannot come after it.
        let early = op(OpKind::Del, (2, 1), &[7], (0, Some(1)), Outcome::Ok);
        let late = set(1, 1, 7, 5, 10, true);
        assert_eq!(
            lost_seqs(&[&early, &late], &empty),
            vec![(1, "key:7".into())]
        );
        // An EXPIRE after the write explains it too; on another key it does not.
        let exp = op(OpKind::Expire, (1, 2), &[7], (20, Some(30)), Outcome::Ok);
        assert!(lost_seqs(&[&w, &exp], &empty).is_empty());
        let other = op(OpKind::Expire, (1, 2), &[8], (20, Some(30)), Outcome::Ok);
        assert_eq!(lost_seqs(&[&w, &other], &empty).len(), 1);
    }

    #[test]
    fn an_acknowledged_del_is_lost_when_an_older_value_comes_back() {
        let w = set(1, 1, 7, 0, 10, true);
        let del = op(OpKind::Del, (1, 2), &[7], (20, Some(30)), Outcome::Ok);
        let back = data(&[(7, 1, 1)]);
        let lost = lost_acked_writes(&History::of(&[&w, &del]), &back);
        assert_eq!(lost.len(), 1);
        assert_eq!((lost[0].seq, lost[0].verb()), (2, "deleted"));
        // A write that overlapped the DEL may have come after it.
        let racing = set(2, 1, 7, 25, 40, true);
        assert!(lost_seqs(&[&w, &del, &racing], &data(&[(7, 2, 1)])).is_empty());
        // Gone, as deleted: nothing lost (the SET was replaced by the DEL).
        assert!(lost_seqs(&[&w, &del], &Dataset::default()).is_empty());
        // An unacknowledged DEL promised nothing.
        let unsure = op(OpKind::Del, (1, 2), &[7], (20, None), Outcome::Timeout);
        assert!(lost_seqs(&[&w, &unsure], &back).is_empty());
    }

    #[test]
    fn a_counter_is_explained_only_by_an_incr_that_may_follow_the_write() {
        let w = set(1, 1, 7, 10, 20, true);
        let mut counter = Dataset::default();
        counter.set(key_name(7), Value::Int(1));
        let incr = op(OpKind::Incr, (2, 1), &[7], (15, Some(25)), Outcome::Ok);
        assert!(lost_seqs(&[&w, &incr], &counter).is_empty());
        let before = op(OpKind::Incr, (2, 1), &[7], (0, Some(5)), Outcome::Ok);
        assert_eq!(lost_seqs(&[&w, &before], &counter).len(), 1);
        // A DEL does not leave a counter.
        let del = op(OpKind::Del, (2, 1), &[7], (30, Some(40)), Outcome::Ok);
        assert_eq!(
            lost_acked_writes(&History::of(&[&w, &del]), &counter)[0].found,
            Seen::Counter
        );
    }

    #[test]
    fn an_mset_loses_each_key_on_its_own() {
        let m = op(OpKind::MSet, (1, 1), &[1, 2, 3], (5, Some(10)), Outcome::Ok);
        // key:2 reverted to an older write, key:3 gone; key:1 kept.
        let older = set(2, 1, 2, 0, 1, true);
        let final_data = data(&[(1, 1, 1), (2, 2, 1)]);
        let lost = lost_seqs(&[&older, &m], &final_data);
        assert_eq!(lost, vec![(1, "key:2".into()), (1, "key:3".into())]);
    }

    /// One operation of a sequential history: the kind, the key, and
    /// whether its effect is then taken out of the final state.
    fn sequential() -> impl Strategy<Value = Vec<(u8, u32)>> {
        proptest::collection::vec((0u8..4, 0u32..4), 1..40)
    }

    /// Runs `ops` one after the other, every one acknowledged, on a model
    /// of the dataset: SET, DEL, INCR (refused on a written value, as
    /// Redis refuses a non-integer) and MSET of the key and the next one.
    fn run(ops: &[(u8, u32)]) -> (Vec<Op>, Dataset) {
        let mut d = Dataset::default();
        let mut history = Vec::new();
        for (i, &(kind, key)) in ops.iter().enumerate() {
            let seq = i as u32 + 1;
            let t = 10 * i as Micros;
            let tag = WriteTag { client: 1, seq };
            let blob = Value::Blob { tag, len: 1 };
            let (kind, keys, outcome) = match kind {
                0 => {
                    d.set(key_name(key), blob);
                    (OpKind::Set, vec![key], Outcome::Ok)
                }
                1 => {
                    d.del(&key_name(key));
                    (OpKind::Del, vec![key], Outcome::Ok)
                }
                2 => match d.incr(&key_name(key)) {
                    Ok(_) => (OpKind::Incr, vec![key], Outcome::Ok),
                    Err(e) => (OpKind::Incr, vec![key], Outcome::Error(e.into())),
                },
                _ => {
                    let next = (key + 1) % 4;
                    d.set(key_name(key), blob.clone());
                    d.set(key_name(next), blob);
                    (OpKind::MSet, vec![key, next], Outcome::Ok)
                }
            };
            history.push(op(kind, (1, seq), &keys, (t, Some(t + 5)), outcome));
        }
        (history, d)
    }

    proptest! {
        /// A history run one operation at a time, every effect kept, loses
        /// nothing.
        #[test]
        fn sequential_histories_lose_nothing(ops in sequential()) {
            let (history, d) = run(&ops);
            let refs: Vec<&Op> = history.iter().collect();
            prop_assert!(lost_acked_writes(&History::of(&refs), &d).is_empty());
        }

        /// Taking the last write's value out of the final state (as a
        /// failover to a replica that never got it would) is reported: that
        /// write is lost, and nothing on any other key is (earlier writes
        /// to the key that nothing deleted are lost with it).
        #[test]
        fn a_dropped_last_write_is_found(ops in sequential()) {
            let (history, mut d) = run(&ops);
            let last_tagged = d.iter().find_map(|(k, v)| match v {
                Value::Blob { tag, .. } => Some((k.clone(), *tag)),
                _ => None,
            });
            let Some((key, tag)) = last_tagged else { return Ok(()) };
            d.del(&key);
            let refs: Vec<&Op> = history.iter().collect();
            let lost = lost_acked_writes(&History::of(&refs), &d);
            prop_assert!(lost.iter().any(|l| l.seq == tag.seq && l.key == key));
            prop_assert!(lost.iter().all(|l| l.key == key));
        }
    }
}
