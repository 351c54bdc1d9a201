//! The operator's redis-cli sessions: each named session keeps one
//! connection per node, sends the scenario's command lines in order, and
//! records every reply, printed as redis-cli prints it, in the trace.
//!
//! A session can also be an outside connection (`[[connection]]`, a
//! client of `redsim lab`): opened and closed at given instants, never
//! reopened, and, when tapped, every frame that arrives on it is handed
//! on as it came.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use crate::history::{CommandLine, Exchange, shown_reply};
use crate::proto::addr::Directory;
use crate::proto::inbox::{Arrival, Inbox, enters_subscribed_mode};
use crate::proto::resp::Frame;
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
    /// What each connection reads, sorted as redis-cli sorts it.
    inboxes: BTreeMap<ConnId, Inbox>,
    /// The exchange whose SUBSCRIBE or PSUBSCRIBE last subscribed each
    /// connection: messages pushed there are its.
    subscriber: BTreeMap<ConnId, usize>,
    pub exchanges: Vec<Exchange>,
    /// Each session's latest exchange, by index (what the dashboard shows
    /// of a session without walking every exchange).
    latest: BTreeMap<String, usize>,
    /// The sessions that are outside connections, open or not.
    outside: BTreeSet<String>,
    /// What arrives on outside connections, in order, while a driver
    /// taps them (`None`: nobody reads it, so nothing is kept).
    pub tap: Option<Vec<Tapped>>,
}

/// What an outside connection's client reads: a frame, or the end.
#[derive(Clone, Debug, PartialEq)]
pub enum Tapped {
    Frame { session: String, frame: Frame },
    Closed { session: String },
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
            inboxes: BTreeMap::new(),
            subscriber: BTreeMap::new(),
            exchanges: Vec::new(),
            latest: BTreeMap::new(),
            outside: BTreeSet::new(),
            tap: None,
        }
    }

    /// An outside connection opens (its client connected to `node`).
    pub fn open(&mut self, ctx: &mut Ctx<'_>, session: String, node: NodeId) {
        let conn = ctx.connect(node);
        ctx.log(
            Level::Notice,
            names::sim::CONNECT,
            format!("{} (connected)", self.prompt(&session, node)),
        );
        self.outside.insert(session.clone());
        self.conns.insert((session, node), conn);
        self.waiting.entry(conn).or_default();
    }

    /// An outside connection's client hangs up: what it waited for is
    /// never read.
    pub fn close(&mut self, ctx: &mut Ctx<'_>, session: &str) {
        let Some((&(_, node), &conn)) = self.conns.iter().find(|((s, _), _)| s == session) else {
            return;
        };
        ctx.log(
            Level::Notice,
            names::sim::DISCONNECT,
            format!("{} (disconnected)", self.prompt(session, node)),
        );
        ctx.close(conn);
        self.forget(conn);
    }

    /// `session@node>`, as a line's trace starts.
    fn prompt(&self, session: &str, node: NodeId) -> String {
        format!("{session}@{}>", self.dir.names[node as usize])
    }

    /// `session@node> line`.
    fn line(&self, command: &CommandLine) -> String {
        format!(
            "{} {}",
            self.prompt(&command.session, command.node),
            command.line
        )
    }

    /// Each session's latest exchange, by session name.
    pub fn latest(&self) -> impl Iterator<Item = (&str, &Exchange)> {
        (self.latest.iter()).map(|(s, &i)| (s.as_str(), &self.exchanges[i]))
    }

    /// Whether `session` is an outside connection's.
    pub fn is_outside(&self, session: &str) -> bool {
        self.outside.contains(session)
    }

    /// The outside session `conn` belongs to, if it is one's.
    fn outside_session(&self, conn: ConnId) -> Option<String> {
        self.session_of(conn)
            .filter(|s| self.outside.contains(*s))
            .map(str::to_string)
    }

    fn forget(&mut self, conn: ConnId) {
        self.conns.retain(|_, c| *c != conn);
        self.inboxes.remove(&conn);
        self.subscriber.remove(&conn);
        self.waiting.remove(&conn);
    }

    fn session_of(&self, conn: ConnId) -> Option<&str> {
        (self.conns.iter())
            .find(|(_, c)| **c == conn)
            .map(|((s, _), _)| s.as_str())
    }

    /// Sends a `[[command]]` line on its session's connection to its node,
    /// opening the connection if the session has none there yet.
    pub fn submit(&mut self, ctx: &mut Ctx<'_>, command: CommandLine) {
        let index = self.exchanges.len();
        self.latest.insert(command.session.clone(), index);
        let key = (command.session.clone(), command.node);
        if self.outside.contains(&command.session) && !self.conns.contains_key(&key) {
            // An outside connection is never reopened: its client is gone.
            ctx.log(
                Level::Warning,
                names::sim::NO_REPLY,
                format!("{}: the connection is closed", self.line(&command)),
            );
            self.exchanges
                .push(Exchange::sent(index, command, ctx.sim_time()));
            return;
        }
        let conn = self.send(ctx, &command);
        self.waiting
            .entry(conn)
            .or_default()
            .push(Waiting::Exchange(index));
        if enters_subscribed_mode(&command.argv) {
            self.subscriber.insert(conn, index);
        }
        self.exchanges
            .push(Exchange::sent(index, command, ctx.sim_time()));
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
        ctx.log(Level::Notice, names::sim::COMMAND, self.line(command));
        self.inboxes.entry(conn).or_default().sent(&command.argv);
        ctx.send(conn, Msg::Cmd(Cmd::Line(command.argv.clone())));
        conn
    }

    /// Whether `conn` is one of the sessions' connections.
    pub fn owns(&self, conn: ConnId) -> bool {
        self.conns.values().any(|&c| c == conn)
    }

    /// A frame on a session's connection: a message pushed to a
    /// subscriber is printed as it comes, as redis-cli's subscribed mode
    /// prints it; otherwise it answers the oldest waiting line, once the
    /// reply is whole. A RESP3 push is printed with that line's reply,
    /// before it, as redis-cli's push handler prints it (one nothing waits
    /// for is not read before the connection is next used, and is dropped
    /// here).
    pub fn on_reply(&mut self, ctx: &mut Ctx<'_>, conn: ConnId, reply: Reply) {
        if !self.waiting.contains_key(&conn) {
            return;
        }
        let frame = reply
            .to_frame()
            .unwrap_or_else(|| Frame::Error(format!("{reply:?}")));
        if self.tap.is_some()
            && let Some(session) = self.outside_session(conn)
            && let Some(tap) = self.tap.as_mut()
        {
            tap.push(Tapped::Frame {
                session,
                frame: frame.clone(),
            });
        }
        let (pushes, mut frames) = match self.inboxes.entry(conn).or_default().arrived(frame) {
            Arrival::Reply { pushes, frames } => (pushes, frames),
            Arrival::Message(frame) => return self.on_pushed(ctx, conn, frame),
            Arrival::Held | Arrival::Dropped => return,
        };
        let Some(queue) = self.waiting.get_mut(&conn).filter(|q| !q.is_empty()) else {
            return;
        };
        let waiting = queue.remove(0);
        let frame = frames.remove(0);
        let command = match &waiting {
            Waiting::Exchange(i) => &self.exchanges[*i].command,
            Waiting::Fault(c) => c,
        };
        let shown = shown_reply(&command.argv, &pushes, &frame, &frames).replace('\n', "\\n");
        ctx.log(
            Level::Notice,
            names::sim::REPLY,
            format!("{}: {shown}", self.line(command)),
        );
        if let Waiting::Exchange(i) = waiting {
            let ex = &mut self.exchanges[i];
            ex.reply = Some((ctx.sim_time(), frame));
            ex.pushes = pushes;
            ex.more = frames;
        }
    }

    /// A message pushed to a subscribed session, traced as redis-cli
    /// prints it and kept with the line that subscribed.
    fn on_pushed(&mut self, ctx: &mut Ctx<'_>, conn: ConnId, frame: Frame) {
        let Some(&i) = self.subscriber.get(&conn) else {
            return;
        };
        let command = &self.exchanges[i].command;
        ctx.log(
            Level::Notice,
            names::sim::MESSAGE,
            format!(
                "{} {}",
                self.prompt(&command.session, command.node),
                frame.to_cli().trim_end().replace('\n', "\\n")
            ),
        );
        self.exchanges[i].messages.push((ctx.sim_time(), frame));
    }

    /// The connection failed or closed: what waited on it gets no reply,
    /// as redis-cli says (`Could not connect…` / `Error: Server closed the
    /// connection`); the next line opens a new connection.
    pub fn on_lost(&mut self, ctx: &mut Ctx<'_>, conn: ConnId, refused: bool) {
        if let Some(session) = self.outside_session(conn)
            && let Some(tap) = self.tap.as_mut()
        {
            tap.push(Tapped::Closed { session });
        }
        let waited = self.waiting.remove(&conn).unwrap_or_default();
        self.forget(conn);
        for waiting in waited {
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
            } else if command
                .argv
                .first()
                .is_some_and(|w| w.eq_ignore_ascii_case("shutdown"))
            {
                // cliReadReply() with config.shutdown: the closed
                // connection is the answer, and nothing is printed.
                "(nothing: the server exited)".to_string()
            } else {
                "Error: Server closed the connection".to_string()
            };
            ctx.log(
                Level::Warning,
                names::sim::NO_REPLY,
                format!("{}: {why}", self.line(command)),
            );
        }
    }

    /// The operator's process died with its connections.
    pub fn clear(&mut self) {
        if let Some(tap) = self.tap.as_mut() {
            for (session, _) in self.conns.keys() {
                if self.outside.contains(session) {
                    tap.push(Tapped::Closed {
                        session: session.clone(),
                    });
                }
            }
        }
        self.conns.clear();
        self.waiting.clear();
        self.inboxes.clear();
        self.subscriber.clear();
    }
}
