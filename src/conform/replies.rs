//! The replies to the scenario's `[[command]]` lines, compared command by
//! command as redis-cli prints them ([`shown_after`]). Real replies come with
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
//!   `<n>`, anything else (`-1`) as it is;
//! - a HELLO reply is compared field by field too (its `id` is the
//!   connection's client id, numbered as Redis numbers them);
//! - a reply with a RESP3 type also gets a row of its RESP types
//!   ([`resp3_types`]): redis-cli prints a RESP3 null as it prints a RESP2
//!   one.
//!
//! Everything else, offsets included, must be the same text.

use crate::history::{Exchange, shown_reply};
use crate::proto::resp::Frame;

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

/// Whether a reply is compared field by field: an INFO's text (a bulk
/// string, or in RESP3 a verbatim string).
fn is_info(argv: &[String], frame: &Frame) -> bool {
    argv.first().is_some_and(|c| c.eq_ignore_ascii_case("info"))
        && matches!(frame, Frame::Bulk(Some(_)) | Frame::Verbatim { .. })
}

/// HELLO's reply as (field, value as redis-cli prints it) pairs: a RESP3
/// map, or the flat array RESP2 gets.
fn hello_fields(argv: &[String], frame: &Frame) -> Option<Vec<(String, String)>> {
    if !argv
        .first()
        .is_some_and(|c| c.eq_ignore_ascii_case("hello"))
    {
        return None;
    }
    let pairs: Vec<(&Frame, &Frame)> = match frame {
        Frame::Map(pairs) => pairs.iter().map(|(k, v)| (k, v)).collect(),
        Frame::Array(Some(items)) if items.len() % 2 == 0 => {
            items.chunks(2).map(|kv| (&kv[0], &kv[1])).collect()
        }
        _ => return None,
    };
    pairs
        .into_iter()
        .map(|(k, v)| {
            let k = k.text()?.to_string();
            Some((k, v.to_cli()))
        })
        .collect()
}

/// The RESP types of a reply (and of the pushes before it) that has any
/// RESP3 type: `_` for a null, `%2[$ $ $ :]` for a map of two fields, `=`
/// for a verbatim string… What redis-cli prints does not tell a RESP3
/// null from a RESP2 one; this does. `None` for a reply RESP2 could have
/// sent as it is.
pub fn resp3_types(pushes: &[Frame], frame: &Frame) -> Option<String> {
    fn resp3(f: &Frame) -> bool {
        match f {
            Frame::Simple(_) | Frame::Error(_) | Frame::Int(_) | Frame::Bulk(_) => false,
            Frame::Array(None) => false,
            Frame::Array(Some(items)) => items.iter().any(resp3),
            _ => true,
        }
    }
    fn types(f: &Frame, out: &mut String) {
        let aggregate = |tag: char, items: Vec<&Frame>, n: usize, out: &mut String| {
            out.push_str(&format!("{tag}{n}["));
            for (i, item) in items.into_iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                types(item, out);
            }
            out.push(']');
        };
        match f {
            Frame::Simple(_) => out.push('+'),
            Frame::Error(_) => out.push('-'),
            Frame::Int(_) => out.push(':'),
            Frame::Bulk(Some(_)) => out.push('$'),
            Frame::Bulk(None) => out.push_str("$-1"),
            Frame::Array(None) => out.push_str("*-1"),
            Frame::Null => out.push('_'),
            Frame::Double(_) => out.push(','),
            Frame::Bool(_) => out.push('#'),
            Frame::BigNumber(_) => out.push('('),
            Frame::Verbatim { .. } => out.push('='),
            Frame::Array(Some(items)) => aggregate('*', items.iter().collect(), items.len(), out),
            Frame::Set(items) => aggregate('~', items.iter().collect(), items.len(), out),
            Frame::Push(items) => aggregate('>', items.iter().collect(), items.len(), out),
            Frame::Map(pairs) => aggregate(
                '%',
                pairs.iter().flat_map(|(k, v)| [k, v]).collect(),
                pairs.len(),
                out,
            ),
        }
    }
    if !resp3(frame) && !pushes.iter().any(resp3) {
        return None;
    }
    let mut out = String::new();
    for f in pushes.iter().chain(std::iter::once(frame)) {
        if !out.is_empty() {
            out.push(' ');
        }
        types(f, &mut out);
    }
    Some(out)
}

/// The signature fields of a run's replies (`names`: node names by index):
/// per command, `#<n> <node>> <line>` with the reply as redis-cli prints
/// it (after the RESP3 pushes that came before it); for an INFO, `…
/// fields` with the sections and fields in order and `…: <field>` for each
/// field; HELLO likewise (its `id` is the client id each server numbers);
/// and for a reply with a RESP3 type, `…: RESP3 types` (see
/// [`resp3_types`]).
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
        let types = resp3_types(&ex.pushes, frame);
        let text = ids.normalize(&shown_reply(&c.argv, &ex.pushes, frame, &ex.more));
        if let Some(hello) = hello_fields(&c.argv, frame) {
            let order: Vec<&str> = hello.iter().map(|(k, _)| k.as_str()).collect();
            push(format!("{label} fields"), order.join(", "));
            for (k, v) in hello {
                push(format!("{label}: {k}"), v);
            }
        } else if let Some(rows) = client_list_rows(&label, &c.argv, frame) {
            for (k, v) in rows {
                push(k, v);
            }
        } else if !is_info(&c.argv, frame) {
            push(label.clone(), text);
        } else {
            for (k, v) in info_rows(&label, &text) {
                push(k, v);
            }
        }
        if let Some(types) = types {
            push(format!("{label}: RESP3 types"), types);
        }
        // What a subscription received, message by message, in order.
        if crate::proto::inbox::enters_subscribed_mode(&c.argv) {
            push(format!("{label} messages"), ex.messages.len().to_string());
            for (i, (_, m)) in ex.messages.iter().enumerate() {
                let shown = m.to_cli().trim_end().replace('\n', " ");
                push(format!("{label} message {}", i + 1), ids.normalize(&shown));
            }
        }
    }
    out
}

/// `CLIENT LIST`'s and `CLIENT INFO`'s rows: how many clients, then
/// `<label> client <i>: <field>` for each field of each line, in order. An
/// address on a client's ephemeral port (32768 and up: the host picks it)
/// reads `<ephemeral>`, and `age` and `idle`, whole seconds off the host's
/// clock, are compared by shape.
fn client_list_rows(label: &str, argv: &[String], frame: &Frame) -> Option<Vec<(String, String)>> {
    let sub = argv.get(1)?;
    if !argv[0].eq_ignore_ascii_case("client")
        || !(sub.eq_ignore_ascii_case("list") || sub.eq_ignore_ascii_case("info"))
    {
        return None;
    }
    let text = match frame {
        Frame::Bulk(Some(t)) | Frame::Verbatim { text: t, .. } => t,
        _ => return None,
    };
    let lines: Vec<&str> = text.lines().collect();
    let mut out = vec![(format!("{label} clients"), lines.len().to_string())];
    for (i, line) in lines.iter().enumerate() {
        for field in line.split(' ') {
            let (k, v) = field.split_once('=').unwrap_or((field, ""));
            let ephemeral = matches!(k, "addr" | "laddr")
                && v.rsplit_once(':')
                    .and_then(|(_, p)| p.parse::<u32>().ok())
                    .is_some_and(|p| p >= 32768);
            let v = if ephemeral {
                "<ephemeral>".to_string()
            } else if matches!(k, "age" | "idle") {
                shape(v)
            } else {
                v.to_string()
            };
            out.push((format!("{label} client {}: {k}", i + 1), v));
        }
    }
    Some(out)
}

/// An INFO reply's rows: `<label> fields` with its sections and fields in
/// order, then `<label>: <field>` for each field (`(2)`, `(3)`… after a
/// name seen before).
fn info_rows(label: &str, text: &str) -> Vec<(String, String)> {
    let info = info_fields(text);
    let order: Vec<&str> = info.iter().map(|(k, _)| k.as_str()).collect();
    let mut out = vec![(format!("{label} fields"), order.join(", "))];
    let mut seen: Vec<&str> = Vec::new();
    for (k, v) in info.iter().filter(|(k, _)| !k.starts_with('#')) {
        let n = seen.iter().filter(|s| **s == k).count();
        seen.push(k);
        let key = if n == 0 {
            format!("{label}: {k}")
        } else {
            format!("{label}: {k} ({})", n + 1)
        };
        out.push((key, v.clone()));
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
            pushes: Vec::new(),
            more: Vec::new(),
            messages: Vec::new(),
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

    /// HELLO is compared per field in either protocol;
    /// a reply with a RESP3 type gets its types as a row too, a push before
    /// it included.
    #[test]
    fn hello_per_field_and_resp3_types() {
        use crate::proto::hello::hello_frame;
        use crate::proto::resp::Proto;
        let three = hello_frame(Proto::Resp3, 6, "standalone", Some("master"));
        let two = three.clone().for_proto(Proto::Resp2);
        let mut push = ex(
            2,
            0,
            "DEBUG PROTOCOL push",
            Some(Frame::bulk("Some real reply following the push reply")),
        );
        push.pushes = vec![Frame::Push(vec![
            Frame::bulk("server-cpu-usage"),
            Frame::Int(42),
        ])];
        let exchanges = vec![
            ex(0, 0, "HELLO 3", Some(three)),
            ex(1, 0, "HELLO 2", Some(two)),
            push,
            ex(3, 0, "GET missing", Some(Frame::Null)),
            ex(4, 0, "GET missing", Some(Frame::Bulk(None))),
        ];
        let sig = fields(&exchanges, &names());
        for n in ["#1 master> HELLO 3", "#2 master> HELLO 2"] {
            assert_eq!(
                get(&sig, &format!("{n} fields")),
                "server, version, proto, id, mode, role, modules"
            );
            assert_eq!(get(&sig, &format!("{n}: id")), "(integer) 6");
            assert_eq!(get(&sig, &format!("{n}: modules")), "(empty array)");
        }
        assert_eq!(get(&sig, "#1 master> HELLO 3: proto"), "(integer) 3");
        assert_eq!(
            get(&sig, "#1 master> HELLO 3: RESP3 types"),
            "%7[$ $ $ $ $ : $ : $ $ $ $ $ *0[]]"
        );
        assert!(
            !sig.iter()
                .any(|f| f.name == "#2 master> HELLO 2: RESP3 types")
        );
        assert_eq!(
            get(&sig, "#3 master> DEBUG PROTOCOL push"),
            "1) \"server-cpu-usage\"\n2) (integer) 42\n\"Some real reply following the push reply\""
        );
        assert_eq!(
            get(&sig, "#3 master> DEBUG PROTOCOL push: RESP3 types"),
            ">2[$ :] $"
        );
        // Both nulls print `(nil)`: the types tell them apart.
        assert_eq!(get(&sig, "#4 master> GET missing"), "(nil)");
        assert_eq!(get(&sig, "#5 master> GET missing"), "(nil)");
        assert_eq!(get(&sig, "#4 master> GET missing: RESP3 types"), "_");
        assert!(
            !sig.iter()
                .any(|f| f.name == "#5 master> GET missing: RESP3 types")
        );
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
