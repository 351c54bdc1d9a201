//! Names the messages a recording shows: a short kind ("PING",
//! "is-master-down-by-addr", "+FULLRESYNC"), a note with the details that
//! matter to a reader, and whether the message is bulk traffic (workload
//! commands, their replies and the replication stream of writes), which the
//! recording aggregates instead of keeping one by one.

use std::borrow::Cow;

use crate::proto::bus::BusKind;
use crate::proto::{Cmd, Msg, PsyncId, Reply};
use crate::sentinel::HELLO_CHANNEL;

/// How a recording shows one message.
pub struct Label {
    pub kind: Cow<'static, str>,
    pub note: String,
    pub bulk: bool,
}

fn control(kind: impl Into<Cow<'static, str>>, note: String) -> Label {
    Label {
        kind: kind.into(),
        note,
        bulk: false,
    }
}

fn bulk(kind: impl Into<Cow<'static, str>>) -> Label {
    Label {
        kind: kind.into(),
        note: String::new(),
        bulk: true,
    }
}

/// Labels `msg`; `to_client` is true when a workload client receives it
/// (plain replies to clients are bulk, replies to Sentinels are not).
pub fn label(msg: &Msg, to_client: bool) -> Label {
    match msg {
        Msg::Cmd(c) => command(c),
        Msg::Reply(r) => reply(r, to_client),
        Msg::Stream(cmds) => {
            if cmds.iter().any(Cmd::is_write) {
                return bulk("stream");
            }
            // A stream without writes: the keep-alive ping, GETACK, or a
            // Sentinel hello propagated from the master.
            let names: Vec<String> = cmds.iter().map(|c| command(c).kind.into_owned()).collect();
            control(format!("stream {}", names.join(" ")), String::new())
        }
        Msg::RdbHeader { eof, bytes } => control(
            "RDB header",
            if *eof {
                "$EOF: diskless".to_string()
            } else {
                format!("${bytes}")
            },
        ),
        Msg::Rdb(p) => control("RDB", format!("{} bytes, {} keys", p.bytes, p.data.len())),
        Msg::KeepAlive => control("newline keep-alive", String::new()),
        Msg::Bus(b) => {
            let what = match &b.kind {
                BusKind::Fail(n) => format!("node {n} is FAIL; "),
                BusKind::Update {
                    node, config_epoch, ..
                } => format!("node {node} has configEpoch {config_epoch}; "),
                _ => String::new(),
            };
            control(
                format!("bus {}", b.kind.name()),
                format!(
                    "{what}currentEpoch {} configEpoch {} offset {}, {} gossip",
                    b.current_epoch,
                    b.config_epoch,
                    b.offset,
                    b.gossip.len()
                ),
            )
        }
    }
}

fn command(c: &Cmd) -> Label {
    match c {
        Cmd::Get(_)
        | Cmd::Set(..)
        | Cmd::Del(_)
        | Cmd::Incr(_)
        | Cmd::MSet(_)
        | Cmd::MGet(_)
        | Cmd::Wait { .. } => bulk(c.name()),
        Cmd::Publish { channel, message } if channel == HELLO_CHANNEL => {
            control("hello", message.clone())
        }
        Cmd::Publish { channel, message } => control("PUBLISH", format!("{channel} {message}")),
        Cmd::ReplconfAck(off) => control("REPLCONF ACK", off.to_string()),
        Cmd::ReplconfGetack => control("REPLCONF GETACK", String::new()),
        Cmd::ReplconfListeningPort(p) => control("REPLCONF listening-port", p.to_string()),
        Cmd::ReplconfIpAddress(ip) => control("REPLCONF ip-address", ip.to_string()),
        Cmd::ReplconfCapa => control("REPLCONF capa", "eof psync2".into()),
        Cmd::Psync {
            id,
            offset,
            failover,
        } => {
            let id = match id {
                PsyncId::Unknown => "?".to_string(),
                PsyncId::Id(r) => r.as_str()[..8].to_string(),
            };
            let tail = if *failover { " FAILOVER" } else { "" };
            control("PSYNC", format!("{id} {offset}{tail}"))
        }
        Cmd::SentinelSlaveOf { master: None } => control("SLAVEOF NO ONE", String::new()),
        Cmd::SentinelSlaveOf {
            master: Some((h, p)),
        } => control("SLAVEOF", format!("{h} {p}")),
        Cmd::IsMasterDownByAddr {
            epoch, runid, ip, ..
        } => {
            let what = match runid {
                Some(r) => format!("vote request for {} in epoch {epoch}", &r[..r.len().min(8)]),
                None => format!("is {ip} down? (epoch {epoch})"),
            };
            control("is-master-down-by-addr", what)
        }
        Cmd::GetMasterAddrByName(name) => control("get-master-addr-by-name", name.to_string()),
        Cmd::Subscribe(ch) => control("SUBSCRIBE", ch.to_string()),
        Cmd::Auth(_) => control("AUTH", String::new()),
        Cmd::Select(db) => control("SELECT", db.to_string()),
        Cmd::Ping | Cmd::Sync | Cmd::Info | Cmd::Role => control(c.name(), String::new()),
        Cmd::Asking | Cmd::RestoreAsking(..) => bulk(c.name()),
        Cmd::ClusterSlots => control("CLUSTER SLOTS", String::new()),
        Cmd::ClusterSetSlot { slot, action } => {
            control("CLUSTER SETSLOT", format!("{slot} {action:?}"))
        }
        Cmd::ClusterGetKeysInSlot { slot, count } => {
            control("CLUSTER GETKEYSINSLOT", format!("{slot} {count}"))
        }
        Cmd::Migrate { keys, .. } => control("MIGRATE", format!("{} keys", keys.len())),
        Cmd::PingWith(m) | Cmd::Echo(m) => control(c.name(), m.clone()),
        Cmd::Dbsize => control(c.name(), String::new()),
        Cmd::InfoSections(s) => control(c.name(), s.join(" ")),
        Cmd::ReplicaOf { host, port } => control(c.name(), format!("{host} {port}")),
        Cmd::Config(args) => control(c.name(), args.join(" ")),
        Cmd::Named { argv, .. } => control(c.name().to_ascii_uppercase(), argv[1..].join(" ")),
        Cmd::Line(argv) => control(
            argv.first()
                .map_or(String::new(), |a| a.to_ascii_uppercase()),
            argv[1.min(argv.len())..].join(" "),
        ),
    }
}

fn reply(r: &Reply, to_client: bool) -> Label {
    match r {
        Reply::Ok if to_client => bulk("+OK"),
        Reply::Int(_) | Reply::Bulk(_) | Reply::Values(_) if to_client => bulk("reply"),
        Reply::Error(e) if to_client => bulk(format!("-{}", error_code(e))),
        Reply::Ok => control("+OK", String::new()),
        Reply::Pong => control("+PONG", String::new()),
        Reply::Error(e) => control(format!("-{}", error_code(e)), e.clone()),
        Reply::Int(i) => control(format!(":{i}"), String::new()),
        Reply::Bulk(v) => control(
            "bulk reply",
            v.as_ref().map_or("nil".to_string(), |v| v.to_string()),
        ),
        Reply::FullResync { replid, offset } => {
            control("+FULLRESYNC", format!("{} {offset}", &replid.as_str()[..8]))
        }
        Reply::Continue { replid } => control("+CONTINUE", replid.as_str()[..8].to_string()),
        Reply::Info(text) => {
            let role = text
                .lines()
                .find_map(|l| l.strip_prefix("role:"))
                .unwrap_or("?");
            control("INFO reply", format!("role:{}", role.trim_end()))
        }
        Reply::Role(role) => control("ROLE reply", role.to_string()),
        Reply::Frame(_) | Reply::Written(_) | Reply::Message(_) => match r.message() {
            Some((HELLO_CHANNEL, payload)) => control("hello", payload.to_string()),
            Some((channel, payload)) => control(format!("message {channel}"), payload.to_string()),
            None => control(
                "reply",
                r.to_frame().map(|f| f.to_cli()).unwrap_or_default(),
            ),
        },
        Reply::MasterDown {
            down,
            leader,
            leader_epoch,
        } => control(
            "is-master-down reply",
            format!(
                "down={} vote={} epoch={leader_epoch}",
                u8::from(*down),
                leader.as_ref().map_or("*", |l| &l[..l.len().min(8)])
            ),
        ),
        Reply::ClusterSlots(r) => control("CLUSTER SLOTS reply", format!("{} ranges", r.len())),
        Reply::Keys(k) => control("keys reply", format!("{} keys", k.len())),
        Reply::Values(v) => control("MGET reply", format!("{} values", v.len())),
        Reply::MasterAddr(a) => control(
            "master-addr reply",
            a.as_ref()
                .map_or("nil".to_string(), |(h, p)| format!("{h} {p}")),
        ),
    }
}

/// The first word of an error reply (`READONLY`, `NOREPLICAS`, ...).
fn error_code(e: &str) -> &str {
    e.split_whitespace().next().unwrap_or("ERR")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::Value;

    #[test]
    fn workload_traffic_is_bulk_and_sentinel_traffic_is_not() {
        let set = Msg::Cmd(Cmd::Set("k".into(), Value::Int(1)));
        assert!(label(&set, false).bulk);
        assert!(label(&Msg::Reply(Reply::Ok), true).bulk);
        let ok = label(&Msg::Reply(Reply::Ok), false);
        assert!(!ok.bulk);
        assert_eq!(ok.kind, "+OK");
        let ask = Msg::Cmd(Cmd::IsMasterDownByAddr {
            ip: "10.0.0.1".into(),
            port: 6379,
            epoch: 3,
            runid: Some("abcdef0123456789".into()),
        });
        let l = label(&ask, false);
        assert_eq!(l.kind, "is-master-down-by-addr");
        assert!(!l.bulk);
        assert!(l.note.contains("epoch 3"), "{}", l.note);
        let stream = Msg::Stream(vec![Cmd::Select(0), Cmd::Set("k".into(), Value::Int(1))]);
        assert!(label(&stream, false).bulk);
        assert_eq!(
            label(&Msg::Stream(vec![Cmd::Ping]), false).kind,
            "stream PING"
        );
    }
}
