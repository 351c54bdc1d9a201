//! What travels between processes: commands, replies, the replication stream
//! and RDB payloads, each knowing its exact RESP size so that replication
//! offsets count the bytes real Redis counts.

pub mod addr;
pub mod bus;
pub mod command;
pub mod hello;
pub mod inbox;
pub mod keyspace;
pub mod pubsub;
pub mod request;
pub mod resp;
pub mod slots;
pub mod util;

use std::fmt;
use std::rc::Rc;

use compact_str::CompactString;

use crate::sim::WireSize;

/// A handler's context on the Redis wire: the kernel's context for processes
/// that exchange [`Msg`].
pub type Ctx<'a> = crate::sim::Ctx<'a, Msg>;

/// A key. Workload keys are short, so they are held inline without allocation.
pub type Key = CompactString;

/// Who wrote a value: a client and its per-client sequence number. Values the
/// workload writes are unique, so the final dataset says which write survived.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WriteTag {
    pub client: u32,
    pub seq: u32,
}

/// A string value. Workload values are represented by their tag and length
/// rather than their bytes; only the length matters for RESP sizes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Int(i64),
    Blob { tag: WriteTag, len: u32 },
    Text(CompactString),
}

impl Value {
    pub fn byte_len(&self) -> usize {
        match self {
            Value::Int(i) => decimal_len_i64(*i),
            Value::Blob { len, .. } => *len as usize,
            Value::Text(s) => s.len(),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(i) => write!(f, "{i}"),
            Value::Blob { tag, len } => write!(f, "<c{}#{} {}B>", tag.client, tag.seq, len),
            Value::Text(s) => write!(f, "{s}"),
        }
    }
}

/// A 40-character replication or run id.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RunId(pub [u8; 40]);

impl RunId {
    /// Forty '0' characters: a cleared replid2.
    pub const ZERO: RunId = RunId([b'0'; 40]);

    /// The ID folded into 64 bits: a per-process seed for what Redis seeds
    /// with random bytes at start (the dict hash function).
    pub fn seed(&self) -> u64 {
        self.0.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        })
    }

    pub fn random(rng: &mut impl rand::Rng) -> Self {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut id = [0u8; 40];
        for chunk in id.chunks_mut(16) {
            let mut bits = rng.next_u64();
            for b in chunk {
                *b = HEX[(bits & 15) as usize];
                bits >>= 4;
            }
        }
        RunId(id)
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("hex")
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a PSYNC request names as the history it continues.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PsyncId {
    /// `PSYNC ? -1`: no cached master, a full sync is wanted.
    Unknown,
    Id(RunId),
}

/// A command, as sent by a client, a replica or a master's stream.
#[derive(Clone, Debug, PartialEq)]
pub enum Cmd {
    /// `PING`; the master's keep-alive in the stream is lower-case `ping`.
    Ping,
    Get(Key),
    Set(Key, Value),
    Del(Key),
    Incr(Key),
    /// `MSET k1 v1 k2 v2 …`, as a workload sends it (an operator's MSET is
    /// a [`Cmd::Named`] line; its values are text).
    MSet(Vec<(Key, Value)>),
    /// `MGET k1 k2 …`, as a workload sends it: answered with
    /// [`Reply::Values`].
    MGet(Vec<Key>),
    Select(u32),
    Wait {
        replicas: u32,
        timeout_ms: u64,
    },
    Publish {
        channel: CompactString,
        message: String,
    },
    Auth(CompactString),
    ReplconfListeningPort(u16),
    /// `REPLCONF ip-address <ip>`: the replica's `replica-announce-ip`.
    ReplconfIpAddress(CompactString),
    ReplconfCapa,
    ReplconfAck(u64),
    ReplconfGetack,
    Psync {
        id: PsyncId,
        offset: i64,
        /// `PSYNC <replid> <offset> FAILOVER`: sent by a master handing over
        /// to this replica (the FAILOVER command).
        failover: bool,
    },
    Sync,
    Info,
    /// `ROLE`: clients check that the address Sentinel gave is a master.
    Role,
    /// `SUBSCRIBE <channel>` (Sentinel subscribes to `__sentinel__:hello`).
    Subscribe(CompactString),
    /// The transaction Sentinel sends to (re)configure an instance:
    /// `MULTI; SLAVEOF <host> <port> | NO ONE; CONFIG REWRITE;
    /// CLIENT KILL TYPE normal; CLIENT KILL TYPE pubsub; EXEC`.
    SentinelSlaveOf {
        master: Option<(CompactString, u16)>,
    },
    /// `SENTINEL is-master-down-by-addr <ip> <port> <epoch> <runid|*>`.
    IsMasterDownByAddr {
        ip: CompactString,
        port: u16,
        epoch: u64,
        runid: Option<CompactString>,
    },
    /// `SENTINEL get-master-addr-by-name <name>`.
    GetMasterAddrByName(CompactString),
    ClusterSlots,
    /// `ASKING`: the next command may touch an importing slot.
    Asking,
    /// `CLUSTER SETSLOT <slot> IMPORTING|MIGRATING|NODE <id>|STABLE`.
    ClusterSetSlot {
        slot: u16,
        action: SetSlot,
    },
    /// `CLUSTER GETKEYSINSLOT <slot> <count>`.
    ClusterGetKeysInSlot {
        slot: u16,
        count: u32,
    },
    /// `MIGRATE host port "" 0 <timeout> KEYS k1 k2 ...`.
    Migrate {
        target: crate::sim::net::NodeId,
        keys: Vec<Key>,
    },
    /// `RESTORE-ASKING key 0 <payload> REPLACE`, as MIGRATE sends it.
    RestoreAsking(Key, Value),
    /// A command line as an operator typed it: looked up in the command
    /// table, parsed into one of the commands here and answered with a
    /// [`Reply::Frame`].
    Line(Vec<String>),
    /// `PING <message>`: a bulk reply.
    PingWith(String),
    Echo(String),
    Dbsize,
    /// `INFO <section> …`.
    InfoSections(Vec<String>),
    /// `REPLICAOF host port` or `REPLICAOF NO ONE` (`SLAVEOF` is the same
    /// command), as typed: the server checks the port.
    ReplicaOf {
        host: String,
        port: String,
    },
    /// `CONFIG GET|SET|REWRITE …`: the subcommand and its arguments as
    /// typed (the server checks them, after the admission checks).
    Config(Vec<String>),
    /// A command line the server runs from its table entry (FAILOVER,
    /// CLIENT PAUSE…): admitted by the entry's flags, its arguments checked
    /// by the command itself.
    Named {
        spec: &'static command::CommandSpec,
        argv: Vec<String>,
    },
}

/// A command name of [`Cmd::name`] in lower case, without allocating.
fn lower(name: &'static str) -> &'static str {
    match name {
        "PING" => "ping",
        "GET" => "get",
        "SET" => "set",
        "DEL" => "del",
        "INCR" => "incr",
        "MSET" => "mset",
        "MGET" => "mget",
        "SELECT" => "select",
        "WAIT" => "wait",
        "PUBLISH" => "publish",
        "AUTH" => "auth",
        "REPLCONF" => "replconf",
        "PSYNC" => "psync",
        "SYNC" => "sync",
        "INFO" => "info",
        "ROLE" => "role",
        "SUBSCRIBE" => "subscribe",
        "ASKING" => "asking",
        "MIGRATE" => "migrate",
        "RESTORE-ASKING" => "restore-asking",
        "ECHO" => "echo",
        "DBSIZE" => "dbsize",
        "REPLICAOF" => "replicaof",
        _ => "",
    }
}

/// What `CLUSTER SETSLOT` does to a slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetSlot {
    Importing(crate::sim::net::NodeId),
    Migrating(crate::sim::net::NodeId),
    Node(crate::sim::net::NodeId),
    Stable,
}

impl Cmd {
    /// A command line the server itself composes (a propagated DEL, MULTI,
    /// `SET … PXAT`), as a [`Cmd::Named`] of the Redis table.
    pub fn named<S: AsRef<str>>(argv: &[S]) -> Cmd {
        let argv: Vec<String> = argv.iter().map(|a| a.as_ref().to_string()).collect();
        let spec = command::Table::Redis
            .lookup(&argv)
            .unwrap_or_else(|e| panic!("a line the server composes is in its table: {e}"));
        Cmd::Named { spec, argv }
    }

    /// The exact RESP length of this command as a multibulk request.
    pub fn resp_len(&self) -> u64 {
        let n = match self {
            Cmd::Ping => array(1) + bulk(4),
            Cmd::Get(k) => array(2) + bulk(3) + bulk(k.len()),
            Cmd::Set(k, v) => array(3) + bulk(3) + bulk(k.len()) + bulk(v.byte_len()),
            Cmd::Del(k) => array(2) + bulk(3) + bulk(k.len()),
            Cmd::Incr(k) => array(2) + bulk(4) + bulk(k.len()),
            Cmd::MSet(pairs) => {
                array(1 + 2 * pairs.len())
                    + bulk(4)
                    + pairs
                        .iter()
                        .map(|(k, v)| bulk(k.len()) + bulk(v.byte_len()))
                        .sum::<usize>()
            }
            Cmd::MGet(keys) => {
                array(1 + keys.len()) + bulk(4) + keys.iter().map(|k| bulk(k.len())).sum::<usize>()
            }
            Cmd::Select(db) => array(2) + bulk(6) + bulk(decimal_len_u64(u64::from(*db))),
            Cmd::Wait {
                replicas,
                timeout_ms,
            } => {
                array(3)
                    + bulk(4)
                    + bulk(decimal_len_u64(u64::from(*replicas)))
                    + bulk(decimal_len_u64(*timeout_ms))
            }
            Cmd::Publish { channel, message } => {
                array(3) + bulk(7) + bulk(channel.len()) + bulk(message.len())
            }
            Cmd::Auth(p) => array(2) + bulk(4) + bulk(p.len()),
            Cmd::ReplconfListeningPort(p) => {
                array(3) + bulk(8) + bulk(14) + bulk(decimal_len_u64(u64::from(*p)))
            }
            Cmd::ReplconfIpAddress(ip) => array(3) + bulk(8) + bulk(10) + bulk(ip.len()),
            Cmd::ReplconfCapa => array(5) + bulk(8) + bulk(4) + bulk(3) + bulk(4) + bulk(6),
            Cmd::ReplconfAck(o) => array(3) + bulk(8) + bulk(3) + bulk(decimal_len_u64(*o)),
            Cmd::ReplconfGetack => array(3) + bulk(8) + bulk(6) + bulk(1),
            Cmd::Psync {
                id,
                offset,
                failover,
            } => {
                let id_len = match id {
                    PsyncId::Unknown => 1,
                    PsyncId::Id(_) => 40,
                };
                let tail = if *failover { bulk(8) } else { 0 };
                array(3 + usize::from(*failover))
                    + bulk(5)
                    + bulk(id_len)
                    + bulk(decimal_len_i64(*offset))
                    + tail
            }
            Cmd::Sync => array(1) + bulk(4),
            Cmd::Info => array(2) + bulk(4) + bulk(11),
            Cmd::Role => array(1) + bulk(4),
            Cmd::Subscribe(ch) => array(2) + bulk(9) + bulk(ch.len()),
            // MULTI + SLAVEOF + CONFIG REWRITE + two CLIENT KILLs + EXEC.
            Cmd::SentinelSlaveOf { master } => {
                let slaveof = match master {
                    Some((h, p)) => {
                        array(3) + bulk(7) + bulk(h.len()) + bulk(decimal_len_u64(u64::from(*p)))
                    }
                    None => array(3) + bulk(7) + bulk(2) + bulk(3),
                };
                15 + slaveof
                    + (array(2) + bulk(6) + bulk(7))
                    + 2 * (array(4) + bulk(6) + bulk(4) + bulk(4) + bulk(6))
                    + 14
            }
            Cmd::IsMasterDownByAddr {
                ip,
                port,
                epoch,
                runid,
            } => {
                array(6)
                    + bulk(8)
                    + bulk(23)
                    + bulk(ip.len())
                    + bulk(decimal_len_u64(u64::from(*port)))
                    + bulk(decimal_len_u64(*epoch))
                    + bulk(runid.as_ref().map_or(1, |r| r.len()))
            }
            Cmd::GetMasterAddrByName(name) => array(3) + bulk(8) + bulk(23) + bulk(name.len()),
            Cmd::ClusterSlots => array(2) + bulk(7) + bulk(5),
            Cmd::Asking => array(1) + bulk(6),
            Cmd::ClusterSetSlot { slot, action } => {
                let tail = match action {
                    SetSlot::Stable => bulk(6),
                    SetSlot::Node(_) => bulk(4) + bulk(40),
                    SetSlot::Importing(_) | SetSlot::Migrating(_) => bulk(9) + bulk(40),
                };
                array(5) + bulk(7) + bulk(7) + bulk(decimal_len_u64(u64::from(*slot))) + tail
            }
            Cmd::ClusterGetKeysInSlot { slot, count } => {
                array(4)
                    + bulk(7)
                    + bulk(13)
                    + bulk(decimal_len_u64(u64::from(*slot)))
                    + bulk(decimal_len_u64(u64::from(*count)))
            }
            Cmd::Migrate { keys, .. } => {
                array(8 + keys.len())
                    + bulk(7)
                    + bulk(8)
                    + bulk(4)
                    + bulk(0)
                    + bulk(1)
                    + bulk(4)
                    + bulk(4)
                    + keys.iter().map(|k| bulk(k.len())).sum::<usize>()
            }
            Cmd::RestoreAsking(k, v) => {
                // The DUMP payload: the value plus type byte, RDB version
                // and CRC64.
                array(5) + bulk(14) + bulk(k.len()) + bulk(1) + bulk(v.byte_len() + 12) + bulk(7)
            }
            Cmd::Line(argv) => {
                array(argv.len()) + argv.iter().map(|a| bulk(a.len())).sum::<usize>()
            }
            Cmd::PingWith(m) => array(2) + bulk(4) + bulk(m.len()),
            Cmd::Echo(m) => array(2) + bulk(4) + bulk(m.len()),
            Cmd::Dbsize => array(1) + bulk(6),
            Cmd::InfoSections(s) => {
                array(1 + s.len()) + bulk(4) + s.iter().map(|x| bulk(x.len())).sum::<usize>()
            }
            Cmd::ReplicaOf { host, port } => {
                array(3) + bulk(9) + bulk(host.len()) + bulk(port.len())
            }
            Cmd::Named { argv, .. } => {
                array(argv.len()) + argv.iter().map(|a| bulk(a.len())).sum::<usize>()
            }
            Cmd::Config(args) => {
                array(1 + args.len()) + bulk(6) + args.iter().map(|a| bulk(a.len())).sum::<usize>()
            }
        };
        n as u64
    }

    /// True for commands that Redis flags as writes (rejected on read-only
    /// replicas, counted by min-replicas-to-write).
    pub fn is_write(&self) -> bool {
        match self {
            Cmd::Set(..) | Cmd::Del(_) | Cmd::Incr(_) | Cmd::MSet(_) | Cmd::RestoreAsking(..) => {
                true
            }
            Cmd::Named { spec, .. } => spec.flags.contains(command::Flags::WRITE),
            _ => false,
        }
    }

    /// Writes and commands that may replicate (PUBLISH, EVAL…): what
    /// `CLIENT PAUSE WRITE` holds back (processCommand()'s
    /// `is_may_replicate_command`).
    pub fn may_replicate(&self) -> bool {
        let flagged = match self {
            Cmd::Publish { .. } => true,
            Cmd::Named { spec, .. } => spec.flags.contains(command::Flags::MAY_REPLICATE),
            _ => false,
        };
        flagged || self.is_write()
    }

    /// The command table's full name, as `CLIENT LIST`'s `cmd=` shows it
    /// (`set`, `replconf`, `cluster|slots`).
    pub fn full_name(&self) -> &'static str {
        match self {
            Cmd::Named { spec, .. } => spec.name,
            Cmd::ClusterSlots => "cluster|slots",
            Cmd::ClusterSetSlot { .. } => "cluster|setslot",
            Cmd::ClusterGetKeysInSlot { .. } => "cluster|getkeysinslot",
            Cmd::IsMasterDownByAddr { .. } => "sentinel|is-master-down-by-addr",
            Cmd::GetMasterAddrByName(_) => "sentinel|get-master-addr-by-name",
            Cmd::Config(args) => match args.first().map(|a| a.to_ascii_lowercase()).as_deref() {
                Some("get") => "config|get",
                Some("set") => "config|set",
                Some("rewrite") => "config|rewrite",
                _ => "config",
            },
            // MULTI … EXEC: what ran last.
            Cmd::SentinelSlaveOf { .. } => "exec",
            other => lower(other.name()),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Cmd::Ping => "PING",
            Cmd::Get(_) => "GET",
            Cmd::Set(..) => "SET",
            Cmd::Del(_) => "DEL",
            Cmd::Incr(_) => "INCR",
            Cmd::MSet(_) => "MSET",
            Cmd::MGet(_) => "MGET",
            Cmd::Select(_) => "SELECT",
            Cmd::Wait { .. } => "WAIT",
            Cmd::Publish { .. } => "PUBLISH",
            Cmd::Auth(_) => "AUTH",
            Cmd::ReplconfListeningPort(_)
            | Cmd::ReplconfIpAddress(_)
            | Cmd::ReplconfCapa
            | Cmd::ReplconfAck(_)
            | Cmd::ReplconfGetack => "REPLCONF",
            Cmd::Psync { .. } => "PSYNC",
            Cmd::Sync => "SYNC",
            Cmd::Info => "INFO",
            Cmd::Role => "ROLE",
            Cmd::Subscribe(_) => "SUBSCRIBE",
            Cmd::SentinelSlaveOf { .. } => "MULTI",
            Cmd::IsMasterDownByAddr { .. } | Cmd::GetMasterAddrByName(_) => "SENTINEL",
            Cmd::ClusterSlots | Cmd::ClusterSetSlot { .. } | Cmd::ClusterGetKeysInSlot { .. } => {
                "CLUSTER"
            }
            Cmd::Asking => "ASKING",
            Cmd::Migrate { .. } => "MIGRATE",
            Cmd::RestoreAsking(..) => "RESTORE-ASKING",
            Cmd::Line(_) => "LINE",
            Cmd::PingWith(_) => "PING",
            Cmd::Echo(_) => "ECHO",
            Cmd::Dbsize => "DBSIZE",
            Cmd::InfoSections(_) => "INFO",
            Cmd::ReplicaOf { .. } => "REPLICAOF",
            Cmd::Config(_) => "CONFIG",
            Cmd::Named { spec, .. } => spec.name.split('|').next().unwrap_or(spec.name),
        }
    }
}

/// A reply from a server.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    Ok,
    Pong,
    Error(String),
    Int(i64),
    Bulk(Option<Value>),
    FullResync {
        replid: RunId,
        offset: u64,
    },
    Continue {
        replid: RunId,
    },
    Info(String),
    /// `ROLE`'s first element: `master` or `slave`.
    Role(&'static str),
    /// The reply to `SENTINEL is-master-down-by-addr`: the down flag, the
    /// answerer's vote (leader run id or `*`) and that vote's epoch.
    MasterDown {
        down: bool,
        leader: Option<CompactString>,
        leader_epoch: u64,
    },
    /// The reply to `SENTINEL get-master-addr-by-name` (nil if unknown).
    MasterAddr(Option<(CompactString, u16)>),
    /// `CLUSTER SLOTS`: (first slot, last slot, master).
    ClusterSlots(Vec<(u16, u16, crate::sim::net::NodeId)>),
    /// `CLUSTER GETKEYSINSLOT`.
    Keys(Vec<Key>),
    /// `MGET`'s values, nil for a missing key.
    Values(Vec<Option<Value>>),
    /// The reply to a [`Cmd::Line`]. Built by a command in RESP3 terms
    /// (see [`resp`]); as sent, in the connection's protocol, byte for
    /// byte what goes on the wire.
    Frame(resp::Frame),
    /// A reply whose parts are already in the connection's protocol, each
    /// as it was made: EXEC's array (a HELLO inside the transaction
    /// switches the protocol between two of its elements).
    Written(resp::Frame),
    /// A message pushed to a subscriber, in parts: its frame
    /// ([`pubsub::PushedMessage::frame`]) is built only where it is read
    /// as RESP, and every subscriber shares the payload.
    Message(Box<pubsub::PushedMessage>),
}

impl Reply {
    /// The reply as RESP, for the replies that carry all their bytes
    /// (`None` for ROLE, whose full form only the server can give, and
    /// for replies only replication and Sentinel exchange).
    pub fn to_frame(&self) -> Option<resp::Frame> {
        use resp::Frame;
        Some(match self {
            Reply::Ok => Frame::ok(),
            Reply::Pong => Frame::Simple("PONG".into()),
            Reply::Error(e) => Frame::Error(e.clone()),
            Reply::Int(i) => Frame::Int(*i),
            Reply::Bulk(v) => Frame::Bulk(v.as_ref().map(Value::to_string)),
            // infoCommand(): addReplyVerbatim(…, "txt").
            Reply::Info(text) => Frame::verbatim(text.clone()),
            Reply::Frame(f) | Reply::Written(f) => f.clone(),
            Reply::Message(m) => m.frame(),
            Reply::MasterAddr(Some((host, port))) => Frame::Array(Some(vec![
                Frame::bulk(host.to_string()),
                Frame::bulk(port.to_string()),
            ])),
            Reply::MasterAddr(None) => Frame::Array(None),
            Reply::Values(values) => Frame::Array(Some(
                values
                    .iter()
                    .map(|v| Frame::Bulk(v.as_ref().map(Value::to_string)))
                    .collect(),
            )),
            _ => return None,
        })
    }
}

impl Reply {
    /// The channel and payload of a pushed `message` or `pmessage`.
    pub fn message(&self) -> Option<(&str, &str)> {
        match self {
            Reply::Message(m) => Some((&m.channel, &m.payload)),
            Reply::Frame(f) | Reply::Written(f) => pubsub::read_message(f),
            _ => None,
        }
    }

    /// The reply's size on the wire (exact for frames; a stand-in for the
    /// replies only replication and Sentinel exchange).
    pub fn wire_size(&self) -> u64 {
        match self {
            Reply::Bulk(Some(v)) => v.byte_len() as u64 + 16,
            Reply::Info(s) => s.len() as u64 + 16,
            Reply::ClusterSlots(r) => 16 + 64 * r.len() as u64,
            Reply::Keys(k) => 16 + k.iter().map(|k| k.len() as u64 + 8).sum::<u64>(),
            Reply::Values(values) => {
                let items = values.iter().map(|v| match v {
                    Some(v) => bulk(v.byte_len()),
                    None => 5,
                });
                (array(values.len()) + items.sum::<usize>()) as u64
            }
            Reply::Frame(f) | Reply::Written(f) => f.wire_len(),
            Reply::Message(m) => m.wire_len(),
            _ => 16,
        }
    }
}

/// A full-sync payload: the dataset as of the fork, and its size on the wire.
#[derive(Clone, Debug)]
pub struct RdbPayload {
    pub data: Rc<keyspace::Dataset>,
    pub bytes: u64,
}

#[derive(Clone, Debug)]
pub enum Msg {
    Cmd(Cmd),
    Reply(Reply),
    /// A run of the replication stream, as written in one event-loop pass.
    Stream(Vec<Cmd>),
    /// The first line of a full-sync transfer: `$EOF:<mark>` for a diskless
    /// stream, `$<size>` for a file.
    RdbHeader {
        eof: bool,
        bytes: u64,
    },
    Rdb(RdbPayload),
    /// The `\n` a master writes to a replica waiting for its RDB.
    KeepAlive,
    /// A cluster bus message.
    Bus(Box<bus::BusMsg>),
}

impl WireSize for Msg {
    fn wire_size(&self) -> u64 {
        match self {
            Msg::Cmd(c) => c.resp_len(),
            Msg::Reply(r) => r.wire_size(),
            Msg::Bus(b) => b.wire_size(),
            Msg::Stream(cmds) => cmds.iter().map(Cmd::resp_len).sum(),
            Msg::RdbHeader { .. } => 46,
            Msg::Rdb(p) => p.bytes,
            Msg::KeepAlive => 1,
        }
    }
}

fn array(argc: usize) -> usize {
    3 + decimal_len_u64(argc as u64)
}

fn bulk(len: usize) -> usize {
    5 + decimal_len_u64(len as u64) + len
}

pub fn decimal_len_u64(mut n: u64) -> usize {
    let mut d = 1;
    while n >= 10 {
        n /= 10;
        d += 1;
    }
    d
}

pub fn decimal_len_i64(n: i64) -> usize {
    if n < 0 {
        1 + decimal_len_u64(n.unsigned_abs())
    } else {
        decimal_len_u64(n as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resp_lengths_match_redis() {
        assert_eq!(Cmd::Set("k".into(), Value::Text("v".into())).resp_len(), 27);
        assert_eq!(Cmd::Select(0).resp_len(), 23);
        assert_eq!(Cmd::Ping.resp_len(), 14);
        assert_eq!(Cmd::Del("k".into()).resp_len(), 20);
        assert_eq!(Cmd::ReplconfGetack.resp_len(), 37);
        assert_eq!(
            Cmd::Publish {
                channel: "ch".into(),
                message: "hello".into()
            }
            .resp_len(),
            36
        );
        // A hello on __sentinel__:hello with an L-byte payload: 47 + digits(L) + L.
        let msg = "x".repeat(90);
        assert_eq!(
            Cmd::Publish {
                channel: "__sentinel__:hello".into(),
                message: msg
            }
            .resp_len(),
            47 + 2 + 90
        );
        assert_eq!(Cmd::Incr("counter".into()).resp_len(), 4 + 10 + 13);
        // *5 $4 MSET $1 a $1 1 $1 b $1 2: 4 + 10 + 4 × 7.
        let one = |s: &str| Value::Text(s.into());
        let mset = Cmd::MSet(vec![("a".into(), one("1")), ("b".into(), one("2"))]);
        assert_eq!(mset.resp_len(), 4 + 10 + 4 * 7);
        assert_eq!(
            Cmd::MGet(vec!["a".into(), "b".into()]).resp_len(),
            4 + 10 + 2 * 7
        );
        // *2 $1 1 $-1: 4 + 7 + 5.
        let values = Msg::Reply(Reply::Values(vec![Some(one("1")), None]));
        assert_eq!(values.wire_size(), 4 + 7 + 5);
        assert_eq!(decimal_len_i64(-12), 3);
    }
}
