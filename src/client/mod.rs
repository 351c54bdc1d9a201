//! Workload clients and the history they record. A client talks to one node,
//! one request at a time, at a configured rate; every operation is recorded
//! as invoked and then ok, error, timed out or cut off, so checkers know which
//! writes were acknowledged.

pub mod cluster;
mod link;
pub mod mix;
pub mod operator;
pub mod reshard;

use std::rc::Rc;

use crate::history::{Op, Outcome, Seen};
use crate::proto::addr::Directory;
use crate::proto::resp::Frame;
use crate::proto::{Cmd, Ctx, Msg, Reply, Value, WriteTag};
use crate::sim::net::{ConnId, NodeId};
use crate::sim::{Node, Timer};
use crate::time::{Micros, ms};
use crate::trace::Level;
use crate::trace::names;

use link::{Backoff, Deadline};

/// How a client finds the node to talk to.
#[derive(Clone, Debug, PartialEq)]
pub enum Discovery {
    /// Always this node.
    Direct(NodeId),
    /// Ask the Sentinels in turn (`SENTINEL get-master-addr-by-name`), check
    /// the answer with ROLE, and start over after any disconnect or timeout,
    /// as sentinel-clients.md prescribes.
    Sentinel {
        sentinels: Vec<NodeId>,
        master_name: compact_str::CompactString,
    },
    /// A Redis Cluster client: these are its seed nodes.
    Cluster(Vec<NodeId>),
}

/// What a workload does, from the scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkloadSpec {
    pub discovery: Discovery,
    /// Operations per second.
    pub rate: f64,
    /// Which commands, on which keys.
    pub commands: mix::Commands,
    pub start: Micros,
    pub stop: Micros,
    pub timeout: Micros,
    /// `WAIT <replicas> <timeout>` after each write.
    pub wait: Option<(u32, u64)>,
    /// Delay before reconnecting after a connection is lost or refused.
    pub reconnect_delay: Micros,
    /// The delay doubles after each failed attempt, up to this.
    pub reconnect_max_delay: Micros,
}

impl WorkloadSpec {
    /// Records the next operation of `client`, as drawn and invoked at
    /// `now` against `node`, as pending in the client's `history`; returns
    /// its index there and the command that performs it. Sequence numbers
    /// count the client's operations from 1.
    pub fn record(
        &self,
        history: &mut Vec<Op>,
        client: u32,
        draw: mix::Draw,
        node: NodeId,
        now: Micros,
    ) -> (usize, Cmd) {
        let seq = u32::try_from(history.len() + 1).expect("fewer than 2^32 operations");
        let cmd = self.commands.command(&draw, WriteTag { client, seq });
        let mut op = Op::pending(client, seq, draw.kind, draw.key, node, now);
        op.more_keys = draw.more_keys;
        history.push(op);
        (history.len() - 1, cmd)
    }

    /// The time between two operations at the workload's rate.
    fn interval(&self) -> Micros {
        ((1_000_000.0 / self.rate).round() as Micros).max(1)
    }

    /// Room for every operation the workload can send (one a tick over
    /// its window), so its history never grows by copying: a growing
    /// vector holds its old and new buffers at once, and fresh pages cost
    /// the kernel time to clear. Capped, since a huge window may never be
    /// used; the pages are only touched as operations are recorded.
    pub fn history_capacity(&self) -> usize {
        /// 4 Mi operations (about half a GiB of address space).
        const MAX_RESERVED: usize = 1 << 22;
        let window = self.stop.saturating_sub(self.start) as f64 / 1e6;
        ((self.rate * window).ceil() as usize + 1).min(MAX_RESERVED)
    }

    /// The delay from `now` to the first operation.
    fn first_tick(&self, now: Micros) -> Micros {
        self.start.saturating_sub(now)
    }
}

/// What a read found: the write that left the value, no value, or a
/// value no tagged write left (a counter).
fn seen(value: Option<&Value>) -> Seen {
    match value {
        None => Seen::Missing,
        Some(Value::Blob { tag, .. }) => Seen::Write(*tag),
        Some(_) => Seen::Counter,
    }
}

/// A reply as the workload reads it: an error (RESP or not), the values
/// read (GET, MGET), or a success.
enum Answer {
    Error(String),
    Read(Vec<Seen>),
    Int(i64),
    Done,
}

impl Answer {
    fn of(reply: Reply) -> Answer {
        match reply {
            Reply::Error(e) | Reply::Frame(Frame::Error(e)) => Answer::Error(e),
            Reply::Bulk(v) => Answer::Read(vec![seen(v.as_ref())]),
            Reply::Values(vs) => Answer::Read(vs.iter().map(|v| seen(v.as_ref())).collect()),
            Reply::Int(n) | Reply::Frame(Frame::Int(n)) => Answer::Int(n),
            _ => Answer::Done,
        }
    }
}

/// Ends `op` at `now` with `outcome`.
fn complete(op: &mut Op, now: Micros, outcome: Outcome) {
    op.completed = Some(now);
    op.outcome = outcome;
}

/// A workload client's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientTimer {
    /// The next operation is due, at the workload's rate.
    Tick,
    /// The deadline of the step in progress may have passed.
    Timeout,
    /// The backoff after a lost or refused connection is over.
    Reconnect,
    /// Time to subscribe to `+switch-master` on the next Sentinel.
    Resubscribe,
}

impl Timer for ClientTimer {
    fn encode(self) -> u64 {
        match self {
            ClientTimer::Tick => 0,
            ClientTimer::Timeout => 1,
            ClientTimer::Reconnect => 2,
            ClientTimer::Resubscribe => 3,
        }
    }

    fn decode(token: u64) -> Option<Self> {
        match token {
            0 => Some(ClientTimer::Tick),
            1 => Some(ClientTimer::Timeout),
            2 => Some(ClientTimer::Reconnect),
            3 => Some(ClientTimer::Resubscribe),
            _ => None,
        }
    }
}

/// Where the client is in finding and using its server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Down,
    /// Asking a Sentinel (by index) for the master's address.
    Resolving(usize),
    /// Connecting to a node; with `check_role`, ROLE must say master.
    Connecting {
        node: NodeId,
        check_role: bool,
    },
    Ready(NodeId),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// The SET (or GET) is in flight.
    Command,
    /// The WAIT after a SET is in flight.
    Wait,
}

pub struct WorkloadClient {
    pub id: u32,
    pub spec: WorkloadSpec,
    dir: Rc<Directory>,
    conn: Option<ConnId>,
    stage: Stage,
    inflight: Option<(usize, Phase)>,
    /// When the request or discovery step in progress times out.
    deadline: Deadline,
    reconnect_pending: bool,
    backoff: Backoff,
    /// Sentinel discovery: a connection to a Sentinel subscribed to
    /// `+switch-master`, and which Sentinel it is (index).
    sub_conn: Option<ConnId>,
    sub_idx: usize,
    /// A `+switch-master` named this node: move there before the next request.
    switch_to: Option<NodeId>,
    pub history: Vec<Op>,
    /// What became of each tick of the workload's rate.
    pub ticks: crate::history::Ticks,
}

impl WorkloadClient {
    pub fn new(id: u32, spec: WorkloadSpec, dir: Rc<Directory>) -> Self {
        let history = Vec::with_capacity(spec.history_capacity());
        Self {
            id,
            spec,
            dir,
            conn: None,
            stage: Stage::Down,
            inflight: None,
            deadline: Deadline::default(),
            reconnect_pending: false,
            backoff: Backoff::default(),
            sub_conn: None,
            sub_idx: 0,
            switch_to: None,
            history,
            ticks: crate::history::Ticks::default(),
        }
    }

    /// Starts finding the server: connect to it, or to the first Sentinel.
    fn connect(&mut self, ctx: &mut Ctx<'_>) {
        match &self.spec.discovery {
            Discovery::Direct(node) => {
                let node = *node;
                self.connect_to(ctx, node, false);
            }
            Discovery::Sentinel { .. } => self.ask_sentinel(ctx, 0),
            // Cluster workloads run as a ClusterClient; this one only
            // talks to the first seed.
            Discovery::Cluster(seeds) => {
                if let Some(&node) = seeds.first() {
                    self.connect_to(ctx, node, false);
                }
            }
        }
    }

    fn connect_to(&mut self, ctx: &mut Ctx<'_>, node: NodeId, check_role: bool) {
        self.conn = Some(ctx.connect(node));
        self.stage = Stage::Connecting { node, check_role };
        self.arm_deadline(ctx);
    }

    fn ask_sentinel(&mut self, ctx: &mut Ctx<'_>, idx: usize) {
        let Discovery::Sentinel { sentinels, .. } = &self.spec.discovery else {
            return;
        };
        let sentinel = sentinels[idx % sentinels.len()];
        self.conn = Some(ctx.connect(sentinel));
        self.stage = Stage::Resolving(idx);
        self.arm_deadline(ctx);
    }

    /// The current request or discovery step fails after the timeout.
    fn arm_deadline(&mut self, ctx: &mut Ctx<'_>) {
        self.deadline
            .arm(ctx, self.spec.timeout, ClientTimer::Timeout);
    }

    /// Waiting for something the deadline applies to.
    fn waiting(&self) -> bool {
        self.inflight.is_some()
            || matches!(self.stage, Stage::Resolving(_) | Stage::Connecting { .. })
    }

    /// The step in progress timed out.
    fn step_timed_out(&mut self, ctx: &mut Ctx<'_>) {
        if self.inflight.is_some() {
            self.finish(ctx, Outcome::Timeout);
        }
        // A timed-out connection is discarded, as client libraries do.
        if let Some(conn) = self.conn.take() {
            ctx.close(conn);
        }
        match self.stage {
            Stage::Resolving(i) => self.ask_sentinel(ctx, i + 1),
            _ => self.schedule_reconnect(ctx),
        }
    }

    /// Tries again after the current backoff, which doubles each time
    /// until the client is connected again.
    fn schedule_reconnect(&mut self, ctx: &mut Ctx<'_>) {
        self.conn = None;
        self.stage = Stage::Down;
        if !self.reconnect_pending {
            self.reconnect_pending = true;
            ctx.set_timer(self.backoff.next(&self.spec), ClientTimer::Reconnect);
        }
    }

    /// Connected and ready: the next failure starts the backoff afresh.
    fn ready(&mut self, ctx: &mut Ctx<'_>, node: NodeId) {
        self.stage = Stage::Ready(node);
        self.backoff.reset();
        self.issue(ctx);
    }

    /// Ends the operation in flight with `outcome`.
    fn finish(&mut self, ctx: &mut Ctx<'_>, outcome: Outcome) {
        if let Some((i, _)) = self.inflight.take() {
            complete(&mut self.history[i], ctx.sim_time(), outcome);
        }
    }

    /// Subscribes to `+switch-master` on a Sentinel, to follow failovers
    /// as soon as they are announced.
    fn subscribe(&mut self, ctx: &mut Ctx<'_>) {
        let Discovery::Sentinel { sentinels, .. } = &self.spec.discovery else {
            return;
        };
        let s = sentinels[self.sub_idx % sentinels.len()];
        self.sub_conn = Some(ctx.connect(s));
    }

    /// The subscription is gone: try the next Sentinel a little later.
    fn resubscribe_later(&mut self, ctx: &mut Ctx<'_>) {
        self.sub_conn = None;
        self.sub_idx += 1;
        ctx.set_timer(self.spec.reconnect_delay, ClientTimer::Resubscribe);
    }

    /// `+switch-master <name> <old ip> <old port> <new ip> <new port>`.
    fn switch_master(&mut self, payload: &str) {
        let Discovery::Sentinel { master_name, .. } = &self.spec.discovery else {
            return;
        };
        let f: Vec<&str> = payload.split(' ').collect();
        if f.len() == 5
            && f[0] == master_name.as_str()
            && let Ok(port) = f[4].parse::<u16>()
            && let Some(node) = self.dir.lookup(f[3], port)
            && self.stage != Stage::Ready(node)
        {
            self.switch_to = Some(node);
        }
    }

    fn issue(&mut self, ctx: &mut Ctx<'_>) {
        if let Some(node) = self.switch_to.take() {
            if let Some(conn) = self.conn.take() {
                ctx.close(conn);
            }
            self.connect_to(ctx, node, true);
            return;
        }
        let (Some(conn), Stage::Ready(node)) = (self.conn, self.stage) else {
            return;
        };
        let draw = self.spec.commands.draw(ctx.rng());
        let now = ctx.sim_time();
        let (i, cmd) = self
            .spec
            .record(&mut self.history, self.id, draw, node, now);
        self.inflight = Some((i, Phase::Command));
        self.send(ctx, conn, cmd);
    }

    fn send(&mut self, ctx: &mut Ctx<'_>, conn: ConnId, cmd: Cmd) {
        ctx.send(conn, Msg::Cmd(cmd));
        self.arm_deadline(ctx);
    }
}

impl Node for WorkloadClient {
    type Msg = Msg;
    type Admin = ();

    fn on_start(&mut self, ctx: &mut Ctx<'_>) {
        // Timers of a previous incarnation are gone.
        self.deadline = Deadline::default();
        self.reconnect_pending = false;
        self.sub_conn = None;
        self.switch_to = None;
        self.subscribe(ctx);
        ctx.set_timer(self.spec.first_tick(ctx.sim_time()), ClientTimer::Tick);
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_>, token: u64) {
        let Some(timer) = ClientTimer::decode(token) else {
            return;
        };
        match timer {
            ClientTimer::Tick => {
                let now = ctx.sim_time();
                if now >= self.spec.stop {
                    return;
                }
                self.ticks.total += 1;
                if self.conn.is_none() && !self.reconnect_pending {
                    self.ticks.unconnected += 1;
                    self.connect(ctx);
                } else if self.inflight.is_none() {
                    self.issue(ctx);
                } else {
                    self.ticks.busy += 1;
                }
                ctx.set_timer(self.spec.interval(), ClientTimer::Tick);
            }
            ClientTimer::Timeout => {
                let waiting = self.waiting();
                if self.deadline.expired(ctx, waiting, ClientTimer::Timeout) {
                    self.step_timed_out(ctx);
                }
            }
            ClientTimer::Resubscribe
                if self.sub_conn.is_none() && ctx.sim_time() < self.spec.stop =>
            {
                self.subscribe(ctx);
            }
            ClientTimer::Reconnect => {
                self.reconnect_pending = false;
                // A `+switch-master` may have connected it meanwhile: a
                // second attempt would orphan the request in flight there.
                if ctx.sim_time() < self.spec.stop && self.conn.is_none() {
                    self.connect(ctx);
                }
            }
            ClientTimer::Resubscribe => {}
        }
    }

    fn on_connected(&mut self, ctx: &mut Ctx<'_>, conn: ConnId) {
        if self.sub_conn == Some(conn) {
            ctx.send(
                conn,
                Msg::Cmd(Cmd::Subscribe(names::sentinel::SWITCH_MASTER.into())),
            );
            return;
        }
        if self.conn != Some(conn) {
            return;
        }
        match (self.stage, &self.spec.discovery) {
            (Stage::Resolving(_), Discovery::Sentinel { master_name, .. }) => {
                let name = master_name.clone();
                ctx.send(conn, Msg::Cmd(Cmd::GetMasterAddrByName(name)));
            }
            (
                Stage::Connecting {
                    check_role: true, ..
                },
                _,
            ) => {
                ctx.send(conn, Msg::Cmd(Cmd::Role));
            }
            (Stage::Connecting { node, .. }, _) => {
                self.ready(ctx, node);
            }
            _ => {}
        }
    }

    fn on_connect_failed(&mut self, ctx: &mut Ctx<'_>, conn: ConnId) {
        if self.sub_conn == Some(conn) {
            self.resubscribe_later(ctx);
            return;
        }
        if self.conn != Some(conn) {
            return;
        }
        match self.stage {
            Stage::Resolving(i) => self.ask_sentinel(ctx, i + 1),
            _ => self.schedule_reconnect(ctx),
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_>, conn: ConnId, msg: Msg) {
        if self.sub_conn == Some(conn) {
            if let Msg::Reply(reply) = &msg
                && let Some((channel, payload)) = reply.message()
                && channel == names::sentinel::SWITCH_MASTER
            {
                self.switch_master(payload);
            }
            return;
        }
        if self.conn != Some(conn) {
            return;
        }
        let Msg::Reply(reply) = msg else { return };
        match (self.stage, reply) {
            (Stage::Resolving(i), Reply::MasterAddr(Some((host, port)))) => {
                ctx.close(conn);
                match self.dir.lookup(&host, port) {
                    Some(node) => self.connect_to(ctx, node, true),
                    None => self.ask_sentinel(ctx, i + 1),
                }
            }
            (Stage::Resolving(i), _) => {
                ctx.close(conn);
                self.ask_sentinel(ctx, i + 1);
            }
            (Stage::Connecting { node, .. }, Reply::Role("master")) => {
                self.ready(ctx, node);
            }
            (Stage::Connecting { .. }, _) => {
                // Not (yet) the master: start over a little later.
                ctx.close(conn);
                self.schedule_reconnect(ctx);
            }
            (_, reply) => self.reply(ctx, conn, reply),
        }
    }

    fn on_closed(&mut self, ctx: &mut Ctx<'_>, conn: ConnId) {
        if self.sub_conn == Some(conn) {
            self.resubscribe_later(ctx);
            return;
        }
        self.closed(ctx, conn);
    }

    fn on_kill(&mut self, _now: Micros, _power_loss: bool) {
        self.conn = None;
        self.sub_conn = None;
        self.stage = Stage::Down;
        self.inflight = None;
    }
}

impl WorkloadClient {
    /// A reply to the operation in flight.
    fn reply(&mut self, ctx: &mut Ctx<'_>, conn: ConnId, reply: Reply) {
        let Some((i, phase)) = self.inflight else {
            return;
        };
        match (phase, Answer::of(reply)) {
            (Phase::Command, Answer::Error(e)) => self.finish(ctx, Outcome::Error(e)),
            (Phase::Command, Answer::Read(seen)) => {
                self.history[i].read = Some(seen);
                self.finish(ctx, Outcome::Ok);
            }
            (Phase::Command, Answer::Done | Answer::Int(_)) => match self.spec.wait {
                Some((replicas, timeout_ms)) if self.history[i].kind.is_write() => {
                    self.inflight = Some((i, Phase::Wait));
                    self.send(
                        ctx,
                        conn,
                        Cmd::Wait {
                            replicas,
                            timeout_ms,
                        },
                    );
                }
                _ => self.finish(ctx, Outcome::Ok),
            },
            (Phase::Wait, Answer::Int(n)) => {
                self.history[i].wait_acked = Some(n as u32);
                self.finish(ctx, Outcome::Ok);
            }
            // The write itself was acknowledged; a refused WAIT (on a
            // replica) leaves the replica count unknown.
            (Phase::Wait, _) => self.finish(ctx, Outcome::Ok),
        }
    }

    fn closed(&mut self, ctx: &mut Ctx<'_>, conn: ConnId) {
        if self.conn != Some(conn) {
            return;
        }
        if self.inflight.is_some() {
            self.finish(ctx, Outcome::ConnectionLost);
        }
        match self.stage {
            Stage::Resolving(i) => self.ask_sentinel(ctx, i + 1),
            _ => {
                ctx.log(
                    Level::Verbose,
                    "Connection closed by server",
                    "Connection closed by server, reconnecting".into(),
                );
                self.schedule_reconnect(ctx);
            }
        }
    }
}

/// Default delay before a client reconnects.
pub const DEFAULT_RECONNECT_DELAY: Micros = ms(100);

#[cfg(test)]
mod tests {
    use super::*;

    /// Against a node that is down, reconnect attempts back off: 100 ms,
    /// then 200, 400, 800 ms, then every second.
    #[test]
    fn reconnects_back_off_exponentially() {
        let spec = WorkloadSpec {
            discovery: Discovery::Direct(1),
            rate: 10.0,
            commands: mix::Commands {
                keys: crate::history::KeySet::numbered(10),
                mix: mix::Mix::Reads(0.0),
                multi_keys: 2,
                ttl: crate::time::secs(1),
                value_size: 10,
            },
            start: 0,
            stop: crate::time::secs(60),
            timeout: crate::time::secs(1),
            wait: None,
            reconnect_delay: ms(100),
            reconnect_max_delay: crate::time::secs(1),
        };
        let dir = Rc::new(Directory {
            names: vec!["client".into(), "down".into()],
            hosts: vec!["10.0.1.1".into(), "10.0.0.1".into()],
            ports: vec![40000, 6379],
            published: Vec::new(),
        });
        let nodes = vec![
            WorkloadClient::new(1, spec.clone(), dir.clone()),
            WorkloadClient::new(2, spec, dir),
        ];
        let names = vec!["client".into(), "down".into()];
        let mut sim = crate::sim::Simulation::new(1, nodes, names, Default::default());
        sim.start(0);
        let attempts_by = |sim: &mut crate::sim::Simulation<WorkloadClient>, t: Micros| {
            sim.run_until(t).expect("runs");
            sim.kernel.connections_opened()
        };
        // Attempts at ~0, 0.1, 0.3, 0.7, 1.5, 2.5, 3.5 s (each refusal takes
        // a round trip).
        assert_eq!(attempts_by(&mut sim, ms(50)), 1);
        assert_eq!(attempts_by(&mut sim, ms(1_000)), 4);
        assert_eq!(attempts_by(&mut sim, ms(3_000)), 6);
        assert_eq!(attempts_by(&mut sim, ms(10_000)), 13);
    }

    #[test]
    fn every_timer_survives_the_token() {
        use ClientTimer::*;
        for t in [Tick, Timeout, Reconnect, Resubscribe] {
            assert_eq!(ClientTimer::decode(t.encode()), Some(t));
        }
        assert_eq!(ClientTimer::decode(4), None);
    }
}
