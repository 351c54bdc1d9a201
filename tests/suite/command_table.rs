//! Redis 7.0.15's command tables against real processes. Both tests start
//! their own redis-server and redis-sentinel on 127.0.0.1 (ports 27060 to
//! 27065), in a private temporary directory, and stop them by PID however
//! the test ends; they are `#[ignore]`d, as they need Redis installed.
//!
//! [`tables_match_real_redis`] reads `COMMAND` (RESP3) from both and
//! requires src/proto/command/table.rs (name, arity, flags, legacy key
//! range) and src/proto/command/info.rs (ACL categories, tips, key specs)
//! to say exactly the same. With `REDSIM_COMMAND_TABLE=print` it prints
//! both files' Rust source instead, each between `// ===== begin <path>`
//! and `// ===== end <path>` lines, formatted by rustfmt when it is on
//! the PATH. From the repository's root, this regenerates both files:
//!
//! ```text
//! REDSIM_COMMAND_TABLE=print cargo test --release --test suite command_table::tables -- --ignored --nocapture \
//!     | awk '/^\/\/ ===== end /{f=""} f{print > f} /^\/\/ ===== begin /{f=$4}'
//! ```
//!
//! [`command_replies_match_real_redis`] sends the same `COMMAND` lines to
//! the real processes and to simulated ones, in RESP2 and RESP3, and
//! requires the same bytes; the replies whose order comes from Redis's
//! hash tables (`COMMAND`, `COMMAND LIST`, a container's subcommands) are
//! compared as sets.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::rc::Rc;
use std::time::{Duration, Instant};

use redsim::conform::endpoint::Endpoint;
use redsim::conform::procs::{Launch, Procs};
use redsim::conform::resp::Conn;
use redsim::proto::addr::Directory;
use redsim::proto::command::{
    BeginSearch, CommandInfo, CommandSpec, FindKeys, Flags, KeySpec, Table,
};
use redsim::proto::resp::{Frame, split_args};
use redsim::proto::{Cmd, Msg};
use redsim::redis::RedisNode;
use redsim::redis::config::RedisConfig;
use redsim::sentinel::{SentinelConf, SentinelNode};
use redsim::sim::Node;
use redsim::sim::net::ConnId;
use redsim::sim::testkit::{Harness, Probe};

/// Commands commands.c flags `CMD_MAY_REPLICATE`, which `COMMAND` hides
/// (addReplyFlagsForCommand()).
const MAY_REPLICATE: &[&str] = &["eval", "evalsha", "fcall", "pfcount", "publish", "spublish"];

/// A real redis-server and redis-sentinel, stopped (by PID, with their
/// process groups) when dropped, and the directory they run in.
struct Real {
    server: Conn,
    sentinel: Conn,
    _procs: Procs,
    _dir: tempfile::TempDir,
}

impl Real {
    /// Starts both: the server on `port`, the Sentinel on `port + 1`,
    /// monitoring a master at `port + 2` where nothing listens.
    fn start(port: u16) -> Real {
        let program = |name: &str| {
            redsim::conform::find_program(None, name).unwrap_or_else(|| {
                panic!("this test needs {name} (apt-get install redis-server redis-sentinel)")
            })
        };
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().to_str().expect("a UTF-8 path").to_string();
        let sentinel_conf = dir.path().join("sentinel.conf");
        std::fs::write(
            &sentinel_conf,
            format!(
                "port {}\nbind 127.0.0.1\ndir {path}\nsentinel monitor m 127.0.0.1 {} 1\n",
                port + 1,
                port + 2
            ),
        )
        .expect("sentinel.conf written");
        let mut procs = Procs::default();
        let launches = [
            Launch {
                program: program("redis-server"),
                args: [
                    "--port",
                    &port.to_string(),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    &path,
                ]
                .map(String::from)
                .to_vec(),
                env: Vec::new(),
            },
            Launch {
                program: program("redis-sentinel"),
                args: vec![sentinel_conf.to_str().expect("UTF-8").to_string()],
                env: Vec::new(),
            },
        ];
        for (n, l) in launches.iter().enumerate() {
            let log = dir.path().join(format!("{n}.log"));
            procs.spawn(n, l, Some(&log)).expect("started");
        }
        let server = connect(port, &mut procs, 0);
        let sentinel = connect(port + 1, &mut procs, 1);
        Real {
            server,
            sentinel,
            _procs: procs,
            _dir: dir,
        }
    }
}

/// A connection to a process that just started, once it answers PING.
fn connect(port: u16, procs: &mut Procs, n: usize) -> Conn {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(mut c) = Conn::connect(&Endpoint::loopback(port), Duration::from_secs(10))
            && c.call(&["PING"])
                .is_ok_and(|f| f == Frame::Simple("PONG".into()))
        {
            return c;
        }
        if let Some(status) = procs.exited(n) {
            panic!("the process on port {port} exited: {status}");
        }
        assert!(Instant::now() < deadline, "nothing answers on port {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn call(c: &mut Conn, line: &str) -> Frame {
    let argv = split_args(line).expect("balanced quotes");
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    c.call(&argv).unwrap_or_else(|e| panic!("{line}: {e}"))
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_string().into_boxed_str())
}

fn text(f: &Frame) -> &str {
    match f {
        Frame::Simple(s) | Frame::Bulk(Some(s)) => s,
        f => panic!("not a string: {f:?}"),
    }
}

fn int(f: &Frame) -> i32 {
    match f {
        Frame::Int(n) => i32::try_from(*n).expect("small"),
        f => panic!("not an integer: {f:?}"),
    }
}

fn set(f: &Frame) -> &[Frame] {
    match f {
        Frame::Set(items) => items,
        f => panic!("not a set: {f:?}"),
    }
}

/// The names of a set of status replies, space separated; none may have
/// a space of its own.
fn words(f: &Frame) -> &'static str {
    let words: Vec<&str> = set(f)
        .iter()
        .map(|w| match w {
            Frame::Simple(s) | Frame::Bulk(Some(s)) if !s.is_empty() && !s.contains(' ') => {
                s.as_str()
            }
            w => panic!("not a one-word name: {w:?}"),
        })
        .collect();
    leak(&words.join(" "))
}

/// A map's fields, which must be exactly `names`, in order.
fn fields<'a>(f: &'a Frame, names: &[&str]) -> Vec<&'a Frame> {
    let Frame::Map(pairs) = f else {
        panic!("not a map: {f:?}")
    };
    let keys: Vec<&str> = pairs.iter().map(|(k, _)| text(k)).collect();
    assert_eq!(keys, names, "the fields of {f:?}");
    pairs.iter().map(|(_, v)| v).collect()
}

/// A `{type, spec}` map: the type and the spec's fields.
fn typed(f: &Frame) -> (&str, &Frame) {
    let v = fields(f, &["type", "spec"]);
    (text(v[0]), v[1])
}

/// One key spec of a RESP3 `COMMAND` entry.
fn key_spec(f: &Frame) -> KeySpec {
    let Frame::Map(pairs) = f else {
        panic!("not a map: {f:?}")
    };
    let (notes, v) = if pairs.len() == 4 {
        let v = fields(f, &["notes", "flags", "begin_search", "find_keys"]);
        (Some(leak(text(v[0]))), v[1..].to_vec())
    } else {
        (None, fields(f, &["flags", "begin_search", "find_keys"]))
    };
    let begin_search = match typed(v[1]) {
        ("unknown", spec) => {
            fields(spec, &[]);
            BeginSearch::Unknown
        }
        ("index", spec) => BeginSearch::Index(int(fields(spec, &["index"])[0])),
        ("keyword", spec) => {
            let s = fields(spec, &["keyword", "startfrom"]);
            BeginSearch::Keyword(leak(text(s[0])), int(s[1]))
        }
        (t, _) => panic!("begin_search type {t}"),
    };
    let find_keys = match typed(v[2]) {
        ("unknown", spec) => {
            fields(spec, &[]);
            FindKeys::Unknown
        }
        ("range", spec) => {
            let s = fields(spec, &["lastkey", "keystep", "limit"]);
            FindKeys::Range(int(s[0]), int(s[1]), int(s[2]))
        }
        ("keynum", spec) => {
            let s = fields(spec, &["keynumidx", "firstkey", "keystep"]);
            FindKeys::Keynum(int(s[0]), int(s[1]), int(s[2]))
        }
        (t, _) => panic!("find_keys type {t}"),
    };
    KeySpec {
        notes,
        flags: words(v[0]),
        begin_search,
        find_keys,
    }
}

/// A RESP3 `COMMAND` entry and its subcommands' (addReplyCommandInfo()),
/// as table entries.
fn entries(f: &Frame, out: &mut Vec<(CommandSpec, CommandInfo)>) {
    let Frame::Array(Some(v)) = f else {
        panic!("not an entry: {f:?}")
    };
    assert_eq!(v.len(), 10, "{f:?}");
    let name = leak(text(&v[0]));
    let mut flags = Flags::NONE;
    for w in words(&v[2]).split_whitespace() {
        let (flag, _) = Flags::NAMES
            .iter()
            .find(|(_, n)| *n == w)
            .unwrap_or_else(|| panic!("{name}: flag {w} is not modelled"));
        assert_ne!(*flag, Flags::MAY_REPLICATE, "COMMAND hides may_replicate");
        flags = flags | *flag;
    }
    if MAY_REPLICATE.contains(&name) {
        flags = flags | Flags::MAY_REPLICATE;
    }
    let spec = CommandSpec {
        name,
        arity: int(&v[1]),
        flags,
        first_key: int(&v[3]),
        last_key: int(&v[4]),
        key_step: int(&v[5]),
    };
    let specs: Vec<KeySpec> = set(&v[8]).iter().map(key_spec).collect();
    let info = CommandInfo {
        name,
        categories: words(&v[6]),
        tips: words(&v[7]),
        key_specs: Box::leak(specs.into_boxed_slice()),
    };
    out.push((spec, info));
    match &v[9] {
        // addReplyCommandSubCommands(): an empty set without subcommands.
        Frame::Set(s) if s.is_empty() => {}
        Frame::Array(Some(subs)) if !subs.is_empty() => {
            for s in subs {
                entries(s, out);
            }
        }
        f => panic!("{name}: subcommands {f:?}"),
    }
}

/// Every command a real process lists, sorted by name.
fn read_table(c: &mut Conn) -> Vec<(CommandSpec, CommandInfo)> {
    call(c, "HELLO 3");
    let Frame::Array(Some(top)) = call(c, "COMMAND") else {
        panic!("COMMAND is an array")
    };
    assert_eq!(call(c, "COMMAND COUNT"), Frame::Int(top.len() as i64));
    let mut all = Vec::new();
    for e in &top {
        entries(e, &mut all);
    }
    all.sort_by(|a, b| a.0.name.cmp(b.0.name));
    all
}

/// What differs between the table and the real process, one line each.
fn differences(table: Table, real: &[(CommandSpec, CommandInfo)]) -> Vec<String> {
    let mut out = Vec::new();
    let ours: Vec<&str> = table.specs().iter().map(|s| s.name).collect();
    let theirs: Vec<&str> = real.iter().map(|(s, _)| s.name).collect();
    if ours != theirs {
        let (a, b): (BTreeSet<_>, BTreeSet<_>) =
            (ours.into_iter().collect(), theirs.into_iter().collect());
        out.push(format!(
            "{table:?}: only in the table {:?}, only in Redis {:?}",
            a.difference(&b).collect::<Vec<_>>(),
            b.difference(&a).collect::<Vec<_>>()
        ));
        return out;
    }
    for (spec, info) in real {
        let s = table.get(spec.name).expect("same names");
        if s != spec {
            out.push(format!("{table:?}: table {s:?}, Redis {spec:?}"));
        }
        let i = table.info(s);
        if i != info {
            out.push(format!("{table:?}: info {i:?}, Redis {info:?}"));
        }
    }
    out
}

const TABLE_HEADER: &str = "//! Redis 7.0.15's command tables, as its `COMMAND` reply gives them: name
//! (`parent|sub` for subcommands), arity, flags and the legacy key range.
//! `COMMAND` hides `may_replicate`; commands.c gives it to PFCOUNT,
//! PUBLISH, SPUBLISH, EVAL, EVALSHA and FCALL.
//! Sorted by name for binary search. Generated, with info.rs, by
//! `REDSIM_COMMAND_TABLE=print cargo test --release --test suite command_table::tables -- --ignored --nocapture`
//! (`tables_match_real_redis` in tests/suite/command_table.rs, which needs
//! redis-server and redis-sentinel and otherwise checks both files; its
//! header shows how to write the printed files back).

use super::{CommandSpec, c, f};
";

const INFO_HEADER: &str = "//! What Redis 7.0.15's `COMMAND` says of each command beyond table.rs:
//! ACL categories, tips and key specs (server.c addReplyCommandInfo()), as
//! a real redis-server and redis-sentinel list them, one entry per entry
//! of table.rs and in its order. Categories, tips and key flags are
//! space-separated names, in the order `COMMAND` gives them. Generated,
//! with table.rs, by
//! `REDSIM_COMMAND_TABLE=print cargo test --release --test suite command_table::tables -- --ignored --nocapture`
//! (`tables_match_real_redis` in tests/suite/command_table.rs, which needs
//! redis-server and redis-sentinel and otherwise checks both files; its
//! header shows how to write the printed files back).

";

/// table.rs, from what the real processes list.
fn table_source(
    redis: &[(CommandSpec, CommandInfo)],
    sentinel: &[(CommandSpec, CommandInfo)],
) -> String {
    let mut s = TABLE_HEADER.to_string();
    let statics = [
        (
            "/// Every command of a Redis server (server.c `redisCommandTable`).\npub static REDIS",
            redis,
        ),
        (
            "/// The commands a Sentinel has: those of `redisCommandTable` flagged\n/// `CMD_SENTINEL` (server.c populateCommandStructure()).\npub static SENTINEL",
            sentinel,
        ),
    ];
    for (head, entries) in statics {
        s.push_str(&format!("\n{head}: &[CommandSpec] = &[\n"));
        for (spec, _) in entries {
            // COMMAND's order, then the hidden may_replicate.
            let mut flags: Vec<String> = Flags::NAMES
                .iter()
                .filter(|(f, _)| *f != Flags::MAY_REPLICATE && spec.flags.contains(*f))
                .map(|(_, n)| n.to_ascii_uppercase())
                .collect();
            if spec.flags.contains(Flags::MAY_REPLICATE) {
                flags.push("MAY_REPLICATE".into());
            }
            s.push_str(&format!(
                "    c({:?}, {}, f!({}), {}, {}, {}),\n",
                spec.name,
                spec.arity,
                flags.join(" "),
                spec.first_key,
                spec.last_key,
                spec.key_step
            ));
        }
        s.push_str("];\n");
    }
    s
}

/// info.rs, from what the real processes list.
fn info_source(
    redis: &[(CommandSpec, CommandInfo)],
    sentinel: &[(CommandSpec, CommandInfo)],
) -> String {
    let all = || redis.iter().chain(sentinel).flat_map(|(_, i)| i.key_specs);
    let mut uses = Vec::new();
    let begin: Vec<&str> = [
        all()
            .any(|k| matches!(k.begin_search, BeginSearch::Index(_)))
            .then_some("Index"),
        all()
            .any(|k| matches!(k.begin_search, BeginSearch::Keyword(..)))
            .then_some("Keyword"),
    ]
    .into_iter()
    .flatten()
    .collect();
    let find: Vec<&str> = [
        all()
            .any(|k| matches!(k.find_keys, FindKeys::Keynum(..)))
            .then_some("Keynum"),
        all()
            .any(|k| matches!(k.find_keys, FindKeys::Range(..)))
            .then_some("Range"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !begin.is_empty() {
        uses.push(format!(
            "use super::BeginSearch::{{{}}};\n",
            begin.join(", ")
        ));
    }
    if !find.is_empty() {
        uses.push(format!("use super::FindKeys::{{{}}};\n", find.join(", ")));
    }
    let mut names = Vec::new();
    if all().any(|k| k.begin_search == BeginSearch::Unknown) {
        names.push("BeginSearch");
    }
    names.push("CommandInfo");
    if all().any(|k| k.find_keys == FindKeys::Unknown) {
        names.push("FindKeys");
    }
    names.push("i");
    if all().any(|k| k.notes.is_none()) {
        names.push("k");
    }
    if all().any(|k| k.notes.is_some()) {
        names.push("kn");
    }
    uses.push(format!("use super::{{{}}};\n", names.join(", ")));
    let mut s = INFO_HEADER.to_string();
    for u in uses {
        s.push_str(&u);
    }
    let statics = [
        (
            "/// Every command of a Redis server.\n#[rustfmt::skip]\npub static REDIS",
            redis,
        ),
        (
            "/// The commands a Sentinel has.\n#[rustfmt::skip]\npub static SENTINEL",
            sentinel,
        ),
    ];
    for (head, entries) in statics {
        s.push_str(&format!("\n{head}: &[CommandInfo] = &[\n"));
        for (_, info) in entries {
            // One line per command, and one per key spec when that would be
            // wider than rustfmt's 100 columns.
            let specs: Vec<String> = info.key_specs.iter().map(key_spec_source).collect();
            let head = format!(
                "    i({:?}, {:?}, {:?}, &[",
                info.name, info.categories, info.tips
            );
            let line = format!("{head}{}]),", specs.join(", "));
            if line.len() <= 100 || specs.is_empty() {
                s.push_str(&line);
                s.push('\n');
            } else {
                s.push_str(&head);
                s.push('\n');
                for spec in specs {
                    s.push_str(&format!("        {spec},\n"));
                }
                s.push_str("    ]),\n");
            }
        }
        s.push_str("];\n");
    }
    s
}

fn key_spec_source(k: &KeySpec) -> String {
    let begin = match k.begin_search {
        BeginSearch::Unknown => "BeginSearch::Unknown".to_string(),
        BeginSearch::Index(pos) => format!("Index({pos})"),
        BeginSearch::Keyword(keyword, startfrom) => format!("Keyword({keyword:?}, {startfrom})"),
    };
    let find = match k.find_keys {
        FindKeys::Unknown => "FindKeys::Unknown".to_string(),
        FindKeys::Range(lastkey, keystep, limit) => format!("Range({lastkey}, {keystep}, {limit})"),
        FindKeys::Keynum(keynumidx, firstkey, keystep) => {
            format!("Keynum({keynumidx}, {firstkey}, {keystep})")
        }
    };
    match k.notes {
        Some(notes) => format!("kn({notes:?}, {:?}, {begin}, {find})", k.flags),
        None => format!("k({:?}, {begin}, {find})", k.flags),
    }
}

/// `source` as rustfmt (edition 2024, as `cargo fmt` runs it) leaves it;
/// unchanged when rustfmt is not on the PATH.
fn rustfmt(source: String) -> String {
    let Ok(mut child) = Command::new("rustfmt")
        .args(["--edition", "2024", "--emit", "stdout"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
    else {
        return source;
    };
    let mut stdin = child.stdin.take().expect("piped");
    let input = source.clone();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().expect("rustfmt runs");
    writer.join().expect("writer").expect("written");
    if !out.status.success() {
        return source;
    }
    String::from_utf8(out.stdout).expect("UTF-8")
}

#[test]
#[ignore = "needs redis-server and redis-sentinel"]
fn tables_match_real_redis() {
    let mut real = Real::start(27060);
    let redis = read_table(&mut real.server);
    let sentinel = read_table(&mut real.sentinel);
    if std::env::var("REDSIM_COMMAND_TABLE").as_deref() == Ok("print") {
        for (path, source) in [
            (
                "src/proto/command/table.rs",
                table_source(&redis, &sentinel),
            ),
            ("src/proto/command/info.rs", info_source(&redis, &sentinel)),
        ] {
            println!("// ===== begin {path}");
            print!("{}", rustfmt(source));
            println!("// ===== end {path}");
        }
        return;
    }
    let mut bad = differences(Table::Redis, &redis);
    bad.extend(differences(Table::Sentinel, &sentinel));
    assert!(
        bad.is_empty(),
        "the command tables differ from Redis 7.0.15 (regenerate them: see tests/suite/command_table.rs):\n{}",
        bad.join("\n")
    );
}

/// A simulated process (node 0) and a client connection to it.
struct Sim<N: Node<Msg = Msg>> {
    h: Harness<N>,
    client: u32,
    conn: ConnId,
}

impl<N: Node<Msg = Msg>> Sim<N> {
    /// `node` next to `peers` silent probes, the last of them the client.
    fn new(node: N, peers: u32) -> Self {
        let probes = (0..peers).map(|_| ("peer", Probe::silent())).collect();
        let mut h = Harness::single("node-0", node, probes);
        let client = peers;
        let conn = h.connect(client, 0);
        Sim { h, client, conn }
    }

    /// The reply to `line`, as it goes on the wire.
    fn reply(&mut self, line: &str) -> Frame {
        let argv = split_args(line).expect("balanced quotes");
        let mark = self.h.mark();
        self.h
            .send(self.client, self.conn, Msg::Cmd(Cmd::Line(argv)));
        let replies: Vec<Frame> = self
            .h
            .sent_since(mark, 0)
            .into_iter()
            .filter_map(|s| match s.msg {
                Msg::Reply(r) if s.to == self.client => r.to_frame(),
                _ => None,
            })
            .collect();
        assert_eq!(replies.len(), 1, "{line}: {replies:?}");
        replies.into_iter().next().expect("one")
    }
}

fn directory(n: usize) -> Rc<Directory> {
    Rc::new(Directory {
        names: (0..n).map(|i| format!("node-{i}")).collect(),
        hosts: (1..=n).map(|i| format!("10.0.0.{i}")).collect(),
        ports: vec![6379; n],
        published: Vec::new(),
    })
}

/// How two replies are compared.
#[derive(Clone, Copy, Debug)]
enum Order {
    /// Byte for byte.
    Exact,
    /// An array of `COMMAND` entries, each container's subcommands too,
    /// in any order (Redis's hash order).
    Entries,
    /// An array of names in any order.
    Names,
}

/// `f` with what comes in hash order sorted.
fn normalised(f: Frame, order: Order) -> Frame {
    fn entry(f: Frame) -> Frame {
        match f {
            Frame::Array(Some(mut fields)) if fields.len() == 10 => {
                let subs = std::mem::replace(&mut fields[9], Frame::Null);
                fields[9] = match subs {
                    Frame::Array(Some(items)) => sorted(items.into_iter().map(entry).collect()),
                    other => other,
                };
                Frame::Array(Some(fields))
            }
            other => other,
        }
    }
    fn sorted(mut items: Vec<Frame>) -> Frame {
        items.sort_by_key(Frame::encode);
        Frame::Array(Some(items))
    }
    match (order, f) {
        (Order::Entries, Frame::Array(Some(items))) => {
            sorted(items.into_iter().map(entry).collect())
        }
        (Order::Names, Frame::Array(Some(items))) => sorted(items),
        (_, f) => f,
    }
}

/// Each line's reply from `real` and `sim`, in RESP2 then RESP3: the
/// lines whose replies differ.
fn compare<N: Node<Msg = Msg>>(
    real: &mut Conn,
    sim: &mut Sim<N>,
    lines: &[(&str, Order)],
) -> Vec<String> {
    let mut bad = Vec::new();
    for proto in ["2", "3"] {
        call(real, &format!("HELLO {proto}"));
        sim.reply(&format!("HELLO {proto}"));
        for &(line, order) in lines {
            let theirs = normalised(call(real, line), order).encode();
            let ours = normalised(sim.reply(line), order).encode();
            if theirs != ours {
                bad.push(format!(
                    "RESP{proto} {line}:\n  Redis:  {}\n  redsim: {}",
                    redsim::proto::resp::repr(&theirs),
                    redsim::proto::resp::repr(&ours)
                ));
            }
        }
    }
    bad
}

/// Argument lists for `COMMAND GETKEYS` of `spec`: as few arguments as
/// its arity allows and a few more, each all names, all numbers, or both
/// in turn.
fn getkeys_lines(spec: &CommandSpec) -> Vec<String> {
    let (parent, sub) = match spec.name.split_once('|') {
        Some((p, s)) => (p, Some(s)),
        None => (spec.name, None),
    };
    let fixed = usize::from(sub.is_some()) + 1;
    let counts = if spec.arity > 0 {
        vec![spec.arity as usize]
    } else {
        let min = spec.arity.unsigned_abs() as usize;
        vec![min, min + 1, min + 3, min + 4]
    };
    let mut lines = Vec::new();
    for n in counts {
        for fill in 0..3 {
            let args: Vec<String> = (fixed..n)
                .map(|i| match (fill, i % 2) {
                    (0, _) | (2, 0) => format!("k{i}"),
                    _ => "2".to_string(),
                })
                .collect();
            for cmd in ["GETKEYS", "GETKEYSANDFLAGS"] {
                let mut line = format!("COMMAND {cmd} {parent}");
                if let Some(sub) = sub {
                    line.push_str(&format!(" {sub}"));
                }
                for a in &args {
                    line.push_str(&format!(" {a}"));
                }
                lines.push(line);
            }
        }
    }
    lines
}

#[test]
#[ignore = "needs redis-server and redis-sentinel"]
fn command_replies_match_real_redis() {
    let mut real = Real::start(27063);
    let mut server = Sim::new(
        RedisNode::new("node-0".into(), directory(2), RedisConfig::default(), None),
        1,
    );
    let mut lines = vec![
        ("COMMAND COUNT", Order::Exact),
        (
            "COMMAND INFO get set mset eval cluster|slots client|kill",
            Order::Exact,
        ),
        ("COMMAND INFO nosuchcommand", Order::Exact),
        ("COMMAND LIST FILTERBY ACLCAT dangerous", Order::Names),
        ("COMMAND GETKEYS set k v", Order::Exact),
        ("COMMAND HELP", Order::Exact),
        ("COMMAND", Order::Entries),
    ];
    lines.extend([
        ("command help", Order::Exact),
        ("COMMAND INFO", Order::Entries),
        (
            "COMMAND INFO config CONFIG|GET get|x a|b|c ''",
            Order::Entries,
        ),
        ("COMMAND LIST", Order::Names),
        ("COMMAND LIST FILTERBY PATTERN *|get*", Order::Names),
        ("COMMAND LIST FILTERBY pattern CONFIG*", Order::Names),
        ("COMMAND LIST FILTERBY ACLCAT nosuch", Order::Exact),
        ("COMMAND LIST FILTERBY ACLCAT @read", Order::Exact),
        ("COMMAND LIST FILTERBY MODULE x", Order::Exact),
        ("COMMAND LIST FILTERBY x y", Order::Exact),
        ("COMMAND LIST FILTERBY PATTERN", Order::Exact),
        ("COMMAND LIST x", Order::Exact),
        ("COMMAND COUNT x", Order::Exact),
        ("COMMAND NOSUCH", Order::Exact),
        ("COMMAND GETKEYS", Order::Exact),
        ("COMMAND GETKEYS nosuch a", Order::Exact),
        ("COMMAND GETKEYS config nosuch x", Order::Exact),
        ("COMMAND GETKEYS CONFIG GET x", Order::Exact),
        ("COMMAND GETKEYS config|get x y", Order::Exact),
        ("COMMAND GETKEYS OBJECT Encoding k", Order::Exact),
        ("COMMAND GETKEYS object encoding|x k", Order::Exact),
        ("COMMAND GETKEYS Set k v", Order::Exact),
        ("COMMAND GETKEYS ping a", Order::Exact),
        ("COMMAND GETKEYS get a b", Order::Exact),
        ("COMMAND GETKEYS mset a 1 b", Order::Exact),
        ("COMMAND GETKEYS zunionstore d 2 a b", Order::Exact),
        ("COMMAND GETKEYS eval s 1 k", Order::Exact),
        (
            "COMMAND GETKEYS xread COUNT 2 STREAMS a b 0 0",
            Order::Exact,
        ),
        ("COMMAND GETKEYSANDFLAGS smove a b m", Order::Exact),
        (
            "COMMAND GETKEYSANDFLAGS georadius k 0 0 1 m STORE d",
            Order::Exact,
        ),
    ]);
    let mut bad = compare(&mut real.server, &mut server, &lines);

    // Every command's GETKEYS and GETKEYSANDFLAGS, where redsim answers.
    call(&mut real.server, "HELLO 2");
    server.reply("HELLO 2");
    let (mut answered, mut refused) = (0, 0);
    for spec in Table::Redis.specs() {
        for line in getkeys_lines(spec) {
            let ours = server.reply(&line);
            if matches!(&ours, Frame::Error(e) if e.starts_with("ERR redsim")) {
                refused += 1;
                continue;
            }
            answered += 1;
            let theirs = call(&mut real.server, &line);
            if theirs != ours {
                bad.push(format!("{line}: Redis {theirs:?}, redsim {ours:?}"));
            }
        }
    }
    assert!(
        answered > 10 * refused,
        "{answered} answered, {refused} refused"
    );

    let mut sentinel = Sim::new(
        SentinelNode::new("node-0".into(), directory(3), SentinelConf::new(1)),
        2,
    );
    bad.extend(compare(
        &mut real.sentinel,
        &mut sentinel,
        &[
            ("COMMAND COUNT", Order::Exact),
            (
                "COMMAND INFO ping sentinel|masters nosuchcommand",
                Order::Exact,
            ),
            ("COMMAND LIST FILTERBY ACLCAT dangerous", Order::Names),
            ("COMMAND GETKEYS ping x", Order::Exact),
            ("COMMAND GETKEYS get k", Order::Exact),
            ("COMMAND HELP", Order::Exact),
            ("COMMAND", Order::Entries),
        ],
    ));
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn the_table_files_name_this_test() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for file in ["src/proto/command/table.rs", "src/proto/command/info.rs"] {
        let text = std::fs::read_to_string(root.join(file)).expect("readable");
        assert!(
            text.contains("tests/suite/command_table.rs"),
            "{file} names the test that regenerates it"
        );
    }
}
