//! Stale reads: a read that returned a value older than a change the
//! clients had already seen acknowledged before the read began.

use rustc_hash::FxHashMap;

use crate::history::{History, OpKind, Outcome, Seen};
use crate::proto::{Key, WriteTag};
use crate::time::Micros;

/// A read that returned a value older than one already acknowledged.
#[derive(Clone, Debug, PartialEq)]
pub struct StaleRead {
    pub client: u32,
    pub seq: u32,
    pub key: Key,
    pub node: u32,
    pub at: Micros,
    /// What it read.
    pub saw: Seen,
    /// An operation acknowledged before the read began whose effect (or
    /// something newer) it should have seen.
    pub missed: WriteTag,
}

/// The latest of some times, over a prefix of a sorted list: "the largest
/// `value` among entries whose `at` is before `t`", in O(log n).
struct PrefixMax {
    at: Vec<Micros>,
    best: Vec<(Micros, WriteTag)>,
}

impl PrefixMax {
    /// Entries `(at, value, op's tag)`, in any order.
    fn new(mut entries: Vec<(Micros, Micros, WriteTag)>) -> Self {
        entries.sort_by_key(|e| (e.0, e.1));
        let mut best: Vec<(Micros, WriteTag)> = Vec::with_capacity(entries.len());
        for &(_, v, op) in &entries {
            let b = match best.last() {
                Some(&(bv, bop)) if bv >= v => (bv, bop),
                _ => (v, op),
            };
            best.push(b);
        }
        PrefixMax {
            at: entries.iter().map(|e| e.0).collect(),
            best,
        }
    }

    /// The largest value among entries with `at < t`, and its operation.
    fn before(&self, t: Micros) -> Option<(Micros, WriteTag)> {
        let n = self.at.partition_point(|&a| a < t);
        n.checked_sub(1).map(|i| self.best[i])
    }
}

/// What the history says about one key.
struct KeyHistory {
    /// Acknowledged changes by completion, the latest invocation among
    /// them: tagged writes, INCRs, DELs.
    acked: [PrefixMax; 3],
    /// Changes that may have taken effect by invocation, the latest
    /// completion among them (never, for one without a reply): INCRs,
    /// DELs, EXPIREs.
    tried: [PrefixMax; 3],
}

const TAGGED: usize = 0;
const INCR: usize = 1;
const DEL: usize = 2;
const TRIED_INCR: usize = 0;
const TRIED_DEL: usize = 1;
const TRIED_EXPIRE: usize = 2;

fn index(history: &History) -> FxHashMap<Key, KeyHistory> {
    type Lists = [Vec<(Micros, Micros, WriteTag)>; 3];
    let mut lists: FxHashMap<Key, (Lists, Lists)> = FxHashMap::default();
    for op in history {
        if !op.kind.is_write() || matches!(op.outcome, Outcome::Error(_)) {
            continue;
        }
        for k in op.keys() {
            let (acked, tried) = lists.entry(k.clone()).or_default();
            let end = op.completed.unwrap_or(Micros::MAX);
            let class = match op.kind {
                OpKind::Incr => Some(INCR),
                OpKind::Del => Some(DEL),
                OpKind::Expire => None,
                _ => Some(TAGGED),
            };
            if op.outcome.is_ok()
                && let Some(c) = class
            {
                acked[c].push((end, op.invoked, op.tag()));
            }
            let tried_class = match op.kind {
                OpKind::Incr => Some(TRIED_INCR),
                OpKind::Del => Some(TRIED_DEL),
                OpKind::Expire => Some(TRIED_EXPIRE),
                _ => None,
            };
            if let Some(c) = tried_class {
                tried[c].push((op.invoked, end, op.tag()));
            }
        }
    }
    lists
        .into_iter()
        .map(|(k, (acked, tried))| {
            let [a, b, c] = acked;
            let [d, e, f] = tried;
            (
                k,
                KeyHistory {
                    acked: [PrefixMax::new(a), PrefixMax::new(b), PrefixMax::new(c)],
                    tried: [PrefixMax::new(d), PrefixMax::new(e), PrefixMax::new(f)],
                },
            )
        })
        .collect()
}

/// Reads that returned a value older than a change acknowledged before the
/// read was invoked: a tagged write, an INCR or a DEL finished before the
/// read began, yet every operation that could have left what the read saw
/// had finished before that change began (a replica lagging behind, or an
/// old master after a failover). A value no operation left (a missing key
/// before any DEL) is as old as the dataset.
///
/// EXPIRE never counts as the change missed (its effect comes later), and
/// a key missing after an INCR is never called stale once an EXPIRE on it
/// began before the read ended (INCR keeps a TTL).
pub fn stale_reads(history: &History) -> Vec<StaleRead> {
    // A history without reads has none stale (and a long one of writes
    // alone needs no index of them).
    if !history.briefs().any(|o| o.kind.is_read()) {
        return Vec::new();
    }
    let by_tag = |t: WriteTag| history.by_tag(t).filter(|o| o.kind.writes_tag());
    let keys = index(history);
    let mut out = Vec::new();
    for r in history
        .iter()
        .filter(|o| o.kind.is_read() && o.outcome.is_ok())
    {
        let read_end = r.completed.unwrap_or(Micros::MAX);
        for (key, saw) in r.reads() {
            let Some(k) = keys.get(key) else { continue };
            // The latest change acknowledged before the read began among
            // `classes`, if it began after `end` (the value seen is older).
            let newer = |classes: &[usize], end: Option<Micros>| {
                classes
                    .iter()
                    .filter_map(|&c| k.acked[c].before(r.invoked))
                    .filter(|&(invoked, _)| end.is_none_or(|e| invoked > e))
                    .max_by_key(|&(invoked, _)| invoked)
                    .map(|(_, op)| op)
            };
            // When the last operation that may have left the value seen and
            // began before the read ended finished (`None`: none did).
            let tried_end = |c: usize| k.tried[c].before(read_end).map(|(end, _)| end);
            let missed = match saw {
                Seen::Write(t) => {
                    // A value written after the write it names was
                    // acknowledged is newer; so is an unknown tag.
                    let Some(w) = by_tag(t) else { continue };
                    newer(
                        &[TAGGED, INCR, DEL],
                        Some(w.completed.unwrap_or(Micros::MAX)),
                    )
                }
                // A counter no INCR can have left: only a replay of one.
                Seen::Counter => match tried_end(TRIED_INCR) {
                    Some(end) => newer(&[TAGGED, DEL], Some(end)),
                    None => continue,
                },
                Seen::Missing => {
                    let deleted = tried_end(TRIED_DEL).max(tried_end(TRIED_EXPIRE));
                    // (`None < Some`: no deletion at all leaves the
                    // dataset's first state.)
                    let by_write = newer(&[TAGGED], deleted);
                    let expiring = k.tried[TRIED_EXPIRE].before(read_end).is_some();
                    let by_incr = if expiring {
                        None
                    } else {
                        newer(&[INCR], deleted)
                    };
                    by_write.or(by_incr)
                }
            };
            if let Some(w) = missed {
                out.push(StaleRead {
                    client: r.client,
                    seq: r.seq,
                    key: key.clone(),
                    node: r.node,
                    at: r.invoked,
                    saw,
                    missed: w,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::lost::tests::{op, set};
    use crate::history::Op;

    fn get(client: u32, seq: u32, invoked: Micros, saw: Option<(u32, u32)>) -> Op {
        read(
            client,
            seq,
            invoked,
            saw.map_or(Seen::Missing, |(client, seq)| {
                Seen::Write(WriteTag { client, seq })
            }),
        )
    }

    fn read(client: u32, seq: u32, invoked: Micros, saw: Seen) -> Op {
        let mut o = op(
            OpKind::Get,
            (client, seq),
            &[7],
            (invoked, Some(invoked + 1)),
            Outcome::Ok,
        );
        o.read = Some(vec![saw]);
        o
    }

    fn stale(h: &[&Op]) -> Vec<u32> {
        stale_reads(&History::of(h)).iter().map(|s| s.seq).collect()
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
        assert_eq!(stale(&h), vec![1, 4]);
        assert_eq!(
            stale_reads(&History::of(&h))[0].missed,
            WriteTag { client: 1, seq: 2 }
        );
    }

    #[test]
    fn a_missing_key_is_fresh_after_a_del_and_stale_after_a_later_write() {
        let w = set(1, 1, 7, 0, 10, true);
        let del = op(OpKind::Del, (1, 2), &[7], (20, Some(30)), Outcome::Ok);
        let again = set(1, 3, 7, 40, 50, true);
        let r_after_del = get(2, 1, 35, None);
        let r_after_again = get(2, 2, 60, None);
        assert_eq!(
            stale(&[&w, &del, &again, &r_after_del, &r_after_again]),
            vec![2]
        );
        // Seeing the write the DEL removed, after the DEL was acknowledged.
        let old = get(2, 3, 35, Some((1, 1)));
        assert_eq!(stale(&[&w, &del, &old]), vec![3]);
        // A refused DEL removed nothing: the missing key is stale.
        let refused = op(
            OpKind::Del,
            (1, 2),
            &[7],
            (20, Some(30)),
            Outcome::Error("READONLY You can't write against a read only replica.".into()),
        );
        assert_eq!(stale(&[&w, &refused, &r_after_del]), vec![1]);
    }

    #[test]
    fn expire_explains_a_missing_key_and_is_never_the_change_missed() {
        let w = set(1, 1, 7, 0, 10, true);
        let exp = op(OpKind::Expire, (1, 2), &[7], (20, Some(30)), Outcome::Ok);
        // Gone after the EXPIRE: fine. Still there after it: fine too (the
        // TTL had not run out).
        assert!(stale(&[&w, &exp, &get(2, 1, 40, None)]).is_empty());
        assert!(stale(&[&w, &exp, &get(2, 1, 40, Some((1, 1)))]).is_empty());
        // An INCR keeps a TTL: a counter gone after it is no stale read.
        let incr = op(OpKind::Incr, (1, 3), &[7], (40, Some(50)), Outcome::Ok);
        let exp0 = op(OpKind::Expire, (1, 2), &[7], (5, Some(6)), Outcome::Ok);
        assert!(stale(&[&exp0, &incr, &get(2, 1, 60, None)]).is_empty());
        // Without an EXPIRE, the same read missed the INCR.
        assert_eq!(stale(&[&incr, &get(2, 1, 60, None)]), vec![1]);
    }

    #[test]
    fn a_counter_is_stale_once_a_later_write_or_del_was_acknowledged() {
        let incr = op(OpKind::Incr, (1, 1), &[7], (0, Some(10)), Outcome::Ok);
        let w = set(1, 2, 7, 20, 30, true);
        let del = op(OpKind::Del, (1, 3), &[7], (20, Some(30)), Outcome::Ok);
        assert_eq!(stale(&[&incr, &w, &read(2, 1, 40, Seen::Counter)]), vec![1]);
        assert_eq!(
            stale(&[&incr, &del, &read(2, 1, 40, Seen::Counter)]),
            vec![1]
        );
        // Another INCR after the write: the counter may be its.
        let incr2 = op(OpKind::Incr, (1, 4), &[7], (35, Some(38)), Outcome::Ok);
        assert!(stale(&[&incr, &w, &incr2, &read(2, 1, 40, Seen::Counter)]).is_empty());
    }

    #[test]
    fn an_mget_is_checked_key_by_key() {
        let w7 = set(1, 1, 7, 0, 10, true);
        let w8 = set(1, 2, 8, 0, 10, true);
        let mut m = op(OpKind::MGet, (2, 1), &[7, 8], (20, Some(21)), Outcome::Ok);
        m.read = Some(vec![
            Seen::Write(WriteTag { client: 1, seq: 1 }),
            Seen::Missing,
        ]);
        let found = stale_reads(&History::of(&[&w7, &w8, &m]));
        assert_eq!(found.len(), 1);
        assert_eq!(
            (found[0].key.as_str(), found[0].saw),
            ("key:8", Seen::Missing)
        );
    }
}
