//! One client's operations, stored compactly. An hour at 10,000 writes/s is
//! 36 M operations, so what every operation has fits a 24-byte row: when it
//! was invoked, how long its reply took, its key (an index into the log's
//! own key names), its node, kind and outcome. What only some operations
//! have (what a read saw, an error's text, further keys, a WAIT count) sits
//! in side tables the row points into. An operation is read back whole, as
//! an [`Op`], by [`OpLog::get`].

use rustc_hash::FxHashMap;

use crate::proto::Key;
use crate::sim::net::NodeId;
use crate::time::Micros;

use super::{Op, OpKind, Outcome, Seen};

/// `Row::latency` while no reply has come.
const NO_REPLY: u32 = u32::MAX;
/// `Row::latency` for a reply too late to fit: the time is in the extras.
const LONG: u32 = u32::MAX - 1;
/// `Row::node` for a node index too large to fit: it is in the extras.
const WIDE_NODE: u16 = u16::MAX;

/// Key numbers below this are found by number in `OpLog::drawn` (4 bytes
/// each, so at most 4 MiB); higher ones by name.
const DRAWN_BY_NUMBER: u32 = 1 << 20;

/// The outcome, in `Row::flags`' low three bits.
const OUTCOME_MASK: u8 = 0b111;
/// What `Row::side` indexes, in `Row::flags`' next two bits.
const SIDE_SHIFT: u8 = 3;
const SIDE_NONE: u8 = 0;
/// One key's read: `reads[side]`.
const SIDE_READ: u8 = 1;
/// An error's text: `errors[side]`.
const SIDE_ERROR: u8 = 2;
/// Anything else: `extras[side]`.
const SIDE_EXTRA: u8 = 3;

/// What every operation has, in 24 bytes.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Row {
    invoked: Micros,
    /// Completion minus invocation, or [`NO_REPLY`] or [`LONG`].
    latency: u32,
    /// Index into the log's key names.
    key: u32,
    /// Index into the side table `flags` names.
    side: u32,
    node: u16,
    kind: OpKind,
    flags: u8,
}

impl Row {
    fn side_kind(self) -> u8 {
        self.flags >> SIDE_SHIFT
    }
}

/// What an operation has beyond its row when a single read or an error's
/// text is not all.
#[derive(Clone, Debug, Default, PartialEq)]
struct Extra {
    more_keys: Vec<u32>,
    read: Option<Vec<Seen>>,
    error: Option<String>,
    wait_acked: Option<u32>,
    completed: Option<Micros>,
    node: NodeId,
}

/// An operation as most checkers read it: where it went, what it was, when
/// and how it ended.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Brief {
    pub node: NodeId,
    pub kind: OpKind,
    pub invoked: Micros,
    pub completed: Option<Micros>,
    pub outcome: Answer,
}

/// How an operation ended, without an error's text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    Pending,
    Ok,
    Error,
    /// Timed out or cut off: it may or may not have happened.
    Unknown,
}

impl Brief {
    /// An acknowledged write: what availability and split brain count.
    pub fn acked_write(&self) -> bool {
        self.kind.is_write() && self.outcome == Answer::Ok
    }
}

/// One client's operations in the order it invoked them.
#[derive(Clone, Debug, Default)]
pub struct OpLog {
    client: u32,
    rows: Vec<Row>,
    /// Each row's sequence number, kept only once one is not its position
    /// plus one (an outside connection numbers only some of its commands).
    seqs: Option<Vec<u32>>,
    seq_index: FxHashMap<u32, u32>,
    keys: Vec<Key>,
    key_ids: FxHashMap<Key, u32>,
    /// The id of each key a workload drew, by its number in the key set
    /// (`u32::MAX`: not drawn yet).
    drawn: Vec<u32>,
    reads: Vec<Seen>,
    errors: Vec<String>,
    error_ids: FxHashMap<String, u32>,
    extras: Vec<Extra>,
}

fn outcome_code(o: &Outcome) -> u8 {
    match o {
        Outcome::Pending => 0,
        Outcome::Ok => 1,
        Outcome::Error(_) => 2,
        Outcome::Timeout => 3,
        Outcome::ConnectionLost => 4,
    }
}

impl OpLog {
    /// An empty log for `client`, with room for `capacity` operations.
    pub fn with_capacity(client: u32, capacity: usize) -> Self {
        Self {
            client,
            rows: Vec::with_capacity(capacity),
            ..Self::default()
        }
    }

    pub fn client(&self) -> u32 {
        self.client
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Appends `op` (whose client must be this log's) and returns its index.
    pub fn push(&mut self, op: &Op) -> usize {
        let key = self.intern_key(&op.key);
        self.push_keyed(op, key)
    }

    /// [`OpLog::push`] of an operation whose key is number `key_index` of
    /// its workload's key set: found by that number, without hashing (for
    /// the first [`DRAWN_BY_NUMBER`] numbers; a key set may hold 100 M).
    pub fn push_drawn(&mut self, op: &Op, key_index: u32) -> usize {
        if key_index >= DRAWN_BY_NUMBER {
            return self.push(op);
        }
        let i = key_index as usize;
        if i >= self.drawn.len() {
            self.drawn.resize(i + 1, u32::MAX);
        }
        // A key drawn for the first time gets an id without the name
        // index: only this number finds it again (a name pushed otherwise
        // may get a second id, which reads back the same).
        let key = match self.drawn[i] {
            u32::MAX => {
                let id = self.keys.len() as u32;
                self.keys.push(op.key.clone());
                self.drawn[i] = id;
                id
            }
            id => id,
        };
        debug_assert_eq!(self.keys[key as usize], op.key);
        self.push_keyed(op, key)
    }

    fn push_keyed(&mut self, op: &Op, key: u32) -> usize {
        debug_assert_eq!(op.client, self.client, "an operation of another client");
        let i = self.rows.len();
        if self.seqs.is_none() && op.seq as usize != i + 1 {
            self.seqs = Some((1..=i as u32).collect());
            self.seq_index = (1..=i as u32).map(|s| (s, s - 1)).collect();
        }
        if let Some(seqs) = &mut self.seqs {
            seqs.push(op.seq);
            self.seq_index.entry(op.seq).or_insert(i as u32);
        }
        let row = self.encode(op, None, key);
        self.rows.push(row);
        i
    }

    /// The operation at index `i`, whole.
    pub fn get(&self, i: usize) -> Op {
        let r = self.rows[i];
        let seq = self.seq(i);
        let extra = (r.side_kind() == SIDE_EXTRA).then(|| &self.extras[r.side as usize]);
        let error = match r.side_kind() {
            SIDE_ERROR => Some(self.errors[r.side as usize].clone()),
            SIDE_EXTRA => extra.and_then(|e| e.error.clone()),
            _ => None,
        };
        let outcome = match r.flags & OUTCOME_MASK {
            0 => Outcome::Pending,
            1 => Outcome::Ok,
            2 => Outcome::Error(error.unwrap_or_default()),
            3 => Outcome::Timeout,
            _ => Outcome::ConnectionLost,
        };
        let read = match r.side_kind() {
            SIDE_READ => Some(vec![self.reads[r.side as usize]]),
            SIDE_EXTRA => extra.and_then(|e| e.read.clone()),
            _ => None,
        };
        Op {
            client: self.client,
            seq,
            kind: r.kind,
            key: self.keys[r.key as usize].clone(),
            more_keys: extra.map_or_else(Vec::new, |e| {
                e.more_keys
                    .iter()
                    .map(|&k| self.keys[k as usize].clone())
                    .collect()
            }),
            node: self.node(r),
            invoked: r.invoked,
            completed: self.completed(i),
            outcome,
            read,
            wait_acked: extra.and_then(|e| e.wait_acked),
        }
    }

    /// What most checkers read of operation `i` (no key, read or error
    /// text), cheaper than [`OpLog::get`].
    pub fn brief(&self, i: usize) -> Brief {
        let r = self.rows[i];
        Brief {
            node: self.node(r),
            kind: r.kind,
            invoked: r.invoked,
            completed: self.completed(i),
            outcome: match r.flags & OUTCOME_MASK {
                0 => Answer::Pending,
                1 => Answer::Ok,
                2 => Answer::Error,
                _ => Answer::Unknown,
            },
        }
    }

    /// Every operation, in order.
    pub fn iter(&self) -> impl Iterator<Item = Op> + '_ {
        (0..self.rows.len()).map(|i| self.get(i))
    }

    /// The last operation, if any.
    pub fn last(&self) -> Option<Op> {
        self.len().checked_sub(1).map(|i| self.get(i))
    }

    /// The index of the operation numbered `seq`.
    pub fn index_of(&self, seq: u32) -> Option<usize> {
        match &self.seqs {
            None => {
                let i = (seq as usize).checked_sub(1)?;
                (i < self.rows.len()).then_some(i)
            }
            Some(_) => self.seq_index.get(&seq).map(|&i| i as usize),
        }
    }

    /// When operation `i` was invoked (what the merged view orders by).
    pub fn invoked(&self, i: usize) -> Micros {
        self.rows[i].invoked
    }

    /// Operation `i`'s sequence number.
    pub fn seq(&self, i: usize) -> u32 {
        self.seqs.as_ref().map_or(i as u32 + 1, |s| s[i])
    }

    /// A row's node: in the row, or in its extras when too large for it.
    fn node(&self, r: Row) -> NodeId {
        match r.node {
            WIDE_NODE => self.extras[r.side as usize].node,
            n => NodeId::from(n),
        }
    }

    /// When operation `i`'s reply came, if one did (without reading the
    /// rest of it back).
    pub fn completed(&self, i: usize) -> Option<Micros> {
        let r = self.rows[i];
        match r.latency {
            NO_REPLY => None,
            LONG => self.extras[r.side as usize].completed,
            l => Some(r.invoked + Micros::from(l)),
        }
    }

    pub fn kind(&self, i: usize) -> OpKind {
        self.rows[i].kind
    }

    /// Operation `i`'s first key (for PUBLISH, the channel).
    pub fn key(&self, i: usize) -> &Key {
        &self.keys[self.rows[i].key as usize]
    }

    /// Operation `i` ended at `at` with `outcome`. An answered operation
    /// with no side data is the common case and is written in place.
    pub fn complete(&mut self, i: usize, at: Micros, outcome: Outcome) {
        let r = &mut self.rows[i];
        let latency = at.saturating_sub(r.invoked);
        let plain = !matches!(outcome, Outcome::Error(_)) && r.side_kind() == SIDE_NONE;
        if plain && latency < Micros::from(LONG) {
            r.latency = latency as u32;
            r.flags = (r.flags & !OUTCOME_MASK) | outcome_code(&outcome);
            return;
        }
        self.update(i, |op| {
            op.completed = Some(at);
            op.outcome = outcome;
        });
    }

    /// Operation `i`, read back, changed by `f` and stored again.
    pub fn update(&mut self, i: usize, f: impl FnOnce(&mut Op)) {
        let mut op = self.get(i);
        f(&mut op);
        let old = self.rows[i];
        let key = if self.keys[old.key as usize] == op.key {
            old.key
        } else {
            self.intern_key(&op.key)
        };
        self.rows[i] = self.encode(&op, Some(old), key);
    }

    fn intern_key(&mut self, k: &Key) -> u32 {
        if let Some(&id) = self.key_ids.get(k) {
            return id;
        }
        let id = self.keys.len() as u32;
        self.keys.push(k.clone());
        self.key_ids.insert(k.clone(), id);
        id
    }

    fn intern_error(&mut self, e: &str) -> u32 {
        if let Some(&id) = self.error_ids.get(e) {
            return id;
        }
        let id = self.errors.len() as u32;
        self.errors.push(e.to_string());
        self.error_ids.insert(e.to_string(), id);
        id
    }

    /// `op` as a row, with `key` its key's id, its side data written to
    /// the side tables (into the slot `old` used, when it used one of the
    /// same table).
    fn encode(&mut self, op: &Op, old: Option<Row>, key: u32) -> Row {
        let latency = match op.completed {
            None => NO_REPLY,
            Some(c) => match c.checked_sub(op.invoked) {
                Some(l) if l < Micros::from(LONG) => l as u32,
                _ => LONG,
            },
        };
        let node = match u16::try_from(op.node) {
            Ok(n) if n != WIDE_NODE => n,
            _ => WIDE_NODE,
        };
        let error = match &op.outcome {
            Outcome::Error(e) => Some(e.as_str()),
            _ => None,
        };
        let single_read = op.read.as_deref().filter(|r| r.len() == 1);
        let needs_extra = !op.more_keys.is_empty()
            || op.wait_acked.is_some()
            || latency == LONG
            || node == WIDE_NODE
            || op.read.as_ref().is_some_and(|r| r.len() != 1)
            || (error.is_some() && op.read.is_some());
        let reuse = |kind: u8| {
            old.filter(|o| o.side_kind() == kind)
                .map(|o| o.side as usize)
        };
        let (side_kind, side) = if needs_extra {
            let more_keys = op.more_keys.iter().map(|k| self.intern_key(k)).collect();
            let extra = Extra {
                more_keys,
                read: op.read.clone(),
                error: error.map(str::to_string),
                wait_acked: op.wait_acked,
                completed: op.completed,
                node: op.node,
            };
            (SIDE_EXTRA, put(&mut self.extras, reuse(SIDE_EXTRA), extra))
        } else if let Some(&[seen]) = single_read {
            (SIDE_READ, put(&mut self.reads, reuse(SIDE_READ), seen))
        } else if let Some(e) = error {
            (SIDE_ERROR, self.intern_error(e))
        } else {
            (SIDE_NONE, 0)
        };
        Row {
            invoked: op.invoked,
            latency,
            key,
            side,
            node,
            kind: op.kind,
            flags: outcome_code(&op.outcome) | (side_kind << SIDE_SHIFT),
        }
    }
}

/// `value` into `table`, at `slot` when there is one, else at the end;
/// returns where.
fn put<T>(table: &mut Vec<T>, slot: Option<usize>, value: T) -> u32 {
    match slot {
        Some(s) => {
            table[s] = value;
            s as u32
        }
        None => {
            table.push(value);
            table.len() as u32 - 1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::key_name;
    use crate::proto::WriteTag;
    use proptest::prelude::*;

    #[test]
    fn a_row_is_24_bytes() {
        assert_eq!(std::mem::size_of::<Row>(), 24);
    }

    fn seen() -> impl Strategy<Value = Seen> {
        prop_oneof![
            Just(Seen::Missing),
            Just(Seen::Counter),
            (0u32..3, 1u32..50).prop_map(|(client, seq)| Seen::Write(WriteTag { client, seq })),
        ]
    }

    fn outcome() -> impl Strategy<Value = Outcome> {
        prop_oneof![
            Just(Outcome::Pending),
            Just(Outcome::Ok),
            prop_oneof![Just("READONLY x"), Just("NOREPLICAS y"), Just("")]
                .prop_map(|e| Outcome::Error(e.to_string())),
            Just(Outcome::Timeout),
            Just(Outcome::ConnectionLost),
        ]
    }

    /// Any operation, with the rare parts (late replies, wide node
    /// indices, several keys, WAIT counts) drawn often.
    fn op() -> impl Strategy<Value = (OpKind, Op)> {
        (
            prop::sample::select(OpKind::ALL.to_vec()),
            0u32..20,
            prop::collection::vec(0u32..20, 0..3),
            prop_oneof![0u32..5, Just(65_534), Just(65_535), Just(70_000)],
            0u64..10_000_000_000,
            prop_oneof![
                Just(None),
                (0u64..10_000).prop_map(Some),
                Just(Some(u64::from(u32::MAX) + 7)),
                Just(Some(u64::from(LONG) - 1))
            ],
            outcome(),
            prop::option::of(prop::collection::vec(seen(), 0..3)),
            prop::option::of(0u32..3),
        )
            .prop_map(
                |(kind, k, more, node, invoked, latency, outcome, read, wait)| {
                    let mut op = Op::pending(7, 1, kind, key_name(k), node, invoked);
                    op.more_keys = more.into_iter().map(key_name).collect();
                    op.completed = latency.map(|l| invoked + l);
                    op.outcome = outcome;
                    op.read = read;
                    op.wait_acked = wait;
                    (kind, op)
                },
            )
    }

    proptest! {
        /// Whatever an operation holds, the log gives it back unchanged,
        /// and so after any change made in place.
        #[test]
        fn every_operation_reads_back_as_written(
            ops in prop::collection::vec(op(), 1..40),
            changes in prop::collection::vec((0usize..40, op()), 0..40),
        ) {
            let mut log = OpLog::with_capacity(7, 0);
            let mut want: Vec<Op> = Vec::new();
            for (i, (_, mut op)) in ops.into_iter().enumerate() {
                op.seq = i as u32 + 1;
                prop_assert_eq!(log.push(&op), i);
                want.push(op);
            }
            for (i, (_, new)) in changes {
                let i = i % want.len();
                let mut new = new;
                new.seq = want[i].seq;
                log.update(i, |op| *op = new.clone());
                want[i] = new;
                let (at, outcome) = (want[i].invoked + 3, Outcome::Ok);
                if i.is_multiple_of(2) {
                    log.complete(i, at, outcome.clone());
                    want[i].completed = Some(at);
                    want[i].outcome = outcome;
                }
            }
            for (i, op) in want.iter().enumerate() {
                let brief = log.brief(i);
                prop_assert_eq!((brief.node, brief.kind, brief.invoked), (op.node, op.kind, op.invoked));
                prop_assert_eq!(brief.completed, op.completed);
                let answer = match op.outcome {
                    Outcome::Pending => Answer::Pending,
                    Outcome::Ok => Answer::Ok,
                    Outcome::Error(_) => Answer::Error,
                    Outcome::Timeout | Outcome::ConnectionLost => Answer::Unknown,
                };
                prop_assert_eq!(brief.outcome, answer);
                prop_assert_eq!(log.completed(i), op.completed);
                prop_assert_eq!(log.kind(i), op.kind);
                prop_assert_eq!(log.key(i), &op.key);
            }
            let got: Vec<Op> = log.iter().collect();
            prop_assert_eq!(got, want);
        }
    }

    /// A key found by its number in the key set reads back as its name,
    /// below and above the numbers kept directly, and beside the same name
    /// pushed without a number.
    #[test]
    fn drawn_keys_read_back_by_name() {
        let mut log = OpLog::with_capacity(1, 0);
        let numbers = [3, 3, DRAWN_BY_NUMBER - 1, DRAWN_BY_NUMBER, 90_000_000, 3];
        for (i, &n) in numbers.iter().enumerate() {
            let op = Op::pending(1, i as u32 + 1, OpKind::Set, key_name(n), 0, 0);
            log.push_drawn(&op, n);
        }
        log.push(&Op::pending(1, 7, OpKind::Get, key_name(3), 0, 0));
        let keys: Vec<Key> = log.iter().map(|o| o.key).collect();
        let want: Vec<Key> = numbers.iter().chain(&[3]).map(|&n| key_name(n)).collect();
        assert_eq!(keys, want);
        assert_eq!(
            log.drawn.len(),
            DRAWN_BY_NUMBER as usize,
            "no room past the cap"
        );
    }

    #[test]
    fn sequence_numbers_that_skip_are_kept() {
        let mut log = OpLog::with_capacity(3, 0);
        for seq in [1, 2, 5, 9] {
            log.push(&Op::pending(
                3,
                seq,
                OpKind::Set,
                key_name(1),
                0,
                u64::from(seq),
            ));
        }
        assert_eq!(log.iter().map(|o| o.seq).collect::<Vec<_>>(), [1, 2, 5, 9]);
        assert_eq!(log.index_of(5), Some(2));
        assert_eq!(log.index_of(3), None);
        assert_eq!(log.index_of(9), Some(3));
        // The first one may skip too.
        let mut log = OpLog::with_capacity(3, 0);
        log.push(&Op::pending(3, 4, OpKind::Set, key_name(1), 0, 1));
        assert_eq!(
            (log.get(0).seq, log.index_of(4), log.index_of(1)),
            (4, Some(0), None)
        );
    }

    #[test]
    fn an_answer_in_place_needs_no_side_table() {
        let mut log = OpLog::with_capacity(1, 0);
        log.push(&Op::pending(1, 1, OpKind::Set, key_name(1), 2, 100));
        log.complete(0, 350, Outcome::Ok);
        let op = log.get(0);
        assert_eq!((op.completed, &op.outcome), (Some(350), &Outcome::Ok));
        assert!(log.extras.is_empty() && log.reads.is_empty() && log.errors.is_empty());
        // The same error twice is kept once.
        log.push(&Op::pending(1, 2, OpKind::Set, key_name(1), 2, 400));
        log.push(&Op::pending(1, 3, OpKind::Set, key_name(1), 2, 500));
        log.complete(1, 450, Outcome::Error("READONLY".into()));
        log.complete(2, 550, Outcome::Error("READONLY".into()));
        assert_eq!(log.errors.len(), 1);
        assert_eq!(log.get(2).outcome, Outcome::Error("READONLY".into()));
    }
}
