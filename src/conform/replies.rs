//! The replies to the scenario's `[[command]]` lines, compared command by
//! command as redis-cli prints them ([`shown`]). Real replies come with
//! their addresses already written back as the simulated ones
//! ([`super::commands::AddrMap`]); the rest of what legitimately differs
//! between a simulated and a real deployment is normalised here, by the
//! same code on both sides, and nothing else:
//!
//! - run IDs and replication IDs (40 hex digits, not all zeros) become
//!   `<id1>`, `<id2>`, … numbered by first appearance over the run's
//!   replies in the scenario's order, so which IDs are equal is still
//!   compared;
//! - an INFO reply is compared field by field (plus the list of its
//!   sections and fields in order), and the fields in [`SHAPE_ONLY`], read
//!   off the host's clock, only by shape: a non-negative integer reads
//!   `<n>`, anything else (`-1`) as it is.
//!
//! Everything else, offsets included, must be the same text.

use crate::history::Exchange;
use crate::proto::resp::{Frame, shown};

use super::field::{Field, Value};

/// INFO fields (and `slaveN:` subfields) read off the host's clock: the
/// seconds since some event (which second a real process is in when the
/// command arrives is the host's, not the model's), and the clock itself.
pub const SHAPE_ONLY: &[&str] = &[
    "master_last_io_seconds_ago",
    "master_sync_last_io_seconds_ago",
    "master_link_down_since_seconds",
    "lag",
    "uptime_in_seconds",
    "server_time_usec",
    "lru_clock",
    "rdb_last_save_time",
];

/// What a command got back when it got no reply (the connection was
/// refused or closed first, or the run ended).
pub const NO_REPLY: &str = "(no reply)";

/// Numbers the IDs of one run by first appearance.
#[derive(Default)]
pub struct Ids {
    seen: Vec<String>,
}

impl Ids {
    /// `text` with each ID (40 lowercase hex digits, not all zeros, not
    /// part of a longer word) replaced by its number.
    pub fn normalize(&mut self, text: &str) -> String {
        let b = text.as_bytes();
        let word = |c: u8| c.is_ascii_alphanumeric();
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        let mut copied = 0;
        while i + 40 <= b.len() {
            let id = &b[i..i + 40];
            if (i == 0 || !word(b[i - 1]))
                && b.get(i + 40).is_none_or(|c| !word(*c))
                && id.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
                && id.iter().any(|c| *c != b'0')
            {
                let id = &text[i..i + 40];
                let n = match self.seen.iter().position(|s| s == id) {
                    Some(n) => n,
                    None => {
                        self.seen.push(id.to_string());
                        self.seen.len() - 1
                    }
                };
                out.push_str(&text[copied..i]);
                out.push_str(&format!("<id{}>", n + 1));
                i += 40;
                copied = i;
            } else {
                i += 1;
            }
        }
        out.push_str(&text[copied..]);
        out
    }
}

/// A value compared by shape: a non-negative integer reads `<n>`.
pub fn shape(v: &str) -> String {
    if !v.is_empty() && v.bytes().all(|c| c.is_ascii_digit()) {
        "<n>".into()
    } else {
        v.to_string()
    }
}

/// An INFO text as (field, value) pairs in order, section headers
/// (`# Replication`) with an empty value; the [`SHAPE_ONLY`] fields and
/// subfields (`slave0:ip=…,lag=1`) by shape.
pub fn info_fields(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .map(|l| {
            if l.starts_with('#') {
                return (l.to_string(), String::new());
            }
            let Some((k, v)) = l.split_once(':') else {
                return (l.to_string(), String::new());
            };
            let v = if SHAPE_ONLY.contains(&k) {
                shape(v)
            } else if v.contains('=') {
                v.split(',')
                    .map(|kv| match kv.split_once('=') {
                        Some((sk, sv)) if SHAPE_ONLY.contains(&sk) => format!("{sk}={}", shape(sv)),
                        _ => kv.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(",")
            } else {
                v.to_string()
            };
            (k.to_string(), v)
        })
        .collect()
}

/// Whether a reply is compared field by field: an INFO's text.
fn is_info(argv: &[String], frame: &Frame) -> bool {
    argv.first().is_some_and(|c| c.eq_ignore_ascii_case("info"))
        && matches!(frame, Frame::Bulk(Some(_)))
}

/// The signature fields of a run's replies (`names`: node names by index):
/// per command, `#<n> <node>> <line>` with the reply as redis-cli prints
/// it; for an INFO, `… fields` with the sections and fields in order and
/// `…: <field>` for each field.
pub fn fields(exchanges: &[Exchange], names: &[String]) -> Vec<Field> {
    let mut ids = Ids::default();
    let mut out = Vec::new();
    let mut push = |name: String, v: String| {
        out.push(Field {
            group: "replies",
            name,
            value: Value::Exact(v),
        })
    };
    for ex in exchanges {
        let c = &ex.command;
        let node = names.get(c.node as usize).map_or("?", String::as_str);
        let label = format!("#{} {node}> {}", ex.index + 1, c.line);
        let Some((_, frame)) = &ex.reply else {
            push(label, NO_REPLY.into());
            continue;
        };
        let text = ids.normalize(&shown(&c.argv, frame));
        if !is_info(&c.argv, frame) {
            push(label, text);
            continue;
        }
        let info = info_fields(&text);
        let order: Vec<&str> = info.iter().map(|(k, _)| k.as_str()).collect();
        push(format!("{label} fields"), order.join(", "));
        let mut seen: Vec<&str> = Vec::new();
        for (k, v) in info.iter().filter(|(k, _)| !k.starts_with('#')) {
            let n = seen.iter().filter(|s| **s == k).count();
            seen.push(k);
            let key = if n == 0 {
                format!("{label}: {k}")
            } else {
                format!("{label}: {k} ({})", n + 1)
            };
            push(key, v.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::CommandLine;

    const A: &str = "9df401dca176b443c82381cf27f40cbafe973ff8";
    const B: &str = "c49f325a1d100e0a659c8d8e61c887ce77b9fac3";
    const ZERO: &str = "0000000000000000000000000000000000000000";

    fn ex(index: usize, node: u32, line: &str, reply: Option<Frame>) -> Exchange {
        Exchange {
            index,
            command: CommandLine {
                name: None,
                session: "redis-cli".into(),
                node,
                line: line.into(),
                argv: line.split(' ').map(String::from).collect(),
            },
            sent: 0,
            reply: reply.map(|f| (1, f)),
        }
    }

    fn names() -> Vec<String> {
        vec!["master".into(), "replica-1".into()]
    }

    fn get<'a>(sig: &'a [Field], name: &str) -> &'a str {
        match &sig.iter().find(|f| f.name == name).expect(name).value {
            Value::Exact(s) => s,
            Value::Timing(_) => panic!("{name} is a timing"),
        }
    }

    #[test]
    fn ids_are_numbered_by_first_appearance() {
        let mut ids = Ids::default();
        assert_eq!(
            ids.normalize(&format!("master_replid:{A}\nmaster_replid2:{ZERO}")),
            format!("master_replid:<id1>\nmaster_replid2:{ZERO}")
        );
        assert_eq!(
            ids.normalize(&format!("{B} {A} x{A} {A}0")),
            format!("<id2> <id1> x{A} {A}0")
        );
        // Upper case is not an ID Redis writes.
        let upper = A.to_ascii_uppercase();
        assert_eq!(ids.normalize(&upper), upper);
    }

    #[test]
    fn only_seconds_fields_are_compared_by_shape() {
        let info = "# Replication\nrole:slave\nmaster_last_io_seconds_ago:3\n\
                    master_link_down_since_seconds:-1\nslave_repl_offset:14\n\
                    slave0:ip=10.0.0.2,port=6379,state=online,offset=14,lag=1\n\n# Server\nx";
        assert_eq!(
            info_fields(info),
            [
                ("# Replication", ""),
                ("role", "slave"),
                ("master_last_io_seconds_ago", "<n>"),
                ("master_link_down_since_seconds", "-1"),
                ("slave_repl_offset", "14"),
                (
                    "slave0",
                    "ip=10.0.0.2,port=6379,state=online,offset=14,lag=<n>"
                ),
                ("# Server", ""),
                ("x", ""),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string()))
        );
        assert_eq!(shape("0"), "<n>");
        assert_eq!(shape("-1"), "-1");
        assert_eq!(shape(""), "");
    }

    #[test]
    fn replies_become_one_field_per_command_and_per_info_field() {
        let info = format!(
            "# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmaster_replid:{A}\r\nmaster_replid2:{ZERO}\r\n"
        );
        let exchanges = vec![
            ex(0, 1, "INFO replication", Some(Frame::bulk(info))),
            ex(1, 0, "GET k", Some(Frame::bulk("v1"))),
            ex(
                2,
                0,
                "INFO replication",
                Some(Frame::Error("NOAUTH Authentication required.".into())),
            ),
            ex(3, 1, "ECHO", None),
            ex(4, 1, &format!("ECHO {A}"), Some(Frame::bulk(A))),
        ];
        let sig = fields(&exchanges, &names());
        assert!(sig.iter().all(|f| f.group == "replies"));
        assert_eq!(
            get(&sig, "#1 replica-1> INFO replication fields"),
            "# Replication, role, connected_slaves, master_replid, master_replid2"
        );
        assert_eq!(get(&sig, "#1 replica-1> INFO replication: role"), "master");
        assert_eq!(
            get(&sig, "#1 replica-1> INFO replication: master_replid"),
            "<id1>"
        );
        assert_eq!(
            get(&sig, "#1 replica-1> INFO replication: master_replid2"),
            ZERO
        );
        assert_eq!(get(&sig, "#2 master> GET k"), "\"v1\"");
        // An error to INFO is printed raw and compared whole.
        assert_eq!(
            get(&sig, "#3 master> INFO replication"),
            "NOAUTH Authentication required."
        );
        assert_eq!(get(&sig, "#4 replica-1> ECHO"), NO_REPLY);
        // The same ID later in the run keeps its number.
        assert_eq!(get(&sig, &format!("#5 replica-1> ECHO {A}")), "\"<id1>\"");
        // The INFO: its field list and four fields; one row for each other.
        assert_eq!(sig.len(), 5 + 4);
    }

    /// A real reply and the model's agree once normalised, although the
    /// IDs, the seconds and (written back before) the addresses differ.
    #[test]
    fn real_and_simulated_info_agree_after_normalisation() {
        let m = super::super::commands::AddrMap::new(vec![
            (("10.0.0.1".into(), 6379), ("127.0.0.1".into(), 17000)),
            (("10.0.0.2".into(), 6379), ("127.0.0.1".into(), 17001)),
        ]);
        let info = |host: &str, port: u16, id: &str, io: u32| {
            format!(
                "# Replication\r\nrole:slave\r\nmaster_host:{host}\r\nmaster_port:{port}\r\n\
                 master_link_status:up\r\nmaster_last_io_seconds_ago:{io}\r\n\
                 slave_repl_offset:14\r\nmaster_replid:{id}\r\n"
            )
        };
        let real = m.frame_to_sim(&Frame::bulk(info("127.0.0.1", 17000, A, 0)));
        let sim = Frame::bulk(info("10.0.0.1", 6379, B, 1));
        let of = |f: Frame| fields(&[ex(0, 1, "INFO replication", Some(f))], &names());
        assert_eq!(of(real), of(sim.clone()));
        // An offset is not normalised.
        let other = Frame::bulk(info("10.0.0.1", 6379, B, 1).replace(":14", ":28"));
        assert_ne!(of(other), of(sim));
    }
}
