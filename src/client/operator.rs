//! The operator's redis-cli sessions: each named session keeps one
//! connection per node, sends the scenario's command lines in order, and
//! records every reply, printed as redis-cli prints it, in the trace.

use std::collections::BTreeMap;
use std::rc::Rc;

use crate::history::{CommandLine, Exchange};
use crate::proto::addr::Directory;
use crate::proto::resp::{Frame, printed_after};
use crate::proto::{Cmd, Ctx, Msg, Reply};
use crate::sim::net::{ConnId, NodeId};
use crate::trace::Level;
use crate::trace::names;

/// Every session's connections and the exchanges in flight.
pub struct Sessions {
    dir: Rc<Directory>,
    conns: BTreeMap<(String, NodeId), ConnId>,
    /// Lines waiting for a reply, by connection, oldest first.
    waiting: BTreeMap<ConnId, Vec<Waiting>>,
    /// RESP3 pushes read while the oldest line waits, by connection.
    pushes: BTreeMap<ConnId, Vec<Frame>>,
    pub exchanges: Vec<Exchange>,
}

/// A line waiting for its reply: one of the scenario's `[[command]]`s (an
/// exchange, by index), or a fault sent as a command, traced but not an
/// exchange of the scenario's own.
enum Waiting {
    Exchange(usize),
    Fault(CommandLine),
}

impl Sessions {
    pub fn new(dir: Rc<Directory>) -> Self {
        Self {
            dir,
            conns: BTreeMap::new(),
            waiting: BTreeMap::new(),
            pushes: BTreeMap::new(),
            exchanges: Vec::new(),
        }
    }

    /// Sends a `[[command]]` line on its session's connection to its node,
    /// opening the connection if the session has none there yet.
    pub fn submit(&mut self, ctx: &mut Ctx<'_>, command: CommandLine) {
        let index = self.exchanges.len();
        let conn = self.send(ctx, &command);
        self.waiting
            .entry(conn)
            .or_default()
            .push(Waiting::Exchange(index));
        self.exchanges.push(Exchange {
            index,
            command,
            sent: ctx.sim_time(),
            reply: None,
            pushes: Vec::new(),
        });
    }

    /// Sends a fault that is a command (`replicaof`, `client-kill-master`,
    /// `cluster-failover`): traced with its reply like any line, but not
    /// one of the scenario's exchanges.
    pub fn submit_fault(&mut self, ctx: &mut Ctx<'_>, command: CommandLine) {
        let conn = self.send(ctx, &command);
        self.waiting
            .entry(conn)
            .or_default()
            .push(Waiting::Fault(command));
    }

    fn send(&mut self, ctx: &mut Ctx<'_>, command: &CommandLine) -> ConnId {
        let key = (command.session.clone(), command.node);
        let conn = *self
            .conns
            .entry(key)
            .or_insert_with(|| ctx.connect(command.node));
        ctx.log(
            Level::Notice,
            names::sim::COMMAND,
            format!(
                "{}@{}> {}",
                command.session, self.dir.names[command.node as usize], command.line
            ),
        );
        ctx.send(conn, Msg::Cmd(Cmd::Line(command.argv.clone())));
        conn
    }

    /// Whether `conn` is one of the sessions' connections.
    pub fn owns(&self, conn: ConnId) -> bool {
        self.conns.values().any(|&c| c == conn)
    }

    /// A reply on a session's connection answers its oldest waiting line;
    /// a RESP3 push is printed with that line's reply, before it, as
    /// redis-cli's push handler prints it (one nothing waits for is not
    /// read before the connection is next used, and is dropped here).
    pub fn on_reply(&mut self, ctx: &mut Ctx<'_>, conn: ConnId, reply: Reply) {
        let Some(queue) = self.waiting.get_mut(&conn) else {
            return;
        };
        if queue.is_empty() {
            return;
        }
        let frame = reply
            .to_frame()
            .unwrap_or_else(|| Frame::Error(format!("{reply:?}")));
        if matches!(frame, Frame::Push(_)) {
            self.pushes.entry(conn).or_default().push(frame);
            return;
        }
        let waiting = queue.remove(0);
        let pushes = self.pushes.remove(&conn).unwrap_or_default();
        let command = match &waiting {
            Waiting::Exchange(i) => &self.exchanges[*i].command,
            Waiting::Fault(c) => c,
        };
        let shown = printed_after(&command.argv, &pushes, &frame);
        ctx.log(
            Level::Notice,
            names::sim::REPLY,
            format!(
                "{}@{}> {}: {}",
                command.session, self.dir.names[command.node as usize], command.line, shown
            ),
        );
        if let Waiting::Exchange(i) = waiting {
            self.exchanges[i].reply = Some((ctx.sim_time(), frame));
            self.exchanges[i].pushes = pushes;
        }
    }

    /// The connection failed or closed: what waited on it gets no reply,
    /// as redis-cli says (`Could not connect…` / `Error: Server closed the
    /// connection`); the next line opens a new connection.
    pub fn on_lost(&mut self, ctx: &mut Ctx<'_>, conn: ConnId, refused: bool) {
        self.conns.retain(|_, c| *c != conn);
        self.pushes.remove(&conn);
        for waiting in self.waiting.remove(&conn).unwrap_or_default() {
            let command = match &waiting {
                Waiting::Exchange(i) => &self.exchanges[*i].command,
                Waiting::Fault(c) => c,
            };
            let node = command.node;
            let why = if refused {
                format!(
                    "Could not connect to Redis at {}: Connection refused",
                    self.dir.addr(node)
                )
            } else {
                "Error: Server closed the connection".to_string()
            };
            ctx.log(
                Level::Warning,
                names::sim::NO_REPLY,
                format!(
                    "{}@{}> {}: {why}",
                    command.session, self.dir.names[node as usize], command.line
                ),
            );
        }
    }

    /// The operator's process died with its connections.
    pub fn clear(&mut self) {
        self.conns.clear();
        self.waiting.clear();
        self.pushes.clear();
    }
}
