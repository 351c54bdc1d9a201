//! `redsim lab --real`: the scenario's deployment as real redis-server and
//! redis-sentinel processes, started as `conform` starts them (loopback,
//! or network namespaces with `--netns`), with its workload clients, the
//! same prompt and the same live page as the simulated lab. The page is fed
//! from what the processes say: each one's INFO or SENTINEL replies a few
//! times a second ([`poll`], mapped to the page's fields by [`fields`]),
//! their logs, the faults the lab causes, the clients' operations, and the
//! acknowledged writes missing from the current master ([`observe`]).
//! Faults act on the real processes ([`act`]): signals by PID, restarts,
//! REPLICAOF, DEBUG SLEEP, CLUSTER FAILOVER, dropped packets between
//! namespaces. Every process is stopped by PID when the lab ends, however
//! it ends ([`Deployment`]'s guards). This module holds the loop: the
//! terminal, the page's requests and updates, the end.

mod act;
mod fields;
mod observe;
mod poll;

use std::collections::BTreeSet;
use std::io::Read as _;
use std::os::fd::AsFd as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rustix::event::{PollFd, PollFlags, Timespec, poll};

use super::LabArgs;
use super::http::{Http, Request};
use super::page::{FULL_UPDATE_EVERY, UPDATE_EVERY, a_while_ago, answer, forbid, page_may};
use super::record::Deployment as SessionText;
use crate::check::lost::LostWrite;
use crate::check::windows::Window;
use crate::conform::deploy::Deployment;
use crate::conform::deploy::{RealOptions, RunError};
use crate::conform::net::Net;
use crate::conform::real as harness;
use crate::conform::scratch::TempRoot;
use crate::conform::topology::{Binaries, Replication};
use crate::conform::workload::Env;
use crate::dashboard::data::{self, ClientView, NodeInfo, Summary};
use crate::dashboard::follow::Follow;
use crate::exit::{BAD_INPUT, ENVIRONMENT, OK};
use crate::history::Op;
use crate::scenario::{NodeKind, Plan};
use crate::time::{Micros, Secs, format_duration};
use crate::trace::Event;
use poll::{Ask, Reading};

/// How often the writes lost so far are counted again while a page follows
/// (each count reads every key the clients wrote from the current master).
const LOST_EVERY: Duration = Duration::from_secs(5);

/// Runs `redsim lab --real` until `quit`, a signal or `--duration`.
pub fn run(args: &LabArgs) -> u8 {
    crate::interrupt::install();
    let mut lab = match RealLab::start(args) {
        Ok(lab) => lab,
        Err((code, message)) => {
            crate::errln!("{message}");
            return code;
        }
    };
    let why = lab.serve();
    let now = lab.now();
    crate::outln!("lab: {why} at {}", Secs(now));
    lab.finish();
    if crate::interrupt::requested() {
        crate::interrupt::exit_status()
    } else {
        OK
    }
}

struct RealLab {
    plan: Plan,
    session_text: SessionText,
    deployment: Deployment,
    /// How the lab reaches each process (the workload's view, without
    /// its progress channel).
    env: Env,
    t0: Instant,
    t0_wall: u64,
    horizon: Micros,
    stop: Arc<AtomicBool>,
    follow: Follow,
    /// Events read but not yet old enough to show ([`SETTLE`]).
    pending: Vec<Event>,
    readings: Receiver<Reading>,
    ops: Receiver<Op>,
    threads: Vec<JoinHandle<()>>,
    clients: Vec<JoinHandle<Vec<Op>>>,
    /// Each process's log (whether it is a Sentinel's), how much of it
    /// was read, and the start of a line not yet whole.
    logs: Vec<(usize, bool, PathBuf, u64, Vec<u8>)>,
    /// Each server's role as its last log line gave it (`M`, `S`, `C`).
    log_roles: Vec<char>,
    /// Each Sentinel's whole run id, once read (to name its vote).
    myids: Vec<Option<String>>,
    blocked: BTreeSet<(u32, u32)>,
    fault_tables: Vec<toml::Table>,
    lost_count: Option<JoinHandle<(Option<usize>, Vec<LostWrite>)>>,
    last_lost: Instant,
    http: Option<Http>,
    last_update: Instant,
    last_full: Instant,
    stdin_open: bool,
    stdin_buf: Vec<u8>,
    quiet: bool,
    save_to: PathBuf,
    /// `--trace`: where the events shown are written when the lab ends.
    trace_to: Option<PathBuf>,
    /// `--save` was given, or `save` typed: the session's faults are saved
    /// again when it ends.
    save_on_exit: bool,
    /// The scratch directory's parent, removed after the deployment.
    _root: TempRoot,
}

impl RealLab {
    fn start(args: &LabArgs) -> Result<Self, (u8, String)> {
        let bad = |m: String| (BAD_INPUT, m);
        if args.speed != 1.0 {
            return Err(bad(format!(
                "--speed {}: real processes run at the wall clock's pace; --speed is for the simulated lab",
                args.speed
            )));
        }
        let super::Opened {
            file_name,
            text,
            original,
            seed,
            horizon,
        } = super::Opened::read(args)?;
        if u32::from(args.port_base) + original.nodes.len() as u32 > 65535 {
            return Err(bad(format!(
                "--port-base {}: the ports run past 65535",
                args.port_base
            )));
        }
        let session_text = SessionText::from_scenario(&text, seed, horizon, None)
            .map_err(|e| bad(format!("{file_name}: {e}")))?;
        let plan = crate::scenario::parse(&file_name, &session_text.text()).map_err(|e| {
            bad(format!(
                "{file_name}: its deployment alone does not parse: {e}"
            ))
        })?;
        let bins = binaries()?;
        let root = TempRoot::create().map_err(|e| (ENVIRONMENT, format!("lab: {e}")))?;
        let opts = RealOptions {
            bins,
            port_base: args.port_base,
            root: root.path().to_path_buf(),
            keep: false,
            netns: args.netns,
        };
        let http = match &args.http {
            Some(addr) => Some(Http::bind(addr).map_err(|e| (ENVIRONMENT, format!("lab: {e}")))?),
            None => None,
        };
        crate::conform::procs::close_inherited_fds_on_exec();
        let failed = |e: RunError| match e {
            RunError::Environment(m) => (ENVIRONMENT, format!("lab --real: {m}")),
            RunError::Interrupted => (crate::interrupt::exit_status(), "lab: interrupted".into()),
            RunError::Failed(m) => (BAD_INPUT, format!("lab --real: {m}")),
        };
        let mut deployment = Deployment::prepare(&plan, &Replication, &opts).map_err(failed)?;
        crate::outln!(
            "redsim lab --real: {} on real redis-server and redis-sentinel processes, for up to {}",
            original.name,
            format_duration(horizon)
        );
        crate::outln!("Starting {} processes …", deployment.nodes.len());
        deployment.start(&plan).map_err(failed)?;
        let t0 = Instant::now();
        let t0_wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as u64);
        let stop = Arc::new(AtomicBool::new(false));
        let (op_tx, ops) = mpsc::channel();
        let env = deployment.env(&plan, t0, stop.clone());
        let clients_env = Env {
            progress: Some(op_tx),
            ..env.clone()
        };
        let addrs = Arc::new(harness::addresses(
            &plan,
            &deployment.nodes,
            &deployment.net,
        ));
        let mut threads = Vec::new();
        let (reading_tx, readings) = mpsc::channel();
        for r in &deployment.nodes {
            let ask = match &plan.nodes[r.node].kind {
                NodeKind::Sentinel(conf) => Ask::Sentinel {
                    masters: conf
                        .masters
                        .iter()
                        .map(|m| m.master_name.to_string())
                        .collect(),
                },
                _ => Ask::Redis {
                    cluster: plan.cluster.is_some(),
                },
            };
            threads.push(poll::start(
                r.node,
                ask,
                env.admin[r.node].clone(),
                addrs.clone(),
                t0,
                stop.clone(),
                reading_tx.clone(),
            ));
        }
        let clients = harness::start_clients(&plan, &clients_env, &deployment.net);
        let nodes = node_infos(&plan, &deployment);
        let mut faults = vec!["kill", "pause"];
        if matches!(deployment.net, Net::Namespaces(_)) {
            faults.push("partition");
        }
        let demand = (plan.nodes.iter())
            .filter_map(|n| match &n.kind {
                NodeKind::Client(w) if runs_for_real(w) && w.commands.mix.writes() > 0.0 => {
                    Some(Window {
                        from: w.start,
                        to: w.stop,
                    })
                }
                _ => None,
            })
            .collect();
        let follow = Follow::new(
            &original.name,
            nodes,
            plan.cluster.is_some(),
            faults,
            100_000,
            demand,
        );
        let logs = (deployment.nodes.iter())
            .map(|r| (r.node, r.sentinel, r.log.clone(), 0, Vec::new()))
            .collect();
        let lab = Self {
            myids: vec![None; plan.nodes.len()],
            log_roles: vec!['M'; plan.nodes.len()],
            env,
            plan,
            session_text,
            deployment,
            t0,
            t0_wall,
            horizon,
            stop,
            follow,
            pending: Vec::new(),
            readings,
            ops,
            threads,
            clients,
            logs,
            blocked: BTreeSet::new(),
            fault_tables: Vec::new(),
            lost_count: None,
            last_lost: Instant::now(),
            http,
            last_update: Instant::now(),
            last_full: a_while_ago(FULL_UPDATE_EVERY),
            stdin_open: true,
            stdin_buf: Vec::new(),
            quiet: args.quiet,
            trace_to: args.trace.clone(),
            save_on_exit: args.save.is_some(),
            save_to: args
                .save
                .clone()
                .unwrap_or_else(|| super::DEFAULT_SAVE.into()),
            _root: root,
        };
        lab.banner();
        Ok(lab)
    }

    fn banner(&self) {
        for line in self.node_lines() {
            crate::outln!("{line}");
        }
        if let Some(h) = &self.http {
            crate::outln!("The live dashboard: http://{}/", h.addr);
        }
        let cluster_clients = (self.plan.nodes.iter())
            .filter(|n| matches!(&n.kind, NodeKind::Client(w) if !runs_for_real(w)))
            .count();
        if cluster_clients > 0 {
            crate::outln!(
                "The scenario's cluster clients do not run against real processes: connect your own (redis-cli -c, a cluster client) to the ports above."
            );
        }
        crate::outln!(
            "Type faults here (`help` lists them): kill, shutdown, restart, pause, resume, replicaof, debug-sleep, client-kill-master, cluster-failover, burst{}.",
            if matches!(self.deployment.net, Net::Namespaces(_)) {
                ", partition, heal"
            } else {
                " (partitions need --netns)"
            }
        );
    }

    /// Where each process listens (and, in a namespace, how to get there).
    fn node_lines(&self) -> Vec<String> {
        (self.deployment.nodes.iter())
            .map(|r| {
                let name = &self.plan.nodes[r.node].name;
                let addr = format!("{}:{}", self.deployment.net.ip(r.node), r.port);
                let pid = self
                    .deployment
                    .procs
                    .pid(r.node)
                    .map_or("down".into(), |p| format!("pid {p}"));
                match &self.deployment.net {
                    Net::Loopback => format!("  {name:<12} {addr:<16} ({pid})"),
                    Net::Namespaces(ns) => format!(
                        "  {name:<12} {addr:<16} ({pid}; ip netns exec {} redis-cli -p {})",
                        ns.name(r.node),
                        r.port
                    ),
                }
            })
            .collect()
    }

    fn now(&self) -> Micros {
        self.t0.elapsed().as_micros() as Micros
    }

    /// Serves until the session ends; says why it ended.
    fn serve(&mut self) -> &'static str {
        loop {
            if crate::interrupt::requested() {
                return "stopped by a signal";
            }
            if self.now() >= self.horizon {
                return "reached the end of --duration";
            }
            self.gather();
            self.update_pages();
            if self.wait_and_handle(Duration::from_millis(50)) {
                return "quit";
            }
        }
    }

    /// Sends following pages what changed, and counts the lost writes
    /// again now and then while one follows.
    fn update_pages(&mut self) {
        let Some(http) = self.http.as_mut() else {
            return;
        };
        if http.has_followers() && self.last_update.elapsed() >= UPDATE_EVERY {
            self.last_update = Instant::now();
            let full = self.last_full.elapsed() >= FULL_UPDATE_EVERY;
            if full {
                self.last_full = self.last_update;
            }
            if let Some(json) = self.follow.update(full) {
                http.broadcast(&json);
            }
            if self.lost_count.is_none() && self.last_lost.elapsed() >= LOST_EVERY {
                self.last_lost = Instant::now();
                let (plan, admin) = (self.plan.clone(), self.env.admin.clone());
                let history = self.follow.ops().to_vec();
                self.lost_count = Some(std::thread::spawn(move || {
                    harness::lost_writes(&plan, &admin, &history)
                }));
            }
        }
        http.flush();
    }

    /// Waits up to `wait` for typing or the page; true on `quit`.
    fn wait_and_handle(&mut self, wait: Duration) -> bool {
        let stdin = std::io::stdin();
        let (ready_stdin, ready_http) = {
            let mut fds: Vec<PollFd<'_>> = Vec::new();
            if self.stdin_open {
                fds.push(PollFd::from_borrowed_fd(stdin.as_fd(), PollFlags::IN));
            }
            let http_at = fds.len();
            if let Some(h) = &self.http {
                h.poll_fds(&mut fds);
            }
            let timeout = Timespec {
                tv_sec: 0,
                tv_nsec: i64::from(wait.subsec_nanos()),
            };
            match poll(&mut fds, Some(&timeout)) {
                Ok(_) | Err(rustix::io::Errno::INTR) => {}
                Err(e) => {
                    crate::errln!("lab: cannot wait for input: {e}");
                    return true;
                }
            }
            let ready = |f: &PollFd<'_>| !f.revents().is_empty();
            let s = self.stdin_open && ready(&fds[0]);
            let hs: Vec<usize> = (http_at..fds.len())
                .filter(|&j| ready(&fds[j]))
                .map(|j| j - http_at)
                .collect();
            (s, hs)
        };
        let ids = (self.http.as_mut()).map_or(Vec::new(), |h| h.ready(&ready_http));
        for id in ids {
            if self.serve_http(id) {
                return true;
            }
        }
        if let Some(h) = self.http.as_mut() {
            h.flush();
        }
        ready_stdin && self.read_prompt()
    }

    /// Answers the page's request on connection `id`; true on `quit`.
    fn serve_http(&mut self, id: u64) -> bool {
        let Some(http) = self.http.as_mut() else {
            return false;
        };
        let Some(i) = http.conns.iter().position(|c| c.id == id) else {
            return false;
        };
        let Some((id, request)) = http.read(i) else {
            return false;
        };
        match request {
            Request::Page => {
                let html = self.follow.page();
                if let Some(h) = self.http.as_mut() {
                    h.respond(id, "200 OK", "text/html; charset=utf-8", html.as_bytes());
                }
            }
            Request::Events => {
                if let Some(h) = self.http.as_mut() {
                    h.start_events(id);
                }
            }
            Request::Action(line) if !page_may(&line) => {
                if let Some(h) = self.http.as_mut() {
                    forbid(h, id);
                }
            }
            Request::Action(line) => {
                crate::outln!("lab: from the page: {line}");
                let mut said = Vec::new();
                let quit = self.act(&line, &mut said);
                if let Some(h) = self.http.as_mut() {
                    answer(h, id, &said);
                }
                self.last_update = a_while_ago(UPDATE_EVERY);
                self.last_full = a_while_ago(FULL_UPDATE_EVERY);
                return quit;
            }
        }
        false
    }

    /// Reads typed lines and acts on each; true on `quit`.
    fn read_prompt(&mut self) -> bool {
        let mut buf = [0u8; 4096];
        match std::io::stdin().read(&mut buf) {
            Ok(0) | Err(_) => self.stdin_open = false,
            Ok(n) => self.stdin_buf.extend_from_slice(&buf[..n]),
        }
        while let Some(end) = self.stdin_buf.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.stdin_buf.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line).trim().to_string();
            let mut said = Vec::new();
            let quit = self.act(&line, &mut said);
            for l in said {
                crate::outln!("{l}");
            }
            if quit {
                return true;
            }
        }
        false
    }

    /// Ends the session: counts the writes lost (reading the current
    /// master while the processes still run), prints the outcome, saves if
    /// asked; the processes are stopped when the lab is dropped.
    fn finish(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let mut history: Vec<Op> = Vec::new();
        for c in std::mem::take(&mut self.clients) {
            history.extend(c.join().unwrap_or_default());
        }
        for t in std::mem::take(&mut self.threads) {
            let _ = t.join();
        }
        self.read_logs();
        let rest = std::mem::take(&mut self.pending);
        self.follow.push_events(rest);
        // The clients sent every operation as it completed.
        for op in self.ops.try_iter() {
            self.follow.push_op(op);
        }
        history.sort_by_key(|o| (o.invoked, o.client, o.seq));
        if let Some(h) = self.lost_count.take() {
            let _ = h.join();
        }
        let (node, lost) = harness::lost_writes(&self.plan, &self.env.admin, &history);
        self.follow.set_lost(node, lost);
        self.follow.set_now(self.now());
        let (client, summary) = self.follow.client_and_summary();
        crate::out!("\n{}", outcome_text(&summary, &client));
        if self.save_on_exit
            && let Err(e) = self.save(&self.save_to)
        {
            crate::errln!("lab: {e}");
        }
        if let Some(f) = &self.trace_to {
            let mut text = self.event_lines(0).join("\n");
            text.push('\n');
            if let Err(e) = crate::out::write_atomic(f, text.as_bytes()) {
                crate::errln!("lab: cannot write the events to {}: {e}", f.display());
            }
        }
    }
}

/// The session's outcome in a few lines: writes, lost writes with their
/// causes, the promotion and the longest time without a write.
fn outcome_text(s: &Summary, client: &ClientView) -> String {
    let mut out = format!(
        "writes: {} acknowledged, {} refused, {} indeterminate\n",
        s.acked, s.refused, s.indeterminate
    );
    match (&s.final_node, client.lost.len()) {
        (Some(n), 0) => out.push_str(&format!("lost writes: none (read from {n})\n")),
        (n, k) => {
            let from = n
                .as_deref()
                .map_or(String::new(), |n| format!(" (read from {n})"));
            out.push_str(&format!("lost writes: {k}{from}\n"));
            for l in client.lost.iter().take(10) {
                out.push_str(&format!(
                    "  {} written by {} #{} acknowledged at {}; {}\n",
                    l.key,
                    l.by,
                    l.seq,
                    Secs(l.acked_at),
                    client.reasons[l.reason]
                ));
            }
            if k > 10 {
                out.push_str(&format!("  … and {} more\n", k - 10));
            }
        }
    }
    if let Some(p) = &s.promoted {
        out.push_str(&format!("promoted: {p}\n"));
    }
    if let Some([from, to]) = s.unavailable {
        out.push_str(&format!(
            "longest without an acknowledged write: {} (from {} to {})\n",
            Secs(to - from),
            Secs(from),
            Secs(to)
        ));
    }
    out
}

/// Whether a workload client runs against real processes (a cluster
/// client does not: the harness's client has no slot routing).
fn runs_for_real(w: &crate::client::WorkloadSpec) -> bool {
    !matches!(w.discovery, crate::client::Discovery::Cluster(_))
}

/// The redis-server and redis-sentinel on PATH.
fn binaries() -> Result<Binaries, (u8, String)> {
    let find = |name| crate::conform::find_program(None, name);
    match (find("redis-server"), find("redis-sentinel")) {
        (Some(redis_server), Some(redis_sentinel)) => Ok(Binaries {
            redis_server,
            redis_sentinel,
        }),
        _ => Err((
            ENVIRONMENT,
            "lab --real: redis-server and redis-sentinel are needed on PATH (apt-get install redis-server redis-sentinel)".into(),
        )),
    }
}

/// The page's nodes: each process at its real address.
fn node_infos(plan: &Plan, d: &Deployment) -> Vec<NodeInfo> {
    (plan.nodes.iter().enumerate())
        .map(|(i, n)| {
            let real = d.real(i);
            NodeInfo {
                name: n.name.clone(),
                kind: data::kind_name(&n.kind),
                host: real.map_or(n.host.clone(), |_| d.net.ip(i).to_string()),
                port: real.map_or(n.port, |r| r.port),
                shard: data::shard(plan, i),
                published: None,
            }
        })
        .collect()
}
