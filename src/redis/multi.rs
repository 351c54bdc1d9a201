//! MULTI, EXEC and DISCARD from clients (multi.c: multiCommand(),
//! execCommand(), discardCommand(), queueMultiCommand(),
//! flagTransaction()). After MULTI a client's commands pass
//! processCommand()'s checks and are queued (`+QUEUED`); a check that
//! fails, or an unknown command, flags the transaction and EXEC answers
//! EXECABORT. EXEC runs the queue as one call(): what the commands
//! propagate goes out together, in MULTI/EXEC when more than one, and a
//! WAIT inside replies at once rather than blocking (CLIENT_DENY_BLOCKING).
//! WATCH is in `watch.rs`: EXEC asks it first whether the transaction may
//! run.

use crate::proto::command::Flags;
use crate::proto::resp::Frame;
use crate::proto::{Cmd, Ctx, Reply};
use crate::sim::net::ConnId;

use super::{Host, Server};

/// One queued entry: a command (and whether it is ROLE, answered in
/// ROLE's own array form), or the error its own checks gave when parsed.
#[derive(Debug)]
enum Queued {
    Cmd(Cmd, bool),
    Error(String),
}

/// A client's transaction (`client->mstate` and CLIENT_DIRTY_EXEC).
#[derive(Debug, Default)]
pub struct Multi {
    queued: Vec<Queued>,
    dirty_exec: bool,
    /// Each queued line's `(Σ argument lengths, argc)`:
    /// `mstate.argv_len_sums`, for CLIENT LIST's multi-mem.
    sizes: Vec<(u64, u64)>,
}

impl Multi {
    pub fn queue(&mut self, cmd: Cmd) {
        // queueMultiCommand(): nothing more is kept once it is aborted.
        if !self.dirty_exec {
            let role = matches!(cmd, Cmd::Role);
            self.queued.push(Queued::Cmd(cmd, role));
        }
    }

    /// A command whose arguments its own function refuses: queued, and
    /// answered with that error inside EXEC's reply.
    pub fn queue_error(&mut self, e: String) {
        if !self.dirty_exec {
            self.queued.push(Queued::Error(e));
        }
    }

    /// A line was queued: its arguments' sizes.
    pub fn queued_line(&mut self, argv: &[String]) {
        if !self.dirty_exec {
            let len = argv.iter().map(|a| a.len() as u64).sum();
            self.sizes.push((len, argv.len() as u64));
        }
    }

    /// The queued lines' sizes, for CLIENT LIST.
    pub fn queued_sizes(&self) -> &[(u64, u64)] {
        &self.sizes
    }

    fn flags_any(&self, f: impl Fn(&Cmd) -> bool) -> bool {
        self.queued
            .iter()
            .any(|q| matches!(q, Queued::Cmd(c, _) if f(c)))
    }
}

fn named(cmd: &Cmd) -> &str {
    match cmd {
        Cmd::Named { spec, .. } => spec.name,
        _ => "",
    }
}

/// The commands processCommand() runs at once even inside a transaction.
pub fn is_control(cmd: &Cmd) -> bool {
    matches!(
        named(cmd),
        "multi" | "exec" | "discard" | "watch" | "quit" | "reset"
    )
}

/// CMD_NO_MULTI: refused inside a transaction (and the transaction flagged).
/// SUBSCRIBE is allowed there (subscribeCommand() exempts CLIENT_MULTI).
pub fn denied_in_multi(cmd: &Cmd) -> bool {
    match cmd {
        Cmd::Named { spec, .. } => spec.flags.contains(Flags::NO_MULTI),
        Cmd::Psync { .. } | Cmd::Sync => true,
        _ => false,
    }
}

impl Server {
    /// flagTransaction(): EXEC of this client's transaction will abort.
    pub(super) fn flag_transaction(&mut self, conn: ConnId) {
        if let Some(m) = self.clients.get_mut(&conn).and_then(|c| c.multi.as_mut()) {
            m.dirty_exec = true;
        }
    }

    /// processCommand()'s `is_write_command`: EXEC counts as a write when
    /// it holds one.
    pub(super) fn is_write_for(&self, conn: ConnId, cmd: &Cmd) -> bool {
        cmd.is_write() || (named(cmd) == "exec" && self.queued_any(conn, Cmd::is_write))
    }

    /// processCommand()'s `is_may_replicate_command`, EXEC included.
    pub(super) fn may_replicate_for(&self, conn: ConnId, cmd: &Cmd) -> bool {
        cmd.may_replicate() || (named(cmd) == "exec" && self.queued_any(conn, Cmd::may_replicate))
    }

    fn queued_any(&self, conn: ConnId, f: impl Fn(&Cmd) -> bool) -> bool {
        self.clients
            .get(&conn)
            .and_then(|c| c.multi.as_ref())
            .is_some_and(|m| m.flags_any(f))
    }

    /// Whether a client is running EXEC (its WAIT must not block).
    pub(super) fn in_exec(&self, conn: ConnId) -> bool {
        self.clients.get(&conn).is_some_and(|c| c.in_exec)
    }

    /// MULTI, EXEC or DISCARD.
    pub(super) fn multi_command(
        &mut self,
        ctx: &mut Ctx<'_>,
        host: &mut Host<'_>,
        conn: ConnId,
        name: &str,
    ) -> Reply {
        let Some(client) = self.clients.get_mut(&conn) else {
            return Reply::Ok;
        };
        match (name, client.multi.is_some()) {
            ("multi", true) => Reply::Error("ERR MULTI calls can not be nested".into()),
            ("multi", false) => {
                client.multi = Some(Multi::default());
                Reply::Ok
            }
            ("discard", false) => Reply::Error("ERR DISCARD without MULTI".into()),
            ("discard", true) => {
                client.multi = None;
                // discardTransaction() unwatches.
                client.dirty_cas = false;
                self.unwatch_all(conn);
                Reply::Ok
            }
            ("exec", false) => Reply::Error("ERR EXEC without MULTI".into()),
            _ => {
                let broken = self.watch_broken(ctx, conn);
                let client = self.clients.get_mut(&conn).expect("checked");
                let m = client.multi.take().expect("in MULTI");
                client.dirty_cas = false;
                // Unwatched as EXEC starts, or by discardTransaction().
                self.unwatch_all(conn);
                if m.dirty_exec {
                    return Reply::Error(
                        "EXECABORT Transaction discarded because of previous errors.".into(),
                    );
                }
                if broken {
                    // A watched key changed: addReplyNullArray().
                    return Reply::Frame(Frame::Array(None));
                }
                let client = self.clients.get_mut(&conn).expect("checked");
                client.in_exec = true;
                let mut replies = Vec::with_capacity(m.queued.len());
                for q in m.queued {
                    let frame = match q {
                        Queued::Error(e) => Frame::Error(e),
                        Queued::Cmd(cmd, role) => {
                            self.stats.commands_processed += 1;
                            let reply = self.execute(ctx, host, conn, cmd);
                            self.touch_watched();
                            match reply {
                                Some(r) => match self.line_reply(conn, role, r) {
                                    Reply::Frame(f) => f,
                                    other => Frame::Error(format!("{other:?}")),
                                },
                                None => Frame::Bulk(None).for_proto(self.proto(conn)),
                            }
                        }
                    };
                    replies.push(frame);
                }
                if let Some(c) = self.clients.get_mut(&conn) {
                    c.in_exec = false;
                }
                Reply::Written(Frame::Array(Some(replies)))
            }
        }
    }
}
