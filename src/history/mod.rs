//! What clients saw: every operation, as invoked and then ok, error, timed
//! out or cut off, and the workload's key names. Clients record it; the
//! checkers, reports and the conformance harness read it.

mod log;
mod merged;

pub use log::{Answer, Brief, OpLog};
pub use merged::History;

use crate::proto::resp::Frame;
use crate::proto::{Key, WriteTag};
use crate::sim::net::NodeId;
use crate::time::Micros;

/// What an operation did: the commands a workload's mix draws from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OpKind {
    /// `SET k <tagged value>`.
    Set,
    /// `GET k`.
    Get,
    /// `INCR k`: the key holds a counter afterwards.
    Incr,
    /// `DEL k`.
    Del,
    /// `MSET k1 v k2 v …`: one tagged value, written to every key.
    MSet,
    /// `MGET k1 k2 …`.
    MGet,
    /// `EXPIRE k <seconds>` (`PEXPIRE` for a TTL that is not whole seconds).
    Expire,
    /// `PUBLISH <key name> <tag>`: touches no key.
    Publish,
}

impl OpKind {
    pub const ALL: [OpKind; 8] = [
        OpKind::Set,
        OpKind::Get,
        OpKind::Incr,
        OpKind::Del,
        OpKind::MSet,
        OpKind::MGet,
        OpKind::Expire,
        OpKind::Publish,
    ];

    /// The name a scenario's `mix` gives it (the command, lower case).
    pub fn key(self) -> &'static str {
        match self {
            OpKind::Set => "set",
            OpKind::Get => "get",
            OpKind::Incr => "incr",
            OpKind::Del => "del",
            OpKind::MSet => "mset",
            OpKind::MGet => "mget",
            OpKind::Expire => "expire",
            OpKind::Publish => "publish",
        }
    }

    /// Changes the dataset when it takes effect: what "acknowledged
    /// writes", availability and split brain count.
    pub fn is_write(self) -> bool {
        !matches!(self, OpKind::Get | OpKind::MGet | OpKind::Publish)
    }

    /// Writes the operation's tag as the value of its keys, so the final
    /// state can name it.
    pub fn writes_tag(self) -> bool {
        matches!(self, OpKind::Set | OpKind::MSet)
    }

    /// Reads its keys' values back.
    pub fn is_read(self) -> bool {
        matches!(self, OpKind::Get | OpKind::MGet)
    }

    /// Touches more than one key.
    pub fn is_multi_key(self) -> bool {
        matches!(self, OpKind::MSet | OpKind::MGet)
    }
}

/// What a read returned for one key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Seen {
    /// No such key (a nil reply).
    Missing,
    /// The value a tagged write left.
    Write(WriteTag),
    /// A value no tagged write left: a counter INCR made.
    Counter,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Still waiting for the reply when the run ended.
    Pending,
    Ok,
    Error(String),
    /// No reply within the client's timeout: it may or may not have happened.
    Timeout,
    /// The connection dropped before the reply: it may or may not have happened.
    ConnectionLost,
}

impl Outcome {
    /// Did the client see this operation succeed?
    pub fn is_ok(&self) -> bool {
        matches!(self, Outcome::Ok)
    }
}

/// One operation in a client's history.
#[derive(Clone, Debug, PartialEq)]
pub struct Op {
    pub client: u32,
    pub seq: u32,
    pub kind: OpKind,
    /// The key (for PUBLISH, the channel), and for MSET/MGET the others.
    pub key: Key,
    pub more_keys: Vec<Key>,
    pub node: NodeId,
    pub invoked: Micros,
    pub completed: Option<Micros>,
    pub outcome: Outcome,
    /// For reads: what was read, one per key (`key`, then `more_keys`).
    pub read: Option<Vec<Seen>>,
    /// For writes followed by WAIT: how many replicas acknowledged.
    pub wait_acked: Option<u32>,
}

impl Op {
    /// An operation just sent, waiting for its reply.
    pub fn pending(client: u32, seq: u32, kind: OpKind, key: Key, node: NodeId, at: Micros) -> Op {
        Op {
            client,
            seq,
            kind,
            key,
            more_keys: Vec::new(),
            node,
            invoked: at,
            completed: None,
            outcome: Outcome::Pending,
            read: None,
            wait_acked: None,
        }
    }

    /// The keys this operation touched, the first one first (none for
    /// PUBLISH, whose `key` is a channel).
    pub fn keys(&self) -> impl Iterator<Item = &Key> {
        let touches = self.kind != OpKind::Publish;
        std::iter::once(&self.key)
            .chain(self.more_keys.iter())
            .filter(move |_| touches)
    }

    /// What the read saw for each of its keys, with the key.
    pub fn reads(&self) -> impl Iterator<Item = (&Key, Seen)> {
        self.keys().zip(self.read.iter().flatten().copied())
    }

    pub fn tag(&self) -> WriteTag {
        WriteTag {
            client: self.client,
            seq: self.seq,
        }
    }
}

/// The key a workload uses for key number `n`: `key:<n>`, built without the
/// formatting machinery (this runs for every operation).
pub fn key_name(n: u32) -> Key {
    let mut k = Key::const_new("key:");
    k.push_str(&itoa_u32(n));
    k
}

/// The keys a workload draws from.
#[derive(Clone, Debug, PartialEq)]
pub enum KeySet {
    /// `count` names made from a pattern: its `*` replaced by the numbers
    /// `offset` … `offset + count - 1` (`key:*` by default; a hash tag
    /// makes it `{tag}key:*`).
    Pattern {
        prefix: Key,
        suffix: Key,
        count: u32,
        offset: u32,
    },
    /// These names, as written.
    Names(Vec<Key>),
}

impl KeySet {
    /// `key:0` … `key:<count - 1>`.
    pub fn numbered(count: u32) -> KeySet {
        KeySet::Pattern {
            prefix: "key:".into(),
            suffix: Key::default(),
            count,
            offset: 0,
        }
    }

    /// How many keys there are to draw from.
    pub fn len(&self) -> u32 {
        match self {
            KeySet::Pattern { count, .. } => *count,
            KeySet::Names(names) => names.len() as u32,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `i`th key (`i < len()`).
    pub fn name(&self, i: u32) -> Key {
        match self {
            KeySet::Pattern {
                prefix,
                suffix,
                offset,
                ..
            } => {
                let n = offset.saturating_add(i);
                if prefix == "key:" && suffix.is_empty() {
                    return key_name(n);
                }
                let mut k = prefix.clone();
                k.push_str(&itoa_u32(n));
                k.push_str(suffix);
                k
            }
            KeySet::Names(names) => names[i as usize].clone(),
        }
    }
}

/// `n` in decimal, without the formatting machinery.
fn itoa_u32(n: u32) -> Key {
    let mut digits = [0u8; 10];
    let mut i = digits.len();
    let mut v = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    Key::from_utf8(&digits[i..]).expect("ASCII")
}

/// One command line from the scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct CommandLine {
    /// The name expectations refer to it by, if it has one.
    pub name: Option<String>,
    /// The redis-cli session it is typed into; each session has its own
    /// connections.
    pub session: String,
    pub node: NodeId,
    /// The line as written, for the trace.
    pub line: String,
    pub argv: Vec<String>,
}

/// A command sent and what came back.
#[derive(Clone, Debug, PartialEq)]
pub struct Exchange {
    /// Index of the command line in the scenario's order.
    pub index: usize,
    pub command: CommandLine,
    pub sent: Micros,
    /// When the reply came and the reply; `None` while none has (the
    /// connection was refused or closed first, or the run ended).
    pub reply: Option<(Micros, Frame)>,
    /// RESP3 pushes that came on the connection while this line waited
    /// for its reply: redis-cli prints them before the reply.
    pub pushes: Vec<Frame>,
    /// The reply's further frames: SUBSCRIBE and its siblings confirm each
    /// name in its own frame, and the first is `reply`.
    pub more: Vec<Frame>,
    /// Messages pushed to the session after this line subscribed it (for
    /// SUBSCRIBE and PSUBSCRIBE), with when each came.
    pub messages: Vec<(Micros, Frame)>,
}

impl Exchange {
    /// Line `index`, just sent at `sent`: nothing has come back yet.
    pub fn sent(index: usize, command: CommandLine, sent: Micros) -> Self {
        Self {
            index,
            command,
            sent,
            reply: None,
            pushes: Vec::new(),
            more: Vec::new(),
            messages: Vec::new(),
        }
    }
}

/// An exchange's reply as redis-cli prints it in a terminal: the pushes
/// that came first, then each frame; a subscription's confirmations after
/// "Reading messages…", as redis-cli's subscribed mode prints them.
pub fn shown_reply(argv: &[String], pushes: &[Frame], frame: &Frame, more: &[Frame]) -> String {
    let mut out = String::new();
    if crate::proto::inbox::enters_subscribed_mode(argv) {
        out.push_str("Reading messages... (press Ctrl-C to quit)\n");
    }
    out.push_str(&crate::proto::resp::shown_after(argv, pushes, frame));
    for f in more {
        out.push('\n');
        out.push_str(&crate::proto::resp::shown(argv, f));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names() {
        assert_eq!(key_name(0), "key:0");
        assert_eq!(key_name(42), "key:42");
        assert_eq!(key_name(u32::MAX), "key:4294967295");
        let tagged = KeySet::Pattern {
            prefix: "{t}key:".into(),
            suffix: "".into(),
            count: 3,
            offset: 5,
        };
        assert_eq!(tagged.name(2), "{t}key:7");
        let pattern = KeySet::Pattern {
            prefix: "{user".into(),
            suffix: "}.following".into(),
            count: 2000,
            offset: 0,
        };
        assert_eq!(pattern.name(1000), "{user1000}.following");
        assert_eq!(KeySet::numbered(10).name(9), "key:9");
        let names = KeySet::Names(vec!["k1".into(), "k2".into()]);
        assert_eq!((names.len(), names.name(1).as_str()), (2, "k2"));
    }
}

/// What became of a workload client's ticks: one is due every 1/rate
/// seconds, and sends an operation only if a connection is ready with room
/// for it (each connection keeps up to `pipeline` requests in flight).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ticks {
    pub total: u64,
    /// Every request the client may have in flight was: the round trips
    /// outlasted what its connections and pipelines cover.
    pub busy: u64,
    /// No connection (down, or about to connect).
    pub unconnected: u64,
}
