//! One thread per real process that asks it for its state a few times a
//! second and sends what it read to the lab: a server's INFO (and CLUSTER
//! INFO and NODES), a Sentinel's SENTINEL MASTER, REPLICAS and SENTINELS.
//! A thread of its own per process, because a stopped process (SIGSTOP,
//! DEBUG SLEEP) answers nothing until its timeout, and the others must not
//! wait for it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::fields::{self, Monitored};
use crate::conform::endpoint::Endpoint;
use crate::conform::observe::Addresses;
use crate::conform::resp::{Conn, Frame, text};
use crate::dashboard::snapshot::Fields;
use crate::time::Micros;

/// How often each process is asked.
pub const EVERY: Duration = Duration::from_millis(250);

/// How long a process may take to answer before it counts as silent.
const TIMEOUT: Duration = Duration::from_millis(400);

/// What one reading found.
pub enum Seen {
    /// The process answered: its fields (and a Sentinel's whole run id).
    Fields(Fields, Option<String>),
    /// Nothing listens: the process is down.
    Down,
    /// It accepted the connection but did not answer in time (stopped,
    /// or asleep in DEBUG SLEEP).
    Silent,
}

/// One reading of one process, timed from the session's start.
pub struct Reading {
    pub node: usize,
    pub t: Micros,
    pub seen: Seen,
}

/// What to ask a process.
#[derive(Clone)]
pub enum Ask {
    /// A server; `cluster` also asks CLUSTER INFO and NODES.
    Redis { cluster: bool },
    /// A Sentinel, about these masters (its configuration's order).
    Sentinel { masters: Vec<String> },
}

/// Starts the thread that reads node `node` at `at` until `stop`.
pub fn start(
    node: usize,
    ask: Ask,
    at: Endpoint,
    addrs: Arc<Addresses>,
    t0: Instant,
    stop: Arc<AtomicBool>,
    tx: Sender<Reading>,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut conn: Option<Conn> = None;
        let name_of = |h: &str, p: u16| addrs.node(h, p).map(str::to_string);
        while !stop.load(Ordering::Relaxed) {
            let started = Instant::now();
            let seen = read(&mut conn, &at, &ask, &name_of);
            let t = t0.elapsed().as_micros() as Micros;
            if tx.send(Reading { node, t, seen }).is_err() {
                return;
            }
            let next = started + EVERY;
            while Instant::now() < next && !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(25).min(next - Instant::now()));
            }
        }
    })
}

/// One reading, on the kept connection. A connection that fails other
/// than by a timeout is opened again once: a Sentinel reconfiguring a
/// server closes its clients' connections (CLIENT KILL), which does not
/// make the server down.
fn read(conn: &mut Option<Conn>, at: &Endpoint, ask: &Ask, name_of: fields::NameOf) -> Seen {
    for _ in 0..2 {
        if conn.is_none() {
            match Conn::connect(at, TIMEOUT) {
                Ok(c) => *conn = Some(c),
                Err(e) if is_timeout(&e) => return Seen::Silent,
                Err(_) => return Seen::Down,
            }
        }
        let Some(c) = conn.as_mut() else {
            return Seen::Down;
        };
        let result = match ask {
            Ask::Redis { cluster } => redis(c, *cluster, name_of),
            Ask::Sentinel { masters } => sentinel(c, masters, name_of),
        };
        match result {
            Ok(seen) => return seen,
            Err(e) => {
                *conn = None;
                if is_timeout(&e) {
                    return Seen::Silent;
                }
            }
        }
    }
    Seen::Down
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

/// Sends every command, then reads every reply (one round trip).
fn pipeline(c: &mut Conn, commands: &[Vec<&str>]) -> std::io::Result<Vec<Frame>> {
    for cmd in commands {
        let raw: Vec<&[u8]> = cmd.iter().map(|a| a.as_bytes()).collect();
        c.send(&raw)?;
    }
    commands.iter().map(|_| c.read()).collect()
}

fn redis(c: &mut Conn, cluster: bool, name_of: fields::NameOf) -> std::io::Result<Seen> {
    let mut commands = vec![vec!["INFO", "server", "replication", "keyspace"]];
    if cluster {
        commands.push(vec!["CLUSTER", "INFO"]);
        commands.push(vec!["CLUSTER", "NODES"]);
    }
    let replies = pipeline(c, &commands)?;
    let texts: Vec<String> = replies
        .iter()
        .map(|r| text(r).unwrap_or_default())
        .collect();
    let info = texts.first().map_or("", String::as_str);
    // A server still loading its data answers -LOADING: it runs.
    let clustered = cluster.then(|| (texts[1].as_str(), texts[2].as_str()));
    Ok(Seen::Fields(fields::redis(info, clustered, name_of), None))
}

fn sentinel(c: &mut Conn, masters: &[String], name_of: fields::NameOf) -> std::io::Result<Seen> {
    let mut commands = vec![vec!["SENTINEL", "MYID"], vec!["INFO", "sentinel"]];
    for m in masters {
        for what in ["MASTER", "REPLICAS", "SENTINELS"] {
            commands.push(vec!["SENTINEL", what, m.as_str()]);
        }
    }
    let replies = pipeline(c, &commands)?;
    let myid = text(&replies[0]).unwrap_or_default();
    let info = text(&replies[1]).unwrap_or_default();
    let tilt = crate::redis::info::field(&info, "sentinel_tilt");
    let list = |f: &Frame| match f {
        Frame::Array(Some(items)) => items.iter().map(fields::pairs).collect(),
        _ => Vec::new(),
    };
    let monitored: Vec<Monitored> = replies[2..]
        .chunks(3)
        .map(|r| Monitored {
            master: fields::pairs(&r[0]),
            replicas: list(&r[1]),
            sentinels: list(&r[2]),
        })
        .collect();
    let f = fields::sentinel(&myid, tilt, &monitored, name_of);
    Ok(Seen::Fields(f, Some(myid)))
}
