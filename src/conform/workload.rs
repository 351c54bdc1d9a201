//! A scenario's workload client run against real servers: the same rate,
//! keys, value sizes, timeouts, WAIT and reconnect backoff as the simulated
//! client, recording the same [`Op`] history. Values are exactly
//! `value-size` bytes and begin with `<client>:<seq>:`, so replication
//! offsets match the simulator's and the final state names its writers.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::client::{Discovery, WorkloadSpec};

use crate::history::{Op, Outcome, Seen};
use crate::proto::{Cmd, Value, WriteTag};
use crate::time::Micros;
use crate::trace::names;

use super::endpoint::Endpoint;
use super::resp::{Conn, Frame, text};

/// Why `plan`'s workloads cannot run against real servers: this client
/// keeps one connection with one request in flight.
pub fn refused(plan: &crate::scenario::Plan) -> Option<String> {
    plan.nodes.iter().find_map(|n| match &n.kind {
        crate::scenario::NodeKind::Client(w) if w.connections > 1 || w.pipeline > 1 => Some(format!(
            "{}: workload {} has connections = {} and pipeline = {}; the real-server client keeps one connection with one request in flight, so only the simulator runs it (mark the scenario `[conform] real = false` with a reason)",
            plan.name, n.name, w.connections, w.pipeline
        )),
        _ => None,
    })
}

/// What the client needs to know about the real deployment.
#[derive(Clone)]
pub struct Env {
    pub t0: Instant,
    /// Port of each node, by node index (0 for clients).
    pub ports: Vec<u16>,
    /// How a client reaches each node: its peer-facing address.
    pub peers: Vec<Endpoint>,
    /// How the harness reaches each node, whatever the partitions.
    pub admin: Vec<Endpoint>,
    pub stop: Arc<AtomicBool>,
    /// Where each operation is also sent once it completes (`redsim lab
    /// --real` follows the clients as they go).
    pub progress: Option<mpsc::Sender<Op>>,
}

impl Env {
    pub fn now(&self) -> Micros {
        self.t0.elapsed().as_micros() as Micros
    }

    fn node_of_port(&self, port: u16) -> Option<u32> {
        self.ports.iter().position(|p| *p == port).map(|n| n as u32)
    }

    /// True once the run is over or SIGINT/SIGTERM asked redsim to stop.
    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed) || crate::interrupt::requested()
    }

    /// Sleeps until `t` after t0 (or returns at once if it has passed), in
    /// slices of at most 50 ms, returning early once [`Env::stopped`].
    pub fn sleep_until(&self, t: Micros) {
        loop {
            let now = self.now();
            if t <= now || self.stopped() {
                return;
            }
            std::thread::sleep(Duration::from_micros((t - now).min(50_000)));
        }
    }
}

/// A workload value: `<client>:<seq>:` padded with `x` to `size` bytes.
pub fn value(tag: WriteTag, size: u32) -> Vec<u8> {
    let mut v = format!("{}:{}:", tag.client, tag.seq).into_bytes();
    v.resize((size as usize).max(v.len()), b'x');
    v
}

/// The writer named by a workload value.
pub fn parse_value(v: &[u8]) -> Option<WriteTag> {
    let s = std::str::from_utf8(v.get(..v.len().min(32))?).ok()?;
    let mut it = s.split(':');
    let client = it.next()?.parse().ok()?;
    let seq = it.next()?.parse().ok()?;
    Some(WriteTag { client, seq })
}

/// A connection to the node the client writes to.
struct Target {
    conn: Conn,
    node: u32,
}

/// Runs one workload client until its stop time; returns its history.
pub fn run(id: u32, spec: WorkloadSpec, env: Env) -> Vec<Op> {
    let timeout = Duration::from_micros(spec.timeout.max(1000));
    let interval = ((1_000_000.0 / spec.rate).round() as Micros).max(1);
    let mut history: Vec<Op> = Vec::new();
    let mut target: Option<Target> = None;
    let mut reconnect_at: Micros = 0;
    let mut backoff = spec.reconnect_delay;
    let mut rng = crate::sim::rng::stream(u64::from(id), "conform-workload");
    let mut sentinel_idx = 0usize;
    // Sentinel discovery follows +switch-master announcements.
    let (switch_tx, switch_rx) = mpsc::channel::<u16>();
    // The subscriber stops with the run or when this client is done.
    let done = Arc::new(AtomicBool::new(false));
    let subscriber = match &spec.discovery {
        Discovery::Sentinel {
            sentinels,
            master_name,
        } => {
            let ends: Vec<Endpoint> = sentinels
                .iter()
                .map(|s| env.peers[*s as usize].clone())
                .collect();
            let name = master_name.to_string();
            let (stop, done) = (env.stop.clone(), done.clone());
            Some(std::thread::spawn(move || {
                subscribe_switches(&ends, &name, &switch_tx, &[&stop, &done])
            }))
        }
        Discovery::Direct(_) | Discovery::Cluster(_) => None,
    };
    let mut tick = spec.start;
    while tick < spec.stop && !env.stopped() {
        env.sleep_until(tick);
        if let Ok(port) = switch_rx.try_recv()
            && let Some(node) = env.node_of_port(port)
            && target.as_ref().is_some_and(|t| t.node != node)
        {
            target = connect_checked(&env, node, timeout).map(|conn| Target { conn, node });
        }
        if target.is_none() && env.now() >= reconnect_at {
            target = match &spec.discovery {
                Discovery::Direct(n) => Conn::connect(&env.peers[*n as usize], timeout)
                    .ok()
                    .map(|conn| Target { conn, node: *n }),
                // Cluster workloads are refused before a real run starts.
                Discovery::Cluster(_) => None,
                Discovery::Sentinel {
                    sentinels,
                    master_name,
                } => resolve(&env, sentinels, master_name, &mut sentinel_idx, timeout),
            };
            match target {
                Some(_) => backoff = spec.reconnect_delay,
                None => {
                    reconnect_at = env.now() + backoff;
                    backoff = (backoff * 2).min(spec.reconnect_max_delay.max(spec.reconnect_delay));
                }
            }
        }
        if let Some(t) = target.as_mut() {
            let from = history.len();
            let keep = issue(id, &spec, t, &mut rng, &mut history, &env);
            if let Some(tx) = &env.progress {
                for op in &history[from..] {
                    let _ = tx.send(op.clone());
                }
            }
            if !keep {
                target = None;
                reconnect_at = env.now() + backoff;
                backoff = (backoff * 2).min(spec.reconnect_max_delay.max(spec.reconnect_delay));
            }
        }
        tick += interval;
        // The simulated client skips the ticks at which a request is still
        // in flight, which happens when the server does not answer in time.
        // A late but successful reply here means the host was slow to run
        // the harness: catch up instead, so the same writes are made.
        let timed_out = history
            .last()
            .is_some_and(|o| !matches!(o.outcome, Outcome::Ok | Outcome::Error(_)));
        let now = env.now();
        while timed_out && tick < now {
            tick += interval;
        }
    }
    if let Some(h) = subscriber {
        done.store(true, Ordering::Relaxed);
        let _ = h.join();
    }
    history
}

/// The arguments of a workload command as sent to a real server: tagged
/// values become `value-size` bytes that begin with `<client>:<seq>:`.
fn argv(cmd: &Cmd, value_size: u32) -> Vec<Vec<u8>> {
    let text = |s: &str| s.as_bytes().to_vec();
    let bytes = |v: &Value| match v {
        Value::Blob { tag, .. } => value(*tag, value_size),
        other => other.to_string().into_bytes(),
    };
    match cmd {
        Cmd::Set(k, v) => vec![text("SET"), text(k), bytes(v)],
        Cmd::Get(k) => vec![text("GET"), text(k)],
        Cmd::Incr(k) => vec![text("INCR"), text(k)],
        Cmd::Del(k) => vec![text("DEL"), text(k)],
        Cmd::MSet(pairs) => std::iter::once(text("MSET"))
            .chain(pairs.iter().flat_map(|(k, v)| [text(k), bytes(v)]))
            .collect(),
        Cmd::MGet(keys) => std::iter::once(text("MGET"))
            .chain(keys.iter().map(|k| text(k)))
            .collect(),
        Cmd::Publish { channel, message } => vec![text("PUBLISH"), text(channel), text(message)],
        Cmd::Named { argv, .. } => argv.iter().map(|a| text(a)).collect(),
        other => unreachable!("a workload does not send {}", other.name()),
    }
}

/// What a real server's reply to a read says of one key's value.
fn seen(reply: &Frame) -> Seen {
    match reply {
        Frame::Bulk(Some(v)) => match parse_value(v.as_bytes()) {
            Some(tag) => Seen::Write(tag),
            None => Seen::Counter,
        },
        _ => Seen::Missing,
    }
}

/// One command plus its WAIT. False when the connection is done for.
fn issue(
    id: u32,
    spec: &WorkloadSpec,
    t: &mut Target,
    rng: &mut crate::sim::rng::Rng,
    history: &mut Vec<Op>,
    env: &Env,
) -> bool {
    let draw = spec.commands.draw(rng);
    let seq = history.len() as u32 + 1;
    let cmd = spec.commands.command(&draw, WriteTag { client: id, seq });
    let args = argv(&cmd, spec.commands.value_size);
    let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
    let invoked = env.now();
    let reply = t.conn.send(&refs).and_then(|_| t.conn.read());
    let mut op = Op::pending(id, seq, draw.kind, draw.key, t.node, invoked);
    op.more_keys = draw.more_keys;
    op.completed = Some(env.now());
    op.outcome = Outcome::Ok;
    let keep = match reply {
        Ok(Frame::Error(e)) => {
            op.outcome = Outcome::Error(e);
            true
        }
        Ok(r) => {
            if op.kind.is_read() {
                op.read = Some(match &r {
                    Frame::Array(Some(items)) => items.iter().map(seen).collect(),
                    one => vec![seen(one)],
                });
            }
            true
        }
        Err(e) if is_timeout(&e) => {
            op.outcome = Outcome::Timeout;
            false
        }
        Err(_) => {
            op.outcome = Outcome::ConnectionLost;
            false
        }
    };
    let mut keep = keep;
    if keep
        && op.kind.is_write()
        && op.outcome.is_ok()
        && let Some((n, ms)) = spec.wait
    {
        let w = t.conn.call(&["WAIT", &n.to_string(), &ms.to_string()]);
        match w {
            Ok(Frame::Int(k)) => op.wait_acked = Some(k as u32),
            Ok(_) => {}
            Err(_) => keep = false,
        }
        op.completed = Some(env.now());
    }
    history.push(op);
    if !keep {
        t.conn.shutdown();
    }
    keep
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

/// Connects and checks with ROLE that the node is a master.
fn connect_checked(env: &Env, node: u32, timeout: Duration) -> Option<Conn> {
    let mut c = Conn::connect(&env.peers[node as usize], timeout).ok()?;
    match c.call(&["ROLE"]).ok()? {
        Frame::Array(Some(items)) if items.first().and_then(text).as_deref() == Some("master") => {
            Some(c)
        }
        _ => None,
    }
}

/// Asks the Sentinels in turn for the master, then checks it with ROLE.
fn resolve(
    env: &Env,
    sentinels: &[u32],
    name: &str,
    idx: &mut usize,
    timeout: Duration,
) -> Option<Target> {
    for _ in 0..sentinels.len() {
        let s = sentinels[*idx % sentinels.len()];
        let answer = Conn::connect(&env.peers[s as usize], timeout)
            .and_then(|mut c| c.call(&["SENTINEL", "get-master-addr-by-name", name]));
        if let Ok(Frame::Array(Some(a))) = answer
            && let Some(port) = a.get(1).and_then(text).and_then(|p| p.parse().ok())
            && let Some(node) = env.node_of_port(port)
            && let Some(conn) = connect_checked(env, node, timeout)
        {
            return Some(Target { conn, node });
        }
        *idx += 1;
    }
    None
}

/// Subscribes to `+switch-master` on the first Sentinel that answers and
/// forwards each new master's port, until `stop`.
fn subscribe_switches(
    sentinels: &[Endpoint],
    name: &str,
    tx: &mpsc::Sender<u16>,
    stop: &[&AtomicBool],
) {
    let stopped = || stop.iter().any(|s| s.load(Ordering::Relaxed));
    let mut i = 0;
    while !stopped() {
        let sentinel = &sentinels[i % sentinels.len()];
        i += 1;
        let Ok(mut c) = Conn::connect(sentinel, Duration::from_millis(200)) else {
            std::thread::sleep(Duration::from_millis(100));
            continue;
        };
        if c.call(&["SUBSCRIBE", names::sentinel::SWITCH_MASTER])
            .is_err()
        {
            continue;
        }
        loop {
            if stopped() {
                return;
            }
            match c.read() {
                Ok(Frame::Array(Some(m))) => {
                    let payload = m.get(2).and_then(text).unwrap_or_default();
                    let f: Vec<&str> = payload.split(' ').collect();
                    if f.len() == 5
                        && f[0] == name
                        && let Ok(p) = f[4].parse()
                    {
                        let _ = tx.send(p);
                    }
                }
                Ok(_) => {}
                Err(e) if is_timeout(&e) => {}
                Err(_) => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_have_the_exact_size_and_name_their_writer() {
        let tag = WriteTag {
            client: 2,
            seq: 345,
        };
        let v = value(tag, 100);
        assert_eq!(v.len(), 100);
        assert!(v.starts_with(b"2:345:xx"));
        assert_eq!(parse_value(&v), Some(tag));
        assert_eq!(parse_value(b"burst"), None);
    }

    /// A workload with several requests in flight runs only simulated.
    #[test]
    fn pipelined_workloads_are_refused_for_real() {
        let plan = |extra: &str| {
            let text = format!(
                "name = \"p\"\nduration = \"5s\"\n[topology]\nmasters = 1\n[[workload]]\ntarget = \"master\"\nrate = 10\n{extra}"
            );
            crate::scenario::parse("p.toml", &text).expect("valid")
        };
        assert_eq!(refused(&plan("")), None);
        let why = refused(&plan("pipeline = 4")).expect("refused");
        assert!(
            why.contains("workload client-1 has connections = 1 and pipeline = 4"),
            "{why}"
        );
        assert!(refused(&plan("connections = 2")).is_some());
    }
}
