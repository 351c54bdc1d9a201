//! RESP2 replies as values: what a node answers an operator's command line,
//! encoded byte for byte as Redis writes it (networking.c `addReply*()`),
//! read back from a real server's socket ([`read_frame`]) and shown as
//! redis-cli prints it.

use std::fmt::Write as _;
use std::io::BufRead;

/// One RESP2 reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// `+OK`
    Simple(String),
    /// `-ERR …`, without the leading `-`.
    Error(String),
    /// `:1`
    Int(i64),
    /// `$3\r\nfoo` or the nil bulk `$-1`.
    Bulk(Option<String>),
    /// `*2 …` or the nil array `*-1`.
    Array(Option<Vec<Frame>>),
}

impl Frame {
    pub fn ok() -> Frame {
        Frame::Simple("OK".into())
    }

    pub fn bulk(s: impl Into<String>) -> Frame {
        Frame::Bulk(Some(s.into()))
    }

    /// The reply's bytes on the wire.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out);
        out
    }

    fn encode_into(&self, out: &mut Vec<u8>) {
        match self {
            Frame::Simple(s) => line(out, '+', s),
            Frame::Error(s) => line(out, '-', s),
            Frame::Int(i) => line(out, ':', &i.to_string()),
            Frame::Bulk(None) => out.extend_from_slice(b"$-1\r\n"),
            Frame::Bulk(Some(s)) => {
                line(out, '$', &s.len().to_string());
                out.extend_from_slice(s.as_bytes());
                out.extend_from_slice(b"\r\n");
            }
            Frame::Array(None) => out.extend_from_slice(b"*-1\r\n"),
            Frame::Array(Some(items)) => {
                line(out, '*', &items.len().to_string());
                for f in items {
                    f.encode_into(out);
                }
            }
        }
    }

    /// The encoded length, without building the bytes.
    pub fn wire_len(&self) -> u64 {
        let header = |n: usize| 3 + decimal_len(n as i64);
        match self {
            Frame::Simple(s) | Frame::Error(s) => 3 + s.len() as u64,
            Frame::Int(i) => 3 + decimal_len(*i),
            Frame::Bulk(None) | Frame::Array(None) => 5,
            Frame::Bulk(Some(s)) => header(s.len()) + s.len() as u64 + 2,
            Frame::Array(Some(items)) => {
                header(items.len()) + items.iter().map(Frame::wire_len).sum::<u64>()
            }
        }
    }

    /// How redis-cli prints the reply in a terminal (redis-cli.c
    /// `cliFormatReplyTTY()`): `OK`, `(error) ERR …`, `(integer) 1`,
    /// `"text"`, `(nil)`, numbered array items.
    pub fn to_cli(&self) -> String {
        let mut out = String::new();
        self.cli_into(&mut out, 0);
        out
    }

    fn cli_into(&self, out: &mut String, indent: usize) {
        match self {
            Frame::Simple(s) => out.push_str(s),
            Frame::Error(s) => {
                let _ = write!(out, "(error) {s}");
            }
            Frame::Int(i) => {
                let _ = write!(out, "(integer) {i}");
            }
            Frame::Bulk(None) | Frame::Array(None) => out.push_str("(nil)"),
            Frame::Bulk(Some(s)) => out.push_str(&repr(s)),
            Frame::Array(Some(items)) if items.is_empty() => out.push_str("(empty array)"),
            Frame::Array(Some(items)) => {
                let width = items.len().to_string().len();
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push('\n');
                        out.push_str(&" ".repeat(indent));
                    }
                    let _ = write!(out, "{:>width$}) ", i + 1);
                    item.cli_into(out, indent + width + 2);
                }
            }
        }
    }

    /// The text of a status or bulk reply, as a script reads it.
    pub fn text(&self) -> Option<&str> {
        match self {
            Frame::Simple(s) | Frame::Error(s) | Frame::Bulk(Some(s)) => Some(s),
            _ => None,
        }
    }
}

/// Reads one RESP2 reply (or pub/sub push) from a stream: the inverse of
/// [`Frame::encode`]. A bulk string that is not UTF-8 is read with each
/// invalid sequence replaced by U+FFFD: every bulk string the model sends
/// or stores is text, and so is what it is compared with.
pub fn read_frame(r: &mut impl BufRead) -> std::io::Result<Frame> {
    let l = read_line(r)?;
    let (tag, rest) = l.split_at(l.len().min(1));
    let len = |s: &str| -> std::io::Result<i64> {
        s.parse()
            .map_err(|_| invalid(format!("bad length or integer `{s}`")))
    };
    match tag {
        "+" => Ok(Frame::Simple(rest.to_string())),
        "-" => Ok(Frame::Error(rest.to_string())),
        ":" => Ok(Frame::Int(len(rest)?)),
        "$" => {
            let n = len(rest)?;
            if n < 0 {
                return Ok(Frame::Bulk(None));
            }
            let mut buf = vec![0u8; n as usize + 2];
            r.read_exact(&mut buf)?;
            if !buf.ends_with(b"\r\n") {
                return Err(invalid("bulk string without CRLF"));
            }
            buf.truncate(n as usize);
            Ok(Frame::Bulk(Some(match String::from_utf8(buf) {
                Ok(s) => s,
                Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
            })))
        }
        "*" => {
            let n = len(rest)?;
            if n < 0 {
                return Ok(Frame::Array(None));
            }
            let mut items = Vec::with_capacity((n as usize).min(1024));
            for _ in 0..n {
                items.push(read_frame(r)?);
            }
            Ok(Frame::Array(Some(items)))
        }
        _ => Err(invalid(format!("unexpected reply `{l}`"))),
    }
}

fn invalid(msg: impl Into<String>) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, msg.into())
}

/// One CRLF-terminated line, without the CRLF.
fn read_line(r: &mut impl BufRead) -> std::io::Result<String> {
    let mut buf = Vec::new();
    if r.read_until(b'\n', &mut buf)? == 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "connection closed",
        ));
    }
    if !buf.ends_with(b"\r\n") {
        return Err(invalid("reply line without CRLF"));
    }
    buf.truncate(buf.len() - 2);
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

fn line(out: &mut Vec<u8>, kind: char, body: &str) {
    out.push(kind as u8);
    out.extend_from_slice(body.as_bytes());
    out.extend_from_slice(b"\r\n");
}

fn decimal_len(i: i64) -> u64 {
    i.to_string().len() as u64
}

/// `s` quoted as Redis's `sdscatrepr()` writes it (redis-cli prints bulk
/// strings so, and config files read it back as exactly `s`): in double
/// quotes, with `\\`, `\"`, `\n`, `\r`, `\t`, `\a`, `\b`, and `\xHH` for every
/// other byte outside printable ASCII.
pub fn repr(s: impl AsRef<[u8]>) -> String {
    let s = s.as_ref();
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for &b in s {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            7 => out.push_str("\\a"),
            8 => out.push_str("\\b"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push('"');
    out
}

/// Splits a command line into arguments as redis-cli does (sds.c
/// `sdssplitargs()`): spaces separate; double quotes take `\n`, `\xHH`
/// and the like; single quotes take only `\'`. `None` for unbalanced
/// quotes, as redis-cli answers `Invalid argument(s)`.
pub fn split_args(line: &str) -> Option<Vec<String>> {
    let mut args = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            return Some(args);
        }
        let mut cur = String::new();
        let mut closed_quote = false;
        loop {
            match chars.next() {
                None => break,
                Some('"') if cur.is_empty() && !closed_quote => {
                    loop {
                        match chars.next()? {
                            '\\' => match chars.next()? {
                                'n' => cur.push('\n'),
                                'r' => cur.push('\r'),
                                't' => cur.push('\t'),
                                'b' => cur.push('\u{8}'),
                                'a' => cur.push('\u{7}'),
                                'x' => {
                                    let hex: String =
                                        [chars.next()?, chars.next()?].iter().collect();
                                    cur.push(u8::from_str_radix(&hex, 16).ok()? as char);
                                }
                                c => cur.push(c),
                            },
                            '"' => break,
                            c => cur.push(c),
                        }
                    }
                    closed_quote = true;
                }
                Some('\'') if cur.is_empty() && !closed_quote => {
                    loop {
                        match chars.next()? {
                            '\\' if chars.peek() == Some(&'\'') => {
                                chars.next();
                                cur.push('\'');
                            }
                            '\'' => break,
                            c => cur.push(c),
                        }
                    }
                    closed_quote = true;
                }
                Some(c) if c.is_ascii_whitespace() => break,
                // A closing quote must be followed by a space.
                Some(_) if closed_quote => return None,
                Some(c) => cur.push(c),
            }
        }
        args.push(cur);
    }
}

/// A reply as redis-cli prints it in a terminal: raw for INFO and the
/// other commands redis-cli.c `cliSendCommand()` prints raw, formatted
/// otherwise; without the final line break.
pub fn shown(argv: &[String], frame: &Frame) -> String {
    let text = if prints_raw(argv) {
        raw(frame)
    } else {
        frame.to_cli()
    };
    text.trim_end_matches(['\r', '\n']).replace("\r\n", "\n")
}

/// [`shown`] on one line, line breaks written `\n`: for the trace.
pub fn printed(argv: &[String], frame: &Frame) -> String {
    shown(argv, frame).replace('\n', "\\n")
}

/// redis-cli.c `cliSendCommand()`'s list of commands whose replies it
/// prints raw even in a terminal.
fn prints_raw(argv: &[String]) -> bool {
    let word = |i: usize| argv.get(i).map(|s| s.to_ascii_lowercase());
    let (cmd, sub) = (word(0).unwrap_or_default(), word(1).unwrap_or_default());
    let argc = argv.len();
    match cmd.as_str() {
        "info" | "lolwut" => true,
        "debug" => matches!(sub.as_str(), "htstats" | "htstats-key" | "client-eviction"),
        "memory" => matches!(sub.as_str(), "malloc-stats" | "doctor"),
        "cluster" => argc == 2 && matches!(sub.as_str(), "nodes" | "info"),
        "client" => matches!(sub.as_str(), "list" | "info"),
        "latency" => (argc == 3 && sub == "graph") || (argc == 2 && sub == "doctor"),
        _ => false,
    }
}

/// redis-cli.c `cliFormatReplyRaw()`.
fn raw(frame: &Frame) -> String {
    match frame {
        Frame::Simple(s) | Frame::Error(s) => s.clone(),
        Frame::Bulk(Some(s)) => s.clone(),
        Frame::Int(i) => i.to_string(),
        Frame::Bulk(None) | Frame::Array(None) => String::new(),
        Frame::Array(Some(items)) => items.iter().map(raw).collect::<Vec<_>>().join("\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_each_kind_with_its_exact_length() {
        let f = Frame::Array(Some(vec![
            Frame::bulk("master"),
            Frame::Int(0),
            Frame::Array(Some(vec![])),
        ]));
        let bytes = f.encode();
        assert_eq!(bytes, b"*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n");
        assert_eq!(f.wire_len(), bytes.len() as u64);
        for f in [
            Frame::ok(),
            Frame::Error("ERR x".into()),
            Frame::Bulk(None),
            Frame::Array(None),
            Frame::Int(-12),
        ] {
            assert_eq!(f.wire_len(), f.encode().len() as u64, "{f:?}");
        }
    }

    #[test]
    fn reads_back_what_it_encodes() {
        let f = Frame::Array(Some(vec![
            Frame::ok(),
            Frame::Error("READONLY x".into()),
            Frame::Bulk(None),
            Frame::Array(None),
            Frame::Int(-12),
            Frame::bulk("a\r\nb"),
            Frame::Array(Some(vec![Frame::bulk("")])),
        ]));
        let bytes = f.encode();
        let mut r: &[u8] = &bytes;
        assert_eq!(read_frame(&mut r).unwrap(), f);
        assert!(r.is_empty());
        // Two replies in a row, then the end of the stream.
        let mut r: &[u8] = b":12\r\n$3\r\nabc\r\n";
        assert_eq!(read_frame(&mut r).unwrap(), Frame::Int(12));
        assert_eq!(read_frame(&mut r).unwrap(), Frame::bulk("abc"));
        let e = read_frame(&mut r).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof);
        // Bytes that are not UTF-8 are replaced, not refused.
        let mut r: &[u8] = b"$2\r\n\xff\x41\r\n";
        assert_eq!(read_frame(&mut r).unwrap(), Frame::bulk("\u{fffd}A"));
        for bad in [
            &b"?x\r\n"[..],
            b"+OK\n",
            b":x\r\n",
            b"$3\r\nabcd\r\n",
            b"$5\r\nab",
        ] {
            let mut r = bad;
            assert!(read_frame(&mut r).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn prints_as_redis_cli_does() {
        assert_eq!(Frame::ok().to_cli(), "OK");
        assert_eq!(Frame::Int(3).to_cli(), "(integer) 3");
        assert_eq!(Frame::Bulk(None).to_cli(), "(nil)");
        assert_eq!(Frame::bulk("a\"b\r\n").to_cli(), "\"a\\\"b\\r\\n\"");
        assert_eq!(
            Frame::Error("ERR wrong".into()).to_cli(),
            "(error) ERR wrong"
        );
        let role = Frame::Array(Some(vec![
            Frame::bulk("master"),
            Frame::Int(42),
            Frame::Array(Some(vec![Frame::Array(Some(vec![
                Frame::bulk("10.0.0.2"),
                Frame::bulk("6379"),
                Frame::bulk("42"),
            ]))])),
        ]));
        assert_eq!(
            role.to_cli(),
            "1) \"master\"\n2) (integer) 42\n3) 1) 1) \"10.0.0.2\"\n      2) \"6379\"\n      3) \"42\""
        );
    }

    #[test]
    fn splits_arguments_as_redis_cli_does() {
        assert_eq!(
            split_args("  REPLICAOF 10.0.0.1   6379 ").unwrap(),
            ["REPLICAOF", "10.0.0.1", "6379"]
        );
        assert_eq!(
            split_args(r#"SET "a b\x41\n" 'it\'s'"#).unwrap(),
            ["SET", "a bA\n", "it's"]
        );
        assert_eq!(split_args(r#"SET "unclosed"#), None);
        assert_eq!(split_args(r#"SET "a"b"#), None);
        assert_eq!(split_args("").unwrap(), Vec::<String>::new());
    }

    fn argv(line: &str) -> Vec<String> {
        line.split(' ').map(String::from).collect()
    }

    #[test]
    fn info_prints_raw_and_other_replies_as_a_terminal_shows_them() {
        let info = Frame::bulk("# Replication\r\nrole:master\r\n");
        assert_eq!(
            printed(&argv("INFO replication"), &info),
            "# Replication\\nrole:master"
        );
        assert_eq!(
            printed(&argv("GET k"), &info),
            "\"# Replication\\r\\nrole:master\\r\\n\""
        );
        assert_eq!(printed(&argv("SET k v"), &Frame::ok()), "OK");
    }
}
