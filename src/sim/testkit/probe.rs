//! A scripted peer for one-node tests: it accepts and keeps connections,
//! records what happens to it, follows a timed script, and can answer.

use crate::sim::net::{ConnId, NodeId};
use crate::sim::timer::Timer;
use crate::sim::{Ctx, Node, WireSize};
use crate::time::Micros;

/// One scripted action of a probe, at an absolute simulated time.
#[derive(Clone, Debug)]
pub enum Step<M> {
    /// Connect to the probe's target.
    Connect,
    /// Send on that connection.
    Send(M),
    /// Close it.
    Close,
}

/// What happened to a probe, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum Seen<M> {
    /// Someone connected to the probe.
    Accepted(ConnId, NodeId),
    /// The probe's own connect succeeded, or was refused.
    Connected(ConnId),
    Refused(ConnId),
    Message(ConnId, M),
    Closed(ConnId),
}

/// How a probe answers a message: `Some(reply)` is sent back at once on the
/// connection the message came in on.
pub type Answer<M> = Box<dyn FnMut(&M) -> Option<M>>;

/// A scripted peer. It accepts every connection and keeps it open, records
/// everything that happens to it, can follow a timed script against one
/// target, and can answer what it receives.
pub struct Probe<M> {
    target: Option<NodeId>,
    script: Vec<(Micros, Step<M>)>,
    answer: Option<Answer<M>>,
    /// The connection the script opened, while open.
    pub conn: Option<ConnId>,
    /// Open connections, with the node at the other end.
    pub conns: Vec<(ConnId, NodeId)>,
    /// Everything that happened, with the simulated time.
    pub seen: Vec<(Micros, Seen<M>)>,
}

impl<M> Probe<M> {
    /// A peer that listens and records, and never says anything.
    pub fn silent() -> Self {
        Self {
            target: None,
            script: Vec::new(),
            answer: None,
            conn: None,
            conns: Vec::new(),
            seen: Vec::new(),
        }
    }

    /// A client of `target` that follows `script`.
    pub fn scripted(target: NodeId, script: Vec<(Micros, Step<M>)>) -> Self {
        Self {
            target: Some(target),
            script,
            ..Self::silent()
        }
    }

    /// A peer that answers each message with `answer`'s reply, if any.
    pub fn answering(answer: impl FnMut(&M) -> Option<M> + 'static) -> Self {
        Self {
            answer: Some(Box::new(answer)),
            ..Self::silent()
        }
    }

    /// The messages received, in order.
    pub fn received(&self) -> impl Iterator<Item = &M> {
        self.seen.iter().filter_map(|(_, s)| match s {
            Seen::Message(_, m) => Some(m),
            _ => None,
        })
    }

    /// Whether any of its connections was closed by the other end.
    pub fn closed(&self) -> bool {
        self.seen.iter().any(|(_, s)| matches!(s, Seen::Closed(_)))
    }

    /// The open connection `peer` made to this probe, or this probe to it.
    pub fn conn_with(&self, peer: NodeId) -> Option<ConnId> {
        self.conns
            .iter()
            .rev()
            .find(|(_, p)| *p == peer)
            .map(|c| c.0)
    }

    fn record(&mut self, ctx: &Ctx<'_, M>, seen: Seen<M>)
    where
        M: WireSize,
    {
        self.seen.push((ctx.sim_time(), seen));
    }

    pub(super) fn forget(&mut self, conn: ConnId) {
        self.conns.retain(|(c, _)| *c != conn);
        if self.conn == Some(conn) {
            self.conn = None;
        }
    }
}

/// A probe's timer: its scripted step of this index is due.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct StepDue(usize);

impl Timer for StepDue {
    fn encode(self) -> u64 {
        self.0 as u64
    }
    fn decode(token: u64) -> Option<Self> {
        usize::try_from(token).ok().map(StepDue)
    }
}

impl<M: WireSize + Clone> Node for Probe<M> {
    type Msg = M;
    type Admin = ();

    fn on_start(&mut self, ctx: &mut Ctx<'_, M>) {
        let now = ctx.sim_time();
        for (i, (at, _)) in self.script.iter().enumerate() {
            ctx.set_timer(at.saturating_sub(now), StepDue(i));
        }
    }
    fn on_timer(&mut self, ctx: &mut Ctx<'_, M>, token: u64) {
        let Some(StepDue(i)) = StepDue::decode(token) else {
            return;
        };
        match self.script[i].1.clone() {
            Step::Connect => {
                let target = self.target.expect("a scripted probe has a target");
                let conn = ctx.connect(target);
                self.conn = Some(conn);
                self.conns.push((conn, target));
            }
            Step::Send(msg) => ctx.send(self.conn.expect("connected"), msg),
            Step::Close => {
                let conn = self.conn.take().expect("connected");
                ctx.close(conn);
                self.forget(conn);
            }
        }
    }
    fn on_accept(&mut self, ctx: &mut Ctx<'_, M>, conn: ConnId, peer: NodeId) {
        self.conns.push((conn, peer));
        self.record(ctx, Seen::Accepted(conn, peer));
    }
    fn on_connected(&mut self, ctx: &mut Ctx<'_, M>, conn: ConnId) {
        self.record(ctx, Seen::Connected(conn));
    }
    fn on_connect_failed(&mut self, ctx: &mut Ctx<'_, M>, conn: ConnId) {
        self.forget(conn);
        self.record(ctx, Seen::Refused(conn));
    }
    fn on_message(&mut self, ctx: &mut Ctx<'_, M>, conn: ConnId, msg: M) {
        let reply = self.answer.as_mut().and_then(|a| a(&msg));
        self.record(ctx, Seen::Message(conn, msg));
        if let Some(reply) = reply {
            ctx.send(conn, reply);
        }
    }
    fn on_closed(&mut self, ctx: &mut Ctx<'_, M>, conn: ConnId) {
        self.forget(conn);
        self.record(ctx, Seen::Closed(conn));
    }
}
