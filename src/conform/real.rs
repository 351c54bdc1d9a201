//! Runs a scenario on real redis-server and redis-sentinel processes: starts
//! one per node (on 127.0.0.1, or in network namespaces when the scenario
//! partitions them), drives the workload, applies the faults at the
//! scenario's times by real means (signals, restarts, REPLICAOF, write
//! bursts, dropped packets), sends the scenario's command lines and records
//! their replies, reads INFO at the checkpoints, records every
//! Sentinel event through pub/sub and every Redis log line, and stops every
//! process it started, by PID, however the run ends: an error, a panic, or
//! SIGINT/SIGTERM ([`crate::interrupt`], polled by every wait here). The
//! processes, the namespaces and the run's directory each belong to a guard
//! whose `Drop` releases them, in that order.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::check::lost::{LostWrite, lost_acked_writes};
use crate::history::{Exchange, History, Op};
use crate::interrupt;
use crate::proto::keyspace::Dataset;
use crate::proto::{Value, WriteTag};
use crate::scenario::{Fault, NodeKind, Plan};
use crate::time::Micros;
use crate::trace::{Event, Level, Source, names};

use super::commands::{AddrMap, Sessions};
use super::deploy::{Deployment, IO, RealOptions, RunError, Shims};
use super::endpoint::Endpoint;
use super::net::Net;
use super::observe::{Addresses, Observed, Sample, sample_fields};
use super::procs::{Procs, Sig};
use super::resp::{Conn, Frame, text};
use super::topology::{RealNode, Topology};
use super::workload::{self, Env, parse_value, value};

/// Each real process's simulated address and its real one (its address on
/// `net` and its port): how command lines and their replies are
/// translated.
pub fn addr_map(plan: &Plan, nodes: &[RealNode], net: &Net) -> AddrMap {
    AddrMap::new(
        nodes
            .iter()
            .map(|r| {
                let n = &plan.nodes[r.node];
                (
                    (n.host.clone(), n.port),
                    (net.ip(r.node).to_string(), r.port),
                )
            })
            .collect(),
    )
}

/// The real addresses: each process's address on `net` and its port.
pub fn addresses(plan: &Plan, nodes: &[RealNode], net: &Net) -> Addresses {
    Addresses::new(
        nodes
            .iter()
            .map(|r| {
                (
                    net.ip(r.node).to_string(),
                    r.port,
                    plan.nodes[r.node].name.clone(),
                )
            })
            .collect(),
    )
}

/// One real run of `plan`.
///
/// Whatever ends it (an error, a panic, an interrupt), the deployment's
/// guards go in order: the processes (SIGCONT, SIGKILL, reaped), then the
/// namespaces, then the run's directory (unless kept).
pub fn observe(plan: &Plan, topo: &dyn Topology, opts: &RealOptions) -> Result<Observed, RunError> {
    let mut d = Deployment::prepare(plan, topo, opts)?;
    let result = d.start(plan).and_then(|()| drive(plan, &mut d));
    d.procs.stop_all();
    let addrs = addresses(plan, &d.nodes, &d.net);
    let Deployment {
        procs,
        shims,
        net,
        nodes,
        dir,
    } = d;
    drop(procs);
    drop(shims);
    // The namespaces go only once nothing runs in them.
    drop(net);
    let Driven {
        events,
        samples,
        history,
        lost,
        t0_wall,
        replies,
    } = result?;
    let history = super::simulate::normalize_errors(history, &addrs);
    let mut all: Vec<Event> = events;
    for r in nodes.iter().filter(|r| !r.sentinel) {
        let text = std::fs::read_to_string(&r.log).unwrap_or_default();
        all.extend(parse_log(&text, r.node as u32, t0_wall));
    }
    for e in &mut all {
        if e.source != Source::Sim {
            e.detail = addrs.normalize(&e.detail);
        }
    }
    all.sort_by_key(|e| e.t);
    if opts.keep {
        let ops: Vec<String> = history.iter().map(|o| format!("{o:?}")).collect();
        let _ = std::fs::write(dir.path().join("history.txt"), ops.join("\n"));
    }
    drop(dir);
    Ok(Observed {
        names: plan.nodes.iter().map(|n| n.name.clone()).collect(),
        events: all,
        samples,
        history,
        lost_writes: lost,
        replies,
    })
}

/// What playing the scenario on the real processes recorded.
struct Driven {
    events: Vec<Event>,
    samples: Vec<Sample>,
    history: Vec<Op>,
    /// Acknowledged writes lost.
    lost: u64,
    /// The run's start, µs since the epoch (for the log lines' times).
    t0_wall: u64,
    /// The command lines' exchanges, replies with simulated addresses.
    replies: Vec<Exchange>,
}

/// Plays the scenario on the started processes; the caller stops them
/// whatever happens here.
fn drive(plan: &Plan, d: &mut Deployment) -> Result<Driven, RunError> {
    let t0 = Instant::now();
    let t0_wall = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64);
    let stop = Arc::new(AtomicBool::new(false));
    let env = d.env(plan, t0, stop.clone());
    let Deployment {
        procs,
        shims,
        net,
        nodes,
        ..
    } = d;
    let real = |n: usize| nodes.iter().find(|r| r.node == n);
    // Sentinel events, as published.
    let (tx, rx) = mpsc::channel::<Event>();
    let listeners = listen_all(nodes, &env, &tx);
    drop(tx);
    let clients = start_clients(plan, &env, net);
    // The script: faults, then command lines, then checkpoints at the same
    // instant (as the simulator orders them).
    let checkpoints = plan
        .conform
        .as_ref()
        .map(|c| c.checkpoints.clone())
        .unwrap_or_default();
    let mut steps: Vec<(Micros, u8, usize)> = plan
        .faults
        .iter()
        .enumerate()
        .map(|(i, (t, _))| (*t, 0, i))
        .chain(
            plan.commands
                .iter()
                .enumerate()
                .map(|(i, (t, _))| (*t, 1, i)),
        )
        .chain(checkpoints.iter().enumerate().map(|(i, c)| (c.at, 2, i)))
        .collect();
    steps.sort();
    let map = addr_map(plan, nodes, net);
    let mut sessions = Sessions::new(t0, stop.clone());
    let mut events = Vec::new();
    let mut samples = Vec::new();
    let addrs = addresses(plan, nodes, net);
    let mut failure = None;
    for (t, kind, i) in steps {
        env.sleep_until(t);
        if interrupt::requested() {
            failure = Some(RunError::Interrupted);
            break;
        }
        if kind == 0 {
            let (_, fault) = &plan.faults[i];
            let (node, name, detail) = describe(plan, fault);
            events.push(Event {
                t: env.now(),
                node,
                source: Source::Sim,
                level: Level::Notice,
                event: name.into(),
                detail,
            });
            if let Err(e) = apply(plan, fault, procs, net, shims, &real, &env) {
                failure = Some(RunError::Failed(e));
                break;
            }
        } else if kind == 1 {
            let command = &plan.commands[i].1;
            let n = command.node as usize;
            sessions.submit(i, command, &env.admin[n], &map.to_real(&command.argv));
        } else {
            let c = &checkpoints[i];
            let info = |n: usize| info_of(&env.admin[n]);
            let master_info = |name: &str| plan.node_index(name).and_then(info);
            samples.push(Sample {
                at: c.at,
                node: c.node,
                fields: sample_fields(info(c.node).as_deref(), master_info, &c.fields, &addrs),
            });
        }
    }
    if failure.is_none() {
        env.sleep_until(plan.duration);
        if interrupt::requested() {
            failure = Some(RunError::Interrupted);
        }
    }
    stop.store(true, Ordering::Relaxed);
    let mut replies = sessions.finish();
    for ex in &mut replies {
        if let Some((_, f)) = &mut ex.reply {
            *f = map.frame_to_sim(f);
        }
        for f in ex.pushes.iter_mut().chain(&mut ex.more) {
            *f = map.frame_to_sim(f);
        }
        for (_, f) in &mut ex.messages {
            *f = map.frame_to_sim(f);
        }
    }
    let mut history: Vec<Op> = Vec::new();
    for c in clients {
        history.extend(c.join().unwrap_or_default());
    }
    for l in listeners {
        let _ = l.join();
    }
    events.extend(rx.try_iter());
    if let Some(e) = failure {
        return Err(e);
    }
    history.sort_by_key(|o| (o.invoked, o.client, o.seq));
    let lost = lost_writes(plan, &env.admin, &history).1.len() as u64;
    Ok(Driven {
        events,
        samples,
        history,
        lost,
        t0_wall,
        replies,
    })
}

/// A server's `INFO replication`, or a Sentinel's `INFO sentinel` (a
/// Sentinel has no replication section).
pub fn info_of(at: &Endpoint) -> Option<String> {
    let mut c = Conn::connect(at, IO).ok()?;
    let info = text(&c.call(&["INFO", "replication"]).ok()?)?;
    if !info.trim().is_empty() {
        return Some(info);
    }
    text(&c.call(&["INFO", "sentinel"]).ok()?)
}

/// A listener per Sentinel, sending its published events to `tx` until
/// the run stops.
pub fn listen_all(
    nodes: &[RealNode],
    env: &Env,
    tx: &mpsc::Sender<Event>,
) -> Vec<std::thread::JoinHandle<()>> {
    (nodes.iter().filter(|r| r.sentinel))
        .map(|r| {
            let (tx, stop, node, t0) = (tx.clone(), env.stop.clone(), r.node as u32, env.t0);
            let at = env.admin[r.node].clone();
            std::thread::spawn(move || listen(&at, node, t0, &tx, &stop))
        })
        .collect()
}

/// The plan's workload clients, each on a thread that returns its history
/// when it stops (at its stop time, or with the run).
pub fn start_clients(plan: &Plan, env: &Env, net: &Net) -> Vec<std::thread::JoinHandle<Vec<Op>>> {
    let mut clients = Vec::new();
    let mut id = 0;
    for (i, n) in plan.nodes.iter().enumerate() {
        if let NodeKind::Client(spec) = &n.kind {
            id += 1;
            // The harness's client has no slot routing.
            if matches!(spec.discovery, crate::client::Discovery::Cluster(_)) {
                continue;
            }
            let (spec, env, id, home) = (spec.clone(), env.clone(), id, net.home(i));
            clients.push(std::thread::spawn(move || {
                // A client lives in its own namespace, on its side of any
                // partition; so do the threads it starts.
                match home.as_deref().map(super::endpoint::enter_path) {
                    Some(Err(_)) => Vec::new(),
                    _ => workload::run(id, spec, env),
                }
            }));
        }
    }
    clients
}

/// The trace event a scripted fault is recorded as: as the simulator
/// records it ([`Fault::describe`]), but for REPLICAOF, whose master does
/// not listen at the plan's address here.
pub fn describe(plan: &Plan, a: &Fault) -> (u32, &'static str, String) {
    let d = a.describe(&plan.directory());
    let detail = match *a {
        Fault::ReplicaOf { node, .. } => format!("REPLICAOF on {}", plan.nodes[node].name),
        _ => d.detail,
    };
    (d.node as u32, d.event, detail)
}

/// Causes a scripted fault in the real processes.
pub fn apply<'a>(
    plan: &Plan,
    a: &Fault,
    procs: &mut Procs,
    net: &mut Net,
    shims: &mut Shims,
    real: &dyn Fn(usize) -> Option<&'a RealNode>,
    env: &Env,
) -> Result<(), String> {
    let node =
        |n: usize| real(n).ok_or_else(|| format!("{} is not a real process", plan.nodes[n].name));
    match *a {
        Fault::Kill(n) => {
            procs.signal(n, Sig::Kill)?;
            procs.reap(n, Duration::from_secs(2));
        }
        Fault::Shutdown(n) => {
            procs.signal(n, Sig::Term)?;
            procs.reap(n, Duration::from_secs(10));
        }
        Fault::Restart(n) => {
            let r = node(n)?;
            procs.spawn(n, &r.launch, Some(&r.dir.join("stderr")))?;
        }
        Fault::Pause(n) => procs.signal(n, Sig::Stop)?,
        Fault::ClockJump { node: n, by } => shims.clocks.jump(n, by)?,
        Fault::Resume(n) => procs.signal(n, Sig::Cont)?,
        Fault::ReplicaOf { node: n, master } => {
            let mut c = Conn::connect(&env.admin[n], IO).map_err(|e| format!("REPLICAOF: {e}"))?;
            let to = master.map(|m| (net.ip(m).to_string(), env.ports[m].to_string()));
            let args: Vec<&str> = match &to {
                None => vec!["REPLICAOF", "NO", "ONE"],
                Some((ip, p)) => vec!["REPLICAOF", ip, p],
            };
            match c.call(&args) {
                Ok(Frame::Simple(_)) => {}
                other => return Err(format!("REPLICAOF answered {other:?}")),
            }
        }
        Fault::DebugSleep { node: n, length } => {
            // Sent without waiting: the server answers when it wakes up.
            let mut c =
                Conn::connect(&env.admin[n], IO).map_err(|e| format!("DEBUG SLEEP: {e}"))?;
            let secs = format!("{:.6}", length as f64 / 1e6);
            c.send(&[b"DEBUG", b"SLEEP", secs.as_bytes()])
                .map_err(|e| format!("DEBUG SLEEP: {e}"))?;
            procs.hold(c);
        }
        // The sleep ends by itself.
        Fault::DebugSleepEnd(_) => {}
        Fault::Host { node: n, fault, .. } => shims.host.set(n, fault, true)?,
        Fault::HostEnd { node: n, fault } => shims.host.set(n, fault, false)?,
        Fault::ClientKillMaster(n) => {
            let mut c =
                Conn::connect(&env.admin[n], IO).map_err(|e| format!("CLIENT KILL: {e}"))?;
            match c.call(&["CLIENT", "KILL", "TYPE", "master"]) {
                Ok(Frame::Int(_)) => {}
                other => return Err(format!("CLIENT KILL TYPE master answered {other:?}")),
            }
        }
        Fault::Burst {
            node: n,
            writes,
            value_size,
        } => {
            let mut c = Conn::connect(&env.admin[n], Duration::from_secs(10))
                .map_err(|e| format!("burst: {e}"))?;
            for i in 0..writes {
                let k = format!("burst:{i}");
                let v = value(WriteTag { client: 0, seq: i }, value_size);
                c.send(&[b"SET", k.as_bytes(), &v])
                    .map_err(|e| format!("burst: {e}"))?;
            }
            for _ in 0..writes {
                c.read().map_err(|e| format!("burst: {e}"))?;
            }
        }
        Fault::Partition(ref groups) => {
            for (i, a) in groups.iter().enumerate() {
                for b in groups.iter().enumerate().filter(|(j, _)| *j != i) {
                    block(net, a, b.1)?;
                }
            }
        }
        Fault::PartitionOneWay { ref from, ref to } => block(net, from, to)?,
        Fault::Heal => {
            if let Net::Namespaces(ns) = net {
                ns.heal()?;
            }
        }
        Fault::ClusterFailover { node: n, mode } => {
            use crate::redis::cluster::failover::FailoverMode;
            let mut args = vec!["CLUSTER", "FAILOVER"];
            match mode {
                FailoverMode::Default => {}
                FailoverMode::Force => args.push("FORCE"),
                FailoverMode::Takeover => args.push("TAKEOVER"),
            }
            let mut c =
                Conn::connect(&env.admin[n], IO).map_err(|e| format!("CLUSTER FAILOVER: {e}"))?;
            match c.call(&args) {
                Ok(Frame::Simple(_)) => {}
                Ok(Frame::Error(e)) => return Err(format!("CLUSTER FAILOVER: {e}")),
                other => return Err(format!("CLUSTER FAILOVER answered {other:?}")),
            }
        }
        // Refused up front ([`unsupported`]), or not done for real yet.
        Fault::Crash(_) | Fault::Link { .. } => return Err("unsupported action".into()),
        Fault::Reshard { .. } => {
            return Err(
                "a reshard is not done on real processes yet (redis-cli --cluster reshard does it)"
                    .into(),
            );
        }
    }
    Ok(())
}

/// Drops every packet from a node of `from` to a node of `to`.
fn block(net: &mut Net, from: &[usize], to: &[usize]) -> Result<(), String> {
    let Net::Namespaces(ns) = net else {
        return Err("partitions need network namespaces".into());
    };
    for &a in from {
        for &b in to {
            ns.set_blocked(a, b, true)?;
        }
    }
    Ok(())
}

/// Sentinel events published at `at`, timed from `t0`, until `stop`.
fn listen(at: &Endpoint, node: u32, t0: Instant, tx: &mpsc::Sender<Event>, stop: &AtomicBool) {
    let Some(mut c) = (0..50).find_map(|_| {
        Conn::connect(at, Duration::from_millis(200))
            .ok()
            .or_else(|| {
                std::thread::sleep(Duration::from_millis(20));
                None
            })
    }) else {
        return;
    };
    let _ = c.set_read_timeout(Some(Duration::from_millis(100)));
    if c.call(&["PSUBSCRIBE", "*"]).is_err() {
        return;
    }
    while !stop.load(Ordering::Relaxed) {
        match c.read() {
            Ok(Frame::Array(Some(m))) if m.len() == 4 => {
                let (Some(chan), Some(payload)) = (text(&m[2]), text(&m[3])) else {
                    continue;
                };
                let _ = tx.send(Event {
                    t: t0.elapsed().as_micros() as Micros,
                    node,
                    source: Source::Sentinel,
                    level: Level::Notice,
                    event: chan.into(),
                    detail: payload,
                });
            }
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return,
        }
    }
}

/// Redis log lines (`pid:R dd Mon yyyy hh:mm:ss.mmm L message`, UTC) as
/// events timed from the run's start (`t0_wall`, µs since the epoch).
pub fn parse_log(text: &str, node: u32, t0_wall: u64) -> Vec<Event> {
    let day = 86_400_000_000u64;
    let t0_of_day = t0_wall % day;
    text.lines()
        .filter_map(|l| {
            let mut it = l.splitn(7, ' ');
            let _pid_role = it.next()?;
            let (_d, _m, _y) = (it.next()?, it.next()?, it.next()?);
            let hms = it.next()?;
            let level = it.next()?;
            let msg = it.next()?;
            let (h, rest) = hms.split_once(':')?;
            let (m, rest) = rest.split_once(':')?;
            let (s, milli) = rest.split_once('.')?;
            let of_day = ((h.parse::<u64>().ok()? * 60 + m.parse::<u64>().ok()?) * 60
                + s.parse::<u64>().ok()?)
                * 1_000_000
                + milli.parse::<u64>().ok()? * 1000;
            // Lines before the start (within half a day) count as time 0.
            let t = (of_day + day - t0_of_day) % day;
            let t = if t > day / 2 { 0 } else { t };
            let level = match level {
                "#" => Level::Warning,
                "-" => Level::Verbose,
                _ => Level::Notice,
            };
            Some(Event {
                t,
                node,
                source: Source::Log,
                level,
                event: "".into(),
                detail: msg.to_string(),
            })
        })
        .collect()
}

/// The name the simulator gives the kind of a Redis log line
/// ([`names::redis`]), for a real server's line, or "" for a line of no
/// kind the model prints. A name is the line's fixed text without its
/// variable parts: the line begins with it, or with its text up to a space
/// or colon and holds the rest further on (`*** NODE <id> possibly
/// failing`).
pub fn log_line_name(line: &str) -> &'static str {
    let fits = |name: &str| {
        line.starts_with(name)
            || (name.char_indices())
                .filter(|&(k, c)| k >= 8 && (c == ' ' || c == ':'))
                .any(|(k, _)| {
                    let (head, rest) = name.split_at(k);
                    line.starts_with(head) && line[head.len()..].contains(rest)
                })
    };
    (names::redis::ALL.iter().copied())
        .find(|name| fits(name))
        .unwrap_or("")
}

/// Acknowledged writes missing from the current state, and the node that
/// holds it: the running master with the most replicas (else the node
/// with the highest offset), read key by key, checked by the simulator's
/// own rule. At a run's end, the final state.
pub fn lost_writes(
    plan: &Plan,
    admin: &[Endpoint],
    history: &[Op],
) -> (Option<usize>, Vec<LostWrite>) {
    let mut best: Option<(bool, i64, i64, usize)> = None;
    for (n, node) in plan.nodes.iter().enumerate() {
        if !matches!(node.kind, NodeKind::Redis { .. }) {
            continue;
        }
        let Some(info) = info_of(&admin[n]) else {
            continue;
        };
        let f = |k: &str| crate::redis::info::field(&info, k).and_then(|v| v.parse::<i64>().ok());
        let master = crate::redis::info::field(&info, "role") == Some("master");
        let key = (
            master,
            f("connected_slaves").unwrap_or(0),
            f("master_repl_offset").unwrap_or(0),
            n,
        );
        let better = match best {
            None => true,
            Some(b) => {
                (
                    key.0,
                    if key.0 { key.1 } else { key.2 },
                    std::cmp::Reverse(key.3),
                ) > (b.0, if b.0 { b.1 } else { b.2 }, std::cmp::Reverse(b.3))
            }
        };
        if better {
            best = Some(key);
        }
    }
    let mut data = Dataset::default();
    if let Some((_, _, _, n)) = best
        && let Ok(mut c) = Conn::connect(&admin[n], IO)
    {
        let mut keys: Vec<&str> = history
            .iter()
            .flat_map(|o| o.keys())
            .map(|k| k.as_str())
            .collect();
        keys.sort_unstable();
        keys.dedup();
        for name in keys {
            if let Ok(Frame::Bulk(Some(v))) = c.call(&["GET", name]) {
                let value = match (parse_value(v.as_bytes()), v.parse::<i64>()) {
                    (Some(tag), _) => Value::Blob {
                        tag,
                        len: v.len() as u32,
                    },
                    (None, Ok(n)) => Value::Int(n),
                    (None, Err(_)) => Value::Text(v.as_str().into()),
                };
                data.set(name.into(), value);
            }
        }
    }
    let history = History::from_ops(history.iter().cloned());
    (best.map(|b| b.3), lost_acked_writes(&history, &data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_become_timed_events() {
        let t0 = 1_700_000_000_000_000u64; // 22:13:20 UTC
        let text = "12:M 14 Nov 2023 22:13:21.250 * Ready to accept connections\n\
                    12:M 14 Nov 2023 22:13:19.000 # Server initialized\n\
                    garbage\n";
        let ev = parse_log(text, 3, t0);
        assert_eq!(ev.len(), 2);
        assert_eq!(ev[0].t, 1_250_000);
        assert_eq!(ev[0].detail, "Ready to accept connections");
        assert_eq!(ev[0].node, 3);
        assert_eq!(ev[1].t, 0);
        assert_eq!(ev[1].level, Level::Warning);
    }

    #[test]
    fn real_log_lines_get_the_simulators_names() {
        let cases = [
            (
                "*** NODE 07c37dfeb235213a872192d90877d0cd55635b91 possibly failing",
                names::redis::POSSIBLY_FAILING,
            ),
            (
                "Marking node 07c37dfeb235213a872192d90877d0cd55635b91 as failing (quorum reached).",
                names::redis::MARKED_FAILING,
            ),
            (
                "Starting a failover election for epoch 7.",
                names::redis::ELECTION_STARTED,
            ),
            (
                "Failover election won: I'm the new master.",
                names::redis::ELECTION_WON,
            ),
            (
                "Full resync from master: 3f1e0c4b8a9d2e7f6a5b4c3d2e1f0a9b8c7d6e5f:0",
                names::redis::FULL_RESYNC,
            ),
            (
                "Clear FAIL state for node 07c37dfeb235213a872192d90877d0cd55635b91: is reachable again and nobody is serving its slots after some time.",
                names::redis::FAIL_CLEARED_NO_SERVER,
            ),
            (
                "Connecting to MASTER 127.0.0.1:7000",
                names::redis::CONNECTING_TO_MASTER,
            ),
            ("Background saving started by pid 42", ""),
            (
                "Failover auth granted to 07c3 () for epoch 7",
                names::redis::AUTH_GRANTED,
            ),
        ];
        for (line, name) in cases {
            assert_eq!(log_line_name(line), name, "{line}");
        }
    }
}
