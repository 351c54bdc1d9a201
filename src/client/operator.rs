//! The operator's redis-cli sessions: each named session keeps one
//! connection per node, sends the scenario's command lines in order, and
//! records every reply, printed as redis-cli prints it, in the trace.

use std::collections::BTreeMap;
use std::rc::Rc;

use crate::history::{CommandLine, Exchange};
use crate::proto::addr::Directory;
use crate::proto::resp::{Frame, printed};
use crate::proto::{Cmd, Ctx, Msg, Reply};
use crate::sim::net::{ConnId, NodeId};
use crate::trace::Level;
use crate::trace::names;

/// Every session's connections and the exchanges in flight.
pub struct Sessions {
    dir: Rc<Directory>,
    conns: BTreeMap<(String, NodeId), ConnId>,
    /// Exchanges waiting for a reply, by connection, oldest first.
    waiting: BTreeMap<ConnId, Vec<usize>>,
    pub exchanges: Vec<Exchange>,
}

impl Sessions {
    pub fn new(dir: Rc<Directory>) -> Self {
        Self {
            dir,
            conns: BTreeMap::new(),
            waiting: BTreeMap::new(),
            exchanges: Vec::new(),
        }
    }

    /// Sends a line on its session's connection to its node, opening the
    /// connection if the session has none there yet.
    pub fn submit(&mut self, ctx: &mut Ctx<'_>, command: CommandLine) {
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
        let index = self.exchanges.len();
        self.waiting.entry(conn).or_default().push(index);
        self.exchanges.push(Exchange {
            index,
            command,
            sent: ctx.sim_time(),
            reply: None,
        });
    }

    /// Whether `conn` is one of the sessions' connections.
    pub fn owns(&self, conn: ConnId) -> bool {
        self.conns.values().any(|&c| c == conn)
    }

    /// A reply on a session's connection answers its oldest waiting line.
    pub fn on_reply(&mut self, ctx: &mut Ctx<'_>, conn: ConnId, reply: Reply) {
        let Some(queue) = self.waiting.get_mut(&conn) else {
            return;
        };
        if queue.is_empty() {
            return;
        }
        let i = queue.remove(0);
        let frame = reply
            .to_frame()
            .unwrap_or_else(|| Frame::Error(format!("{reply:?}")));
        let ex = &mut self.exchanges[i];
        let shown = printed(&ex.command.argv, &frame);
        ctx.log(
            Level::Notice,
            names::sim::REPLY,
            format!(
                "{}@{}> {}: {}",
                ex.command.session,
                self.dir.names[ex.command.node as usize],
                ex.command.line,
                shown
            ),
        );
        ex.reply = Some((ctx.sim_time(), frame));
    }

    /// The connection failed or closed: what waited on it gets no reply,
    /// as redis-cli says (`Could not connect…` / `Error: Server closed the
    /// connection`); the next line opens a new connection.
    pub fn on_lost(&mut self, ctx: &mut Ctx<'_>, conn: ConnId, refused: bool) {
        self.conns.retain(|_, c| *c != conn);
        for i in self.waiting.remove(&conn).unwrap_or_default() {
            let ex = &self.exchanges[i];
            let node = ex.command.node;
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
                    ex.command.session, self.dir.names[node as usize], ex.command.line
                ),
            );
        }
    }

    /// The operator's process died with its connections.
    pub fn clear(&mut self) {
        self.conns.clear();
        self.waiting.clear();
    }
}
