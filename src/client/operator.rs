//! The operator's redis-cli sessions: each named session keeps one
//! connection per node, sends the scenario's command lines in order, and
//! records every reply, printed as redis-cli prints it, in the trace.

use std::collections::BTreeMap;
use std::rc::Rc;

use crate::proto::addr::Directory;
use crate::proto::resp::Frame;
use crate::proto::{Cmd, Ctx, Msg, Reply};
use crate::sim::net::{ConnId, NodeId};
use crate::sim::time::Micros;
use crate::trace::Level;
use crate::trace::names;

/// One command line from the scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct CommandLine {
    /// The redis-cli session it is typed into; each session has its own
    /// connections.
    pub session: String,
    pub node: NodeId,
    /// The line as written, for the trace.
    pub line: String,
    pub argv: Vec<String>,
}

/// A command sent and what came back.
#[derive(Clone, Debug, PartialEq)]
pub struct Exchange {
    /// Index of the command line in the scenario's order.
    pub index: usize,
    pub command: CommandLine,
    pub sent: Micros,
    /// When the reply came and the reply; `None` while none has (the
    /// connection was refused or closed first, or the run ended).
    pub reply: Option<(Micros, Frame)>,
}

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

/// A reply on one line, as redis-cli prints it (raw for INFO and the
/// other commands redis-cli.c `cliSendCommand()` prints raw), with line
/// breaks shown as `\n`.
pub fn printed(argv: &[String], frame: &Frame) -> String {
    let text = if prints_raw(argv) {
        raw(frame)
    } else {
        frame.to_cli()
    };
    text.trim_end_matches(['\r', '\n'])
        .replace("\r\n", "\n")
        .replace('\n', "\\n")
}

/// redis-cli.c `cliSendCommand()`'s list of commands whose replies it
/// prints raw even in a terminal.
fn prints_raw(argv: &[String]) -> bool {
    let word = |i: usize| argv.get(i).map(|s| s.to_ascii_lowercase());
    let (cmd, sub) = (word(0).unwrap_or_default(), word(1).unwrap_or_default());
    let argc = argv.len();
    match cmd.as_str() {
        "info" | "lolwut" => true,
        "debug" => matches!(sub.as_str(), "htstats" | "htstats-key" | "client-eviction"),
        "memory" => matches!(sub.as_str(), "malloc-stats" | "doctor"),
        "cluster" => argc == 2 && matches!(sub.as_str(), "nodes" | "info"),
        "client" => matches!(sub.as_str(), "list" | "info"),
        "latency" => (argc == 3 && sub == "graph") || (argc == 2 && sub == "doctor"),
        _ => false,
    }
}

/// redis-cli.c `cliFormatReplyRaw()`.
fn raw(frame: &Frame) -> String {
    match frame {
        Frame::Simple(s) | Frame::Error(s) => s.clone(),
        Frame::Bulk(Some(s)) => s.clone(),
        Frame::Int(i) => i.to_string(),
        Frame::Bulk(None) | Frame::Array(None) => String::new(),
        Frame::Array(Some(items)) => items.iter().map(raw).collect::<Vec<_>>().join("\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(line: &str) -> Vec<String> {
        line.split(' ').map(String::from).collect()
    }

    #[test]
    fn info_prints_raw_and_other_replies_as_a_terminal_shows_them() {
        let info = Frame::bulk("# Replication\r\nrole:master\r\n");
        assert_eq!(
            printed(&argv("INFO replication"), &info),
            "# Replication\\nrole:master"
        );
        assert_eq!(
            printed(&argv("GET k"), &info),
            "\"# Replication\\r\\nrole:master\\r\\n\""
        );
        assert_eq!(printed(&argv("SET k v"), &Frame::ok()), "OK");
    }
}
