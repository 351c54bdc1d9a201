//! Replies as values: what a node answers a client's command line, in
//! RESP2 or RESP3 as the connection asked (`HELLO 3`), encoded byte for
//! byte as Redis writes it (networking.c `addReply*()`), read back from a
//! real server's socket ([`read_frame`]) and shown as redis-cli prints it.
//!
//! A server builds a reply once, with the RESP3 aggregate it means (a map,
//! a set) and, for a null, the RESP2 form that names which of Redis's two
//! null calls it is (`$-1` for addReplyNull(), `*-1` for
//! addReplyNullArray()). [`Frame::for_proto`] then turns it into the frame
//! the connection's protocol puts on the wire: RESP2 flattens a map into an
//! array twice as long and writes a set as an array; RESP3 writes both
//! nulls as `_`. Every frame has exactly one encoding, so [`Frame::encode`],
//! [`Frame::wire_len`] and [`read_frame`] need no protocol.

use std::fmt::Write as _;
use std::io::BufRead;

/// The protocol a connection speaks (`client->resp`): RESP2 from the
/// start, RESP3 after `HELLO 3`, and RESP2 again on a new connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Proto {
    #[default]
    Resp2,
    Resp3,
}

impl Proto {
    /// The version number `HELLO` takes and shows (`proto`).
    pub fn version(self) -> i64 {
        match self {
            Proto::Resp2 => 2,
            Proto::Resp3 => 3,
        }
    }
}

/// One reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// `+OK`
    Simple(String),
    /// `-ERR …`, without the leading `-`.
    Error(String),
    /// `:1`
    Int(i64),
    /// `$3\r\nfoo`, or `$-1`: addReplyNull() (a missing key) in RESP2.
    Bulk(Option<String>),
    /// `*2 …`, or `*-1`: addReplyNullArray() in RESP2.
    Array(Option<Vec<Frame>>),
    /// RESP3 `_`: either null.
    Null,
    /// RESP3 `,3.141`: the number as Redis writes it (`%.17g`, `inf`);
    /// a bulk string in RESP2.
    Double(String),
    /// RESP3 `#t` / `#f`; `:1` / `:0` in RESP2.
    Bool(bool),
    /// RESP3 `(1234…`: the digits; a bulk string in RESP2.
    BigNumber(String),
    /// RESP3 `=` (addReplyVerbatim()): a three-letter format (`txt`) and
    /// the text; a bulk string of the text in RESP2.
    Verbatim { format: String, text: String },
    /// RESP3 `%`: field and value pairs; in RESP2 an array of twice as
    /// many elements (addReplyMapLen()).
    Map(Vec<(Frame, Frame)>),
    /// RESP3 `~`; an array in RESP2 (addReplySetLen()).
    Set(Vec<Frame>),
    /// RESP3 `>`: out-of-band data (pub/sub messages); an array in RESP2.
    Push(Vec<Frame>),
}

impl Frame {
    pub fn ok() -> Frame {
        Frame::Simple("OK".into())
    }

    pub fn bulk(s: impl Into<String>) -> Frame {
        Frame::Bulk(Some(s.into()))
    }

    /// addReplyVerbatim(…, "txt"): INFO, CLIENT INFO and the like.
    pub fn verbatim(text: impl Into<String>) -> Frame {
        Frame::Verbatim {
            format: "txt".into(),
            text: text.into(),
        }
    }

    /// A map of field names to values, in order.
    pub fn map<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Frame)>) -> Frame {
        Frame::Map(
            pairs
                .into_iter()
                .map(|(k, v)| (Frame::bulk(k), v))
                .collect(),
        )
    }

    /// The frame a connection speaking `proto` receives for this reply
    /// (the `c->resp == 2` branches of networking.c's `addReply*()`).
    pub fn for_proto(self, proto: Proto) -> Frame {
        let down = |items: Vec<Frame>| items.into_iter().map(|f| f.for_proto(proto)).collect();
        match (proto, self) {
            (Proto::Resp3, Frame::Bulk(None) | Frame::Array(None)) => Frame::Null,
            (Proto::Resp2, Frame::Null) => Frame::Bulk(None),
            (Proto::Resp2, Frame::Double(s) | Frame::BigNumber(s)) => Frame::Bulk(Some(s)),
            (Proto::Resp2, Frame::Bool(b)) => Frame::Int(i64::from(b)),
            (Proto::Resp2, Frame::Verbatim { text, .. }) => Frame::Bulk(Some(text)),
            (Proto::Resp2, Frame::Map(pairs)) => Frame::Array(Some(
                pairs
                    .into_iter()
                    .flat_map(|(k, v)| [k.for_proto(proto), v.for_proto(proto)])
                    .collect(),
            )),
            (Proto::Resp2, Frame::Set(items) | Frame::Push(items)) => {
                Frame::Array(Some(down(items)))
            }
            (_, Frame::Array(Some(items))) => Frame::Array(Some(down(items))),
            (Proto::Resp3, Frame::Map(pairs)) => Frame::Map(
                pairs
                    .into_iter()
                    .map(|(k, v)| (k.for_proto(proto), v.for_proto(proto)))
                    .collect(),
            ),
            (Proto::Resp3, Frame::Set(items)) => Frame::Set(down(items)),
            (Proto::Resp3, Frame::Push(items)) => Frame::Push(down(items)),
            (_, f) => f,
        }
    }

    /// The reply's bytes on the wire.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out);
        out
    }

    fn encode_into(&self, out: &mut Vec<u8>) {
        let aggregate = |out: &mut Vec<u8>, kind: char, items: &[Frame]| {
            line(out, kind, &items.len().to_string());
            for f in items {
                f.encode_into(out);
            }
        };
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
            Frame::Array(Some(items)) => aggregate(out, '*', items),
            Frame::Null => out.extend_from_slice(b"_\r\n"),
            Frame::Double(s) => line(out, ',', s),
            Frame::Bool(b) => line(out, '#', if *b { "t" } else { "f" }),
            Frame::BigNumber(s) => line(out, '(', s),
            Frame::Verbatim { format, text } => {
                line(out, '=', &(text.len() + 4).to_string());
                out.extend_from_slice(format.as_bytes());
                out.push(b':');
                out.extend_from_slice(text.as_bytes());
                out.extend_from_slice(b"\r\n");
            }
            Frame::Map(pairs) => {
                line(out, '%', &pairs.len().to_string());
                for (k, v) in pairs {
                    k.encode_into(out);
                    v.encode_into(out);
                }
            }
            Frame::Set(items) => aggregate(out, '~', items),
            Frame::Push(items) => aggregate(out, '>', items),
        }
    }

    /// The encoded length, without building the bytes.
    pub fn wire_len(&self) -> u64 {
        let header = |n: usize| 3 + decimal_len(n as i64);
        let sum = |items: &[Frame]| items.iter().map(Frame::wire_len).sum::<u64>();
        match self {
            Frame::Simple(s) | Frame::Error(s) | Frame::Double(s) | Frame::BigNumber(s) => {
                3 + s.len() as u64
            }
            Frame::Int(i) => 3 + decimal_len(*i),
            Frame::Bulk(None) | Frame::Array(None) => 5,
            Frame::Null => 3,
            Frame::Bool(_) => 4,
            Frame::Bulk(Some(s)) => header(s.len()) + s.len() as u64 + 2,
            Frame::Verbatim { text, .. } => header(text.len() + 4) + text.len() as u64 + 6,
            Frame::Array(Some(items)) | Frame::Set(items) | Frame::Push(items) => {
                header(items.len()) + sum(items)
            }
            Frame::Map(pairs) => {
                header(pairs.len())
                    + pairs
                        .iter()
                        .map(|(k, v)| k.wire_len() + v.wire_len())
                        .sum::<u64>()
            }
        }
    }

    /// How redis-cli prints the reply in a terminal (redis-cli.c
    /// `cliFormatReplyTTY()`): `OK`, `(error) ERR …`, `(integer) 1`,
    /// `"text"`, `(nil)`, numbered array items, `1# "field" => value` for
    /// a map, `1~ ` for a set, a verbatim string's text as it is.
    pub fn to_cli(&self) -> String {
        let mut out = self.tty("");
        out.pop();
        out
    }

    /// cliFormatReplyTTY(): every line ends in `\n`; `prefix` starts the
    /// lines after the first of an aggregate's items.
    fn tty(&self, prefix: &str) -> String {
        match self {
            Frame::Error(s) => format!("(error) {s}\n"),
            Frame::Simple(s) => format!("{s}\n"),
            Frame::Int(i) => format!("(integer) {i}\n"),
            Frame::Double(s) => format!("(double) {s}\n"),
            Frame::Bulk(Some(s)) => format!("{}\n", repr(s)),
            Frame::Verbatim { text, .. } => format!("{text}\n"),
            Frame::Bulk(None) | Frame::Array(None) | Frame::Null => "(nil)\n".into(),
            Frame::Bool(b) => if *b { "(true)\n" } else { "(false)\n" }.into(),
            // hiredis's REDIS_REPLY_BIGNUM: redis-cli 7.0 prints this on
            // stderr and exits.
            Frame::BigNumber(_) => "Unknown reply type: 13\n".into(),
            Frame::Array(Some(items)) => aggregate_tty(items, 0, ')', "(empty array)", prefix),
            Frame::Set(items) => aggregate_tty(items, 0, '~', "(empty set)", prefix),
            Frame::Push(items) => aggregate_tty(items, 0, ')', "(empty push)", prefix),
            Frame::Map(pairs) => {
                let flat: Vec<Frame> = pairs
                    .iter()
                    .flat_map(|(k, v)| [k.clone(), v.clone()])
                    .collect();
                aggregate_tty(&flat, 2, '#', "(empty hash)", prefix)
            }
        }
    }

    /// cliIsMultilineValueTTY(): whether the TTY form takes several lines.
    fn multiline(&self) -> bool {
        match self {
            Frame::Array(Some(items)) | Frame::Set(items) | Frame::Push(items) => {
                items.len() > 1 || items.first().is_some_and(Frame::multiline)
            }
            Frame::Map(pairs) => {
                pairs.len() > 1 || pairs.first().is_some_and(|(_, v)| v.multiline())
            }
            _ => false,
        }
    }

    /// The text of a status or bulk reply, as a script reads it.
    pub fn text(&self) -> Option<&str> {
        match self {
            Frame::Simple(s) | Frame::Error(s) | Frame::Bulk(Some(s)) => Some(s),
            Frame::Verbatim { text, .. } => Some(text),
            _ => None,
        }
    }
}

/// cliFormatReplyTTY() for an aggregate of `items` (a map's fields and
/// values one after the other when `step` is 2): each item numbered, the
/// number followed by `sep`, nested items indented past the number.
fn aggregate_tty(items: &[Frame], step: usize, sep: char, empty: &str, prefix: &str) -> String {
    if items.is_empty() {
        return format!("{empty}\n");
    }
    let map = step == 2;
    let count = if map { items.len() / 2 } else { items.len() };
    let idxlen = count.to_string().len();
    let inner = format!("{prefix}{}", " ".repeat(idxlen + 2));
    let mut out = String::new();
    let mut i = 0;
    while i < items.len() {
        let human = if map { i / 2 } else { i } + 1;
        let _ = write!(
            out,
            "{}{human:>idxlen$}{sep} ",
            if i == 0 { "" } else { prefix }
        );
        out.push_str(&items[i].tty(&inner));
        if map {
            i += 1;
            out.pop();
            out.push_str(" => ");
            if items[i].multiline() {
                out.push('\n');
                out.push_str(&inner);
            }
            out.push_str(&items[i].tty(&inner));
        }
        i += 1;
    }
    out
}

/// Reads one reply (or push) from a stream, RESP2 or RESP3: the inverse
/// of [`Frame::encode`]. A string that is not UTF-8 is read with each
/// invalid sequence replaced by U+FFFD: every string the model sends or
/// stores is text, and so is what it is compared with.
pub fn read_frame(r: &mut impl BufRead) -> std::io::Result<Frame> {
    let l = read_line(r)?;
    let (tag, rest) = l.split_at(l.len().min(1));
    let len = |s: &str| -> std::io::Result<i64> {
        s.parse()
            .map_err(|_| invalid(format!("bad length or integer `{s}`")))
    };
    let items = |r: &mut _, n: i64| -> std::io::Result<Vec<Frame>> {
        let mut items = Vec::with_capacity((n.max(0) as usize).min(1024));
        for _ in 0..n {
            items.push(read_frame(r)?);
        }
        Ok(items)
    };
    match tag {
        "+" => Ok(Frame::Simple(rest.to_string())),
        "-" => Ok(Frame::Error(rest.to_string())),
        ":" => Ok(Frame::Int(len(rest)?)),
        "_" if rest.is_empty() => Ok(Frame::Null),
        "," => Ok(Frame::Double(rest.to_string())),
        "(" => Ok(Frame::BigNumber(rest.to_string())),
        "#" => match rest {
            "t" => Ok(Frame::Bool(true)),
            "f" => Ok(Frame::Bool(false)),
            _ => Err(invalid(format!("bad boolean `{rest}`"))),
        },
        "$" => {
            let n = len(rest)?;
            if n < 0 {
                return Ok(Frame::Bulk(None));
            }
            Ok(Frame::Bulk(Some(read_blob(r, n as usize)?)))
        }
        "=" => {
            let n = len(rest)?;
            if n < 4 {
                return Err(invalid("verbatim string shorter than its format"));
            }
            let blob = read_blob(r, n as usize)?;
            match (blob.get(..3), blob.get(3..4), blob.get(4..)) {
                (Some(format), Some(":"), Some(text)) => Ok(Frame::Verbatim {
                    format: format.to_string(),
                    text: text.to_string(),
                }),
                _ => Err(invalid("verbatim string without its format")),
            }
        }
        "*" => {
            let n = len(rest)?;
            if n < 0 {
                return Ok(Frame::Array(None));
            }
            Ok(Frame::Array(Some(items(r, n)?)))
        }
        "~" => Ok(Frame::Set(items(r, len(rest)?)?)),
        ">" => Ok(Frame::Push(items(r, len(rest)?)?)),
        "%" => {
            let flat = items(r, 2 * len(rest)?)?;
            let mut pairs = Vec::with_capacity(flat.len() / 2);
            let mut it = flat.into_iter();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                pairs.push((k, v));
            }
            Ok(Frame::Map(pairs))
        }
        _ => Err(invalid(format!("unexpected reply `{l}`"))),
    }
}

/// The `n` bytes of a bulk or verbatim string and their CRLF.
fn read_blob(r: &mut impl BufRead, n: usize) -> std::io::Result<String> {
    let mut buf = vec![0u8; n + 2];
    r.read_exact(&mut buf)?;
    if !buf.ends_with(b"\r\n") {
        return Err(invalid("bulk string without CRLF"));
    }
    buf.truncate(n);
    Ok(match String::from_utf8(buf) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
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
/// quotes, as redis-cli answers `Invalid argument(s)`. A `\xHH` escape is
/// one byte, so `"\xc3\xa9"` is `é`; an argument whose bytes are not
/// UTF-8 keeps each byte as the character of the same number.
pub fn split_args(line: &str) -> Option<Vec<String>> {
    let mut args = Vec::new();
    let mut chars = line.chars().peekable();
    let mut utf8 = [0u8; 4];
    loop {
        while chars.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            return Some(args);
        }
        let mut cur: Vec<u8> = Vec::new();
        let mut push =
            |cur: &mut Vec<u8>, c: char| cur.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
        let mut closed_quote = false;
        loop {
            match chars.next() {
                None => break,
                Some('"') if cur.is_empty() && !closed_quote => {
                    loop {
                        match chars.next()? {
                            '\\' => match chars.next()? {
                                'n' => cur.push(b'\n'),
                                'r' => cur.push(b'\r'),
                                't' => cur.push(b'\t'),
                                'b' => cur.push(8),
                                'a' => cur.push(7),
                                'x' => {
                                    let hex: String =
                                        [chars.next()?, chars.next()?].iter().collect();
                                    cur.push(u8::from_str_radix(&hex, 16).ok()?);
                                }
                                c => push(&mut cur, c),
                            },
                            '"' => break,
                            c => push(&mut cur, c),
                        }
                    }
                    closed_quote = true;
                }
                Some('\'') if cur.is_empty() && !closed_quote => {
                    loop {
                        match chars.next()? {
                            '\\' if chars.peek() == Some(&'\'') => {
                                chars.next();
                                cur.push(b'\'');
                            }
                            '\'' => break,
                            c => push(&mut cur, c),
                        }
                    }
                    closed_quote = true;
                }
                Some(c) if c.is_ascii_whitespace() => break,
                // A closing quote must be followed by a space.
                Some(_) if closed_quote => return None,
                Some(c) => push(&mut cur, c),
            }
        }
        args.push(
            String::from_utf8(cur)
                .unwrap_or_else(|e| e.into_bytes().into_iter().map(char::from).collect()),
        );
    }
}

/// A command line that [`split_args`] reads back as exactly `argv`: an
/// argument stays bare when it is plain, and is written in double quotes
/// with `sdssplitargs()`'s escapes otherwise (empty, blank, quoted, or
/// holding a control character).
pub fn join_args(argv: &[String]) -> String {
    let mut line = String::new();
    for (i, arg) in argv.iter().enumerate() {
        if i > 0 {
            line.push(' ');
        }
        let plain = !arg.is_empty()
            && !arg.starts_with(['"', '\''])
            && !arg.chars().any(|c| c.is_whitespace() || c.is_control());
        if plain {
            line.push_str(arg);
            continue;
        }
        line.push('"');
        for c in arg.chars() {
            match c {
                '\\' => line.push_str("\\\\"),
                '"' => line.push_str("\\\""),
                '\n' => line.push_str("\\n"),
                '\r' => line.push_str("\\r"),
                '\t' => line.push_str("\\t"),
                '\u{8}' => line.push_str("\\b"),
                '\u{7}' => line.push_str("\\a"),
                c if c.is_ascii_control() => line.push_str(&format!("\\x{:02x}", c as u32)),
                c => line.push(c),
            }
        }
        line.push('"');
    }
    line
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

/// [`shown`], after the RESP3 pushes that came before the reply as
/// redis-cli's push handler prints them in a terminal (cliPushHandler():
/// the terminal form, whatever the command).
pub fn shown_after(argv: &[String], pushes: &[Frame], frame: &Frame) -> String {
    let mut out: String = pushes.iter().map(|p| p.tty("")).collect();
    out.push_str(&shown(argv, frame));
    out
}

/// [`shown_after`] on one line, for the trace.
pub fn printed_after(argv: &[String], pushes: &[Frame], frame: &Frame) -> String {
    shown_after(argv, pushes, frame).replace('\n', "\\n")
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

/// redis-cli.c `cliFormatReplyRaw()` (an error keeps its line break;
/// elements are separated by line breaks, a map's field and value by a
/// space).
fn raw(frame: &Frame) -> String {
    let join = |items: &[Frame]| items.iter().map(raw).collect::<Vec<_>>().join("\n");
    match frame {
        Frame::Error(s) => format!("{s}\n"),
        Frame::Simple(s) | Frame::Bulk(Some(s)) | Frame::Double(s) => s.clone(),
        Frame::Verbatim { text, .. } => text.clone(),
        Frame::Int(i) => i.to_string(),
        Frame::Bool(b) => if *b { "(true)" } else { "(false)" }.into(),
        Frame::Bulk(None) | Frame::Array(None) | Frame::Null => String::new(),
        Frame::BigNumber(_) => "Unknown reply type: 13".into(),
        Frame::Array(Some(items)) | Frame::Set(items) | Frame::Push(items) => join(items),
        Frame::Map(pairs) => pairs
            .iter()
            .map(|(k, v)| format!("{} {}", raw(k), raw(v)))
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn join_args_quotes_only_what_needs_it() {
        let argv: Vec<String> = ["SET", "a b", "", "\"q", "x\ny\u{1}", "it's", "é"]
            .map(String::from)
            .into();
        let line = super::join_args(&argv);
        assert_eq!(line, r#"SET "a b" "" "\"q" "x\ny\x01" it's é"#);
        assert_eq!(super::split_args(&line), Some(argv));
    }

    proptest::proptest! {
        #[test]
        fn a_repr_is_read_back_by_split_args_as_one_argument(s in ".*") {
            proptest::prop_assert_eq!(super::split_args(&super::repr(&s)), Some(vec![s]));
        }

        #[test]
        fn join_args_is_read_back_by_split_args(argv in proptest::collection::vec(".*", 0..6)) {
            let line = super::join_args(&argv);
            proptest::prop_assert_eq!(super::split_args(&line), Some(argv));
        }
    }

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

    /// Bytes a real Redis 7.0.15 sent (`DEBUG PROTOCOL <type>`, after
    /// `HELLO 3` and without), and how its redis-cli printed them.
    const RESP3: &[(&[u8], &str)] = &[
        (b"_\r\n", "(nil)"),
        (b",3.141\r\n", "(double) 3.141"),
        (b"#t\r\n", "(true)"),
        (b"#f\r\n", "(false)"),
        (
            b"(1234567999999999999999999999999999999\r\n",
            "Unknown reply type: 13",
        ),
        (
            b"=29\r\ntxt:This is a verbatim\nstring\r\n",
            "This is a verbatim\nstring",
        ),
        (
            b"%3\r\n:0\r\n#f\r\n:1\r\n#t\r\n:2\r\n#f\r\n",
            "1# (integer) 0 => (false)\n2# (integer) 1 => (true)\n3# (integer) 2 => (false)",
        ),
        (
            b"~3\r\n:0\r\n:1\r\n:2\r\n",
            "1~ (integer) 0\n2~ (integer) 1\n3~ (integer) 2",
        ),
        (
            b">2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n",
            "1) \"server-cpu-usage\"\n2) (integer) 42",
        ),
        (b"%0\r\n", "(empty hash)"),
        (b"~0\r\n", "(empty set)"),
        (b">0\r\n", "(empty push)"),
    ];

    #[test]
    fn every_resp3_type_reads_back_encodes_and_prints_as_redis_cli_does() {
        for (bytes, cli) in RESP3 {
            let mut r: &[u8] = bytes;
            let f = read_frame(&mut r).unwrap();
            assert!(r.is_empty(), "{f:?}");
            assert_eq!(f.encode(), *bytes, "{f:?}");
            assert_eq!(f.wire_len(), bytes.len() as u64, "{f:?}");
            assert_eq!(f.to_cli(), *cli, "{f:?}");
            // Already RESP3: unchanged by a RESP3 connection.
            assert_eq!(f.clone().for_proto(Proto::Resp3), f);
        }
        let mut r: &[u8] = b"=29\r\ntxt:This is a verbatim\nstring\r\n";
        assert_eq!(
            read_frame(&mut r).unwrap(),
            Frame::verbatim("This is a verbatim\nstring")
        );
        for bad in [
            &b"#x\r\n"[..],
            b"_x\r\n",
            b"=3\r\ntxt\r\n",
            b"=5\r\ntxt-a\r\n",
            b"%1\r\n:1\r\n",
            b"|1\r\n:1\r\n:2\r\n",
        ] {
            let mut r = bad;
            assert!(read_frame(&mut r).is_err(), "{bad:?}");
        }
    }

    /// The same replies to a RESP2 connection, as the real server sent
    /// them: maps flattened, sets as arrays, doubles, big numbers and
    /// verbatim strings as bulk strings, booleans as integers.
    #[test]
    fn a_resp2_connection_gets_the_resp2_forms() {
        let resp2: &[(&[u8], &[u8])] = &[
            (b",3.141\r\n", b"$5\r\n3.141\r\n"),
            (b"#t\r\n", b":1\r\n"),
            (
                b"(1234567999999999999999999999999999999\r\n",
                b"$37\r\n1234567999999999999999999999999999999\r\n",
            ),
            (
                b"=29\r\ntxt:This is a verbatim\nstring\r\n",
                b"$25\r\nThis is a verbatim\nstring\r\n",
            ),
            (
                b"%3\r\n:0\r\n#f\r\n:1\r\n#t\r\n:2\r\n#f\r\n",
                b"*6\r\n:0\r\n:0\r\n:1\r\n:1\r\n:2\r\n:0\r\n",
            ),
            (b"~3\r\n:0\r\n:1\r\n:2\r\n", b"*3\r\n:0\r\n:1\r\n:2\r\n"),
            (b"_\r\n", b"$-1\r\n"),
        ];
        for (three, two) in resp2 {
            let mut r: &[u8] = three;
            let f = read_frame(&mut r).unwrap().for_proto(Proto::Resp2);
            assert_eq!(f.encode(), *two, "{f:?}");
            assert_eq!(f.wire_len(), two.len() as u64, "{f:?}");
        }
        // addReplyNull() and addReplyNullArray(): two nulls in RESP2, one
        // in RESP3, nested or not.
        let nulls = Frame::Array(Some(vec![Frame::Bulk(None), Frame::Array(None)]));
        assert_eq!(nulls.clone().for_proto(Proto::Resp2), nulls);
        assert_eq!(nulls.encode(), b"*2\r\n$-1\r\n*-1\r\n");
        assert_eq!(nulls.for_proto(Proto::Resp3).encode(), b"*2\r\n_\r\n_\r\n");
        // A map inside an array inside a map.
        let nested = Frame::map([(
            "a",
            Frame::Array(Some(vec![Frame::map([("b", Frame::Bulk(None))])])),
        )]);
        assert_eq!(
            nested.clone().for_proto(Proto::Resp2).encode(),
            b"*2\r\n$1\r\na\r\n*1\r\n*2\r\n$1\r\nb\r\n$-1\r\n"
        );
        assert_eq!(
            nested.for_proto(Proto::Resp3).encode(),
            b"%1\r\n$1\r\na\r\n*1\r\n%1\r\n$1\r\nb\r\n_\r\n"
        );
    }

    /// `COMMAND DOCS get` after `HELLO 3` on a real Redis 7.0.15, and its
    /// redis-cli's lines: a multi-line value starts on its own line, after
    /// `=> ` (trailing space kept).
    #[test]
    fn nested_maps_print_as_redis_cli_does() {
        let bytes: &[u8] = b"%1\r\n$3\r\nget\r\n%5\r\n$7\r\nsummary\r\n$22\r\nGet the value of a key\r\n\
            $5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n\
            $9\r\narguments\r\n*1\r\n%3\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n\
            $14\r\nkey_spec_index\r\n:0\r\n";
        let f = read_frame(&mut &bytes[..]).unwrap();
        assert_eq!(f.wire_len(), 217);
        let cli = [
            "1# \"get\" => ",
            "   1# \"summary\" => \"Get the value of a key\"",
            "   2# \"since\" => \"1.0.0\"",
            "   3# \"group\" => \"string\"",
            "   4# \"complexity\" => \"O(1)\"",
            "   5# \"arguments\" => ",
            "      1) 1# \"name\" => \"key\"",
            "         2# \"type\" => \"key\"",
            "         3# \"key_spec_index\" => (integer) 0",
        ];
        assert_eq!(f.to_cli(), cli.join("\n"));
        // Ten fields or more: the numbers are right-aligned, and an array
        // of such maps indents past its own numbers.
        let fields = (1..=10).map(|i| (format!("f{i}"), Frame::Int(i)));
        let masters = Frame::Array(Some(vec![Frame::map(fields)]));
        let shown = masters.to_cli();
        let lines: Vec<&str> = shown.lines().collect();
        assert_eq!(lines[0], "1)  1# \"f1\" => (integer) 1");
        assert_eq!(lines[1], "    2# \"f2\" => (integer) 2");
        assert_eq!(lines[9], "   10# \"f10\" => (integer) 10");
    }

    /// redis-cli's raw form (INFO, CLIENT INFO…): a verbatim string's text;
    /// a map's field and value on one line.
    #[test]
    fn raw_forms() {
        let info = Frame::verbatim("# Replication\r\nrole:master\r\n");
        assert_eq!(
            printed(&argv("INFO replication"), &info),
            "# Replication\\nrole:master"
        );
        let map = Frame::map([("appendonly", Frame::bulk("no"))]);
        assert_eq!(raw(&map), "appendonly no");
        assert_eq!(raw(&Frame::Bool(true)), "(true)");
        assert_eq!(raw(&Frame::Null), "");
        assert_eq!(raw(&Frame::Error("ERR x".into())), "ERR x\n");
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
        // An escape is one byte: two make one UTF-8 character.
        assert_eq!(split_args(r#""\xc3\xa9" "\xff""#).unwrap(), ["é", "ÿ"]);
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
