//! A Redis Cluster client, as cluster-spec.md describes one: it keeps a
//! slot map (from `CLUSTER SLOTS`), sends each key to the master of its
//! slot, follows `-MOVED` (updating the map), refreshes the map after a
//! connection error, and backs off on `-CLUSTERDOWN`/`-TRYAGAIN`.

use std::rc::Rc;

use super::link::{Backoff, Conns, Deadline};
use super::{Answer, Discovery, WorkloadSpec};
use crate::history::{OpLog, Outcome};
use crate::proto::addr::Directory;
use crate::proto::slots::{SLOTS, key_hash_slot};
use crate::proto::{Cmd, Ctx, Msg, Reply};
use crate::sim::net::{ConnId, NodeId};
use crate::sim::{Node, Timer};
use crate::time::Micros;
use crate::trace::Level;

/// A cluster client's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClusterClientTimer {
    /// The next operation is due, at the workload's rate.
    Tick,
    /// The deadline of the request in flight may have passed.
    Timeout,
}

impl Timer for ClusterClientTimer {
    fn encode(self) -> u64 {
        match self {
            ClusterClientTimer::Tick => 0,
            ClusterClientTimer::Timeout => 1,
        }
    }

    fn decode(token: u64) -> Option<Self> {
        match token {
            0 => Some(ClusterClientTimer::Tick),
            1 => Some(ClusterClientTimer::Timeout),
            _ => None,
        }
    }
}

/// Redirections followed for one command before giving up (the usual
/// client default).
const MAX_REDIRECTIONS: u32 = 5;

/// What is in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pending {
    Idle,
    /// `CLUSTER SLOTS` to this node.
    Refresh(NodeId),
    /// Operation `history[i]`, sent to this node.
    Op(usize, NodeId),
}

pub struct ClusterClient {
    pub id: u32,
    pub spec: WorkloadSpec,
    dir: Rc<Directory>,
    seeds: Vec<NodeId>,
    /// Slot → master, as last learned.
    slot_map: Vec<Option<NodeId>>,
    conns: Conns,
    pending: Pending,
    /// The command of the operation in flight, to resend on a redirect.
    cmd: Option<Cmd>,
    redirects: u32,
    /// An `ASKING` was sent ahead of the command: its `+OK` comes first.
    asking_reply_due: bool,
    deadline: Deadline,
    /// The slot map may be stale (a connection error, an unknown slot):
    /// refresh it when `refresh_at` comes.
    stale_map: bool,
    refresh_at: Micros,
    next_seed: usize,
    /// No new operation before this time (backing off after CLUSTERDOWN).
    retry_at: Micros,
    backoff: Backoff,
    pub history: OpLog,
    /// What became of each tick of the workload's rate.
    pub ticks: crate::history::Ticks,
}

impl ClusterClient {
    pub fn new(id: u32, spec: WorkloadSpec, dir: Rc<Directory>) -> Self {
        let seeds = match &spec.discovery {
            Discovery::Cluster(s) => s.clone(),
            Discovery::Direct(n) => vec![*n],
            Discovery::Sentinel { .. } => Vec::new(),
        };
        let n = dir.names.len();
        let history = OpLog::with_capacity(id, spec.history_capacity());
        Self {
            id,
            spec,
            dir,
            seeds,
            slot_map: vec![None; SLOTS],
            conns: Conns::new(n),
            pending: Pending::Idle,
            cmd: None,
            redirects: 0,
            asking_reply_due: false,
            deadline: Deadline::default(),
            stale_map: true,
            refresh_at: 0,
            next_seed: 0,
            retry_at: 0,
            backoff: Backoff::default(),
            history,
            ticks: crate::history::Ticks::default(),
        }
    }

    fn send(&mut self, ctx: &mut Ctx<'_>, node: NodeId, cmd: Cmd) {
        let conn = self.conns.to(ctx, node);
        ctx.send(conn, Msg::Cmd(cmd));
        self.deadline
            .arm(ctx, self.spec.timeout, ClusterClientTimer::Timeout);
    }

    /// Asks the next seed node for the slot map.
    fn refresh(&mut self, ctx: &mut Ctx<'_>) {
        if self.seeds.is_empty() {
            return;
        }
        let node = self.seeds[self.next_seed % self.seeds.len()];
        self.next_seed += 1;
        self.pending = Pending::Refresh(node);
        self.send(ctx, node, Cmd::ClusterSlots);
    }

    fn issue(&mut self, ctx: &mut Ctx<'_>) {
        // A stale map is refreshed first, but a failed refresh does not
        // stop traffic to the nodes that still answer.
        if self.stale_map && ctx.sim_time() >= self.refresh_at {
            self.refresh_at = ctx.sim_time() + self.spec.reconnect_max_delay;
            self.refresh(ctx);
            return;
        }
        let draw = self.spec.commands.draw(ctx.rng());
        let slot = key_hash_slot(draw.key.as_bytes());
        let Some(node) = self.slot_map[slot as usize] else {
            self.stale_map = true;
            return;
        };
        let now = ctx.sim_time();
        let (i, cmd) = self
            .spec
            .record(&mut self.history, self.id, draw, node, now);
        self.pending = Pending::Op(i, node);
        self.redirects = 0;
        self.cmd = Some(cmd.clone());
        self.send(ctx, node, cmd);
    }

    fn finish(&mut self, ctx: &mut Ctx<'_>, outcome: Outcome) {
        self.asking_reply_due = false;
        if let Pending::Op(i, _) = self.pending {
            self.history.complete(i, ctx.sim_time(), outcome);
        }
        self.pending = Pending::Idle;
        self.cmd = None;
    }

    /// Drops the connection to a node after an error on it; the map may be
    /// stale (a failover), so it is refreshed before the next operation.
    fn drop_conn(&mut self, ctx: &mut Ctx<'_>, node: NodeId) {
        if let Some(c) = self.conns.take(node) {
            ctx.close(c);
        }
        self.stale_map = true;
    }

    /// No new operation before the backoff's next delay has passed.
    fn back_off(&mut self, ctx: &mut Ctx<'_>) {
        self.retry_at = ctx.sim_time() + self.backoff.next(&self.spec);
    }

    fn reply(&mut self, ctx: &mut Ctx<'_>, from: NodeId, reply: Reply) {
        match (self.pending, reply) {
            (Pending::Refresh(n), Reply::ClusterSlots(ranges)) if n == from => {
                self.slot_map.fill(None);
                for (lo, hi, node) in ranges {
                    self.slot_map[lo as usize..=hi as usize].fill(Some(node));
                }
                self.stale_map = self.slot_map.iter().any(Option::is_none);
                self.refresh_at = ctx.sim_time();
                self.pending = Pending::Idle;
            }
            (Pending::Refresh(n), _) if n == from => {
                self.pending = Pending::Idle;
                self.back_off(ctx);
            }
            (Pending::Op(_, n), Reply::Ok) if n == from && self.asking_reply_due => {
                self.asking_reply_due = false;
            }
            (Pending::Op(i, n), reply) if n == from => match Answer::of(reply) {
                Answer::Error(e) => self.error_reply(ctx, i, e),
                Answer::Read(seen) => {
                    self.history.update(i, |op| op.read = Some(seen));
                    self.backoff.reset();
                    self.finish(ctx, Outcome::Ok);
                }
                Answer::Done | Answer::Int(_) => {
                    self.backoff.reset();
                    self.finish(ctx, Outcome::Ok);
                }
            },
            _ => {}
        }
    }

    /// Where a redirect (`<slot> <ip>:<port>`, after `MOVED ` or `ASK `)
    /// sends the command in flight: the slot as written, the node at that
    /// address and the command, unless it was redirected too often.
    fn redirect_target<'e>(&self, rest: &'e str) -> Option<(&'e str, NodeId, Cmd)> {
        let (slot, addr) = rest.split_once(' ')?;
        let (host, port) = addr.rsplit_once(':')?;
        let node = self.dir.lookup(host, port.parse().ok()?)?;
        if self.redirects >= MAX_REDIRECTIONS {
            return None;
        }
        Some((slot, node, self.cmd.clone()?))
    }

    /// Operation `i` follows redirect `e` (logged as `event`) to `node`.
    fn follow(&mut self, ctx: &mut Ctx<'_>, i: usize, node: NodeId, event: &'static str, e: &str) {
        ctx.log(
            Level::Verbose,
            event,
            format!("{e} for {}", self.history.key(i)),
        );
        self.redirects += 1;
        self.history.update(i, |op| op.node = node);
        self.pending = Pending::Op(i, node);
    }

    fn error_reply(&mut self, ctx: &mut Ctx<'_>, i: usize, e: String) {
        if let Some(rest) = e.strip_prefix("MOVED ")
            && let Some((slot, node, cmd)) = self.redirect_target(rest)
            && let Ok(slot) = slot.parse::<usize>()
            && slot < SLOTS
        {
            self.follow(ctx, i, node, "MOVED redirect", &e);
            self.slot_map[slot] = Some(node);
            self.send(ctx, node, cmd);
            return;
        }
        // -ASK: send ASKING and the command to the named node, once,
        // without touching the slot map.
        if let Some(rest) = e.strip_prefix("ASK ")
            && let Some((_, node, cmd)) = self.redirect_target(rest)
        {
            self.follow(ctx, i, node, "ASK redirect", &e);
            self.asking_reply_due = true;
            self.send(ctx, node, Cmd::Asking);
            self.send(ctx, node, cmd);
            return;
        }
        if e.starts_with("CLUSTERDOWN") || e.starts_with("TRYAGAIN") {
            self.back_off(ctx);
        }
        self.finish(ctx, Outcome::Error(e));
    }
}

impl Node for ClusterClient {
    type Msg = Msg;
    type Admin = ();

    fn on_start(&mut self, ctx: &mut Ctx<'_>) {
        // Timers of a previous incarnation are gone.
        self.deadline = Deadline::default();
        ctx.set_timer(
            self.spec.first_tick(ctx.sim_time()),
            ClusterClientTimer::Tick,
        );
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_>, token: u64) {
        match ClusterClientTimer::decode(token) {
            Some(ClusterClientTimer::Tick) => {
                let now = ctx.sim_time();
                if now >= self.spec.stop {
                    return;
                }
                self.ticks.total += 1;
                if self.pending != Pending::Idle {
                    // An operation, or the slot map's refresh, in flight.
                    self.ticks.busy += 1;
                } else if now < self.retry_at {
                    // Backing off after CLUSTERDOWN: nothing to send to.
                    self.ticks.unconnected += 1;
                } else {
                    self.issue(ctx);
                }
                ctx.set_timer(self.spec.interval(), ClusterClientTimer::Tick);
            }
            Some(ClusterClientTimer::Timeout) => {
                let waiting = self.pending != Pending::Idle;
                if self
                    .deadline
                    .expired(ctx, waiting, ClusterClientTimer::Timeout)
                {
                    let node = match self.pending {
                        Pending::Op(_, n) | Pending::Refresh(n) => n,
                        Pending::Idle => return,
                    };
                    // The next operation goes ahead at the workload's
                    // rate: other shards may be fine.
                    self.finish(ctx, Outcome::Timeout);
                    self.drop_conn(ctx, node);
                }
            }
            None => {}
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_>, conn: ConnId, msg: Msg) {
        let (Some(node), Msg::Reply(reply)) = (self.conns.node_of(conn), msg) else {
            return;
        };
        self.reply(ctx, node, reply);
    }

    fn on_closed(&mut self, ctx: &mut Ctx<'_>, conn: ConnId) {
        let Some(node) = self.conns.node_of(conn) else {
            return;
        };
        self.conns.take(node);
        self.stale_map = true;
        match self.pending {
            Pending::Op(_, n) if n == node => self.finish(ctx, Outcome::ConnectionLost),
            Pending::Refresh(n) if n == node => {
                self.pending = Pending::Idle;
                self.back_off(ctx);
            }
            _ => {}
        }
    }

    fn on_kill(&mut self, _now: Micros, _power_loss: bool) {
        self.conns.clear();
        self.pending = Pending::Idle;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_timer_survives_the_token() {
        for t in [ClusterClientTimer::Tick, ClusterClientTimer::Timeout] {
            assert_eq!(ClusterClientTimer::decode(t.encode()), Some(t));
        }
        assert_eq!(ClusterClientTimer::decode(2), None);
    }
}
