//! The scenario's `[[command]]` lines sent to the real processes: each at
//! its time, on one connection per (session, node) as the operator's
//! redis-cli sessions keep them in the simulator, with the simulated
//! addresses in its arguments replaced by the real ones; each reply read
//! back as a [`Frame`] and its real addresses mapped back to the simulated
//! ones, so that it compares with the model's.

use std::collections::{BTreeMap, VecDeque};
use std::io::BufRead;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::history::{CommandLine, Exchange};
use crate::proto::inbox::{Arrival, Inbox, enters_subscribed_mode};
use crate::proto::resp::{Frame, read_frame};
use crate::time::Micros;

use super::endpoint::Endpoint;
use super::resp::{Conn, encode};

/// Each node's simulated address and the real one it runs at.
#[derive(Clone, Debug, Default)]
pub struct AddrMap {
    /// (simulated host, port) and (real host, port), one per real process.
    pairs: Vec<((String, u16), (String, u16))>,
}

impl AddrMap {
    pub fn new(pairs: Vec<((String, u16), (String, u16))>) -> Self {
        Self { pairs }
    }

    fn real_of(&self, host: &str, port: &str) -> Option<&(String, u16)> {
        let port: u16 = port.parse().ok()?;
        self.pairs
            .iter()
            .find(|(s, _)| s.0 == host && s.1 == port)
            .map(|(_, r)| r)
    }

    /// A command's arguments as sent to the real processes: a simulated
    /// node's address, as two arguments (`REPLICAOF 10.0.0.1 6379`,
    /// `SENTINEL MONITOR m 10.0.0.1 6379 2`) or as one (`10.0.0.1:6379`),
    /// becomes the real address of the same node.
    pub fn to_real(&self, argv: &[String]) -> Vec<String> {
        let mut out = argv.to_vec();
        let mut i = 0;
        while i < argv.len() {
            if let Some(next) = argv.get(i + 1)
                && let Some((h, p)) = self.real_of(&argv[i], next)
            {
                out[i] = h.clone();
                out[i + 1] = p.to_string();
                i += 2;
                continue;
            }
            if let Some((h, p)) = argv[i].rsplit_once(':')
                && let Some((rh, rp)) = self.real_of(h, p)
            {
                out[i] = format!("{rh}:{rp}");
            }
            i += 1;
        }
        out
    }

    /// A real reply with every real address written back as the simulated
    /// one: in text (see [`AddrMap::text_to_sim`]), and in arrays, a host
    /// element followed by its port (as a string or an integer), as ROLE
    /// answers.
    pub fn frame_to_sim(&self, f: &Frame) -> Frame {
        match f {
            Frame::Simple(s) => Frame::Simple(self.text_to_sim(s)),
            Frame::Error(s) => Frame::Error(self.text_to_sim(s)),
            Frame::Bulk(Some(s)) => Frame::Bulk(Some(self.text_to_sim(s))),
            Frame::Verbatim { format, text } => Frame::Verbatim {
                format: format.clone(),
                text: self.text_to_sim(text),
            },
            Frame::Int(_)
            | Frame::Bulk(None)
            | Frame::Array(None)
            | Frame::Null
            | Frame::Double(_)
            | Frame::Bool(_)
            | Frame::BigNumber(_) => f.clone(),
            Frame::Set(items) => Frame::Set(self.items_to_sim(items)),
            Frame::Push(items) => Frame::Push(self.items_to_sim(items)),
            // A map's fields and values one after the other, as RESP2
            // sends them: `"ip" => host, "port" => port` keeps its pairs.
            Frame::Map(pairs) => {
                let flat: Vec<Frame> = pairs
                    .iter()
                    .flat_map(|(k, v)| [k.clone(), v.clone()])
                    .collect();
                let mut it = self.items_to_sim(&flat).into_iter();
                let mut out = Vec::with_capacity(pairs.len());
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    out.push((k, v));
                }
                Frame::Map(out)
            }
            Frame::Array(Some(items)) => Frame::Array(Some(self.items_to_sim(items))),
        }
    }

    /// An aggregate's elements with their addresses written back: each
    /// element, and a host element followed by its port.
    fn items_to_sim(&self, items: &[Frame]) -> Vec<Frame> {
        let mut out: Vec<Frame> = items.iter().map(|i| self.frame_to_sim(i)).collect();
        for i in 0..items.len().saturating_sub(1) {
            let host = match &items[i] {
                Frame::Bulk(Some(h)) | Frame::Simple(h) => h,
                _ => continue,
            };
            let port = match &items[i + 1] {
                Frame::Bulk(Some(p)) | Frame::Simple(p) => p.clone(),
                Frame::Int(p) => p.to_string(),
                _ => continue,
            };
            let Some((sh, sp)) = self.sim_of(host, &port) else {
                continue;
            };
            out[i] = Frame::bulk(sh.clone());
            out[i + 1] = match &items[i + 1] {
                Frame::Int(_) => Frame::Int(i64::from(*sp)),
                _ => Frame::bulk(sp.to_string()),
            };
        }
        out
    }

    fn sim_of(&self, host: &str, port: &str) -> Option<&(String, u16)> {
        let port: u16 = port.parse().ok()?;
        self.pairs
            .iter()
            .find(|(_, r)| r.0 == host && r.1 == port)
            .map(|(s, _)| s)
    }

    /// Text with each real address written back as the simulated one, in
    /// the forms Redis writes a host and port: `ip:port`, `ip port`, an
    /// error's quoted arguments `'ip' 'port'`, INFO's `ip=…,port=…`,
    /// `master_host:…` / `master_port:…` lines, and a server's own
    /// `tcp_port:…` (real ports are one per process). One pass, left to
    /// right: a simulated address written in is never read again.
    pub fn text_to_sim(&self, text: &str) -> String {
        const BETWEEN: &[&str] = &[":", " ", "' '", ",port=", "\r\nmaster_port:"];
        const OWN_PORT: &str = "tcp_port:";
        let bytes = text.as_bytes();
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        'scan: while i < text.len() {
            let boundary_before = i == 0 || !matches!(bytes[i - 1], b'0'..=b'9' | b'.');
            if let Some(rest) = text[i..].strip_prefix(OWN_PORT)
                && (i == 0 || bytes[i - 1] == b'\n')
            {
                let digits =
                    rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
                let mut owners = self
                    .pairs
                    .iter()
                    .filter(|(_, r)| r.1.to_string() == rest[..digits]);
                if let (Some((s, _)), None) = (owners.next(), owners.next()) {
                    out.push_str(OWN_PORT);
                    out.push_str(&s.1.to_string());
                    i += OWN_PORT.len() + digits;
                    continue 'scan;
                }
            }
            if boundary_before {
                for ((sh, sp), (rh, rp)) in &self.pairs {
                    let Some(rest) = text[i..].strip_prefix(rh.as_str()) else {
                        continue;
                    };
                    for mid in BETWEEN {
                        let port = rp.to_string();
                        let Some(after) = rest
                            .strip_prefix(mid)
                            .and_then(|r| r.strip_prefix(port.as_str()))
                        else {
                            continue;
                        };
                        if after.as_bytes().first().is_some_and(u8::is_ascii_digit) {
                            continue;
                        }
                        out.push_str(sh);
                        out.push_str(mid);
                        out.push_str(&sp.to_string());
                        i = text.len() - after.len();
                        continue 'scan;
                    }
                }
            }
            let c = text[i..].chars().next().expect("inside the text");
            out.push(c);
            i += c.len_utf8();
        }
        out
    }
}

/// Commands that make a server connect to the address in their arguments
/// (REPLICAOF, SLAVEOF, MIGRATE, CLUSTER MEET, SENTINEL MONITOR): the
/// positions of the host and the port.
fn connects_to(argv: &[String]) -> Option<(usize, usize)> {
    let word = |i: usize| argv.get(i).map(|s| s.to_ascii_lowercase());
    match (word(0)?.as_str(), word(1).unwrap_or_default().as_str()) {
        ("replicaof" | "slaveof", _) if argv.len() == 3 => {
            let no_one = argv[1].eq_ignore_ascii_case("no") && argv[2].eq_ignore_ascii_case("one");
            (!no_one).then_some((1, 2))
        }
        ("migrate", _) if argv.len() >= 3 => Some((1, 2)),
        ("cluster", "meet") if argv.len() >= 4 => Some((2, 3)),
        ("sentinel", "monitor") if argv.len() >= 5 => Some((3, 4)),
        _ => None,
    }
}

/// Why the plan's command lines cannot be sent to real processes, if they
/// cannot: one would make a real server connect to an address that is no
/// node's (the simulator refuses such a line too), and the harness's
/// processes talk to each other only.
pub fn refused(plan: &crate::scenario::Plan) -> Option<String> {
    plan.commands.iter().enumerate().find_map(|(i, (_, c))| {
        let (h, p) = connects_to(&c.argv)?;
        let known = plan
            .nodes
            .iter()
            .any(|n| n.host == c.argv[h] && p < c.argv.len() && n.port.to_string() == c.argv[p]);
        (!known).then(|| {
            format!(
                "{}: command line #{} `{}` names {}:{}, which is no node's address; a real server would connect there",
                plan.name,
                i + 1,
                c.line,
                c.argv[h],
                c.argv.get(p).map_or("", String::as_str)
            )
        })
    })
}

/// How long the reader waits for a reply between checks of the stop flag.
const POLL: Duration = Duration::from_millis(100);

/// One session's connection to one node.
struct Session {
    writer: TcpStream,
    /// False once the reader saw the connection close.
    open: Arc<AtomicBool>,
    /// What the connection waits for and reads.
    waiting: Arc<Mutex<Waiting>>,
}

/// One connection's lines waiting for a reply and its reader.
#[derive(Default)]
struct Waiting {
    /// Positions in `exchanges` waiting for a reply, oldest first.
    lines: VecDeque<usize>,
    inbox: Inbox,
    /// The position of the line that last subscribed the connection.
    subscriber: Option<usize>,
}

/// The operator's redis-cli sessions against the real processes.
pub struct Sessions {
    t0: Instant,
    stop: Arc<AtomicBool>,
    conns: BTreeMap<(String, usize), Session>,
    exchanges: Arc<Mutex<Vec<Exchange>>>,
    readers: Vec<JoinHandle<()>>,
}

impl Sessions {
    /// Sessions timed from `t0`; their readers end once `stop` is set.
    pub fn new(t0: Instant, stop: Arc<AtomicBool>) -> Self {
        Self {
            t0,
            stop,
            conns: BTreeMap::new(),
            exchanges: Arc::new(Mutex::new(Vec::new())),
            readers: Vec::new(),
        }
    }

    fn now(&self) -> Micros {
        self.t0.elapsed().as_micros() as Micros
    }

    /// Sends the `index`th command line, as `argv` (already translated),
    /// to the node at `at`, on its session's connection there, opening one
    /// if the session has none or the last one closed. A connection that
    /// cannot be opened, or a line that cannot be written, gets no reply.
    pub fn submit(&mut self, index: usize, command: &CommandLine, at: &Endpoint, argv: &[String]) {
        let sent = self.now();
        let pos = {
            let mut ex = self.exchanges.lock().expect("not poisoned");
            ex.push(Exchange::sent(index, command.clone(), sent));
            ex.len() - 1
        };
        let key = (command.session.clone(), command.node as usize);
        if self
            .conns
            .get(&key)
            .is_some_and(|s| !s.open.load(Ordering::Relaxed))
        {
            self.conns.remove(&key);
        }
        if !self.conns.contains_key(&key) {
            match self.open(at) {
                Some(s) => {
                    self.conns.insert(key.clone(), s);
                }
                None => return,
            }
        }
        let s = self.conns.get_mut(&key).expect("just opened");
        {
            let mut w = s.waiting.lock().expect("not poisoned");
            w.lines.push_back(pos);
            w.inbox.sent(argv);
            if enters_subscribed_mode(argv) {
                w.subscriber = Some(pos);
            }
        }
        let raw: Vec<&[u8]> = argv.iter().map(|a| a.as_bytes()).collect();
        if std::io::Write::write_all(&mut s.writer, &encode(&raw)).is_err() {
            // The connection is dropped with what it waited for.
            self.conns.remove(&key);
        }
    }

    /// A new connection with its reader thread.
    fn open(&mut self, at: &Endpoint) -> Option<Session> {
        let conn = Conn::connect(at, Duration::from_millis(500)).ok()?;
        let (writer, mut reader) = conn.into_parts();
        let stream = writer.try_clone().ok()?;
        stream.set_read_timeout(Some(POLL)).ok()?;
        let open = Arc::new(AtomicBool::new(true));
        let waiting: Arc<Mutex<Waiting>> = Arc::default();
        let (o, w, ex, stop, t0) = (
            open.clone(),
            waiting.clone(),
            self.exchanges.clone(),
            self.stop.clone(),
            self.t0,
        );
        self.readers.push(std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) && !crate::interrupt::requested() {
                match reader.fill_buf() {
                    Ok([]) => break,
                    Ok(_) => {}
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) =>
                    {
                        continue;
                    }
                    Err(_) => break,
                }
                // A reply has begun: the rest of it follows at once.
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let frame = read_frame(&mut reader);
                let _ = stream.set_read_timeout(Some(POLL));
                let Ok(frame) = frame else { break };
                let at = t0.elapsed().as_micros() as Micros;
                // Sorted as the simulated session sorts it (proto::inbox).
                let mut w = w.lock().expect("not poisoned");
                match w.inbox.arrived(frame) {
                    Arrival::Reply { pushes, mut frames } => {
                        if let Some(pos) = w.lines.pop_front() {
                            let e = &mut ex.lock().expect("not poisoned")[pos];
                            e.reply = Some((at, frames.remove(0)));
                            e.pushes = pushes;
                            e.more = frames;
                        }
                    }
                    Arrival::Message(frame) => {
                        if let Some(pos) = w.subscriber {
                            ex.lock().expect("not poisoned")[pos]
                                .messages
                                .push((at, frame));
                        }
                    }
                    Arrival::Held | Arrival::Dropped => {}
                }
            }
            o.store(false, Ordering::Relaxed);
        }));
        Some(Session {
            writer,
            open,
            waiting,
        })
    }

    /// Every exchange, in the scenario's order, once the readers ended
    /// (the caller has set the stop flag); what got no reply by then has
    /// none.
    pub fn finish(mut self) -> Vec<Exchange> {
        self.stop.store(true, Ordering::Relaxed);
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        self.conns.clear();
        let mut out = std::mem::take(&mut *self.exchanges.lock().expect("not poisoned"));
        out.sort_by_key(|e| e.index);
        out
    }
}

impl Drop for Sessions {
    /// However the run ends, the readers stop.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map() -> AddrMap {
        AddrMap::new(vec![
            (("10.0.0.1".into(), 6379), ("127.0.0.1".into(), 17000)),
            (("10.0.0.2".into(), 6379), ("127.0.0.1".into(), 17001)),
            (("10.0.0.3".into(), 26379), ("127.0.0.1".into(), 17002)),
        ])
    }

    fn args(line: &str) -> Vec<String> {
        line.split(' ').map(String::from).collect()
    }

    #[test]
    fn simulated_addresses_in_arguments_become_real_ones() {
        let m = map();
        assert_eq!(
            m.to_real(&args("REPLICAOF 10.0.0.1 6379")),
            args("REPLICAOF 127.0.0.1 17000")
        );
        assert_eq!(
            m.to_real(&args("SENTINEL MONITOR m 10.0.0.2 6379 2")),
            args("SENTINEL MONITOR m 127.0.0.1 17001 2")
        );
        assert_eq!(
            m.to_real(&args("CLIENT KILL 10.0.0.3:26379")),
            args("CLIENT KILL 127.0.0.1:17002")
        );
        // Not a node's address: left as it is.
        assert_eq!(
            m.to_real(&args("REPLICAOF 10.0.0.1 6380")),
            args("REPLICAOF 10.0.0.1 6380")
        );
        assert_eq!(
            m.to_real(&args("REPLICAOF NO ONE")),
            args("REPLICAOF NO ONE")
        );
    }

    #[test]
    fn lines_that_would_connect_elsewhere_are_refused() {
        let plan = |line: &str| {
            crate::scenario::parse(
                "t.toml",
                &format!(
                    "name = \"t\"\nduration = \"5s\"\n[topology]\nmasters = 1\nreplicas = 1\n\
                     [[command]]\nat = \"1s\"\nnode = \"replica-1\"\nsend = \"{line}\"\n"
                ),
            )
            .expect("a valid scenario")
        };
        for ok in [
            "REPLICAOF 10.0.0.1 6379",
            "slaveof no one",
            "REPLICAOF 10.0.0.9",
            "GET 10.0.0.9",
        ] {
            assert_eq!(refused(&plan(ok)), None, "{ok}");
        }
        for bad in [
            "REPLICAOF 10.0.0.9 6379",
            "SLAVEOF localhost 6379",
            "REPLICAOF 10.0.0.1 6380",
            "MIGRATE 8.8.8.8 6379 k 0 1000",
            "CLUSTER MEET 8.8.8.8 6379",
            "SENTINEL MONITOR m 8.8.8.8 6379 2",
        ] {
            let why = refused(&plan(bad)).unwrap_or_else(|| panic!("{bad} accepted"));
            assert!(
                why.contains("#1") && why.contains("no node's address"),
                "{why}"
            );
        }
    }

    #[test]
    fn real_addresses_in_replies_become_simulated_ones() {
        let m = map();
        let info = "# Replication\r\nrole:slave\r\nmaster_host:127.0.0.1\r\nmaster_port:17000\r\n\
                    slave0:ip=127.0.0.1,port=17001,state=online,offset=14,lag=0\r\n";
        assert_eq!(
            m.text_to_sim(info),
            "# Replication\r\nrole:slave\r\nmaster_host:10.0.0.1\r\nmaster_port:6379\r\n\
             slave0:ip=10.0.0.2,port=6379,state=online,offset=14,lag=0\r\n"
        );
        assert_eq!(
            m.text_to_sim("MOVED 12182 127.0.0.1:17001"),
            "MOVED 12182 10.0.0.2:6379"
        );
        assert_eq!(
            m.text_to_sim(
                "ERR unknown command 'X', with args beginning with: '127.0.0.1' '17002' "
            ),
            "ERR unknown command 'X', with args beginning with: '10.0.0.3' '26379' "
        );
        // A longer port, another address, or a port alone stay.
        assert_eq!(m.text_to_sim("127.0.0.1:170001"), "127.0.0.1:170001");
        assert_eq!(m.text_to_sim("1127.0.0.1:17000"), "1127.0.0.1:17000");
        assert_eq!(m.text_to_sim("port:17000"), "port:17000");
        assert_eq!(m.text_to_sim("é 127.0.0.1 17000"), "é 10.0.0.1 6379");
        // A server's own port, at the start of an INFO line.
        assert_eq!(
            m.text_to_sim("run_id:x\r\ntcp_port:17002\r\nuptime_in_seconds:17000\r\n"),
            "run_id:x\r\ntcp_port:26379\r\nuptime_in_seconds:17000\r\n"
        );
        assert_eq!(m.text_to_sim("tcp_port:170001"), "tcp_port:170001");
        // ROLE: a host element followed by its port, string or integer.
        let role = Frame::Array(Some(vec![
            Frame::bulk("slave"),
            Frame::bulk("127.0.0.1"),
            Frame::Int(17000),
            Frame::bulk("connected"),
            Frame::Int(14),
        ]));
        assert_eq!(
            m.frame_to_sim(&role),
            Frame::Array(Some(vec![
                Frame::bulk("slave"),
                Frame::bulk("10.0.0.1"),
                Frame::Int(6379),
                Frame::bulk("connected"),
                Frame::Int(14),
            ]))
        );
        let master = Frame::Array(Some(vec![
            Frame::bulk("master"),
            Frame::Int(14),
            Frame::Array(Some(vec![Frame::Array(Some(vec![
                Frame::bulk("127.0.0.1"),
                Frame::bulk("17001"),
                Frame::bulk("14"),
            ]))])),
        ]));
        assert_eq!(
            m.frame_to_sim(&master).to_cli(),
            "1) \"master\"\n2) (integer) 14\n3) 1) 1) \"10.0.0.2\"\n      2) \"6379\"\n      3) \"14\""
        );
    }
}
