//! Workload clients and the history they record. A client talks to one node,
//! one request at a time, at a configured rate; every operation is recorded
//! as invoked and then ok, error, timed out or cut off, so checkers know which
//! writes were acknowledged.

use rand::RngExt;

use crate::proto::{Cmd, Key, Msg, Reply, Value, WriteTag};
use crate::sim::net::{ConnId, NodeId};
use crate::sim::time::{Micros, ms};
use crate::sim::{Ctx, Node};
use crate::trace::Level;

/// What a workload does, from the scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkloadSpec {
    pub target: NodeId,
    /// Operations per second.
    pub rate: f64,
    pub keys: u32,
    /// Fraction of operations that are GETs.
    pub reads: f64,
    pub value_size: u32,
    pub start: Micros,
    pub stop: Micros,
    pub timeout: Micros,
    /// `WAIT <replicas> <timeout>` after each write.
    pub wait: Option<(u32, u64)>,
    /// Delay before reconnecting after a connection is lost or refused.
    pub reconnect_delay: Micros,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpKind {
    Set,
    Get,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Still waiting for the reply when the run ended.
    Pending,
    Ok,
    Error(String),
    /// No reply within the client's timeout: it may or may not have happened.
    Timeout,
    /// The connection dropped before the reply: it may or may not have happened.
    ConnectionLost,
}

impl Outcome {
    /// Did the client see this operation succeed?
    pub fn is_ok(&self) -> bool {
        matches!(self, Outcome::Ok)
    }
}

/// One operation in a client's history.
#[derive(Clone, Debug, PartialEq)]
pub struct Op {
    pub client: u32,
    pub seq: u32,
    pub kind: OpKind,
    pub key: u32,
    pub node: NodeId,
    pub invoked: Micros,
    pub completed: Option<Micros>,
    pub outcome: Outcome,
    /// For GETs: the writer of the value read (None: missing key).
    pub read: Option<Option<WriteTag>>,
    /// For writes followed by WAIT: how many replicas acknowledged.
    pub wait_acked: Option<u32>,
}

impl Op {
    pub fn tag(&self) -> WriteTag {
        WriteTag {
            client: self.client,
            seq: self.seq,
        }
    }
}

/// The key a workload uses for key number `n`: `key:<n>`, built without the
/// formatting machinery (this runs for every operation).
pub fn key_name(n: u32) -> Key {
    let mut buf = [0u8; 14];
    buf[..4].copy_from_slice(b"key:");
    let mut digits = [0u8; 10];
    let mut i = digits.len();
    let mut v = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    let len = 4 + digits.len() - i;
    buf[4..len].copy_from_slice(&digits[i..]);
    Key::from_utf8(&buf[..len]).expect("ASCII")
}

const T_TICK: u64 = 0;
const T_TIMEOUT: u64 = 1;
const T_RECONNECT: u64 = 2;

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
    conn: Option<ConnId>,
    connected: bool,
    inflight: Option<(usize, Phase)>,
    next_seq: u32,
    /// When the request in flight times out.
    deadline: Option<Micros>,
    /// A timeout timer is armed (one at a time, re-armed as needed, so a
    /// busy client does not queue a timer per request).
    timeout_armed: bool,
    reconnect_pending: bool,
    pub history: Vec<Op>,
}

impl WorkloadClient {
    pub fn new(id: u32, spec: WorkloadSpec) -> Self {
        Self {
            id,
            spec,
            conn: None,
            connected: false,
            inflight: None,
            next_seq: 1,
            deadline: None,
            timeout_armed: false,
            reconnect_pending: false,
            history: Vec::new(),
        }
    }

    fn interval(&self) -> Micros {
        ((1_000_000.0 / self.spec.rate).round() as Micros).max(1)
    }

    fn connect(&mut self, ctx: &mut Ctx<'_, Msg>) {
        self.connected = false;
        self.conn = Some(ctx.connect(self.spec.target));
    }

    fn schedule_reconnect(&mut self, ctx: &mut Ctx<'_, Msg>) {
        self.conn = None;
        self.connected = false;
        if !self.reconnect_pending {
            self.reconnect_pending = true;
            ctx.set_timer(self.spec.reconnect_delay, T_RECONNECT);
        }
    }

    /// Ends the operation in flight with `outcome`.
    fn finish(&mut self, ctx: &mut Ctx<'_, Msg>, outcome: Outcome) {
        if let Some((i, _)) = self.inflight.take() {
            let op = &mut self.history[i];
            op.completed = Some(ctx.sim_time());
            op.outcome = outcome;
        }
    }

    fn issue(&mut self, ctx: &mut Ctx<'_, Msg>) {
        let Some(conn) = self.conn.filter(|_| self.connected) else {
            return;
        };
        let keys = self.spec.keys.max(1);
        let key = ctx.rng().random_range(0..keys);
        let read = self.spec.reads > 0.0 && ctx.rng().random_bool(self.spec.reads.min(1.0));
        let seq = self.next_seq;
        self.next_seq += 1;
        let kind = if read { OpKind::Get } else { OpKind::Set };
        let cmd = match kind {
            OpKind::Get => Cmd::Get(key_name(key)),
            OpKind::Set => Cmd::Set(
                key_name(key),
                Value::Blob {
                    tag: WriteTag {
                        client: self.id,
                        seq,
                    },
                    len: self.spec.value_size,
                },
            ),
        };
        self.history.push(Op {
            client: self.id,
            seq,
            kind,
            key,
            node: self.spec.target,
            invoked: ctx.sim_time(),
            completed: None,
            outcome: Outcome::Pending,
            read: None,
            wait_acked: None,
        });
        self.inflight = Some((self.history.len() - 1, Phase::Command));
        self.send(ctx, conn, cmd);
    }

    fn send(&mut self, ctx: &mut Ctx<'_, Msg>, conn: ConnId, cmd: Cmd) {
        ctx.send(conn, Msg::Cmd(cmd));
        self.deadline = Some(ctx.sim_time() + self.spec.timeout);
        if !self.timeout_armed {
            self.timeout_armed = true;
            ctx.set_timer(self.spec.timeout, T_TIMEOUT);
        }
    }
}

impl Node for WorkloadClient {
    type Msg = Msg;
    type Admin = ();

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg>) {
        // Timers of a previous incarnation are gone.
        self.timeout_armed = false;
        self.reconnect_pending = false;
        self.deadline = None;
        let first = self.spec.start.saturating_sub(ctx.sim_time());
        ctx.set_timer(first, T_TICK);
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Msg>, token: u64) {
        match token & 0xff {
            T_TICK => {
                let now = ctx.sim_time();
                if now >= self.spec.stop {
                    return;
                }
                if self.conn.is_none() && !self.reconnect_pending {
                    self.connect(ctx);
                } else if self.inflight.is_none() {
                    self.issue(ctx);
                }
                ctx.set_timer(self.interval(), T_TICK);
            }
            T_TIMEOUT => {
                self.timeout_armed = false;
                let now = ctx.sim_time();
                match self.deadline.filter(|_| self.inflight.is_some()) {
                    Some(d) if d <= now => {
                        self.finish(ctx, Outcome::Timeout);
                        // A timed-out connection is discarded, as client libraries do.
                        if let Some(conn) = self.conn.take() {
                            ctx.close(conn);
                        }
                        self.schedule_reconnect(ctx);
                    }
                    Some(d) => {
                        self.timeout_armed = true;
                        ctx.set_timer(d - now, T_TIMEOUT);
                    }
                    None => {}
                }
            }
            T_RECONNECT => {
                self.reconnect_pending = false;
                if ctx.sim_time() < self.spec.stop {
                    self.connect(ctx);
                }
            }
            _ => {}
        }
    }

    fn on_accept(&mut self, ctx: &mut Ctx<'_, Msg>, conn: ConnId, _peer: NodeId) {
        ctx.close(conn);
    }

    fn on_connected(&mut self, ctx: &mut Ctx<'_, Msg>, conn: ConnId) {
        if self.conn == Some(conn) {
            self.connected = true;
            self.issue(ctx);
        }
    }

    fn on_connect_failed(&mut self, ctx: &mut Ctx<'_, Msg>, conn: ConnId) {
        if self.conn == Some(conn) {
            self.schedule_reconnect(ctx);
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Msg>, conn: ConnId, msg: Msg) {
        if self.conn != Some(conn) {
            return;
        }
        let Msg::Reply(reply) = msg else { return };
        let Some((i, phase)) = self.inflight else {
            return;
        };
        match (phase, reply) {
            (_, Reply::Error(e)) => self.finish(ctx, Outcome::Error(e)),
            (Phase::Command, Reply::Bulk(v)) => {
                self.history[i].read = Some(v.and_then(|v| match v {
                    Value::Blob { tag, .. } => Some(tag),
                    _ => None,
                }));
                self.finish(ctx, Outcome::Ok);
            }
            (Phase::Command, _) => match self.spec.wait {
                Some((replicas, timeout_ms)) if self.history[i].kind == OpKind::Set => {
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
            (Phase::Wait, Reply::Int(n)) => {
                self.history[i].wait_acked = Some(n as u32);
                self.finish(ctx, Outcome::Ok);
            }
            (Phase::Wait, _) => self.finish(ctx, Outcome::Ok),
        }
    }

    fn on_closed(&mut self, ctx: &mut Ctx<'_, Msg>, conn: ConnId) {
        if self.conn != Some(conn) {
            return;
        }
        if self.inflight.is_some() {
            self.finish(ctx, Outcome::ConnectionLost);
        }
        ctx.log(
            Level::Verbose,
            "Connection closed by server",
            "Connection closed by server, reconnecting".into(),
        );
        self.schedule_reconnect(ctx);
    }

    fn on_admin(&mut self, _ctx: &mut Ctx<'_, Msg>, _cmd: ()) {}

    fn on_kill(&mut self, _now: Micros, _power_loss: bool) {
        self.conn = None;
        self.connected = false;
        self.inflight = None;
    }

    fn on_shutdown(&mut self, _ctx: &mut Ctx<'_, Msg>) {}
}

/// Default delay before a client reconnects.
pub const DEFAULT_RECONNECT_DELAY: Micros = ms(100);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names() {
        assert_eq!(key_name(0), "key:0");
        assert_eq!(key_name(42), "key:42");
        assert_eq!(key_name(u32::MAX), "key:4294967295");
    }
}
