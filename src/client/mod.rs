//! Workload clients and the history they record. A client talks to one node
//! at a configured rate, over one connection or several, each with one
//! request in flight or up to its `pipeline`; every operation is recorded as
//! invoked and then ok, error, timed out or cut off, so checkers know which
//! writes were acknowledged.

pub mod cluster;
mod link;
pub mod mix;
pub mod operator;
pub mod reshard;

use std::rc::Rc;

use crate::history::{Op, OpLog, Outcome, Seen};
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
    /// Connections the workload spreads its operations over.
    pub connections: u32,
    /// Requests each connection may have in flight at once.
    pub pipeline: u32,
}

impl WorkloadSpec {
    /// Records the next operation of `client`, as drawn and invoked at
    /// `now` against `node`, as pending in the client's `history`; returns
    /// its index there and the command that performs it. Sequence numbers
    /// count the client's operations from 1.
    pub fn record(
        &self,
        history: &mut OpLog,
        client: u32,
        draw: mix::Draw,
        node: NodeId,
        now: Micros,
    ) -> (usize, Cmd) {
        let seq = u32::try_from(history.len() + 1).expect("fewer than 2^32 operations");
        let cmd = self.commands.command(&draw, WriteTag { client, seq });
        let mut op = Op::pending(client, seq, draw.kind, draw.key, node, now);
        op.more_keys = draw.more_keys;
        (history.push_drawn(&op, draw.key_index), cmd)
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
/// A workload client's timers. A connection's own timers name it by its
/// index among the workload's connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientTimer {
    /// The next operation is due, at the workload's rate.
    Tick,
    /// The deadline of a connection's oldest request, or of its discovery
    /// step, may have passed.
    Timeout(u32),
    /// A connection's backoff after it was lost or refused is over.
    Reconnect(u32),
    /// Time to subscribe to `+switch-master` on the next Sentinel.
    Resubscribe,
}

impl Timer for ClientTimer {
    fn encode(self) -> u64 {
        let (kind, lane) = match self {
            ClientTimer::Tick => (0, 0),
            ClientTimer::Timeout(l) => (1, l),
            ClientTimer::Reconnect(l) => (2, l),
            ClientTimer::Resubscribe => (3, 0),
        };
        kind + 4 * u64::from(lane)
    }

    fn decode(token: u64) -> Option<Self> {
        let lane = u32::try_from(token / 4).ok()?;
        match (token % 4, lane) {
            (0, 0) => Some(ClientTimer::Tick),
            (1, l) => Some(ClientTimer::Timeout(l)),
            (2, l) => Some(ClientTimer::Reconnect(l)),
            (3, 0) => Some(ClientTimer::Resubscribe),
            _ => None,
        }
    }
}

/// Where a connection is in finding and using its server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Stage {
    #[default]
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

/// A request sent and not yet answered: the operation (its index in the
/// history), which of its commands, and when that was sent.
#[derive(Debug, Clone, Copy)]
struct Pending {
    op: usize,
    phase: Phase,
    sent: Micros,
}

/// One of a workload's connections. Each finds the server on its own (a
/// pooled client resolves the master per connection) and keeps up to
/// `pipeline` requests in flight, answered in the order sent.
#[derive(Debug, Default)]
struct Lane {
    conn: Option<ConnId>,
    stage: Stage,
    inflight: std::collections::VecDeque<Pending>,
    /// When the oldest request, or the discovery step in progress, times
    /// out.
    deadline: Deadline,
    reconnect_pending: bool,
    backoff: Backoff,
    /// A `+switch-master` named this node: move there once nothing is in
    /// flight, before the next request.
    switch_to: Option<NodeId>,
}

impl Lane {
    /// Waiting for something the deadline applies to.
    fn waiting(&self) -> bool {
        !self.inflight.is_empty()
            || matches!(self.stage, Stage::Resolving(_) | Stage::Connecting { .. })
    }

    /// Down, with no attempt to reconnect scheduled.
    fn idle(&self) -> bool {
        self.conn.is_none() && !self.reconnect_pending
    }

    /// Can take one more request now: ready, with room in its pipeline,
    /// and not about to move to another master with requests in flight.
    fn has_room(&self, pipeline: u32) -> bool {
        self.inflight.len() < pipeline as usize
            && (self.switch_to.is_none() || self.inflight.is_empty())
    }
}

pub struct WorkloadClient {
    pub id: u32,
    pub spec: WorkloadSpec,
    dir: Rc<Directory>,
    /// The workload's connections (`connections`, one by default).
    lanes: Vec<Lane>,
    /// Sentinel discovery: a connection to a Sentinel subscribed to
    /// `+switch-master`, and which Sentinel it is (index).
    sub_conn: Option<ConnId>,
    sub_idx: usize,
    pub history: OpLog,
    /// What became of each tick of the workload's rate.
    pub ticks: crate::history::Ticks,
}

impl WorkloadClient {
    pub fn new(id: u32, spec: WorkloadSpec, dir: Rc<Directory>) -> Self {
        let history = OpLog::with_capacity(id, spec.history_capacity());
        let lanes = (0..spec.connections.max(1))
            .map(|_| Lane::default())
            .collect();
        Self {
            id,
            spec,
            dir,
            lanes,
            sub_conn: None,
            sub_idx: 0,
            history,
            ticks: crate::history::Ticks::default(),
        }
    }

    /// The connection `conn` belongs to, if it is one of the workload's.
    fn lane_of(&self, conn: ConnId) -> Option<usize> {
        self.lanes.iter().position(|l| l.conn == Some(conn))
    }

    /// Starts finding the server on connection `l`: connect to it, or to
    /// the first Sentinel.
    fn connect(&mut self, ctx: &mut Ctx<'_>, l: usize) {
        match &self.spec.discovery {
            Discovery::Direct(node) => {
                let node = *node;
                self.connect_to(ctx, l, node, false);
            }
            Discovery::Sentinel { .. } => self.ask_sentinel(ctx, l, 0),
            // Cluster workloads run as a ClusterClient; this one only
            // talks to the first seed.
            Discovery::Cluster(seeds) => {
                if let Some(&node) = seeds.first() {
                    self.connect_to(ctx, l, node, false);
                }
            }
        }
    }

    fn connect_to(&mut self, ctx: &mut Ctx<'_>, l: usize, node: NodeId, check_role: bool) {
        let lane = &mut self.lanes[l];
        lane.conn = Some(ctx.connect(node));
        lane.stage = Stage::Connecting { node, check_role };
        self.arm_deadline(ctx, l);
    }

    fn ask_sentinel(&mut self, ctx: &mut Ctx<'_>, l: usize, idx: usize) {
        let Discovery::Sentinel { sentinels, .. } = &self.spec.discovery else {
            return;
        };
        let sentinel = sentinels[idx % sentinels.len()];
        let lane = &mut self.lanes[l];
        lane.conn = Some(ctx.connect(sentinel));
        lane.stage = Stage::Resolving(idx);
        self.arm_deadline(ctx, l);
    }

    /// The step that starts now on connection `l` fails after the timeout.
    fn arm_deadline(&mut self, ctx: &mut Ctx<'_>, l: usize) {
        self.lanes[l]
            .deadline
            .arm(ctx, self.spec.timeout, ClientTimer::Timeout(l as u32));
    }

    /// The step in progress on connection `l` timed out: every request in
    /// flight on it ends unanswered.
    fn step_timed_out(&mut self, ctx: &mut Ctx<'_>, l: usize) {
        self.finish_all(ctx, l, Outcome::Timeout);
        // A timed-out connection is discarded, as client libraries do.
        if let Some(conn) = self.lanes[l].conn.take() {
            ctx.close(conn);
        }
        match self.lanes[l].stage {
            Stage::Resolving(i) => self.ask_sentinel(ctx, l, i + 1),
            _ => self.schedule_reconnect(ctx, l),
        }
    }

    /// Tries connection `l` again after its current backoff, which doubles
    /// each time until it is connected again.
    fn schedule_reconnect(&mut self, ctx: &mut Ctx<'_>, l: usize) {
        let lane = &mut self.lanes[l];
        lane.conn = None;
        lane.stage = Stage::Down;
        if !lane.reconnect_pending {
            lane.reconnect_pending = true;
            let delay = lane.backoff.next(&self.spec);
            ctx.set_timer(delay, ClientTimer::Reconnect(l as u32));
        }
    }

    /// Connection `l` is connected and ready: its next failure starts the
    /// backoff afresh. The first connection ready sends at once, since the
    /// workload had nowhere to send; the others wait for ticks.
    fn ready(&mut self, ctx: &mut Ctx<'_>, l: usize, node: NodeId) {
        let others_ready = (self.lanes.iter().enumerate())
            .any(|(i, o)| i != l && matches!(o.stage, Stage::Ready(_)));
        let lane = &mut self.lanes[l];
        lane.stage = Stage::Ready(node);
        lane.backoff.reset();
        if !others_ready {
            self.issue(ctx, l);
        }
    }

    /// Ends operation `op` (its index in the history) with `outcome`.
    fn finish(&mut self, ctx: &mut Ctx<'_>, op: usize, outcome: Outcome) {
        self.history.complete(op, ctx.sim_time(), outcome);
    }

    /// Ends every operation in flight on connection `l` with `outcome`.
    fn finish_all(&mut self, ctx: &mut Ctx<'_>, l: usize, outcome: Outcome) {
        let now = ctx.sim_time();
        for p in std::mem::take(&mut self.lanes[l].inflight) {
            self.history.complete(p.op, now, outcome.clone());
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

    /// `+switch-master <name> <old ip> <old port> <new ip> <new port>`:
    /// every connection not already there moves.
    fn switch_master(&mut self, payload: &str) {
        let Discovery::Sentinel { master_name, .. } = &self.spec.discovery else {
            return;
        };
        let f: Vec<&str> = payload.split(' ').collect();
        if f.len() == 5
            && f[0] == master_name.as_str()
            && let Ok(port) = f[4].parse::<u16>()
            && let Some(node) = self.dir.lookup(f[3], port)
        {
            for lane in &mut self.lanes {
                if lane.stage != Stage::Ready(node) {
                    lane.switch_to = Some(node);
                }
            }
        }
    }

    /// A tick of the workload's rate: connections that are down start
    /// connecting, and the next operation goes out on a connection with
    /// room in its pipeline (the fewest in flight, the first on a tie), or
    /// moves it to a new master first.
    fn tick(&mut self, ctx: &mut Ctx<'_>) {
        self.ticks.total += 1;
        let pipeline = self.spec.pipeline;
        let to_send = (self.lanes.iter().enumerate())
            .filter(|(_, lane)| {
                !lane.idle()
                    && lane.has_room(pipeline)
                    && (matches!(lane.stage, Stage::Ready(_)) || lane.switch_to.is_some())
            })
            .min_by_key(|(i, lane)| (lane.inflight.len(), *i))
            .map(|(i, _)| i);
        let mut connecting = false;
        for l in 0..self.lanes.len() {
            if self.lanes[l].idle() {
                connecting = true;
                self.connect(ctx, l);
            }
        }
        if let Some(l) = to_send {
            self.issue(ctx, l);
        } else if connecting {
            self.ticks.unconnected += 1;
        } else if self.lanes.iter().all(|lane| !lane.has_room(pipeline)) {
            self.ticks.busy += 1;
        }
    }

    /// Sends the next operation on connection `l`, or first moves it to
    /// the master a `+switch-master` named.
    fn issue(&mut self, ctx: &mut Ctx<'_>, l: usize) {
        if let Some(node) = self.lanes[l].switch_to.take() {
            if let Some(conn) = self.lanes[l].conn.take() {
                ctx.close(conn);
            }
            self.connect_to(ctx, l, node, true);
            return;
        }
        let (Some(conn), Stage::Ready(node)) = (self.lanes[l].conn, self.lanes[l].stage) else {
            return;
        };
        let draw = self.spec.commands.draw(ctx.rng());
        let now = ctx.sim_time();
        let (i, cmd) = self
            .spec
            .record(&mut self.history, self.id, draw, node, now);
        self.send(ctx, l, conn, i, Phase::Command, cmd);
    }

    /// Sends a request for operation `op` on connection `l`. The deadline
    /// is the oldest request's: a request queued behind others waits for
    /// them, as on a real connection.
    fn send(
        &mut self,
        ctx: &mut Ctx<'_>,
        l: usize,
        conn: ConnId,
        op: usize,
        phase: Phase,
        cmd: Cmd,
    ) {
        ctx.send(conn, Msg::Cmd(cmd));
        let first = self.lanes[l].inflight.is_empty();
        self.lanes[l].inflight.push_back(Pending {
            op,
            phase,
            sent: ctx.sim_time(),
        });
        if first {
            self.arm_deadline(ctx, l);
        }
    }
}

impl Node for WorkloadClient {
    type Msg = Msg;
    type Admin = ();

    fn on_start(&mut self, ctx: &mut Ctx<'_>) {
        // Timers of a previous incarnation are gone.
        for lane in &mut self.lanes {
            lane.deadline = Deadline::default();
            lane.reconnect_pending = false;
            lane.switch_to = None;
        }
        self.sub_conn = None;
        self.subscribe(ctx);
        ctx.set_timer(self.spec.first_tick(ctx.sim_time()), ClientTimer::Tick);
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_>, token: u64) {
        let Some(timer) = ClientTimer::decode(token) else {
            return;
        };
        match timer {
            ClientTimer::Tick => {
                if ctx.sim_time() >= self.spec.stop {
                    return;
                }
                self.tick(ctx);
                ctx.set_timer(self.spec.interval(), ClientTimer::Tick);
            }
            ClientTimer::Timeout(l) => {
                let Some(lane) = self.lanes.get_mut(l as usize) else {
                    return;
                };
                let waiting = lane.waiting();
                if lane.deadline.expired(ctx, waiting, timer) {
                    self.step_timed_out(ctx, l as usize);
                }
            }
            ClientTimer::Resubscribe
                if self.sub_conn.is_none() && ctx.sim_time() < self.spec.stop =>
            {
                self.subscribe(ctx);
            }
            ClientTimer::Reconnect(l) => {
                let Some(lane) = self.lanes.get_mut(l as usize) else {
                    return;
                };
                lane.reconnect_pending = false;
                // A `+switch-master` may have connected it meanwhile: a
                // second attempt would orphan the requests in flight there.
                if ctx.sim_time() < self.spec.stop && lane.conn.is_none() {
                    self.connect(ctx, l as usize);
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
        let Some(l) = self.lane_of(conn) else {
            return;
        };
        match (self.lanes[l].stage, &self.spec.discovery) {
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
                self.ready(ctx, l, node);
            }
            _ => {}
        }
    }

    fn on_connect_failed(&mut self, ctx: &mut Ctx<'_>, conn: ConnId) {
        if self.sub_conn == Some(conn) {
            self.resubscribe_later(ctx);
            return;
        }
        let Some(l) = self.lane_of(conn) else {
            return;
        };
        match self.lanes[l].stage {
            Stage::Resolving(i) => self.ask_sentinel(ctx, l, i + 1),
            _ => self.schedule_reconnect(ctx, l),
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
        let Some(l) = self.lane_of(conn) else {
            return;
        };
        let Msg::Reply(reply) = msg else { return };
        match (self.lanes[l].stage, reply) {
            (Stage::Resolving(i), Reply::MasterAddr(Some((host, port)))) => {
                ctx.close(conn);
                match self.dir.lookup(&host, port) {
                    Some(node) => self.connect_to(ctx, l, node, true),
                    None => self.ask_sentinel(ctx, l, i + 1),
                }
            }
            (Stage::Resolving(i), _) => {
                ctx.close(conn);
                self.ask_sentinel(ctx, l, i + 1);
            }
            (Stage::Connecting { node, .. }, Reply::Role("master")) => {
                self.ready(ctx, l, node);
            }
            (Stage::Connecting { .. }, _) => {
                // Not (yet) the master: start over a little later.
                ctx.close(conn);
                self.schedule_reconnect(ctx, l);
            }
            (_, reply) => self.reply(ctx, l, conn, reply),
        }
    }

    fn on_closed(&mut self, ctx: &mut Ctx<'_>, conn: ConnId) {
        if self.sub_conn == Some(conn) {
            self.resubscribe_later(ctx);
            return;
        }
        if let Some(l) = self.lane_of(conn) {
            self.closed(ctx, l);
        }
    }

    fn on_kill(&mut self, _now: Micros, _power_loss: bool) {
        for lane in &mut self.lanes {
            lane.conn = None;
            lane.stage = Stage::Down;
            lane.inflight.clear();
        }
        self.sub_conn = None;
    }
}

impl WorkloadClient {
    /// A reply on connection `l`: it answers the oldest request in flight
    /// there, since Redis answers a connection's requests in order.
    fn reply(&mut self, ctx: &mut Ctx<'_>, l: usize, conn: ConnId, reply: Reply) {
        let Some(Pending { op: i, phase, .. }) = self.lanes[l].inflight.pop_front() else {
            return;
        };
        // The next request's deadline, counted from when it was sent.
        if let Some(next) = self.lanes[l].inflight.front() {
            let left = (next.sent + self.spec.timeout).saturating_sub(ctx.sim_time());
            self.lanes[l]
                .deadline
                .arm(ctx, left, ClientTimer::Timeout(l as u32));
        }
        match (phase, Answer::of(reply)) {
            (Phase::Command, Answer::Error(e)) => self.finish(ctx, i, Outcome::Error(e)),
            (Phase::Command, Answer::Read(seen)) => {
                self.history.update(i, |op| op.read = Some(seen));
                self.finish(ctx, i, Outcome::Ok);
            }
            (Phase::Command, Answer::Done | Answer::Int(_)) => match self.spec.wait {
                Some((replicas, timeout_ms)) if self.history.kind(i).is_write() => {
                    let wait = Cmd::Wait {
                        replicas,
                        timeout_ms,
                    };
                    self.send(ctx, l, conn, i, Phase::Wait, wait);
                }
                _ => self.finish(ctx, i, Outcome::Ok),
            },
            (Phase::Wait, Answer::Int(n)) => {
                self.history.update(i, |op| op.wait_acked = Some(n as u32));
                self.finish(ctx, i, Outcome::Ok);
            }
            // The write itself was acknowledged; a refused WAIT (on a
            // replica) leaves the replica count unknown.
            (Phase::Wait, _) => self.finish(ctx, i, Outcome::Ok),
        }
    }

    fn closed(&mut self, ctx: &mut Ctx<'_>, l: usize) {
        self.finish_all(ctx, l, Outcome::ConnectionLost);
        match self.lanes[l].stage {
            Stage::Resolving(i) => self.ask_sentinel(ctx, l, i + 1),
            _ => {
                ctx.log(
                    Level::Verbose,
                    "Connection closed by server",
                    "Connection closed by server, reconnecting".into(),
                );
                self.schedule_reconnect(ctx, l);
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
            connections: 1,
            pipeline: 1,
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
        for t in [
            Tick,
            Timeout(0),
            Reconnect(0),
            Resubscribe,
            Timeout(7),
            Reconnect(999),
        ] {
            assert_eq!(ClientTimer::decode(t.encode()), Some(t));
        }
        // The first connection's timers keep the tokens of a client with one.
        assert_eq!((Timeout(0).encode(), Reconnect(0).encode()), (1, 2));
        assert_eq!(ClientTimer::decode(4), None);
        assert_eq!(ClientTimer::decode(7), None);
    }
}
