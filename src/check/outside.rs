//! Outside clients' writes: the commands sent on outside connections (a
//! `[[connection]]` session, a client of `redsim lab`) read as operations,
//! so the lost-write checker judges them beside the workload's.
//!
//! The workload writes values that name their write (a tag); an outside
//! client writes whatever it likes. So each value an outside write left is
//! traced back to the writes that wrote exactly those bytes to that key.
//! Several writes of the same bytes cannot be told apart in the final
//! state: the one that finished last (or never answered) stands for them
//! all, which judges each exactly as "any of them may have left it" would.
//!
//! Only the plain forms are followed: `SET k v`, `MSET`, `DEL`/`UNLINK`,
//! `INCR`/`DECR`/`INCRBY`/`DECRBY`, `EXPIRE`/`PEXPIRE k n`, and
//! `FLUSHALL`/`FLUSHDB` (a DEL of every key). Any other write that may have
//! taken effect (`APPEND`, `SET … NX`, a command queued in MULTI…) leaves
//! its keys unchecked: no loss is reported on them, and the summary lists
//! them. A write whose keys cannot be told (`EVAL` with a reply) turns the
//! check off, with the reason. The scenario's own command lines are the
//! operator's probes, not a client's writes, and are not read here.

use std::collections::{BTreeMap, BTreeSet};

use compact_str::CompactString;
use rustc_hash::FxHashMap;

use crate::history::{Exchange, History, Op, OpKind, Outcome, Seen};
use crate::proto::command::{Flags, Table};
use crate::proto::keyspace::Dataset;
use crate::proto::resp::Frame;
use crate::proto::{Key, Value, WriteTag};
use crate::time::Micros;

use super::lost::{LostWrite, final_value};

/// Client ids from here up are outside sessions, in order of their first
/// command; workload clients are numbered from 1.
pub const OUTSIDE_CLIENTS: u32 = 1 << 30;

/// The outside sessions' writes, and what the checker cannot follow.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OutsideWrites {
    /// The followed writes, in the order they were sent. An operation's
    /// `seq` is its command's number in its session, from 1.
    pub ops: Vec<Op>,
    /// Session names, by client id less [`OUTSIDE_CLIENTS`].
    pub sessions: Vec<String>,
    /// Keys a write the checker does not follow touched, with the first
    /// such write (`APPEND by lab-2 #4`).
    pub unchecked: BTreeMap<Key, String>,
    /// Why nothing can be checked, when a write's keys cannot be told.
    pub unknown: Option<String>,
    /// Writes it does not follow (a command queued in MULTI aside), by
    /// outcome: acknowledged, refused, of unknown fate.
    pub others: [usize; 3],
    /// For each key and value an outside write left: the write standing
    /// for every write of those bytes there (only looked up, never walked).
    values: FxHashMap<(Key, CompactString), Writer>,
}

/// The write standing for a value: the one that finished last.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Writer {
    tag: WriteTag,
    /// `None`: it never got an answer (it may have landed at any time).
    completed: Option<Micros>,
}

impl Writer {
    fn later_than(&self, other: &Writer) -> bool {
        match (self.completed, other.completed) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(a), Some(b)) => a > b,
        }
    }
}

impl OutsideWrites {
    /// Reads the exchanges of the sessions `is_outside` names. `workload`
    /// gives the keys a FLUSHALL may have deleted, beside the outside
    /// writes' own.
    pub fn read(
        exchanges: &[Exchange],
        is_outside: impl Fn(&str) -> bool,
        workload: &History,
    ) -> Self {
        let mut out = OutsideWrites::default();
        let mut counts: FxHashMap<&str, u32> = FxHashMap::default();
        let mut flushes = Vec::new();
        for ex in exchanges.iter().filter(|x| is_outside(&x.command.session)) {
            let session = ex.command.session.as_str();
            let seq = counts.entry(session).or_default();
            *seq += 1;
            let client = match out.sessions.iter().position(|s| s == session) {
                Some(i) => OUTSIDE_CLIENTS + i as u32,
                None => {
                    out.sessions.push(session.to_string());
                    OUTSIDE_CLIENTS + out.sessions.len() as u32 - 1
                }
            };
            let who = || format!("{} by {session} #{seq}", ex.command.argv[0].to_uppercase());
            match followed(&ex.command.argv, ex.reply.as_ref().map(|r| &r.1)) {
                Followed::Not => {}
                Followed::Write { kind, keys, values } => {
                    let mut op = Op::pending(
                        client,
                        *seq,
                        kind,
                        keys[0].clone(),
                        ex.command.node,
                        ex.sent,
                    );
                    op.more_keys = keys[1..].to_vec();
                    if let Some((at, frame)) = &ex.reply {
                        op.completed = Some(*at);
                        op.outcome = match frame {
                            Frame::Error(e) => Outcome::Error(e.clone()),
                            _ => Outcome::Ok,
                        };
                    }
                    if !matches!(op.outcome, Outcome::Error(_)) {
                        out.remember(&keys, values, &op);
                    }
                    out.ops.push(op);
                }
                Followed::Flush => {
                    flushes.push(out.ops.len());
                    let mut op = Op::pending(
                        client,
                        *seq,
                        OpKind::Del,
                        Key::default(),
                        ex.command.node,
                        ex.sent,
                    );
                    if let Some((at, frame)) = &ex.reply {
                        op.completed = Some(*at);
                        op.outcome = match frame {
                            Frame::Error(e) => Outcome::Error(e.clone()),
                            _ => Outcome::Ok,
                        };
                    }
                    out.ops.push(op);
                }
                Followed::Other(keys) => {
                    let queued = matches!(&ex.reply, Some((_, Frame::Simple(s))) if s == "QUEUED");
                    let fate = match &ex.reply {
                        // Refused as a whole: it changed nothing.
                        Some((_, Frame::Error(_))) => {
                            out.others[1] += 1;
                            continue;
                        }
                        _ if queued => None,
                        Some(_) => Some(0),
                        None => Some(2),
                    };
                    if let Some(i) = fate {
                        out.others[i] += 1;
                    }
                    if keys.is_empty() {
                        out.unknown.get_or_insert_with(|| {
                            format!("{}: the keys it wrote cannot be told", who())
                        });
                    }
                    for k in keys {
                        out.unchecked.entry(k).or_insert_with(who);
                    }
                }
            }
        }
        if !flushes.is_empty() {
            let mut all: BTreeSet<Key> = BTreeSet::new();
            for o in workload.iter().chain(out.ops.iter().cloned()) {
                all.extend(o.keys().cloned());
            }
            let all: BTreeSet<Key> = all.into_iter().filter(|k| !k.is_empty()).collect();
            for i in flushes {
                let mut keys = all.iter().cloned();
                let op = &mut out.ops[i];
                // A flush before any key was written deletes nothing the
                // checker follows: an empty key stands for none.
                op.key = keys.next().unwrap_or_default();
                op.more_keys = keys.collect();
            }
        }
        out
    }

    fn remember(&mut self, keys: &[Key], values: Vec<CompactString>, op: &Op) {
        let writer = Writer {
            tag: op.tag(),
            completed: op.completed,
        };
        for (k, v) in keys.iter().zip(values) {
            let slot = self.values.entry((k.clone(), v)).or_insert(writer);
            if writer.later_than(slot) {
                *slot = writer;
            }
        }
    }

    /// What the final state holds for `key`, naming an outside write where
    /// the value is one an outside write left.
    pub fn found(&self, data: &Dataset, key: &str) -> Seen {
        match data.get(key) {
            Some(Value::Text(text)) => self
                .values
                .get(&(Key::from(key), text.clone()))
                .map_or(Seen::Counter, |w| Seen::Write(w.tag)),
            _ => final_value(data, key),
        }
    }

    /// The workload's history with these writes, in order of invocation.
    pub fn merged<'a>(&self, workload: &History<'a>) -> History<'a> {
        workload.clone().with(self.ops.iter().cloned())
    }

    /// The lost writes the checker can stand behind: none on an unchecked
    /// key, and none at all when a write's keys could not be told.
    pub fn keep(&self, mut lost: Vec<LostWrite>) -> Vec<LostWrite> {
        if self.unknown.is_some() {
            return Vec::new();
        }
        lost.retain(|l| !self.unchecked.contains_key(&l.key));
        lost
    }

    /// A client's name: `client-N` for a workload's, the session's name
    /// for an outside one.
    pub fn label(&self, client: u32) -> String {
        match client.checked_sub(OUTSIDE_CLIENTS) {
            Some(i) => self
                .sessions
                .get(i as usize)
                .cloned()
                .unwrap_or_else(|| format!("session-{i}")),
            None => format!("client-{client}"),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty() && self.others == [0; 3] && self.unknown.is_none()
    }
}

/// What one outside command is to the checker.
#[derive(Debug, PartialEq)]
enum Followed {
    /// A read, a refused write, or no write at all.
    Not,
    /// A write it follows: what it did to which keys, and the bytes it
    /// wrote to each (for SET and MSET).
    Write {
        kind: OpKind,
        keys: Vec<Key>,
        values: Vec<CompactString>,
    },
    /// FLUSHALL or FLUSHDB.
    Flush,
    /// A write it does not follow (or one queued in MULTI), on these keys;
    /// none when its keys cannot be told (EVAL).
    Other(Vec<Key>),
}

/// How the checker reads `argv`, given its reply (`None`: none came): a
/// command queued in MULTI is not followed.
fn followed(argv: &[String], reply: Option<&Frame>) -> Followed {
    let queued = matches!(reply, Some(Frame::Simple(s)) if s == "QUEUED");
    let key = |i: usize| Key::from(argv[i].as_str());
    let name = argv
        .first()
        .map(|a| a.to_ascii_lowercase())
        .unwrap_or_default();
    // The followed forms first: the command table is read only for the
    // rest.
    if !queued {
        let plain = match (name.as_str(), argv.len()) {
            ("set", 3) => Some((OpKind::Set, vec![key(1)], vec![argv[2].as_str().into()])),
            ("mset", n) if n >= 3 && n % 2 == 1 => {
                let keys = (1..n).step_by(2).map(key).collect();
                let values = (2..n).step_by(2).map(|i| argv[i].as_str().into()).collect();
                Some((OpKind::MSet, keys, values))
            }
            ("del" | "unlink", n) if n >= 2 => {
                Some((OpKind::Del, (1..n).map(key).collect(), Vec::new()))
            }
            ("incr" | "decr", 2) | ("incrby" | "decrby", 3) => {
                Some((OpKind::Incr, vec![key(1)], Vec::new()))
            }
            ("expire" | "pexpire", 3) => Some((OpKind::Expire, vec![key(1)], Vec::new())),
            _ => None,
        };
        if let Some((kind, keys, values)) = plain {
            return Followed::Write { kind, keys, values };
        }
        if matches!(name.as_str(), "flushall" | "flushdb") {
            return Followed::Flush;
        }
    }
    let Ok(spec) = Table::Redis.lookup(argv) else {
        return Followed::Not;
    };
    let writes = spec.flags.contains(Flags::WRITE)
        || (spec.flags.contains(Flags::MAY_REPLICATE) && spec.flags.contains(Flags::MOVABLEKEYS));
    if !writes {
        return Followed::Not;
    }
    let keys = spec
        .key_indexes(argv.len())
        .into_iter()
        .filter(|&i| i < argv.len());
    Followed::Other(keys.map(key).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::lost::lost_acked_writes_by;
    use crate::check::lost::tests::set;
    use crate::history::{CommandLine, key_name};
    use proptest::prelude::*;

    /// `line` sent on `session` to node 0 at `sent`; answered with `reply`
    /// at `done`, or never.
    fn ex(session: &str, line: &str, sent: Micros, answer: Option<(Micros, Frame)>) -> Exchange {
        let argv: Vec<String> = line.split(' ').map(str::to_string).collect();
        let command = CommandLine {
            name: None,
            session: session.into(),
            node: 0,
            line: line.into(),
            argv,
        };
        let mut x = Exchange::sent(0, command, sent);
        x.reply = answer;
        x
    }

    fn ok(at: Micros) -> Option<(Micros, Frame)> {
        Some((at, Frame::Simple("OK".into())))
    }

    fn text(entries: &[(&str, &str)]) -> Dataset {
        let mut d = Dataset::default();
        for (k, v) in entries {
            d.set((*k).into(), Value::Text((*v).into()));
        }
        d
    }

    fn outside(exchanges: &[Exchange], workload: &[&Op]) -> OutsideWrites {
        OutsideWrites::read(exchanges, |s| s.starts_with("lab-"), &History::of(workload))
    }

    /// The lost writes of the workload and the outside writes together,
    /// as (who, seq, key).
    fn lost(o: &OutsideWrites, workload: &[&Op], data: &Dataset) -> Vec<(String, u32, String)> {
        let all = o.merged(&History::of(workload));
        o.keep(lost_acked_writes_by(&all, &|k| o.found(data, k)))
            .iter()
            .map(|l| (o.label(l.client), l.seq, l.key.to_string()))
            .collect()
    }

    /// lab-1 sets k at 10, acknowledged at 12. A final state without k
    /// lost it; one holding its bytes did not.
    #[test]
    fn an_outside_set_is_named_by_its_session_and_command_number() {
        let xs = [
            ex("lab-1", "PING", 0, Some((1, Frame::Simple("PONG".into())))),
            ex("lab-1", "SET k hello", 10, ok(12)),
        ];
        let o = outside(&xs, &[]);
        assert_eq!(o.ops.len(), 1);
        assert_eq!((o.ops[0].client, o.ops[0].seq), (OUTSIDE_CLIENTS, 2));
        assert_eq!(
            lost(&o, &[], &Dataset::default()),
            [("lab-1".into(), 2, "k".into())]
        );
        assert!(lost(&o, &[], &text(&[("k", "hello")])).is_empty());
        assert_eq!(o.label(OUTSIDE_CLIENTS), "lab-1");
        assert_eq!(o.label(3), "client-3");
    }

    /// #1 sets a (0–5), #2 sets b (10–15), #3 sets a again (20–25).
    /// - Final a: #3 left it, and it finished after both others began:
    ///   nothing lost.
    /// - #3 refused: only #1 can have left a, and it finished (5) before
    ///   #2 began (10): #2 is lost, and the final state names #1.
    /// - Final b: #2 finished (15) before #3 began (20): #3 is lost.
    #[test]
    fn writes_of_the_same_bytes_stand_for_each_other() {
        let first = ex("lab-1", "SET k a", 0, ok(5));
        let second = ex("lab-1", "SET k b", 10, ok(15));
        let third = ex("lab-1", "SET k a", 20, ok(25));
        let o = outside(&[first.clone(), second.clone(), third], &[]);
        assert!(lost(&o, &[], &text(&[("k", "a")])).is_empty());
        assert_eq!(
            lost(&o, &[], &text(&[("k", "b")])),
            [("lab-1".into(), 3, "k".into())]
        );
        let refused = ex(
            "lab-1",
            "SET k a",
            20,
            Some((25, Frame::Error("READONLY x".into()))),
        );
        let o = outside(&[first, second, refused], &[]);
        assert_eq!(o.ops[2].outcome, Outcome::Error("READONLY x".into()));
        assert_eq!(
            lost(&o, &[], &text(&[("k", "a")])),
            [("lab-1".into(), 2, "k".into())]
        );
        assert_eq!(
            o.found(&text(&[("k", "a")]), "k"),
            Seen::Write(WriteTag {
                client: OUTSIDE_CLIENTS,
                seq: 1
            })
        );
    }

    /// APPEND (not followed) makes k unchecked: lab-1's SET on it is not
    /// reported, and the summary can say why. A SET queued in MULTI is not
    /// followed either. A refused APPEND changed nothing.
    #[test]
    fn writes_not_followed_leave_their_keys_unchecked() {
        let xs = [
            ex("lab-1", "SET k a", 0, ok(5)),
            ex("lab-2", "APPEND k x", 10, Some((12, Frame::Int(2)))),
            ex("lab-1", "MULTI", 20, ok(21)),
            ex(
                "lab-1",
                "SET j v",
                22,
                Some((23, Frame::Simple("QUEUED".into()))),
            ),
            ex(
                "lab-2",
                "APPEND z x",
                30,
                Some((31, Frame::Error("READONLY x".into()))),
            ),
        ];
        let o = outside(&xs, &[]);
        assert_eq!(o.ops.len(), 1);
        // The APPEND acknowledged, the other refused; the queued SET is
        // not counted.
        assert_eq!(o.others, [1, 1, 0]);
        assert!(lost(&o, &[], &Dataset::default()).is_empty());
        let unchecked: Vec<(&str, &str)> = o
            .unchecked
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            unchecked,
            [("j", "SET by lab-1 #3"), ("k", "APPEND by lab-2 #1")]
        );
    }

    /// A workload write of key:7 acknowledged at 10, then lab-1's FLUSHALL
    /// (20–25): key:7 missing is explained. A workload write of key:8 at
    /// 30–40 is not (the flush ended before it began). And when key:7
    /// still holds the workload's write, the acknowledged flush lost its
    /// delete there.
    #[test]
    fn a_flush_deletes_every_key_it_may_have_reached() {
        let before = set(1, 1, 7, 0, 10, true);
        let after = set(1, 2, 8, 30, 40, true);
        let workload = [&before, &after];
        let o = outside(&[ex("lab-1", "FLUSHALL", 20, ok(25))], &workload);
        assert_eq!(o.ops[0].keys().count(), 2);
        assert_eq!(
            lost(&o, &workload, &Dataset::default()),
            [("client-1".into(), 2, "key:8".into())]
        );
        let mut kept = Dataset::default();
        let tag = WriteTag { client: 1, seq: 1 };
        kept.set(key_name(7), Value::Blob { tag, len: 1 });
        kept.set(
            key_name(8),
            Value::Blob {
                tag: WriteTag { client: 1, seq: 2 },
                len: 1,
            },
        );
        assert_eq!(
            lost(&o, &workload, &kept),
            [("lab-1".into(), 1, "key:7".into())]
        );
    }

    /// EVAL answered may have written any key: nothing is reported, and
    /// the reason is kept. EVAL refused wrote nothing.
    #[test]
    fn a_write_whose_keys_cannot_be_told_turns_the_check_off() {
        let set_k = ex("lab-1", "SET k a", 0, ok(5));
        let eval = ex("lab-1", "EVAL x 0", 10, Some((11, Frame::Int(1))));
        let o = outside(&[set_k.clone(), eval], &[]);
        assert_eq!(
            o.unknown.as_deref(),
            Some("EVAL by lab-1 #2: the keys it wrote cannot be told")
        );
        assert!(lost(&o, &[], &Dataset::default()).is_empty());
        let refused = ex(
            "lab-1",
            "EVAL x 0",
            10,
            Some((11, Frame::Error("ERR x".into()))),
        );
        let o = outside(&[set_k, refused], &[]);
        assert_eq!((o.unknown.as_deref(), o.others), (None, [0, 1, 0]));
        assert_eq!(lost(&o, &[], &Dataset::default()).len(), 1);
    }

    /// INCR leaves a counter; DEL of two keys is one operation on both;
    /// a command with no reply is of unknown fate; the operator's own
    /// sessions are not read.
    #[test]
    fn counters_deletes_unanswered_commands_and_operator_lines() {
        let xs = [
            ex("lab-1", "INCR n", 0, Some((1, Frame::Int(1)))),
            ex("lab-1", "DEL a b", 2, Some((3, Frame::Int(2)))),
            ex("lab-1", "SET c v", 4, None),
            ex("default", "SET d v", 5, ok(6)),
        ];
        let o = outside(&xs, &[]);
        let kinds: Vec<(OpKind, usize, Outcome)> = o
            .ops
            .iter()
            .map(|op| (op.kind, op.keys().count(), op.outcome.clone()))
            .collect();
        assert_eq!(
            kinds,
            [
                (OpKind::Incr, 1, Outcome::Ok),
                (OpKind::Del, 2, Outcome::Ok),
                (OpKind::Set, 1, Outcome::Pending)
            ]
        );
        let mut d = Dataset::default();
        d.set("n".into(), Value::Int(1));
        assert_eq!(o.found(&d, "n"), Seen::Counter);
        // The unanswered SET may have landed at any time.
        assert_eq!(
            o.found(&text(&[("c", "v")]), "c"),
            Seen::Write(WriteTag {
                client: OUTSIDE_CLIENTS,
                seq: 3
            })
        );
        assert!(outside(&xs[3..], &[]).is_empty());
    }

    proptest! {
        /// SETs of one key with values from {a, b, c}, at random instants
        /// and outcomes, against every final value: a write is lost exactly
        /// when, by brute force, the final value is not its own and no
        /// write that may have left that value (it was not refused, and
        /// did not finish before the lost one began) wrote it.
        #[test]
        fn values_resolve_as_any_of_their_writers(
            writes in proptest::collection::vec((0u8..3, 0u64..50, 0u64..20, 0u8..3), 1..8),
            last in 0u8..4,
        ) {
            let values = ["a", "b", "c"];
            let xs: Vec<Exchange> = writes
                .iter()
                .map(|&(v, at, len, fate)| {
                    let reply = match fate {
                        0 => ok(at + len),
                        1 => Some((at + len, Frame::Error("READONLY x".into()))),
                        _ => None,
                    };
                    ex("lab-1", &format!("SET k {}", values[v as usize]), at, reply)
                })
                .collect();
            let final_value = values.get(last as usize).copied();
            let data = final_value.map_or_else(Dataset::default, |v| text(&[("k", v)]));
            let o = outside(&xs, &[]);
            let got: Vec<u32> = lost(&o, &[], &data).iter().map(|l| l.1).collect();
            let mut want = Vec::new();
            for (i, &(v, at, _, fate)) in writes.iter().enumerate() {
                if fate != 0 || final_value == Some(values[v as usize]) {
                    continue;
                }
                let explained = final_value.is_some_and(|fv| {
                    writes.iter().any(|&(v2, at2, len2, fate2)| {
                        values[v2 as usize] == fv
                            && fate2 != 1
                            && (fate2 == 2 || at2 + len2 >= at)
                    })
                });
                if !explained {
                    want.push(i as u32 + 1);
                }
            }
            want.sort_unstable();
            let mut got = got;
            got.sort_unstable();
            prop_assert_eq!(got, want);
        }
    }
}
