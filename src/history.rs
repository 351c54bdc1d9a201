//! What clients saw: every operation, as invoked and then ok, error, timed
//! out or cut off, and the workload's key names. Clients record it; the
//! checkers, reports and the conformance harness read it.

use crate::proto::resp::Frame;
use crate::proto::{Key, WriteTag};
use crate::sim::net::NodeId;
use crate::sim::time::Micros;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpKind {
    Set,
    Get,
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
    pub key: u32,
    pub node: NodeId,
    pub invoked: Micros,
    pub completed: Option<Micros>,
    pub outcome: Outcome,
    /// For GETs: the writer of the value read (None: missing key).
    pub read: Option<Option<WriteTag>>,
    /// For writes followed by WAIT: how many replicas acknowledged.
    pub wait_acked: Option<u32>,
    /// The workload's hash tag, if its keys carry one.
    pub hash_tag: Option<compact_str::CompactString>,
}

impl Op {
    /// An operation just sent, waiting for its reply.
    pub fn pending(client: u32, seq: u32, kind: OpKind, key: u32, node: NodeId, at: Micros) -> Op {
        Op {
            client,
            seq,
            kind,
            key,
            node,
            invoked: at,
            completed: None,
            outcome: Outcome::Pending,
            read: None,
            wait_acked: None,
            hash_tag: None,
        }
    }

    /// The same operation on a key with this hash tag.
    pub fn tagged(self, hash_tag: Option<compact_str::CompactString>) -> Op {
        Op { hash_tag, ..self }
    }

    /// The key this operation touched.
    pub fn key_name(&self) -> Key {
        tagged_key_name(self.hash_tag.as_deref(), self.key)
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
    let mut buf = [0u8; 14];
    buf[..4].copy_from_slice(b"key:");
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
    let len = 4 + digits.len() - i;
    buf[4..len].copy_from_slice(&digits[i..]);
    Key::from_utf8(&buf[..len]).expect("ASCII")
}

/// The hash tag and key number of a workload key name (`key:<n>` or
/// `{tag}key:<n>`); `None` for other keys.
pub fn parse_key_name(key: &str) -> Option<(Option<&str>, u32)> {
    let (tag, rest) = match key.strip_prefix('{') {
        Some(r) => {
            let close = r.find('}')?;
            (Some(&r[..close]), &r[close + 1..])
        }
        None => (None, key),
    };
    Some((tag, rest.strip_prefix("key:")?.parse().ok()?))
}

/// `key:<n>`, or `{tag}key:<n>` for a workload with a hash tag (all its
/// keys then hash to the tag's slot).
pub fn tagged_key_name(tag: Option<&str>, n: u32) -> Key {
    match tag {
        None => key_name(n),
        Some(t) => compact_str::format_compact!("{{{t}}}{}", key_name(n)),
    }
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names() {
        assert_eq!(key_name(0), "key:0");
        assert_eq!(key_name(42), "key:42");
        assert_eq!(key_name(u32::MAX), "key:4294967295");
        assert_eq!(parse_key_name("{t}key:7"), Some((Some("t"), 7)));
        assert_eq!(tagged_key_name(Some("t"), 7), "{t}key:7");
        assert_eq!(parse_key_name("burst:1"), None);
    }
}
