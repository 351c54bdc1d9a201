//! A scenario brought to life: the processes, the scripted faults, and the
//! run that evaluates the scenario's expectations.

use std::rc::Rc;

use crate::check::availability;
use crate::check::lost::{LostWrite, lost_acked_writes};
use crate::check::split_brain::{self, Ack, TenureStart};
use crate::check::windows::Window;
use crate::check::{Expectation, Verdict};
use crate::client::cluster::ClusterClient;
use crate::client::reshard::{ReshardJob, Resharder};
use crate::client::{Discovery, Op, OpKind, Outcome, WorkloadClient};
use crate::proto::Msg;
use crate::proto::addr::Directory;
use crate::proto::keyspace::Dataset;
use crate::redis::cluster::failover::FailoverMode;
use crate::redis::{self, RedisServer};
use crate::scenario::liveness::{self, Liveness};
use crate::scenario::{Action, NodeKind, Plan};
use crate::sentinel::Sentinel;
use crate::sim::net::{ConnId, LinkParams, NodeId};
use crate::sim::time::{Micros, Secs, format_duration};
use crate::sim::{Ctx, Node, SimError, Simulation};

/// Every kind of process a scenario can contain.
pub enum Process {
    Redis(Box<RedisServer>),
    Client(Box<WorkloadClient>),
    ClusterClient(Box<ClusterClient>),
    Sentinel(Box<Sentinel>),
    Resharder(Box<Resharder>),
}

macro_rules! each {
    ($self:ident, $p:ident => $e:expr) => {
        match $self {
            Process::Redis($p) => $e,
            Process::Client($p) => $e,
            Process::ClusterClient($p) => $e,
            Process::Sentinel($p) => $e,
            Process::Resharder($p) => $e,
        }
    };
}

/// What a scenario can ask of a process directly: a Redis server's
/// operator commands, or a resharding job for the operator's redis-cli.
#[derive(Clone, Debug, PartialEq)]
pub enum Admin {
    Redis(redis::Admin),
    Reshard(ReshardJob),
}

impl Node for Process {
    type Msg = Msg;
    type Admin = Admin;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg>) {
        each!(self, p => p.on_start(ctx))
    }
    fn on_timer(&mut self, ctx: &mut Ctx<'_, Msg>, token: u64) {
        each!(self, p => p.on_timer(ctx, token))
    }
    fn on_accept(&mut self, ctx: &mut Ctx<'_, Msg>, conn: ConnId, peer: NodeId) {
        each!(self, p => p.on_accept(ctx, conn, peer))
    }
    fn on_connected(&mut self, ctx: &mut Ctx<'_, Msg>, conn: ConnId) {
        each!(self, p => p.on_connected(ctx, conn))
    }
    fn on_connect_failed(&mut self, ctx: &mut Ctx<'_, Msg>, conn: ConnId) {
        each!(self, p => p.on_connect_failed(ctx, conn))
    }
    fn on_message(&mut self, ctx: &mut Ctx<'_, Msg>, conn: ConnId, msg: Msg) {
        each!(self, p => p.on_message(ctx, conn, msg))
    }
    fn on_closed(&mut self, ctx: &mut Ctx<'_, Msg>, conn: ConnId) {
        each!(self, p => p.on_closed(ctx, conn))
    }
    fn on_admin(&mut self, ctx: &mut Ctx<'_, Msg>, cmd: Admin) {
        match (self, cmd) {
            (Process::Resharder(r), Admin::Reshard(job)) => r.submit(ctx, job),
            (Process::Redis(r), Admin::Redis(cmd)) => r.on_admin(ctx, cmd),
            _ => {}
        }
    }
    fn on_kill(&mut self, now: Micros, power_loss: bool) {
        each!(self, p => p.on_kill(now, power_loss))
    }
    fn on_shutdown(&mut self, ctx: &mut Ctx<'_, Msg>) {
        each!(self, p => p.on_shutdown(ctx))
    }
}

/// Watches a run as it goes, for a recording (the dashboard): attached
/// before the first event, then sampled at the instants it asks for, after
/// every event of that instant. Sampling only stops the run loop between
/// events, so the run and its trace are the same with or without an
/// observer.
pub trait Observer {
    fn attach(&mut self, world: &mut World);
    /// The next instant after `now` to sample at (must be later than `now`).
    fn next_sample(&self, now: Micros) -> Micros;
    fn sample(&mut self, world: &World);
}

pub struct World {
    pub plan: Plan,
    /// Invariant violations found by [`run`] (when the scenario expects
    /// invariants, it samples them every 500 ms).
    pub violations: Vec<crate::check::invariants::Violation>,
    pub sim: Simulation<Process>,
    /// Node names plus `sim` for events about the whole network.
    pub names: Vec<String>,
    pub dir: Rc<Directory>,
    /// A recording observer, if any (see [`run_observed`]).
    pub observer: Option<Box<dyn Observer>>,
    /// Scripted actions that were not applied because they would have
    /// changed nothing (shown in the summary).
    pub warnings: Vec<String>,
}

impl World {
    pub fn new(plan: &Plan, seed: u64) -> World {
        let dir = Rc::new(Directory {
            names: plan.nodes.iter().map(|n| n.name.clone()).collect(),
            hosts: plan.nodes.iter().map(|n| n.host.clone()).collect(),
            ports: plan.nodes.iter().map(|n| n.port).collect(),
        });
        let mut client_id = 0;
        let layout = plan.cluster.as_ref().map(|c| {
            let mut rng = crate::sim::rng::stream(seed, "cluster-node-ids");
            Rc::new(redis::cluster::Layout {
                ids: c
                    .slots
                    .iter()
                    .map(|_| crate::proto::RunId::random(&mut rng))
                    .collect(),
                slots: c.slots.clone(),
                replica_of: c
                    .replica_of
                    .iter()
                    .map(|m| m.map(|m| m as NodeId))
                    .collect(),
            })
        });
        let nodes: Vec<Process> = plan
            .nodes
            .iter()
            .map(|n| match &n.kind {
                NodeKind::Redis { conf, replicaof } => {
                    let mut server = RedisServer::new(
                        n.name.clone(),
                        dir.clone(),
                        (**conf).clone(),
                        replicaof.map(|m| m as NodeId),
                    );
                    server.cluster_layout = layout.clone();
                    Process::Redis(Box::new(server))
                }
                NodeKind::Operator => Process::Resharder(Box::new(Resharder::new(dir.clone()))),
                NodeKind::Client(spec) if matches!(spec.discovery, Discovery::Cluster(_)) => {
                    client_id += 1;
                    Process::ClusterClient(Box::new(ClusterClient::new(
                        client_id,
                        spec.clone(),
                        dir.clone(),
                    )))
                }
                NodeKind::Client(spec) => {
                    client_id += 1;
                    Process::Client(Box::new(WorkloadClient::new(
                        client_id,
                        spec.clone(),
                        dir.clone(),
                    )))
                }
                NodeKind::Sentinel(conf) => Process::Sentinel(Box::new(Sentinel::new(
                    n.name.clone(),
                    dir.clone(),
                    conf.clone(),
                ))),
            })
            .collect();
        let mut sim = Simulation::new(seed, nodes, dir.names.clone(), plan.link.clone());
        sim.kernel.max_events = plan.max_events;
        for (i, (at, _)) in plan.faults.iter().enumerate() {
            sim.schedule_script(*at, i);
        }
        for i in 0..plan.nodes.len() {
            sim.start(i as NodeId);
        }
        let mut names = dir.names.clone();
        names.push("sim".into());
        World {
            plan: plan.clone(),
            violations: Vec::new(),
            sim,
            names,
            dir,
            observer: None,
            warnings: Vec::new(),
        }
    }

    /// Node index used for events about the network as a whole.
    fn sim_node(&self) -> u32 {
        self.plan.nodes.len() as u32
    }

    /// Runs until `t`, performing scripted faults on the way (and sampling
    /// for the observer, if there is one).
    pub fn run_until(&mut self, t: Micros) -> Result<(), SimError> {
        let Some(mut obs) = self.observer.take() else {
            return self.run_plain(t);
        };
        let mut result = Ok(());
        loop {
            let now = self.sim.now();
            let next = obs.next_sample(now).max(now + 1);
            if next > t {
                break;
            }
            result = self.run_plain(next);
            if result.is_err() {
                break;
            }
            obs.sample(self);
        }
        if result.is_ok() {
            result = self.run_plain(t);
        }
        self.observer = Some(obs);
        result
    }

    fn run_plain(&mut self, t: Micros) -> Result<(), SimError> {
        while let Some(i) = self.sim.run_until(t)? {
            let action = self.plan.faults[i].1.clone();
            self.apply(&action);
        }
        Ok(())
    }

    fn name(&self, n: usize) -> &str {
        &self.plan.nodes[n].name
    }

    fn group_names(&self, g: &[usize]) -> String {
        let names: Vec<&str> = g.iter().map(|&n| self.name(n)).collect();
        format!("{{{}}}", names.join(", "))
    }

    pub fn apply(&mut self, action: &Action) {
        if let Some(n) = liveness::process_target(action) {
            let now = match self.sim.process_state(n as NodeId) {
                (false, _) => Liveness::Down,
                (true, true) => Liveness::Stopped,
                (true, false) => Liveness::Running,
            };
            if let Err(no) = liveness::judge(now, action) {
                // Scenario files cannot script this and the fuzzer never
                // draws it; a fault that does nothing is not logged as done.
                self.warnings.push(format!(
                    "{} of {} at {} does nothing: {}; not applied",
                    no.what,
                    self.name(n),
                    Secs(self.sim.now()),
                    no.reason
                ));
                return;
            }
        }
        let k = |s: &mut Self, node: usize, event: &'static str, detail: String| {
            s.sim.kernel.log_sim(node as u32, event, detail);
        };
        match *action {
            Action::Kill(n) => {
                k(self, n, "kill", format!("SIGKILL {}", self.name(n)));
                self.sim.kill(n as NodeId, false);
            }
            Action::Crash(n) => {
                k(
                    self,
                    n,
                    "crash",
                    format!("power loss on {}'s host", self.name(n)),
                );
                self.sim.kill(n as NodeId, true);
            }
            Action::Shutdown(n) => {
                k(self, n, "shutdown", format!("SIGTERM {}", self.name(n)));
                self.sim.shutdown(n as NodeId);
            }
            Action::Restart(n) => {
                k(self, n, "restart", format!("{} started", self.name(n)));
                self.sim.start(n as NodeId);
            }
            Action::Pause(n) => {
                k(self, n, "pause", format!("SIGSTOP {}", self.name(n)));
                self.sim.pause(n as NodeId);
            }
            Action::Resume(n) => {
                k(self, n, "resume", format!("SIGCONT {}", self.name(n)));
                self.sim.resume(n as NodeId);
            }
            Action::Partition(ref groups) => {
                let desc: Vec<String> = groups.iter().map(|g| self.group_names(g)).collect();
                let s = self.sim_node() as usize;
                k(self, s, "partition", desc.join(" | "));
                for (i, a) in groups.iter().enumerate() {
                    for (j, b) in groups.iter().enumerate() {
                        if i != j {
                            self.block(a, b, true);
                        }
                    }
                }
            }
            Action::PartitionOneWay { ref from, ref to } => {
                let s = self.sim_node() as usize;
                let d = format!(
                    "{} -> {} dropped",
                    self.group_names(from),
                    self.group_names(to)
                );
                k(self, s, "partition", d);
                self.block(from, to, true);
            }
            Action::Heal => {
                let s = self.sim_node() as usize;
                k(self, s, "heal", "all partitions healed".into());
                let all: Vec<usize> = (0..self.plan.nodes.len()).collect();
                self.block(&all, &all, false);
            }
            Action::Link {
                from,
                to,
                ref params,
                both_ways,
            } => {
                let d = describe_link(self.name(from), self.name(to), params, both_ways);
                let s = self.sim_node() as usize;
                k(self, s, "link", d);
                self.sim
                    .set_link(from as NodeId, to as NodeId, params.clone());
                if both_ways {
                    self.sim
                        .set_link(to as NodeId, from as NodeId, params.clone());
                }
            }
            Action::ClockJump { node, by } => {
                let d = crate::sim::time::clock_jump_text(self.name(node), by);
                k(self, node, "clock-jump", d);
                self.sim.clock_jump(node as NodeId, by);
            }
            Action::Burst {
                node,
                writes,
                value_size,
            } => {
                let d = format!("{writes} SETs of {value_size} bytes on {}", self.name(node));
                k(self, node, "burst", d);
                self.sim.admin(
                    node as NodeId,
                    Admin::Redis(redis::Admin::Burst { writes, value_size }),
                );
            }
            Action::Reshard {
                from,
                to,
                ref slots,
                batch,
            } => {
                let Some(op) = self.plan.nodes.iter().position(|n| n.name == "redis-cli") else {
                    return;
                };
                let d = format!(
                    "redis-cli --cluster reshard: {} slots from {} to {}",
                    slots.len(),
                    self.name(from),
                    self.name(to)
                );
                k(self, op, "reshard", d);
                let masters = (0..self.plan.nodes.len())
                    .filter(|&n| self.role(n) == Some("master"))
                    .map(|n| n as NodeId)
                    .collect();
                let job = ReshardJob {
                    from: from as NodeId,
                    to: to as NodeId,
                    slots: slots.clone(),
                    batch,
                    masters,
                };
                self.sim.admin(op as NodeId, Admin::Reshard(job));
            }
            Action::ClusterFailover { node, mode } => {
                let word = match mode {
                    FailoverMode::Default => "",
                    FailoverMode::Force => " FORCE",
                    FailoverMode::Takeover => " TAKEOVER",
                };
                let d = format!("CLUSTER FAILOVER{word} on {}", self.name(node));
                k(self, node, "cluster-failover", d);
                self.sim.admin(
                    node as NodeId,
                    Admin::Redis(redis::Admin::ClusterFailover(mode)),
                );
            }
            Action::DebugSleep { node, length } => {
                let d = format!(
                    "DEBUG SLEEP {} on {}",
                    format_duration(length),
                    self.name(node)
                );
                k(self, node, "debug-sleep", d);
                self.sim.pause(node as NodeId);
            }
            Action::DebugSleepEnd(n) => {
                k(
                    self,
                    n,
                    "debug-sleep-end",
                    format!("DEBUG SLEEP on {} returns", self.name(n)),
                );
                self.sim.resume(n as NodeId);
            }
            Action::ClientKillMaster(n) => {
                k(
                    self,
                    n,
                    "client-kill",
                    format!("CLIENT KILL TYPE master on {}", self.name(n)),
                );
                self.sim
                    .admin(n as NodeId, Admin::Redis(redis::Admin::ClientKillMaster));
            }
            Action::ReplicaOf { node, master } => {
                let d = match master {
                    None => format!("REPLICAOF NO ONE on {}", self.name(node)),
                    Some(m) => format!(
                        "REPLICAOF {} {} on {}",
                        self.plan.nodes[m].host,
                        self.plan.nodes[m].port,
                        self.name(node)
                    ),
                };
                k(self, node, "replicaof", d);
                self.sim.admin(
                    node as NodeId,
                    Admin::Redis(redis::Admin::ReplicaOf(master.map(|m| m as NodeId))),
                );
            }
        }
    }

    fn block(&mut self, from: &[usize], to: &[usize], blocked: bool) {
        for &a in from {
            for &b in to {
                if a != b {
                    self.sim.set_blocked(a as NodeId, b as NodeId, blocked);
                }
            }
        }
    }

    pub fn redis(&self, n: usize) -> Option<&RedisServer> {
        match &self.sim.nodes[n] {
            Process::Redis(r) => Some(r),
            _ => None,
        }
    }

    pub fn sentinel(&self, n: usize) -> Option<&Sentinel> {
        match &self.sim.nodes[n] {
            Process::Sentinel(s) => Some(s),
            _ => None,
        }
    }

    /// Every Sentinel, with its node index.
    pub fn sentinels(&self) -> impl Iterator<Item = (usize, &Sentinel)> {
        self.sim
            .nodes
            .iter()
            .enumerate()
            .filter_map(|(i, p)| match p {
                Process::Sentinel(s) => Some((i, &**s)),
                _ => None,
            })
    }

    pub fn proc(&self, n: usize) -> Option<&redis::Proc> {
        self.redis(n).and_then(|r| r.proc.as_ref())
    }

    /// `INFO replication` of a node now, or None if it is not running.
    pub fn info(&self, n: usize) -> Option<String> {
        let p = self.proc(n)?;
        let mut s = redis::info::replication(p, &self.dir, self.sim.kernel.local_time(n as NodeId));
        if let Some(c) = &p.cluster {
            s.push_str("\r\n# CLUSTER INFO\r\n");
            s.push_str(&c.info());
            s.push_str("\r\n# CLUSTER NODES\r\n");
            s.push_str(&c.nodes_description(&self.dir));
        }
        Some(s)
    }

    /// "master" or "replica" for a running Redis node.
    pub fn role(&self, n: usize) -> Option<&'static str> {
        self.proc(n).map(|p| {
            if p.replica.is_some() {
                "replica"
            } else {
                "master"
            }
        })
    }

    pub fn history(&self) -> Vec<&Op> {
        let mut ops: Vec<&Op> = self
            .sim
            .nodes
            .iter()
            .filter_map(|p| match p {
                Process::Client(c) => Some(c.history.iter()),
                Process::ClusterClient(c) => Some(c.history.iter()),
                _ => None,
            })
            .flatten()
            .collect();
        ops.sort_by_key(|o| (o.invoked, o.client, o.seq));
        ops
    }

    /// The node whose data counts as the final state: the running master
    /// with the most replicas (lowest index on a tie); with no master
    /// running, the running node with the highest replication offset.
    pub fn final_node(&self) -> Option<usize> {
        let running: Vec<usize> = (0..self.plan.nodes.len())
            .filter(|&n| self.proc(n).is_some())
            .collect();
        let masters = running
            .iter()
            .filter(|&&n| self.role(n) == Some("master"))
            .max_by_key(|&&n| {
                (
                    self.proc(n).map_or(0, |p| p.replicas.len()),
                    std::cmp::Reverse(n),
                )
            });
        masters.copied().or_else(|| {
            running
                .iter()
                .max_by_key(|&&n| {
                    (
                        self.proc(n).map_or(0, |p| p.master_repl_offset),
                        std::cmp::Reverse(n),
                    )
                })
                .copied()
        })
    }

    pub fn lost_writes(&self) -> Vec<LostWrite> {
        if self.plan.cluster.is_some() {
            return lost_acked_writes(&self.history(), &self.cluster_final_data());
        }
        let empty = Dataset::default();
        let data = self
            .final_node()
            .and_then(|n| self.proc(n))
            .map_or(&empty, |p| &p.data);
        lost_acked_writes(&self.history(), data)
    }

    /// The spans in which some client wanted to write: each writing
    /// workload's `[start, stop]`, cut at the end of the run so far.
    pub fn write_demand(&self) -> Vec<Window> {
        let end = self.sim.now().min(self.plan.duration);
        self.plan
            .nodes
            .iter()
            .filter_map(|n| match &n.kind {
                NodeKind::Client(w) if w.reads < 1.0 && w.start < end => Some(Window {
                    from: w.start,
                    to: w.stop.min(end),
                }),
                _ => None,
            })
            .collect()
    }

    /// The run's write unavailability: the longest stretch in which clients
    /// wanted to write and none got a write acknowledged. The summary, the
    /// `max-unavailability` expectation, `sweep`, `fuzz`, `explain` and the
    /// dashboard all report this one figure.
    pub fn write_unavailability(&self) -> Option<Window> {
        let acks: Vec<Micros> = self
            .history()
            .iter()
            .filter(|o| o.kind == OpKind::Set && o.outcome.is_ok())
            .filter_map(|o| o.completed)
            .collect();
        availability::longest_write_gap(&acks, &self.write_demand())
    }

    /// The instants each Redis node began a new tenure in which it could
    /// acknowledge writes: a restart, a promotion (a new replication ID), a
    /// resume after SIGSTOP or DEBUG SLEEP.
    fn tenure_starts(&self) -> Vec<TenureStart> {
        self.sim
            .kernel
            .trace
            .events
            .iter()
            .filter(|e| {
                matches!(
                    e.event.as_ref(),
                    "restart" | "resume" | "debug-sleep-end" | "Setting secondary replication ID"
                )
            })
            .map(|e| TenureStart {
                node: e.node,
                at: e.t,
            })
            .collect()
    }

    /// Windows in which two nodes acknowledged writes to the same data as
    /// masters (in a cluster: to keys of the same slot, outside a reshard of
    /// it), from per-tenure write spans (see `check::split_brain`).
    pub fn two_writable_masters(&self, history: &[&Op]) -> Vec<(u32, u32, Window)> {
        let starts = self.tenure_starts();
        let acks = |ops: &[&Op]| -> Vec<Ack> {
            ops.iter()
                .filter(|o| o.kind == OpKind::Set && o.outcome.is_ok())
                .filter_map(|o| o.completed.map(|at| Ack { node: o.node, at }))
                .collect()
        };
        if self.plan.cluster.is_none() {
            let spans = split_brain::write_spans(&acks(history), &starts);
            return split_brain::overlaps(&spans);
        }
        // During a reshard a slot's source and target both serve it (each
        // key on one of them): writes to the moving slots then are no split
        // brain. Masters of different slots accept writes side by side.
        let moving = self.reshard_windows();
        let mut by_slot: std::collections::BTreeMap<u16, Vec<&Op>> = Default::default();
        for o in history {
            let slot = crate::proto::slots::key_hash_slot(o.key_name().as_bytes());
            let t = o.completed.unwrap_or(o.invoked);
            let resharding = moving
                .iter()
                .any(|(slots, a, b)| slots.contains(&slot) && t >= *a && t <= *b);
            if !resharding {
                by_slot.entry(slot).or_default().push(o);
            }
        }
        let mut found = Vec::new();
        for ops in by_slot.values() {
            let spans = split_brain::write_spans(&acks(ops), &starts);
            found.extend(split_brain::overlaps(&spans));
        }
        split_brain::merge_pairs(found)
    }

    /// Each reshard's slots and the span from its start to the end of the
    /// operator's run (or of the scenario, if it never finished).
    fn reshard_windows(&self) -> Vec<(Vec<u16>, Micros, Micros)> {
        let Some(op) = self.plan.node_index("redis-cli") else {
            return Vec::new();
        };
        let ends: Vec<Micros> = self
            .sim
            .kernel
            .trace
            .events
            .iter()
            .filter(|e| {
                e.node as usize == op
                    && matches!(e.event.as_ref(), "Resharding done" | "Resharding aborted")
            })
            .map(|e| e.t)
            .collect();
        let mut out = Vec::new();
        for (at, a) in &self.plan.faults {
            if let Action::Reshard { slots, .. } = a {
                let end = ends
                    .iter()
                    .copied()
                    .find(|&e| e >= *at)
                    .unwrap_or(self.plan.duration);
                out.push((slots.clone(), *at, end));
            }
        }
        out
    }

    /// A cluster's final state: each key as the running master that serves
    /// its slot (in that master's own view) holds it.
    pub fn cluster_final_data(&self) -> Dataset {
        use crate::proto::slots::key_hash_slot;
        let mut out = Dataset::default();
        for n in 0..self.plan.nodes.len() {
            let Some(p) = self.proc(n) else { continue };
            let Some(c) = p.cluster.as_ref().filter(|c| c.i_am_master()) else {
                continue;
            };
            for (k, v) in p.data.iter() {
                if c.slot_owner(key_hash_slot(k.as_bytes())) == Some(n as NodeId) {
                    out.set(k.clone(), v.clone());
                }
            }
        }
        out
    }

    /// Evaluates an expectation against the world as it is now.
    pub fn verdict(&self, e: &Expectation) -> Verdict {
        let description = e.describe(&self.names);
        let (holds, observed) = match e {
            Expectation::Role { node, role, .. } => {
                let r = self.role(*node);
                (
                    r == Some(role.as_str()),
                    r.unwrap_or("not running").to_string(),
                )
            }
            Expectation::Info {
                node,
                field,
                equals,
                ..
            } => {
                let v = self
                    .info(*node)
                    .and_then(|i| redis::info::field(&i, field).map(str::to_string));
                (
                    v.as_deref() == Some(equals.as_str()),
                    v.unwrap_or_else(|| "absent".into()),
                )
            }
            Expectation::Keys { node, count, .. } => match self.proc(*node) {
                Some(p) => (
                    count.holds(p.data.len() as u64),
                    format!("{} keys", p.data.len()),
                ),
                None => (false, "not running".into()),
            },
            Expectation::BusBytesPerMessage { node, count, .. } => {
                match self.proc(*node).and_then(|p| p.cluster.as_ref()) {
                    Some(c) => {
                        let (msgs, bytes) = c.stats_bus_sent.get();
                        let avg = bytes.checked_div(msgs).unwrap_or(0);
                        (
                            msgs > 0 && count.holds(avg),
                            format!(
                                "{avg} bytes ({msgs} messages, {bytes} bytes; the header alone \
                                 is {} bytes, 2048 of them the slot bitmap)",
                                crate::proto::bus::HEADER_BYTES
                            ),
                        )
                    }
                    None => (false, "not running".into()),
                }
            }
            Expectation::Event {
                node,
                name,
                count,
                after,
                before,
            } => {
                let n = self.count_events(*node, name, *after, *before);
                (count.holds(n), format!("{n} times"))
            }
            Expectation::Resync {
                node,
                kind,
                count,
                after,
                before,
            } => {
                let n = self.count_events(Some(*node), kind.replica_event(), *after, *before);
                (count.holds(n), format!("{n} times"))
            }
            Expectation::LostAckedWrites(c) => {
                let lost = self.lost_writes();
                let n = lost.len() as u64;
                let first = lost
                    .first()
                    .map(|l| {
                        format!(
                            " (first: key:{} by client-{} acked at {})",
                            l.key,
                            l.client,
                            Secs(l.acked_at)
                        )
                    })
                    .unwrap_or_default();
                (c.holds(n), format!("{n}{first}"))
            }
            Expectation::LostWaitedWrites(c) => {
                let history = self.history();
                let n = self
                    .lost_writes()
                    .iter()
                    .filter(|l| {
                        history.iter().any(|o| {
                            o.client == l.client && o.seq == l.seq && o.wait_acked >= Some(1)
                        })
                    })
                    .count() as u64;
                (c.holds(n), n.to_string())
            }
            Expectation::MaxUnavailability(max) => match self.write_unavailability() {
                Some(gap) => (
                    gap.len() <= *max,
                    format!(
                        "{} from {} to {}",
                        Secs(gap.len()),
                        Secs(gap.from),
                        Secs(gap.to)
                    ),
                ),
                None => (true, "no gap".into()),
            },
            Expectation::Converged { .. } => match crate::check::invariants::converged(self) {
                Ok(()) => (true, "converged".into()),
                Err(why) => (false, why),
            },
            Expectation::StaleReads(c) => {
                let n = crate::check::stale::stale_reads(&self.history()).len() as u64;
                (c.holds(n), format!("{n}"))
            }
            Expectation::AckedWrites(c) => {
                let n = self
                    .history()
                    .iter()
                    .filter(|o| o.kind == crate::client::OpKind::Set && o.outcome.is_ok())
                    .count() as u64;
                (c.holds(n), format!("{n}"))
            }
            Expectation::Invariant(name) => {
                match self.violations.iter().find(|v| v.property == name) {
                    Some(v) => (false, v.detail.clone()),
                    None => (true, "holds".into()),
                }
            }
            Expectation::ClientErrors { prefix, count } => {
                let n = self
                    .history()
                    .iter()
                    .filter(|o| matches!(&o.outcome, Outcome::Error(e) if e.starts_with(prefix.as_str())))
                    .count() as u64;
                (count.holds(n), format!("{n}"))
            }
        };
        Verdict {
            description,
            holds,
            observed,
        }
    }

    fn count_events(
        &self,
        node: Option<usize>,
        name: &str,
        after: Option<Micros>,
        before: Option<Micros>,
    ) -> u64 {
        self.sim
            .kernel
            .trace
            .events
            .iter()
            .filter(|e| e.event == name)
            .filter(|e| node.is_none_or(|n| e.node as usize == n))
            .filter(|e| after.is_none_or(|a| e.t >= a) && before.is_none_or(|b| e.t <= b))
            .count() as u64
    }
}

fn describe_link(from: &str, to: &str, p: &LinkParams, both: bool) -> String {
    let arrow = if both { "<->" } else { "->" };
    let bw = if p.bandwidth == 0 {
        "unlimited".to_string()
    } else {
        format!("{} bytes/s", p.bandwidth)
    };
    format!(
        "{from} {arrow} {to}: latency {} jitter {} bandwidth {bw} loss {}",
        format_duration(p.latency),
        format_duration(p.jitter),
        p.loss
    )
}

/// A finished run: the world at the end and every expectation's verdict.
pub struct RunOutcome {
    pub world: World,
    pub verdicts: Vec<Verdict>,
}

/// Runs a plan to its end, checking expectations at their times (and, if
/// any expectation names an invariant, sampling invariants every 500 ms).
pub fn run(plan: &Plan, seed: u64) -> Result<RunOutcome, SimError> {
    run_observed(plan, seed, None)
}

/// [`run`] with an observer attached before the first event; it stays in
/// the outcome's world (`world.observer`) for the caller to take back.
pub fn run_observed(
    plan: &Plan,
    seed: u64,
    observer: Option<Box<dyn Observer>>,
) -> Result<RunOutcome, SimError> {
    use crate::check::invariants::{Monitor, evaluate};
    let mut world = World::new(plan, seed);
    if let Some(mut obs) = observer {
        obs.attach(&mut world);
        world.observer = Some(obs);
    }
    let properties: Vec<String> = plan
        .expects
        .iter()
        .filter_map(|e| match e {
            Expectation::Invariant(name) => Some(name.clone()),
            _ => None,
        })
        .collect();
    let mut monitor = (!properties.is_empty()).then(Monitor::default);
    let mut checkpoints: Vec<(Micros, Option<usize>)> = plan
        .expects
        .iter()
        .enumerate()
        .map(|(i, e)| (e.checkpoint().unwrap_or(plan.duration), Some(i)))
        .collect();
    if monitor.is_some() {
        let mut t = 0;
        while t < plan.duration {
            t = (t + 500_000).min(plan.duration);
            checkpoints.push((t, None));
        }
    }
    checkpoints.push((plan.duration, None));
    // Samples at a time come after the expectations checked at that time.
    checkpoints.sort_by_key(|&(t, i)| (t, i.is_none(), i));
    let mut verdicts: Vec<Option<Verdict>> = vec![None; plan.expects.len()];
    let mut deferred = Vec::new();
    for (at, i) in checkpoints {
        world.run_until(at)?;
        match i {
            Some(i) if matches!(plan.expects[i], Expectation::Invariant(_)) => deferred.push(i),
            Some(i) => verdicts[i] = Some(world.verdict(&plan.expects[i])),
            None => {
                if let Some(m) = monitor.as_mut() {
                    m.sample(&world);
                }
            }
        }
    }
    if let Some(m) = monitor {
        world.violations = evaluate(&world, m.violations, &properties);
    }
    for i in deferred {
        verdicts[i] = Some(world.verdict(&plan.expects[i]));
    }
    Ok(RunOutcome {
        world,
        verdicts: verdicts
            .into_iter()
            .map(|v| v.expect("every expectation checked"))
            .collect(),
    })
}
