//! `CLIENT LIST` and `CLIENT INFO` (networking.c catClientInfoString()),
//! and the per-client bookkeeping they read: the socket's fd, when the
//! client connected and last did something, its last command, and the
//! buffer sizes clientsCron() keeps (clientsCronResizeQueryBuffer(),
//! clientsCronResizeOutputBuffer()).
//!
//! The sizes follow Redis 7.0.15 on x86_64 with jemalloc: a client record
//! is 768 bytes, a used query buffer 20480 (20474 usable), a reply buffer
//! 16384 until clientsCron() shrinks it. What the model cannot know: the
//! client's ephemeral port (a stand-in from Linux's range), the order of
//! more than five clients (clientsCron() rotates the list), and exactly
//! when within a 100 ms cron period a buffer shrinks.

use crate::proto::resp::Frame;

/// `PROTO_REPLY_CHUNK_BYTES`: a new client's reply buffer.
const REPLY_CHUNK: u64 = 16 * 1024;
/// `sizeof(client)` rounded to its jemalloc size class.
const CLIENT_STRUCT: u64 = 768;
/// A query buffer after its first read: `sdsMakeRoomForNonGreedy(qb,
/// PROTO_IOBUF_LEN)` takes a 20480-byte allocation, 20474 usable.
const QUERY_BUF_ALLOC: u64 = 20480;
const QUERY_BUF_USABLE: u64 = 20474;
/// The first fd a client gets: 0-2 stdio, 3-4 the module pipe, 5 epoll,
/// 6 the listening socket of the one bind address.
pub(super) const FIRST_CLIENT_FD: i32 = 7;

/// The query buffer's state (sds allocation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum QueryBuf {
    /// `sdsempty()` at creation: 4 usable bytes in an 8-byte allocation.
    Fresh,
    /// Read into at least once: 20474 usable.
    Used,
    /// Freed by clientsCron() after more than 2 s idle: 0 usable, 8 bytes.
    Shrunk,
    /// The master client's: trimmed by clientsCron() to the last chunk of
    /// the stream it read (`querybuf_peak`), this many bytes usable.
    Trimmed(u64),
}

impl QueryBuf {
    fn free(self) -> u64 {
        match self {
            QueryBuf::Fresh => 4,
            QueryBuf::Used => QUERY_BUF_USABLE,
            QueryBuf::Shrunk => 0,
            QueryBuf::Trimmed(n) => n,
        }
    }

    fn alloc(self) -> u64 {
        match self {
            QueryBuf::Used => QUERY_BUF_ALLOC,
            QueryBuf::Fresh | QueryBuf::Shrunk => 8,
            // An sds header of 3 bytes below 256, 5 above, and the NUL.
            QueryBuf::Trimmed(n) if n < 256 => size_class(3 + n + 1),
            QueryBuf::Trimmed(n) => size_class(5 + n + 1),
        }
    }
}

/// What CLIENT LIST shows of a connection beyond its flags.
#[derive(Clone, Debug)]
pub(super) struct ClientMeta {
    /// When it joined `server.clients` (linkClient(): the list's order).
    pub linked: u64,
    pub fd: i32,
    /// `client->ctime`, unix seconds.
    pub ctime: u64,
    /// `client->lastinteraction`, unix seconds: the last read, or write to
    /// a non-master client.
    pub last_interaction: u64,
    /// `client->lastcmd->fullname` (`client|list`), `None` before any
    /// command and after an unknown one.
    pub last_cmd: Option<&'static str>,
    pub query_buf: QueryBuf,
    /// `buf_usable_size` and `buf_peak`.
    pub rbs: u64,
    pub rbp: u64,
    /// When clientsCron() last reset `buf_peak`, in ms; `None` until its
    /// first visit (which always resets: the field starts in seconds and is
    /// compared with milliseconds).
    pub peak_reset_ms: Option<u64>,
    /// Reply bytes written in this pass of the event loop, not yet
    /// written to the socket: the buffer holds them together.
    pub unflushed: u64,
}

impl ClientMeta {
    /// createClient().
    pub fn new(fd: i32, now_s: u64) -> Self {
        Self {
            linked: 0,
            fd,
            ctime: now_s,
            last_interaction: now_s,
            last_cmd: None,
            query_buf: QueryBuf::Fresh,
            rbs: REPLY_CHUNK,
            rbp: REPLY_CHUNK,
            peak_reset_ms: None,
            unflushed: 0,
        }
    }

    /// A command was read (readQueryFromClient(), processCommand()'s
    /// look-up: an unknown command leaves `None`).
    pub fn read(&mut self, now_s: u64, cmd: Option<&'static str>) {
        self.last_interaction = now_s;
        self.query_buf = QueryBuf::Used;
        self.last_cmd = cmd;
    }

    /// A reply of `bytes` went into the reply buffer, with whatever else
    /// this pass of the event loop wrote there.
    pub fn wrote(&mut self, now_s: u64, bytes: u64) {
        self.last_interaction = now_s;
        self.unflushed += bytes;
    }

    /// The pass ends and the buffer goes to the socket
    /// (handleClientsWithPendingWrites()): `buf_peak` is the most the
    /// buffer held since the last reset, at most its size.
    pub fn flush(&mut self) {
        self.rbp = self.rbp.max(self.unflushed.min(self.rbs));
        self.unflushed = 0;
    }

    /// clientsCron()'s visit: the query buffer of a client idle more than
    /// 2 s is freed; the reply buffer shrinks to fit its peak (or grows
    /// when full), and the peak resets every 5 s.
    pub fn cron(&mut self, now_s: u64, now_ms: u64) {
        if self.query_buf == QueryBuf::Used && now_s.saturating_sub(self.last_interaction) > 2 {
            self.query_buf = QueryBuf::Shrunk;
        }
        if self.rbs / 2 >= 1024 && self.rbp < self.rbs / 2 {
            self.rbs = size_class((self.rbp + 1).max(1024));
        } else if self.rbs < REPLY_CHUNK && self.rbp == self.rbs {
            self.rbs = (self.rbs * 2).min(REPLY_CHUNK);
        }
        let due = self
            .peak_reset_ms
            .is_none_or(|t| now_ms.saturating_sub(t) >= 5000);
        if due {
            self.rbp = 0;
            self.peak_reset_ms = Some(now_ms);
        }
    }
}

/// jemalloc's size class for `n` bytes: 8, then multiples of 16 up to
/// 128, then four classes per doubling (160, 192, 224, 256, 320 …).
pub(super) fn size_class(n: u64) -> u64 {
    if n <= 8 {
        return 8;
    }
    if n <= 128 {
        return n.div_ceil(16) * 16;
    }
    let base = 1u64 << (63 - (n - 1).leading_zeros());
    let step = base / 4;
    n.div_ceil(step) * step
}

/// One line's fields that are not the connection's bookkeeping.
pub(super) struct Line<'a> {
    pub id: u64,
    pub addr: String,
    pub laddr: String,
    pub meta: &'a ClientMeta,
    pub name: &'a str,
    pub flags: String,
    pub sub: usize,
    pub psub: usize,
    /// Queued commands' `(Σ argument lengths, argc)`, inside MULTI.
    pub multi: Option<&'a [(u64, u64)]>,
    /// The command being run (CLIENT LIST's own caller): its request's
    /// length and its arguments' `(Σ lengths, count)`.
    pub running: Option<(u64, u64, u64)>,
    /// A replica's output in the replication buffer: `(oll, omem)`.
    pub repl_output: (u64, u64),
    pub user: &'a str,
    pub resp: u8,
}

impl Line<'_> {
    /// catClientInfoString().
    pub fn render(&self, now_s: u64) -> String {
        let m = self.meta;
        let (qbuf, argv_mem, argc) = self.running.unwrap_or((0, 0, 0));
        let qbuf_free = m.query_buf.free().saturating_sub(qbuf);
        let (multi, multi_mem, multi_slots) = match self.multi {
            None => (-1, 0, 0),
            Some(q) => {
                let mem: u64 = q.iter().map(|(len, argc)| len + 8 * argc).sum();
                let slots = if q.is_empty() {
                    0
                } else {
                    (q.len() as u64).next_power_of_two().max(2)
                };
                (q.len() as i64, mem, slots)
            }
        };
        let sub_slots = match self.sub {
            0 => 0,
            1..=4 => 4,
            // The fifth channel starts a rehash into a table twice the size.
            n => {
                let p = (n as u64).next_power_of_two();
                p + p / 2
            }
        };
        let (oll, omem) = self.repl_output;
        let tot_mem = CLIENT_STRUCT
            + m.query_buf.alloc()
            + m.rbs
            + argv_mem
            + 8 * argc
            + multi_mem
            + 24 * multi_slots
            + 24 * self.sub as u64
            + 8 * sub_slots
            // pubsubMemOverhead(): a list node per pattern.
            + 24 * self.psub as u64
            + omem;
        format!(
            "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db=0 sub={} psub={} ssub=0 multi={multi} qbuf={qbuf} qbuf-free={qbuf_free} argv-mem={argv_mem} multi-mem={multi_mem} rbs={} rbp={} obl=0 oll={oll} omem={omem} tot-mem={tot_mem} events=r cmd={} user={} redir=-1 resp={}\n",
            self.id,
            self.addr,
            self.laddr,
            m.fd,
            self.name,
            now_s.saturating_sub(m.ctime),
            now_s.saturating_sub(m.last_interaction),
            if self.flags.is_empty() {
                "N"
            } else {
                &self.flags
            },
            self.sub,
            self.psub,
            m.rbs,
            m.rbp,
            m.last_cmd.unwrap_or("NULL"),
            self.user,
            self.resp,
        )
    }
}

/// The reply: a bulk string in RESP2, a verbatim `txt` string in RESP3.
pub(super) fn reply(lines: String) -> Frame {
    Frame::verbatim(lines)
}

/// The lowest fd not in use (the kernel's rule), from the first client fd.
pub(super) fn lowest_free_fd(used: &std::collections::BTreeSet<i32>) -> i32 {
    let mut fd = FIRST_CLIENT_FD;
    for &u in used.range(FIRST_CLIENT_FD..) {
        if u != fd {
            break;
        }
        fd += 1;
    }
    fd
}

/// The full name a command line's look-up finds (`client|list`), found
/// before the arity check as in processCommand(); `None` when unknown.
pub(super) fn line_name(argv: &[String]) -> Option<&'static str> {
    use crate::proto::command::Table;
    let first = argv.first()?;
    let spec = argv
        .get(1)
        .and_then(|sub| Table::Redis.get(&format!("{first}|{sub}")))
        .or_else(|| Table::Redis.get(first))?;
    Some(spec.name)
}

/// A `CLIENT LIST` filter.
enum Filter {
    All,
    Type(super::client_command::TypeName),
    Ids(Vec<u64>),
}

impl super::Server {
    /// A client's command was read.
    pub(super) fn client_read(&mut self, conn: crate::sim::net::ConnId, cmd: Option<&'static str>) {
        let now = self.unixtime;
        if let Some(c) = self.clients.get_mut(&conn) {
            c.meta.read(now, cmd);
        }
    }

    /// A reply went to a client.
    pub(super) fn client_wrote(
        &mut self,
        conn: crate::sim::net::ConnId,
        reply: &crate::proto::Reply,
    ) {
        let now = self.unixtime;
        if let Some(c) = self.clients.get_mut(&conn) {
            if c.meta.unflushed == 0 {
                self.pending_writes.push(conn);
            }
            c.meta.wrote(now, reply.wire_size());
        }
    }

    /// The event loop's pass ends: each client written to sends its buffer
    /// (`server.clients_pending_write`).
    pub(super) fn flush_client_writes(&mut self) {
        if self.pending_writes.is_empty() {
            return;
        }
        // The list keeps its buffer from pass to pass.
        let mut pending = std::mem::take(&mut self.pending_writes);
        for conn in pending.drain(..) {
            if let Some(c) = self.clients.get_mut(&conn) {
                c.meta.flush();
            }
        }
        self.pending_writes = pending;
    }

    /// clientsCron()'s buffer resizing, every client every tick (it visits
    /// at least five clients per tick: all of them in a small deployment).
    pub(super) fn clients_cron(&mut self, now_ms: u64) {
        let now = self.unixtime;
        for c in self.clients.values_mut() {
            c.meta.cron(now, now_ms);
        }
        for r in &mut self.replicas {
            r.meta.cron(now, now_ms);
        }
        if let Some(m) = self.replica.as_mut().and_then(|s| s.master_meta.as_mut()) {
            m.cron(now, now_ms);
        }
        // Sockets closed without passing through free_client() (the master
        // link) give their fd back here.
        let held = self.clients.len()
            + self.replicas.len()
            + usize::from(self.replica.as_ref().is_some_and(|s| s.conn.is_some()));
        if self.fds.len() <= held {
            return;
        }
        let live: Vec<crate::sim::net::ConnId> = self
            .clients
            .keys()
            .copied()
            .chain(self.replicas.iter().map(|r| r.conn))
            .chain(self.replica.as_ref().and_then(|s| s.conn))
            .collect();
        self.fds.retain(|c, _| live.contains(c));
    }

    /// `CLIENT LIST [TYPE t] [ID id …]` and `CLIENT INFO`.
    pub(super) fn client_list_command(
        &mut self,
        host: &super::Host<'_>,
        me: crate::sim::net::NodeId,
        caller: crate::sim::net::ConnId,
        argv: &[String],
    ) -> crate::proto::Reply {
        use crate::proto::Reply;
        let info = argv[1].eq_ignore_ascii_case("info");
        let filter = if info {
            Filter::Ids(
                self.clients
                    .get(&caller)
                    .map(|c| vec![c.id])
                    .unwrap_or_default(),
            )
        } else {
            match argv.get(2).map(|a| a.to_ascii_lowercase()).as_deref() {
                None => Filter::All,
                Some("type") if argv.len() == 4 => {
                    match super::client_command::TypeName::parse(&argv[3]) {
                        Some(t) => Filter::Type(t),
                        None => {
                            return Reply::Error(format!("ERR Unknown client type '{}'", argv[3]));
                        }
                    }
                }
                Some("id") if argv.len() >= 4 => {
                    let mut ids = Vec::new();
                    for a in &argv[3..] {
                        match a.parse::<i64>() {
                            Ok(id) => ids.push(id),
                            Err(_) => return Reply::Error("ERR Invalid client ID".into()),
                        }
                    }
                    Filter::Ids(
                        ids.into_iter()
                            .filter(|&i| i > 0)
                            .map(|i| i as u64)
                            .collect(),
                    )
                }
                _ => return Reply::Error("ERR syntax error".into()),
            }
        };
        let rows = self.client_rows(host, me, caller, argv);
        let now = self.unixtime;
        let mut out = String::new();
        match filter {
            Filter::All => rows.iter().for_each(|(_, l)| out.push_str(&l.render(now))),
            Filter::Type(t) => rows
                .iter()
                .filter(|(kind, _)| *kind == t)
                .for_each(|(_, l)| out.push_str(&l.render(now))),
            Filter::Ids(ids) => {
                for id in ids {
                    if let Some((_, l)) = rows.iter().find(|(_, l)| l.id == id) {
                        out.push_str(&l.render(now));
                    }
                }
            }
        }
        let frame = reply(out);
        Reply::Frame(frame)
    }

    /// Every client, in the order they were linked: clients and replicas by
    /// connection (the model keeps them apart), then the master client.
    fn client_rows<'a>(
        &'a self,
        host: &super::Host<'_>,
        me: crate::sim::net::NodeId,
        caller: crate::sim::net::ConnId,
        argv: &[String],
    ) -> Vec<(super::client_command::TypeName, Line<'a>)> {
        use super::client_command::{TypeName, client_addr};
        let laddr = host.dir.addr(me);
        let mut rows: Vec<(crate::sim::net::ConnId, TypeName, Line<'a>)> = Vec::new();
        for (&conn, c) in &self.clients {
            let mut flags = String::new();
            let (sub, psub) = self.pubsub.counts(conn);
            if sub + psub > 0 {
                flags.push('P');
            }
            if c.multi.is_some() {
                flags.push('x');
            }
            if c.readonly {
                flags.push('r');
            }
            let running = (conn == caller).then(|| {
                let len: u64 = argv.iter().map(|a| a.len() as u64).sum();
                let request = crate::proto::Cmd::Line(argv.to_vec()).resp_len();
                (request, len, argv.len() as u64)
            });
            rows.push((
                conn,
                TypeName::Client(self.client_type(conn)),
                Line {
                    id: c.id,
                    addr: client_addr(host, c.peer, conn),
                    laddr: laddr.clone(),
                    meta: &c.meta,
                    name: c.name.as_deref().unwrap_or(""),
                    flags,
                    sub,
                    psub,
                    multi: c.multi.as_ref().map(super::multi::Multi::queued_sizes),
                    running,
                    repl_output: (0, 0),
                    user: "default",
                    resp: c.resp.version() as u8,
                },
            ));
        }
        for r in &self.replicas {
            let propagated = r.streaming() && self.master_repl_offset > r.psync_initial_offset;
            let repl_output = match (propagated, &self.backlog) {
                (true, Some(b)) => b.referenced(r.next_offset).unwrap_or((0, 0)),
                _ => (0, 0),
            };
            rows.push((
                r.conn,
                TypeName::Replica,
                Line {
                    id: r.id,
                    addr: client_addr(host, r.peer, r.conn),
                    laddr: laddr.clone(),
                    meta: &r.meta,
                    name: "",
                    flags: "S".into(),
                    sub: 0,
                    psub: 0,
                    multi: None,
                    running: None,
                    repl_output,
                    user: "default",
                    resp: 2,
                },
            ));
        }
        let mut out: Vec<(TypeName, Line<'a>)> = rows.into_iter().map(|(_, t, l)| (t, l)).collect();
        if let Some(side) = &self.replica
            && side.is_connected()
            && let (Some(id), Some(meta)) = (side.master_client_id, side.master_meta.as_ref())
        {
            out.push((
                TypeName::Master,
                Line {
                    id,
                    addr: self.master_addr.clone(),
                    laddr: client_addr(host, me, side.conn.unwrap_or_default()),
                    meta,
                    name: "",
                    flags: "M".into(),
                    sub: 0,
                    psub: 0,
                    multi: None,
                    running: None,
                    repl_output: (0, 0),
                    user: "(superuser)",
                    resp: 2,
                },
            ));
        }
        // The list's order: linkClient() appends each new client, and a
        // resurrected master client again (at most five clients are
        // listed in that order; clientsCron() rotates longer lists).
        out.sort_by_key(|(_, l)| l.meta.linked);
        out
    }

    /// The replica wrote to its master client (a REPLCONF ACK): the reply
    /// buffer's peak moves, its idle time does not (writes to a master
    /// client do not count as interaction).
    pub(super) fn master_client_wrote(&mut self, bytes: u64) {
        if let Some(m) = self.replica.as_mut().and_then(|s| s.master_meta.as_mut()) {
            m.rbp = m.rbp.max(bytes.min(m.rbs));
        }
    }

    /// A new client's bookkeeping, linked at the list's tail.
    pub(super) fn new_client_meta(&mut self, fd: i32) -> ClientMeta {
        self.link_seq += 1;
        ClientMeta {
            linked: self.link_seq,
            ..ClientMeta::new(fd, self.unixtime)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_classes_are_jemallocs() {
        let classes: Vec<u64> = [1, 18, 35, 138, 1024, 1025, 2081, 2561, 4097, 16384]
            .into_iter()
            .map(size_class)
            .collect();
        assert_eq!(
            classes,
            [8, 32, 48, 160, 1024, 1280, 2560, 3072, 5120, 16384]
        );
    }

    #[test]
    fn the_lowest_free_fd_is_taken() {
        let used: std::collections::BTreeSet<i32> = [7, 8, 10].into();
        assert_eq!(lowest_free_fd(&used), 9);
        assert_eq!(lowest_free_fd(&Default::default()), 7);
    }

    /// clientsCronResizeOutputBuffer(): the first visit resets the peak
    /// (16384 → 0), the second shrinks the buffer to 1024; a 2081-byte
    /// reply then peaks at 1024 (the buffer is full) and the next visit
    /// doubles it.
    #[test]
    fn reply_buffer_shrinks_after_two_visits_and_grows_when_full() {
        let mut m = ClientMeta::new(7, 100);
        m.cron(100, 100_100);
        assert_eq!((m.rbs, m.rbp), (16384, 0));
        m.cron(100, 100_200);
        assert_eq!((m.rbs, m.rbp), (1024, 0));
        m.wrote(100, 2000);
        m.wrote(100, 81);
        assert_eq!(m.rbp, 0, "still in this pass");
        m.flush();
        assert_eq!(m.rbp, 1024);
        m.cron(100, 100_300);
        assert_eq!(m.rbs, 2048);
    }

    use crate::redis::config::RedisConfig;
    use crate::redis::testing::Cli;
    use crate::time::ms;

    /// The line without its stand-in ephemeral port.
    fn line(cli: &mut Cli, cmd: &str) -> String {
        let text = match cli.reply(cmd) {
            Frame::Bulk(Some(t)) => t,
            other => panic!("{other:?}"),
        };
        let port = text.find(" laddr=").expect("laddr");
        let addr = text.find("addr=").expect("addr");
        let host_end = text[addr..port].rfind(':').expect("port") + addr;
        format!("{}{}", &text[..host_end], &text[port..])
    }

    /// catClientInfoString() for a fresh connection's first command, as a
    /// real 7.0.15 answers it: id 3 and fd 7, the request still in the
    /// query buffer (26 bytes of the 20474), the reply buffer not yet
    /// visited by clientsCron() (16384, peak 16384).
    #[test]
    fn client_info_of_a_fresh_connection() {
        let mut cli = Cli::new(RedisConfig::default());
        assert_eq!(
            line(&mut cli, "CLIENT INFO"),
            "id=3 addr=10.0.0.2 laddr=10.0.0.1:6379 fd=7 name= age=0 idle=0 flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=26 qbuf-free=20448 argv-mem=10 multi-mem=0 rbs=16384 rbp=16384 obl=0 oll=0 omem=0 tot-mem=37658 events=r cmd=client|info user=default redir=-1 resp=2\n"
        );
    }

    /// Another client as CLIENT LIST shows it: after SET it is idle with a
    /// used query buffer (tot-mem 22272) until more than 2 s have passed,
    /// then clientsCron() frees the buffer (1800); a transaction adds its
    /// queued commands (SET a 1 and INCR b: 29 + 21 bytes, two slots).
    #[test]
    fn idle_clients_and_transactions_as_real_redis_lists_them() {
        let mut cli = Cli::new(RedisConfig::default());
        cli.send("SET k v");
        let other = cli.h.connect(1, 0);
        cli.h.run_until(ms(1500));
        let mut lister = Cli {
            h: cli.h,
            conn: other,
        };
        let list = line(&mut lister, "CLIENT LIST ID 3");
        assert_eq!(
            list,
            "id=3 addr=10.0.0.2 laddr=10.0.0.1:6379 fd=7 name= age=1 idle=1 flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=20474 argv-mem=0 multi-mem=0 rbs=1024 rbp=0 obl=0 oll=0 omem=0 tot-mem=22272 events=r cmd=set user=default redir=-1 resp=2\n"
        );
        lister.h.run_until(ms(3200));
        let list = line(&mut lister, "CLIENT LIST ID 3");
        assert!(list.contains(" idle=3 "), "{list}");
        assert!(list.contains(" qbuf-free=0 "), "{list}");
        assert!(list.contains(" tot-mem=1800 "), "{list}");
        let mut cli = Cli {
            h: lister.h,
            conn: cli.conn,
        };
        cli.send("MULTI");
        cli.send("SET a 1");
        cli.send("INCR b");
        let mut lister = Cli {
            h: cli.h,
            conn: other,
        };
        let list = line(&mut lister, "CLIENT LIST ID 3");
        assert!(
            list.contains(" flags=x db=0 sub=0 psub=0 ssub=0 multi=2 qbuf=0 qbuf-free=20474 argv-mem=0 multi-mem=50 "),
            "{list}"
        );
        assert!(list.contains(" tot-mem=22370 events=r cmd=incr "), "{list}");
        // The lister is fd 8, id 4, and lists itself after client 3.
        let all = line(&mut lister, "CLIENT LIST");
        assert!(all.starts_with("id=3 "), "{all}");
        assert!(all.contains("\nid=4 addr=10.0.0.2:"), "{all}");
        assert!(all.contains(" laddr=10.0.0.1:6379 fd=8 "), "{all}");
    }

    /// The argument checks of clientCommand()'s LIST branch.
    #[test]
    fn client_list_filters_and_their_errors() {
        let mut cli = Cli::new(RedisConfig::default());
        assert_eq!(
            cli.send("CLIENT LIST TYPE bogus"),
            "ERR Unknown client type 'bogus'"
        );
        assert_eq!(cli.send("CLIENT LIST ID abc"), "ERR Invalid client ID");
        assert_eq!(cli.send("CLIENT LIST ID 1 abc"), "ERR Invalid client ID");
        assert_eq!(cli.reply("CLIENT LIST ID 0 99"), Frame::bulk(""));
        assert_eq!(cli.send("CLIENT LIST foo"), "ERR syntax error");
        assert_eq!(cli.send("CLIENT LIST TYPE normal x"), "ERR syntax error");
        assert_eq!(cli.reply("CLIENT LIST TYPE replica"), Frame::bulk(""));
        assert!(cli.send("CLIENT LIST TYPE NORMAL").starts_with("id=3 "));
        assert_eq!(
            cli.send("CLIENT INFO x"),
            "ERR wrong number of arguments for 'client|info' command"
        );
    }

    /// clientsCronResizeQueryBuffer(): freed once idle is more than 2 s.
    #[test]
    fn query_buffer_is_freed_after_two_idle_seconds() {
        let mut m = ClientMeta::new(7, 100);
        m.read(100, Some("set"));
        m.cron(102, 102_000);
        assert_eq!(m.query_buf, QueryBuf::Used);
        m.cron(103, 103_000);
        assert_eq!(m.query_buf, QueryBuf::Shrunk);
    }
}
