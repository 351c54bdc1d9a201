//! Every client's operations as one history, in order of invocation (then
//! client, then sequence number): what the checkers, reports and plots
//! read. The clients' logs are merged as they are read, so a history costs
//! no memory of its own however long the run; an operation is found by its
//! write tag in constant time, since a client's log is indexed by
//! sequence number.

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::proto::WriteTag;
use crate::time::Micros;

use super::Op;
use super::log::{Brief, OpLog};

/// The operations of every client, read in invocation order.
#[derive(Clone, Debug, Default)]
pub struct History<'a> {
    logs: Vec<Cow<'a, OpLog>>,
}

impl<'a> History<'a> {
    /// The history of these clients' logs.
    pub fn new(logs: impl IntoIterator<Item = &'a OpLog>) -> Self {
        Self {
            logs: logs.into_iter().map(Cow::Borrowed).collect(),
        }
    }

    /// A history of operations given one by one (a real run's, an outside
    /// connection's, a test's), in any order.
    pub fn from_ops(ops: impl IntoIterator<Item = Op>) -> History<'static> {
        History::default().with(ops)
    }

    /// [`History::from_ops`] of borrowed operations.
    pub fn of(ops: &[&Op]) -> History<'static> {
        Self::from_ops(ops.iter().map(|o| (*o).clone()))
    }

    /// This history with `ops` added, each client's in its own log.
    pub fn with(mut self, ops: impl IntoIterator<Item = Op>) -> Self {
        let mut by_client: BTreeMap<u32, Vec<Op>> = BTreeMap::new();
        for op in ops {
            by_client.entry(op.client).or_default().push(op);
        }
        for (client, mut ops) in by_client {
            ops.sort_by_key(|o| (o.invoked, o.seq));
            let mut log = OpLog::with_capacity(client, ops.len());
            for op in &ops {
                log.push(op);
            }
            self.logs.push(Cow::Owned(log));
        }
        self
    }

    /// The logs of the clients `keep` accepts, borrowed from this history.
    pub fn select(&self, keep: impl Fn(u32) -> bool) -> History<'_> {
        History {
            logs: (self.logs.iter())
                .filter(|l| keep(l.client()))
                .map(|l| Cow::Borrowed(&**l))
                .collect(),
        }
    }

    /// How many operations there are.
    pub fn len(&self) -> usize {
        self.logs.iter().map(|l| l.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.logs.iter().all(|l| l.is_empty())
    }

    /// Every operation, in order of invocation, then client, then sequence
    /// number.
    pub fn iter(&self) -> Iter<'_, Op> {
        self.merge(OpLog::get)
    }

    /// [`History::iter`] as [`Brief`]s: for checkers that need no key.
    pub fn briefs(&self) -> Iter<'_, Brief> {
        self.merge(OpLog::brief)
    }

    fn merge<T>(&self, read: fn(&OpLog, usize) -> T) -> Iter<'_, T> {
        let heads = (self.logs.iter().enumerate())
            .filter(|(_, log)| !log.is_empty())
            .map(|(n, log)| Head::of(log, n, 0))
            .collect();
        Iter {
            logs: &self.logs,
            heads,
            read,
        }
    }

    /// Every operation, collected.
    pub fn to_vec(&self) -> Vec<Op> {
        self.iter().collect()
    }

    /// The operation that wrote `tag`'s value, if this history has it.
    pub fn by_tag(&self, tag: WriteTag) -> Option<Op> {
        self.find(tag).map(|(l, i)| l.get(i))
    }

    /// When the operation of `tag` got its reply (`Some(None)`: it has
    /// none), if this history has it: [`History::by_tag`] without reading
    /// the whole operation back.
    pub fn completed_by_tag(&self, tag: WriteTag) -> Option<Option<Micros>> {
        self.find(tag).map(|(l, i)| l.completed(i))
    }

    fn find(&self, tag: WriteTag) -> Option<(&OpLog, usize)> {
        self.logs
            .iter()
            .filter(|l| l.client() == tag.client)
            .find_map(|l| l.index_of(tag.seq).map(|i| (&**l, i)))
    }
}

impl<'h, 'a> IntoIterator for &'h History<'a> {
    type Item = Op;
    type IntoIter = Iter<'h, Op>;
    fn into_iter(self) -> Iter<'h, Op> {
        self.iter()
    }
}

/// The next operation of one log: what the merge orders by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Head {
    invoked: Micros,
    client: u32,
    seq: u32,
    log: usize,
    index: usize,
}

impl Head {
    fn of(log: &OpLog, n: usize, index: usize) -> Head {
        Head {
            invoked: log.invoked(index),
            client: log.client(),
            seq: log.seq(index),
            log: n,
            index,
        }
    }
}

/// The merge of the logs, one operation at a time. A run has a few
/// clients, so the next operation is the least of the logs' heads by a
/// scan (cheaper than a heap's bookkeeping at that size).
pub struct Iter<'h, T> {
    logs: &'h [Cow<'h, OpLog>],
    heads: Vec<Head>,
    read: fn(&OpLog, usize) -> T,
}

impl<T> Iterator for Iter<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        let (at, head) = (self.heads.iter().copied().enumerate()).min_by_key(|(_, h)| *h)?;
        let log = &self.logs[head.log];
        if head.index + 1 < log.len() {
            self.heads[at] = Head::of(log, head.log, head.index + 1);
        } else {
            self.heads.swap_remove(at);
        }
        Some((self.read)(log, head.index))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{OpKind, key_name};
    use proptest::prelude::*;

    fn op(client: u32, seq: u32, invoked: Micros) -> Op {
        Op::pending(client, seq, OpKind::Set, key_name(seq % 3), 0, invoked)
    }

    proptest! {
        /// The merge reads the operations in the order a sort of all of
        /// them gives, and finds each by its tag.
        #[test]
        fn the_merge_is_the_sorted_history(
            clients in prop::collection::vec(prop::collection::vec(0u64..30, 0..20), 1..6),
        ) {
            let mut all = Vec::new();
            let mut logs = Vec::new();
            for (c, gaps) in clients.iter().enumerate() {
                let mut log = OpLog::with_capacity(c as u32, 0);
                let mut t = 0;
                for (i, gap) in gaps.iter().enumerate() {
                    t += gap;
                    let o = op(c as u32, i as u32 + 1, t);
                    log.push(&o);
                    all.push(o);
                }
                logs.push(log);
            }
            let h = History::new(logs.iter());
            let mut sorted = all.clone();
            sorted.sort_by_key(|o| (o.invoked, o.client, o.seq));
            prop_assert_eq!(h.to_vec(), sorted.clone());
            let briefs: Vec<Micros> = h.briefs().map(|b| b.invoked).collect();
            prop_assert_eq!(briefs, sorted.iter().map(|o| o.invoked).collect::<Vec<_>>());
            prop_assert_eq!(h.len(), all.len());
            for o in &all {
                prop_assert_eq!(h.by_tag(o.tag()), Some(o.clone()));
                prop_assert_eq!(h.completed_by_tag(o.tag()), Some(o.completed));
            }
            prop_assert_eq!(h.by_tag(WriteTag { client: 99, seq: 1 }), None);
            // Given one by one, in any order, the same history.
            all.reverse();
            prop_assert_eq!(History::from_ops(all).to_vec(), sorted);
        }
    }
}
