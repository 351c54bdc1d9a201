//! What the clients share about keeping their connections: the backoff
//! between attempts, the one deadline timer of the step in progress, and a
//! connection per node opened on first use.

use crate::proto::Ctx;
use crate::sim::Timer;
use crate::sim::net::{ConnId, NodeId};
use crate::time::Micros;

use super::WorkloadSpec;

/// The wait before the next attempt after a failure: the workload's
/// `reconnect_delay` at first, doubling with every failure in a row up to
/// `reconnect_max_delay`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Backoff(Micros);

impl Backoff {
    /// The wait before this attempt; the next one waits twice as long.
    pub fn next(&mut self, spec: &WorkloadSpec) -> Micros {
        let delay = self.0.max(spec.reconnect_delay);
        self.0 = (delay * 2).min(spec.reconnect_max_delay.max(spec.reconnect_delay));
        delay
    }

    /// A success: the next failure waits the first delay again.
    pub fn reset(&mut self) {
        self.0 = 0;
    }
}

/// The deadline of the step in progress, watched by one timer at a time:
/// the timer is re-armed for a later deadline when it fires, so that a busy
/// client does not queue a timer per request.
#[derive(Clone, Copy, Debug, Default)]
pub struct Deadline {
    at: Option<Micros>,
    armed: bool,
}

impl Deadline {
    /// The step that starts now fails after `timeout`.
    pub fn arm(&mut self, ctx: &mut Ctx<'_>, timeout: Micros, timer: impl Timer) {
        self.at = Some(ctx.sim_time() + timeout);
        if !self.armed {
            self.armed = true;
            ctx.set_timer(timeout, timer);
        }
    }

    /// The timer fired: whether the deadline of a step still `waiting` has
    /// passed. A deadline still ahead sets the timer again for it.
    pub fn expired(&mut self, ctx: &mut Ctx<'_>, waiting: bool, timer: impl Timer) -> bool {
        self.armed = false;
        let now = ctx.sim_time();
        match self.at.filter(|_| waiting) {
            Some(d) if d <= now => true,
            Some(d) => {
                self.armed = true;
                ctx.set_timer(d - now, timer);
                false
            }
            None => false,
        }
    }
}

/// One connection per node, opened on first use.
pub struct Conns(Vec<Option<ConnId>>);

impl Conns {
    /// No connection yet to any of `nodes` nodes.
    pub fn new(nodes: usize) -> Self {
        Self(vec![None; nodes])
    }

    /// The connection to `node`, opened now if there is none.
    pub fn to(&mut self, ctx: &mut Ctx<'_>, node: NodeId) -> ConnId {
        *self.0[node as usize].get_or_insert_with(|| ctx.connect(node))
    }

    /// The node `conn` goes to, if it is one of these connections.
    pub fn node_of(&self, conn: ConnId) -> Option<NodeId> {
        self.0
            .iter()
            .position(|&c| c == Some(conn))
            .map(|i| i as NodeId)
    }

    /// Forgets the connection to `node`, returning it.
    pub fn take(&mut self, node: NodeId) -> Option<ConnId> {
        self.0[node as usize].take()
    }

    /// Forgets every connection (the process died with them).
    pub fn clear(&mut self) {
        self.0.fill(None);
    }
}
