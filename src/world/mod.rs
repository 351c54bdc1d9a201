//! A scenario brought to life: the processes, the scripted faults, and the
//! run that evaluates the scenario's expectations.

mod faults;
mod inspect;

use std::rc::Rc;

use crate::check::RunView as _;
use crate::check::{Expectation, Verdict};
use crate::client::cluster::ClusterClient;
use crate::client::reshard::{ReshardJob, Resharder};
use crate::client::{Discovery, WorkloadClient};
use crate::history::CommandLine;
use crate::proto::addr::Directory;
use crate::proto::{Ctx, Msg};
use crate::redis::{self, RedisNode};
use crate::scenario::{NodeKind, Plan};
use crate::sentinel::SentinelNode;
use crate::sim::net::{ConnId, NodeId};
use crate::sim::{Node, SimError, Simulation};
use crate::time::Micros;

/// Every kind of process a scenario can contain.
pub enum Process {
    Redis(Box<RedisNode>),
    Client(Box<WorkloadClient>),
    ClusterClient(Box<ClusterClient>),
    Sentinel(Box<SentinelNode>),
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
    /// A command line for the operator's redis-cli to send.
    Command(CommandLine),
    /// A fault that is a command, for the operator's redis-cli to send.
    FaultCommand(CommandLine),
    /// An outside connection opens (`[[connection]]`).
    Open {
        session: String,
        node: NodeId,
    },
    /// An outside connection's client hangs up.
    Close {
        session: String,
    },
}

/// What the scripted event with a given index performs: an index into the
/// plan's faults, command lines or outside connections.
#[derive(Clone, Copy, Debug)]
enum Script {
    Fault(usize),
    Command(usize),
    Open(usize),
    Close(usize),
}

/// A step a live driver (`redsim lab`) adds to a running world; it is
/// added to the plan too, so the plan, saved, replays the run.
#[derive(Clone, Debug)]
pub enum Step {
    Fault(crate::scenario::Fault),
    Command(CommandLine),
    /// An outside connection, opening at the instant it is injected at.
    Open(crate::scenario::connection::Connection),
    /// The outside connection of this session closes.
    Close(String),
}

impl Node for Process {
    type Msg = Msg;
    type Admin = Admin;

    fn on_start(&mut self, ctx: &mut Ctx<'_>) {
        each!(self, p => p.on_start(ctx))
    }
    fn on_timer(&mut self, ctx: &mut Ctx<'_>, token: u64) {
        each!(self, p => p.on_timer(ctx, token))
    }
    fn on_accept(&mut self, ctx: &mut Ctx<'_>, conn: ConnId, peer: NodeId) {
        each!(self, p => p.on_accept(ctx, conn, peer))
    }
    fn on_connected(&mut self, ctx: &mut Ctx<'_>, conn: ConnId) {
        each!(self, p => p.on_connected(ctx, conn))
    }
    fn on_connect_failed(&mut self, ctx: &mut Ctx<'_>, conn: ConnId) {
        each!(self, p => p.on_connect_failed(ctx, conn))
    }
    fn on_message(&mut self, ctx: &mut Ctx<'_>, conn: ConnId, msg: Msg) {
        each!(self, p => p.on_message(ctx, conn, msg))
    }
    fn on_closed(&mut self, ctx: &mut Ctx<'_>, conn: ConnId) {
        each!(self, p => p.on_closed(ctx, conn))
    }
    fn on_writable(&mut self, ctx: &mut Ctx<'_>, conn: ConnId) {
        each!(self, p => p.on_writable(ctx, conn))
    }
    fn on_admin(&mut self, ctx: &mut Ctx<'_>, cmd: Admin) {
        match (self, cmd) {
            (Process::Resharder(r), Admin::Reshard(job)) => r.submit(ctx, job),
            (Process::Resharder(r), Admin::Command(line)) => r.sessions.submit(ctx, line),
            (Process::Resharder(r), Admin::FaultCommand(line)) => {
                r.sessions.submit_fault(ctx, line)
            }
            (Process::Resharder(r), Admin::Open { session, node }) => {
                r.sessions.open(ctx, session, node)
            }
            (Process::Resharder(r), Admin::Close { session }) => r.sessions.close(ctx, &session),
            (Process::Redis(r), Admin::Redis(cmd)) => r.on_admin(ctx, cmd),
            _ => {}
        }
    }
    fn on_kill(&mut self, now: Micros, power_loss: bool) {
        each!(self, p => p.on_kill(now, power_loss))
    }
    fn on_shutdown(&mut self, ctx: &mut Ctx<'_>) {
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
    /// Scripted faults that were not applied because they would have
    /// changed nothing (shown in the summary).
    pub warnings: Vec<String>,
    /// What each scripted event performs, by its index.
    scripts: Vec<Script>,
}

impl World {
    pub fn new(plan: &Plan, seed: u64) -> World {
        let dir = Rc::new(plan.directory());
        let mut client_id = 0;
        let layout = plan.cluster.as_ref().map(|c| {
            let mut rng = crate::sim::rng::stream(seed, "cluster-node-ids");
            Rc::new(redis::cluster::Layout {
                ids: c
                    .slots
                    .iter()
                    .map(|_| crate::proto::RunId::random(&mut rng))
                    .collect(),
                slots: c.slots.iter().cloned().map(Rc::new).collect(),
                replica_of: c
                    .replica_of
                    .iter()
                    .map(|m| m.map(|m| m as NodeId))
                    .collect(),
                // Met at the address each node is known by: its published
                // one in the lab, as `redis-cli --cluster create` would be
                // given it.
                addrs: (0..c.slots.len())
                    .map(|i| {
                        let (ip, port) = dir.known_as(i as NodeId);
                        redis::cluster::NodeAddr::at(ip, port)
                    })
                    .collect(),
            })
        });
        let nodes: Vec<Process> = plan
            .nodes
            .iter()
            .map(|n| match &n.kind {
                NodeKind::Redis { conf, replicaof } => {
                    let mut server = RedisNode::new(
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
                NodeKind::Sentinel(conf) => Process::Sentinel(Box::new(SentinelNode::new(
                    n.name.clone(),
                    dir.clone(),
                    conf.clone(),
                ))),
            })
            .collect();
        let mut sim = Simulation::new(seed, nodes, dir.names.clone(), plan.link.clone());
        sim.kernel.max_events = plan.max_events;
        // Each host's wall clock is set apart from the others' by a
        // fraction of a second, as real hosts' are: a once-a-second check of
        // one process (`unixtime` ticking over) then meets a fault at its
        // own phase, not at the scenario's whole seconds.
        for (i, name) in dir.names.iter().enumerate() {
            use rand::RngExt as _;
            let mut rng = crate::sim::rng::stream(seed, &format!("clock/{name}"));
            sim.clock_jump(i as NodeId, rng.random_range(0..1_000_000i64));
        }
        // At one instant: faults, then connections opening, then command
        // lines, then connections closing.
        let mut scripts = Vec::new();
        let steps = (plan.faults.iter().enumerate())
            .map(|(i, (at, _))| (*at, Script::Fault(i)))
            .chain((plan.connections.iter().enumerate()).map(|(i, c)| (c.open, Script::Open(i))))
            .chain((plan.commands.iter().enumerate()).map(|(i, (at, _))| (*at, Script::Command(i))))
            .chain(
                (plan.connections.iter().enumerate())
                    .filter_map(|(i, c)| Some((c.close?, Script::Close(i)))),
            );
        for (at, script) in steps {
            sim.schedule_script(at, scripts.len());
            scripts.push(script);
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
            scripts,
        }
    }

    /// Adds a step at `at` (not before now) to the plan and to the run.
    pub fn inject(&mut self, at: Micros, step: Step) {
        let script = match step {
            Step::Fault(f) => {
                self.plan.faults.push((at, f));
                Script::Fault(self.plan.faults.len() - 1)
            }
            Step::Command(line) => {
                self.plan.commands.push((at, line));
                Script::Command(self.plan.commands.len() - 1)
            }
            Step::Open(mut c) => {
                c.open = at;
                self.plan.connections.push(c);
                Script::Open(self.plan.connections.len() - 1)
            }
            Step::Close(session) => {
                let Some(i) = (self.plan.connections.iter())
                    .position(|c| c.session == session && c.close.is_none())
                else {
                    return;
                };
                self.plan.connections[i].close = Some(at);
                Script::Close(i)
            }
        };
        self.sim.schedule_script(at, self.scripts.len());
        self.scripts.push(script);
    }

    /// Keeps what arrives on outside connections from now on, for a live
    /// driver to read with [`Self::take_tapped`] (the plan must have the
    /// operator's node, which holds those connections).
    pub fn tap_outside(&mut self) {
        if let Some(Process::Resharder(r)) = self.operator().map(|n| &mut self.sim.nodes[n]) {
            r.sessions.tap = Some(Vec::new());
        }
    }

    /// What arrived on outside connections since the last call.
    pub fn take_tapped(&mut self) -> Vec<crate::client::operator::Tapped> {
        match self.operator().map(|n| &mut self.sim.nodes[n]) {
            Some(Process::Resharder(r)) => r.sessions.tap.as_mut().map(std::mem::take),
            _ => None,
        }
        .unwrap_or_default()
    }

    /// The instant of the next event queued, if any.
    pub fn next_event(&self) -> Option<Micros> {
        self.sim.next_event()
    }

    /// The first instant from `wanted` on (and after now) that no queued
    /// event holds, with the world run up to just before it. A step
    /// injected there runs alone at its instant, before whatever it
    /// causes, exactly as it runs in a replay of the saved plan (where it
    /// was queued first).
    pub fn free_instant(&mut self, wanted: Micros) -> Result<Micros, SimError> {
        let mut t = wanted.max(self.sim.now() + 1);
        self.run_until(t - 1)?;
        while self.next_event() == Some(t) {
            self.run_until(t)?;
            t += 1;
        }
        Ok(t)
    }

    /// Installs (or removes) the observer of every message the network
    /// carries.
    pub fn set_wiretap(&mut self, tap: Option<Box<dyn crate::sim::Wiretap<Msg>>>) {
        self.sim.kernel.wiretap = tap;
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
            match self.scripts[i] {
                Script::Fault(i) => {
                    let fault = self.plan.faults[i].1.clone();
                    self.apply(&fault);
                    self.sim.show_all();
                }
                Script::Command(i) => {
                    let line = self.plan.commands[i].1.clone();
                    self.tell_operator(Admin::Command(line));
                }
                Script::Open(i) => {
                    let c = &self.plan.connections[i];
                    let (session, node) = (c.session.clone(), c.node as NodeId);
                    self.tell_operator(Admin::Open { session, node });
                }
                Script::Close(i) => {
                    let session = self.plan.connections[i].session.clone();
                    self.tell_operator(Admin::Close { session });
                }
            }
        }
        Ok(())
    }
}

impl World {
    /// Hands a line or a connection to the operator's redis-cli.
    fn tell_operator(&mut self, admin: Admin) {
        if let Some(op) = self.operator() {
            self.sim.admin(op as NodeId, admin);
        }
    }
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
        // A run stopped early (`stop`) checks later expectations at its end.
        .map(|(i, e)| {
            (
                e.checkpoint().unwrap_or(plan.duration).min(plan.duration),
                Some(i),
            )
        })
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
